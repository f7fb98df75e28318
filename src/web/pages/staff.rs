//! 审核工作台: the reviewer's queue with filters and batch decisions, and the staff view of one
//! application (every tab the student sees, plus the decision form, internal notes,
//! 补交材料 requests and the office's 编辑 / 删除).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::applications::{AppView, Ops, StepData, app_view, info_sections, step_data_for, tabs};
use super::attachments::send_file;
use super::cn_time;
use crate::db::dicts;
use crate::db::review::{self as queries, QueueFilter, Sort};
use crate::domain::FieldErrors;
use crate::domain::application::ApplicationInfoForm;
use crate::domain::status::{Action, Status};
use crate::domain::values::parse_date;
use crate::services::ServiceError;
use crate::services::application_view::{self as read, ApplicationView, Viewer};
use crate::services::review::{self as service, BatchLine, Decision, Reviewer, StaffView};
use crate::web::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{ClientIp, Ctx, Form, Path, Query, StaffCtx, redirect_flash, who};
use crate::web::forms::error_of;
use crate::web::layout::{FormSection, Layout};
use crate::web::render::{html, html_status};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/reviews", get(queue))
        .route("/staff/reviews/batch", post(batch))
        .route("/staff/applications/{id}", get(detail))
        .route("/staff/applications/{id}/decide", post(decide))
        .route("/staff/applications/{id}/notes", post(add_note))
        .route(
            "/staff/applications/{id}/supplements",
            post(request_supplement),
        )
        .route("/staff/applications/{id}/edit", get(edit_page).post(edit))
        .route("/staff/applications/{id}/delete", post(delete))
        .route("/staff/applications/{id}/form.pdf", get(form_pdf))
        .route("/staff/applications/{id}/attachments/{file}", get(download))
        .route(
            "/staff/applications/{id}/attachments/{file}/view",
            get(preview),
        )
}

