//! 项目管理 (SPEC §4, §10) and the workflow-template editor (SPEC §8): the office creates,
//! edits, copies, publishes, unpublishes and closes programs; a partner (【合作方】) creates its
//! own programs and submits them for the office's approval; staff edit review workflows as
//! versioned stage lists.
//!
//! Who may do what to which program is decided in one place, the domain's
//! [`ProgramStatus::apply`] (see `domain::program_status` for the lifecycle), from the manager
//! ([`Manager`]: the office, or one partner account) and the program's status; [`allowed`]
//! lists it for the pages' buttons. Every status change goes through one function,
//! [`transition`]: one transaction, compare-and-set on the old status and the program's
//! `version` (a stale form gets [`STALE`], 409), an audit row, and a note to the partner
//! where the office decided on its program. Edits are guarded by the version the same way.
//!
//! The program form and its checks live in [`form`], partner schools and attachment types in
//! [`rows`], the workflow-template editor in [`workflows`]; this module holds the policy and the
//! lifecycle. Students see `published` and `closed` programs only
//! (`db::programs::VISIBLE_STATUSES`).

use chrono::{DateTime, Months, NaiveDate, Utc};
use sea_query::{Expr, ExprTrait, Query};

use super::audit::{self, Who};
use super::messages::{Note, Notifier};
use super::{ServiceError, ServiceResult};
use crate::auth::Roles;
use crate::db::programs::{self as db, ManagedProgram, program_target};
use crate::db::{Db, Tx};
use crate::domain::FieldErrors;
use crate::domain::program_status::{ProgramActor, ProgramStatus, ProgramTransitionError};
use crate::domain::status::Role;
use crate::i18n::Text;

pub use crate::domain::program_status::ProgramAction;

mod form;
mod rows;
mod workflows;

use form::{china_offset, insert_program, next_code, required_text};

pub use form::{
    Choices, FEE_MODES, ProgramForm, ProgramInput, REGION_KINDS, TEACHING_MODES, TERMS,
    china_minute, create, fixed_options, parse_china_minute, parse_program, update,
};
pub use rows::{
    MAX_ATTACHMENT_BYTES, SchoolForm, SchoolInput, TypeForm, TypeInput, add_school, add_type,
    attachment_type, mb_text, parse_mb, parse_school, parse_type, remove_school, remove_type,
    school, update_school, update_type,
};
pub use workflows::{
    EditorOp, Saved, StageForm, WorkflowForm, WorkflowInput, create_workflow, parse_workflow,
    save_workflow, template_counts,
};

/// The conflict a stale form gets: "已被他人修改".
pub const STALE: &str = "manage.stale";

// ---------------------------------------------------------------------------------------------
// Who manages, and what they may do

/// Who is managing programs: the international office (or an admin), or one partner account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manager {
    Office,
    /// A 合作方 account: sees and edits only the programs it created.
    Partner(i64),
}

impl Manager {
    /// The manager a signed-in person is; anyone else (students, reviewers …) is refused.
    pub fn of(user_id: i64, roles: &Roles) -> ServiceResult<Manager> {
        if roles.is_office() {
            Ok(Manager::Office)
        } else if roles.has(Role::Partner) {
            Ok(Manager::Partner(user_id))
        } else {
            Err(ServiceError::Forbidden)
        }
    }

    pub fn is_office(self) -> bool {
        self == Manager::Office
    }

    /// The partner whose programs alone this manager sees.
    pub fn owner(self) -> Option<i64> {
        match self {
            Manager::Office => None,
            Manager::Partner(id) => Some(id),
        }
    }

    /// Whether the program exists for this manager at all (a partner never learns about
    /// other programs: they answer 404).
    pub fn sees(self, p: &ManagedProgram) -> bool {
        match self {
            Manager::Office => true,
            Manager::Partner(id) => p.program.source == "partner" && p.created_by == Some(id),
        }
    }
}

impl Manager {
    /// The actor the lifecycle rules see: a partner only reaches its own programs.
    pub const fn actor(self) -> ProgramActor {
        match self {
            Manager::Office => ProgramActor::Office,
            Manager::Partner(_) => ProgramActor::Partner,
        }
    }
}

/// What `m` may do to a program in `status` (its stored code), from the domain's
/// [`ProgramStatus::available_actions`]: the one list that draws the buttons and guards the
/// requests. A status no version ever wrote offers nothing.
pub fn allowed(m: Manager, status: &str) -> Vec<ProgramAction> {
    ProgramStatus::from_code(status)
        .map(|s| s.available_actions(m.actor()))
        .unwrap_or_default()
}

