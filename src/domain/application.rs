//! The application form (项目申请 / 报名, SPEC §5): the 申请信息 step, the 外语水平 rows, the
//! completeness check at 提交, and the registration window.
//!
//! Saving a step accepts a partial draft and refuses only wrong values
//! ([`parse_application_info`], [`LanguageScore::parse`]). Submitting is a parse too:
//! [`Draft::into_submission`] checks every step at once and lists every missing or wrong
//! field with the step it lives on ("如有栏目遗漏或者非正确填写则不能提交").

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::profile::{Profile, ProfileForm, missing_required};
use super::values::{
    DateRange, Gpa, PassportNumber, Percentage, PhoneNumber, ValueError, parse_date,
};
use super::{FieldError, FieldErrors};

/// Longest short text (交流时长, 紧急联络人 …).
const SHORT: usize = 50;
/// Longest one-line text (组团单位及团长).
const LINE: usize = 200;
/// How many 志愿 (choices) the form has room for.
pub const MAX_CHOICES: usize = 5;

coded_enum! {
    /// The cost items whose 费用来源 the applicant declares.
    pub enum FundingItem: "funding_item" {
        /// 往返旅费.
        RoundTrip = "round_trip",
        /// 境外住宿.
        Accommodation = "accommodation",
        /// 境外伙食.
        Meals = "meals",
        /// 城间交通.
        IntercityTransport = "intercity",
        /// 注册费.
        RegistrationFee = "registration",
        /// 学费.
        Tuition = "tuition",
    }
}

impl FundingItem {
    /// The name of this item's field in [`ApplicationInfoForm`].
    pub const fn form_field(self) -> &'static str {
        match self {
            FundingItem::RoundTrip => "funding_round_trip",
            FundingItem::Accommodation => "funding_accommodation",
            FundingItem::Meals => "funding_meals",
            FundingItem::IntercityTransport => "funding_intercity",
            FundingItem::RegistrationFee => "funding_registration",
            FundingItem::Tuition => "funding_tuition",
        }
    }

    fn raw(self, form: &ApplicationInfoForm) -> &str {
        match self {
            FundingItem::RoundTrip => &form.funding_round_trip,
            FundingItem::Accommodation => &form.funding_accommodation,
            FundingItem::Meals => &form.funding_meals,
            FundingItem::IntercityTransport => &form.funding_intercity,
            FundingItem::RegistrationFee => &form.funding_registration,
            FundingItem::Tuition => &form.funding_tuition,
        }
    }
}

/// The 申请信息 step as posted: every field a raw string.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct ApplicationInfoForm {
    /// 第一志愿学校: a partner-school id.
    pub choice_1: String,
    /// 第二志愿学校.
    pub choice_2: String,
    /// 第三志愿学校.
    pub choice_3: String,
    /// 第四志愿学校.
    pub choice_4: String,
    /// 第五志愿学校.
    pub choice_5: String,
    /// 交流日期 · 从, YYYY-MM-DD.
    pub exchange_from: String,
    /// 交流日期 · 至.
    pub exchange_to: String,
    /// 交流时长 (一学期, 5个月 …).
    pub exchange_duration: String,
    /// 出国(境)时间.
    pub depart_date: String,
    /// 回国(入境)时间 (返境时间 for HK, Macao and Taiwan).
    pub return_date: String,
    /// GPA.
    pub gpa: String,
    /// 加权平均分.
    pub weighted_avg: String,
    /// 是否有"一中一台"、"两个中国"等问题: `yes` (有) or `no` (无).
    pub one_china_issue: String,
    /// 组团单位及团长.
    pub group_leader: String,
    /// 是否已办理护照: `yes` or `no`.
    pub has_passport: String,
    /// 护照号码 (asked when `has_passport` is `yes`).
    pub passport_no: String,
    /// 护照有效期.
    pub passport_expiry: String,
    /// 紧急联络人 · 与申请人关系.
    pub emergency_relation: String,
    /// 紧急联络人 · 姓名.
    pub emergency_name: String,
    /// 紧急联络人 · 电话.
    pub emergency_phone: String,
    /// 费用来源 · 往返旅费: a funding-source code.
    pub funding_round_trip: String,
    /// 费用来源 · 境外住宿.
    pub funding_accommodation: String,
    /// 费用来源 · 境外伙食.
    pub funding_meals: String,
    /// 费用来源 · 城间交通.
    pub funding_intercity: String,
    /// 费用来源 · 注册费.
    pub funding_registration: String,
    /// 费用来源 · 学费.
    pub funding_tuition: String,
}

impl ApplicationInfoForm {
    /// The fields required at 提交 (marked * on the page); the passport fields are required
    /// too when `has_passport` is `yes`.
    pub const REQUIRED_AT_SUBMIT: [&'static str; 18] = [
        "choice_1",
        "exchange_from",
        "exchange_to",
        "exchange_duration",
        "depart_date",
        "return_date",
        "gpa",
        "weighted_avg",
        "one_china_issue",
        "emergency_relation",
        "emergency_name",
        "emergency_phone",
        "funding_round_trip",
        "funding_accommodation",
        "funding_meals",
        "funding_intercity",
        "funding_registration",
        "funding_tuition",
    ];

