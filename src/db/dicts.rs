//! Reading the editable code lists (dictionaries) and the college/major registry.

use sea_query::{Expr, ExprTrait, Order, Query};

use super::{Db, DbResult};
use crate::i18n::Lang;

/// The dictionary kinds the system uses.
pub mod kind {
    pub const COUNTRY: &str = "country";
    pub const ETHNICITY: &str = "ethnicity";
    pub const ID_TYPE: &str = "id_type";
    pub const POLITICAL_STATUS: &str = "political_status";
    pub const ADMISSION_CATEGORY: &str = "admission_category";
    pub const LANGUAGE: &str = "language";
    pub const EXAM_TYPE: &str = "exam_type";
    pub const FUNDING_SOURCE: &str = "funding_source";
    pub const PROGRAM_TYPE: &str = "program_type";
    pub const SEMESTER: &str = "semester";
    pub const PROGRAM_NATURE: &str = "program_nature";
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct DictItem {
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
}

impl DictItem {
    pub fn label(&self, lang: Lang) -> &str {
        lang.pick(&self.label_zh, &self.label_en)
    }
}

/// The active items of one kind, in their order.
pub async fn items(db: &Db, kind: &str) -> DbResult<Vec<DictItem>> {
    db.all(
        &Query::select()
            .columns(["code", "label_zh", "label_en"])
            .from("dictionary_items")
            .and_where(Expr::col("kind").eq(kind))
            .and_where(Expr::col("active").eq(true))
            .order_by("sort_order", Order::Asc)
            .order_by("id", Order::Asc)
            .to_owned(),
    )
    .await
}

/// An item of the 达标方式 (exam type) dictionary with the language it shows.
#[derive(Debug, Clone)]
pub struct ExamItem {
    pub item: DictItem,
    /// The 语种 code the exam shows, or "" for an exam of any language (校内语言测试, 其他).
    pub language: String,
}

#[derive(sqlx::FromRow)]
struct ExamRow {
    code: String,
    label_zh: String,
    label_en: String,
    parent_code: String,
}

/// The active exam types, in their order, each with its language.
pub async fn exams(db: &Db) -> DbResult<Vec<ExamItem>> {
    let rows: Vec<ExamRow> = db
        .all(
            &Query::select()
                .columns(["code", "label_zh", "label_en", "parent_code"])
                .from("dictionary_items")
                .and_where(Expr::col("kind").eq(kind::EXAM_TYPE))
                .and_where(Expr::col("active").eq(true))
                .order_by("sort_order", Order::Asc)
                .order_by("id", Order::Asc)
                .to_owned(),
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| ExamItem {
            item: DictItem {
                code: r.code,
                label_zh: r.label_zh,
                label_en: r.label_en,
            },
            language: r.parent_code,
        })
        .collect())
}

/// Every item of these kinds, retired ones included, as (kind, item): the labels of codes
/// stored before an item was retired.
pub async fn labels(db: &Db, kinds: &[&str]) -> DbResult<Vec<(String, DictItem)>> {
    let rows: Vec<(String, String, String, String)> = db
        .all(
            &Query::select()
                .columns(["kind", "code", "label_zh", "label_en"])
                .from("dictionary_items")
                .and_where(Expr::col("kind").is_in(kinds.iter().copied()))
                .to_owned(),
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|(kind, code, label_zh, label_en)| {
            (
                kind,
                DictItem {
                    code,
                    label_zh,
                    label_en,
                },
            )
        })
        .collect())
}

/// (code, label) pairs for a select.
pub fn options(items: &[DictItem], lang: Lang) -> Vec<(String, String)> {
    items
        .iter()
        .map(|i| (i.code.clone(), i.label(lang).to_owned()))
        .collect()
}

/// The label of `code` in `items`, or the code itself.
pub fn label_of<'a>(items: &'a [DictItem], code: &'a str, lang: Lang) -> &'a str {
    items
        .iter()
        .find(|i| i.code == code)
        .map(|i| i.label(lang))
        .unwrap_or(code)
}

/// The codes of `items`.
pub fn codes(items: &[DictItem]) -> Vec<String> {
    items.iter().map(|i| i.code.clone()).collect()
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct College {
    pub id: i64,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Major {
    pub id: i64,
    pub college_id: i64,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

pub async fn colleges(db: &Db) -> DbResult<Vec<College>> {
    db.all(
        &Query::select()
            .columns(["id", "code", "name_zh", "name_en"])
            .from("colleges")
            .and_where(Expr::col("active").eq(true))
            .order_by("code", Order::Asc)
            .to_owned(),
    )
    .await
}

pub async fn majors(db: &Db) -> DbResult<Vec<Major>> {
    db.all(
        &Query::select()
            .columns(["id", "college_id", "code", "name_zh", "name_en"])
            .from("majors")
            .and_where(Expr::col("active").eq(true))
            .order_by("code", Order::Asc)
            .to_owned(),
    )
    .await
}

/// A setting's value (`settings` table), if set.
pub async fn setting(db: &Db, key: &str) -> DbResult<Option<String>> {
    db.scalar(
        &Query::select()
            .column("value")
            .from("settings")
            .and_where(Expr::col("key").eq(key))
            .to_owned(),
    )
    .await
}
