//! The student's application pages: 申报须知, the steps (基本信息, 申请信息, 外语水平, 附件信息)
//! with 保存 / 保存并下一步, the 提交 check, 我的申请 with its 操作 menu, 申请查看 with its tabs,
//! and the actions 撤回修改, 申请删除, 补录分数.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde::Deserialize;

use crate::db::applications::{
    self as apps, ApplicationRow, AttachmentRow, HistoryRow, LanguageRow, ListRow, SupplementRow,
};
use crate::db::dicts::{self, DictItem, kind};
use crate::db::programs::{self, AttachmentType, PartnerSchool, ProgramRow};
use crate::db::students;
use crate::domain::FieldErrors;
use crate::domain::application::{
    ApplicationInfoForm, FundingItem, LanguageScoreForm, MAX_CHOICES, MissingField, Step,
};
use crate::domain::profile::ProfileForm;
use crate::domain::status::{Action, Status};
use crate::domain::values::StudyLevel;
use crate::services::application_view::{self as read, ApplicationView, Viewer};
use crate::services::applications::{self as service, SubmitError};
use crate::services::{ServiceError, profiles};
use crate::web::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{ClientIp, Ctx, Form, Path, Query, StudentCtx, redirect_flash, who};
use crate::web::forms::{error_of, summary};
use crate::web::layout::{FieldKind, FormField, FormSection, Layout, OptionGroup};
use crate::web::pages::cn_time;
use crate::web::pages::profile::{Dicts as ProfileDicts, editable_sections};
use crate::web::render::{html, html_status};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/programs/{id}/apply", get(notice).post(start))
        .route("/applications", get(list))
        .route("/applications/{id}", get(view))
        .route(
            "/applications/{id}/step/{step}",
            get(step_page).post(step_save),
        )
        .route("/applications/{id}/languages", post(language_add))
        .route(
            "/applications/{id}/languages/{row}",
            get(language_edit).post(language_update),
        )
        .route(
            "/applications/{id}/languages/{row}/delete",
            post(language_delete),
        )
        .route(
            "/applications/{id}/languages/{row}/backfill",
            post(backfill),
        )
        .route("/applications/{id}/submit", get(submit_page).post(submit))
        .route("/applications/{id}/withdraw", post(withdraw))
        .route("/applications/{id}/delete", post(delete))
}

// ---------------------------------------------------------------------------------------------
// 申报须知

#[derive(Template)]
#[template(path = "applications/notice.html")]
struct NoticePage {
    l: Layout,
    program: ProgramRow,
    opened: String,
    error: Option<String>,
}

/// The commitment text must stay on screen this long before 开始填报 counts.
const READ_FOR_MS: i64 = 2_000;

fn opened_token(state: &AppState, user_id: i64, program_id: i64, at_ms: i64) -> String {
    let sig = state
        .key
        .lookup_hash(&format!("notice:{user_id}:{program_id}:{at_ms}"));
    format!("{at_ms}.{}", &sig[..32])
}

/// How long ago the notice was shown, if the token is ours.
fn read_for(state: &AppState, user_id: i64, program_id: i64, token: &str) -> Option<i64> {
    let (at, _) = token.split_once('.')?;
    let at_ms: i64 = at.parse().ok()?;
    (opened_token(state, user_id, program_id, at_ms) == token)
        .then(|| Utc::now().timestamp_millis() - at_ms)
}

async fn notice_page(
    state: &AppState,
    ctx: &Ctx,
    program: ProgramRow,
    error: Option<String>,
) -> Response {
    let user_id = ctx.user.as_ref().map_or(0, |u| u.id);
    let opened = opened_token(state, user_id, program.id, Utc::now().timestamp_millis());
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html_status(
        status,
        NoticePage {
            l: ctx.layout("nav.programs", "apply.notice"),
            program,
            opened,
            error,
        },
    )
}

