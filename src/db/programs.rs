//! Reading programs (交流项目, SPEC §4): one program with its partner schools and attachment
//! types, and the students' catalogue — filtered, counted and paginated in SQL.
//!
//! Only `published` and `closed` programs are ever shown to students ("visible"); drafts and
//! programs waiting for approval stay with the office. Whether a visible program takes
//! applications right now is the domain's [`registration`] rule, asked through
//! [`ProgramRow::registration`] so that the list, the detail page and submit agree.
//!
//! The staff side (项目管理, `services::program_admin`) reads every program whatever its
//! status ([`ManagedProgram`], [`managed_page`]), the application counts that guard its
//! lifecycle, and the versions of the workflow templates.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_query::{
    Cond, Condition, Expr, ExprTrait, Func, LikeExpr, NullOrdering, Order, Query, SelectStatement,
};

use super::{Db, DbResult, Tx};
use crate::domain::application::{Registration, registration};
use crate::domain::eligibility::ProgramRules;
use crate::domain::files::FileFormat;
use crate::domain::program_status::ProgramStatus;
use crate::domain::status::Status;
use crate::domain::values::StudyLevel;

/// Program statuses a student may see.
pub const VISIBLE_STATUSES: [&str; 2] = [
    ProgramStatus::Published.code(),
    ProgramStatus::Closed.code(),
];

/// One program, as stored.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ProgramRow {
    pub id: i64,
    /// 项目编号.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// 项目年度.
    pub year: i64,
    /// 项目学期: JSON list of `semester` dictionary codes.
    pub semesters: String,
    /// 项目起止日期, `YYYY-MM-DD` (or empty).
    pub start_date: String,
    pub end_date: String,
    /// 项目时长, as the office writes it (一学年, 4周 …).
    pub duration: String,
    /// 项目性质: a `program_nature` dictionary code.
    pub nature: String,
    /// 地区类别: `international` or `hmt` (港澳台).
    pub region_kind: String,
    /// 国家/地区: a `country` dictionary code.
    pub country: String,
    /// 项目类型: a `program_type` dictionary code.
    pub program_type: String,
    /// 项目费用模式.
    pub fee_mode: String,
    /// 费用.
    pub fee: String,
    /// 项目期限: `long` or `short`.
    pub term: String,
    /// 授课形式: `offline` or `online`.
    pub teaching_mode: String,
    /// 其他说明: simple Markdown as the office wrote it (the program page shows it rendered and
    /// cleaned, `web::markdown`); plain text reads as before.
    pub description: String,
    /// 项目主办单位.
    pub host_unit: String,
    /// 申报开始时间.
    pub reg_start: DateTime<Utc>,
    /// 申报结束时间.
    pub reg_end: DateTime<Utc>,
    /// 申请对象: JSON list of `StudyLevel` codes (empty = everyone).
    pub levels: String,
    /// 申请年级: JSON list (empty = every grade).
    pub grades: String,
    /// 招生专业: JSON list of major ids (empty = every major).
    pub major_ids: String,
    /// GPA要求.
    pub min_gpa: Option<f64>,
    /// 是否有面试环节.
    pub has_interview: bool,
    /// 是否允许补录.
    pub allows_late: bool,
    /// Active applications a student may hold in this round (None = the system default).
    pub max_per_student: Option<i64>,
    /// 申报须知.
    pub notice: String,
    /// The review workflow template's code.
    pub workflow_code: String,
    /// `school` (【校级项目】) or `partner` (【合作方】).
    pub source: String,
    /// `draft`, `pending_approval`, `published` or `closed`.
    pub status: String,
    /// 是否有效.
    pub active: bool,
    pub published_at: Option<DateTime<Utc>>,
}

/// The columns of [`ProgramRow`], in its order.
pub(crate) const PROGRAM_COLUMNS: [&str; 34] = [
    "id",
    "code",
    "name_zh",
    "name_en",
    "year",
    "semesters",
    "start_date",
    "end_date",
    "duration",
    "nature",
    "region_kind",
    "country",
    "program_type",
    "fee_mode",
    "fee",
    "term",
    "teaching_mode",
    "description",
    "host_unit",
    "reg_start",
    "reg_end",
    "levels",
    "grades",
    "major_ids",
    "min_gpa",
    "has_interview",
    "allows_late",
    "max_per_student",
    "notice",
    "workflow_code",
    "source",
    "status",
    "active",
    "published_at",
];

