//! After admission through the services, on both databases: 行前材料 filed and decided through
//! the workflow's 行前 stages by 教务处 and 外事部门, 派出确认 confirmed by the office, 境外打卡
//! with due days, 变更交流计划 returned, filed again and approved, 返校手续 reviewed to 已完成,
//! and a cancel before departure. Each form refuses a stale page, another student's
//! application and a second request of the same kind.
//!
//! The demo application of `2023020105` (past its college stage) is admitted through the real
//! review path and the state machine; the program gets its 行前 and 返校 document types here.

use chrono::NaiveDate;
use outbound::db::after_admission as journey_db;
use outbound::db::applications as apps;
use outbound::domain::after_admission::{
    CheckInForm, RequestDecision, RequestKind, RequestStatus, ReturnForm,
};
use outbound::domain::status::{Action, Actor, AdmissionResult, Facts, Status};
use outbound::services::ServiceError;
use outbound::services::after_admission as journey;
use outbound::services::applications::transition;
use outbound::services::attachments::{self, Slot};
use outbound::services::audit::Who;
use outbound::services::review::{self, Decision, Reviewer};
use sea_query::{Expr, ExprTrait, Query};

use crate::both;
use crate::support::{TestApp, pdf_bytes};

async fn person(app: &TestApp, username: &str) -> (Reviewer, Who) {
    let db = &app.state.db;
    let user = outbound::db::users::by_username(db, username)
        .await
        .unwrap()
        .unwrap();
    let roles = outbound::db::users::roles(db, user.id).await.unwrap();
    let colleges = outbound::db::users::reviewer_colleges(db, user.id)
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

async fn latest_app_of(app: &TestApp, username: &str) -> apps::ApplicationRow {
    let (student, _) = person(app, username).await;
    let rows: Vec<(i64,)> = app
        .state
        .db
        .all(
            &Query::select()
                .column("id")
                .from("applications")
                .and_where(Expr::col("student_id").eq(student.user_id))
                .order_by("id", sea_query::Order::Desc)
                .to_owned(),
        )
        .await
        .unwrap();
    row(app, rows[0].0).await
}

async fn row(app: &TestApp, id: i64) -> apps::ApplicationRow {
    apps::by_id(&app.state.db, id).await.unwrap().unwrap()
}

/// Decides the application's current stage as `username` (through the review service).
async fn decide_stage(app: &TestApp, id: i64, username: &str, decision: Decision) -> Status {
    let (reviewer, who) = person(app, username).await;
    let version = row(app, id).await.version;
    let opinion = if decision == Decision::Approve {
        "同意"
    } else {
        "请补充材料"
    };
    review::decide(
        &app.state.db,
        &who,
        &reviewer,
        id,
        version,
        decision,
        opinion,
    )
    .await
    .unwrap_or_else(|e| panic!("{username} could not decide: {e:?}"))
}

/// The demo application of 2023020105, admitted to its first choice.
async fn admitted(app: &TestApp) -> apps::ApplicationRow {
    let a = latest_app_of(app, "2023020105").await;
    assert_eq!(
        decide_stage(app, a.id, "gjc_officer", Decision::Approve).await,
        Status::Nominated
    );
    let a = row(app, a.id).await;
    let mut tx = app.state.db.begin().await.unwrap();
    transition(
        &mut tx,
        &a,
        a.version,
        Action::RecordAdmission(AdmissionResult::FirstChoice),
        &Actor::staff(&[outbound::domain::Role::InternationalOffice], false),
        &Facts::default(),
        &Who::system(),
        "",
        "",
        |_| {},
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    row(app, a.id).await
}

/// Gives the program one required document type of `phase`; returns its id.
async fn document_type(app: &TestApp, program_id: i64, phase: &str, name: &str) -> i64 {
    let mut tx = app.state.db.begin().await.unwrap();
    let id = tx
        .insert_id(
            Query::insert()
                .into_table("attachment_types")
                .columns([
                    "program_id",
                    "name_zh",
                    "name_en",
                    "required",
                    "phase",
                    "sort_order",
                ])
                .values_panic([
                    program_id.into(),
                    name.into(),
                    "".into(),
                    true.into(),
                    phase.into(),
                    100.into(),
                ]),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

/// Sets the program's dates so that the forms' date rules have a plan to check against.
async fn program_dates(app: &TestApp, program_id: i64, start: &str, end: &str) {
    let mut tx = app.state.db.begin().await.unwrap();
    tx.update(
        Query::update()
            .table("programs")
            .value("start_date", start)
            .value("end_date", end)
            .and_where(Expr::col("id").eq(program_id)),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn departure_fields() -> Vec<(String, String)> {
    fields(&[
        ("departure_date", "2027-08-30"),
        ("transport_no", "CA931"),
        ("destination_city", "Hamburg"),
        ("address_abroad", "Grindelallee 10, 20146 Hamburg"),
        ("phone_abroad", "+49 40 1234567"),
        ("contact_abroad", "Dr. Lena Vogt, +49 40 7654321"),
    ])
}

fn field_of(e: &ServiceError) -> Vec<(String, &'static str)> {
    match e {
        ServiceError::Invalid(f) => f.iter().map(|x| (x.field.clone(), x.code)).collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

both!(
    an_admitted_student_goes_abroad_and_comes_back_through_every_form_and_stage,
    with_demo,
    |app| {
        let db = &app.state.db;
        let storage = &app.state.storage;
        let key = &app.state.key;
        let a = admitted(&app).await;
        let (student, me) = person(&app, "2023020105").await;
        let sid = student.user_id;
        program_dates(&app, a.program_id, "2027-09-01", "2028-01-20").await;
        let visa = document_type(&app, a.program_id, "pre_departure", "签证页").await;
        let report = document_type(&app, a.program_id, "return", "外方成绩单").await;

        // 行前材料: missing first, then uploaded; a 返校材料 cannot be uploaded yet.
        let e = journey::submit_pre_departure(db, &me, sid, a.id, a.version)
            .await
            .unwrap_err();
        assert_eq!(
            field_of(&e),
            [(format!("attachment_{visa}"), "err.journey.document_missing")]
        );
        let early = attachments::upload(
            db,
            storage,
            &me,
            sid,
            a.id,
            Slot::Document(report),
            "成绩单.pdf",
            pdf_bytes(),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(early, ServiceError::Refused("err.journey.documents_closed")),
            "{early:?}"
        );
        attachments::upload(
            db,
            storage,
            &me,
            sid,
            a.id,
            Slot::Document(visa),
            "签证.pdf",
            pdf_bytes(),
        )
        .await
        .unwrap();

        // Another student cannot file it; a stale page gets a conflict.
        let (other, other_who) = person(&app, "2024010207").await;
        assert!(matches!(
            journey::submit_pre_departure(db, &other_who, other.user_id, a.id, a.version).await,
            Err(ServiceError::NotFound)
        ));
        let fresh = row(&app, a.id).await;
        assert!(matches!(
            journey::submit_pre_departure(db, &me, sid, a.id, fresh.version - 1).await,
            Err(ServiceError::Conflict(_))
        ));
        assert_eq!(
            journey::submit_pre_departure(db, &me, sid, a.id, fresh.version)
                .await
                .unwrap(),
            Status::PreDeparture
        );

        // 行前阶段教务处初审, 复审, then 外事部门: the demo's 教务处 and 外事部门 decide.
        assert!(
            review::decide(
                db,
                &person(&app, "wsb_officer").await.1,
                &person(&app, "wsb_officer").await.0,
                a.id,
                row(&app, a.id).await.version,
                Decision::Approve,
                "同意"
            )
            .await
            .is_err(),
            "外事部门 does not decide the academic affairs stage"
        );
        assert_eq!(
            decide_stage(&app, a.id, "jwc_officer", Decision::Approve).await,
            Status::PreDeparture
        );
        assert_eq!(
            decide_stage(&app, a.id, "jwc_officer", Decision::Approve).await,
            Status::PreDeparture
        );
        assert_eq!(
            decide_stage(&app, a.id, "wsb_officer", Decision::Approve).await,
            Status::ReadyToDepart
        );

        // 派出确认: filed once, confirmed by the office.
        let today = d("2027-08-25");
        let e = journey::file_request(
            db,
            storage,
            key,
            &me,
            sid,
            a.id,
            RequestKind::Departure,
            &fields(&[]),
            None,
            today,
        )
        .await
        .unwrap_err();
        assert_eq!(field_of(&e).len(), 6, "every field of 派出确认 is required");
        let dep = journey::file_request(
            db,
            storage,
            key,
            &me,
            sid,
            a.id,
            RequestKind::Departure,
            &departure_fields(),
            None,
            today,
        )
        .await
        .unwrap();
        assert!(matches!(
            journey::file_request(
                db,
                storage,
                key,
                &me,
                sid,
                a.id,
                RequestKind::Departure,
                &departure_fields(),
                None,
                today
            )
            .await,
            Err(ServiceError::Refused("err.transition.request_open"))
        ));
        let (office, office_who) = person(&app, "gjc_officer").await;
        let (jwc, jwc_who) = person(&app, "jwc_officer").await;
        let r = journey_db::request(db, a.id, dep).await.unwrap().unwrap();
        assert!(
            matches!(
                journey::decide_request(
                    db,
                    &jwc_who,
                    &jwc,
                    a.id,
                    dep,
                    r.version,
                    RequestDecision::Approve,
                    "",
                    &[],
                    today
                )
                .await,
                Err(ServiceError::NotFound)
            ),
            "only the office decides requests"
        );
        assert!(matches!(
            journey::decide_request(
                db,
                &office_who,
                &office,
                a.id,
                dep,
                r.version + 1,
                RequestDecision::Approve,
                "",
                &[],
                today
            )
            .await,
            Err(ServiceError::Conflict(_))
        ));
        assert_eq!(
            journey::decide_request(
                db,
                &office_who,
                &office,
                a.id,
                dep,
                r.version,
                RequestDecision::Approve,
                "",
                &[],
                today
            )
            .await
            .unwrap(),
            RequestStatus::Approved
        );
        assert_eq!(row(&app, a.id).await.status(), Status::Abroad);
        let plan = journey_db::plan(db, a.id).await.unwrap().unwrap();
        assert_eq!(plan.departed(), Some(d("2027-08-30")));
        assert_eq!(plan.destination_city, "Hamburg");
        // Deciding the same request twice is a conflict, not a second effect.
        assert!(matches!(
            journey::decide_request(
                db,
                &office_who,
                &office,
                a.id,
                dep,
                r.version + 1,
                RequestDecision::Approve,
                "",
                &[],
                today
            )
            .await,
            Err(ServiceError::Conflict(_))
        ));

        // 境外打卡: the arrival, due three days after departure, then a safety report.
        let check = CheckInForm {
            arrival_date: "2027-08-31".into(),
            address: "Grindelallee 10, 20146 Hamburg".into(),
            local_phone: "+49 151 2345678".into(),
            note: "已安全抵达".into(),
        };
        journey::check_in(db, &me, sid, a.id, &check, d("2027-09-04"))
            .await
            .unwrap();
        journey::check_in(
            db,
            &me,
            sid,
            a.id,
            &CheckInForm {
                arrival_date: String::new(),
                ..check.clone()
            },
            d("2027-10-01"),
        )
        .await
        .unwrap();
        let checks = journey_db::check_ins(db, a.id).await.unwrap();
        assert_eq!(checks.len(), 2);
        assert_eq!(
            (checks[0].kind.as_str(), checks[0].due_on.as_str()),
            ("arrival", "2027-09-02")
        );
        assert!(checks[0].is_late(), "checked in two days after it was due");
        assert_eq!(
            (checks[1].kind.as_str(), checks[1].due_on.as_str()),
            ("safety", "2027-10-04")
        );
        assert!(!checks[1].is_late());

        // 变更交流计划: returned, filed again with a supporting file, approved: new dates.
        let change = fields(&[
            ("kind", "extend"),
            ("new_start", "2027-09-01"),
            ("new_end", "2028-06-30"),
            ("reason", "导师邀请参加下学期的研究项目"),
        ]);
        let pc = journey::file_request(
            db,
            storage,
            key,
            &me,
            sid,
            a.id,
            RequestKind::PlanChange,
            &change,
            None,
            d("2027-11-01"),
        )
        .await
        .unwrap();
        let r = journey_db::request(db, a.id, pc).await.unwrap().unwrap();
        let e = journey::decide_request(
            db,
            &office_who,
            &office,
            a.id,
            pc,
            r.version,
            RequestDecision::Return,
            " ",
            &[],
            today,
        )
        .await
        .unwrap_err();
        assert_eq!(field_of(&e), [("opinion".to_owned(), "err.required")]);
        journey::decide_request(
            db,
            &office_who,
            &office,
            a.id,
            pc,
            r.version,
            RequestDecision::Return,
            "请附导师邀请函",
            &[],
            today,
        )
        .await
        .unwrap();
        let proof = journey::Upload {
            file_name: "邀请函.pdf".into(),
            bytes: pdf_bytes(),
        };
        let again = journey::file_request(
            db,
            storage,
            key,
            &me,
            sid,
            a.id,
            RequestKind::PlanChange,
            &change,
            Some(proof),
            d("2027-11-02"),
        )
        .await
        .unwrap();
        assert_eq!(again, pc, "a returned request is filed again in place");
        let files = apps::attachments(db, a.id).await.unwrap();
        assert!(
            files.iter().any(|f| f.request_id == Some(pc)),
            "the proof is kept with the request"
        );
        let r = journey_db::request(db, a.id, pc).await.unwrap().unwrap();
        assert_eq!(r.status(), RequestStatus::Pending);
        journey::decide_request(
            db,
            &office_who,
            &office,
            a.id,
            pc,
            r.version,
            RequestDecision::Approve,
            "",
            &[],
            today,
        )
        .await
        .unwrap();
        let plan = journey_db::plan(db, a.id).await.unwrap().unwrap();
        assert_eq!(
            (plan.plan_start.as_str(), plan.plan_end.as_str()),
            ("2027-09-01", "2028-06-30")
        );
        let history: Vec<(String, String)> = app
            .state
            .db
            .all(
                &Query::select()
                    .columns(["action", "opinion"])
                    .from("application_history")
                    .and_where(Expr::col("application_id").eq(a.id))
                    .and_where(Expr::col("action").eq("plan.dates"))
                    .to_owned(),
            )
            .await
            .unwrap();
        assert_eq!(history.len(), 1);
        assert!(
            history[0].1.contains("2028-01-20") && history[0].1.contains("2028-06-30"),
            "{history:?}"
        );

        // 返校手续: a summary too short, then the 返校材料 and a full one; the office approves.
        let back = d("2028-07-02");
        let short = ReturnForm {
            return_date: "2028-06-30".into(),
            summary: "很好".into(),
        };
        let v = row(&app, a.id).await.version;
        let e = journey::submit_return(db, &me, sid, a.id, v, &short, back)
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), [("summary".to_owned(), "err.text.too_short")]);
        let full = ReturnForm {
            return_date: "2028-06-30".into(),
            summary: "交流学习收获很大。".repeat(40),
        };
        let e = journey::submit_return(db, &me, sid, a.id, v, &full, back)
            .await
            .unwrap_err();
        assert_eq!(
            field_of(&e),
            [(
                format!("attachment_{report}"),
                "err.journey.document_missing"
            )]
        );
        attachments::upload(
            db,
            storage,
            &me,
            sid,
            a.id,
            Slot::Document(report),
            "成绩单.pdf",
            pdf_bytes(),
        )
        .await
        .unwrap();
        let v = row(&app, a.id).await.version;
        assert_eq!(
            journey::submit_return(db, &me, sid, a.id, v, &full, back)
                .await
                .unwrap(),
            Status::ReturnReview
        );
        assert_eq!(journey_db::summary(db, a.id).await.unwrap(), full.summary);
        assert_eq!(
            decide_stage(&app, a.id, "gjc_officer", Decision::Approve).await,
            Status::Completed
        );

        // A program without a subsidy offers no 资助申请.
        assert!(matches!(
            journey::file_request(
                db,
                storage,
                key,
                &me,
                sid,
                a.id,
                RequestKind::Funding,
                &fields(&[]),
                None,
                back
            )
            .await,
            Err(ServiceError::Refused("err.transition.not_offered"))
        ));
    }
);

both!(
    an_approved_cancel_before_departure_ends_the_application,
    with_demo,
    |app| {
        let db = &app.state.db;
        let storage = &app.state.storage;
        let key = &app.state.key;
        let a = admitted(&app).await;
        program_dates(&app, a.program_id, "2027-09-01", "2028-01-20").await;
        let (student, me) = person(&app, "2023020105").await;
        let today = d("2027-06-01");
        let cancel = fields(&[("kind", "cancel"), ("reason", "家中有事，无法按期出行")]);
        let id = journey::file_request(
            db,
            storage,
            key,
            &me,
            student.user_id,
            a.id,
            RequestKind::ChangeBeforeDeparture,
            &cancel,
            None,
            today,
        )
        .await
        .unwrap();
        // Until the office decides, the student is still admitted.
        assert_eq!(row(&app, a.id).await.status(), Status::AdmittedFirstChoice);
        let (office, office_who) = person(&app, "gjc_officer").await;
        let r = journey_db::request(db, a.id, id).await.unwrap().unwrap();
        journey::decide_request(
            db,
            &office_who,
            &office,
            a.id,
            id,
            r.version,
            RequestDecision::Approve,
            "同意取消",
            &[],
            today,
        )
        .await
        .unwrap();
        assert_eq!(row(&app, a.id).await.status(), Status::Cancelled);
        let messages: Vec<(String,)> = db
            .all(
                &Query::select()
                    .column("body")
                    .from("messages")
                    .and_where(Expr::col("user_id").eq(student.user_id))
                    .to_owned(),
            )
            .await
            .unwrap();
        assert!(
            messages
                .iter()
                .any(|(b,)| b.contains("派出前变更") && b.contains("同意取消")),
            "{messages:?}"
        );
    }
);

/// Takes the admitted demo application abroad: 行前 stages approved, departure on 2027-08-30
/// confirmed by the office.
async fn abroad(app: &TestApp) -> apps::ApplicationRow {
    let db = &app.state.db;
    let a = admitted(app).await;
    program_dates(app, a.program_id, "2027-09-01", "2028-01-20").await;
    let (student, me) = person(app, "2023020105").await;
    journey::submit_pre_departure(db, &me, student.user_id, a.id, a.version)
        .await
        .unwrap();
    decide_stage(app, a.id, "jwc_officer", Decision::Approve).await;
    decide_stage(app, a.id, "jwc_officer", Decision::Approve).await;
    decide_stage(app, a.id, "wsb_officer", Decision::Approve).await;
    let today = d("2027-08-20");
    let dep = journey::file_request(
        db,
        &app.state.storage,
        &app.state.key,
        &me,
        student.user_id,
        a.id,
        RequestKind::Departure,
        &departure_fields(),
        None,
        today,
    )
    .await
    .unwrap();
    let (office, office_who) = person(app, "gjc_officer").await;
    let r = journey_db::request(db, a.id, dep).await.unwrap().unwrap();
    journey::decide_request(
        db,
        &office_who,
        &office,
        a.id,
        dep,
        r.version,
        RequestDecision::Approve,
        "",
        &[],
        today,
    )
    .await
    .unwrap();
    row(app, a.id).await
}

/// 08:00 in China on `day`.
fn morning(day: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(&format!("{day}T08:00:00+08:00"))
        .unwrap()
        .with_timezone(&chrono::Utc)
}

async fn message_count(app: &TestApp, user_id: i64, title: &str) -> usize {
    let rows: Vec<(String,)> = app
        .state
        .db
        .all(
            &Query::select()
                .column("title")
                .from("messages")
                .and_where(Expr::col("user_id").eq(user_id))
                .to_owned(),
        )
        .await
        .unwrap();
    // Titles are kept in both languages; the Chinese one is what the student reads here.
    rows.iter()
        .filter(|(t,)| outbound::i18n::Phrase::read(t).zh == title)
        .count()
}

both!(
    the_reminder_job_run_twice_on_a_day_sends_each_reminder_once,
    with_demo,
    |app| {
        let db = &app.state.db;
        let a = abroad(&app).await;
        let (student, _) = person(&app, "2023020105").await;
        // Departed 2027-08-30: the first check-in is due 2027-09-02.
        assert_eq!(
            journey::run_reminders(db, morning("2027-09-01"))
                .await
                .unwrap(),
            0
        );
        let first = journey::run_reminders(db, morning("2027-09-02"))
            .await
            .unwrap();
        assert_eq!(first, 1);
        assert_eq!(
            journey::run_reminders(db, morning("2027-09-02"))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            message_count(&app, student.user_id, "今天请完成境外打卡").await,
            1
        );
        // Overdue the next days: one overdue reminder, however often the job runs.
        assert_eq!(
            journey::run_reminders(db, morning("2027-09-03"))
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            journey::run_reminders(db, morning("2027-09-04"))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            message_count(&app, student.user_id, "境外打卡已逾期").await,
            1
        );
        // Past the planned return without 返校手续.
        assert_eq!(
            journey::run_reminders(db, morning("2028-01-21"))
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            journey::run_reminders(db, morning("2028-01-21"))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            message_count(&app, student.user_id, "请尽快办理返校手续").await,
            1
        );
        assert_eq!(journey_db::reminders_sent_count(db).await.unwrap(), 3);
        let _ = a;
    }
);

both!(
    abroad_now_and_the_to_do_list_show_the_student_where_they_stand,
    with_demo,
    |app| {
        let db = &app.state.db;
        let a = abroad(&app).await;
        let (student, _) = person(&app, "2023020105").await;
        let (office, _) = person(&app, "gjc_officer").await;

        let now = journey::abroad_now(db, &office, d("2027-09-05"))
            .await
            .unwrap();
        assert_eq!(now.abroad.len(), 1);
        assert_eq!(now.abroad[0].row.application_id, a.id);
        assert_eq!(
            now.not_checked_in.len(),
            1,
            "the check-in was due on 2027-09-02"
        );
        assert!(now.overdue_return.is_empty());
        assert_eq!(now.by_country.iter().map(|(_, n)| n).sum::<usize>(), 1);

        // A college reviewer of another college sees nobody; the student's own college does.
        let (other_college, _) = person(&app, "wxy_reviewer").await;
        let (own_college, _) = person(&app, "xx_reviewer").await;
        let seen = |r: &journey::AbroadNow| r.abroad.len();
        let other = journey::abroad_now(db, &other_college, d("2027-09-05"))
            .await
            .unwrap();
        let own = journey::abroad_now(db, &own_college, d("2027-09-05"))
            .await
            .unwrap();
        assert_eq!(
            seen(&other) + seen(&own),
            1,
            "exactly one of the two colleges is the student's"
        );

        let todos = journey::todos(db, student.user_id, d("2027-09-05"))
            .await
            .unwrap();
        let step = todos
            .iter()
            .find(|t| t.application_id == a.id)
            .unwrap()
            .step;
        assert_eq!(step.action, Action::CheckIn);
        assert_eq!(step.due, Some(d("2027-09-02")));
        assert!(step.overdue);

        let late = journey::abroad_now(db, &office, d("2028-02-01"))
            .await
            .unwrap();
        assert_eq!(late.overdue_return.len(), 1);
    }
);
