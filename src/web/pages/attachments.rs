//! Attachment files of the student's own applications: upload (with progress, several files
//! at once), 下载, 查看 (inline preview of PDF and images), 删除, and 补交材料附件.

use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use crate::db::applications as apps;
use crate::domain::FieldErrors;
use crate::domain::application::Step;
use crate::domain::files::FileFormat;
use crate::services::ServiceError;
use crate::services::attachments::{self, Slot};
use crate::web::AppState;
use crate::web::error::{AppError, AppResult, TOO_LARGE};
use crate::web::extract::{ClientIp, Path, Query, StudentCtx, redirect_flash, who};
use crate::web::pages::applications::{StepExtras, render_step};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/applications/{id}/attachments", post(upload))
        .route("/applications/{id}/attachments/{file}", get(download))
        .route("/applications/{id}/attachments/{file}/view", get(view))
        .route("/applications/{id}/attachments/{file}/delete", post(delete))
        .route(
            "/applications/{id}/supplements/{request}",
            post(upload_supplement),
        )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TypeQuery {
    r#type: i64,
}

/// The most files one upload request may carry (a person picks a handful at a time).
const MAX_FILES_PER_UPLOAD: usize = 20;

/// Reads every `file` part: (file name, bytes). A broken or oversized body is one error key.
async fn read_files(
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Vec<(String, Vec<u8>)>, &'static str> {
    let mut multipart = multipart.map_err(|_| "err.upload.unreadable")?;
    let mut files = Vec::new();
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                if field.name() != Some("file") {
                    continue;
                }
                let name = field.file_name().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(|e| {
                    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                        "error.413"
                    } else {
                        "err.upload.unreadable"
                    }
                })?;
                if name.is_empty() && bytes.is_empty() {
                    continue; // the browser's empty part when no file was chosen
                }
                if files.len() == MAX_FILES_PER_UPLOAD {
                    // 10,000 tiny parts would otherwise become 10,000 stored files.
                    return Err("err.upload.unreadable");
                }
                files.push((name, bytes.to_vec()));
            }
            Ok(None) => break,
            Err(e) => {
                return Err(if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    "error.413"
                } else {
                    "err.upload.unreadable"
                });
            }
        }
    }
    if files.is_empty() {
        return Err("err.upload.no_file");
    }
    Ok(files)
}