/// A JSON list of strings; anything else (a number, a bad document) is read leniently so that a
/// hand-edited row never breaks a page.
fn json_strings(raw: &str) -> Vec<String> {
    match serde_json::from_str::<Vec<serde_json::Value>>(raw) {
        Ok(items) => items
            .into_iter()
            .filter_map(|v| match v {
                serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

impl ProgramRow {
    /// Who may apply: 申请对象, 申请年级, 招生专业, GPA要求.
    pub fn rules(&self) -> ProgramRules {
        ProgramRules {
            levels: self
                .levels()
                .iter()
                .filter_map(|c| StudyLevel::from_code(c))
                .collect(),
            grades: self.grades(),
            major_ids: self.major_ids(),
            min_gpa: self.min_gpa,
        }
    }

    /// Where `now` falls in the registration window. Only a published, active program can be
    /// open: a closed, unpublished or inactive one is [`Registration::Closed`].
    pub fn registration(&self, now: DateTime<Utc>) -> Registration {
        let takes_applications =
            self.active && self.program_status() == Some(ProgramStatus::Published);
        registration(
            self.reg_start,
            self.reg_end,
            self.allows_late,
            takes_applications,
            now,
        )
    }

    /// 项目学期: the semester codes.
    pub fn semesters(&self) -> Vec<String> {
        json_strings(&self.semesters)
    }

    /// 申请对象: the study-level codes (empty = every level).
    pub fn levels(&self) -> Vec<String> {
        json_strings(&self.levels)
    }

    /// 申请年级 (empty = every grade).
    pub fn grades(&self) -> Vec<String> {
        json_strings(&self.grades)
    }

    /// 招生专业: the major ids (empty = every major).
    pub fn major_ids(&self) -> Vec<i64> {
        json_strings(&self.major_ids)
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect()
    }

    /// Whether students may see the program at all.
    pub fn is_visible(&self) -> bool {
        self.program_status().is_some_and(ProgramStatus::is_visible)
    }

    /// The stored status as the lifecycle's type; `None` for a code no version ever wrote.
    pub fn program_status(&self) -> Option<ProgramStatus> {
        ProgramStatus::from_code(&self.status)
    }
}

/// A partner school of a program: one 志愿 choice, with its 推荐名额.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct PartnerSchool {
    pub id: i64,
    pub program_id: i64,
    /// 院校名称.
    pub name_zh: String,
    /// 院校英文名.
    pub name_en: String,
    /// A `country` dictionary code (may differ from the program's).
    pub country: String,
    /// 推荐名额.
    pub quota: i64,
    pub sort_order: i64,
}

/// An attachment a program asks for (§6).
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct AttachmentType {
    pub id: i64,
    pub program_id: i64,
    pub name_zh: String,
    pub name_en: String,
    /// Must be uploaded before submit (the red *).
    pub required: bool,
    /// The ⓘ hint.
    pub hint: String,
    /// JSON list of extensions.
    pub formats: String,
    /// Largest file accepted.
    pub max_bytes: i64,
    pub sort_order: i64,
}

impl AttachmentType {
    /// The accepted formats; an empty or unreadable list means the defaults (pdf, png, jpg,
    /// tiff, doc, docx). Unknown extensions are dropped.
    pub fn formats(&self) -> Vec<FileFormat> {
        let mut formats: Vec<FileFormat> = Vec::new();
        for f in json_strings(&self.formats)
            .iter()
            .filter_map(|e| FileFormat::from_ext(e))
        {
            if !formats.contains(&f) {
                formats.push(f);
            }
        }
        if formats.is_empty() {
            FileFormat::DEFAULTS.to_vec()
        } else {
            formats
        }
    }
}

/// The columns of [`PartnerSchool`], in its order.
const SCHOOL_COLUMNS: [&str; 7] = [
    "id",
    "program_id",
    "name_zh",
    "name_en",
    "country",
    "quota",
    "sort_order",
];

/// The columns of [`AttachmentType`], in its order.
pub(crate) const ATTACHMENT_TYPE_COLUMNS: [&str; 9] = [
    "id",
    "program_id",
    "name_zh",
    "name_en",
    "required",
    "hint",
    "formats",
    "max_bytes",
    "sort_order",
];

fn select_programs() -> SelectStatement {
    Query::select()
        .columns(PROGRAM_COLUMNS)
        .from("programs")
        .to_owned()
}

/// One program, whatever its status (callers decide who may see it).
pub async fn by_id(db: &Db, id: i64) -> DbResult<Option<ProgramRow>> {
    db.optional(
        &select_programs()
            .and_where(Expr::col("id").eq(id))
            .to_owned(),
    )
    .await
}

/// One program if students may see it (published or closed).
pub async fn visible_by_id(db: &Db, id: i64) -> DbResult<Option<ProgramRow>> {
    db.optional(
        &select_programs()
            .and_where(Expr::col("id").eq(id))
            .and_where(Expr::col("status").is_in(VISIBLE_STATUSES))
            .to_owned(),
    )
    .await
}

/// The partner schools of a program, in their order.
pub async fn partner_schools(db: &Db, program_id: i64) -> DbResult<Vec<PartnerSchool>> {
    db.all(
        &Query::select()
            .columns(SCHOOL_COLUMNS)
            .from("partner_schools")
            .and_where(Expr::col("program_id").eq(program_id))
            .order_by("sort_order", Order::Asc)
            .order_by("id", Order::Asc)
            .to_owned(),
    )
    .await
}

/// The attachment types of a program, in their order.
pub async fn attachment_types(db: &Db, program_id: i64) -> DbResult<Vec<AttachmentType>> {
    db.all(
        &Query::select()
            .columns(ATTACHMENT_TYPE_COLUMNS)
            .from("attachment_types")
            .and_where(Expr::col("program_id").eq(program_id))
            // 行前材料 and 返校材料 types belong to later parts of the journey.
            .and_where(Expr::col("phase").eq("application"))
            .order_by("sort_order", Order::Asc)
            .order_by("id", Order::Asc)
            .to_owned(),
    )
    .await
}

/// The catalogue's filter bar. Empty strings and `None` mean "any".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogueFilter {
    /// 智能搜索: name (Chinese or English), 项目编号, a partner school's name or the country's
    /// name.
    pub keyword: String,
    /// 项目名称 (Chinese or English).
    pub name: String,
    /// 项目年度.
    pub year: Option<i64>,
    /// 项目类型 (a dictionary code).
    pub program_type: String,
    /// 学校: part of a partner school's name.
    pub school: String,
    /// 国家/地区 (a dictionary code).
    pub country: String,
    /// 申请对象: a `StudyLevel` code; a program open to every level matches too.
    pub level: String,
    /// 仅显示可报名项目: registration open now, or 补录 allowed.
    pub open_only: bool,
    /// 1-based.
    pub page: u64,
    pub per_page: u64,
}

/// One page of the catalogue and the number of programs matching the filter.
#[derive(Debug, Clone)]
pub struct CataloguePage {
    pub rows: Vec<ProgramRow>,
    pub total: i64,
}

/// The largest page served.
pub const MAX_PER_PAGE: u64 = 100;

/// `%text%` for LIKE, lower-cased, with the LIKE wildcards of the text escaped.
fn contains_pattern(text: &str) -> LikeExpr {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    LikeExpr::new(p).escape('\\')
}

/// `lower(table.column) LIKE %text%`.
pub(crate) fn column_contains(table: &'static str, column: &'static str, text: &str) -> Expr {
    Expr::expr(Func::lower(Expr::col((table, column)))).like(contains_pattern(text))
}

/// A partner school of the program has `text` in its Chinese or English name.
fn school_matches(text: &str) -> Expr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from("partner_schools")
            .and_where(Expr::col(("partner_schools", "program_id")).equals(("programs", "id")))
            .cond_where(
                Cond::any()
                    .add(column_contains("partner_schools", "name_zh", text))
                    .add(column_contains("partner_schools", "name_en", text)),
            )
            .to_owned(),
    )
}

