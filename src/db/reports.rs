//! Reading applications as staff see them (申请查询, exports, statistics): one filtered,
//! role-scoped query over applications with their student, program, college and major.
//!
//! Building blocks are public so that other staff lists (the reviewer queue) add their own
//! conditions to the same query instead of writing another: [`from_joined`] is the FROM
//! clause with its table aliases (`a` applications, `s` students, `u` users, `p` programs,
//! `c` colleges, `m` majors), [`condition`] the WHERE clause of a [`Criteria`] within a
//! [`Scope`]. Drafts (填写中) are the student's own work in progress and never appear here.

use chrono::{DateTime, Utc};
use sea_query::{
    Cond, Condition, Expr, ExprTrait, Func, JoinType, LikeExpr, NullOrdering, Order, Query,
    SelectStatement,
};

use super::{Db, DbResult};
use crate::domain::status::Status;

/// Whose applications a member of staff may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every application: the international office, admins, academic and foreign affairs.
    All,
    /// Applications of students of these colleges only (college reviewers); none when empty.
    Colleges(Vec<i64>),
}

/// A parsed staff filter (see `services::reports::ApplicationFilter`, which builds it from a
/// query string). Every field left `None` / empty does not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Criteria {
    pub program_id: Option<i64>,
    pub college_id: Option<i64>,
    pub status: Option<Status>,
    /// 项目年度.
    pub year: Option<i64>,
    /// Submitted at or after this moment.
    pub submitted_from: Option<DateTime<Utc>>,
    /// Submitted strictly before this moment.
    pub submitted_before: Option<DateTime<Utc>>,
    /// Part of the student's name, student number, or the program's name or code.
    pub keyword: String,
    /// Only these applications (`Some(vec![])`: none). Not a filter-bar field: a caller that
    /// decides membership in Rust — the reviewer queue's stage rules, ticked checkboxes —
    /// narrows a list or an export to exactly its rows with it.
    pub application_ids: Option<Vec<i64>>,
}

/// How a page of the list is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// 提交时间.
    #[default]
    SubmittedAt,
    /// 姓名.
    Name,
    /// 状态, in the order of the lifecycle.
    Status,
}

/// The columns an exporter may need beyond the list's: left out of the query otherwise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extras {
    /// The 申请信息 JSON (志愿, GPA).
    pub info: bool,
    /// The sealed 证件号码.
    pub id_number: bool,
}

/// One application as staff lists show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffRow {
    pub id: i64,
    pub status: String,
    pub version: i64,
    pub stage_index: i64,
    pub workflow_template_id: Option<i64>,
    pub round_year: i64,
    pub is_late: bool,
    pub submitted_at: Option<DateTime<Utc>>,
    pub admitted_school_id: Option<i64>,
    pub student_id: i64,
    pub student_no: String,
    /// The profile's 姓名, else the account's display name.
    pub student_name: String,
    pub college_id: i64,
    pub college_zh: String,
    pub college_en: String,
    pub major_zh: Option<String>,
    pub major_en: Option<String>,
    pub grade: String,
    pub level: String,
    pub mobile: String,
    pub email: String,
    /// The profile's GPA (the application's own is in `info`).
    pub profile_gpa: String,
    pub id_number_masked: String,
    /// Empty unless [`Extras::id_number`] was asked for.
    pub id_number_enc: String,
    /// `''` unless [`Extras::info`] was asked for.
    pub info: String,
    pub program_id: i64,
    pub program_code: String,
    pub program_zh: String,
    pub program_en: String,
    pub program_type: String,
    pub country: String,
}

impl StaffRow {
    /// The status as the domain type (an unknown code reads as a draft).
    pub fn status(&self) -> Status {
        Status::from_code(&self.status).unwrap_or(Status::Draft)
    }
}

/// `applications a` joined with its student, account, program, college and major.
pub fn from_joined() -> SelectStatement {
    Query::select()
        .from_as("applications", "a")
        .join_as(
            JoinType::InnerJoin,
            "students",
            "s",
            Expr::col(("s", "user_id")).equals(("a", "student_id")),
        )
        .join_as(
            JoinType::InnerJoin,
            "users",
            "u",
            Expr::col(("u", "id")).equals(("a", "student_id")),
        )
        .join_as(
            JoinType::InnerJoin,
            "programs",
            "p",
            Expr::col(("p", "id")).equals(("a", "program_id")),
        )
        .join_as(
            JoinType::InnerJoin,
            "colleges",
            "c",
            Expr::col(("c", "id")).equals(("s", "college_id")),
        )
        .join_as(
            JoinType::LeftJoin,
            "majors",
            "m",
            Expr::col(("m", "id")).equals(("s", "major_id")),
        )
        .to_owned()
}

