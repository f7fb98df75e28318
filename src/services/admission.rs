//! 录取管理, the only writer of admission results: recording a partner school's answer for
//! nominated applications (one by one or in batch), and the allocation by parallel choices
//! (平行志愿) — its score settings, the preview, the office's overrides and publishing.
//!
//! Every result is a [`transition`] (guarded on status and version, with its history row) and
//! sends the student an in-app message, in the same transaction. Transactions:
//! - recording: **one transaction per application**. Each answer is its own decision; one
//!   application changed by someone else meanwhile must not undo the others, so it is reported
//!   (已被他人处理) while the rest are recorded.
//! - publishing an allocation: **one transaction for the whole allocation**. The lines depend
//!   on each other through the quotas, so publishing part of them would make the rest wrong.
//!   The preview the office saw is identified by a fingerprint; if anything changed (a line,
//!   a quota, a setting) the publication is refused with 409 and nothing is written.
//!
//! Both take the program's `allocation_settings` row lock first (an UPDATE), so that a result
//! recorded one by one and a publication of the same program cannot interleave on
//! PostgreSQL (SQLite writers queue anyway).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait, InsertStatement, OnConflict, Query, SelectStatement};
use sha2::{Digest, Sha256};

use super::applications::{facts, transition};
use super::audit::{self, Who};
use super::messages::{Note, Notifier};
use super::{ServiceError, ServiceResult};
use crate::db::admission::{
    self as q, CandidateRow, LanguageScoreRow, OverrideRow, RecordTarget, SettingsRow,
};
use crate::db::applications::ApplicationRow;
use crate::db::programs::{self, PartnerSchool, ProgramRow};
use crate::db::{Db, DbResult, Record, Tx, dicts};
use crate::domain::FieldErrors;
use crate::domain::allocation::{
    Allocation, Applicant, Arg, Line, School, ScoreRule, ScoreSettings, Scores, SettingsForm, Why,
    allocate, language_points,
};
use crate::domain::application::ApplicationInfoForm;
use crate::domain::status::{Action, Actor, AdmissionResult, Role, Status};
use crate::domain::values::{Gpa, Percentage};
use crate::i18n::{Lang, Phrase, Text};

/// The person acting: who (for history and audit) and with which roles.
#[derive(Debug, Clone)]
pub struct Officer {
    pub user_id: i64,
    pub roles: Vec<Role>,
    pub who: Who,
}

impl Officer {
    /// The state machine's view of this person for one application: office actions need no
    /// stage, and nobody decides on their own application.
    fn actor(&self, app: &ApplicationRow) -> Actor {
        Actor {
            is_owner: app.student_id == self.user_id,
            ..Actor::staff(&self.roles, false)
        }
    }

    /// The first layer checked again here: only the international office or an admin.
    fn ensure_office(&self) -> ServiceResult<()> {
        if Actor::staff(&self.roles, false).is_office() {
            Ok(())
        } else {
            Err(ServiceError::Forbidden)
        }
    }
}

/// Fills the `{}` of a catalogue text with `args`, in order.
pub fn fill(template: &str, args: &[&str]) -> String {
    crate::i18n::fill(template, args)
}

/// The words "第一志愿名额已满，按第二志愿录取" of one line, in `lang`.
pub fn explain(lang: Lang, why: &[Why], schools: &[PartnerSchool]) -> String {
    let school_name = |id: i64| {
        schools
            .iter()
            .find(|s| s.id == id)
            .map(|s| lang.pick(&s.name_zh, &s.name_en).to_owned())
            .unwrap_or_else(|| id.to_string())
    };
    let separator = match lang {
        Lang::Zh => "，",
        Lang::En => "; ",
    };
    why.iter()
        .map(|w| {
            let args: Vec<String> = w
                .args
                .iter()
                .map(|a| match a {
                    Arg::School(id) => school_name(*id),
                    Arg::Count(n) => n.to_string(),
                    Arg::Result(r) => lang.t(r.outcome().label_key()).to_owned(),
                    Arg::Components(cs) => cs
                        .iter()
                        .map(|c| lang.t(c.label_key()))
                        .collect::<Vec<_>>()
                        .join(if lang == Lang::Zh { "、" } else { ", " }),
                })
                .collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            fill(lang.t(w.key), &args)
        })
        .collect::<Vec<_>>()
        .join(separator)
}