/// The program's country has `text` in its Chinese or English label.
fn country_label_matches(text: &str) -> Expr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from("dictionary_items")
            .and_where(Expr::col(("dictionary_items", "kind")).eq(crate::db::dicts::kind::COUNTRY))
            .and_where(Expr::col(("dictionary_items", "code")).equals(("programs", "country")))
            .cond_where(
                Cond::any()
                    .add(column_contains("dictionary_items", "label_zh", text))
                    .add(column_contains("dictionary_items", "label_en", text)),
            )
            .to_owned(),
    )
}

/// The WHERE clause of the catalogue: visible programs matching every filter that is set.
fn catalogue_condition(f: &CatalogueFilter, now: DateTime<Utc>) -> Condition {
    let mut c = Cond::all().add(Expr::col(("programs", "status")).is_in(VISIBLE_STATUSES));
    let keyword = f.keyword.trim();
    if !keyword.is_empty() {
        c = c.add(
            Cond::any()
                .add(column_contains("programs", "name_zh", keyword))
                .add(column_contains("programs", "name_en", keyword))
                .add(column_contains("programs", "code", keyword))
                .add(school_matches(keyword))
                .add(country_label_matches(keyword)),
        );
    }
    let name = f.name.trim();
    if !name.is_empty() {
        c = c.add(
            Cond::any()
                .add(column_contains("programs", "name_zh", name))
                .add(column_contains("programs", "name_en", name)),
        );
    }
    if let Some(year) = f.year {
        c = c.add(Expr::col(("programs", "year")).eq(year));
    }
    if !f.program_type.trim().is_empty() {
        c = c.add(Expr::col(("programs", "program_type")).eq(f.program_type.trim()));
    }
    let school = f.school.trim();
    if !school.is_empty() {
        c = c.add(school_matches(school));
    }
    if !f.country.trim().is_empty() {
        c = c.add(Expr::col(("programs", "country")).eq(f.country.trim()));
    }
    if !f.level.trim().is_empty() {
        // Only a known code reaches the pattern, so no wildcard can slip in; an unknown code
        // matches nothing rather than everything.
        match StudyLevel::from_code(&f.level) {
            Some(level) => {
                c = c.add(
                    Cond::any()
                        .add(
                            Expr::col(("programs", "levels"))
                                .like(LikeExpr::new(format!("%\"{}\"%", level.code()))),
                        )
                        .add(Expr::col(("programs", "levels")).eq("[]")),
                );
            }
            None => c = c.add(Expr::val(1).eq(0)),
        }
    }
    if f.open_only {
        // The SQL twin of `registration()`: Open or LateOnly.
        c = c
            .add(Expr::col(("programs", "status")).eq("published"))
            .add(Expr::col(("programs", "active")).eq(true))
            .add(Expr::col(("programs", "reg_start")).lte(now))
            .add(
                Cond::any()
                    .add(Expr::col(("programs", "reg_end")).gte(now))
                    .add(Expr::col(("programs", "allows_late")).eq(true)),
            );
    }
    c
}

/// One page of the students' catalogue: visible programs matching `f`, newest published
/// first, with the number of all matching programs.
pub async fn catalogue(
    db: &Db,
    f: &CatalogueFilter,
    now: DateTime<Utc>,
) -> DbResult<CataloguePage> {
    let per_page = f.per_page.clamp(1, MAX_PER_PAGE);
    let page = std::cmp::max(f.page, 1);
    let cond = catalogue_condition(f, now);
    let rows = db
        .all(
            &select_programs()
                .cond_where(cond.clone())
                .order_by_with_nulls("published_at", Order::Desc, NullOrdering::Last)
                .order_by("id", Order::Desc)
                .limit(per_page)
                .offset(super::page_offset(page, per_page))
                .to_owned(),
        )
        .await?;
    let total = db
        .count(
            &Query::select()
                .expr(Expr::col(("programs", "id")).count())
                .from("programs")
                .cond_where(cond)
                .to_owned(),
        )
        .await?;
    Ok(CataloguePage { rows, total })
}

/// The years of visible programs, newest first (the 项目年度 select).
pub async fn years(db: &Db) -> DbResult<Vec<i64>> {
    let rows: Vec<(i64,)> = db
        .all(
            &Query::select()
                .distinct()
                .column("year")
                .from("programs")
                .and_where(Expr::col("status").is_in(VISIBLE_STATUSES))
                .order_by("year", Order::Desc)
                .to_owned(),
        )
        .await?;
    Ok(rows.into_iter().map(|(y,)| y).collect())
}

// ---------------------------------------------------------------------------------------------
// The staff side: program management (项目管理) and workflow templates. Every program is read
// here whatever its status; callers (the services) decide who may see which.

/// Every program status, in the order of a program's life. `refused` is a partner's program
/// the office sent back (不通过); like `draft` and `pending_approval` students never see it.
pub const STATUSES: [&str; 5] = [
    ProgramStatus::Draft.code(),
    ProgramStatus::PendingApproval.code(),
    ProgramStatus::Refused.code(),
    ProgramStatus::Published.code(),
    ProgramStatus::Closed.code(),
];

/// A program as the office manages it: the stored row plus what optimistic locking and
/// ownership need.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ManagedProgram {
    #[sqlx(flatten)]
    pub program: ProgramRow,
    /// Bumped by every change to the program, its partner schools or attachment types.
    pub version: i64,
    /// Who created it: for a partner's program (【合作方】), the partner account that owns it.
    pub created_by: Option<i64>,
    pub updated_at: DateTime<Utc>,
    /// The office's reason for its last 审核不通过 of a partner's program (empty when none).
    pub review_note: String,
}

