//! 系统管理 (SPEC §11): the system administrator's pages — accounts and roles, colleges and
//! majors, the dictionaries, and the audit log.
//!
//! Every handler takes [`AdminCtx`](crate::web::extract::AdminCtx), so that anyone but a system
//! administrator gets 403 on every route, GET or POST; the services check the role again.
//! Handlers parse, call one service and render; a refused form comes back (422) with the input
//! kept and the error beside the field, a good one redirects with a flash message.

mod audit;
mod dicts;
mod registry;
mod users;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use crate::db::admin as q;
use crate::domain::FieldErrors;
use crate::i18n::Lang;
use crate::services::admin::DICT_KINDS;
use crate::web::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{AdminCtx, Ctx, redirect_flash};
use crate::web::layout::Layout;
use crate::web::render::html;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(home))
        .merge(users::router())
        .merge(registry::router())
        .merge(dicts::router())
        .merge(audit::router())
}

/// The sub-sections of the area (the tabs on every admin page): (code, href, label key).
const SECTIONS: [(&str, &str, &str); 4] = [
    ("users", "/admin/users", "admin.users.title"),
    ("colleges", "/admin/colleges", "admin.colleges.title"),
    ("dicts", "/admin/dictionaries", "admin.dicts.title"),
    ("audit", "/admin/audit", "admin.audit.title"),
];

/// The tabs of the area, with the current one marked: (href, label, current).
fn tabs(ctx: &Ctx, current: &str) -> Vec<(&'static str, String, bool)> {
    SECTIONS
        .iter()
        .map(|(code, href, key)| (*href, ctx.t(key).to_owned(), *code == current))
        .collect()
}

/// The frame of an admin page with a translated title.
fn layout(ctx: &Ctx, title_key: &str) -> Layout {
    ctx.layout("nav.admin", title_key)
}

/// A 303 back to `to` with a translated message.
fn flash(ctx: &Ctx, to: &str, kind: &str, key: &str) -> Response {
    redirect_flash(to, kind, ctx.t(key))
}

/// The posted form as (key, value) pairs, repeated keys kept (checkbox lists).
fn pairs(body: &[u8]) -> AppResult<Vec<(String, String)>> {
    serde_urlencoded::from_bytes(body).map_err(|_| AppError::Refused("err.admin.bad_form"))
}

/// The value of `key` in posted pairs (the last one wins), or "".
fn value_of<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// Every error of a form, translated, each after its field's label: the summary above a form.
/// `labels` maps field names to their (translated) labels.
fn summary(errors: &FieldErrors, lang: Lang, labels: &[(&str, String)]) -> Vec<String> {
    errors
        .iter()
        .map(|e| match labels.iter().find(|(f, _)| *f == e.field) {
            Some((_, label)) => format!("{label}{}{}", lang.t("admin.colon"), lang.t(e.code)),
            None => lang.t(e.code).to_owned(),
        })
        .collect()
}

/// Is the posted `active` field a request to activate (`1`) rather than to deactivate (`0`)?
fn wants_active(pairs: &[(String, String)]) -> AppResult<bool> {
    match value_of(pairs, "active") {
        "1" => Ok(true),
        "0" => Ok(false),
        _ => Err(AppError::Refused("err.admin.bad_form")),
    }
}

/// A 1-based page number from a query value; anything else is the first page.
fn page_number(raw: &str) -> u64 {
    raw.trim().parse().ok().filter(|p| *p >= 1).unwrap_or(1)
}

/// The number of pages for `total` rows.
fn page_count(total: i64, per_page: u64) -> i64 {
    (total.max(0) as u64).div_ceil(per_page) as i64
}

/// One entry of the area's home page.
struct HomeCard {
    href: &'static str,
    title: String,
    text: String,
    count: Option<i64>,
}

#[derive(Template)]
#[template(path = "admin/index.html")]
struct HomePage {
    l: Layout,
    tabs: Vec<(&'static str, String, bool)>,
    cards: Vec<HomeCard>,
}

async fn home(State(state): State<AppState>, AdminCtx(ctx): AdminCtx) -> AppResult<Response> {
    let users = q::list_users(
        &state.db,
        &q::UserFilter {
            page: 1,
            per_page: 1,
            ..Default::default()
        },
    )
    .await?
    .1;
    let colleges = q::colleges(&state.db).await?.len() as i64;
    let kinds = DICT_KINDS.len() as i64;
    let card = |href, title: &str, text: &str, count| HomeCard {
        href,
        title: ctx.t(title).to_owned(),
        text: ctx.t(text).to_owned(),
        count,
    };
    let cards = vec![
        card(
            "/admin/users",
            "admin.users.title",
            "admin.home.users",
            Some(users),
        ),
        card(
            "/admin/colleges",
            "admin.colleges.title",
            "admin.home.colleges",
            Some(colleges),
        ),
        card(
            "/admin/dictionaries",
            "admin.dicts.title",
            "admin.home.dicts",
            Some(kinds),
        ),
        card(
            "/admin/audit",
            "admin.audit.title",
            "admin.home.audit",
            None,
        ),
    ];
    Ok(html(HomePage {
        l: layout(&ctx, "nav.admin"),
        tabs: tabs(&ctx, ""),
        cards,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_number_is_positive_or_the_first_page() {
        assert_eq!(page_number("3"), 3);
        assert_eq!(page_number("0"), 1);
        assert_eq!(page_number("-2"), 1);
        assert_eq!(page_number("x"), 1);
        assert_eq!(page_count(0, 20), 0);
        assert_eq!(page_count(41, 20), 3);
    }

    #[test]
    fn the_active_switch_is_one_or_zero_and_nothing_else() {
        let p = |v: &str| vec![("active".to_owned(), v.to_owned())];
        assert!(wants_active(&p("1")).expect("valid"));
        assert!(!wants_active(&p("0")).expect("valid"));
        assert!(wants_active(&p("yes")).is_err());
        assert!(wants_active(&[]).is_err());
    }
}
