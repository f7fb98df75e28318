//! The application wizard as a student meets it: the 本轮限报项目数 said before 报名 and no
//! 提交 offered that must fail, the registry fields in 基本信息, and 外语水平 rows whose exam
//! must be one of the chosen language's.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use sea_query::{Expr, ExprTrait, Query};

use crate::both;
use crate::journey::{attr, fill, open_program, version_of};
use crate::support::{Client, Resp, TestApp};

const STUDENT: &str = "2023010101";
const PASSWORD: &str = "Demo@2026";
const LIMIT_ZH: &str = "已达到本轮限报项目数";
const READY_ZH: &str = "可以提交";

/// Shows the 申报须知 and starts after its countdown: (application id, the notice's token,
/// which a later 报名 may post again).
async fn start_keeping_token(c: &mut Client, program: i64) -> (i64, String) {
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
    let id = r
        .location()
        .split('/')
        .nth(2)
        .and_then(|id| id.parse().ok())
        .expect("the new application's address");
    (id, opened)
}

/// Gives `username` one more active, submitted application in `program`'s round, as if they had
/// applied elsewhere already.
async fn hold_an_application_in_the_round(app: &TestApp, username: &str, program: i64) {
    let student = crate::support::ids(
        app,
        &format!("SELECT id FROM users WHERE username = '{username}'"),
    )
    .await[0];
    let year = crate::support::ids(
        app,
        &format!("SELECT year FROM programs WHERE id = {program}"),
    )
    .await[0];
    let now = chrono::Utc::now();
    let mut tx = app.state.db.begin().await.expect("begin");
    tx.insert_id(
        Query::insert()
            .into_table("applications")
            .columns([
                "student_id",
                "program_id",
                "round_year",
                "status",
                "created_at",
                "updated_at",
                "submitted_at",
            ])
            .values_panic([
                student.into(),
                program.into(),
                year.into(),
                "under_review".into(),
                now.into(),
                now.into(),
                now.into(),
            ]),
    )
    .await
    .expect("insert");
    tx.commit().await.expect("commit");
}

fn count(r: &Resp, css: &str) -> usize {
    let sel = scraper::Selector::parse(css).expect("selector");
    r.html().select(&sel).count()
}

fn text_of(r: &Resp, css: &str) -> String {
    r.select(css).join(" ").trim().to_owned()
}

async fn status_of(app: &TestApp, id: i64) -> String {
    app.state
        .db
        .scalar::<String>(
            &Query::select()
                .column("status")
                .from("applications")
                .and_where(Expr::col("id").eq(id))
                .to_owned(),
        )
        .await
        .expect("status")
        .expect("the application")
}