    /// Every field, in page order.
    pub const FIELDS: [&'static str; 26] = [
        "choice_1",
        "choice_2",
        "choice_3",
        "choice_4",
        "choice_5",
        "exchange_from",
        "exchange_to",
        "exchange_duration",
        "depart_date",
        "return_date",
        "gpa",
        "weighted_avg",
        "one_china_issue",
        "group_leader",
        "has_passport",
        "passport_no",
        "passport_expiry",
        "emergency_relation",
        "emergency_name",
        "emergency_phone",
        "funding_round_trip",
        "funding_accommodation",
        "funding_meals",
        "funding_intercity",
        "funding_registration",
        "funding_tuition",
    ];

    /// The 志愿 fields in order.
    fn choices(&self) -> [(&'static str, &str); MAX_CHOICES] {
        [
            ("choice_1", &self.choice_1),
            ("choice_2", &self.choice_2),
            ("choice_3", &self.choice_3),
            ("choice_4", &self.choice_4),
            ("choice_5", &self.choice_5),
        ]
    }

    /// The raw value of the field called `name`, `None` for an unknown name.
    pub fn field(&self, name: &str) -> Option<&str> {
        if let Some((_, v)) = self.choices().into_iter().find(|(n, _)| *n == name) {
            return Some(v);
        }
        if let Some(item) = FundingItem::ALL
            .into_iter()
            .find(|i| i.form_field() == name)
        {
            return Some(item.raw(self));
        }
        let value = match name {
            "exchange_from" => &self.exchange_from,
            "exchange_to" => &self.exchange_to,
            "exchange_duration" => &self.exchange_duration,
            "depart_date" => &self.depart_date,
            "return_date" => &self.return_date,
            "gpa" => &self.gpa,
            "weighted_avg" => &self.weighted_avg,
            "one_china_issue" => &self.one_china_issue,
            "group_leader" => &self.group_leader,
            "has_passport" => &self.has_passport,
            "passport_no" => &self.passport_no,
            "passport_expiry" => &self.passport_expiry,
            "emergency_relation" => &self.emergency_relation,
            "emergency_name" => &self.emergency_name,
            "emergency_phone" => &self.emergency_phone,
            _ => return None,
        };
        Some(value)
    }
}

/// The 申请信息 step, parsed. Everything is optional because a draft may be partial.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApplicationInfo {
    /// The chosen partner-school ids, first choice first; no school twice.
    pub choices: Vec<i64>,
    /// 交流日期 · 从.
    pub exchange_from: Option<NaiveDate>,
    /// 交流日期 · 至 (not before `exchange_from`).
    pub exchange_to: Option<NaiveDate>,
    /// 交流时长, as typed.
    pub exchange_duration: Option<String>,
    /// 出国(境)时间.
    pub depart_date: Option<NaiveDate>,
    /// 回国(入境)时间 (not before `depart_date`).
    pub return_date: Option<NaiveDate>,
    /// GPA.
    pub gpa: Option<Gpa>,
    /// 加权平均分.
    pub weighted_avg: Option<Percentage>,
    /// 是否有"一中一台"、"两个中国"等问题: `Some(true)` = 有.
    pub one_china_issue: Option<bool>,
    /// 组团单位及团长.
    pub group_leader: Option<String>,
    /// 是否已办理护照.
    pub has_passport: Option<bool>,
    /// 护照号码; always `None` when `has_passport` is `Some(false)`.
    pub passport_no: Option<PassportNumber>,
    /// 护照有效期; always `None` when `has_passport` is `Some(false)`.
    pub passport_expiry: Option<NaiveDate>,
    /// 紧急联络人 · 与申请人关系.
    pub emergency_relation: Option<String>,
    /// 紧急联络人 · 姓名.
    pub emergency_name: Option<String>,
    /// 紧急联络人 · 电话.
    pub emergency_phone: Option<PhoneNumber>,
    /// 费用来源 per cost item (funding-source codes); items not chosen yet are absent.
    pub funding: BTreeMap<FundingItem, String>,
}

impl ApplicationInfo {
    /// 交流日期 as a range, once both ends are known.
    pub fn exchange_period(&self) -> Option<DateRange> {
        DateRange::new(self.exchange_from?, self.exchange_to?).ok()
    }

    /// 出国(境)时间 to 回国(入境)时间, once both are known.
    pub fn travel_period(&self) -> Option<DateRange> {
        DateRange::new(self.depart_date?, self.return_date?).ok()
    }
}

/// Parses `yes` / `no`.
fn parse_yes_no(s: &str) -> Result<bool, ValueError> {
    match s.trim() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(ValueError::UnknownOption),
    }
}

