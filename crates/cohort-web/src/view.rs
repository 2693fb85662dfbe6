//! The JSON shapes of cohort's entities in the REST face's answers.

use cohort_core::Timestamp;
use cohort_core::model::{ApiToken, Grant, Group, Membership, Resource, ResourceType, Role, Subject, Tenant, User};
use cohort_service::format::{attributes_json, rfc3339};
use cohort_service::{GroupAccess, PathWords, UserAccess, ViaWords};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// A tenant.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantView {
    /// Id.
    pub id: String,
    /// URL slug.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Last committed revision.
    pub revision: i64,
    /// Creation time.
    pub created_at: String,
}

impl From<&Tenant> for TenantView {
    fn from(t: &Tenant) -> Self {
        Self {
            id: t.id.to_string(),
            slug: t.slug.to_string(),
            name: t.name.to_string(),
            revision: t.revision,
            created_at: rfc3339(t.created_at),
        }
    }
}

/// A user.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    /// Id.
    pub id: String,
    /// Email (absent for a user an identity provider provisioned without one).
    pub email: Option<String>,
    /// Login name in the provisioning system (SCIM `userName`).
    pub user_name: Option<String>,
    /// Display name.
    pub display_name: String,
    /// Department.
    pub department: String,
    /// Job title.
    pub title: String,
    /// Free attributes: string to string or list of strings.
    #[schema(value_type = Object)]
    pub attributes: Value,
    /// The groups the upstream identity provider last reported (`user.ssoGroups` in rules).
    pub sso_groups: Vec<String>,
    /// `active` or `suspended`.
    pub status: String,
    /// The user's type, from the tenant's list (`member` unless given another).
    #[serde(rename = "type")]
    pub user_type: String,
    /// Id in the provisioning system.
    pub external_id: Option<String>,
    /// The time zone the console shows them times in (absent: the tenant's).
    pub time_zone: Option<String>,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

impl From<&User> for UserView {
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

/// An auto-assignment rule with what its last evaluation found.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleView {
    /// Id.
    pub id: String,
    /// The group it fills.
    pub group_id: String,
    /// The CEL expression over `user`.
    pub expression: String,
    /// A paused rule is not evaluated; the members it brought stay.
    pub paused: bool,
    /// Who made it.
    pub created_by: Option<String>,
    /// Creation time.
    pub created_at: String,
    /// Last change of the expression or pause.
    pub updated_at: String,
    /// When it was last evaluated (for everyone, or for a user who was created or changed).
    pub last_evaluated_at: Option<String>,
    /// How many users it matched then.
    pub members_matched: i64,
    /// Why it could not be decided for a user at its last evaluation, if so.
    pub last_error: Option<String>,
}

impl From<&cohort_core::model::Rule> for RuleView {
    fn from(r: &cohort_core::model::Rule) -> Self {
        Self {
            id: r.id.to_string(),
            group_id: r.group_id.to_string(),
            expression: r.expression.clone(),
            paused: r.paused,
            created_by: r.created_by.as_ref().map(ToString::to_string),
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
            last_evaluated_at: r.last_evaluated_at.map(rfc3339),
            members_matched: r.matched,
            last_error: r.last_error.clone(),
        }
    }
}

/// A group.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// For a group an identity provider provisions or syncs, the name it last gave; the
    /// group's `name` follows it until an administrator renames the group.
    pub provider_name: Option<String>,
    /// Slug.
    pub slug: String,
    /// Description.
    pub description: String,
    /// `active` or `archived`.
    pub status: String,
    /// `local`, `scim` or `sso`.
    pub source: String,
    /// Id in the provisioning system.
    pub external_id: Option<String>,
    /// When false the group confers nothing.
    pub apply_privileges: bool,
    /// Members are told when their access through this group changes.
    pub notify_members: bool,
    /// The user types it admits as members (empty: every type).
    pub member_types: Vec<String>,
    /// Parent groups.
    pub parent_ids: Vec<String>,
    /// Users with a live membership.
    pub member_count: i64,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

impl GroupView {
    /// The view of a group with its live member count.
    pub fn new(g: &Group, member_count: i64) -> Self {
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
            member_count,
            created_at: rfc3339(g.created_at),
            updated_at: rfc3339(g.updated_at),
        }
    }
}

