//! Reading columns back into domain types.

use crate::StoreError;
use cohort_core::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;

pub(crate) fn text(row: &AnyRow, col: &str) -> Result<String, StoreError> {
    row.try_get::<String, _>(col).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub(crate) fn opt_text(row: &AnyRow, col: &str) -> Result<Option<String>, StoreError> {
    row.try_get::<Option<String>, _>(col).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub(crate) fn int(row: &AnyRow, col: &str) -> Result<i64, StoreError> {
    row.try_get::<i64, _>(col).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub(crate) fn opt_int(row: &AnyRow, col: &str) -> Result<Option<i64>, StoreError> {
    row.try_get::<Option<i64>, _>(col).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub(crate) fn time(row: &AnyRow, col: &str) -> Result<Timestamp, StoreError> {
    int(row, col).map(Timestamp)
}

pub(crate) fn opt_time(row: &AnyRow, col: &str) -> Result<Option<Timestamp>, StoreError> {
    opt_int(row, col).map(|t| t.map(Timestamp))
}

pub(crate) fn boolean(row: &AnyRow, col: &str) -> Result<bool, StoreError> {
    // SQLite hands booleans back as integers when the declared type is lost.
    row.try_get::<bool, _>(col)
        .or_else(|_| row.try_get::<i64, _>(col).map(|i| i != 0))
        .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}
