//! The permission matrix: every staff and admin route × every kind of person, against the
//! documented expectation. The routes are read from the page modules' source, so a route
//! added without a line here fails the test, and so does a line for a route that is gone.
//!
//! The people: a student, the college reviewer of the applicant's college, a college reviewer
//! of another college, the international office, academic affairs, the system admin, a
//! partner, and nobody signed in. `Go` means the request reached its handler as that person
//! (any answer but 401 / 403 / 404 / 5xx, e.g. a page, a redirect or a form error for the
//! empty form the test posts).

use std::collections::BTreeSet;

use axum::http::StatusCode;
use sea_query::{Expr, ExprTrait, Order, Query};

use crate::both;
use crate::support::{Client, TestApp};

/// What a person gets from a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum E {
    /// Reached the handler.
    Go,
    /// 403.
    No,
    /// 404: the record is outside the person's scope, and it looks as if it did not exist.
    Hid,
    /// 403 or 404: a partner asking for the school's own program.
    Den,
    /// Sent to sign in.
    In,
}
use E::*;

/// The people, in the order of the matrix columns.
const PEOPLE: [(&str, &str); 8] = [
    ("2023010101", "Demo@2026"),    // student
    ("wxy_reviewer", "Staff@2026"), // reviewer of the applicant's college (外国语学院)
    ("xx_reviewer", "Staff@2026"),  // reviewer of other colleges
    ("gjc_officer", "Staff@2026"),  // international office
    ("jwc_officer", "Staff@2026"),  // academic affairs
    ("admin", "Staff@2026"),        // system admin
    ("partner_demo", "Staff@2026"), // partner
    ("", ""),                       // signed out
];

