//! The JSON API under `/api/v1`: sign-in, the OpenAPI document, the whole application through
//! the API, ownership, CSRF, stale versions, the submit check and idempotent submits.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use sea_query::{Expr, ExprTrait, Query};
use serde_json::{Value, json};

use crate::both;
use crate::support::{Client, Resp, TestApp, pdf_bytes};

const STUDENT: &str = "2023010101";
const OTHER_STUDENT: &str = "2024210201";
const PASSWORD: &str = "Demo@2026";

/// A JSON client: the test client's cookie jar, JSON bodies, and the `X-CSRF-Token` header
/// taken from the CSRF cookie, as a phone app would send it.
struct Api {
    c: Client,
}

impl Api {
    /// A client holding a CSRF token (from `GET /api/v1/csrf`), not signed in.
    async fn anonymous(app: &TestApp) -> Api {
        let mut api = Api { c: app.client() };
        let r = api.get("/api/v1/csrf").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(
            r.json()["csrf_token"].as_str(),
            Some(api.c.csrf().as_str()),
            "the token is the cookie's"
        );
        api
    }

    async fn signed_in(app: &TestApp, username: &str) -> Api {
        let mut api = Api::anonymous(app).await;
        let r = api
            .post(
                "/api/v1/session",
                json!({ "username": username, "password": PASSWORD }),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "sign-in as {username}: {}",
            r.text()
        );
        api
    }

