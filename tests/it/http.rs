//! HTTP tests through the whole router: sign-in, the student journey, ownership, CSRF, stale
//! forms and concurrent submits.

use axum::http::StatusCode;
use sea_query::{Expr, ExprTrait, Query};

use crate::both;
use crate::journey::{UPLOAD_NAME, attr, fill, open_program, start, submit, version_of};
use crate::support::{Client, TestApp, pdf_bytes};

const STUDENT: &str = "2023010101";
const OTHER_STUDENT: &str = "2024210201";
const PASSWORD: &str = "Demo@2026";

both!(
    a_student_applies_through_every_step_and_sees_under_review_and_the_history,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        let program = open_program(&app).await;
        let id = start(&mut c, program).await;
        fill(&mut c, id, "560", usize::MAX).await;
        submit(&mut c, id).await;
        let view = c.get(&format!("/applications/{id}?tab=history")).await;
        assert!(view.text().contains("申请中"));
        assert!(
            view.select("#history td")
                .iter()
                .any(|t| t.contains("提交"))
        );
        // The uploaded Chinese-named file comes back byte-identical with its name kept.
        let files = c.get(&format!("/applications/{id}?tab=attachments")).await;
        assert!(files.text().contains(UPLOAD_NAME));
        let link = attr(&files, ".file-list a", "href");
        let dl = c.get(&link).await;
        assert_eq!(dl.status, StatusCode::OK);
        assert_eq!(dl.body, pdf_bytes());
        let cd = dl
            .headers
            .get("content-disposition")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            cd.starts_with("attachment;") && cd.contains("filename*=UTF-8''"),
            "{cd}"
        );
    }
);

both!(
    submitting_an_incomplete_application_lists_every_missing_field_with_a_link,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        let program = open_program(&app).await;
        let id = start(&mut c, program).await;
        let check = c.get(&format!("/applications/{id}/submit")).await;
        assert_eq!(check.status, StatusCode::UNPROCESSABLE_ENTITY);
        let links = check.select("#problems li");
        assert!(links.len() >= 10, "{links:?}");
        let info = c.get(&format!("/applications/{id}/step/info")).await;
        let r = c
            .post(
                &format!("/applications/{id}/submit"),
                &[("version", &version_of(&info))],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let hrefs: Vec<String> = {
            let sel = scraper::Selector::parse("#problems a").unwrap();
            check
                .html()
                .select(&sel)
                .filter_map(|a| a.value().attr("href").map(str::to_owned))
                .collect()
        };
        assert!(
            hrefs.iter().any(|h| h.contains("/step/info#f-choice_1")),
            "{hrefs:?}"
        );
    }
);

both!(
    a_student_cannot_see_or_change_another_students_application_or_files,
    with_demo,
    |app| {
        let mut owner = app.signed_in(STUDENT, PASSWORD).await;
        let program = open_program(&app).await;
        let id = start(&mut owner, program).await;
        fill(&mut owner, id, "560", usize::MAX).await;
        let files = owner
            .get(&format!("/applications/{id}/step/attachments"))
            .await;
        let file_link = attr(&files, ".file-list a", "href");
        let mut other = app.signed_in(OTHER_STUDENT, PASSWORD).await;
        for path in [
            format!("/applications/{id}"),
            format!("/applications/{id}/step/info"),
            format!("/applications/{id}/submit"),
            file_link.clone(),
            format!("{file_link}/view"),
        ] {
            let r = other.get(&path).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "GET {path}");
            assert!(!r.text().contains("张三护照"));
        }
        for path in [
            format!("/applications/{id}/withdraw"),
            format!("/applications/{id}/delete"),
            format!("{file_link}/delete"),
        ] {
            let r = other.post(&path, &[("version", "1")]).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "POST {path}");
        }
        // Nothing changed for the owner.
        let mine = owner
            .get(&format!("/applications/{id}/step/attachments"))
            .await;
        assert!(mine.text().contains(UPLOAD_NAME));
    }
);

