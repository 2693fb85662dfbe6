//! Permission strings, how a held permission covers a requested one, and cohort's own
//! `cohort:` permissions and built-in roles.

use crate::error::DomainError;
use std::fmt;

/// A permission string: `[a-z0-9_.:*-]{1,128}`, e.g. `agents:use` or `cohort:*`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Permission(String);

impl Permission {
    /// Validates a permission string.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let ok = !s.is_empty()
            && s.len() <= 128
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b':' | b'*' | b'-'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(DomainError::invalid(
                "permissions",
                format!("`{s}` must be 1 to 128 characters of a-z, 0-9, _ . : * -"),
            ))
        }
    }

    /// The permission as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether holding `self` allows `wanted`: equal, or `self` ends in `*` and `wanted`
    /// starts with what comes before it (`cohort:*` covers `cohort:groups.write`).
    pub fn covers(&self, wanted: &str) -> bool {
        covers(&self.0, wanted)
    }

    /// Whether this permission governs cohort itself.
    pub fn is_cohort(&self) -> bool {
        governs_cohort(&self.0)
    }
}

/// Whether the permission string `held` allows `wanted` (see [`Permission::covers`]). A
/// wildcard is covered only by one as wide: `reports:*` covers `reports:*`, `reports:view` does not.
pub fn covers(held: &str, wanted: &str) -> bool {
    match held.strip_suffix('*') {
        Some(prefix) => wanted.starts_with(prefix),
        None => held == wanted,
    }
}

/// Whether the permission string `p` governs cohort itself (`cohort:…`, or a wildcard that
/// reaches into `cohort:`, such as `*` or `co*`).
pub fn governs_cohort(p: &str) -> bool {
    p.starts_with("cohort:") || p.ends_with('*') && "cohort:".starts_with(p.trim_end_matches('*'))
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// cohort's own permissions, checked by its API.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CohortPermission {
    /// Everything, including tenant settings.
    Admin,
    /// Read users.
    UsersRead,
    /// Create, change and delete users.
    UsersWrite,
    /// Read groups, their members and roles.
    GroupsRead,
    /// Create, change, archive and delete groups, their members, roles and nesting.
    GroupsWrite,
    /// Read roles.
    RolesRead,
    /// Create, change and delete roles.
    RolesWrite,
    /// Assign roles to users directly.
    UserRolesWrite,
    /// Read resource types, resources and their grants.
    ResourcesRead,
    /// Create, change and delete resource types and resources.
    ResourcesWrite,
    /// Read any user's effective access and run checks.
    AccessRead,
    /// Read the audit log.
    AuditRead,
    /// Manage other users' API tokens.
    TokensManage,
}

impl CohortPermission {
    /// Every cohort permission.
    pub const ALL: [CohortPermission; 13] = [
        Self::Admin,
        Self::UsersRead,
        Self::UsersWrite,
        Self::GroupsRead,
        Self::GroupsWrite,
        Self::RolesRead,
        Self::RolesWrite,
        Self::UserRolesWrite,
        Self::ResourcesRead,
        Self::ResourcesWrite,
        Self::AccessRead,
        Self::AuditRead,
        Self::TokensManage,
    ];

    /// The permission string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "cohort:admin",
            Self::UsersRead => "cohort:users.read",
            Self::UsersWrite => "cohort:users.write",
            Self::GroupsRead => "cohort:groups.read",
            Self::GroupsWrite => "cohort:groups.write",
            Self::RolesRead => "cohort:roles.read",
            Self::RolesWrite => "cohort:roles.write",
            Self::UserRolesWrite => "cohort:user-roles.write",
            Self::ResourcesRead => "cohort:resources.read",
            Self::ResourcesWrite => "cohort:resources.write",
            Self::AccessRead => "cohort:access.read",
            Self::AuditRead => "cohort:audit.read",
            Self::TokensManage => "cohort:tokens.manage",
        }
    }
}

/// A built-in role that every tenant has and nobody can change.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BuiltinRole {
    /// Everything (`cohort:*`).
    Admin,
    /// Groups, members, group roles, users read.
    GroupAdmin,
    /// Read everything, including the audit log.
    Auditor,
}

impl BuiltinRole {
    /// Every built-in role.
    pub const ALL: [BuiltinRole; 3] = [Self::Admin, Self::GroupAdmin, Self::Auditor];

    /// The role's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::GroupAdmin => "group-admin",
            Self::Auditor => "auditor",
        }
    }

    /// The role's permissions.
    pub fn permissions(self) -> Vec<Permission> {
        use CohortPermission as P;
        let list: Vec<&str> = match self {
            Self::Admin => vec!["cohort:*"],
            Self::GroupAdmin => {
                [P::GroupsRead, P::GroupsWrite, P::UsersRead, P::RolesRead, P::ResourcesRead, P::AccessRead]
                    .iter()
                    .map(|p| p.as_str())
                    .collect()
            }
            Self::Auditor => [P::UsersRead, P::GroupsRead, P::RolesRead, P::ResourcesRead, P::AccessRead, P::AuditRead]
                .iter()
                .map(|p| p.as_str())
                .collect(),
        };
        list.into_iter().map(|s| Permission(s.to_owned())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_prefixes() {
        let all = Permission::parse("cohort:*").unwrap();
        assert!(all.covers("cohort:groups.write"));
        assert!(!all.covers("agents:use"));
        let exact = Permission::parse("agents:use").unwrap();
        assert!(exact.covers("agents:use"));
        assert!(!exact.covers("agents:use2"));
        assert!(Permission::parse("*").unwrap().covers("anything"));
    }

    #[test]
    fn cohort_permissions_are_recognised() {
        for (p, is) in [
            ("cohort:*", true),
            ("cohort:groups.read", true),
            ("*", true),
            ("coh*", true),
            ("agents:use", false),
            ("a*", false),
        ] {
            assert_eq!(Permission::parse(p).unwrap().is_cohort(), is, "{p}");
        }
        assert!(Permission::parse("Agents").is_err());
        assert!(Permission::parse("").is_err());
    }
}