/// The student's name: the profile's 姓名, or the account's name while the profile has none.
fn student_name() -> Expr {
    Expr::case(
        Expr::col(("s", "name_zh")).eq(""),
        Expr::col(("u", "display_name")),
    )
    .finally(Expr::col(("s", "name_zh")))
    .into()
}

/// `%text%` for LIKE, lower-cased, with the LIKE wildcards of the text escaped.
fn contains(text: &str) -> LikeExpr {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    LikeExpr::new(p).escape('\\')
}

fn lower_contains(expr: Expr, text: &str) -> Expr {
    Expr::expr(Func::lower(expr)).like(contains(text))
}

/// How a condition will be used. A keyset walk over every matching row (an export) is fastest
/// when the database reads applications in id order and filters as it goes; an index on the
/// student's college or the status would instead make SQLite collect and sort every matching
/// row again for each page. For a walk, those two columns are compared through an expression
/// (`college_id + 0`, `LOWER(status)`), which keeps SQLite off their indexes (PostgreSQL
/// plans by cost either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    Page,
    Walk,
}

fn college_col(u: Use) -> Expr {
    match u {
        Use::Page => Expr::col(("s", "college_id")),
        Use::Walk => Expr::col(("s", "college_id")).add(0),
    }
}

fn status_col(u: Use) -> Expr {
    match u {
        Use::Page => Expr::col(("a", "status")),
        Use::Walk => Func::lower(Expr::col(("a", "status"))).into(),
    }
}

fn scope_condition_for(scope: &Scope, u: Use) -> Condition {
    let c = Cond::all().add(Expr::col(("a", "status")).ne(Status::Draft.code()));
    match scope {
        Scope::All => c,
        Scope::Colleges(ids) if ids.is_empty() => c.add(Expr::val(1).eq(0)),
        Scope::Colleges(ids) => c.add(college_col(u).is_in(ids.iter().copied())),
    }
}

/// The scope alone: what this person may see at all (drafts never).
pub fn scope_condition(scope: &Scope) -> Condition {
    scope_condition_for(scope, Use::Page)
}

/// The WHERE clause of `criteria` within `scope`, for a query built on [`from_joined`].
pub fn condition(criteria: &Criteria, scope: &Scope) -> Condition {
    condition_for(criteria, scope, Use::Page)
}

fn condition_for(criteria: &Criteria, scope: &Scope, u: Use) -> Condition {
    let mut c = scope_condition_for(scope, u);
    if let Some(id) = criteria.program_id {
        c = c.add(Expr::col(("a", "program_id")).eq(id));
    }
    if let Some(id) = criteria.college_id {
        c = c.add(college_col(u).eq(id));
    }
    if let Some(status) = criteria.status {
        c = c.add(status_col(u).eq(status.code()));
    }
    if let Some(year) = criteria.year {
        c = c.add(Expr::col(("a", "round_year")).eq(year));
    }
    if let Some(from) = criteria.submitted_from {
        c = c.add(Expr::col(("a", "submitted_at")).gte(from));
    }
    if let Some(before) = criteria.submitted_before {
        c = c.add(Expr::col(("a", "submitted_at")).lt(before));
    }
    match criteria.application_ids.as_deref() {
        None => {}
        Some([]) => c = c.add(Expr::val(1).eq(0)),
        Some(ids) => c = c.add(Expr::col(("a", "id")).is_in(ids.iter().copied())),
    }
    let keyword = criteria.keyword.trim();
    if !keyword.is_empty() {
        c = c.add(
            Cond::any()
                .add(lower_contains(Expr::col(("s", "name_zh")), keyword))
                .add(lower_contains(Expr::col(("u", "display_name")), keyword))
                .add(lower_contains(Expr::col(("s", "student_no")), keyword))
                .add(lower_contains(Expr::col(("p", "name_zh")), keyword))
                .add(lower_contains(Expr::col(("p", "name_en")), keyword))
                .add(lower_contains(Expr::col(("p", "code")), keyword)),
        );
    }
    c
}