// ---------------------------------------------------------------------------------------------
// Reading on the pool or inside the write transaction

/// Where the allocation is read from: the pool for the preview page, the write transaction
/// when publishing (so that what is published is what was checked).
enum Reader<'a> {
    Pool(&'a Db),
    Tx(&'a mut Tx),
}

impl Reader<'_> {
    async fn all<T: Record>(&mut self, q: &SelectStatement) -> DbResult<Vec<T>> {
        match self {
            Reader::Pool(db) => db.all(q).await,
            Reader::Tx(tx) => tx.all(q).await,
        }
    }

    async fn optional<T: Record>(&mut self, q: &SelectStatement) -> DbResult<Option<T>> {
        match self {
            Reader::Pool(db) => db.optional(q).await,
            Reader::Tx(tx) => tx.optional(q).await,
        }
    }
}

/// Locks the program's allocation row (if there is one) for the rest of the transaction.
async fn lock_program(tx: &mut Tx, program_id: i64) -> ServiceResult<()> {
    tx.update(
        Query::update()
            .table("allocation_settings")
            .value("version", Expr::col("version").add(1))
            .and_where(Expr::col("program_id").eq(program_id)),
    )
    .await?;
    Ok(())
}

/// The partner-school id of the `n`th choice (1 or 2) written on the application.
fn choice(info: &ApplicationInfoForm, n: u8) -> Option<i64> {
    let raw = match n {
        1 => &info.choice_1,
        _ => &info.choice_2,
    };
    raw.trim().parse().ok()
}

/// The school an admission result admits to: the first or second choice, else none.
fn school_of(result: AdmissionResult, info: &ApplicationInfoForm) -> Option<Option<i64>> {
    match result {
        AdmissionResult::FirstChoice => Some(choice(info, 1)),
        AdmissionResult::SecondChoice => Some(choice(info, 2)),
        _ => None,
    }
}

