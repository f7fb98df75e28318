//! Value types parsed from what people type: ID numbers, phones, e-mail, pinyin names, grades,
//! dates, and the small closed lists (性别, 在读学历, 婚姻状况, 证件类型).
//!
//! Each type can only hold a valid value ("parse, don't validate"): `parse` trims the input,
//! folds full-width characters typed with a Chinese input method (`１３８…`, `＠`) to ASCII,
//! normalises (upper-case X, lower-case e-mail domain …) and refuses anything wrong with a
//! [`ValueError`] whose `code()` is a catalogue key. Every type serialises as its string form,
//! and deserialises through `parse`, so a stored value is re-checked when read back.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// Why a typed value was refused. Display is for logs; users see the catalogue text of `code()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ValueError {
    /// Nothing was typed where a value is needed.
    #[error("a value is required")]
    Empty,
    /// Longer than the field allows.
    #[error("the value is too long")]
    TooLong,
    /// Not 17 digits followed by a digit or X.
    #[error("an ID-card number is 17 digits and a digit or X")]
    IdCardFormat,
    /// The embedded birth date (digits 7–14) is not a real date.
    #[error("the birth date inside the ID-card number is not a real date")]
    IdCardBirthDate,
    /// The GB 11643 check character does not match.
    #[error("the ID-card number's check character is wrong")]
    IdCardChecksum,
    /// A passport / permit number is not 5–20 letters or digits.
    #[error("an ID number is 5 to 20 letters or digits")]
    IdNumberFormat,
    /// Not a mainland mobile number.
    #[error("a mobile number is 11 digits starting with 13-19")]
    MobileFormat,
    /// Not a telephone number.
    #[error("a telephone number is 5 to 20 digits, spaces, +, - or parentheses")]
    PhoneFormat,
    /// Not an e-mail address.
    #[error("not an e-mail address")]
    EmailFormat,
    /// A QQ mailbox, which the office cannot rely on (mail to it is often filtered).
    #[error("QQ mailboxes are not accepted")]
    EmailQq,
    /// Pinyin must be written in Latin letters, as in the passport.
    #[error("a pinyin name has only letters A-Z and single spaces")]
    PinyinLetters,
    /// Not a QQ number.
    #[error("a QQ number is 5 to 12 digits, not starting with 0")]
    QqFormat,
    /// Not a decimal number with at most two decimals.
    #[error("not a number with at most two decimals")]
    NumberFormat,
    /// A GPA outside 0–5.
    #[error("a GPA is between 0.00 and 5.00")]
    GpaRange,
    /// A percentage or score outside 0–100.
    #[error("a score is between 0 and 100")]
    PercentageRange,
    /// A passport number that is not 5–20 letters or digits.
    #[error("a passport number is 5 to 20 letters or digits")]
    PassportFormat,
    /// Not a date written YYYY-MM-DD.
    #[error("a date is written YYYY-MM-DD")]
    DateFormat,
    /// An end date before its start date.
    #[error("the end date is before the start date")]
    DateOrder,
    /// A code that is not one of the options offered.
    #[error("not one of the options offered")]
    UnknownOption,
    /// A bank account that is not 10–30 digits.
    #[error("a bank account number is 10 to 30 digits")]
    BankAccountFormat,
    /// A flight or train number that is not letters and digits.
    #[error("a flight or train number is letters and digits")]
    TransportFormat,
}

impl ValueError {
    /// Every variant, for the catalogue test.
    pub const ALL: [ValueError; 21] = [
        ValueError::Empty,
        ValueError::TooLong,
        ValueError::IdCardFormat,
        ValueError::IdCardBirthDate,
        ValueError::IdCardChecksum,
        ValueError::IdNumberFormat,
        ValueError::MobileFormat,
        ValueError::PhoneFormat,
        ValueError::EmailFormat,
        ValueError::EmailQq,
        ValueError::PinyinLetters,
        ValueError::QqFormat,
        ValueError::NumberFormat,
        ValueError::GpaRange,
        ValueError::PercentageRange,
        ValueError::PassportFormat,
        ValueError::DateFormat,
        ValueError::DateOrder,
        ValueError::UnknownOption,
        ValueError::BankAccountFormat,
        ValueError::TransportFormat,
    ];

