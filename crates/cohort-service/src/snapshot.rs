//! What the audit log records of each entity before and after a change. These bodies are the
//! log's own format, kept apart from the REST views: renaming a field of the API changes
//! nothing already recorded or recorded from then on. A field is added here, never renamed.

use crate::format::{attributes_json, rfc3339};
use cohort_core::Timestamp;
use cohort_core::model::{ApiToken, Group, IdentityProvider, Membership, Resource, Role, Rule, Tenant, User};
use serde::Serialize;
use serde_json::Value;

/// A tenant as recorded.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantSnapshot {
    id: String,
    slug: String,
    name: String,
    user_types: Vec<String>,
    created_at: String,
}

impl From<&Tenant> for TenantSnapshot {
    fn from(t: &Tenant) -> Self {
        Self {
            id: t.id.to_string(),
            slug: t.slug.to_string(),
            name: t.name.to_string(),
            user_types: t.user_types.iter().map(ToString::to_string).collect(),
            created_at: rfc3339(t.created_at),
        }
    }
}

/// A user as recorded.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSnapshot {
    id: String,
    email: Option<String>,
    user_name: Option<String>,
    display_name: String,
    department: String,
    title: String,
    attributes: Value,
    sso_groups: Vec<String>,
    status: String,
    #[serde(rename = "type")]
    user_type: String,
    external_id: Option<String>,
    time_zone: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<&User> for UserSnapshot {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email.as_ref().map(ToString::to_string),
            user_name: u.user_name.as_ref().map(ToString::to_string),
            display_name: u.display_name.to_string(),
            department: u.department.to_string(),
            title: u.title.to_string(),
            attributes: attributes_json(&u.attributes),
            sso_groups: u.sso_groups.as_slice().to_vec(),
            status: u.status.as_str().to_owned(),
            user_type: u.user_type.to_string(),
            external_id: u.external_id.clone(),
            time_zone: u.time_zone.as_ref().map(ToString::to_string),
            created_at: rfc3339(u.created_at),
            updated_at: rfc3339(u.updated_at),
        }
    }
}

/// A group as recorded.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSnapshot {
    id: String,
    name: String,
    provider_name: Option<String>,
    slug: String,
    description: String,
    status: String,
    source: String,
    external_id: Option<String>,
    apply_privileges: bool,
    notify_members: bool,
    member_types: Vec<String>,
    parent_ids: Vec<String>,
    created_at: String,
    updated_at: String,
}

impl From<&Group> for GroupSnapshot {
    fn from(g: &Group) -> Self {
        Self {
            id: g.id.to_string(),
            name: g.name.to_string(),
            provider_name: g.provider_name.as_ref().map(ToString::to_string),
            slug: g.slug.to_string(),
            description: g.description.to_string(),
            status: g.status.as_str().to_owned(),
            source: g.source.as_str().to_owned(),
            external_id: g.external_id.clone(),
            apply_privileges: g.apply_privileges,
            notify_members: g.notify_members,
            member_types: g.member_types.iter().map(ToString::to_string).collect(),
            parent_ids: g.parent_ids.iter().map(ToString::to_string).collect(),
            created_at: rfc3339(g.created_at),
            updated_at: rfc3339(g.updated_at),
        }
    }
}

/// A membership row as recorded (`expired` as of when the event was written).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MembershipSnapshot {
    group_id: String,
    user_id: String,
    source: String,
    role: String,
    expires_at: Option<String>,
    expired: bool,
    added_by: Option<String>,
    added_at: String,
    reason: String,
}

impl MembershipSnapshot {
    /// Row `m` as it stands at `now`.
    pub fn new(m: &Membership, now: Timestamp) -> Self {
        Self {
            group_id: m.group_id.to_string(),
            user_id: m.user_id.to_string(),
            source: m.source.as_str().to_owned(),
            role: m.role.as_str().to_owned(),
            expires_at: m.expires_at.map(rfc3339),
            expired: !m.is_live(now),
            added_by: m.added_by.as_ref().map(ToString::to_string),
            added_at: rfc3339(m.added_at),
            reason: m.reason.to_string(),
        }
    }
}