/// The in-app message for a result, in both languages.
fn result_note(
    student_id: i64,
    app_id: i64,
    program: &Text,
    result: AdmissionResult,
    school: Option<&PartnerSchool>,
) -> Note {
    let label = Text::key(result.outcome().label_key());
    let body = match result {
        AdmissionResult::FirstChoice | AdmissionResult::SecondChoice => Text::fill(
            "adm.msg.admitted",
            &[
                program,
                &label,
                &school.map_or_else(Text::default, |s| Text::names(&s.name_zh, &s.name_en)),
            ],
        ),
        AdmissionResult::Adjustment => Text::fill("adm.msg.adjustment", &[program]),
        AdmissionResult::NotAdmitted => Text::fill("adm.msg.not_admitted", &[program]),
        AdmissionResult::Abandoned => Text::fill("adm.msg.abandoned", &[program]),
    };
    Note {
        user_id: student_id,
        title: Text::fill("adm.msg.title", &[&label]),
        body,
        link: format!("/applications/{app_id}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Recording results (第一志愿被录取 / 第二志愿被录取 / 未被录取 / 放弃 / 调剂)

/// One application of a batch, with the version the office saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pick {
    pub application_id: i64,
    pub seen_version: i64,
}

/// What happened to one application of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Recorded: the new status.
    Done(Status),
    /// Someone else changed it since the page was drawn (409 已被他人处理).
    Stale,
    /// The result cannot be recorded here: a catalogue key says why.
    NotAllowed(&'static str),
    /// No such application.
    NotFound,
}

/// The report of one application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub application_id: i64,
    /// The student's name ("" when not found).
    pub student_name: String,
    pub outcome: Outcome,
}

/// Records `result` for every picked application, each in its own transaction (see the
/// module documentation), and reports each one. Fails as a whole only when the person is not
/// the office, or on a database error.
pub async fn record_admission(
    db: &Db,
    officer: &Officer,
    result: AdmissionResult,
    picks: &[Pick],
) -> ServiceResult<Vec<Recorded>> {
    officer.ensure_office()?;
    let mut report = Vec::with_capacity(picks.len());
    for pick in picks {
        report.push(record_one(db, officer, result, *pick).await?);
    }
    Ok(report)
}

async fn record_one(
    db: &Db,
    officer: &Officer,
    result: AdmissionResult,
    pick: Pick,
) -> ServiceResult<Recorded> {
    let id = pick.application_id;
    let mut tx = db.begin().await?;
    let app: Option<ApplicationRow> = tx.optional(&q::applications_query(&[id])).await?;
    let target: Option<RecordTarget> = tx.optional(&q::record_target_query(id)).await?;
    let (Some(app), Some(target)) = (app, target) else {
        return Ok(Recorded {
            application_id: id,
            student_name: String::new(),
            outcome: Outcome::NotFound,
        });
    };
    let done = |outcome| {
        Ok(Recorded {
            application_id: id,
            student_name: target.student_name.clone(),
            outcome,
        })
    };
    lock_program(&mut tx, app.program_id).await?;
    if app.version != pick.seen_version {
        return done(Outcome::Stale);
    }
    let action = Action::RecordAdmission(result);
    let actor = officer.actor(&app);
    let facts = facts(&app, false);
    if let Err(e) = app.status().apply(action, &actor, &facts) {
        return done(Outcome::NotAllowed(e.code()));
    }
    let info = app.info_form();
    let schools: Vec<PartnerSchool> = tx.all(&q::schools_query(app.program_id)).await?;
    let school = match school_of(result, &info) {
        None => None,
        Some(Some(sid)) if schools.iter().any(|s| s.id == sid) => Some(sid),
        Some(_) => return done(Outcome::NotAllowed("adm.err.no_such_choice")),
    };
    let school_row = school.and_then(|sid| schools.iter().find(|s| s.id == sid));
    // Stored as a phrase so that each reader sees it in their own language.
    let opinion = school_row.map_or(String::new(), |s| {
        Phrase::new(
            "adm.history.school",
            vec![Text::names(&s.name_zh, &s.name_en)],
        )
        .store()
    });
    let to = match transition(
        &mut tx,
        &app,
        pick.seen_version,
        action,
        &actor,
        &facts,
        &officer.who,
        Lang::Zh.t("adm.stage"),
        &opinion,
        |u| {
            u.value("admitted_school_id", school);
        },
    )
    .await
    {
        Ok(to) => to,
        Err(ServiceError::Conflict(_)) => return done(Outcome::Stale),
        Err(ServiceError::Refused(key)) => return done(Outcome::NotAllowed(key)),
        Err(e) => return Err(e),
    };
    Notifier::send(
        &mut tx,
        &result_note(
            app.student_id,
            id,
            &Text::plain(&target.program_name_zh),
            result,
            school_row,
        ),
    )
    .await?;
    audit::record(
        &mut tx,
        &officer.who,
        "admission.record",
        &format!("application:{id}"),
        result.code(),
    )
    .await?;
    tx.commit().await?;
    done(Outcome::Done(to))
}

// ---------------------------------------------------------------------------------------------
// The allocation: settings, preview, overrides, publishing

/// One applicant of the preview with the sources of their score, for the table.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub row: CandidateRow,
    pub first: Option<i64>,
    pub second: Option<i64>,
    /// GPA as used (the profile at submission, else the profile now, else the application).
    pub gpa: Option<Gpa>,
    pub weighted_avg: Option<Percentage>,
    /// The 考试成绩 text of the configured exam that counted, as the student wrote it.
    pub language_text: String,
    pub scores: Scores,
}

/// Everything the allocation page shows, and what publishing checks.
#[derive(Debug, Clone)]
pub struct Preview {
    pub program: ProgramRow,
    pub schools: Vec<PartnerSchool>,
    pub settings: ScoreSettings,
    /// `None` until the office saves settings or publishes once.
    pub stored: Option<SettingsRow>,
    pub candidates: BTreeMap<i64, Candidate>,
    pub overrides: BTreeMap<i64, OverrideRow>,
    pub allocation: Allocation,
    /// Identifies exactly this preview: publishing refuses any other.
    pub fingerprint: String,
}

impl Preview {
    pub fn candidate(&self, line: &Line) -> Option<&Candidate> {
        self.candidates.get(&line.application_id)
    }

    pub fn school(&self, id: i64) -> Option<&PartnerSchool> {
        self.schools.iter().find(|s| s.id == id)
    }
}