/// One membership row.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MembershipView {
    /// The group.
    pub group_id: String,
    /// The user.
    pub user_id: String,
    /// `manual`, `rule`, `scim`, `sso` or `import`.
    pub source: String,
    /// `member` or `manager`.
    pub role: String,
    /// When it stops conferring access.
    pub expires_at: Option<String>,
    /// Time left until then, in whole seconds (0 once expired).
    pub expires_in_seconds: Option<i64>,
    /// Whether it has expired.
    pub expired: bool,
    /// Who added it.
    pub added_by: Option<String>,
    /// When.
    pub added_at: String,
    /// Why.
    pub reason: String,
}

impl MembershipView {
    /// The view of a row at `now`.
    pub fn new(m: &Membership, now: Timestamp) -> Self {
        Self {
            group_id: m.group_id.to_string(),
            user_id: m.user_id.to_string(),
            source: m.source.as_str().to_owned(),
            role: m.role.as_str().to_owned(),
            expires_at: m.expires_at.map(rfc3339),
            expires_in_seconds: m.expires_at.map(|t| ((t.millis() - now.millis()) / 1000).max(0)),
            expired: !m.is_live(now),
            added_by: m.added_by.as_ref().map(ToString::to_string),
            added_at: rfc3339(m.added_at),
            reason: m.reason.to_string(),
        }
    }
}

/// A role.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Permission strings.
    pub permissions: Vec<String>,
    /// Built-in roles cannot be changed.
    pub builtin: bool,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

impl From<&Role> for RoleView {
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

/// An API token (never its secret).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    /// Id.
    pub id: String,
    /// The user it acts as.
    pub user_id: String,
    /// Label.
    pub name: String,
    /// May also manage tenants.
    pub system: bool,
    /// `api` (the admin REST API) or `scim` (SCIM provisioning only).
    pub scope: String,
    /// Creation time.
    pub created_at: String,
    /// Last use.
    pub last_used_at: Option<String>,
}

impl From<&ApiToken> for TokenView {
    fn from(t: &ApiToken) -> Self {
        Self {
            id: t.id.to_string(),
            user_id: t.user_id.to_string(),
            name: t.name.to_string(),
            system: t.system,
            scope: t.scope.as_str().to_owned(),
            created_at: rfc3339(t.created_at),
            last_used_at: t.last_used_at.map(rfc3339),
        }
    }
}

/// A resource type and its levels.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceTypeView {
    /// Name.
    pub name: String,
    /// Levels, least permissive first.
    pub levels: Vec<String>,
    /// Built-in types cannot be deleted.
    pub builtin: bool,
}

impl From<&ResourceType> for ResourceTypeView {
    fn from(t: &ResourceType) -> Self {
        Self {
            name: t.name.to_string(),
            levels: t.levels.as_slice().iter().map(ToString::to_string).collect(),
            builtin: t.builtin,
        }
    }
}

/// A resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceView {
    /// Id.
    pub id: String,
    /// Its type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

impl From<&Resource> for ResourceView {
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

/// A level on a resource held by a group or a user.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrantView {
    /// The resource.
    pub resource_id: String,
    /// The group holding it, if a group does.
    pub group_id: Option<String>,
    /// The user holding it, if held directly.
    pub user_id: Option<String>,
    /// The level.
    pub level: String,
    /// Who granted it.
    pub granted_by: Option<String>,
    /// When.
    pub granted_at: String,
}

impl From<&Grant> for GrantView {
    fn from(g: &Grant) -> Self {
        let (group_id, user_id) = match &g.subject {
            Subject::Group(id) => (Some(id.to_string()), None),
            Subject::User(id) => (None, Some(id.to_string())),
        };
        Self {
            resource_id: g.resource_id.to_string(),
            group_id,
            user_id,
            level: g.level.to_string(),
            granted_by: g.granted_by.as_ref().map(ToString::to_string),
            granted_at: rfc3339(g.granted_at),
        }
    }
}

/// A level the user effectively holds on a resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EffectiveLevelView {
    /// The resource.
    pub resource_id: String,
    /// Its name.
    pub name: String,
    /// The most permissive level held.
    pub level: String,
    /// Every grant that contributes, most permissive first.
    pub via: Vec<LevelViaView>,
}

/// One grant contributing to an effective level.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LevelViaView {
    /// The level this grant gives.
    pub level: String,
    /// Where it comes from.
    #[serde(flatten)]
    pub via: ViaView,
}

/// A data scope key and its values.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EffectiveScopeView {
    /// The key, e.g. `country`.
    pub key: String,
    /// The values, each with the groups that set it.
    pub values: Vec<ScopeValueView>,
}

