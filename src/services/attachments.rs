//! Attachment files of an application: upload (per the program's configured types, content
//! checked by magic bytes), delete while editable, 补交材料附件 on a reviewer's request, and
//! download under the name "姓名+内容".
//!
//! A file is written and fsynced before its row commits; if the commit fails the file is
//! removed again, so a failed upload leaves no orphan.

use chrono::Utc;
use sea_query::{Expr, ExprTrait, Query};

use super::applications::facts;
use super::audit::{self, Who};
use super::{ServiceError, ServiceResult};
use crate::db::applications::{self as apps, ApplicationRow, AttachmentRow};
use crate::db::{Db, after_admission, programs, students};
use crate::domain::FieldErrors;
use crate::domain::files::{FileFormat, check_upload, clean_file_name, download_name};
use crate::domain::status::{Action, Actor, Phase};
use crate::services::after_admission::documents_open;
use crate::storage::Storage;

/// What an upload is for: a configured attachment type, a document type of a later part of
/// the journey (行前材料, 返校材料), or a reviewer's request.
#[derive(Debug, Clone, Copy)]
pub enum Slot {
    Type(i64),
    Document(i64),
    Supplement(i64),
}

impl Slot {
    /// The form field the error is shown beside.
    pub fn field(self) -> String {
        match self {
            Slot::Type(t) | Slot::Document(t) => format!("attachment_{t}"),
            Slot::Supplement(s) => format!("supplement_{s}"),
        }
    }
}

/// Supplementary material may be larger than typical, but never unbounded.
const SUPPLEMENT_MAX: u64 = 20 * 1024 * 1024;

fn invalid(field: String, code: &'static str) -> ServiceError {
    let mut e = FieldErrors::new();
    e.add(field, code);
    ServiceError::Invalid(e)
}

/// Stores one uploaded file for the student's own application.
#[expect(
    clippy::too_many_arguments,
    reason = "who, where, what: each a plain value"
)]
pub async fn upload(
    db: &Db,
    storage: &Storage,
    who: &Who,
    student_id: i64,
    app_id: i64,
    slot: Slot,
    file_name: &str,
    bytes: Vec<u8>,
) -> ServiceResult<AttachmentRow> {
    let app = apps::own(db, student_id, app_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let (formats, max_bytes, type_id, supplement_id) = match slot {
        Slot::Type(type_id) => {
            app.status()
                .apply(Action::Edit, &Actor::student(true), &facts(&app, false))
                .map_err(|e| ServiceError::Refused(e.code()))?;
            let t = programs::attachment_types(db, app.program_id)
                .await?
                .into_iter()
                .find(|t| t.id == type_id)
                .ok_or(ServiceError::NotFound)?;
            (
                t.formats(),
                u64::try_from(t.max_bytes).unwrap_or(0),
                Some(type_id),
                None,
            )
        }
        Slot::Document(type_id) => {
            let t = document_type(db, &app, type_id).await?;
            (
                t.formats(),
                u64::try_from(t.max_bytes).unwrap_or(0),
                Some(type_id),
                None,
            )
        }
        Slot::Supplement(request_id) => {
            let open = apps::supplements(db, app_id)
                .await?
                .into_iter()
                .any(|s| s.id == request_id && s.fulfilled_at.is_none());
            if !open {
                return Err(ServiceError::NotFound);
            }
            app.status()
                .apply(
                    Action::UploadSupplement,
                    &Actor::student(true),
                    &facts(&app, true),
                )
                .map_err(|e| ServiceError::Refused(e.code()))?;
            (
                FileFormat::ALL.to_vec(),
                SUPPLEMENT_MAX,
                None,
                Some(request_id),
            )
        }
    };
    let format = check_upload(file_name, &bytes, &formats, max_bytes)
        .map_err(|e| invalid(slot.field(), e.code()))?;
    let row = NewFile {
        app_id,
        app_status: app.status(),
        type_id,
        supplement_id,
        original_name: clean_file_name(file_name),
        format,
        student_id,
    };
    // Storing and recording run to their end on a task of their own: a request dropped half-way
    // (the client gave up or went away) must not leave a file without its row.
    let id = tokio::spawn(store_and_record(
        db.clone(),
        storage.clone(),
        who.clone(),
        row,
        bytes,
    ))
    .await
    .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("the upload task failed: {e}")))??;
    apps::attachment(db, app_id, id)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// A 行前材料 or 返校材料 type of the application's program whose documents are open now;
