//! The domain's error type: what went wrong, never how to render it.

use thiserror::Error;

/// A rule of the domain that a request broke.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    /// A value failed validation; `field` names the input it came from.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// The named thing does not exist in this tenant.
    #[error("{0} not found")]
    NotFound(String),
    /// The change clashes with existing state (duplicate name, cycle).
    #[error("{reason}")]
    Conflict { field: String, reason: String },
    /// The actor may not do this.
    #[error("{0}")]
    Forbidden(String),
}

impl DomainError {
    /// Why a value was refused or a change clashes, without the field it names.
    pub fn reason(&self) -> &str {
        match self {
            Self::Invalid { reason, .. } | Self::Conflict { reason, .. } => reason,
            Self::NotFound(s) | Self::Forbidden(s) => s,
        }
    }

    /// Shorthand for [`DomainError::Invalid`].
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        Self::Invalid { field: field.to_owned(), reason: reason.into() }
    }

    /// Shorthand for [`DomainError::Conflict`].
    pub fn conflict(field: &str, reason: impl Into<String>) -> Self {
        Self::Conflict { field: field.to_owned(), reason: reason.into() }
    }

    /// Shorthand for [`DomainError::NotFound`].
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }

    /// Shorthand for [`DomainError::Forbidden`].
    pub fn forbidden(why: impl Into<String>) -> Self {
        Self::Forbidden(why.into())
    }
}
