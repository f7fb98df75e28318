//! The benchmark's data generator (`outbound generate`) and storage ceiling, on small sizes, so
//! that `bench/run` keeps working on both databases.

use axum::http::StatusCode;
use outbound::generate::{self, RUSH_FIRST, Sizes};

use crate::both;
use crate::support::{TestApp, ids};

const STUDENT_PASSWORD: &str = "Demo@2026";
const STAFF_PASSWORD: &str = "Staff@2026";

async fn count(app: &TestApp, sql: &str) -> i64 {
    ids(app, sql).await[0]
}

both!(
    the_generator_adds_programs_rush_students_and_applications_that_the_server_serves,
    spawn,
    |app| {
        let sizes = Sizes {
            programs: 20,
            students: 6,
            applications: 300,
        };
        let made = generate::generate(&app.state.db, &app.state.key, &app.state.storage, sizes)
            .await
            .expect("generate");
        assert_eq!(made.bulk_students, 15);
        assert!(made.colleges >= 2, "{made:?}");
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM programs WHERE status = 'published'"
            )
            .await,
            20
        );
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM users WHERE username >= '2099100001' AND username <= '2099100006'"
            )
            .await,
            6
        );
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM applications a JOIN users u ON u.id = a.student_id WHERE u.username >= '2099500001'"
            )
            .await,
            300
        );
        // The bulk applications are spread over colleges and statuses.
        assert!(
            count(
                &app,
                "SELECT COUNT(DISTINCT s.college_id) FROM applications a JOIN students s ON s.user_id = a.student_id"
            )
            .await
                >= 2
        );
        assert!(count(&app, "SELECT COUNT(DISTINCT status) FROM applications").await >= 6);

        // A rush student signs in and may apply to a generated program.
        let mut student = app
            .signed_in(&RUSH_FIRST.to_string(), STUDENT_PASSWORD)
            .await;
        let list = student
            .get("/api/v1/programs?open_only=true&per_page=100")
            .await;
        assert_eq!(list.status, StatusCode::OK);
        let items = list.json()["items"].as_array().cloned().unwrap();
        let bench: Vec<_> = items
            .iter()
            .filter(|p| p["code"].as_str().is_some_and(|c| c.starts_with("BENCH-")))
            .collect();
        assert!(!bench.is_empty(), "no generated program in {items:?}");
        assert!(
            bench
                .iter()
                .all(|p| p["eligibility"]["can_apply"] == serde_json::Value::Bool(true)),
            "{bench:?}"
        );

        // The office's queue and the staff list page over them.
        let mut office = app.signed_in("gjc_officer", STAFF_PASSWORD).await;
        let queue = office
            .get("/staff/reviews?status=under_review&q=%E5%AD%A6%E7%94%9F&sort=submitted&page=2")
            .await;
        assert_eq!(queue.status, StatusCode::OK);
        assert!(!queue.select("#queue tbody tr a").is_empty());
        let export = office
            .get("/staff/applications/export.xlsx?col=student_no&col=name&col=status")
            .await;
        assert_eq!(export.status, StatusCode::OK);

        // A second run refuses instead of doubling the data.
        let again =
            generate::generate(&app.state.db, &app.state.key, &app.state.storage, sizes).await;
        assert!(again.is_err());
    }
);

both!(
    the_storage_ceiling_commits_every_row_it_counts,
    spawn,
    |app| {
        let ceiling = generate::commit_ceiling(&app.state.db, 60, 8)
            .await
            .expect("ceiling");
        assert_eq!(ceiling.commits, 60);
        assert!(ceiling.per_second > 0.0);
    }
);

both!(
    the_queue_pages_alike_whether_it_sorts_the_matches_itself_or_lets_sql_walk_the_order,
    spawn,
    |app| {
        use outbound::db::review::{self, QueueFilter, Slot, Sort};
        use outbound::domain::status::Status;
        let sizes = Sizes {
            programs: 12,
            students: 0,
            applications: 400,
        };
        generate::generate(&app.state.db, &app.state.key, &app.state.storage, sizes)
            .await
            .expect("generate");
        // Both application stages of every template, for everyone and for two colleges.
        let templates = ids(&app, "SELECT id FROM workflow_templates ORDER BY id").await;
        let colleges = ids(&app, "SELECT id FROM colleges ORDER BY id LIMIT 2").await;
        let slots_for = |colleges: Option<Vec<i64>>| -> Vec<Slot> {
            templates
                .iter()
                .flat_map(|t| {
                    let colleges = colleges.clone();
                    (0..2).map(move |stage| Slot {
                        template_id: *t,
                        stage_index: stage,
                        status: Status::UnderReview,
                        colleges: colleges.clone(),
                    })
                })
                .collect()
        };
        for slots in [slots_for(None), slots_for(Some(colleges.clone()))] {
            for sort in Sort::ALL {
                for keyword in ["", "学生", "2099500003"] {
                    let f = QueueFilter {
                        keyword: keyword.into(),
                        sort,
                        ..Default::default()
                    };
                    let counts = review::counts(&app.state.db, &slots, &f).await.unwrap();
                    let total = review::total(&counts, &f);
                    assert!(total > 0 || !keyword.is_empty(), "{sort:?} {keyword}");
                    for page in 1..=3 {
                        let sorted_here = review::queue(&app.state.db, &slots, &f, page, 0)
                            .await
                            .unwrap();
                        let walked = review::queue(&app.state.db, &slots, &f, page, i64::MAX)
                            .await
                            .unwrap();
                        let ids_of = |rows: &[review::QueueRow]| {
                            rows.iter().map(|r| r.id).collect::<Vec<_>>()
                        };
                        assert_eq!(
                            ids_of(&sorted_here),
                            ids_of(&walked),
                            "{sort:?} '{keyword}' page {page}"
                        );
                        let expected =
                            usize::try_from((total - (page as i64 - 1) * 20).clamp(0, 20)).unwrap();
                        assert_eq!(walked.len(), expected, "{sort:?} '{keyword}' page {page}");
                    }
                }
            }
        }
    }
);