    async fn request(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = Request::builder().method(method.clone()).uri(path);
        if method != Method::GET
            && !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("x-csrf-token"))
        {
            req = req.header("x-csrf-token", self.c.csrf());
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        };
        self.c.send(req.expect("a valid request")).await
    }

    async fn get(&mut self, path: &str) -> Resp {
        self.request(Method::GET, path, None, &[]).await
    }

    async fn post(&mut self, path: &str, body: Value) -> Resp {
        self.request(Method::POST, path, Some(body), &[]).await
    }

    async fn put(&mut self, path: &str, body: Value) -> Resp {
        self.request(Method::PUT, path, Some(body), &[]).await
    }

    async fn delete(&mut self, path: &str) -> Resp {
        self.request(Method::DELETE, path, None, &[]).await
    }

    /// The first code of a dictionary.
    async fn first_code(&mut self, kind: &str) -> String {
        let r = self.get(&format!("/api/v1/dictionaries/{kind}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()["items"][0]["code"]
            .as_str()
            .expect("a code")
            .to_owned()
    }

    /// An open program this student may apply to, with required attachments and at least two
    /// partner schools: (program id, its detail).
    async fn open_program(&mut self) -> (i64, Value) {
        let r = self
            .get("/api/v1/programs?open_only=true&per_page=100")
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let page = r.json();
        for item in page["items"].as_array().expect("items") {
            if item["eligibility"]["can_apply"] != json!(true) {
                continue;
            }
            let id = item["id"].as_i64().expect("id");
            let detail = self.get(&format!("/api/v1/programs/{id}")).await.json();
            let required = detail["attachment_types"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t["required"] == json!(true)));
            let schools = detail["schools"].as_array().map_or(0, Vec::len);
            if required && schools >= 2 {
                return (id, detail);
            }
        }
        panic!("the demo set has an open semester program for {STUDENT}: {page}");
    }

    /// Starts an application after the commitment; returns its id.
    async fn start(&mut self, program: i64) -> i64 {
        let r = self
            .post(
                &format!("/api/v1/programs/{program}/applications"),
                json!({ "commitment": true }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let id = r.json()["id"].as_i64().expect("id");
        assert_eq!(
            r.headers[header::LOCATION],
            format!("/api/v1/applications/{id}").as_str()
        );
        id
    }

    async fn version(&mut self, id: i64) -> i64 {
        let r = self.get(&format!("/api/v1/applications/{id}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()["version"].as_i64().expect("version")
    }

    /// Fills 申请信息 and 外语水平 and uploads a PDF for every required type.
    async fn fill(&mut self, id: i64, program: &Value) {
        let schools: Vec<i64> = program["schools"]
            .as_array()
            .expect("schools")
            .iter()
            .filter_map(|s| s["id"].as_i64())
            .collect();
        let funding = self.first_code("funding_source").await;
        let version = self.version(id).await;
        let r = self
            .put(
                &format!("/api/v1/applications/{id}/info"),
                json!({
                    "version": version,
                    "choice_1": schools[0],
                    "choice_2": schools[1].to_string(),
                    "exchange_from": "2027-02-15",
                    "exchange_to": "2027-06-30",
                    "exchange_duration": "一学期",
                    "depart_date": "2027-02-10",
                    "return_date": "2027-07-05",
                    "gpa": 3.6,
                    "weighted_avg": "88.5",
                    "one_china_issue": "no",
                    "has_passport": "no",
                    "emergency_relation": "母亲",
                    "emergency_name": "王丽",
                    "emergency_phone": "13700001111",
                    "funding_round_trip": funding,
                    "funding_accommodation": funding,
                    "funding_meals": funding,
                    "funding_intercity": funding,
                    "funding_registration": funding,
                    "funding_tuition": funding,
                }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["version"].as_i64(), Some(version + 1));

        let language = self.first_code("language").await;
        let exam = self.first_code("exam_type").await;
        let r = self
            .post(
                &format!("/api/v1/applications/{id}/languages"),
                json!({ "language": language, "exam_type": exam, "score": "560", "exam_date": "2026-06-15" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

        let required: Vec<i64> = program["attachment_types"]
            .as_array()
            .expect("types")
            .iter()
            .filter(|t| t["required"] == json!(true))
            .filter_map(|t| t["id"].as_i64())
            .collect();
        for t in required {
            let r = self
                .c
                .upload(
                    &format!("/api/v1/applications/{id}/attachments?type={t}"),
                    &[("成绩单.pdf", &pdf_bytes())],
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
            assert_eq!(r.json()["format"], "pdf");
        }
    }

    async fn submit(&mut self, id: i64, version: i64, key: Option<&str>) -> Resp {
        let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
        self.request(
            Method::POST,
            &format!("/api/v1/applications/{id}/submit"),
            Some(json!({ "version": version })),
            &headers,
        )
        .await
    }
}

fn is_json(r: &Resp) -> bool {
    r.headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// The `field`s of an error body.
fn fields(r: &Resp) -> Vec<String> {
    r.json()["fields"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|f| f["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

both!(
    a_student_signs_in_through_the_api_and_signs_out_again,
    with_demo,
    |app| {
        let mut api = Api::anonymous(&app).await;
        let r = api.get("/api/v1/session").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(is_json(&r), "401 under /api is JSON, not a redirect");
        assert_eq!(r.json()["error"], "error.401");

        let r = api
            .post(
                "/api/v1/session",
                json!({ "username": STUDENT, "password": "wrong" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json()["error"], "err.login.failed");

        let r = api
            .post(
                "/api/v1/session",
                json!({ "username": STUDENT, "password": PASSWORD }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let session = r.json();
        assert_eq!(session["user"]["username"], STUDENT);
        assert_eq!(session["roles"], json!(["student"]));
        assert_eq!(session["must_change_password"], json!(false));
        assert_eq!(
            session["csrf_token"].as_str(),
            Some(api.c.csrf().as_str()),
            "a new token, in the cookie too"
        );
        assert!(
            api.c.cookies.contains_key(outbound::auth::session::COOKIE),
            "the same session cookie as the pages"
        );

        let r = api.get("/api/v1/session").await;
        assert_eq!(r.status, StatusCode::OK);
        let r = api.get("/api/v1/profile").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["registry"]["student_no"], STUDENT);
        assert!(
            r.json()["missing"].as_array().is_some_and(Vec::is_empty),
            "{}",
            r.text()
        );

        let r = api.delete("/api/v1/session").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let r = api.get("/api/v1/profile").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
);

both!(
    the_openapi_document_parses_and_lists_every_path,
    with_demo,
    |app| {
        let mut api = Api::anonymous(&app).await;
        let r = api.get("/api/v1/openapi.json").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(is_json(&r));
        let doc = r.json();
        assert!(
            doc["openapi"].as_str().is_some_and(|v| v.starts_with('3')),
            "{}",
            doc["openapi"]
        );
        assert_eq!(doc["info"]["title"], "Outbound API");
        let paths = doc["paths"].as_object().expect("paths");
        for (path, method) in [
            ("/api/v1/session", "post"),
            ("/api/v1/session", "delete"),
            ("/api/v1/csrf", "get"),
            ("/api/v1/profile", "put"),
            ("/api/v1/programs", "get"),
            ("/api/v1/programs/{id}", "get"),
            ("/api/v1/programs/{id}/applications", "post"),
            ("/api/v1/applications", "get"),
            ("/api/v1/applications/{id}", "delete"),
            ("/api/v1/applications/{id}/info", "put"),
            ("/api/v1/applications/{id}/languages/{row}", "put"),
            ("/api/v1/applications/{id}/languages/{row}/backfill", "post"),
            ("/api/v1/applications/{id}/attachments", "post"),
            ("/api/v1/applications/{id}/attachments/{file}", "get"),
            ("/api/v1/applications/{id}/submit", "post"),
            ("/api/v1/applications/{id}/withdraw", "post"),
            ("/api/v1/applications/{id}/history", "get"),
        ] {
            assert!(
                paths.get(path).and_then(|p| p.get(method)).is_some(),
                "{method} {path} is documented"
            );
        }
        // Every documented schema reference resolves.
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        for part in text.split("\"#/components/schemas/").skip(1) {
            let name = part.split('"').next().unwrap_or_default();
            assert!(
                schemas.contains_key(name),
                "{name} is referenced but not defined"
            );
        }
    }
);

both!(
    a_student_applies_through_the_api_from_start_to_under_review,
    with_demo,
    |app| {
        let mut api = Api::signed_in(&app, STUDENT).await;
        let (program, detail) = api.open_program().await;

        let r = api
            .post(
                &format!("/api/v1/programs/{program}/applications"),
                json!({ "commitment": false }),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "the 申报须知 commitment is required"
        );
        assert_eq!(fields(&r), ["commitment"]);

        let id = api.start(program).await;
        assert_eq!(
            api.start(program).await,
            id,
            "starting again resumes the open draft"
        );
        api.fill(id, &detail).await;

        let r = api.get(&format!("/api/v1/applications/{id}")).await;
        let before = r.json();
        assert_eq!(before["status"], "draft");
        assert_eq!(before["info"]["gpa"], "3.6", "a number is kept as its text");
        assert_eq!(before["languages"].as_array().map(Vec::len), Some(1));
        assert!(
            before["actions"]
                .as_array()
                .expect("actions")
                .iter()
                .any(|a| a["code"] == "submit"),
            "{before}"
        );
        let file = before["attachments"][0]["id"].as_i64().expect("a file");
        let r = api
            .get(&format!("/api/v1/applications/{id}/attachments/{file}"))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body, pdf_bytes());

        let version = before["version"].as_i64().expect("version");
        let r = api.submit(id, version, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["status"], "under_review");
        assert_eq!(r.json()["status_label"], "申请中");

        let r = api.get("/api/v1/applications").await;
        let items = r.json()["items"].as_array().cloned().expect("items");
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["status"], "under_review");
        let actions: Vec<Value> = items[0]["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .map(|a| a["code"].clone())
            .collect();
        assert!(
            actions.contains(&json!("withdraw_for_edit")) && !actions.contains(&json!("submit")),
            "{actions:?}"
        );

        let r = api.get(&format!("/api/v1/applications/{id}/history")).await;
        assert_eq!(r.status, StatusCode::OK);
        let steps: Vec<Value> = r.json()["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|h| h["action"].clone())
            .collect();
        assert_eq!(steps, [json!("create"), json!("submit")]);

        // Submitted: the files stay.
        let r = api
            .delete(&format!("/api/v1/applications/{id}/attachments/{file}"))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    }
);

both!(
    a_student_gets_404_for_another_students_application_and_file,
    with_demo,
    |app| {
        let mut owner = Api::signed_in(&app, STUDENT).await;
        let (program, detail) = owner.open_program().await;
        let id = owner.start(program).await;
        owner.fill(id, &detail).await;
        let file = owner
            .get(&format!("/api/v1/applications/{id}"))
            .await
            .json()["attachments"][0]["id"]
            .as_i64()
            .expect("file");
        let version = owner.version(id).await;

        let mut other = Api::signed_in(&app, OTHER_STUDENT).await;
        for path in [
            format!("/api/v1/applications/{id}"),
            format!("/api/v1/applications/{id}/history"),
            format!("/api/v1/applications/{id}/attachments/{file}"),
        ] {
            let r = other.get(&path).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "GET {path}");
            assert_eq!(r.json()["error"], "error.404");
        }
        let r = other
            .put(
                &format!("/api/v1/applications/{id}/info"),
                json!({ "version": version, "gpa": "4.0" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = other
            .delete(&format!("/api/v1/applications/{id}/attachments/{file}"))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = other.submit(id, version, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = other
            .c
            .upload(
                &format!("/api/v1/applications/{id}/attachments?type=1"),
                &[("x.pdf", &pdf_bytes())],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(
            other.get("/api/v1/applications").await.json()["items"]
                .as_array()
                .is_some_and(Vec::is_empty)
        );

        // Nothing changed for the owner.
        assert_eq!(owner.version(id).await, version);
        let r = owner
            .get(&format!("/api/v1/applications/{id}/attachments/{file}"))
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
);

both!(
    a_request_without_the_csrf_header_is_refused_with_403,
    with_demo,
    |app| {
        let mut api = Api::anonymous(&app).await;
        let body = json!({ "username": STUDENT, "password": PASSWORD }).to_string();
        let req = Request::post("/api/v1/session")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .expect("request");
        let r = api.c.send(req).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(is_json(&r));
        assert_eq!(r.json()["error"], "error.csrf");
        assert!(!api.c.cookies.contains_key(outbound::auth::session::COOKIE));

        let mut signed = Api::signed_in(&app, STUDENT).await;
        let req = Request::put("/api/v1/profile")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .expect("request");
        let r = signed.c.send(req).await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "a signed-in change without the header too"
        );
        let r = signed
            .request(
                Method::PUT,
                "/api/v1/profile",
                Some(json!({})),
                &[("x-csrf-token", "forged.token")],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "nor with a header that is not the cookie's"
        );
    }
);

both!(
    submitting_with_a_stale_version_gets_a_conflict,
    with_demo,
    |app| {
        let mut api = Api::signed_in(&app, STUDENT).await;
        let (program, detail) = api.open_program().await;
        let id = api.start(program).await;
        api.fill(id, &detail).await;
        let version = api.version(id).await;

        let r = api.submit(id, version - 1, None).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
        assert_eq!(r.json()["error"], "error.409");
        assert_eq!(r.json()["message"], "已被他人处理，请刷新");
        let r = api
            .put(
                &format!("/api/v1/applications/{id}/info"),
                json!({ "version": version - 1 }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(
            api.get(&format!("/api/v1/applications/{id}")).await.json()["status"],
            "draft"
        );

        let r = api.submit(id, version, None).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "the current version goes through: {}",
            r.text()
        );
    }
);

both!(
    an_incomplete_submit_gets_422_listing_every_missing_field_with_its_step,
    with_demo,
    |app| {
        let mut api = Api::signed_in(&app, STUDENT).await;
        let (program, detail) = api.open_program().await;
        let id = api.start(program).await;
        let version = api.version(id).await;

        let r = api.submit(id, version, None).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        let body = r.json();
        assert_eq!(body["error"], "apply.cannot_submit");
        let listed = body["fields"].as_array().cloned().expect("fields");
        let step_of = |field: &str| {
            listed
                .iter()
                .find(|f| f["field"] == field)
                .map(|f| f["step"].as_str().unwrap_or_default().to_owned())
        };
        for field in [
            "choice_1",
            "exchange_from",
            "gpa",
            "funding_tuition",
            "emergency_phone",
        ] {
            assert_eq!(
                step_of(field).as_deref(),
                Some("info"),
                "{field} in {listed:?}"
            );
        }
        assert_eq!(
            step_of("languages").as_deref(),
            Some("languages"),
            "{listed:?}"
        );
        for t in detail["attachment_types"]
            .as_array()
            .expect("types")
            .iter()
            .filter(|t| t["required"] == json!(true))
        {
            let field = format!("attachment_{}", t["id"]);
            assert_eq!(
                step_of(&field).as_deref(),
                Some("attachments"),
                "{field} in {listed:?}"
            );
        }
        assert!(
            listed.iter().all(|f| f["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty() && !m.starts_with("err."))),
            "{listed:?}"
        );
        assert_eq!(
            api.get(&format!("/api/v1/applications/{id}")).await.json()["status"],
            "draft"
        );
    }
);

both!(
    the_same_idempotency_key_sent_ten_times_gives_the_same_answer_and_one_application,
    with_demo,
    |app| {
        let mut api = Api::signed_in(&app, STUDENT).await;
        let (program, detail) = api.open_program().await;
        let id = api.start(program).await;
        api.fill(id, &detail).await;
        let version = api.version(id).await;

        let first = api.submit(id, version, Some("phone-7f3a-0001")).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text());
        // A phone on a bad network may send the same submit many times: nine replays.
        for replay in 1..10 {
            let again = api.submit(id, version, Some("phone-7f3a-0001")).await;
            assert_eq!(
                again.status,
                StatusCode::OK,
                "replay {replay}: {}",
                again.text()
            );
            assert_eq!(again.json(), first.json(), "replay {replay}");
            assert_eq!(again.headers["idempotent-replayed"], "true");
        }
        // Without the key, the repeat is what it is: stale.
        assert_eq!(
            api.submit(id, version, None).await.status,
            StatusCode::CONFLICT
        );
        // The key belongs to that request: sent for another one, it is refused.
        let r = api.submit(id + 1, version, Some("phone-7f3a-0001")).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert_eq!(fields(&r), ["Idempotency-Key"]);

        let db = &app.state.db;
        let applications = db
            .count(
                &Query::select()
                    .expr(Expr::col("id").count())
                    .from("applications")
                    .and_where(Expr::col("program_id").eq(program))
                    .and_where(Expr::cust(format!(
                        "student_id = (SELECT id FROM users WHERE username = '{STUDENT}')"
                    )))
                    .to_owned(),
            )
            .await
            .expect("count");
        assert_eq!(applications, 1);
        let submits = db
            .count(
                &Query::select()
                    .expr(Expr::col("id").count())
                    .from("application_history")
                    .and_where(Expr::col("application_id").eq(id))
                    .and_where(Expr::col("action").eq("submit"))
                    .to_owned(),
            )
            .await
            .expect("count");
        assert_eq!(submits, 1, "submitted once");
    }
);

both!(
    a_wrong_profile_value_comes_back_beside_its_field_in_the_callers_language,
    with_demo,
    |app| {
        let mut api = Api::signed_in(&app, STUDENT).await;
        let mut profile = api.get("/api/v1/profile").await.json()["profile"].clone();
        profile["email"] = json!("12345@qq.com");
        profile["mobile"] = json!(12);
        api.c.cookies.insert("outbound_lang".into(), "en".into());
        let r = api.put("/api/v1/profile", profile.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        let mut listed = fields(&r);
        listed.sort();
        assert_eq!(listed, ["email", "mobile"]);
        let message = r.json()["fields"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            message.is_ascii() && !message.is_empty(),
            "English: {message}"
        );

        profile["email"] = json!("wang.xm@example.edu.cn");
        profile["mobile"] = json!("13800138000");
        let r = api.put("/api/v1/profile", profile).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["profile"]["email"], "wang.xm@example.edu.cn");
    }
);

both!(
    two_simultaneous_submits_with_one_idempotency_key_submit_once,
    with_demo,
    |app| {
        let mut api = Api::signed_in(&app, STUDENT).await;
        let (program, detail) = api.open_program().await;
        let id = api.start(program).await;
        api.fill(id, &detail).await;
        let version = api.version(id).await;

        let mut a = Api { c: api.c.clone() };
        let mut b = Api { c: api.c.clone() };
        let (ra, rb) = tokio::join!(
            a.submit(id, version, Some("double-tap")),
            b.submit(id, version, Some("double-tap"))
        );
        let statuses = [ra.status, rb.status];
        assert!(
            statuses.contains(&StatusCode::OK),
            "{statuses:?}: {} / {}",
            ra.text(),
            rb.text()
        );
        // The other one either replayed the answer or was told the same key is still running.
        assert!(
            statuses
                .iter()
                .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
            "{statuses:?}"
        );
        let replay = api.submit(id, version, Some("double-tap")).await;
        assert_eq!(replay.status, StatusCode::OK);
        assert_eq!(replay.json()["status"], "under_review");
        let history = api
            .get(&format!("/api/v1/applications/{id}/history"))
            .await
            .json();
        let submits = history["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|h| h["action"] == "submit")
            .count();
        assert_eq!(submits, 1);
    }
);

both!(
    a_new_student_changes_the_initial_password_through_the_api_before_anything_else,
    with_demo,
    |app| {
        let mut api = Api::anonymous(&app).await;
        let r = api
            .post(
                "/api/v1/session",
                json!({ "username": "2025010109", "password": "20250109" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["must_change_password"], json!(true));

        let r = api.get("/api/v1/programs").await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "JSON, not a redirect to the password page"
        );
        assert_eq!(r.json()["error"], "err.password.change_required");

        let r = api
        .post(
            "/api/v1/password",
            json!({ "old_password": "20250109", "new_password": "Zhao#Yiming2026", "confirm_password": "different" }),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&r), ["confirm_password"]);
        let r = api
        .post(
            "/api/v1/password",
            json!({ "old_password": "20250109", "new_password": "Zhao#Yiming2026", "confirm_password": "Zhao#Yiming2026" }),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["must_change_password"], json!(false));
        assert_eq!(r.json()["csrf_token"].as_str(), Some(api.c.csrf().as_str()));
        let r = api.get("/api/v1/programs").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
);
