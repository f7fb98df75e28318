//! SQL of the `students` table (学籍 + 个人资料) and its `study_records` (学习经历).
//!
//! Readers take the pool; the writes take the caller's [`Tx`] and are called only by
//! [`crate::services::profiles`]. Three columns hold sealed personal data (证件号码, 护照号,
//! 健康状况, see [`crate::crypto`]); [`profile_form`] opens them for the owner's form, and
//! nothing else here returns them in clear.

use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait, Func, JoinType, Order, Query, SelectStatement};

use super::{Db, DbResult, Tx};
use crate::crypto::DataKey;
use crate::domain::ProfileForm;

/// The registry part of a student (学籍信息): from the university's records, read-only to the
/// student.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Registry {
    pub user_id: i64,
    /// 学号.
    pub student_no: String,
    /// 姓名(中文) as the student gave it in the profile (empty until then): for file names
    /// and lists.
    pub name_zh: String,
    pub college_id: i64,
    pub college_name_zh: String,
    pub college_name_en: String,
    pub major_id: Option<i64>,
    /// Empty when no major is recorded.
    pub major_name_zh: String,
    pub major_name_en: String,
    /// 年级.
    pub grade: String,
    /// 在读学历: `undergraduate`, `master` or `doctoral` (a [`crate::domain::StudyLevel`] code).
    pub level: String,
    /// 学制.
    pub schooling_years: String,
    /// 所属届别 (entry year).
    pub entry_year: String,
    /// The storage key of the 证件照, if one was uploaded.
    pub photo_key: Option<String>,
    /// Bumped by every change of the profile or the photo.
    pub version: i64,
}

/// The editable columns of a student as stored: plain text, except the `*_enc` columns, which
/// hold ciphertext (never shown; see [`ProfileRow::to_form`]).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProfileRow {
    pub name_zh: String,
    pub pinyin_surname: String,
    pub pinyin_given: String,
    pub gender: String,
    pub nationality: String,
    pub ethnicity: String,
    pub birth_date: String,
    pub id_type: String,
    pub id_number_enc: String,
    pub id_number_masked: String,
    pub admission_category: String,
    pub political_status: String,
    pub marital_status: String,
    pub hukou: String,
    pub birthplace: String,
    pub native_place: String,
    pub home_address: String,
    pub home_phone: String,
    pub mobile: String,
    pub email: String,
    pub qq: String,
    pub wechat: String,
    pub gpa: String,
    pub major_rank: String,
    pub health_enc: String,
    pub rewards: String,
    pub remarks: String,
    pub passport_no_enc: String,
    pub passport_expiry: String,
    pub supervisor_name: String,
    pub supervisor_phone: String,
    pub emergency_name: String,
    pub emergency_mobile: String,
    pub emergency_relation: String,
    pub version: i64,
}

pub(crate) const PROFILE_COLUMNS: [&str; 35] = [
    "name_zh",
    "pinyin_surname",
    "pinyin_given",
    "gender",
    "nationality",
    "ethnicity",
    "birth_date",
    "id_type",
    "id_number_enc",
    "id_number_masked",
    "admission_category",
    "political_status",
    "marital_status",
    "hukou",
    "birthplace",
    "native_place",
    "home_address",
    "home_phone",
    "mobile",
    "email",
    "qq",
    "wechat",
    "gpa",
    "major_rank",
    "health_enc",
    "rewards",
    "remarks",
    "passport_no_enc",
    "passport_expiry",
    "supervisor_name",
    "supervisor_phone",
    "emergency_name",
    "emergency_mobile",
    "emergency_relation",
    "version",
];

impl ProfileRow {
    /// The form as its owner sees it, with the sealed values opened.
    pub fn to_form(&self, key: &DataKey) -> anyhow::Result<ProfileForm> {
        Ok(ProfileForm {
            name_zh: self.name_zh.clone(),
            pinyin_surname: self.pinyin_surname.clone(),
            pinyin_given: self.pinyin_given.clone(),
            gender: self.gender.clone(),
            nationality: self.nationality.clone(),
            ethnicity: self.ethnicity.clone(),
            birth_date: self.birth_date.clone(),
            id_type: self.id_type.clone(),
            id_number: key.open(&self.id_number_enc)?,
            admission_category: self.admission_category.clone(),
            political_status: self.political_status.clone(),
            marital_status: self.marital_status.clone(),
            hukou: self.hukou.clone(),
            birthplace: self.birthplace.clone(),
            native_place: self.native_place.clone(),
            home_address: self.home_address.clone(),
            home_phone: self.home_phone.clone(),
            mobile: self.mobile.clone(),
            email: self.email.clone(),
            qq: self.qq.clone(),
            wechat: self.wechat.clone(),
            gpa: self.gpa.clone(),
            major_rank: self.major_rank.clone(),
            health: key.open(&self.health_enc)?,
            rewards: self.rewards.clone(),
            remarks: self.remarks.clone(),
            passport_no: key.open(&self.passport_no_enc)?,
            passport_expiry: self.passport_expiry.clone(),
            supervisor_name: self.supervisor_name.clone(),
            supervisor_phone: self.supervisor_phone.clone(),
            emergency_name: self.emergency_name.clone(),
            emergency_mobile: self.emergency_mobile.clone(),
            emergency_relation: self.emergency_relation.clone(),
        })
    }
}

