//! The service layer's error, and the one place it becomes HTTP (RFC 9457 problem+json).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cohort_core::DomainError;
use cohort_store::StoreError;
use serde::Serialize;
use thiserror::Error;
use utoipa::ToSchema;

/// One invalid input field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field, in the request's spelling.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// What a use case can fail with.
#[derive(Debug, Error)]
pub enum ServiceError {
    /// One or more inputs are invalid (422).
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldError>),
    /// A rule's expression does not compile (422), with where.
    #[error("the expression is invalid at line {}, column {}: {}", .0.line, .0.column, .0.message)]
    Expression(cohort_core::rule::RuleSyntaxError),
    /// A group does not admit the user's type (422).
    #[error(transparent)]
    NotAdmitted(#[from] cohort_core::state::NotAdmitted),
    /// The request itself is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// The thing does not exist in this tenant (404).
    #[error("{0} not found")]
    NotFound(String),
    /// The change clashes with current state (409).
    #[error("{1}")]
    Conflict(String, String),
    /// A conditional write found the resource at another version than the one expected (412).
    #[error("{0}")]
    PreconditionFailed(String),
    /// No valid credentials (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The caller lacks a permission (403).
    #[error("{0}")]
    Forbidden(String),
    /// The path does not take the request's method (405).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The body is too large (413).
    #[error("{0}")]
    TooLarge(String),
    /// Too many failed attempts from one client; try again later (429).
    #[error("{0}")]
    TooMany(String),
    /// The tenant's identity provider failed or is out of reach (502).
    #[error("{0}")]
    Upstream(String),
    /// A fault in cohort itself (500); details are logged, not sent.
    #[error("internal error")]
    Internal,
    /// The database is out of reach or failed (503); details are logged, not sent.
    #[error("storage unavailable")]
    Unavailable(#[source] StoreError),
}

impl From<DomainError> for ServiceError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { field, reason } => Self::Invalid(vec![FieldError { field, message: reason }]),
            DomainError::NotFound(what) => Self::NotFound(what),
            DomainError::Conflict { field, reason } => Self::Conflict(field, reason),
            DomainError::Forbidden(why) => Self::Forbidden(why),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound("the resource".to_owned()),
            StoreError::Conflict { field, reason } => Self::Conflict(field, reason),
            StoreError::Unsupported(why) => {
                Self::Invalid(vec![FieldError { field: "filter".to_owned(), message: why }])
            }
            StoreError::Corrupt(what) => {
                tracing::error!(row = %what, "a stored row could not be read");
                Self::Internal
            }
            other => Self::Unavailable(other),
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A stable URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong this time.
    pub detail: String,
    /// Per-field validation errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Where in the submitted expression the error is (invalid rule expressions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
}

/// A place in a submitted text.
#[derive(Debug, Serialize, ToSchema)]
pub struct Position {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1, in characters.
    pub column: u32,
}

impl ServiceError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Self::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation", "Invalid input"),
            Self::Expression(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid-expression", "Invalid expression"),
            Self::NotAdmitted(_) => (StatusCode::UNPROCESSABLE_ENTITY, "not-admitted", "User type not admitted"),
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request", "Malformed request"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            Self::Conflict(..) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            Self::PreconditionFailed(_) => {
                (StatusCode::PRECONDITION_FAILED, "precondition-failed", "Precondition failed")
            }
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            Self::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed"),
            Self::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too-large", "Request too large"),
            Self::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, "too-many-requests", "Too many requests"),
            Self::Upstream(_) => (StatusCode::BAD_GATEWAY, "identity-provider", "Identity provider failed"),
            Self::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Service unavailable"),
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let (status, kind, title) = self.parts();
        let (detail, errors) = match self {
            Self::Invalid(errors) => {
                let detail =
                    errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ");
                (detail, errors.clone())
            }
            Self::Conflict(field, reason) => {
                (reason.clone(), vec![FieldError { field: field.clone(), message: reason.clone() }])
            }
            Self::Expression(e) => {
                (self.to_string(), vec![FieldError { field: "expression".to_owned(), message: e.to_string() }])
            }
            Self::Unavailable(_) => ("the service cannot complete this request now; try again".to_owned(), vec![]),
            Self::Internal => ("the service failed to complete this request".to_owned(), vec![]),
            other => (other.to_string(), vec![]),
        };
        Problem {
            kind: format!("https://cohort.dev/problems/{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            errors,
            position: match self {
                Self::Expression(e) => Some(Position { line: e.line, column: e.column }),
                _ => None,
            },
        }
    }
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        if let Self::Unavailable(source) = &self {
            tracing::error!(error = %source, "storage failure");
        }
        let problem = self.problem();
        let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Result of a use case.
pub type ServiceResult<T> = Result<T, ServiceError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_errors_map_to_what_the_client_can_do_about_them() {
        let status = |e: StoreError| ServiceError::from(e).problem().status;
        // A row cohort cannot read back is cohort's fault, not a passing outage.
        assert_eq!(status(StoreError::Corrupt("users.attributes".to_owned())), 500);
        assert_eq!(status(StoreError::Unavailable("connection refused".to_owned())), 503);
        let clash = ServiceError::from(StoreError::Conflict {
            field: "email".to_owned(),
            reason: "this `email` is already taken".to_owned(),
        })
        .problem();
        assert_eq!((clash.status, clash.errors[0].field.as_str()), (409, "email"));
        assert_eq!(clash.detail, "this `email` is already taken");
    }
}
