//! The web layer's one error type, and how it reaches the person: an HTML page in their
//! language, or JSON under `/api`. Unexpected errors are logged once with their cause chain and
//! never shown.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::domain::FieldErrors;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Missing, or not this person's to see: always the same answer.
    #[error("not found")]
    NotFound,
    #[error("sign-in required")]
    Unauthenticated,
    #[error("forbidden")]
    Forbidden,
    /// The CSRF token was missing or wrong, or the request came from another site.
    #[error("csrf check failed")]
    Csrf,
    /// Someone else changed the record first, or the move is no longer allowed; the catalogue
    /// key says which.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// A request the rules refuse, with a catalogue key (JSON API and non-form actions).
    #[error("refused: {0}")]
    Refused(&'static str),
    /// Input errors field by field (the JSON API; HTML forms re-render themselves).
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error("payload too large")]
    TooLarge,
    /// An address, query string or form body that cannot be read (a malformed path id is
    /// [`AppError::NotFound`] instead: it names nothing).
    #[error("bad request")]
    BadRequest,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<crate::db::DbError> for AppError {
    fn from(e: crate::db::DbError) -> Self {
        AppError::Unexpected(e.into())
    }
}

impl From<crate::services::ServiceError> for AppError {
    fn from(e: crate::services::ServiceError) -> Self {
        use crate::services::ServiceError as S;
        match e {
            S::NotFound => AppError::NotFound,
            S::Forbidden => AppError::Forbidden,
            S::Conflict(k) => AppError::Conflict(k),
            S::Refused(k) => AppError::Refused(k),
            S::Invalid(f) => AppError::Invalid(f),
            S::Db(e) => AppError::Unexpected(e.into()),
            S::Storage(e) => AppError::Unexpected(e.into()),
            S::Unexpected(e) => AppError::Unexpected(e),
        }
    }
}

/// What the error-rendering middleware needs to draw the page (set as a response extension).
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub status: StatusCode,
    /// Catalogue key of the message.
    pub key: &'static str,
    pub fields: Option<FieldErrors>,
}

/// A file over its type's size limit: 413 like a body over the server's, with the field named.
pub const TOO_LARGE: &str = "err.upload.too_large";

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Invalid(f) if f.0.iter().any(|e| e.code == TOO_LARGE) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            AppError::Refused(_) | AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::BadRequest => StatusCode::BAD_REQUEST,
            AppError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn key(&self) -> &'static str {
        match self {
            AppError::NotFound => "error.404",
            AppError::Unauthenticated => "error.401",
            AppError::Forbidden => "error.403",
            AppError::Csrf => "error.csrf",
            AppError::Conflict(k) | AppError::Refused(k) => k,
            AppError::Invalid(_) => "error.invalid",
            AppError::TooLarge => "error.413",
            AppError::BadRequest => "error.400",
            AppError::Unexpected(_) => "error.500",
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Unexpected(e) = &self {
            tracing::error!(error = ?e, "unexpected error");
        }
        if matches!(self, AppError::Unauthenticated) {
            // The renderer turns this into a redirect to the sign-in page for HTML requests.
            let mut r = Redirect::to("/login").into_response();
            r.extensions_mut().insert(ErrorInfo {
                status: StatusCode::UNAUTHORIZED,
                key: self.key(),
                fields: None,
            });
            return r;
        }
        let info = ErrorInfo {
            status: self.status(),
            key: self.key(),
            fields: match self {
                AppError::Invalid(f) => Some(f),
                _ => None,
            },
        };
        let mut r = (info.status, [(header::CACHE_CONTROL, "no-store")]).into_response();
        r.extensions_mut().insert(info);
        r
    }
}

pub type AppResult<T> = Result<T, AppError>;