/// One row of 学习经历 as stored; `end_date` is empty for the current school (至今).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct StudyRecordRow {
    pub id: i64,
    pub user_id: i64,
    pub start_date: String,
    pub end_date: String,
    pub school: String,
    pub address: String,
    pub degree: String,
}

const STUDY_COLUMNS: [&str; 7] = [
    "id",
    "user_id",
    "start_date",
    "end_date",
    "school",
    "address",
    "degree",
];

fn registry_query(user_id: i64) -> SelectStatement {
    let empty = |table: &'static str, col: &'static str| {
        Func::coalesce([Expr::col((table, col)), Expr::val("")])
    };
    Query::select()
        .expr_as(Expr::col(("s", "user_id")), "user_id")
        .expr_as(Expr::col(("s", "student_no")), "student_no")
        .expr_as(Expr::col(("s", "name_zh")), "name_zh")
        .expr_as(Expr::col(("s", "college_id")), "college_id")
        .expr_as(Expr::col(("c", "name_zh")), "college_name_zh")
        .expr_as(Expr::col(("c", "name_en")), "college_name_en")
        .expr_as(Expr::col(("s", "major_id")), "major_id")
        .expr_as(empty("m", "name_zh"), "major_name_zh")
        .expr_as(empty("m", "name_en"), "major_name_en")
        .expr_as(Expr::col(("s", "grade")), "grade")
        .expr_as(Expr::col(("s", "level")), "level")
        .expr_as(Expr::col(("s", "schooling_years")), "schooling_years")
        .expr_as(Expr::col(("s", "entry_year")), "entry_year")
        .expr_as(Expr::col(("s", "photo_key")), "photo_key")
        .expr_as(Expr::col(("s", "version")), "version")
        .from_as("students", "s")
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
        .and_where(Expr::col(("s", "user_id")).eq(user_id))
        .to_owned()
}

/// The registry fields of a student, with the college's and major's names; `None` when the
/// person has no student record.
pub async fn registry(db: &Db, user_id: i64) -> DbResult<Option<Registry>> {
    db.optional(&registry_query(user_id)).await
}

fn profile_query(user_id: i64) -> SelectStatement {
    Query::select()
        .columns(PROFILE_COLUMNS)
        .from("students")
        .and_where(Expr::col("user_id").eq(user_id))
        .to_owned()
}

/// The stored editable columns of a student (sealed values still sealed).
pub async fn profile_row(db: &Db, user_id: i64) -> DbResult<Option<ProfileRow>> {
    db.optional(&profile_query(user_id)).await
}

/// [`profile_row`] inside a write transaction (the service compares before it writes).
pub async fn profile_row_tx(tx: &mut Tx, user_id: i64) -> DbResult<Option<ProfileRow>> {
    tx.optional(&profile_query(user_id)).await
}

/// The profile as the form shows it to its owner: sealed values opened. `None` when the person
/// has no student record; an error when a sealed value cannot be opened with this key.
pub async fn profile_form(
    db: &Db,
    key: &DataKey,
    user_id: i64,
) -> anyhow::Result<Option<ProfileForm>> {
    match profile_row(db, user_id).await? {
        Some(row) => Ok(Some(row.to_form(key)?)),
        None => Ok(None),
    }
}

/// The student whose 证件号码 is `id_number` (as stored: normalised by the domain's parse),
/// found through the keyed hash; the number itself is never compared in clear.
pub async fn by_id_number(db: &Db, key: &DataKey, id_number: &str) -> DbResult<Option<i64>> {
    let hash = key.lookup_hash(id_number.trim());
    if hash.is_empty() {
        return Ok(None);
    }
    db.scalar(
        &Query::select()
            .column("user_id")
            .from("students")
            .and_where(Expr::col("id_number_hash").eq(hash))
            .order_by("user_id", Order::Asc)
            .limit(1)
            .to_owned(),
    )
    .await
}

/// The 学习经历 of a student, oldest first.
pub async fn study_records(db: &Db, user_id: i64) -> DbResult<Vec<StudyRecordRow>> {
    db.all(
        &Query::select()
            .columns(STUDY_COLUMNS)
            .from("study_records")
            .and_where(Expr::col("user_id").eq(user_id))
            .order_by("start_date", Order::Asc)
            .order_by("id", Order::Asc)
            .to_owned(),
    )
    .await
}

