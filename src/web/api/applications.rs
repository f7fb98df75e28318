//! 项目申请 through the API: start (after the 申报须知 commitment), the 申请信息 and 外语水平
//! steps, 提交 (with an `Idempotency-Key`), 撤回修改, 申请删除, 补录分数, 我的申请 and 申请查看
//! with 进度跟踪. Every change goes through [`crate::services::applications`]; the actions
//! offered come from the domain state machine, as on the pages.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::idempotency::{self, Answer};
use super::programs::AttachmentTypeView;
use super::{
    ApiPath, BASE, Coded, Created, ErrorBody, ErrorField, FormJson, JsonBody, QueryParams,
    VersionBody, error_response, int_or_text,
};
use crate::db::applications::{
    self as apps, ApplicationRow, AttachmentRow, HistoryRow, LanguageRow, ListRow, SupplementRow,
};
use crate::db::{programs, students};
use crate::domain::application::{ApplicationInfoForm, LanguageScoreForm, MissingField};
use crate::domain::status::{Action, Status};
use crate::i18n::Lang;
use crate::services::application_view::{self as read, ApplicationView, Viewer};
use crate::services::applications::{self as service, SubmitError};
use crate::services::profiles;
use crate::web::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::who;
use crate::web::extract::{ClientIp, StudentCtx};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(list))
        .routes(routes!(detail, delete_draft))
        .routes(routes!(save_info))
        .routes(routes!(add_language))
        .routes(routes!(update_language, delete_language))
        .routes(routes!(backfill))
        .routes(routes!(submit))
        .routes(routes!(withdraw))
        .routes(routes!(history))
}

/// The actions the student may take on `app` now, from the state machine.
async fn actions(state: &AppState, app: &ApplicationRow, lang: Lang) -> AppResult<Vec<Coded>> {
    Ok(coded_actions(
        &read::student_actions(&state.db, app).await?,
        lang,
    ))
}

fn coded_actions(actions: &[Action], lang: Lang) -> Vec<Coded> {
    actions
        .iter()
        .map(|a| Coded::new(lang, a.code(), a.label_key()))
        .collect()
}

fn status_label(lang: Lang, code: &str) -> String {
    Status::from_code(code)
        .map(|s| lang.t(s.label_key()).to_owned())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Start

/// `POST /programs/{id}/applications`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StartBody {
    /// 本人承诺: the student has read the 申报须知 and commits to it. Must be `true`.
    pub commitment: bool,
}

/// 报名 / Start an application.
///
/// Creates a draft for the program (or returns the open draft for it). The student must have
/// read the 申报须知 (`notice` of the program) and send `{"commitment": true}`; the profile must
/// be complete; the program must take applications and the student be eligible.
#[utoipa::path(
    post,
    path = "/programs/{id}/applications",
    tag = "applications",
    params(("id" = i64, Path, description = "Program id")),
    request_body = StartBody,
    responses(
        (status = 201, description = "The draft (new, or the open one)", body = Created,
            headers(("location" = String, description = "The application's URL"))),
        (status = 404, description = "No such visible program", body = ErrorBody),
        (status = 422, description = "No commitment, profile incomplete (fields listed), closed or not eligible", body = ErrorBody),
    )
)]
async fn start(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ClientIp(ip): ClientIp,
    ApiPath(program_id): ApiPath<i64>,
    JsonBody(body): JsonBody<StartBody>,
) -> AppResult<Response> {
    let user = ctx.user()?;
    programs::visible_by_id(&state.db, program_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !body.commitment {
        return Err(super::invalid("commitment", "apply.promise_required"));
    }
    // As before the 申报须知 page: a profile missing required fields is completed first.
    let profile = students::profile_form(&state.db, &state.key, user.id)
        .await?
        .unwrap_or_default();
    let missing = profiles::missing_fields(&profile);
    if !missing.is_empty() {
        let fields = missing
            .into_iter()
            .map(|f| ErrorField {
                field: f.to_owned(),
                code: "err.required".to_owned(),
                message: ctx.t("err.required").to_owned(),
                step: Some("basic".to_owned()),
            })
            .collect();
        return Ok(error_response(
            ctx.lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            "apply.complete_profile_first",
            fields,
        ));
    }
    let id = service::start(
        &state.db,
        &state.key,
        &who(&ctx, &ip),
        user.id,
        program_id,
        Utc::now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("{BASE}/applications/{id}"))],
        axum::Json(Created { id }),
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// 我的申请 and 申请查看

/// A row of 我的申请.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListItem {
    #[serde(flatten)]
    pub row: ListRow,
    pub program_name: String,
    pub status_label: String,
    /// What the student may do now.
    pub actions: Vec<Coded>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationList {
    pub items: Vec<ListItem>,
}

/// 我的申请 / My applications.
///
/// Newest first, with the actions each status allows.
#[utoipa::path(
    get,
    path = "/applications",
    tag = "applications",
    responses(
        (status = 200, description = "The student's applications", body = ApplicationList),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
) -> AppResult<axum::Json<ApplicationList>> {
    let user = ctx.user()?;
    let mut items = Vec::new();
    for row in apps::list_for_student(&state.db, user.id).await? {
        let app = apps::own(&state.db, user.id, row.id)
            .await?
            .ok_or(AppError::NotFound)?;
        items.push(ListItem {
            program_name: ctx
                .lang
                .pick(&row.program_name_zh, &row.program_name_en)
                .to_owned(),
            status_label: status_label(ctx.lang, &row.status),
            actions: actions(&state, &app, ctx.lang).await?,
            row,
        });
    }
    Ok(axum::Json(ApplicationList { items }))
}

/// The program an application is for.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramRef {
    pub id: i64,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub name: String,
    /// `hmt` programs say 返境时间 where international ones say 回国时间.
    pub region_kind: String,
}

