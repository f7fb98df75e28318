//! After admission (SPEC §9, seeds 001–003): the forms a student files between admission and
//! the return home, parsed from what they typed; the office's review of each request; the
//! check-in schedule; and the program's per-program settings for all of it.
//!
//! Four of the forms are *requests* that the office decides on their own (派出确认, 派出前变更,
//! 经费预算申请, 变更交流计划, 资助申请): a request is filed, then approved, refused or sent back,
//! and only an approved one changes the application (departure → abroad, a cancel → 已取消, new
//! dates …). The pre-departure materials and the return formalities go through the workflow's
//! stages instead, like the application itself (see [`super::status`]).
//!
//! Nothing here reads a clock: functions that depend on the day take `today`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::FieldErrors;
use super::values::{DateRange, PhoneNumber, ValueError, fold, parse_date};

coded_enum! {
    /// A request the student files and the office decides.
    pub enum RequestKind: "request" {
        /// 派出确认: the actual departure; approved, the student is 境外交流中.
        Departure = "departure",
        /// 派出前变更: new dates, or a cancel, before departure.
        ChangeBeforeDeparture = "change_before_departure",
        /// 经费预算申请: the budget of a funded program, item by item.
        Budget = "budget",
        /// 变更交流计划: extend, shorten or change the plan while abroad.
        PlanChange = "plan_change",
        /// 资助申请: a subsidy after the exchange summary.
        Funding = "funding",
    }
}

coded_enum! {
    /// Where a request stands.
    pub enum RequestStatus: "request_status" {
        /// 待审核.
        Pending = "pending",
        /// 已通过.
        Approved = "approved",
        /// 未通过. Final; the student may file a new request.
        Rejected = "rejected",
        /// 退回修改: the student corrects it and files it again.
        Returned = "returned",
    }
}

coded_enum! {
    /// What the office decides on a request.
    pub enum RequestDecision: "request_decision" {
        /// 通过.
        Approve = "approve",
        /// 不通过.
        Reject = "reject",
        /// 退回修改.
        Return = "return",
    }
}

/// Why a request cannot move as asked. Users see the catalogue text of `code()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Somebody decided first, or the student changed it: only a pending request is decided.
    #[error("the request is not waiting for a decision")]
    NotPending,
    /// Only a returned request is filed again in place.
    #[error("the request is not returned for revision")]
    NotReturned,
    /// A request of this kind is already waiting for the office.
    #[error("a request of this kind is already pending")]
    AlreadyPending,
}

impl RequestError {
    /// Every code, for the catalogue test.
    pub const ALL_CODES: [&'static str; 3] = [
        "err.request.not_pending",
        "err.request.not_returned",
        "err.request.already_pending",
    ];

    /// The catalogue key of the message.
    pub const fn code(&self) -> &'static str {
        match self {
            RequestError::NotPending => "err.request.not_pending",
            RequestError::NotReturned => "err.request.not_returned",
            RequestError::AlreadyPending => "err.request.already_pending",
        }
    }
}

impl RequestStatus {
    /// The status a decision leads to; only a pending request is decided.
    pub fn decide(self, decision: RequestDecision) -> Result<RequestStatus, RequestError> {
        match (self, decision) {
            (RequestStatus::Pending, RequestDecision::Approve) => Ok(RequestStatus::Approved),
            (RequestStatus::Pending, RequestDecision::Reject) => Ok(RequestStatus::Rejected),
            (RequestStatus::Pending, RequestDecision::Return) => Ok(RequestStatus::Returned),
            _ => Err(RequestError::NotPending),
        }
    }

    /// Filing a returned request again puts it back in the office's queue.
    pub fn refile(self) -> Result<RequestStatus, RequestError> {
        match self {
            RequestStatus::Returned => Ok(RequestStatus::Pending),
            _ => Err(RequestError::NotReturned),
        }
    }

    /// Whether the student may still edit it (a returned request, or a pending one the office
    /// has not decided yet is replaced by filing again).
    pub const fn is_open(self) -> bool {
        matches!(self, RequestStatus::Pending | RequestStatus::Returned)
    }

    /// The CSS class of the badge, as for application statuses.
    pub const fn badge(self) -> &'static str {
        match self {
            RequestStatus::Pending => "blue",
            RequestStatus::Approved => "green",
            RequestStatus::Rejected => "red",
            RequestStatus::Returned => "orange",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Small values

/// A sum of money in fen (0.01 yuan): what a budget or a subsidy asks for. Typed as yuan with
/// at most two decimals (`12,000`, `350.5`, full-width digits); at most 10,000,000 yuan.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Amount(i64);

impl Amount {
    /// The largest amount one line may hold, in yuan.
    pub const MAX_YUAN: i64 = 10_000_000;

    /// An amount of whole fen.
    pub const fn from_fen(fen: i64) -> Self {
        Self(fen)
    }

    /// Zero.
    pub const ZERO: Amount = Amount(0);

    /// The amount in fen.
    pub const fn fen(self) -> i64 {
        self.0
    }

    /// Parses yuan as typed: digits with optional thousands commas and up to two decimals.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = fold(input).replace([',', '，', ' '], "");
        let s = s.strip_prefix('¥').unwrap_or(&s);
        if s.is_empty() {
            return Err(ValueError::Empty);
        }
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 2 || whole.len() > 9
        {
            return Err(ValueError::NumberFormat);
        }
        let yuan: i64 = whole.parse().map_err(|_| ValueError::NumberFormat)?;
        if yuan > Self::MAX_YUAN {
            return Err(ValueError::NumberFormat);
        }
        let fen: i64 = format!("{frac:0<2}")
            .parse()
            .map_err(|_| ValueError::NumberFormat)?;
        Ok(Self(yuan * 100 + fen))
    }

    /// Whether it is zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl std::fmt::Display for Amount {
    /// `12,345.60`: yuan with thousands separators and two decimals.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let yuan = self.0 / 100;
        let fen = self.0 % 100;
        let digits = yuan.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        write!(f, "{grouped}.{fen:02}")
    }
}

impl std::iter::Sum for Amount {
    fn sum<I: Iterator<Item = Amount>>(iter: I) -> Amount {
        Amount(iter.map(|a| a.0).sum())
    }
}

/// A bank account number (银行账号) for a subsidy: 10–30 digits once spaces and dashes are
/// removed. Personal data: sealed at rest, and shown only as its last four digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BankAccount(String);

impl BankAccount {
    /// Parses an account number as typed on a bank card (groups of four, dashes).
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s: String = fold(input)
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect();
        if s.is_empty() {
            Err(ValueError::Empty)
        } else if (10..=30).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s))
        } else {
            Err(ValueError::BankAccountFormat)
        }
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `**** **** **** 1234`: the last four digits only.
    pub fn masked(&self) -> String {
        format!("**** **** **** {}", &self.0[self.0.len() - 4..])
    }
}

impl TryFrom<String> for BankAccount {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        Self::parse(&s)
    }
}

impl From<BankAccount> for String {
    fn from(b: BankAccount) -> String {
        b.0
    }
}

/// A required free text of `min`–`max` characters (trimmed); errors go against `field`.
fn text_between(
    errors: &mut FieldErrors,
    field: &str,
    raw: &str,
    min: usize,
    max: usize,
) -> Option<String> {
    let s = raw.trim();
    let n = s.chars().count();
    if n == 0 {
        errors.add(field, ValueError::Empty.code());
        None
    } else if n > max {
        errors.add(field, ValueError::TooLong.code());
        None
    } else if n < min {
        errors.add(field, "err.text.too_short");
        None
    } else {
        Some(s.to_owned())
    }
}