fn select_managed() -> SelectStatement {
    let mut q = select_programs();
    q.columns(["version", "created_by", "updated_at", "review_note"]);
    q
}

/// One program for the office, whatever its status.
pub async fn managed_by_id(db: &Db, id: i64) -> DbResult<Option<ManagedProgram>> {
    db.optional(
        &select_managed()
            .and_where(Expr::col("id").eq(id))
            .to_owned(),
    )
    .await
}

/// The same inside a write transaction.
pub async fn managed_by_id_in(tx: &mut Tx, id: i64) -> DbResult<Option<ManagedProgram>> {
    tx.optional(
        &select_managed()
            .and_where(Expr::col("id").eq(id))
            .to_owned(),
    )
    .await
}

/// What a lifecycle transition writes besides the status.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusChange {
    /// 发布时间, when the program goes (back) before students.
    pub published_at: Option<DateTime<Utc>>,
    /// The office's reason for 不通过 (`Some("")` clears an earlier one).
    pub review_note: Option<String>,
    /// 申报结束时间, when 关闭报名 moves it to now.
    pub reg_end: Option<DateTime<Utc>>,
}

/// Moves the program from `from` to `to`, if it is still at `from` and at `seen_version`
/// (compare-and-set), bumping its version. `false`: someone else changed it first.
pub async fn set_status_in(
    tx: &mut Tx,
    id: i64,
    seen_version: i64,
    from: ProgramStatus,
    to: ProgramStatus,
    change: StatusChange,
) -> DbResult<bool> {
    let mut values = vec![
        ("status", Expr::val(to.code())),
        ("updated_at", Expr::val(Utc::now())),
        ("version", Expr::col("version").add(1)),
    ];
    if let Some(t) = change.published_at {
        values.push(("published_at", Expr::val(t)));
    }
    if let Some(note) = change.review_note {
        values.push(("review_note", Expr::val(note)));
    }
    if let Some(t) = change.reg_end {
        values.push(("reg_end", Expr::val(t)));
    }
    let n = tx
        .update(
            Query::update()
                .table("programs")
                .values(values)
                .and_where(Expr::col("id").eq(id))
                .and_where(Expr::col("version").eq(seen_version))
                .and_where(Expr::col("status").eq(from.code())),
        )
        .await?;
    Ok(n > 0)
}

/// The filter bar of the staff list. Empty strings and `None` mean "any".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManageFilter {
    /// Name (Chinese or English), 项目编号 or a partner school's name.
    pub keyword: String,
    pub year: Option<i64>,
    /// A `program_type` dictionary code.
    pub program_type: String,
    /// One of [`STATUSES`].
    pub status: String,
    /// Only the programs this partner account created (a partner sees nothing else).
    pub owner: Option<i64>,
    /// 1-based.
    pub page: u64,
    pub per_page: u64,
}

fn manage_condition(f: &ManageFilter) -> Condition {
    let mut c = Cond::all();
    let keyword = f.keyword.trim();
    if !keyword.is_empty() {
        c = c.add(
            Cond::any()
                .add(column_contains("programs", "name_zh", keyword))
                .add(column_contains("programs", "name_en", keyword))
                .add(column_contains("programs", "code", keyword))
                .add(school_matches(keyword)),
        );
    }
    if let Some(year) = f.year {
        c = c.add(Expr::col(("programs", "year")).eq(year));
    }
    if !f.program_type.trim().is_empty() {
        c = c.add(Expr::col(("programs", "program_type")).eq(f.program_type.trim()));
    }
    if !f.status.trim().is_empty() {
        c = c.add(Expr::col(("programs", "status")).eq(f.status.trim()));
    }
    if let Some(owner) = f.owner {
        c = c
            .add(Expr::col(("programs", "created_by")).eq(owner))
            .add(Expr::col(("programs", "source")).eq("partner"));
    }
    c
}

/// One page of the staff list, newest first, and the number of programs matching.
pub async fn managed_page(db: &Db, f: &ManageFilter) -> DbResult<(Vec<ManagedProgram>, i64)> {
    let per_page = f.per_page.clamp(1, MAX_PER_PAGE);
    let page = std::cmp::max(f.page, 1);
    let cond = manage_condition(f);
    let rows = db
        .all(
            &select_managed()
                .cond_where(cond.clone())
                .order_by("id", Order::Desc)
                .limit(per_page)
                .offset(super::page_offset(page, per_page))
                .to_owned(),
        )
        .await?;
    let total = db
        .count(
            &Query::select()
                .expr(Expr::col(("programs", "id")).count())
                .from("programs")
                .cond_where(cond)
                .to_owned(),
        )
        .await?;
    Ok((rows, total))
}

/// How many programs wait for the office's approval (合作方 programs, 待审核).
pub async fn pending_approval_count(db: &Db) -> DbResult<i64> {
    db.count(
        &Query::select()
            .expr(Expr::col("id").count())
            .from("programs")
            .and_where(Expr::col("status").eq(ProgramStatus::PendingApproval.code()))
            .to_owned(),
    )
    .await
}

/// Every program year, newest first (the staff list's 项目年度 select; drafts included).
pub async fn all_years(db: &Db, owner: Option<i64>) -> DbResult<Vec<i64>> {
    let mut q = Query::select()
        .distinct()
        .column("year")
        .from("programs")
        .order_by("year", Order::Desc)
        .to_owned();
    if let Some(owner) = owner {
        q.and_where(Expr::col("created_by").eq(owner))
            .and_where(Expr::col("source").eq("partner"));
    }
    let rows: Vec<(i64,)> = db.all(&q).await?;
    Ok(rows.into_iter().map(|(y,)| y).collect())
}