/// Every staff and admin route: (method, path, expectation per person in `PEOPLE` order).
#[rustfmt::skip]
const MATRIX: &[(&str, &str, [E; 8])] = &[
    // 审核工作台: any member of staff; an application only within the person's scope.
    ("GET",  "/staff/reviews",                                  [No, Go, Go, Go, Go, Go, No, In]),
    ("POST", "/staff/reviews/batch",                            [No, Go, Go, Go, Go, Go, No, In]),
    ("GET",  "/staff/applications/{id}",                        [No, Go, Hid, Go, Go, Go, No, In]),
    ("POST", "/staff/applications/{id}/decide",                 [No, Go, Hid, Go, Go, Go, No, In]),
    ("POST", "/staff/applications/{id}/notes",                  [No, Go, Hid, Go, Go, Go, No, In]),
    ("POST", "/staff/applications/{id}/supplements",            [No, Go, Hid, Go, Go, Go, No, In]),
    ("GET",  "/staff/applications/{id}/edit",                   [No, No, Hid, Go, No, Go, No, In]),
    ("POST", "/staff/applications/{id}/edit",                   [No, No, Hid, Go, No, Go, No, In]),
    ("POST", "/staff/applications/{id}/delete",                 [No, No, Hid, Go, No, Go, No, In]),
    ("GET",  "/staff/applications/{id}/form.pdf",               [No, Go, Hid, Go, Go, Go, No, In]),
    ("GET",  "/staff/applications/{id}/attachments/{file}",     [No, Go, Hid, Go, Go, Go, No, In]),
    ("GET",  "/staff/applications/{id}/attachments/{file}/view",[No, Go, Hid, Go, Go, Go, No, In]),
    // 申请查询 and 统计: any member of staff, rows scoped to the reviewer's colleges.
    ("GET",  "/staff/applications",                             [No, Go, Go, Go, Go, Go, No, In]),
    ("GET",  "/staff/applications/export.xlsx",                 [No, Go, Go, Go, Go, Go, No, In]),
    ("GET",  "/staff/statistics",                               [No, Go, Go, Go, Go, Go, No, In]),
    // 录取管理: the international office (and admins).
    ("GET",  "/staff/admissions",                               [No, No, No, Go, No, Go, No, In]),
    ("POST", "/staff/admissions/record",                        [No, No, No, Go, No, Go, No, In]),
    ("GET",  "/staff/admissions/programs/{id}/allocation",      [No, No, No, Go, No, Go, No, In]),
    ("POST", "/staff/admissions/programs/{id}/allocation/settings", [No, No, No, Go, No, Go, No, In]),
    ("POST", "/staff/admissions/programs/{id}/allocation/override", [No, No, No, Go, No, Go, No, In]),
    ("POST", "/staff/admissions/programs/{id}/allocation/publish",  [No, No, No, Go, No, Go, No, In]),
    // 项目管理: the office; a partner only its own programs (these are the school's).
    ("GET",  "/staff/programs",                                 [No, No, No, Go, No, Go, Go, In]),
    ("GET",  "/staff/programs/new",                             [No, No, No, Go, No, Go, Go, In]),
    ("POST", "/staff/programs/new",                             [No, No, No, Go, No, Go, Go, In]),
    ("GET",  "/staff/programs/{id}",                            [No, No, No, Go, No, Go, Den, In]),
    ("POST", "/staff/programs/{id}",                            [No, No, No, Go, No, Go, Den, In]),
    ("POST", "/staff/programs/{id}/approve",                    [No, No, No, Go, No, Go, Den, In]),
    ("POST", "/staff/programs/{id}/refuse",                     [No, No, No, Go, No, Go, Den, In]),
    ("POST", "/staff/programs/{id}/close",                      [No, No, No, Go, No, Go, Den, In]),
    ("POST", "/staff/programs/{id}/copy",                       [No, No, No, Go, No, Go, Den, In]),
    ("POST", "/staff/programs/{id}/publish",                    [No, No, No, Go, No, Go, Den, In]),
    ("POST", "/staff/programs/{id}/unpublish",                  [No, No, No, Go, No, Go, Den, In]),
    ("POST", "/staff/programs/{id}/submit",                     [No, No, No, Go, No, Go, Den, In]),
    ("GET",  "/staff/programs/{id}/schools/new",                [No, No, No, Go, No, Go, Den, In]),
    ("POST", "/staff/programs/{id}/schools/new",                [No, No, No, Go, No, Go, Den, In]),
    ("GET",  "/staff/programs/{id}/schools/{sid}",              [No, No, No, Go, No, Go, Den, In]),
    ("POST", "/staff/programs/{id}/schools/{sid}",              [No, No, No, Go, No, Go, Den, In]),
    ("POST", "/staff/programs/{id}/schools/{sid}/delete",       [No, No, No, Go, No, Go, Den, In]),
    ("GET",  "/staff/programs/{id}/types/new",                  [No, No, No, Go, No, Go, Den, In]),
    ("POST", "/staff/programs/{id}/types/new",                  [No, No, No, Go, No, Go, Den, In]),
    ("GET",  "/staff/programs/{id}/types/{tid}",                [No, No, No, Go, No, Go, Den, In]),
    ("POST", "/staff/programs/{id}/types/{tid}",                [No, No, No, Go, No, Go, Den, In]),
    ("POST", "/staff/programs/{id}/types/{tid}/delete",         [No, No, No, Go, No, Go, Den, In]),
    ("GET",  "/staff/workflows",                                [No, No, No, Go, No, Go, No, In]),
    ("GET",  "/staff/workflows/new",                            [No, No, No, Go, No, Go, No, In]),
    ("POST", "/staff/workflows/new",                            [No, No, No, Go, No, Go, No, In]),
    ("GET",  "/staff/workflows/{code}",                         [No, No, No, Go, No, Go, No, In]),
    ("POST", "/staff/workflows/{code}",                         [No, No, No, Go, No, Go, No, In]),
    // 系统管理: the system admin only.
    ("GET",  "/admin",                                          [No, No, No, No, No, Go, No, In]),
    ("GET",  "/admin/audit",                                    [No, No, No, No, No, Go, No, In]),
    ("GET",  "/admin/users",                                    [No, No, No, No, No, Go, No, In]),
    ("GET",  "/admin/users/new",                                [No, No, No, No, No, Go, No, In]),
    ("POST", "/admin/users/new",                                [No, No, No, No, No, Go, No, In]),
    ("GET",  "/admin/users/{id}",                               [No, No, No, No, No, Go, No, In]),
    ("POST", "/admin/users/{id}",                               [No, No, No, No, No, Go, No, In]),
    ("POST", "/admin/users/{id}/active",                        [No, No, No, No, No, Go, No, In]),
    ("POST", "/admin/users/{id}/password",                      [No, No, No, No, No, Go, No, In]),
    ("GET",  "/admin/colleges",                                 [No, No, No, No, No, Go, No, In]),
    ("GET",  "/admin/colleges/new",                             [No, No, No, No, No, Go, No, In]),
    ("POST", "/admin/colleges/new",                             [No, No, No, No, No, Go, No, In]),
    ("GET",  "/admin/colleges/{id}",                            [No, No, No, No, No, Go, No, In]),
    ("POST", "/admin/colleges/{id}",                            [No, No, No, No, No, Go, No, In]),
    ("POST", "/admin/colleges/{id}/active",                     [No, No, No, No, No, Go, No, In]),
    ("POST", "/admin/colleges/{id}/delete",                     [No, No, No, No, No, Go, No, In]),
    ("GET",  "/admin/colleges/{id}/majors",                     [No, No, No, No, No, Go, No, In]),
    ("GET",  "/admin/colleges/{id}/majors/new",                 [No, No, No, No, No, Go, No, In]),
    ("POST", "/admin/colleges/{id}/majors/new",                 [No, No, No, No, No, Go, No, In]),
    ("GET",  "/admin/majors/{id}",                              [No, No, No, No, No, Go, No, In]),
    ("POST", "/admin/majors/{id}",                              [No, No, No, No, No, Go, No, In]),
    ("POST", "/admin/majors/{id}/active",                       [No, No, No, No, No, Go, No, In]),
    ("POST", "/admin/majors/{id}/delete",                       [No, No, No, No, No, Go, No, In]),
    ("GET",  "/admin/dictionaries",                             [No, No, No, No, No, Go, No, In]),
    ("GET",  "/admin/dictionaries/{kind}",                      [No, No, No, No, No, Go, No, In]),
    ("GET",  "/admin/dictionaries/{kind}/new",                  [No, No, No, No, No, Go, No, In]),
    ("POST", "/admin/dictionaries/{kind}/new",                  [No, No, No, No, No, Go, No, In]),
    ("GET",  "/admin/dictionaries/{kind}/{id}",                 [No, No, No, No, No, Go, No, In]),
    ("POST", "/admin/dictionaries/{kind}/{id}",                 [No, No, No, No, No, Go, No, In]),
    ("POST", "/admin/dictionaries/{kind}/{id}/active",          [No, No, No, No, No, Go, No, In]),
    ("POST", "/admin/dictionaries/{kind}/{id}/move",            [No, No, No, No, No, Go, No, In]),
];

