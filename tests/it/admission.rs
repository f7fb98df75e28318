//! 录取管理 through HTTP: recording the partner schools' answers one by one and in batch, who
//! may do it, and the allocation by parallel choices — preview, explanations, overrides,
//! publishing (decisions, history, messages) and publishing twice.
//!
//! Each test takes three of the demo set's submitted applications into a program of its own,
//! gives them the scores and choices it needs, and moves those still 申请中 to
//! 待对方学校返回录取结果 through the real state machine (an approval of the last stage).

use axum::http::StatusCode;
use outbound::db::Tx;
use outbound::db::applications::{self as apps, ApplicationRow};
use outbound::domain::status::{Action, Actor, Facts, Role, Status};
use outbound::services::applications::transition;
use outbound::services::audit::Who;
use sea_query::{Expr, ExprTrait, Order, Query};

use crate::both;
use crate::journey::attr;
use crate::support::{Client, Resp, TestApp};

const OFFICER: &str = "gjc_officer";
const STAFF_PASSWORD: &str = "Staff@2026";

/// One demo application made ready for a result.
#[derive(Debug, Clone)]
struct Nominee {
    id: i64,
    student_id: i64,
}

/// The program the nominees are in, its two partner schools (quota 1 each) and the nominees.
struct Setup {
    program: i64,
    first: i64,
    second: i64,
    nominees: Vec<Nominee>,
}

async fn one_app(app: &TestApp, id: i64) -> ApplicationRow {
    apps::by_id(&app.state.db, id).await.unwrap().unwrap()
}