    /// The catalogue key of the message shown to the user.
    pub const fn code(&self) -> &'static str {
        match self {
            ValueError::Empty => "err.required",
            ValueError::TooLong => "err.too_long",
            ValueError::IdCardFormat => "err.id_card.format",
            ValueError::IdCardBirthDate => "err.id_card.birth_date",
            ValueError::IdCardChecksum => "err.id_card.checksum",
            ValueError::IdNumberFormat => "err.id_number.format",
            ValueError::MobileFormat => "err.mobile.format",
            ValueError::PhoneFormat => "err.phone.format",
            ValueError::EmailFormat => "err.email.format",
            ValueError::EmailQq => "err.email.qq",
            ValueError::PinyinLetters => "err.pinyin.letters_only",
            ValueError::QqFormat => "err.qq.format",
            ValueError::NumberFormat => "err.number.format",
            ValueError::GpaRange => "err.gpa.range",
            ValueError::PercentageRange => "err.percentage.range",
            ValueError::PassportFormat => "err.passport.format",
            ValueError::DateFormat => "err.date.format",
            ValueError::DateOrder => "err.date.order",
            ValueError::UnknownOption => "err.option.unknown",
            ValueError::BankAccountFormat => "err.bank_account.format",
            ValueError::TransportFormat => "err.transport.format",
        }
    }
}

/// Trims and folds compatibility characters (full-width digits and letters, `＠`, `．`, the
/// ideographic space) to their ASCII forms: Chinese input methods produce them easily, and
/// they are never what the value means.
pub(crate) fn fold(input: &str) -> String {
    input.nfkc().collect::<String>().trim().to_owned()
}

/// Like [`fold`], refusing an empty result.
fn fold_required(input: &str) -> Result<String, ValueError> {
    let s = fold(input);
    if s.is_empty() {
        Err(ValueError::Empty)
    } else {
        Ok(s)
    }
}

/// Turns a `from_code` of a closed list into a parser for [`FieldErrors::optional`]
/// (`crate::domain::FieldErrors`): an unknown code is [`ValueError::UnknownOption`].
pub(crate) fn coded<T>(from_code: fn(&str) -> Option<T>) -> impl Fn(&str) -> Result<T, ValueError> {
    move |s| from_code(s).ok_or(ValueError::UnknownOption)
}

/// Implements the traits every string-backed value shares: `as_str`, `Display`, `AsRef<str>`,
/// `FromStr`, and the `String` conversions serde uses.
macro_rules! string_value {
    ($ty:ident) => {
        impl $ty {
            /// The normalised text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $ty {
            type Err = ValueError;
            fn from_str(s: &str) -> Result<Self, ValueError> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = ValueError;
            fn try_from(s: String) -> Result<Self, ValueError> {
                Self::parse(&s)
            }
        }

        impl From<$ty> for String {
            fn from(value: $ty) -> String {
                value.0
            }
        }
    };
}

/// Replaces the middle of `s` by one `*` per hidden character, keeping `keep_start` characters
/// at the start and `keep_end` at the end; counts characters, not bytes, so Chinese text is
/// safe. When the string is too short for that, fewer characters are kept (the end first),
/// so that at least one is always hidden: masking must never show the whole value.
pub fn mask_middle(s: &str, keep_start: usize, keep_end: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n == 0 {
        return String::new();
    }
    let keep_start = keep_start.min(n - 1);
    let keep_end = keep_end.min(n - 1 - keep_start);
    let hidden = n - keep_start - keep_end;
    chars[..keep_start]
        .iter()
        .copied()
        .chain(std::iter::repeat_n('*', hidden))
        .chain(chars[n - keep_end..].iter().copied())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// ID documents

coded_enum! {
    /// 证件类型.
    pub enum IdType: "id_type" {
        /// 居民身份证.
        ResidentIdCard = "resident_id",
        /// 护照.
        Passport = "passport",
        /// 港澳居民来往内地通行证.
        HkMacaoPermit = "hk_macao_permit",
        /// 台湾居民来往大陆通行证 (台胞证).
        TaiwanPermit = "taiwan_permit",
        /// 其他.
        Other = "other",
    }
}

/// A PRC resident identity card number (居民身份证号码, GB 11643-1999): 17 digits and a check
/// character, with the holder's birth date in digits 7–14.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdCardNumber(String);
string_value!(IdCardNumber);

impl IdCardNumber {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

    /// Parses an 18-character number; a lower-case `x` is accepted and stored as `X`.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = fold_required(input)?.to_ascii_uppercase();
        let b = s.as_bytes();
        let well_formed = b.len() == 18
            && b[..17].iter().all(u8::is_ascii_digit)
            && (b[17].is_ascii_digit() || b[17] == b'X');
        if !well_formed {
            return Err(ValueError::IdCardFormat);
        }
        if Self::date_in(&s).is_none() {
            return Err(ValueError::IdCardBirthDate);
        }
        if Self::check_char(&s[..17]) != Some(char::from(b[17])) {
            return Err(ValueError::IdCardChecksum);
        }
        Ok(Self(s))
    }

    /// The check character for the first 17 digits, or `None` if `body` is not 17 digits.
    /// Useful to build valid numbers for demo data and tests.
    pub fn check_char(body: &str) -> Option<char> {
        let b = body.as_bytes();
        if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let sum: u32 = b
            .iter()
            .zip(Self::WEIGHTS)
            .map(|(d, w)| u32::from(d - b'0') * w)
            .sum();
        // `sum % 11` is below 11, so the index is always in range.
        Self::CHECK_CHARS.get((sum % 11) as usize).copied()
    }

    /// The birth date written in digits 7–14 of a well-formed number.
    fn date_in(s: &str) -> Option<NaiveDate> {
        let year = s.get(6..10)?.parse().ok()?;
        let month = s.get(10..12)?.parse().ok()?;
        let day = s.get(12..14)?.parse().ok()?;
        NaiveDate::from_ymd_opt(year, month, day)
    }

    /// The holder's birth date, as written in the number.
    pub fn birth_date(&self) -> NaiveDate {
        // Checked by `parse`; the fallback is never reached.
        Self::date_in(&self.0).unwrap_or_default()
    }

    /// The number as shown in lists: `110***********1234`.
    pub fn masked(&self) -> String {
        super::redact::id_card(&self.0)
    }
}

