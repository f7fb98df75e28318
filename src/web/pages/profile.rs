//! 个人中心 · 我的个人资料 (SPEC §3): the student's profile form, 学习经历 and 证件照.
//!
//! Students only ([`StudentCtx`]), and only their own record: every query is keyed by the
//! signed-in person's id, never by an id from the request. The form is data-driven: [`SECTIONS`]
//! lists the fields, and the shared macros draw them. `?next=/local/path` brings the student
//! back to where they came from (the application flow) once the profile is complete;
//! `?missing=1` highlights the banner of required fields still missing.

use askama::Template;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use crate::db::dicts::{self, DictItem, kind};
use crate::db::students::{self, Registry, StudyRecordRow};
use crate::domain::values::{Gender, IdType, MaritalStatus, StudyLevel};
use crate::domain::{FieldErrors, ProfileForm, StudyRecordForm};
use crate::services::{ServiceError, profiles};
use crate::web::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{ClientIp, Ctx, Form, Path, Query, StudentCtx, redirect_flash, who};
use crate::web::forms::{error_of, safe_back, summary};
use crate::web::layout::{FieldKind, FormField, FormSection, Layout};
use crate::web::render::{html, html_status};

/// The largest photo upload body read at all (the photo itself may be 2 MB; the rest is the
/// multipart framing), so that a huge body is cut off early.
const PHOTO_BODY_LIMIT: usize = 3 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/profile", get(show).post(save))
        .route("/profile/study", get(new_record).post(create_record))
        .route("/profile/study/{id}", get(edit_record).post(update_record))
        .route("/profile/study/{id}/delete", post(delete_record))
        .route(
            "/profile/photo",
            get(photo)
                .post(upload_photo)
                .layer(DefaultBodyLimit::max(PHOTO_BODY_LIMIT)),
        )
}

// ---------------------------------------------------------------------------------------------
// The form, as data

/// Where a choice field takes its options from.
#[derive(Debug, Clone, Copy)]
enum Choices {
    None,
    /// A dictionary kind (`dictionary_items`).
    Dict(&'static str),
    Gender,
    Marital,
    /// The `id_type` dictionary, or the domain's list while the dictionary is empty.
    IdType,
}

/// One field of the profile form: its name (as in [`ProfileForm`]; its label is
/// `field.<name>`), how it is drawn, where its options come from, and its hint.
#[derive(Debug, Clone, Copy)]
struct Spec {
    name: &'static str,
    kind: FieldKind,
    choices: Choices,
    hint: Option<&'static str>,
}

const fn text(name: &'static str) -> Spec {
    Spec {
        name,
        kind: FieldKind::Text,
        choices: Choices::None,
        hint: None,
    }
}

const fn with(name: &'static str, kind: FieldKind) -> Spec {
    Spec {
        name,
        kind,
        choices: Choices::None,
        hint: None,
    }
}

const fn hinted(name: &'static str, kind: FieldKind, hint: &'static str) -> Spec {
    Spec {
        name,
        kind,
        choices: Choices::None,
        hint: Some(hint),
    }
}

const fn choice(name: &'static str, kind: FieldKind, choices: Choices) -> Spec {
    Spec {
        name,
        kind,
        choices,
        hint: None,
    }
}

/// The editable sections in page order: (title key, fields).
const SECTIONS: &[(&str, &[Spec])] = &[
    (
        "profile.section.personal",
        &[
            text("name_zh"),
            hinted("pinyin_surname", FieldKind::Text, "profile.hint.pinyin"),
            hinted("pinyin_given", FieldKind::Text, "profile.hint.pinyin"),
            choice("gender", FieldKind::Radio, Choices::Gender),
            choice(
                "nationality",
                FieldKind::Select,
                Choices::Dict(kind::COUNTRY),
            ),
            choice(
                "ethnicity",
                FieldKind::Select,
                Choices::Dict(kind::ETHNICITY),
            ),
            with("birth_date", FieldKind::Date),
            choice("id_type", FieldKind::Select, Choices::IdType),
            text("id_number"),
            choice(
                "admission_category",
                FieldKind::Select,
                Choices::Dict(kind::ADMISSION_CATEGORY),
            ),
            choice(
                "political_status",
                FieldKind::Select,
                Choices::Dict(kind::POLITICAL_STATUS),
            ),
            choice("marital_status", FieldKind::Select, Choices::Marital),
            text("hukou"),
            text("birthplace"),
            text("native_place"),
            hinted("health", FieldKind::Textarea, "profile.hint.health"),
            with("rewards", FieldKind::Textarea),
            with("remarks", FieldKind::Textarea),
        ],
    ),
    (
        "profile.section.contact",
        &[
            text("home_address"),
            with("home_phone", FieldKind::Tel),
            with("mobile", FieldKind::Tel),
            hinted("email", FieldKind::Email, "profile.hint.email"),
            text("qq"),
            text("wechat"),
        ],
    ),
    (
        "profile.section.academic",
        &[with("gpa", FieldKind::Number), text("major_rank")],
    ),
    (
        "profile.section.passport",
        &[
            text("passport_no"),
            with("passport_expiry", FieldKind::Date),
        ],
    ),
    (
        "profile.section.supervisor",
        &[
            hinted(
                "supervisor_name",
                FieldKind::Text,
                "profile.hint.supervisor",
            ),
            with("supervisor_phone", FieldKind::Tel),
        ],
    ),
    (
        "profile.section.emergency",
        &[
            text("emergency_name"),
            with("emergency_mobile", FieldKind::Tel),
            text("emergency_relation"),
        ],
    ),
];

/// The label of a form field (`field.<name>`, from the domain's catalogue).
fn label(ctx: &Ctx, name: &str) -> String {
    let key = format!("field.{name}");
    ctx.lang.t(&key).to_owned()
}

/// The dictionaries the form's selects need, read once per page.
pub(crate) struct Dicts {
    country: Vec<DictItem>,
    ethnicity: Vec<DictItem>,
    id_type: Vec<DictItem>,
    admission_category: Vec<DictItem>,
    political_status: Vec<DictItem>,
}

impl Dicts {
    pub(crate) async fn load(state: &AppState) -> AppResult<Dicts> {
        Ok(Dicts {
            country: dicts::items(&state.db, kind::COUNTRY).await?,
            ethnicity: dicts::items(&state.db, kind::ETHNICITY).await?,
            id_type: dicts::items(&state.db, kind::ID_TYPE).await?,
            admission_category: dicts::items(&state.db, kind::ADMISSION_CATEGORY).await?,
            political_status: dicts::items(&state.db, kind::POLITICAL_STATUS).await?,
        })
    }

