//! The pure domain of Outbound: value types, the application state machine, the forms'
//! parsing rules, eligibility and attachment checks.
//!
//! Nothing here knows about HTTP, SQL or the file system. Every function takes plain data and
//! returns plain data, so the rules can be tested as tables and properties, and the services
//! (the only writers) and the web layer (which renders errors) both build on them.
//!
//! Errors never carry display text: they carry a key of the translation catalogue
//! [`MESSAGES_TSV`] (`err.*`, and `field.*`, `status.*`, `action.*` … for labels), which the web
//! layer renders in Chinese or English.

/// Declares a closed list of options that are stored and posted as stable snake_case codes,
/// with a catalogue label `<prefix>.<code>` for each. It writes `ALL`, `code()`,
/// `from_code()`, `label_key()`, `Display` (the code) and serde as the code, so that every such
/// enum reads and round-trips the same way. The codes are spelled out at each use: grep finds them.
macro_rules! coded_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $prefix:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every option, in display order.
            pub const ALL: [$name; [$($code),+].len()] = [$($name::$variant),+];

            /// The stable code stored in the database and posted by forms.
            pub const fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            /// The option with this code; `None` for anything else.
            pub fn from_code(code: &str) -> Option<Self> {
                match code.trim() {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The catalogue key of this option's label.
            pub const fn label_key(self) -> &'static str {
                match self {
                    $($name::$variant => concat!($prefix, ".", $code)),+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let code = <String as ::serde::Deserialize>::deserialize(d)?;
                $name::from_code(&code).ok_or_else(|| {
                    ::serde::de::Error::custom(format!(
                        concat!("unknown ", stringify!($name), " code {:?}"),
                        code
                    ))
                })
            }
        }
    };
}

pub mod after_admission;
pub mod allocation;
pub mod application;
pub mod eligibility;
pub mod files;
pub mod profile;
pub mod program_status;
pub mod redact;
pub mod status;
pub mod values;
pub mod workflow;

use std::fmt;

pub use application::{
    ApplicationInfo, ApplicationInfoForm, Draft, FundingItem, LanguageScore, LanguageScoreForm,
    MissingField, Registration, Step, Submission, parse_application_info, registration,
};
pub use eligibility::{Ineligibility, ProgramRules, StudentFacts};
pub use files::{FileFormat, UploadError, check_upload, clean_file_name, download_name};
pub use profile::{Profile, ProfileForm, StudyRecord, StudyRecordForm, missing_required};
pub use program_status::{ProgramAction, ProgramActor, ProgramStatus, ProgramTransitionError};
pub use status::{
    Action, Actor, AdmissionResult, Facts, Phase, RequestFacts, Role, Status, TransitionError,
};
pub use values::{
    DateRange, Email, Gender, Gpa, IdCardNumber, IdType, MaritalStatus, MobilePhone,
    PassportNumber, Percentage, PhoneNumber, PinyinName, QqNumber, StudyLevel, ValueError,
    WeightedAverage, mask_middle, parse_date, parse_id_number,
};

/// The translation catalogue of every key the domain uses: one line per key,
/// `key<TAB>中文<TAB>English`, no header. The web layer loads it at start-up.
pub const MESSAGES_TSV: &str = include_str!("messages.tsv");

/// One error on one form field; `code` is a translation key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The form field's name, as in the form struct (`id_number`, `choice_2` …).
    pub field: String,
    /// A key of the translation catalogue (`err.id_card.checksum` …).
    pub code: &'static str,
}

