//! Storage errors: small, meaningful, never a raw driver message to the client.

use thiserror::Error;

/// What can go wrong in storage.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The row does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness or reference constraint refused the change.
    #[error("conflict with existing data")]
    Conflict,
    /// Stored data could not be read back into domain types.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// A query asked for something storage cannot answer (e.g. a filter on a field it does
    /// not index).
    #[error("{0}")]
    Unsupported(String),
    /// The database failed or could not be reached.
    #[error("database unavailable: {0}")]
    Unavailable(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() || db.is_foreign_key_violation() => Self::Conflict,
            _ => Self::Unavailable(e.to_string()),
        }
    }
}

impl From<cohort_core::DomainError> for StoreError {
    fn from(e: cohort_core::DomainError) -> Self {
        Self::Corrupt(e.to_string())
    }
}