/// A step of 进度跟踪.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryItem {
    #[serde(flatten)]
    pub row: HistoryRow,
    pub action_label: String,
    pub to_status_label: String,
    /// The step as a person would say it, in the caller's language.
    pub text: String,
    /// The opinion in the caller's language (`opinion` is as stored).
    pub opinion_text: String,
}

/// A line of 基本信息.
#[derive(Debug, Serialize, ToSchema)]
pub struct BasicItem {
    /// The profile field (`gender`, `id_number`, `political_status` …).
    pub field: String,
    pub label: String,
    /// The value as shown: masked, or the label of an option code.
    pub value: String,
}

/// 申请查看: everything about one of the student's applications.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationDetail {
    /// Status, `version` (send it back with changes), dates and flags.
    #[serde(flatten)]
    pub application: ApplicationRow,
    pub status_label: String,
    /// The review stage deciding now (申请中 / 退回修改), else empty.
    pub stage: String,
    pub program: ProgramRef,
    /// 基本信息 as shown on the 申请查看 page: personal numbers masked, codes as labels.
    pub basic: Vec<BasicItem>,
    /// 申请信息 as last saved.
    pub info: ApplicationInfoForm,
    /// 外语水平.
    pub languages: Vec<LanguageRow>,
    /// The attachments the program asks for.
    pub attachment_types: Vec<AttachmentTypeView>,
    /// Every uploaded file (of a type, or for a reviewer's request).
    pub attachments: Vec<AttachmentRow>,
    /// Reviewers' requests for extra material (补交材料).
    pub supplements: Vec<SupplementRow>,
    /// 进度跟踪, oldest first.
    pub history: Vec<HistoryItem>,
    /// What the student may do now (`edit`, `submit`, `withdraw_for_edit`, `delete`,
    /// `backfill_score`, `upload_supplement` …).
    pub actions: Vec<Coded>,
}

fn history_items(view: &ApplicationView, lang: Lang) -> Vec<HistoryItem> {
    view.history
        .iter()
        .map(|h| HistoryItem {
            action_label: h.action.get(lang).to_owned(),
            text: h.text.get(lang).to_owned(),
            opinion_text: h.opinion.get(lang).to_owned(),
            to_status_label: lang.t(h.status.label_key()).to_owned(),
            row: h.row.clone(),
        })
        .collect()
}