/// Approves the last application stage through the state machine: 申请中 → 待对方学校返回录取结果.
async fn nominate(app: &TestApp, id: i64) {
    let row = one_app(app, id).await;
    let mut tx = app.state.db.begin().await.unwrap();
    let to = transition(
        &mut tx,
        &row,
        row.version,
        Action::Approve,
        &Actor::staff(&[Role::InternationalOffice], true),
        &Facts {
            is_last_stage: true,
            ..Facts::default()
        },
        &Who::system(),
        "国际交流部审核",
        "推荐",
        |_| {},
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(to, Status::Nominated);
}

async fn set_info(tx: &mut Tx, id: i64, program: i64, info: serde_json::Value) {
    tx.update(
        Query::update()
            .table("applications")
            .value("program_id", program)
            .value("info", info.to_string())
            .and_where(Expr::col("id").eq(id)),
    )
    .await
    .unwrap();
}

/// The profile's 平均绩点 as it was at 提交 (what the allocation ranks by GPA).
async fn set_snapshot_gpa(tx: &mut Tx, id: i64, gpa: &str) {
    let (raw,): (String,) = tx
        .optional(
            &Query::select()
                .column("profile_snapshot")
                .from("applications")
                .and_where(Expr::col("id").eq(id))
                .to_owned(),
        )
        .await
        .unwrap()
        .unwrap();
    let mut snapshot: serde_json::Value = serde_json::from_str(&raw).unwrap();
    snapshot["gpa"] = gpa.into();
    tx.update(
        Query::update()
            .table("applications")
            .value("profile_snapshot", snapshot.to_string())
            .and_where(Expr::col("id").eq(id)),
    )
    .await
    .unwrap();
}

/// A program of its own with two partner schools of quota 1, so that the demo's other
/// applications stay out of the way. Returns (program, first school, second school).
async fn own_program(tx: &mut Tx) -> (i64, i64, i64) {
    let now = chrono::Utc::now();
    let program = tx
        .insert_id(
            Query::insert()
                .into_table("programs")
                .columns([
                    "code",
                    "name_zh",
                    "name_en",
                    "year",
                    "program_type",
                    "reg_start",
                    "reg_end",
                    "workflow_code",
                    "status",
                    "created_at",
                    "updated_at",
                ])
                .values_panic([
                    "ADM-TEST-1".into(),
                    "录取测试交换项目".into(),
                    "Admission test exchange".into(),
                    2027i64.into(),
                    "semester_exchange".into(),
                    (now - chrono::Duration::days(20)).into(),
                    (now - chrono::Duration::days(1)).into(),
                    "default".into(),
                    "published".into(),
                    now.into(),
                    now.into(),
                ]),
        )
        .await
        .unwrap();
    let mut schools = Vec::new();
    for (i, (zh, en)) in [
        ("曼彻斯特大学", "The University of Manchester"),
        ("利兹大学", "University of Leeds"),
    ]
    .into_iter()
    .enumerate()
    {
        schools.push(
            tx.insert_id(
                Query::insert()
                    .into_table("partner_schools")
                    .columns(["program_id", "name_zh", "name_en", "quota", "sort_order"])
                    .values_panic([
                        program.into(),
                        zh.into(),
                        en.into(),
                        1i64.into(),
                        (i as i64).into(),
                    ]),
            )
            .await
            .unwrap(),
        );
    }
    (program, schools[0], schools[1])
}

/// Puts three of the demo's submitted applications into a program of their own, with every
/// applicant wanting the first school, then the second; GPAs (in the profile snapshot) 3.90,
/// 3.70, 3.50 in id order (weighted averages the other way round: 80, 85, 90); and brings each
/// to 待对方学校返回录取结果.
async fn setup(app: &TestApp) -> Setup {
    let db = &app.state.db;
    let ids: Vec<(i64, i64, String)> = db
        .all(
            &Query::select()
                .columns(["id", "student_id", "status"])
                .from("applications")
                .and_where(
                    Expr::col("status")
                        .is_in([Status::UnderReview.code(), Status::Nominated.code()]),
                )
                .order_by("id", Order::Asc)
                .limit(3)
                .to_owned(),
        )
        .await
        .unwrap();
    assert_eq!(ids.len(), 3, "the demo set has submitted applications");
    let mut tx = db.begin().await.unwrap();
    let (program, first, second) = own_program(&mut tx).await;
    for (i, (id, _, _)) in ids.iter().enumerate() {
        let mut info: serde_json::Value =
            serde_json::from_str(&one_app(app, *id).await.info).unwrap();
        info["choice_1"] = first.to_string().into();
        info["choice_2"] = second.to_string().into();
        info["weighted_avg"] = ["80", "85", "90"][i].into();
        set_info(&mut tx, *id, program, info).await;
        set_snapshot_gpa(&mut tx, *id, ["3.90", "3.70", "3.50"][i]).await;
    }
    tx.commit().await.unwrap();
    for (id, _, status) in &ids {
        if status == Status::UnderReview.code() {
            nominate(app, *id).await;
        }
    }
    Setup {
        program,
        first,
        second,
        nominees: ids
            .iter()
            .map(|(id, student_id, _)| Nominee {
                id: *id,
                student_id: *student_id,
            })
            .collect(),
    }
}

async fn status_of(app: &TestApp, id: i64) -> (Status, Option<i64>) {
    let row = one_app(app, id).await;
    (row.status(), row.admitted_school_id)
}

async fn messages_of(app: &TestApp, user_id: i64) -> Vec<(String, String)> {
    let rows: Vec<(String, String)> = app
        .state
        .db
        .all(
            &Query::select()
                .columns(["title", "body"])
                .from("messages")
                .and_where(Expr::col("user_id").eq(user_id))
                .order_by("id", Order::Asc)
                .to_owned(),
        )
        .await
        .unwrap();
    // Messages are stored in both languages; read them in Chinese as a person would.
    let zh = |s: &str| outbound::i18n::Phrase::read(s).zh;
    rows.into_iter().map(|(t, b)| (zh(&t), zh(&b))).collect()
}

/// (action, opinion in Chinese) of every history row of an application, oldest first.
async fn history_of(app: &TestApp, id: i64) -> Vec<(String, String)> {
    let rows: Vec<(String, String)> = app
        .state
        .db
        .all(
            &Query::select()
                .columns(["action", "opinion"])
                .from("application_history")
                .and_where(Expr::col("application_id").eq(id))
                .order_by("id", Order::Asc)
                .to_owned(),
        )
        .await
        .unwrap();
    // System-written opinions are stored as phrases; read them as a person would.
    rows.into_iter()
        .map(|(action, opinion)| (action, outbound::i18n::Phrase::read(&opinion).zh))
        .collect()
}

/// The value of a line's checkbox in the list (`id:version`).
fn pick_of(page: &Resp, id: i64) -> String {
    attr(page, &format!("#pick-{id}"), "value")
}

/// The text of one cell of a preview line.
fn cell(page: &Resp, id: i64, class: &str) -> String {
    page.select(&format!("#line-{id} td.{class}"))
        .first()
        .cloned()
        .unwrap_or_default()
}

async fn officer(app: &TestApp) -> Client {
    app.signed_in(OFFICER, STAFF_PASSWORD).await
}

both!(
    the_office_records_a_result_one_by_one_and_the_student_is_told,
    with_demo,
    |app| {
        let s = setup(&app).await;
        let a = &s.nominees[0];
        let mut c = officer(&app).await;
        let list = c.get("/staff/admissions").await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.text().contains("待对方学校返回录取结果"));
        assert!(
            list.select("nav.site-nav a")
                .iter()
                .any(|t| t == "录取管理"),
            "the menu has 录取管理"
        );
        let pick = pick_of(&list, a.id);
        assert!(!pick.is_empty(), "the nominee is listed");
        let buttons = list.select(&format!(
            "tr[data-application=\"{}\"] button.record-one",
            a.id
        ));
        assert!(
            buttons.contains(&"第一志愿被录取".to_owned()),
            "{buttons:?}"
        );
        assert!(buttons.contains(&"放弃".to_owned()), "{buttons:?}");
        let before = messages_of(&app, a.student_id).await.len();

        let one = format!("{pick}:first_choice");
        let r = c
            .post("/staff/admissions/record", &[("one", one.as_str())])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        assert_eq!(
            status_of(&app, a.id).await,
            (Status::AdmittedFirstChoice, Some(s.first))
        );
        let history = history_of(&app, a.id).await;
        let last = history.last().unwrap();
        assert_eq!(last.0, "record_admission.first_choice");
        assert!(last.1.contains("录取学校"), "{last:?}");
        let messages = messages_of(&app, a.student_id).await;
        assert_eq!(messages.len(), before + 1);
        assert!(messages.last().unwrap().0.contains("第一志愿被录取"));

        // The student sees it in the message centre.
        let student_no: (String,) = app
            .state
            .db
            .optional(
                &Query::select()
                    .column("student_no")
                    .from("students")
                    .and_where(Expr::col("user_id").eq(a.student_id))
                    .to_owned(),
            )
            .await
            .unwrap()
            .unwrap();
        let mut student = app.signed_in(&student_no.0, "Demo@2026").await;
        assert!(
            student
                .get("/messages")
                .await
                .text()
                .contains("第一志愿被录取")
        );

        // The same button again (a stale page): 已被他人处理, nothing recorded twice.
        let again = c
            .post("/staff/admissions/record", &[("one", one.as_str())])
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert!(again.text().contains("已被他人处理"));
        assert_eq!(history_of(&app, a.id).await.len(), history.len());

        // The list now holds only the other two.
        let list = c.get("/staff/admissions").await;
        assert!(pick_of(&list, a.id).is_empty());
        assert!(!pick_of(&list, s.nominees[1].id).is_empty());
    }
);