/// The select list of [`StaffRow`].
fn select_rows(extras: Extras) -> SelectStatement {
    let mut q = from_joined();
    q.column(("a", "id"))
        .column(("a", "status"))
        .column(("a", "version"))
        .column(("a", "stage_index"))
        .column(("a", "workflow_template_id"))
        .column(("a", "round_year"))
        .column(("a", "is_late"))
        .column(("a", "submitted_at"))
        .column(("a", "admitted_school_id"))
        .column(("a", "student_id"))
        .column(("s", "student_no"))
        .expr_as(student_name(), "student_name")
        .column(("s", "college_id"))
        .expr_as(Expr::col(("c", "name_zh")), "college_zh")
        .expr_as(Expr::col(("c", "name_en")), "college_en")
        .expr_as(Expr::col(("m", "name_zh")), "major_zh")
        .expr_as(Expr::col(("m", "name_en")), "major_en")
        .column(("s", "grade"))
        .column(("s", "level"))
        .column(("s", "mobile"))
        .column(("s", "email"))
        .expr_as(Expr::col(("s", "gpa")), "profile_gpa")
        .column(("s", "id_number_masked"))
        .column(("a", "program_id"))
        .expr_as(Expr::col(("p", "code")), "program_code")
        .expr_as(Expr::col(("p", "name_zh")), "program_zh")
        .expr_as(Expr::col(("p", "name_en")), "program_en")
        .column(("p", "program_type"))
        .column(("p", "country"));
    if extras.id_number {
        q.column(("s", "id_number_enc"));
    } else {
        q.expr_as(Expr::val(""), "id_number_enc");
    }
    if extras.info {
        q.column(("a", "info"));
    } else {
        q.expr_as(Expr::val(""), "info");
    }
    q
}

/// The lifecycle position of the status, for sorting by 状态.
fn status_rank() -> Expr {
    let mut case = Expr::case(Expr::col(("a", "status")).eq(Status::ALL[0].code()), 0);
    for (i, s) in Status::ALL.iter().enumerate().skip(1) {
        case = case.case(Expr::col(("a", "status")).eq(s.code()), i as i64);
    }
    case.finally(Status::ALL.len() as i64).into()
}

/// One page of the list and the number of all matching applications.
#[derive(Debug, Clone)]
pub struct Page {
    pub rows: Vec<StaffRow>,
    pub total: i64,
}

/// The largest page served.
pub const MAX_PER_PAGE: u64 = 200;

/// One page (1-based) of the applications matching `criteria` within `scope`.
pub async fn page(
    db: &Db,
    criteria: &Criteria,
    scope: &Scope,
    sort: Sort,
    descending: bool,
    page: u64,
    per_page: u64,
) -> DbResult<Page> {
    let per_page = per_page.clamp(1, MAX_PER_PAGE);
    let page = std::cmp::max(page, 1);
    let order = if descending { Order::Desc } else { Order::Asc };
    let cond = condition(criteria, scope);
    let mut q = select_rows(Extras::default());
    q.cond_where(cond.clone());
    match sort {
        Sort::SubmittedAt => {
            q.order_by_with_nulls(("a", "submitted_at"), order.clone(), NullOrdering::Last);
        }
        Sort::Name => {
            q.order_by_expr(student_name(), order.clone())
                .order_by(("s", "student_no"), order.clone());
        }
        Sort::Status => {
            q.order_by_expr(status_rank(), order.clone())
                .order_by_with_nulls(("a", "submitted_at"), Order::Desc, NullOrdering::Last);
        }
    }
    q.order_by(("a", "id"), order)
        .limit(per_page)
        .offset(super::page_offset(page, per_page));
    let rows = db.all(&q).await?;
    let total = count(db, criteria, scope).await?;
    Ok(Page { rows, total })
}

/// How many applications match `criteria` within `scope`.
pub async fn count(db: &Db, criteria: &Criteria, scope: &Scope) -> DbResult<i64> {
    db.count(
        &from_joined()
            .expr(Expr::col(("a", "id")).count())
            .cond_where(condition(criteria, scope))
            .to_owned(),
    )
    .await
}

/// Up to `limit` matching applications with an id above `after_id`, by id: one step of a
/// keyset walk over any number of rows (an export), each step one cheap indexed query.
pub async fn after_id(
    db: &Db,
    criteria: &Criteria,
    scope: &Scope,
    extras: Extras,
    after_id: i64,
    limit: u64,
) -> DbResult<Vec<StaffRow>> {
    db.all(&walk_query(criteria, scope, extras, after_id, limit))
        .await
}