/// A required date; errors go against `field`.
fn date(errors: &mut FieldErrors, field: &str, raw: &str) -> Option<NaiveDate> {
    errors.check(field, parse_date(raw))
}

/// Two required dates in order; the order error goes against `end_field`.
fn date_range(
    errors: &mut FieldErrors,
    start_field: &str,
    start: &str,
    end_field: &str,
    end: &str,
) -> Option<DateRange> {
    let from = date(errors, start_field, start);
    let to = date(errors, end_field, end);
    let (from, to) = (from?, to?);
    errors.check(end_field, DateRange::new(from, to))
}

/// The shortest reason the office accepts for a change or a cancel.
pub const MIN_REASON_CHARS: usize = 5;

// ---------------------------------------------------------------------------------------------
// Per-program settings (项目管理)

/// The check-in rule of a program: the first 境外打卡 is due within `first_within_days` of the
/// departure, then a safety report every `interval_days` while abroad (0: none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckInRule {
    pub first_within_days: u32,
    pub interval_days: u32,
}

impl Default for CheckInRule {
    fn default() -> Self {
        Self {
            first_within_days: 3,
            interval_days: 30,
        }
    }
}

/// The raw check-in rule fields of the program form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CheckInRuleForm {
    #[serde(default)]
    pub check_in_first_days: String,
    #[serde(default)]
    pub check_in_interval_days: String,
}

impl CheckInRule {
    /// Parses the two numbers: 1–60 days for the first check-in, 0–180 between reports.
    pub fn parse(form: &CheckInRuleForm) -> Result<CheckInRule, FieldErrors> {
        let mut errors = FieldErrors::new();
        let days = |errors: &mut FieldErrors,
                    field: &str,
                    raw: &str,
                    range: std::ops::RangeInclusive<u32>| {
            match fold(raw).parse::<u32>() {
                Ok(n) if range.contains(&n) => Some(n),
                _ if raw.trim().is_empty() => {
                    errors.add(field, ValueError::Empty.code());
                    None
                }
                _ => {
                    errors.add(field, "err.check_in_rule.days");
                    None
                }
            }
        };
        let first = days(
            &mut errors,
            "check_in_first_days",
            &form.check_in_first_days,
            1..=60,
        );
        let interval = days(
            &mut errors,
            "check_in_interval_days",
            &form.check_in_interval_days,
            0..=180,
        );
        match (first, interval) {
            (Some(first_within_days), Some(interval_days)) => errors.into_result(CheckInRule {
                first_within_days,
                interval_days,
            }),
            _ => Err(errors),
        }
    }
}

coded_enum! {
    /// A cost item of a budget or a subsidy (seed 002's list).
    pub enum CostItem: "cost_item" {
        /// 往返旅费.
        Travel = "travel",
        /// 境外住宿.
        Accommodation = "accommodation",
        /// 境外伙食.
        Meals = "meals",
        /// 城间交通.
        Intercity = "intercity",
        /// 注册费.
        Registration = "registration",
        /// 学费.
        Tuition = "tuition",
        /// 其他.
        Other = "other",
    }
}

/// What a funded program offers: the cost items a student may ask for, each with an optional
/// cap. An empty list means the program offers nothing of the kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundingOffer {
    pub items: Vec<OfferedItem>,
}

/// One cost item offered, with its cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferedItem {
    pub item: CostItem,
    pub cap: Option<Amount>,
}

impl FundingOffer {
    /// Whether the program offers this kind of request at all.
    pub fn is_offered(&self) -> bool {
        !self.items.is_empty()
    }

    /// The cap of `item`, or `None` when the item is not offered.
    pub fn offered(&self, item: CostItem) -> Option<&OfferedItem> {
        self.items.iter().find(|o| o.item == item)
    }

    /// Parses the program form's checkboxes and caps: `offer_<prefix>_<item>` checked, and
    /// `cap_<prefix>_<item>` empty (no cap) or an amount.
    pub fn parse(prefix: &str, fields: &[(String, String)]) -> Result<FundingOffer, FieldErrors> {
        let mut errors = FieldErrors::new();
        let value = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let mut items = Vec::new();
        for item in CostItem::ALL {
            let offered = value(&format!("offer_{prefix}_{}", item.code())).is_some();
            let cap_field = format!("cap_{prefix}_{}", item.code());
            let cap = errors.optional(&cap_field, value(&cap_field).unwrap_or(""), Amount::parse);
            if offered {
                items.push(OfferedItem { item, cap });
            }
        }
        errors.into_result(FundingOffer { items })
    }
}

// ---------------------------------------------------------------------------------------------
// 派出确认

/// The 派出确认 form as posted.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DepartureForm {
    #[serde(default)]
    pub departure_date: String,
    #[serde(default)]
    pub transport_no: String,
    #[serde(default)]
    pub destination_city: String,
    #[serde(default)]
    pub address_abroad: String,
    #[serde(default)]
    pub phone_abroad: String,
    #[serde(default)]
    pub contact_abroad: String,
}

/// A confirmed departure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Departure {
    pub departure_date: NaiveDate,
    /// 航班号 / 车次: letters and digits.
    pub transport_no: String,
    pub destination_city: String,
    pub address_abroad: String,
    pub phone_abroad: PhoneNumber,
    /// 境外联系人 (name and how to reach them).
    pub contact_abroad: String,
}

impl Departure {
    /// Parses the form. The date must fall within the planned exchange, allowing for a
    /// departure up to 30 days before its start.
    pub fn parse(form: &DepartureForm, plan: DateRange) -> Result<Departure, FieldErrors> {
        let mut e = FieldErrors::new();
        let departure_date = date(&mut e, "departure_date", &form.departure_date);
        if let Some(d) = departure_date
            && (d < plan.from - chrono::Days::new(30) || d > plan.to)
        {
            e.add("departure_date", "err.departure.outside_plan");
        }
        let transport_no = e.check("transport_no", transport_number(&form.transport_no));
        let destination_city =
            text_between(&mut e, "destination_city", &form.destination_city, 1, 60);
        let address_abroad = text_between(&mut e, "address_abroad", &form.address_abroad, 5, 200);
        let phone_abroad = e.check("phone_abroad", PhoneNumber::parse(&form.phone_abroad));
        let contact_abroad = text_between(&mut e, "contact_abroad", &form.contact_abroad, 2, 100);
        match (
            departure_date,
            transport_no,
            destination_city,
            address_abroad,
            phone_abroad,
            contact_abroad,
        ) {
            (Some(d), Some(t), Some(c), Some(a), Some(p), Some(k)) if e.is_empty() => {
                Ok(Departure {
                    departure_date: d,
                    transport_no: t,
                    destination_city: c,
                    address_abroad: a,
                    phone_abroad: p,
                    contact_abroad: k,
                })
            }
            _ => Err(e),
        }
    }
}

/// A flight or train number: 2–12 letters, digits, spaces or dashes, upper-cased (`CA 981`,
/// `G1234`, `MU5101/LH729` for connections: slashes too).
fn transport_number(input: &str) -> Result<String, ValueError> {
    let s = fold(input).to_uppercase();
    if s.is_empty() {
        return Err(ValueError::Empty);
    }
    let ok = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '/'))
        && s.chars().any(|c| c.is_ascii_digit())
        && (2..=40).contains(&s.len());
    if ok {
        Ok(s)
    } else {
        Err(ValueError::TransportFormat)
    }
}

// ---------------------------------------------------------------------------------------------
// 派出前变更 and 变更交流计划

