//! Numbered ids for the property tests.

#![allow(dead_code, clippy::unwrap_used)]

use cohort_core::{GroupId, ResourceId, RoleId, UserId};

pub fn uid(i: usize) -> UserId {
    UserId::parse(&format!("usr_{i:012}")).unwrap()
}
pub fn gid(i: usize) -> GroupId {
    GroupId::parse(&format!("grp_{i:012}")).unwrap()
}
pub fn rid(i: usize) -> RoleId {
    RoleId::parse(&format!("rol_{i:012}")).unwrap()
}
pub fn res(i: usize) -> ResourceId {
    ResourceId::parse(&format!("res_{i:012}")).unwrap()
}