/// The (method, path) of every `/staff` and `/admin` route the page modules declare.
fn declared_routes() -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web/pages");
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("the pages folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let src = std::fs::read_to_string(&path).expect("a source file");
                routes_in(&src, &mut out);
            }
        }
    }
    out
}

/// Finds `.route("path", get(..).post(..))` calls, over several lines too.
fn routes_in(src: &str, out: &mut BTreeSet<(String, String)>) {
    let mut rest = src;
    while let Some(at) = rest.find(".route(") {
        let call = &rest[at + ".route(".len()..];
        let mut depth = 1;
        let end = call
            .char_indices()
            .find(|&(_, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map_or(call.len(), |(i, _)| i);
        let body = &call[..end];
        rest = &call[end..];
        let Some(path) = body.split('"').nth(1) else {
            continue;
        };
        if !(path.starts_with("/staff") || path.starts_with("/admin")) {
            continue;
        }
        let handlers = &body[body.find(',').unwrap_or(0)..];
        for (word, method) in [
            ("get(", "GET"),
            ("post(", "POST"),
            ("put(", "PUT"),
            ("delete(", "DELETE"),
        ] {
            let found = handlers.match_indices(word).any(|(i, _)| {
                i == 0 || !handlers[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
            });
            if found {
                out.insert((method.to_owned(), path.to_owned()));
            }
        }
    }
}

#[test]
fn every_staff_route_is_in_the_permission_matrix_and_every_line_is_a_route() {
    let declared = declared_routes();
    let listed: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let missing: Vec<_> = declared.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&declared).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the permission matrix: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "matrix lines for routes that do not exist: {stale:?}"
    );
    assert!(
        declared.len() >= 70,
        "the route reader found only {}",
        declared.len()
    );
}

async fn one_id(app: &TestApp, q: sea_query::SelectStatement) -> i64 {
    let rows: Vec<(i64,)> = app.state.db.all(&q).await.unwrap();
    rows.first().expect("a demo row for the matrix").0
}

/// Real ids for the path parameters: the 外国语学院 applicant's application and file, the
/// cohort's program (the school's, nominated) with a school and a type, a cohort student's
/// account, a college nobody's record needs, a major, a dictionary item.
async fn fill(app: &TestApp, path: &str) -> String {
    let app_id = one_id(
        app,
        Query::select()
            .column(("a", "id"))
            .from_as("applications", "a")
            .inner_join(
                "users",
                Expr::col(("users", "id")).equals(("a", "student_id")),
            )
            .and_where(Expr::col(("users", "username")).eq("2024010207"))
            .to_owned(),
    )
    .await;
    let mut out = path.to_owned();
    if path.starts_with("/staff/applications/") {
        out = out.replace("{id}", &app_id.to_string());
        if out.contains("{file}") {
            let file = one_id(
                app,
                Query::select()
                    .column("id")
                    .from("attachments")
                    .and_where(Expr::col("application_id").eq(app_id))
                    .to_owned(),
            )
            .await;
            out = out.replace("{file}", &file.to_string());
        }
    } else if path.starts_with("/staff/programs/") || path.starts_with("/staff/admissions/") {
        let program = one_id(
            app,
            Query::select()
                .column("program_id")
                .from("applications")
                .and_where(Expr::col("status").eq("nominated"))
                .to_owned(),
        )
        .await;
        out = out.replace("{id}", &program.to_string());
        for (param, table) in [("{sid}", "partner_schools"), ("{tid}", "attachment_types")] {
            if out.contains(param) {
                let id = one_id(
                    app,
                    Query::select()
                        .column("id")
                        .from(table)
                        .and_where(Expr::col("program_id").eq(program))
                        .order_by("id", Order::Asc)
                        .to_owned(),
                )
                .await;
                out = out.replace(param, &id.to_string());
            }
        }
    } else if path.starts_with("/staff/workflows/") {
        out = out.replace("{code}", "semester_exchange");
    } else if path.starts_with("/admin/users/") {
        let user = outbound::db::users::by_username(&app.state.db, "2023019108")
            .await
            .unwrap()
            .unwrap();
        out = out.replace("{id}", &user.id.to_string());
    } else if path.starts_with("/admin/colleges/") {
        let college = one_id(
            app,
            Query::select()
                .column("id")
                .from("colleges")
                .order_by("id", Order::Desc)
                .to_owned(),
        )
        .await;
        out = out.replace("{id}", &college.to_string());
    } else if path.starts_with("/admin/majors/") {
        let major = one_id(
            app,
            Query::select()
                .column("id")
                .from("majors")
                .order_by("id", Order::Desc)
                .to_owned(),
        )
        .await;
        out = out.replace("{id}", &major.to_string());
    } else if path.starts_with("/admin/dictionaries/") {
        out = out.replace("{kind}", "country");
        if out.contains("{id}") {
            let item = one_id(
                app,
                Query::select()
                    .column("id")
                    .from("dictionary_items")
                    .and_where(Expr::col("kind").eq("country"))
                    .order_by("id", Order::Desc)
                    .to_owned(),
            )
            .await;
            out = out.replace("{id}", &item.to_string());
        }
    }
    assert!(!out.contains('{'), "no value for a parameter of {path}");
    out
}

fn classify(status: StatusCode, location: &str) -> Result<E, String> {
    Ok(match status {
        StatusCode::FORBIDDEN => No,
        StatusCode::NOT_FOUND => Hid,
        StatusCode::UNAUTHORIZED => In,
        StatusCode::SEE_OTHER | StatusCode::FOUND if location.starts_with("/login") => In,
        s if s.is_server_error() => return Err(format!("server error {s}")),
        _ => Go,
    })
}

both!(
    every_person_gets_exactly_what_the_permission_matrix_says,
    with_demo,
    |app| {
        let mut failures = Vec::new();
        let nominated = one_id(
            &app,
            Query::select()
                .column("id")
                .from("applications")
                .and_where(Expr::col("status").eq("nominated"))
                .to_owned(),
        )
        .await;
        for (col, (user, password)) in PEOPLE.iter().enumerate() {
            let mut c: Client = if user.is_empty() {
                let mut c = app.client();
                c.get("/login").await; // the CSRF cookie a browser would have
                c
            } else {
                app.signed_in(user, password).await
            };
            for (method, path, expected) in MATRIX {
                let url = fill(&app, path).await;
                let r = if *method == "GET" {
                    c.get(&url).await
                } else if path.ends_with("/allocation/override") {
                    // The line to override must exist; its absence is a 404 of its own.
                    let id = nominated.to_string();
                    c.post(&url, &[("application_id", id.as_str()), ("result", "")])
                        .await
                } else {
                    c.post(&url, &[]).await
                };
                let want = expected[col];
                match classify(r.status, &r.location()) {
                    Ok(got) if got == want || (want == Den && (got == No || got == Hid)) => {}
                    Ok(got) => failures.push(format!(
                        "{method} {path} as {}: expected {want:?}, got {got:?} ({})",
                        if user.is_empty() { "signed out" } else { user },
                        r.status
                    )),
                    Err(e) => failures.push(format!("{method} {path} as {user}: {e}")),
                }
                // A denial never shows the applicant's personal data.
                if matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND) {
                    let body = r.text();
                    assert!(
                        !body.contains("周佳怡") && !body.contains("2024010207"),
                        "{method} {path}"
                    );
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} mismatches:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
);
