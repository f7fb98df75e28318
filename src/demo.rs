//! The demo data set (`--demo`): colleges and majors, staff and student accounts, programs of
//! every kind SPEC §4 names, two announcements and a few messages — enough to walk through the
//! system right after the first start.
//!
//! Every person here is invented. The set loads only into a database without accounts, in one
//! transaction that also writes the `demo_loaded` marker, so a second start finds the marker
//! and does nothing, and a real installation is never touched. Registration windows are placed
//! around the moment of loading, so the demo has open programs whenever it is started.
//! Sensitive profile values are sealed exactly as the profile service seals them.

use anyhow::Context;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use sea_query::{Expr, ExprTrait, InsertStatement, Query};

use crate::auth::{Role, password, role_code};
use crate::config::OfficeName;
use crate::crypto::DataKey;
use crate::db::{Db, Tx};
use crate::domain::ProfileForm;
use crate::domain::values::{Gender, IdCardNumber, IdType, MaritalStatus, StudyLevel};
use crate::storage::Storage;

/// The `settings` key that marks a database holding the demo set.
pub const MARKER: &str = "demo_loaded";
/// The password of the demo students (except the brand-new one, who has the campus card).
pub const STUDENT_PASSWORD: &str = "Demo@2026";
/// The password of every demo staff account.
pub const STAFF_PASSWORD: &str = "Staff@2026";

/// What [`load`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The demo set was written.
    Loaded,
    /// The database already holds the demo set; nothing was written.
    AlreadyLoaded,
    /// The database holds other accounts; nothing was written.
    Refused,
}

/// Loads the demo set into an empty database (settings key `demo_loaded` marks it; a database
/// with any user and no marker → Refused), naming the office by its default name.
pub async fn load(db: &Db, key: &DataKey, storage: &Storage) -> anyhow::Result<Outcome> {
    load_for(db, key, storage, &OfficeName::default()).await
}

/// [`load`], with the office named `office` (the configured name) in the announcements, the
/// messages and as the programs' 主办单位.
pub async fn load_for(
    db: &Db,
    key: &DataKey,
    storage: &Storage,
    office: &OfficeName,
) -> anyhow::Result<Outcome> {
    // Cheap answers first, so a restart does not hash a single password.
    if let Some(outcome) = refusal(db).await? {
        return Ok(outcome);
    }
    let accounts = accounts();
    let hashes = hash_all(accounts.iter().map(|a| a.password.clone()).collect()).await?;

    let mut tx = db.begin().await?;
    // Asked again inside the write transaction: two processes started together load once.
    if let Some(outcome) = refusal_in(&mut tx).await? {
        return Ok(outcome);
    }
    let now = Utc::now();
    let colleges = insert_colleges(&mut tx).await?;
    let users = insert_accounts(&mut tx, key, &colleges, &accounts, &hashes, now).await?;
    insert_programs(&mut tx, &colleges, &users, office, now).await?;
    insert_announcements(&mut tx, office, now).await?;
    insert_messages(&mut tx, &users, office, now).await?;
    tx.insert(
        &row("settings")
            .set("key", MARKER)
            .set("value", "1")
            .build()?,
    )
    .await?;
    tx.commit().await?;
    sample_applications(db, key, storage, now).await?;
    sample_reviews(db).await?;
    Ok(Outcome::Loaded)
}

/// Applications in several states, made through the same services a student's clicks use:
/// (student, submit it?). The main demo accounts in the README are left without applications,
/// so that a visitor can walk the whole journey with them.
const SAMPLE_APPLICATIONS: [(&str, bool); 4] = [
    ("2023020105", true),
    ("2022040203", true),
    ("2024010207", true),
    ("2023030112", false),
];

/// A tiny but genuine PDF for the demo attachments.
const SAMPLE_PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

