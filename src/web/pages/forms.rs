//! 下载申请表: the student's own filled application / approval form as a PDF to print, sign
//! and have stamped (seeds 000, 002, 003). Offered once the application has been submitted and
//! while it is not back in the student's hands; the layout lives in [`crate::pdf`].

use std::borrow::Borrow;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};

use crate::db::dicts::{self, DictItem, kind};
use crate::db::{programs, students};
use crate::domain::application::FundingItem;
use crate::domain::files::FileFormat;
use crate::domain::status::Status;
use crate::domain::values::{Gender, IdType, MaritalStatus, StudyLevel};
use crate::i18n::Lang;
use crate::pdf::{
    Applicant, Exchange, FormData, FundingLine, LanguageLine, PdfError, ProgramInfo,
    render_application_form,
};
use crate::services::applications::{self as service, Loaded};
use crate::web::AppState;
use crate::web::error::{AppError, AppResult, ErrorInfo};
use crate::web::extract::{Path, StudentCtx};
use crate::web::pages::attachments::disposition;
use crate::web::pages::cn_time;

pub fn router() -> Router<AppState> {
    Router::new().route("/applications/{id}/form.pdf", get(download))
}

/// Whether 下载申请表 is offered: the application was submitted and is not back in the
/// student's hands (填写中 after 撤回修改, or 退回修改), where the printout could differ from
/// what is finally sent.
/// (Takes values or references, as templates pass them.)
pub fn available(
    status: impl Borrow<Status>,
    submitted_at: impl Borrow<Option<DateTime<Utc>>>,
) -> bool {
    submitted_at.borrow().is_some() && !status.borrow().is_editable_by_student()
}

/// The file name: 姓名+出国（境）交流申请表.pdf.
pub fn file_name(applicant_name: &str) -> String {
    format!("{}出国（境）交流申请表.pdf", applicant_name.trim())
}

async fn download(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    // Another student's application is not found, whatever its state.
    send_pdf(&state, ctx.user()?.id, id).await
}

/// Renders and sends the 申请表 of application `id` of student `student_id` (staff pass the
/// applicant's id after checking their own scope).
pub async fn send_pdf(state: &AppState, student_id: i64, id: i64) -> AppResult<Response> {
    let loaded = service::load(&state.db, &state.key, student_id, id).await?;
    if !available(loaded.app.status(), loaded.app.submitted_at) {
        return Err(AppError::Refused("pdf.err.not_submitted"));
    }
    let data = form_data(state, &loaded, Utc::now()).await?;
    let name = file_name(&data.applicant.name);
    let rendered = tokio::task::spawn_blocking(move || render_application_form(&data))
        .await
        .map_err(|e| AppError::Unexpected(e.into()))?;
    match rendered {
        Ok(bytes) => Ok(pdf_response(bytes, &name)),
        Err(PdfError::NoFont) => {
            tracing::error!("{}", PdfError::NoFont);
            Ok(unavailable("pdf.err.no_font"))
        }
        Err(e) => Err(AppError::Unexpected(e.into())),
    }
}

fn pdf_response(bytes: Vec<u8>, name: &str) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(FileFormat::Pdf.mime()),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        disposition("attachment", name, FileFormat::Pdf),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// 503 with the error page in the person's language (drawn by the error middleware).
fn unavailable(key: &'static str) -> Response {
    let status = StatusCode::SERVICE_UNAVAILABLE;
    let mut r = (status, [(header::CACHE_CONTROL, "no-store")]).into_response();
    r.extensions_mut().insert(ErrorInfo {
        status,
        key,
        fields: None,
    });
    r
}