/// A role as recorded.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleSnapshot {
    id: String,
    name: String,
    description: String,
    permissions: Vec<String>,
    builtin: bool,
    created_at: String,
    updated_at: String,
}

impl From<&Role> for RoleSnapshot {
    fn from(r: &Role) -> Self {
        Self {
            id: r.id.to_string(),
            name: r.name.to_string(),
            description: r.description.to_string(),
            permissions: r.permissions.iter().map(ToString::to_string).collect(),
            builtin: r.builtin,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

/// An auto-assignment rule as recorded.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleSnapshot {
    id: String,
    group_id: String,
    expression: String,
    paused: bool,
    created_by: Option<String>,
    created_at: String,
    updated_at: String,
    members_matched: i64,
    last_error: Option<String>,
}

impl From<&Rule> for RuleSnapshot {
    fn from(r: &Rule) -> Self {
        Self {
            id: r.id.to_string(),
            group_id: r.group_id.to_string(),
            expression: r.expression.clone(),
            paused: r.paused,
            created_by: r.created_by.as_ref().map(ToString::to_string),
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
            members_matched: r.matched,
            last_error: r.last_error.clone(),
        }
    }
}

/// A token as recorded (never its secret).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenSnapshot {
    id: String,
    user_id: String,
    name: String,
    system: bool,
    scope: String,
    created_at: String,
}

impl From<&ApiToken> for TokenSnapshot {
    fn from(t: &ApiToken) -> Self {
        Self {
            id: t.id.to_string(),
            user_id: t.user_id.to_string(),
            name: t.name.to_string(),
            system: t.system,
            scope: t.scope.as_str().to_owned(),
            created_at: rfc3339(t.created_at),
        }
    }
}

/// A resource as recorded.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSnapshot {
    id: String,
    #[serde(rename = "type")]
    type_name: String,
    name: String,
    description: String,
    created_at: String,
    updated_at: String,
}

impl From<&Resource> for ResourceSnapshot {
    fn from(r: &Resource) -> Self {
        Self {
            id: r.id.to_string(),
            type_name: r.type_name.to_string(),
            name: r.name.to_string(),
            description: r.description.to_string(),
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

/// The provider as the audit log records it: never the secret.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderSnapshot<'a> {
    issuer: &'a str,
    client_id: &'a str,
    scopes: &'a [String],
    groups_claim: &'a str,
    login_claim: &'a str,
    email_claim: &'a str,
    name_claim: &'a str,
    create_users: bool,
    link_by_email: bool,
    sso_only: bool,
    directory_url: Option<&'a str>,
}

impl<'a> From<&'a IdentityProvider> for ProviderSnapshot<'a> {
    fn from(p: &'a IdentityProvider) -> Self {
        Self {
            issuer: &p.issuer,
            client_id: &p.client_id,
            scopes: &p.scopes,
            groups_claim: &p.groups_claim,
            login_claim: &p.login_claim,
            email_claim: &p.email_claim,
            name_claim: &p.name_claim,
            create_users: p.create_users,
            link_by_email: p.link_by_email,
            sso_only: p.sso_only,
            directory_url: p.directory_url.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use cohort_core::model::{MemberRole, MembershipSource};
    use cohort_core::name::ShortText;
    use cohort_core::{GroupId, UserId};

    /// The recorded names are the log's format: this pins them.
    #[test]
    fn a_membership_is_recorded_under_fixed_names() {
        let m = Membership {
            group_id: GroupId::parse("grp_000000000001").unwrap(),
            user_id: UserId::parse("usr_000000000001").unwrap(),
            source: MembershipSource::Manual,
            role: MemberRole::Manager,
            expires_at: Some(Timestamp(2_000)),
            added_by: None,
            added_at: Timestamp(0),
            reason: ShortText::parse("reason", "on call", false).unwrap(),
        };
        let v = serde_json::to_value(MembershipSnapshot::new(&m, Timestamp(1_000))).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["addedAt", "addedBy", "expired", "expiresAt", "groupId", "reason", "role", "source", "userId"]
        );
        assert_eq!(v["role"], "manager");
        assert_eq!(v["expired"], false);
    }
}