/// Parses the 申请信息 step of a draft: missing values are accepted, wrong ones refused, all
/// errors at once. `allowed_schools` are the partner-school ids of the program (the choices
/// offered); `funding_sources` the codes of the 费用来源 dictionary.
///
/// Rules: every choice is one of `allowed_schools` (`err.choice.not_offered`), no school
/// twice (`err.choice.duplicate`, on the later choice), no choice after an empty one
/// (`err.choice.gap`); 交流日期 至 not before 从 and 回国 not before 出国 (`err.date.order`, on
/// the later date). Departure may fall before the exchange starts. With 是否已办理护照 = 否 the
/// passport fields are ignored. Whether the passport is still valid, and what is required at
/// all, is checked at submit by [`Draft::into_submission`], which knows today's date.
pub fn parse_application_info(
    form: &ApplicationInfoForm,
    allowed_schools: &[i64],
    funding_sources: &[String],
) -> Result<ApplicationInfo, FieldErrors> {
    let mut e = FieldErrors::new();

    let mut choices = Vec::new();
    let mut gap = false;
    for (field, raw) in form.choices() {
        let raw = raw.trim();
        if raw.is_empty() {
            gap = true;
            continue;
        }
        match raw.parse::<i64>() {
            Ok(id) if !allowed_schools.contains(&id) => e.add(field, "err.choice.not_offered"),
            Ok(id) if choices.contains(&id) => e.add(field, "err.choice.duplicate"),
            Ok(_) if gap => e.add(field, "err.choice.gap"),
            Ok(id) => choices.push(id),
            Err(_) => e.add(field, "err.choice.not_offered"),
        }
    }

    let has_passport = e.optional("has_passport", &form.has_passport, parse_yes_no);
    let asks_passport = has_passport != Some(false);
    let mut info = ApplicationInfo {
        choices,
        exchange_from: e.optional("exchange_from", &form.exchange_from, parse_date),
        exchange_to: e.optional("exchange_to", &form.exchange_to, parse_date),
        exchange_duration: e.text("exchange_duration", &form.exchange_duration, SHORT),
        depart_date: e.optional("depart_date", &form.depart_date, parse_date),
        return_date: e.optional("return_date", &form.return_date, parse_date),
        gpa: e.optional("gpa", &form.gpa, Gpa::parse),
        weighted_avg: e.optional("weighted_avg", &form.weighted_avg, Percentage::parse),
        one_china_issue: e.optional("one_china_issue", &form.one_china_issue, parse_yes_no),
        group_leader: e.text("group_leader", &form.group_leader, LINE),
        has_passport,
        passport_no: None,
        passport_expiry: None,
        emergency_relation: e.text("emergency_relation", &form.emergency_relation, SHORT),
        emergency_name: e.text("emergency_name", &form.emergency_name, SHORT),
        emergency_phone: e.optional("emergency_phone", &form.emergency_phone, PhoneNumber::parse),
        funding: BTreeMap::new(),
    };
    if asks_passport {
        info.passport_no = e.optional("passport_no", &form.passport_no, PassportNumber::parse);
        info.passport_expiry = e.optional("passport_expiry", &form.passport_expiry, parse_date);
    }
    for item in FundingItem::ALL {
        let source = e.optional(item.form_field(), item.raw(form), |s| {
            let s = s.trim();
            if funding_sources.iter().any(|f| f == s) {
                Ok(s.to_owned())
            } else {
                Err(ValueError::UnknownOption)
            }
        });
        if let Some(source) = source {
            info.funding.insert(item, source);
        }
    }

    if let (Some(from), Some(to)) = (info.exchange_from, info.exchange_to)
        && to < from
    {
        e.add("exchange_to", "err.date.order");
    }
    if let (Some(depart), Some(back)) = (info.depart_date, info.return_date)
        && back < depart
    {
        e.add("return_date", "err.date.order");
    }

    e.into_result(info)
}

/// One 外语水平 row as posted.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct LanguageScoreForm {
    /// 外语语种: a code of the languages dictionary.
    pub language: String,
    /// 达标方式 / 成绩要求 (CET-6, IELTS …): a code of the exam-types dictionary.
    pub exam_type: String,
    /// 考试成绩 (等级及分数); empty while the result is pending (待出成绩).
    pub score: String,
    /// 考试时间, YYYY-MM-DD.
    pub exam_date: String,
}

/// One 外语水平 row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LanguageScore {
    /// 外语语种 code.
    pub language: String,
    /// 达标方式 code.
    pub exam_type: String,
    /// 考试成绩, as written (`6.5`, `N1`, `580`); `None` = 待出成绩, to be filled once later
    /// by 补录分数.
    pub score: Option<String>,
    /// 考试时间.
    pub exam_date: NaiveDate,
}

/// The 语种 and 达标方式 a 外语水平 row may name, and which language each exam shows: IELTS
/// shows English, JLPT Japanese. An exam of no particular language (校内语言测试, 其他) goes
/// with any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LanguageExams {
    /// The language codes offered.
    pub languages: Vec<String>,
    /// (exam code, the code of its language or "" for any language), in the order offered.
    pub exams: Vec<(String, String)>,
}

impl LanguageExams {
    /// The exam codes offered for `language`, in order: its own and those of any language.
    pub fn exams_for<'a>(&'a self, language: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.exams
            .iter()
            .filter(move |(_, of)| of.is_empty() || of == language)
            .map(|(code, _)| code.as_str())
    }

    /// Whether `exam` shows a level of `language`.
    pub fn fits(&self, language: &str, exam: &str) -> bool {
        self.exams_for(language).any(|e| e == exam)
    }

    fn exam_codes(&self) -> Vec<String> {
        self.exams.iter().map(|(code, _)| code.clone()).collect()
    }
}

impl LanguageScore {
    /// Parses a row: language, exam type and exam date are required, the first two among the
    /// codes offered and the exam one of the language's ([`LanguageExams::fits`]); the score
    /// may be left empty while the result is pending.
    pub fn parse(
        form: &LanguageScoreForm,
        offered: &LanguageExams,
    ) -> Result<LanguageScore, FieldErrors> {
        let mut e = FieldErrors::new();
        let language = e.check("language", one_of(&offered.languages, &form.language));
        let exam_type = e.check("exam_type", one_of(&offered.exam_codes(), &form.exam_type));
        if let (Some(language), Some(exam)) = (&language, &exam_type)
            && !offered.fits(language, exam)
        {
            e.add("exam_type", LANGUAGE_MISMATCH);
        }
        let score = e.text("score", &form.score, SHORT);
        let exam_date = e.check("exam_date", parse_date(&form.exam_date));
        match (language, exam_type, exam_date) {
            (Some(language), Some(exam_type), Some(exam_date)) if e.is_empty() => {
                Ok(LanguageScore {
                    language,
                    exam_type,
                    score,
                    exam_date,
                })
            }
            _ => Err(e),
        }
    }

