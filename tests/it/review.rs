//! The review workbench over HTTP and through the service, on both databases: queues scoped to
//! the reviewer's stages and colleges, decisions moving through the workflow, 退回修改 and
//! resubmission re-entering the stage that returned it, batch decisions that report each
//! line, 补交材料 requests, staff 编辑 / 删除 with who and why, and two reviewers deciding at
//! once.

use axum::http::StatusCode;
use outbound::db::applications as apps;
use outbound::domain::Status;
use outbound::services::ServiceError;
use outbound::services::audit::Who;
use outbound::services::review::{self, Decision, Reviewer};
use sea_query::{Expr, ExprTrait, Query};

use crate::both;
use crate::journey::{attr, fill, submit};
use crate::support::{Client, TestApp};

const STAFF: &str = "Staff@2026";
const STUDENT: &str = "Demo@2026";

/// The demo application of a student (each demo student has one).
async fn app_of(app: &TestApp, student_no: &str) -> i64 {
    let rows: Vec<(i64,)> = app
        .state
        .db
        .all(
            &Query::select()
                .column(("a", "id"))
                .from_as("applications", "a")
                .inner_join(
                    "users",
                    Expr::col(("users", "id")).equals(("a", "student_id")),
                )
                .and_where(Expr::col(("users", "username")).eq(student_no))
                .order_by(("a", "id"), sea_query::Order::Desc)
                .to_owned(),
        )
        .await
        .unwrap();
    rows.first().expect("the demo student has an application").0
}

async fn row(app: &TestApp, id: i64) -> apps::ApplicationRow {
    apps::by_id(&app.state.db, id).await.unwrap().unwrap()
}