both!(
    a_form_without_the_csrf_token_or_from_another_site_is_refused,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        let r = c.post_without_token("/logout", &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = c
            .post_without_token("/logout", &[("_csrf", "forged.token")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // Still signed in.
        assert_eq!(c.get("/applications").await.status, StatusCode::OK);
    }
);

both!(
    a_stale_application_form_gets_a_conflict_and_keeps_the_input,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        let program = open_program(&app).await;
        let id = start(&mut c, program).await;
        let page = c.get(&format!("/applications/{id}/step/info")).await;
        let v = version_of(&page);
        let first = c
            .post(
                &format!("/applications/{id}/step/info"),
                &[
                    ("version", &v),
                    ("action", "save"),
                    ("exchange_duration", "一学期"),
                ],
            )
            .await;
        assert_eq!(first.status, StatusCode::SEE_OTHER);
        let stale = c
            .post(
                &format!("/applications/{id}/step/info"),
                &[
                    ("version", &v),
                    ("action", "save"),
                    ("exchange_duration", "两学期"),
                ],
            )
            .await;
        assert_eq!(stale.status, StatusCode::CONFLICT);
        assert_eq!(attr(&stale, "#f-exchange_duration", "value"), "两学期");
    }
);

both!(
    a_wrong_value_is_shown_beside_its_field_and_nothing_typed_is_lost,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        let program = open_program(&app).await;
        let id = start(&mut c, program).await;
        let page = c.get(&format!("/applications/{id}/step/info")).await;
        let r = c
            .post(
                &format!("/applications/{id}/step/info"),
                &[
                    ("version", &version_of(&page)),
                    ("action", "save"),
                    ("exchange_from", "2027-06-30"),
                    ("exchange_to", "2027-02-15"),
                    ("gpa", "9.9"),
                    ("group_leader", "国际处 王老师"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!r.select("#f-exchange_to-error").is_empty());
        assert!(!r.select("#f-gpa-error").is_empty());
        assert_eq!(attr(&r, "#f-group_leader", "value"), "国际处 王老师");
        assert_eq!(attr(&r, "#f-gpa", "value"), "9.9");
    }
);

both!(
    signing_in_with_a_wrong_password_five_times_locks_without_revealing_the_account,
    with_demo,
    |app| {
        let mut c = app.client();
        let unknown = c
            .post("/login", &[("username", "no-such-user"), ("password", "x")])
            .await;
        for _ in 0..5 {
            let r = c
                .post("/login", &[("username", STUDENT), ("password", "wrong")])
                .await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(r.select("#login-error"), unknown.select("#login-error"));
        }
        let locked = c
            .post("/login", &[("username", STUDENT), ("password", PASSWORD)])
            .await;
        assert_eq!(locked.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            locked.select("#login-error"),
            unknown.select("#login-error")
        );
    }
);

both!(
    a_new_student_must_change_the_initial_password_before_anything_else,
    with_demo,
    |app| {
        let mut c = app.client();
        let r = c
            .post(
                "/login",
                &[("username", "2025010109"), ("password", "20250109")],
            )
            .await;
        assert_eq!(r.location(), "/password");
        assert_eq!(c.get("/programs").await.location(), "/password");
        let page = c.get("/password").await;
        assert!(
            page.select(".site-nav").is_empty(),
            "no menu before the initial password is changed"
        );
        let r = c
            .post(
                "/password",
                &[
                    ("old_password", "20250109"),
                    ("new_password", "short"),
                    ("confirm_password", "short"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!r.select("#f-new_password-error").is_empty());
        let r = c
            .post(
                "/password",
                &[
                    ("old_password", "20250109"),
                    ("new_password", "Newpass#2026"),
                    ("confirm_password", "Newpass#2026"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(c.get("/programs").await.status, StatusCode::OK);
    }
);

both!(signing_out_ends_the_session, with_demo, |app| {
    let mut c = app.signed_in(STUDENT, PASSWORD).await;
    let old = c.cookies.clone();
    let r = c.post("/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let mut replay = app.client();
    replay.cookies = old;
    assert_eq!(
        replay.get("/applications").await.status,
        StatusCode::SEE_OTHER
    );
});

both!(
    twenty_concurrent_submits_of_one_students_drafts_leave_exactly_one_submitted,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        let program = open_program(&app).await;
        let first = start(&mut c, program).await;
        fill(&mut c, first, "560", usize::MAX).await;
        // Nineteen more complete drafts: copies of the first, rows and files included.
        let db = &app.state.db;
        let mut ids = vec![first];
        for _ in 0..19 {
            let mut tx = db.begin().await.unwrap();
            let new_id = tx
                .insert_id(
                    Query::insert()
                        .into_table("applications")
                        .columns([
                            "student_id",
                            "program_id",
                            "round_year",
                            "status",
                            "version",
                            "info",
                            "passport_no_enc",
                            "created_at",
                            "updated_at",
                        ])
                        .select_from(
                            Query::select()
                                .columns([
                                    "student_id",
                                    "program_id",
                                    "round_year",
                                    "status",
                                    "version",
                                    "info",
                                    "passport_no_enc",
                                    "created_at",
                                    "updated_at",
                                ])
                                .from("applications")
                                .and_where(Expr::col("id").eq(first))
                                .to_owned(),
                        )
                        .unwrap(),
                )
                .await
                .unwrap();
            tx.insert(
                Query::insert()
                    .into_table("language_scores")
                    .columns([
                        "application_id",
                        "language",
                        "exam_type",
                        "score",
                        "exam_date",
                        "sort_order",
                    ])
                    .select_from(
                        Query::select()
                            .expr(Expr::val(new_id))
                            .columns(["language", "exam_type", "score", "exam_date", "sort_order"])
                            .from("language_scores")
                            .and_where(Expr::col("application_id").eq(first))
                            .to_owned(),
                    )
                    .unwrap(),
            )
            .await
            .unwrap();
            tx.insert(
                Query::insert()
                    .into_table("attachments")
                    .columns([
                        "application_id",
                        "attachment_type_id",
                        "storage_key",
                        "original_name",
                        "format",
                        "size_bytes",
                        "sha256",
                        "uploaded_by",
                        "created_at",
                    ])
                    .select_from(
                        Query::select()
                            .expr(Expr::val(new_id))
                            .column("attachment_type_id")
                            .expr(Expr::cust(format!("storage_key || '-{new_id}'")))
                            .columns([
                                "original_name",
                                "format",
                                "size_bytes",
                                "sha256",
                                "uploaded_by",
                                "created_at",
                            ])
                            .from("attachments")
                            .and_where(Expr::col("application_id").eq(first))
                            .to_owned(),
                    )
                    .unwrap(),
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            ids.push(new_id);
        }
        let version: i64 = db
            .scalar(
                &Query::select()
                    .column("version")
                    .from("applications")
                    .and_where(Expr::col("id").eq(first))
                    .to_owned(),
            )
            .await
            .unwrap()
            .unwrap();
        let ids_for_count = ids.clone();
        let mut tasks = Vec::new();
        for id in ids {
            let version = version.to_string();
            let mut c = c.clone();
            tasks.push(tokio::spawn(async move {
                c.post(
                    &format!("/applications/{id}/submit"),
                    &[("version", &version)],
                )
                .await
                .status
            }));
        }
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        assert!(
            statuses
                .iter()
                .all(|s| *s != StatusCode::INTERNAL_SERVER_ERROR),
            "{statuses:?}"
        );
        let submitted = db
            .count(
                &Query::select()
                    .expr(Expr::col("id").count())
                    .from("applications")
                    .and_where(Expr::col("status").eq("under_review"))
                    .and_where(Expr::col("id").is_in(ids_for_count.clone()))
                    .to_owned(),
            )
            .await
            .unwrap();
        assert_eq!(submitted, 1, "{statuses:?}");
    }
);

both!(the_health_check_answers_once_migrated, spawn, |app| {
    let mut c = app.client();
    let r = c.get("/healthz").await;
    assert_eq!(r.status, StatusCode::OK);
});

both!(
    every_student_page_is_served_in_chinese_and_in_english,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        for path in ["/", "/programs", "/applications", "/profile", "/messages"] {
            let zh = c.get(path).await;
            assert_eq!(zh.status, StatusCode::OK, "{path}");
            assert!(zh.text().contains("lang=\"zh-CN\""));
        }
        c.get("/lang/en?back=/").await;
        for path in ["/", "/programs", "/applications", "/profile", "/messages"] {
            let en = c.get(path).await;
            assert_eq!(en.status, StatusCode::OK, "{path}");
            assert!(en.text().contains("lang=\"en\""), "{path}");
        }
    }
);

both!(
    a_student_whose_profile_misses_fields_is_sent_to_complete_it_before_applying,
    with_demo,
    |app| {
        let mut c = app.signed_in("2022030301", PASSWORD).await;
        let program = open_program(&app).await;
        let r = c.get(&format!("/programs/{program}/apply")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(
            r.location().starts_with("/profile?missing=1"),
            "{}",
            r.location()
        );
        let profile = c.get(&r.location()).await;
        assert!(profile.text().contains("证件号码"));
        // The rule holds on the server too, whatever the page did.
        let r = c
            .post(
                &format!("/programs/{program}/apply"),
                &[("opened", "0.x"), ("promise", "yes")],
            )
            .await;
        assert_ne!(r.status, StatusCode::SEE_OTHER);
        let count = app
            .state
            .db
            .count(
                &Query::select()
                    .expr(Expr::col("id").count())
                    .from("applications")
                    .and_where(Expr::cust(
                        "student_id = (SELECT id FROM users WHERE username = '2022030301')",
                    ))
                    .to_owned(),
            )
            .await
            .unwrap();
        assert_eq!(count, 0);
    }
);

/// A submitted application of the demo student; returns its id.
async fn submitted(app: &TestApp, c: &mut Client, score: &str) -> i64 {
    let program = open_program(app).await;
    let id = start(c, program).await;
    fill(c, id, score, usize::MAX).await;
    submit(c, id).await;
    id
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
        .unwrap()
        .unwrap()
}

both!(
    withdrawing_for_edit_works_until_a_reviewer_has_decided,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        let id = submitted(&app, &mut c, "560").await;
        let view = c.get(&format!("/applications/{id}")).await;
        let r = c
            .post(
                &format!("/applications/{id}/withdraw"),
                &[("version", &version_of(&view))],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(status_of(&app, id).await, "draft");
        // Submitted again, then a reviewer decides: 撤回修改 is no longer offered nor accepted.
        let check = c.get(&format!("/applications/{id}/submit")).await;
        c.post(
            &format!("/applications/{id}/submit"),
            &[("version", &version_of(&check))],
        )
        .await;
        assert_eq!(status_of(&app, id).await, "under_review");
        let mut tx = app.state.db.begin().await.unwrap();
        tx.update(
            Query::update()
                .table("applications")
                .value("stage_decided", true)
                .and_where(Expr::col("id").eq(id)),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let view = c.get(&format!("/applications/{id}")).await;
        assert!(
            view.select("#actions button")
                .iter()
                .all(|b| !b.contains("撤回修改"))
        );
        c.post(
            &format!("/applications/{id}/withdraw"),
            &[("version", &version_of(&view))],
        )
        .await;
        assert_eq!(status_of(&app, id).await, "under_review");
    }
);

both!(
    a_draft_can_be_deleted_but_a_submitted_application_cannot,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        let id = submitted(&app, &mut c, "560").await;
        let view = c.get(&format!("/applications/{id}")).await;
        c.post(
            &format!("/applications/{id}/delete"),
            &[("version", &version_of(&view))],
        )
        .await;
        assert_eq!(status_of(&app, id).await, "under_review");
        let view = c.get(&format!("/applications/{id}")).await;
        c.post(
            &format!("/applications/{id}/withdraw"),
            &[("version", &version_of(&view))],
        )
        .await;
        let view = c.get(&format!("/applications/{id}")).await;
        let r = c
            .post(
                &format!("/applications/{id}/delete"),
                &[("version", &version_of(&view))],
            )
            .await;
        assert_eq!(r.location(), "/applications");
        assert_eq!(
            c.get(&format!("/applications/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
    }
);

both!(
    a_pending_score_can_be_added_once_and_is_then_immutable,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        let id = submitted(&app, &mut c, "").await;
        let detail = c.get(&format!("/applications/{id}?tab=detail")).await;
        let action = attr(&detail, ".backfill-form", "action");
        assert!(action.ends_with("/backfill"), "{}", detail.text());
        let r = c.post(&action, &[("score", "IELTS 7.0")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let again = c.post(&action, &[("score", "IELTS 8.0")]).await;
        assert_ne!(again.status, StatusCode::INTERNAL_SERVER_ERROR);
        let detail = c.get(&format!("/applications/{id}?tab=detail")).await;
        assert!(detail.text().contains("IELTS 7.0"));
        assert!(!detail.text().contains("IELTS 8.0"));
        assert!(detail.select(".backfill-form").is_empty());
        let history = c.get(&format!("/applications/{id}?tab=history")).await;
        assert!(
            history
                .select("#history td")
                .iter()
                .any(|t| t.contains("补录分数"))
        );
    }
);

both!(
    requested_material_is_uploaded_without_withdrawing_the_application,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        let id = submitted(&app, &mut c, "560").await;
        let officer: i64 = app
            .state
            .db
            .scalar(
                &Query::select()
                    .column("id")
                    .from("users")
                    .and_where(Expr::col("username").eq("gjc_officer"))
                    .to_owned(),
            )
            .await
            .unwrap()
            .unwrap();
        let mut tx = app.state.db.begin().await.unwrap();
        let request = tx
            .insert_id(
                Query::insert()
                    .into_table("supplement_requests")
                    .columns([
                        "application_id",
                        "name",
                        "note",
                        "requested_by",
                        "created_at",
                    ])
                    .values_panic([
                        id.into(),
                        "银行存款证明".into(),
                        "请补交近三个月的存款证明".into(),
                        officer.into(),
                        chrono::Utc::now().into(),
                    ]),
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let list = c.get("/applications").await;
        assert!(list.text().contains("补交材料附件"));
        let r = c
            .upload(
                &format!("/applications/{id}/supplements/{request}"),
                &[("存款证明.pdf", &pdf_bytes())],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        assert_eq!(status_of(&app, id).await, "under_review");
        let files = c.get(&format!("/applications/{id}?tab=attachments")).await;
        assert!(files.text().contains("存款证明.pdf"));
        assert!(files.text().contains("已补交"));
        // Once fulfilled, the request takes no more files.
        let again = c
            .upload(
                &format!("/applications/{id}/supplements/{request}"),
                &[("again.pdf", &pdf_bytes())],
            )
            .await;
        assert!(
            again
                .headers
                .get("set-cookie")
                .is_some_and(|v| v.to_str().unwrap_or("").contains("outbound_flash"))
                || again.status == StatusCode::NOT_FOUND
        );
        assert!(
            !c.get(&format!("/applications/{id}?tab=attachments"))
                .await
                .text()
                .contains("again.pdf")
        );
    }
);

both!(
    a_file_whose_content_is_not_its_declared_format_is_refused_beside_its_type,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        let program = open_program(&app).await;
        let id = start(&mut c, program).await;
        let page = c.get(&format!("/applications/{id}/step/attachments")).await;
        let type_id = attr(&page, ".attachment-type", "id")
            .trim_start_matches("type-")
            .to_owned();
        let before = app.state.storage.keys().unwrap();
        let r = c
            .upload(
                &format!("/applications/{id}/attachments?type={type_id}"),
                &[("成绩单.pdf", b"MZ\x90\x00 this is an exe")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!r.select(&format!("#err-{type_id}")).is_empty());
        assert_eq!(
            app.state.storage.keys().unwrap(),
            before,
            "no file stays behind"
        );
    }
);

both!(
    an_error_page_keeps_the_signed_in_header_and_says_what_happened,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        let r = c.get("/no/such/page").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(r.text().contains("王晓明"));
        assert!(!r.select(".site-nav").is_empty());
        assert!(r.text().contains("页面不存在或无权访问"));
    }
);