/// One value of a data scope.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScopeValueView {
    /// The value.
    pub value: String,
    /// Effective groups that set it.
    pub group_ids: Vec<String>,
}

/// A path of groups from one the user is directly in to the one reached.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PathView {
    /// `[direct group, its parent, ..., the group reached]`.
    pub chain: Vec<String>,
    /// Sources of the user's membership in the direct group.
    pub sources: Vec<String>,
    /// The path in words.
    pub explanation: String,
}

impl From<&PathWords> for PathView {
    fn from(p: &PathWords) -> Self {
        Self {
            chain: p.path.chain.iter().map(ToString::to_string).collect(),
            sources: p.path.sources.iter().map(|s| s.as_str().to_owned()).collect(),
            explanation: p.words.clone(),
        }
    }
}

/// Where something comes from: assigned directly or through a group path.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ViaView {
    /// `direct` or `group`.
    pub kind: String,
    /// The group path, for `group`.
    pub path: Option<PathView>,
    /// In words.
    pub explanation: String,
}

impl From<&ViaWords> for ViaView {
    fn from(v: &ViaWords) -> Self {
        let kind = if v.path.is_some() { "group" } else { "direct" };
        Self { kind: kind.to_owned(), path: v.path.as_ref().map(PathView::from), explanation: v.words.clone() }
    }
}

/// A group the user is effectively in.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EffectiveGroupView {
    /// The group.
    pub group_id: String,
    /// Its name.
    pub name: String,
    /// Whether the user is directly in it.
    pub direct: bool,
    /// Paths that reach it.
    pub paths: Vec<PathView>,
}

/// A role the user effectively holds.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EffectiveRoleView {
    /// The role.
    pub role_id: String,
    /// Its name.
    pub name: String,
    /// Where it comes from.
    pub via: Vec<ViaView>,
}

/// A permission the user effectively holds.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EffectivePermissionView {
    /// The permission string.
    pub permission: String,
    /// Roles that give it.
    pub role_ids: Vec<String>,
}

/// Everything a user may do, and why.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessView {
    /// The user.
    pub user_id: String,
    /// The revision this answer reflects.
    pub revision: i64,
    /// Whether the user is active; a suspended user has no access.
    pub active: bool,
    /// Effective groups, direct and inherited.
    pub groups: Vec<EffectiveGroupView>,
    /// Effective roles.
    pub roles: Vec<EffectiveRoleView>,
    /// Effective permissions.
    pub permissions: Vec<EffectivePermissionView>,
    /// Effective levels on resources.
    pub levels: Vec<EffectiveLevelView>,
    /// Effective data scopes: the union of the values of every effective group, per key; keys
    /// no group sets are absent.
    pub scopes: Vec<EffectiveScopeView>,
}

impl From<&GroupAccess> for EffectiveGroupView {
    fn from(g: &GroupAccess) -> Self {
        Self {
            group_id: g.group.to_string(),
            name: g.name.clone(),
            direct: g.direct,
            paths: g.paths.iter().map(PathView::from).collect(),
        }
    }
}

impl From<&UserAccess> for AccessView {
    fn from(a: &UserAccess) -> Self {
        Self {
            user_id: a.user.to_string(),
            revision: a.revision,
            active: a.active,
            groups: a.groups.iter().map(EffectiveGroupView::from).collect(),
            roles: a
                .roles
                .iter()
                .map(|r| EffectiveRoleView {
                    role_id: r.role.to_string(),
                    name: r.name.clone(),
                    via: r.via.iter().map(ViaView::from).collect(),
                })
                .collect(),
            permissions: a
                .permissions
                .iter()
                .map(|p| EffectivePermissionView {
                    permission: p.permission.to_string(),
                    role_ids: p.roles.iter().map(ToString::to_string).collect(),
                })
                .collect(),
            levels: a
                .levels
                .iter()
                .map(|l| EffectiveLevelView {
                    resource_id: l.resource.to_string(),
                    name: l.name.clone(),
                    level: l.level.clone(),
                    via: l
                        .via
                        .iter()
                        .map(|(level, via)| LevelViaView { level: level.clone(), via: via.into() })
                        .collect(),
                })
                .collect(),
            scopes: a
                .scopes
                .iter()
                .map(|s| EffectiveScopeView {
                    key: s.key.clone(),
                    values: s
                        .values
                        .iter()
                        .map(|v| ScopeValueView {
                            value: v.value.clone(),
                            group_ids: v.groups.iter().map(ToString::to_string).collect(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}