/// Every error of one form, collected so that the user sees them all at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `code` against `field`.
    pub fn add(&mut self, field: impl Into<String>, code: &'static str) {
        self.0.push(FieldError {
            field: field.into(),
            code,
        });
    }

    /// True when the form had no error.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of errors.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The first error recorded against `field`, if any.
    pub fn get(&self, field: &str) -> Option<&'static str> {
        self.0.iter().find(|e| e.field == field).map(|e| e.code)
    }

    /// Appends every error of `other`.
    pub fn merge(&mut self, other: FieldErrors) {
        self.0.extend(other.0);
    }

    /// Iterates over the errors in the order they were found.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }

    /// `Ok(ok)` when there is no error, else `Err(self)`: the last line of every form parse.
    pub fn into_result<T>(self, ok: T) -> Result<T, FieldErrors> {
        if self.is_empty() { Ok(ok) } else { Err(self) }
    }

    /// Parses an optional field: empty (after trimming) is `None`; anything typed must parse,
    /// else its error is recorded and the result is `None` too.
    pub(crate) fn optional<T>(
        &mut self,
        field: &str,
        raw: &str,
        parse: impl FnOnce(&str) -> Result<T, values::ValueError>,
    ) -> Option<T> {
        if raw.trim().is_empty() {
            None
        } else {
            self.check(field, parse(raw))
        }
    }

    /// An optional free-text field, trimmed, at most `max` characters.
    pub(crate) fn text(&mut self, field: &str, raw: &str, max: usize) -> Option<String> {
        self.optional(field, raw, |s| {
            let s = s.trim();
            if s.chars().count() > max {
                Err(values::ValueError::TooLong)
            } else {
                Ok(s.to_owned())
            }
        })
    }

    /// Records the error of a value parse against `field` and turns it into an `Option`, so
    /// that a form parse can go on collecting the other fields' errors.
    pub(crate) fn check<T>(
        &mut self,
        field: &str,
        parsed: Result<T, values::ValueError>,
    ) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(error) => {
                self.add(field, error.code());
                None
            }
        }
    }
}

impl<'a> IntoIterator for &'a FieldErrors {
    type Item = &'a FieldError;
    type IntoIter = std::slice::Iter<'a, FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid form")?;
        for (i, e) in self.0.iter().enumerate() {
            let sep = if i == 0 { ": " } else { ", " };
            write!(f, "{sep}{} ({})", e.field, e.code)?;
        }
        Ok(())
    }
}

