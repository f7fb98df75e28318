//! The audit log: every sign-in and every change to personal data or decisions.

use chrono::Utc;
use sea_query::Query;

use crate::db::{DbResult, Tx};

/// Who did it, for history and audit rows.
#[derive(Debug, Clone)]
pub struct Who {
    pub id: Option<i64>,
    pub name: String,
    pub ip: String,
}

impl Who {
    pub fn user(id: i64, name: impl Into<String>) -> Who {
        Who {
            id: Some(id),
            name: name.into(),
            ip: String::new(),
        }
    }
    pub fn system() -> Who {
        Who {
            id: None,
            name: "system".into(),
            ip: String::new(),
        }
    }
}

/// Every action the code base writes to the audit log. The log page shows each under its
/// catalogue name `audit.action.<code>`; a code missing here fails the tests (see
/// [`record`] and the tests below), so none can reach the page raw.
pub const ACTIONS: &[&str] = &[
    "login",
    "login.failed",
    "login.locked",
    "password.change",
    "profile.update",
    "profile.photo",
    "profile.study_record.add",
    "profile.study_record.update",
    "profile.study_record.delete",
    "attachment.upload",
    "attachment.delete",
    "application.delete",
    "application.staff_edit",
    "application.staff_delete",
    "request.decide",
    "admission.record",
    "admission.override",
    "admission.publish",
    "admission.settings",
    "program.create",
    "program.update",
    "program.copy",
    "program.submit",
    "program.approve",
    "program.refuse",
    "program.publish",
    "program.unpublish",
    "program.close",
    "program.school.add",
    "program.school.update",
    "program.school.remove",
    "program.attachment_type.add",
    "program.attachment_type.update",
    "program.attachment_type.remove",
    "workflow.create",
    "workflow.save",
    "report.export",
    "admin.user.create",
    "admin.user.update",
    "admin.user.deactivate",
    "admin.user.reactivate",
    "admin.user.password_reset",
    "admin.college.create",
    "admin.college.update",
    "admin.college.deactivate",
    "admin.college.reactivate",
    "admin.college.delete",
    "admin.major.create",
    "admin.major.update",
    "admin.major.deactivate",
    "admin.major.reactivate",
    "admin.major.delete",
    "admin.dict.create",
    "admin.dict.update",
    "admin.dict.move",
    "admin.dict.deactivate",
    "admin.dict.reactivate",
];

/// Adds an audit row inside the caller's transaction. `action` is one of [`ACTIONS`].
pub async fn record(
    tx: &mut Tx,
    who: &Who,
    action: &str,
    target: &str,
    detail: &str,
) -> DbResult<()> {
    // Codes built at run time (`admin.{noun}.{verb}`) are checked here, by every test that
    // writes one.
    debug_assert!(
        ACTIONS.contains(&action),
        "audit action {action:?} is not in audit::ACTIONS"
    );
    tx.insert(
        Query::insert()
            .into_table("audit_log")
            .columns([
                "actor_id",
                "actor_name",
                "action",
                "target",
                "detail",
                "ip",
                "created_at",
            ])
            .values_panic([
                who.id.into(),
                who.name.clone().into(),
                action.into(),
                target.into(),
                detail.into(),
                who.ip.clone().into(),
                Utc::now().into(),
            ]),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_audit_action_has_a_name_in_both_languages() {
        for code in ACTIONS {
            let key = format!("audit.action.{code}");
            assert!(
                crate::i18n::has_key(&key),
                "{key} missing from the catalogue"
            );
            assert_ne!(crate::i18n::Lang::Zh.t(&key), crate::i18n::Lang::En.t(&key));
        }
    }

    /// The action argument of every `audit::record(…)` call in the sources: each code it
    /// spells out is listed in [`ACTIONS`] (codes formatted at run time are checked by
    /// `record` itself).
    #[test]
    fn every_action_code_written_anywhere_is_listed() {
        fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).expect("a readable folder") {
                let path = entry.expect("an entry").path();
                if path.is_dir() {
                    sources(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        sources(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let mut calls = 0;
        let mut unlisted = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("a readable source");
            for (at, _) in text.match_indices("audit::record(") {
                // The third argument: after `tx,` and `who,`, up to the next top-level comma.
                let mut depth = 0;
                let mut args = vec![String::new()];
                for c in text[at + "audit::record(".len()..].chars() {
                    match c {
                        '(' | '[' | '{' => depth += 1,
                        ')' | ']' | '}' if depth == 0 => break,
                        ')' | ']' | '}' => depth -= 1,
                        ',' if depth == 0 => {
                            args.push(String::new());
                            continue;
                        }
                        _ => {}
                    }
                    args.last_mut().expect("one argument").push(c);
                }
                let Some(action) = args.get(2) else { continue };
                calls += 1;
                for literal in action.split('"').skip(1).step_by(2) {
                    if !literal.contains('{') && !ACTIONS.contains(&literal) {
                        unlisted.push(format!("{}: {literal}", file.display()));
                    }
                }
            }
        }
        assert!(calls > 40, "found only {calls} audit::record calls");
        assert!(unlisted.is_empty(), "not in audit::ACTIONS: {unlisted:?}");
    }
}
