//! Reading columns back into domain types.

use crate::StoreError;
use cohort_core::Timestamp;
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

/// Where column values are read from: a database row, or one row of many read at once as JSON.
pub(crate) trait Columns {
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError>;
}

impl Columns for AnyRow {
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
        self.try_get::<Option<String>, _>(col).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
    }

    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError> {
        self.try_get::<Option<i64>, _>(col).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
    }
}

/// One row of a [`crate::sql::json_agg`] result: its values by the position of their column.
pub(crate) struct JsonRow<'a> {
    pub(crate) names: &'a [&'a str],
    pub(crate) values: Vec<Value>,
}

impl JsonRow<'_> {
    fn value(&self, col: &str) -> Result<&Value, StoreError> {
        self.names
            .iter()
            .position(|n| *n == col)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| StoreError::Corrupt(format!("{col}: missing")))
    }
}

impl Columns for JsonRow<'_> {
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
        match self.value(col)? {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s.clone())),
            v => Err(StoreError::Corrupt(format!("{col}: {v} is not text"))),
        }
    }

    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError> {
        match self.value(col)? {
            Value::Null => Ok(None),
            v => v.as_i64().map(Some).ok_or_else(|| StoreError::Corrupt(format!("{col}: {v} is not an integer"))),
        }
    }
}

pub(crate) fn text(row: &impl Columns, col: &str) -> Result<String, StoreError> {
    row.opt_text(col)?.ok_or_else(|| StoreError::Corrupt(format!("{col}: null")))
}

pub(crate) fn opt_text(row: &impl Columns, col: &str) -> Result<Option<String>, StoreError> {
    row.opt_text(col)
}

pub(crate) fn int(row: &impl Columns, col: &str) -> Result<i64, StoreError> {
    row.opt_int(col)?.ok_or_else(|| StoreError::Corrupt(format!("{col}: null")))
}

pub(crate) fn opt_int(row: &impl Columns, col: &str) -> Result<Option<i64>, StoreError> {
    row.opt_int(col)
}

pub(crate) fn time(row: &impl Columns, col: &str) -> Result<Timestamp, StoreError> {
    int(row, col).map(Timestamp)
}

pub(crate) fn opt_time(row: &impl Columns, col: &str) -> Result<Option<Timestamp>, StoreError> {
    opt_int(row, col).map(|t| t.map(Timestamp))
}

pub(crate) fn boolean(row: &AnyRow, col: &str) -> Result<bool, StoreError> {
    // SQLite hands booleans back as integers when the declared type is lost.
    row.try_get::<bool, _>(col)
        .or_else(|_| row.try_get::<i64, _>(col).map(|i| i != 0))
        .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}