/// The form's content: the application as saved, the owner's profile (sealed values opened:
/// it is their own printout) and registry, every code turned into its Chinese label.
async fn form_data(state: &AppState, loaded: &Loaded, now: DateTime<Utc>) -> AppResult<FormData> {
    let db = &state.db;
    let zh = Lang::Zh;
    let app = &loaded.app;
    let (profile, info, program) = (&loaded.profile, &loaded.info, &loaded.program);
    let registry = students::registry(db, app.student_id).await?;
    let schools = programs::partner_schools(db, app.program_id).await?;
    let countries = dicts::items(db, kind::COUNTRY).await?;
    let label = |items: &[DictItem], code: &str| dicts::label_of(items, code, zh).to_owned();
    let key_label = |key: Option<&'static str>| key.map(|k| zh.t(k).to_owned()).unwrap_or_default();

    let ethnicities = dicts::items(db, kind::ETHNICITY).await?;
    let political = dicts::items(db, kind::POLITICAL_STATUS).await?;
    let id_types = dicts::items(db, kind::ID_TYPE).await?;
    let program_types = dicts::items(db, kind::PROGRAM_TYPE).await?;
    let languages = dicts::items(db, kind::LANGUAGE).await?;
    let exams = dicts::items(db, kind::EXAM_TYPE).await?;
    let funding = dicts::items(db, kind::FUNDING_SOURCE).await?;

    let (student_no, college, major, grade, level) = match &registry {
        Some(r) => (
            r.student_no.clone(),
            r.college_name_zh.clone(),
            r.major_name_zh.clone(),
            r.grade.clone(),
            key_label(StudyLevel::from_code(&r.level).map(StudyLevel::label_key)),
        ),
        None => Default::default(),
    };
    let supervisor = [
        profile.supervisor_name.trim(),
        profile.supervisor_phone.trim(),
    ]
    .iter()
    .filter(|s| !s.is_empty())
    .copied()
    .collect::<Vec<_>>()
    .join(" ");
    let applicant = Applicant {
        name: profile.name_zh.clone(),
        pinyin: format!("{} {}", profile.pinyin_surname, profile.pinyin_given)
            .trim()
            .to_owned(),
        gender: key_label(Gender::from_code(&profile.gender).map(Gender::label_key)),
        birth_date: profile.birth_date.clone(),
        nationality: label(&countries, &profile.nationality),
        ethnicity: label(&ethnicities, &profile.ethnicity),
        id_type: match IdType::from_code(&profile.id_type) {
            Some(t) => zh.t(t.label_key()).to_owned(),
            None => label(&id_types, &profile.id_type),
        },
        id_number: profile.id_number.clone(),
        student_no,
        college,
        major,
        grade,
        level,
        political_status: label(&political, &profile.political_status),
        marital_status: key_label(
            MaritalStatus::from_code(&profile.marital_status).map(MaritalStatus::label_key),
        ),
        mobile: profile.mobile.clone(),
        email: profile.email.clone(),
        major_rank: profile.major_rank.clone(),
        health: profile.health.clone(),
        rewards: profile.rewards.clone(),
        supervisor,
    };

    let choices = [
        &info.choice_1,
        &info.choice_2,
        &info.choice_3,
        &info.choice_4,
        &info.choice_5,
    ]
    .into_iter()
    .filter(|c| !c.trim().is_empty())
    .map(|c| {
        c.trim()
            .parse::<i64>()
            .ok()
            .and_then(|sid| schools.iter().find(|s| s.id == sid))
            .map(|s| s.name_zh.clone())
            .unwrap_or_default()
    })
    .collect();
    let yes_no = |v: &str, yes: &'static str, no: &'static str| match v {
        "yes" => zh.t(yes).to_owned(),
        "no" => zh.t(no).to_owned(),
        _ => String::new(),
    };
    let exchange = Exchange {
        from: info.exchange_from.clone(),
        to: info.exchange_to.clone(),
        duration: info.exchange_duration.clone(),
        depart_date: info.depart_date.clone(),
        return_date: info.return_date.clone(),
        gpa: info.gpa.clone(),
        weighted_avg: info.weighted_avg.clone(),
        one_china_issue: yes_no(&info.one_china_issue, "common.have", "common.not_have"),
        group_leader: info.group_leader.clone(),
        has_passport: yes_no(&info.has_passport, "common.yes", "common.no"),
        passport_no: if info.has_passport == "yes" {
            info.passport_no.clone()
        } else {
            String::new()
        },
        passport_expiry: if info.has_passport == "yes" {
            info.passport_expiry.clone()
        } else {
            String::new()
        },
        emergency_relation: info.emergency_relation.clone(),
        emergency_name: info.emergency_name.clone(),
        emergency_phone: info.emergency_phone.clone(),
    };

    Ok(FormData {
        number: format!("{}-{:06}", app.round_year, app.id),
        status: zh.t(app.status().label_key()).to_owned(),
        submitted_at: app.submitted_at.map(cn_time).unwrap_or_default(),
        generated_at: cn_time(now),
        is_late: app.is_late,
        applicant,
        program: ProgramInfo {
            name: program.name_zh.clone(),
            code: program.code.clone(),
            year: program.year.to_string(),
            kind: label(&program_types, &program.program_type),
            country: label(&countries, &program.country),
        },
        choices,
        exchange,
        languages: loaded
            .languages
            .iter()
            .map(|l| LanguageLine {
                language: label(&languages, &l.language),
                exam_type: label(&exams, &l.exam_type),
                score: l.score.clone(),
                exam_date: l.exam_date.clone(),
            })
            .collect(),
        funding: FundingItem::ALL
            .iter()
            .map(|item| FundingLine {
                item: zh.t(item.label_key()).to_owned(),
                source: label(&funding, info.field(item.form_field()).unwrap_or_default()),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_is_offered_only_after_submit_and_not_while_the_student_edits_again() {
        let at = Some(Utc::now());
        assert!(!available(Status::Draft, None));
        assert!(available(Status::UnderReview, at));
        assert!(available(Status::Nominated, at));
        assert!(available(Status::Rejected, at));
        // 撤回修改 keeps the submission time but hands the form back.
        assert!(!available(Status::Draft, at));
        assert!(!available(Status::Returned, at));
    }

    #[test]
    fn the_download_is_named_after_the_applicant() {
        assert_eq!(file_name(" 王晓明 "), "王晓明出国（境）交流申请表.pdf");
    }
}