both!(
    a_student_at_the_round_limit_is_told_before_apply_and_never_offered_submit,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        let program = open_program(&app).await;
        let (id, opened) = start_keeping_token(&mut c, program).await;
        fill(&mut c, id, "560", usize::MAX).await;
        let ready = c.get(&format!("/applications/{id}/submit")).await;
        assert_eq!(ready.status, StatusCode::OK, "{}", ready.text());
        assert_eq!(
            count(&ready, "#submit-button"),
            1,
            "提交 is offered below the limit"
        );

        hold_an_application_in_the_round(&app, STUDENT, program).await;

        // The program page: the reason where 报名 was.
        let page = c.get(&format!("/programs/{program}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(
            count(&page, &format!("a[href=\"/programs/{program}/apply\"]")),
            0,
            "no 报名 at the limit"
        );
        assert!(
            text_of(&page, "#round-limit").contains(LIMIT_ZH),
            "{}",
            page.text()
        );

        // The catalogue: no 报名 in any program of that round, the reason instead.
        let year = crate::support::ids(
            &app,
            &format!("SELECT year FROM programs WHERE id = {program}"),
        )
        .await[0]
            .to_string();
        let list = c.get(&format!("/programs?year={year}")).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(count(&list, "tbody tr") >= 1);
        assert_eq!(
            count(&list, "tbody a[href$=\"/apply\"]"),
            0,
            "no 报名 in the round"
        );
        assert!(text_of(&list, "tbody").contains(LIMIT_ZH));

        // 报名 posted anyway is refused with the same words.
        let r = c
            .post(
                &format!("/programs/{program}/apply"),
                &[("opened", &opened), ("promise", "yes")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert!(
            text_of(&r, ".alert-error").contains(LIMIT_ZH),
            "{}",
            r.text()
        );

        // The complete draft: the reason, neither "可以提交" nor an enabled 提交.
        let check = c.get(&format!("/applications/{id}/submit")).await;
        assert_eq!(check.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            text_of(&check, "#refusal").contains(LIMIT_ZH),
            "{}",
            check.text()
        );
        assert!(!check.text().contains(READY_ZH), "{}", check.text());
        assert_eq!(count(&check, "#submit-button:not([disabled])"), 0);
        assert_eq!(count(&check, "form[action$=\"/submit\"]"), 0);

        // A submit posted anyway is refused on the same page, and nothing moves.
        let r = c
            .post(
                &format!("/applications/{id}/submit"),
                &[("version", &version_of(&ready))],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert!(text_of(&r, "#refusal").contains(LIMIT_ZH));
        assert_eq!(count(&r, "#submit-button:not([disabled])"), 0);
        assert_eq!(status_of(&app, id).await, "draft");
    }
);

both!(
    the_basic_step_shows_the_registry_fields_read_only_in_both_languages,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        let program = open_program(&app).await;
        let (id, _) = start_keeping_token(&mut c, program).await;
        let profile = c.get("/profile").await;
        let step = c.get(&format!("/applications/{id}/step/basic")).await;
        assert_eq!(step.status, StatusCode::OK);

        // The registry's values, as the profile shows them, each read-only and not posted.
        for (field, label) in [
            ("student_no", "学号"),
            ("college", "院系"),
            ("major", "专业"),
            ("grade", "当前年级"),
            ("schooling_years", "学制"),
        ] {
            let shown = text_of(&step, &format!(".field-readonly #f-{field}"));
            assert!(!shown.is_empty() && shown != "—", "{field} is shown");
            assert_eq!(shown, text_of(&profile, &format!("#f-{field}")), "{field}");
            assert_eq!(text_of(&step, &format!("#f-{field}-label")), label);
            assert_eq!(
                count(&step, &format!("[name={field}]")),
                0,
                "{field} is not posted"
            );
        }
        assert_eq!(text_of(&step, "#f-student_no"), STUDENT);
        assert_eq!(
            text_of(&step, "#f-level"),
            "本科生",
            "a label, not the code"
        );
        assert_eq!(text_of(&step, "#f-is_graduate"), "否");

        c.cookies.insert("outbound_lang".into(), "en".into());
        let step = c.get(&format!("/applications/{id}/step/basic")).await;
        assert_eq!(text_of(&step, "#f-student_no-label"), "Student number");
        assert_eq!(text_of(&step, "#f-college-label"), "School / department");
        assert_eq!(text_of(&step, "#f-is_graduate"), "No");
        let level = text_of(&step, "#f-level");
        assert!(level.is_ascii() && !level.is_empty(), "{level}");
    }
);

/// `POST`s JSON to the API with this client's session and CSRF token.
async fn api_post(c: &mut Client, path: &str, body: serde_json::Value) -> Resp {
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("x-csrf-token", c.csrf())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("a request");
    c.send(req).await
}

async fn language_rows(app: &TestApp, id: i64) -> Vec<i64> {
    crate::support::ids(
        app,
        &format!("SELECT id FROM language_scores WHERE application_id = {id}"),
    )
    .await
}

both!(
    a_language_row_with_an_exam_of_another_language_is_refused_beside_the_exam,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        let program = open_program(&app).await;
        let (id, _) = start_keeping_token(&mut c, program).await;

        // The exams come grouped by language, for the page's script to narrow.
        let page = c.get(&format!("/applications/{id}/step/languages")).await;
        assert_eq!(
            attr(&page, "#f-exam_type", "data-narrowed-by"),
            "f-language"
        );
        assert_eq!(count(&page, "optgroup[data-for=en] option[value=ielts]"), 1);
        assert_eq!(
            count(&page, "optgroup[data-for=ja] option[value=jlpt_n1]"),
            1
        );
        assert_eq!(
            count(&page, "optgroup[data-for=en] option[value=jlpt_n1]"),
            0
        );

        let row = |language: &'static str, exam: &'static str| {
            [
                ("language", language),
                ("exam_type", exam),
                ("score", "N1"),
                ("exam_date", "2026-06-15"),
            ]
        };
        let r = c
            .post(
                &format!("/applications/{id}/languages"),
                &row("en", "jlpt_n1"),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        let error = text_of(&r, "#f-exam_type-error");
        assert!(error.contains("语种"), "beside the exam: {error}");
        assert_eq!(
            attr(&r, "#f-language option[selected]", "value"),
            "en",
            "kept"
        );
        assert!(language_rows(&app, id).await.is_empty());

        c.cookies.insert("outbound_lang".into(), "en".into());
        let r = c
            .post(
                &format!("/applications/{id}/languages"),
                &row("en", "jlpt_n1"),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let error = text_of(&r, "#f-exam_type-error");
        assert!(error.is_ascii() && error.contains("language"), "{error}");

        let r = api_post(
            &mut c,
            &format!("/api/v1/applications/{id}/languages"),
            serde_json::json!({ "language": "en", "exam_type": "jlpt_n1", "score": "N1", "exam_date": "2026-06-15" }),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        let fields: Vec<String> = r.json()["fields"]
            .as_array()
            .map(|f| {
                f.iter()
                    .filter_map(|f| f["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(fields, ["exam_type"]);
        assert!(language_rows(&app, id).await.is_empty());
        // An app can narrow its own select: each exam says its language.
        let exams = c.get("/api/v1/dictionaries/exam_type").await.json();
        let language_of = |code: &str| {
            exams["items"]
                .as_array()
                .and_then(|items| items.iter().find(|i| i["code"] == code))
                .map(|i| i["language"].clone())
        };
        assert_eq!(language_of("jlpt_n1"), Some(serde_json::json!("ja")));
        assert_eq!(language_of("ielts"), Some(serde_json::json!("en")));
        assert_eq!(language_of("other"), Some(serde_json::json!("")));

        // The right pair is taken; changing it to a wrong one later is refused too.
        let r = c
            .post(
                &format!("/applications/{id}/languages"),
                &row("ja", "jlpt_n1"),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let rows = language_rows(&app, id).await;
        assert_eq!(rows.len(), 1);
        let r = c
            .post(
                &format!("/applications/{id}/languages/{}", rows[0]),
                &row("en", "jlpt_n1"),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert!(!text_of(&r, "#f-exam_type-error").is_empty());
    }
);
