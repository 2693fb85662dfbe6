//! Limits and defaults of one deployment.

use super::SessionLimits;

/// Limits and defaults of one deployment.
#[derive(Clone, Debug)]
pub struct Config {
    /// Longest allowed chain of nested groups.
    pub max_depth: usize,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Most rows one CSV import may hold.
    pub max_import_rows: usize,
    /// The URL clients reach the server at (`https://access.example.com`), for the links it
    /// hands out (SCIM `meta.location`); without it, `http://` and the request's `Host`.
    pub public_url: Option<String>,
    /// How long console sessions live.
    pub sessions: SessionLimits,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_depth: cohort_core::graph::DEFAULT_MAX_DEPTH,
            max_body_bytes: 1024 * 1024,
            max_import_rows: 1000,
            public_url: None,
            sessions: SessionLimits::default(),
        }
    }
}