impl fmt::Debug for IdCardNumber {
    // Masked, so that a logged struct never leaks the number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IdCardNumber").field(&self.masked()).finish()
    }
}

/// Parses the number of an identity document of type `id_type`: a resident ID card is checked
/// as an [`IdCardNumber`]; passports and permits must be 5–20 letters or digits (upper-cased).
pub fn parse_id_number(id_type: IdType, input: &str) -> Result<String, ValueError> {
    match id_type {
        IdType::ResidentIdCard => IdCardNumber::parse(input).map(String::from),
        IdType::Passport | IdType::HkMacaoPermit | IdType::TaiwanPermit | IdType::Other => {
            let s = fold_required(input)?.to_ascii_uppercase();
            if (5..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
                Ok(s)
            } else {
                Err(ValueError::IdNumberFormat)
            }
        }
    }
}

/// A passport number (护照号码): 5–20 letters or digits, upper-cased. Chinese ordinary
/// passports look like `E12345678` or `EA1234567`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PassportNumber(String);
string_value!(PassportNumber);

impl PassportNumber {
    /// Parses and upper-cases a passport number.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = fold_required(input)?.to_ascii_uppercase();
        if (5..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(s))
        } else {
            Err(ValueError::PassportFormat)
        }
    }

    /// The number as shown in lists: `E1*****78`.
    pub fn masked(&self) -> String {
        super::redact::passport(&self.0)
    }
}

impl fmt::Debug for PassportNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PassportNumber")
            .field(&self.masked())
            .finish()
    }
}

// ---------------------------------------------------------------------------------------------
// Contacts

/// A mainland China mobile number (手机号码), stored as its 11 digits.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MobilePhone(String);
string_value!(MobilePhone);

impl MobilePhone {
    /// Accepts `13812345678`, `138 1234 5678`, `138-1234-5678`, `+86 138…`, `86138…`, `0086…`.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = fold_required(input)?;
        let compact: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = compact
            .strip_prefix("+86")
            .or_else(|| compact.strip_prefix("0086"))
            .or_else(|| compact.strip_prefix("86").filter(|rest| rest.len() == 11))
            .unwrap_or(&compact);
        let b = digits.as_bytes();
        let valid = b.len() == 11
            && b.iter().all(u8::is_ascii_digit)
            && b[0] == b'1'
            && (b'3'..=b'9').contains(&b[1]);
        if valid {
            Ok(Self(digits.to_owned()))
        } else {
            Err(ValueError::MobileFormat)
        }
    }

    /// The number as shown in lists: `138****5678`.
    pub fn masked(&self) -> String {
        super::redact::mobile(&self.0)
    }
}

impl fmt::Debug for MobilePhone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MobilePhone").field(&self.masked()).finish()
    }
}

/// Any telephone number (家庭电话, 导师电话, a contact abroad): 5–20 characters of digits,
/// spaces, `+`, `-` and parentheses, with at least 5 digits. Kept as typed (trimmed), because
/// foreign and extension formats vary too much to normalise.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);
string_value!(PhoneNumber);

impl PhoneNumber {
    /// Parses a telephone number.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = fold_required(input)?;
        let allowed = s
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')'));
        let digits = s.chars().filter(char::is_ascii_digit).count();
        if allowed && (5..=20).contains(&s.chars().count()) && digits >= 5 {
            Ok(Self(s))
        } else {
            Err(ValueError::PhoneFormat)
        }
    }

    /// The number as shown in lists, keeping the first 3 and last 2 characters.
    pub fn masked(&self) -> String {
        super::redact::phone(&self.0)
    }
}