/// The service's answer to a refused move: a partner asking for an office action is
/// forbidden; anything else out of place is refused with the reason.
fn refusal(e: ProgramTransitionError) -> ServiceError {
    match e {
        ProgramTransitionError::OfficeOnly => ServiceError::Forbidden,
        e => ServiceError::Refused(e.code()),
    }
}

/// The program's status as the lifecycle's type; a code no version ever wrote refuses
/// every action.
fn status_of(p: &ManagedProgram) -> ServiceResult<ProgramStatus> {
    p.program
        .program_status()
        .ok_or(ServiceError::Refused("manage.err.not_now"))
}

/// Refuses `action` unless the lifecycle allows it to `m` in the program's status: a
/// partner asking for an office action is forbidden, anything else is refused with the reason.
pub fn require(m: Manager, p: &ManagedProgram, action: ProgramAction) -> ServiceResult<()> {
    status_of(p)?
        .apply(action, m.actor())
        .map(|_| ())
        .map_err(refusal)
}

/// The program `id` if `m` may see it.
async fn load_in(tx: &mut Tx, m: Manager, id: i64) -> ServiceResult<ManagedProgram> {
    db::managed_by_id_in(tx, id)
        .await?
        .filter(|p| m.sees(p))
        .ok_or(ServiceError::NotFound)
}

/// The program `id` for reading, if `m` may see it.
pub async fn find(db: &Db, m: Manager, id: i64) -> ServiceResult<ManagedProgram> {
    db::managed_by_id(db, id)
        .await?
        .filter(|p| m.sees(p))
        .ok_or(ServiceError::NotFound)
}

/// Bumps the program's version if it is still `seen`; someone else's change in between is
/// [`STALE`].
async fn bump(tx: &mut Tx, id: i64, seen: i64) -> ServiceResult<()> {
    let n = tx
        .update(
            Query::update()
                .table("programs")
                .value("version", Expr::col("version").add(1))
                .value("updated_at", Utc::now())
                .and_where(Expr::col("id").eq(id))
                .and_where(Expr::col("version").eq(seen)),
        )
        .await?;
    if n == 0 {
        Err(ServiceError::Conflict(STALE))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

/// Why a program cannot go before students yet, as a catalogue key: no partner school to
/// choose, a registration window already over (without 补录), or no workflow template.
pub fn publish_blocker(
    p: &ManagedProgram,
    schools: usize,
    has_workflow: bool,
    now: DateTime<Utc>,
) -> Option<&'static str> {
    if schools == 0 {
        Some("manage.err.no_schools")
    } else if p.program.reg_end <= now && !p.program.allows_late {
        Some("manage.err.window_over")
    } else if !has_workflow {
        Some("manage.err.no_workflow")
    } else {
        None
    }
}

async fn check_publishable(
    tx: &mut Tx,
    p: &ManagedProgram,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let schools = db::partner_schools_in(tx, p.program.id).await?.len();
    let has_workflow = db::latest_template_in(tx, &p.program.workflow_code)
        .await?
        .is_some();
    match publish_blocker(p, schools, has_workflow, now) {
        Some(key) => Err(ServiceError::Refused(key)),
        None => Ok(()),
    }
}

/// A lifecycle step as a manager asked for it: the action, the version the page was drawn
/// at, the time, and (for 不通过) the reason.
#[derive(Debug, Clone, Copy)]
pub struct LifecycleStep<'a> {
    pub action: ProgramAction,
    pub seen_version: i64,
    pub now: DateTime<Utc>,
    /// 审核意见 of 不通过; ignored by the other actions.
    pub reason: &'a str,
}

