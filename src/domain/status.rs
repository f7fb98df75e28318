//! The application lifecycle as one pure state machine: every status of SPEC §7–9, every action
//! a student or a member of staff can take, and the single function [`Status::apply`] that says
//! what an action does from a status, for an actor, given the facts of the application.
//!
//! [`Status::available_actions`] is derived from `apply`, so the buttons a page offers and the
//! rules a service enforces cannot drift apart. The rules themselves are data: `Status::rule`
//! maps `(status, action)` to who may act, what must hold, and where it leads.
//!
//! ```text
//! Draft ──Submit──▶ UnderReview ──Approve(last stage)──▶ Nominated ──RecordAdmission──▶ Admitted*
//!   ▲                 │  │  └─Reject──▶ Rejected                       │                 │
//!   └WithdrawForEdit──┘  └─ReturnForRevision──▶ Returned ──Resubmit──▶ │  PendingAdjustment, NotAdmitted, Abandoned
//! Admitted* ──SubmitPreDeparture──▶ PreDeparture ──Approve(last)──▶ ReadyToDepart
//! ReadyToDepart ──ConfirmDeparture (student files)──▶ ReadyToDepart ──AcceptDeparture (office)──▶ Abroad
//! Abroad ──SubmitReturn──▶ ReturnReview ──Approve(last)──▶ Completed
//! Admitted* / PreDeparture / ReadyToDepart ──RequestPreDepartureChange (student files)──▶ same
//!     ──CancelBeforeDeparture (office approves a cancel)──▶ Cancelled
//! ```
//!
//! The requests the office decides (派出确认, 派出前变更, 经费预算申请, 变更交流计划, 资助申请: see
//! [`super::after_admission`]) leave the status as it is when filed; [`Facts::requests`] says
//! which are pending or granted, so that a second one of a kind is not offered meanwhile.

use std::fmt;

use super::after_admission::RequestKind;

coded_enum! {
    /// Where an application stands. The codes are stored in the database: never change one.
    pub enum Status: "status" {
        /// 填写中: created, being filled in, not submitted.
        Draft = "draft",
        /// 申请中: submitted; an application-phase review stage is deciding.
        UnderReview = "under_review",
        /// 退回修改: a reviewer sent it back; the student edits and resubmits.
        Returned = "returned",
        /// 未通过: a reviewer refused it. Final.
        Rejected = "rejected",
        /// 待对方学校返回录取结果: every application stage approved; awaiting the partner school.
        Nominated = "nominated",
        /// 第一志愿被录取.
        AdmittedFirstChoice = "admitted_first_choice",
        /// 第二志愿被录取.
        AdmittedSecondChoice = "admitted_second_choice",
        /// 未被录取. Final.
        NotAdmitted = "not_admitted",
        /// 待调剂: allocation found no place among the choices; the office arranges another.
        PendingAdjustment = "pending_adjustment",
        /// 放弃: the student gave up the place. Final.
        Abandoned = "abandoned",
        /// 行前审核中: pre-departure materials filed; pre-departure stages are deciding.
        PreDeparture = "pre_departure",
        /// 待派出: pre-departure approved; waiting for the student to confirm departure.
        ReadyToDepart = "ready_to_depart",
        /// 境外交流中: the student is abroad.
        Abroad = "abroad",
        /// 返校审核中: return formalities and summary filed; return stages are deciding.
        ReturnReview = "return_review",
        /// 已完成: the exchange is over and its return approved. Final.
        Completed = "completed",
        /// 已取消: cancelled by the student before departure. Final.
        Cancelled = "cancelled",
    }
}

coded_enum! {
    /// Which kind of workflow stage an application is in: the workflow template holds stages
    /// of the three phases, and a reviewer's decision only makes sense in its own phase.
    #[derive(Default)]
    pub enum Phase: "phase" {
        /// 申请审核: 学院审核, 国际交流部审核 …
        #[default]
        Application = "application",
        /// 行前审核: 行前阶段教务处初审, 外事部门审核 …
        PreDeparture = "pre_departure",
        /// 返校审核: 返校总结上报阶段国际处审核 …
        Return = "return",
    }
}

coded_enum! {
    /// What the international office records for a nominated student (seed 000's list), and
    /// what the allocation by parallel choices (平行志愿) publishes.
    pub enum AdmissionResult: "admission" {
        /// 第一志愿被录取.
        FirstChoice = "first_choice",
        /// 第二志愿被录取.
        SecondChoice = "second_choice",
        /// 未被录取.
        NotAdmitted = "not_admitted",
        /// 放弃.
        Abandoned = "abandoned",
        /// 调剂: no place among the choices yet.
        Adjustment = "adjustment",
    }
}

coded_enum! {
    /// A role a person holds (SPEC §1). A person may hold several.
    pub enum Role: "role" {
        /// 学生.
        Student = "student",
        /// 学院审核员: reviews the applications of students of their own college(s).
        CollegeReviewer = "college_reviewer",
        /// 国际处: program officers; records admission results.
        InternationalOffice = "international_office",
        /// 教务处 / 研究生院.
        AcademicAffairs = "academic_affairs",
        /// 外事部门.
        ForeignAffairs = "foreign_affairs",
        /// 系统管理员: every staff right of the international office.
        Admin = "admin",
        /// 合作方: publishes programs subject to office approval; decides nothing here.
        Partner = "partner",
    }
}

impl AdmissionResult {
    /// The status an application takes when this result is recorded.
    pub const fn outcome(self) -> Status {
        match self {
            AdmissionResult::FirstChoice => Status::AdmittedFirstChoice,
            AdmissionResult::SecondChoice => Status::AdmittedSecondChoice,
            AdmissionResult::NotAdmitted => Status::NotAdmitted,
            AdmissionResult::Abandoned => Status::Abandoned,
            AdmissionResult::Adjustment => Status::PendingAdjustment,
        }
    }
}

impl Role {
    /// Staff roles may decide a review stage when it is assigned to them; students and
    /// partners never do.
    pub const fn is_staff(self) -> bool {
        matches!(
            self,
            Role::CollegeReviewer
                | Role::InternationalOffice
                | Role::AcademicAffairs
                | Role::ForeignAffairs
                | Role::Admin
        )
    }
}

/// Something a person asks to do to an application. Each has a stable `code()` that forms post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// 提交: the student submits the draft.
    Submit,
    /// 撤回修改: the student takes a submitted application back, while nobody has decided.
    WithdrawForEdit,
    /// 重新提交: the student resubmits an application returned for revision.
    Resubmit,
    /// 申请删除: the student deletes a draft. `apply` answers `Ok(self)`; the service deletes.
    Delete,
    /// 申请修改: the student edits a draft or a returned application.
    Edit,
    /// 补录分数: the student fills a language score left pending at submission, once.
    BackfillScore,
    /// 补交材料附件: the student uploads material a reviewer asked for, without withdrawing.
    UploadSupplement,
    /// 通过 / 推荐: the reviewer of the current stage approves.
    Approve,
    /// 不通过 / 不推荐: the reviewer of the current stage refuses.
    Reject,
    /// 退回修改: the reviewer of the current stage sends it back to the student.
    ReturnForRevision,
    /// The office records a partner school's answer for one application.
    RecordAdmission(AdmissionResult),
    /// The office publishes the result of the allocation by parallel choices.
    PublishAllocation(AdmissionResult),
    /// 上传行前材料 / 提交: the admitted student files the pre-departure materials.
    SubmitPreDeparture,
    /// 派出确认: the student files the actual departure; the office confirms it.
    ConfirmDeparture,
    /// The office confirms a filed departure: the student is abroad.
    AcceptDeparture,
    /// 派出前变更: the student asks to change the dates or to cancel before departure.
    RequestPreDepartureChange,
    /// The office approves a cancel asked before departure; this ends the application.
    CancelBeforeDeparture,
    /// 经费预算申请: the student files the budget of a funded program.
    ApplyBudget,
    /// 资助申请: the student asks for a subsidy after the exchange summary.
    ApplyFunding,
    /// The office decides a pending request (通过 / 不通过 / 退回修改).
    DecideRequest,
    /// 境外打卡: the student checks in after arrival (status unchanged).
    CheckIn,
    /// 变更交流计划: the student extends, shortens or changes the plan (status unchanged).
    ChangePlan,
    /// 返校手续 / 填写交流总结: the student files the return formalities.
    SubmitReturn,
    /// 编辑 by staff, recorded in the history (status unchanged).
    StaffEdit,
    /// 删除 by staff. `apply` answers `Ok(self)`; the service deletes and records it.
    StaffDelete,
}

