//! OpenAPI schemas of what the API sends and takes that is not a struct of its own: the error
//! body, and the domain's form structs (raw strings, one per field), whose schemas are built
//! from the forms themselves so that they list exactly the fields the forms have.

use std::borrow::Cow;

use serde::Serialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::ProfileForm;
use crate::domain::application::{ApplicationInfoForm, LanguageScoreForm};
use crate::i18n::{self, Lang};

/// Every error answer of the API.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable catalogue key (`error.404`, `error.409`, `error.invalid`, `apply.cannot_submit` …).
    pub error: String,
    /// The key's text in the caller's language.
    pub message: String,
    /// Every wrong or missing field at once (empty when the error is not about fields).
    pub fields: Vec<ErrorField>,
}

/// One wrong or missing field.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorField {
    /// The field as named in the request (`id_number`, `choice_2`, `languages.0.score`,
    /// `attachment_<type id>` …).
    pub field: String,
    /// A catalogue key saying what is wrong (`err.required` when missing).
    pub code: String,
    /// The code's text in the caller's language.
    pub message: String,
    /// For the submit check: the form step the field is on (`basic`, `info`, `languages`,
    /// `attachments`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
}

/// An object schema with one string property per field of the form `T` (the keys of
/// `T::default()` serialised), each described by its label in both languages.
fn string_form<T: Default + Serialize>(description: &str) -> RefOr<Schema> {
    let mut object = ObjectBuilder::new().description(Some(description));
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(T::default()) {
        for name in fields.keys() {
            let key = format!("field.{name}");
            let label = if i18n::has_key(&key) {
                Some(format!("{} / {}", Lang::Zh.t(&key), Lang::En.t(&key)))
            } else {
                None
            };
            object = object.property(
                name,
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(label),
            );
        }
    }
    RefOr::T(Schema::Object(object.build()))
}

impl PartialSchema for ProfileForm {
    fn schema() -> RefOr<Schema> {
        string_form::<ProfileForm>(
            "个人资料中学生可修改的栏目（学籍栏目只读）。PUT 替换全部栏目：未给出的栏目为空。\n\
             The student-editable profile fields (registry fields are read-only). PUT replaces every field: one left out is emptied.",
        )
    }
}

impl ToSchema for ProfileForm {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ProfileForm")
    }
}

impl PartialSchema for ApplicationInfoForm {
    fn schema() -> RefOr<Schema> {
        string_form::<ApplicationInfoForm>(
            "申请信息：志愿学校为合作院校 id；日期为 YYYY-MM-DD；是/否栏目为 yes / no；费用来源为字典代码。草稿可不完整，提交时检查全部必填项。\n\
             The application information: choices are partner-school ids; dates YYYY-MM-DD; yes/no fields `yes` or `no`; funding sources are dictionary codes. A draft may be partial; submit checks every required field.",
        )
    }
}

impl ToSchema for ApplicationInfoForm {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ApplicationInfoForm")
    }
}

impl PartialSchema for LanguageScoreForm {
    fn schema() -> RefOr<Schema> {
        string_form::<LanguageScoreForm>(
            "外语水平一行：语种与考试类型为字典代码；成绩待出时可留空，之后补录一次。\n\
             One foreign-language row: language and exam type are dictionary codes; the score may stay empty while the result is pending and be filled in once later.",
        )
    }
}

impl ToSchema for LanguageScoreForm {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("LanguageScoreForm")
    }
}
