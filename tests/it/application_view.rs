//! The read side of one application (`services::application_view`), on both databases: what
//! each viewer may do, what each sees masked, who gets a 404, the labels of coded fields and
//! the history written in words; and over HTTP, that the student's page, the staff page and the
//! API show the same actions and the same masked values.

use axum::http::StatusCode;
use outbound::domain::status::Action;
use outbound::i18n::Lang;
use outbound::services::ServiceError;
use outbound::services::application_view::{self as read, ApplicationView, Viewer};
use outbound::services::review::Reviewer;
use sea_query::{Expr, ExprTrait, Query};

use crate::both;
use crate::support::TestApp;

const STAFF: &str = "Staff@2026";
const STUDENT: &str = "Demo@2026";

/// A user id by name.
async fn user_id(app: &TestApp, username: &str) -> i64 {
    outbound::db::users::by_username(&app.state.db, username)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("demo user {username}"))
        .id
}

/// The newest application of a demo student.
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

async fn staff(app: &TestApp, username: &str) -> Viewer {
    let id = user_id(app, username).await;
    Viewer::Staff(Reviewer {
        user_id: id,
        roles: outbound::db::users::roles(&app.state.db, id)
            .await
            .unwrap()
            .0,
        college_ids: outbound::db::users::reviewer_colleges(&app.state.db, id)
            .await
            .unwrap(),
    })
}

async fn student(app: &TestApp, username: &str) -> Viewer {
    Viewer::Student {
        user_id: user_id(app, username).await,
    }
}

async fn view_as(app: &TestApp, viewer: &Viewer, id: i64) -> Result<ApplicationView, ServiceError> {
    read::view(&app.state.db, &app.state.key, viewer, id).await
}

/// The value of one 基本信息 field, in `lang`.
fn basic(v: &ApplicationView, field: &str, lang: Lang) -> String {
    v.basic
        .iter()
        .find(|f| f.name == field)
        .unwrap_or_else(|| panic!("{field} in 基本信息"))
        .value
        .get(lang)
        .to_owned()
}

both!(
    each_viewer_gets_the_actions_the_state_machine_allows_them,
    with_demo,
    |app| {
        // 2024010207 (外国语学院) submitted and waits on the college's review.
        let id = app_of(&app, "2024010207").await;
        let owner = view_as(&app, &student(&app, "2024010207").await, id)
            .await
            .unwrap();
        assert!(owner.may(Action::WithdrawForEdit), "{:?}", owner.actions);
        assert!(!owner.may(Action::Approve), "{:?}", owner.actions);

        let college = view_as(&app, &staff(&app, "wxy_reviewer").await, id)
            .await
            .unwrap();
        for a in [Action::Approve, Action::Reject, Action::ReturnForRevision] {
            assert!(college.may(a), "{a:?} in {:?}", college.actions);
        }
        assert!(!college.may(Action::WithdrawForEdit));

        // The office does not decide the college's stage.
        let office = view_as(&app, &staff(&app, "gjc_officer").await, id)
            .await
            .unwrap();
        assert!(!office.may(Action::Approve), "{:?}", office.actions);
        assert_eq!(
            owner.stage_name().zh,
            college.stage_name().zh,
            "one current stage for every viewer"
        );
        assert!(!owner.stage_name().zh.is_empty());
    }
);

both!(
    an_application_outside_the_viewers_reach_is_not_found,
    with_demo,
    |app| {
        let id = app_of(&app, "2024010207").await;
        for viewer in [
            student(&app, "2023020105").await,
            staff(&app, "xx_reviewer").await,
        ] {
            assert!(
                matches!(
                    view_as(&app, &viewer, id).await,
                    Err(ServiceError::NotFound)
                ),
                "{viewer:?}"
            );
        }
        // A draft is the student's own business, even for the office.
        let draft = app_of(&app, "2023030112").await;
        assert!(matches!(
            view_as(&app, &staff(&app, "gjc_officer").await, draft).await,
            Err(ServiceError::NotFound)
        ));
        assert!(
            view_as(&app, &student(&app, "2023030112").await, draft)
                .await
                .is_ok()
        );
    }
);

