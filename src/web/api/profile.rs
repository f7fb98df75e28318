//! 个人中心 · 我的个人资料: the student's own profile, read and saved through the same service
//! as the HTML form. The owner sees their own values in full, as in the form.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ErrorBody, FormJson};
use crate::db::students;
use crate::domain::ProfileForm;
use crate::services::profiles;
use crate::web::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::who;
use crate::web::extract::{ClientIp, StudentCtx};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(show, save))
}

/// 学籍信息: from the university's records, read-only ("如系统信息不符，请联系国际处修改后台信息").
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistryInfo {
    /// 学号.
    pub student_no: String,
    pub college_id: i64,
    pub college_name_zh: String,
    pub college_name_en: String,
    pub major_id: Option<i64>,
    pub major_name_zh: String,
    pub major_name_en: String,
    /// 年级.
    pub grade: String,
    /// 在读学历: `undergraduate`, `master` or `doctoral`.
    pub level: String,
    /// 学制.
    pub schooling_years: String,
    /// 所属届别.
    pub entry_year: String,
    pub has_photo: bool,
}

/// The profile: registry (read-only), the editable form, and what is still missing before
/// applying.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileView {
    pub registry: RegistryInfo,
    pub profile: ProfileForm,
    /// Required fields still empty: they must be filled before applying.
    pub missing: Vec<String>,
}

async fn view(state: &AppState, user_id: i64) -> AppResult<ProfileView> {
    let r = students::registry(&state.db, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let profile = students::profile_form(&state.db, &state.key, user_id)
        .await?
        .unwrap_or_default();
    Ok(ProfileView {
        missing: profiles::missing_fields(&profile)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        profile,
        registry: RegistryInfo {
            student_no: r.student_no,
            college_id: r.college_id,
            college_name_zh: r.college_name_zh,
            college_name_en: r.college_name_en,
            major_id: r.major_id,
            major_name_zh: r.major_name_zh,
            major_name_en: r.major_name_en,
            grade: r.grade,
            level: r.level,
            schooling_years: r.schooling_years,
            entry_year: r.entry_year,
            has_photo: r.photo_key.is_some(),
        },
    })
}

/// 我的个人资料 / My profile.
#[utoipa::path(
    get,
    path = "/profile",
    tag = "profile",
    responses(
        (status = 200, description = "The profile", body = ProfileView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a student", body = ErrorBody),
        (status = 404, description = "No student record", body = ErrorBody),
    )
)]
async fn show(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
) -> AppResult<axum::Json<ProfileView>> {
    Ok(axum::Json(view(&state, ctx.user()?.id).await?))
}

/// 保存个人资料 / Save the profile.
///
/// Replaces every editable field (send back the `profile` of GET, changed). A profile may be
/// incomplete but never wrong: every wrong field is listed at once (422).
#[utoipa::path(
    put,
    path = "/profile",
    tag = "profile",
    request_body = ProfileForm,
    responses(
        (status = 200, description = "Saved; the profile as stored", body = ProfileView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Every wrong field", body = ErrorBody),
    )
)]
async fn save(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ClientIp(ip): ClientIp,
    FormJson(form): FormJson<ProfileForm>,
) -> AppResult<axum::Json<ProfileView>> {
    let user_id = ctx.user()?.id;
    profiles::save_profile(&state.db, &state.key, &who(&ctx, &ip), user_id, form).await?;
    Ok(axum::Json(view(&state, user_id).await?))
}
