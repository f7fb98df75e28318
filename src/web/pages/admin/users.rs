//! 用户与角色: the account list with search, creating a staff account (roles, reviewed
//! colleges, an initial password typed or generated and shown once), editing, deactivating and
//! resetting a password.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::Utc;

use super::{flash, layout, page_count, page_number, pairs, summary, tabs, value_of, wants_active};
use crate::auth::{Role, role_code, role_from_code, role_key};
use crate::db::admin::{self as q, UserAdminRow};
use crate::domain::FieldErrors;
use crate::services::ServiceError;
use crate::services::admin::{self, ASSIGNABLE_ROLES, Created, UserForm};
use crate::web::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{AdminCtx, ClientIp, Ctx, Path, who};
use crate::web::forms::error_of;
use crate::web::layout::{FieldKind, FormField, Layout};
use crate::web::pages::cn_time;
use crate::web::render::{html, html_status};

/// Accounts per page.
const PER_PAGE: u64 = 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list))
        .route("/admin/users/new", get(new_form).post(create))
        .route("/admin/users/{id}", get(edit_form).post(update))
        .route("/admin/users/{id}/active", post(set_active))
        .route("/admin/users/{id}/password", post(reset_password))
}

/// A checkbox or radio option.
struct Choice {
    value: String,
    label: String,
    checked: bool,
}

/// (badge colour, label key) of an account's state.
fn status_of(u: &UserAdminRow) -> (&'static str, &'static str) {
    if !u.active {
        ("grey", "admin.user.status.inactive")
    } else if u.locked_until.is_some_and(|t| t > Utc::now()) {
        ("orange", "admin.user.status.locked")
    } else if u.must_change_password {
        ("blue", "admin.user.status.must_change")
    } else {
        ("green", "admin.user.status.active")
    }
}

/// The labels of role codes, joined.
fn roles_text(ctx: &Ctx, codes: &[String]) -> String {
    let mut roles: Vec<Role> = codes.iter().filter_map(|c| role_from_code(c)).collect();
    roles.sort_by_key(|r| role_code(*r));
    roles
        .iter()
        .map(|r| ctx.t(role_key(*r)))
        .collect::<Vec<_>>()
        .join(ctx.t("admin.list_sep"))
}