/// The settings as stored, or the defaults; a stored value the domain no longer accepts falls
/// back to its default rather than failing the page.
fn settings_of(row: Option<&SettingsRow>) -> ScoreSettings {
    let d = ScoreSettings::default();
    let Some(r) = row else { return d };
    let whole = |v: i64, default: u32| u32::try_from(v).unwrap_or(default);
    ScoreSettings {
        rule: ScoreRule::from_code(&r.rule).unwrap_or(d.rule),
        weight_gpa: whole(r.weight_gpa, d.weight_gpa),
        weight_avg: whole(r.weight_avg, d.weight_avg),
        weight_language: whole(r.weight_language, d.weight_language),
        language_exam: r.language_exam.clone(),
        gpa_full: whole(r.gpa_full, d.gpa_full),
        language_full: whole(r.language_full, d.language_full),
    }
}

/// GPA as used for ranking: the profile's 平均绩点 as it was at 提交 (the snapshot on the
/// application), else the profile now, else the GPA typed on the 申请信息 step.
fn gpa_of(info: &ApplicationInfoForm, row: &CandidateRow) -> Option<Gpa> {
    let snapshot = serde_json::from_str::<serde_json::Value>(&row.profile_snapshot)
        .ok()
        .and_then(|v| v.get("gpa").and_then(|g| g.as_str()).map(str::to_owned))
        .unwrap_or_default();
    [
        snapshot.as_str(),
        row.student_gpa.as_str(),
        info.gpa.as_str(),
    ]
    .into_iter()
    .find_map(|raw| Gpa::parse(raw).ok())
}

fn candidate(row: CandidateRow, languages: &[&LanguageScoreRow], exam: &str) -> Candidate {
    let info: ApplicationInfoForm = serde_json::from_str(&row.info).unwrap_or_default();
    let gpa = gpa_of(&info, &row);
    let weighted_avg = Percentage::parse(&info.weighted_avg).ok();
    // The best score of the configured exam counts.
    let best = languages
        .iter()
        .filter(|l| !exam.is_empty() && l.exam_type == exam)
        .filter_map(|l| language_points(&l.score).map(|p| (p, l.score.clone())))
        .max_by_key(|(p, _)| *p);
    let scores = Scores {
        gpa,
        weighted_avg,
        language: best.as_ref().map(|(p, _)| *p),
    };
    Candidate {
        first: choice(&info, 1),
        second: choice(&info, 2),
        gpa,
        weighted_avg,
        language_text: best.map(|(_, t)| t).unwrap_or_default(),
        scores,
        row,
    }
}

/// The fingerprint of a preview: settings, schools, and every line with its version.
fn fingerprint(
    settings: &ScoreSettings,
    schools: &[School],
    allocation: &Allocation,
    candidates: &BTreeMap<i64, Candidate>,
) -> String {
    let mut h = Sha256::new();
    h.update(format!("{settings:?}\n"));
    for s in schools {
        h.update(format!("school {} {} {}\n", s.id, s.quota, s.taken));
    }
    for l in &allocation.lines {
        let version = candidates
            .get(&l.application_id)
            .map_or(0, |c| c.row.version);
        h.update(format!(
            "line {} {} {} {:?} {}\n",
            l.application_id,
            version,
            l.result.code(),
            l.school_id,
            l.overridden
        ));
    }
    hex::encode(&h.finalize()[..16])
}