both!(
    personal_numbers_are_masked_for_every_viewer_and_phones_for_reviewers_outside_the_office,
    with_demo,
    |app| {
        let id = app_of(&app, "2024010207").await;
        let owner = view_as(&app, &student(&app, "2024010207").await, id)
            .await
            .unwrap();
        let college = view_as(&app, &staff(&app, "wxy_reviewer").await, id)
            .await
            .unwrap();
        let office = view_as(&app, &staff(&app, "gjc_officer").await, id)
            .await
            .unwrap();
        let id_number = basic(&owner, "id_number", Lang::Zh);
        assert!(id_number.contains('*'), "{id_number}");
        assert_eq!(basic(&college, "id_number", Lang::Zh), id_number);
        assert_eq!(basic(&office, "id_number", Lang::Zh), id_number);
        for v in [&owner, &college, &office] {
            assert!(
                v.profile.passport_no.is_empty() || v.profile.passport_no.contains('*'),
                "{}",
                v.profile.passport_no
            );
        }

        let mobile = basic(&owner, "mobile", Lang::Zh);
        assert!(!mobile.is_empty() && !mobile.contains('*'), "{mobile}");
        assert_eq!(basic(&office, "mobile", Lang::Zh), mobile);
        let masked = basic(&college, "mobile", Lang::Zh);
        assert_eq!(masked, outbound::domain::redact::mobile(&mobile));
        assert_ne!(masked, mobile);

        // A draft's live profile is masked the same way.
        let draft = app_of(&app, "2023030112").await;
        let own = view_as(&app, &student(&app, "2023030112").await, draft)
            .await
            .unwrap();
        let shown = basic(&own, "id_number", Lang::Zh);
        assert!(shown.contains('*'), "{shown}");
        assert!(own.profile.health.is_empty() || own.profile.health == "***");
    }
);

/// The masked 证件号码 on a 基本信息 tab.
fn shown_value(page: &crate::support::Resp, label: &str) -> String {
    let html = page.html();
    let dt = scraper::Selector::parse("dl.kv dt").unwrap();
    let dd = scraper::Selector::parse("dl.kv dd").unwrap();
    let labels: Vec<String> = html.select(&dt).map(|e| e.text().collect()).collect();
    let values: Vec<String> = html.select(&dd).map(|e| e.text().collect()).collect();
    let i = labels
        .iter()
        .position(|l| l == label)
        .unwrap_or_else(|| panic!("{label} in {labels:?}"));
    values[i].clone()
}

