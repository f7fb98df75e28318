//! The student profile (个人中心 · 我的个人资料, SPEC §3): saving the editable fields, the
//! 学习经历 rows and the 证件照.
//!
//! Parsing is the domain's ([`Profile`], [`StudyRecord`]): a saved profile may be incomplete
//! but never wrong. The values are stored as the domain normalised them, with 证件号码, 护照号
//! and 健康状况 sealed ([`DataKey::seal`]) and the two numbers also kept as a keyed hash (for
//! look-ups) and, for 证件号码, masked (for lists). Registry fields (学号, 学院 …) are never
//! written here. Every change is one transaction with its audit row, which names the changed
//! fields but never their values.

use chrono::Utc;

use super::audit::{self, Who};
use super::{ServiceError, ServiceResult};
use crate::crypto::DataKey;
use crate::db::Db;
use crate::db::students::{self, ProfileColumns, StudyRecordValues};
use crate::domain::files::{FileFormat, UploadError, check_upload};
use crate::domain::{FieldErrors, Profile, ProfileForm, StudyRecord, StudyRecordForm};
use crate::storage::{Storage, StorageError};

/// The largest 证件照 accepted.
pub const PHOTO_MAX_BYTES: u64 = 2 * 1024 * 1024;
/// The smallest 证件照 accepted: anything smaller cannot be a usable ID photo.
pub const PHOTO_MIN_BYTES: usize = 2 * 1024;
/// The formats a 证件照 may have.
pub const PHOTO_FORMATS: [FileFormat; 2] = [FileFormat::Jpg, FileFormat::Png];
/// The form field of the 证件照 upload (errors are reported against it).
pub const PHOTO_FIELD: &str = "photo";
/// At most this many 学习经历 rows per student.
pub const MAX_STUDY_RECORDS: i64 = 20;

/// The required profile fields (form names, in form order) that `form` leaves empty: what a
/// student must still fill in before applying.
pub fn missing_fields(form: &ProfileForm) -> Vec<&'static str> {
    crate::domain::missing_required(form)
}

fn target(user_id: i64) -> String {
    format!("student:{user_id}")
}

/// The form as it will be stored: every value as the domain normalised it (upper-case pinyin
/// and numbers, digits-only mobiles, `3.50` …), empty where nothing was given.
fn normalised(p: &Profile) -> ProfileForm {
    fn s<T: ToString>(v: &Option<T>) -> String {
        v.as_ref().map(ToString::to_string).unwrap_or_default()
    }
    fn date(v: &Option<chrono::NaiveDate>) -> String {
        v.map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    }
    ProfileForm {
        name_zh: s(&p.name_zh),
        pinyin_surname: s(&p.pinyin_surname),
        pinyin_given: s(&p.pinyin_given),
        gender: p.gender.map(|g| g.code().to_owned()).unwrap_or_default(),
        nationality: s(&p.nationality),
        ethnicity: s(&p.ethnicity),
        birth_date: date(&p.birth_date),
        id_type: p.id_type.map(|t| t.code().to_owned()).unwrap_or_default(),
        id_number: s(&p.id_number),
        admission_category: s(&p.admission_category),
        political_status: s(&p.political_status),
        marital_status: p
            .marital_status
            .map(|m| m.code().to_owned())
            .unwrap_or_default(),
        hukou: s(&p.hukou),
        birthplace: s(&p.birthplace),
        native_place: s(&p.native_place),
        home_address: s(&p.home_address),
        home_phone: s(&p.home_phone),
        mobile: s(&p.mobile),
        email: s(&p.email),
        qq: s(&p.qq),
        wechat: s(&p.wechat),
        gpa: s(&p.gpa),
        major_rank: s(&p.major_rank),
        health: s(&p.health),
        rewards: s(&p.rewards),
        remarks: s(&p.remarks),
        passport_no: s(&p.passport_no),
        passport_expiry: date(&p.passport_expiry),
        supervisor_name: s(&p.supervisor_name),
        supervisor_phone: s(&p.supervisor_phone),
        emergency_name: s(&p.emergency_name),
        emergency_mobile: s(&p.emergency_mobile),
        emergency_relation: s(&p.emergency_relation),
    }
}