coded_enum! {
    /// What a 派出前变更 asks for.
    pub enum PreDepartureChangeKind: "pre_change" {
        /// 变更: new dates.
        Change = "change",
        /// 取消: give up the exchange; approved, the application ends as 已取消.
        Cancel = "cancel",
    }
}

/// The 派出前变更 form as posted.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PreDepartureChangeForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub new_start: String,
    #[serde(default)]
    pub new_end: String,
    #[serde(default)]
    pub reason: String,
}

/// A change or a cancel asked before departure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PreDepartureChange {
    Change { dates: DateRange, reason: String },
    Cancel { reason: String },
}

impl PreDepartureChange {
    /// Parses the form; a change must move at least one of the planned dates.
    pub fn parse(
        form: &PreDepartureChangeForm,
        plan: DateRange,
    ) -> Result<PreDepartureChange, FieldErrors> {
        let mut e = FieldErrors::new();
        let kind = if form.kind.trim().is_empty() {
            e.add("kind", ValueError::Empty.code());
            None
        } else {
            e.check(
                "kind",
                super::values::coded(PreDepartureChangeKind::from_code)(&form.kind),
            )
        };
        let reason = text_between(&mut e, "reason", &form.reason, MIN_REASON_CHARS, 1000);
        let change = match kind {
            Some(PreDepartureChangeKind::Change) => {
                let dates = date_range(
                    &mut e,
                    "new_start",
                    &form.new_start,
                    "new_end",
                    &form.new_end,
                );
                if dates == Some(plan) {
                    e.add("new_start", "err.change.same_dates");
                }
                dates
                    .zip(reason)
                    .map(|(dates, reason)| PreDepartureChange::Change { dates, reason })
            }
            Some(PreDepartureChangeKind::Cancel) => {
                reason.map(|reason| PreDepartureChange::Cancel { reason })
            }
            None => None,
        };
        match change {
            Some(c) if e.is_empty() => Ok(c),
            _ => Err(e),
        }
    }

    /// Which of the two it is.
    pub fn kind(&self) -> PreDepartureChangeKind {
        match self {
            PreDepartureChange::Change { .. } => PreDepartureChangeKind::Change,
            PreDepartureChange::Cancel { .. } => PreDepartureChangeKind::Cancel,
        }
    }
}

coded_enum! {
    /// What a 变更交流计划 asks for.
    pub enum PlanChangeKind: "plan_change" {
        /// 延期: a later end.
        Extend = "extend",
        /// 提前结束: an earlier end.
        Shorten = "shorten",
        /// 其他变更: other dates.
        Change = "change",
    }
}

/// The 变更交流计划 form as posted.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PlanChangeForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub new_start: String,
    #[serde(default)]
    pub new_end: String,
    #[serde(default)]
    pub reason: String,
}

/// A change of the plan asked while abroad.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanChange {
    pub kind: PlanChangeKind,
    pub dates: DateRange,
    pub reason: String,
}

impl PlanChange {
    /// Parses the form against the current plan: an extension ends later, a shortening
    /// earlier (and not before the departure), any change moves a date.
    pub fn parse(
        form: &PlanChangeForm,
        plan: DateRange,
        departed: NaiveDate,
    ) -> Result<PlanChange, FieldErrors> {
        let mut e = FieldErrors::new();
        let kind = if form.kind.trim().is_empty() {
            e.add("kind", ValueError::Empty.code());
            None
        } else {
            e.check(
                "kind",
                super::values::coded(PlanChangeKind::from_code)(&form.kind),
            )
        };
        let dates = date_range(
            &mut e,
            "new_start",
            &form.new_start,
            "new_end",
            &form.new_end,
        );
        let reason = text_between(&mut e, "reason", &form.reason, MIN_REASON_CHARS, 1000);
        if let (Some(kind), Some(dates)) = (kind, dates) {
            match kind {
                PlanChangeKind::Extend if dates.to <= plan.to => {
                    e.add("new_end", "err.plan_change.not_later");
                }
                PlanChangeKind::Shorten if dates.to >= plan.to => {
                    e.add("new_end", "err.plan_change.not_earlier");
                }
                _ if dates == plan => e.add("new_start", "err.change.same_dates"),
                _ => {}
            }
            if dates.to < departed {
                e.add("new_end", "err.plan_change.before_departure");
            }
        }
        match (kind, dates, reason) {
            (Some(kind), Some(dates), Some(reason)) if e.is_empty() => Ok(PlanChange {
                kind,
                dates,
                reason,
            }),
            _ => Err(e),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 经费预算申请 and 资助申请

/// One line of a budget or subsidy as posted: `item_<code>` amount, `source_<code>` funding
/// source (a dictionary code, budgets only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoneyLine {
    pub item: CostItem,
    pub amount: Amount,
    /// 经费来源 (a `funding_source` dictionary code); empty for subsidies.
    #[serde(default)]
    pub source: String,
}

/// Parses the item lines of a budget or subsidy form. Items the program does not offer are
/// ignored; an offered item left empty is not asked for; at least one amount is needed; an
/// amount over its cap is refused. `sources`: the valid funding-source codes, or `None` when
/// the form has no source column.
pub fn parse_money_lines(
    fields: &[(String, String)],
    offer: &FundingOffer,
    sources: Option<&[String]>,
    errors: &mut FieldErrors,
) -> Vec<MoneyLine> {
    let value = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    };
    let mut lines = Vec::new();
    for offered in &offer.items {
        let field = format!("amount_{}", offered.item.code());
        let Some(amount) = errors.optional(&field, value(&field), Amount::parse) else {
            continue;
        };
        if amount.is_zero() {
            continue;
        }
        if offered.cap.is_some_and(|cap| amount > cap) {
            errors.add(&field, "err.money.over_cap");
            continue;
        }
        let source = match sources {
            Some(valid) => {
                let field = format!("source_{}", offered.item.code());
                let code = value(&field);
                if code.is_empty() {
                    errors.add(&field, ValueError::Empty.code());
                } else if !valid.iter().any(|v| v == code) {
                    errors.add(&field, ValueError::UnknownOption.code());
                }
                code.to_owned()
            }
            None => String::new(),
        };
        lines.push(MoneyLine {
            item: offered.item,
            amount,
            source,
        });
    }
    if lines.is_empty() && errors.is_empty() {
        errors.add("amounts", "err.money.nothing_asked");
    }
    lines
}

/// A budget (经费预算申请).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    pub lines: Vec<MoneyLine>,
}

impl Budget {
    /// Parses the budget form against what the program offers.
    pub fn parse(
        fields: &[(String, String)],
        offer: &FundingOffer,
        sources: &[String],
    ) -> Result<Budget, FieldErrors> {
        let mut e = FieldErrors::new();
        let lines = parse_money_lines(fields, offer, Some(sources), &mut e);
        e.into_result(Budget { lines })
    }

    /// The total asked for.
    pub fn total(&self) -> Amount {
        self.lines.iter().map(|l| l.amount).sum()
    }
}

/// The office's decision on one money line: the amount approved (at most the amount asked)
/// and, when reduced, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovedLine {
    pub item: CostItem,
    pub asked: Amount,
    pub approved: Amount,
    #[serde(default)]
    pub reason: String,
}

