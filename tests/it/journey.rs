//! The student's journey as HTTP steps, shared by the HTTP, PDF and phone tests: find an open
//! program, read the 申报须知, fill every step, and read values back from pages.

use std::time::Duration;

use axum::http::StatusCode;
use sea_query::{Expr, ExprTrait, Query};

use crate::support::{Client as Http, Resp, TestApp, pdf_bytes};

/// The name every journey uploads its PDFs under: Chinese, long, with full-width brackets.
pub(crate) const UPLOAD_NAME: &str = "张三护照（扫描件）2026年春季学期.pdf";

/// An open program the undergraduate demo student may apply to, with required attachments
/// and at least two partner schools.
pub(crate) async fn open_program(app: &TestApp) -> i64 {
    let rows: Vec<(i64,)> = app
        .state
        .db
        .all(
            &Query::select()
                .column(("p", "id"))
                .from_as("programs", "p")
                .and_where(Expr::col(("p", "status")).eq("published"))
                .and_where(Expr::col(("p", "reg_start")).lt(chrono::Utc::now()))
                .and_where(Expr::col(("p", "reg_end")).gt(chrono::Utc::now()))
                .and_where(Expr::col(("p", "levels")).like("%undergraduate%"))
                .and_where(Expr::col(("p", "min_gpa")).is_null())
                .and_where(Expr::cust(
                    "(SELECT COUNT(*) FROM attachment_types t WHERE t.program_id = p.id AND t.required) > 0",
                ))
                .and_where(Expr::cust("(SELECT COUNT(*) FROM partner_schools s WHERE s.program_id = p.id) >= 2"))
                .order_by(("p", "id"), sea_query::Order::Asc)
                .to_owned(),
        )
        .await
        .unwrap();
    rows.first()
        .expect("the demo set has an open semester program")
        .0
}

pub(crate) fn attr(r: &Resp, css: &str, name: &str) -> String {
    let sel = scraper::Selector::parse(css).expect("selector");
    r.html()
        .select(&sel)
        .next()
        .and_then(|e| e.value().attr(name).map(str::to_owned))
        .unwrap_or_default()
}

/// The non-empty option values of a select.
pub(crate) fn options(r: &Resp, select_id: &str) -> Vec<String> {
    let sel = scraper::Selector::parse(&format!("#{select_id} option")).expect("selector");
    r.html()
        .select(&sel)
        .filter_map(|o| o.value().attr("value").map(str::to_owned))
        .filter(|v| !v.is_empty())
        .collect()
}

/// Reads the 申报须知, waits out its countdown and starts an application; returns its id.
pub(crate) async fn start(c: &mut Http, program: i64) -> i64 {
    let notice = c.get(&format!("/programs/{program}/apply")).await;
    assert_eq!(notice.status, StatusCode::OK, "{}", notice.text());
    let opened = attr(&notice, "input[name=opened]", "value");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = c
        .post(
            &format!("/programs/{program}/apply"),
            &[("opened", &opened), ("promise", "yes")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    r.location()
        .split('/')
        .nth(2)
        .and_then(|id| id.parse().ok())
        .expect("the new application's address")
}

/// Fills 申请信息 and adds one language row (`score` empty = pending); uploads a PDF for the
/// first `files` required attachment types (all of them with `usize::MAX`).
pub(crate) async fn fill(c: &mut Http, id: i64, score: &str, files: usize) {
    let info = c.get(&format!("/applications/{id}/step/info")).await;
    assert_eq!(info.status, StatusCode::OK);
    let schools = options(&info, "f-choice_1");
    let src = options(&info, "f-funding_round_trip")[0].clone();
    let version = attr(&info, "input[name=version]", "value");
    let mut fields = vec![
        ("version", version.as_str()),
        ("action", "next"),
        ("choice_1", schools[0].as_str()),
        ("exchange_from", "2027-02-15"),
        ("exchange_to", "2027-06-30"),
        ("exchange_duration", "一学期"),
        ("depart_date", "2027-02-10"),
        ("return_date", "2027-07-05"),
        ("gpa", "3.60"),
        ("weighted_avg", "88.5"),
        ("one_china_issue", "no"),
        ("has_passport", "no"),
        ("emergency_relation", "母亲"),
        ("emergency_name", "王丽"),
        ("emergency_phone", "13700001111"),
    ];
    if let Some(second) = schools.get(1) {
        fields.push(("choice_2", second.as_str()));
    }
    for item in [
        "funding_round_trip",
        "funding_accommodation",
        "funding_meals",
        "funding_intercity",
        "funding_registration",
        "funding_tuition",
    ] {
        fields.push((item, src.as_str()));
    }
    let r = c
        .post(&format!("/applications/{id}/step/info"), &fields)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    let langs = c.get(&format!("/applications/{id}/step/languages")).await;
    let language = options(&langs, "f-language")[0].clone();
    let exam = options(&langs, "f-exam_type")[0].clone();
    let r = c
        .post(
            &format!("/applications/{id}/languages"),
            &[
                ("language", &language),
                ("exam_type", &exam),
                ("score", score),
                ("exam_date", "2026-06-15"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    let page = c.get(&format!("/applications/{id}/step/attachments")).await;
    let block = scraper::Selector::parse(".attachment-type").expect("selector");
    let req = scraper::Selector::parse("h3 .req").expect("selector");
    let required: Vec<String> = page
        .html()
        .select(&block)
        .filter(|e| e.select(&req).next().is_some())
        .filter_map(|e| {
            e.value()
                .attr("id")
                .map(|i| i.trim_start_matches("type-").to_owned())
        })
        .collect();
    assert!(required.len() >= 2, "two or more required attachment types");
    for t in required.iter().take(files) {
        let r = c
            .upload(
                &format!("/applications/{id}/attachments?type={t}"),
                &[(UPLOAD_NAME, &pdf_bytes())],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    }
}

pub(crate) fn version_of(r: &Resp) -> String {
    attr(r, "input[name=version]", "value")
}

/// Passes the 提交 check and submits; panics if anything is missing.
pub(crate) async fn submit(c: &mut Http, id: i64) {
    let check = c.get(&format!("/applications/{id}/submit")).await;
    assert_eq!(
        check.status,
        StatusCode::OK,
        "{}",
        check.select("#problems").join(" ")
    );
    let r = c
        .post(
            &format!("/applications/{id}/submit"),
            &[("version", &version_of(&check))],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
}