/// 申请查看 / One application.
#[utoipa::path(
    get,
    path = "/applications/{id}",
    tag = "applications",
    params(("id" = i64, Path, description = "Application id")),
    responses(
        (status = 200, description = "The application", body = ApplicationDetail),
        (status = 404, description = "Not found or not yours", body = ErrorBody),
    )
)]
async fn detail(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<axum::Json<ApplicationDetail>> {
    let lang = ctx.lang;
    let view = read::view(&state.db, &state.key, &viewer(&ctx)?, id).await?;
    let app = &view.app;
    let program = &view.program;
    Ok(axum::Json(ApplicationDetail {
        status_label: lang.t(view.status.label_key()).to_owned(),
        stage: view.stage_name().get(lang).to_owned(),
        program: ProgramRef {
            id: program.id,
            name: lang.pick(&program.name_zh, &program.name_en).to_owned(),
            code: program.code.clone(),
            name_zh: program.name_zh.clone(),
            name_en: program.name_en.clone(),
            region_kind: program.region_kind.clone(),
        },
        basic: view
            .basic
            .iter()
            .map(|f| BasicItem {
                field: f.name.to_owned(),
                label: lang.t(&format!("field.{}", f.name)).to_owned(),
                value: f.value.get(lang).to_owned(),
            })
            .collect(),
        info: service::info_form(&state.key, app)?,
        languages: apps::languages(&state.db, id).await?,
        attachment_types: programs::attachment_types(&state.db, app.program_id)
            .await?
            .iter()
            .map(|t| AttachmentTypeView::new(t, lang))
            .collect(),
        attachments: apps::attachments(&state.db, id).await?,
        supplements: view.supplements.clone(),
        history: history_items(&view, lang),
        actions: coded_actions(&view.actions, lang),
        application: view.app.clone(),
    }))
}

/// The signed-in student as the read side knows them.
fn viewer(ctx: &crate::web::extract::Ctx) -> AppResult<Viewer> {
    Ok(Viewer::Student {
        user_id: ctx.user()?.id,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryList {
    pub items: Vec<HistoryItem>,
}

/// 进度跟踪 / History.
///
/// Every step since creation: 进度说明, 审核人, 审核意见, 审核时间.
#[utoipa::path(
    get,
    path = "/applications/{id}/history",
    tag = "applications",
    params(("id" = i64, Path, description = "Application id")),
    responses(
        (status = 200, description = "Oldest first", body = HistoryList),
        (status = 404, description = "Not found or not yours", body = ErrorBody),
    )
)]
async fn history(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<axum::Json<HistoryList>> {
    let view = read::view(&state.db, &state.key, &viewer(&ctx)?, id).await?;
    Ok(axum::Json(HistoryList {
        items: history_items(&view, ctx.lang),
    }))
}

// ---------------------------------------------------------------------------------------------
// 申请信息 and 外语水平

/// `PUT /applications/{id}/info`: the version last read and the 申请信息 fields.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InfoBody {
    /// The application's `version` as last read; a stale one gets 409.
    #[serde(deserialize_with = "int_or_text")]
    pub version: i64,
    #[serde(flatten)]
    pub info: ApplicationInfoForm,
}

/// The new version of a saved record.
#[derive(Debug, Serialize, ToSchema)]
pub struct Saved {
    pub version: i64,
}

/// 保存申请信息 / Save the application information.
///
/// Missing values are kept as a draft; wrong ones are refused, all at once (422).
#[utoipa::path(
    put,
    path = "/applications/{id}/info",
    tag = "applications",
    params(("id" = i64, Path, description = "Application id")),
    request_body = InfoBody,
    responses(
        (status = 200, description = "Saved", body = Saved),
        (status = 404, description = "Not found or not yours", body = ErrorBody),
        (status = 409, description = "Changed since read (stale version)", body = ErrorBody),
        (status = 422, description = "Every wrong field, or not editable now", body = ErrorBody),
    )
)]
async fn save_info(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ApiPath(id): ApiPath<i64>,
    FormJson(body): FormJson<InfoBody>,
) -> AppResult<axum::Json<Saved>> {
    let version = service::save_info(
        &state.db,
        &state.key,
        ctx.user()?.id,
        id,
        body.version,
        body.info,
    )
    .await?;
    Ok(axum::Json(Saved { version }))
}