/// 证件号码 as shown outside its owner's form: `110***********1234` for a resident ID card,
/// the first and last two characters of any other document.
pub fn mask_id_number(id_type: &str, number: &str) -> String {
    crate::domain::redact::id_document(id_type, number)
}

/// The columns to write for a normalised form: the three sensitive values sealed, the two
/// numbers hashed, 证件号码 masked; everything else as it is.
fn columns(key: &DataKey, form: &ProfileForm) -> ProfileColumns {
    const SEALED: [&str; 3] = ["id_number", "passport_no", "health"];
    let mut cols: Vec<(&'static str, String)> = ProfileForm::FIELDS
        .into_iter()
        .filter(|name| !SEALED.contains(name))
        .map(|name| (name, form.field(name).unwrap_or_default().to_owned()))
        .collect();
    cols.extend([
        ("id_number_enc", key.seal(&form.id_number)),
        ("id_number_hash", key.lookup_hash(&form.id_number)),
        (
            "id_number_masked",
            mask_id_number(&form.id_type, &form.id_number),
        ),
        ("passport_no_enc", key.seal(&form.passport_no)),
        ("passport_no_hash", key.lookup_hash(&form.passport_no)),
        ("health_enc", key.seal(&form.health)),
    ]);
    ProfileColumns(cols)
}

/// The names of the fields whose value differs between two forms.
fn changed_fields(old: &ProfileForm, new: &ProfileForm) -> Vec<&'static str> {
    ProfileForm::FIELDS
        .into_iter()
        .filter(|name| old.field(name) != new.field(name))
        .collect()
}

/// Saves the editable profile of `user_id`. The form is parsed by the domain with every error
/// at once (`Invalid`); a valid form is stored whole (missing fields stay empty), the version
/// is bumped, and an audit row `profile.update` lists the changed field names. Saving what is
/// already stored writes nothing. `NotFound` when the person has no student record.
pub async fn save_profile(
    db: &Db,
    key: &DataKey,
    who: &Who,
    user_id: i64,
    form: ProfileForm,
) -> ServiceResult<()> {
    let profile = Profile::try_from(form)?;
    let new = normalised(&profile);

    let mut tx = db.begin().await?;
    let old = students::profile_row_tx(&mut tx, user_id)
        .await?
        .ok_or(ServiceError::NotFound)?
        .to_form(key)?;
    let changed = changed_fields(&old, &new);
    if changed.is_empty() {
        return Ok(());
    }
    let written =
        students::update_profile(&mut tx, user_id, columns(key, &new), Utc::now()).await?;
    if written == 0 {
        return Err(ServiceError::NotFound);
    }
    let detail = serde_json::json!({ "fields": changed }).to_string();
    audit::record(&mut tx, who, "profile.update", &target(user_id), &detail).await?;
    tx.commit().await?;
    Ok(())
}

/// A parsed 学习经历 row as stored.
fn study_values(form: StudyRecordForm) -> Result<StudyRecordValues, FieldErrors> {
    let r = StudyRecord::try_from(form)?;
    Ok(StudyRecordValues {
        start_date: r.start.format("%Y-%m-%d").to_string(),
        end_date: r
            .end
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        school: r.school,
        address: r.address.unwrap_or_default(),
        degree: r.degree,
    })
}