async fn sample_applications(
    db: &Db,
    key: &DataKey,
    storage: &Storage,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    use crate::domain::application::{ApplicationInfoForm, LanguageScoreForm};
    use crate::services::{applications as apply, attachments, audit::Who, programs as rules};

    let visible: Vec<(i64,)> = db
        .all(
            &sea_query::Query::select()
                .column("id")
                .from("programs")
                .and_where(sea_query::ExprTrait::eq(
                    sea_query::Expr::col("status"),
                    "published",
                ))
                .order_by("id", sea_query::Order::Asc)
                .to_owned(),
        )
        .await?;
    let cohort = COHORT.iter().map(|c| (c.0, true));
    for (n, (username, submit)) in SAMPLE_APPLICATIONS.into_iter().chain(cohort).enumerate() {
        let user = crate::db::users::by_username(db, username)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo student {username} is missing"))?;
        let facts = rules::student_facts(db, user.id).await?.unwrap_or_default();
        // The first open program this student may apply to that offers partner schools.
        let mut chosen = None;
        for (id,) in &visible {
            let Some(program) = crate::db::programs::by_id(db, *id).await? else {
                continue;
            };
            let schools = crate::db::programs::partner_schools(db, *id).await?;
            if !schools.is_empty()
                && program.registration(now) == crate::domain::application::Registration::Open
                && rules::apply_blockers(&program, &facts, now).is_empty()
            {
                chosen = Some((program, schools));
                break;
            }
        }
        let Some((program, schools)) = chosen else {
            continue;
        };
        let who = Who::user(user.id, user.display_name.clone());
        let id = apply::start(db, key, &who, user.id, program.id, now).await?;
        // Most put the first partner school first; every third student the other way round.
        let (first, second) = match schools.get(1) {
            Some(other) if n % 3 == 2 => (other, Some(&schools[0])),
            other => (&schools[0], other),
        };
        let info = ApplicationInfoForm {
            choice_1: first.id.to_string(),
            choice_2: second.map(|s| s.id.to_string()).unwrap_or_default(),
            exchange_from: program.start_date.clone(),
            exchange_to: program.end_date.clone(),
            exchange_duration: program.duration.clone(),
            depart_date: program.start_date.clone(),
            return_date: program.end_date.clone(),
            gpa: "3.58".into(),
            weighted_avg: format!("{:.2}", 80.0 + f64::from((n as u32 * 7) % 15)),
            one_china_issue: "no".into(),
            has_passport: "no".into(),
            emergency_relation: "父亲".into(),
            emergency_name: "张建华".into(),
            emergency_phone: "13600001234".into(),
            funding_round_trip: "self".into(),
            funding_accommodation: "self".into(),
            funding_meals: "self".into(),
            funding_intercity: "self".into(),
            funding_registration: "school".into(),
            funding_tuition: "school".into(),
            ..Default::default()
        };
        let version = apply::save_info(db, key, user.id, id, 1, info)
            .await
            .map_err(|e| anyhow::anyhow!("demo application info: {e:?}"))?;
        apply::add_language(
            db,
            user.id,
            id,
            LanguageScoreForm {
                language: "en".into(),
                exam_type: "ielts".into(),
                score: ["6.5", "7.0", "6.0", "7.5"][n % 4].into(),
                exam_date: "2026-03-14".into(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo language row: {e:?}"))?;
        for t in crate::db::programs::attachment_types(db, program.id)
            .await?
            .into_iter()
            .filter(|t| t.required)
        {
            attachments::upload(
                db,
                storage,
                &who,
                user.id,
                id,
                attachments::Slot::Type(t.id),
                &format!("{}.pdf", t.name_zh),
                SAMPLE_PDF.to_vec(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("demo attachment: {e:?}"))?;
        }
        if submit {
            apply::submit(db, key, &who, user.id, id, version, now)
                .await
                .map_err(|e| anyhow::anyhow!("demo submit for {username}: {e:?}"))?;
        }
    }
    Ok(())
}

/// Decisions through the review service, so every queue has something in it: the cohort
/// passes 学院审核 and 国际交流部审核 and waits for admission (a program mid-allocation);
/// 2023020105 passed the college and waits on the office; the others wait on their college.
async fn sample_reviews(db: &Db) -> anyhow::Result<()> {
    use crate::services::audit::Who;
    use crate::services::review::{self, Decision, Reviewer};

    async fn reviewer(db: &Db, username: &str) -> anyhow::Result<(Reviewer, Who)> {
        let user = crate::db::users::by_username(db, username)
            .await?
            .with_context(|| format!("demo reviewer {username}"))?;
        let roles = crate::db::users::roles(db, user.id).await?;
        let colleges = crate::db::users::reviewer_colleges(db, user.id).await?;
        Ok((
            Reviewer {
                user_id: user.id,
                roles: roles.0,
                college_ids: colleges,
            },
            Who::user(user.id, user.display_name),
        ))
    }
    let office = reviewer(db, "gjc_officer").await?;
    let colleges = [
        reviewer(db, "wxy_reviewer").await?,
        reviewer(db, "xx_reviewer").await?,
    ];
    let opinions = ["同意推荐", "成绩优秀，同意推荐", "材料齐全，同意"];
    let approve = |(r, w): &(Reviewer, Who), id: i64, opinion: &'static str| {
        let (r, w) = (r.clone(), w.clone());
        async move {
            let v = crate::db::applications::by_id(db, id)
                .await?
                .with_context(|| format!("demo application {id}"))?
                .version;
            review::decide(db, &w, &r, id, v, Decision::Approve, opinion)
                .await
                .map_err(|e| anyhow::anyhow!("demo decision on {id}: {e:?}"))?;
            anyhow::Ok(())
        }
    };
    let mut to_office: Vec<(i64, &'static str)> = COHORT.iter().map(|c| (0, c.0)).collect();
    to_office.push((0, "2023020105"));
    for (i, (id, username)) in to_office.iter_mut().enumerate() {
        let user = crate::db::users::by_username(db, username)
            .await?
            .with_context(|| format!("demo student {username}"))?;
        let Some(app) = crate::db::applications::list_for_student(db, user.id)
            .await?
            .into_iter()
            .next()
        else {
            continue;
        };
        *id = app.id;
        let college = crate::db::review::applicant_college(db, user.id).await?;
        let Some(r) = colleges
            .iter()
            .find(|(r, _)| college.is_some_and(|c| r.college_ids.contains(&c)))
        else {
            continue;
        };
        approve(r, app.id, opinions[i % opinions.len()]).await?;
    }
    let mut cohort_program = None;
    for (id, username) in to_office {
        if id != 0 && username != "2023020105" {
            approve(&office, id, "").await?;
            cohort_program = crate::db::applications::by_id(db, id)
                .await?
                .map(|a| a.program_id);
        }
    }
    // The cohort's program is mid-allocation: its score rule is set, nothing published yet.
    if let Some(program) = cohort_program {
        crate::services::admission::configure_allocation(db, program, None)
            .await
            .map_err(|e| anyhow::anyhow!("demo allocation settings: {e:?}"))?;
    }
    Ok(())
}

async fn refusal(db: &Db) -> anyhow::Result<Option<Outcome>> {
    let marker = crate::db::dicts::setting(db, MARKER).await?;
    let users = db.count(&count_users()).await?;
    Ok(judge(marker.is_some(), users))
}

async fn refusal_in(tx: &mut Tx) -> anyhow::Result<Option<Outcome>> {
    let marker: Option<String> = tx
        .scalar(
            &Query::select()
                .column("value")
                .from("settings")
                .and_where(Expr::col("key").eq(MARKER))
                .to_owned(),
        )
        .await?;
    let users = tx.count(&count_users()).await?;
    Ok(judge(marker.is_some(), users))
}

fn count_users() -> sea_query::SelectStatement {
    Query::select()
        .expr(Expr::col("id").count())
        .from("users")
        .to_owned()
}

/// `None` means "load".
fn judge(marked: bool, users: i64) -> Option<Outcome> {
    if marked {
        Some(Outcome::AlreadyLoaded)
    } else if users > 0 {
        Some(Outcome::Refused)
    } else {
        None
    }
}

/// Hashes every password on the blocking pool, a few at a time: Argon2 is deliberately slow
/// and takes 19 MiB per hash.
async fn hash_all(passwords: Vec<String>) -> anyhow::Result<Vec<String>> {
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 8));
    let mut hashes = Vec::with_capacity(passwords.len());
    for chunk in passwords.chunks(parallel) {
        let tasks: Vec<_> = chunk
            .iter()
            .cloned()
            .map(|p| tokio::task::spawn_blocking(move || password::hash(&p)))
            .collect();
        for task in tasks {
            hashes.push(task.await.context("hashing a demo password")?);
        }
    }
    Ok(hashes)
}

// ---------------------------------------------------------------------------------------------
// Rows

/// One row to insert, each value written beside its column's name.
struct Row {
    table: &'static str,
    columns: Vec<&'static str>,
    values: Vec<Expr>,
}

fn row(table: &'static str) -> Row {
    Row {
        table,
        columns: Vec::new(),
        values: Vec::new(),
    }
}

impl Row {
    fn set(mut self, column: &'static str, value: impl Into<Expr>) -> Row {
        self.columns.push(column);
        self.values.push(value.into());
        self
    }

    fn build(self) -> anyhow::Result<InsertStatement> {
        let mut q = Query::insert();
        q.into_table(self.table)
            .columns(self.columns)
            .values(self.values)?;
        Ok(q)
    }
}

fn json<T: serde::Serialize>(value: &T) -> anyhow::Result<String> {
    Ok(serde_json::to_string(value)?)
}

// ---------------------------------------------------------------------------------------------
// Colleges and majors

/// (code, 中文, English, majors: (code, 中文, English)).
type CollegeSpec = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str, &'static str)],
);

const COLLEGES: [CollegeSpec; 5] = [
    (
        "01",
        "外国语学院",
        "School of Foreign Languages",
        &[
            ("0101", "英语", "English"),
            ("0102", "日语", "Japanese"),
            ("0103", "翻译", "Translation and Interpreting"),
        ],
    ),
    (
        "02",
        "信息科学与工程学院",
        "School of Information Science and Engineering",
        &[
            (
                "0201",
                "计算机科学与技术",
                "Computer Science and Technology",
            ),
            ("0202", "软件工程", "Software Engineering"),
            ("0203", "电子信息工程", "Electronic Information Engineering"),
        ],
    ),
    (
        "03",
        "文学院",
        "School of Liberal Arts",
        &[
            ("0301", "汉语言文学", "Chinese Language and Literature"),
            ("0302", "新闻学", "Journalism"),
        ],
    ),
    (
        "04",
        "经济学院",
        "School of Economics",
        &[
            ("0401", "经济学", "Economics"),
            ("0402", "金融学", "Finance"),
            (
                "0403",
                "国际经济与贸易",
                "International Economics and Trade",
            ),
        ],
    ),
    (
        "05",
        "化学化工学院",
        "School of Chemistry and Chemical Engineering",
        &[
            ("0501", "化学", "Chemistry"),
            (
                "0502",
                "化学工程与工艺",
                "Chemical Engineering and Technology",
            ),
            ("0503", "应用化学", "Applied Chemistry"),
            ("0504", "材料化学", "Materials Chemistry"),
        ],
    ),
];

/// The ids of what was inserted, looked up by code.
struct Registry {
    colleges: Vec<(&'static str, i64)>,
    majors: Vec<(&'static str, i64)>,
}

impl Registry {
    fn college(&self, code: &str) -> anyhow::Result<i64> {
        find(&self.colleges, code).with_context(|| format!("demo college {code}"))
    }
    fn major(&self, code: &str) -> anyhow::Result<i64> {
        find(&self.majors, code).with_context(|| format!("demo major {code}"))
    }
}

fn find(pairs: &[(&str, i64)], code: &str) -> Option<i64> {
    pairs.iter().find(|(c, _)| *c == code).map(|(_, id)| *id)
}

async fn insert_colleges(tx: &mut Tx) -> anyhow::Result<Registry> {
    let mut registry = Registry {
        colleges: Vec::new(),
        majors: Vec::new(),
    };
    for (code, zh, en, majors) in COLLEGES {
        let college_id = tx
            .insert_id(
                &row("colleges")
                    .set("code", code)
                    .set("name_zh", zh)
                    .set("name_en", en)
                    .build()?,
            )
            .await?;
        registry.colleges.push((code, college_id));
        for (major_code, major_zh, major_en) in majors {
            let id = tx
                .insert_id(
                    &row("majors")
                        .set("college_id", college_id)
                        .set("code", *major_code)
                        .set("name_zh", *major_zh)
                        .set("name_en", *major_en)
                        .build()?,
                )
                .await?;
            registry.majors.push((major_code, id));
        }
    }
    Ok(registry)
}

// ---------------------------------------------------------------------------------------------
// Accounts

/// A demo account. Students carry their registry record and profile.
struct Account {
    username: &'static str,
    display_name: String,
    password: String,
    must_change_password: bool,
    roles: &'static [Role],
    /// College codes a college reviewer reviews for.
    reviews: &'static [&'static str],
    student: Option<StudentSpec>,
}

/// A student's registry record (from the university's records) and profile.
struct StudentSpec {
    campus_card_no: &'static str,
    college: &'static str,
    major: &'static str,
    grade: &'static str,
    level: StudyLevel,
    schooling_years: &'static str,
    entry_year: &'static str,
    profile: ProfileForm,
    /// 学习经历: (from, to, school, address, degree).
    studies: &'static [(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    )],
}

fn staff(username: &'static str, display_name: &'static str, roles: &'static [Role]) -> Account {
    Account {
        username,
        display_name: display_name.to_owned(),
        password: STAFF_PASSWORD.to_owned(),
        must_change_password: false,
        roles,
        reviews: &[],
        student: None,
    }
}

fn student(username: &'static str, spec: StudentSpec) -> Account {
    Account {
        username,
        // Students are shown by their name as the registry holds it.
        display_name: spec.profile.name_zh.clone(),
        password: STUDENT_PASSWORD.to_owned(),
        must_change_password: false,
        roles: &[Role::Student],
        reviews: &[],
        student: Some(spec),
    }
}

/// A profile with every required field and most optional ones, for a mainland student with a
/// resident ID card. Callers override what differs.
#[expect(
    clippy::too_many_arguments,
    reason = "one call per invented person reads as a table"
)]
fn complete_profile(
    name_zh: &str,
    pinyin: (&str, &str),
    gender: Gender,
    ethnicity: &str,
    id_number: &str,
    political_status: &str,
    mobile: &str,
    email: &str,
    gpa: &str,
    emergency: (&str, &str, &str),
) -> ProfileForm {
    // The birth date is the one written in the ID number, as the profile form requires.
    let birth_date = IdCardNumber::parse(id_number)
        .map(|n| n.birth_date().format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    ProfileForm {
        name_zh: name_zh.into(),
        pinyin_surname: pinyin.0.into(),
        pinyin_given: pinyin.1.into(),
        gender: gender.code().into(),
        nationality: "CN".into(),
        ethnicity: ethnicity.into(),
        birth_date,
        id_type: IdType::ResidentIdCard.code().into(),
        id_number: id_number.into(),
        admission_category: "unified".into(),
        political_status: political_status.into(),
        marital_status: MaritalStatus::Single.code().into(),
        mobile: mobile.into(),
        email: email.into(),
        gpa: gpa.into(),
        health: "良好".into(),
        emergency_name: emergency.0.into(),
        emergency_mobile: emergency.1.into(),
        emergency_relation: emergency.2.into(),
        ..ProfileForm::default()
    }
}

/// Every demo account, in the order they are created.
fn accounts() -> Vec<Account> {
    let mut accounts = vec![
        student(
            "2023010101",
            StudentSpec {
                campus_card_no: "20230415",
                college: "01",
                major: "0101",
                grade: "2023",
                level: StudyLevel::Undergraduate,
                schooling_years: "4",
                entry_year: "2023",
                profile: ProfileForm {
                    hukou: "浙江省杭州市西湖区".into(),
                    birthplace: "浙江省杭州市".into(),
                    native_place: "浙江省绍兴市".into(),
                    home_address: "浙江省杭州市西湖区文三路88号3幢502室".into(),
                    home_phone: "0571-87000001".into(),
                    qq: "2023010101".into(),
                    wechat: "wxm_2023".into(),
                    major_rank: "8/126".into(),
                    rewards: "2024年校级一等奖学金；全国大学生英语竞赛二等奖".into(),
                    passport_no: "EA3016274".into(),
                    passport_expiry: "2034-08-19".into(),
                    supervisor_name: "韩冬梅（辅导员）".into(),
                    supervisor_phone: "13900139021".into(),
                    ..complete_profile(
                        "王晓明",
                        ("WANG", "XIAOMING"),
                        Gender::Male,
                        "01",
                        "330106200503160134",
                        "cyl_member",
                        "13800138011",
                        "wangxm@stu.example.edu.cn",
                        "3.62",
                        ("王建华", "13900139001", "父亲"),
                    )
                },
                studies: &[(
                    "2020-09-01",
                    "2023-06-30",
                    "杭州市西溪高级中学",
                    "浙江省杭州市西湖区",
                    "高中",
                )],
            },
        ),
        student(
            "2024210201",
            StudentSpec {
                campus_card_no: "20240892",
                college: "02",
                major: "0201",
                grade: "2024",
                level: StudyLevel::Master,
                schooling_years: "3",
                entry_year: "2024",
                profile: ProfileForm {
                    hukou: "江苏省南京市玄武区".into(),
                    birthplace: "江苏省南京市".into(),
                    native_place: "江苏省扬州市".into(),
                    home_address: "江苏省南京市玄武区珠江路166号7栋1201室".into(),
                    wechat: "yutong_li01".into(),
                    major_rank: "3/58".into(),
                    rewards: "2025年研究生学业一等奖学金".into(),
                    passport_no: "EB5520917".into(),
                    passport_expiry: "2033-05-11".into(),
                    supervisor_name: "郑国栋".into(),
                    supervisor_phone: "13900139032".into(),
                    ..complete_profile(
                        "李雨桐",
                        ("LI", "YUTONG"),
                        Gender::Female,
                        "01",
                        "320102200111080242",
                        "cpc_member",
                        "13800138022",
                        "liyt@stu.example.edu.cn",
                        "3.85",
                        ("李卫东", "13900139002", "父亲"),
                    )
                },
                studies: &[(
                    "2019-09-01",
                    "2023-06-30",
                    "南京江北理工学院",
                    "江苏省南京市浦口区",
                    "本科",
                )],
            },
        ),
        student(
            "2022030301",
            StudentSpec {
                campus_card_no: "20220613",
                college: "03",
                major: "0301",
                grade: "2022",
                level: StudyLevel::Undergraduate,
                schooling_years: "4",
                entry_year: "2022",
                // Still missing: 证件号码 and the emergency contact.
                profile: ProfileForm {
                    name_zh: "陈子涵".into(),
                    pinyin_surname: "CHEN".into(),
                    pinyin_given: "ZIHAN".into(),
                    gender: Gender::Female.code().into(),
                    nationality: "CN".into(),
                    ethnicity: "01".into(),
                    birth_date: "2004-06-21".into(),
                    id_type: IdType::ResidentIdCard.code().into(),
                    political_status: "cyl_member".into(),
                    marital_status: MaritalStatus::Single.code().into(),
                    mobile: "13800138033".into(),
                    email: "chenzh@stu.example.edu.cn".into(),
                    gpa: "3.30".into(),
                    ..ProfileForm::default()
                },
                studies: &[],
            },
        ),
        Account {
            // Brand new: signs in with the campus-card number and must change it.
            password: "20250109".to_owned(),
            must_change_password: true,
            ..student(
                "2025010109",
                StudentSpec {
                    campus_card_no: "20250109",
                    college: "01",
                    major: "0103",
                    grade: "2025",
                    level: StudyLevel::Undergraduate,
                    schooling_years: "4",
                    entry_year: "2025",
                    profile: ProfileForm {
                        name_zh: "赵一鸣".into(),
                        gender: Gender::Male.code().into(),
                        ..ProfileForm::default()
                    },
                    studies: &[],
                },
            )
        },
        student(
            "2023020105",
            StudentSpec {
                campus_card_no: "20230577",
                college: "02",
                major: "0202",
                grade: "2023",
                level: StudyLevel::Undergraduate,
                schooling_years: "4",
                entry_year: "2023",
                profile: ProfileForm {
                    hukou: "湖北省武汉市洪山区".into(),
                    major_rank: "5/142".into(),
                    supervisor_name: "田野（辅导员）".into(),
                    supervisor_phone: "13900139024".into(),
                    ..complete_profile(
                        "刘思远",
                        ("LIU", "SIYUAN"),
                        Gender::Male,
                        "01",
                        "420111200507220352",
                        "cyl_member",
                        "13800138044",
                        "liusy@stu.example.edu.cn",
                        "3.78",
                        ("刘红梅", "13900139004", "母亲"),
                    )
                },
                studies: &[],
            },
        ),
        student(
            "2022040203",
            StudentSpec {
                campus_card_no: "20220981",
                college: "04",
                major: "0402",
                grade: "2022",
                level: StudyLevel::Undergraduate,
                schooling_years: "4",
                entry_year: "2022",
                profile: ProfileForm {
                    hukou: "广东省广州市天河区".into(),
                    major_rank: "12/210".into(),
                    passport_no: "EC1846203".into(),
                    passport_expiry: "2032-12-02".into(),
                    ..complete_profile(
                        "张可欣",
                        ("ZHANG", "KEXIN"),
                        Gender::Female,
                        "08",
                        "440106200401300461",
                        "cpc_probationary",
                        "13800138055",
                        "zhangkx@stu.example.edu.cn",
                        "3.55",
                        ("张志明", "13900139005", "父亲"),
                    )
                },
                studies: &[],
            },
        ),
        student(
            "2024010207",
            StudentSpec {
                campus_card_no: "20241136",
                college: "01",
                major: "0102",
                grade: "2024",
                level: StudyLevel::Undergraduate,
                schooling_years: "4",
                entry_year: "2024",
                profile: complete_profile(
                    "周佳怡",
                    ("ZHOU", "JIAYI"),
                    Gender::Female,
                    "01",
                    "510107200605090288",
                    "cyl_member",
                    "13800138066",
                    "zhoujy@stu.example.edu.cn",
                    "3.41",
                    ("周建军", "13900139006", "父亲"),
                ),
                studies: &[],
            },
        ),
        student(
            "2023310501",
            StudentSpec {
                campus_card_no: "20233208",
                college: "05",
                major: "0501",
                grade: "2023",
                level: StudyLevel::Doctoral,
                schooling_years: "4",
                entry_year: "2023",
                profile: ProfileForm {
                    passport_no: "ED7302158".into(),
                    passport_expiry: "2031-03-27".into(),
                    supervisor_name: "冯立新".into(),
                    supervisor_phone: "13900139037".into(),
                    ..complete_profile(
                        "孙浩然",
                        ("SUN", "HAORAN"),
                        Gender::Male,
                        "03",
                        "370102199809120510",
                        "cpc_member",
                        "13800138077",
                        "sunhr@stu.example.edu.cn",
                        "3.70",
                        ("孙秀兰", "13900139007", "母亲"),
                    )
                },
                studies: &[],
            },
        ),
        student(
            "2023030112",
            StudentSpec {
                campus_card_no: "20230748",
                college: "03",
                major: "0302",
                grade: "2023",
                level: StudyLevel::Undergraduate,
                schooling_years: "4",
                entry_year: "2023",
                profile: complete_profile(
                    "黄梓萱",
                    ("HUANG", "ZIXUAN"),
                    Gender::Female,
                    "01",
                    "350102200510030627",
                    "cyl_member",
                    "13800138088",
                    "huangzx@stu.example.edu.cn",
                    "3.66",
                    ("黄志伟", "13900139008", "父亲"),
                ),
                studies: &[],
            },
        ),
        Account {
            reviews: &["01"],
            ..staff("wxy_reviewer", "林晓雯", &[Role::CollegeReviewer])
        },
        Account {
            reviews: &["02", "04"],
            ..staff("xx_reviewer", "郑志强", &[Role::CollegeReviewer])
        },
        staff("gjc_officer", "何静", &[Role::InternationalOffice]),
        staff("jwc_officer", "吴建国", &[Role::AcademicAffairs]),
        staff("wsb_officer", "马丽娜", &[Role::ForeignAffairs]),
        staff("admin", "杨帆", &[Role::Admin]),
        staff("partner_demo", "许嘉文", &[Role::Partner]),
    ];
    accounts.extend(COHORT.iter().map(cohort_student));
    accounts
}

/// A cohort of undergraduates who all applied to one semester exchange and were nominated, so
/// that 录取管理 has a program mid-allocation: (student number, campus card, college, major,
/// name, pinyin, gender, first 17 digits of the ID number, mobile, GPA).
type CohortSpec = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    (&'static str, &'static str),
    Gender,
    &'static str,
    &'static str,
    &'static str,
);

