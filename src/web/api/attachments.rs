//! 附件: upload a file for one of the program's attachment types (or for a reviewer's request,
//! 补交材料附件), download it under its "姓名+内容" name, and delete it while the application
//! is editable — through [`crate::services::attachments`], as on the pages.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiPath, ErrorBody, QueryParams, invalid};
use crate::db::applications::{self as apps, AttachmentRow};
use crate::services::attachments::{self, Slot};
use crate::web::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::who;
use crate::web::extract::{ClientIp, StudentCtx};
use crate::web::pages::attachments::disposition;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .routes(routes!(download, delete))
}

/// What the file is for: exactly one of the two.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlotQuery {
    /// An attachment type id of the program (`attachment_types` of the application).
    pub r#type: Option<i64>,
    /// A reviewer's open request for extra material (`supplements` of the application).
    pub supplement: Option<i64>,
}

/// The multipart body: one part named `file`.
#[derive(Debug, ToSchema)]
#[expect(
    dead_code,
    reason = "describes the body for the document; the handler reads the parts itself"
)]
pub struct UploadForm {
    /// The file; its content must match its extension.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// The one `file` part: (file name, bytes). A broken or oversized body, no file, or more than
/// one file is an error on the field `file`.
async fn read_file(
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<(String, Vec<u8>)> {
    let mut multipart = multipart.map_err(|_| invalid("file", "err.upload.unreadable"))?;
    let mut found: Option<(String, Vec<u8>)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(AppError::TooLarge);
            }
            Err(_) => return Err(invalid("file", "err.upload.unreadable")),
        };
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or_default().to_owned();
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(AppError::TooLarge);
            }
            Err(_) => return Err(invalid("file", "err.upload.unreadable")),
        };
        if found.is_some() {
            return Err(invalid("file", "api.one_file"));
        }
        found = Some((name, bytes.to_vec()));
    }
    found.ok_or_else(|| invalid("file", "err.upload.no_file"))
}

/// 上传附件 / Upload a file.
///
/// `?type=` for one of the program's attachment types while the application is editable, or
/// `?supplement=` for a reviewer's open request (补交材料附件). The content must match the
/// type's formats (checked by its bytes) and size.
#[utoipa::path(
    post,
    path = "/applications/{id}/attachments",
    tag = "attachments",
    params(("id" = i64, Path, description = "Application id"), SlotQuery),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = AttachmentRow),
        (status = 404, description = "Not found or not yours, or no such type / open request", body = ErrorBody),
        (status = 413, description = "Over the 25 MB request limit, or over the type's size limit (then with the field `file`)", body = ErrorBody),
        (status = 422, description = "Wrong format, no file, or not editable now", body = ErrorBody),
    )
)]
async fn upload(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<i64>,
    QueryParams(q): QueryParams<SlotQuery>,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let user = ctx.user()?;
    apps::own(&state.db, user.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let slot = match (q.r#type, q.supplement) {
        (Some(t), None) => Slot::Type(t),
        (None, Some(s)) => Slot::Supplement(s),
        _ => return Err(invalid("type", "api.upload_slot")),
    };
    let (name, bytes) = read_file(multipart).await?;
    let row = attachments::upload(
        &state.db,
        &state.storage,
        &who(&ctx, &ip),
        user.id,
        id,
        slot,
        &name,
        bytes,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(row)).into_response())
}

/// 下载附件 / Download a file.
///
/// Under the name "姓名+内容" (张三护照.pdf).
#[utoipa::path(
    get,
    path = "/applications/{id}/attachments/{file}",
    tag = "attachments",
    params(
        ("id" = i64, Path, description = "Application id"),
        ("file" = i64, Path, description = "Attachment id"),
    ),
    responses(
        (status = 200, description = "The file's bytes", content_type = "application/octet-stream"),
        (status = 404, description = "Not found or not yours", body = ErrorBody),
    )
)]
async fn download(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ApiPath((id, file)): ApiPath<(i64, i64)>,
) -> AppResult<Response> {
    let app = apps::own(&state.db, ctx.user()?.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let file = attachments::download(&state.db, &state.storage, &app, file).await?;
    let mut response = file.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        disposition("attachment", &file.file_name, file.format),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}

/// 删除附件 / Delete a file.
///
/// While the application is editable; files sent for a reviewer's request stay.
#[utoipa::path(
    delete,
    path = "/applications/{id}/attachments/{file}",
    tag = "attachments",
    params(
        ("id" = i64, Path, description = "Application id"),
        ("file" = i64, Path, description = "Attachment id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "Not found or not yours", body = ErrorBody),
        (status = 422, description = "Not editable now, or a supplementary file", body = ErrorBody),
    )
)]
async fn delete(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ClientIp(ip): ClientIp,
    ApiPath((id, file)): ApiPath<(i64, i64)>,
) -> AppResult<StatusCode> {
    attachments::delete(
        &state.db,
        &state.storage,
        &who(&ctx, &ip),
        ctx.user()?.id,
        id,
        file,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
