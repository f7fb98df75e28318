//! The program lifecycle as one pure state machine: the statuses a program goes through
//! (SPEC §4, §10), what the office and a partner (【合作方】) may do to it, and the single
//! function [`ProgramStatus::apply`] that says where an action leads from a status, for an actor.
//!
//! [`ProgramStatus::available_actions`] is derived from `apply`, so the buttons of the
//! 项目管理 pages and the rules the service enforces cannot drift apart. What else must hold
//! (a partner school to choose, no application in flight …) is a fact the service checks
//! after `apply` said the move exists.
//!
//! ```text
//! Draft ──Publish (office)──▶ Published ──Close──▶ Closed ──Publish (reopen)──▶ Published
//!   │  ▲                        │
//!   │  └──────Unpublish─────────┘
//!   └─Submit (partner)──▶ PendingApproval ──Approve──▶ Published
//!        ▲                    └──Refuse (with a reason)──▶ Refused ──Submit──┘
//! ```
//! Students see `Published` and `Closed` programs only.

coded_enum! {
    /// Where a program stands. The codes are stored in `programs.status`: never change one.
    pub enum ProgramStatus: "manage.status" {
        /// 草稿: being prepared; students do not see it.
        Draft = "draft",
        /// 待审核: a partner's program waiting for the office's approval.
        PendingApproval = "pending_approval",
        /// 未通过: the office sent a partner's program back with a reason.
        Refused = "refused",
        /// 已发布: students see it and may apply inside its window.
        Published = "published",
        /// 已关闭: registration is over; the program stays visible and its applications go on.
        Closed = "closed",
    }
}

/// Something a manager does to a program. `code()` is the last segment of the button's
/// address (`/staff/programs/{id}/publish` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProgramAction {
    /// Change its fields, partner schools or attachment types.
    Edit,
    /// 发布 (the office; from a closed program: reopen).
    Publish,
    /// 撤回发布: back to draft, hidden from students.
    Unpublish,
    /// 关闭报名: registration ends now; the program stays visible.
    Close,
    /// 提交审核 (a partner).
    Submit,
    /// 审核通过 (the office, on a partner's program).
    Approve,
    /// 审核不通过, with a reason.
    Refuse,
    /// 复制为下一年度项目: a new draft; the program itself does not change.
    Copy,
}

impl ProgramAction {
    /// Every action, in the order the pages list them.
    pub const ALL: [ProgramAction; 8] = [
        ProgramAction::Edit,
        ProgramAction::Publish,
        ProgramAction::Unpublish,
        ProgramAction::Close,
        ProgramAction::Submit,
        ProgramAction::Approve,
        ProgramAction::Refuse,
        ProgramAction::Copy,
    ];

    /// The stable code: the button's path segment and the audit action `program.<code>`.
    pub const fn code(self) -> &'static str {
        match self {
            ProgramAction::Edit => "edit",
            ProgramAction::Publish => "publish",
            ProgramAction::Unpublish => "unpublish",
            ProgramAction::Close => "close",
            ProgramAction::Submit => "submit",
            ProgramAction::Approve => "approve",
            ProgramAction::Refuse => "refuse",
            ProgramAction::Copy => "copy",
        }
    }

    /// The action with this code; `None` for anything else.
    pub fn from_code(code: &str) -> Option<ProgramAction> {
        ProgramAction::ALL.into_iter().find(|a| a.code() == code)
    }

    /// Actions only the office takes.
    pub const fn office_only(self) -> bool {
        matches!(
            self,
            ProgramAction::Publish
                | ProgramAction::Unpublish
                | ProgramAction::Close
                | ProgramAction::Approve
                | ProgramAction::Refuse
        )
    }

    /// Whether the action moves the program to another status (or keeps it, as a status
    /// change of its own): everything but editing and copying.
    pub const fn is_transition(self) -> bool {
        !matches!(self, ProgramAction::Edit | ProgramAction::Copy)
    }
}

/// Who manages the program, as far as the rules need to know. A partner only ever reaches
/// its own programs (the service answers 404 for the others), so "partner" means the owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgramActor {
    /// The international office, or an admin.
    Office,
    /// The 合作方 account that created the program.
    Partner,
}