#[rustfmt::skip]
const COHORT: [CohortSpec; 8] = [
    ("2023019101", "20239101", "01", "0101", "刘思远", ("LIU", "SIYUAN"), Gender::Male, "31010420050312001", "13800138101", "3.86"),
    ("2023019102", "20239102", "01", "0102", "陈雨桐", ("CHEN", "YUTONG"), Gender::Female, "32010220050720002", "13800138102", "3.72"),
    ("2023019103", "20239103", "02", "0201", "杨浩然", ("YANG", "HAORAN"), Gender::Male, "42010620041105003", "13800138103", "3.55"),
    ("2023019104", "20239104", "02", "0202", "赵欣怡", ("ZHAO", "XINYI"), Gender::Female, "37020220050228004", "13800138104", "3.80"),
    ("2023019105", "20239105", "01", "0101", "黄子轩", ("HUANG", "ZIXUAN"), Gender::Male, "44030520040916005", "13800138105", "3.20"),
    ("2023019106", "20239106", "02", "0201", "吴梦琪", ("WU", "MENGQI"), Gender::Female, "33010620050101006", "13800138106", "3.65"),
    ("2023019107", "20239107", "01", "0102", "孙宇航", ("SUN", "YUHANG"), Gender::Male, "21010220050618007", "13800138107", "3.45"),
    ("2023019108", "20239108", "02", "0202", "郭佳宁", ("GUO", "JIANING"), Gender::Female, "61010320041223008", "13800138108", "3.75"),
];