/// An e-mail address (电子邮箱) the office can write to: one `@`, a non-empty local part, a
/// domain with a dot, no spaces, at most 254 characters; the domain is lower-cased. QQ
/// mailboxes (qq.com, vip.qq.com, foxmail.com) are refused, as the universities' portals do.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);
string_value!(Email);

impl Email {
    /// Parses an address; the local part is kept as typed, the domain lower-cased.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = fold_required(input)?;
        let (local, domain) = s.split_once('@').ok_or(ValueError::EmailFormat)?;
        let domain = domain.to_lowercase();
        let bad_char = |c: char| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\".contains(c);
        let domain_ok = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
            && domain
                .rsplit('.')
                .next()
                .is_some_and(|tld| tld.chars().count() >= 2);
        let valid = s.chars().count() <= 254
            && !local.is_empty()
            && local.chars().count() <= 64
            && !local.chars().any(bad_char)
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && domain_ok;
        if !valid {
            return Err(ValueError::EmailFormat);
        }
        let is_qq = domain == "qq.com" || domain.ends_with(".qq.com") || domain == "foxmail.com";
        if is_qq {
            return Err(ValueError::EmailQq);
        }
        Ok(Self(format!("{local}@{domain}")))
    }

    /// The domain part (after `@`), lower-case.
    pub fn domain(&self) -> &str {
        self.0.rsplit('@').next().unwrap_or_default()
    }
}

/// A QQ number (QQ号): 5–12 digits, not starting with 0.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct QqNumber(String);
string_value!(QqNumber);

impl QqNumber {
    /// Parses a QQ number.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = fold_required(input)?;
        let valid = (5..=12).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_digit())
            && !s.starts_with('0');
        if valid {
            Ok(Self(s))
        } else {
            Err(ValueError::QqFormat)
        }
    }
}

/// One part of a name in pinyin (姓名拼音 姓 / 名), as printed in the passport ("以护照为准"):
/// letters A–Z and single inner spaces, 1–40 characters, stored upper-case. ü is written as V
/// or U (or YU, as in newer passports) — all plain letters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PinyinName(String);
string_value!(PinyinName);

impl PinyinName {
    /// Parses a pinyin name; runs of spaces collapse to one.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = fold_required(input)?;
        let words: Vec<&str> = s.split_whitespace().collect();
        if !words
            .iter()
            .all(|w| w.bytes().all(|b| b.is_ascii_alphabetic()))
        {
            return Err(ValueError::PinyinLetters);
        }
        let name = words.join(" ").to_ascii_uppercase();
        if name.len() > 40 {
            return Err(ValueError::TooLong);
        }
        Ok(Self(name))
    }
}

// ---------------------------------------------------------------------------------------------
// Grades

/// Parses a non-negative decimal with at most two decimals into hundredths: `3.5` → 350.
fn parse_hundredths(s: &str) -> Option<u32> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits_ok = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    // A dot must be followed by one or two digits; six integer digits cannot overflow.
    let frac_ok = if s.contains('.') {
        (1..=2).contains(&frac.len())
    } else {
        true
    };
    if int.is_empty() || int.len() > 6 || !digits_ok(int) || !frac_ok || !digits_ok(frac) {
        return None;
    }
    let int: u32 = int.parse().ok()?;
    let frac: u32 = match frac.len() {
        0 => 0,
        1 => frac.parse::<u32>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    Some(int * 100 + frac)
}

/// Writes hundredths as a decimal with two places: 350 → `3.50`.
fn fmt_hundredths(h: u32, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "{}.{:02}", h / 100, h % 100)
}

/// Implements the traits shared by the decimal grades held as hundredths.
macro_rules! hundredths_value {
    ($ty:ident) => {
        impl $ty {
            /// The value as a float (for comparisons and display).
            pub fn value(&self) -> f64 {
                f64::from(self.0) / 100.0
            }

            /// The exact value in hundredths: `3.50` → 350.
            pub fn hundredths(&self) -> u32 {
                self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt_hundredths(self.0, f)
            }
        }

        impl FromStr for $ty {
            type Err = ValueError;
            fn from_str(s: &str) -> Result<Self, ValueError> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = ValueError;
            fn try_from(s: String) -> Result<Self, ValueError> {
                Self::parse(&s)
            }
        }

        impl From<$ty> for String {
            fn from(value: $ty) -> String {
                value.to_string()
            }
        }
    };
}

/// A grade point average (平均绩点 / GPA) between 0.00 and 5.00, at most two decimals.
/// Held exactly as hundredths, so `3.3` is never `3.2999…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Gpa(u32);
hundredths_value!(Gpa);