/// Applications of one program, by how far they got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplicationCounts {
    /// Submitted at least once (everything but 填写中).
    pub submitted: i64,
    /// Submitted and not yet ended: someone still acts on them.
    pub in_flight: i64,
    /// Drafts (填写中).
    pub drafts: i64,
}

impl ApplicationCounts {
    fn add(&mut self, status: &str, n: i64) {
        match Status::from_code(status) {
            Some(Status::Draft) => self.drafts += n,
            Some(s) => {
                self.submitted += n;
                if !s.is_terminal() {
                    self.in_flight += n;
                }
            }
            // An unknown code is counted as submitted and in flight: better to over-protect.
            None => {
                self.submitted += n;
                self.in_flight += n;
            }
        }
    }
}

/// The application counts of each of `program_ids` (a program without any is absent).
pub async fn application_counts(
    db: &Db,
    program_ids: &[i64],
) -> DbResult<HashMap<i64, ApplicationCounts>> {
    if program_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String, i64)> = db
        .all(
            &Query::select()
                .column("program_id")
                .column("status")
                .expr(Expr::col("id").count())
                .from("applications")
                .and_where(Expr::col("program_id").is_in(program_ids.iter().copied()))
                .group_by_col("program_id")
                .group_by_col("status")
                .to_owned(),
        )
        .await?;
    let mut out: HashMap<i64, ApplicationCounts> = HashMap::new();
    for (program_id, status, n) in rows {
        out.entry(program_id).or_default().add(&status, n);
    }
    Ok(out)
}

/// The same for one program, inside a write transaction (the lifecycle guards).
pub async fn application_counts_in(tx: &mut Tx, program_id: i64) -> DbResult<ApplicationCounts> {
    let rows: Vec<(String, i64)> = tx
        .all(
            &Query::select()
                .column("status")
                .expr(Expr::col("id").count())
                .from("applications")
                .and_where(Expr::col("program_id").eq(program_id))
                .group_by_col("status")
                .to_owned(),
        )
        .await?;
    let mut out = ApplicationCounts::default();
    for (status, n) in rows {
        out.add(&status, n);
    }
    Ok(out)
}

/// Whether another program already has this 项目编号.
pub async fn code_taken(tx: &mut Tx, code: &str, except: Option<i64>) -> DbResult<bool> {
    let mut q = Query::select()
        .expr(Expr::col("id").count())
        .from("programs")
        .and_where(Expr::col("code").eq(code))
        .to_owned();
    if let Some(id) = except {
        q.and_where(Expr::col("id").ne(id));
    }
    Ok(tx.count(&q).await? > 0)
}

/// Every 项目编号 starting with `prefix` (to number a new program of a year).
pub async fn codes_starting_with(tx: &mut Tx, prefix: &str) -> DbResult<Vec<String>> {
    let rows: Vec<(String,)> = tx
        .all(
            &Query::select()
                .column("code")
                .from("programs")
                .and_where(Expr::col("code").like(contains_prefix(prefix)))
                .to_owned(),
        )
        .await?;
    Ok(rows.into_iter().map(|(c,)| c).collect())
}

/// `text%` for LIKE, with the LIKE wildcards of the text escaped.
fn contains_prefix(text: &str) -> LikeExpr {
    let mut p = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    LikeExpr::new(p).escape('\\')
}

/// The partner schools of a program inside a write transaction.
pub async fn partner_schools_in(tx: &mut Tx, program_id: i64) -> DbResult<Vec<PartnerSchool>> {
    tx.all(
        &Query::select()
            .columns(SCHOOL_COLUMNS)
            .from("partner_schools")
            .and_where(Expr::col("program_id").eq(program_id))
            .order_by("sort_order", Order::Asc)
            .order_by("id", Order::Asc)
            .to_owned(),
    )
    .await
}

/// The attachment types of a program inside a write transaction.
pub async fn attachment_types_in(tx: &mut Tx, program_id: i64) -> DbResult<Vec<AttachmentType>> {
    tx.all(
        &Query::select()
            .columns(ATTACHMENT_TYPE_COLUMNS)
            .from("attachment_types")
            .and_where(Expr::col("program_id").eq(program_id))
            // 行前材料 and 返校材料 types belong to later parts of the journey.
            .and_where(Expr::col("phase").eq("application"))
            .order_by("sort_order", Order::Asc)
            .order_by("id", Order::Asc)
            .to_owned(),
    )
    .await
}

/// How many applications of the program chose this partner school (as any 志愿) or were
/// admitted to it. Choices live in the application's saved 申请信息 (JSON), so they are read
/// and counted here rather than matched with LIKE.
pub async fn school_uses(tx: &mut Tx, program_id: i64, school_id: i64) -> DbResult<i64> {
    let rows: Vec<(String, Option<i64>)> = tx
        .all(
            &Query::select()
                .column("info")
                .column("admitted_school_id")
                .from("applications")
                .and_where(Expr::col("program_id").eq(program_id))
                .to_owned(),
        )
        .await?;
    let id = school_id.to_string();
    let uses = rows
        .iter()
        .filter(|(info, admitted)| {
            *admitted == Some(school_id) || {
                let form: crate::domain::ApplicationInfoForm =
                    serde_json::from_str(info).unwrap_or_default();
                [
                    &form.choice_1,
                    &form.choice_2,
                    &form.choice_3,
                    &form.choice_4,
                    &form.choice_5,
                ]
                .iter()
                .any(|c| c.trim() == id)
            }
        })
        .count();
    Ok(i64::try_from(uses).unwrap_or(i64::MAX))
}

/// How many uploaded files are of this attachment type.
pub async fn attachment_type_uses(tx: &mut Tx, type_id: i64) -> DbResult<i64> {
    tx.count(
        &Query::select()
            .expr(Expr::col("id").count())
            .from("attachments")
            .and_where(Expr::col("attachment_type_id").eq(type_id))
            .to_owned(),
    )
    .await
}

/// The audit target naming a program.
pub fn program_target(program_id: i64) -> String {
    format!("program:{program_id}")
}