impl Action {
    /// Every action, each admission result spelled out: the list `available_actions` tries.
    pub const ALL: [Action; 33] = [
        Action::Submit,
        Action::WithdrawForEdit,
        Action::Resubmit,
        Action::Delete,
        Action::Edit,
        Action::BackfillScore,
        Action::UploadSupplement,
        Action::Approve,
        Action::Reject,
        Action::ReturnForRevision,
        Action::RecordAdmission(AdmissionResult::FirstChoice),
        Action::RecordAdmission(AdmissionResult::SecondChoice),
        Action::RecordAdmission(AdmissionResult::NotAdmitted),
        Action::RecordAdmission(AdmissionResult::Abandoned),
        Action::RecordAdmission(AdmissionResult::Adjustment),
        Action::PublishAllocation(AdmissionResult::FirstChoice),
        Action::PublishAllocation(AdmissionResult::SecondChoice),
        Action::PublishAllocation(AdmissionResult::NotAdmitted),
        Action::PublishAllocation(AdmissionResult::Abandoned),
        Action::PublishAllocation(AdmissionResult::Adjustment),
        Action::SubmitPreDeparture,
        Action::ConfirmDeparture,
        Action::AcceptDeparture,
        Action::RequestPreDepartureChange,
        Action::CancelBeforeDeparture,
        Action::ApplyBudget,
        Action::ApplyFunding,
        Action::DecideRequest,
        Action::CheckIn,
        Action::ChangePlan,
        Action::SubmitReturn,
        Action::StaffEdit,
        Action::StaffDelete,
    ];

    /// The stable code a form posts and the history stores: `submit`,
    /// `record_admission.first_choice` …
    pub const fn code(self) -> &'static str {
        use AdmissionResult as R;
        match self {
            Action::Submit => "submit",
            Action::WithdrawForEdit => "withdraw_for_edit",
            Action::Resubmit => "resubmit",
            Action::Delete => "delete",
            Action::Edit => "edit",
            Action::BackfillScore => "backfill_score",
            Action::UploadSupplement => "upload_supplement",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::ReturnForRevision => "return_for_revision",
            Action::RecordAdmission(R::FirstChoice) => "record_admission.first_choice",
            Action::RecordAdmission(R::SecondChoice) => "record_admission.second_choice",
            Action::RecordAdmission(R::NotAdmitted) => "record_admission.not_admitted",
            Action::RecordAdmission(R::Abandoned) => "record_admission.abandoned",
            Action::RecordAdmission(R::Adjustment) => "record_admission.adjustment",
            Action::PublishAllocation(R::FirstChoice) => "publish_allocation.first_choice",
            Action::PublishAllocation(R::SecondChoice) => "publish_allocation.second_choice",
            Action::PublishAllocation(R::NotAdmitted) => "publish_allocation.not_admitted",
            Action::PublishAllocation(R::Abandoned) => "publish_allocation.abandoned",
            Action::PublishAllocation(R::Adjustment) => "publish_allocation.adjustment",
            Action::SubmitPreDeparture => "submit_pre_departure",
            Action::ConfirmDeparture => "confirm_departure",
            Action::AcceptDeparture => "accept_departure",
            Action::RequestPreDepartureChange => "request_pre_departure_change",
            Action::CancelBeforeDeparture => "cancel_before_departure",
            Action::ApplyBudget => "apply_budget",
            Action::ApplyFunding => "apply_funding",
            Action::DecideRequest => "decide_request",
            Action::CheckIn => "check_in",
            Action::ChangePlan => "change_plan",
            Action::SubmitReturn => "submit_return",
            Action::StaffEdit => "staff_edit",
            Action::StaffDelete => "staff_delete",
        }
    }

    /// The action with this code; `None` for anything else.
    pub fn from_code(code: &str) -> Option<Action> {
        let code = code.trim();
        Action::ALL.into_iter().find(|a| a.code() == code)
    }

    /// The catalogue key of the button label: `action.<code>`.
    pub const fn label_key(self) -> &'static str {
        use AdmissionResult as R;
        match self {
            Action::Submit => "action.submit",
            Action::WithdrawForEdit => "action.withdraw_for_edit",
            Action::Resubmit => "action.resubmit",
            Action::Delete => "action.delete",
            Action::Edit => "action.edit",
            Action::BackfillScore => "action.backfill_score",
            Action::UploadSupplement => "action.upload_supplement",
            Action::Approve => "action.approve",
            Action::Reject => "action.reject",
            Action::ReturnForRevision => "action.return_for_revision",
            Action::RecordAdmission(R::FirstChoice) => "action.record_admission.first_choice",
            Action::RecordAdmission(R::SecondChoice) => "action.record_admission.second_choice",
            Action::RecordAdmission(R::NotAdmitted) => "action.record_admission.not_admitted",
            Action::RecordAdmission(R::Abandoned) => "action.record_admission.abandoned",
            Action::RecordAdmission(R::Adjustment) => "action.record_admission.adjustment",
            Action::PublishAllocation(R::FirstChoice) => "action.publish_allocation.first_choice",
            Action::PublishAllocation(R::SecondChoice) => "action.publish_allocation.second_choice",
            Action::PublishAllocation(R::NotAdmitted) => "action.publish_allocation.not_admitted",
            Action::PublishAllocation(R::Abandoned) => "action.publish_allocation.abandoned",
            Action::PublishAllocation(R::Adjustment) => "action.publish_allocation.adjustment",
            Action::SubmitPreDeparture => "action.submit_pre_departure",
            Action::ConfirmDeparture => "action.confirm_departure",
            Action::AcceptDeparture => "action.accept_departure",
            Action::RequestPreDepartureChange => "action.request_pre_departure_change",
            Action::CancelBeforeDeparture => "action.cancel_before_departure",
            Action::ApplyBudget => "action.apply_budget",
            Action::ApplyFunding => "action.apply_funding",
            Action::DecideRequest => "action.decide_request",
            Action::CheckIn => "action.check_in",
            Action::ChangePlan => "action.change_plan",
            Action::SubmitReturn => "action.submit_return",
            Action::StaffEdit => "action.staff_edit",
            Action::StaffDelete => "action.staff_delete",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl serde::Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for Action {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Action::from_code(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown action code {code:?}")))
    }
}

/// Who is acting, as far as the pure rules need to know. The service fills it in after
/// loading the application: `is_owner` compares user ids, `decides_current_stage` asks the
/// workflow whether this person's role (and college scope) decides the current stage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    /// Every role the person holds.
    pub roles: Vec<Role>,
    /// The person is the applicant.
    pub is_owner: bool,
    /// The current review stage is assigned to one of the person's roles, within its scope.
    pub decides_current_stage: bool,
}

impl Actor {
    /// A student: the applicant when `is_owner`, anybody else's application otherwise.
    pub fn student(is_owner: bool) -> Self {
        Self {
            roles: vec![Role::Student],
            is_owner,
            decides_current_stage: false,
        }
    }