/// Why an action on a program was refused. Users see the catalogue text of `code()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProgramTransitionError {
    /// The action does not exist in this status, whoever asks.
    #[error("{action:?} is not possible when the program is {from}")]
    NotAllowed {
        /// The program's status.
        from: ProgramStatus,
        /// What was asked.
        action: ProgramAction,
    },
    /// A partner asked for something only the office does (publish, approve …).
    #[error("only the international office may do this")]
    OfficeOnly,
    /// A partner tried to change a program it has submitted or that is published.
    #[error("the partner can no longer change this program")]
    PartnerLocked,
}

impl ProgramTransitionError {
    /// Every code, for the catalogue test.
    pub const ALL_CODES: [&'static str; 3] = [
        "manage.err.not_now",
        "err.transition.forbidden",
        "manage.err.partner_locked",
    ];

    /// The catalogue key of the message shown to the user.
    pub const fn code(&self) -> &'static str {
        match self {
            ProgramTransitionError::NotAllowed { .. } => "manage.err.not_now",
            ProgramTransitionError::OfficeOnly => "err.transition.forbidden",
            ProgramTransitionError::PartnerLocked => "manage.err.partner_locked",
        }
    }
}

/// Who may take an action in a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Office,
    Partner,
    Either,
}

impl ProgramStatus {
    /// Students see the program (in the catalogue, and through their applications).
    pub const fn is_visible(self) -> bool {
        matches!(self, ProgramStatus::Published | ProgramStatus::Closed)
    }