/// One version of a workflow template.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TemplateVersion {
    pub id: i64,
    pub code: String,
    pub version: i64,
    pub name_zh: String,
    pub name_en: String,
    /// The stage list (JSON), see [`crate::domain::workflow::Workflow::parse`].
    pub stages: String,
    pub created_at: DateTime<Utc>,
}

const TEMPLATE_COLUMNS: [&str; 7] = [
    "id",
    "code",
    "version",
    "name_zh",
    "name_en",
    "stages",
    "created_at",
];

/// Every version of every template: by code, newest version first.
pub async fn template_versions(db: &Db) -> DbResult<Vec<TemplateVersion>> {
    db.all(
        &Query::select()
            .columns(TEMPLATE_COLUMNS)
            .from("workflow_templates")
            .order_by("code", Order::Asc)
            .order_by("version", Order::Desc)
            .to_owned(),
    )
    .await
}

/// Every version of one template, newest first (empty for an unknown code).
pub async fn template_history(db: &Db, code: &str) -> DbResult<Vec<TemplateVersion>> {
    db.all(
        &Query::select()
            .columns(TEMPLATE_COLUMNS)
            .from("workflow_templates")
            .and_where(Expr::col("code").eq(code))
            .order_by("version", Order::Desc)
            .to_owned(),
    )
    .await
}

/// The newest version of one template inside a write transaction.
pub async fn latest_template_in(tx: &mut Tx, code: &str) -> DbResult<Option<TemplateVersion>> {
    tx.optional(
        &Query::select()
            .columns(TEMPLATE_COLUMNS)
            .from("workflow_templates")
            .and_where(Expr::col("code").eq(code))
            .order_by("version", Order::Desc)
            .limit(1)
            .to_owned(),
    )
    .await
}

/// Applications held by each template version (by `workflow_templates.id`).
pub async fn template_application_counts(db: &Db) -> DbResult<HashMap<i64, ApplicationCounts>> {
    let rows: Vec<(i64, String, i64)> = db
        .all(
            &Query::select()
                .column("workflow_template_id")
                .column("status")
                .expr(Expr::col("id").count())
                .from("applications")
                .and_where(Expr::col("workflow_template_id").is_not_null())
                .group_by_col("workflow_template_id")
                .group_by_col("status")
                .to_owned(),
        )
        .await?;
    let mut out: HashMap<i64, ApplicationCounts> = HashMap::new();
    for (template_id, status, n) in rows {
        out.entry(template_id).or_default().add(&status, n);
    }
    Ok(out)
}

/// How many programs use each template code.
pub async fn programs_per_workflow(db: &Db) -> DbResult<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = db
        .all(
            &Query::select()
                .column("workflow_code")
                .expr(Expr::col("id").count())
                .from("programs")
                .group_by_col("workflow_code")
                .to_owned(),
        )
        .await?;
    Ok(rows.into_iter().collect())
}

/// A partner school's names (any program), for lists that show choices.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SchoolName {
    pub id: i64,
    pub name_zh: String,
    pub name_en: String,
}