    fn of(&self, kind_: &str) -> &[DictItem] {
        match kind_ {
            kind::COUNTRY => &self.country,
            kind::ETHNICITY => &self.ethnicity,
            kind::ID_TYPE => &self.id_type,
            kind::ADMISSION_CATEGORY => &self.admission_category,
            kind::POLITICAL_STATUS => &self.political_status,
            _ => &[],
        }
    }

    fn options(&self, ctx: &Ctx, choices: Choices) -> Vec<(String, String)> {
        let coded = |pairs: Vec<(&'static str, &'static str)>| {
            pairs
                .into_iter()
                .map(|(code, key)| (code.to_owned(), ctx.t(key).to_owned()))
                .collect()
        };
        match choices {
            Choices::None => Vec::new(),
            Choices::Dict(k) => dicts::options(self.of(k), ctx.lang),
            Choices::Gender => coded(
                Gender::ALL
                    .iter()
                    .map(|g| (g.code(), g.label_key()))
                    .collect(),
            ),
            Choices::Marital => coded(
                MaritalStatus::ALL
                    .iter()
                    .map(|m| (m.code(), m.label_key()))
                    .collect(),
            ),
            Choices::IdType if !self.id_type.is_empty() => dicts::options(&self.id_type, ctx.lang),
            Choices::IdType => coded(
                IdType::ALL
                    .iter()
                    .map(|t| (t.code(), t.label_key()))
                    .collect(),
            ),
        }
    }
}

/// The editable sections with the given values and errors.
pub(crate) fn editable_sections(
    ctx: &Ctx,
    dicts: &Dicts,
    form: &ProfileForm,
    errors: &FieldErrors,
) -> Vec<FormSection> {
    SECTIONS
        .iter()
        .map(|(title, specs)| FormSection {
            title: ctx.t(title).to_owned(),
            note: None,
            fields: specs
                .iter()
                .map(|spec| {
                    let value = form.field(spec.name).unwrap_or_default().to_owned();
                    let mut options = dicts.options(ctx, spec.choices);
                    // A stored code no longer offered (a retired dictionary item) stays shown.
                    if !matches!(spec.choices, Choices::None)
                        && !value.is_empty()
                        && !options.iter().any(|(code, _)| *code == value)
                    {
                        options.push((value.clone(), value.clone()));
                    }
                    let mut field = FormField::new(spec.name, label(ctx, spec.name), spec.kind)
                        .value(value)
                        .required(ProfileForm::REQUIRED.contains(&spec.name))
                        .options(options)
                        .error(error_of(errors, spec.name, ctx.lang));
                    if let Some(hint) = spec.hint {
                        field = field.hint(ctx.t(hint));
                    }
                    field
                })
                .collect(),
        })
        .collect()
}

/// 学籍信息: the registry fields, read-only.
fn registry_section(ctx: &Ctx, r: &Registry) -> FormSection {
    let level = StudyLevel::from_code(&r.level)
        .map(|l| ctx.t(l.label_key()).to_owned())
        .unwrap_or_else(|| r.level.clone());
    let item = |name: &str, key: &str, value: String| {
        FormField::new(name, ctx.t(key), FieldKind::Text)
            .value(value)
            .readonly(true)
    };
    FormSection {
        title: ctx.t("profile.section.registry").to_owned(),
        note: Some(ctx.t("profile.registry_note").to_owned()),
        fields: vec![
            item(
                "student_no",
                "profile.registry.student_no",
                r.student_no.clone(),
            ),
            item(
                "college",
                "profile.registry.college",
                ctx.lang
                    .pick(&r.college_name_zh, &r.college_name_en)
                    .to_owned(),
            ),
            item(
                "major",
                "profile.registry.major",
                ctx.lang.pick(&r.major_name_zh, &r.major_name_en).to_owned(),
            ),
            item("grade", "profile.registry.grade", r.grade.clone()),
            item("level", "profile.registry.level", level),
            item(
                "schooling_years",
                "profile.registry.schooling_years",
                r.schooling_years.clone(),
            ),
            item(
                "entry_year",
                "profile.registry.entry_year",
                r.entry_year.clone(),
            ),
        ],
    }
}

// ---------------------------------------------------------------------------------------------
// Links that keep `next`

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ProfileQuery {
    /// `1`: the student was sent here because required fields are missing.
    missing: String,
    /// Where to go back to once the profile is complete (a local path).
    next: String,
}

impl ProfileQuery {
    fn next(&self) -> Option<&str> {
        safe_back(&self.next)
    }
}

fn enc(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// `path` with `next` carried along (and a `#fragment` after it).
fn with_next(path: &str, next: Option<&str>, fragment: &str) -> String {
    let mut url = path.to_owned();
    if let Some(next) = next {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str("next=");
        url.push_str(&enc(next));
    }
    url.push_str(fragment);
    url
}

/// A 303 to `to` with a one-time message.
fn redirect_with(ctx: &Ctx, to: &str, kind: &str, key: &str) -> Response {
    redirect_flash(to, kind, ctx.t(key))
}

// ---------------------------------------------------------------------------------------------
// 我的个人资料

/// A required field still empty, linked to its input.
struct MissingLink {
    name: &'static str,
    label: String,
}

/// One row of the 学习经历 table.
struct RecordView {
    index: usize,
    period: String,
    school: String,
    address: String,
    degree: String,
    edit_href: String,
    delete_action: String,
}

#[derive(Template)]
#[template(path = "profile/index.html")]
struct ProfilePage {
    l: Layout,
    /// False for a person with the student role but no registry record.
    has_record: bool,
    registry: Option<FormSection>,
    sections: Vec<FormSection>,
    missing: Vec<MissingLink>,
    highlight_missing: bool,
    summary: Vec<String>,
    records: Vec<RecordView>,
    has_photo: bool,
    photo_version: i64,
    photo_error: Option<String>,
    action: String,
    photo_action: String,
    study_new: String,
    back: Option<String>,
}

/// What to draw in the form: what is stored, or what the student just posted (kept after a
/// refusal), with its errors.
struct Shown<'a> {
    form: Option<ProfileForm>,
    errors: &'a FieldErrors,
    photo_error: Option<String>,
}

async fn profile_page(
    state: &AppState,
    ctx: &Ctx,
    q: &ProfileQuery,
    shown: Shown<'_>,
) -> AppResult<ProfilePage> {
    let user_id = ctx.user()?.id;
    let next = q.next();
    let mut page = ProfilePage {
        l: ctx.layout("nav.profile", "profile.title"),
        has_record: false,
        registry: None,
        sections: Vec::new(),
        missing: Vec::new(),
        highlight_missing: q.missing == "1",
        summary: summary(shown.errors, ctx.lang),
        records: Vec::new(),
        has_photo: false,
        photo_version: 0,
        photo_error: shown.photo_error,
        action: with_next("/profile", next, ""),
        photo_action: format!(
            "/profile/photo?_csrf={}{}",
            enc(&ctx.csrf),
            next.map(|n| format!("&next={}", enc(n)))
                .unwrap_or_default()
        ),
        study_new: with_next("/profile/study", next, ""),
        back: next.map(str::to_owned),
    };
    let Some(registry) = students::registry(&state.db, user_id).await? else {
        return Ok(page);
    };
    let stored = students::profile_form(&state.db, &state.key, user_id)
        .await?
        .unwrap_or_default();
    let dicts = Dicts::load(state).await?;

    page.has_record = true;
    page.missing = profiles::missing_fields(&stored)
        .into_iter()
        .map(|name| MissingLink {
            name,
            label: label(ctx, name),
        })
        .collect();
    let form = shown.form.unwrap_or(stored);
    page.sections = editable_sections(ctx, &dicts, &form, shown.errors);
    page.registry = Some(registry_section(ctx, &registry));
    page.has_photo = registry.photo_key.is_some();
    page.photo_version = registry.version;
    page.records = students::study_records(&state.db, user_id)
        .await?
        .into_iter()
        .enumerate()
        .map(|(i, r)| record_view(ctx, next, i + 1, r))
        .collect();
    Ok(page)
}

fn record_view(ctx: &Ctx, next: Option<&str>, index: usize, r: StudyRecordRow) -> RecordView {
    let end = if r.end_date.is_empty() {
        ctx.t("profile.study.until_now")
    } else {
        &r.end_date
    };
    RecordView {
        index,
        period: format!("{} {} {end}", r.start_date, ctx.t("common.to")),
        edit_href: with_next(&format!("/profile/study/{}", r.id), next, ""),
        delete_action: with_next(&format!("/profile/study/{}/delete", r.id), next, ""),
        school: r.school,
        address: r.address,
        degree: r.degree,
    }
}

async fn show(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    Query(q): Query<ProfileQuery>,
) -> AppResult<Response> {
    let none = FieldErrors::new();
    let shown = Shown {
        form: None,
        errors: &none,
        photo_error: None,
    };
    Ok(html(profile_page(&state, &ctx, &q, shown).await?))
}

async fn save(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ip: ClientIp,
    Query(q): Query<ProfileQuery>,
    form: Result<Form<ProfileForm>, AppError>,
) -> AppResult<Response> {
    let Ok(Form(form)) = form else {
        return Err(AppError::Refused("error.400"));
    };
    let who = who(&ctx, &ip.0);
    let user_id = who.id.unwrap_or_default();
    match profiles::save_profile(&state.db, &state.key, &who, user_id, form.clone()).await {
        Ok(()) => {
            let complete = profiles::missing_fields(&form).is_empty();
            let to = match q.next() {
                Some(next) if complete => next.to_owned(),
                Some(next) => with_next("/profile?missing=1", Some(next), ""),
                None => "/profile".to_owned(),
            };
            Ok(redirect_with(&ctx, &to, "success", "profile.saved"))
        }
        Err(ServiceError::Invalid(errors)) => {
            let shown = Shown {
                form: Some(form),
                errors: &errors,
                photo_error: None,
            };
            let page = profile_page(&state, &ctx, &q, shown).await?;
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, page))
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// 证件照

async fn photo(State(state): State<AppState>, StudentCtx(ctx): StudentCtx) -> AppResult<Response> {
    let user_id = ctx.user()?.id;
    let bytes = profiles::photo(&state.db, &state.storage, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mime = if infer::image::is_png(&bytes) {
        "image/png"
    } else {
        "image/jpeg"
    };
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "private, no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        bytes,
    )
        .into_response())
}

/// The `photo` part of the upload: (file name, bytes), or the catalogue key of what is wrong.
async fn read_photo(
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(String, Vec<u8>), &'static str> {
    let mut multipart = multipart.map_err(|_| "err.photo.upload_failed")?;
    let too_large = profiles::PHOTO_MAX_BYTES as usize;
    let failed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            "err.photo.too_large"
        } else {
            "err.photo.upload_failed"
        }
    };
    while let Some(mut field) = multipart.next_field().await.map_err(failed)? {
        if field.name() != Some(profiles::PHOTO_FIELD) {
            continue;
        }
        let name = field.file_name().unwrap_or_default().to_owned();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(failed)? {
            bytes.extend_from_slice(&chunk);
            // Stop reading as soon as it is too large: the rest is never buffered.
            if bytes.len() > too_large {
                return Err("err.photo.too_large");
            }
        }
        if name.is_empty() && bytes.is_empty() {
            return Err("err.photo.missing");
        }
        return Ok((name, bytes));
    }
    Err("err.photo.missing")
}