fn walk_query(
    criteria: &Criteria,
    scope: &Scope,
    extras: Extras,
    after_id: i64,
    limit: u64,
) -> SelectStatement {
    select_rows(extras)
        .cond_where(condition_for(criteria, scope, Use::Walk))
        .and_where(Expr::col(("a", "id")).gt(after_id))
        .order_by(("a", "id"), Order::Asc)
        .limit(std::cmp::max(limit, 1))
        .to_owned()
}

/// (status code, count) of the applications matching `criteria` within `scope`, ignoring the
/// criteria's own status (the 各状态数量 line above the list).
pub async fn status_counts(
    db: &Db,
    criteria: &Criteria,
    scope: &Scope,
) -> DbResult<Vec<(String, i64)>> {
    let criteria = Criteria {
        status: None,
        ..criteria.clone()
    };
    db.all(
        &from_joined()
            .column(("a", "status"))
            .expr(Expr::col(("a", "id")).count())
            .cond_where(condition(&criteria, scope))
            .group_by_col(("a", "status"))
            .to_owned(),
    )
    .await
}

/// What the statistics count by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    /// 项目年度.
    Year,
    /// 国家/地区 (dictionary code).
    Country,
    /// 项目类型 (dictionary code).
    ProgramType,
    /// 学院 (the college's code).
    College,
    /// 层次 (`StudyLevel` code).
    Level,
    /// 状态 (`Status` code).
    Status,
}

impl Dimension {
    pub const ALL: [Dimension; 6] = [
        Dimension::Year,
        Dimension::Country,
        Dimension::ProgramType,
        Dimension::College,
        Dimension::Level,
        Dimension::Status,
    ];

    /// The grouped value, as text.
    fn key(self) -> Expr {
        match self {
            Dimension::Year => Expr::col(("a", "round_year")).cast_as("TEXT"),
            Dimension::Country => Expr::col(("p", "country")),
            Dimension::ProgramType => Expr::col(("p", "program_type")),
            Dimension::College => Expr::col(("c", "code")),
            Dimension::Level => Expr::col(("s", "level")),
            Dimension::Status => Expr::col(("a", "status")),
        }
    }
}

/// A value of a dimension and how many applications have it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GroupCount {
    pub key: String,
    pub count: i64,
}

/// The applications within `scope` (of program year `year`, when given), counted by one
/// dimension. Every application counts once, so the counts add up to the total.
pub async fn group_counts(
    db: &Db,
    dimension: Dimension,
    scope: &Scope,
    year: Option<i64>,
) -> DbResult<Vec<GroupCount>> {
    let criteria = Criteria {
        year,
        ..Criteria::default()
    };
    db.all(
        &from_joined()
            .expr_as(dimension.key(), "key")
            .expr_as(Expr::col(("a", "id")).count(), "count")
            .cond_where(condition(&criteria, scope))
            .add_group_by([dimension.key()])
            .to_owned(),
    )
    .await
}

/// A college with its names, active or not (old applications keep their college).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CollegeName {
    pub id: i64,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

/// Every college, by code.
pub async fn colleges(db: &Db) -> DbResult<Vec<CollegeName>> {
    db.all(
        &Query::select()
            .columns(["id", "code", "name_zh", "name_en"])
            .from("colleges")
            .order_by("code", Order::Asc)
            .to_owned(),
    )
    .await
}

/// A program as the filter's select shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProgramChoice {
    pub id: i64,
    pub name_zh: String,
    pub name_en: String,
    pub year: i64,
}

/// The programs that have applications staff can see within `scope`, newest year first.
pub async fn programs_with_applications(db: &Db, scope: &Scope) -> DbResult<Vec<ProgramChoice>> {
    db.all(
        &Query::select()
            .columns(["id", "name_zh", "name_en", "year"])
            .from("programs")
            .and_where(
                Expr::col(("programs", "id")).in_subquery(
                    from_joined()
                        .column(("a", "program_id"))
                        .cond_where(scope_condition(scope))
                        .to_owned(),
                ),
            )
            .order_by("year", Order::Desc)
            .order_by("id", Order::Desc)
            .to_owned(),
    )
    .await
}