impl Gpa {
    /// Parses `3.5`, `3.50`, `4`.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let h = parse_hundredths(&fold_required(input)?).ok_or(ValueError::NumberFormat)?;
        if h <= 500 {
            Ok(Self(h))
        } else {
            Err(ValueError::GpaRange)
        }
    }
}

/// A score out of 100 with at most two decimals: 加权平均分, a percentage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Percentage(u32);
hundredths_value!(Percentage);

/// 加权平均分: a weighted average mark out of 100.
pub type WeightedAverage = Percentage;

impl Percentage {
    /// Parses `85`, `85.5`, `85.25`.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let h = parse_hundredths(&fold_required(input)?).ok_or(ValueError::NumberFormat)?;
        if h <= 10_000 {
            Ok(Self(h))
        } else {
            Err(ValueError::PercentageRange)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Dates

/// Parses a date written `YYYY-MM-DD` (what `<input type="date">` posts) or `YYYY/MM/DD`.
pub fn parse_date(input: &str) -> Result<NaiveDate, ValueError> {
    let s = fold_required(input)?;
    // chrono would also take a signed or 5-digit year; a form never means that.
    if !s
        .get(..4)
        .is_some_and(|y| y.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ValueError::DateFormat);
    }
    NaiveDate::parse_from_str(&s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(&s, "%Y/%m/%d"))
        .map_err(|_| ValueError::DateFormat)
}

/// A period of whole days, `from` to `to` inclusive, never reversed (also when read back:
/// deserialising goes through [`DateRange::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawDateRange")]
pub struct DateRange {
    /// The first day.
    pub from: NaiveDate,
    /// The last day (may equal `from`).
    pub to: NaiveDate,
}

/// A stored range before its order is checked.
#[derive(Deserialize)]
struct RawDateRange {
    from: NaiveDate,
    to: NaiveDate,
}

impl TryFrom<RawDateRange> for DateRange {
    type Error = ValueError;
    fn try_from(raw: RawDateRange) -> Result<Self, ValueError> {
        DateRange::new(raw.from, raw.to)
    }
}

impl DateRange {
    /// A range from `from` to `to`; refused when `to` is before `from`.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, ValueError> {
        if to >= from {
            Ok(Self { from, to })
        } else {
            Err(ValueError::DateOrder)
        }
    }

    /// The number of days, both ends counted: a one-day range has 1.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// Whether `date` falls within the range.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }
}

impl fmt::Display for DateRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} 至 {}", self.from, self.to)
    }
}

/// Today's date in China (UTC+8), where every deadline and birthday of this system lives.
/// The one clock read of the domain; pure functions take `today` as a parameter instead, and
/// only the `TryFrom` conveniences call this.
pub fn china_today() -> NaiveDate {
    // China keeps UTC+8 all year (no daylight saving), so an offset is exact.
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// The day in China (UTC+8) of a moment: deadlines stored as instants are compared by it.
pub fn china_date(t: chrono::DateTime<chrono::Utc>) -> NaiveDate {
    (t + chrono::Duration::hours(8)).date_naive()
}

/// The age in whole years on `on` of someone born on `birth`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let had_birthday = (on.month(), on.day()) >= (birth.month(), birth.day());
    on.year() - birth.year() - i32::from(!had_birthday)
}

// ---------------------------------------------------------------------------------------------
// Closed lists

coded_enum! {
    /// 性别.
    pub enum Gender: "gender" {
        /// 男.
        Male = "male",
        /// 女.
        Female = "female",
    }
}

coded_enum! {
    /// 在读学历/学位: who a program is open to (申请对象).
    pub enum StudyLevel: "study_level" {
        /// 本科生.
        Undergraduate = "undergraduate",
        /// 硕士研究生.
        Master = "master",
        /// 博士研究生.
        Doctoral = "doctoral",
    }
}

impl StudyLevel {
    /// 是否为研究生: a master's or doctoral student (the application form asks it).
    pub const fn is_graduate(self) -> bool {
        matches!(self, StudyLevel::Master | StudyLevel::Doctoral)
    }
}