async fn upload_photo(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ip: ClientIp,
    Query(q): Query<ProfileQuery>,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let who = who(&ctx, &ip.0);
    let user_id = who.id.unwrap_or_default();
    let result = match read_photo(multipart).await {
        Ok((name, bytes)) => {
            profiles::set_photo(&state.db, &state.storage, &who, user_id, &name, bytes).await
        }
        Err(key) => {
            let mut errors = FieldErrors::new();
            errors.add(profiles::PHOTO_FIELD, key);
            Err(ServiceError::Invalid(errors))
        }
    };
    match result {
        Ok(()) => {
            let to = with_next("/profile", q.next(), "#photo");
            Ok(redirect_with(
                &ctx,
                &to,
                "success",
                "profile.photo.uploaded",
            ))
        }
        Err(ServiceError::Invalid(errors)) => {
            let none = FieldErrors::new();
            let shown = Shown {
                form: None,
                errors: &none,
                photo_error: error_of(&errors, profiles::PHOTO_FIELD, ctx.lang),
            };
            let page = profile_page(&state, &ctx, &q, shown).await?;
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, page))
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// 学习经历

#[derive(Template)]
#[template(path = "profile/study.html")]
struct StudyPage {
    l: Layout,
    fields: Vec<FormField>,
    summary: Vec<String>,
    action: String,
    back: String,
}

fn study_page(
    ctx: &Ctx,
    q: &ProfileQuery,
    id: Option<i64>,
    form: &StudyRecordForm,
    errors: &FieldErrors,
) -> StudyPage {
    let next = q.next();
    let field = |name: &str, kind: FieldKind, value: &str, required: bool| {
        FormField::new(name, label(ctx, name), kind)
            .value(value)
            .required(required)
            .error(error_of(errors, name, ctx.lang))
    };
    let (title, action) = match id {
        None => ("profile.study.new", with_next("/profile/study", next, "")),
        Some(id) => (
            "profile.study.edit",
            with_next(&format!("/profile/study/{id}"), next, ""),
        ),
    };
    StudyPage {
        l: ctx.layout("nav.profile", title),
        fields: vec![
            field("start", FieldKind::Date, &form.start, true),
            field("end", FieldKind::Date, &form.end, false).hint(ctx.t("profile.hint.study_end")),
            field("school", FieldKind::Text, &form.school, true),
            field("address", FieldKind::Text, &form.address, false),
            field("degree", FieldKind::Text, &form.degree, true).hint(ctx.t("profile.hint.degree")),
        ],
        summary: summary(errors, ctx.lang),
        action,
        back: with_next("/profile", next, "#study"),
    }
}

/// The record id in a path; anything that is not a number is simply not found.
fn record_id(raw: &str) -> AppResult<i64> {
    raw.parse().map_err(|_| AppError::NotFound)
}

async fn new_record(StudentCtx(ctx): StudentCtx, Query(q): Query<ProfileQuery>) -> Response {
    html(study_page(
        &ctx,
        &q,
        None,
        &StudyRecordForm::default(),
        &FieldErrors::new(),
    ))
}

async fn edit_record(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    Path(id): Path<String>,
    Query(q): Query<ProfileQuery>,
) -> AppResult<Response> {
    let id = record_id(&id)?;
    let row = students::study_record(&state.db, ctx.user()?.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = StudyRecordForm {
        start: row.start_date,
        end: row.end_date,
        school: row.school,
        address: row.address,
        degree: row.degree,
    };
    Ok(html(study_page(
        &ctx,
        &q,
        Some(id),
        &form,
        &FieldErrors::new(),
    )))
}

/// After an add or a change: back to the list, or the form again with its errors.
fn study_outcome<T>(
    ctx: &Ctx,
    q: &ProfileQuery,
    id: Option<i64>,
    form: &StudyRecordForm,
    result: Result<T, ServiceError>,
) -> AppResult<Response> {
    match result {
        Ok(_) => {
            let to = with_next("/profile", q.next(), "#study");
            Ok(redirect_with(ctx, &to, "success", "profile.study.saved"))
        }
        Err(ServiceError::Invalid(errors)) => Ok(html_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            study_page(ctx, q, id, form, &errors),
        )),
        Err(ServiceError::Refused(key)) => {
            let mut page = study_page(ctx, q, id, form, &FieldErrors::new());
            page.summary.push(ctx.t(key).to_owned());
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, page))
        }
        Err(e) => Err(e.into()),
    }
}