/// The last character of a resident ID number (GB 11643: ISO 7064 MOD 11-2).
fn id_check_digit(first17: &str) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let sum: u32 = first17
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

fn cohort_student(spec: &CohortSpec) -> Account {
    let &(no, card, college, major, name, pinyin, gender, id17, mobile, gpa) = spec;
    let id_number = format!("{id17}{}", id_check_digit(id17));
    let email = format!(
        "{}{}@stu.example.edu.cn",
        pinyin.0.to_lowercase(),
        &no[no.len() - 2..]
    );
    student(
        no,
        StudentSpec {
            campus_card_no: card,
            college,
            major,
            grade: "2023",
            level: StudyLevel::Undergraduate,
            schooling_years: "4",
            entry_year: "2023",
            profile: complete_profile(
                name,
                pinyin,
                gender,
                "01",
                &id_number,
                "cyl_member",
                mobile,
                &email,
                gpa,
                ("王秀英", "13900139100", "母亲"),
            ),
            studies: &[],
        },
    )
}

/// The user ids of the accounts, by user name.
struct Users(Vec<(&'static str, i64)>);

impl Users {
    fn id(&self, username: &str) -> anyhow::Result<i64> {
        find(&self.0, username).with_context(|| format!("demo account {username}"))
    }
}

async fn insert_accounts(
    tx: &mut Tx,
    key: &DataKey,
    registry: &Registry,
    accounts: &[Account],
    hashes: &[String],
    now: DateTime<Utc>,
) -> anyhow::Result<Users> {
    let mut users = Users(Vec::new());
    for (account, hash) in accounts.iter().zip(hashes) {
        let user_id = tx
            .insert_id(
                &row("users")
                    .set("username", account.username)
                    .set("display_name", account.display_name.as_str())
                    .set("password_hash", hash.as_str())
                    .set("must_change_password", account.must_change_password)
                    .set("created_at", now)
                    .build()?,
            )
            .await?;
        users.0.push((account.username, user_id));
        for role in account.roles {
            tx.insert(
                &row("user_roles")
                    .set("user_id", user_id)
                    .set("role", role_code(*role))
                    .build()?,
            )
            .await?;
        }
        for college in account.reviews {
            tx.insert(
                &row("reviewer_colleges")
                    .set("user_id", user_id)
                    .set("college_id", registry.college(college)?)
                    .build()?,
            )
            .await?;
        }
        if let Some(spec) = &account.student {
            insert_student(tx, key, registry, user_id, account.username, spec, now).await?;
        }
    }
    Ok(users)
}

async fn insert_student(
    tx: &mut Tx,
    key: &DataKey,
    registry: &Registry,
    user_id: i64,
    student_no: &'static str,
    spec: &StudentSpec,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    const SEALED: [&str; 3] = ["id_number", "passport_no", "health"];
    let p = &spec.profile;
    let mut r = row("students")
        .set("user_id", user_id)
        .set("student_no", student_no)
        .set("campus_card_no", spec.campus_card_no)
        .set("college_id", registry.college(spec.college)?)
        .set("major_id", registry.major(spec.major)?)
        .set("grade", spec.grade)
        .set("level", spec.level.code())
        .set("schooling_years", spec.schooling_years)
        .set("entry_year", spec.entry_year);
    for name in ProfileForm::FIELDS
        .into_iter()
        .filter(|n| !SEALED.contains(n))
    {
        r = r.set(name, p.field(name).unwrap_or_default());
    }
    // As the profile service stores them: sealed, hashed for look-ups, masked for lists.
    let masked = IdCardNumber::parse(&p.id_number)
        .map(|n| n.masked())
        .unwrap_or_default();
    r = r
        .set("id_number_enc", key.seal(&p.id_number))
        .set("id_number_hash", key.lookup_hash(&p.id_number))
        .set("id_number_masked", masked)
        .set("passport_no_enc", key.seal(&p.passport_no))
        .set("passport_no_hash", key.lookup_hash(&p.passport_no))
        .set("health_enc", key.seal(&p.health))
        .set("updated_at", now);
    tx.insert(&r.build()?).await?;
    for (start, end, school, address, degree) in spec.studies {
        tx.insert(
            &row("study_records")
                .set("user_id", user_id)
                .set("start_date", *start)
                .set("end_date", *end)
                .set("school", *school)
                .set("address", *address)
                .set("degree", *degree)
                .build()?,
        )
        .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Programs

/// 申报须知: the commitment every applicant confirms (seed 001's text, with the round rule).
const NOTICE: &str = "本人在本表格中填写的信息真实有效，并且已将参加本项目的相关事宜告知家长。本人出境期间的学习交流不涉及政治敏感问题、无知识产权保护问题。

本人将遵守学校有关学生出国（境）的规章制度，承诺及时办理注册、学籍、缴费、返校报到等手续。因个人原因违反学校相关规定，责任和后果由学生本人承担。

本人将遵守出访国家（地区）的法律法规，遵守接待学校的校规校纪；自行购买出访期间的医疗及意外保险；保证按期回国（返境）；有义务在出访期间确保个人财产及人身安全。

每人限报 1 个项目，报名多个项目的将被取消报名资格。请在申报截止时间前完成提交，提交后将不可修改；如需修改，请在学院审核前使用“撤回修改”。

请勿上传涉密材料。所有附件须为原件扫描件，文件命名为“姓名+内容”，如：张三护照.pdf。";

/// Which attachment types a program asks for.
#[derive(Clone, Copy)]
enum Attachments {
    /// 学期制: 中文成绩单 and 外语水平证明 required; 在读证明, 护照首页, 其他材料 optional.
    Semester,
    /// Short programs: only an optional 护照首页.
    Short,
}

/// (name_zh, name_en, required, hint, formats, max bytes).
type AttachmentSpec = (
    &'static str,
    &'static str,
    bool,
    &'static str,
    &'static [&'static str],
    i64,
);

const MB: i64 = 1024 * 1024;
const DEFAULT_FORMATS: &[&str] = &["pdf", "png", "jpg", "tiff", "doc", "docx"];

const TRANSCRIPT: AttachmentSpec = (
    "中文成绩单",
    "Transcript (Chinese)",
    true,
    "学院教学秘书处打印，成绩单右下角应显示平均必修学分积点，由学院教学秘书签字并加盖学院公章。单个文件不超过 1 MB。",
    &["pdf"],
    MB,
);
const LANGUAGE_PROOF: AttachmentSpec = (
    "外语水平证明",
    "Proof of language proficiency",
    true,
    "外语证书或成绩单（如英语四、六级，托福、雅思）；成绩单尚未下发的，可先在网上打印成绩查询页，经辅导员确认、签字，并加盖学院公章。",
    &["pdf", "jpg", "png"],
    10 * MB,
);
const ENROLMENT_PROOF: AttachmentSpec = (
    "中英文在读证明",
    "Certificate of enrolment (Chinese and English)",
    false,
    "本科生在本科生院开具，研究生在研究生院开具。",
    &["pdf"],
    10 * MB,
);
const PASSPORT_PAGE: AttachmentSpec = (
    "护照首页",
    "Passport information page",
    false,
    "护照个人信息页的扫描件；尚未办理护照的可暂不上传。",
    &["jpg", "png", "pdf"],
    10 * MB,
);
const OTHER_MATERIAL: AttachmentSpec = (
    "其他材料",
    "Other documents",
    false,
    "获奖证书、推荐信等能说明申请人情况的其他材料。",
    DEFAULT_FORMATS,
    10 * MB,
);

impl Attachments {
    fn specs(self) -> &'static [AttachmentSpec] {
        match self {
            Attachments::Semester => &[
                TRANSCRIPT,
                LANGUAGE_PROOF,
                ENROLMENT_PROOF,
                PASSPORT_PAGE,
                OTHER_MATERIAL,
            ],
            Attachments::Short => &[PASSPORT_PAGE],
        }
    }
}

/// One demo program. Codes are those of the reference data (migration 2).
struct ProgramSpec {
    name_zh: String,
    name_en: String,
    /// Overrides the current year (last year's program).
    year: Option<i32>,
    semesters: &'static [&'static str],
    dates: (NaiveDate, NaiveDate),
    duration: &'static str,
    nature: &'static str,
    region_kind: &'static str,
    country: &'static str,
    program_type: &'static str,
    /// `waived` (不需交对方学费) or `payable` (需交对方学费).
    fee_mode: &'static str,
    fee: &'static str,
    term: &'static str,
    teaching_mode: &'static str,
    description: String,
    registration: (DateTime<Utc>, DateTime<Utc>),
    levels: &'static [StudyLevel],
    grades: &'static [&'static str],
    majors: &'static [&'static str],
    min_gpa: Option<f64>,
    has_interview: bool,
    allows_late: bool,
    workflow: &'static str,
    source: &'static str,
    status: &'static str,
    /// (name_zh, name_en, country, quota).
    partners: Vec<(&'static str, &'static str, &'static str, i64)>,
    attachments: Attachments,
}

