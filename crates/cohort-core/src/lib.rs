//! cohort's pure domain: ids and names, entities and their validation, the group graph,
//! access resolution and its explanation, auto-assignment rules. No I/O, no async.

pub mod conferral;
pub mod csv;
pub mod error;
pub mod graph;
pub mod id;
pub mod index;
pub mod model;
pub mod name;
pub mod parallel;
pub mod permission;
pub mod resolve;
pub mod rule;
pub mod state;
pub mod time;

pub use error::DomainError;
pub use id::{AppId, EventId, GroupId, IdSource, ImportId, ResourceId, RoleId, RuleId, TenantId, TokenId, UserId};
pub use time::{Clock, Timestamp, ZoneName};