/// NotFound for a type of another program, Refused outside that part of the journey.
async fn document_type(
    db: &Db,
    app: &ApplicationRow,
    type_id: i64,
) -> ServiceResult<programs::AttachmentType> {
    for phase in [Phase::PreDeparture, Phase::Return] {
        if let Some(t) = after_admission::document_types(db, app.program_id, phase)
            .await?
            .into_iter()
            .find(|t| t.id == type_id)
        {
            return if documents_open(phase, app.status()) {
                Ok(t)
            } else {
                Err(ServiceError::Refused("err.journey.documents_closed"))
            };
        }
    }
    Err(ServiceError::NotFound)
}

/// The row of a checked upload, before its file is stored.
#[derive(Debug)]
struct NewFile {
    app_id: i64,
    app_status: crate::domain::status::Status,
    type_id: Option<i64>,
    supplement_id: Option<i64>,
    original_name: String,
    format: FileFormat,
    student_id: i64,
}

/// Writes the file durably, then commits its row; removes the file again if the row does not
/// commit. Returns the new row's id.
async fn store_and_record(
    db: Db,
    storage: Storage,
    who: Who,
    f: NewFile,
    bytes: Vec<u8>,
) -> ServiceResult<i64> {
    let stored = storage.put(bytes).await?;
    let result = async {
        let mut tx = db.begin().await?;
        let now = Utc::now();
        let id = tx
            .insert_id(
                Query::insert()
                    .into_table("attachments")
                    .columns([
                        "application_id",
                        "attachment_type_id",
                        "supplement_request_id",
                        "storage_key",
                        "original_name",
                        "format",
                        "size_bytes",
                        "sha256",
                        "uploaded_by",
                        "created_at",
                    ])
                    .values_panic([
                        f.app_id.into(),
                        f.type_id.into(),
                        f.supplement_id.into(),
                        stored.key.clone().into(),
                        f.original_name.clone().into(),
                        f.format.ext().into(),
                        i64::try_from(stored.size).unwrap_or(i64::MAX).into(),
                        stored.sha256.clone().into(),
                        f.student_id.into(),
                        now.into(),
                    ]),
            )
            .await?;
        if let Some(request_id) = f.supplement_id {
            tx.update(
                Query::update()
                    .table("supplement_requests")
                    .value("fulfilled_at", now)
                    .and_where(Expr::col("id").eq(request_id))
                    .and_where(Expr::col("application_id").eq(f.app_id)),
            )
            .await?;
            super::applications::history(
                &mut tx,
                f.app_id,
                Action::UploadSupplement.code(),
                Some(f.app_status),
                f.app_status,
                "",
                &who,
                &f.original_name,
            )
            .await?;
        }
        audit::record(
            &mut tx,
            &who,
            "attachment.upload",
            &format!("application:{}", f.app_id),
            &format!("attachment:{id}"),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, ServiceError>(id)
    }
    .await;
    if result.is_err() {
        // The row did not commit: the file must not stay behind.
        if let Err(cleanup) = storage.delete(&stored.key).await {
            tracing::warn!(error = %cleanup, "could not remove the file of a failed upload");
        }
    }
    result
}

/// Removes a file from the student's own application while it is editable.
pub async fn delete(
    db: &Db,
    storage: &Storage,
    who: &Who,
    student_id: i64,
    app_id: i64,
    attachment_id: i64,
) -> ServiceResult<()> {
    let app = apps::own(db, student_id, app_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let file = apps::attachment(db, app_id, attachment_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if file.supplement_request_id.is_some() || file.request_id.is_some() {
        return Err(ServiceError::Refused("err.attachment.supplement_kept"));
    }
    let is_document = match file.attachment_type_id {
        Some(type_id) => !programs::attachment_types(db, app.program_id)
            .await?
            .iter()
            .any(|t| t.id == type_id),
        None => false,
    };
    if is_document {
        // 行前材料删除 / 返校材料: while that part of the journey is open.
        document_type(db, &app, file.attachment_type_id.unwrap_or_default()).await?;
    } else {
        app.status()
            .apply(Action::Edit, &Actor::student(true), &facts(&app, false))
            .map_err(|e| ServiceError::Refused(e.code()))?;
    }
    let mut tx = db.begin().await?;
    tx.delete(
        Query::delete()
            .from_table("attachments")
            .and_where(Expr::col("id").eq(attachment_id))
            .and_where(Expr::col("application_id").eq(app_id)),
    )
    .await?;
    audit::record(
        &mut tx,
        who,
        "attachment.delete",
        &format!("application:{app_id}"),
        &format!("attachment:{attachment_id}"),
    )
    .await?;
    tx.commit().await?;
    storage.delete(&file.storage_key).await?;
    Ok(())
}

/// A file ready to send.
#[derive(Debug)]
pub struct Download {
    pub bytes: Vec<u8>,
    pub file_name: String,
    pub format: FileFormat,
}

/// The bytes and the download name ("姓名+内容", with (2), (3) … for further files of a type).
pub async fn download(
    db: &Db,
    storage: &Storage,
    app: &ApplicationRow,
    attachment_id: i64,
) -> ServiceResult<Download> {
    let file = apps::attachment(db, app.id, attachment_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let format = FileFormat::from_ext(&file.format).ok_or(ServiceError::NotFound)?;
    let student_name = students::registry(db, app.student_id)
        .await?
        .map(|r| r.name_zh)
        .unwrap_or_default();
    let (type_name, index) = match (file.attachment_type_id, file.supplement_request_id) {
        (Some(type_id), _) => {
            let name = after_admission::any_type(db, app.program_id, type_id)
                .await?
                .map(|t| t.name_zh)
                .unwrap_or_default();
            let siblings = apps::attachments(db, app.id).await?;
            let index = siblings
                .iter()
                .filter(|a| a.attachment_type_id == Some(type_id))
                .position(|a| a.id == file.id)
                .map_or(1, |p| p + 1);
            (name, index)
        }
        (None, Some(request_id)) => (
            apps::supplements(db, app.id)
                .await?
                .into_iter()
                .find(|s| s.id == request_id)
                .map(|s| s.name)
                .unwrap_or_default(),
            1,
        ),
        _ => (String::new(), 1),
    };
    let bytes = storage.get(&file.storage_key).await?;
    Ok(Download {
        bytes,
        file_name: download_name(&student_name, &type_name, format.ext(), index),
        format,
    })
}

/// Removes stored files that no row names. A crash between a file's write and its row's commit
/// (an upload), or between a row's delete and its file's removal, leaves such a file; it was
/// never acknowledged, so nothing is lost. Runs at start-up, before the server takes requests
/// (one server process per data folder); returns how many files went.
pub async fn remove_orphans(db: &Db, storage: &Storage) -> ServiceResult<usize> {
    let on_disk = storage.keys()?;
    if on_disk.is_empty() {
        return Ok(0);
    }
    let mut named = std::collections::HashSet::new();
    for (table, column) in crate::backup::FILE_COLUMNS {
        let keys = db
            .all::<(String,)>(
                &Query::select()
                    .column(column)
                    .from(table)
                    .and_where(Expr::col(column).is_not_null())
                    .to_owned(),
            )
            .await?;
        named.extend(keys.into_iter().map(|(k,)| k));
    }
    let mut removed = 0;
    for key in on_disk {
        // Only our own keys: anything else in the folder is not ours to remove.
        let ours = key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit());
        if ours && !named.contains(&key) {
            storage.delete(&key).await?;
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::warn!(
            removed,
            "removed attachment files left without a row by a crash"
        );
    }
    Ok(removed)
}