    /// The result is not out yet (待出成绩).
    pub fn is_pending(&self) -> bool {
        self.score.is_none()
    }
}

/// The error beside 达标方式 when the exam is not one of the chosen language's.
pub const LANGUAGE_MISMATCH: &str = "err.exam_type.language";

/// A posted dictionary code, which must be one of `allowed`.
fn one_of(allowed: &[String], raw: &str) -> Result<String, ValueError> {
    let code = raw.trim();
    if code.is_empty() {
        Err(ValueError::Empty)
    } else if allowed.iter().any(|a| a == code) {
        Ok(code.to_owned())
    } else {
        Err(ValueError::UnknownOption)
    }
}

coded_enum! {
    /// The steps of the application form; the submit check names the step of each problem so
    /// that the page can link to `…/step/<code>#<field>`.
    pub enum Step: "step" {
        /// 基本信息 (the profile).
        Basic = "basic",
        /// 申请信息.
        Info = "info",
        /// 外语水平.
        Languages = "languages",
        /// 附件信息.
        Attachments = "attachments",
    }
}

/// One reason an application cannot be submitted yet: a missing or wrong field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingField {
    /// The step the field is on.
    pub step: Step,
    /// The field, as named in its form; also the anchor on the step's page. Language rows
    /// are `languages.<row index from 0>.<field>` (and `languages` when there is no row);
    /// attachment types are `attachment_<type id>`.
    pub field: String,
    /// A catalogue key: `err.required` when missing, else why it is wrong.
    pub code: &'static str,
}

impl MissingField {
    fn new(step: Step, field: impl Into<String>, code: &'static str) -> Self {
        Self {
            step,
            field: field.into(),
            code,
        }
    }

    /// The plain field name to find its label as `field.<name>`: the last part of `field`
    /// (`languages.0.score` → `score`). For an attachment use [`Self::attachment_type`].
    pub fn field_name(&self) -> &str {
        self.field.rsplit('.').next().unwrap_or(&self.field)
    }

    /// The attachment type id, for a missing attachment.
    pub fn attachment_type(&self) -> Option<i64> {
        self.field.strip_prefix("attachment_")?.parse().ok()
    }
}

/// Everything of an application that the submit check looks at, borrowed from what the
/// service loaded. `attachments` counts the uploaded files per attachment type;
/// `required_attachment_types` are the program's types marked required (id, name).
#[derive(Debug, Clone, Copy)]
pub struct Draft<'a> {
    /// The applicant's profile (基本信息).
    pub profile: &'a ProfileForm,
    /// The 申请信息 step.
    pub info: &'a ApplicationInfoForm,
    /// The 外语水平 rows.
    pub languages: &'a [LanguageScoreForm],
    /// (attachment type id, number of files uploaded).
    pub attachments: &'a [(i64, usize)],
    /// (attachment type id, name) of the types the program requires.
    pub required_attachment_types: &'a [(i64, String)],
    /// The program's partner-school ids.
    pub allowed_schools: &'a [i64],
    /// The 费用来源 dictionary codes.
    pub funding_sources: &'a [String],
    /// The 语种 and 达标方式 offered, each exam with its language.
    pub language_exams: &'a LanguageExams,
    /// Today in China: a passport must still be valid after it.
    pub today: NaiveDate,
}

/// A complete application, ready to be submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Submission {
    /// The applicant's profile as submitted.
    pub profile: Profile,
    /// The 申请信息 step.
    pub info: ApplicationInfo,
    /// The 外语水平 rows (at least one).
    pub languages: Vec<LanguageScore>,
    /// Some row's score is pending: 补录分数 will be offered once.
    pub has_pending_score: bool,
}

/// The position of `field` in a form's field list (unknown names last); sorting is stable.
fn rank(fields: &[&str], field: &str) -> usize {
    fields
        .iter()
        .position(|f| *f == field)
        .unwrap_or(fields.len())
}

