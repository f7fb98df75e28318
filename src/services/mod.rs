//! The only writers. Each service function loads what it needs, asks the domain whether the
//! change is allowed for this person and this record, writes it in one transaction together
//! with its history or audit row, commits, and only then notifies.

pub mod accounts;
pub mod admin;
pub mod admission;
pub mod after_admission;
pub mod application_view;
pub mod applications;
pub mod attachments;
pub mod audit;
pub mod messages;
pub mod profiles;
pub mod program_admin;
pub mod programs;
pub mod reports;
pub mod review;

use crate::domain::FieldErrors;

/// What a service can fail with; the web layer maps each to a page or a JSON answer.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Missing, or not this person's (never say which).
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    /// Someone else changed it first (stale version, double submit): a catalogue key.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The rules refuse this (window closed, limit reached …): a catalogue key.
    #[error("refused: {0}")]
    Refused(&'static str),
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        ServiceError::Db(e.into())
    }
}

impl From<FieldErrors> for ServiceError {
    fn from(e: FieldErrors) -> Self {
        ServiceError::Invalid(e)
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;