const ALL_LEVELS: &[StudyLevel] = &[
    StudyLevel::Undergraduate,
    StudyLevel::Master,
    StudyLevel::Doctoral,
];

/// The date in China (UTC+8, no daylight saving) at `t`.
fn china_date(t: DateTime<Utc>) -> NaiveDate {
    (t + Duration::hours(8)).date_naive()
}

/// `hour`:00 China time on `date`.
fn china_time(date: NaiveDate, hour: u32) -> DateTime<Utc> {
    date.and_hms_opt(hour, 0, 0).unwrap_or_default().and_utc() - Duration::hours(8)
}

/// The first `month`/`day` on or after `after`.
fn next_on(after: NaiveDate, month: u32, day: u32) -> NaiveDate {
    (after.year()..=after.year() + 1)
        .filter_map(|y| NaiveDate::from_ymd_opt(y, month, day))
        .find(|d| *d >= after)
        .unwrap_or(after)
}

/// A long program (one semester or more) with the semester attachments and defaults.
#[expect(
    clippy::too_many_arguments,
    reason = "one call per program reads as a table"
)]
fn long_program(
    name_zh: String,
    name_en: String,
    country: &'static str,
    program_type: &'static str,
    semesters: &'static [&'static str],
    dates: (NaiveDate, NaiveDate),
    registration: (DateTime<Utc>, DateTime<Utc>),
    partners: Vec<(&'static str, &'static str, &'static str, i64)>,
    description: String,
) -> ProgramSpec {
    ProgramSpec {
        name_zh,
        name_en,
        year: None,
        semesters,
        dates,
        duration: "一学期",
        nature: "school_public",
        region_kind: "international",
        country,
        program_type,
        fee_mode: "waived",
        fee: "0.00",
        term: "long",
        teaching_mode: "offline",
        description,
        registration,
        levels: &[StudyLevel::Undergraduate, StudyLevel::Master],
        grades: &[],
        majors: &[],
        min_gpa: None,
        has_interview: false,
        allows_late: false,
        workflow: "semester_exchange",
        source: "school",
        status: "published",
        partners,
        attachments: Attachments::Semester,
    }
}

/// A short (winter / summer) program: no required attachments, the short workflow.
#[expect(
    clippy::too_many_arguments,
    reason = "one call per program reads as a table"
)]
fn short_program(
    name_zh: String,
    name_en: String,
    country: &'static str,
    semesters: &'static [&'static str],
    dates: (NaiveDate, NaiveDate),
    registration: (DateTime<Utc>, DateTime<Utc>),
    partners: Vec<(&'static str, &'static str, &'static str, i64)>,
    fee: &'static str,
    description: String,
) -> ProgramSpec {
    ProgramSpec {
        duration: "4周",
        nature: "self_funded",
        fee_mode: "payable",
        fee,
        term: "short",
        levels: ALL_LEVELS,
        workflow: "short_term",
        attachments: Attachments::Short,
        ..long_program(
            name_zh,
            name_en,
            country,
            "short_term",
            semesters,
            dates,
            registration,
            partners,
            description,
        )
    }
}

/// Every demo program, in publishing order (the catalogue shows the newest first).
fn programs(now: DateTime<Utc>) -> Vec<ProgramSpec> {
    let today = china_date(now);
    let days = Duration::days;
    // Registration windows from 08:00 to 17:00 China time, as an office would set them.
    let window = |from: NaiveDate, to: NaiveDate| (china_time(from, 8), china_time(to, 17));
    let open = window(today - days(10), today + days(30));

    let autumn = next_on(today + days(60), 9, 1);
    let autumn_end = next_on(autumn, 1, 20);
    let spring = next_on(today + days(60), 2, 20);
    let spring_end = next_on(spring, 6, 30);
    let summer = next_on(today + days(45), 7, 6);
    let winter = next_on(today + days(20), 1, 12);
    let last_year = today.year() - 1;
    let ymd = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(today);

    vec![
        ProgramSpec {
            has_interview: true,
            ..long_program(
                format!("{}年秋季学期英国校际学期制交换生项目", autumn.year()),
                format!("{} Autumn Semester Exchange in the United Kingdom", autumn.year()),
                "GB",
                "semester_exchange",
                &["autumn"],
                (autumn, autumn_end),
                open,
                vec![
                    ("曼彻斯特大学", "The University of Manchester", "GB", 3),
                    ("利兹大学", "University of Leeds", "GB", 2),
                ],
                format!(
                    "项目简介：我校与英国曼彻斯特大学、利兹大学签有校际交换协议，每学期互派交换生。
交流时间：{autumn} 至 {autumn_end}，共一学期。
费用说明：免交对方学校学费，学生自理往返国际旅费、住宿、伙食、签证及保险等费用（约人民币 8 万元/学期）。
申请条件：本科二年级及以上或硕士研究生，雅思 6.5（单项不低于 6.0）或托福 90 分以上。
选拔方式：学院审核推荐，国际交流部组织面试；按平行志愿原则录取，第一志愿录满的可调剂第二志愿。
学分认定：交流期间所修课程经学院审核后按学校规定认定学分。"
                ),
            )
        },
        ProgramSpec {
            duration: "两学年（2+2）",
            fee_mode: "payable",
            fee: "320000.00",
            nature: "self_funded",
            levels: &[StudyLevel::Undergraduate],
            majors: &["0201", "0202"],
            workflow: "dual_degree",
            ..long_program(
                format!("{}年澳大利亚蒙纳士大学信息技术双学位项目（2+2）", autumn.year()),
                format!("{} Monash University Information Technology Dual Degree (2+2)", autumn.year()),
                "AU",
                "dual_degree",
                &["autumn"],
                (autumn, next_on(autumn + days(600), 6, 30)),
                open,
                vec![("蒙纳士大学", "Monash University", "AU", 5)],
                "项目简介：学生在我校完成前两年学业后，赴蒙纳士大学信息技术学院学习两年，修满双方要求的学分，可获得两校学士学位。
招生专业：计算机科学与技术、软件工程。
费用说明：需交对方学费，约每年 16 万元人民币，生活费自理。
申请条件：本科二年级在读，雅思 6.5（单项不低于 6.0），必修课无不及格记录。"
                    .to_owned(),
            )
        },
        short_program(
            format!("{}年暑期美国加州大学洛杉矶分校学术课程项目", summer.year()),
            format!("{} UCLA Summer Academic Program", summer.year()),
            "US",
            &["summer"],
            (summer, summer + days(27)),
            open,
            vec![("加州大学洛杉矶分校", "University of California, Los Angeles", "US", 20)],
            "42000.00",
            format!(
                "项目简介：在加州大学洛杉矶分校暑期学校修读两门学分课程，并参加学术讲座与文化考察。
交流时间：{summer} 起，为期 4 周。
费用说明：项目费约 42000 元人民币（含学费、住宿），国际旅费自理。
申请条件：全日制在读学生，托福 80 分或雅思 6.0 以上。"
            ),
        ),
        ProgramSpec {
            program_type: "internship",
            duration: "8周",
            grades: &["2022", "2023"],
            ..short_program(
                format!("{}年暑期新加坡国际组织与企业实习项目", summer.year()),
                format!("{} Summer Internship in Singapore", summer.year()),
                "SG",
                &["summer"],
                (summer, summer + days(55)),
                open,
                vec![("新加坡国立大学", "National University of Singapore", "SG", 10)],
                "18000.00",
                "项目简介：由新加坡国立大学继续教育学院组织，学生在新加坡的国际组织、跨国企业完成为期 8 周的实习，并修读职业发展课程。
申请对象：2022 级、2023 级本科生。
费用说明：项目费约 18000 元人民币，住宿与国际旅费自理。"
                    .to_owned(),
            )
        },
        ProgramSpec {
            region_kind: "hmt",
            workflow: "hmt",
            ..long_program(
                format!("{}年春季学期香港地区高校交换生项目", spring.year()),
                format!("{} Spring Semester Exchange in Hong Kong", spring.year()),
                "HK",
                "semester_exchange",
                &["spring"],
                (spring, spring_end),
                open,
                vec![
                    ("香港中文大学", "The Chinese University of Hong Kong", "HK", 4),
                    ("香港城市大学", "City University of Hong Kong", "HK", 3),
                ],
                format!(
                    "项目简介：赴香港中文大学或香港城市大学交换学习一学期，修读专业课程。
交流时间：{spring} 至 {spring_end}。
费用说明：免交对方学费，住宿、生活及往返交通费用自理。
注意：港澳台项目请办理往来港澳通行证及相应签注；返校时填写“返境时间”。"
                ),
            )
        },
        ProgramSpec {
            status: "closed",
            ..short_program(
                format!("{}年寒假日本早稻田大学冬季文化研修项目", winter.year()),
                format!("{} Waseda University Winter Culture Program", winter.year()),
                "JP",
                &["winter"],
                (winter, winter + days(13)),
                window(today - days(60), today - days(20)),
                vec![("早稻田大学", "Waseda University", "JP", 15)],
                "16000.00",
                "项目简介：在早稻田大学学习日语与日本文化课程两周，参访东京的企业与博物馆。
本项目报名已截止，可查看项目信息，不再接受报名。"
                    .to_owned(),
            )
        },
        long_program(
            format!("{}年秋季学期德国慕尼黑工业大学交换项目", autumn.year()),
            format!("{} Autumn Exchange at the Technical University of Munich", autumn.year()),
            "DE",
            "credit_exchange",
            &["autumn"],
            (autumn, next_on(autumn, 2, 28)),
            window(today + days(15), today + days(45)),
            vec![("慕尼黑工业大学", "Technical University of Munich", "DE", 2)],
            "项目简介：赴慕尼黑工业大学交换学习一学期，可选修英语或德语授课课程。
申报时间尚未开始，请关注申报开始时间。
申请条件：德语 B2（TestDaF 4 级）或雅思 6.5 以上。"
                .to_owned(),
        ),
        ProgramSpec {
            allows_late: true,
            ..short_program(
                format!("{}年暑期韩国高丽大学国际暑期学校", summer.year()),
                format!("{} Korea University International Summer Campus", summer.year()),
                "KR",
                &["summer"],
                (summer, summer + days(34)),
                window(today - days(40), today - days(2)),
                vec![("高丽大学", "Korea University", "KR", 12)],
                "15000.00",
                "项目简介：在高丽大学国际暑期学校修读英语授课课程（两门，6 学分），体验韩国文化。
正式申报已截止，本项目允许补录申请：补录的申请将标记为“补录”。"
                    .to_owned(),
            )
        },
        ProgramSpec {
            levels: &[StudyLevel::Master, StudyLevel::Doctoral],
            duration: "3个月",
            term: "short",
            attachments: Attachments::Semester,
            ..long_program(
                format!("{}年荷兰代尔夫特理工大学研究生科研训练项目", autumn.year()),
                format!("{} Research Training at Delft University of Technology (graduate students)", autumn.year()),
                "NL",
                "research",
                &["autumn"],
                (autumn, autumn + days(90)),
                open,
                vec![("代尔夫特理工大学", "Delft University of Technology", "NL", 4)],
                "项目简介：研究生在代尔夫特理工大学合作导师的课题组开展为期 3 个月的科研训练。
申请对象：仅限硕士研究生和博士研究生，须经导师同意。
费用说明：免交对方费用，学校资助往返国际旅费，生活费由导师经费或国家留学基金委资助。"
                    .to_owned(),
            )
        },
        ProgramSpec {
            min_gpa: Some(3.5),
            levels: &[StudyLevel::Undergraduate],
            ..long_program(
                format!("{}年秋季学期法国巴黎政治学院交换项目", autumn.year()),
                format!("{} Autumn Exchange at Sciences Po Paris", autumn.year()),
                "FR",
                "semester_exchange",
                &["autumn"],
                (autumn, autumn_end),
                open,
                vec![("巴黎政治学院", "Sciences Po", "FR", 2)],
                "项目简介：赴巴黎政治学院交换学习一学期，修读英语或法语授课的社会科学课程。
申请条件：平均绩点（GPA）不低于 3.5；雅思 7.0 或法语 DELF B2 以上。"
                    .to_owned(),
            )
        },
        ProgramSpec {
            source: "partner",
            ..short_program(
                format!("{}年暑期英国伦敦政治经济学院暑期学校", summer.year()),
                format!("{} LSE Summer School", summer.year()),
                "GB",
                &["summer"],
                (summer, summer + days(20)),
                open,
                vec![("伦敦政治经济学院", "The London School of Economics and Political Science", "GB", 30)],
                "38000.00",
                "项目简介：由合作方发布、经国际处审核的暑期学校项目，修读经济、金融、管理类课程。
费用说明：项目费约 38000 元人民币，由合作方统一收取，住宿与国际旅费自理。
说明：合作方项目同样须经学院审核与国际交流部审核。"
                    .to_owned(),
            )
        },
        ProgramSpec {
            teaching_mode: "online",
            fee: "6800.00",
            ..short_program(
                format!("{}年美国哥伦比亚大学线上学术课程项目", summer.year()),
                format!("{} Columbia University Online Academic Program", summer.year()),
                "US",
                &["summer"],
                (summer, summer + days(41)),
                open,
                vec![("哥伦比亚大学", "Columbia University", "US", 40)],
                "6800.00",
                "项目简介：线上授课，每周三次直播课与小组讨论，为期 6 周，结业颁发课程证书。
授课形式：线上。无需出境，但仍须按学校规定完成申报与审核。"
                    .to_owned(),
            )
        },
        ProgramSpec {
            region_kind: "hmt",
            workflow: "hmt",
            ..short_program(
                format!("{}年暑期台湾地区高校两岸青年文化研习营", summer.year()),
                format!("{} Cross-Strait Youth Culture Camp in Taiwan", summer.year()),
                "TW",
                &["summer"],
                (summer, summer + days(13)),
                open,
                vec![("台湾政治大学", "National Chengchi University", "TW", 10)],
                "9000.00",
                "项目简介：为期两周的文化研习营，内容包括专题讲座、文化考察与交流座谈。
注意：须办理大陆居民往来台湾通行证及入台证；返校时填写“返境时间”。"
                    .to_owned(),
            )
        },
        ProgramSpec {
            year: Some(last_year),
            status: "closed",
            ..long_program(
                format!("{last_year}年秋季学期加拿大多伦多大学交换生项目"),
                format!("{last_year} Autumn Exchange at the University of Toronto"),
                "CA",
                "semester_exchange",
                &["autumn"],
                (ymd(last_year, 9, 1), ymd(last_year + 1, 1, 20)),
                window(ymd(last_year, 3, 1), ymd(last_year, 3, 31)),
                vec![("多伦多大学", "University of Toronto", "CA", 3)],
                "上一年度项目，仅供查看和参考；可由国际处复制为本年度项目。".to_owned(),
            )
        },
        ProgramSpec {
            status: "draft",
            ..long_program(
                format!("{}年秋季学期瑞典隆德大学交换项目", autumn.year()),
                format!("{} Autumn Exchange at Lund University", autumn.year()),
                "SE",
                "semester_exchange",
                &["autumn"],
                (autumn, autumn_end),
                window(today + days(20), today + days(50)),
                vec![("隆德大学", "Lund University", "SE", 2)],
                "草稿：项目信息尚在整理中，发布前学生不可见。".to_owned(),
            )
        },
    ]
}