/// Parses the office's item-by-item approval (`approved_<code>`, `reason_<code>`): each
/// approved amount between 0 and the amount asked (empty = as asked), a reason for every
/// reduction.
pub fn parse_approval(
    fields: &[(String, String)],
    asked: &[MoneyLine],
) -> Result<Vec<ApprovedLine>, FieldErrors> {
    let value = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    };
    let mut e = FieldErrors::new();
    let mut out = Vec::new();
    for line in asked {
        let field = format!("approved_{}", line.item.code());
        let approved = e
            .optional(&field, value(&field), Amount::parse)
            .unwrap_or(line.amount);
        if approved > line.amount {
            e.add(&field, "err.money.over_asked");
        }
        let reason_field = format!("reason_{}", line.item.code());
        let reason = value(&reason_field).to_owned();
        if approved < line.amount && reason.chars().count() < 2 {
            e.add(&reason_field, "err.money.reduction_reason");
        }
        if reason.chars().count() > 500 {
            e.add(&reason_field, ValueError::TooLong.code());
        }
        out.push(ApprovedLine {
            item: line.item,
            asked: line.amount,
            approved,
            reason,
        });
    }
    e.into_result(out)
}

/// A subsidy application (资助申请): the items and amounts, and where to pay it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Funding {
    pub lines: Vec<MoneyLine>,
    pub bank_name: String,
    pub account_holder: String,
    pub bank_account: BankAccount,
}

impl Funding {
    /// Parses the subsidy form (`bank_name`, `account_holder`, `bank_account` and the items).
    pub fn parse(
        fields: &[(String, String)],
        offer: &FundingOffer,
    ) -> Result<Funding, FieldErrors> {
        let value = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or("")
        };
        let mut e = FieldErrors::new();
        let lines = parse_money_lines(fields, offer, None, &mut e);
        let bank_name = text_between(&mut e, "bank_name", value("bank_name"), 2, 100);
        let account_holder = text_between(&mut e, "account_holder", value("account_holder"), 2, 60);
        let bank_account = e.check("bank_account", BankAccount::parse(value("bank_account")));
        match (bank_name, account_holder, bank_account) {
            (Some(bank_name), Some(account_holder), Some(bank_account)) if e.is_empty() => {
                Ok(Funding {
                    lines,
                    bank_name,
                    account_holder,
                    bank_account,
                })
            }
            _ => Err(e),
        }
    }

    /// The total asked for.
    pub fn total(&self) -> Amount {
        self.lines.iter().map(|l| l.amount).sum()
    }
}

// ---------------------------------------------------------------------------------------------
// 境外打卡

coded_enum! {
    /// A check-in abroad.
    pub enum CheckInKind: "check_in" {
        /// 抵达打卡: the first, after arrival.
        Arrival = "arrival",
        /// 安全报告: the periodic ones.
        Safety = "safety",
    }
}

/// The 境外打卡 form as posted.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CheckInForm {
    /// 抵达日期 (the arrival date; the first check-in only).
    #[serde(default)]
    pub arrival_date: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub local_phone: String,
    #[serde(default)]
    pub note: String,
}

/// One check-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckIn {
    pub kind: CheckInKind,
    /// The arrival date (the first check-in), else `None`.
    pub arrival_date: Option<NaiveDate>,
    pub address: String,
    pub local_phone: PhoneNumber,
    pub note: String,
}

impl CheckIn {
    /// Parses a check-in: the first is the arrival (its date between the departure and
    /// today), the later ones safety reports.
    pub fn parse(
        form: &CheckInForm,
        first: bool,
        departed: NaiveDate,
        today: NaiveDate,
    ) -> Result<CheckIn, FieldErrors> {
        let mut e = FieldErrors::new();
        let arrival_date = if first {
            let d = date(&mut e, "arrival_date", &form.arrival_date);
            if let Some(d) = d
                && (d < departed || d > today)
            {
                e.add("arrival_date", "err.check_in.arrival_date");
            }
            d
        } else {
            None
        };
        let address = text_between(&mut e, "address", &form.address, 5, 200);
        let local_phone = e.check("local_phone", PhoneNumber::parse(&form.local_phone));
        let note = e.text("note", &form.note, 500).unwrap_or_default();
        match (address, local_phone) {
            (Some(address), Some(local_phone)) if e.is_empty() => Ok(CheckIn {
                kind: if first {
                    CheckInKind::Arrival
                } else {
                    CheckInKind::Safety
                },
                arrival_date,
                address,
                local_phone,
                note,
            }),
            _ => Err(e),
        }
    }
}

/// Where a student abroad stands with their check-ins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInDue {
    /// The day the next check-in is due, if one is still due before the return.
    pub next_due: Option<NaiveDate>,
    /// That day has passed without it.
    pub overdue: bool,
}

impl CheckInRule {
    /// The day each check-in in `done` (dates, oldest first) was due: the first within
    /// `first_within_days` of the departure, each later one `interval_days` after the one
    /// before it.
    pub fn due_dates(&self, departed: NaiveDate, done: &[NaiveDate]) -> Vec<NaiveDate> {
        let mut due = Vec::with_capacity(done.len());
        for (i, _) in done.iter().enumerate() {
            if i == 0 {
                due.push(departed + chrono::Days::new(u64::from(self.first_within_days)));
            } else {
                due.push(done[i - 1] + chrono::Days::new(u64::from(self.interval_days.max(1))));
            }
        }
        due
    }

    /// Whether each check-in in `done` came after its due day (a late one is flagged in lists).
    pub fn late(&self, departed: NaiveDate, done: &[NaiveDate]) -> Vec<bool> {
        self.due_dates(departed, done)
            .into_iter()
            .zip(done)
            .map(|(due, day)| *day > due)
            .collect()
    }