    /// A member of staff holding `roles`, who may or may not decide the current stage.
    pub fn staff(roles: &[Role], decides_current_stage: bool) -> Self {
        Self {
            roles: roles.to_vec(),
            is_owner: false,
            decides_current_stage,
        }
    }

    /// Whether the person holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the person holds any staff role.
    pub fn is_staff(&self) -> bool {
        self.roles.iter().any(|r| r.is_staff())
    }

    /// Whether the person has the international office's rights (the office, or an admin).
    pub fn is_office(&self) -> bool {
        self.has(Role::InternationalOffice) || self.has(Role::Admin)
    }
}

/// Facts about this application the rules depend on, loaded by the service.
///
/// Build it with `..Facts::default()` for the fields a call does not care about, so that a
/// fact added later does not break callers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Some reviewer has recorded a decision since the last submission: 撤回修改 is closed.
    pub reviewer_has_decided: bool,
    /// The current stage is the last of its phase in the workflow: approving it ends the phase.
    pub is_last_stage: bool,
    /// A language score was left empty at submission (待出成绩).
    pub has_pending_score: bool,
    /// That score has been filled in already (补录分数 is allowed once).
    pub score_backfilled: bool,
    /// A reviewer has asked for supplementary material that is not yet uploaded.
    pub has_open_supplement_request: bool,
    /// The phase of the current workflow stage.
    pub stage_phase: Phase,
    /// The admission recorded was the second choice (第二志愿被录取). A pre-departure
    /// 退回修改 sends the application back to the admission it came from, so the rule needs
    /// to know which one it was.
    pub admitted_second_choice: bool,
    /// The applicant already holds as many active applications in this round as allowed
    /// (本轮限报项目数, [`crate::domain::eligibility::RoundLoad::is_full`]): 提交 is closed.
    pub at_round_limit: bool,
    /// The after-admission requests of this application, and what the program offers.
    pub requests: RequestFacts,
}

/// What the rules need to know of an application's requests (see
/// [`super::after_admission::RequestKind`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFacts {
    /// Kinds with a request waiting for the office (待审核) or returned to the student.
    pub open: Vec<RequestKind>,
    /// Kinds with an approved request (a budget or a subsidy is granted once).
    pub approved: Vec<RequestKind>,
    /// The open request of `Departure` or `ChangeBeforeDeparture` asks to cancel.
    pub open_change_is_cancel: bool,
    /// The program offers 经费预算申请.
    pub budget_offered: bool,
    /// The program offers 资助申请.
    pub funding_offered: bool,
}

impl RequestFacts {
    /// A request of `kind` is open.
    pub fn is_open(&self, kind: RequestKind) -> bool {
        self.open.contains(&kind)
    }
}

/// Why an action was refused. Display is for logs; users see the catalogue text of `code()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The action does not exist in this status, whoever asks.
    #[error("{action} is not possible when the application is {from}")]
    NotAllowed {
        /// The application's status.
        from: Status,
        /// What was asked.
        action: Action,
    },
    /// Only the applicant may do this.
    #[error("only the applicant may do this")]
    NotYourApplication,
    /// The person's roles do not include the one this action needs.
    #[error("this action needs another role")]
    Forbidden,
    /// A reviewer who does not decide the current stage.
    #[error("the current review stage is decided by someone else")]
    NotYourStage,
    /// Staff cannot decide or change their own application.
    #[error("nobody may decide on their own application")]
    OwnApplication,
    /// The current stage belongs to another phase than the status (inconsistent data).
    #[error("the current stage does not belong to this phase")]
    StageMismatch,
    /// 撤回修改 after a reviewer has decided.
    #[error("a reviewer has already decided")]
    AlreadyDecided,
    /// 补录分数 when no score was left pending.
    #[error("no language score is waiting to be filled in")]
    NoPendingScore,
    /// 补录分数 a second time.
    #[error("the pending score was already filled in")]
    ScoreAlreadyBackfilled,
    /// 补交材料附件 when nobody asked for material.
    #[error("no supplementary material was requested")]
    NoSupplementRequested,
    /// A request of the same kind is already open.
    #[error("a request of this kind is already open")]
    RequestOpen,
    /// The program does not offer a budget or a subsidy.
    #[error("the program does not offer this")]
    NotOffered,
    /// A budget or a subsidy was granted already.
    #[error("this was granted already")]
    AlreadyGranted,
    /// The office acts on a request that nobody filed.
    #[error("no such request is waiting")]
    NoOpenRequest,
    /// 提交 when the applicant already holds as many active applications in the round as allowed.
    #[error("the per-round limit of active applications is reached")]
    RoundLimitReached,
}

impl TransitionError {
    /// Every code, for the catalogue test.
    pub const ALL_CODES: [&'static str; 15] = [
        "err.transition.not_allowed",
        "err.transition.not_your_application",
        "err.transition.forbidden",
        "err.transition.not_your_stage",
        "err.transition.own_application",
        "err.transition.stage_mismatch",
        "err.transition.already_decided",
        "err.transition.no_pending_score",
        "err.transition.score_already_backfilled",
        "err.transition.no_supplement_request",
        "err.transition.request_open",
        "err.transition.not_offered",
        "err.transition.already_granted",
        "err.transition.no_open_request",
        "err.apply.limit_reached",
    ];

    /// The catalogue key of the message shown to the user.
    pub const fn code(&self) -> &'static str {
        match self {
            TransitionError::NotAllowed { .. } => "err.transition.not_allowed",
            TransitionError::NotYourApplication => "err.transition.not_your_application",
            TransitionError::Forbidden => "err.transition.forbidden",
            TransitionError::NotYourStage => "err.transition.not_your_stage",
            TransitionError::OwnApplication => "err.transition.own_application",
            TransitionError::StageMismatch => "err.transition.stage_mismatch",
            TransitionError::AlreadyDecided => "err.transition.already_decided",
            TransitionError::NoPendingScore => "err.transition.no_pending_score",
            TransitionError::ScoreAlreadyBackfilled => "err.transition.score_already_backfilled",
            TransitionError::NoSupplementRequested => "err.transition.no_supplement_request",
            TransitionError::RequestOpen => "err.transition.request_open",
            TransitionError::NotOffered => "err.transition.not_offered",
            TransitionError::AlreadyGranted => "err.transition.already_granted",
            TransitionError::NoOpenRequest => "err.transition.no_open_request",
            // The message the catalogue shows before 报名, word for word.
            TransitionError::RoundLimitReached => "err.apply.limit_reached",
        }
    }
}

/// Who may take an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// The applicant.
    Owner,
    /// A member of staff who decides the current stage of this phase.
    StageReviewer(Phase),
    /// The international office or an admin.
    Office,
}

/// What must hold besides the actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Guard {
    None,
    NotYetDecided,
    PendingScore,
    OpenSupplement,
    /// No request of this kind is open.
    NoOpen(RequestKind),
    /// The program offers it, none is open and none was granted.
    Grantable(RequestKind),
    /// A request of this kind is open (the office acts on it); for a change before
    /// departure, one asking to cancel.
    Open(RequestKind),
    /// Some request is open.
    AnyOpen,
    WithinRoundLimit,
}

/// One legal move: who, on what condition, to which status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rule {
    who: Who,
    guard: Guard,
    to: Status,
}

impl Status {
    /// Counts toward the limit of N active applications per round: everything except the
    /// statuses that end an application without an exchange.
    pub const fn is_active(self) -> bool {
        !matches!(
            self,
            Status::Rejected | Status::NotAdmitted | Status::Abandoned | Status::Cancelled
        )
    }

