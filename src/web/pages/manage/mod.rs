//! 项目管理 (SPEC §4, §10) and the workflow-template editor (SPEC §8), for the international
//! office and — for their own programs only — partners (【合作方】).
//!
//! [`programs`] serves the program list, the program form and the lifecycle buttons; [`rows`]
//! the partner schools and attachment types of a program; [`workflows`] the workflow
//! templates. Handlers parse, call one `services::program_admin` function and render; who may
//! do what is decided there. Every `/staff/programs` route asks [`Manager::of`] first, so
//! students and reviewers get 403 whatever the id, and a partner asking for a program that is
//! not its own gets 404.

mod journey;
mod programs;
mod rows;
mod workflows;

use axum::Router;

use crate::domain::FieldErrors;
use crate::i18n::Lang;
use crate::services::program_admin::Manager;
use crate::web::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::Ctx;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(programs::router())
        .merge(rows::router())
        .merge(workflows::router())
        .merge(journey::router())
}

/// A posted form as (key, value) pairs, repeated keys kept; an unreadable body is empty.
fn pairs(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// The value of `key` in posted pairs (the last one wins), or "".
fn value<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

/// The error summary above a form: "label：message" for each error, labels looked up by
/// `label_of` (a field without a label shows the message alone).
fn summary(
    errors: &FieldErrors,
    lang: Lang,
    label_of: impl Fn(&str) -> Option<String>,
) -> Vec<String> {
    errors
        .iter()
        .map(|e| match label_of(&e.field) {
            Some(label) => format!("{label}{}{}", lang.t("common.colon"), lang.t(e.code)),
            None => lang.t(e.code).to_owned(),
        })
        .collect()
}

/// The translated error of `field`, if any.
fn error_of(errors: &FieldErrors, field: &str, lang: Lang) -> Option<String> {
    errors.get(field).map(|k| lang.t(k).to_owned())
}

/// The manager the signed-in person is (403 for anyone else).
fn manager(ctx: &Ctx) -> AppResult<Manager> {
    let u = ctx.user()?;
    Ok(Manager::of(u.id, &u.roles)?)
}

/// An id from the path; anything that is not a number does not exist.
fn id_of(raw: &str) -> AppResult<i64> {
    raw.parse().map_err(|_| AppError::NotFound)
}

fn program_url(id: i64) -> String {
    format!("/staff/programs/{id}")
}

/// What a form about one program posted: who, which program, the version it was drawn at.
struct Posted {
    m: Manager,
    id: i64,
    seen: i64,
    pairs: Vec<(String, String)>,
}

impl Posted {
    fn read(ctx: &Ctx, id: &str, body: &[u8]) -> AppResult<Posted> {
        let m = manager(ctx)?;
        let id = id_of(id)?;
        let pairs = pairs(body);
        let seen = value(&pairs, "version").trim().parse().unwrap_or(-1);
        Ok(Posted { m, id, seen, pairs })
    }
}

/// A group of check boxes (or a multi-select) posting one name several times.
struct Checks {
    name: &'static str,
    label: String,
    options: Vec<CheckOption>,
    error: Option<String>,
    hint: Option<String>,
    /// Drawn as `<select multiple>` (long lists such as majors).
    multi_select: bool,
    enabled: bool,
}

struct CheckOption {
    value: String,
    label: String,
    checked: bool,
}

/// One yes/no check box.
struct Flag {
    name: &'static str,
    label: String,
    checked: bool,
    hint: Option<String>,
    enabled: bool,
}