both!(
    a_batch_records_every_ticked_application_and_reports_one_changed_meanwhile,
    with_demo,
    |app| {
        let s = setup(&app).await;
        let (a, b, x) = (&s.nominees[0], &s.nominees[1], &s.nominees[2]);
        let mut c = officer(&app).await;
        let list = c
            .get(&format!("/staff/admissions?program={}", s.program))
            .await;
        let picks: Vec<String> = s.nominees.iter().map(|n| pick_of(&list, n.id)).collect();

        // Meanwhile a colleague records 放弃 for the third.
        let mut admin = app.signed_in("admin", STAFF_PASSWORD).await;
        let other = format!("{}:abandoned", picks[2]);
        let r = admin
            .post("/staff/admissions/record", &[("one", other.as_str())])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

        let r = c
            .post(
                &format!("/staff/admissions/record?program={}", s.program),
                &[
                    ("pick", picks[0].as_str()),
                    ("pick", picks[1].as_str()),
                    ("pick", picks[2].as_str()),
                    ("result", "not_admitted"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let ok = r.select("#batch-report li.ok");
        let failed = r.select("#batch-report li.failed");
        assert_eq!(ok.len(), 2, "{ok:?}");
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert!(failed[0].contains("已被他人处理"), "{failed:?}");
        assert!(failed[0].contains(&format!("#{}", x.id)));
        assert_eq!(status_of(&app, a.id).await, (Status::NotAdmitted, None));
        assert_eq!(status_of(&app, b.id).await, (Status::NotAdmitted, None));
        assert_eq!(status_of(&app, x.id).await, (Status::Abandoned, None));
        for n in [a, b] {
            assert!(
                messages_of(&app, n.student_id)
                    .await
                    .last()
                    .unwrap()
                    .0
                    .contains("未被录取")
            );
        }

        // A batch without a result or without lines says so beside the batch form.
        let r = c
            .post("/staff/admissions/record", &[("result", "first_choice")])
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.text().contains("请勾选要录入的申请"));
    }
);

both!(
    only_the_international_office_or_an_admin_may_see_or_record_admissions,
    with_demo,
    |app| {
        let s = setup(&app).await;
        let a = &s.nominees[0];
        let pages = [
            "/staff/admissions".to_owned(),
            format!("/staff/admissions/programs/{}/allocation", s.program),
        ];
        for (user, password) in [
            ("wxy_reviewer", STAFF_PASSWORD),
            ("jwc_officer", STAFF_PASSWORD),
            ("partner_demo", STAFF_PASSWORD),
            ("2023010101", "Demo@2026"),
        ] {
            let mut c = app.signed_in(user, password).await;
            for page in &pages {
                let r = c.get(page).await;
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{user} {page}");
            }
            assert!(
                !c.get("/").await.text().contains("/staff/admissions"),
                "{user} sees no menu line"
            );
            let one = format!("{}:1:first_choice", a.id);
            let r = c
                .post("/staff/admissions/record", &[("one", one.as_str())])
                .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{user}");
            let r = c
                .post(
                    &format!(
                        "/staff/admissions/programs/{}/allocation/publish",
                        s.program
                    ),
                    &[("fingerprint", "x")],
                )
                .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{user}");
        }
        assert_eq!(status_of(&app, a.id).await.0, Status::Nominated);
        let mut admin = app.signed_in("admin", STAFF_PASSWORD).await;
        for page in &pages {
            assert_eq!(admin.get(page).await.status, StatusCode::OK, "admin {page}");
        }
        // A program that does not exist is not found.
        let r = admin
            .get("/staff/admissions/programs/999999/allocation")
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
);

both!(
    the_allocation_preview_explains_each_result_and_honours_overrides,
    with_demo,
    |app| {
        let s = setup(&app).await;
        let (a, b, x) = (&s.nominees[0], &s.nominees[1], &s.nominees[2]);
        let mut c = officer(&app).await;
        let path = format!("/staff/admissions/programs/{}/allocation", s.program);
        let page = c.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        // By GPA (the default): 3.90, 3.70, 3.50.
        let order: Vec<String> = page.select("#allocation tbody tr td:first-child");
        assert_eq!(order, vec!["1", "2", "3"]);
        assert_eq!(cell(&page, a.id, "score"), "3.90");
        assert!(cell(&page, a.id, "why").contains("按第一志愿录取"));
        assert_eq!(cell(&page, b.id, "why"), "第一志愿名额已满，按第二志愿录取");
        assert_eq!(
            cell(&page, x.id, "why"),
            "第一志愿名额已满，第二志愿名额已满，待调剂"
        );
        assert!(cell(&page, x.id, "result").contains("调剂"));

        // Override: the third is not admitted after all; the second keeps its second choice.
        let r = c
            .post(
                &format!("{path}/override"),
                &[
                    ("application_id", &b.id.to_string()),
                    ("result", "first_choice"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let page = c.get(&path).await;
        assert!(cell(&page, b.id, "why").contains("人工调整为“第一志愿被录取”"));
        // The override took the first school's only place: the best applicant moves down.
        assert_eq!(cell(&page, a.id, "why"), "第一志愿名额已满，按第二志愿录取");
        assert!(cell(&page, x.id, "why").ends_with("待调剂"));

        // Two overrides into the same school: honoured, and the one beyond the quota is flagged.
        let r = c
            .post(
                &format!("{path}/override"),
                &[
                    ("application_id", &x.id.to_string()),
                    ("result", "first_choice"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let page = c.get(&path).await;
        assert!(page.text().contains("有人工调整超出了推荐名额"));
        assert!(
            cell(&page, x.id, "why").contains("超出"),
            "{}",
            cell(&page, x.id, "why")
        );

        // Back to the rules for both; an override to a choice never made is refused.
        for n in [b, x] {
            c.post(
                &format!("{path}/override"),
                &[("application_id", &n.id.to_string()), ("result", "")],
            )
            .await;
        }
        let mut tx = app.state.db.begin().await.unwrap();
        let mut info: serde_json::Value =
            serde_json::from_str(&one_app(&app, x.id).await.info).unwrap();
        info["choice_2"] = "".into();
        set_info(&mut tx, x.id, s.program, info).await;
        tx.commit().await.unwrap();
        let r = c
            .post(
                &format!("{path}/override"),
                &[
                    ("application_id", &x.id.to_string()),
                    ("result", "second_choice"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let page = c.get(&path).await;
        assert!(page.text().contains("该学生未填写此志愿"));
        assert_eq!(
            cell(&page, x.id, "why"),
            "第一志愿名额已满，未填第二志愿，待调剂"
        );

        // Ranking by 加权平均分 reverses the order; bad settings are refused beside the field.
        let r = c
            .post(
                &format!("{path}/settings"),
                &[
                    ("s_rule", "mix"),
                    ("s_weight_gpa", "50"),
                    ("s_weight_avg", "30"),
                    ("s_weight_language", "10"),
                    ("s_language_exam", "ielts"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.select("#f-s_weight_gpa-error")
                .first()
                .is_some_and(|e| e.contains("各项权重之和须为 100"))
        );
        assert_eq!(
            attr(&r, "#f-s_weight_language", "value"),
            "10",
            "input kept"
        );
        let r = c
            .post(
                &format!("{path}/settings"),
                &[("s_rule", "weighted_avg"), ("s_language_exam", "ielts")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let page = c.get(&path).await;
        assert_eq!(cell(&page, x.id, "score"), "90.00");
        assert_eq!(
            page.select(&format!("#line-{} td:first-child", x.id)),
            vec!["1"]
        );
        assert!(cell(&page, x.id, "why").contains("按第一志愿录取"));
        // Nothing was decided by looking.
        for n in &s.nominees {
            assert_eq!(status_of(&app, n.id).await.0, Status::Nominated);
        }
    }
);

both!(
    publishing_records_each_decision_with_history_and_a_message_and_only_once,
    with_demo,
    |app| {
        let s = setup(&app).await;
        let (a, b, x) = (&s.nominees[0], &s.nominees[1], &s.nominees[2]);
        let mut c = officer(&app).await;
        let path = format!("/staff/admissions/programs/{}/allocation", s.program);
        // The office decides the second-ranked applicant is not admitted.
        c.post(
            &format!("{path}/override"),
            &[
                ("application_id", &b.id.to_string()),
                ("result", "not_admitted"),
            ],
        )
        .await;
        let page = c.get(&path).await;
        let fingerprint = attr(&page, "#publish-form input[name=fingerprint]", "value");
        assert!(!fingerprint.is_empty());
        let before: Vec<usize> = message_counts(&app, &s.nominees).await;

        let r = c
            .post(
                &format!("{path}/publish"),
                &[("fingerprint", fingerprint.as_str())],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        assert_eq!(
            status_of(&app, a.id).await,
            (Status::AdmittedFirstChoice, Some(s.first))
        );
        assert_eq!(status_of(&app, b.id).await, (Status::NotAdmitted, None));
        assert_eq!(
            status_of(&app, x.id).await,
            (Status::AdmittedSecondChoice, Some(s.second))
        );
        let last = |h: Vec<(String, String)>| h.last().cloned().unwrap();
        assert_eq!(
            last(history_of(&app, a.id).await).0,
            "publish_allocation.first_choice"
        );
        assert_eq!(
            last(history_of(&app, b.id).await).0,
            "publish_allocation.not_admitted"
        );
        let third = last(history_of(&app, x.id).await);
        assert_eq!(third.0, "publish_allocation.second_choice");
        assert_eq!(
            third.1, "第一志愿名额已满，按第二志愿录取",
            "the explanation is the opinion"
        );
        let after: Vec<usize> = message_counts(&app, &s.nominees).await;
        for (i, n) in s.nominees.iter().enumerate() {
            assert_eq!(after[i], before[i] + 1, "one message for {}", n.id);
        }
        assert!(
            messages_of(&app, x.student_id)
                .await
                .last()
                .unwrap()
                .1
                .contains("第二志愿被录取")
        );
        let page = c.get(&path).await;
        assert!(
            page.text().contains("已发布 3 条录取结果"),
            "the flash says how many"
        );
        assert!(!page.select("#published").is_empty());
        assert!(page.text().contains("本项目暂无"));

        // Publishing the same preview again decides nothing twice.
        let history: usize = {
            let mut n = 0;
            for x in &s.nominees {
                n += history_of(&app, x.id).await.len();
            }
            n
        };
        let r = c
            .post(
                &format!("{path}/publish"),
                &[("fingerprint", fingerprint.as_str())],
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.text().contains("请刷新"));
        let mut again = 0;
        for x in &s.nominees {
            again += history_of(&app, x.id).await.len();
        }
        assert_eq!(again, history);
        assert_eq!(message_counts(&app, &s.nominees).await, after);
    }
);

both!(
    a_stale_preview_is_not_published_and_places_already_taken_count,
    with_demo,
    |app| {
        let s = setup(&app).await;
        let (a, b, x) = (&s.nominees[0], &s.nominees[1], &s.nominees[2]);
        let mut c = officer(&app).await;
        let path = format!("/staff/admissions/programs/{}/allocation", s.program);
        let page = c.get(&path).await;
        let fingerprint = attr(&page, "#publish-form input[name=fingerprint]", "value");

        // Meanwhile the partner school's answer for the third is recorded one by one: it takes
        // the first school's only place.
        let list = c.get("/staff/admissions").await;
        let one = format!("{}:first_choice", pick_of(&list, x.id));
        let r = c
            .post("/staff/admissions/record", &[("one", one.as_str())])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);

        let r = c
            .post(
                &format!("{path}/publish"),
                &[("fingerprint", fingerprint.as_str())],
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(status_of(&app, a.id).await.0, Status::Nominated);

        // The fresh preview counts the place already taken.
        let page = c.get(&path).await;
        assert_eq!(cell(&page, a.id, "why"), "第一志愿名额已满，按第二志愿录取");
        assert!(cell(&page, b.id, "why").ends_with("待调剂"));
        let fingerprint = attr(&page, "#publish-form input[name=fingerprint]", "value");
        let r = c
            .post(
                &format!("{path}/publish"),
                &[("fingerprint", fingerprint.as_str())],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(
            status_of(&app, a.id).await,
            (Status::AdmittedSecondChoice, Some(s.second))
        );
        assert_eq!(
            status_of(&app, b.id).await,
            (Status::PendingAdjustment, None)
        );
        assert!(
            messages_of(&app, b.student_id)
                .await
                .last()
                .unwrap()
                .1
                .contains("待调剂")
        );
        // 待调剂 is listed for the office to record later.
        let list = c.get("/staff/admissions?status=pending_adjustment").await;
        assert!(!pick_of(&list, b.id).is_empty());
        assert!(pick_of(&list, a.id).is_empty());
    }
);

/// How many messages each nominee's student has.
async fn message_counts(app: &TestApp, nominees: &[Nominee]) -> Vec<usize> {
    let mut out = Vec::new();
    for n in nominees {
        out.push(messages_of(app, n.student_id).await.len());
    }
    out
}
