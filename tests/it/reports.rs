//! Staff reports through HTTP on both databases: 申请查询 and its scope, the .xlsx export read
//! back with calamine (columns, Chinese headers, masking, text-only cells, many rows), and the
//! statistics page against its own tables and a count made here.

use std::collections::BTreeMap;
use std::io::Cursor;

use axum::http::StatusCode;
use calamine::{Data, Reader, Xlsx};
use sea_query::{Expr, ExprTrait, JoinType, Query};

use crate::both;
use crate::support::{Client, Resp, TestApp};

const STAFF_PASSWORD: &str = "Staff@2026";
const STUDENT_PASSWORD: &str = "Demo@2026";
/// Reviews 外国语学院 (college code 01) only.
const REVIEWER: &str = "wxy_reviewer";
const OFFICE: &str = "gjc_officer";
const SHEET: &str = "申请名单";

/// The rows of the export's sheet as text, and its formulas (row by row).
struct Sheet {
    rows: Vec<Vec<String>>,
    formulas: Vec<String>,
}

fn read_xlsx(resp: &Resp) -> Sheet {
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(
        resp.headers.get("content-type").unwrap(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(resp.body.clone())).expect("a valid xlsx");
    let range = book.worksheet_range(SHEET).expect("the sheet 申请名单");
    let rows = range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::String(s) => s.clone(),
                    Data::Empty => String::new(),
                    other => panic!("every cell is text, found {other:?}"),
                })
                .collect()
        })
        .collect();
    let formulas = book
        .worksheet_formula(SHEET)
        .expect("formulas readable")
        .rows()
        .flat_map(|r| r.to_vec())
        .filter(|f| !f.is_empty())
        .collect();
    Sheet { rows, formulas }
}

async fn staff(app: &TestApp, username: &str) -> Client {
    app.signed_in(username, STAFF_PASSWORD).await
}

/// An application staff can see, with what its export should show.
struct Visible {
    student_no: String,
    id_number_enc: String,
    id_number_masked: String,
    mobile: String,
    college_code: String,
    status: String,
}

/// Every application staff can see (every status but 填写中), by id.
async fn visible_apps(app: &TestApp) -> Vec<Visible> {
    let rows: Vec<(String, String, String, String, String, String)> = app
        .state
        .db
        .all(
            &Query::select()
                .column(("s", "student_no"))
                .column(("s", "id_number_enc"))
                .column(("s", "id_number_masked"))
                .column(("s", "mobile"))
                .column(("c", "code"))
                .column(("a", "status"))
                .from_as("applications", "a")
                .join_as(
                    JoinType::InnerJoin,
                    "students",
                    "s",
                    Expr::col(("s", "user_id")).equals(("a", "student_id")),
                )
                .join_as(
                    JoinType::InnerJoin,
                    "colleges",
                    "c",
                    Expr::col(("c", "id")).equals(("s", "college_id")),
                )
                .and_where(Expr::col(("a", "status")).ne("draft"))
                .order_by(("a", "id"), sea_query::Order::Asc)
                .to_owned(),
        )
        .await
        .unwrap();
    rows.into_iter()
        .map(|r| Visible {
            student_no: r.0,
            id_number_enc: r.1,
            id_number_masked: r.2,
            mobile: r.3,
            college_code: r.4,
            status: r.5,
        })
        .collect()
}