/// Adds a 学习经历 row to `user_id`'s profile; returns its id. `Refused` beyond
/// [`MAX_STUDY_RECORDS`] rows; `NotFound` when the person has no student record.
pub async fn add_study_record(
    db: &Db,
    who: &Who,
    user_id: i64,
    form: StudyRecordForm,
) -> ServiceResult<i64> {
    let values = study_values(form)?;
    let mut tx = db.begin().await?;
    if !students::exists_tx(&mut tx, user_id).await? {
        return Err(ServiceError::NotFound);
    }
    if students::count_study_records_tx(&mut tx, user_id).await? >= MAX_STUDY_RECORDS {
        return Err(ServiceError::Refused("err.study_record.too_many"));
    }
    let id = students::insert_study_record(&mut tx, user_id, &values).await?;
    audit::record(
        &mut tx,
        who,
        "profile.study_record.add",
        &format!("study_record:{id}"),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes one of `user_id`'s 学习经历 rows; another student's row is `NotFound`.
pub async fn update_study_record(
    db: &Db,
    who: &Who,
    user_id: i64,
    record_id: i64,
    form: StudyRecordForm,
) -> ServiceResult<()> {
    let values = study_values(form)?;
    let mut tx = db.begin().await?;
    if students::update_study_record(&mut tx, user_id, record_id, &values).await? == 0 {
        return Err(ServiceError::NotFound);
    }
    let target = format!("study_record:{record_id}");
    audit::record(&mut tx, who, "profile.study_record.update", &target, "").await?;
    tx.commit().await?;
    Ok(())
}

/// Removes one of `user_id`'s 学习经历 rows; another student's row is `NotFound`.
pub async fn delete_study_record(
    db: &Db,
    who: &Who,
    user_id: i64,
    record_id: i64,
) -> ServiceResult<()> {
    let mut tx = db.begin().await?;
    if students::delete_study_record(&mut tx, user_id, record_id).await? == 0 {
        return Err(ServiceError::NotFound);
    }
    let target = format!("study_record:{record_id}");
    audit::record(&mut tx, who, "profile.study_record.delete", &target, "").await?;
    tx.commit().await?;
    Ok(())
}

/// Checks a 证件照 upload: jpg or png by its content, not empty, at least
/// [`PHOTO_MIN_BYTES`] and at most [`PHOTO_MAX_BYTES`]. Errors are against [`PHOTO_FIELD`].
pub fn check_photo(file_name: &str, bytes: &[u8]) -> Result<FileFormat, FieldErrors> {
    let mut errors = FieldErrors::new();
    match check_upload(file_name, bytes, &PHOTO_FORMATS, PHOTO_MAX_BYTES) {
        Ok(format) if bytes.len() >= PHOTO_MIN_BYTES => return Ok(format),
        Ok(_) => errors.add(PHOTO_FIELD, "err.photo.too_small"),
        Err(e) => errors.add(
            PHOTO_FIELD,
            match e {
                UploadError::Empty => "err.photo.empty",
                UploadError::TooLarge { .. } => "err.photo.too_large",
                UploadError::FormatNotAllowed => "err.photo.format",
                UploadError::ContentMismatch { .. } => "err.photo.content_mismatch",
            },
        ),
    }
    Err(errors)
}

/// Replaces `user_id`'s 证件照. The bytes are checked ([`check_photo`]), stored durably, and
/// then the row points at them in one transaction with its audit row; if that fails the new
/// file is removed again, and after the commit the old one is.
pub async fn set_photo(
    db: &Db,
    storage: &Storage,
    who: &Who,
    user_id: i64,
    file_name: &str,
    bytes: Vec<u8>,
) -> ServiceResult<()> {
    let format = check_photo(file_name, &bytes)?;
    let size = bytes.len();
    let stored = storage.put(bytes).await?;

    let committed: ServiceResult<Option<String>> = async {
        let mut tx = db.begin().await?;
        let old = students::photo_key_tx(&mut tx, user_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        students::set_photo_key(&mut tx, user_id, &stored.key, Utc::now()).await?;
        let detail = serde_json::json!({ "format": format.ext(), "size": size }).to_string();
        audit::record(&mut tx, who, "profile.photo", &target(user_id), &detail).await?;
        tx.commit().await?;
        Ok(old)
    }
    .await;

    match committed {
        Ok(old) => {
            if let Some(old) = old.filter(|k| *k != stored.key)
                && let Err(e) = storage.delete(&old).await
            {
                // The new photo is in place; an orphan file is only wasted space.
                tracing::warn!(error = %e, "cannot remove the replaced photo");
            }
            Ok(())
        }
        Err(e) => {
            if let Err(d) = storage.delete(&stored.key).await {
                tracing::warn!(error = %d, "cannot remove the photo of a failed upload");
            }
            Err(e)
        }
    }
}

/// The bytes of `user_id`'s 证件照, `None` when none was uploaded (or its file is gone).
pub async fn photo(db: &Db, storage: &Storage, user_id: i64) -> ServiceResult<Option<Vec<u8>>> {
    let Some(key) = students::photo_key(db, user_id).await? else {
        return Ok(None);
    };
    match storage.get(&key).await {
        Ok(bytes) => Ok(Some(bytes)),
        Err(StorageError::NotFound) => {
            tracing::warn!(user_id, "the stored photo file is missing");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::migrate;
    use crate::domain::values::IdCardNumber;
    use sea_query::{Expr, ExprTrait, Query};
    use std::path::PathBuf;

    struct TestDb {
        db: Db,
        dir: PathBuf,
    }

    impl TestDb {
        async fn new() -> TestDb {
            let dir =
                std::env::temp_dir().join(format!("outbound-profiles-{}", rand::random::<u64>()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let db = Db::connect(&format!("sqlite://{}/t.db", dir.display()))
                .await
                .expect("connect");
            migrate::run(&db).await.expect("migrate");
            TestDb { db, dir }
        }

        fn storage(&self) -> Storage {
            Storage::local(self.dir.join("files")).expect("storage")
        }

        /// A student with a registry record; returns the user id.
        async fn student(&self, student_no: &str) -> i64 {
            let mut tx = self.db.begin().await.expect("begin");
            let college = tx
                .insert_id(
                    Query::insert()
                        .into_table("colleges")
                        .columns(["code", "name_zh", "name_en"])
                        .values_panic([
                            format!("T{student_no}").into(),
                            "文学院".into(),
                            "School of Liberal Arts".into(),
                        ]),
                )
                .await
                .expect("college");
            let user = tx
                .insert_id(
                    Query::insert()
                        .into_table("users")
                        .columns(["username", "display_name", "password_hash", "created_at"])
                        .values_panic([
                            student_no.into(),
                            "学生".into(),
                            "x".into(),
                            Utc::now().into(),
                        ]),
                )
                .await
                .expect("user");
            tx.insert(
                Query::insert()
                    .into_table("students")
                    .columns([
                        "user_id",
                        "student_no",
                        "campus_card_no",
                        "college_id",
                        "grade",
                        "level",
                        "entry_year",
                        "updated_at",
                    ])
                    .values_panic([
                        user.into(),
                        student_no.into(),
                        "card".into(),
                        college.into(),
                        "2022".into(),
                        "undergraduate".into(),
                        "2022".into(),
                        Utc::now().into(),
                    ]),
            )
            .await
            .expect("student");
            tx.commit().await.expect("commit");
            user
        }

        async fn close(self) {
            self.db.close().await;
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn who(user_id: i64) -> Who {
        Who::user(user_id, "student")
    }

    /// A valid resident ID number of someone born on 2000-01-01.
    fn id_number() -> String {
        let body = "11010520000101123";
        format!(
            "{body}{}",
            IdCardNumber::check_char(body).expect("17 digits")
        )
    }

    fn complete_form() -> ProfileForm {
        ProfileForm {
            name_zh: "张三".into(),
            pinyin_surname: "zhang".into(),
            pinyin_given: "san".into(),
            gender: "male".into(),
            nationality: "CN".into(),
            ethnicity: "汉族".into(),
            birth_date: "2000-01-01".into(),
            id_type: "resident_id".into(),
            id_number: id_number(),
            political_status: "共青团员".into(),
            marital_status: "single".into(),
            mobile: "13812345678".into(),
            email: "zhangsan@example.edu.cn".into(),
            health: "良好，无重大疾病史".into(),
            passport_no: "e12345678".into(),
            passport_expiry: "2031-05-01".into(),
            emergency_name: "张父".into(),
            emergency_mobile: "13912345678".into(),
            emergency_relation: "父子".into(),
            ..ProfileForm::default()
        }
    }

    async fn audit_rows(db: &Db, action: &str) -> Vec<(String, String)> {
        db.all(
            &Query::select()
                .columns(["target", "detail"])
                .from("audit_log")
                .and_where(Expr::col("action").eq(action))
                .to_owned(),
        )
        .await
        .expect("audit rows")
    }

    #[tokio::test]
    async fn saving_a_profile_seals_the_id_number_passport_and_health_and_the_hash_finds_it() {
        let t = TestDb::new().await;
        let key = DataKey::generate();
        let user = t.student("2022001").await;

        save_profile(&t.db, &key, &who(user), user, complete_form())
            .await
            .expect("saved");

        let (id_enc, id_masked, passport_enc, health_enc): (String, String, String, String) =
            t.db.optional(
                &Query::select()
                    .columns([
                        "id_number_enc",
                        "id_number_masked",
                        "passport_no_enc",
                        "health_enc",
                    ])
                    .from("students")
                    .and_where(Expr::col("user_id").eq(user))
                    .to_owned(),
            )
            .await
            .expect("read")
            .expect("row");
        assert!(!id_enc.is_empty() && !id_enc.contains(&id_number()));
        assert!(!id_enc.contains("20000101"));
        assert!(!passport_enc.is_empty() && !passport_enc.contains("E12345678"));
        assert!(!health_enc.is_empty() && !health_enc.contains("良好"));
        assert_eq!(id_masked, format!("110***********{}", &id_number()[14..]));

        let found = students::by_id_number(&t.db, &key, &id_number())
            .await
            .expect("lookup");
        assert_eq!(found, Some(user));
        let other = DataKey::generate();
        assert_eq!(
            students::by_id_number(&t.db, &other, &id_number())
                .await
                .expect("x"),
            None
        );

        let form = students::profile_form(&t.db, &key, user)
            .await
            .expect("open")
            .expect("row");
        assert_eq!(form.id_number, id_number());
        assert_eq!(form.passport_no, "E12345678");
        assert_eq!(form.pinyin_surname, "ZHANG");
        assert_eq!(form.health, "良好，无重大疾病史");
        assert!(missing_fields(&form).is_empty());
        t.close().await;
    }

    #[tokio::test]
    async fn a_profile_with_wrong_fields_writes_nothing_and_reports_every_error_at_once() {
        let t = TestDb::new().await;
        let key = DataKey::generate();
        let user = t.student("2022002").await;
        let before = students::registry(&t.db, user)
            .await
            .expect("read")
            .expect("row")
            .version;

        let form = ProfileForm {
            mobile: "12345".into(),
            email: "me@qq.com".into(),
            gpa: "6".into(),
            ..complete_form()
        };
        let err = save_profile(&t.db, &key, &who(user), user, form)
            .await
            .expect_err("invalid");
        let ServiceError::Invalid(errors) = err else {
            panic!("expected Invalid, got {err:?}")
        };
        assert_eq!(errors.get("mobile"), Some("err.mobile.format"));
        assert_eq!(errors.get("email"), Some("err.email.qq"));
        assert_eq!(errors.get("gpa"), Some("err.gpa.range"));
        assert_eq!(errors.len(), 3);

        let stored = students::profile_form(&t.db, &key, user)
            .await
            .expect("open")
            .expect("row");
        assert_eq!(stored, ProfileForm::default());
        let after = students::registry(&t.db, user)
            .await
            .expect("read")
            .expect("row")
            .version;
        assert_eq!(after, before);
        assert!(audit_rows(&t.db, "profile.update").await.is_empty());
        t.close().await;
    }

    #[tokio::test]
    async fn registry_fields_cannot_be_changed_through_save_profile() {
        let t = TestDb::new().await;
        let key = DataKey::generate();
        let user = t.student("2022003").await;
        let before = students::registry(&t.db, user)
            .await
            .expect("read")
            .expect("row");

        // A crafted post naming registry columns: the form has no such fields.
        let form: ProfileForm = serde_urlencoded::from_str(
            "name_zh=%E6%9D%8E%E5%9B%9B&student_no=HACKED&college_id=999&grade=2099&level=doctoral&version=77",
        )
        .expect("form");
        save_profile(&t.db, &key, &who(user), user, form)
            .await
            .expect("saved");

        let after = students::registry(&t.db, user)
            .await
            .expect("read")
            .expect("row");
        assert_eq!(after.student_no, before.student_no);
        assert_eq!(after.college_id, before.college_id);
        assert_eq!(after.grade, before.grade);
        assert_eq!(after.level, before.level);
        assert_eq!(after.entry_year, before.entry_year);
        assert_eq!(after.version, before.version + 1);
        assert_eq!(after.college_name_zh, "文学院");
        t.close().await;
    }

    #[tokio::test]
    async fn the_audit_row_names_the_changed_fields_but_never_their_values() {
        let t = TestDb::new().await;
        let key = DataKey::generate();
        let user = t.student("2022004").await;

        save_profile(&t.db, &key, &who(user), user, complete_form())
            .await
            .expect("saved");
        let changed = ProfileForm {
            mobile: "13700001111".into(),
            ..complete_form()
        };
        save_profile(&t.db, &key, &who(user), user, changed.clone())
            .await
            .expect("saved");
        // The same form again changes nothing and records nothing.
        save_profile(&t.db, &key, &who(user), user, changed)
            .await
            .expect("saved");

        let rows = audit_rows(&t.db, "profile.update").await;
        assert_eq!(rows.len(), 2);
        let (target, detail) = &rows[1];
        assert_eq!(target, &format!("student:{user}"));
        assert_eq!(detail, r#"{"fields":["mobile"]}"#);
        let first = &rows[0].1;
        assert!(first.contains("\"id_number\"") && first.contains("\"health\""));
        assert!(!first.contains(&id_number()) && !first.contains("13812345678"));
        assert!(!first.contains("良好"));
        t.close().await;
    }

    fn record(school: &str) -> StudyRecordForm {
        StudyRecordForm {
            start: "2016-09-01".into(),
            end: "2019-07-01".into(),
            school: school.into(),
            address: "甘肃省兰州市".into(),
            degree: "高中".into(),
        }
    }

    #[tokio::test]
    async fn study_records_of_another_student_are_not_found() {
        let t = TestDb::new().await;
        let alice = t.student("2022005").await;
        let bob = t.student("2022006").await;
        let id = add_study_record(&t.db, &who(alice), alice, record("兰大附中"))
            .await
            .expect("add");

        let update = update_study_record(&t.db, &who(bob), bob, id, record("别人的学校")).await;
        assert!(matches!(update, Err(ServiceError::NotFound)), "{update:?}");
        let delete = delete_study_record(&t.db, &who(bob), bob, id).await;
        assert!(matches!(delete, Err(ServiceError::NotFound)), "{delete:?}");
        assert_eq!(
            students::study_record(&t.db, bob, id).await.expect("read"),
            None
        );
        assert!(
            students::study_records(&t.db, bob)
                .await
                .expect("read")
                .is_empty()
        );

        let kept = students::study_records(&t.db, alice).await.expect("read");
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].school, "兰大附中");

        update_study_record(
            &t.db,
            &who(alice),
            alice,
            id,
            StudyRecordForm {
                end: String::new(),
                ..record("兰州大学附属中学")
            },
        )
        .await
        .expect("own update");
        let row = students::study_record(&t.db, alice, id)
            .await
            .expect("read")
            .expect("row");
        assert_eq!(
            (row.school.as_str(), row.end_date.as_str()),
            ("兰州大学附属中学", "")
        );
        delete_study_record(&t.db, &who(alice), alice, id)
            .await
            .expect("own delete");
        assert!(
            students::study_records(&t.db, alice)
                .await
                .expect("read")
                .is_empty()
        );
        t.close().await;
    }

    #[tokio::test]
    async fn a_wrong_study_record_reports_its_errors_and_adds_nothing() {
        let t = TestDb::new().await;
        let user = t.student("2022007").await;
        let err = add_study_record(&t.db, &who(user), user, StudyRecordForm::default())
            .await
            .expect_err("invalid");
        let ServiceError::Invalid(errors) = err else {
            panic!("expected Invalid, got {err:?}")
        };
        assert_eq!(errors.get("school"), Some("err.required"));
        assert!(
            students::study_records(&t.db, user)
                .await
                .expect("read")
                .is_empty()
        );
        t.close().await;
    }

    fn jpeg(len: usize) -> Vec<u8> {
        let mut b = vec![
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
        ];
        b.resize(len, 0);
        b
    }

    #[tokio::test]
    async fn photo_upload_refuses_a_pdf_named_jpg_and_stores_nothing() {
        let t = TestDb::new().await;
        let storage = t.storage();
        let user = t.student("2022008").await;
        let mut pdf = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n".to_vec();
        pdf.resize(10 * 1024, b' ');

        let err = set_photo(&t.db, &storage, &who(user), user, "证件照.jpg", pdf)
            .await
            .expect_err("refused");
        let ServiceError::Invalid(errors) = err else {
            panic!("expected Invalid, got {err:?}")
        };
        assert_eq!(errors.get(PHOTO_FIELD), Some("err.photo.content_mismatch"));
        assert!(storage.keys().expect("keys").is_empty());
        assert_eq!(photo(&t.db, &storage, user).await.expect("read"), None);
        t.close().await;
    }

    #[test]
    fn a_photo_must_be_a_jpg_or_png_of_sensible_size() {
        assert_eq!(check_photo("me.JPG", &jpeg(4096)), Ok(FileFormat::Jpg));
        let code = |name: &str, bytes: &[u8]| {
            check_photo(name, bytes)
                .err()
                .and_then(|e| e.get(PHOTO_FIELD))
        };
        assert_eq!(code("me.jpg", &jpeg(100)), Some("err.photo.too_small"));
        assert_eq!(
            code("me.jpg", &jpeg(3 * 1024 * 1024)),
            Some("err.photo.too_large")
        );
        assert_eq!(code("me.pdf", &jpeg(4096)), Some("err.photo.format"));
        assert_eq!(code("me.jpg", &[]), Some("err.photo.empty"));
    }

    #[tokio::test]
    async fn a_new_photo_replaces_the_old_one_and_its_file() {
        let t = TestDb::new().await;
        let storage = t.storage();
        let user = t.student("2022009").await;

        set_photo(&t.db, &storage, &who(user), user, "a.jpg", jpeg(4096))
            .await
            .expect("first");
        let first = storage.keys().expect("keys");
        assert_eq!(first.len(), 1);
        let mut second = jpeg(5000);
        second[100] = 7;
        set_photo(&t.db, &storage, &who(user), user, "b.jpeg", second.clone())
            .await
            .expect("second");

        let keys = storage.keys().expect("keys");
        assert_eq!(keys.len(), 1);
        assert_ne!(keys, first);
        assert_eq!(
            photo(&t.db, &storage, user).await.expect("read"),
            Some(second)
        );
        assert_eq!(audit_rows(&t.db, "profile.photo").await.len(), 2);
        t.close().await;
    }

    #[tokio::test]
    async fn a_photo_for_someone_without_a_student_record_leaves_no_file_behind() {
        let t = TestDb::new().await;
        let storage = t.storage();
        let err = set_photo(&t.db, &storage, &who(999), 999, "a.jpg", jpeg(4096))
            .await
            .expect_err("no student");
        assert!(matches!(err, ServiceError::NotFound), "{err:?}");
        assert!(storage.keys().expect("keys").is_empty());
        t.close().await;
    }
}