async fn insert_programs(
    tx: &mut Tx,
    registry: &Registry,
    users: &Users,
    office_name: &OfficeName,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let year = china_date(now).year();
    let yesterday = china_time(china_date(now) - Duration::days(1), 8);
    let office = users.id("gjc_officer")?;
    let partner = users.id("partner_demo")?;
    let mut seq = [0u32; 2];
    for (index, spec) in programs(now).into_iter().enumerate() {
        let program_year = spec.year.unwrap_or(year);
        let n = if program_year == year {
            &mut seq[0]
        } else {
            &mut seq[1]
        };
        *n += 1;
        let code = format!("{program_year}{n:04}");
        let major_ids = spec
            .majors
            .iter()
            .map(|m| registry.major(m))
            .collect::<anyhow::Result<Vec<i64>>>()?;
        let levels: Vec<&str> = spec.levels.iter().map(|l| l.code()).collect();
        // Published the day before registration opens, or yesterday for a program that opens
        // later; the first program of the list is the newest, so it heads the catalogue.
        let published_at = (spec.status != "draft").then(|| {
            std::cmp::min(spec.registration.0 - Duration::days(1), yesterday)
                - Duration::minutes(15 * i64::try_from(index).unwrap_or(0))
        });
        let program_id = tx
            .insert_id(
                &row("programs")
                    .set("code", code)
                    .set("name_zh", spec.name_zh)
                    .set("name_en", spec.name_en)
                    .set("year", i64::from(program_year))
                    .set("semesters", json(&spec.semesters)?)
                    .set("start_date", spec.dates.0.format("%Y-%m-%d").to_string())
                    .set("end_date", spec.dates.1.format("%Y-%m-%d").to_string())
                    .set("duration", spec.duration)
                    .set("nature", spec.nature)
                    .set("region_kind", spec.region_kind)
                    .set("country", spec.country)
                    .set("program_type", spec.program_type)
                    .set("fee_mode", spec.fee_mode)
                    .set("fee", spec.fee)
                    .set("term", spec.term)
                    .set("teaching_mode", spec.teaching_mode)
                    .set("description", spec.description)
                    .set("host_unit", office_name.zh.clone())
                    .set("reg_start", spec.registration.0)
                    .set("reg_end", spec.registration.1)
                    .set("levels", json(&levels)?)
                    .set("grades", json(&spec.grades)?)
                    .set("major_ids", json(&major_ids)?)
                    .set("min_gpa", spec.min_gpa)
                    .set("has_interview", spec.has_interview)
                    .set("allows_late", spec.allows_late)
                    .set("notice", NOTICE)
                    .set("workflow_code", spec.workflow)
                    .set("source", spec.source)
                    .set("status", spec.status)
                    .set("published_at", published_at)
                    .set(
                        "created_by",
                        if spec.source == "partner" {
                            partner
                        } else {
                            office
                        },
                    )
                    .set("created_at", now)
                    .set("updated_at", now)
                    .build()?,
            )
            .await?;
        for (i, (zh, en, country, quota)) in spec.partners.iter().enumerate() {
            tx.insert(
                &row("partner_schools")
                    .set("program_id", program_id)
                    .set("name_zh", *zh)
                    .set("name_en", *en)
                    .set("country", *country)
                    .set("quota", *quota)
                    .set("sort_order", i64::try_from(i)?)
                    .build()?,
            )
            .await?;
        }
        for (i, (zh, en, required, hint, formats, max_bytes)) in
            spec.attachments.specs().iter().enumerate()
        {
            tx.insert(
                &row("attachment_types")
                    .set("program_id", program_id)
                    .set("name_zh", *zh)
                    .set("name_en", *en)
                    .set("required", *required)
                    .set("hint", *hint)
                    .set("formats", json(formats)?)
                    .set("max_bytes", *max_bytes)
                    .set("sort_order", i64::try_from(i)?)
                    .build()?,
            )
            .await?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Announcements and messages

async fn insert_announcements(
    tx: &mut Tx,
    office: &OfficeName,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let year = now.year();
    let items = [
        (
            "关于出国（境）交流管理系统上线使用的说明".to_owned(),
            "About the outbound exchange system".to_owned(),
            "各位同学：
出国（境）交流管理系统已上线。用户名为本人学号，初始密码为校园卡号，首次登录后须修改密码。
申报项目前，请先在“个人中心 · 我的个人资料”中核对并完善个人信息；学号、学院、专业、年级等学籍信息如有不符，请联系国际处修改后台信息。
系统支持手机浏览器访问。"
                .to_owned(),
            "Dear students,
The outbound exchange system is now open. Sign in with your student number; the initial password is your campus-card number and must be changed at first sign-in.
Before applying, check and complete your profile under “My profile”. If your registry data (student number, college, major, grade) is wrong, ask the international office to correct it.
The system also works in a phone's browser."
                .to_owned(),
            now - Duration::days(12),
        ),
        (
            format!("关于申报{year}年度校际交流项目的通知"),
            format!("Call for applications: {year} inter-university exchange programs"),
            format!(
                "各学院、各位同学：
{year}年度第一批校际交流项目现已开放申报，包括学期制交换、双学位、寒暑期、实习及港澳台交流项目，详见“交流项目”列表。
请在各项目的申报截止时间前完成网上报名并提交；每人限报 1 个项目，报名多个项目的将被取消报名资格。
学期制项目须上传中文成绩单和外语水平证明；寒暑期项目如无特殊要求，一般无须上传附件。
{}",
                office.zh
            ),
            format!(
                "To all colleges and students:
The first round of {year} exchange programs is open for applications: semester exchanges, dual degrees, winter and summer programs, internships and programs in Hong Kong, Macao and Taiwan. See the program list.
Submit your application before each program's deadline. Each student may apply for one program only; students who apply for several will be disqualified.
Semester programs require a Chinese transcript and proof of language proficiency; winter and summer programs usually require no attachments.
{}",
                office.en
            ),
            now - Duration::days(9),
        ),
    ];
    for (title_zh, title_en, body_zh, body_en, published_at) in items {
        tx.insert(
            &row("announcements")
                .set("title_zh", title_zh)
                .set("title_en", title_en)
                .set("body_zh", body_zh)
                .set("body_en", body_en)
                .set("published_at", published_at)
                .build()?,
        )
        .await?;
    }
    Ok(())
}

async fn insert_messages(
    tx: &mut Tx,
    users: &Users,
    office: &OfficeName,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let student = users.id("2023010101")?;
    let days = Duration::days;
    // (title, body, link, created, read).
    let items = [
        (
            "欢迎使用出国（境）交流管理系统",
            "请先核对“我的个人资料”中的信息，再浏览交流项目并报名。".to_owned(),
            "/profile",
            now - days(12),
            Some(now - days(11)),
        ),
        (
            "个人资料已完善",
            "你的个人资料必填项已全部填写，可以报名交流项目。".to_owned(),
            "/profile",
            now - days(11),
            Some(now - days(10)),
        ),
        (
            "新项目发布：英国校际学期制交换生项目开放报名",
            format!(
                "{}发布了新的学期制交换项目，申报截止前可在“交流项目”中报名。",
                office.zh
            ),
            "/programs",
            now - days(2),
            None,
        ),
    ];
    for (title, body, link, created_at, read_at) in items {
        tx.insert(
            &row("messages")
                .set("user_id", student)
                .set("title", title)
                .set("body", body)
                .set("link", link)
                .set("read_at", read_at)
                .set("created_at", created_at)
                .build()?,
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{dicts, migrate, users};
    use crate::domain::Profile;
    use crate::domain::values::china_today;
    use std::path::PathBuf;

    struct TestDb {
        db: Db,
        dir: PathBuf,
        key: DataKey,
        storage: Storage,
    }

    impl TestDb {
        async fn new() -> TestDb {
            let dir = std::env::temp_dir().join(format!("outbound-demo-{}", rand::random::<u64>()));
            std::fs::create_dir_all(&dir).unwrap();
            let db = Db::connect(&format!("sqlite://{}/t.db", dir.display()))
                .await
                .unwrap();
            migrate::run(&db).await.unwrap();
            let storage = Storage::local(dir.join("files")).unwrap();
            TestDb {
                db,
                dir,
                key: DataKey::generate(),
                storage,
            }
        }

        async fn load(&self) -> Outcome {
            load(&self.db, &self.key, &self.storage).await.unwrap()
        }

        async fn count(&self, table: &str, filter: Option<(&str, &str)>) -> i64 {
            let mut q = Query::select();
            q.expr(Expr::col(sea_query::Asterisk).count())
                .from(table.to_owned());
            if let Some((col, value)) = filter {
                q.and_where(Expr::col(col.to_owned()).eq(value));
            }
            self.db.count(&q).await.unwrap()
        }

        async fn finish(self) {
            self.db.close().await;
            std::fs::remove_dir_all(&self.dir).ok();
        }
    }

    #[derive(sqlx::FromRow)]
    struct StudentRow {
        student_no: String,
        id_type: String,
        id_number_enc: String,
        id_number_hash: String,
        id_number_masked: String,
        passport_no_enc: String,
        health_enc: String,
    }

    async fn student_rows(db: &Db) -> Vec<StudentRow> {
        db.all(
            &Query::select()
                .columns([
                    "student_no",
                    "id_type",
                    "id_number_enc",
                    "id_number_hash",
                    "id_number_masked",
                    "passport_no_enc",
                    "health_enc",
                ])
                .from("students")
                .to_owned(),
        )
        .await
        .unwrap()
    }

    fn student_specs() -> Vec<(&'static str, StudentSpec)> {
        accounts()
            .into_iter()
            .filter_map(|a| a.student.map(|s| (a.username, s)))
            .collect()
    }

    #[tokio::test]
    async fn the_demo_set_loads_once_with_every_role_and_a_dozen_visible_programs() {
        let t = TestDb::new().await;

        assert_eq!(t.load().await, Outcome::Loaded);

        assert_eq!(
            dicts::setting(&t.db, MARKER).await.unwrap().as_deref(),
            Some("1")
        );
        assert_eq!(t.count("colleges", None).await, 5);
        let visible = t.count("programs", Some(("status", "published"))).await
            + t.count("programs", Some(("status", "closed"))).await;
        assert!(visible >= 12, "only {visible} visible programs");
        assert_eq!(t.count("programs", Some(("status", "draft"))).await, 1);
        for role in Role::ALL {
            assert!(
                t.count("user_roles", Some(("role", role_code(role)))).await >= 1,
                "no {role:?}"
            );
        }
        assert_eq!(t.count("students", None).await, 9 + COHORT.len() as i64);
        // Every queue has work: the cohort nominated, the others waiting on a stage.
        assert_eq!(
            t.count("applications", Some(("status", "nominated"))).await,
            COHORT.len() as i64
        );
        assert_eq!(
            t.count("applications", Some(("status", "under_review")))
                .await,
            3
        );
        assert_eq!(t.count("announcements", None).await, 2);
        let wang = users::by_username(&t.db, "2023010101")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(users::unread_count(&t.db, wang.id).await.unwrap(), 1);
        assert!(password::verify(STUDENT_PASSWORD, &wang.password_hash));
        assert!(!wang.must_change_password);
        let reviewer = users::by_username(&t.db, "wxy_reviewer")
            .await
            .unwrap()
            .unwrap();
        assert!(password::verify(STAFF_PASSWORD, &reviewer.password_hash));
        assert_eq!(
            users::reviewer_colleges(&t.db, reviewer.id)
                .await
                .unwrap()
                .len(),
            1
        );
        let fresh = users::by_username(&t.db, "2025010109")
            .await
            .unwrap()
            .unwrap();
        assert!(fresh.must_change_password);
        assert!(password::verify("20250109", &fresh.password_hash));

        assert_eq!(t.load().await, Outcome::AlreadyLoaded);
        assert_eq!(t.count("users", None).await, 16 + COHORT.len() as i64);
        t.finish().await;
    }

    #[tokio::test]
    async fn a_database_with_someone_elses_account_is_refused_and_left_alone() {
        let t = TestDb::new().await;
        let mut tx = t.db.begin().await.unwrap();
        tx.insert(
            &row("users")
                .set("username", "T0001")
                .set("display_name", "某老师")
                .set("password_hash", "x")
                .set("created_at", Utc::now())
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        assert_eq!(t.load().await, Outcome::Refused);

        assert_eq!(t.count("users", None).await, 1);
        assert_eq!(t.count("programs", None).await, 0);
        assert_eq!(dicts::setting(&t.db, MARKER).await.unwrap(), None);
        t.finish().await;
    }

    #[test]
    fn the_invented_resident_id_numbers_are_valid_and_match_the_birth_dates() {
        let mut seen = 0;
        for (_, spec) in student_specs() {
            let p = &spec.profile;
            if p.id_number.is_empty() {
                continue;
            }
            let id = IdCardNumber::parse(&p.id_number).unwrap();
            assert_eq!(id.birth_date().format("%Y-%m-%d").to_string(), p.birth_date);
            seen += 1;
        }
        assert_eq!(seen, 7 + COHORT.len());
    }

    #[test]
    fn complete_demo_profiles_parse_and_the_unfinished_ones_miss_what_they_should() {
        for (username, spec) in student_specs() {
            let parsed = Profile::parse(&spec.profile, china_today());
            assert!(parsed.is_ok(), "{username}: {:?}", parsed.err());
            let missing = crate::domain::missing_required(&spec.profile);
            match username {
                "2022030301" => {
                    assert_eq!(
                        missing,
                        [
                            "id_number",
                            "emergency_name",
                            "emergency_mobile",
                            "emergency_relation"
                        ]
                    )
                }
                "2025010109" => assert!(missing.len() > 10),
                _ => assert!(missing.is_empty(), "{username} misses {missing:?}"),
            }
        }
    }

    #[tokio::test]
    async fn id_numbers_are_sealed_hashed_and_masked_and_never_stored_in_clear() {
        let t = TestDb::new().await;
        assert_eq!(t.load().await, Outcome::Loaded);
        let specs = student_specs();

        for stored in student_rows(&t.db).await {
            let (_, spec) = specs.iter().find(|(u, _)| *u == stored.student_no).unwrap();
            let p = &spec.profile;
            assert_eq!(stored.id_type, p.id_type);
            assert_eq!(t.key.open(&stored.id_number_enc).unwrap(), p.id_number);
            assert_eq!(stored.id_number_hash, t.key.lookup_hash(&p.id_number));
            assert_eq!(t.key.open(&stored.passport_no_enc).unwrap(), p.passport_no);
            assert_eq!(t.key.open(&stored.health_enc).unwrap(), p.health);
            if !p.id_number.is_empty() {
                let expected = format!(
                    "{}{}{}",
                    &p.id_number[..3],
                    "*".repeat(11),
                    &p.id_number[14..]
                );
                assert_eq!(stored.id_number_masked, expected);
            }
        }

        // The whole database file, not only the students table, holds no number in clear.
        let dir = t.dir.clone();
        t.db.close().await;
        let mut bytes = Vec::new();
        for name in ["t.db", "t.db-wal"] {
            bytes.extend(std::fs::read(dir.join(name)).unwrap_or_default());
        }
        // A value stored in clear is found, so the search below can fail.
        let email = b"wangxm@stu.example.edu.cn";
        assert!(bytes.windows(email.len()).any(|w| w == email));
        for (_, spec) in &specs {
            for secret in [&spec.profile.id_number, &spec.profile.passport_no] {
                if !secret.is_empty() {
                    assert!(
                        !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                        "{secret} in clear"
                    );
                }
            }
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    #[tokio::test]
    async fn demo_programs_use_only_codes_of_the_reference_data() {
        let t = TestDb::new().await;
        assert_eq!(t.load().await, Outcome::Loaded);
        let codes = |kind: &'static str| {
            let db = t.db.clone();
            async move { dicts::codes(&dicts::items(&db, kind).await.unwrap()) }
        };
        let (countries, types, natures, semesters) = (
            codes(dicts::kind::COUNTRY).await,
            codes(dicts::kind::PROGRAM_TYPE).await,
            codes(dicts::kind::PROGRAM_NATURE).await,
            codes(dicts::kind::SEMESTER).await,
        );
        let templates: Vec<(String,)> =
            t.db.all(
                &Query::select()
                    .column("code")
                    .from("workflow_templates")
                    .to_owned(),
            )
            .await
            .unwrap();

        for spec in programs(Utc::now()) {
            assert!(
                countries.contains(&spec.country.to_owned()),
                "{}",
                spec.country
            );
            assert!(
                types.contains(&spec.program_type.to_owned()),
                "{}",
                spec.program_type
            );
            assert!(natures.contains(&spec.nature.to_owned()), "{}", spec.nature);
            assert!(
                spec.semesters
                    .iter()
                    .all(|s| semesters.contains(&(*s).to_owned()))
            );
            assert!(
                templates.iter().any(|(c,)| c == spec.workflow),
                "{}",
                spec.workflow
            );
            for (_, _, country, _) in &spec.partners {
                assert!(countries.contains(&(*country).to_owned()));
            }
            assert!(spec.dates.0 <= spec.dates.1, "{}", spec.name_zh);
            assert!(
                spec.registration.0 < spec.registration.1,
                "{}",
                spec.name_zh
            );
        }
        let ethnicities = codes(dicts::kind::ETHNICITY).await;
        let political = codes(dicts::kind::POLITICAL_STATUS).await;
        let admission = codes(dicts::kind::ADMISSION_CATEGORY).await;
        for (_, spec) in student_specs() {
            let p = &spec.profile;
            assert!(p.ethnicity.is_empty() || ethnicities.contains(&p.ethnicity));
            assert!(p.political_status.is_empty() || political.contains(&p.political_status));
            assert!(p.admission_category.is_empty() || admission.contains(&p.admission_category));
            assert!(p.nationality.is_empty() || countries.contains(&p.nationality));
        }
        t.finish().await;
    }

    #[test]
    fn the_demo_programs_cover_every_registration_state_and_kind_of_program() {
        use crate::domain::application::{Registration, registration};
        let now = Utc::now();
        let specs = programs(now);
        let state = |p: &ProgramSpec| {
            let (start, end) = p.registration;
            registration(start, end, p.allows_late, p.status == "published", now)
        };
        for wanted in [
            Registration::Open,
            Registration::NotYetOpen,
            Registration::LateOnly,
            Registration::Closed,
        ] {
            assert!(specs.iter().any(|p| state(p) == wanted), "{wanted:?}");
        }
        let open = specs
            .iter()
            .filter(|p| state(p) == Registration::Open)
            .count();
        assert!(open >= 8, "{open} open programs");
        let has = |f: &dyn Fn(&ProgramSpec) -> bool| specs.iter().any(f);
        assert!(has(
            &|p| p.partners.len() >= 2 && p.program_type == "semester_exchange"
        ));
        assert!(has(&|p| p.program_type == "dual_degree"));
        assert!(has(&|p| p.program_type == "internship"));
        assert!(has(&|p| p.region_kind == "hmt" && p.country == "HK"));
        assert!(has(&|p| p.region_kind == "hmt" && p.country == "TW"));
        assert!(has(&|p| p.teaching_mode == "online"));
        assert!(has(&|p| p.source == "partner" && p.status == "published"));
        assert!(has(&|p| p.min_gpa == Some(3.5)));
        assert!(has(
            &|p| p.levels == [StudyLevel::Master, StudyLevel::Doctoral]
        ));
        assert!(has(&|p| p.year.is_some() && p.status == "closed"));
        assert!(has(&|p| p.status == "draft"));
    }

    #[tokio::test]
    async fn the_reference_data_has_every_kind_and_well_formed_workflow_templates() {
        let t = TestDb::new().await;
        for kind in [
            dicts::kind::COUNTRY,
            dicts::kind::ETHNICITY,
            dicts::kind::ID_TYPE,
            dicts::kind::POLITICAL_STATUS,
            dicts::kind::ADMISSION_CATEGORY,
            dicts::kind::LANGUAGE,
            dicts::kind::EXAM_TYPE,
            dicts::kind::FUNDING_SOURCE,
            dicts::kind::PROGRAM_TYPE,
            dicts::kind::SEMESTER,
            dicts::kind::PROGRAM_NATURE,
        ] {
            assert!(
                !dicts::items(&t.db, kind).await.unwrap().is_empty(),
                "{kind}"
            );
        }
        assert!(
            dicts::items(&t.db, dicts::kind::COUNTRY)
                .await
                .unwrap()
                .len()
                >= 40
        );
        let ethnic = dicts::items(&t.db, dicts::kind::ETHNICITY).await.unwrap();
        assert_eq!(ethnic.len(), 58);
        assert_eq!(ethnic[0].label_zh, "汉族");
        let id_types = dicts::codes(&dicts::items(&t.db, dicts::kind::ID_TYPE).await.unwrap());
        assert_eq!(id_types, IdType::ALL.map(|t| t.code().to_owned()));
        let funding = dicts::codes(
            &dicts::items(&t.db, dicts::kind::FUNDING_SOURCE)
                .await
                .unwrap(),
        );
        assert_eq!(
            funding,
            [
                "csc",
                "school",
                "college",
                "supervisor",
                "host",
                "self",
                "other"
            ]
        );
        assert_eq!(
            dicts::setting(&t.db, "max_active_per_round")
                .await
                .unwrap()
                .as_deref(),
            Some("1")
        );

        let templates: Vec<(String, String)> =
            t.db.all(
                &Query::select()
                    .columns(["code", "stages"])
                    .from("workflow_templates")
                    .to_owned(),
            )
            .await
            .unwrap();
        assert_eq!(templates.len(), 5);
        for (code, stages) in templates {
            let stages: Vec<serde_json::Map<String, serde_json::Value>> =
                serde_json::from_str(&stages).unwrap();
            let field = |s: &serde_json::Map<String, serde_json::Value>, f: &str| {
                s.get(f)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            let phases: Vec<String> = stages.iter().map(|s| field(s, "phase")).collect();
            assert_eq!(
                phases.first().map(String::as_str),
                Some("application"),
                "{code}"
            );
            assert_eq!(phases.last().map(String::as_str), Some("return"), "{code}");
            for s in &stages {
                let role = crate::auth::role_from_code(&field(s, "role"));
                assert!(role.is_some_and(|r| r.is_staff()), "{code}: {s:?}");
                assert!(crate::domain::Phase::from_code(&field(s, "phase")).is_some());
                assert!(["college", "all"].contains(&field(s, "scope").as_str()));
                assert!(!field(s, "key").is_empty() && !field(s, "name_zh").is_empty());
            }
        }
        t.finish().await;
    }

    /// Runs the migrations and the demo set on PostgreSQL:
    /// `OUTBOUND_TEST_PG_URL=postgres://… cargo test --lib demo -- --ignored`.
    #[tokio::test]
    #[ignore = "needs PostgreSQL: set OUTBOUND_TEST_PG_URL to an empty database"]
    async fn the_demo_set_loads_on_postgresql() {
        let url = std::env::var("OUTBOUND_TEST_PG_URL").expect("OUTBOUND_TEST_PG_URL");
        let db = Db::connect(&url).await.unwrap();
        migrate::run(&db).await.unwrap();
        let key = DataKey::generate();
        let dir = std::env::temp_dir().join(format!("outbound-demo-pg-{}", rand::random::<u64>()));
        let storage = Storage::local(&dir).unwrap();

        assert_eq!(load(&db, &key, &storage).await.unwrap(), Outcome::Loaded);
        assert_eq!(
            load(&db, &key, &storage).await.unwrap(),
            Outcome::AlreadyLoaded
        );
        let wang = users::by_username(&db, "2023010101")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(users::unread_count(&db, wang.id).await.unwrap(), 1);
        assert_eq!(
            dicts::items(&db, dicts::kind::ETHNICITY)
                .await
                .unwrap()
                .len(),
            58
        );
        db.close().await;
        std::fs::remove_dir_all(&dir).ok();
    }
}