    /// The CSS class of the status badge.
    pub const fn badge(self) -> &'static str {
        match self {
            ProgramStatus::Draft => "grey",
            ProgramStatus::PendingApproval => "orange",
            ProgramStatus::Refused => "red",
            ProgramStatus::Published => "green",
            ProgramStatus::Closed => "blue",
        }
    }

    /// The office's last reason (不通过) still concerns the program: while it is refused, and
    /// while the partner's revision waits for approval again.
    pub const fn shows_refusal(self) -> bool {
        matches!(
            self,
            ProgramStatus::Refused | ProgramStatus::PendingApproval
        )
    }

    /// The rules, as data: who may take `action` in this status, and the status it leads to.
    /// `None` means the action does not exist here for anybody.
    ///
    /// Decisions worth knowing:
    /// - `Edit` and `Copy` keep the status; the office edits in every status, a partner only
    ///   while the program is its own draft (or was sent back).
    /// - The office cannot publish a refused program: the partner revises and submits again.
    /// - `Publish` from `Closed` reopens registration (after the window was moved on).
    fn rule(self, action: ProgramAction) -> Option<(Who, ProgramStatus)> {
        use ProgramAction as A;
        use ProgramStatus as S;
        match (self, action) {
            (s, A::Copy) => Some((Who::Either, s)),
            (S::Draft | S::Refused, A::Edit) => Some((Who::Either, self)),
            (S::PendingApproval | S::Published | S::Closed, A::Edit) => Some((Who::Office, self)),
            (S::Draft | S::Closed, A::Publish) => Some((Who::Office, S::Published)),
            (S::Published, A::Unpublish) => Some((Who::Office, S::Draft)),
            (S::Published, A::Close) => Some((Who::Office, S::Closed)),
            (S::Draft | S::Refused, A::Submit) => Some((Who::Partner, S::PendingApproval)),
            (S::PendingApproval, A::Approve) => Some((Who::Office, S::Published)),
            (S::PendingApproval, A::Refuse) => Some((Who::Office, S::Refused)),
            _ => None,
        }
    }

    /// The single source of truth for what may happen to a program: the status `action`
    /// leads to, or why not. A partner asking for an office action is refused as such in
    /// every status; anything else is looked up in the rules.
    pub fn apply(
        self,
        action: ProgramAction,
        actor: ProgramActor,
    ) -> Result<ProgramStatus, ProgramTransitionError> {
        if actor == ProgramActor::Partner && action.office_only() {
            return Err(ProgramTransitionError::OfficeOnly);
        }
        let (who, to) = self
            .rule(action)
            .ok_or(ProgramTransitionError::NotAllowed { from: self, action })?;
        match (who, actor) {
            (Who::Either, _)
            | (Who::Office, ProgramActor::Office)
            | (Who::Partner, ProgramActor::Partner) => Ok(to),
            (Who::Office, ProgramActor::Partner) => Err(ProgramTransitionError::PartnerLocked),
            (Who::Partner, ProgramActor::Office) => {
                Err(ProgramTransitionError::NotAllowed { from: self, action })
            }
        }
    }

    /// The actions `actor` may take now, in [`ProgramAction::ALL`] order: what the page shows
    /// as buttons. Derived from [`ProgramStatus::apply`], so it cannot disagree with it.
    pub fn available_actions(self, actor: ProgramActor) -> Vec<ProgramAction> {
        ProgramAction::ALL
            .into_iter()
            .filter(|&a| self.apply(a, actor).is_ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::ProgramAction::*;
    use super::ProgramStatus::*;
    use super::{ProgramAction, ProgramActor, ProgramStatus, ProgramTransitionError};

    type Moves = &'static [(ProgramAction, ProgramStatus)];

    /// The legal moves, written out by hand from SPEC §4 and §10: for each status, the
    /// office's and the owning partner's.
    #[rustfmt::skip]
    const TABLE: &[(ProgramStatus, Moves, Moves)] = &[
        (Draft,
            &[(Edit, Draft), (Publish, Published), (Copy, Draft)],
            &[(Edit, Draft), (Submit, PendingApproval), (Copy, Draft)]),
        (PendingApproval,
            &[(Edit, PendingApproval), (Approve, Published), (Refuse, Refused), (Copy, PendingApproval)],
            &[(Copy, PendingApproval)]),
        (Refused,
            &[(Edit, Refused), (Copy, Refused)],
            &[(Edit, Refused), (Submit, PendingApproval), (Copy, Refused)]),
        (Published,
            &[(Edit, Published), (Unpublish, Draft), (Close, Closed), (Copy, Published)],
            &[(Copy, Published)]),
        (Closed,
            &[(Edit, Closed), (Publish, Published), (Copy, Closed)],
            &[(Copy, Closed)]),
    ];

    #[test]
    fn every_status_action_and_actor_triple_is_legal_exactly_as_the_table_says() {
        assert_eq!(TABLE.len(), ProgramStatus::ALL.len());
        for &(status, office, partner) in TABLE {
            for (actor, moves) in [
                (ProgramActor::Office, office),
                (ProgramActor::Partner, partner),
            ] {
                for action in ProgramAction::ALL {
                    let expected = moves.iter().find(|(a, _)| *a == action).map(|(_, to)| *to);
                    let got = status.apply(action, actor);
                    match expected {
                        Some(to) => assert_eq!(got, Ok(to), "{status} {action:?} {actor:?}"),
                        None => assert!(got.is_err(), "{status} {action:?} {actor:?}: {got:?}"),
                    }
                }
                let listed: Vec<ProgramAction> = moves.iter().map(|(a, _)| *a).collect();
                assert_eq!(
                    status.available_actions(actor),
                    listed,
                    "{status} {actor:?}"
                );
            }
        }
    }

    #[test]
    fn a_refusal_says_why_in_the_terms_the_manager_understands() {
        let partner = ProgramActor::Partner;
        for status in ProgramStatus::ALL {
            for action in ProgramAction::ALL.into_iter().filter(|a| a.office_only()) {
                assert_eq!(
                    status.apply(action, partner),
                    Err(ProgramTransitionError::OfficeOnly),
                    "a partner never publishes or approves ({status} {action:?})"
                );
            }
        }
        assert_eq!(
            Published.apply(Edit, partner),
            Err(ProgramTransitionError::PartnerLocked)
        );
        assert_eq!(
            PendingApproval.apply(Edit, partner),
            Err(ProgramTransitionError::PartnerLocked)
        );
        assert_eq!(
            Draft.apply(Submit, ProgramActor::Office),
            Err(ProgramTransitionError::NotAllowed {
                from: Draft,
                action: Submit
            })
        );
        assert_eq!(
            Refused.apply(Publish, ProgramActor::Office),
            Err(ProgramTransitionError::NotAllowed {
                from: Refused,
                action: Publish
            })
        );
    }

    #[test]
    fn codes_round_trip_and_are_the_stored_and_posted_ones() {
        let stored: Vec<&str> = ProgramStatus::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(
            stored,
            [
                "draft",
                "pending_approval",
                "refused",
                "published",
                "closed"
            ]
        );
        for s in ProgramStatus::ALL {
            assert_eq!(ProgramStatus::from_code(s.code()), Some(s));
        }
        for a in ProgramAction::ALL {
            assert_eq!(ProgramAction::from_code(a.code()), Some(a));
        }
        assert_eq!(ProgramStatus::from_code("nonsense"), None);
        assert_eq!(ProgramAction::from_code("delete"), None);
        let visible: Vec<ProgramStatus> = ProgramStatus::ALL
            .into_iter()
            .filter(|s| s.is_visible())
            .collect();
        assert_eq!(visible, [Published, Closed]);
    }
}