coded_enum! {
    /// 婚姻状况.
    pub enum MaritalStatus: "marital_status" {
        /// 未婚.
        Single = "single",
        /// 已婚.
        Married = "married",
        /// 其他.
        Other = "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
    }

    /// Completes 17 digits into a valid number.
    fn valid_id(body: &str) -> String {
        let check = IdCardNumber::check_char(body).expect("17 digits");
        format!("{body}{check}")
    }

    #[test]
    fn a_well_known_valid_id_card_number_is_accepted() {
        // The standard's worked example.
        let id = IdCardNumber::parse("11010519491231002X").expect("valid");
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.birth_date(), date(1949, 12, 31));
    }

    #[test]
    fn a_lower_case_x_is_accepted_and_stored_upper_case() {
        let id = IdCardNumber::parse(" 11010519491231002x ").expect("valid");
        assert_eq!(id.as_str(), "11010519491231002X");
    }

    #[test]
    fn full_width_digits_from_a_chinese_input_method_are_accepted() {
        let id = IdCardNumber::parse("１１０１０５１９４９１２３１００２Ｘ").expect("valid");
        assert_eq!(id.as_str(), "11010519491231002X");
    }

    #[test]
    fn id_card_errors_say_what_is_wrong() {
        assert_eq!(IdCardNumber::parse("  "), Err(ValueError::Empty));
        assert_eq!(
            IdCardNumber::parse("1101051949123100"),
            Err(ValueError::IdCardFormat)
        );
        assert_eq!(
            IdCardNumber::parse("11010519491231002Y"),
            Err(ValueError::IdCardFormat)
        );
        assert_eq!(
            IdCardNumber::parse("11010519490231002X"),
            Err(ValueError::IdCardBirthDate)
        );
        assert_eq!(
            IdCardNumber::parse("110105194912310021"),
            Err(ValueError::IdCardChecksum)
        );
        assert_eq!(ValueError::IdCardChecksum.code(), "err.id_card.checksum");
    }

    #[test]
    fn an_id_card_number_is_masked_as_in_lists() {
        let id = IdCardNumber::parse(&valid_id("11010120000101123")).expect("valid");
        assert_eq!(
            id.masked(),
            format!("110***********123{}", &id.as_str()[17..])
        );
        assert_eq!(id.masked().chars().count(), 18);
        assert!(!format!("{id:?}").contains("20000101"));
    }

    #[test]
    fn other_identity_documents_need_five_to_twenty_letters_or_digits() {
        assert_eq!(
            parse_id_number(IdType::Passport, "e12345678"),
            Ok("E12345678".to_owned())
        );
        assert_eq!(
            parse_id_number(IdType::HkMacaoPermit, "C1234567"),
            Ok("C1234567".to_owned())
        );
        assert_eq!(
            parse_id_number(IdType::TaiwanPermit, "1234"),
            Err(ValueError::IdNumberFormat)
        );
        assert_eq!(
            parse_id_number(IdType::Other, "AB-12345"),
            Err(ValueError::IdNumberFormat)
        );
        assert_eq!(
            parse_id_number(IdType::ResidentIdCard, "110105194912310021"),
            Err(ValueError::IdCardChecksum)
        );
        assert_eq!(
            IdType::from_code("taiwan_permit"),
            Some(IdType::TaiwanPermit)
        );
        assert_eq!(IdType::ResidentIdCard.code(), "resident_id");
    }

    #[test]
    fn mobile_numbers_are_stored_as_eleven_digits() {
        for input in [
            "13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "+86 138 1234 5678",
            "+8613812345678",
            "8613812345678",
            "008613812345678",
            "１３８１２３４５６７８",
        ] {
            let m = MobilePhone::parse(input).expect(input);
            assert_eq!(m.as_str(), "13812345678", "{input}");
        }
    }

    #[test]
    fn numbers_that_are_not_mainland_mobiles_are_refused() {
        for input in [
            "12812345678",
            "1381234567",
            "138123456789",
            "010-12345678",
            "1381234567a",
        ] {
            assert_eq!(
                MobilePhone::parse(input),
                Err(ValueError::MobileFormat),
                "{input}"
            );
        }
        assert_eq!(MobilePhone::parse(""), Err(ValueError::Empty));
    }

    #[test]
    fn a_mobile_number_is_masked_as_138_stars_5678() {
        let m = MobilePhone::parse("13812345678").expect("valid");
        assert_eq!(m.masked(), "138****5678");
    }

    #[test]
    fn landlines_and_foreign_numbers_are_telephone_numbers() {
        for input in [
            "010-62751234",
            "(0931) 891 2345",
            "+1 (617) 555-0100",
            "12345",
        ] {
            assert!(PhoneNumber::parse(input).is_ok(), "{input}");
        }
        for input in ["1234", "电话12345", "+-()  ", "123456789012345678901"] {
            assert_eq!(
                PhoneNumber::parse(input),
                Err(ValueError::PhoneFormat),
                "{input}"
            );
        }
    }

    #[test]
    fn qq_mailboxes_are_refused_with_their_own_message() {
        for input in ["12345@qq.com", "a@QQ.com", "a@vip.qq.com", "a@foxmail.com"] {
            assert_eq!(Email::parse(input), Err(ValueError::EmailQq), "{input}");
        }
        assert_eq!(ValueError::EmailQq.code(), "err.email.qq");
    }

    #[test]
    fn an_email_domain_is_lower_cased_and_the_local_part_kept() {
        let e = Email::parse(" Zhang.San@Lzu.EDU.cn ").expect("valid");
        assert_eq!(e.as_str(), "Zhang.San@lzu.edu.cn");
        assert_eq!(e.domain(), "lzu.edu.cn");
    }

    #[test]
    fn malformed_emails_are_refused() {
        let long = format!("{}@example.com", "a".repeat(250));
        for input in [
            "12232@E-mail",
            "a@b",
            "@example.com",
            "a b@example.com",
            "a@@example.com",
            "a@example..com",
            "a@.example.com",
            "a@example.c",
            long.as_str(),
        ] {
            assert_eq!(Email::parse(input), Err(ValueError::EmailFormat), "{input}");
        }
    }

    #[test]
    fn pinyin_names_are_letters_stored_upper_case() {
        assert_eq!(
            PinyinName::parse(" zhang ").map(String::from),
            Ok("ZHANG".into())
        );
        assert_eq!(
            PinyinName::parse("ou  yang").map(String::from),
            Ok("OU YANG".into())
        );
        assert_eq!(PinyinName::parse("lv").map(String::from), Ok("LV".into()));
        assert_eq!(PinyinName::parse("张"), Err(ValueError::PinyinLetters));
        assert_eq!(PinyinName::parse("li2"), Err(ValueError::PinyinLetters));
        assert_eq!(PinyinName::parse("lü"), Err(ValueError::PinyinLetters));
        assert_eq!(PinyinName::parse(&"a".repeat(41)), Err(ValueError::TooLong));
        assert!(PinyinName::parse(&"a".repeat(40)).is_ok());
    }

    #[test]
    fn qq_numbers_are_five_to_twelve_digits_without_a_leading_zero() {
        assert!(QqNumber::parse("10001").is_ok());
        assert!(QqNumber::parse("123456789012").is_ok());
        for input in ["1234", "1234567890123", "012345", "12a45"] {
            assert_eq!(QqNumber::parse(input), Err(ValueError::QqFormat), "{input}");
        }
    }

    #[test]
    fn a_gpa_has_at_most_two_decimals_and_lies_between_zero_and_five() {
        assert_eq!(Gpa::parse("3.5").map(|g| g.hundredths()), Ok(350));
        assert_eq!(Gpa::parse("4").map(|g| g.to_string()), Ok("4.00".into()));
        assert_eq!(Gpa::parse("5.00").map(|g| g.value()), Ok(5.0));
        assert_eq!(Gpa::parse("0").map(|g| g.value()), Ok(0.0));
        assert_eq!(Gpa::parse("5.01"), Err(ValueError::GpaRange));
        for input in ["3.555", "-1", "3.", ".5", "abc", "3,5", "1e1"] {
            assert_eq!(Gpa::parse(input), Err(ValueError::NumberFormat), "{input}");
        }
    }

    #[test]
    fn a_weighted_average_lies_between_zero_and_one_hundred() {
        assert_eq!(
            WeightedAverage::parse("85.25").map(|p| p.to_string()),
            Ok("85.25".into())
        );
        assert!(Percentage::parse("100").is_ok());
        assert_eq!(
            Percentage::parse("100.01"),
            Err(ValueError::PercentageRange)
        );
        assert_eq!(Percentage::parse("85.255"), Err(ValueError::NumberFormat));
    }

    #[test]
    fn value_types_serialise_as_strings_and_are_checked_when_read_back() {
        let gpa = Gpa::parse("3.5").expect("valid");
        assert_eq!(serde_json::to_string(&gpa).ok(), Some("\"3.50\"".into()));
        let back: Gpa = serde_json::from_str("\"3.50\"").expect("valid");
        assert_eq!(back, gpa);
        assert!(serde_json::from_str::<Email>("\"a@qq.com\"").is_err());
        let g: Gender = serde_json::from_str("\"female\"").expect("valid");
        assert_eq!(g, Gender::Female);
        assert_eq!(
            serde_json::to_string(&StudyLevel::Master).ok(),
            Some("\"master\"".into())
        );
    }

    #[test]
    fn dates_are_written_with_dashes_or_slashes() {
        assert_eq!(parse_date("2024-03-01"), Ok(date(2024, 3, 1)));
        assert_eq!(parse_date("2024/03/01"), Ok(date(2024, 3, 1)));
        assert_eq!(parse_date(""), Err(ValueError::Empty));
        for input in [
            "2024-02-30",
            "01/03/2024",
            "2024年3月1日",
            "+2024-03-01",
            "24-03-01",
        ] {
            assert_eq!(parse_date(input), Err(ValueError::DateFormat), "{input}");
        }
    }

    #[test]
    fn only_masters_and_doctoral_students_are_graduate_students() {
        assert!(!StudyLevel::Undergraduate.is_graduate());
        assert!(StudyLevel::Master.is_graduate());
        assert!(StudyLevel::Doctoral.is_graduate());
    }

    #[test]
    fn a_date_range_never_ends_before_it_starts() {
        let r = DateRange::new(date(2024, 9, 1), date(2024, 9, 1)).expect("one day");
        assert_eq!(r.days(), 1);
        assert!(r.contains(date(2024, 9, 1)));
        assert_eq!(
            DateRange::new(date(2024, 9, 2), date(2024, 9, 1)),
            Err(ValueError::DateOrder)
        );
    }

    #[test]
    fn age_counts_whole_years_up_to_the_birthday() {
        assert_eq!(age_on(date(2000, 6, 15), date(2020, 6, 14)), 19);
        assert_eq!(age_on(date(2000, 6, 15), date(2020, 6, 15)), 20);
    }

    #[test]
    fn mask_middle_counts_characters_and_always_hides_something() {
        assert_eq!(mask_middle("欧阳娜娜", 1, 1), "欧**娜");
        assert_eq!(mask_middle("张三", 1, 4), "张*");
        assert_eq!(mask_middle("张", 1, 1), "*");
        assert_eq!(mask_middle("", 3, 4), "");
    }

    #[test]
    fn closed_lists_round_trip_through_their_codes() {
        for g in Gender::ALL {
            assert_eq!(Gender::from_code(g.code()), Some(g));
        }
        for l in StudyLevel::ALL {
            assert_eq!(StudyLevel::from_code(l.code()), Some(l));
        }
        for m in MaritalStatus::ALL {
            assert_eq!(MaritalStatus::from_code(m.code()), Some(m));
        }
        assert_eq!(StudyLevel::Doctoral.label_key(), "study_level.doctoral");
        assert_eq!(Gender::from_code("男"), None);
    }

    proptest! {
        #[test]
        fn every_generated_valid_id_card_number_is_accepted(
            region in 110_000u32..=659_999,
            birth in 0i64..40_000,
            seq in 0u32..=999,
        ) {
            let born = date(1920, 1, 1) + chrono::Duration::days(birth);
            let body = format!("{region:06}{}{seq:03}", born.format("%Y%m%d"));
            let number = valid_id(&body);
            let id = IdCardNumber::parse(&number);
            prop_assert!(id.is_ok(), "{number}");
            prop_assert_eq!(id.map(|i| i.birth_date()), Ok(born));
        }

        #[test]
        fn any_single_character_change_of_a_valid_id_card_number_is_refused(
            region in 110_000u32..=659_999,
            birth in 0i64..40_000,
            seq in 0u32..=999,
            position in 0usize..18,
            delta in 1u32..=10,
        ) {
            let born = date(1920, 1, 1) + chrono::Duration::days(birth);
            let body = format!("{region:06}{}{seq:03}", born.format("%Y%m%d"));
            let mut chars: Vec<char> = valid_id(&body).chars().collect();
            // Replace one character by another of the 11 the last position may hold
            // (digits elsewhere): every weight is prime to 11, so the sum always changes.
            let alphabet: Vec<char> = if position == 17 {
                "0123456789X".chars().collect()
            } else {
                "0123456789".chars().collect()
            };
            let Some(at) = alphabet.iter().position(|c| *c == chars[position]) else {
                return Err(TestCaseError::fail("a character outside the alphabet"));
            };
            let modulus = alphabet.len();
            let step = delta as usize % modulus;
            prop_assume!(step != 0);
            chars[position] = alphabet[(at + step) % modulus];
            let changed: String = chars.into_iter().collect();
            prop_assert!(IdCardNumber::parse(&changed).is_err(), "{changed}");
        }

        #[test]
        fn a_masked_mobile_number_keeps_its_length(
            second in 3u8..=9,
            rest in proptest::collection::vec(0u8..=9, 9),
        ) {
            let digits: String = std::iter::once(1u8)
                .chain(std::iter::once(second))
                .chain(rest)
                .map(|d| char::from(b'0' + d))
                .collect();
            let m = MobilePhone::parse(&digits);
            prop_assert!(m.is_ok());
            let masked = m.map(|m| m.masked()).unwrap_or_default();
            prop_assert_eq!(masked.chars().count(), 11);
            prop_assert_eq!(&masked[..3], &digits[..3]);
            prop_assert_eq!(&masked[7..], &digits[7..]);
            prop_assert_eq!(&masked[3..7], "****");
        }

        #[test]
        fn mask_middle_keeps_the_character_count(s in "\\PC{0,30}", a in 0usize..6, b in 0usize..6) {
            prop_assert_eq!(mask_middle(&s, a, b).chars().count(), s.chars().count());
        }
    }
}
