//! Cursor pagination: `limit` and an opaque `cursor`, answered with `nextCursor`.

use crate::problem::ApiError;
use cohort_service::error::ServiceError;
use cohort_store::After;

use crate::cursor::decode;
pub use crate::cursor::next;
use serde::Deserialize;
use utoipa::IntoParams;

/// The default page size.
pub const DEFAULT_LIMIT: i64 = 50;
/// The largest page size.
pub const MAX_LIMIT: i64 = 500;

/// Paging parameters shared by list endpoints.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The page size, checked.
    pub fn limit(&self) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(n) => Err(ServiceError::BadRequest(format!("limit `{n}` must be between 1 and {MAX_LIMIT}")).into()),
        }
    }

    /// The decoded cursor.
    pub fn after(&self) -> Result<Option<After>, ApiError> {
        self.cursor.as_deref().map(decode).transpose().map_err(ApiError::from)
    }
}
