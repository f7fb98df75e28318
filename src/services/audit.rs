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

/// Adds an audit row inside the caller's transaction.
pub async fn record(
    tx: &mut Tx,
    who: &Who,
    action: &str,
    target: &str,
    detail: &str,
) -> DbResult<()> {
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