/// Every lifecycle transition (发布, 撤回发布, 关闭报名, 提交审核, 审核通过, 不通过), in one
/// transaction: the program must be visible to `m`, unchanged since the page was drawn, and
/// the move legal by [`ProgramStatus::apply`]; then the facts the move needs are checked, the
/// status is compare-and-set on the old status and version (someone faster makes this a
/// [`STALE`] conflict, 409), an audit row `program.<action>` is written, and the partner is
/// notified where the office decided on its program.
///
/// - 发布 / 提交审核 / 审核通过 need a partner school, an open window (or 补录) and a workflow.
/// - 撤回发布 is refused while submitted applications are in flight: their students follow
///   the program through review and departure, so it must stay visible; a clerk who wants to
///   stop new applications closes registration instead. Unsubmitted drafts do not stop it.
/// - 关闭报名 moves 申报结束时间 to now if later; the program stays in the catalogue.
/// - 不通过 needs a reason, which the partner sees while it revises.
pub async fn transition(
    db: &Db,
    who: &Who,
    m: Manager,
    id: i64,
    step: LifecycleStep<'_>,
) -> ServiceResult<()> {
    let action = step.action;
    if !action.is_transition() {
        return Err(ServiceError::Refused("manage.err.not_now"));
    }
    let reason = if action == ProgramAction::Refuse {
        let mut e = FieldErrors::new();
        let reason = required_text(&mut e, "reason", step.reason, 500);
        if !e.is_empty() {
            return Err(ServiceError::Invalid(e));
        }
        reason
    } else {
        String::new()
    };

    let mut tx = db.begin().await?;
    let p = load_in(&mut tx, m, id).await?;
    let from = status_of(&p)?;
    let to = from.apply(action, m.actor());
    if to == Err(ProgramTransitionError::OfficeOnly) {
        return Err(ServiceError::Forbidden);
    }
    if p.version != step.seen_version {
        return Err(ServiceError::Conflict(STALE));
    }
    let to = to.map_err(refusal)?;

    let mut change = db::StatusChange::default();
    let mut detail = p.program.code.clone();
    match action {
        ProgramAction::Publish | ProgramAction::Submit | ProgramAction::Approve => {
            check_publishable(&mut tx, &p, step.now).await?;
        }
        ProgramAction::Unpublish => {
            if db::application_counts_in(&mut tx, id).await?.in_flight > 0 {
                return Err(ServiceError::Refused("manage.err.unpublish_in_flight"));
            }
        }
        ProgramAction::Close => {
            let reg_end = std::cmp::min(p.program.reg_end, step.now);
            change.reg_end = Some(reg_end);
            detail = format!("{} reg_end {}", p.program.code, reg_end.to_rfc3339());
        }
        ProgramAction::Refuse => {
            change.review_note = Some(reason.clone());
            detail = reason.clone();
        }
        ProgramAction::Edit | ProgramAction::Copy => {}
    }
    if to == ProgramStatus::Published {
        change.published_at = Some(step.now);
        change.review_note = Some(String::new());
    }
    if !db::set_status_in(&mut tx, id, step.seen_version, from, to, change).await? {
        return Err(ServiceError::Conflict(STALE));
    }
    audit::record(
        &mut tx,
        who,
        &format!("program.{}", action.code()),
        &program_target(id),
        &detail,
    )
    .await?;
    if let Some(partner) = p.created_by {
        let names = Text::names(&p.program.name_zh, &p.program.name_en);
        let note = match action {
            ProgramAction::Approve => Some((
                Text::fill("msg.program_approved.title", &[&names]),
                Text::key("msg.program_approved.body"),
            )),
            ProgramAction::Refuse => Some((
                Text::fill("msg.program_rejected.title", &[&names]),
                Text::fill("msg.program_rejected.body", &[&Text::plain(&reason)]),
            )),
            _ => None,
        };
        if let Some((title, body)) = note {
            Notifier::send(
                &mut tx,
                &Note {
                    user_id: partner,
                    title,
                    body,
                    link: format!("/staff/programs/{id}"),
                },
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Moves the four-digit years `year` and `year + 1` in a name on by one ("2025年秋季" →
/// "2026年秋季", "2025-2026学年" → "2026-2027学年"); other numbers stay.
pub fn next_year_text(text: &str, year: i64) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        match digits.parse::<i64>() {
            Ok(y) if digits.len() == 4 && (y == year || y == year + 1) => {
                out.push_str(&(y + 1).to_string());
            }
            _ => out.push_str(digits),
        }
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

/// A date one year on (29 February becomes 28 February); empty or unreadable stays as is.
fn next_year_date(date: &str) -> String {
    match NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d") {
        Ok(d) => d
            .checked_add_months(Months::new(12))
            .map(|d| d.to_string())
            .unwrap_or_else(|| date.to_owned()),
        Err(_) => date.to_owned(),
    }
}

/// A moment one year on, in China time.
fn next_year_moment(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_timezone(&china_offset())
        .checked_add_months(Months::new(12))
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(t)
}

/// 复制: a new draft for the next year — the same fields, partner schools, attachment types and
/// rules, every date a year on, no applications. Returns the new program's id.
pub async fn copy(db: &Db, who: &Who, m: Manager, id: i64) -> ServiceResult<i64> {
    let mut tx = db.begin().await?;
    let src = load_in(&mut tx, m, id).await?;
    require(m, &src, ProgramAction::Copy)?;
    let p = &src.program;
    let year = p.year + 1;
    let code = next_code(&mut tx, year).await?;
    let now = Utc::now();
    // The copy of a partner's program stays the partner's, whoever copies it.
    let owner = if p.source == "partner" {
        src.created_by
    } else {
        who.id
    };
    let values: Vec<(&'static str, Expr)> = vec![
        ("code", Expr::val(code.clone())),
        ("name_zh", Expr::val(next_year_text(&p.name_zh, p.year))),
        ("name_en", Expr::val(next_year_text(&p.name_en, p.year))),
        ("year", Expr::val(year)),
        ("semesters", Expr::val(p.semesters.clone())),
        ("start_date", Expr::val(next_year_date(&p.start_date))),
        ("end_date", Expr::val(next_year_date(&p.end_date))),
        ("duration", Expr::val(p.duration.clone())),
        ("nature", Expr::val(p.nature.clone())),
        ("region_kind", Expr::val(p.region_kind.clone())),
        ("country", Expr::val(p.country.clone())),
        ("program_type", Expr::val(p.program_type.clone())),
        ("fee_mode", Expr::val(p.fee_mode.clone())),
        ("fee", Expr::val(p.fee.clone())),
        ("term", Expr::val(p.term.clone())),
        ("teaching_mode", Expr::val(p.teaching_mode.clone())),
        ("description", Expr::val(p.description.clone())),
        ("host_unit", Expr::val(p.host_unit.clone())),
        ("reg_start", Expr::val(next_year_moment(p.reg_start))),
        ("reg_end", Expr::val(next_year_moment(p.reg_end))),
        ("levels", Expr::val(p.levels.clone())),
        ("grades", Expr::val(p.grades.clone())),
        ("major_ids", Expr::val(p.major_ids.clone())),
        ("min_gpa", Expr::val(p.min_gpa)),
        ("has_interview", Expr::val(p.has_interview)),
        ("allows_late", Expr::val(p.allows_late)),
        ("max_per_student", Expr::val(p.max_per_student)),
        ("notice", Expr::val(p.notice.clone())),
        ("workflow_code", Expr::val(p.workflow_code.clone())),
        ("source", Expr::val(p.source.clone())),
        ("status", Expr::val(ProgramStatus::Draft.code())),
        ("active", Expr::val(true)),
        ("created_by", Expr::val(owner)),
        ("created_at", Expr::val(now)),
        ("updated_at", Expr::val(now)),
        ("version", Expr::val(1i64)),
    ];
    let new_id = insert_program(&mut tx, values).await?;
    for s in db::partner_schools_in(&mut tx, id).await? {
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
                    new_id.into(),
                    s.name_zh.into(),
                    s.name_en.into(),
                    s.country.into(),
                    s.quota.into(),
                    s.sort_order.into(),
                ]),
        )
        .await?;
    }
    for t in db::attachment_types_in(&mut tx, id).await? {
        tx.insert(
            Query::insert()
                .into_table("attachment_types")
                .columns([
                    "program_id",
                    "name_zh",
                    "name_en",
                    "required",
                    "hint",
                    "formats",
                    "max_bytes",
                    "sort_order",
                ])
                .values_panic([
                    new_id.into(),
                    t.name_zh.into(),
                    t.name_en.into(),
                    t.required.into(),
                    t.hint.into(),
                    t.formats.into(),
                    t.max_bytes.into(),
                    t.sort_order.into(),
                ]),
        )
        .await?;
    }
    audit::record(
        &mut tx,
        who,
        "program.copy",
        &program_target(new_id),
        &format!("{code} copied from {} ({})", p.code, program_target(id)),
    )
    .await?;
    tx.commit().await?;
    Ok(new_id)
}

/// Every catalogue key this module may answer with, for the catalogue test.
pub const MESSAGE_KEYS: [&str; 22] = [
    STALE,
    "manage.err.partner_locked",
    "manage.err.not_now",
    "manage.err.code_format",
    "manage.err.code_taken",
    "manage.err.year",
    "manage.err.reg_order",
    "manage.err.datetime",
    "manage.err.grades",
    "manage.err.max_per_student",
    "manage.err.quota",
    "manage.err.school_chosen",
    "manage.err.formats_empty",
    "manage.err.max_size",
    "manage.err.type_used",
    "manage.err.no_schools",
    "manage.err.window_over",
    "manage.err.no_workflow",
    "manage.err.unpublish_in_flight",
    "manage.err.workflow_code",
    "manage.err.workflow_code_taken",
    "manage.err.unchanged",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_office_and_partners_get_the_actions_of_each_status() {
        use ProgramAction::*;
        let office = Manager::Office;
        let partner = Manager::Partner(9);
        assert_eq!(allowed(office, "draft"), vec![Edit, Publish, Copy]);
        assert_eq!(
            allowed(office, "pending_approval"),
            vec![Edit, Approve, Refuse, Copy]
        );
        assert_eq!(
            allowed(office, "published"),
            vec![Edit, Unpublish, Close, Copy]
        );
        assert_eq!(allowed(office, "closed"), vec![Edit, Publish, Copy]);
        assert_eq!(allowed(partner, "draft"), vec![Edit, Submit, Copy]);
        assert_eq!(allowed(partner, "refused"), vec![Edit, Submit, Copy]);
        for status in ["pending_approval", "published", "closed"] {
            assert_eq!(allowed(partner, status), vec![Copy], "{status}");
        }
        for status in db::STATUSES {
            assert!(
                allowed(partner, status).iter().all(|a| !a.office_only()),
                "a partner never publishes or approves ({status})"
            );
        }
        assert!(allowed(office, "nonsense").is_empty());
    }

    #[test]
    fn every_program_status_and_refusal_has_its_text_in_the_catalogue() {
        for status in ProgramStatus::ALL {
            assert!(crate::i18n::has_key(status.label_key()), "{status}");
        }
        for key in ProgramTransitionError::ALL_CODES {
            assert!(crate::i18n::has_key(key), "{key}");
        }
    }

    #[test]
    fn only_the_office_and_partners_manage_programs() {
        let roles = |r: &[Role]| Roles(r.to_vec());
        assert_eq!(
            Manager::of(1, &roles(&[Role::InternationalOffice])).ok(),
            Some(Manager::Office)
        );
        assert_eq!(
            Manager::of(1, &roles(&[Role::Admin])).ok(),
            Some(Manager::Office)
        );
        assert_eq!(
            Manager::of(4, &roles(&[Role::Partner])).ok(),
            Some(Manager::Partner(4))
        );
        for r in [
            Role::Student,
            Role::CollegeReviewer,
            Role::AcademicAffairs,
            Role::ForeignAffairs,
        ] {
            assert!(matches!(
                Manager::of(1, &roles(&[r])),
                Err(ServiceError::Forbidden)
            ));
        }
    }

    #[test]
    fn a_copy_moves_the_programs_years_on_by_one() {
        assert_eq!(
            next_year_text("2025年秋季学期加拿大多伦多大学交换生项目", 2025),
            "2026年秋季学期加拿大多伦多大学交换生项目"
        );
        assert_eq!(
            next_year_text("2025-2026学年 20250 项目 1999", 2025),
            "2026-2027学年 20250 项目 1999"
        );
        assert_eq!(next_year_text("2025 Autumn", 2025), "2026 Autumn");
        assert_eq!(next_year_date("2024-02-29"), "2025-02-28");
        assert_eq!(next_year_date("2025-09-01"), "2026-09-01");
        assert_eq!(next_year_date(""), "");
        let t = parse_china_minute("2025-03-01T09:00").expect("time");
        assert_eq!(china_minute(next_year_moment(t)), "2026-03-01T09:00");
    }

    #[test]
    fn every_message_key_of_the_module_is_in_the_catalogue() {
        let missing: Vec<&str> = MESSAGE_KEYS
            .iter()
            .copied()
            .filter(|k| !crate::i18n::has_key(k))
            .collect();
        assert!(missing.is_empty(), "{missing:?}");
        for field in ["region_kind", "fee_mode", "term", "teaching_mode"] {
            for code in fixed_options(field) {
                let key = format!("programs.{field}.{code}");
                assert!(crate::i18n::has_key(&key), "{key}");
            }
        }
    }
}
