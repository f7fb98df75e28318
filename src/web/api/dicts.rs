//! The code lists behind the forms' choices (民族, 政治面貌, 语种, 考试类型, 费用来源 …): what
//! the HTML pages draw as select options, for the app to draw its own.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiPath, ErrorBody};
use crate::db::dicts::{self, kind};
use crate::web::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::Signed;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(items))
}

/// The dictionaries a client may read.
pub const KINDS: [&str; 11] = [
    kind::COUNTRY,
    kind::ETHNICITY,
    kind::ID_TYPE,
    kind::POLITICAL_STATUS,
    kind::ADMISSION_CATEGORY,
    kind::LANGUAGE,
    kind::EXAM_TYPE,
    kind::FUNDING_SOURCE,
    kind::PROGRAM_TYPE,
    kind::SEMESTER,
    kind::PROGRAM_NATURE,
];

/// One choice.
#[derive(Debug, Serialize, ToSchema)]
pub struct DictEntry {
    /// What the forms send.
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
    /// In the caller's language.
    pub label: String,
    /// 考试类型 only: the code of the 语种 the exam shows, "" for any language. A language
    /// row's exam must be one of its language's (or of any language).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DictList {
    pub items: Vec<DictEntry>,
}

/// 字典 / A code list.
///
/// The active choices of one dictionary, in their order.
#[utoipa::path(
    get,
    path = "/dictionaries/{kind}",
    tag = "dictionaries",
    params(("kind" = String, Path, description = "country, ethnicity, id_type, political_status, admission_category, language, exam_type, funding_source, program_type, semester or program_nature")),
    responses(
        (status = 200, description = "The choices", body = DictList),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such dictionary", body = ErrorBody),
    )
)]
async fn items(
    State(state): State<AppState>,
    Signed(ctx): Signed,
    ApiPath(name): ApiPath<String>,
) -> AppResult<axum::Json<DictList>> {
    let kind = KINDS
        .iter()
        .find(|k| **k == name)
        .ok_or(AppError::NotFound)?;
    let entry = |i: dicts::DictItem, language: Option<String>| DictEntry {
        label: i.label(ctx.lang).to_owned(),
        code: i.code,
        label_zh: i.label_zh,
        label_en: i.label_en,
        language,
    };
    let items = if *kind == kind::EXAM_TYPE {
        dicts::exams(&state.db)
            .await?
            .into_iter()
            .map(|e| entry(e.item, Some(e.language)))
            .collect()
    } else {
        dicts::items(&state.db, kind)
            .await?
            .into_iter()
            .map(|i| entry(i, None))
            .collect()
    };
    Ok(axum::Json(DictList { items }))
}