impl Draft<'_> {
    /// The submit check: every step at once. Required are the profile's required fields,
    /// [`ApplicationInfoForm::REQUIRED_AT_SUBMIT`], the passport number and a future expiry
    /// date when 是否已办理护照 is 是, at least one language row, and at least one file of
    /// every required attachment type. Every wrong value counts too. Problems come step by
    /// step, in form order within a step.
    pub fn into_submission(self) -> Result<Submission, Vec<MissingField>> {
        let mut missing = Vec::new();
        let push_all = |missing: &mut Vec<MissingField>, step, errors: FieldErrors| {
            missing.extend(
                errors
                    .0
                    .into_iter()
                    .map(|FieldError { field, code }| MissingField::new(step, field, code)),
            );
        };

        // 基本信息.
        let profile = Profile::parse(self.profile, self.today)
            .map_err(|errors| push_all(&mut missing, Step::Basic, errors))
            .ok();
        missing.extend(
            missing_required(self.profile)
                .into_iter()
                .map(|field| MissingField::new(Step::Basic, field, "err.required")),
        );
        missing.sort_by_key(|m| rank(&ProfileForm::FIELDS, &m.field));

        // 申请信息.
        let start = missing.len();
        let info = parse_application_info(self.info, self.allowed_schools, self.funding_sources)
            .map_err(|errors| push_all(&mut missing, Step::Info, errors))
            .ok();
        for field in ApplicationInfoForm::REQUIRED_AT_SUBMIT {
            if self.info.field(field).is_some_and(|v| v.trim().is_empty()) {
                missing.push(MissingField::new(Step::Info, field, "err.required"));
            }
        }
        if self.info.has_passport.trim() == "yes" {
            for field in ["passport_no", "passport_expiry"] {
                if self.info.field(field).is_some_and(|v| v.trim().is_empty()) {
                    missing.push(MissingField::new(Step::Info, field, "err.required"));
                }
            }
            if let Some(expiry) = info.as_ref().and_then(|i| i.passport_expiry)
                && expiry <= self.today
            {
                missing.push(MissingField::new(
                    Step::Info,
                    "passport_expiry",
                    "err.passport.expired",
                ));
            }
        }
        missing[start..].sort_by_key(|m| rank(&ApplicationInfoForm::FIELDS, &m.field));

        // 外语水平.
        let mut languages = Vec::new();
        if self.languages.is_empty() {
            missing.push(MissingField::new(
                Step::Languages,
                "languages",
                "err.languages.required",
            ));
        }
        for (i, row) in self.languages.iter().enumerate() {
            match LanguageScore::parse(row, self.language_exams) {
                Ok(score) => languages.push(score),
                Err(errors) => missing.extend(errors.0.into_iter().map(|e| {
                    MissingField::new(
                        Step::Languages,
                        format!("languages.{i}.{}", e.field),
                        e.code,
                    )
                })),
            }
        }

        // 附件信息.
        for (type_id, _name) in self.required_attachment_types {
            let files: usize = self
                .attachments
                .iter()
                .filter(|(t, _)| t == type_id)
                .map(|(_, n)| n)
                .sum();
            if files == 0 {
                missing.push(MissingField::new(
                    Step::Attachments,
                    format!("attachment_{type_id}"),
                    "err.attachment.required",
                ));
            }
        }

        match (profile, info) {
            (Some(profile), Some(info)) if missing.is_empty() => {
                let has_pending_score = languages.iter().any(LanguageScore::is_pending);
                Ok(Submission {
                    profile,
                    info,
                    languages,
                    has_pending_score,
                })
            }
            _ => Err(missing),
        }
    }
}

coded_enum! {
    /// Whether a program takes applications now (申报时间, 补录).
    pub enum Registration: "registration" {
        /// Before 申报开始时间.
        NotYetOpen = "not_yet_open",
        /// Within 申报时间: 报名 is offered.
        Open = "open",
        /// After 申报结束时间, for a program that allows 补录申请: applications are marked late.
        LateOnly = "late_only",
        /// Over, or the program is not active.
        Closed = "closed",
    }
}

impl Registration {
    /// A student may start or submit an application.
    pub const fn accepts_applications(self) -> bool {
        matches!(self, Registration::Open | Registration::LateOnly)
    }

    /// An application made now is a 补录申请.
    pub const fn is_late(self) -> bool {
        matches!(self, Registration::LateOnly)
    }
}