/// The partner schools with these ids.
pub async fn school_names(db: &Db, ids: &[i64]) -> DbResult<Vec<SchoolName>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    db.all(
        &Query::select()
            .columns(["id", "name_zh", "name_en"])
            .from("partner_schools")
            .and_where(Expr::col("id").is_in(ids.iter().copied()))
            .to_owned(),
    )
    .await
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A fresh, migrated SQLite database in its own temporary directory.
    pub(crate) async fn fresh_db() -> Db {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "outbound-programs-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst),
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let db = Db::connect(&format!("sqlite://{}/t.db", dir.display()))
            .await
            .expect("connect");
        crate::db::migrate::run(&db).await.expect("migrate");
        db
    }

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 1, 0, 0)
            .single()
            .expect("a real time")
    }

    /// "Now" in these tests: inside the window of [`NewProgram::new`].
    fn now() -> DateTime<Utc> {
        at(10)
    }

    pub(crate) struct NewProgram {
        pub code: String,
        pub name_zh: String,
        pub name_en: String,
        pub year: i64,
        pub program_type: String,
        pub country: String,
        pub levels: String,
        pub status: String,
        pub active: bool,
        pub allows_late: bool,
        pub reg_start: DateTime<Utc>,
        pub reg_end: DateTime<Utc>,
        pub published_at: Option<DateTime<Utc>>,
    }

    impl NewProgram {
        pub(crate) fn new(code: &str) -> NewProgram {
            NewProgram {
                code: code.into(),
                name_zh: format!("项目{code}"),
                name_en: format!("Program {code}"),
                year: 2026,
                program_type: "semester_exchange".into(),
                country: "GB".into(),
                levels: "[]".into(),
                status: "published".into(),
                active: true,
                allows_late: false,
                reg_start: at(1),
                reg_end: at(20),
                published_at: Some(at(1)),
            }
        }
    }

    pub(crate) async fn insert_program(db: &Db, p: NewProgram) -> i64 {
        let mut tx = db.begin().await.expect("begin");
        let id = tx
            .insert_id(
                Query::insert()
                    .into_table("programs")
                    .columns([
                        "code",
                        "name_zh",
                        "name_en",
                        "year",
                        "program_type",
                        "country",
                        "levels",
                        "status",
                        "active",
                        "allows_late",
                        "reg_start",
                        "reg_end",
                        "published_at",
                        "workflow_code",
                        "created_at",
                        "updated_at",
                    ])
                    .values_panic([
                        p.code.into(),
                        p.name_zh.into(),
                        p.name_en.into(),
                        p.year.into(),
                        p.program_type.into(),
                        p.country.into(),
                        p.levels.into(),
                        p.status.into(),
                        p.active.into(),
                        p.allows_late.into(),
                        p.reg_start.into(),
                        p.reg_end.into(),
                        p.published_at.into(),
                        "default".into(),
                        Utc::now().into(),
                        Utc::now().into(),
                    ]),
            )
            .await
            .expect("insert program");
        tx.commit().await.expect("commit");
        id
    }

    async fn insert_school(db: &Db, program_id: i64, name_zh: &str, name_en: &str, sort: i64) {
        let mut tx = db.begin().await.expect("begin");
        tx.insert(
            Query::insert()
                .into_table("partner_schools")
                .columns([
                    "program_id",
                    "name_zh",
                    "name_en",
                    "country",
                    "quota",
                    "sort_order",
                ])
                .values_panic([
                    program_id.into(),
                    name_zh.into(),
                    name_en.into(),
                    "GB".into(),
                    2.into(),
                    sort.into(),
                ]),
        )
        .await
        .expect("insert school");
        tx.commit().await.expect("commit");
    }

    async fn insert_country(db: &Db, code: &str, zh: &str, en: &str) {
        let mut tx = db.begin().await.expect("begin");
        tx.insert(
            Query::insert()
                .into_table("dictionary_items")
                .columns(["kind", "code", "label_zh", "label_en"])
                .values_panic(["country".into(), code.into(), zh.into(), en.into()])
                .on_conflict(
                    sea_query::OnConflict::columns(["kind", "code"])
                        .do_nothing()
                        .to_owned(),
                ),
        )
        .await
        .expect("insert country");
        tx.commit().await.expect("commit");
    }

    fn filter() -> CatalogueFilter {
        CatalogueFilter {
            page: 1,
            per_page: 20,
            ..CatalogueFilter::default()
        }
    }

    async fn codes(db: &Db, f: CatalogueFilter) -> Vec<String> {
        let page = catalogue(db, &f, now()).await.expect("catalogue");
        page.rows.into_iter().map(|r| r.code).collect()
    }

    #[tokio::test]
    async fn draft_and_pending_programs_are_never_listed_nor_visible_by_id() {
        let db = fresh_db().await;
        let published = insert_program(&db, NewProgram::new("PUB")).await;
        let closed = insert_program(
            &db,
            NewProgram {
                status: "closed".into(),
                ..NewProgram::new("CLO")
            },
        )
        .await;
        let draft = insert_program(
            &db,
            NewProgram {
                status: "draft".into(),
                published_at: None,
                year: 2030,
                ..NewProgram::new("DRA")
            },
        )
        .await;
        let pending = insert_program(
            &db,
            NewProgram {
                status: "pending_approval".into(),
                ..NewProgram::new("PEN")
            },
        )
        .await;

        let mut listed = codes(&db, filter()).await;
        listed.sort();
        assert_eq!(listed, vec!["CLO", "PUB"]);
        assert!(visible_by_id(&db, published).await.expect("read").is_some());
        assert!(visible_by_id(&db, closed).await.expect("read").is_some());
        assert!(visible_by_id(&db, draft).await.expect("read").is_none());
        assert!(visible_by_id(&db, pending).await.expect("read").is_none());
        assert!(visible_by_id(&db, 999_999).await.expect("read").is_none());
        let row = by_id(&db, draft)
            .await
            .expect("read")
            .expect("the office sees drafts");
        assert_eq!(row.status, "draft");
        assert_eq!(years(&db).await.expect("years"), vec![2026]);
    }

    #[tokio::test]
    async fn the_keyword_searches_names_codes_partner_schools_and_country_labels() {
        let db = fresh_db().await;
        insert_country(&db, "XA", "测试国甲", "Testland").await;
        let a = insert_program(
            &db,
            NewProgram {
                name_en: "Summer at Oxford".into(),
                ..NewProgram::new("A1")
            },
        )
        .await;
        insert_school(&db, a, "牛津大学", "University of Oxford", 0).await;
        let b = insert_program(
            &db,
            NewProgram {
                country: "XA".into(),
                ..NewProgram::new("B2")
            },
        )
        .await;
        insert_school(&db, b, "某某学院", "Some College", 0).await;
        insert_program(
            &db,
            NewProgram {
                name_zh: "100%奖学金项目".into(),
                ..NewProgram::new("C3")
            },
        )
        .await;

        let by = |k: &str| CatalogueFilter {
            keyword: k.into(),
            ..filter()
        };
        assert_eq!(
            codes(&db, by("oxford")).await,
            vec!["A1"],
            "English name, any case"
        );
        assert_eq!(codes(&db, by("牛津")).await, vec!["A1"], "partner school");
        assert_eq!(codes(&db, by("b2")).await, vec!["B2"], "program number");
        assert_eq!(codes(&db, by("测试国")).await, vec!["B2"], "country label");
        assert_eq!(
            codes(&db, by("TESTLAND")).await,
            vec!["B2"],
            "English country label"
        );
        assert_eq!(
            codes(&db, by("100%")).await,
            vec!["C3"],
            "a literal percent sign"
        );
        assert!(
            codes(&db, by("%")).await == vec!["C3"],
            "the wildcard is escaped"
        );
        assert!(
            codes(&db, by("_")).await.is_empty(),
            "the wildcard is escaped"
        );

        let school = CatalogueFilter {
            school: "some college".into(),
            ..filter()
        };
        assert_eq!(codes(&db, school).await, vec!["B2"]);
        let name = CatalogueFilter {
            name: "项目A1".into(),
            ..filter()
        };
        assert_eq!(codes(&db, name).await, vec!["A1"]);
    }

    #[tokio::test]
    async fn type_country_year_and_level_filters_narrow_the_list() {
        let db = fresh_db().await;
        insert_program(
            &db,
            NewProgram {
                program_type: "summer".into(),
                ..NewProgram::new("T1")
            },
        )
        .await;
        insert_program(
            &db,
            NewProgram {
                country: "JP".into(),
                year: 2025,
                ..NewProgram::new("T2")
            },
        )
        .await;
        insert_program(
            &db,
            NewProgram {
                levels: r#"["master","doctoral"]"#.into(),
                ..NewProgram::new("T3")
            },
        )
        .await;
        insert_program(
            &db,
            NewProgram {
                levels: r#"["undergraduate"]"#.into(),
                ..NewProgram::new("T4")
            },
        )
        .await;

        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        let f = CatalogueFilter {
            program_type: "summer".into(),
            ..filter()
        };
        assert_eq!(codes(&db, f).await, vec!["T1"]);
        let f = CatalogueFilter {
            country: "JP".into(),
            ..filter()
        };
        assert_eq!(codes(&db, f).await, vec!["T2"]);
        let f = CatalogueFilter {
            year: Some(2025),
            ..filter()
        };
        assert_eq!(codes(&db, f).await, vec!["T2"]);
        // A program without 申请对象 is open to every level, so it matches any level.
        let f = CatalogueFilter {
            level: "master".into(),
            ..filter()
        };
        assert_eq!(sorted(codes(&db, f).await), vec!["T1", "T2", "T3"]);
        let f = CatalogueFilter {
            level: "undergraduate".into(),
            ..filter()
        };
        assert_eq!(sorted(codes(&db, f).await), vec!["T1", "T2", "T4"]);
        let f = CatalogueFilter {
            level: "nonsense".into(),
            ..filter()
        };
        assert!(codes(&db, f).await.is_empty());
        assert_eq!(years(&db).await.expect("years"), vec![2026, 2025]);
    }

    #[tokio::test]
    async fn open_only_keeps_programs_taking_applications_now_including_late_ones() {
        let db = fresh_db().await;
        insert_program(&db, NewProgram::new("OPEN")).await;
        insert_program(
            &db,
            NewProgram {
                reg_start: at(15),
                ..NewProgram::new("SOON")
            },
        )
        .await;
        insert_program(
            &db,
            NewProgram {
                reg_end: at(5),
                ..NewProgram::new("OVER")
            },
        )
        .await;
        insert_program(
            &db,
            NewProgram {
                reg_end: at(5),
                allows_late: true,
                ..NewProgram::new("LATE")
            },
        )
        .await;
        insert_program(
            &db,
            NewProgram {
                status: "closed".into(),
                ..NewProgram::new("SHUT")
            },
        )
        .await;
        insert_program(
            &db,
            NewProgram {
                active: false,
                ..NewProgram::new("VOID")
            },
        )
        .await;

        let mut open = codes(
            &db,
            CatalogueFilter {
                open_only: true,
                ..filter()
            },
        )
        .await;
        open.sort();
        assert_eq!(open, vec!["LATE", "OPEN"]);
        // The SQL agrees with the domain rule on every row.
        let all = catalogue(&db, &filter(), now()).await.expect("catalogue");
        assert_eq!(all.total, 6);
        for row in all.rows {
            assert_eq!(
                row.registration(now()).accepts_applications(),
                open.contains(&row.code),
                "{}",
                row.code
            );
        }
    }

    #[tokio::test]
    async fn pages_hold_twenty_newest_first_and_the_total_counts_every_match() {
        let db = fresh_db().await;
        for i in 0..25i64 {
            let published = at(1) + Duration::hours(i);
            insert_program(
                &db,
                NewProgram {
                    published_at: Some(published),
                    ..NewProgram::new(&format!("N{i:02}"))
                },
            )
            .await;
        }
        let first = catalogue(&db, &filter(), now()).await.expect("page 1");
        assert_eq!(first.total, 25);
        assert_eq!(first.rows.len(), 20);
        assert_eq!(first.rows[0].code, "N24");
        assert_eq!(first.rows[19].code, "N05");
        let second = catalogue(
            &db,
            &CatalogueFilter {
                page: 2,
                ..filter()
            },
            now(),
        )
        .await
        .expect("page 2");
        assert_eq!(second.total, 25);
        assert_eq!(
            second
                .rows
                .iter()
                .map(|r| r.code.as_str())
                .collect::<Vec<_>>(),
            ["N04", "N03", "N02", "N01", "N00"]
        );
        let beyond = catalogue(
            &db,
            &CatalogueFilter {
                page: 9,
                ..filter()
            },
            now(),
        )
        .await
        .expect("page 9");
        assert!(beyond.rows.is_empty());
        assert_eq!(beyond.total, 25);
        let filtered = CatalogueFilter {
            keyword: "N1".into(),
            ..filter()
        };
        assert_eq!(
            catalogue(&db, &filtered, now())
                .await
                .expect("filtered")
                .total,
            10
        );
    }

    #[tokio::test]
    async fn schools_and_attachment_types_come_in_their_order() {
        let db = fresh_db().await;
        let id = insert_program(&db, NewProgram::new("S1")).await;
        insert_school(&db, id, "第二", "Second", 2).await;
        insert_school(&db, id, "第一", "First", 1).await;
        let mut tx = db.begin().await.expect("begin");
        for (name, sort, formats) in [
            ("护照首页", 2, Expr::val(r#"["pdf","JPEG"]"#)),
            ("成绩单", 1, Expr::val("[]")),
        ] {
            tx.insert(
                Query::insert()
                    .into_table("attachment_types")
                    .columns(["program_id", "name_zh", "required", "formats", "sort_order"])
                    .values_panic([id.into(), name.into(), true.into(), formats, sort.into()]),
            )
            .await
            .expect("insert type");
        }
        tx.commit().await.expect("commit");

        let schools = partner_schools(&db, id).await.expect("schools");
        assert_eq!(
            schools
                .iter()
                .map(|s| s.name_zh.as_str())
                .collect::<Vec<_>>(),
            ["第一", "第二"]
        );
        let types = attachment_types(&db, id).await.expect("types");
        assert_eq!(types[0].name_zh, "成绩单");
        assert_eq!(types[0].formats(), FileFormat::DEFAULTS.to_vec());
        assert_eq!(types[1].formats(), vec![FileFormat::Pdf, FileFormat::Jpg]);
        assert_eq!(types[1].max_bytes, 10 * 1024 * 1024);
        assert!(types[1].required);
    }
}
