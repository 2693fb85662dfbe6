//! The formats every face shows times and attributes in: RFC 3339 instants (UTC) and attributes
//! as JSON. REST, SCIM, the console, audit bodies and exports all use these, and nothing else.

use cohort_core::{DomainError, Timestamp};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use cohort_store::attributes_json;

/// Renders an instant as RFC 3339 (UTC).
pub fn rfc3339(t: Timestamp) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.millis()) * 1_000_000)
        .ok()
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Parses an RFC 3339 instant; `field` names the input in the error.
pub fn parse_rfc3339(field: &str, s: &str) -> Result<Timestamp, DomainError> {
    let d = OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|_| DomainError::invalid(field, format!("`{s}` is not an RFC 3339 date-time")))?;
    Ok(Timestamp(i64::try_from(d.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)))
}