both!(
    the_student_page_the_staff_page_and_the_api_show_the_same_actions_and_masked_values,
    with_demo,
    |app| {
        let id = app_of(&app, "2024010207").await;
        let mut me = app.signed_in("2024010207", STUDENT).await;
        let page = me.get(&format!("/applications/{id}?tab=basic")).await;
        assert_eq!(page.status, StatusCode::OK);
        let api = me.get(&format!("/api/v1/applications/{id}")).await;
        assert_eq!(api.status, StatusCode::OK, "{}", api.text());
        let json = api.json();
        let mut wxy = app.signed_in("wxy_reviewer", STAFF).await;
        let staff_page = wxy
            .get(&format!("/staff/applications/{id}?tab=basic"))
            .await;
        assert_eq!(staff_page.status, StatusCode::OK);

        let label = Lang::Zh.t("field.id_number");
        let on_page = shown_value(&page, label);
        assert!(on_page.contains('*'), "{on_page}");
        assert_eq!(shown_value(&staff_page, label), on_page);
        let in_api = json["basic"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == "id_number")
            .map(|f| f["value"].as_str().unwrap().to_owned());
        assert_eq!(in_api.as_deref(), Some(on_page.as_str()));

        // The actions: the API's list and the page's buttons come from the same view.
        let actions: Vec<String> = json["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["code"].as_str().unwrap().to_owned())
            .collect();
        let owner = view_as(&app, &student(&app, "2024010207").await, id)
            .await
            .unwrap();
        let expected: Vec<String> = owner.actions.iter().map(|a| a.code().to_owned()).collect();
        assert_eq!(actions, expected);
        let withdraw = page
            .html()
            .select(
                &scraper::Selector::parse(&format!("form[action='/applications/{id}/withdraw']"))
                    .unwrap(),
            )
            .count();
        assert_eq!(
            withdraw > 0,
            actions.contains(&"withdraw_for_edit".to_owned())
        );
        assert!(withdraw > 0);

        // The staff page offers the reviewer's decisions from the reviewer's view.
        let college = view_as(&app, &staff(&app, "wxy_reviewer").await, id)
            .await
            .unwrap();
        let sel = scraper::Selector::parse("input[name=decision]").unwrap();
        let mut offered: Vec<String> = staff_page
            .html()
            .select(&sel)
            .filter_map(|e| e.value().attr("value").map(str::to_owned))
            .collect();
        let mut decisions: Vec<String> = college
            .actions
            .iter()
            .filter(|a| {
                matches!(
                    a,
                    Action::Approve | Action::Reject | Action::ReturnForRevision
                )
            })
            .map(|a| a.code().to_owned())
            .collect();
        offered.sort();
        decisions.sort();
        assert!(!offered.is_empty());
        assert_eq!(offered, decisions);
    }
);

both!(
    coded_profile_fields_show_their_labels_in_the_viewers_language,
    with_demo,
    |app| {
        let id = app_of(&app, "2024010207").await;
        let v = view_as(&app, &staff(&app, "wxy_reviewer").await, id)
            .await
            .unwrap();
        assert_eq!(v.profile.political_status, "cyl_member");
        assert_eq!(basic(&v, "political_status", Lang::Zh), "共青团员");
        assert_eq!(
            basic(&v, "political_status", Lang::En),
            "Communist Youth League member"
        );

        // 申请查看 → 基本信息, for the student and for staff, in both languages.
        let mut me = app.signed_in("2024010207", STUDENT).await;
        let mut wxy = app.signed_in("wxy_reviewer", STAFF).await;
        for lang in ["zh", "en"] {
            for (c, path) in [
                (&mut me, format!("/applications/{id}?tab=basic")),
                (&mut wxy, format!("/staff/applications/{id}?tab=basic")),
            ] {
                c.cookies.insert("outbound_lang".into(), lang.into());
                let page = c.get(&path).await;
                assert_eq!(page.status, StatusCode::OK);
                let shown = page.select("dl.kv dd").join(" | ");
                assert!(!shown.contains("cyl_member"), "{lang} {path}: {shown}");
                let label = if lang == "zh" {
                    "共青团员"
                } else {
                    "Communist Youth League member"
                };
                assert!(shown.contains(label), "{lang} {path}: {shown}");
            }
        }
    }
);

/// Writes one history row as the services do.
async fn add_history(
    app: &TestApp,
    id: i64,
    action: &str,
    to: outbound::domain::Status,
    stage: &str,
    opinion: &str,
) {
    let officer = user_id(app, "gjc_officer").await;
    let mut tx = app.state.db.begin().await.unwrap();
    outbound::services::applications::history(
        &mut tx,
        id,
        action,
        Some(to),
        to,
        stage,
        &outbound::services::audit::Who::user(officer, "何静"),
        opinion,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// The history line a view shows for the row with this action, the last one.
fn line<'a>(v: &'a ApplicationView, action: &str) -> &'a read::HistoryLine {
    v.history
        .iter()
        .rev()
        .find(|h| h.row.action == action)
        .unwrap_or_else(|| panic!("a {action} line"))
}

both!(
    history_lines_read_as_a_person_would_say_them_in_both_languages,
    with_demo,
    |app| {
        // 2023020105 passed the college's review and waits on the office.
        let id = app_of(&app, "2023020105").await;
        let owner = student(&app, "2023020105").await;
        let v = view_as(&app, &owner, id).await.unwrap();
        let approved = line(&v, "approve");
        let stage = v
            .workflow
            .as_ref()
            .unwrap()
            .stages()
            .iter()
            .find(|s| s.name_zh == approved.row.stage_name)
            .expect("the stage of the decision")
            .clone();
        let who = &approved.row.actor_name;
        assert_eq!(approved.text.zh, format!("{} 通过（{who}）", stage.name_zh));
        assert_eq!(
            approved.text.en,
            format!("{}: approved ({who})", stage.name_en)
        );
        for h in &v.history {
            assert!(!h.text.zh.contains('→') && !h.text.en.contains('→'));
        }

        // 补录分数 is the score, not an opinion.
        let status = v.status;
        add_history(&app, id, "backfill_score", status, "", "560").await;
        let v = view_as(&app, &owner, id).await.unwrap();
        let backfilled = line(&v, "backfill_score");
        assert_eq!(backfilled.text.zh, "补录分数：560");
        assert_eq!(backfilled.text.en, "Pending score filled in: 560");
        assert!(backfilled.opinion.is_empty());

        // An admission names the result and the school, old Chinese rows included.
        let school = outbound::db::programs::partner_schools(&app.state.db, v.app.program_id)
            .await
            .unwrap()
            .into_iter()
            .next()
            .expect("a partner school");
        let admitted = outbound::domain::Status::AdmittedFirstChoice;
        add_history(
            &app,
            id,
            "record_admission.first_choice",
            admitted,
            "录取",
            &format!("录取学校：{}", school.name_zh),
        )
        .await;
        let v = view_as(&app, &owner, id).await.unwrap();
        let result = line(&v, "record_admission.first_choice");
        assert_eq!(
            result.text.zh,
            format!("录取结果：第一志愿被录取（{}）", school.name_zh)
        );
        assert_eq!(
            result.text.en,
            format!(
                "Admission result: {} ({})",
                Lang::En.t(admitted.label_key()),
                Lang::En.pick(&school.name_zh, &school.name_en)
            )
        );
        assert!(result.opinion.is_empty());
    }
);

both!(
    stage_names_system_opinions_and_messages_follow_the_readers_language,
    with_demo,
    |app| {
        let id = app_of(&app, "2023020105").await;
        let v = view_as(&app, &student(&app, "2023020105").await, id)
            .await
            .unwrap();
        let stage = v.stage.clone().expect("a current stage");
        assert!(!stage.name_en.is_empty() && stage.name_en != stage.name_zh);
        assert_eq!(v.stage_name().en, stage.name_en);

        // The page and the API in English name the stage in English.
        let mut me = app.signed_in("2023020105", STUDENT).await;
        me.cookies.insert("outbound_lang".into(), "en".into());
        let page = me.get(&format!("/applications/{id}")).await;
        assert!(page.text().contains(&stage.name_en), "{}", page.text());
        let api = me.get(&format!("/api/v1/applications/{id}")).await.json();
        assert_eq!(api["stage"], stage.name_en.as_str());
        let history = page.select(".timeline .tl-head").join(" | ");
        assert!(!history.contains("学院审核"), "{history}");

        // A system-written opinion is stored as a phrase and read in each language.
        let stored = outbound::i18n::Phrase::new(
            "adm.history.school",
            vec![outbound::i18n::Text::names(
                "东京大学",
                "The University of Tokyo",
            )],
        )
        .store();
        let read = outbound::i18n::Phrase::read(&stored);
        assert_eq!(read.zh, "录取学校：东京大学");
        assert_eq!(read.en, "Admitted to The University of Tokyo");
        assert_eq!(outbound::i18n::Phrase::read("同意推荐").en, "同意推荐");

        // The message centre: the review's message in English, in Chinese when asked so.
        let english = me.get("/messages").await;
        let shown = english.select(".message-list li").join(" | ");
        assert!(shown.contains("Review result"), "{shown}");
        assert!(!shown.contains("审核结果"), "{shown}");
        me.cookies.insert("outbound_lang".into(), "zh".into());
        let chinese = me.get("/messages").await;
        let shown = chinese.select(".message-list li").join(" | ");
        assert!(shown.contains("审核结果"), "{shown}");
    }
);