/// One 学习经历 row of this student; `None` when it does not exist or belongs to someone else.
pub async fn study_record(db: &Db, user_id: i64, id: i64) -> DbResult<Option<StudyRecordRow>> {
    db.optional(
        &Query::select()
            .columns(STUDY_COLUMNS)
            .from("study_records")
            .and_where(Expr::col("id").eq(id))
            .and_where(Expr::col("user_id").eq(user_id))
            .to_owned(),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Writes (called by services::profiles only)

/// The values of the editable columns, ready to store: sealed where the column is `*_enc`.
#[derive(Debug, Clone)]
pub struct ProfileColumns(pub Vec<(&'static str, String)>);

/// Writes the editable columns and bumps `version`; returns the rows changed (0: no student).
pub async fn update_profile(
    tx: &mut Tx,
    user_id: i64,
    columns: ProfileColumns,
    now: DateTime<Utc>,
) -> DbResult<u64> {
    let mut q = Query::update();
    q.table("students");
    for (col, value) in columns.0 {
        q.value(col, value);
    }
    q.value("version", Expr::col("version").add(1))
        .value("updated_at", now)
        .and_where(Expr::col("user_id").eq(user_id));
    tx.update(&q).await
}

/// The current photo key of a student, inside the transaction; `None` for no student,
/// `Some(None)` for no photo.
pub async fn photo_key_tx(tx: &mut Tx, user_id: i64) -> DbResult<Option<Option<String>>> {
    let row: Option<(Option<String>,)> = tx
        .optional(
            &Query::select()
                .column("photo_key")
                .from("students")
                .and_where(Expr::col("user_id").eq(user_id))
                .to_owned(),
        )
        .await?;
    Ok(row.map(|(k,)| k))
}

/// The current photo key of a student (`None` for no student or no photo).
pub async fn photo_key(db: &Db, user_id: i64) -> DbResult<Option<String>> {
    let row: Option<(Option<String>,)> = db
        .optional(
            &Query::select()
                .column("photo_key")
                .from("students")
                .and_where(Expr::col("user_id").eq(user_id))
                .to_owned(),
        )
        .await?;
    Ok(row.and_then(|(k,)| k))
}

/// Points the student's photo at `key` and bumps `version`; returns the rows changed.
pub async fn set_photo_key(
    tx: &mut Tx,
    user_id: i64,
    key: &str,
    now: DateTime<Utc>,
) -> DbResult<u64> {
    tx.update(
        Query::update()
            .table("students")
            .value("photo_key", key)
            .value("version", Expr::col("version").add(1))
            .value("updated_at", now)
            .and_where(Expr::col("user_id").eq(user_id)),
    )
    .await
}

/// Whether the person has a student record (inside the transaction).
pub async fn exists_tx(tx: &mut Tx, user_id: i64) -> DbResult<bool> {
    let n = tx
        .count(
            &Query::select()
                .expr(Expr::col("user_id").count())
                .from("students")
                .and_where(Expr::col("user_id").eq(user_id))
                .to_owned(),
        )
        .await?;
    Ok(n > 0)
}

/// How many 学习经历 rows the student has (inside the transaction).
pub async fn count_study_records_tx(tx: &mut Tx, user_id: i64) -> DbResult<i64> {
    tx.count(
        &Query::select()
            .expr(Expr::col("id").count())
            .from("study_records")
            .and_where(Expr::col("user_id").eq(user_id))
            .to_owned(),
    )
    .await
}

/// A 学习经历 row's values as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudyRecordValues {
    pub start_date: String,
    pub end_date: String,
    pub school: String,
    pub address: String,
    pub degree: String,
}

/// Adds a 学习经历 row; returns its id.
pub async fn insert_study_record(
    tx: &mut Tx,
    user_id: i64,
    v: &StudyRecordValues,
) -> DbResult<i64> {
    tx.insert_id(
        Query::insert()
            .into_table("study_records")
            .columns([
                "user_id",
                "start_date",
                "end_date",
                "school",
                "address",
                "degree",
            ])
            .values_panic([
                user_id.into(),
                v.start_date.clone().into(),
                v.end_date.clone().into(),
                v.school.clone().into(),
                v.address.clone().into(),
                v.degree.clone().into(),
            ]),
    )
    .await
}

/// Changes a 学习经历 row of this student; returns the rows changed (0: not theirs).
pub async fn update_study_record(
    tx: &mut Tx,
    user_id: i64,
    id: i64,
    v: &StudyRecordValues,
) -> DbResult<u64> {
    tx.update(
        Query::update()
            .table("study_records")
            .value("start_date", v.start_date.clone())
            .value("end_date", v.end_date.clone())
            .value("school", v.school.clone())
            .value("address", v.address.clone())
            .value("degree", v.degree.clone())
            .and_where(Expr::col("id").eq(id))
            .and_where(Expr::col("user_id").eq(user_id)),
    )
    .await
}

/// Removes a 学习经历 row of this student; returns the rows removed (0: not theirs).
pub async fn delete_study_record(tx: &mut Tx, user_id: i64, id: i64) -> DbResult<u64> {
    tx.delete(
        Query::delete()
            .from_table("study_records")
            .and_where(Expr::col("id").eq(id))
            .and_where(Expr::col("user_id").eq(user_id)),
    )
    .await
}
