//! 审计日志: every sign-in and every recorded change, newest first, filtered by person (user
//! name or name), action and date range (从 … 至 …, China dates), paginated.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Days, FixedOffset, NaiveDate, Utc};

use super::{layout, page_count, page_number, tabs};
use crate::db::admin::{self as q, AuditFilter};
use crate::i18n::{Lang, has_key};
use crate::web::AppState;
use crate::web::error::AppResult;
use crate::web::extract::AdminCtx;
use crate::web::layout::Layout;
use crate::web::pages::cn_time;
use crate::web::render::html;

/// Log rows per page.
const PER_PAGE: u64 = 50;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/audit", get(list))
}

/// The filter bar as typed.
#[derive(Debug, Clone, Default, PartialEq)]
struct AuditQuery {
    person: String,
    action: String,
    from: String,
    to: String,
    page: u64,
}

/// The filter, and the catalogue keys of the date fields that could not be read.
#[derive(Debug, Clone)]
struct Parsed {
    filter: AuditFilter,
    from_error: Option<&'static str>,
    to_error: Option<&'static str>,
}

/// Midnight at the start of `date` in China (UTC+8), as UTC.
fn china_midnight(date: NaiveDate) -> DateTime<Utc> {
    let offset = FixedOffset::east_opt(8 * 3600).expect("a valid offset");
    date.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_local_timezone(offset)
        .single()
        .expect("a fixed offset has no gaps")
        .with_timezone(&Utc)
}

fn parse_date(raw: &str) -> Result<Option<NaiveDate>, &'static str> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| "err.date.format")
}

impl AuditQuery {
    fn parse(raw: Option<&str>) -> AuditQuery {
        let pairs: Vec<(String, String)> = raw
            .and_then(|r| serde_urlencoded::from_str(r).ok())
            .unwrap_or_default();
        let mut q = AuditQuery {
            page: 1,
            ..AuditQuery::default()
        };
        for (key, value) in pairs {
            let value = value.trim().to_owned();
            match key.as_str() {
                "person" => q.person = value,
                "action" => q.action = value,
                "from" => q.from = value,
                "to" => q.to = value,
                "page" => q.page = page_number(&value),
                _ => {}
            }
        }
        q
    }

    /// The database filter: 从 is inclusive from that day's midnight, 至 includes the whole
    /// day. A date that cannot be read is left out of the filter and reported; so is a 至
    /// before 从.
    fn filter(&self) -> Parsed {
        let from = parse_date(&self.from);
        let to = parse_date(&self.to);
        let mut to_error = to.err();
        if let (Ok(Some(f)), Ok(Some(t))) = (from, to)
            && t < f
        {
            to_error = Some("err.date.order");
        }
        let from_day = from.ok().flatten();
        let to_day = to.ok().flatten().filter(|_| to_error.is_none());
        Parsed {
            filter: AuditFilter {
                person: self.person.clone(),
                action: self.action.clone(),
                from: from_day.map(china_midnight),
                until: to_day
                    .and_then(|d| d.checked_add_days(Days::new(1)))
                    .map(china_midnight),
                page: self.page,
                per_page: PER_PAGE,
            },
            from_error: from.err(),
            to_error,
        }
    }

    fn pager_base(&self) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("person", &self.person),
            ("action", &self.action),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, v.as_str()))
        .collect();
        match serde_urlencoded::to_string(&pairs) {
            Ok(qs) if !qs.is_empty() => format!("/admin/audit?{qs}&"),
            _ => "/admin/audit?".to_owned(),
        }
    }
}

/// The label of an action code: `audit.action.<code>` when the catalogue has it, else the code.
fn action_label(lang: Lang, code: &str) -> String {
    let key = format!("audit.action.{code}");
    if has_key(&key) {
        lang.t(&key).to_owned()
    } else {
        code.to_owned()
    }
}