    /// The next check-in due for a student who departed on `departed` and returns on
    /// `returns`, having checked in on the `done` days (oldest first).
    pub fn next(
        &self,
        departed: NaiveDate,
        returns: NaiveDate,
        done: &[NaiveDate],
        today: NaiveDate,
    ) -> CheckInDue {
        let next_due = match done.last() {
            None => Some(departed + chrono::Days::new(u64::from(self.first_within_days))),
            Some(_) if self.interval_days == 0 => None,
            Some(last) => Some(*last + chrono::Days::new(u64::from(self.interval_days))),
        }
        // The first check-in is always due; safety reports stop at the return date.
        .filter(|due| done.is_empty() || *due < returns);
        CheckInDue {
            next_due,
            overdue: next_due.is_some_and(|d| today > d),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 返校手续 / 填写交流总结

/// The 返校手续 form as posted.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReturnForm {
    /// 回国时间 (返境时间 for 港澳台 programs).
    #[serde(default)]
    pub return_date: String,
    /// 交流总结.
    #[serde(default)]
    pub summary: String,
}

/// The return formalities as filed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnFiling {
    pub return_date: NaiveDate,
    pub summary: String,
}

/// The longest 交流总结 accepted.
pub const MAX_SUMMARY_CHARS: usize = 20_000;

impl ReturnFiling {
    /// Parses the form: the return between the departure and today, a summary of at least
    /// `min_summary_chars` characters.
    pub fn parse(
        form: &ReturnForm,
        departed: NaiveDate,
        today: NaiveDate,
        min_summary_chars: usize,
    ) -> Result<ReturnFiling, FieldErrors> {
        let mut e = FieldErrors::new();
        let return_date = date(&mut e, "return_date", &form.return_date);
        if let Some(d) = return_date
            && (d < departed || d > today)
        {
            e.add("return_date", "err.return.date");
        }
        let summary = text_between(
            &mut e,
            "summary",
            &form.summary,
            min_summary_chars.max(1),
            MAX_SUMMARY_CHARS,
        );
        match (return_date, summary) {
            (Some(return_date), Some(summary)) if e.is_empty() => Ok(ReturnFiling {
                return_date,
                summary,
            }),
            _ => Err(e),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 自联项目

/// The 自联项目 proposal form as posted.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SelfArrangedForm {
    /// 出访国家或地区 (a `country` dictionary code).
    #[serde(default)]
    pub country: String,
    /// 交流项目类型 (a `program_type` dictionary code).
    #[serde(default)]
    pub program_type: String,
    /// 项目形式: `offline` / `online` / `hybrid`.
    #[serde(default)]
    pub teaching_mode: String,
    #[serde(default)]
    pub name_zh: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub institution_zh: String,
    #[serde(default)]
    pub institution_en: String,
    #[serde(default)]
    pub start_date: String,
    #[serde(default)]
    pub end_date: String,
}

/// A self-arranged exchange a student proposes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfArranged {
    pub country: String,
    pub program_type: String,
    pub teaching_mode: String,
    pub name_zh: String,
    pub name_en: String,
    pub institution_zh: String,
    pub institution_en: String,
    pub dates: DateRange,
}

impl SelfArranged {
    /// Parses the proposal. `countries`, `program_types`, `teaching_modes`: the codes offered.
    /// It must start after `today`.
    pub fn parse(
        form: &SelfArrangedForm,
        countries: &[String],
        program_types: &[String],
        teaching_modes: &[&str],
        today: NaiveDate,
    ) -> Result<SelfArranged, FieldErrors> {
        let mut e = FieldErrors::new();
        let mut choice = |field: &str, raw: &str, valid: &dyn Fn(&str) -> bool| {
            let code = raw.trim();
            if code.is_empty() {
                e.add(field, ValueError::Empty.code());
                None
            } else if valid(code) {
                Some(code.to_owned())
            } else {
                e.add(field, ValueError::UnknownOption.code());
                None
            }
        };
        let country = choice("country", &form.country, &|c| {
            countries.iter().any(|v| v == c)
        });
        let program_type = choice("program_type", &form.program_type, &|c| {
            program_types.iter().any(|v| v == c)
        });
        let teaching_mode = choice("teaching_mode", &form.teaching_mode, &|c| {
            teaching_modes.contains(&c)
        });
        let name_zh = text_between(&mut e, "name_zh", &form.name_zh, 2, 100);
        let name_en = text_between(&mut e, "name_en", &form.name_en, 2, 200);
        let institution_zh = text_between(&mut e, "institution_zh", &form.institution_zh, 2, 100);
        let institution_en = text_between(&mut e, "institution_en", &form.institution_en, 2, 200);
        let dates = date_range(
            &mut e,
            "start_date",
            &form.start_date,
            "end_date",
            &form.end_date,
        );
        if dates.is_some_and(|d| d.from <= today) {
            e.add("start_date", "err.self_arranged.start_in_past");
        }
        match (
            country,
            program_type,
            teaching_mode,
            name_zh,
            name_en,
            institution_zh,
            institution_en,
            dates,
        ) {
            (Some(c), Some(t), Some(m), Some(nz), Some(ne), Some(iz), Some(ie), Some(d))
                if e.is_empty() =>
            {
                Ok(SelfArranged {
                    country: c,
                    program_type: t,
                    teaching_mode: m,
                    name_zh: nz,
                    name_en: ne,
                    institution_zh: iz,
                    institution_en: ie,
                    dates: d,
                })
            }
            _ => Err(e),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The student's next step, and reminders

/// What the rules know of one application when saying what comes next.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub status: Option<super::Status>,
    /// The registration deadline (China date), for drafts.
    pub reg_end: Option<NaiveDate>,
    /// The planned exchange.
    pub plan: Option<DateRange>,
    /// The departure the office confirmed.
    pub departed: Option<NaiveDate>,
    /// Days the student checked in on, oldest first.
    pub check_ins: Vec<NaiveDate>,
    pub check_in_rule: CheckInRule,
    /// A 派出确认 is waiting for the office.
    pub departure_filed: bool,
    /// The program offers a subsidy not yet asked for.
    pub funding_open: bool,
}

/// The next thing the student has to do, with its due day when there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextStep {
    pub action: super::Action,
    pub due: Option<NaiveDate>,
    pub overdue: bool,
}

impl Progress {
    /// What the student should do next, or `None` while the application waits on others.
    pub fn next_step(&self, today: NaiveDate) -> Option<NextStep> {
        use super::{Action as A, Status as S};
        let step = |action, due: Option<NaiveDate>| {
            Some(NextStep {
                action,
                due,
                overdue: due.is_some_and(|d| today > d),
            })
        };
        match self.status? {
            S::Draft => step(A::Submit, self.reg_end),
            S::Returned => step(A::Resubmit, self.reg_end),
            S::AdmittedFirstChoice | S::AdmittedSecondChoice => {
                step(A::SubmitPreDeparture, self.plan.map(|p| p.from))
            }
            S::ReadyToDepart if !self.departure_filed => {
                step(A::ConfirmDeparture, self.plan.map(|p| p.from))
            }
            S::Abroad => {
                let departed = self.departed.or(self.plan.map(|p| p.from))?;
                let end = self.plan.map(|p| p.to);
                if let Some(end) = end
                    && today > end
                {
                    return step(A::SubmitReturn, Some(end));
                }
                let due = self.check_in_rule.next(
                    departed,
                    end.unwrap_or(NaiveDate::MAX),
                    &self.check_ins,
                    today,
                );
                match due.next_due {
                    // A check-in is shown from a week before it falls due.
                    Some(d) if today + chrono::Days::new(7) >= d => step(A::CheckIn, Some(d)),
                    _ => step(A::SubmitReturn, end),
                }
            }
            S::ReturnReview | S::Completed if self.funding_open => step(A::ApplyFunding, None),
            _ => None,
        }
    }
}

coded_enum! {
    /// A reminder the daily job sends to the message centre.
    pub enum ReminderKind: "reminder" {
        /// 报名截止前 3 天, the draft is not submitted.
        DraftThreeDays = "draft_3d",
        /// 报名截止前 1 天.
        DraftOneDay = "draft_1d",
        /// A check-in falls due today.
        CheckInDue = "check_in_due",
        /// A check-in is overdue.
        CheckInOverdue = "check_in_overdue",
        /// Past the planned return without 返校手续.
        ReturnOverdue = "return_overdue",
    }
}

impl Progress {
    /// The reminders due today for this application, each with the key that makes it once
    /// only: the kind, the application and the day it is about.
    pub fn reminders(&self, application_id: i64, today: NaiveDate) -> Vec<(ReminderKind, String)> {
        use super::Status as S;
        let key = |kind: ReminderKind, day: NaiveDate| {
            (kind, format!("{}:{application_id}:{day}", kind.code()))
        };
        let mut out = Vec::new();
        match self.status {
            Some(S::Draft) => {
                if let Some(end) = self.reg_end
                    && end >= today
                {
                    let left = (end - today).num_days();
                    if left <= 1 {
                        out.push(key(ReminderKind::DraftOneDay, end));
                    } else if left <= 3 {
                        out.push(key(ReminderKind::DraftThreeDays, end));
                    }
                }
            }
            Some(S::Abroad) => {
                let end = self.plan.map(|p| p.to);
                if let Some(end) = end
                    && today > end
                {
                    out.push(key(ReminderKind::ReturnOverdue, end));
                } else if let Some(departed) = self.departed.or(self.plan.map(|p| p.from)) {
                    let due = self.check_in_rule.next(
                        departed,
                        end.unwrap_or(NaiveDate::MAX),
                        &self.check_ins,
                        today,
                    );
                    match due.next_due {
                        Some(d) if d == today => out.push(key(ReminderKind::CheckInDue, d)),
                        Some(d) if today > d => out.push(key(ReminderKind::CheckInOverdue, d)),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn plan() -> DateRange {
        DateRange::new(d("2027-09-01"), d("2028-01-20")).unwrap()
    }

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn codes(e: &FieldErrors) -> Vec<(String, &'static str)> {
        e.iter().map(|x| (x.field.clone(), x.code)).collect()
    }

    #[test]
    fn only_a_pending_request_is_decided_and_only_a_returned_one_is_filed_again() {
        use RequestDecision as D;
        use RequestStatus as S;
        assert_eq!(S::Pending.decide(D::Approve), Ok(S::Approved));
        assert_eq!(S::Pending.decide(D::Reject), Ok(S::Rejected));
        assert_eq!(S::Pending.decide(D::Return), Ok(S::Returned));
        for s in [S::Approved, S::Rejected, S::Returned] {
            for dec in D::ALL {
                assert_eq!(s.decide(dec), Err(RequestError::NotPending), "{s} {dec}");
            }
        }
        assert_eq!(S::Returned.refile(), Ok(S::Pending));
        for s in [S::Pending, S::Approved, S::Rejected] {
            assert_eq!(s.refile(), Err(RequestError::NotReturned));
        }
    }

    #[test]
    fn amounts_are_read_as_yuan_with_at_most_two_decimals() {
        assert_eq!(Amount::parse("12,000").unwrap().fen(), 1_200_000);
        assert_eq!(Amount::parse("350.5").unwrap().fen(), 35_050);
        assert_eq!(Amount::parse("１２３.４５").unwrap().fen(), 12_345);
        assert_eq!(Amount::parse("¥8").unwrap().fen(), 800);
        assert_eq!(Amount::parse("0").unwrap(), Amount::ZERO);
        assert_eq!(Amount::parse(" "), Err(ValueError::Empty));
        for bad in ["-5", "1.234", "abc", "1e3", ".5", "10000001", "99999999999"] {
            assert_eq!(Amount::parse(bad), Err(ValueError::NumberFormat), "{bad}");
        }
        assert_eq!(Amount::from_fen(123_456_700).to_string(), "1,234,567.00");
        assert_eq!(Amount::from_fen(5).to_string(), "0.05");
    }

    #[test]
    fn a_bank_account_keeps_its_digits_and_shows_only_the_last_four() {
        let a = BankAccount::parse("6222 0212-3456 7890 123").unwrap();
        assert_eq!(a.as_str(), "6222021234567890123");
        assert_eq!(a.masked(), "**** **** **** 0123");
        assert_eq!(BankAccount::parse(""), Err(ValueError::Empty));
        for bad in [
            "12345",
            "6222x21234567890",
            "1234567890123456789012345678901",
        ] {
            assert_eq!(
                BankAccount::parse(bad),
                Err(ValueError::BankAccountFormat),
                "{bad}"
            );
        }
        // Serialised values are parsed again when read back.
        assert!(serde_json::from_str::<BankAccount>("\"12\"").is_err());
    }

    #[test]
    fn a_departure_needs_every_field_and_a_date_within_the_plan() {
        let good = DepartureForm {
            departure_date: "2027-08-28".into(),
            transport_no: "ca 981".into(),
            destination_city: "Hamburg".into(),
            address_abroad: "Grindelallee 10, 20146 Hamburg".into(),
            phone_abroad: "+49 40 1234567".into(),
            contact_abroad: "Dr. Lena Vogt, +49 40 7654321".into(),
        };
        let dep = Departure::parse(&good, plan()).unwrap();
        assert_eq!(dep.transport_no, "CA 981");
        assert_eq!(dep.departure_date, d("2027-08-28"));

        let errors = Departure::parse(&DepartureForm::default(), plan()).unwrap_err();
        let fields: Vec<_> = codes(&errors).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "departure_date",
                "transport_no",
                "destination_city",
                "address_abroad",
                "phone_abroad",
                "contact_abroad"
            ]
        );

        let early = DepartureForm {
            departure_date: "2027-07-01".into(),
            ..good.clone()
        };
        assert_eq!(
            codes(&Departure::parse(&early, plan()).unwrap_err()),
            [("departure_date".to_owned(), "err.departure.outside_plan")]
        );
        let after = DepartureForm {
            departure_date: "2028-01-21".into(),
            ..good.clone()
        };
        assert!(Departure::parse(&after, plan()).is_err());
        let bad_flight = DepartureForm {
            transport_no: "飞机".into(),
            ..good
        };
        assert_eq!(
            codes(&Departure::parse(&bad_flight, plan()).unwrap_err()),
            [("transport_no".to_owned(), "err.transport.format")]
        );
    }

    #[test]
    fn a_change_before_departure_moves_a_date_and_a_cancel_needs_only_a_reason() {
        let change = PreDepartureChangeForm {
            kind: "change".into(),
            new_start: "2027-09-15".into(),
            new_end: "2028-01-31".into(),
            reason: "对方学校调整了开学时间".into(),
        };
        assert_eq!(
            PreDepartureChange::parse(&change, plan()).unwrap(),
            PreDepartureChange::Change {
                dates: DateRange::new(d("2027-09-15"), d("2028-01-31")).unwrap(),
                reason: "对方学校调整了开学时间".into()
            }
        );
        let same = PreDepartureChangeForm {
            new_start: "2027-09-01".into(),
            new_end: "2028-01-20".into(),
            ..change.clone()
        };
        assert_eq!(
            codes(&PreDepartureChange::parse(&same, plan()).unwrap_err()),
            [("new_start".to_owned(), "err.change.same_dates")]
        );
        let cancel = PreDepartureChangeForm {
            kind: "cancel".into(),
            reason: "家中有事无法出行".into(),
            ..Default::default()
        };
        assert!(matches!(
            PreDepartureChange::parse(&cancel, plan()),
            Ok(PreDepartureChange::Cancel { .. })
        ));
        let terse = PreDepartureChangeForm {
            reason: "不去".into(),
            ..cancel
        };
        assert_eq!(
            codes(&PreDepartureChange::parse(&terse, plan()).unwrap_err()),
            [("reason".to_owned(), "err.text.too_short")]
        );
        let unknown = PreDepartureChangeForm {
            kind: "postpone".into(),
            ..change
        };
        assert_eq!(
            codes(&PreDepartureChange::parse(&unknown, plan()).unwrap_err()),
            [("kind".to_owned(), "err.option.unknown")]
        );
    }

    #[test]
    fn a_plan_change_must_match_its_kind() {
        let form = |kind: &str, start: &str, end: &str| PlanChangeForm {
            kind: kind.into(),
            new_start: start.into(),
            new_end: end.into(),
            reason: "导师建议延长研究时间".into(),
        };
        let departed = d("2027-08-30");
        let ok = PlanChange::parse(
            &form("extend", "2027-09-01", "2028-06-30"),
            plan(),
            departed,
        )
        .unwrap();
        assert_eq!(ok.kind, PlanChangeKind::Extend);
        let err = |f: PlanChangeForm| codes(&PlanChange::parse(&f, plan(), departed).unwrap_err());
        assert_eq!(
            err(form("extend", "2027-09-01", "2028-01-10")),
            [("new_end".to_owned(), "err.plan_change.not_later")]
        );
        assert_eq!(
            err(form("shorten", "2027-09-01", "2028-02-10")),
            [("new_end".to_owned(), "err.plan_change.not_earlier")]
        );
        assert_eq!(
            err(form("change", "2027-09-01", "2028-01-20")),
            [("new_start".to_owned(), "err.change.same_dates")]
        );
        assert_eq!(
            err(form("shorten", "2027-08-01", "2027-08-15")),
            [("new_end".to_owned(), "err.plan_change.before_departure")]
        );
        assert_eq!(
            err(form("extend", "2028-09-01", "2028-01-10")),
            [("new_end".to_owned(), "err.date.order")]
        );
    }

    fn offer() -> FundingOffer {
        FundingOffer {
            items: vec![
                OfferedItem {
                    item: CostItem::Travel,
                    cap: Some(Amount::from_fen(1_000_000)),
                },
                OfferedItem {
                    item: CostItem::Accommodation,
                    cap: None,
                },
            ],
        }
    }

    #[test]
    fn a_budget_asks_for_offered_items_within_their_caps_with_a_known_source() {
        let sources = vec!["school".to_owned(), "self".to_owned()];
        let b = Budget::parse(
            &fields(&[
                ("amount_travel", "8,000"),
                ("source_travel", "school"),
                ("amount_accommodation", "12000.50"),
                ("source_accommodation", "self"),
                ("amount_tuition", "99999"),
            ]),
            &offer(),
            &sources,
        )
        .unwrap();
        assert_eq!(
            b.lines.len(),
            2,
            "an item the program does not offer is ignored"
        );
        assert_eq!(b.total(), Amount::from_fen(2_000_050));

        let over = Budget::parse(
            &fields(&[("amount_travel", "10000.01"), ("source_travel", "school")]),
            &offer(),
            &sources,
        )
        .unwrap_err();
        assert_eq!(
            codes(&over),
            [("amount_travel".to_owned(), "err.money.over_cap")]
        );

        let no_source = Budget::parse(
            &fields(&[("amount_travel", "100"), ("source_travel", "lottery")]),
            &offer(),
            &sources,
        )
        .unwrap_err();
        assert_eq!(
            codes(&no_source),
            [("source_travel".to_owned(), "err.option.unknown")]
        );

        let nothing =
            Budget::parse(&fields(&[("amount_travel", "0")]), &offer(), &sources).unwrap_err();
        assert_eq!(
            codes(&nothing),
            [("amounts".to_owned(), "err.money.nothing_asked")]
        );
    }

    #[test]
    fn the_office_may_reduce_an_amount_only_with_a_reason_and_never_raise_it() {
        let asked = vec![
            MoneyLine {
                item: CostItem::Travel,
                amount: Amount::from_fen(800_000),
                source: "school".into(),
            },
            MoneyLine {
                item: CostItem::Meals,
                amount: Amount::from_fen(300_000),
                source: "school".into(),
            },
        ];
        let ok = parse_approval(
            &fields(&[
                ("approved_travel", "6000"),
                ("reason_travel", "按经济舱标准核定"),
                ("approved_meals", ""),
            ]),
            &asked,
        )
        .unwrap();
        assert_eq!(ok[0].approved, Amount::from_fen(600_000));
        assert_eq!(
            ok[1].approved,
            Amount::from_fen(300_000),
            "empty means as asked"
        );

        let no_reason =
            parse_approval(&fields(&[("approved_travel", "6000")]), &asked).unwrap_err();
        assert_eq!(
            codes(&no_reason),
            [("reason_travel".to_owned(), "err.money.reduction_reason")]
        );
        let raised = parse_approval(&fields(&[("approved_meals", "3000.01")]), &asked).unwrap_err();
        assert_eq!(
            codes(&raised),
            [("approved_meals".to_owned(), "err.money.over_asked")]
        );
    }

    #[test]
    fn a_subsidy_needs_where_to_pay_it() {
        let f = Funding::parse(
            &fields(&[
                ("amount_accommodation", "5000"),
                ("bank_name", "中国银行海淀支行"),
                ("account_holder", "王晓明"),
                ("bank_account", "6216 6100 0000 1234 567"),
            ]),
            &offer(),
        )
        .unwrap();
        assert_eq!(f.total(), Amount::from_fen(500_000));
        assert_eq!(f.bank_account.masked(), "**** **** **** 4567");
        let e = Funding::parse(&fields(&[("amount_accommodation", "5000")]), &offer()).unwrap_err();
        let fields: Vec<_> = codes(&e).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["bank_name", "account_holder", "bank_account"]);
    }

    #[test]
    fn the_first_check_in_is_the_arrival_and_later_ones_are_safety_reports() {
        let form = CheckInForm {
            arrival_date: "2027-08-29".into(),
            address: "Grindelallee 10, Hamburg".into(),
            local_phone: "+49 151 2345678".into(),
            note: "一切顺利".into(),
        };
        let today = d("2027-08-31");
        let first = CheckIn::parse(&form, true, d("2027-08-28"), today).unwrap();
        assert_eq!(first.kind, CheckInKind::Arrival);
        assert_eq!(first.arrival_date, Some(d("2027-08-29")));
        let later = CheckIn::parse(&form, false, d("2027-08-28"), today).unwrap();
        assert_eq!(later.kind, CheckInKind::Safety);
        assert_eq!(later.arrival_date, None);

        let before = CheckInForm {
            arrival_date: "2027-08-27".into(),
            ..form.clone()
        };
        assert_eq!(
            codes(&CheckIn::parse(&before, true, d("2027-08-28"), today).unwrap_err()),
            [("arrival_date".to_owned(), "err.check_in.arrival_date")]
        );
        let future = CheckInForm {
            arrival_date: "2027-09-05".into(),
            ..form
        };
        assert!(CheckIn::parse(&future, true, d("2027-08-28"), today).is_err());
    }

    #[test]
    fn check_ins_fall_due_by_the_programs_rule_and_late_ones_are_flagged() {
        let rule = CheckInRule::default();
        let departed = d("2027-08-28");
        let returns = d("2028-01-20");
        // Nothing yet: due three days after departure.
        let none = rule.next(departed, returns, &[], d("2027-08-30"));
        assert_eq!(none.next_due, Some(d("2027-08-31")));
        assert!(!none.overdue);
        assert!(rule.next(departed, returns, &[], d("2027-09-01")).overdue);
        // Then every thirty days after the last one.
        let done = [d("2027-09-02"), d("2027-10-01")];
        let next = rule.next(departed, returns, &done, d("2027-10-20"));
        assert_eq!(next.next_due, Some(d("2027-10-31")));
        assert_eq!(rule.late(departed, &done), [true, false]);
        // No safety report falls due on or after the return date.
        let late_in_term = [d("2027-12-25")];
        assert_eq!(
            rule.next(departed, returns, &late_in_term, d("2028-01-10"))
                .next_due,
            None
        );
        // A rule without reports asks for the arrival only.
        let arrival_only = CheckInRule {
            first_within_days: 5,
            interval_days: 0,
        };
        assert_eq!(
            arrival_only.next(departed, returns, &[], departed).next_due,
            Some(d("2027-09-02"))
        );
        assert_eq!(
            arrival_only
                .next(departed, returns, &done, d("2027-12-01"))
                .next_due,
            None
        );
    }

    #[test]
    fn the_check_in_rule_is_read_from_the_program_form() {
        let rule = CheckInRule::parse(&CheckInRuleForm {
            check_in_first_days: "3".into(),
            check_in_interval_days: "0".into(),
        })
        .unwrap();
        assert_eq!(rule.interval_days, 0);
        let e = CheckInRule::parse(&CheckInRuleForm {
            check_in_first_days: "0".into(),
            check_in_interval_days: "365".into(),
        })
        .unwrap_err();
        assert_eq!(
            codes(&e),
            [
                ("check_in_first_days".to_owned(), "err.check_in_rule.days"),
                (
                    "check_in_interval_days".to_owned(),
                    "err.check_in_rule.days"
                )
            ]
        );
    }

    #[test]
    fn the_return_is_dated_between_departure_and_today_with_a_long_enough_summary() {
        let form = ReturnForm {
            return_date: "2028-01-18".into(),
            summary: "交流".repeat(100),
        };
        let r = ReturnFiling::parse(&form, d("2027-08-28"), d("2028-01-25"), 200).unwrap();
        assert_eq!(r.return_date, d("2028-01-18"));
        let short = ReturnForm {
            summary: "很好".into(),
            ..form.clone()
        };
        assert_eq!(
            codes(&ReturnFiling::parse(&short, d("2027-08-28"), d("2028-01-25"), 200).unwrap_err()),
            [("summary".to_owned(), "err.text.too_short")]
        );
        assert_eq!(
            codes(&ReturnFiling::parse(&form, d("2027-08-28"), d("2028-01-10"), 200).unwrap_err()),
            [("return_date".to_owned(), "err.return.date")]
        );
    }

    #[test]
    fn a_self_arranged_proposal_names_a_known_country_type_and_form_and_starts_later() {
        let countries = vec!["DE".to_owned(), "JP".to_owned()];
        let types = vec!["semester".to_owned()];
        let modes = ["offline", "online"];
        let form = SelfArrangedForm {
            country: "DE".into(),
            program_type: "semester".into(),
            teaching_mode: "offline".into(),
            name_zh: "慕尼黑工业大学暑期研究".into(),
            name_en: "TUM summer research".into(),
            institution_zh: "慕尼黑工业大学".into(),
            institution_en: "Technical University of Munich".into(),
            start_date: "2027-07-01".into(),
            end_date: "2027-08-31".into(),
        };
        let today = d("2027-03-01");
        let ok = SelfArranged::parse(&form, &countries, &types, &modes, today).unwrap();
        assert_eq!(ok.dates.days(), 62);
        let bad = SelfArrangedForm {
            country: "XX".into(),
            teaching_mode: "".into(),
            start_date: "2027-02-01".into(),
            ..form
        };
        assert_eq!(
            codes(&SelfArranged::parse(&bad, &countries, &types, &modes, today).unwrap_err()),
            [
                ("country".to_owned(), "err.option.unknown"),
                ("teaching_mode".to_owned(), "err.required"),
                ("start_date".to_owned(), "err.self_arranged.start_in_past")
            ]
        );
    }

    #[test]
    fn a_funding_offer_is_read_from_checkboxes_and_caps() {
        let offer = FundingOffer::parse(
            "budget",
            &fields(&[
                ("offer_budget_travel", "on"),
                ("cap_budget_travel", "10000"),
                ("offer_budget_meals", "on"),
                ("cap_budget_meals", ""),
                ("cap_budget_tuition", "5000"),
            ]),
        )
        .unwrap();
        assert_eq!(
            offer.items,
            [
                OfferedItem {
                    item: CostItem::Travel,
                    cap: Some(Amount::from_fen(1_000_000))
                },
                OfferedItem {
                    item: CostItem::Meals,
                    cap: None
                }
            ]
        );
        assert!(!FundingOffer::default().is_offered());
        let bad =
            FundingOffer::parse("budget", &fields(&[("cap_budget_travel", "lots")])).unwrap_err();
        assert_eq!(
            codes(&bad),
            [("cap_budget_travel".to_owned(), "err.number.format")]
        );
    }

    fn progress(status: crate::domain::Status) -> Progress {
        Progress {
            status: Some(status),
            reg_end: Some(d("2027-03-10")),
            plan: Some(plan()),
            check_in_rule: CheckInRule::default(),
            ..Progress::default()
        }
    }

    #[test]
    fn the_next_step_follows_the_journey_with_its_due_day() {
        use crate::domain::{Action as A, Status as S};
        let step =
            |p: &Progress, today: &str| p.next_step(d(today)).map(|s| (s.action, s.due, s.overdue));
        assert_eq!(
            step(&progress(S::Draft), "2027-03-01"),
            Some((A::Submit, Some(d("2027-03-10")), false))
        );
        assert_eq!(step(&progress(S::UnderReview), "2027-03-01"), None);
        assert_eq!(
            step(&progress(S::AdmittedFirstChoice), "2027-06-01"),
            Some((A::SubmitPreDeparture, Some(d("2027-09-01")), false))
        );
        assert_eq!(step(&progress(S::PreDeparture), "2027-06-01"), None);
        assert_eq!(
            step(&progress(S::ReadyToDepart), "2027-09-02"),
            Some((A::ConfirmDeparture, Some(d("2027-09-01")), true))
        );
        let filed = Progress {
            departure_filed: true,
            ..progress(S::ReadyToDepart)
        };
        assert_eq!(step(&filed, "2027-08-20"), None);
        let abroad = Progress {
            departed: Some(d("2027-08-28")),
            ..progress(S::Abroad)
        };
        assert_eq!(
            step(&abroad, "2027-08-29"),
            Some((A::CheckIn, Some(d("2027-08-31")), false))
        );
        assert_eq!(
            step(&abroad, "2027-09-02"),
            Some((A::CheckIn, Some(d("2027-08-31")), true))
        );
        let checked = Progress {
            check_ins: vec![d("2027-08-30")],
            ..abroad.clone()
        };
        assert_eq!(
            step(&checked, "2027-09-05"),
            Some((A::SubmitReturn, Some(d("2028-01-20")), false))
        );
        assert_eq!(
            step(&checked, "2027-09-25"),
            Some((A::CheckIn, Some(d("2027-09-29")), false))
        );
        assert_eq!(
            step(&checked, "2028-01-25"),
            Some((A::SubmitReturn, Some(d("2028-01-20")), true))
        );
        let funded = Progress {
            funding_open: true,
            ..progress(S::Completed)
        };
        assert_eq!(
            step(&funded, "2028-03-01"),
            Some((A::ApplyFunding, None, false))
        );
        assert_eq!(step(&progress(S::Completed), "2028-03-01"), None);
    }

    #[test]
    fn reminders_are_keyed_by_what_and_which_day_so_each_goes_once() {
        use crate::domain::Status as S;
        let kinds = |p: &Progress, today: &str| -> Vec<String> {
            p.reminders(7, d(today))
                .into_iter()
                .map(|(_, k)| k)
                .collect()
        };
        let draft = progress(S::Draft);
        assert!(kinds(&draft, "2027-03-01").is_empty());
        assert_eq!(kinds(&draft, "2027-03-07"), ["draft_3d:7:2027-03-10"]);
        assert_eq!(kinds(&draft, "2027-03-08"), ["draft_3d:7:2027-03-10"]);
        assert_eq!(kinds(&draft, "2027-03-09"), ["draft_1d:7:2027-03-10"]);
        assert!(
            kinds(&draft, "2027-03-11").is_empty(),
            "nothing after the deadline"
        );
        let abroad = Progress {
            departed: Some(d("2027-08-28")),
            ..progress(S::Abroad)
        };
        assert!(kinds(&abroad, "2027-08-30").is_empty());
        assert_eq!(kinds(&abroad, "2027-08-31"), ["check_in_due:7:2027-08-31"]);
        assert_eq!(
            kinds(&abroad, "2027-09-03"),
            ["check_in_overdue:7:2027-08-31"]
        );
        assert_eq!(
            kinds(&abroad, "2028-01-21"),
            ["return_overdue:7:2028-01-20"]
        );
        assert!(kinds(&progress(S::Completed), "2028-01-21").is_empty());
    }
}