/// The program years that have applications within `scope`, newest first.
pub async fn years(db: &Db, scope: &Scope) -> DbResult<Vec<i64>> {
    let rows: Vec<(i64,)> = db
        .all(
            &from_joined()
                .distinct()
                .column(("a", "round_year"))
                .cond_where(scope_condition(scope))
                .order_by(("a", "round_year"), Order::Desc)
                .to_owned(),
        )
        .await?;
    Ok(rows.into_iter().map(|(y,)| y).collect())
}

/// A workflow template's stages (JSON), by template id.
pub async fn template_stages(db: &Db, id: i64) -> DbResult<Option<String>> {
    db.scalar(
        &Query::select()
            .column("stages")
            .from("workflow_templates")
            .and_where(Expr::col("id").eq(id))
            .to_owned(),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

    fn sql(criteria: &Criteria, scope: &Scope) -> String {
        from_joined()
            .expr(Expr::col(("a", "id")).count())
            .cond_where(condition(criteria, scope))
            .to_owned()
            .to_string(SqliteQueryBuilder)
    }

    #[test]
    fn drafts_are_never_in_a_staff_list() {
        assert!(sql(&Criteria::default(), &Scope::All).contains(r#""a"."status" <> 'draft'"#));
    }

    #[test]
    fn a_college_reviewer_is_limited_to_their_colleges_and_without_any_sees_nothing() {
        let s = sql(&Criteria::default(), &Scope::Colleges(vec![3, 5]));
        assert!(s.contains(r#""s"."college_id" IN (3, 5)"#), "{s}");
        let none = sql(&Criteria::default(), &Scope::Colleges(vec![]));
        assert!(none.contains("1 = 0"), "{none}");
    }

    #[test]
    fn a_list_can_be_narrowed_to_given_applications() {
        let some = sql(
            &Criteria {
                application_ids: Some(vec![7, 9]),
                ..Criteria::default()
            },
            &Scope::All,
        );
        assert!(some.contains(r#""a"."id" IN (7, 9)"#), "{some}");
        let none = sql(
            &Criteria {
                application_ids: Some(vec![]),
                ..Criteria::default()
            },
            &Scope::All,
        );
        assert!(none.contains("1 = 0"), "{none}");
    }

    #[test]
    fn keyword_wildcards_are_escaped_and_matched_without_case() {
        let s = sql(
            &Criteria {
                keyword: "50%_A".into(),
                ..Criteria::default()
            },
            &Scope::All,
        );
        assert!(s.contains(r"'%50\%\_a%' ESCAPE '\'"), "{s}");
        assert!(s.contains(r#"LOWER("s"."student_no")"#), "{s}");
    }

    /// SQLite's plan for one step of an export walk.
    async fn walk_plan(criteria: Criteria, scope: Scope) -> Vec<String> {
        let dir = std::env::temp_dir().join(format!("outbound-plan-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.join("plan.db").display()))
            .await
            .unwrap();
        crate::db::migrate::run(&db).await.unwrap();
        let sql =
            walk_query(&criteria, &scope, Extras::default(), 5, 1000).to_string(SqliteQueryBuilder);
        let Db::Sqlite(pool) = &db else {
            unreachable!()
        };
        let rows: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                .fetch_all(pool)
                .await
                .unwrap();
        db.close().await;
        std::fs::remove_dir_all(&dir).ok();
        rows.into_iter().map(|r| r.3).collect()
    }

    #[tokio::test]
    async fn an_export_walk_reads_applications_in_id_order_whatever_the_filter() {
        for (criteria, scope) in [
            (Criteria::default(), Scope::All),
            (
                Criteria {
                    status: Some(Status::UnderReview),
                    college_id: Some(2),
                    ..Criteria::default()
                },
                Scope::All,
            ),
            (Criteria::default(), Scope::Colleges(vec![1, 2])),
        ] {
            let plan = walk_plan(criteria.clone(), scope.clone()).await;
            assert!(
                plan.first()
                    .is_some_and(|p| p.starts_with("SEARCH a USING INTEGER PRIMARY KEY")),
                "{criteria:?} {scope:?}: {plan:?}"
            );
            assert!(
                !plan.iter().any(|p| p.contains("TEMP B-TREE")),
                "no sort per page: {plan:?}"
            );
        }
    }

    #[test]
    fn the_year_key_is_cast_to_text_on_both_backends() {
        let q = from_joined()
            .expr_as(Dimension::Year.key(), "key")
            .to_owned();
        assert!(q.to_string(SqliteQueryBuilder).contains("CAST"));
        assert!(q.to_string(PostgresQueryBuilder).contains("CAST"));
    }
}