    /// Nothing more can happen (except staff deleting the record).
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Status::Rejected
                | Status::NotAdmitted
                | Status::Abandoned
                | Status::Completed
                | Status::Cancelled
        )
    }

    /// The student may change the application's forms and attachments.
    pub const fn is_editable_by_student(self) -> bool {
        matches!(self, Status::Draft | Status::Returned)
    }

    /// The phase whose stages decide in this status, if reviewers decide in it at all.
    pub const fn review_phase(self) -> Option<Phase> {
        match self {
            Status::UnderReview => Some(Phase::Application),
            Status::PreDeparture => Some(Phase::PreDeparture),
            Status::ReturnReview => Some(Phase::Return),
            _ => None,
        }
    }

    /// The CSS class of the status badge: grey (not yet / ended without exchange), blue
    /// (waiting on staff), orange (waiting on the student), red (refused), green (admitted,
    /// ready, done), purple (abroad).
    pub const fn badge(self) -> &'static str {
        match self {
            Status::Draft | Status::Abandoned | Status::Cancelled => "grey",
            Status::UnderReview
            | Status::Nominated
            | Status::PreDeparture
            | Status::ReturnReview => "blue",
            Status::Returned | Status::PendingAdjustment => "orange",
            Status::Rejected | Status::NotAdmitted => "red",
            Status::AdmittedFirstChoice
            | Status::AdmittedSecondChoice
            | Status::ReadyToDepart
            | Status::Completed => "green",
            Status::Abroad => "purple",
        }
    }

    /// The rules, as data: who may take `action` in this status, on what condition, and the
    /// status it leads to. `None` means the action does not exist here for anybody.
    ///
    /// Decisions worth knowing:
    /// - `Delete` (draft) and `StaffDelete` (any status) lead to the same status: the service
    ///   deletes the record after `apply` said yes.
    /// - In `PreDeparture` a reviewer may approve or return, not reject: a refused
    ///   pre-departure file goes back to the student, who may fix it and file again or cancel.
    ///   退回修改 there leads back to the admission the application came from
    ///   (`AdmittedFirstChoice`, or `AdmittedSecondChoice` when
    ///   [`Facts::admitted_second_choice`]), where 上传行前材料 and 取消 are offered again.
    /// - In `ReturnReview` 退回修改 leads back to `Abroad`, where 返校手续 is filed again.
    /// - `RecordAdmission(Adjustment)` in `PendingAdjustment` is allowed and changes nothing,
    ///   so that a batch can record the same result twice without failing.
    /// - `BackfillScore` is possible in every active status after submission, once; and
    ///   `UploadSupplement` in every status between submission and the end, while a
    ///   reviewer's request is open.
    /// - `Submit` is closed while [`Facts::at_round_limit`]; `Resubmit` is not: a returned
    ///   application already holds its place in the round.
    fn rule(self, action: Action, facts: &Facts) -> Option<Rule> {
        use Action as A;
        use RequestKind as K;
        use Status as S;
        let rule = |who, guard, to| Some(Rule { who, guard, to });
        let owner = |to| rule(Who::Owner, Guard::None, to);
        let reviewer = |phase, to| rule(Who::StageReviewer(phase), Guard::None, to);
        let office = |to| rule(Who::Office, Guard::None, to);
        let last = facts.is_last_stage;
        let admitted = if facts.admitted_second_choice {
            S::AdmittedSecondChoice
        } else {
            S::AdmittedFirstChoice
        };

        match (self, action) {
            // The applicant.
            (S::Draft, A::Submit) => rule(Who::Owner, Guard::WithinRoundLimit, S::UnderReview),
            (S::Draft, A::Edit | A::Delete) => owner(S::Draft),
            (S::Returned, A::Edit) => owner(S::Returned),
            (S::Returned, A::Resubmit) => owner(S::UnderReview),
            (S::UnderReview, A::WithdrawForEdit) => {
                rule(Who::Owner, Guard::NotYetDecided, S::Draft)
            }
            (s, A::BackfillScore) if s.is_active() && s != S::Draft => {
                rule(Who::Owner, Guard::PendingScore, s)
            }
            (s, A::UploadSupplement) if s != S::Draft && !s.is_terminal() => {
                rule(Who::Owner, Guard::OpenSupplement, s)
            }
            (S::AdmittedFirstChoice | S::AdmittedSecondChoice, A::SubmitPreDeparture) => {
                owner(S::PreDeparture)
            }
            (
                s @ (S::AdmittedFirstChoice
                | S::AdmittedSecondChoice
                | S::PreDeparture
                | S::ReadyToDepart),
                A::RequestPreDepartureChange,
            ) => rule(Who::Owner, Guard::NoOpen(K::ChangeBeforeDeparture), s),
            (
                s @ (S::AdmittedFirstChoice
                | S::AdmittedSecondChoice
                | S::PreDeparture
                | S::ReadyToDepart),
                A::ApplyBudget,
            ) => rule(Who::Owner, Guard::Grantable(K::Budget), s),
            (S::ReadyToDepart, A::ConfirmDeparture) => {
                rule(Who::Owner, Guard::NoOpen(K::Departure), S::ReadyToDepart)
            }
            (S::Abroad, A::CheckIn) => owner(S::Abroad),
            (S::Abroad, A::ChangePlan) => rule(Who::Owner, Guard::NoOpen(K::PlanChange), S::Abroad),
            (S::Abroad, A::SubmitReturn) => owner(S::ReturnReview),
            (s @ (S::ReturnReview | S::Completed), A::ApplyFunding) => {
                rule(Who::Owner, Guard::Grantable(K::Funding), s)
            }

            // The reviewer of the current stage.
            (S::UnderReview, A::Approve) => reviewer(
                Phase::Application,
                if last { S::Nominated } else { S::UnderReview },
            ),
            (S::UnderReview, A::Reject) => reviewer(Phase::Application, S::Rejected),
            (S::UnderReview, A::ReturnForRevision) => reviewer(Phase::Application, S::Returned),
            (S::PreDeparture, A::Approve) => reviewer(
                Phase::PreDeparture,
                if last {
                    S::ReadyToDepart
                } else {
                    S::PreDeparture
                },
            ),
            (S::PreDeparture, A::ReturnForRevision) => reviewer(Phase::PreDeparture, admitted),
            (S::ReturnReview, A::Approve) => reviewer(
                Phase::Return,
                if last { S::Completed } else { S::ReturnReview },
            ),
            (S::ReturnReview, A::ReturnForRevision) => reviewer(Phase::Return, S::Abroad),

            // The international office.
            (S::Nominated | S::PendingAdjustment, A::RecordAdmission(r)) => office(r.outcome()),
            (S::Nominated, A::PublishAllocation(r)) => office(r.outcome()),
            (S::ReadyToDepart, A::AcceptDeparture) => {
                rule(Who::Office, Guard::Open(K::Departure), S::Abroad)
            }
            (
                S::AdmittedFirstChoice
                | S::AdmittedSecondChoice
                | S::PreDeparture
                | S::ReadyToDepart,
                A::CancelBeforeDeparture,
            ) => rule(
                Who::Office,
                Guard::Open(K::ChangeBeforeDeparture),
                S::Cancelled,
            ),
            (s, A::DecideRequest) if !s.is_terminal() || s == S::Completed => {
                rule(Who::Office, Guard::AnyOpen, s)
            }
            (s, A::StaffEdit) if !s.is_terminal() => office(s),
            (s, A::StaffDelete) => office(s),

            _ => None,
        }
    }

    /// The single source of truth for what may happen next: the status `action` leads to,
    /// or why it is refused. Checks, in order: the action exists in this status
    /// ([`TransitionError::NotAllowed`]), the actor may take it, the facts allow it.
    pub fn apply(
        self,
        action: Action,
        actor: &Actor,
        facts: &Facts,
    ) -> Result<Status, TransitionError> {
        let rule = self
            .rule(action, facts)
            .ok_or(TransitionError::NotAllowed { from: self, action })?;

        match rule.who {
            Who::Owner if !actor.is_owner => return Err(TransitionError::NotYourApplication),
            Who::Owner => {}
            Who::StageReviewer(phase) => {
                if !actor.is_staff() {
                    return Err(TransitionError::Forbidden);
                }
                if !actor.decides_current_stage {
                    return Err(TransitionError::NotYourStage);
                }
                if actor.is_owner {
                    return Err(TransitionError::OwnApplication);
                }
                // A stage of another phase means the stored workflow position and status
                // disagree; deciding would move the wrong thing.
                if facts.stage_phase != phase {
                    return Err(TransitionError::StageMismatch);
                }
            }
            Who::Office => {
                if !actor.is_office() {
                    return Err(TransitionError::Forbidden);
                }
                if actor.is_owner {
                    return Err(TransitionError::OwnApplication);
                }
            }
        }

        match rule.guard {
            Guard::NotYetDecided if facts.reviewer_has_decided => {
                Err(TransitionError::AlreadyDecided)
            }
            Guard::PendingScore if !facts.has_pending_score => Err(TransitionError::NoPendingScore),
            Guard::PendingScore if facts.score_backfilled => {
                Err(TransitionError::ScoreAlreadyBackfilled)
            }
            Guard::OpenSupplement if !facts.has_open_supplement_request => {
                Err(TransitionError::NoSupplementRequested)
            }
            Guard::NoOpen(kind) if facts.requests.is_open(kind) => {
                Err(TransitionError::RequestOpen)
            }
            Guard::Grantable(kind) => {
                let r = &facts.requests;
                let offered = match kind {
                    RequestKind::Budget => r.budget_offered,
                    RequestKind::Funding => r.funding_offered,
                    _ => true,
                };
                if !offered {
                    Err(TransitionError::NotOffered)
                } else if r.is_open(kind) {
                    Err(TransitionError::RequestOpen)
                } else if r.approved.contains(&kind) {
                    Err(TransitionError::AlreadyGranted)
                } else {
                    Ok(rule.to)
                }
            }
            Guard::Open(kind) if !facts.requests.is_open(kind) => {
                Err(TransitionError::NoOpenRequest)
            }
            Guard::Open(RequestKind::ChangeBeforeDeparture)
                if !facts.requests.open_change_is_cancel =>
            {
                Err(TransitionError::NoOpenRequest)
            }
            Guard::AnyOpen if facts.requests.open.is_empty() => Err(TransitionError::NoOpenRequest),
            Guard::WithinRoundLimit if facts.at_round_limit => {
                Err(TransitionError::RoundLimitReached)
            }
            _ => Ok(rule.to),
        }
    }

    /// The actions `actor` may take now, in [`Action::ALL`] order: what the page shows as
    /// buttons. Derived from [`Status::apply`], so it cannot disagree with it.
    pub fn available_actions(self, actor: &Actor, facts: &Facts) -> Vec<Action> {
        Action::ALL
            .into_iter()
            .filter(|&a| self.apply(a, actor, facts).is_ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Action::*;
    use super::Status::*;
    use super::{
        Action, Actor, AdmissionResult as R, Facts, Phase, RequestFacts, RequestKind, Role, Status,
        TransitionError,
    };
    use std::collections::BTreeSet;

    type Moves = &'static [(Action, Status)];

    /// The expected legal moves, written out by hand from SPEC §7–9: for each status, the
    /// moves of the owner student, of a reviewer deciding the current stage, and of the
    /// international office (an admin has exactly the office's). Another student and a
    /// reviewer of another stage have none anywhere. Facts are permissive: nobody has
    /// decided, a score is pending, a supplement is requested, the stage is not the last.
    #[rustfmt::skip]
    const TABLE: &[(Status, Moves, Moves, Moves)] = &[
        (Draft,
            &[(Submit, UnderReview), (Edit, Draft), (Delete, Draft)],
            &[],
            &[(StaffEdit, Draft), (StaffDelete, Draft)]),
        (UnderReview,
            &[(WithdrawForEdit, Draft), (BackfillScore, UnderReview), (UploadSupplement, UnderReview)],
            &[(Approve, UnderReview), (Reject, Rejected), (ReturnForRevision, Returned)],
            &[(StaffEdit, UnderReview), (StaffDelete, UnderReview)]),
        (Returned,
            &[(Edit, Returned), (Resubmit, UnderReview), (BackfillScore, Returned), (UploadSupplement, Returned)],
            &[],
            &[(StaffEdit, Returned), (StaffDelete, Returned)]),
        (Rejected,
            &[],
            &[],
            &[(StaffDelete, Rejected)]),
        (Nominated,
            &[(BackfillScore, Nominated), (UploadSupplement, Nominated)],
            &[],
            &[(RecordAdmission(R::FirstChoice), AdmittedFirstChoice),
              (RecordAdmission(R::SecondChoice), AdmittedSecondChoice),
              (RecordAdmission(R::NotAdmitted), NotAdmitted),
              (RecordAdmission(R::Abandoned), Abandoned),
              (RecordAdmission(R::Adjustment), PendingAdjustment),
              (PublishAllocation(R::FirstChoice), AdmittedFirstChoice),
              (PublishAllocation(R::SecondChoice), AdmittedSecondChoice),
              (PublishAllocation(R::NotAdmitted), NotAdmitted),
              (PublishAllocation(R::Abandoned), Abandoned),
              (PublishAllocation(R::Adjustment), PendingAdjustment),
              (StaffEdit, Nominated), (StaffDelete, Nominated)]),
        (AdmittedFirstChoice,
            &[(BackfillScore, AdmittedFirstChoice), (UploadSupplement, AdmittedFirstChoice),
              (SubmitPreDeparture, PreDeparture),
              (RequestPreDepartureChange, AdmittedFirstChoice), (ApplyBudget, AdmittedFirstChoice)],
            &[],
            &[(StaffEdit, AdmittedFirstChoice), (StaffDelete, AdmittedFirstChoice)]),
        (AdmittedSecondChoice,
            &[(BackfillScore, AdmittedSecondChoice), (UploadSupplement, AdmittedSecondChoice),
              (SubmitPreDeparture, PreDeparture),
              (RequestPreDepartureChange, AdmittedSecondChoice), (ApplyBudget, AdmittedSecondChoice)],
            &[],
            &[(StaffEdit, AdmittedSecondChoice), (StaffDelete, AdmittedSecondChoice)]),
        (NotAdmitted,
            &[],
            &[],
            &[(StaffDelete, NotAdmitted)]),
        (PendingAdjustment,
            &[(BackfillScore, PendingAdjustment), (UploadSupplement, PendingAdjustment)],
            &[],
            &[(RecordAdmission(R::FirstChoice), AdmittedFirstChoice),
              (RecordAdmission(R::SecondChoice), AdmittedSecondChoice),
              (RecordAdmission(R::NotAdmitted), NotAdmitted),
              (RecordAdmission(R::Abandoned), Abandoned),
              (RecordAdmission(R::Adjustment), PendingAdjustment),
              (StaffEdit, PendingAdjustment), (StaffDelete, PendingAdjustment)]),
        (Abandoned,
            &[],
            &[],
            &[(StaffDelete, Abandoned)]),
        (PreDeparture,
            &[(BackfillScore, PreDeparture), (UploadSupplement, PreDeparture),
              (RequestPreDepartureChange, PreDeparture), (ApplyBudget, PreDeparture)],
            &[(Approve, PreDeparture), (ReturnForRevision, AdmittedFirstChoice)],
            &[(StaffEdit, PreDeparture), (StaffDelete, PreDeparture)]),
        (ReadyToDepart,
            &[(BackfillScore, ReadyToDepart), (UploadSupplement, ReadyToDepart),
              (ConfirmDeparture, ReadyToDepart),
              (RequestPreDepartureChange, ReadyToDepart), (ApplyBudget, ReadyToDepart)],
            &[],
            &[(StaffEdit, ReadyToDepart), (StaffDelete, ReadyToDepart)]),
        (Abroad,
            &[(BackfillScore, Abroad), (UploadSupplement, Abroad), (CheckIn, Abroad),
              (ChangePlan, Abroad), (SubmitReturn, ReturnReview)],
            &[],
            &[(StaffEdit, Abroad), (StaffDelete, Abroad)]),
        (ReturnReview,
            &[(BackfillScore, ReturnReview), (UploadSupplement, ReturnReview), (ApplyFunding, ReturnReview)],
            &[(Approve, ReturnReview), (ReturnForRevision, Abroad)],
            &[(StaffEdit, ReturnReview), (StaffDelete, ReturnReview)]),
        (Completed,
            &[(BackfillScore, Completed), (ApplyFunding, Completed)],
            &[],
            &[(StaffDelete, Completed)]),
        (Cancelled,
            &[],
            &[],
            &[(StaffDelete, Cancelled)]),
    ];

    fn permissive_facts(status: Status) -> Facts {
        Facts {
            reviewer_has_decided: false,
            is_last_stage: false,
            has_pending_score: true,
            score_backfilled: false,
            has_open_supplement_request: true,
            stage_phase: match status {
                PreDeparture => Phase::PreDeparture,
                ReturnReview => Phase::Return,
                _ => Phase::Application,
            },
            admitted_second_choice: false,
            // Nothing filed yet, and the program offers both a budget and a subsidy; the
            // office's moves on filed requests are tested below.
            requests: RequestFacts {
                budget_offered: true,
                funding_offered: true,
                ..RequestFacts::default()
            },
            at_round_limit: false,
        }
    }

    fn with_open(status: Status, open: &[RequestKind], cancel: bool) -> Facts {
        Facts {
            requests: RequestFacts {
                open: open.to_vec(),
                open_change_is_cancel: cancel,
                ..permissive_facts(status).requests
            },
            ..permissive_facts(status)
        }
    }

    #[test]
    fn the_office_confirms_a_filed_departure_and_the_student_cannot_file_a_second() {
        let filed = with_open(ReadyToDepart, &[RequestKind::Departure], false);
        assert_eq!(
            ReadyToDepart.apply(AcceptDeparture, &office(), &filed),
            Ok(Abroad)
        );
        assert_eq!(
            ReadyToDepart.apply(DecideRequest, &office(), &filed),
            Ok(ReadyToDepart)
        );
        assert_eq!(
            ReadyToDepart.apply(ConfirmDeparture, &owner(), &filed),
            Err(TransitionError::RequestOpen)
        );
        assert_eq!(
            ReadyToDepart.apply(AcceptDeparture, &owner(), &filed),
            Err(TransitionError::Forbidden)
        );
        let nothing = permissive_facts(ReadyToDepart);
        assert_eq!(
            ReadyToDepart.apply(AcceptDeparture, &office(), &nothing),
            Err(TransitionError::NoOpenRequest)
        );
        assert!(matches!(
            Abroad.apply(
                AcceptDeparture,
                &office(),
                &with_open(Abroad, &[RequestKind::Departure], false)
            ),
            Err(TransitionError::NotAllowed { .. })
        ));
    }

    #[test]
    fn only_an_approved_cancel_ends_the_application_before_departure() {
        for status in [
            AdmittedFirstChoice,
            AdmittedSecondChoice,
            PreDeparture,
            ReadyToDepart,
        ] {
            let cancel = with_open(status, &[RequestKind::ChangeBeforeDeparture], true);
            assert_eq!(
                status.apply(CancelBeforeDeparture, &office(), &cancel),
                Ok(Cancelled)
            );
            assert_eq!(
                status.apply(RequestPreDepartureChange, &owner(), &cancel),
                Err(TransitionError::RequestOpen),
                "{status}"
            );
            assert_eq!(
                status.apply(CancelBeforeDeparture, &owner(), &cancel),
                Err(TransitionError::Forbidden)
            );
            let new_dates = with_open(status, &[RequestKind::ChangeBeforeDeparture], false);
            assert_eq!(
                status.apply(CancelBeforeDeparture, &office(), &new_dates),
                Err(TransitionError::NoOpenRequest),
                "a change of dates does not cancel"
            );
        }
        assert!(matches!(
            Abroad.apply(
                RequestPreDepartureChange,
                &owner(),
                &permissive_facts(Abroad)
            ),
            Err(TransitionError::NotAllowed { .. })
        ));
    }

    #[test]
    fn a_budget_and_a_subsidy_are_offered_only_by_funded_programs_and_granted_once() {
        for (status, action, kind) in [
            (AdmittedFirstChoice, ApplyBudget, RequestKind::Budget),
            (ReadyToDepart, ApplyBudget, RequestKind::Budget),
            (ReturnReview, ApplyFunding, RequestKind::Funding),
            (Completed, ApplyFunding, RequestKind::Funding),
        ] {
            let mut facts = permissive_facts(status);
            assert_eq!(status.apply(action, &owner(), &facts), Ok(status));
            facts.requests.open = vec![kind];
            assert_eq!(
                status.apply(action, &owner(), &facts),
                Err(TransitionError::RequestOpen)
            );
            facts.requests.open.clear();
            facts.requests.approved = vec![kind];
            assert_eq!(
                status.apply(action, &owner(), &facts),
                Err(TransitionError::AlreadyGranted)
            );
            facts.requests = RequestFacts::default();
            assert_eq!(
                status.apply(action, &owner(), &facts),
                Err(TransitionError::NotOffered)
            );
        }
        assert!(matches!(
            Abroad.apply(ApplyFunding, &owner(), &permissive_facts(Abroad)),
            Err(TransitionError::NotAllowed { .. })
        ));
    }

    #[test]
    fn a_plan_change_waits_for_the_office_before_another_is_filed() {
        let open = with_open(Abroad, &[RequestKind::PlanChange], false);
        assert_eq!(
            Abroad.apply(ChangePlan, &owner(), &open),
            Err(TransitionError::RequestOpen)
        );
        assert_eq!(Abroad.apply(CheckIn, &owner(), &open), Ok(Abroad));
        assert_eq!(Abroad.apply(DecideRequest, &office(), &open), Ok(Abroad));
        assert_eq!(
            Abroad.apply(DecideRequest, &deciding_reviewer(), &open),
            Err(TransitionError::Forbidden)
        );
    }

    #[test]
    fn requests_are_not_decided_once_the_application_has_ended_without_an_exchange() {
        for status in [Rejected, NotAdmitted, Abandoned, Cancelled] {
            let open = with_open(status, &[RequestKind::Budget], false);
            assert!(matches!(
                status.apply(DecideRequest, &office(), &open),
                Err(TransitionError::NotAllowed { .. })
            ));
        }
        let funding = with_open(Completed, &[RequestKind::Funding], false);
        assert_eq!(
            Completed.apply(DecideRequest, &office(), &funding),
            Ok(Completed)
        );
    }

    fn owner() -> Actor {
        Actor::student(true)
    }

    fn deciding_reviewer() -> Actor {
        Actor::staff(&[Role::CollegeReviewer], true)
    }

    fn office() -> Actor {
        Actor::staff(&[Role::InternationalOffice], false)
    }

    fn legal_moves(status: Status, actor: &Actor, facts: &Facts) -> BTreeSet<(Action, Status)> {
        Action::ALL
            .into_iter()
            .filter_map(|a| status.apply(a, actor, facts).ok().map(|to| (a, to)))
            .collect()
    }

    #[test]
    fn every_status_action_and_actor_gives_exactly_the_moves_of_the_table() {
        let statuses: BTreeSet<Status> = TABLE.iter().map(|row| row.0).collect();
        assert_eq!(statuses.len(), Status::ALL.len(), "one row per status");
        assert_eq!(TABLE.len(), Status::ALL.len(), "no status twice");

        let nobody: Moves = &[];
        for &(status, owner_moves, reviewer_moves, office_moves) in TABLE {
            let facts = permissive_facts(status);
            let kinds: [(&str, Actor, Moves); 6] = [
                ("owner student", owner(), owner_moves),
                ("other student", Actor::student(false), nobody),
                (
                    "reviewer deciding the stage",
                    deciding_reviewer(),
                    reviewer_moves,
                ),
                (
                    "reviewer of another stage",
                    Actor::staff(&[Role::CollegeReviewer], false),
                    nobody,
                ),
                ("international office", office(), office_moves),
                ("admin", Actor::staff(&[Role::Admin], false), office_moves),
            ];
            for (kind, actor, expected) in kinds {
                let expected: BTreeSet<(Action, Status)> = expected.iter().copied().collect();
                assert_eq!(
                    legal_moves(status, &actor, &facts),
                    expected,
                    "{kind} in {status}"
                );
            }
        }
    }

    #[test]
    fn available_actions_are_exactly_the_actions_apply_allows() {
        for &(status, owner_moves, ..) in TABLE {
            let facts = permissive_facts(status);
            let available = status.available_actions(&owner(), &facts);
            let expected: Vec<Action> = Action::ALL
                .into_iter()
                .filter(|a| owner_moves.iter().any(|(m, _)| m == a))
                .collect();
            assert_eq!(available, expected, "{status}");
        }
    }

    #[test]
    fn submitting_a_draft_puts_it_under_review() {
        let to = Draft.apply(Submit, &owner(), &Facts::default());
        assert_eq!(to, Ok(UnderReview));
    }

    #[test]
    fn a_student_at_the_round_limit_is_not_offered_submit_but_may_still_edit_or_delete() {
        let full = Facts {
            at_round_limit: true,
            ..Facts::default()
        };
        assert_eq!(
            Draft.apply(Submit, &owner(), &full),
            Err(TransitionError::RoundLimitReached)
        );
        assert_eq!(
            Draft.available_actions(&owner(), &full),
            vec![Delete, Edit],
            "提交 is not offered"
        );
        assert_eq!(
            TransitionError::RoundLimitReached.code(),
            "err.apply.limit_reached"
        );
    }

    #[test]
    fn a_returned_application_may_be_resubmitted_at_the_round_limit() {
        let full = Facts {
            at_round_limit: true,
            ..Facts::default()
        };
        assert_eq!(Returned.apply(Resubmit, &owner(), &full), Ok(UnderReview));
    }

    #[test]
    fn withdraw_for_edit_is_refused_once_a_reviewer_has_decided() {
        let facts = Facts {
            reviewer_has_decided: true,
            ..Facts::default()
        };
        assert_eq!(
            UnderReview.apply(WithdrawForEdit, &owner(), &facts),
            Err(TransitionError::AlreadyDecided)
        );
        assert_eq!(
            UnderReview.apply(WithdrawForEdit, &owner(), &Facts::default()),
            Ok(Draft)
        );
    }

    #[test]
    fn a_submitted_application_can_no_longer_be_edited_or_deleted_by_the_student() {
        for action in [Edit, Delete] {
            assert_eq!(
                UnderReview.apply(action, &owner(), &Facts::default()),
                Err(TransitionError::NotAllowed {
                    from: UnderReview,
                    action
                })
            );
        }
    }

    #[test]
    fn a_returned_application_can_be_edited_and_resubmitted_but_not_deleted() {
        let facts = Facts::default();
        assert_eq!(Returned.apply(Edit, &owner(), &facts), Ok(Returned));
        assert_eq!(Returned.apply(Resubmit, &owner(), &facts), Ok(UnderReview));
        assert!(Returned.apply(Delete, &owner(), &facts).is_err());
    }

    #[test]
    fn a_score_can_be_backfilled_only_when_pending_and_only_once() {
        let pending = Facts {
            has_pending_score: true,
            ..Facts::default()
        };
        assert_eq!(
            UnderReview.apply(BackfillScore, &owner(), &pending),
            Ok(UnderReview)
        );
        assert_eq!(
            UnderReview.apply(BackfillScore, &owner(), &Facts::default()),
            Err(TransitionError::NoPendingScore)
        );
        let done = Facts {
            score_backfilled: true,
            ..pending
        };
        assert_eq!(
            UnderReview.apply(BackfillScore, &owner(), &done),
            Err(TransitionError::ScoreAlreadyBackfilled)
        );
    }

    #[test]
    fn a_score_cannot_be_backfilled_in_a_draft_which_is_still_editable() {
        let pending = Facts {
            has_pending_score: true,
            ..Facts::default()
        };
        assert!(matches!(
            Draft.apply(BackfillScore, &owner(), &pending),
            Err(TransitionError::NotAllowed { .. })
        ));
    }

    #[test]
    fn supplementary_material_can_be_uploaded_only_when_a_reviewer_asked_for_it() {
        assert_eq!(
            UnderReview.apply(UploadSupplement, &owner(), &Facts::default()),
            Err(TransitionError::NoSupplementRequested)
        );
        let asked = Facts {
            has_open_supplement_request: true,
            ..Facts::default()
        };
        assert_eq!(
            UnderReview.apply(UploadSupplement, &owner(), &asked),
            Ok(UnderReview)
        );
    }

    #[test]
    fn approving_a_stage_that_is_not_the_last_keeps_the_application_under_review() {
        assert_eq!(
            UnderReview.apply(Approve, &deciding_reviewer(), &Facts::default()),
            Ok(UnderReview)
        );
    }

    #[test]
    fn approving_the_last_application_stage_nominates_the_student() {
        let last = Facts {
            is_last_stage: true,
            ..Facts::default()
        };
        assert_eq!(
            UnderReview.apply(Approve, &deciding_reviewer(), &last),
            Ok(Nominated)
        );
    }

    #[test]
    fn approving_the_last_pre_departure_stage_makes_the_student_ready_to_depart() {
        let last = Facts {
            is_last_stage: true,
            stage_phase: Phase::PreDeparture,
            ..Facts::default()
        };
        assert_eq!(
            PreDeparture.apply(Approve, &deciding_reviewer(), &last),
            Ok(ReadyToDepart)
        );
    }

    #[test]
    fn approving_the_last_return_stage_completes_the_exchange() {
        let last = Facts {
            is_last_stage: true,
            stage_phase: Phase::Return,
            ..Facts::default()
        };
        assert_eq!(
            ReturnReview.apply(Approve, &deciding_reviewer(), &last),
            Ok(Completed)
        );
    }

    #[test]
    fn a_pre_departure_file_returned_for_revision_goes_back_to_the_admission_it_came_from() {
        let reviewer = deciding_reviewer();
        let first = Facts {
            stage_phase: Phase::PreDeparture,
            ..Facts::default()
        };
        let second = Facts {
            admitted_second_choice: true,
            ..first.clone()
        };
        assert_eq!(
            PreDeparture.apply(ReturnForRevision, &reviewer, &first),
            Ok(AdmittedFirstChoice)
        );
        assert_eq!(
            PreDeparture.apply(ReturnForRevision, &reviewer, &second),
            Ok(AdmittedSecondChoice)
        );
        assert!(PreDeparture.apply(Reject, &reviewer, &first).is_err());
    }

    #[test]
    fn a_return_file_returned_for_revision_goes_back_to_abroad() {
        let facts = Facts {
            stage_phase: Phase::Return,
            ..Facts::default()
        };
        assert_eq!(
            ReturnReview.apply(ReturnForRevision, &deciding_reviewer(), &facts),
            Ok(Abroad)
        );
    }

    #[test]
    fn a_reviewer_cannot_decide_a_stage_assigned_to_someone_else() {
        let other = Actor::staff(&[Role::AcademicAffairs], false);
        assert_eq!(
            UnderReview.apply(Approve, &other, &Facts::default()),
            Err(TransitionError::NotYourStage)
        );
    }

    #[test]
    fn a_reviewer_cannot_decide_a_stage_of_another_phase() {
        let facts = Facts {
            stage_phase: Phase::Return,
            ..Facts::default()
        };
        assert_eq!(
            UnderReview.apply(Approve, &deciding_reviewer(), &facts),
            Err(TransitionError::StageMismatch)
        );
    }

    #[test]
    fn a_member_of_staff_cannot_decide_on_their_own_application() {
        let me = Actor {
            is_owner: true,
            ..deciding_reviewer()
        };
        assert_eq!(
            UnderReview.apply(Approve, &me, &Facts::default()),
            Err(TransitionError::OwnApplication)
        );
        let officer = Actor {
            is_owner: true,
            ..office()
        };
        assert_eq!(
            Nominated.apply(RecordAdmission(R::FirstChoice), &officer, &Facts::default()),
            Err(TransitionError::OwnApplication)
        );
    }

    #[test]
    fn every_staff_role_may_decide_the_stage_assigned_to_it_but_a_partner_may_not() {
        for role in [
            Role::CollegeReviewer,
            Role::InternationalOffice,
            Role::AcademicAffairs,
            Role::ForeignAffairs,
            Role::Admin,
        ] {
            let actor = Actor::staff(&[role], true);
            assert_eq!(
                UnderReview.apply(Reject, &actor, &Facts::default()),
                Ok(Rejected)
            );
        }
        let partner = Actor::staff(&[Role::Partner], true);
        assert_eq!(
            UnderReview.apply(Reject, &partner, &Facts::default()),
            Err(TransitionError::Forbidden)
        );
    }

    #[test]
    fn a_student_who_asks_for_a_staff_action_is_forbidden() {
        assert_eq!(
            UnderReview.apply(Approve, &owner(), &Facts::default()),
            Err(TransitionError::Forbidden)
        );
        assert_eq!(
            Nominated.apply(RecordAdmission(R::FirstChoice), &owner(), &Facts::default()),
            Err(TransitionError::Forbidden)
        );
    }

    #[test]
    fn another_student_cannot_act_on_an_application() {
        assert_eq!(
            Draft.apply(Submit, &Actor::student(false), &Facts::default()),
            Err(TransitionError::NotYourApplication)
        );
    }

    #[test]
    fn a_college_reviewer_cannot_record_admission_results() {
        assert_eq!(
            Nominated.apply(
                RecordAdmission(R::FirstChoice),
                &deciding_reviewer(),
                &Facts::default()
            ),
            Err(TransitionError::Forbidden)
        );
    }

    #[test]
    fn admission_is_recorded_from_nominated_or_pending_adjustment_and_published_from_nominated() {
        let facts = Facts::default();
        assert_eq!(
            PendingAdjustment.apply(RecordAdmission(R::SecondChoice), &office(), &facts),
            Ok(AdmittedSecondChoice)
        );
        assert!(
            PendingAdjustment
                .apply(PublishAllocation(R::FirstChoice), &office(), &facts)
                .is_err()
        );
        assert!(
            UnderReview
                .apply(RecordAdmission(R::FirstChoice), &office(), &facts)
                .is_err()
        );
    }

    #[test]
    fn staff_cannot_edit_a_finished_application_but_can_delete_it() {
        let facts = Facts::default();
        assert!(Completed.apply(StaffEdit, &office(), &facts).is_err());
        assert_eq!(
            Completed.apply(StaffDelete, &office(), &facts),
            Ok(Completed)
        );
    }

    #[test]
    fn an_admin_has_the_rights_of_the_international_office() {
        let admin = Actor::staff(&[Role::Admin], false);
        for status in Status::ALL {
            let facts = permissive_facts(status);
            assert_eq!(
                status.available_actions(&admin, &facts),
                status.available_actions(&office(), &facts),
                "{status}"
            );
        }
    }

    #[test]
    fn cancelling_before_departure_is_asked_by_the_student_and_ends_the_application_when_approved()
    {
        for status in [
            AdmittedFirstChoice,
            AdmittedSecondChoice,
            PreDeparture,
            ReadyToDepart,
        ] {
            assert_eq!(
                status.apply(RequestPreDepartureChange, &owner(), &Facts::default()),
                Ok(status)
            );
            assert_eq!(
                status.apply(CancelBeforeDeparture, &owner(), &Facts::default()),
                Err(TransitionError::Forbidden)
            );
            let asked = with_open(status, &[RequestKind::ChangeBeforeDeparture], true);
            assert_eq!(
                status.apply(CancelBeforeDeparture, &office(), &asked),
                Ok(Cancelled)
            );
        }
        assert!(
            Abroad
                .apply(RequestPreDepartureChange, &owner(), &Facts::default())
                .is_err()
        );
        assert!(!Cancelled.is_active());
    }

    #[test]
    fn only_applications_that_ended_without_an_exchange_stop_counting_toward_the_limit() {
        let inactive: Vec<Status> = Status::ALL.into_iter().filter(|s| !s.is_active()).collect();
        assert_eq!(inactive, vec![Rejected, NotAdmitted, Abandoned, Cancelled]);
        let editable: Vec<Status> = Status::ALL
            .into_iter()
            .filter(|s| s.is_editable_by_student())
            .collect();
        assert_eq!(editable, vec![Draft, Returned]);
    }

    #[test]
    fn status_and_action_codes_are_stable_and_round_trip() {
        assert_eq!(UnderReview.code(), "under_review");
        assert_eq!(UnderReview.label_key(), "status.under_review");
        assert_eq!(
            Status::from_code("pending_adjustment"),
            Some(PendingAdjustment)
        );
        assert_eq!(Status::from_code("申请中"), None);
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), Some(s));
            assert_eq!(
                serde_json::to_value(s).ok(),
                Some(serde_json::json!(s.code()))
            );
        }
        let codes: BTreeSet<&str> = Action::ALL.iter().map(|a| a.code()).collect();
        assert_eq!(codes.len(), Action::ALL.len(), "action codes are unique");
        for a in Action::ALL {
            assert_eq!(Action::from_code(a.code()), Some(a));
            assert_eq!(a.label_key(), format!("action.{}", a.code()));
        }
        assert_eq!(
            RecordAdmission(R::FirstChoice).code(),
            "record_admission.first_choice"
        );
    }

    #[test]
    fn every_status_has_a_known_badge_colour() {
        for s in Status::ALL {
            assert!(["grey", "blue", "orange", "red", "green", "purple"].contains(&s.badge()));
        }
    }

    #[test]
    fn transition_error_codes_are_listed() {
        let error = TransitionError::NotAllowed {
            from: Draft,
            action: Approve,
        };
        assert_eq!(error.code(), "err.transition.not_allowed");
        assert_eq!(
            error.to_string(),
            "approve is not possible when the application is draft"
        );
        assert!(TransitionError::ALL_CODES.contains(&TransitionError::AlreadyDecided.code()));
    }
}