async fn upload(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Query(q): Query<TypeQuery>,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let user = ctx.user()?;
    apps::own(&state.db, user.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let fail = |key: &str| Some((q.r#type, ctx.t(key).to_owned()));
    let files = match read_files(multipart).await {
        Ok(files) => files,
        Err(key) => {
            let mut page = render_step(
                &state,
                &ctx,
                id,
                Step::Attachments,
                StepExtras {
                    upload_error: fail(key),
                    ..Default::default()
                },
            )
            .await?;
            if key == "error.413" {
                // The step again, with the message beside the type, under the status that says why.
                *page.status_mut() = axum::http::StatusCode::PAYLOAD_TOO_LARGE;
            }
            return Ok(page);
        }
    };
    let who = who(&ctx, &ip);
    let mut stored = 0;
    for (name, bytes) in files {
        match attachments::upload(
            &state.db,
            &state.storage,
            &who,
            user.id,
            id,
            Slot::Type(q.r#type),
            &name,
            bytes,
        )
        .await
        {
            Ok(_) => stored += 1,
            Err(ServiceError::Invalid(errors)) => {
                let message = first_error(&errors)
                    .map(|k| format!("{name}：{}", ctx.t(k)))
                    .unwrap_or_default();
                let mut extras = StepExtras {
                    upload_error: Some((q.r#type, message)),
                    ..Default::default()
                };
                let too_large = errors.0.iter().any(|e| e.code == TOO_LARGE);
                if stored > 0 {
                    extras.upload_error = extras.upload_error.map(|(t, m)| {
                        (
                            t,
                            format!(
                                "{m}（{}）",
                                ctx.lang.tf("apply.some_uploaded", &stored.to_string())
                            ),
                        )
                    });
                }
                let mut page = render_step(&state, &ctx, id, Step::Attachments, extras).await?;
                if too_large {
                    *page.status_mut() = axum::http::StatusCode::PAYLOAD_TOO_LARGE;
                }
                return Ok(page);
            }
            Err(ServiceError::Refused(key)) => {
                return render_step(
                    &state,
                    &ctx,
                    id,
                    Step::Attachments,
                    StepExtras {
                        upload_error: fail(key),
                        ..Default::default()
                    },
                )
                .await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(redirect_flash(
        &format!("/applications/{id}/step/attachments#type-{}", q.r#type),
        "success",
        ctx.t("apply.uploaded"),
    ))
}

fn first_error(errors: &FieldErrors) -> Option<&'static str> {
    errors.0.first().map(|e| e.code)
}

async fn upload_supplement(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ClientIp(ip): ClientIp,
    Path((id, request)): Path<(i64, i64)>,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let user = ctx.user()?;
    let back = format!("/applications/{id}?tab=attachments#supplements");
    let flash = |kind: &str, text: String| redirect_flash(&back, kind, &text);
    let files = match read_files(multipart).await {
        Ok(files) => files,
        Err(key) => return Ok(flash("error", ctx.t(key).to_owned())),
    };
    let who = who(&ctx, &ip);
    for (name, bytes) in files {
        match attachments::upload(
            &state.db,
            &state.storage,
            &who,
            user.id,
            id,
            Slot::Supplement(request),
            &name,
            bytes,
        )
        .await
        {
            Ok(_) => {}
            Err(ServiceError::Invalid(errors)) => {
                return Ok(flash(
                    "error",
                    first_error(&errors)
                        .map(|k| format!("{name}：{}", ctx.t(k)))
                        .unwrap_or_default(),
                ));
            }
            Err(ServiceError::Refused(key)) => return Ok(flash("error", ctx.t(key).to_owned())),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(flash("success", ctx.t("apply.uploaded").to_owned()))
}

/// Characters kept as they are in `filename*=UTF-8''…` (RFC 5987 attr-char).
const ATTR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `Content-Disposition` with an ASCII fallback and the exact UTF-8 name.
pub fn disposition(kind: &str, name: &str, format: FileFormat) -> HeaderValue {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = fallback
        .rsplit_once('.')
        .map_or(fallback.as_str(), |(stem, _)| stem);
    let fallback = if !stem.chars().any(|c| c.is_ascii_alphanumeric()) {
        format!("attachment.{}", format.ext())
    } else {
        fallback
    };
    let value = format!(
        "{kind}; filename=\"{fallback}\"; filename*=UTF-8''{}",
        utf8_percent_encode(name, ATTR)
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

async fn send(
    state: &AppState,
    student_id: i64,
    app_id: i64,
    file_id: i64,
    inline: bool,
) -> AppResult<Response> {
    let app = apps::own(&state.db, student_id, app_id)
        .await?
        .ok_or(AppError::NotFound)?;
    send_file(state, &app, file_id, inline).await
}

/// Sends one attachment of `app` (whose visibility the caller has checked): as a download,
/// or shown in the browser when `inline` and the format can be previewed.
pub async fn send_file(
    state: &AppState,
    app: &crate::db::applications::ApplicationRow,
    file_id: i64,
    inline: bool,
) -> AppResult<Response> {
    let file = attachments::download(&state.db, &state.storage, app, file_id).await?;
    let inline = inline && file.format.is_previewable();
    let mut response = file.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if inline {
            file.format.mime()
        } else {
            "application/octet-stream"
        }),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        disposition(
            if inline { "inline" } else { "attachment" },
            &file.file_name,
            file.format,
        ),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'",
        ),
    );
    Ok(response)
}

async fn download(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    Path((id, file)): Path<(i64, i64)>,
) -> AppResult<Response> {
    send(&state, ctx.user()?.id, id, file, false).await
}

async fn view(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    Path((id, file)): Path<(i64, i64)>,
) -> AppResult<Response> {
    send(&state, ctx.user()?.id, id, file, true).await
}

async fn delete(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ClientIp(ip): ClientIp,
    Path((id, file)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let back = format!("/applications/{id}/step/attachments");
    match attachments::delete(
        &state.db,
        &state.storage,
        &who(&ctx, &ip),
        ctx.user()?.id,
        id,
        file,
    )
    .await
    {
        Ok(()) => Ok(redirect_flash(
            &back,
            "success",
            ctx.t("apply.file_deleted"),
        )),
        Err(ServiceError::Refused(key)) => Ok(redirect_flash(&back, "error", ctx.t(key))),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chinese_download_name_travels_exactly_in_filename_star() {
        let v = disposition("attachment", "张三护照.pdf", FileFormat::Pdf);
        let s = v.to_str().unwrap();
        assert!(
            s.contains("filename*=UTF-8''%E5%BC%A0%E4%B8%89%E6%8A%A4%E7%85%A7.pdf"),
            "{s}"
        );
        assert!(s.contains("filename=\"attachment.pdf\""), "{s}");
    }
}
