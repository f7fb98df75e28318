//! 系统管理 (SPEC §11) through the whole router on both databases: accounts and roles, colleges
//! and majors, dictionaries, the audit log, and that nobody but a system administrator gets in.

use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use sea_query::{Expr, ExprTrait, Order, Query};

use crate::both;
use crate::journey::attr;
use crate::support::{Client, Resp, TestApp};

const STAFF_PASSWORD: &str = "Staff@2026";
const STUDENT: &str = "2023010101";
const STUDENT_PASSWORD: &str = "Demo@2026";

async fn admin(app: &TestApp) -> Client {
    app.signed_in("admin", STAFF_PASSWORD).await
}

async fn id_of(app: &TestApp, table: &str, column: &str, value: &str) -> i64 {
    app.state
        .db
        .scalar::<i64>(
            &Query::select()
                .column("id")
                .from(table.to_owned())
                .and_where(Expr::col(column.to_owned()).eq(value))
                .to_owned(),
        )
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("no {table} row with {column} = {value}"))
}

async fn user_id(app: &TestApp, username: &str) -> i64 {
    id_of(app, "users", "username", username).await
}

async fn college_id(app: &TestApp, code: &str) -> i64 {
    id_of(app, "colleges", "code", code).await
}

async fn roles_of(app: &TestApp, user_id: i64) -> Vec<String> {
    let rows: Vec<(String,)> = app
        .state
        .db
        .all(
            &Query::select()
                .column("role")
                .from("user_roles")
                .and_where(Expr::col("user_id").eq(user_id))
                .order_by("role", Order::Asc)
                .to_owned(),
        )
        .await
        .expect("roles");
    rows.into_iter().map(|(r,)| r).collect()
}

async fn reviewed_colleges(app: &TestApp, user_id: i64) -> Vec<i64> {
    let rows: Vec<(i64,)> = app
        .state
        .db
        .all(
            &Query::select()
                .column("college_id")
                .from("reviewer_colleges")
                .and_where(Expr::col("user_id").eq(user_id))
                .order_by("college_id", Order::Asc)
                .to_owned(),
        )
        .await
        .expect("colleges");
    rows.into_iter().map(|(c,)| c).collect()
}

/// Every `detail` the audit log holds, with its action.
async fn audit_rows(app: &TestApp) -> Vec<(String, String, String, String)> {
    app.state
        .db
        .all(
            &Query::select()
                .columns(["actor_name", "action", "target", "detail"])
                .from("audit_log")
                .order_by("id", Order::Asc)
                .to_owned(),
        )
        .await
        .expect("audit rows")
}

fn is_redirect_to_login(r: &Resp) -> bool {
    r.status.is_redirection() && r.location().starts_with("/login")
}