/// The Chinese label of a status code.
fn status_label(code: &str) -> String {
    let status = outbound::domain::status::Status::from_code(code).expect("a status code");
    outbound::i18n::Lang::Zh.t(status.label_key()).to_owned()
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// The number of applications staff can see, counted by `column` (an aliased expression).
async fn count_by(app: &TestApp, column: (&'static str, &'static str)) -> BTreeMap<String, i64> {
    let rows: Vec<(String, i64)> = app
        .state
        .db
        .all(
            &Query::select()
                .expr(Expr::col(column))
                .expr(Expr::col(("a", "id")).count())
                .from_as("applications", "a")
                .join_as(
                    JoinType::InnerJoin,
                    "students",
                    "s",
                    Expr::col(("s", "user_id")).equals(("a", "student_id")),
                )
                .join_as(
                    JoinType::InnerJoin,
                    "colleges",
                    "c",
                    Expr::col(("c", "id")).equals(("s", "college_id")),
                )
                .and_where(Expr::col(("a", "status")).ne("draft"))
                .group_by_col(column)
                .to_owned(),
        )
        .await
        .unwrap();
    rows.into_iter().collect()
}

both!(
    the_office_exports_the_chosen_columns_with_chinese_headers_and_full_id_numbers,
    with_demo,
    |app| {
        let expected = visible_apps(&app).await;
        assert!(
            !expected.is_empty(),
            "the demo set has submitted applications"
        );
        let mut c = staff(&app, OFFICE).await;
        let resp = c
            .get("/staff/applications/export.xlsx?col=student_no&col=name&col=college&col=status&col=id_number&col=mobile")
            .await;
        let disposition = resp
            .headers
            .get("content-disposition")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            disposition.starts_with("attachment;")
                && disposition.contains("filename*=UTF-8''%E7%94%B3%E8%AF%B7%E5%90%8D%E5%8D%95_"),
            "{disposition}"
        );
        let sheet = read_xlsx(&resp);
        assert_eq!(
            sheet.rows[0],
            ["学号", "姓名", "学院", "状态", "证件号码", "手机"]
        );
        // One row per application, in id order, each with its student's whole numbers.
        assert_eq!(sheet.rows.len(), 1 + expected.len());
        for (row, app_row) in sheet.rows[1..].iter().zip(&expected) {
            assert_eq!(row[0], app_row.student_no);
            assert_eq!(row[3], status_label(&app_row.status));
            assert_eq!(
                row[4],
                app.state.key.open(&app_row.id_number_enc).unwrap(),
                "the whole ID number"
            );
            assert!(!row[4].contains('*'));
            assert_eq!(row[5], app_row.mobile);
            assert!(!row[1].is_empty() && !row[2].is_empty());
        }
        // Nothing is left in the data folder, and the export is in the audit log.
        let dir = outbound::export::export_dir(&app.dir);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        let audits = app
            .state
            .db
            .count(
                &Query::select()
                    .expr(Expr::col("id").count())
                    .from("audit_log")
                    .and_where(Expr::col("action").eq("report.export"))
                    // The detail is written in words, in the exporter's language.
                    .and_where(Expr::col("detail").like(format!(
                        "%{}%",
                        outbound::i18n::Lang::Zh.t("audit.export.personal_full")
                    )))
                    .to_owned(),
            )
            .await
            .unwrap();
        assert_eq!(audits, 1);
    }
);

both!(
    a_college_reviewer_lists_and_exports_only_their_college_with_masked_numbers,
    with_demo,
    |app| {
        let all = visible_apps(&app).await;
        let own: Vec<&Visible> = all.iter().filter(|a| a.college_code == "01").collect();
        assert!(!own.is_empty() && own.len() < all.len());
        let own_numbers = sorted(own.iter().map(|a| a.student_no.clone()).collect());

        let mut c = staff(&app, REVIEWER).await;
        let list = c.get("/staff/applications").await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.text());
        assert!(list.text().contains(&format!("共 {} 条", own.len())));
        let listed = list.select("#staff-applications tbody .student-no");
        assert!(!listed.is_empty());
        assert!(
            listed.iter().all(|no| own_numbers.contains(no)),
            "the list holds only the reviewer's college: {listed:?}"
        );

        let sheet = read_xlsx(
            &c.get("/staff/applications/export.xlsx?col=student_no&col=college&col=id_number&col=mobile")
                .await,
        );
        assert_eq!(sheet.rows[0], ["学号", "学院", "证件号码", "手机"]);
        assert_eq!(sheet.rows.len(), 1 + own.len());
        for (row, a) in sheet.rows[1..].iter().zip(&own) {
            assert_eq!(row[0], a.student_no);
            assert_eq!(row[1], "外国语学院");
            assert_eq!(row[2], a.id_number_masked);
            assert!(row[2].contains("***"), "{}", row[2]);
            assert_eq!(row[3], outbound::export::mask_mobile(&a.mobile));
            assert_ne!(row[3], a.mobile);
        }

        // Asking for another college by id finds nothing, in the list and in the export.
        let other: i64 = app
            .state
            .db
            .scalar(
                &Query::select()
                    .column("id")
                    .from("colleges")
                    .and_where(Expr::col("code").eq("02"))
                    .to_owned(),
            )
            .await
            .unwrap()
            .unwrap();
        let list = c.get(&format!("/staff/applications?college={other}")).await;
        assert!(list.select("#staff-applications tbody tr").is_empty());
        let sheet = read_xlsx(
            &c.get(&format!(
                "/staff/applications/export.xlsx?college={other}&col=student_no"
            ))
            .await,
        );
        assert_eq!(sheet.rows.len(), 1, "only the header");
    }
);