struct RowView {
    when: String,
    when_iso: String,
    actor: String,
    actor_username: String,
    action: String,
    action_code: String,
    target: String,
    detail: String,
    ip: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    l: Layout,
    tabs: Vec<(&'static str, String, bool)>,
    q: AuditQuery,
    action_options: Vec<(String, String)>,
    from_error: Option<String>,
    to_error: Option<String>,
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
    let mut query = AuditQuery::parse(raw.as_deref());
    let mut parsed = query.filter();
    let (mut rows, mut total) = q::audit_page(&state.db, &parsed.filter).await?;
    let last = page_count(total, PER_PAGE) as u64;
    if rows.is_empty() && last >= 1 && query.page > last {
        query.page = last;
        parsed = query.filter();
        (rows, total) = q::audit_page(&state.db, &parsed.filter).await?;
    }
    let lang = ctx.lang;
    let rows = rows
        .into_iter()
        .map(|r| RowView {
            when: cn_time(r.created_at),
            when_iso: r.created_at.to_rfc3339(),
            actor_username: r.actor_username.unwrap_or_default(),
            actor: r.actor_name,
            action: action_label(lang, &r.action),
            action_code: r.action,
            target: r.target,
            detail: r.detail,
            ip: r.ip,
        })
        .collect();
    let mut actions = q::audit_actions(&state.db).await?;
    // A filter on an action no longer in the log stays selectable.
    if !query.action.is_empty() && !actions.contains(&query.action) {
        actions.push(query.action.clone());
    }
    let action_options = actions
        .into_iter()
        .map(|a| {
            let label = action_label(lang, &a);
            (a, label)
        })
        .collect();
    let err = |k: Option<&'static str>| k.map(|k| lang.t(k).to_owned());
    Ok(html(AuditPage {
        l: layout(&ctx, "admin.audit.title"),
        tabs: tabs(&ctx, "audit"),
        from_error: err(parsed.from_error),
        to_error: err(parsed.to_error),
        page: query.page.min(i64::MAX as u64) as i64,
        pages: page_count(total, PER_PAGE),
        total,
        base: query.pager_base(),
        q: query,
        action_options,
        rows,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_range_covers_whole_china_days() {
        let q = AuditQuery::parse(Some("from=2026-03-01&to=2026-03-02"));
        let p = q.filter();
        assert_eq!(
            p.filter.from.map(|t| t.to_rfc3339()),
            Some("2026-02-28T16:00:00+00:00".to_owned())
        );
        assert_eq!(
            p.filter.until.map(|t| t.to_rfc3339()),
            Some("2026-03-02T16:00:00+00:00".to_owned())
        );
        assert_eq!(p.from_error, None);
        assert_eq!(p.to_error, None);
    }

    #[test]
    fn a_bad_or_reversed_date_is_reported_and_left_out() {
        let p = AuditQuery::parse(Some("from=2026-13-01&to=soon")).filter();
        assert_eq!(p.from_error, Some("err.date.format"));
        assert_eq!(p.to_error, Some("err.date.format"));
        assert_eq!((p.filter.from, p.filter.until), (None, None));
        let r = AuditQuery::parse(Some("from=2026-03-05&to=2026-03-01")).filter();
        assert_eq!(r.to_error, Some("err.date.order"));
        assert!(r.filter.from.is_some());
        assert_eq!(r.filter.until, None);
    }

    #[test]
    fn the_filters_are_kept_for_the_pager_and_unknown_actions_show_their_code() {
        let q = AuditQuery::parse(Some("person=%E6%9D%A8&action=login&page=2"));
        assert_eq!(
            q.pager_base(),
            "/admin/audit?person=%E6%9D%A8&action=login&"
        );
        assert_eq!(q.page, 2);
        assert_eq!(action_label(Lang::Zh, "no.such.action"), "no.such.action");
        assert_eq!(
            action_label(Lang::Zh, "login"),
            Lang::Zh.t("audit.action.login")
        );
    }
}