async fn load(reader: &mut Reader<'_>, program: ProgramRow) -> ServiceResult<Preview> {
    let id = program.id;
    let schools: Vec<PartnerSchool> = reader.all(&q::schools_query(id)).await?;
    let stored: Option<SettingsRow> = reader.optional(&q::settings_query(id)).await?;
    let settings = settings_of(stored.as_ref());
    let rows: Vec<CandidateRow> = reader.all(&q::candidates_query(id)).await?;
    let languages: Vec<LanguageScoreRow> = reader.all(&q::language_scores_query(id)).await?;
    let taken: Vec<(i64, i64)> = reader.all(&q::taken_query(id)).await?;
    let overrides: Vec<OverrideRow> = reader.all(&q::overrides_query(id)).await?;

    let candidates: BTreeMap<i64, Candidate> = rows
        .into_iter()
        .map(|row| {
            let mine: Vec<&LanguageScoreRow> = languages
                .iter()
                .filter(|l| l.application_id == row.id)
                .collect();
            (row.id, candidate(row, &mine, &settings.language_exam))
        })
        .collect();
    let applicants: Vec<Applicant> = candidates
        .values()
        .map(|c| Applicant {
            id: c.row.id,
            // Every nominated application was submitted; a missing time sorts last.
            submitted_at: c.row.submitted_at.unwrap_or(DateTime::<Utc>::MAX_UTC),
            scores: c.scores,
            first: c.first,
            second: c.second,
        })
        .collect();
    let places: Vec<School> = schools
        .iter()
        .map(|s| School {
            id: s.id,
            quota: s.quota,
            taken: taken
                .iter()
                .find(|(sid, _)| *sid == s.id)
                .map_or(0, |(_, n)| *n),
        })
        .collect();
    // Overrides of applications that are no longer nominated do not apply.
    let overrides: BTreeMap<i64, OverrideRow> = overrides
        .into_iter()
        .filter(|o| candidates.contains_key(&o.application_id))
        .map(|o| (o.application_id, o))
        .collect();
    let fixed: BTreeMap<i64, AdmissionResult> = overrides
        .values()
        .filter_map(|o| AdmissionResult::from_code(&o.result).map(|r| (o.application_id, r)))
        .collect();
    let allocation = allocate(&settings, &applicants, &places, &fixed);
    let fingerprint = fingerprint(&settings, &places, &allocation, &candidates);
    Ok(Preview {
        program,
        schools,
        settings,
        stored,
        candidates,
        overrides,
        allocation,
        fingerprint,
    })
}