impl std::error::Error for FieldErrors {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// The catalogue as a map, after checking its shape.
    fn catalogue() -> BTreeMap<&'static str, (&'static str, &'static str)> {
        let mut map = BTreeMap::new();
        for (n, line) in MESSAGES_TSV.lines().enumerate() {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(
                cols.len(),
                3,
                "line {} must have three columns: {line:?}",
                n + 1
            );
            assert!(
                cols.iter().all(|c| !c.trim().is_empty() && c.trim() == *c),
                "line {} has an empty or padded column: {line:?}",
                n + 1
            );
            assert!(
                map.insert(cols[0], (cols[1], cols[2])).is_none(),
                "key {} is listed twice",
                cols[0]
            );
        }
        map
    }

    /// Every quoted literal in `src` that looks like a catalogue key.
    fn keys_in_source(src: &'static str) -> BTreeSet<&'static str> {
        const PREFIXES: [&str; 13] = [
            "err.",
            "status.",
            "action.",
            "field.",
            "role.",
            "gender.",
            "study_level.",
            "marital_status.",
            "id_type.",
            "funding_item.",
            "step.",
            "registration.",
            "phase.",
        ];
        // Looks for `"prefix…"` rather than pairing quotes, so that a `'"'` elsewhere in a
        // file cannot shift the pairing.
        let mut keys = BTreeSet::new();
        for (start, _) in src.match_indices('"') {
            let rest = &src[start + 1..];
            let Some(end) = rest.find('"') else { continue };
            let lit = &rest[..end];
            let looks_like_key = PREFIXES.iter().any(|p| lit.starts_with(p))
                && !lit.ends_with('.')
                && !lit.ends_with(".rs")
                && lit
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._".contains(c));
            if looks_like_key {
                keys.insert(lit);
            }
        }
        keys
    }

    fn form_fields<T: Default + serde::Serialize>() -> Vec<String> {
        match serde_json::to_value(T::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            other => panic!("a form serialises to an object, got {other:?}"),
        }
    }

    #[test]
    fn the_catalogue_has_three_columns_and_unique_keys() {
        assert!(catalogue().len() > 100);
    }

    #[test]
    fn every_key_written_in_the_domain_is_in_the_catalogue() {
        let catalogue = catalogue();
        let sources = [
            include_str!("mod.rs"),
            include_str!("values.rs"),
            include_str!("status.rs"),
            include_str!("profile.rs"),
            include_str!("application.rs"),
            include_str!("eligibility.rs"),
            include_str!("files.rs"),
        ];
        let missing: Vec<_> = sources
            .into_iter()
            .flat_map(keys_in_source)
            .filter(|k| !catalogue.contains_key(k))
            .collect();
        assert!(missing.is_empty(), "not in messages.tsv: {missing:?}");
    }

    #[test]
    fn every_form_field_has_a_label_in_the_catalogue() {
        let catalogue = catalogue();
        let fields = [
            form_fields::<ProfileForm>(),
            form_fields::<StudyRecordForm>(),
            form_fields::<ApplicationInfoForm>(),
            form_fields::<LanguageScoreForm>(),
        ];
        let missing: Vec<_> = fields
            .iter()
            .flatten()
            .map(|f| format!("field.{f}"))
            .filter(|k| !catalogue.contains_key(k.as_str()))
            .collect();
        assert!(missing.is_empty(), "labels missing: {missing:?}");
    }

    #[test]
    fn the_field_lists_name_every_form_field_once() {
        let sorted = |fields: &[&str]| {
            let mut v: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
            v.sort();
            v
        };
        let mut profile = form_fields::<ProfileForm>();
        profile.sort();
        assert_eq!(sorted(&ProfileForm::FIELDS), profile);
        let mut info = form_fields::<ApplicationInfoForm>();
        info.sort();
        assert_eq!(sorted(&ApplicationInfoForm::FIELDS), info);

        let (p, i) = (ProfileForm::default(), ApplicationInfoForm::default());
        assert!(ProfileForm::FIELDS.iter().all(|f| p.field(f).is_some()));
        assert!(
            ApplicationInfoForm::FIELDS
                .iter()
                .all(|f| i.field(f).is_some())
        );
        assert!(
            ProfileForm::REQUIRED
                .iter()
                .all(|f| ProfileForm::FIELDS.contains(f))
        );
        assert!(
            ApplicationInfoForm::REQUIRED_AT_SUBMIT
                .iter()
                .all(|f| ApplicationInfoForm::FIELDS.contains(f))
        );
    }

    #[test]
    fn every_label_and_code_of_every_enum_is_in_the_catalogue() {
        let catalogue = catalogue();
        let mut keys: Vec<&'static str> = Vec::new();
        keys.extend(Status::ALL.iter().map(|s| s.label_key()));
        keys.extend(Action::ALL.iter().map(|a| a.label_key()));
        keys.extend(Role::ALL.iter().map(|r| r.label_key()));
        keys.extend(AdmissionResult::ALL.iter().map(|r| r.label_key()));
        keys.extend(Gender::ALL.iter().map(|g| g.label_key()));
        keys.extend(StudyLevel::ALL.iter().map(|l| l.label_key()));
        keys.extend(MaritalStatus::ALL.iter().map(|m| m.label_key()));
        keys.extend(IdType::ALL.iter().map(|t| t.label_key()));
        keys.extend(FundingItem::ALL.iter().map(|f| f.label_key()));
        keys.extend(Step::ALL.iter().map(|s| s.label_key()));
        keys.extend(Registration::ALL.iter().map(|r| r.label_key()));
        keys.extend(ValueError::ALL.iter().map(|e| e.code()));
        keys.extend(status::TransitionError::ALL_CODES);
        keys.extend(UploadError::ALL_CODES);
        keys.extend(Ineligibility::ALL_CODES);
        keys.push(application::LANGUAGE_MISMATCH);
        keys.extend(workflow::Scope::ALL.iter().map(|s| s.label_key()));
        keys.extend(workflow::Phase::ALL.iter().map(|p| p.label_key()));
        keys.extend(workflow::WorkflowError::ALL_CODES);
        let missing: Vec<_> = keys
            .into_iter()
            .filter(|k| !catalogue.contains_key(k))
            .collect();
        assert!(missing.is_empty(), "not in messages.tsv: {missing:?}");
    }

    #[test]
    fn field_errors_keep_every_error_and_answer_the_first_per_field() {
        let mut errors = FieldErrors::new();
        errors.add("mobile", "err.mobile.format");
        errors.add("mobile", "err.required");
        let mut more = FieldErrors::new();
        more.add("email", "err.email.qq");
        errors.merge(more);

        assert_eq!(errors.len(), 3);
        assert_eq!(errors.get("mobile"), Some("err.mobile.format"));
        assert_eq!(errors.get("email"), Some("err.email.qq"));
        assert_eq!(errors.get("qq"), None);
        assert_eq!(
            errors.to_string(),
            "invalid form: mobile (err.mobile.format), mobile (err.required), email (err.email.qq)"
        );
        assert!(errors.into_result(()).is_err());
        assert_eq!(FieldErrors::new().into_result(7), Ok(7));
    }
}