/// Decides on the staff page as `c` would: reads the version, posts the form.
async fn decide(c: &mut Client, id: i64, decision: &str, opinion: &str) -> crate::support::Resp {
    let page = c.get(&format!("/staff/applications/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let version = attr(&page, "#decide input[name=version]", "value");
    c.post(
        &format!("/staff/applications/{id}/decide"),
        &[
            ("decision", decision),
            ("opinion", opinion),
            ("version", &version),
        ],
    )
    .await
}

async fn reviewer_of(app: &TestApp, username: &str) -> (Reviewer, Who) {
    let user = outbound::db::users::by_username(&app.state.db, username)
        .await
        .unwrap()
        .unwrap();
    let roles = outbound::db::users::roles(&app.state.db, user.id)
        .await
        .unwrap();
    let colleges = outbound::db::users::reviewer_colleges(&app.state.db, user.id)
        .await
        .unwrap();
    (
        Reviewer {
            user_id: user.id,
            roles: roles.0,
            college_ids: colleges,
        },
        Who::user(user.id, user.display_name),
    )
}

both!(
    a_college_reviewer_sees_only_their_own_colleges_applications,
    with_demo,
    |app| {
        let ours = app_of(&app, "2024010207").await; // 外国语学院
        let theirs = app_of(&app, "2023020105").await; // 信息科学与工程学院
        let mut wxy = app.signed_in("wxy_reviewer", STAFF).await;
        let queue = wxy.get("/staff/reviews").await;
        assert_eq!(queue.status, StatusCode::OK);
        let links = queue.html();
        let hrefs: Vec<String> = links
            .select(&scraper::Selector::parse("#queue a").unwrap())
            .filter_map(|a| a.value().attr("href").map(str::to_owned))
            .collect();
        assert!(
            hrefs.contains(&format!("/staff/applications/{ours}")),
            "{hrefs:?}"
        );
        assert!(
            !hrefs.contains(&format!("/staff/applications/{theirs}")),
            "{hrefs:?}"
        );
        assert_eq!(
            wxy.get(&format!("/staff/applications/{theirs}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        let r = wxy
            .post(
                &format!("/staff/applications/{theirs}/decide"),
                &[("decision", "approve"), ("opinion", ""), ("version", "1")],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "another college's application is not found"
        );
        let mut xx = app.signed_in("xx_reviewer", STAFF).await;
        assert_eq!(
            xx.get(&format!("/staff/applications/{theirs}"))
                .await
                .status,
            StatusCode::OK
        );
        // The office's stage comes second: the demo's 2023020105 passed its college,
        // 2024010207 has not.
        let mut office = app.signed_in("gjc_officer", STAFF).await;
        let q = office.get("/staff/reviews").await.text();
        assert!(
            q.contains(&format!("/staff/applications/{theirs}\"")),
            "waits on the office"
        );
        assert!(
            !q.contains(&format!("/staff/applications/{ours}\"")),
            "still at the college"
        );
        assert_eq!(
            office
                .get(&format!("/staff/applications/{ours}"))
                .await
                .status,
            StatusCode::OK,
            "the office sees every application"
        );
    }
);

both!(
    decisions_move_through_the_workflow_and_reach_the_student,
    with_demo,
    |app| {
        let id = app_of(&app, "2024010207").await;
        let mut wxy = app.signed_in("wxy_reviewer", STAFF).await;
        let r = decide(&mut wxy, id, "approve", "同意推荐").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let a = row(&app, id).await;
        assert_eq!(a.status(), Status::UnderReview);
        assert_eq!(a.stage_index, 1, "on to 国际交流部审核");
        // The college reviewer no longer decides it; the office does.
        let page = wxy.get(&format!("/staff/applications/{id}")).await;
        assert!(page.select("#decide-submit").is_empty());
        let mut office = app.signed_in("gjc_officer", STAFF).await;
        let q = office.get("/staff/reviews").await;
        assert!(q.text().contains(&format!("/staff/applications/{id}")));
        let r = decide(&mut office, id, "approve", "").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        assert_eq!(row(&app, id).await.status(), Status::Nominated);

        // The student sees both steps in 进度跟踪 and two messages.
        let mut student = app.signed_in("2024010207", STUDENT).await;
        let progress = student
            .get(&format!("/applications/{id}?tab=history"))
            .await;
        let text = progress.select("#history").join(" ");
        assert!(
            text.contains("学院审核") && text.contains("同意推荐"),
            "{text}"
        );
        assert!(
            text.contains("国际交流部审核") && text.contains("何静"),
            "{text}"
        );
        let messages = student.get("/messages").await.text();
        assert!(messages.contains("等待对方学校录取结果"), "{messages}");
        assert!(messages.contains("学院审核已通过"), "{messages}");
    }
);

both!(
    a_return_for_revision_goes_back_to_the_student_and_resubmission_reenters_that_stage,
    with_demo,
    |app| {
        let id = app_of(&app, "2024010207").await;
        let mut wxy = app.signed_in("wxy_reviewer", STAFF).await;
        assert_eq!(
            decide(&mut wxy, id, "approve", "").await.status,
            StatusCode::SEE_OTHER
        );
        let mut office = app.signed_in("gjc_officer", STAFF).await;
        // Without an opinion the return is refused beside the field, and the choice is kept.
        let r = decide(&mut office, id, "return_for_revision", "  ").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.select("#f-opinion-error").len(), 1);
        assert_eq!(attr(&r, "#decision-return_for_revision", "checked"), "");
        let r = decide(&mut office, id, "return_for_revision", "请补充学习计划").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        assert_eq!(row(&app, id).await.status(), Status::Returned);

        let mut student = app.signed_in("2024010207", STUDENT).await;
        let view = student.get(&format!("/applications/{id}")).await;
        assert!(view.text().contains("请补充学习计划"));
        fill(&mut student, id, "7.0", 0).await;
        submit(&mut student, id).await;
        let a = row(&app, id).await;
        assert_eq!(a.status(), Status::UnderReview);
        assert_eq!(
            a.stage_index, 1,
            "back at 国际交流部审核, not at the college again"
        );
        assert!(
            office
                .get("/staff/reviews")
                .await
                .text()
                .contains(&format!("/staff/applications/{id}"))
        );
    }
);

both!(
    two_reviewers_deciding_at_once_leave_exactly_one_decision,
    with_demo,
    |app| {
        let id = app_of(&app, "2024010207").await;
        let version = row(&app, id).await.version;
        let (reviewer, who) = reviewer_of(&app, "wxy_reviewer").await;
        let mut tasks = Vec::new();
        for i in 0..8 {
            let db = app.state.db.clone();
            let (reviewer, who) = (reviewer.clone(), who.clone());
            let decision = if i % 2 == 0 {
                Decision::Approve
            } else {
                Decision::Reject
            };
            tasks.push(tokio::spawn(async move {
                review::decide(&db, &who, &reviewer, id, version, decision, "同时审核").await
            }));
        }
        let mut won = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => won += 1,
                Err(ServiceError::Conflict(k)) => assert_eq!(k, "error.409"),
                Err(e) => panic!("a loser gets 409, not {e:?}"),
            }
        }
        assert_eq!(won, 1);
        let decisions = apps::history(&app.state.db, id)
            .await
            .unwrap()
            .into_iter()
            .filter(|h| h.action == "approve" || h.action == "reject")
            .count();
        assert_eq!(decisions, 1, "one history row for one decision");
        // A stale page gets the same answer over HTTP, with the opinion kept.
        let mut wxy = app.signed_in("wxy_reviewer", STAFF).await;
        let r = wxy
            .post(
                &format!("/staff/applications/{id}/decide"),
                &[
                    ("decision", "approve"),
                    ("opinion", "迟到的意见"),
                    ("version", &version.to_string()),
                ],
            )
            .await;
        assert!(
            r.status == StatusCode::CONFLICT || r.status == StatusCode::NOT_FOUND,
            "{}",
            r.status
        );
    }
);

both!(
    a_batch_decides_each_line_and_reports_one_that_moved_meanwhile,
    with_demo,
    |app| {
        // Two applications of 外国语学院 waiting on the college: the demo one and a fresh one.
        let first = app_of(&app, "2024010207").await;
        let mut student = app.signed_in("2023010101", STUDENT).await;
        let program = crate::journey::open_program(&app).await;
        let second = crate::journey::start(&mut student, program).await;
        fill(&mut student, second, "7.0", usize::MAX).await;
        submit(&mut student, second).await;

        let mut wxy = app.signed_in("wxy_reviewer", STAFF).await;
        let queue = wxy.get("/staff/reviews").await;
        let picks: Vec<String> = queue
            .html()
            .select(&scraper::Selector::parse("input[name=ids]").unwrap())
            .filter_map(|i| i.value().attr("value").map(str::to_owned))
            .collect();
        assert_eq!(picks.len(), 2, "{picks:?}");
        // Someone decides the first one before the batch is sent.
        let (reviewer, who) = reviewer_of(&app, "wxy_reviewer").await;
        let v = row(&app, first).await.version;
        review::decide(
            &app.state.db,
            &who,
            &reviewer,
            first,
            v,
            Decision::Approve,
            "",
        )
        .await
        .unwrap();

        let mut fields = vec![("decision", "approve"), ("opinion", "批量通过")];
        for p in &picks {
            fields.push(("ids", p.as_str()));
        }
        let r = wxy.post("/staff/reviews/batch", &fields).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let ok = r.select("#batch-report li.ok");
        let failed = r.select("#batch-report li.failed");
        assert_eq!((ok.len(), failed.len()), (1, 1), "{ok:?} {failed:?}");
        assert!(
            failed[0].contains(&format!("#{first}")) && failed[0].contains("已被他人处理"),
            "{failed:?}"
        );
        assert_eq!(row(&app, second).await.stage_index, 1);

        // A batch without a choice says so and decides nothing.
        let r = wxy.post("/staff/reviews/batch", &[("opinion", "x")]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.text().contains("请选择审核结果"));
    }
);

both!(
    a_reviewer_asks_for_supplementary_material_without_withdrawing,
    with_demo,
    |app| {
        let id = app_of(&app, "2024010207").await;
        let mut wxy = app.signed_in("wxy_reviewer", STAFF).await;
        let r = wxy
            .post(
                &format!("/staff/applications/{id}/supplements"),
                &[("name", ""), ("note", "")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.select("#f-supp-error").len(), 1);
        let r = wxy
            .post(
                &format!("/staff/applications/{id}/supplements"),
                &[("name", "成绩单（英文）"), ("note", "需加盖教务处公章")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        assert_eq!(
            row(&app, id).await.status(),
            Status::UnderReview,
            "not withdrawn"
        );
        let mut student = app.signed_in("2024010207", STUDENT).await;
        let page = student
            .get(&format!("/applications/{id}?tab=attachments"))
            .await;
        assert!(page.text().contains("成绩单（英文）"));
        assert!(student.get("/messages").await.text().contains("请补交材料"));
        // Internal notes are the staff's only.
        let r = wxy
            .post(
                &format!("/staff/applications/{id}/notes"),
                &[("body", "电话确认过成绩")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(
            wxy.get(&format!("/staff/applications/{id}"))
                .await
                .text()
                .contains("电话确认过成绩")
        );
        assert!(
            !student
                .get(&format!("/applications/{id}"))
                .await
                .text()
                .contains("电话确认过成绩")
        );
    }
);

both!(
    the_office_edits_and_deletes_with_who_and_why_on_record,
    with_demo,
    |app| {
        let id = app_of(&app, "2024010207").await;
        let mut office = app.signed_in("gjc_officer", STAFF).await;
        let page = office.get(&format!("/staff/applications/{id}/edit")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        // A college reviewer may not edit.
        let mut wxy = app.signed_in("wxy_reviewer", STAFF).await;
        assert_eq!(
            wxy.get(&format!("/staff/applications/{id}/edit"))
                .await
                .status,
            StatusCode::FORBIDDEN
        );

        let mut fields: Vec<(String, String)> = Vec::new();
        let html = page.html();
        for input in
            html.select(&scraper::Selector::parse("form input[name], form select[name]").unwrap())
        {
            let name = input.value().attr("name").unwrap().to_owned();
            if name == "_csrf" {
                continue;
            }
            let value = if input.value().name() == "select" {
                input
                    .select(&scraper::Selector::parse("option[selected]").unwrap())
                    .next()
                    .and_then(|o| o.value().attr("value"))
                    .unwrap_or_default()
                    .to_owned()
            } else if input.value().attr("type") == Some("radio") {
                if input.value().attr("checked").is_none() {
                    continue;
                }
                input.value().attr("value").unwrap_or_default().to_owned()
            } else {
                input.value().attr("value").unwrap_or_default().to_owned()
            };
            fields.push((name, value));
        }
        let set = |fields: &mut Vec<(String, String)>, k: &str, v: &str| {
            fields.retain(|(n, _)| n != k);
            fields.push((k.into(), v.into()));
        };
        set(&mut fields, "exchange_duration", "一学年");
        // No reason: refused beside the field, the change kept.
        let refs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let r = office
            .post(&format!("/staff/applications/{id}/edit"), &refs)
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert_eq!(r.select("#f-reason-error").len(), 1);
        assert_eq!(attr(&r, "#f-exchange_duration", "value"), "一学年");
        set(&mut fields, "reason", "学生来电更正交流期限");
        let refs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let r = office
            .post(&format!("/staff/applications/{id}/edit"), &refs)
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        assert_eq!(row(&app, id).await.info_form().exchange_duration, "一学年");
        let history = apps::history(&app.state.db, id).await.unwrap();
        let last = history.last().unwrap();
        assert_eq!(
            (last.action.as_str(), last.actor_name.as_str()),
            ("staff_edit", "何静")
        );
        assert_eq!(last.opinion, "学生来电更正交流期限");

        // Delete: a reason is required; then the application is gone and the audit log says why.
        let page = office.get(&format!("/staff/applications/{id}")).await;
        let version = attr(&page, "#delete input[name=version]", "value");
        let r = office
            .post(
                &format!("/staff/applications/{id}/delete"),
                &[("reason", ""), ("version", &version)],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = office
            .post(
                &format!("/staff/applications/{id}/delete"),
                &[("reason", "重复报名"), ("version", &version)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        assert!(apps::by_id(&app.state.db, id).await.unwrap().is_none());
        let audit: Vec<(String, String)> = app
            .state
            .db
            .all(
                &Query::select()
                    .columns(["actor_name", "detail"])
                    .from("audit_log")
                    .and_where(Expr::col("action").eq("application.staff_delete"))
                    .to_owned(),
            )
            .await
            .unwrap();
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].0, "何静");
        assert!(audit[0].1.contains("重复报名"), "{}", audit[0].1);
    }
);

both!(
    students_and_partners_never_reach_the_workbench,
    with_demo,
    |app| {
        let id = app_of(&app, "2024010207").await;
        for user in ["2024010207", "partner_demo"] {
            let pw = if user == "partner_demo" {
                STAFF
            } else {
                STUDENT
            };
            let mut c = app.signed_in(user, pw).await;
            assert_eq!(
                c.get("/staff/reviews").await.status,
                StatusCode::FORBIDDEN,
                "{user}"
            );
            assert_eq!(
                c.get(&format!("/staff/applications/{id}")).await.status,
                StatusCode::FORBIDDEN,
                "{user}"
            );
            let r = c
                .post(
                    &format!("/staff/applications/{id}/decide"),
                    &[("decision", "approve"), ("version", "1")],
                )
                .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{user}");
        }
    }
);