async fn create_record(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ip: ClientIp,
    Query(q): Query<ProfileQuery>,
    form: Result<Form<StudyRecordForm>, AppError>,
) -> AppResult<Response> {
    let Ok(Form(form)) = form else {
        return Err(AppError::Refused("error.400"));
    };
    let who = who(&ctx, &ip.0);
    let user_id = who.id.unwrap_or_default();
    let result = profiles::add_study_record(&state.db, &who, user_id, form.clone()).await;
    study_outcome(&ctx, &q, None, &form, result)
}

async fn update_record(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ip: ClientIp,
    Path(id): Path<String>,
    Query(q): Query<ProfileQuery>,
    form: Result<Form<StudyRecordForm>, AppError>,
) -> AppResult<Response> {
    let id = record_id(&id)?;
    let Ok(Form(form)) = form else {
        return Err(AppError::Refused("error.400"));
    };
    let who = who(&ctx, &ip.0);
    let user_id = who.id.unwrap_or_default();
    let result = profiles::update_study_record(&state.db, &who, user_id, id, form.clone()).await;
    study_outcome(&ctx, &q, Some(id), &form, result)
}

async fn delete_record(
    State(state): State<AppState>,
    StudentCtx(ctx): StudentCtx,
    ip: ClientIp,
    Path(id): Path<String>,
    Query(q): Query<ProfileQuery>,
) -> AppResult<Response> {
    let id = record_id(&id)?;
    let who = who(&ctx, &ip.0);
    let user_id = who.id.unwrap_or_default();
    profiles::delete_study_record(&state.db, &who, user_id, id).await?;
    let to = with_next("/profile", q.next(), "#study");
    Ok(redirect_with(&ctx, &to, "success", "profile.study.deleted"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::csrf::CsrfKey;
    use crate::auth::session;
    use crate::config::Config;
    use crate::crypto::DataKey;
    use crate::db::{Db, migrate};
    use crate::storage::Storage;
    use axum::body::Body;
    use axum::http::Request;
    use chrono::Utc;
    use scraper::{Html, Selector};
    use sea_query::Query;
    use tower::ServiceExt;

    struct App {
        state: AppState,
        dir: std::path::PathBuf,
    }

    /// A signed-in student: their id and the cookies of their browser.
    struct Student {
        id: i64,
        cookies: String,
        csrf: String,
    }

    impl App {
        async fn new() -> App {
            let dir = std::env::temp_dir()
                .join(format!("outbound-profile-page-{}", rand::random::<u64>()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let url = format!("sqlite://{}/t.db", dir.display());
            let db = Db::connect(&url).await.expect("connect");
            migrate::run(&db).await.expect("migrate");
            let storage = Storage::local(dir.join("files")).expect("storage");
            let config = Config {
                data_dir: dir.clone(),
                database_url: url,
                secure_cookies: false,
                data_key: None,
                office: Default::default(),
            };
            let state = AppState::new(db, storage, DataKey::generate(), CsrfKey::random(), config);
            App { state, dir }
        }

        async fn student(&self, no: &str) -> Student {
            let mut tx = self.state.db.begin().await.expect("begin");
            let college = tx
                .insert_id(
                    Query::insert()
                        .into_table("colleges")
                        .columns(["code", "name_zh", "name_en"])
                        .values_panic([
                            format!("T{no}").into(),
                            "文学院".into(),
                            "School of Liberal Arts".into(),
                        ]),
                )
                .await
                .expect("college");
            let id = tx
                .insert_id(
                    Query::insert()
                        .into_table("users")
                        .columns(["username", "display_name", "password_hash", "created_at"])
                        .values_panic([no.into(), "学生".into(), "x".into(), Utc::now().into()]),
                )
                .await
                .expect("user");
            tx.insert(
                Query::insert()
                    .into_table("user_roles")
                    .columns(["user_id", "role"])
                    .values_panic([id.into(), "student".into()]),
            )
            .await
            .expect("role");
            tx.insert(
                Query::insert()
                    .into_table("students")
                    .columns([
                        "user_id",
                        "student_no",
                        "campus_card_no",
                        "college_id",
                        "grade",
                        "level",
                        "updated_at",
                    ])
                    .values_panic([
                        id.into(),
                        no.into(),
                        "card".into(),
                        college.into(),
                        "2022".into(),
                        "undergraduate".into(),
                        Utc::now().into(),
                    ]),
            )
            .await
            .expect("student");
            tx.commit().await.expect("commit");
            let token = session::create(&self.state.db, id).await.expect("session");
            let csrf = self.state.csrf.issue();
            let cookies = format!(
                "{}={token}; {}={csrf}",
                session::COOKIE,
                crate::auth::csrf::COOKIE
            );
            Student { id, cookies, csrf }
        }

        async fn get(&self, who: &Student, uri: &str) -> Response {
            let req = Request::get(uri)
                .header(header::COOKIE, &who.cookies)
                .body(Body::empty())
                .expect("request");
            crate::web::router(self.state.clone())
                .oneshot(req)
                .await
                .expect("response")
        }

        async fn post_form(&self, who: &Student, uri: &str, body: &str) -> Response {
            let body = format!("_csrf={}&{body}", enc(&who.csrf));
            let req = Request::post(uri)
                .header(header::COOKIE, &who.cookies)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .expect("request");
            crate::web::router(self.state.clone())
                .oneshot(req)
                .await
                .expect("response")
        }

        async fn close(self) {
            self.state.db.close().await;
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    async fn page(response: Response) -> Html {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        Html::parse_document(&String::from_utf8_lossy(&bytes))
    }

    fn select<'a>(html: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
        html.select(&Selector::parse(css).expect("selector"))
            .collect()
    }

    fn location(response: &Response) -> &str {
        response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn the_profile_page_links_every_missing_required_field_and_shows_the_registry() {
        let app = App::new().await;
        let me = app.student("2022100").await;

        let response = app.get(&me, "/profile?missing=1").await;
        assert_eq!(response.status(), StatusCode::OK);
        let html = page(response).await;

        let links: Vec<_> = select(&html, "#missing a")
            .iter()
            .filter_map(|a| a.value().attr("href"))
            .map(str::to_owned)
            .collect();
        let expected: Vec<_> = ProfileForm::REQUIRED
            .iter()
            .map(|f| format!("#f-{f}"))
            .collect();
        assert_eq!(links, expected);
        for name in ProfileForm::REQUIRED {
            assert_eq!(
                select(&html, &format!("#f-{name}")).len(),
                1,
                "{name} has its input"
            );
        }
        assert!(select(&html, "#missing[role=alert]").len() == 1);
        let registry: String = select(&html, "#f-student_no")
            .iter()
            .flat_map(|e| e.text())
            .collect();
        assert_eq!(registry.trim(), "2022100");
        assert!(select(&html, "input[name=student_no]").is_empty());
        app.close().await;
    }

    #[tokio::test]
    async fn a_wrong_post_is_shown_again_with_the_input_kept_and_each_error_beside_its_field() {
        let app = App::new().await;
        let me = app.student("2022101").await;

        let response = app
            .post_form(
                &me,
                "/profile",
                "name_zh=%E6%9D%8E%E5%9B%9B&mobile=12345&email=me%40qq.com",
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = page(response).await;
        let value = |css: &str| {
            select(&html, css)
                .first()
                .and_then(|e| e.value().attr("value"))
                .map(str::to_owned)
        };
        assert_eq!(value("#f-name_zh").as_deref(), Some("李四"));
        assert_eq!(value("#f-mobile").as_deref(), Some("12345"));
        assert_eq!(select(&html, "#f-mobile-error").len(), 1);
        assert_eq!(select(&html, "#f-email-error").len(), 1);
        assert_eq!(select(&html, "#errors li").len(), 2);

        let stored = students::profile_form(&app.state.db, &app.state.key, me.id)
            .await
            .expect("read")
            .expect("row");
        assert_eq!(stored.name_zh, "");
        app.close().await;
    }

    #[tokio::test]
    async fn a_saved_profile_goes_back_to_next_only_once_it_is_complete() {
        let app = App::new().await;
        let me = app.student("2022102").await;

        let response = app
            .post_form(
                &me,
                "/profile?next=/applications/new%3Fprogram%3D3",
                "name_zh=%E6%9D%8E%E5%9B%9B",
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            location(&response),
            "/profile?missing=1&next=%2Fapplications%2Fnew%3Fprogram%3D3"
        );

        let body = "name_zh=%E6%9D%8E%E5%9B%9B&pinyin_surname=li&pinyin_given=si&gender=male\
            &nationality=CN&ethnicity=%E6%B1%89%E6%97%8F&birth_date=2000-01-01&id_type=passport\
            &id_number=E12345678&political_status=%E5%9B%A2%E5%91%98&marital_status=single\
            &mobile=13812345678&email=lisi%40example.edu.cn&emergency_name=%E6%9D%8E%E7%88%B6\
            &emergency_mobile=13912345678&emergency_relation=%E7%88%B6%E5%AD%90";
        let response = app
            .post_form(&me, "/profile?next=/applications/new", body)
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/applications/new");

        let response = app
            .post_form(&me, "/profile?next=//evil.example/", body)
            .await;
        assert_eq!(location(&response), "/profile");
        app.close().await;
    }

    #[tokio::test]
    async fn the_photo_is_served_only_to_its_owner_privately_and_without_sniffing() {
        let app = App::new().await;
        let me = app.student("2022103").await;
        let other = app.student("2022104").await;
        let mut jpeg = vec![
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
        ];
        jpeg.resize(4096, 0);
        let who = crate::services::audit::Who::user(me.id, "2022103");
        profiles::set_photo(
            &app.state.db,
            &app.state.storage,
            &who,
            me.id,
            "me.jpg",
            jpeg.clone(),
        )
        .await
        .expect("photo");

        let response = app.get(&me, "/profile/photo").await;
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(headers[header::CONTENT_TYPE], "image/jpeg");
        assert_eq!(headers[header::CACHE_CONTROL], "private, no-store");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        assert_eq!(bytes.as_ref(), jpeg.as_slice());

        assert_eq!(
            app.get(&other, "/profile/photo").await.status(),
            StatusCode::NOT_FOUND
        );
        app.close().await;
    }

    #[tokio::test]
    async fn a_pdf_named_jpg_is_refused_beside_the_upload_field() {
        let app = App::new().await;
        let me = app.student("2022105").await;
        let mut pdf = b"%PDF-1.7\n".to_vec();
        pdf.resize(4096, b' ');
        let boundary = "XyZboundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"me.jpg\"\r\n\
             Content-Type: image/jpeg\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(&pdf);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = Request::post(format!("/profile/photo?_csrf={}", enc(&me.csrf)))
            .header(header::COOKIE, &me.cookies)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .expect("request");
        let response = crate::web::router(app.state.clone())
            .oneshot(req)
            .await
            .expect("response");

        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = page(response).await;
        assert_eq!(select(&html, "#f-photo-error").len(), 1);
        assert!(app.state.storage.keys().expect("keys").is_empty());
        app.close().await;
    }

    #[tokio::test]
    async fn another_students_study_record_is_not_found() {
        let app = App::new().await;
        let me = app.student("2022106").await;
        let other = app.student("2022107").await;
        let form = StudyRecordForm {
            start: "2016-09-01".into(),
            end: "2019-07-01".into(),
            school: "兰大附中".into(),
            address: String::new(),
            degree: "高中".into(),
        };
        let id = profiles::add_study_record(
            &app.state.db,
            &crate::services::audit::Who::user(me.id, "x"),
            me.id,
            form,
        )
        .await
        .expect("add");

        assert_eq!(
            app.get(&me, &format!("/profile/study/{id}")).await.status(),
            StatusCode::OK
        );
        let theirs = app.get(&other, &format!("/profile/study/{id}")).await;
        assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
        let delete = app
            .post_form(&other, &format!("/profile/study/{id}/delete"), "")
            .await;
        assert_eq!(delete.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            app.get(&me, "/profile/study/abc").await.status(),
            StatusCode::NOT_FOUND
        );

        let html = page(app.get(&me, "/profile").await).await;
        assert_eq!(select(&html, "#study tbody tr").len(), 1);
        app.close().await;
    }
}