/// Signs in and expects to be sent to 修改密码 first.
async fn first_sign_in(app: &TestApp, username: &str, password: &str) -> Client {
    let mut c = app.client();
    let r = c
        .post("/login", &[("username", username), ("password", password)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.location(), "/password");
    c
}

both!(
    an_admin_creates_a_college_reviewer_for_two_colleges_who_must_change_the_password,
    with_demo,
    |app| {
        let mut a = admin(&app).await;
        let c1 = college_id(&app, "01").await.to_string();
        let c2 = college_id(&app, "02").await.to_string();
        let form = a.get("/admin/users/new").await;
        assert_eq!(form.status, StatusCode::OK);
        let r = a
            .post(
                "/admin/users/new",
                &[
                    ("username", "t2026001"),
                    ("display_name", "陈思远"),
                    ("roles", "college_reviewer"),
                    ("colleges", &c1),
                    ("colleges", &c2),
                    ("password_mode", "generate"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let password = r.select(".generated-password").join("");
        assert_eq!(password.chars().count(), 12, "{password}");

        let id = user_id(&app, "t2026001").await;
        assert_eq!(roles_of(&app, id).await, vec!["college_reviewer"]);
        assert_eq!(
            reviewed_colleges(&app, id).await,
            vec![c1.parse::<i64>().unwrap(), c2.parse::<i64>().unwrap()]
        );

        // The new person signs in, must change the password, then works normally.
        let mut t = first_sign_in(&app, "t2026001", &password).await;
        let home = t.get("/").await;
        assert_eq!(home.location(), "/password");
        let changed = t
            .post(
                "/password",
                &[
                    ("old_password", &password),
                    ("new_password", "Chen-2026-ok"),
                    ("confirm_password", "Chen-2026-ok"),
                ],
            )
            .await;
        assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.text());
        assert_eq!(t.get("/").await.status, StatusCode::OK);
        // A college reviewer is not an administrator.
        assert_eq!(t.get("/admin").await.status, StatusCode::FORBIDDEN);

        // A typed initial password works the same way and goes to the account's page.
        let typed = a
            .post(
                "/admin/users/new",
                &[
                    ("username", "t2026002"),
                    ("display_name", "周敏"),
                    ("roles", "international_office"),
                    ("roles", "academic_affairs"),
                    ("password_mode", "set"),
                    ("password", "Init-Pass-77"),
                ],
            )
            .await;
        assert_eq!(typed.status, StatusCode::SEE_OTHER, "{}", typed.text());
        let id2 = user_id(&app, "t2026002").await;
        assert_eq!(typed.location(), format!("/admin/users/{id2}"));
        assert_eq!(
            roles_of(&app, id2).await,
            vec!["academic_affairs", "international_office"]
        );
        first_sign_in(&app, "t2026002", "Init-Pass-77").await;

        // Both creations are audited, and no password ever reaches the log.
        let rows = audit_rows(&app).await;
        let created: Vec<_> = rows
            .iter()
            .filter(|(_, action, _, _)| action == "admin.user.create")
            .collect();
        assert_eq!(created.len(), 2);
        assert!(created.iter().all(|(actor, _, _, _)| actor == "杨帆"));
        assert!(created[0].3.contains("t2026001") && created[0].3.contains("generated"));
        for (_, _, _, detail) in &rows {
            assert!(!detail.contains(&password), "{detail}");
            assert!(!detail.contains("Init-Pass-77"), "{detail}");
        }
    }
);

both!(
    a_duplicate_user_name_is_refused_beside_the_field_with_the_input_kept,
    with_demo,
    |app| {
        let mut a = admin(&app).await;
        let r = a
            .post(
                "/admin/users/new",
                &[
                    ("username", "gjc_officer"),
                    ("display_name", "新同事"),
                    ("roles", "international_office"),
                    ("password_mode", "generate"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.select("#f-username-error"), vec!["该用户名已存在"]);
        assert_eq!(attr(&r, "#f-username", "value"), "gjc_officer");
        assert_eq!(attr(&r, "#f-display_name", "value"), "新同事");
        assert_eq!(
            r.select("input[name=roles][value=international_office][checked]")
                .len(),
            1
        );
        assert_eq!(r.select(".field.has-error #f-username").len(), 1);
        // A reviewer without a college and an empty name are both said at once.
        let r = a
            .post(
                "/admin/users/new",
                &[
                    ("username", "t2026009"),
                    ("display_name", ""),
                    ("roles", "college_reviewer"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.select("#f-display_name-error").len(), 1);
        assert_eq!(
            r.select("#f-colleges-error"),
            vec!["学院审核员须至少选择一个审核学院"]
        );
        assert_eq!(attr(&r, "#f-username", "value"), "t2026009");
        let count = app
            .state
            .db
            .count(
                &Query::select()
                    .expr(Expr::col("id").count())
                    .from("users")
                    .and_where(Expr::col("username").eq("t2026009"))
                    .to_owned(),
            )
            .await
            .unwrap();
        assert_eq!(count, 0);
    }
);

both!(
    a_role_change_takes_effect_at_once_and_ends_the_persons_sessions,
    with_demo,
    |app| {
        let mut a = admin(&app).await;
        let mut xx = app.signed_in("xx_reviewer", STAFF_PASSWORD).await;
        assert_eq!(xx.get("/admin").await.status, StatusCode::FORBIDDEN);
        let id = user_id(&app, "xx_reviewer").await;
        let c2 = college_id(&app, "02").await.to_string();
        let c3 = college_id(&app, "03").await.to_string();
        let page = a.get(&format!("/admin/users/{id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(
            page.select("input[name=roles][value=college_reviewer][checked]")
                .len(),
            1
        );
        assert!(
            page.select("input[name=roles][value=admin][checked]")
                .is_empty()
        );
        let r = a
            .post(
                &format!("/admin/users/{id}"),
                &[
                    ("display_name", "郑志强"),
                    ("roles", "college_reviewer"),
                    ("roles", "admin"),
                    ("colleges", &c2),
                    ("colleges", &c3),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        assert_eq!(roles_of(&app, id).await, vec!["admin", "college_reviewer"]);
        assert_eq!(reviewed_colleges(&app, id).await.len(), 2);
        // Their old session is over; signed in again they have the new rights.
        assert!(is_redirect_to_login(&xx.get("/messages").await));
        xx.login("xx_reviewer", STAFF_PASSWORD).await;
        assert_eq!(xx.get("/admin").await.status, StatusCode::OK);
        let list = a.get("/admin/users?q=xx_reviewer").await;
        assert!(list.select("td.roles")[0].contains("系统管理员"));

        // Taking the admin role away again also works, and is audited with both role lists.
        let r = a
            .post(
                &format!("/admin/users/{id}"),
                &[
                    ("display_name", "郑志强"),
                    ("roles", "college_reviewer"),
                    ("colleges", &c2),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(is_redirect_to_login(&xx.get("/messages").await));
        xx.login("xx_reviewer", STAFF_PASSWORD).await;
        assert_eq!(xx.get("/admin").await.status, StatusCode::FORBIDDEN);
        let updates: Vec<_> = audit_rows(&app)
            .await
            .into_iter()
            .filter(|(_, action, target, _)| {
                action == "admin.user.update" && *target == format!("user:{id}")
            })
            .collect();
        assert_eq!(updates.len(), 2);
        assert!(
            updates[1]
                .3
                .contains("\"from\":[\"admin\",\"college_reviewer\"]")
        );

        // An administrator cannot remove their own admin role: said beside the roles.
        let me = user_id(&app, "admin").await;
        let r = a
            .post(
                &format!("/admin/users/{me}"),
                &[("display_name", "杨帆"), ("roles", "international_office")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            r.select("#f-roles-error"),
            vec!["不能取消自己的系统管理员角色"]
        );
        assert_eq!(roles_of(&app, me).await, vec!["admin"]);
    }
);

both!(
    a_deactivated_user_cannot_sign_in_and_their_session_ends,
    with_demo,
    |app| {
        let mut a = admin(&app).await;
        let mut officer = app.signed_in("gjc_officer", STAFF_PASSWORD).await;
        assert_eq!(officer.get("/messages").await.status, StatusCode::OK);
        let id = user_id(&app, "gjc_officer").await;

        let r = a
            .post(&format!("/admin/users/{id}/active"), &[("active", "0")])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(is_redirect_to_login(&officer.get("/messages").await));
        let again = officer
            .post(
                "/login",
                &[("username", "gjc_officer"), ("password", STAFF_PASSWORD)],
            )
            .await;
        assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
        let list = a.get("/admin/users?status=inactive").await;
        assert_eq!(list.select("td.username"), vec!["gjc_officer"]);

        // Reactivated, the same password works again.
        let r = a
            .post(&format!("/admin/users/{id}/active"), &[("active", "1")])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        officer.login("gjc_officer", STAFF_PASSWORD).await;

        // Nobody deactivates themselves; the refusal says why.
        let me = user_id(&app, "admin").await;
        let r = a
            .post(&format!("/admin/users/{me}/active"), &[("active", "0")])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let page = a.get(&r.location()).await;
        assert_eq!(page.select(".flash"), vec!["不能停用自己的账号"]);
        assert_eq!(a.get("/admin").await.status, StatusCode::OK);
        let actions: Vec<String> = audit_rows(&app)
            .await
            .into_iter()
            .filter(|(_, _, target, _)| *target == format!("user:{id}"))
            .map(|(_, action, _, _)| action)
            .collect();
        assert_eq!(
            actions,
            vec!["admin.user.deactivate", "admin.user.reactivate"]
        );
    }
);

both!(
    a_reset_password_is_shown_once_and_must_be_changed_at_the_next_sign_in,
    with_demo,
    |app| {
        let mut a = admin(&app).await;
        let mut officer = app.signed_in("wsb_officer", STAFF_PASSWORD).await;
        let id = user_id(&app, "wsb_officer").await;
        // A typed password that breaks the rules is refused beside the field.
        let bad = a
            .post(
                &format!("/admin/users/{id}/password"),
                &[("password_mode", "set"), ("password", "short")],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.select("#f-password-error"), vec!["密码至少 8 位"]);

        let r = a
            .post(
                &format!("/admin/users/{id}/password"),
                &[("password_mode", "generate")],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let password = r.select(".generated-password").join("");
        assert_eq!(password.chars().count(), 12);
        assert!(is_redirect_to_login(&officer.get("/messages").await));
        let old = officer
            .post(
                "/login",
                &[("username", "wsb_officer"), ("password", STAFF_PASSWORD)],
            )
            .await;
        assert_eq!(old.status, StatusCode::UNPROCESSABLE_ENTITY);
        first_sign_in(&app, "wsb_officer", &password).await;
        assert!(
            audit_rows(&app)
                .await
                .iter()
                .all(|(_, _, _, detail)| !detail.contains(&password))
        );
    }
);

both!(
    non_admin_staff_and_students_get_403_on_every_admin_route,
    with_demo,
    |app| {
        let me = user_id(&app, "admin").await;
        let c1 = college_id(&app, "01").await;
        let major = id_of(&app, "majors", "code", "0101").await;
        let item = id_of(&app, "dictionary_items", "code", "JP").await;
        let gets = [
            "/admin".to_owned(),
            "/admin/users".to_owned(),
            "/admin/users/new".to_owned(),
            format!("/admin/users/{me}"),
            "/admin/colleges".to_owned(),
            "/admin/colleges/new".to_owned(),
            format!("/admin/colleges/{c1}"),
            format!("/admin/colleges/{c1}/majors"),
            format!("/admin/colleges/{c1}/majors/new"),
            format!("/admin/majors/{major}"),
            "/admin/dictionaries".to_owned(),
            "/admin/dictionaries/country".to_owned(),
            "/admin/dictionaries/country/new".to_owned(),
            format!("/admin/dictionaries/country/{item}"),
            "/admin/audit".to_owned(),
        ];
        let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
            (
                "/admin/users/new".to_owned(),
                vec![
                    ("username", "intruder"),
                    ("display_name", "x"),
                    ("roles", "admin"),
                ],
            ),
            (
                format!("/admin/users/{me}"),
                vec![("display_name", "x"), ("roles", "admin")],
            ),
            (format!("/admin/users/{me}/active"), vec![("active", "0")]),
            (
                format!("/admin/users/{me}/password"),
                vec![("password_mode", "generate")],
            ),
            (
                "/admin/colleges/new".to_owned(),
                vec![("code", "99"), ("name_zh", "x"), ("name_en", "x")],
            ),
            (
                format!("/admin/colleges/{c1}"),
                vec![("code", "01"), ("name_zh", "x"), ("name_en", "x")],
            ),
            (
                format!("/admin/colleges/{c1}/active"),
                vec![("active", "0")],
            ),
            (format!("/admin/colleges/{c1}/delete"), vec![]),
            (
                format!("/admin/colleges/{c1}/majors/new"),
                vec![("code", "9901"), ("name_zh", "x"), ("name_en", "x")],
            ),
            (
                format!("/admin/majors/{major}"),
                vec![("code", "0101"), ("name_zh", "x"), ("name_en", "x")],
            ),
            (
                format!("/admin/majors/{major}/active"),
                vec![("active", "0")],
            ),
            (format!("/admin/majors/{major}/delete"), vec![]),
            (
                "/admin/dictionaries/country/new".to_owned(),
                vec![("code", "XX"), ("label_zh", "x"), ("label_en", "x")],
            ),
            (
                format!("/admin/dictionaries/country/{item}"),
                vec![("label_zh", "x"), ("label_en", "x")],
            ),
            (
                format!("/admin/dictionaries/country/{item}/move"),
                vec![("direction", "up")],
            ),
            (
                format!("/admin/dictionaries/country/{item}/active"),
                vec![("active", "0")],
            ),
        ];
        let before = audit_rows(&app).await.len();
        for (user, password) in [
            ("gjc_officer", STAFF_PASSWORD),
            ("xx_reviewer", STAFF_PASSWORD),
            ("jwc_officer", STAFF_PASSWORD),
            ("partner_demo", STAFF_PASSWORD),
            (STUDENT, STUDENT_PASSWORD),
        ] {
            let mut c = app.signed_in(user, password).await;
            // The menu offers no 系统管理 either.
            assert!(!c.get("/").await.text().contains("href=\"/admin\""));
            for path in &gets {
                let r = c.get(path).await;
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{user} GET {path}");
            }
            for (path, fields) in &posts {
                let r = c.post(path, fields).await;
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{user} POST {path}");
            }
        }
        // Signed out: the sign-in page.
        let mut anon = app.client();
        assert!(is_redirect_to_login(&anon.get("/admin/users").await));
        // Nothing changed: no administration row was written.
        let after = audit_rows(&app).await;
        assert!(
            !after[before..]
                .iter()
                .any(|(_, action, _, _)| action.starts_with("admin.")),
            "{:?}",
            &after[before..]
        );
        assert_eq!(roles_of(&app, me).await, vec!["admin"]);
        // The administrator sees the menu entry, marked current on admin pages.
        let mut a = admin(&app).await;
        let page = a.get("/admin").await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(
            attr(&page, ".site-nav a[href=\"/admin\"]", "aria-current"),
            "page"
        );
    }
);

both!(
    a_college_students_belong_to_is_never_deleted_and_the_refusal_says_why,
    with_demo,
    |app| {
        let mut a = admin(&app).await;
        let c1 = college_id(&app, "01").await;
        let r = a.post(&format!("/admin/colleges/{c1}/delete"), &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let page = a.get(&r.location()).await;
        let said = page.select(".flash").join("");
        assert!(
            said.contains("名学生") && said.contains("个专业") && said.contains("停用"),
            "{said}"
        );
        college_id(&app, "01").await;

        // A major students study is not deleted either; deactivating is fine.
        let major = id_of(&app, "majors", "code", "0101").await;
        let r = a.post(&format!("/admin/majors/{major}/delete"), &[]).await;
        let page = a.get(&r.location()).await;
        assert!(page.select(".flash").join("").contains("名学生"));
        let r = a
            .post(&format!("/admin/majors/{major}/active"), &[("active", "0")])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(
            !outbound::db::dicts::majors(&app.state.db)
                .await
                .unwrap()
                .iter()
                .any(|m| m.id == major)
        );

        // A new college with a duplicate code is refused beside the field; a fresh one is added,
        // renamed, given a major, and (unused) deleted again.
        let dup = a
            .post(
                "/admin/colleges/new",
                &[
                    ("code", "01"),
                    ("name_zh", "法学院"),
                    ("name_en", "Law School"),
                ],
            )
            .await;
        assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(dup.select("#f-code-error"), vec!["该代码已被使用"]);
        assert_eq!(attr(&dup, "#f-name_zh", "value"), "法学院");
        let ok = a
            .post(
                "/admin/colleges/new",
                &[
                    ("code", "06"),
                    ("name_zh", "法学院"),
                    ("name_en", "Law School"),
                ],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
        let law = college_id(&app, "06").await;
        let r = a
            .post(
                &format!("/admin/colleges/{law}"),
                &[
                    ("code", "06"),
                    ("name_zh", "法学院（知识产权学院）"),
                    ("name_en", "Law School"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let list = a.get("/admin/colleges").await;
        assert!(
            list.select("td.name-zh")
                .contains(&"法学院（知识产权学院）".to_owned())
        );
        let r = a
            .post(
                &format!("/admin/colleges/{law}/majors/new"),
                &[("code", "0601"), ("name_zh", "法学"), ("name_en", "Law")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let majors = a.get(&format!("/admin/colleges/{law}/majors")).await;
        assert_eq!(majors.select("td.code"), vec!["0601"]);
        // With its major the college is in use; without it, it goes.
        let r = a.post(&format!("/admin/colleges/{law}/delete"), &[]).await;
        assert!(
            a.get(&r.location())
                .await
                .select(".flash")
                .join("")
                .contains("个专业")
        );
        let law_major = id_of(&app, "majors", "code", "0601").await;
        a.post(&format!("/admin/majors/{law_major}/delete"), &[])
            .await;
        let r = a.post(&format!("/admin/colleges/{law}/delete"), &[]).await;
        assert_eq!(
            a.get(&r.location()).await.select(".flash"),
            vec!["已删除。"]
        );
        let actions: Vec<String> = audit_rows(&app)
            .await
            .into_iter()
            .map(|(_, action, _, _)| action)
            .filter(|a| a.starts_with("admin.college") || a.starts_with("admin.major"))
            .collect();
        assert_eq!(
            actions,
            vec![
                "admin.major.deactivate",
                "admin.college.create",
                "admin.college.update",
                "admin.major.create",
                "admin.major.delete",
                "admin.college.delete",
            ]
        );
    }
);

both!(
    a_duplicate_dictionary_code_is_refused_beside_the_field_and_items_are_added_moved_and_retired,
    with_demo,
    |app| {
        let mut a = admin(&app).await;
        let kinds = a.get("/admin/dictionaries?kind=exam_type").await;
        assert_eq!(kinds.location(), "/admin/dictionaries/exam_type");
        assert_eq!(
            a.get("/admin/dictionaries/no_such_kind").await.status,
            StatusCode::NOT_FOUND
        );

        let dup = a
            .post(
                "/admin/dictionaries/country/new",
                &[("code", "JP"), ("label_zh", "日本国"), ("label_en", "")],
            )
            .await;
        assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(dup.select("#f-code-error"), vec!["该代码已被使用"]);
        assert_eq!(dup.select("#f-label_en-error"), vec!["请填写必填项目"]);
        assert_eq!(attr(&dup, "#f-code", "value"), "JP");
        assert_eq!(attr(&dup, "#f-label_zh", "value"), "日本国");

        // The same code in another kind is fine.
        let r = a
            .post(
                "/admin/dictionaries/exam_type/new",
                &[
                    ("code", "JP"),
                    ("label_zh", "日本留学考试"),
                    ("label_en", "EJU"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let codes = outbound::db::dicts::codes(
            &outbound::db::dicts::items(&app.state.db, "exam_type")
                .await
                .unwrap(),
        );
        assert_eq!(codes.last().map(String::as_str), Some("JP"));

        // Move it up one place: it now comes before the item that was before it.
        let item = app
            .state
            .db
            .scalar::<i64>(
                &Query::select()
                    .column("id")
                    .from("dictionary_items")
                    .and_where(Expr::col("kind").eq("exam_type"))
                    .and_where(Expr::col("code").eq("JP"))
                    .to_owned(),
            )
            .await
            .unwrap()
            .unwrap();
        let r = a
            .post(
                &format!("/admin/dictionaries/exam_type/{item}/move"),
                &[("direction", "up")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let after = outbound::db::dicts::codes(
            &outbound::db::dicts::items(&app.state.db, "exam_type")
                .await
                .unwrap(),
        );
        assert_eq!(after.len(), codes.len());
        assert_eq!(after[after.len() - 2], "JP");
        assert_eq!(after[after.len() - 1], codes[codes.len() - 2]);

        // Edit the labels (the code stays), then retire it: no longer offered.
        let r = a
            .post(
                &format!("/admin/dictionaries/exam_type/{item}"),
                &[
                    ("code", "CHANGED"),
                    ("label_zh", "日本留学生考试"),
                    ("label_en", "EJU"),
                    ("sort_order", "5"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let first = outbound::db::dicts::items(&app.state.db, "exam_type")
            .await
            .unwrap()
            .into_iter()
            .next()
            .unwrap();
        assert_eq!(
            (first.code.as_str(), first.label_zh.as_str()),
            ("JP", "日本留学生考试")
        );
        let r = a
            .post(
                &format!("/admin/dictionaries/exam_type/{item}/active"),
                &[("active", "0")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(
            !outbound::db::dicts::items(&app.state.db, "exam_type")
                .await
                .unwrap()
                .iter()
                .any(|i| i.code == "JP")
        );
        let page = a.get("/admin/dictionaries/exam_type").await;
        assert!(page.select("td.code").contains(&"JP".to_owned()));

        // Every one of those changes is in the audit log, against the item.
        let trail: Vec<String> = audit_rows(&app)
            .await
            .into_iter()
            .filter(|(_, _, target, _)| target == "dict:exam_type:JP")
            .map(|(_, action, _, _)| action)
            .collect();
        assert_eq!(
            trail,
            vec![
                "admin.dict.create",
                "admin.dict.move",
                "admin.dict.update",
                "admin.dict.deactivate",
            ]
        );
    }
);

both!(
    the_audit_page_filters_by_person_action_and_date,
    with_demo,
    |app| {
        let mut a = admin(&app).await;
        app.signed_in("gjc_officer", STAFF_PASSWORD).await;
        let r = a
            .post(
                "/admin/colleges/new",
                &[
                    ("code", "07"),
                    ("name_zh", "艺术学院"),
                    ("name_en", "School of Arts"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        // An old row, to test the date range to the day (China time).
        let mut tx = app.state.db.begin().await.unwrap();
        tx.insert(
            Query::insert()
                .into_table("audit_log")
                .columns([
                    "actor_name",
                    "action",
                    "target",
                    "detail",
                    "ip",
                    "created_at",
                ])
                .values_panic([
                    "old_clerk".into(),
                    "profile.update".into(),
                    "user:1".into(),
                    "".into(),
                    "".into(),
                    // 2020-01-15 07:30 in China.
                    Utc.with_ymd_and_hms(2020, 1, 14, 23, 30, 0).unwrap().into(),
                ]),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let all = a.get("/admin/audit").await;
        assert_eq!(all.status, StatusCode::OK);
        // Newest first: the college was the last change.
        assert_eq!(
            attr(&all, "td.action", "data-action"),
            "admin.college.create"
        );

        let by_name = a.get("/admin/audit?person=%E6%9D%A8%E5%B8%86").await;
        let actors = by_name.select("td.actor");
        assert!(!actors.is_empty());
        // 杨帆's own changes, and sign-ins recorded under the user name of 杨帆's account.
        assert!(
            actors.iter().all(|n| n == "杨帆" || n == "admin"),
            "{actors:?}"
        );
        let accounts = by_name.select("td.actor-username");
        assert!(accounts.iter().all(|u| u == "admin"), "{accounts:?}");
        let by_user_name = a.get("/admin/audit?person=gjc").await;
        let actors = by_user_name.select("td.actor");
        assert!(
            !actors.is_empty() && actors.iter().all(|n| n == "gjc_officer"),
            "{actors:?}"
        );

        let by_action = a.get("/admin/audit?action=admin.college.create").await;
        assert_eq!(
            by_action.select("td.target"),
            vec![format!("college:{}", college_id(&app, "07").await)]
        );
        assert_eq!(by_action.select("td.action"), vec!["新增学院"]);

        let day = a.get("/admin/audit?from=2020-01-15&to=2020-01-15").await;
        assert_eq!(day.select("td.actor"), vec!["old_clerk"]);
        let before = a.get("/admin/audit?to=2020-01-14").await;
        assert!(before.select("td.actor").is_empty());
        let since = a.get("/admin/audit?from=2020-01-16").await;
        assert!(!since.select("td.actor").contains(&"old_clerk".to_owned()));
        let combined = a
            .get("/admin/audit?person=old&action=profile.update&from=2020-01-01&to=2020-12-31")
            .await;
        assert_eq!(combined.select("td.actor"), vec!["old_clerk"]);

        // A date that cannot be read is said beside the field, and the rest still filters.
        let bad = a.get("/admin/audit?from=2020-02-30&person=old").await;
        assert_eq!(bad.status, StatusCode::OK);
        assert_eq!(bad.select("#q-from-error").len(), 1);
        assert_eq!(bad.select("td.actor"), vec!["old_clerk"]);
        assert_eq!(attr(&bad, "#q-from", "value"), "2020-02-30");
    }
);