/// Where `now` falls in a program's registration window `start ..= end` (both ends included,
/// to the minute as staff set them). After the end, a program that `allows_late` takes 补录
/// applications; an inactive program (是否有效 = 否) takes none.
pub fn registration(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    allows_late: bool,
    active: bool,
    now: DateTime<Utc>,
) -> Registration {
    if !active {
        Registration::Closed
    } else if now < start {
        Registration::NotYetOpen
    } else if now <= end {
        Registration::Open
    } else if allows_late {
        Registration::LateOnly
    } else {
        Registration::Closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::values::IdCardNumber;
    use chrono::TimeZone;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
    }

    fn today() -> NaiveDate {
        date(2024, 9, 1)
    }

    fn sources() -> Vec<String> {
        ["csc", "school", "self", "other"]
            .map(String::from)
            .to_vec()
    }

    fn complete_info() -> ApplicationInfoForm {
        ApplicationInfoForm {
            choice_1: "11".into(),
            choice_2: "12".into(),
            exchange_from: "2025-02-15".into(),
            exchange_to: "2025-06-30".into(),
            exchange_duration: "一学期".into(),
            depart_date: "2025-02-10".into(),
            return_date: "2025-07-05".into(),
            gpa: "3.6".into(),
            weighted_avg: "88.5".into(),
            one_china_issue: "no".into(),
            has_passport: "yes".into(),
            passport_no: "E12345678".into(),
            passport_expiry: "2030-01-01".into(),
            emergency_relation: "父亲".into(),
            emergency_name: "张父".into(),
            emergency_phone: "13912345678".into(),
            funding_round_trip: "self".into(),
            funding_accommodation: "self".into(),
            funding_meals: "self".into(),
            funding_intercity: "self".into(),
            funding_registration: "school".into(),
            funding_tuition: "other".into(),
            ..ApplicationInfoForm::default()
        }
    }

    fn complete_profile() -> ProfileForm {
        let body = "62010220000101123";
        let check = IdCardNumber::check_char(body).expect("17 digits");
        ProfileForm {
            name_zh: "张三".into(),
            pinyin_surname: "ZHANG".into(),
            pinyin_given: "SAN".into(),
            gender: "male".into(),
            nationality: "CN".into(),
            ethnicity: "汉族".into(),
            birth_date: "2000-01-01".into(),
            id_type: "resident_id".into(),
            id_number: format!("{body}{check}"),
            political_status: "共青团员".into(),
            marital_status: "single".into(),
            mobile: "13812345678".into(),
            email: "zhangsan@lzu.edu.cn".into(),
            emergency_name: "张父".into(),
            emergency_mobile: "13912345678".into(),
            emergency_relation: "父子".into(),
            ..ProfileForm::default()
        }
    }

    fn ielts(score: &str) -> LanguageScoreForm {
        LanguageScoreForm {
            language: "english".into(),
            exam_type: "ielts".into(),
            score: score.into(),
            exam_date: "2024-06-01".into(),
        }
    }

    /// English and Japanese, IELTS and CET-6 for English, JLPT N1 for Japanese, 其他 for any.
    fn offered() -> LanguageExams {
        LanguageExams {
            languages: vec!["english".into(), "japanese".into()],
            exams: [
                ("ielts", "english"),
                ("cet6", "english"),
                ("jlpt_n1", "japanese"),
                ("other", ""),
            ]
            .into_iter()
            .map(|(e, l)| (e.to_owned(), l.to_owned()))
            .collect(),
        }
    }

    struct Fixture {
        profile: ProfileForm,
        info: ApplicationInfoForm,
        languages: Vec<LanguageScoreForm>,
        attachments: Vec<(i64, usize)>,
        required: Vec<(i64, String)>,
        schools: Vec<i64>,
        sources: Vec<String>,
        offered: LanguageExams,
    }

    impl Fixture {
        fn complete() -> Self {
            Self {
                profile: complete_profile(),
                info: complete_info(),
                languages: vec![ielts("6.5")],
                attachments: vec![(1, 1), (2, 2)],
                required: vec![(1, "中文成绩单".into()), (2, "外语水平证明".into())],
                schools: vec![11, 12, 13],
                sources: sources(),
                offered: offered(),
            }
        }

        fn draft(&self) -> Draft<'_> {
            Draft {
                profile: &self.profile,
                info: &self.info,
                languages: &self.languages,
                attachments: &self.attachments,
                required_attachment_types: &self.required,
                allowed_schools: &self.schools,
                funding_sources: &self.sources,
                language_exams: &self.offered,
                today: today(),
            }
        }
    }

    fn problems(fixture: &Fixture) -> Vec<(Step, String, &'static str)> {
        match fixture.draft().into_submission() {
            Ok(_) => Vec::new(),
            Err(missing) => missing
                .into_iter()
                .map(|m| (m.step, m.field, m.code))
                .collect(),
        }
    }

    #[test]
    fn an_empty_draft_step_can_be_saved() {
        let info = parse_application_info(&ApplicationInfoForm::default(), &[1], &sources());
        assert_eq!(info, Ok(ApplicationInfo::default()));
    }

    #[test]
    fn a_complete_info_step_parses_into_typed_values() {
        let info = parse_application_info(&complete_info(), &[11, 12], &sources()).expect("valid");
        assert_eq!(info.choices, vec![11, 12]);
        assert_eq!(info.exchange_period().map(|r| r.days()), Some(136));
        assert_eq!(info.one_china_issue, Some(false));
        assert_eq!(
            info.funding.get(&FundingItem::Tuition).map(String::as_str),
            Some("other")
        );
        assert_eq!(info.funding.len(), 6);
    }

    #[test]
    fn the_same_school_twice_is_refused() {
        let form = ApplicationInfoForm {
            choice_2: "11".into(),
            ..complete_info()
        };
        let errors = parse_application_info(&form, &[11, 12], &sources()).expect_err("dup");
        assert_eq!(errors.get("choice_2"), Some("err.choice.duplicate"));
        assert_eq!(errors.get("choice_1"), None);
    }

    #[test]
    fn a_school_the_program_does_not_offer_is_refused() {
        for bad in ["99", "abc"] {
            let form = ApplicationInfoForm {
                choice_1: bad.into(),
                ..complete_info()
            };
            let errors = parse_application_info(&form, &[11, 12], &sources()).expect_err(bad);
            assert_eq!(
                errors.get("choice_1"),
                Some("err.choice.not_offered"),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_choice_cannot_follow_an_empty_one() {
        let form = ApplicationInfoForm {
            choice_2: String::new(),
            choice_3: "12".into(),
            ..complete_info()
        };
        let errors = parse_application_info(&form, &[11, 12], &sources()).expect_err("gap");
        assert_eq!(errors.get("choice_3"), Some("err.choice.gap"));
    }

    #[test]
    fn dates_must_not_end_before_they_start_but_departure_may_precede_the_exchange() {
        let form = ApplicationInfoForm {
            exchange_to: "2025-02-01".into(),
            return_date: "2025-02-01".into(),
            ..complete_info()
        };
        let errors = parse_application_info(&form, &[11, 12], &sources()).expect_err("order");
        assert_eq!(errors.get("exchange_to"), Some("err.date.order"));
        assert_eq!(errors.get("return_date"), Some("err.date.order"));
        assert_eq!(errors.len(), 2);
    }

    #[test]
    fn funding_sources_must_come_from_the_dictionary() {
        let form = ApplicationInfoForm {
            funding_meals: "lottery".into(),
            ..complete_info()
        };
        let errors = parse_application_info(&form, &[11, 12], &sources()).expect_err("source");
        assert_eq!(errors.get("funding_meals"), Some("err.option.unknown"));
    }

    #[test]
    fn passport_fields_are_ignored_when_the_student_has_no_passport() {
        let form = ApplicationInfoForm {
            has_passport: "no".into(),
            passport_no: "??".into(),
            ..complete_info()
        };
        let info = parse_application_info(&form, &[11, 12], &sources()).expect("ignored");
        assert_eq!(info.passport_no, None);
        assert_eq!(info.passport_expiry, None);
    }

    #[test]
    fn a_complete_draft_becomes_a_submission() {
        let fixture = Fixture::complete();
        let submission = fixture.draft().into_submission().expect("complete");
        assert_eq!(submission.info.choices, vec![11, 12]);
        assert!(!submission.has_pending_score);
        assert_eq!(submission.languages.len(), 1);
    }

    #[test]
    fn a_language_score_may_be_left_pending_at_submission() {
        let fixture = Fixture {
            languages: vec![ielts(""), ielts("7")],
            ..Fixture::complete()
        };
        let submission = fixture.draft().into_submission().expect("pending is fine");
        assert!(submission.has_pending_score);
    }

    #[test]
    fn every_missing_field_is_listed_with_its_step() {
        let fixture = Fixture {
            profile: ProfileForm {
                mobile: String::new(),
                ..complete_profile()
            },
            info: ApplicationInfoForm {
                choice_1: String::new(),
                choice_2: String::new(),
                gpa: String::new(),
                funding_tuition: String::new(),
                ..complete_info()
            },
            languages: Vec::new(),
            attachments: vec![(2, 1)],
            ..Fixture::complete()
        };
        assert_eq!(
            problems(&fixture),
            vec![
                (Step::Basic, "mobile".into(), "err.required"),
                (Step::Info, "choice_1".into(), "err.required"),
                (Step::Info, "gpa".into(), "err.required"),
                (Step::Info, "funding_tuition".into(), "err.required"),
                (
                    Step::Languages,
                    "languages".into(),
                    "err.languages.required"
                ),
                (
                    Step::Attachments,
                    "attachment_1".into(),
                    "err.attachment.required"
                ),
            ]
        );
    }

    #[test]
    fn wrong_values_are_listed_beside_missing_ones() {
        let fixture = Fixture {
            profile: ProfileForm {
                email: "me@qq.com".into(),
                ..complete_profile()
            },
            info: ApplicationInfoForm {
                gpa: "9".into(),
                ..complete_info()
            },
            languages: vec![LanguageScoreForm {
                exam_type: "toeic".into(),
                ..ielts("")
            }],
            ..Fixture::complete()
        };
        assert_eq!(
            problems(&fixture),
            vec![
                (Step::Basic, "email".into(), "err.email.qq"),
                (Step::Info, "gpa".into(), "err.gpa.range"),
                (
                    Step::Languages,
                    "languages.0.exam_type".into(),
                    "err.option.unknown"
                ),
            ]
        );
    }

    #[test]
    fn a_student_with_a_passport_must_give_its_number_and_a_future_expiry() {
        let missing_number = Fixture {
            info: ApplicationInfoForm {
                passport_no: String::new(),
                ..complete_info()
            },
            ..Fixture::complete()
        };
        assert_eq!(
            problems(&missing_number),
            vec![(Step::Info, "passport_no".into(), "err.required")]
        );
        let expired = Fixture {
            info: ApplicationInfoForm {
                passport_expiry: "2024-09-01".into(),
                ..complete_info()
            },
            ..Fixture::complete()
        };
        assert_eq!(
            problems(&expired),
            vec![(Step::Info, "passport_expiry".into(), "err.passport.expired")]
        );
        let none = Fixture {
            info: ApplicationInfoForm {
                has_passport: "no".into(),
                passport_no: String::new(),
                passport_expiry: String::new(),
                ..complete_info()
            },
            ..Fixture::complete()
        };
        assert!(problems(&none).is_empty());
    }

    #[test]
    fn a_language_row_needs_language_exam_type_and_date() {
        let errors = LanguageScore::parse(&LanguageScoreForm::default(), &LanguageExams::default())
            .expect_err("empty row");
        assert_eq!(errors.get("language"), Some("err.required"));
        assert_eq!(errors.get("exam_type"), Some("err.required"));
        assert_eq!(errors.get("exam_date"), Some("err.required"));
        assert_eq!(errors.get("score"), None);
    }

    #[test]
    fn a_language_row_with_an_exam_of_another_language_is_refused_beside_the_exam() {
        let row = |language: &str, exam: &str| LanguageScoreForm {
            language: language.into(),
            exam_type: exam.into(),
            ..ielts("N1")
        };
        let errors =
            LanguageScore::parse(&row("english", "jlpt_n1"), &offered()).expect_err("英语 + JLPT");
        assert_eq!(errors.get("exam_type"), Some(LANGUAGE_MISMATCH));
        assert_eq!(errors.len(), 1, "only the exam is wrong");
        assert!(LanguageScore::parse(&row("japanese", "jlpt_n1"), &offered()).is_ok());
        assert!(
            LanguageScore::parse(&row("japanese", "other"), &offered()).is_ok(),
            "an exam of no particular language goes with any"
        );
    }

    #[test]
    fn the_exams_offered_for_a_language_are_its_own_and_those_of_any_language() {
        let offered = offered();
        assert_eq!(
            offered.exams_for("english").collect::<Vec<_>>(),
            ["ielts", "cet6", "other"]
        );
        assert_eq!(
            offered.exams_for("japanese").collect::<Vec<_>>(),
            ["jlpt_n1", "other"]
        );
        assert!(!offered.fits("english", "jlpt_n1"));
        assert!(!offered.fits("english", "toeic"), "not offered at all");
    }

    #[test]
    fn a_draft_with_a_mismatched_language_row_cannot_be_submitted() {
        let fixture = Fixture {
            languages: vec![LanguageScoreForm {
                exam_type: "jlpt_n1".into(),
                ..ielts("N1")
            }],
            ..Fixture::complete()
        };
        assert_eq!(
            problems(&fixture),
            vec![(
                Step::Languages,
                "languages.0.exam_type".to_owned(),
                LANGUAGE_MISMATCH
            )]
        );
    }

    #[test]
    fn a_missing_field_names_its_label_and_attachment_type() {
        let row = MissingField::new(Step::Languages, "languages.2.score", "err.required");
        assert_eq!(row.field_name(), "score");
        let file = MissingField::new(
            Step::Attachments,
            "attachment_42",
            "err.attachment.required",
        );
        assert_eq!(file.attachment_type(), Some(42));
        assert_eq!(row.attachment_type(), None);
        assert_eq!(Step::Attachments.code(), "attachments");
    }

    #[test]
    fn registration_follows_the_window_and_the_late_rule() {
        let at = |d: u32, h: u32| {
            Utc.with_ymd_and_hms(2024, 10, d, h, 0, 0)
                .single()
                .expect("a real time")
        };
        let (start, end) = (at(10, 0), at(20, 12));
        assert_eq!(
            registration(start, end, true, true, at(9, 23)),
            Registration::NotYetOpen
        );
        assert_eq!(
            registration(start, end, false, true, at(10, 0)),
            Registration::Open
        );
        assert_eq!(
            registration(start, end, false, true, at(20, 12)),
            Registration::Open
        );
        assert_eq!(
            registration(start, end, false, true, at(20, 13)),
            Registration::Closed
        );
        assert_eq!(
            registration(start, end, true, true, at(21, 0)),
            Registration::LateOnly
        );
        assert_eq!(
            registration(start, end, true, false, at(15, 0)),
            Registration::Closed
        );
        assert!(Registration::LateOnly.accepts_applications());
        assert!(Registration::LateOnly.is_late());
        assert!(!Registration::NotYetOpen.accepts_applications());
    }

    #[test]
    fn funding_items_name_their_form_fields() {
        let form = complete_info();
        for item in FundingItem::ALL {
            assert_eq!(form.field(item.form_field()), Some(item.raw(&form)));
        }
        assert_eq!(
            FundingItem::IntercityTransport.label_key(),
            "funding_item.intercity"
        );
    }

    mod generated_forms {
        use super::*;
        use proptest::prelude::*;

        /// What a client may post in one field: blanks, garbage, numbers, dates (real or
        /// not), the yes/no codes and long text.
        fn raw_value() -> impl Strategy<Value = String> {
            prop_oneof![
                Just(String::new()),
                ".{0,12}",
                "[0-9]{1,6}",
                "-?[0-9]{1,3}\\.[0-9]{1,4}",
                "(19|20|99)[0-9]{2}-[01][0-9]-[0-3][0-9]",
                Just("yes".to_owned()),
                Just("no".to_owned()),
                "[a-z]{0,3}",
                ".{200,400}",
            ]
        }

        /// A form of `T` whose every text field holds a generated value, and its field names.
        fn form<T: serde::Serialize + serde::de::DeserializeOwned + Default>(
            values: Vec<String>,
        ) -> (T, Vec<String>) {
            let serde_json::Value::Object(mut fields) =
                serde_json::to_value(T::default()).expect("a form serializes")
            else {
                panic!("a form is an object");
            };
            let names: Vec<String> = fields
                .iter()
                .filter(|(_, v)| v.is_string())
                .map(|(k, _)| k.clone())
                .collect();
            for (name, value) in names.iter().zip(values) {
                fields.insert(name.clone(), serde_json::Value::String(value));
            }
            let form = serde_json::from_value(serde_json::Value::Object(fields))
                .expect("the form reads back");
            (form, names)
        }

        proptest! {
            #[test]
            fn any_application_info_form_is_parsed_or_refused_field_by_field(
                values in proptest::collection::vec(raw_value(), 40),
            ) {
                let (form, names) = form::<ApplicationInfoForm>(values);
                let funding = ["self".to_owned(), "school".to_owned()];
                match parse_application_info(&form, &[1, 2, 3], &funding) {
                    Ok(info) => {
                        prop_assert!(info.choices.iter().all(|c| [1, 2, 3].contains(c)));
                        if let (Some(from), Some(to)) = (info.exchange_from, info.exchange_to) {
                            prop_assert!(from <= to);
                        }
                    }
                    Err(errors) => {
                        let on_fields = names.iter().filter(|n| errors.get(n).is_some()).count();
                        prop_assert_eq!(on_fields, errors.len(), "every error names a field of the form");
                    }
                }
            }

            #[test]
            fn any_language_row_is_parsed_or_refused_field_by_field(
                values in proptest::collection::vec(raw_value(), 4),
            ) {
                let (form, names) = form::<LanguageScoreForm>(values);
                let allowed = ["en".to_owned(), "ielts".to_owned(), "yes".to_owned()];
                let offered = LanguageExams {
                    languages: allowed.to_vec(),
                    exams: [("en", "en"), ("ielts", "en"), ("yes", "")]
                        .into_iter()
                        .map(|(e, l)| (e.to_owned(), l.to_owned()))
                        .collect(),
                };
                match LanguageScore::parse(&form, &offered) {
                    Ok(row) => prop_assert!(allowed.contains(&row.language)),
                    Err(errors) => {
                        let on_fields = names.iter().filter(|n| errors.get(n).is_some()).count();
                        prop_assert_eq!(on_fields, errors.len());
                    }
                }
            }
        }
    }
}