/// id → display name of every college (inactive ones marked).
async fn college_names(state: &AppState, ctx: &Ctx) -> AppResult<Vec<(i64, String, bool)>> {
    Ok(q::colleges(&state.db)
        .await?
        .into_iter()
        .map(|c| {
            let mut name = format!("{} {}", c.code, ctx.lang.pick(&c.name_zh, &c.name_en));
            if !c.active {
                name.push_str(ctx.t("admin.inactive_suffix"));
            }
            (c.id, name, c.active)
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// The list

/// The search bar as typed, kept to redraw the form and the page links.
#[derive(Debug, Clone, Default, PartialEq)]
struct ListQuery {
    text: String,
    role: String,
    status: String,
    page: u64,
}

impl ListQuery {
    fn parse(raw: Option<&str>) -> ListQuery {
        let pairs: Vec<(String, String)> = raw
            .and_then(|r| serde_urlencoded::from_str(r).ok())
            .unwrap_or_default();
        let mut q = ListQuery {
            page: 1,
            ..ListQuery::default()
        };
        for (key, value) in pairs {
            let value = value.trim().to_owned();
            match key.as_str() {
                "q" => q.text = value,
                "role" => q.role = value,
                "status" => q.status = value,
                "page" => q.page = page_number(&value),
                _ => {}
            }
        }
        q
    }

    fn filter(&self) -> q::UserFilter {
        q::UserFilter {
            text: self.text.clone(),
            role: role_from_code(&self.role).map(|r| role_code(r).to_owned()),
            active: match self.status.as_str() {
                "active" => Some(true),
                "inactive" => Some(false),
                _ => None,
            },
            page: self.page,
            per_page: PER_PAGE,
        }
    }

    /// The list's URL with the filters set, ready for `page=N`.
    fn pager_base(&self) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("q", &self.text),
            ("role", &self.role),
            ("status", &self.status),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, v.as_str()))
        .collect();
        match serde_urlencoded::to_string(&pairs) {
            Ok(qs) if !qs.is_empty() => format!("/admin/users?{qs}&"),
            _ => "/admin/users?".to_owned(),
        }
    }
}

struct RowView {
    id: i64,
    username: String,
    display_name: String,
    roles: String,
    colleges: String,
    status_color: &'static str,
    status_label: String,
    last_login: String,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct ListPage {
    l: Layout,
    tabs: Vec<(&'static str, String, bool)>,
    q: ListQuery,
    role_options: Vec<(String, String)>,
    status_options: Vec<(String, String)>,
    rows: Vec<RowView>,
    page: i64,
    pages: i64,
    total: i64,
    base: String,
}

async fn list(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let mut query = ListQuery::parse(raw.as_deref());
    let (mut rows, mut total) = q::list_users(&state.db, &query.filter()).await?;
    // A page past the end (an old link) shows the last page instead.
    let last = page_count(total, PER_PAGE) as u64;
    if rows.is_empty() && last >= 1 && query.page > last {
        query.page = last;
        (rows, total) = q::list_users(&state.db, &query.filter()).await?;
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut roles: HashMap<i64, Vec<String>> = HashMap::new();
    for (user_id, role) in q::roles_of(&state.db, &ids).await? {
        roles.entry(user_id).or_default().push(role);
    }
    let names: HashMap<i64, String> = college_names(&state, &ctx)
        .await?
        .into_iter()
        .map(|(id, name, _)| (id, name))
        .collect();
    let mut colleges: HashMap<i64, Vec<String>> = HashMap::new();
    for (user_id, college_id) in q::reviewed_colleges_of(&state.db, &ids).await? {
        if let Some(name) = names.get(&college_id) {
            colleges.entry(user_id).or_default().push(name.clone());
        }
    }
    let rows = rows
        .into_iter()
        .map(|u| {
            let (color, key) = status_of(&u);
            RowView {
                roles: roles_text(&ctx, roles.get(&u.id).map_or(&[][..], Vec::as_slice)),
                colleges: colleges
                    .remove(&u.id)
                    .map(|mut c| {
                        c.sort();
                        c.join(ctx.t("admin.list_sep"))
                    })
                    .unwrap_or_default(),
                status_color: color,
                status_label: ctx.t(key).to_owned(),
                last_login: u.last_login_at.map(cn_time).unwrap_or_default(),
                id: u.id,
                username: u.username,
                display_name: u.display_name,
            }
        })
        .collect();
    let mut role_options: Vec<(String, String)> = vec![(
        role_code(Role::Student).to_owned(),
        ctx.t(role_key(Role::Student)).to_owned(),
    )];
    role_options.extend(
        ASSIGNABLE_ROLES
            .iter()
            .map(|r| (role_code(*r).to_owned(), ctx.t(role_key(*r)).to_owned())),
    );
    let status_options = [
        ("active", "admin.status.active"),
        ("inactive", "admin.status.inactive"),
    ]
    .iter()
    .map(|(v, k)| ((*v).to_owned(), ctx.t(k).to_owned()))
    .collect();
    Ok(html(ListPage {
        l: layout(&ctx, "admin.users.title"),
        tabs: tabs(&ctx, "users"),
        page: query.page.min(i64::MAX as u64) as i64,
        pages: page_count(total, PER_PAGE),
        total,
        base: query.pager_base(),
        q: query,
        role_options,
        status_options,
        rows,
    }))
}

// ---------------------------------------------------------------------------------------------
// The account form (new and edit)

/// What the page says about a stored account.
struct AccountInfo {
    id: i64,
    active: bool,
    status_color: &'static str,
    status_label: String,
    created: String,
    last_login: String,
    /// A student's account: the 学生 role stays whatever is chosen here.
    is_student: bool,
    /// The administrator's own account: no deactivating, no reset here.
    is_self: bool,
}

#[derive(Template)]
#[template(path = "admin/user_form.html")]
struct FormPage {
    l: Layout,
    tabs: Vec<(&'static str, String, bool)>,
    action: String,
    account: Option<AccountInfo>,
    username: FormField,
    display_name: FormField,
    roles: Vec<Choice>,
    roles_error: Option<String>,
    colleges: Vec<Choice>,
    colleges_error: Option<String>,
    /// `generate` or `set`, for the password radios.
    password_mode: String,
    password_error: Option<String>,
    summary: Vec<String>,
}

/// The form page of a new account (`id` = `None`) or of a stored one, showing `form` (what was
/// posted, or what is stored when `None`) with `errors`.
async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    id: Option<i64>,
    form: Option<UserForm>,
    errors: &FieldErrors,
) -> AppResult<FormPage> {
    let (account, stored) = match id {
        None => (None, UserForm::default()),
        Some(id) => {
            let u = q::user(&state.db, id).await?.ok_or(AppError::NotFound)?;
            let codes: Vec<String> = q::roles_of(&state.db, &[id])
                .await?
                .into_iter()
                .map(|(_, r)| r)
                .collect();
            let colleges = q::reviewed_colleges_of(&state.db, &[id]).await?;
            let (color, key) = status_of(&u);
            let info = AccountInfo {
                id,
                active: u.active,
                status_color: color,
                status_label: ctx.t(key).to_owned(),
                created: cn_time(u.created_at),
                last_login: u.last_login_at.map(cn_time).unwrap_or_default(),
                is_student: codes.iter().any(|c| c == role_code(Role::Student)),
                is_self: ctx.user.as_ref().is_some_and(|me| me.id == id),
            };
            let stored = UserForm {
                username: u.username,
                display_name: u.display_name,
                roles: codes,
                colleges: colleges.iter().map(|(_, c)| c.to_string()).collect(),
                ..UserForm::default()
            };
            (Some(info), stored)
        }
    };
    // The user name never changes once the account exists.
    let username_value = stored.username.clone();
    let form = form.unwrap_or(stored);
    let label = |key: &str| ctx.t(key).to_owned();
    let username = FormField::new("username", label("admin.user.username"), FieldKind::Text)
        .value(if account.is_some() {
            username_value
        } else {
            form.username.clone()
        })
        .required(true)
        .readonly(account.is_some())
        .hint(ctx.t("admin.user.username_hint"))
        .error(error_of(errors, "username", ctx.lang));
    let display_name = FormField::new(
        "display_name",
        label("admin.user.display_name"),
        FieldKind::Text,
    )
    .value(form.display_name.clone())
    .required(true)
    .error(error_of(errors, "display_name", ctx.lang));
    let roles = ASSIGNABLE_ROLES
        .iter()
        .map(|r| Choice {
            value: role_code(*r).to_owned(),
            label: ctx.t(role_key(*r)).to_owned(),
            checked: form.roles.iter().any(|c| c == role_code(*r)),
        })
        .collect();
    let colleges = college_names(state, ctx)
        .await?
        .into_iter()
        .filter_map(|(cid, name, active)| {
            let checked = form.colleges.iter().any(|c| c.trim() == cid.to_string());
            (active || checked).then(|| Choice {
                value: cid.to_string(),
                label: name,
                checked,
            })
        })
        .collect();
    let password_mode = if form.password_mode == "set" {
        "set"
    } else {
        "generate"
    };
    Ok(FormPage {
        l: match &account {
            None => layout(ctx, "admin.user.new"),
            Some(_) => ctx.layout_titled(
                "nav.admin",
                format!("{} · {}", ctx.t("admin.user.edit"), form.display_name),
            ),
        },
        tabs: tabs(ctx, "users"),
        action: match &account {
            None => "/admin/users/new".to_owned(),
            Some(a) => format!("/admin/users/{}", a.id),
        },
        account,
        username,
        display_name,
        roles,
        roles_error: error_of(errors, "roles", ctx.lang),
        colleges,
        colleges_error: error_of(errors, "colleges", ctx.lang),
        password_mode: password_mode.to_owned(),
        password_error: error_of(errors, "password", ctx.lang),
        summary: summary(
            errors,
            ctx.lang,
            &[
                ("username", label("admin.user.username")),
                ("display_name", label("admin.user.display_name")),
                ("roles", label("admin.user.roles")),
                ("colleges", label("admin.user.colleges")),
                ("password", label("admin.password.typed")),
            ],
        ),
    })
}

async fn new_form(State(state): State<AppState>, AdminCtx(ctx): AdminCtx) -> AppResult<Response> {
    let none = FieldErrors::new();
    Ok(html(form_page(&state, &ctx, None, None, &none).await?))
}

async fn edit_form(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let none = FieldErrors::new();
    Ok(html(form_page(&state, &ctx, Some(id), None, &none).await?))
}

/// The one-time display of a password the system made up.
#[derive(Template)]
#[template(path = "admin/password_shown.html")]
struct PasswordPage {
    l: Layout,
    tabs: Vec<(&'static str, String, bool)>,
    username: String,
    display_name: String,
    password: String,
    user_href: String,
    /// A new account (else a reset).
    created: bool,
}

async fn password_page(
    state: &AppState,
    ctx: &Ctx,
    user_id: i64,
    password: String,
    created: bool,
) -> AppResult<Response> {
    let u = q::user(&state.db, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(html(PasswordPage {
        l: layout(
            ctx,
            if created {
                "admin.user.created"
            } else {
                "admin.user.password_reset"
            },
        ),
        tabs: tabs(ctx, "users"),
        username: u.username,
        display_name: u.display_name,
        password,
        user_href: format!("/admin/users/{user_id}"),
        created,
    }))
}

async fn create(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    ip: ClientIp,
    body: Bytes,
) -> AppResult<Response> {
    let form = UserForm::from_pairs(&pairs(&body)?);
    match admin::create_user(&state.db, &who(&ctx, &ip.0), &form).await {
        Ok(Created {
            user_id,
            generated_password: Some(password),
        }) => password_page(&state, &ctx, user_id, password, true).await,
        Ok(Created { user_id, .. }) => Ok(flash(
            &ctx,
            &format!("/admin/users/{user_id}"),
            "success",
            "admin.user.created",
        )),
        Err(ServiceError::Invalid(errors)) => {
            let page = form_page(&state, &ctx, None, Some(form), &errors).await?;
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, page))
        }
        Err(e) => Err(e.into()),
    }
}

async fn update(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    ip: ClientIp,
    Path(id): Path<i64>,
    body: Bytes,
) -> AppResult<Response> {
    let form = UserForm::from_pairs(&pairs(&body)?);
    match admin::update_user(&state.db, &who(&ctx, &ip.0), id, &form).await {
        Ok(()) => Ok(flash(
            &ctx,
            &format!("/admin/users/{id}"),
            "success",
            "admin.saved",
        )),
        Err(ServiceError::Invalid(errors)) => {
            let page = form_page(&state, &ctx, Some(id), Some(form), &errors).await?;
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, page))
        }
        Err(e) => Err(e.into()),
    }
}

async fn set_active(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    ip: ClientIp,
    Path(id): Path<i64>,
    body: Bytes,
) -> AppResult<Response> {
    let active = wants_active(&pairs(&body)?)?;
    let to = format!("/admin/users/{id}");
    match admin::set_user_active(&state.db, &who(&ctx, &ip.0), id, active).await {
        Ok(()) => Ok(flash(
            &ctx,
            &to,
            "success",
            if active {
                "admin.user.reactivated"
            } else {
                "admin.user.deactivated"
            },
        )),
        Err(ServiceError::Refused(key)) => Ok(flash(&ctx, &to, "error", key)),
        Err(e) => Err(e.into()),
    }
}

async fn reset_password(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    ip: ClientIp,
    Path(id): Path<i64>,
    body: Bytes,
) -> AppResult<Response> {
    let posted = pairs(&body)?;
    let mode = value_of(&posted, "password_mode");
    let typed = value_of(&posted, "password");
    let to = format!("/admin/users/{id}");
    match admin::reset_password(&state.db, &who(&ctx, &ip.0), id, mode, typed).await {
        Ok(Some(password)) => password_page(&state, &ctx, id, password, false).await,
        Ok(None) => Ok(flash(&ctx, &to, "success", "admin.user.password_reset")),
        Err(ServiceError::Invalid(errors)) => {
            let mut page = form_page(&state, &ctx, Some(id), None, &errors).await?;
            page.password_mode = "set".to_owned();
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, page))
        }
        Err(ServiceError::Refused(key)) => Ok(flash(&ctx, &to, "error", key)),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_is_read_leniently_and_kept_for_the_pager() {
        let q = ListQuery::parse(Some(
            "q=%E7%8E%8B&role=college_reviewer&status=active&page=2&x=1",
        ));
        assert_eq!(q.text, "王");
        assert_eq!(q.page, 2);
        let f = q.filter();
        assert_eq!(f.role.as_deref(), Some("college_reviewer"));
        assert_eq!(f.active, Some(true));
        assert_eq!(
            q.pager_base(),
            "/admin/users?q=%E7%8E%8B&role=college_reviewer&status=active&"
        );
        let junk = ListQuery::parse(Some("role=nobody&status=maybe&page=zero"));
        assert_eq!(junk.filter().role, None);
        assert_eq!(junk.filter().active, None);
        assert_eq!(junk.page, 1);
        assert_eq!(ListQuery::parse(None).pager_base(), "/admin/users?");
    }
}
