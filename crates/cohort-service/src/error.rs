//! What a use case can fail with. Each face turns it into its own format (the web faces: RFC 9457
//! problem+json, SCIM errors, the console's pages).

use cohort_core::DomainError;
use cohort_store::StoreError;
use thiserror::Error;

/// One invalid input field.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    #[error("{reason}")]
    Conflict {
        /// The field that clashes, in the request's spelling.
        field: String,
        /// How it clashes.
        reason: String,
    },
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
            DomainError::Conflict { field, reason } => Self::Conflict { field, reason },
            DomainError::Forbidden(why) => Self::Forbidden(why),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound("the resource".to_owned()),
            StoreError::Conflict { field, reason } => Self::Conflict { field, reason },
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

/// Result of a use case.
pub type ServiceResult<T> = Result<T, ServiceError>;

/// The refusal of a change to an archived group, in its name.
pub(crate) fn archived(
    field: &str,
    state: &cohort_core::state::TenantState,
    group: &cohort_core::GroupId,
) -> ServiceError {
    let name = state.group(group).map_or_else(|| group.to_string(), |g| g.name.clone());
    ServiceError::Conflict {
        field: field.to_owned(),
        reason: format!("the group {name} is archived: unarchive it first"),
    }
}
