//! Storage errors: small, meaningful, never a raw driver message to the client.

use thiserror::Error;

/// What can go wrong in storage.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The row does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness or reference constraint refused the change: which field, and why.
    #[error("{reason}")]
    Conflict {
        /// The field (as clients name it) whose value clashes.
        field: String,
        /// What clashes.
        reason: String,
    },
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
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                let field = clashing_field(&format!("{} {}", db.message(), db.constraint().unwrap_or_default()));
                Self::Conflict { field: field.to_owned(), reason: format!("this `{field}` is already taken") }
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => Self::Conflict {
                field: "id".to_owned(),
                reason: "the change refers to something that does not exist (any more)".to_owned(),
            },
            _ => Self::Unavailable(e.to_string()),
        }
    }
}

impl From<cohort_core::DomainError> for StoreError {
    fn from(e: cohort_core::DomainError) -> Self {
        Self::Corrupt(e.to_string())
    }
}

/// The client's name of the column a unique constraint guards, read from the database's
/// message (SQLite names the columns, PostgreSQL the constraint, which names them too).
fn clashing_field(message: &str) -> &'static str {
    const COLUMNS: [(&str, &str); 6] = [
        ("user_name", "userName"),
        ("email_key", "email"),
        ("name_key", "name"),
        ("slug", "slug"),
        ("secret_hash", "secret"),
        ("external_id", "externalId"),
    ];
    COLUMNS.iter().find(|(column, _)| message.contains(column)).map_or("id", |(_, field)| field)
}

#[cfg(test)]
mod tests {
    use super::clashing_field;

    #[test]
    fn the_clashing_field_is_read_from_either_database_s_message() {
        assert_eq!(clashing_field("UNIQUE constraint failed: users.tenant_id, users.email_key"), "email");
        assert_eq!(clashing_field("duplicate key value violates unique constraint users_user_name"), "userName");
        assert_eq!(clashing_field("UNIQUE constraint failed: groups.tenant_id, groups.slug"), "slug");
        assert_eq!(clashing_field("UNIQUE constraint failed: things.id"), "id");
    }
}