/// 添加外语水平 / Add a language row.
#[utoipa::path(
    post,
    path = "/applications/{id}/languages",
    tag = "applications",
    params(("id" = i64, Path, description = "Application id")),
    request_body = LanguageScoreForm,
    responses(
        (status = 201, description = "Added", body = Created),
        (status = 404, description = "Not found or not yours", body = ErrorBody),
        (status = 422, description = "Every wrong field, or not editable now", body = ErrorBody),
    )
)]
async fn add_language(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ApiPath(id): ApiPath<i64>,
    FormJson(form): FormJson<LanguageScoreForm>,
) -> AppResult<Response> {
    let row = service::add_language(&state.db, ctx.user()?.id, id, form).await?;
    Ok((StatusCode::CREATED, axum::Json(Created { id: row })).into_response())
}

/// 修改外语水平 / Change a language row.
#[utoipa::path(
    put,
    path = "/applications/{id}/languages/{row}",
    tag = "applications",
    params(
        ("id" = i64, Path, description = "Application id"),
        ("row" = i64, Path, description = "Language row id"),
    ),
    request_body = LanguageScoreForm,
    responses(
        (status = 204, description = "Changed"),
        (status = 404, description = "Not found or not yours", body = ErrorBody),
        (status = 422, description = "Every wrong field, or not editable now", body = ErrorBody),
    )
)]
async fn update_language(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ApiPath((id, row)): ApiPath<(i64, i64)>,
    FormJson(form): FormJson<LanguageScoreForm>,
) -> AppResult<StatusCode> {
    service::update_language(&state.db, ctx.user()?.id, id, row, form).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 删除外语水平 / Delete a language row.
#[utoipa::path(
    delete,
    path = "/applications/{id}/languages/{row}",
    tag = "applications",
    params(
        ("id" = i64, Path, description = "Application id"),
        ("row" = i64, Path, description = "Language row id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "Not found or not yours", body = ErrorBody),
        (status = 422, description = "Not editable now", body = ErrorBody),
    )
)]
async fn delete_language(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ApiPath((id, row)): ApiPath<(i64, i64)>,
) -> AppResult<StatusCode> {
    service::delete_language(&state.db, ctx.user()?.id, id, row).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /applications/{id}/languages/{row}/backfill`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BackfillBody {
    /// 考试成绩 (等级及分数).
    #[serde(default)]
    pub score: String,
}

/// 补录分数 / Fill in a pending score.
///
/// Once only, for a row submitted without a score; afterwards it cannot change.
#[utoipa::path(
    post,
    path = "/applications/{id}/languages/{row}/backfill",
    tag = "applications",
    params(
        ("id" = i64, Path, description = "Application id"),
        ("row" = i64, Path, description = "Language row id"),
    ),
    request_body = BackfillBody,
    responses(
        (status = 204, description = "Filled in"),
        (status = 404, description = "Not found, not yours, or the row has a score", body = ErrorBody),
        (status = 409, description = "A score was already filled in", body = ErrorBody),
        (status = 422, description = "Empty or too long, or not allowed now", body = ErrorBody),
    )
)]
async fn backfill(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ClientIp(ip): ClientIp,
    ApiPath((id, row)): ApiPath<(i64, i64)>,
    FormJson(body): FormJson<BackfillBody>,
) -> AppResult<StatusCode> {
    service::backfill_score(
        &state.db,
        &who(&ctx, &ip),
        ctx.user()?.id,
        id,
        row,
        &body.score,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// 提交, 撤回修改, 申请删除

/// Where an application stands after a change of status.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatusResult {
    pub id: i64,
    pub status: String,
    pub status_label: String,
    pub version: i64,
}

async fn status_result(
    state: &AppState,
    student_id: i64,
    id: i64,
    lang: Lang,
) -> AppResult<StatusResult> {
    let app = apps::own(&state.db, student_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(StatusResult {
        id,
        status_label: status_label(lang, &app.status),
        status: app.status,
        version: app.version,
    })
}

/// The submit check's list as error fields, each with its step and message.
fn missing_fields(lang: Lang, missing: &[MissingField]) -> Vec<ErrorField> {
    missing
        .iter()
        .map(|m| ErrorField {
            field: m.field.clone(),
            code: m.code.to_owned(),
            message: lang.t(m.code).to_owned(),
            step: Some(m.step.code().to_owned()),
        })
        .collect()
}

/// 提交 / Submit.
///
/// Checks everything at once: an incomplete application gets 422 listing every missing or
/// wrong field with its step. With an `Idempotency-Key` header, a repeated request (same key,
/// same person) replays the first successful answer instead of submitting again.
#[utoipa::path(
    post,
    path = "/applications/{id}/submit",
    tag = "applications",
    params(
        ("id" = i64, Path, description = "Application id"),
        ("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters, unique per submit attempt"),
    ),
    request_body = VersionBody,
    responses(
        (status = 200, description = "Submitted (申请中)", body = StatusResult),
        (status = 404, description = "Not found or not yours", body = ErrorBody),
        (status = 409, description = "Stale version, already submitted, or the same key is still being processed", body = ErrorBody),
        (status = 422, description = "Incomplete (every field, with its step), window closed, not eligible, limit reached, or the key was used for another request", body = ErrorBody),
    )
)]
async fn submit(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    FormJson(body): FormJson<VersionBody>,
) -> AppResult<Response> {
    let user_id = ctx.user()?.id;
    let run = async {
        match service::submit(
            &state.db,
            &state.key,
            &who(&ctx, &ip),
            user_id,
            id,
            body.version,
            Utc::now(),
        )
        .await
        {
            Ok(_) => Answer::json(
                StatusCode::OK,
                &status_result(&state, user_id, id, ctx.lang).await?,
            ),
            Err(SubmitError::Incomplete(missing)) => Answer::json(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ErrorBody {
                    error: "apply.cannot_submit".to_owned(),
                    message: ctx.t("apply.cannot_submit").to_owned(),
                    fields: missing_fields(ctx.lang, &missing),
                },
            ),
            Err(SubmitError::Service(e)) => Err(e.into()),
        }
    };
    match idempotency::key(&headers)? {
        Some(key) => {
            let request = format!("POST {BASE}/applications/{id}/submit");
            idempotency::once(&state.db, user_id, &key, &request, run).await
        }
        None => Ok(run.await?.into_response()),
    }
}

/// 撤回修改 / Withdraw for editing.
///
/// Back to 填写中 while no reviewer has decided yet.
#[utoipa::path(
    post,
    path = "/applications/{id}/withdraw",
    tag = "applications",
    params(("id" = i64, Path, description = "Application id")),
    request_body = VersionBody,
    responses(
        (status = 200, description = "Withdrawn (填写中)", body = StatusResult),
        (status = 404, description = "Not found or not yours", body = ErrorBody),
        (status = 409, description = "Stale version, or a reviewer decided meanwhile", body = ErrorBody),
        (status = 422, description = "Not allowed in this status", body = ErrorBody),
    )
)]
async fn withdraw(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<i64>,
    FormJson(body): FormJson<VersionBody>,
) -> AppResult<axum::Json<StatusResult>> {
    let user_id = ctx.user()?.id;
    service::withdraw(&state.db, &who(&ctx, &ip), user_id, id, body.version).await?;
    Ok(axum::Json(
        status_result(&state, user_id, id, ctx.lang).await?,
    ))
}

/// `?version=n` of a delete.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// The application's `version` as last read.
    pub version: i64,
}

/// 申请删除 / Delete a draft.
///
/// Only a never-submitted draft, with its rows and files.
#[utoipa::path(
    delete,
    path = "/applications/{id}",
    tag = "applications",
    params(("id" = i64, Path, description = "Application id"), VersionQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "Not found or not yours", body = ErrorBody),
        (status = 409, description = "Stale version", body = ErrorBody),
        (status = 422, description = "Not a draft", body = ErrorBody),
    )
)]
async fn delete_draft(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<i64>,
    QueryParams(q): QueryParams<VersionQuery>,
) -> AppResult<StatusCode> {
    service::delete_draft(
        &state.db,
        &state.storage,
        &who(&ctx, &ip),
        ctx.user()?.id,
        id,
        q.version,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