async fn notice(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let program = programs::visible_by_id(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let user = ctx.user()?;
    // Before the notice: a profile that misses required fields is sent there first (seed 001).
    let profile = students::profile_form(&state.db, &state.key, user.id)
        .await
        .map_err(AppError::Unexpected)?;
    if profile
        .as_ref()
        .is_none_or(|p| !profiles::missing_fields(p).is_empty())
    {
        let next = percent_encoding::utf8_percent_encode(
            &format!("/programs/{id}/apply"),
            percent_encoding::NON_ALPHANUMERIC,
        )
        .to_string();
        return Ok(redirect_flash(
            &format!("/profile?missing=1&next={next}"),
            "info",
            ctx.t("apply.complete_profile_first"),
        ));
    }
    let facts = crate::services::programs::student_facts(&state.db, user.id)
        .await?
        .unwrap_or_default();
    if let Some(reason) =
        crate::services::programs::apply_blockers(&program, &facts, Utc::now()).first()
    {
        let text = crate::web::pages::programs::blocker_text(ctx.lang, reason, &program);
        return Ok(redirect_flash(&format!("/programs/{id}"), "error", &text));
    }
    Ok(notice_page(&state, &ctx, program, None).await)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StartForm {
    opened: String,
    promise: String,
}

async fn start(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Form(form): Form<StartForm>,
) -> AppResult<Response> {
    let program = programs::visible_by_id(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let user = ctx.user()?;
    let error = match read_for(&state, user.id, id, &form.opened) {
        None => Some("apply.notice_expired"),
        Some(ms) if ms < READ_FOR_MS => Some("apply.read_longer"),
        Some(_) if form.promise != "yes" => Some("apply.promise_required"),
        Some(_) => None,
    };
    if let Some(key) = error {
        return Ok(notice_page(&state, &ctx, program, Some(ctx.t(key).to_owned())).await);
    }
    match service::start(
        &state.db,
        &state.key,
        &who(&ctx, &ip),
        user.id,
        id,
        Utc::now(),
    )
    .await
    {
        Ok(app_id) => {
            Ok(Redirect::to(&format!("/applications/{app_id}/step/basic")).into_response())
        }
        Err(ServiceError::Refused(key)) => {
            Ok(notice_page(&state, &ctx, program, Some(ctx.t(key).to_owned())).await)
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// The steps

/// One entry of the step indicator.
struct StepLink {
    code: &'static str,
    label: String,
    state: &'static str,
}

fn step_links(ctx: &Ctx, current: &str) -> Vec<StepLink> {
    let order = [
        "notice",
        "basic",
        "info",
        "languages",
        "attachments",
        "submit",
    ];
    let pos = order.iter().position(|s| *s == current).unwrap_or(0);
    order
        .iter()
        .enumerate()
        .map(|(i, code)| StepLink {
            code,
            label: ctx.t(&format!("apply.step.{code}")).to_owned(),
            state: match i.cmp(&pos) {
                std::cmp::Ordering::Less => "done",
                std::cmp::Ordering::Equal => "current",
                std::cmp::Ordering::Greater => "todo",
            },
        })
        .collect()
}

/// A 外语水平 row as shown.
pub struct LanguageView {
    pub id: i64,
    pub language: String,
    pub exam_type: String,
    pub score: String,
    pub exam_date: String,
    pub pending: bool,
    pub backfilled: bool,
}

/// An attachment type with its files, as shown on the 附件信息 step and tab.
pub struct TypeView {
    pub t: AttachmentType,
    pub name: String,
    pub formats: String,
    pub max: String,
    pub files: Vec<AttachmentRow>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "applications/step.html")]
struct StepPage {
    l: Layout,
    app: ApplicationRow,
    program: ProgramRow,
    step: &'static str,
    steps: Vec<StepLink>,
    sections: Vec<FormSection>,
    errors: Vec<String>,
    conflict: bool,
    languages: Vec<LanguageView>,
    types: Vec<TypeView>,
}

/// Everything a step page shows, loaded for one application.
pub struct StepData {
    pub app: ApplicationRow,
    pub program: ProgramRow,
    pub schools: Vec<PartnerSchool>,
}

async fn step_data(state: &AppState, student_id: i64, app_id: i64) -> AppResult<StepData> {
    let app = apps::own(&state.db, student_id, app_id)
        .await?
        .ok_or(AppError::NotFound)?;
    step_data_for(state, app).await
}

/// The same for an application whose visibility the caller has checked.
pub async fn step_data_for(state: &AppState, app: ApplicationRow) -> AppResult<StepData> {
    let program = programs::by_id(&state.db, app.program_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let schools = programs::partner_schools(&state.db, app.program_id).await?;
    Ok(StepData {
        app,
        program,
        schools,
    })
}

fn field_label(ctx: &Ctx, name: &str) -> String {
    ctx.t(&format!("field.{name}")).to_owned()
}

fn language_label(items: &[DictItem], code: &str, ctx: &Ctx) -> String {
    dicts::label_of(items, code, ctx.lang).to_owned()
}

/// The 申请信息 sections with values and errors.
pub async fn info_sections(
    state: &AppState,
    ctx: &Ctx,
    data: &StepData,
    form: &ApplicationInfoForm,
    errors: &FieldErrors,
) -> AppResult<Vec<FormSection>> {
    let funding = dicts::items(&state.db, kind::FUNDING_SOURCE).await?;
    let school_options: Vec<(String, String)> = data
        .schools
        .iter()
        .map(|s| {
            let name = if s.name_en.is_empty() || ctx.lang == crate::i18n::Lang::En {
                ctx.lang.pick(&s.name_zh, &s.name_en).to_owned()
            } else {
                format!("{}（{}）", s.name_zh, s.name_en)
            };
            (s.id.to_string(), name)
        })
        .collect();
    let f = |name: &str, kind: FieldKind, required: bool| {
        FormField::new(name, field_label(ctx, name), kind)
            .value(form.field(name).unwrap_or_default())
            .required(required)
            .error(error_of(errors, name, ctx.lang))
    };
    let hmt = data.program.region_kind == "hmt";
    let choices = MAX_CHOICES.min(data.schools.len().max(1));
    let mut study: Vec<FormField> = (1..=choices)
        .map(|i| {
            f(&format!("choice_{i}"), FieldKind::Select, i == 1).options(school_options.clone())
        })
        .collect();
    if let Some(first) = study.first_mut()
        && choices > 1
    {
        first.hint = Some(ctx.t("apply.hint.parallel_choices").to_owned());
    }
    let yes_no = |yes: &str, no: &str| {
        vec![
            ("yes".to_owned(), ctx.t(yes).to_owned()),
            ("no".to_owned(), ctx.t(no).to_owned()),
        ]
    };
    let mut return_field = f("return_date", FieldKind::Date, true);
    if hmt {
        return_field.label = ctx.t("field.return_date_hmt").to_owned();
    }
    study.extend([
        f("exchange_from", FieldKind::Date, true),
        f("exchange_to", FieldKind::Date, true),
        f("exchange_duration", FieldKind::Text, true).hint(ctx.t("apply.hint.duration")),
        f("depart_date", FieldKind::Date, true),
        return_field,
        f("gpa", FieldKind::Number, true),
        f("weighted_avg", FieldKind::Number, true),
        f("one_china_issue", FieldKind::Radio, true)
            .options(yes_no("common.have", "common.not_have")),
        f("group_leader", FieldKind::Text, false),
    ]);
    let passport = vec![
        f("has_passport", FieldKind::Radio, false).options(yes_no("common.yes", "common.no")),
        f("passport_no", FieldKind::Text, false).hint(ctx.t("apply.hint.passport")),
        f("passport_expiry", FieldKind::Date, false),
    ];
    let emergency = vec![
        f("emergency_relation", FieldKind::Text, true),
        f("emergency_name", FieldKind::Text, true),
        f("emergency_phone", FieldKind::Tel, true).hint(ctx.t("apply.hint.emergency_phone")),
    ];
    let funding_fields = FundingItem::ALL
        .iter()
        .map(|item| {
            FormField::new(
                item.form_field(),
                ctx.t(item.label_key()),
                FieldKind::Select,
            )
            .value(form.field(item.form_field()).unwrap_or_default())
            .required(true)
            .options(dicts::options(&funding, ctx.lang))
            .error(error_of(errors, item.form_field(), ctx.lang))
        })
        .collect();
    Ok(vec![
        FormSection {
            title: ctx.t("apply.section.study").to_owned(),
            note: None,
            fields: study,
        },
        FormSection {
            title: ctx.t("apply.section.passport").to_owned(),
            note: Some(ctx.t("apply.note.passport").to_owned()),
            fields: passport,
        },
        FormSection {
            title: ctx.t("apply.section.emergency").to_owned(),
            note: Some(ctx.t("apply.note.emergency").to_owned()),
            fields: emergency,
        },
        FormSection {
            title: ctx.t("apply.section.funding").to_owned(),
            note: Some(ctx.t("apply.note.funding").to_owned()),
            fields: funding_fields,
        },
    ])
}

/// 基本信息's registry part (学号, 院系, 专业 …): from the university's records, shown read-only
/// with the step's own words (seed 001), coded values as labels. These fields are not posted.
fn registry_section(ctx: &Ctx, r: &students::Registry) -> FormSection {
    let level = StudyLevel::from_code(&r.level);
    let item = |name: &str, value: String| {
        FormField::new(
            name,
            ctx.t(&format!("apply.registry.{name}")),
            FieldKind::Text,
        )
        .value(value)
        .readonly(true)
    };
    FormSection {
        title: ctx.t("apply.section.registry").to_owned(),
        note: Some(ctx.t("profile.registry_note").to_owned()),
        fields: vec![
            item("student_no", r.student_no.clone()),
            item(
                "college",
                ctx.lang
                    .pick(&r.college_name_zh, &r.college_name_en)
                    .to_owned(),
            ),
            item(
                "major",
                ctx.lang.pick(&r.major_name_zh, &r.major_name_en).to_owned(),
            ),
            item(
                "is_graduate",
                level
                    .map(|l| {
                        ctx.t(if l.is_graduate() {
                            "common.yes"
                        } else {
                            "common.no"
                        })
                    })
                    .unwrap_or_default()
                    .to_owned(),
            ),
            item("entry_year", r.entry_year.clone()),
            item(
                "level",
                level
                    .map(|l| ctx.t(l.label_key()).to_owned())
                    .unwrap_or_else(|| r.level.clone()),
            ),
            item("grade", r.grade.clone()),
            item("schooling_years", r.schooling_years.clone()),
        ],
    }
}

/// A new draft's 申请信息 starts from the profile: GPA and the emergency contact.
fn prefill_info(info: &mut ApplicationInfoForm, profile: &ProfileForm) {
    if info.gpa.is_empty() {
        info.gpa = profile.gpa.clone();
    }
    if info.emergency_name.is_empty() && info.emergency_phone.is_empty() {
        info.emergency_name = profile.emergency_name.clone();
        info.emergency_phone = profile.emergency_mobile.clone();
        info.emergency_relation = profile.emergency_relation.clone();
    }
    if info.passport_no.is_empty() && !profile.passport_no.is_empty() {
        info.has_passport = "yes".into();
        info.passport_no = profile.passport_no.clone();
        info.passport_expiry = profile.passport_expiry.clone();
    }
}

/// The 达标方式 choices grouped by the language they show, in the languages' order, then the
/// exams of any language: every group is drawn, and the page's script keeps the chosen
/// language's (the server refuses a mismatched pair either way).
fn exam_groups(ctx: &Ctx, languages: &[DictItem], exams: &[dicts::ExamItem]) -> Vec<OptionGroup> {
    let group = |label: String, for_value: &str| OptionGroup {
        label,
        for_value: for_value.to_owned(),
        options: exams
            .iter()
            .filter(|e| e.language == for_value)
            .map(|e| (e.item.code.clone(), e.item.label(ctx.lang).to_owned()))
            .collect(),
    };
    languages
        .iter()
        .map(|l| group(l.label(ctx.lang).to_owned(), &l.code))
        .chain([group(ctx.t("apply.exams_any_language").to_owned(), "")])
        .filter(|g| !g.options.is_empty())
        .collect()
}

/// The 外语水平 add (or edit) form.
async fn language_section(
    state: &AppState,
    ctx: &Ctx,
    form: &LanguageScoreForm,
    errors: &FieldErrors,
) -> AppResult<FormSection> {
    let languages = dicts::items(&state.db, kind::LANGUAGE).await?;
    let exams = dicts::exams(&state.db).await?;
    let f = |name: &str, kind: FieldKind, required: bool, value: &str| {
        FormField::new(name, field_label(ctx, name), kind)
            .value(value)
            .required(required)
            .error(error_of(errors, name, ctx.lang))
    };
    Ok(FormSection {
        title: ctx.t("apply.section.language_row").to_owned(),
        note: Some(ctx.t("apply.note.languages").to_owned()),
        fields: vec![
            f("language", FieldKind::Select, true, &form.language)
                .options(dicts::options(&languages, ctx.lang)),
            f("exam_type", FieldKind::Select, true, &form.exam_type)
                .grouped_by("language", exam_groups(ctx, &languages, &exams)),
            f("score", FieldKind::Text, false, &form.score).hint(ctx.t("apply.hint.score_pending")),
            f("exam_date", FieldKind::Date, true, &form.exam_date),
        ],
    })
}

async fn language_views(state: &AppState, ctx: &Ctx, app_id: i64) -> AppResult<Vec<LanguageView>> {
    let languages = dicts::items(&state.db, kind::LANGUAGE).await?;
    let exams = dicts::items(&state.db, kind::EXAM_TYPE).await?;
    Ok(apps::languages(&state.db, app_id)
        .await?
        .into_iter()
        .map(|r: LanguageRow| LanguageView {
            id: r.id,
            language: language_label(&languages, &r.language, ctx),
            exam_type: language_label(&exams, &r.exam_type, ctx),
            pending: r.score.is_empty(),
            backfilled: r.backfilled_at.is_some(),
            score: r.score,
            exam_date: r.exam_date,
        })
        .collect())
}

/// The attachment types of the program with the files uploaded for each.
pub async fn type_views(
    state: &AppState,
    ctx: &Ctx,
    app: &ApplicationRow,
    error: Option<(i64, String)>,
) -> AppResult<Vec<TypeView>> {
    let files = apps::attachments(&state.db, app.id).await?;
    Ok(programs::attachment_types(&state.db, app.program_id)
        .await?
        .into_iter()
        .map(|t| TypeView {
            name: ctx.lang.pick(&t.name_zh, &t.name_en).to_owned(),
            formats: t
                .formats()
                .iter()
                .map(|f| f.ext().to_uppercase())
                .collect::<Vec<_>>()
                .join(" / "),
            max: human_size(t.max_bytes),
            files: files
                .iter()
                .filter(|f| f.attachment_type_id == Some(t.id))
                .cloned()
                .collect(),
            error: error
                .as_ref()
                .filter(|(id, _)| *id == t.id)
                .map(|(_, e)| e.clone()),
            t,
        })
        .collect())
}

/// 1048576 → "1 MB".
pub fn human_size(bytes: impl std::borrow::Borrow<i64>) -> String {
    let bytes = *bytes.borrow();
    if bytes >= 1024 * 1024 {
        let mb = bytes as f64 / (1024.0 * 1024.0);
        if (mb - mb.round()).abs() < 0.05 {
            format!("{:.0} MB", mb)
        } else {
            format!("{:.1} MB", mb)
        }
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

/// What a step page draws beyond the frame.
#[derive(Default)]
pub struct StepExtras {
    pub errors: FieldErrors,
    pub conflict: bool,
    pub profile: Option<ProfileForm>,
    pub info: Option<ApplicationInfoForm>,
    pub language: Option<LanguageScoreForm>,
    pub upload_error: Option<(i64, String)>,
}

/// Renders one step with the given values and errors.
pub async fn render_step(
    state: &AppState,
    ctx: &Ctx,
    app_id: i64,
    step: Step,
    extras: StepExtras,
) -> AppResult<Response> {
    let user = ctx.user()?;
    let data = step_data(state, user.id, app_id).await?;
    if !data.app.status().is_editable_by_student() {
        return Ok(redirect_flash(
            &format!("/applications/{app_id}"),
            "info",
            ctx.t("apply.not_editable"),
        ));
    }
    let mut sections = Vec::new();
    let mut languages = Vec::new();
    let mut types = Vec::new();
    match step {
        Step::Basic => {
            let profile = match extras.profile {
                Some(p) => p,
                None => students::profile_form(&state.db, &state.key, user.id)
                    .await
                    .map_err(AppError::Unexpected)?
                    .unwrap_or_default(),
            };
            let dicts = ProfileDicts::load(state).await?;
            // The registry comes first, read-only, as on the paper form (seed 001).
            if let Some(registry) = students::registry(&state.db, user.id).await? {
                sections.push(registry_section(ctx, &registry));
            }
            sections.extend(editable_sections(ctx, &dicts, &profile, &extras.errors));
        }
        Step::Info => {
            let info = match extras.info {
                Some(i) => i,
                None => {
                    let mut info = service::info_form(&state.key, &data.app)?;
                    if data.app.info.trim() == "{}" {
                        let profile = students::profile_form(&state.db, &state.key, user.id)
                            .await
                            .map_err(AppError::Unexpected)?
                            .unwrap_or_default();
                        prefill_info(&mut info, &profile);
                    }
                    info
                }
            };
            sections = info_sections(state, ctx, &data, &info, &extras.errors).await?;
        }
        Step::Languages => {
            languages = language_views(state, ctx, app_id).await?;
            let form = extras.language.unwrap_or_default();
            sections = vec![language_section(state, ctx, &form, &extras.errors).await?];
        }
        Step::Attachments => {
            types = type_views(state, ctx, &data.app, extras.upload_error).await?;
        }
    }
    let status = if extras.conflict {
        StatusCode::CONFLICT
    } else if extras.errors.is_empty() && types.iter().all(|t| t.error.is_none()) {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let title = format!(
        "{} · {}",
        ctx.t(&format!("apply.step.{}", step.code())),
        ctx.lang.pick(&data.program.name_zh, &data.program.name_en)
    );
    Ok(html_status(
        status,
        StepPage {
            l: ctx.layout_titled("nav.applications", title),
            steps: step_links(ctx, step.code()),
            step: step.code(),
            errors: summary(&extras.errors, ctx.lang),
            conflict: extras.conflict,
            sections,
            languages,
            types,
            app: data.app,
            program: data.program,
        },
    ))
}

fn parse_step(code: &str) -> AppResult<Step> {
    Step::from_code(code).ok_or(AppError::NotFound)
}

async fn step_page(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    Path((id, step)): Path<(i64, String)>,
) -> AppResult<Response> {
    render_step(&state, &ctx, id, parse_step(&step)?, StepExtras::default()).await
}

fn next_step(step: Step) -> &'static str {
    match step {
        Step::Basic => "step/info",
        Step::Info => "step/languages",
        Step::Languages => "step/attachments",
        Step::Attachments => "submit",
    }
}

/// The buttons every step posts: `action=save` (保存) or `action=next` (保存并下一步).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StepButtons {
    action: String,
    version: String,
}

async fn step_save(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ClientIp(ip): ClientIp,
    Path((id, step)): Path<(i64, String)>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let step = parse_step(&step)?;
    let user = ctx.user()?.clone();
    let buttons: StepButtons = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let app = apps::own(&state.db, user.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !app.status().is_editable_by_student() {
        return Ok(redirect_flash(
            &format!("/applications/{id}"),
            "error",
            ctx.t("apply.not_editable"),
        ));
    }
    let who = who(&ctx, &ip);
    let saved = match step {
        Step::Basic => {
            let form: ProfileForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
            match profiles::save_profile(&state.db, &state.key, &who, user.id, form.clone()).await {
                Ok(()) => Ok(()),
                Err(ServiceError::Invalid(errors)) => {
                    return render_step(
                        &state,
                        &ctx,
                        id,
                        step,
                        StepExtras {
                            errors,
                            profile: Some(form),
                            ..Default::default()
                        },
                    )
                    .await;
                }
                Err(e) => Err(e),
            }
        }
        Step::Info => {
            let form: ApplicationInfoForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
            let seen = buttons.version.parse().unwrap_or(-1);
            match service::save_info(&state.db, &state.key, user.id, id, seen, form.clone()).await {
                Ok(_) => Ok(()),
                Err(ServiceError::Invalid(errors)) => {
                    return render_step(
                        &state,
                        &ctx,
                        id,
                        step,
                        StepExtras {
                            errors,
                            info: Some(form),
                            ..Default::default()
                        },
                    )
                    .await;
                }
                Err(ServiceError::Conflict(_)) => {
                    // Keep what the person typed; the page now carries the current version, so
                    // saving again is a conscious overwrite.
                    return render_step(
                        &state,
                        &ctx,
                        id,
                        step,
                        StepExtras {
                            conflict: true,
                            info: Some(form),
                            ..Default::default()
                        },
                    )
                    .await;
                }
                Err(e) => Err(e),
            }
        }
        Step::Languages => {
            let form: LanguageScoreForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
            let blank = form.language.is_empty()
                && form.exam_type.is_empty()
                && form.score.is_empty()
                && form.exam_date.is_empty();
            if blank {
                Ok(())
            } else {
                match service::add_language(&state.db, user.id, id, form.clone()).await {
                    Ok(_) => Ok(()),
                    Err(ServiceError::Invalid(errors)) => {
                        return render_step(
                            &state,
                            &ctx,
                            id,
                            step,
                            StepExtras {
                                errors,
                                language: Some(form),
                                ..Default::default()
                            },
                        )
                        .await;
                    }
                    Err(e) => Err(e),
                }
            }
        }
        Step::Attachments => Ok(()),
    };
    saved?;
    let to = if buttons.action == "next" {
        format!("/applications/{id}/{}", next_step(step))
    } else {
        format!("/applications/{id}/step/{}", step.code())
    };
    Ok(redirect_flash(&to, "success", ctx.t("apply.saved")))
}

async fn language_add(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    Path(id): Path<i64>,
    Form(form): Form<LanguageScoreForm>,
) -> AppResult<Response> {
    let user = ctx.user()?;
    match service::add_language(&state.db, user.id, id, form.clone()).await {
        Ok(_) => Ok(redirect_flash(
            &format!("/applications/{id}/step/languages"),
            "success",
            ctx.t("apply.language_added"),
        )),
        Err(ServiceError::Invalid(errors)) => {
            render_step(
                &state,
                &ctx,
                id,
                Step::Languages,
                StepExtras {
                    errors,
                    language: Some(form),
                    ..Default::default()
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "applications/language_edit.html")]
struct LanguageEditPage {
    l: Layout,
    app_id: i64,
    row_id: i64,
    section: FormSection,
}

async fn language_edit_page(
    state: &AppState,
    ctx: &Ctx,
    app_id: i64,
    row_id: i64,
    form: Option<LanguageScoreForm>,
    errors: FieldErrors,
) -> AppResult<Response> {
    let user = ctx.user()?;
    let app = apps::own(&state.db, user.id, app_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let row = apps::languages(&state.db, app.id)
        .await?
        .into_iter()
        .find(|r| r.id == row_id)
        .ok_or(AppError::NotFound)?;
    let form = form.unwrap_or_else(|| row.form());
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let section = language_section(state, ctx, &form, &errors).await?;
    Ok(html_status(
        status,
        LanguageEditPage {
            l: ctx.layout("nav.applications", "apply.edit_language"),
            app_id,
            row_id,
            section,
        },
    ))
}

async fn language_edit(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    Path((id, row)): Path<(i64, i64)>,
) -> AppResult<Response> {
    language_edit_page(&state, &ctx, id, row, None, FieldErrors::new()).await
}

async fn language_update(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    Path((id, row)): Path<(i64, i64)>,
    Form(form): Form<LanguageScoreForm>,
) -> AppResult<Response> {
    let user = ctx.user()?;
    match service::update_language(&state.db, user.id, id, row, form.clone()).await {
        Ok(()) => Ok(redirect_flash(
            &format!("/applications/{id}/step/languages"),
            "success",
            ctx.t("apply.saved"),
        )),
        Err(ServiceError::Invalid(errors)) => {
            language_edit_page(&state, &ctx, id, row, Some(form), errors).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn language_delete(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    Path((id, row)): Path<(i64, i64)>,
) -> AppResult<Response> {
    service::delete_language(&state.db, ctx.user()?.id, id, row).await?;
    Ok(redirect_flash(
        &format!("/applications/{id}/step/languages"),
        "success",
        ctx.t("apply.language_deleted"),
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BackfillForm {
    score: String,
}

async fn backfill(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ClientIp(ip): ClientIp,
    Path((id, row)): Path<(i64, i64)>,
    Form(form): Form<BackfillForm>,
) -> AppResult<Response> {
    let back = format!("/applications/{id}?tab=detail");
    match service::backfill_score(
        &state.db,
        &who(&ctx, &ip),
        ctx.user()?.id,
        id,
        row,
        &form.score,
    )
    .await
    {
        Ok(()) => Ok(redirect_flash(&back, "success", ctx.t("apply.backfilled"))),
        Err(ServiceError::Invalid(errors)) => {
            let text = summary(&errors, ctx.lang).join("；");
            Ok(redirect_flash(&back, "error", &text))
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// 提交

/// A problem found by the submit check, with its link.
struct Problem {
    step: String,
    label: String,
    message: String,
    href: String,
}

fn problems(
    ctx: &Ctx,
    app_id: i64,
    missing: &[MissingField],
    types: &[AttachmentType],
) -> Vec<Problem> {
    missing
        .iter()
        .map(|m| {
            let label = match m.attachment_type() {
                Some(t) => types
                    .iter()
                    .find(|x| x.id == t)
                    .map(|x| ctx.lang.pick(&x.name_zh, &x.name_en).to_owned())
                    .unwrap_or_default(),
                None if m.field == "languages" => ctx.t("apply.step.languages").to_owned(),
                None => field_label(ctx, m.field_name()),
            };
            let anchor = match m.step {
                Step::Languages if m.field != "languages" => "language-rows".to_owned(),
                Step::Attachments => format!("type-{}", m.attachment_type().unwrap_or(0)),
                _ => format!("f-{}", m.field_name()),
            };
            Problem {
                step: ctx.t(&format!("apply.step.{}", m.step.code())).to_owned(),
                label,
                message: ctx.t(m.code).to_owned(),
                href: format!("/applications/{app_id}/step/{}#{anchor}", m.step.code()),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "applications/submit.html")]
struct SubmitPage {
    l: Layout,
    app: ApplicationRow,
    program: ProgramRow,
    steps: Vec<StepLink>,
    /// Nothing missing and no rule refuses it: the only case 提交 is offered.
    can_submit: bool,
    problems: Vec<Problem>,
    refusal: Option<String>,
}

/// The 提交 page: 提交 is offered only when the service's check finds nothing missing and no
/// rule (window, eligibility, 本轮限报项目数) that would refuse it; otherwise the page says why.
/// `refused` is what a submit just answered, shown should the check no longer find it.
async fn submit_page_with(
    state: &AppState,
    ctx: &Ctx,
    app_id: i64,
    status: StatusCode,
    refused: Option<&'static str>,
) -> AppResult<Response> {
    let user = ctx.user()?;
    let app = apps::own(&state.db, user.id, app_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !app.status().is_editable_by_student() {
        return Ok(redirect_flash(
            &format!("/applications/{app_id}"),
            "info",
            ctx.t("apply.not_editable"),
        ));
    }
    let mut check =
        service::submit_check(&state.db, &state.key, user.id, app_id, Utc::now()).await?;
    check.refusal = check.refusal.or(refused);
    let types = programs::attachment_types(&state.db, check.loaded.app.program_id).await?;
    let problems = problems(ctx, app_id, &check.missing, &types);
    let status = if check.can_submit() {
        status
    } else {
        StatusCode::UNPROCESSABLE_ENTITY.max(status)
    };
    Ok(html_status(
        status,
        SubmitPage {
            l: ctx.layout("nav.applications", "apply.step.submit"),
            steps: step_links(ctx, "submit"),
            can_submit: check.can_submit(),
            problems,
            refusal: check.refusal.map(|key| ctx.t(key).to_owned()),
            app: check.loaded.app,
            program: check.loaded.program,
        },
    ))
}

async fn submit_page(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    submit_page_with(&state, &ctx, id, StatusCode::OK, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct VersionForm {
    version: String,
}

async fn submit(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Form(form): Form<VersionForm>,
) -> AppResult<Response> {
    let user = ctx.user()?;
    let seen = form.version.parse().unwrap_or(-1);
    match service::submit(
        &state.db,
        &state.key,
        &who(&ctx, &ip),
        user.id,
        id,
        seen,
        Utc::now(),
    )
    .await
    {
        Ok(_) => Ok(redirect_flash(
            &format!("/applications/{id}"),
            "success",
            ctx.t("apply.submitted"),
        )),
        // The page checks again and says why, from the same rules the service applied.
        Err(SubmitError::Incomplete(_)) => {
            submit_page_with(&state, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, None).await
        }
        Err(SubmitError::Service(ServiceError::Refused(key))) => {
            submit_page_with(
                &state,
                &ctx,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(key),
            )
            .await
        }
        Err(SubmitError::Service(ServiceError::Conflict(key))) => {
            // A double click or a second tab: if it went through, say so instead of failing.
            let app = apps::own(&state.db, user.id, id)
                .await?
                .ok_or(AppError::NotFound)?;
            if app.status() == Status::UnderReview && app.version == seen + 1 {
                return Ok(redirect_flash(
                    &format!("/applications/{id}"),
                    "info",
                    ctx.t("apply.already_submitted"),
                ));
            }
            Err(AppError::Conflict(key))
        }
        Err(SubmitError::Service(e)) => Err(e.into()),
    }
}

async fn withdraw(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Form(form): Form<VersionForm>,
) -> AppResult<Response> {
    let seen = form.version.parse().unwrap_or(-1);
    match service::withdraw(&state.db, &who(&ctx, &ip), ctx.user()?.id, id, seen).await {
        Ok(()) => Ok(redirect_flash(
            &format!("/applications/{id}/step/basic"),
            "success",
            ctx.t("apply.withdrawn"),
        )),
        Err(ServiceError::Refused(key)) => Ok(redirect_flash(
            &format!("/applications/{id}"),
            "error",
            ctx.t(key),
        )),
        Err(e) => Err(e.into()),
    }
}

async fn delete(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Form(form): Form<VersionForm>,
) -> AppResult<Response> {
    let seen = form.version.parse().unwrap_or(-1);
    match service::delete_draft(
        &state.db,
        &state.storage,
        &who(&ctx, &ip),
        ctx.user()?.id,
        id,
        seen,
    )
    .await
    {
        Ok(()) => Ok(redirect_flash(
            "/applications",
            "success",
            ctx.t("apply.deleted"),
        )),
        Err(ServiceError::Refused(key)) => Ok(redirect_flash(
            &format!("/applications/{id}"),
            "error",
            ctx.t(key),
        )),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// 我的申请 and 申请查看

/// What the 操作 menu offers for one application: the viewer's actions from the state machine.
#[derive(Default)]
pub struct Ops {
    pub view: bool,
    pub edit: bool,
    pub delete: bool,
    pub withdraw: bool,
    pub backfill: bool,
    pub supplement: bool,
    pub submit: bool,
}

impl Ops {
    /// The buttons for these actions.
    pub fn of(actions: &[Action]) -> Ops {
        let has = |a: Action| actions.contains(&a);
        Ops {
            view: true,
            edit: has(Action::Edit),
            delete: has(Action::Delete),
            withdraw: has(Action::WithdrawForEdit),
            backfill: has(Action::BackfillScore),
            supplement: has(Action::UploadSupplement),
            submit: has(Action::Submit) || has(Action::Resubmit),
        }
    }
}

struct ListItem {
    row: ListRow,
    status: Status,
    type_label: String,
    ops: Ops,
}

#[derive(Template)]
#[template(path = "applications/list.html")]
struct ListPage {
    l: Layout,
    items: Vec<ListItem>,
}

async fn list(State(state): State<AppState>, StudentCtx(ctx): StudentCtx) -> AppResult<Response> {
    let user = ctx.user()?;
    let types = dicts::items(&state.db, kind::PROGRAM_TYPE).await?;
    let mut items = Vec::new();
    for row in apps::list_for_student(&state.db, user.id).await? {
        let app = apps::own(&state.db, user.id, row.id)
            .await?
            .ok_or(AppError::NotFound)?;
        let actions = read::student_actions(&state.db, &app).await?;
        items.push(ListItem {
            type_label: dicts::label_of(&types, &row.program_type, ctx.lang).to_owned(),
            ops: Ops::of(&actions),
            status: row.status(),
            row,
        });
    }
    Ok(html(ListPage {
        l: ctx.layout("nav.applications", "nav.applications"),
        items,
    }))
}

/// A key/value line of a 查看 tab.
pub struct Kv {
    pub label: String,
    pub value: String,
}

pub struct HistoryView {
    pub row: HistoryRow,
    /// The step as a person would say it.
    pub text: String,
    pub opinion: String,
    pub status: Status,
    pub when: String,
}

/// Everything the 申请查看 tabs show of one application; staff see the same tabs.
pub struct AppView {
    pub app: ApplicationRow,
    pub program: ProgramRow,
    pub status: Status,
    /// The current stage's name while a review runs or the student revises.
    pub stage: String,
    pub basic: Vec<Kv>,
    pub detail: Vec<Kv>,
    pub funding: Vec<Kv>,
    pub languages: Vec<LanguageView>,
    pub types: Vec<TypeView>,
    pub supplements: Vec<SupplementRow>,
    pub supplement_files: Vec<AttachmentRow>,
    pub history: Vec<HistoryView>,
}

#[derive(Template)]
#[template(path = "applications/view.html")]
struct ViewPage {
    l: Layout,
    v: AppView,
    /// Where the tabs and file links point: `/applications/{id}`.
    base: String,
    tab: String,
    ops: Ops,
    tabs: Vec<(&'static str, String, bool)>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TabQuery {
    tab: String,
}

const TABS: [&str; 6] = [
    "progress",
    "basic",
    "detail",
    "funding",
    "attachments",
    "history",
];

async fn view(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    Path(id): Path<i64>,
    Query(q): Query<TabQuery>,
) -> AppResult<Response> {
    let viewer = Viewer::Student {
        user_id: ctx.user()?.id,
    };
    let view = read::view(&state.db, &state.key, &viewer, id).await?;
    let ops = Ops::of(&view.actions);
    let v = app_view(&state, &ctx, view).await?;
    let (tab, tabs) = tabs(&ctx, &q.tab);
    let title = ctx
        .lang
        .pick(&v.program.name_zh, &v.program.name_en)
        .to_owned();
    Ok(html(ViewPage {
        l: ctx.layout_titled("nav.applications", title),
        base: format!("/applications/{id}"),
        v,
        tab,
        ops,
        tabs,
    }))
}

/// The tab asked for (or 进度跟踪) and the tab bar.
pub fn tabs(ctx: &Ctx, asked: &str) -> (String, Vec<(&'static str, String, bool)>) {
    let tab = TABS
        .iter()
        .copied()
        .find(|t| *t == asked)
        .unwrap_or("progress");
    let bar = TABS
        .iter()
        .copied()
        .map(|t| (t, ctx.t(&format!("apply.tab.{t}")).to_owned(), t == tab))
        .collect();
    (tab.to_owned(), bar)
}

/// What the 申请查看 tabs show of the service's ready view, in the viewer's language.
pub async fn app_view(state: &AppState, ctx: &Ctx, view: ApplicationView) -> AppResult<AppView> {
    let stage = view.stage_name().get(ctx.lang).to_owned();
    let ApplicationView {
        app,
        program,
        status,
        basic,
        supplements,
        history,
        ..
    } = view;
    let id = app.id;
    let basic = basic
        .iter()
        .map(|f| Kv {
            label: field_label(ctx, f.name),
            value: f.value.get(ctx.lang).to_owned(),
        })
        .collect();

    let info = app.info_form();
    let schools = programs::partner_schools(&state.db, app.program_id).await?;
    let school_name = |raw: &str| {
        raw.parse::<i64>()
            .ok()
            .and_then(|sid| schools.iter().find(|s| s.id == sid))
            .map(|s| ctx.lang.pick(&s.name_zh, &s.name_en).to_owned())
            .unwrap_or_default()
    };
    let mut detail = Vec::new();
    for (i, c) in [
        &info.choice_1,
        &info.choice_2,
        &info.choice_3,
        &info.choice_4,
        &info.choice_5,
    ]
    .iter()
    .enumerate()
    {
        if !c.is_empty() {
            detail.push(Kv {
                label: field_label(ctx, &format!("choice_{}", i + 1)),
                value: school_name(c),
            });
        }
    }
    for f in [
        "exchange_from",
        "exchange_to",
        "exchange_duration",
        "depart_date",
        "return_date",
        "gpa",
        "weighted_avg",
        "group_leader",
        "emergency_relation",
        "emergency_name",
        "emergency_phone",
    ] {
        detail.push(Kv {
            label: field_label(ctx, f),
            value: info.field(f).unwrap_or_default().to_owned(),
        });
    }
    detail.push(Kv {
        label: field_label(ctx, "one_china_issue"),
        value: match info.one_china_issue.as_str() {
            "yes" => ctx.t("common.have").to_owned(),
            "no" => ctx.t("common.not_have").to_owned(),
            _ => String::new(),
        },
    });
    detail.push(Kv {
        label: field_label(ctx, "has_passport"),
        value: match info.has_passport.as_str() {
            "yes" => ctx.t("common.yes").to_owned(),
            "no" => ctx.t("common.no").to_owned(),
            _ => String::new(),
        },
    });
    let funding_items = dicts::items(&state.db, kind::FUNDING_SOURCE).await?;
    let funding = FundingItem::ALL
        .iter()
        .map(|item| Kv {
            label: ctx.t(item.label_key()).to_owned(),
            value: dicts::label_of(
                &funding_items,
                info.field(item.form_field()).unwrap_or_default(),
                ctx.lang,
            )
            .to_owned(),
        })
        .collect();
    let languages = language_views(state, ctx, id).await?;
    let types = type_views(state, ctx, &app, None).await?;
    let supplement_files = apps::attachments(&state.db, id)
        .await?
        .into_iter()
        .filter(|a| a.supplement_request_id.is_some())
        .collect();
    let history = history
        .into_iter()
        .map(|h| HistoryView {
            text: h.text.get(ctx.lang).to_owned(),
            opinion: h.opinion.get(ctx.lang).to_owned(),
            status: h.status,
            when: cn_time(h.row.created_at),
            row: h.row,
        })
        .collect::<Vec<_>>();
    Ok(AppView {
        app,
        program,
        status,
        stage,
        basic,
        detail,
        funding,
        languages,
        types,
        supplements,
        supplement_files,
        history,
    })
}