fn reviewer(ctx: &StaffCtx) -> Reviewer {
    let u = ctx.user();
    Reviewer {
        user_id: u.id,
        roles: u.roles.0.clone(),
        college_ids: u.college_ids.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// The queue

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct QueueQuery {
    program: String,
    college: String,
    status: String,
    from: String,
    to: String,
    q: String,
    sort: String,
    page: String,
}

impl QueueQuery {
    /// The parsed filter, and an error beside each date that does not read as one.
    fn parse(&self) -> (QueueFilter, FieldErrors) {
        let mut errors = FieldErrors::new();
        let mut date = |name: &'static str, raw: &str| {
            if raw.trim().is_empty() {
                return None;
            }
            match parse_date(raw.trim()) {
                Ok(d) => Some(d),
                Err(e) => {
                    errors.add(name, e.code());
                    None
                }
            }
        };
        let from = date("from", &self.from);
        let to = date("to", &self.to);
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            errors.add("to", "err.date.order");
        }
        (
            QueueFilter {
                program_id: self.program.parse().ok(),
                college_id: self.college.parse().ok(),
                status: Status::from_code(&self.status).filter(|s| s.review_phase().is_some()),
                from,
                to,
                keyword: self.q.chars().take(100).collect(),
                sort: Sort::from_code(&self.sort).unwrap_or_default(),
            },
            errors,
        )
    }

    /// The query string of the filters (without the page), for pager and sort links.
    fn filters(&self) -> String {
        self.query_string(true)
    }

    /// The same without the status, for the status tabs, which add their own: a link that
    /// carried `status` twice would be refused.
    fn filters_but_status(&self) -> String {
        self.query_string(false)
    }

    fn query_string(&self, with_status: bool) -> String {
        let pairs = [
            ("program", &self.program),
            ("college", &self.college),
            ("status", &self.status),
            ("from", &self.from),
            ("to", &self.to),
            ("q", &self.q),
            ("sort", &self.sort),
        ];
        serde_urlencoded::to_string(
            pairs
                .iter()
                .filter(|(k, _)| with_status || *k != "status")
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default()
    }
}

struct QueueLine {
    row: queries::QueueRow,
    status: Status,
    stage: String,
    submitted: String,
    college: String,
    program: String,
}

struct BatchReport {
    app_id: i64,
    ok: bool,
    text: String,
}

#[derive(Template)]
#[template(path = "staff/queue.html")]
struct QueuePage {
    l: Layout,
    q: QueueQuery,
    lines: Vec<QueueLine>,
    total: i64,
    page: i64,
    pages: i64,
    counts: Vec<(Status, i64)>,
    all_count: i64,
    program_options: Vec<(String, String)>,
    college_options: Vec<(String, String)>,
    sort_options: Vec<(&'static str, String)>,
    from_error: Option<String>,
    to_error: Option<String>,
    filters: String,
    /// [`QueueQuery::filters_but_status`], for the status tabs.
    tab_filters: String,
    pager_base: String,
    decisions: Vec<(&'static str, String)>,
    batch_decision: String,
    batch_opinion: String,
    batch_error: Option<String>,
    report: Vec<BatchReport>,
}

async fn queue(
    State(state): State<AppState>,
    ctx: StaffCtx,
    Query(q): Query<QueueQuery>,
) -> AppResult<Response> {
    render_queue(&state, &ctx, q, BatchState::default()).await
}

#[derive(Default)]
struct BatchState {
    decision: String,
    opinion: String,
    error: Option<String>,
    report: Vec<BatchReport>,
}

async fn render_queue(
    state: &AppState,
    ctx: &StaffCtx,
    q: QueueQuery,
    batch: BatchState,
) -> AppResult<Response> {
    let c = &ctx.0;
    let reviewer = reviewer(ctx);
    let (filter, errors) = q.parse();
    let page = q.page.parse::<u64>().unwrap_or(1).clamp(1, 100_000);
    let data = service::queue(&state.db, &reviewer, &filter, page).await?;
    let stage_of = |template: Option<i64>, index: i64| {
        data.stages
            .iter()
            .find(|(t, i, _)| Some(*t) == template && *i == index)
            .map(|(_, _, s)| s.name(c.lang == crate::i18n::Lang::En).to_owned())
            .unwrap_or_default()
    };
    let lines = data
        .rows
        .iter()
        .map(|row| QueueLine {
            status: row.status(),
            stage: stage_of(row.workflow_template_id, row.stage_index),
            submitted: row.submitted_at.map(cn_time).unwrap_or_default(),
            college: c
                .lang
                .pick(&row.college_name_zh, &row.college_name_en)
                .to_owned(),
            program: c
                .lang
                .pick(&row.program_name_zh, &row.program_name_en)
                .to_owned(),
            row: row.clone(),
        })
        .collect();
    let program_options = queries::program_options(&state.db)
        .await?
        .into_iter()
        .map(|(id, zh, en, year)| (id.to_string(), format!("{year} {}", c.lang.pick(&zh, &en))))
        .collect();
    let colleges = dicts::colleges(&state.db).await?;
    let college_options = colleges
        .iter()
        .filter(|col| reviewer.may_see(col.id))
        .map(|col| {
            (
                col.id.to_string(),
                c.lang.pick(&col.name_zh, &col.name_en).to_owned(),
            )
        })
        .collect();
    let per_page = i64::try_from(queries::PAGE_SIZE).unwrap_or(20);
    let pages = (data.total + per_page - 1) / per_page;
    Ok(html(QueuePage {
        l: c.layout("nav.reviews", "review.title"),
        lines,
        total: data.total,
        page: i64::try_from(page).unwrap_or(1),
        pages,
        all_count: data.counts.iter().map(|(_, n)| n).sum(),
        counts: data.counts,
        program_options,
        college_options,
        sort_options: Sort::ALL
            .iter()
            .map(|s| {
                (
                    s.code(),
                    c.t(&format!("review.sort.{}", s.code())).to_owned(),
                )
            })
            .collect(),
        from_error: error_of(&errors, "from", c.lang),
        to_error: error_of(&errors, "to", c.lang),
        filters: q.filters(),
        tab_filters: q.filters_but_status(),
        pager_base: format!("/staff/reviews?{}&", q.filters()),
        decisions: Decision::ALL
            .iter()
            .map(|d| {
                (
                    d.code(),
                    c.t(&format!("review.decision.{}", d.code())).to_owned(),
                )
            })
            .collect(),
        batch_decision: batch.decision,
        batch_opinion: batch.opinion,
        batch_error: batch.error,
        report: batch.report,
        q,
    }))
}

/// Turns one line of a batch into the sentence the reviewer reads.
fn report_line(ctx: &Ctx, line: &BatchLine) -> BatchReport {
    let (ok, text) = match &line.outcome {
        Ok(to) => (
            true,
            format!("{} → {}", ctx.t("review.batch.done"), ctx.t(to.label_key())),
        ),
        Err(ServiceError::Conflict(k) | ServiceError::Refused(k)) => (false, ctx.t(k).to_owned()),
        Err(ServiceError::NotFound) => (false, ctx.t("error.404").to_owned()),
        Err(ServiceError::Invalid(e)) => (
            false,
            e.iter()
                .map(|f| ctx.t(f.code).to_owned())
                .collect::<Vec<_>>()
                .join("；"),
        ),
        Err(_) => (false, ctx.t("error.500").to_owned()),
    };
    BatchReport {
        app_id: line.app_id,
        ok,
        text,
    }
}

async fn batch(
    State(state): State<AppState>,
    ctx: StaffCtx,
    ClientIp(ip): ClientIp,
    Query(q): Query<QueueQuery>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let c = &ctx.0;
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let decision_raw = get("decision");
    let opinion = get("opinion");
    let items: Vec<(i64, i64)> = fields
        .iter()
        .filter(|(k, _)| k == "ids")
        .filter_map(|(_, v)| {
            let (id, version) = v.split_once(':')?;
            Some((id.parse().ok()?, version.parse().ok()?))
        })
        .collect();
    let mut batch = BatchState {
        decision: decision_raw.clone(),
        opinion: opinion.clone(),
        ..Default::default()
    };
    let Some(decision) = Decision::from_code(&decision_raw) else {
        batch.error = Some(c.t("review.batch.choose_decision").to_owned());
        return render_queue(&state, &ctx, q, batch).await;
    };
    if items.is_empty() {
        batch.error = Some(c.t("review.batch.choose_rows").to_owned());
        return render_queue(&state, &ctx, q, batch).await;
    }
    match service::decide_batch(
        &state.db,
        &who(c, &ip),
        &reviewer(&ctx),
        &items,
        decision,
        &opinion,
    )
    .await
    {
        Ok(lines) => {
            batch.report = lines.iter().map(|l| report_line(c, l)).collect();
            batch.opinion.clear();
        }
        Err(ServiceError::Invalid(e)) => batch.error = error_of(&e, "opinion", c.lang),
        Err(e) => return Err(e.into()),
    }
    render_queue(&state, &ctx, q, batch).await
}

// ---------------------------------------------------------------------------------------------
// One application

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TabQuery {
    tab: String,
}

/// What the person typed into one of the page's forms, and the errors to show beside it.
#[derive(Default)]
struct Entered {
    decision: String,
    opinion: String,
    opinion_error: Option<String>,
    note: String,
    note_error: Option<String>,
    supplement_name: String,
    supplement_note: String,
    supplement_error: Option<String>,
    reason: String,
    reason_error: Option<String>,
}

#[derive(Template)]
#[template(path = "staff/detail.html")]
struct DetailPage {
    l: Layout,
    v: AppView,
    base: String,
    tab: String,
    tabs: Vec<(&'static str, String, bool)>,
    ops: Ops,
    student_no: String,
    student_name: String,
    college: String,
    template_name: String,
    stages: Vec<(String, &'static str)>,
    decisions: Vec<(&'static str, String)>,
    can_edit: bool,
    can_delete: bool,
    can_request: bool,
    notes: Vec<(String, String, String)>,
    e: Entered,
}

async fn render_detail(
    state: &AppState,
    ctx: &StaffCtx,
    id: i64,
    tab: &str,
    e: Entered,
    status: axum::http::StatusCode,
) -> AppResult<Response> {
    let c = &ctx.0;
    let reviewer = reviewer(ctx);
    let view = read::view(&state.db, &state.key, &Viewer::Staff(reviewer.clone()), id).await?;
    let registry = crate::db::students::registry(&state.db, view.app.student_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let en = c.lang == crate::i18n::Lang::En;
    let stages = view
        .workflow
        .as_ref()
        .map(|w| {
            w.stages()
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let i = i64::try_from(i).unwrap_or(0);
                    let state = position(&view, i);
                    (s.name(en).to_owned(), state)
                })
                .collect()
        })
        .unwrap_or_default();
    let template_name = match view.app.workflow_template_id {
        Some(t) => crate::db::applications::template(&state.db, t)
            .await?
            .map(|t| format!("{}（v{}）", t.name_zh, t.version))
            .unwrap_or_default(),
        None => String::new(),
    };
    let decisions = Decision::ALL
        .iter()
        .filter(|d| view.actions.contains(&d.action()))
        .map(|d| {
            (
                d.code(),
                c.t(&format!("review.decision.{}", d.code())).to_owned(),
            )
        })
        .collect();
    let decides = Decision::ALL.iter().any(|d| view.may(d.action()));
    let can_request = (decides || reviewer.is_office())
        && !view.app.status().is_terminal()
        && view.app.status() != Status::Draft;
    let notes = queries::notes(&state.db, id)
        .await?
        .into_iter()
        .map(|n| (n.author_name, cn_time(n.created_at), n.body))
        .collect();
    let can_edit = view.may(Action::StaffEdit);
    let can_delete = view.may(Action::StaffDelete);
    let v = app_view(state, c, view).await?;
    let (tab, tabs) = tabs(c, tab);
    let title = format!(
        "{} · {}",
        registry.name_zh,
        c.lang.pick(&v.program.name_zh, &v.program.name_en)
    );
    Ok(html_status(
        status,
        DetailPage {
            l: c.layout_titled("nav.reviews", title),
            base: format!("/staff/applications/{id}"),
            v,
            tab,
            tabs,
            ops: Ops::default(),
            student_no: registry.student_no,
            student_name: registry.name_zh,
            college: c
                .lang
                .pick(&registry.college_name_zh, &registry.college_name_en)
                .to_owned(),
            template_name,
            stages,
            decisions,
            can_edit,
            can_delete,
            can_request,
            notes,
            e,
        },
    ))
}

/// Where stage `i` stands for this application: done, current or to come.
fn position(view: &ApplicationView, i: i64) -> &'static str {
    let at = view.app.stage_index;
    let status = view.app.status();
    let current_phase = view.stage.as_ref().map(|s| s.phase);
    let in_review = current_phase.is_some() && status.review_phase() == current_phase;
    if i < at || (i == at && !in_review && status != Status::Returned && status != Status::Rejected)
    {
        "done"
    } else if i == at {
        "current"
    } else {
        "todo"
    }
}

async fn detail(
    State(state): State<AppState>,
    ctx: StaffCtx,
    Path(id): Path<i64>,
    Query(q): Query<TabQuery>,
) -> AppResult<Response> {
    render_detail(
        &state,
        &ctx,
        id,
        &q.tab,
        Entered::default(),
        axum::http::StatusCode::OK,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DecideForm {
    decision: String,
    opinion: String,
    version: String,
}

async fn decide(
    State(state): State<AppState>,
    ctx: StaffCtx,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Form(form): Form<DecideForm>,
) -> AppResult<Response> {
    let c = &ctx.0;
    let mut e = Entered {
        decision: form.decision.clone(),
        opinion: form.opinion.clone(),
        ..Default::default()
    };
    let Some(decision) = Decision::from_code(&form.decision) else {
        e.opinion_error = Some(c.t("review.batch.choose_decision").to_owned());
        return render_detail(
            &state,
            &ctx,
            id,
            "",
            e,
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let seen = form.version.parse().unwrap_or(-1);
    match service::decide(
        &state.db,
        &who(c, &ip),
        &reviewer(&ctx),
        id,
        seen,
        decision,
        &form.opinion,
    )
    .await
    {
        Ok(to) => Ok(redirect_flash(
            &format!("/staff/applications/{id}"),
            "success",
            &format!("{} → {}", c.t("review.decided"), c.t(to.label_key())),
        )),
        Err(ServiceError::Invalid(errors)) => {
            e.opinion_error = error_of(&errors, "opinion", c.lang);
            render_detail(
                &state,
                &ctx,
                id,
                "",
                e,
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(ServiceError::Conflict(k)) => {
            e.opinion_error = Some(c.t(k).to_owned());
            render_detail(&state, &ctx, id, "", e, axum::http::StatusCode::CONFLICT).await
        }
        Err(ServiceError::Refused(k)) => {
            e.opinion_error = Some(c.t(k).to_owned());
            render_detail(&state, &ctx, id, "", e, axum::http::StatusCode::CONFLICT).await
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NoteForm {
    body: String,
}

async fn add_note(
    State(state): State<AppState>,
    ctx: StaffCtx,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Form(form): Form<NoteForm>,
) -> AppResult<Response> {
    let c = &ctx.0;
    match service::add_note(&state.db, &who(c, &ip), &reviewer(&ctx), id, &form.body).await {
        Ok(()) => Ok(redirect_flash(
            &format!("/staff/applications/{id}#notes"),
            "success",
            c.t("review.note_added"),
        )),
        Err(ServiceError::Invalid(errors)) => {
            let e = Entered {
                note: form.body,
                note_error: error_of(&errors, "body", c.lang),
                ..Default::default()
            };
            render_detail(
                &state,
                &ctx,
                id,
                "",
                e,
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SupplementForm {
    name: String,
    note: String,
}

async fn request_supplement(
    State(state): State<AppState>,
    ctx: StaffCtx,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Form(form): Form<SupplementForm>,
) -> AppResult<Response> {
    let c = &ctx.0;
    let result = service::request_supplement(
        &state.db,
        &who(c, &ip),
        &reviewer(&ctx),
        id,
        &form.name,
        &form.note,
    )
    .await;
    let error = match result {
        Ok(()) => {
            return Ok(redirect_flash(
                &format!("/staff/applications/{id}"),
                "success",
                c.t("review.supplement_requested"),
            ));
        }
        Err(ServiceError::Invalid(errors)) => {
            error_of(&errors, "name", c.lang).or_else(|| error_of(&errors, "note", c.lang))
        }
        Err(ServiceError::Refused(k)) => Some(c.t(k).to_owned()),
        Err(err) => return Err(err.into()),
    };
    let e = Entered {
        supplement_name: form.name,
        supplement_note: form.note,
        supplement_error: error,
        ..Default::default()
    };
    render_detail(
        &state,
        &ctx,
        id,
        "",
        e,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DeleteForm {
    reason: String,
    version: String,
}

async fn delete(
    State(state): State<AppState>,
    ctx: StaffCtx,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Form(form): Form<DeleteForm>,
) -> AppResult<Response> {
    let c = &ctx.0;
    let seen = form.version.parse().unwrap_or(-1);
    let result = service::staff_delete(
        &state.db,
        &state.storage,
        &who(c, &ip),
        &reviewer(&ctx),
        id,
        seen,
        &form.reason,
    )
    .await;
    let (error, status) = match result {
        Ok(()) => {
            return Ok(redirect_flash(
                "/staff/reviews",
                "success",
                c.t("review.deleted"),
            ));
        }
        Err(ServiceError::Invalid(errors)) => (
            error_of(&errors, "reason", c.lang),
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(ServiceError::Conflict(k) | ServiceError::Refused(k)) => {
            (Some(c.t(k).to_owned()), axum::http::StatusCode::CONFLICT)
        }
        Err(err) => return Err(err.into()),
    };
    let e = Entered {
        reason: form.reason,
        reason_error: error,
        ..Default::default()
    };
    render_detail(&state, &ctx, id, "", e, status).await
}

#[derive(Template)]
#[template(path = "staff/edit.html")]
struct EditPage {
    l: Layout,
    id: i64,
    version: i64,
    sections: Vec<FormSection>,
    reason: String,
    reason_error: Option<String>,
    errors: Vec<String>,
    conflict: bool,
}

async fn edit_data(state: &AppState, ctx: &StaffCtx, id: i64) -> AppResult<(StaffView, StepData)> {
    let view = service::load(&state.db, &reviewer(ctx), id).await?;
    if !view.actions.contains(&Action::StaffEdit) {
        return Err(AppError::Forbidden);
    }
    let data = step_data_for(state, view.app.clone()).await?;
    Ok((view, data))
}

async fn edit_page(
    State(state): State<AppState>,
    ctx: StaffCtx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (view, data) = edit_data(&state, &ctx, id).await?;
    let mut form = view.app.info_form();
    form.passport_no = state
        .key
        .open(&view.app.passport_no_enc)
        .unwrap_or_default();
    let sections = info_sections(&state, &ctx.0, &data, &form, &FieldErrors::new()).await?;
    Ok(html(EditPage {
        l: ctx.0.layout("nav.reviews", "review.edit_title"),
        id,
        version: view.app.version,
        sections,
        reason: String::new(),
        reason_error: None,
        errors: Vec::new(),
        conflict: false,
    }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EditForm {
    #[serde(flatten)]
    info: ApplicationInfoForm,
    reason: String,
    version: String,
}

async fn edit(
    State(state): State<AppState>,
    ctx: StaffCtx,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Form(form): Form<EditForm>,
) -> AppResult<Response> {
    let c = &ctx.0;
    let (current, data) = edit_data(&state, &ctx, id).await?;
    let seen = form.version.parse().unwrap_or(-1);
    let result = service::staff_edit(
        &state.db,
        &state.key,
        &who(c, &ip),
        &reviewer(&ctx),
        id,
        seen,
        &form.info,
        &form.reason,
    )
    .await;
    let (errors, conflict) = match result {
        Ok(()) => {
            return Ok(redirect_flash(
                &format!("/staff/applications/{id}?tab=detail"),
                "success",
                c.t("review.edited"),
            ));
        }
        Err(ServiceError::Invalid(errors)) => (errors, false),
        Err(ServiceError::Conflict(_)) => (FieldErrors::new(), true),
        Err(err) => return Err(err.into()),
    };
    let sections = info_sections(&state, c, &data, &form.info, &errors).await?;
    Ok(html_status(
        if conflict {
            axum::http::StatusCode::CONFLICT
        } else {
            axum::http::StatusCode::UNPROCESSABLE_ENTITY
        },
        EditPage {
            l: c.layout("nav.reviews", "review.edit_title"),
            id,
            // After a conflict, saving again means "mine over theirs": offer the newest version.
            version: if conflict { current.app.version } else { seen },
            sections,
            reason_error: error_of(&errors, "reason", c.lang),
            reason: form.reason,
            errors: crate::web::forms::summary(&errors, c.lang),
            conflict,
        },
    ))
}

async fn download(
    State(state): State<AppState>,
    ctx: StaffCtx,
    Path((id, file)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let view = service::load(&state.db, &reviewer(&ctx), id).await?;
    send_file(&state, &view.app, file, false).await
}

async fn preview(
    State(state): State<AppState>,
    ctx: StaffCtx,
    Path((id, file)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let view = service::load(&state.db, &reviewer(&ctx), id).await?;
    send_file(&state, &view.app, file, true).await
}

async fn form_pdf(
    State(state): State<AppState>,
    ctx: StaffCtx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let view = service::load(&state.db, &reviewer(&ctx), id).await?;
    super::forms::send_pdf(&state, view.app.student_id, id).await
}