both!(
    a_value_that_looks_like_a_formula_is_stored_as_text,
    with_demo,
    |app| {
        let formula = "=HYPERLINK(\"http://evil.example\",\"点击\")";
        let mut tx = app.state.db.begin().await.unwrap();
        tx.update(
            &Query::update()
                .table("students")
                .values([("email", formula.into()), ("name_zh", "+1+2".into())])
                .and_where(Expr::col("student_no").eq("2024010207"))
                .to_owned(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let mut c = staff(&app, OFFICE).await;
        let sheet = read_xlsx(
            &c.get("/staff/applications/export.xlsx?col=student_no&col=name&col=email")
                .await,
        );
        let row = sheet
            .rows
            .iter()
            .find(|r| r[0] == "2024010207")
            .expect("the student's row");
        assert_eq!(row[1], "+1+2");
        assert_eq!(row[2], formula);
        assert!(sheet.formulas.is_empty(), "{:?}", sheet.formulas);
    }
);

both!(an_export_walks_past_many_pages_of_rows, with_demo, |app| {
    // 2,500 more submitted copies of one application: the export reads them 1,000 at a
    // time by id and must meet each exactly once.
    let before = visible_apps(&app).await;
    let in_review = before.iter().filter(|a| a.status == "under_review").count();
    let (id,): (i64,) = app
        .state
        .db
        .optional(
            &Query::select()
                .column("id")
                .from("applications")
                .and_where(Expr::col("status").eq("under_review"))
                .order_by("id", sea_query::Order::Asc)
                .limit(1)
                .to_owned(),
        )
        .await
        .unwrap()
        .unwrap();
    let mut tx = app.state.db.begin().await.unwrap();
    tx.execute_raw(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500) \
             INSERT INTO applications (student_id, program_id, round_year, status, version, \
             workflow_template_id, stage_index, info, created_at, updated_at, submitted_at) \
             SELECT a.student_id, a.program_id, a.round_year, a.status, a.version, \
             a.workflow_template_id, a.stage_index, a.info, a.created_at, a.updated_at, \
             a.submitted_at FROM applications a CROSS JOIN n WHERE a.id = {id}"
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut c = staff(&app, OFFICE).await;
    let sheet = read_xlsx(
        &c.get("/staff/applications/export.xlsx?col=student_no&col=stage&col=choice_1")
            .await,
    );
    assert_eq!(sheet.rows.len(), 1 + before.len() + 2500);
    assert_eq!(
        sheet.rows[0],
        ["学号", "第一志愿", "当前环节"],
        "columns in file order"
    );
    assert!(
        sheet.rows[1..].iter().all(|r| !r[1].is_empty()),
        "every application names its first choice"
    );
    assert_eq!(
        sheet.rows[1..].iter().filter(|r| !r[2].is_empty()).count(),
        in_review + 2500,
        "every application under review names its stage"
    );
    let list = c.get("/staff/applications").await;
    assert!(
        list.text()
            .contains(&format!("共 {} 条", before.len() + 2500)),
        "the pager counts them all"
    );
});

both!(
    the_statistics_match_their_tables_and_a_count_made_here,
    with_demo,
    |app| {
        let by_college = count_by(&app, ("c", "name_zh")).await;
        let by_status = count_by(&app, ("a", "status")).await;
        let total: i64 = by_college.values().sum();
        assert_eq!(total, visible_apps(&app).await.len() as i64);
        assert!(total > 0);

        let mut c = staff(&app, OFFICE).await;
        let page = c.get("/staff/statistics").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        for code in [
            "year",
            "country",
            "program_type",
            "college",
            "level",
            "status",
        ] {
            let labels = page.select(&format!("#stat-{code} tbody th"));
            let counts: Vec<i64> = page
                .select(&format!("#stat-{code} tbody td.count"))
                .iter()
                .map(|n| n.parse().unwrap())
                .collect();
            assert_eq!(labels.len(), counts.len());
            assert_eq!(
                counts.iter().sum::<i64>(),
                total,
                "{code} adds up to every application"
            );
            let table: Vec<String> = labels
                .iter()
                .zip(&counts)
                .map(|(l, n)| format!("{l}: {n}"))
                .collect();
            let chart = page.select(&format!("#stat-{code} svg .bar-group title"));
            assert_eq!(chart, table, "the {code} chart shows the table's numbers");
            assert_eq!(
                page.select(&format!("#stat-{code} tfoot .total")),
                [total.to_string()]
            );
        }
        let colleges: BTreeMap<String, i64> = page
            .select("#stat-college tbody th")
            .into_iter()
            .zip(page.select("#stat-college tbody td.count"))
            .map(|(l, n)| (l, n.parse().unwrap()))
            .collect();
        assert_eq!(colleges, by_college);
        let statuses: BTreeMap<String, i64> = page
            .select("#stat-status tbody th")
            .into_iter()
            .zip(page.select("#stat-status tbody td.count"))
            .map(|(l, n)| (l, n.parse().unwrap()))
            .collect();
        let expected: BTreeMap<String, i64> = by_status
            .iter()
            .map(|(code, n)| (status_label(code), *n))
            .collect();
        assert_eq!(statuses, expected);
        // A year filter counts that year only; a year that is not one is a field error.
        let year = page.select("#s-year option")[1].clone();
        let one_year = c.get(&format!("/staff/statistics?year={year}")).await;
        assert_eq!(one_year.status, StatusCode::OK);
        assert!(
            one_year
                .select("#stat-year tbody th")
                .iter()
                .all(|y| *y == year)
        );
        let bad = c.get("/staff/statistics?year=abc").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.select(".field-error"), ["请选择正确的项目年度"]);
        // The chart carries no style attribute and no script (the CSP forbids both).
        let svg = page.text();
        let start = svg.find("<svg class=\"chart\"").unwrap();
        let chart = &svg[start..];
        let chart = &chart[..chart.find("</svg>").unwrap()];
        assert!(!chart.contains("style=") && !chart.contains("<script"));
    }
);

both!(
    bad_filter_input_is_shown_beside_the_field_and_never_a_500,
    with_demo,
    |app| {
        let mut c = staff(&app, OFFICE).await;
        let r = c
            .get("/staff/applications?from=2026-13-45&to=2026-01-01&status=nonsense&keyword=x")
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            r.select("#f-from-error"),
            ["请按“年-月-日”格式填写日期，如2024-09-01"]
        );
        assert_eq!(r.select("#f-status-error"), ["请从列表中选择"]);
        assert_eq!(
            crate::journey::attr(&r, "#f-keyword", "value"),
            "x",
            "the input is kept"
        );
        let reversed = c
            .get("/staff/applications?from=2026-03-10&to=2026-03-01")
            .await;
        assert_eq!(reversed.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reversed.select("#f-to-error"), ["结束日期不能早于开始日期"]);

        let export = c
            .get("/staff/applications/export.xlsx?from=yesterday&col=name")
            .await;
        assert_eq!(export.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!export.select("#f-from-error").is_empty());
        let no_columns = c
            .get("/staff/applications/export.xlsx?status=under_review")
            .await;
        assert_eq!(no_columns.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            no_columns.select("#export-columns-error"),
            ["请至少选择一列"]
        );
        let tampered = c
            .get("/staff/applications/export.xlsx?col=password_hash")
            .await;
        assert_eq!(tampered.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
);

both!(
    the_list_filters_by_keyword_and_status_and_sorts_by_name,
    with_demo,
    |app| {
        let all = visible_apps(&app).await;
        assert!(all.len() <= 20, "the demo set fits on one page");
        let of_student = all.iter().filter(|a| a.student_no == "2022040203").count();
        assert!(of_student >= 1);
        let mut c = staff(&app, OFFICE).await;
        let one = c.get("/staff/applications?keyword=2022040203").await;
        assert_eq!(
            one.select("#staff-applications tbody .student-no"),
            vec!["2022040203"; of_student]
        );
        let none = c.get("/staff/applications?status=completed").await;
        assert!(none.select("#staff-applications tbody tr").is_empty());
        assert!(none.text().contains("共 0 条"));
        let asc = c.get("/staff/applications?sort=name&dir=asc").await;
        let desc = c.get("/staff/applications?sort=name&dir=desc").await;
        let mut names = asc.select("#staff-applications tbody tr td:nth-child(2)");
        assert_eq!(names.len(), all.len());
        names.reverse();
        assert_eq!(
            names,
            desc.select("#staff-applications tbody tr td:nth-child(2)")
        );
        // The counts per status cover every listed application.
        let counts: i64 = one
            .select(".status-counts .count")
            .iter()
            .skip(1)
            .map(|n| n.parse::<i64>().unwrap())
            .sum();
        assert_eq!(counts as usize, of_student);
    }
);

both!(
    students_and_partners_are_refused_every_report,
    with_demo,
    |app| {
        let mut student = app.signed_in("2023010101", STUDENT_PASSWORD).await;
        let mut partner = staff(&app, "partner_demo").await;
        for path in [
            "/staff/applications",
            "/staff/applications/export.xlsx?col=name&col=id_number",
            "/staff/statistics",
        ] {
            assert_eq!(
                student.get(path).await.status,
                StatusCode::FORBIDDEN,
                "{path}"
            );
            assert_eq!(
                partner.get(path).await.status,
                StatusCode::FORBIDDEN,
                "{path}"
            );
        }
        let menu = student.get("/").await;
        assert!(!menu.text().contains("/staff/statistics"));
        let office = staff(&app, OFFICE).await.get("/").await;
        assert!(office.text().contains("href=\"/staff/applications\""));
        assert!(office.text().contains("href=\"/staff/statistics\""));
    }
);
