//! 项目管理 and the workflow-template editor through HTTP, on both databases: the office's
//! program life (create, schools, attachment types, publish, close, copy), field errors and
//! stale forms, the partner's approval flow, who may enter at all, and versioned workflows.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use sea_query::{Expr, ExprTrait, Order, Query};

use crate::both;
use crate::journey::{attr, fill, start, submit};
use crate::support::{Client, Resp, TestApp};

const STAFF: &str = "Staff@2026";
const STUDENT: &str = "2023010101";
const STUDENT_PASSWORD: &str = "Demo@2026";

/// A moment `days` from now as the form's `datetime-local` value (China time).
fn china_minute(days: i64) -> String {
    (Utc::now() + Duration::hours(8) + Duration::days(days))
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

fn this_year() -> i64 {
    i64::from(chrono::Datelike::year(&(Utc::now() + Duration::hours(8))))
}

/// A complete program form, open from yesterday for a month, for everyone.
fn program_form(name: &str) -> Vec<(String, String)> {
    [
        ("name_zh", name.to_owned()),
        ("name_en", format!("{name} (EN)")),
        ("year", this_year().to_string()),
        ("semesters", "autumn".into()),
        ("start_date", format!("{}-09-01", this_year())),
        ("end_date", format!("{}-01-31", this_year() + 1)),
        ("duration", "一学期".into()),
        ("nature", "school_public".into()),
        ("region_kind", "international".into()),
        ("country", "GB".into()),
        ("program_type", "semester_exchange".into()),
        ("fee_mode", "waived".into()),
        ("term", "long".into()),
        ("teaching_mode", "offline".into()),
        ("host_unit", "国际交流与合作处".into()),
        ("reg_start", china_minute(-1)),
        ("reg_end", china_minute(30)),
        ("min_gpa", "2.5".into()),
        ("workflow_code", "semester_exchange".into()),
        ("notice", "请如实填写。".into()),
        ("active", "1".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn as_refs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// The program id in a `/staff/programs/{id}` address.
fn id_in(location: &str) -> i64 {
    location
        .trim_start_matches("/staff/programs/")
        .split(['#', '/', '?'])
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a program address: {location}"))
}

async fn create(c: &mut Client, fields: &[(String, String)]) -> i64 {
    let r = c.post("/staff/programs/new", &as_refs(fields)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    id_in(&r.location())
}

/// The version the program form carries now.
async fn version(c: &mut Client, id: i64) -> String {
    let page = c.get(&format!("/staff/programs/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    attr(&page, "#program-form input[name=version]", "value")
}

async fn add_school(c: &mut Client, id: i64, name: &str, quota: &str) {
    let v = version(c, id).await;
    let r = c
        .post(
            &format!("/staff/programs/{id}/schools/new"),
            &[
                ("version", &v),
                ("name_zh", name),
                ("name_en", "Partner University"),
                ("country", "GB"),
                ("quota", quota),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
}

async fn add_type(c: &mut Client, id: i64, name: &str) {
    let v = version(c, id).await;
    let r = c
        .post(
            &format!("/staff/programs/{id}/types/new"),
            &[
                ("version", &v),
                ("name_zh", name),
                ("required", "1"),
                ("hint", "扫描件"),
                ("formats", "pdf"),
                ("formats", "jpg"),
                ("max_mb", "5"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
}

/// Posts a lifecycle button with the current version; returns the response.
async fn act(c: &mut Client, id: i64, action: &str, extra: &[(&str, &str)]) -> Resp {
    let v = version(c, id).await;
    let mut fields = vec![("version", v.as_str())];
    fields.extend_from_slice(extra);
    c.post(&format!("/staff/programs/{id}/{action}"), &fields)
        .await
}

/// A flash shown after a redirect.
async fn flash_after(c: &mut Client, r: &Resp) -> String {
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let page = c.get(&r.location()).await;
    page.select(".flash").join(" ")
}

/// An office program with two partner schools and two required attachment types.
async fn full_program(c: &mut Client, name: &str) -> i64 {
    let id = create(c, &program_form(name)).await;
    add_school(c, id, "牛津大学", "2").await;
    add_school(c, id, "剑桥大学", "1").await;
    add_type(c, id, "中文成绩单").await;
    add_type(c, id, "外语水平证明").await;
    id
}

async fn count(app: &TestApp, table: &str, column: &str, value: i64) -> i64 {
    app.state
        .db
        .count(
            &Query::select()
                .expr(Expr::col("id").count())
                .from(table.to_owned())
                .and_where(Expr::col(column.to_owned()).eq(value))
                .to_owned(),
        )
        .await
        .unwrap()
}

async fn status_of(app: &TestApp, id: i64) -> String {
    app.state
        .db
        .scalar::<String>(
            &Query::select()
                .column("status")
                .from("programs")
                .and_where(Expr::col("id").eq(id))
                .to_owned(),
        )
        .await
        .unwrap()
        .unwrap()
}

fn catalogue_names(r: &Resp) -> Vec<String> {
    r.select(".programs-table td.wrap a")
}

both!(
    the_office_creates_a_program_with_schools_and_types_and_students_see_it_once_published,
    with_demo,
    |app| {
        let mut office = app.signed_in("gjc_officer", STAFF).await;
        let id = full_program(&mut office, "测试交换项目甲").await;
        let page = office.get(&format!("/staff/programs/{id}")).await;
        assert_eq!(page.select("#schools tbody tr").len(), 2);
        assert_eq!(page.select("#types tbody tr").len(), 2);
        assert!(page.select("#status").join("").contains("草稿"));

        let mut student = app.signed_in(STUDENT, STUDENT_PASSWORD).await;
        assert_eq!(
            student.get(&format!("/programs/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
        let list = student.get("/programs?keyword=测试交换项目甲").await;
        assert!(catalogue_names(&list).is_empty(), "a draft is not listed");

        let r = act(&mut office, id, "publish", &[]).await;
        assert!(flash_after(&mut office, &r).await.contains("项目已发布"));
        assert_eq!(status_of(&app, id).await, "published");

        let list = student.get("/programs?keyword=测试交换项目甲").await;
        assert_eq!(catalogue_names(&list), vec!["测试交换项目甲"]);
        assert_eq!(
            list.select(&format!("a[href=\"/programs/{id}/apply\"]"))
                .len(),
            1
        );
        let detail = student.get(&format!("/programs/{id}")).await;
        assert!(detail.text().contains("牛津大学") && detail.text().contains("外语水平证明"));

        let staff_list = office.get("/staff/programs?keyword=测试交换项目甲").await;
        assert_eq!(staff_list.select("#programs tbody tr").len(), 1);
        assert!(
            staff_list
                .select("#programs .status")
                .join("")
                .contains("已发布")
        );
        // Every change left an audit row: create, 2 schools, 2 types, publish.
        let audited = app
            .state
            .db
            .count(
                &Query::select()
                    .expr(Expr::col("id").count())
                    .from("audit_log")
                    .and_where(Expr::col("target").eq(format!("program:{id}")))
                    .to_owned(),
            )
            .await
            .unwrap();
        assert_eq!(audited, 6);
    }
);

both!(
    invalid_fields_are_shown_beside_each_field_with_the_input_kept,
    with_demo,
    |app| {
        let mut office = app.signed_in("gjc_officer", STAFF).await;
        let mut fields = program_form("保留的项目名称");
        for (k, v) in fields.iter_mut() {
            match k.as_str() {
                "name_zh" => *v = String::new(),
                "name_en" => *v = "Kept English Name".into(),
                "reg_start" => *v = china_minute(10),
                "reg_end" => *v = china_minute(1),
                "min_gpa" => *v = "6".into(),
                _ => {}
            }
        }
        fields.push(("code".into(), "bad code!".into()));
        fields.push(("levels".into(), "kindergarten".into()));
        let r = office.post("/staff/programs/new", &as_refs(&fields)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.select("#f-name_zh-error"), vec!["请填写必填项目"]);
        assert_eq!(
            r.select("#f-reg_end-error"),
            vec!["申报结束时间须晚于申报开始时间"]
        );
        assert!(!r.select("#f-min_gpa-error").is_empty());
        assert!(!r.select("#f-code-error").is_empty());
        assert!(!r.select("#f-levels-error").is_empty());
        assert_eq!(attr(&r, "#f-name_en", "value"), "Kept English Name");
        assert_eq!(attr(&r, "#f-code", "value"), "bad code!");
        assert_eq!(attr(&r, "#f-reg_start", "value"), china_minute(10));
        assert_eq!(
            r.select("#errors li").len(),
            5,
            "{:?}",
            r.select("#errors li")
        );

        // A school's quota and an attachment type's size are checked the same way.
        let id = create(&mut office, &program_form("字段校验项目")).await;
        let v = version(&mut office, id).await;
        let r = office
            .post(
                &format!("/staff/programs/{id}/schools/new"),
                &[("version", &v), ("name_zh", "东京大学"), ("quota", "-1")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            r.select("#f-quota-error"),
            vec!["推荐名额须为不小于 0 的整数"]
        );
        assert_eq!(attr(&r, "#f-name_zh", "value"), "东京大学");
        let r = office
            .post(
                &format!("/staff/programs/{id}/types/new"),
                &[("version", &v), ("name_zh", "护照首页"), ("max_mb", "30")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.select("#f-max_mb-error")[0].contains("25 MB"));
        assert!(r.select("#f-formats-error")[0].contains("至少选择一种"));
        assert_eq!(attr(&r, "#f-name_zh", "value"), "护照首页");
        assert_eq!(count(&app, "partner_schools", "program_id", id).await, 0);

        // Publishing without any partner school is refused with the reason.
        let r = act(&mut office, id, "publish", &[]).await;
        assert!(flash_after(&mut office, &r).await.contains("合作院校"));
        assert_eq!(status_of(&app, id).await, "draft");
    }
);

both!(
    a_stale_program_form_gets_a_conflict_with_the_input_kept,
    with_demo,
    |app| {
        let mut office = app.signed_in("gjc_officer", STAFF).await;
        let mut other = app.signed_in("admin", STAFF).await;
        let id = create(&mut office, &program_form("并发编辑项目")).await;
        let seen = version(&mut office, id).await;

        let mut theirs = program_form("他人的修改");
        theirs.push(("version".into(), version(&mut other, id).await));
        let r = other
            .post(&format!("/staff/programs/{id}"), &as_refs(&theirs))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

        let mut mine = program_form("我的修改");
        mine.push(("version".into(), seen.clone()));
        let r = office
            .post(&format!("/staff/programs/{id}"), &as_refs(&mine))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.select("#conflict")[0].contains("已被他人修改"));
        assert_eq!(attr(&r, "#f-name_zh", "value"), "我的修改");
        let current = attr(&r, "#program-form input[name=version]", "value");
        assert_ne!(current, seen, "the page now carries the current version");
        let name: String = app
            .state
            .db
            .scalar(
                &Query::select()
                    .column("name_zh")
                    .from("programs")
                    .and_where(Expr::col("id").eq(id))
                    .to_owned(),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(name, "他人的修改", "nothing was overwritten");

        // A stale button is refused too.
        let r = office
            .post(
                &format!("/staff/programs/{id}/schools/new"),
                &[("version", &seen), ("name_zh", "x"), ("quota", "1")],
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        // Saving again from the redrawn page is a conscious overwrite.
        mine.retain(|(k, _)| k != "version");
        mine.push(("version".into(), current));
        let r = office
            .post(&format!("/staff/programs/{id}"), &as_refs(&mine))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
);

both!(
    copying_makes_next_years_draft_with_the_schools_types_and_rules,
    with_demo,
    |app| {
        let mut office = app.signed_in("gjc_officer", STAFF).await;
        let year = this_year() - 1;
        let mut fields = program_form(&format!("{year}年秋季学期复制测试项目"));
        for (k, v) in fields.iter_mut() {
            match k.as_str() {
                "year" => *v = year.to_string(),
                "reg_start" => *v = format!("{year}-03-01T09:00"),
                "reg_end" => *v = format!("{year}-03-31T17:00"),
                "start_date" => *v = format!("{year}-09-01"),
                _ => {}
            }
        }
        fields.push(("levels".into(), "undergraduate".into()));
        fields.push(("grades".into(), "2023, 2024".into()));
        let id = create(&mut office, &fields).await;
        add_school(&mut office, id, "爱丁堡大学", "3").await;
        add_school(&mut office, id, "曼彻斯特大学", "0").await;
        add_type(&mut office, id, "中文成绩单").await;

        let r = act(&mut office, id, "copy", &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let copy = id_in(&r.location());
        assert_ne!(copy, id);
        let page = office.get(&r.location()).await;
        assert!(page.select(".flash").join("").contains("已复制"));
        assert_eq!(attr(&page, "#f-year", "value"), (year + 1).to_string());
        assert_eq!(
            attr(&page, "#f-name_zh", "value"),
            format!("{}年秋季学期复制测试项目", year + 1)
        );
        assert_eq!(
            attr(&page, "#f-reg_start", "value"),
            format!("{}-03-01T09:00", year + 1)
        );
        assert_eq!(
            attr(&page, "#f-reg_end", "value"),
            format!("{}-03-31T17:00", year + 1)
        );
        assert_eq!(
            attr(&page, "#f-start_date", "value"),
            format!("{}-09-01", year + 1)
        );
        assert_eq!(attr(&page, "#f-grades", "value"), "2023, 2024");
        assert_eq!(attr(&page, "#f-min_gpa", "value"), "2.5");
        assert_eq!(
            page.select("input[name=levels][value=undergraduate][checked]")
                .len(),
            1
        );
        assert!(page.select("#status").join("").contains("草稿"));
        assert_eq!(page.select("#schools tbody tr").len(), 2);
        assert!(page.select("#schools").join("").contains("爱丁堡大学"));
        assert_eq!(page.select("#types tbody tr").len(), 1);
        assert_eq!(count(&app, "applications", "program_id", copy).await, 0);
        assert_eq!(status_of(&app, copy).await, "draft");
        // The original is untouched.
        assert_eq!(count(&app, "partner_schools", "program_id", id).await, 2);
    }
);

both!(
    closing_a_program_stops_new_applications_and_submits,
    with_demo,
    |app| {
        let mut office = app.signed_in("gjc_officer", STAFF).await;
        let id = full_program(&mut office, "关闭报名测试项目").await;
        let r = act(&mut office, id, "publish", &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);

        let mut student = app.signed_in(STUDENT, STUDENT_PASSWORD).await;
        let app_id = start(&mut student, id).await;
        fill(&mut student, app_id, "560", usize::MAX).await;

        // A school an application chose, and a type with uploaded files, stay; the clerk is
        // told why.
        let page = office.get(&format!("/staff/programs/{id}")).await;
        let school = attr(&page, "#schools tbody tr", "data-school");
        let r = act(&mut office, id, &format!("schools/{school}/delete"), &[]).await;
        assert!(
            flash_after(&mut office, &r)
                .await
                .contains("已有申请选择了该院校")
        );
        let kind = attr(&page, "#types tbody tr", "data-type");
        let r = act(&mut office, id, &format!("types/{kind}/delete"), &[]).await;
        assert!(
            flash_after(&mut office, &r)
                .await
                .contains("已有学生上传了该类附件")
        );
        assert_eq!(count(&app, "partner_schools", "program_id", id).await, 2);
        assert_eq!(count(&app, "attachment_types", "program_id", id).await, 2);

        let r = act(&mut office, id, "close", &[]).await;
        assert!(flash_after(&mut office, &r).await.contains("已关闭报名"));
        assert_eq!(status_of(&app, id).await, "closed");

        let detail = student.get(&format!("/programs/{id}")).await;
        assert_eq!(
            detail.status,
            StatusCode::OK,
            "a closed program stays visible"
        );
        assert!(
            detail
                .select(&format!("a[href=\"/programs/{id}/apply\"]"))
                .is_empty()
        );
        let list = student.get("/programs?keyword=关闭报名测试项目").await;
        assert!(
            list.select(&format!("a[href=\"/programs/{id}/apply\"]"))
                .is_empty()
        );
        assert!(list.text().contains("已截止"));
        let r = student.get(&format!("/programs/{id}/apply")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location(), format!("/programs/{id}"));

        // The draft started before closing cannot be submitted any more.
        let check = student.get(&format!("/applications/{app_id}/submit")).await;
        let v = attr(&check, "input[name=version]", "value");
        let r = student
            .post(
                &format!("/applications/{app_id}/submit"),
                &[("version", &v)],
            )
            .await;
        assert_ne!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let status: String = app
            .state
            .db
            .scalar(
                &Query::select()
                    .column("status")
                    .from("applications")
                    .and_where(Expr::col("id").eq(app_id))
                    .to_owned(),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status, "draft");
        // Unpublishing is refused while applications are in flight only; here it is a draft.
        let r = act(&mut office, id, "unpublish", &[]).await;
        assert!(
            flash_after(&mut office, &r)
                .await
                .contains("不能进行此操作")
        );
    }
);

both!(
    a_partners_program_is_invisible_until_approved_and_a_refused_one_stays_invisible,
    with_demo,
    |app| {
        let mut partner = app.signed_in("partner_demo", STAFF).await;
        let menu = partner.get("/staff/programs").await;
        assert_eq!(menu.status, StatusCode::OK);
        assert!(menu.select("nav a[href=\"/staff/programs\"]").len() == 1);
        let id = create(&mut partner, &program_form("合作方暑期项目")).await;
        add_school(&mut partner, id, "伦敦国王学院", "10").await;
        let r = act(&mut partner, id, "submit", &[]).await;
        assert!(
            flash_after(&mut partner, &r)
                .await
                .contains("已提交国际处审核")
        );
        assert_eq!(status_of(&app, id).await, "pending_approval");
        // Once submitted the partner can no longer change it.
        let page = partner.get(&format!("/staff/programs/{id}")).await;
        assert!(!page.select("#locked").is_empty());
        let mut fields = program_form("偷偷修改");
        fields.push(("version".into(), version(&mut partner, id).await));
        let r = partner
            .post(&format!("/staff/programs/{id}"), &as_refs(&fields))
            .await;
        assert!(
            flash_after(&mut partner, &r)
                .await
                .contains("合作方不能再修改")
        );

        let mut student = app.signed_in(STUDENT, STUDENT_PASSWORD).await;
        let invisible = |r: &Resp| r.status == StatusCode::NOT_FOUND;
        assert!(invisible(&student.get(&format!("/programs/{id}")).await));

        let mut office = app.signed_in("gjc_officer", STAFF).await;
        let pending = office.get("/staff/programs?status=pending_approval").await;
        assert!(
            pending
                .select("#programs")
                .join("")
                .contains("合作方暑期项目")
        );
        assert!(
            !office
                .get("/staff/programs")
                .await
                .select("#pending-note")
                .is_empty()
        );

        // A refusal needs a reason, shown beside its box.
        let r = act(&mut office, id, "refuse", &[("reason", " ")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.select("#f-reason-error"), vec!["请填写必填项目"]);
        let r = act(&mut office, id, "refuse", &[("reason", "缺少费用说明")]).await;
        assert!(flash_after(&mut office, &r).await.contains("已退回合作方"));
        assert_eq!(status_of(&app, id).await, "refused");
        assert!(invisible(&student.get(&format!("/programs/{id}")).await));
        assert!(catalogue_names(&student.get("/programs?keyword=合作方暑期项目").await).is_empty());

        let page = partner.get(&format!("/staff/programs/{id}")).await;
        assert!(page.select("#refusal").join("").contains("缺少费用说明"));
        let inbox = partner.get("/messages").await;
        assert!(inbox.text().contains("项目审核未通过"));

        // Fixed and resubmitted, then approved: now students see it.
        let mut fields = program_form("合作方暑期项目");
        fields.push(("fee".into(), "38000 元".into()));
        fields.push(("version".into(), version(&mut partner, id).await));
        let r = partner
            .post(&format!("/staff/programs/{id}"), &as_refs(&fields))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let r = act(&mut partner, id, "submit", &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(invisible(&student.get(&format!("/programs/{id}")).await));
        let r = act(&mut office, id, "approve", &[]).await;
        assert!(flash_after(&mut office, &r).await.contains("已审核通过"));
        let detail = student.get(&format!("/programs/{id}")).await;
        assert_eq!(detail.status, StatusCode::OK);
        assert!(detail.text().contains("【合作方】"));
    }
);

/// A second partner account, signed in.
async fn other_partner(app: &TestApp) -> Client {
    let hash = outbound::auth::password::hash(STAFF);
    let mut tx = app.state.db.begin().await.unwrap();
    let id = tx
        .insert_id(
            Query::insert()
                .into_table("users")
                .columns(["username", "display_name", "password_hash", "created_at"])
                .values_panic([
                    "partner_two".into(),
                    "第二合作方".into(),
                    hash.into(),
                    Utc::now().into(),
                ]),
        )
        .await
        .unwrap();
    tx.insert(
        Query::insert()
            .into_table("user_roles")
            .columns(["user_id", "role"])
            .values_panic([id.into(), "partner".into()]),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    app.signed_in("partner_two", STAFF).await
}

both!(
    a_partner_cannot_see_or_change_another_partners_or_the_schools_programs,
    with_demo,
    |app| {
        let mut partner = app.signed_in("partner_demo", STAFF).await;
        let own = create(&mut partner, &program_form("合作方自有项目")).await;
        let mut office = app.signed_in("gjc_officer", STAFF).await;
        let school = create(&mut office, &program_form("学校自有项目")).await;
        let mut two = other_partner(&app).await;

        // The other partner's list holds none of them, and each id is "not found".
        let list = two.get("/staff/programs").await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.select("#programs tbody tr").is_empty());
        let own_list = partner.get("/staff/programs").await;
        let names = own_list.select("#programs tbody td.wrap a").join(" ");
        assert!(
            names.contains("合作方自有项目") && !names.contains("学校自有项目"),
            "{names}"
        );
        for (mut c, id) in [
            (two.clone(), own),
            (two.clone(), school),
            (partner.clone(), school),
        ] {
            assert_eq!(
                c.get(&format!("/staff/programs/{id}")).await.status,
                StatusCode::NOT_FOUND
            );
            let mut fields = program_form("篡改");
            fields.push(("version".into(), "1".into()));
            let r = c
                .post(&format!("/staff/programs/{id}"), &as_refs(&fields))
                .await;
            assert_eq!(r.status, StatusCode::NOT_FOUND);
            let r = c
                .post(
                    &format!("/staff/programs/{id}/schools/new"),
                    &[("version", "1"), ("name_zh", "x"), ("quota", "1")],
                )
                .await;
            assert_eq!(r.status, StatusCode::NOT_FOUND);
            let r = c
                .post(&format!("/staff/programs/{id}/copy"), &[("version", "1")])
                .await;
            assert_eq!(r.status, StatusCode::NOT_FOUND);
        }
        // Office decisions are not the partner's, even on its own program.
        add_school(&mut partner, own, "国王学院", "1").await;
        for action in ["publish", "approve", "close", "unpublish", "refuse"] {
            let r = act(&mut partner, own, action, &[("reason", "x")]).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{action}");
        }
        assert_eq!(status_of(&app, own).await, "draft");
        assert_eq!(
            partner.get("/staff/workflows").await.status,
            StatusCode::FORBIDDEN
        );
        let name: String = app
            .state
            .db
            .scalar(
                &Query::select()
                    .column("name_zh")
                    .from("programs")
                    .and_where(Expr::col("id").eq(school))
                    .to_owned(),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(name, "学校自有项目");
    }
);

both!(
    non_office_staff_and_students_are_forbidden_on_every_route,
    with_demo,
    |app| {
        let row: (i64, i64, i64) = app
            .state
            .db
            .optional(
                &Query::select()
                    .column(("s", "program_id"))
                    .column(("s", "id"))
                    .column(("attachment_types", "id"))
                    .from_as("partner_schools", "s")
                    .inner_join(
                        "attachment_types",
                        Expr::col(("attachment_types", "program_id")).equals(("s", "program_id")),
                    )
                    .to_owned(),
            )
            .await
            .unwrap()
            .expect("a demo program with a school and an attachment type");
        let (p, s, t) = row;
        let gets = [
            "/staff/programs".to_owned(),
            "/staff/programs/new".into(),
            format!("/staff/programs/{p}"),
            format!("/staff/programs/{p}/schools/new"),
            format!("/staff/programs/{p}/schools/{s}"),
            format!("/staff/programs/{p}/types/new"),
            format!("/staff/programs/{p}/types/{t}"),
            "/staff/programs/999999".into(),
            "/staff/workflows".into(),
            "/staff/workflows/new".into(),
            "/staff/workflows/semester_exchange".into(),
        ];
        let mut posts: Vec<String> = [
            "publish",
            "unpublish",
            "close",
            "copy",
            "submit",
            "approve",
            "refuse",
            "schools/new",
            "types/new",
        ]
        .iter()
        .map(|a| format!("/staff/programs/{p}/{a}"))
        .collect();
        posts.extend([
            "/staff/programs/new".to_owned(),
            format!("/staff/programs/{p}"),
            format!("/staff/programs/{p}/schools/{s}"),
            format!("/staff/programs/{p}/schools/{s}/delete"),
            format!("/staff/programs/{p}/types/{t}"),
            format!("/staff/programs/{p}/types/{t}/delete"),
            "/staff/workflows/new".into(),
            "/staff/workflows/semester_exchange".into(),
        ]);
        for (user, password) in [
            ("wxy_reviewer", STAFF),
            ("jwc_officer", STAFF),
            ("wsb_officer", STAFF),
            (STUDENT, STUDENT_PASSWORD),
        ] {
            let mut c = app.signed_in(user, password).await;
            let home = c.get("/").await;
            assert!(
                home.select("nav a[href=\"/staff/programs\"]").is_empty(),
                "{user} has no menu entry"
            );
            for path in &gets {
                assert_eq!(
                    c.get(path).await.status,
                    StatusCode::FORBIDDEN,
                    "{user} GET {path}"
                );
            }
            for path in &posts {
                let r = c
                    .post(path, &[("version", "1"), ("name_zh", "x"), ("op", "save")])
                    .await;
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{user} POST {path}");
            }
        }
        let before = app
            .state
            .db
            .count(
                &Query::select()
                    .expr(Expr::col("id").count())
                    .from("workflow_templates")
                    .to_owned(),
            )
            .await
            .unwrap();
        assert_eq!(before, 5, "no template was written");
    }
);

/// The id and template of one demo application under review.
async fn demo_application(app: &TestApp, student: &str) -> (i64, i64) {
    app.state
        .db
        .optional::<(i64, i64)>(
            &Query::select()
                .column(("a", "id"))
                .column(("a", "workflow_template_id"))
                .from_as("applications", "a")
                .inner_join(
                    "users",
                    Expr::col(("users", "id")).equals(("a", "student_id")),
                )
                .and_where(Expr::col(("users", "username")).eq(student))
                .and_where(Expr::col(("a", "status")).eq("under_review"))
                .and_where(Expr::col(("a", "workflow_template_id")).is_not_null())
                .order_by(("a", "id"), Order::Asc)
                .to_owned(),
        )
        .await
        .unwrap()
        .expect("the demo student has an application under review")
}

/// The editor's form as posted: the page's names and rows, with `change` applied to the rows.
fn editor_fields(
    page: &Resp,
    change: impl Fn(usize, &str, String) -> String,
) -> Vec<(String, String)> {
    let mut out = vec![
        (
            "based_on".to_owned(),
            attr(page, "input[name=based_on]", "value"),
        ),
        ("name_zh".to_owned(), attr(page, "#f-name_zh", "value")),
        ("name_en".to_owned(), attr(page, "#f-name_en", "value")),
    ];
    let rows = page.select("#stages tbody tr").len();
    for i in 0..rows {
        for field in ["key", "name_zh", "name_en"] {
            let name = format!("stage_{i}_{field}");
            let v = attr(page, &format!("input[name={name}]"), "value");
            out.push((name, change(i, field, v)));
        }
        for field in ["role", "scope", "phase"] {
            let name = format!("stage_{i}_{field}");
            let v = attr(
                page,
                &format!("select[name={name}] option[selected]"),
                "value",
            );
            out.push((name, change(i, field, v)));
        }
    }
    out
}

both!(
    editing_a_workflow_makes_version_two_and_submitted_applications_keep_version_one,
    with_demo,
    |app| {
        const OWNER: &str = "2023020105";
        let (app_id, v1_id) = demo_application(&app, OWNER).await;
        let code: String = app
            .state
            .db
            .scalar(
                &Query::select()
                    .column("code")
                    .from("workflow_templates")
                    .and_where(Expr::col("id").eq(v1_id))
                    .to_owned(),
            )
            .await
            .unwrap()
            .unwrap();
        let mut office = app.signed_in("gjc_officer", STAFF).await;
        let list = office.get("/staff/workflows").await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(
            !list
                .select(&format!("#workflows tr[data-code={code}]"))
                .is_empty()
        );
        let page = office.get(&format!("/staff/workflows/{code}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(
            attr(&page, "input[name=stage_0_name_zh]", "value"),
            "学院审核"
        );

        // Version 2 renames every stage.
        let fields = editor_fields(&page, |_, field, v| {
            if field == "name_zh" {
                format!("{v}（新版）")
            } else {
                v
            }
        });
        let mut posted = as_refs(&fields);
        posted.push(("op", "save"));
        let r = office
            .post(&format!("/staff/workflows/{code}"), &posted)
            .await;
        assert!(flash_after(&mut office, &r).await.contains("第 2 版"));

        let page = office.get(&format!("/staff/workflows/{code}")).await;
        assert_eq!(
            attr(&page, "input[name=stage_0_name_zh]", "value"),
            "学院审核（新版）"
        );
        assert_eq!(page.select("#history tbody tr").len(), 2);
        let v1_in_flight = page.select("#history tr[data-version=\"1\"] .in-flight");
        assert!(
            v1_in_flight[0].parse::<i64>().unwrap() >= 1,
            "{v1_in_flight:?}"
        );
        // Saving the same stages again makes no version 3.
        let same = editor_fields(&page, |_, _, v| v);
        let mut posted = as_refs(&same);
        posted.push(("op", "save"));
        let r = office
            .post(&format!("/staff/workflows/{code}"), &posted)
            .await;
        assert!(flash_after(&mut office, &r).await.contains("未作修改"));
        // A form drawn from version 1 is stale now.
        let mut stale = fields.clone();
        stale.retain(|(k, _)| k != "based_on");
        stale.push(("based_on".into(), "1".into()));
        let mut posted = as_refs(&stale);
        posted.push(("op", "save"));
        let r = office
            .post(&format!("/staff/workflows/{code}"), &posted)
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(
            attr(&r, "input[name=stage_0_name_zh]", "value"),
            "学院审核（新版）"
        );

        // The application submitted under version 1 keeps version 1 and its stage names.
        let held: i64 = app
            .state
            .db
            .scalar(
                &Query::select()
                    .column("workflow_template_id")
                    .from("applications")
                    .and_where(Expr::col("id").eq(app_id))
                    .to_owned(),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(held, v1_id);
        let mut owner = app.signed_in(OWNER, STUDENT_PASSWORD).await;
        let view = owner.get(&format!("/applications/{app_id}")).await;
        assert!(view.text().contains("审核"));
        assert!(!view.text().contains("（新版）"), "version 1's stage names");

        // A new submission takes version 2.
        let mut fields = program_form("新版流程测试项目");
        for (k, v) in fields.iter_mut() {
            if k == "workflow_code" {
                *v = code.clone();
            }
        }
        let id = create(&mut office, &fields).await;
        add_school(&mut office, id, "牛津大学", "2").await;
        add_school(&mut office, id, "剑桥大学", "1").await;
        add_type(&mut office, id, "中文成绩单").await;
        add_type(&mut office, id, "外语水平证明").await;
        let r = act(&mut office, id, "publish", &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let mut student = app.signed_in(STUDENT, STUDENT_PASSWORD).await;
        let new_app = start(&mut student, id).await;
        fill(&mut student, new_app, "560", usize::MAX).await;
        submit(&mut student, new_app).await;
        let view = student.get(&format!("/applications/{new_app}")).await;
        assert!(view.text().contains("学院审核（新版）"));
        let version: i64 = app
            .state
            .db
            .scalar(
                &Query::select()
                    .column(("workflow_templates", "version"))
                    .from_as("applications", "a")
                    .inner_join(
                        "workflow_templates",
                        Expr::col(("workflow_templates", "id"))
                            .equals(("a", "workflow_template_id")),
                    )
                    .and_where(Expr::col(("a", "id")).eq(new_app))
                    .to_owned(),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(version, 2);
        // Unpublishing is refused now that an application is in flight.
        let r = act(&mut office, id, "unpublish", &[]).await;
        assert!(flash_after(&mut office, &r).await.contains("不能撤回发布"));
        assert_eq!(status_of(&app, id).await, "published");
    }
);

both!(
    invalid_stage_lists_are_refused_with_the_catalogue_message,
    with_demo,
    |app| {
        let mut office = app.signed_in("gjc_officer", STAFF).await;
        let page = office.get("/staff/workflows/short_term").await;
        // The office stage limited to one college: refused beside that row's scope.
        let fields = editor_fields(&page, |i, field, v| {
            if i == 1 && field == "scope" {
                "college".into()
            } else {
                v
            }
        });
        let mut posted = as_refs(&fields);
        posted.push(("op", "save"));
        let r = office.post("/staff/workflows/short_term", &posted).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.select("#stages tr[data-stage=\"1\"] .field-error")[0]
                .contains("只有学院审核员的环节可以限定为本学院")
        );
        assert_eq!(
            attr(&r, "select[name=stage_1_scope] option[selected]", "value"),
            "college"
        );

        // Stages out of phase order.
        let fields = editor_fields(&page, |i, field, v| {
            if i == 0 && field == "phase" {
                "return".into()
            } else {
                v
            }
        });
        let mut posted = as_refs(&fields);
        posted.push(("op", "save"));
        let r = office.post("/staff/workflows/short_term", &posted).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.text()
                .contains("审核环节须按申请审核、行前审核、返校审核的顺序排列")
        );
        let history = office.get("/staff/workflows/short_term").await;
        assert_eq!(
            history.select("#history tbody tr").len(),
            1,
            "no version was made"
        );

        // Moving a row redraws the editor without saving.
        let fields = editor_fields(&page, |_, _, v| v);
        let mut posted = as_refs(&fields);
        posted.push(("op", "down:0"));
        let r = office.post("/staff/workflows/short_term", &posted).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(attr(&r, "input[name=stage_1_name_zh]", "value"), "学院审核");

        // A new template without an application-review stage.
        let r = office
            .post(
                "/staff/workflows/new",
                &[
                    ("code", "visits_only"),
                    ("name_zh", "仅行前审核"),
                    ("stage_0_name_zh", "外事审核"),
                    ("stage_0_role", "foreign_affairs"),
                    ("stage_0_scope", "all"),
                    ("stage_0_phase", "pre_departure"),
                    ("op", "save"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            r.select("#f-stages-error"),
            vec!["审核流程至少需要一个申请审核环节"]
        );
        assert_eq!(attr(&r, "#f-code", "value"), "visits_only");
        // With one, it is created at version 1 and offered to programs.
        let r = office
            .post(
                "/staff/workflows/new",
                &[
                    ("code", "visits_only"),
                    ("name_zh", "简易流程"),
                    ("stage_0_name_zh", "国际处审核"),
                    ("stage_0_role", "international_office"),
                    ("stage_0_scope", "all"),
                    ("stage_0_phase", "application"),
                    ("op", "save"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        assert_eq!(r.location(), "/staff/workflows/visits_only");
        let form = office.get("/staff/programs/new").await;
        assert!(
            !form
                .select("#f-workflow_code option[value=visits_only]")
                .is_empty()
        );
        let again = office
            .post(
                "/staff/workflows/new",
                &[
                    ("code", "visits_only"),
                    ("name_zh", "重复"),
                    ("stage_0_name_zh", "国际处审核"),
                    ("stage_0_role", "international_office"),
                    ("stage_0_scope", "all"),
                    ("stage_0_phase", "application"),
                    ("op", "save"),
                ],
            )
            .await;
        assert_eq!(again.select("#f-code-error"), vec!["流程代码已存在"]);
    }
);

/// How many audit rows of `action` name the program `id`.
async fn audited(app: &TestApp, id: i64, action: &str) -> i64 {
    app.state
        .db
        .count(
            &Query::select()
                .expr(Expr::col("id").count())
                .from("audit_log")
                .and_where(Expr::col("target").eq(format!("program:{id}")))
                .and_where(Expr::col("action").eq(action))
                .to_owned(),
        )
        .await
        .unwrap()
}

/// The lifecycle buttons the program page offers, by their path segment.
fn button_paths(page: &Resp, id: i64) -> Vec<String> {
    let html = page.html();
    let sel = scraper::Selector::parse("#actions form").expect("selector");
    let prefix = format!("/staff/programs/{id}/");
    html.select(&sel)
        .filter_map(|f| f.value().attr("action"))
        .map(|a| a.trim_start_matches(&prefix).to_owned())
        .collect()
}

both!(
    a_stale_lifecycle_button_gets_a_conflict_and_changes_nothing,
    with_demo,
    |app| {
        let mut office = app.signed_in("gjc_officer", STAFF).await;
        let mut other = app.signed_in("admin", STAFF).await;
        let id = full_program(&mut office, "并发发布项目").await;
        let page = office.get(&format!("/staff/programs/{id}")).await;
        assert_eq!(button_paths(&page, id), ["publish", "copy"]);
        let seen = attr(&page, "#program-form input[name=version]", "value");

        // Someone else publishes first; the page drawn before still shows 发布.
        let r = act(&mut other, id, "publish", &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        for action in ["publish", "unpublish", "close"] {
            let r = office
                .post(
                    &format!("/staff/programs/{id}/{action}"),
                    &[("version", seen.as_str())],
                )
                .await;
            assert_eq!(r.status, StatusCode::CONFLICT, "{action}");
            assert!(r.text().contains("已被他人修改"), "{action}");
        }
        assert_eq!(status_of(&app, id).await, "published");
        assert_eq!(audited(&app, id, "program.publish").await, 1);
        assert_eq!(audited(&app, id, "program.unpublish").await, 0);
        assert_eq!(audited(&app, id, "program.close").await, 0);

        // Reloaded, the page offers what the published program allows, and it works.
        let page = office.get(&format!("/staff/programs/{id}")).await;
        assert_eq!(button_paths(&page, id), ["unpublish", "close", "copy"]);
        let r = act(&mut office, id, "close", &[]).await;
        assert!(flash_after(&mut office, &r).await.contains("已关闭报名"));
        assert_eq!(audited(&app, id, "program.close").await, 1);
        let page = office.get(&format!("/staff/programs/{id}")).await;
        assert_eq!(button_paths(&page, id), ["publish", "copy"]);
        assert!(page.select("#actions").join("").contains("重新发布"));
    }
);

both!(
    a_status_change_is_compare_and_set_on_the_old_status_and_the_version,
    with_demo,
    |app| {
        use outbound::db::programs::{StatusChange, set_status_in};
        use outbound::domain::ProgramStatus::{Closed, Draft, Published};

        let mut office = app.signed_in("gjc_officer", STAFF).await;
        let id = create(&mut office, &program_form("比较并交换项目")).await;
        let v: i64 = version(&mut office, id).await.parse().unwrap();
        let mut tx = app.state.db.begin().await.unwrap();
        let wrong_status =
            set_status_in(&mut tx, id, v, Published, Closed, StatusChange::default());
        assert!(
            !wrong_status.await.unwrap(),
            "the program is no longer published"
        );
        let wrong_version = set_status_in(
            &mut tx,
            id,
            v - 1,
            Draft,
            Published,
            StatusChange::default(),
        );
        assert!(!wrong_version.await.unwrap(), "the program changed since");
        let right = set_status_in(&mut tx, id, v, Draft, Published, StatusChange::default());
        assert!(right.await.unwrap());
        tx.commit().await.unwrap();
        assert_eq!(status_of(&app, id).await, "published");
        assert_eq!(version(&mut office, id).await, (v + 1).to_string());
    }
);

both!(an_unknown_lifecycle_action_is_no_page, with_demo, |app| {
    let mut office = app.signed_in("gjc_officer", STAFF).await;
    let id = create(&mut office, &program_form("未知操作项目")).await;
    for action in ["delete", "edit", "Publish"] {
        let r = act(&mut office, id, action, &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{action}");
    }
    assert_eq!(status_of(&app, id).await, "draft");
});

/// The site's Content-Security-Policy, as it was before programs could carry formatting.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

both!(
    other_information_is_formatted_from_markdown_and_cleaned_on_the_server,
    with_demo,
    |app| {
        let mut office = app.signed_in("gjc_officer", STAFF).await;
        let form = office.get("/staff/programs/new").await;
        let hint = form.select("#f-description-hint").join("");
        assert!(
            hint.contains("**粗体**") && hint.contains("不支持图片"),
            "{hint}"
        );
        office.get("/lang/en").await;
        let hint = office
            .get("/staff/programs/new")
            .await
            .select("#f-description-hint")
            .join("");
        assert!(
            hint.contains("**bold**") && hint.contains("no images"),
            "{hint}"
        );
        office.get("/lang/zh").await;

        let mut fields = program_form("格式说明项目");
        fields.push((
            "description".into(),
            "第一行\n第二行\n\n**重点**说明：\n\n- 甲\n- 乙\n\n\
             详见[指南](https://example.edu/guide)。\n\n\
             <script>alert(1)</script>\n\n[点我](javascript:alert(2))\n\n\
             <a href=\"https://evil.example\" onclick=\"alert(3)\" style=\"color:red\">链接</a>\n\n\
             ![图](https://example.edu/a.png)"
                .into(),
        ));
        let id = create(&mut office, &fields).await;
        add_school(&mut office, id, "牛津大学", "2").await;
        let r = act(&mut office, id, "publish", &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);

        let mut student = app.signed_in(STUDENT, STUDENT_PASSWORD).await;
        let page = student.get(&format!("/programs/{id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(
            page.headers
                .get("content-security-policy")
                .and_then(|v| v.to_str().ok()),
            Some(CSP),
            "the policy is unchanged"
        );
        assert_eq!(page.select("#description strong"), vec!["重点"]);
        assert_eq!(page.select("#description ul li"), vec!["甲", "乙"]);
        assert_eq!(page.select("#description p:first-child br").len(), 1);
        let html = page.html();
        let one = |css: &str| {
            let sel = scraper::Selector::parse(css).expect("selector");
            html.select(&sel).count()
        };
        assert_eq!(
            one(
                "#description a[href=\"https://example.edu/guide\"][rel=\"noopener noreferrer nofollow\"]"
            ),
            1
        );
        for css in [
            "#description script",
            "#description img",
            "#description [onclick]",
            "#description [style]",
            "#description a[href^=\"javascript\"]",
            "#description a[href=\"https://evil.example\"]",
        ] {
            assert_eq!(one(css), 0, "{css}");
        }
        // The raw HTML is shown as the text it was, not lost.
        let text = page.select("#description").join("");
        assert!(text.contains("<script>alert(1)</script>"), "{text}");
        assert_eq!(
            page.select("#description a").len(),
            2,
            "the guide, and the javascript: link without its address"
        );
    }
);

both!(
    two_clerks_pressing_the_same_button_at_once_change_the_program_once,
    with_demo,
    |app| {
        use outbound::services::ServiceError;
        use outbound::services::audit::Who;
        use outbound::services::program_admin::{
            LifecycleStep, Manager, ProgramAction, transition,
        };

        let mut office = app.signed_in("gjc_officer", STAFF).await;
        let id = full_program(&mut office, "同时发布项目").await;
        let seen: i64 = version(&mut office, id).await.parse().unwrap();
        let press = || {
            let db = app.state.db.clone();
            tokio::spawn(async move {
                let step = LifecycleStep {
                    action: ProgramAction::Publish,
                    seen_version: seen,
                    now: Utc::now(),
                    reason: "",
                };
                transition(&db, &Who::system(), Manager::Office, id, step).await
            })
        };
        let (a, b) = tokio::join!(press(), press());
        let results = [a.unwrap(), b.unwrap()];
        let won = results.iter().filter(|r| r.is_ok()).count();
        let stale = results
            .iter()
            .filter(|r| matches!(r, Err(ServiceError::Conflict(_))))
            .count();
        assert_eq!((won, stale), (1, 1), "{results:?}");
        assert_eq!(status_of(&app, id).await, "published");
        assert_eq!(audited(&app, id, "program.publish").await, 1);
        assert_eq!(version(&mut office, id).await, (seen + 1).to_string());
    }
);