async fn program(db: &Db, program_id: i64) -> ServiceResult<ProgramRow> {
    programs::by_id(db, program_id)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// The allocation of a program as it would be published now.
pub async fn preview(db: &Db, officer: &Officer, program_id: i64) -> ServiceResult<Preview> {
    officer.ensure_office()?;
    let program = program(db, program_id).await?;
    load(&mut Reader::Pool(db), program).await
}

/// The exam types the settings may name.
pub async fn exam_types(db: &Db) -> ServiceResult<Vec<dicts::DictItem>> {
    Ok(dicts::items(db, dicts::kind::EXAM_TYPE).await?)
}

/// The insert of a program's settings row with every value spelled out.
fn settings_insert(
    program_id: i64,
    s: &ScoreSettings,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> InsertStatement {
    Query::insert()
        .into_table("allocation_settings")
        .columns([
            "program_id",
            "rule",
            "weight_gpa",
            "weight_avg",
            "weight_language",
            "language_exam",
            "gpa_full",
            "language_full",
            "updated_by",
            "updated_at",
        ])
        .values_panic([
            program_id.into(),
            s.rule.code().into(),
            i64::from(s.weight_gpa).into(),
            i64::from(s.weight_avg).into(),
            i64::from(s.weight_language).into(),
            s.language_exam.clone().into(),
            i64::from(s.gpa_full).into(),
            i64::from(s.language_full).into(),
            by.into(),
            now.into(),
        ])
        .to_owned()
}

async fn store_settings(
    tx: &mut Tx,
    who: &Who,
    program_id: i64,
    s: &ScoreSettings,
) -> ServiceResult<()> {
    tx.insert(
        settings_insert(program_id, s, who.id, Utc::now()).on_conflict(
            OnConflict::column("program_id")
                .update_columns([
                    "rule",
                    "weight_gpa",
                    "weight_avg",
                    "weight_language",
                    "language_exam",
                    "gpa_full",
                    "language_full",
                    "updated_by",
                    "updated_at",
                ])
                .to_owned(),
        ),
    )
    .await?;
    audit::record(
        tx,
        who,
        "admission.settings",
        &format!("program:{program_id}"),
        &format!(
            "{} {}/{}/{} {}",
            s.rule.code(),
            s.weight_gpa,
            s.weight_avg,
            s.weight_language,
            s.language_exam
        ),
    )
    .await?;
    Ok(())
}

/// Saves the score settings the office posted (every error at once, beside its field).
pub async fn save_settings(
    db: &Db,
    officer: &Officer,
    program_id: i64,
    form: &SettingsForm,
) -> ServiceResult<ScoreSettings> {
    officer.ensure_office()?;
    program(db, program_id).await?;
    let exams = dicts::codes(&exam_types(db).await?);
    let settings = ScoreSettings::parse(form, &exams)?;
    let mut tx = db.begin().await?;
    store_settings(&mut tx, &officer.who, program_id, &settings).await?;
    tx.commit().await?;
    Ok(settings)
}

/// Sets up the allocation settings of a program without a person behind it (the demo data
/// set, imports): ranks by a 50 / 30 / 20 mix of GPA (out of 4), 加权平均分 and IELTS (out of
/// 9), unless `settings` says otherwise.
pub async fn configure_allocation(
    db: &Db,
    program_id: i64,
    settings: Option<ScoreSettings>,
) -> ServiceResult<()> {
    program(db, program_id).await?;
    let settings = settings.unwrap_or(ScoreSettings {
        rule: ScoreRule::Mix,
        ..ScoreSettings::default()
    });
    let mut tx = db.begin().await?;
    store_settings(&mut tx, &Who::system(), program_id, &settings).await?;
    tx.commit().await?;
    Ok(())
}

/// Fixes (or with `None`, clears) the result of one preview line. The application must be a
/// nominated one of this program, and a first / second choice must have been made.
pub async fn set_override(
    db: &Db,
    officer: &Officer,
    program_id: i64,
    application_id: i64,
    result: Option<AdmissionResult>,
) -> ServiceResult<()> {
    officer.ensure_office()?;
    let mut tx = db.begin().await?;
    let app: ApplicationRow = tx
        .optional(&q::applications_query(&[application_id]))
        .await?
        .filter(|a: &ApplicationRow| a.program_id == program_id)
        .ok_or(ServiceError::NotFound)?;
    if app.status() != Status::Nominated {
        return Err(ServiceError::Conflict("alloc.err.not_nominated"));
    }
    match result {
        None => {
            tx.delete(
                Query::delete()
                    .from_table("allocation_overrides")
                    .and_where(Expr::col("application_id").eq(application_id)),
            )
            .await?;
        }
        Some(r) => {
            app.status()
                .apply(
                    Action::PublishAllocation(r),
                    &officer.actor(&app),
                    &facts(&app, false),
                )
                .map_err(|e| ServiceError::Refused(e.code()))?;
            let schools: Vec<PartnerSchool> = tx.all(&q::schools_query(program_id)).await?;
            if let Some(choice) = school_of(r, &app.info_form())
                && !choice.is_some_and(|id| schools.iter().any(|s| s.id == id))
            {
                let mut e = FieldErrors::new();
                e.add("result", "adm.err.no_such_choice");
                return Err(ServiceError::Invalid(e));
            }
            tx.insert(
                Query::insert()
                    .into_table("allocation_overrides")
                    .columns([
                        "application_id",
                        "program_id",
                        "result",
                        "set_by",
                        "set_by_name",
                        "set_at",
                    ])
                    .values_panic([
                        application_id.into(),
                        program_id.into(),
                        r.code().into(),
                        officer.who.id.into(),
                        officer.who.name.clone().into(),
                        Utc::now().into(),
                    ])
                    .on_conflict(
                        OnConflict::column("application_id")
                            .update_columns(["result", "set_by", "set_by_name", "set_at"])
                            .to_owned(),
                    ),
            )
            .await?;
        }
    }
    audit::record(
        &mut tx,
        &officer.who,
        "admission.override",
        &format!("application:{application_id}"),
        result.map_or("auto", |r| r.code()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// 发布录取结果: turns the preview identified by `fingerprint` into decisions — for every
/// line a [`transition`] with `PublishAllocation(result)`, `admitted_school_id`, its history row
/// (the explanation as opinion) and a message to the student — all in one transaction.
/// Returns how many were published. Refused with 409 when the preview changed since it was
/// shown (someone recorded a result, a quota or a setting changed, it was published already).
pub async fn publish(
    db: &Db,
    officer: &Officer,
    program_id: i64,
    fingerprint: &str,
) -> ServiceResult<usize> {
    officer.ensure_office()?;
    let program = program(db, program_id).await?;
    let now = Utc::now();
    let mut tx = db.begin().await?;
    // A program never configured is published with the defaults; the row is also the lock.
    tx.insert(
        &settings_insert(program_id, &ScoreSettings::default(), None, now)
            .on_conflict(OnConflict::column("program_id").do_nothing().to_owned())
            .to_owned(),
    )
    .await?;
    lock_program(&mut tx, program_id).await?;
    let preview = load(&mut Reader::Tx(&mut tx), program).await?;
    if preview.fingerprint != fingerprint {
        return Err(ServiceError::Conflict("alloc.err.changed"));
    }
    if preview.allocation.lines.is_empty() {
        return Err(ServiceError::Refused("alloc.err.nothing"));
    }
    let ids: Vec<i64> = preview
        .allocation
        .lines
        .iter()
        .map(|l| l.application_id)
        .collect();
    let apps: Vec<ApplicationRow> = tx.all(&q::applications_query(&ids)).await?;
    let stage = Lang::Zh.t("adm.stage");
    for line in &preview.allocation.lines {
        let app = apps
            .iter()
            .find(|a| a.id == line.application_id)
            .ok_or(ServiceError::Conflict("alloc.err.changed"))?;
        let seen = preview.candidate(line).map_or(-1, |c| c.row.version);
        let opinion = Text {
            zh: explain(Lang::Zh, &line.why, &preview.schools),
            en: explain(Lang::En, &line.why, &preview.schools),
        }
        .store();
        let school = line.school_id;
        transition(
            &mut tx,
            app,
            seen,
            Action::PublishAllocation(line.result),
            &officer.actor(app),
            &facts(app, false),
            &officer.who,
            stage,
            &opinion,
            |u| {
                u.value("admitted_school_id", school);
            },
        )
        .await
        .map_err(|e| match e {
            ServiceError::Conflict(_) => ServiceError::Conflict("alloc.err.changed"),
            other => other,
        })?;
        Notifier::send(
            &mut tx,
            &result_note(
                app.student_id,
                app.id,
                &Text::names(&preview.program.name_zh, &preview.program.name_en),
                line.result,
                school.and_then(|id| preview.school(id)),
            ),
        )
        .await?;
    }
    tx.delete(
        Query::delete()
            .from_table("allocation_overrides")
            .and_where(Expr::col("application_id").is_in(ids.iter().copied())),
    )
    .await?;
    tx.update(
        Query::update()
            .table("allocation_settings")
            .value("published_at", now)
            .value("published_by", officer.who.name.clone())
            .value("published_count", ids.len() as i64)
            .and_where(Expr::col("program_id").eq(program_id)),
    )
    .await?;
    audit::record(
        &mut tx,
        &officer.who,
        "admission.publish",
        &format!("program:{program_id}"),
        &format!("{} lines", ids.len()),
    )
    .await?;
    tx.commit().await?;
    Ok(ids.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::allocation::Component;

    fn school(id: i64, zh: &str, en: &str) -> PartnerSchool {
        PartnerSchool {
            id,
            program_id: 1,
            name_zh: zh.into(),
            name_en: en.into(),
            country: String::new(),
            quota: 1,
            sort_order: 0,
        }
    }

    #[test]
    fn fill_puts_the_arguments_in_order_and_leaves_missing_ones_empty() {
        assert_eq!(
            fill("超出{}的推荐名额（{} 名）", &["利兹大学", "2"]),
            "超出利兹大学的推荐名额（2 名）"
        );
        assert_eq!(fill("缺少{}", &[]), "缺少");
        assert_eq!(fill("无参数", &["x"]), "无参数");
    }

    #[test]
    fn an_explanation_reads_as_one_sentence_in_either_language() {
        let why = vec![
            Why {
                key: "alloc.why.first.full",
                args: vec![],
            },
            Why {
                key: "alloc.why.take_second",
                args: vec![],
            },
        ];
        assert_eq!(
            explain(Lang::Zh, &why, &[]),
            "第一志愿名额已满，按第二志愿录取"
        );
        assert_eq!(
            explain(Lang::En, &why, &[]),
            "the first choice is full; admitted to the second choice"
        );
        let over = vec![Why {
            key: "alloc.why.override_over_quota",
            args: vec![Arg::School(7), Arg::Count(2)],
        }];
        let schools = [school(7, "利兹大学", "University of Leeds")];
        assert_eq!(
            explain(Lang::Zh, &over, &schools),
            "超出利兹大学的推荐名额（2 名）"
        );
        assert!(explain(Lang::En, &over, &schools).contains("University of Leeds"));
        let missing = vec![Why {
            key: "alloc.why.missing_score",
            args: vec![Arg::Components(vec![Component::Gpa, Component::Language])],
        }];
        assert_eq!(
            explain(Lang::Zh, &missing, &[]),
            "缺少平均绩点（GPA）、外语成绩"
        );
    }

    fn candidate_row(info: &str, snapshot: &str, student_gpa: &str) -> CandidateRow {
        CandidateRow {
            id: 1,
            version: 1,
            student_id: 2,
            student_no: "2023020105".into(),
            student_name: "张三".into(),
            college_name_zh: String::new(),
            college_name_en: String::new(),
            info: info.into(),
            profile_snapshot: snapshot.into(),
            student_gpa: student_gpa.into(),
            submitted_at: None,
        }
    }

    #[test]
    fn gpa_comes_from_the_snapshot_then_the_profile_then_the_application() {
        let info = |g: &str| ApplicationInfoForm {
            gpa: g.into(),
            ..ApplicationInfoForm::default()
        };
        let row = candidate_row("{}", r#"{"gpa":"3.40"}"#, "3.20");
        assert_eq!(gpa_of(&info("3.70"), &row), Gpa::parse("3.40").ok());
        let no_snapshot = candidate_row("{}", r#"{"gpa":""}"#, "3.20");
        assert_eq!(gpa_of(&info("3.70"), &no_snapshot), Gpa::parse("3.20").ok());
        let only_info = candidate_row("{}", "{}", "");
        assert_eq!(gpa_of(&info("3.70"), &only_info), Gpa::parse("3.70").ok());
        assert_eq!(gpa_of(&info("abc"), &only_info), None);
    }

    #[test]
    fn the_best_score_of_the_configured_exam_counts_and_other_exams_do_not() {
        let row = candidate_row(r#"{"choice_1":"5","weighted_avg":"88.5"}"#, "{}", "3.5");
        let langs = [
            LanguageScoreRow {
                application_id: 1,
                exam_type: "ielts".into(),
                score: "6.5".into(),
            },
            LanguageScoreRow {
                application_id: 1,
                exam_type: "ielts".into(),
                score: "总分 7.0".into(),
            },
            LanguageScoreRow {
                application_id: 1,
                exam_type: "toefl".into(),
                score: "110".into(),
            },
        ];
        let refs: Vec<&LanguageScoreRow> = langs.iter().collect();
        let c = candidate(row.clone(), &refs, "ielts");
        assert_eq!(c.scores.language, Some(700));
        assert_eq!(c.language_text, "总分 7.0");
        assert_eq!(c.first, Some(5));
        assert_eq!(c.second, None);
        assert_eq!(c.weighted_avg, Percentage::parse("88.5").ok());
        let none = candidate(row, &refs, "");
        assert_eq!(none.scores.language, None);
    }

    #[test]
    fn only_the_office_may_act() {
        let reviewer = Officer {
            user_id: 1,
            roles: vec![Role::CollegeReviewer],
            who: Who::system(),
        };
        assert!(matches!(
            reviewer.ensure_office(),
            Err(ServiceError::Forbidden)
        ));
        let admin = Officer {
            roles: vec![Role::Admin],
            ..reviewer
        };
        assert!(admin.ensure_office().is_ok());
    }

    #[test]
    fn stored_settings_that_no_longer_parse_fall_back_to_the_defaults() {
        let row = SettingsRow {
            program_id: 1,
            rule: "lottery".into(),
            weight_gpa: -5,
            weight_avg: 40,
            weight_language: 20,
            language_exam: "toefl".into(),
            gpa_full: 500,
            language_full: 12_000,
            version: 1,
            updated_at: Utc::now(),
            published_at: None,
            published_by: String::new(),
            published_count: 0,
        };
        let s = settings_of(Some(&row));
        assert_eq!(s.rule, ScoreRule::Gpa);
        assert_eq!(s.weight_gpa, 50);
        assert_eq!(s.weight_avg, 40);
        assert_eq!(s.gpa_full, 500);
        assert_eq!(settings_of(None), ScoreSettings::default());
    }
}
