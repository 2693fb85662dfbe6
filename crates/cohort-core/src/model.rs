//! The entities of a tenant and their small enums.

use crate::id::{GroupId, ResourceId, RoleId, RuleId, TenantId, TokenId, UserId};
use crate::name::{
    Attributes, Description, Email, GroupSlug, Keyword, Levels, MemberTypes, Name, ShortText, SsoGroups, TenantSlug,
    UserType,
};
use crate::permission::Permission;
use crate::time::Timestamp;
use std::collections::BTreeSet;

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as it appears in the API and the database.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the text form; `field` names the input for the error.
            pub fn parse(field: &str, s: &str) -> Result<Self, crate::DomainError> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(crate::DomainError::invalid(
                        field,
                        format!("`{}` is not one of: {}", s, [$($text),+].join(", ")),
                    )),
                }
            }
        }
    };
}

text_enum!(
    /// Whether a user has any access at all.
    UserStatus { /** Normal. */ Active = "active", /** No effective access. */ Suspended = "suspended" }
);
text_enum!(
    /// Whether a group confers anything.
    GroupStatus { /** Normal. */ Active = "active", /** Confers nothing, kept for unarchive. */ Archived = "archived" }
);
text_enum!(
    /// Who owns a group's definition.
    GroupSource { /** Made in cohort. */ Local = "local", /** Provisioned by SCIM. */ Scim = "scim", /** Synced from SSO. */ Sso = "sso" }
);
text_enum!(
    /// How a membership row came to be.
    MembershipSource {
        /** Added by hand. */ Manual = "manual",
        /** Matched by an auto-assignment rule. */ Rule = "rule",
        /** Provisioned by SCIM. */ Scim = "scim",
        /** Synced from SSO at login. */ Sso = "sso",
        /** Imported from CSV. */ Import = "import",
    }
);
impl MembershipSource {
    /// Whether rows of this source are made by a machine (a rule, an identity provider)
    /// rather than a person; such rows never confer `cohort:` permissions.
    pub fn is_automated(self) -> bool {
        // Every source says; a new one does not compile until it does.
        match self {
            Self::Rule | Self::Scim | Self::Sso => true,
            Self::Manual | Self::Import => false,
        }
    }

    /// Whether a person may edit a row of this source in place (its role, expiry and reason,
    /// through REST, the console or the CLI). Rows of other sources are kept by their source
    /// (its rule, its SCIM client, the user's next sign-in, the import that wrote them); a
    /// person may only remove them.
    pub fn hand_editable(self) -> bool {
        match self {
            Self::Manual => true,
            Self::Rule | Self::Scim | Self::Sso | Self::Import => false,
        }
    }

    /// Whether a person removes a row of this source in the console: their own rows and an
    /// import's. A rule's, a SCIM client's and sign-in's rows are kept by their source, which
    /// would put them back: they are changed there.
    pub fn hand_removable(self) -> bool {
        match self {
            Self::Manual | Self::Import => true,
            Self::Rule | Self::Scim | Self::Sso => false,
        }
    }
}

text_enum!(
    /// Which face a token opens.
    TokenScope {
        /** The admin REST API. */ Api = "api",
        /** Only SCIM provisioning (`/scim/v2`) of its tenant. */ Scim = "scim",
    }
);
text_enum!(
    /// What a member may do in the group.
    MemberRole { /** An ordinary member. */ Member = "member", /** May manage the group's members. */ Manager = "manager" }
);

/// An organisation; everything else lives inside one.
#[derive(Clone, Debug, PartialEq)]
pub struct Tenant {
    /// Id.
    pub id: TenantId,
    /// URL slug.
    pub slug: TenantSlug,
    /// Display name.
    pub name: Name,
    /// The last committed revision.
    pub revision: i64,
    /// The user types its users may have (always holding [`UserType::DEFAULT`]).
    pub user_types: BTreeSet<UserType>,
    /// The time zone its people read times in unless they chose their own (none: UTC).
    pub time_zone: Option<crate::ZoneName>,
    /// When it was created.
    pub created_at: Timestamp,
}

/// A person who can be given access.
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// Email, unique per tenant case-insensitively. Users made through the API always have
    /// one; an identity provider may provision a user without.
    pub email: Option<Email>,
    /// The login name a provisioning system knows the user by (SCIM `userName`), unique per
    /// tenant case-insensitively; the email stands in when there is none.
    pub user_name: Option<Name>,
    /// Display name.
    pub display_name: ShortText,
    /// Department.
    pub department: ShortText,
    /// Job title.
    pub title: ShortText,
    /// Free attributes.
    pub attributes: Attributes,
    /// The groups the upstream identity provider last reported.
    pub sso_groups: SsoGroups,
    /// Active or suspended.
    pub status: UserStatus,
    /// What kind of user (from the tenant's list); groups may admit only some kinds.
    pub user_type: UserType,
    /// Id in the provisioning system, when provisioned.
    pub external_id: Option<String>,
    /// The time zone they read times in (none: the tenant's).
    pub time_zone: Option<crate::ZoneName>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

impl User {
    /// How the user is named to people: their display name, else their email, else their
    /// user name, else their id (the audit log's recorded names follow the same rule).
    pub fn name(&self) -> String {
        Some(self.display_name.to_string())
            .filter(|n| !n.is_empty())
            .or_else(|| self.email.as_ref().map(ToString::to_string))
            .or_else(|| self.user_name.as_ref().map(ToString::to_string))
            .unwrap_or_else(|| self.id.to_string())
    }

    /// The key users are unique and sorted by: the email, compared case-insensitively; a user
    /// without an email gets a key of their own (`~` and the id) that sorts after every email.
    pub fn email_key(&self) -> String {
        match &self.email {
            Some(e) => e.key(),
            None => format!("~{}", self.id),
        }
    }
}

/// A group of users that confers roles to its members and the members of its child groups.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// Id.
    pub id: GroupId,
    /// Name, unique per tenant case-insensitively.
    pub name: Name,
    /// The name the identity provider last gave a provisioned or synced group. The group's
    /// name follows it until an administrator renames the group; then the two differ.
    pub provider_name: Option<Name>,
    /// Slug, unique per tenant.
    pub slug: GroupSlug,
    /// Description.
    pub description: Description,
    /// Active or archived.
    pub status: GroupStatus,
    /// Who owns the group.
    pub source: GroupSource,
    /// Id in the provisioning system.
    pub external_id: Option<String>,
    /// When false the group confers nothing.
    pub apply_privileges: bool,
    /// Members are told when their access through this group changes.
    pub notify_members: bool,
    /// The user types it admits as members (empty: every type).
    pub member_types: MemberTypes,
    /// Parent groups.
    pub parent_ids: Vec<GroupId>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// One row of a user's membership in a group; a user may have several, one per source.
#[derive(Clone, Debug, PartialEq)]
pub struct Membership {
    /// The group.
    pub group_id: GroupId,
    /// The user.
    pub user_id: UserId,
    /// How the row came to be.
    pub source: MembershipSource,
    /// Member or manager.
    pub role: MemberRole,
    /// When the row stops conferring access.
    pub expires_at: Option<Timestamp>,
    /// Who added it.
    pub added_by: Option<UserId>,
    /// When it was added.
    pub added_at: Timestamp,
    /// Why it was added.
    pub reason: ShortText,
}

impl Membership {
    /// Whether the row confers access at `now`.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.expires_at.is_none_or(|t| t > now)
    }
}

/// A named set of permissions.
#[derive(Clone, Debug, PartialEq)]
pub struct Role {
    /// Id.
    pub id: RoleId,
    /// Name, unique per tenant case-insensitively.
    pub name: Name,
    /// Description.
    pub description: Description,
    /// Permissions, sorted and without duplicates.
    pub permissions: Vec<Permission>,
    /// Built-in roles cannot be changed or deleted.
    pub builtin: bool,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// Who a role is assigned to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// Directly to a user.
    User(UserId),
    /// To a group (and so to its effective members).
    Group(GroupId),
}

/// An API token; the secret is never stored, only its hash.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiToken {
    /// Id.
    pub id: TokenId,
    /// The user it acts as.
    pub user_id: UserId,
    /// A label.
    pub name: Name,
    /// May also manage tenants.
    pub system: bool,
    /// Which face it opens.
    pub scope: TokenScope,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last time it authenticated a request.
    pub last_used_at: Option<Timestamp>,
}

text_enum!(
    /// How a person signed in to the console.
    SignInMethod {
        /** A personal API token pasted into the sign-in page. */ Token = "token",
        /** The tenant's OpenID Connect identity provider. */ Sso = "sso",
        /** A password set through an invitation. */ Password = "password",
    }
);

/// A tenant's OpenID Connect identity provider. The client secret is kept to redeem codes and
/// is never answered, logged or audited.
#[derive(Clone, PartialEq, Eq)]
pub struct IdentityProvider {
    /// The issuer; its metadata is at `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// The client cohort is registered as.
    pub client_id: String,
    /// That client's secret.
    pub client_secret: String,
    /// The scopes asked for (`openid` always among them).
    pub scopes: Vec<String>,
    /// The claim listing the user's provider groups.
    pub groups_claim: String,
    /// The claim giving the login name.
    pub login_claim: String,
    /// The claim giving the email.
    pub email_claim: String,
    /// The claim giving the display name.
    pub name_claim: String,
    /// Whether someone unknown is made a user at their first sign-in.
    pub create_users: bool,
    /// Whether a user is found by an email the provider vouches for (`email_verified`).
    pub link_by_email: bool,
    /// Whether memberships of `sso` groups change only by sign-in sync and SCIM, and local
    /// sign-in is off for everyone but tenant admins.
    pub sso_only: bool,
    /// Where the provider's directory answers for a user's groups when the ID token leaves them
    /// out (Entra's groups overage); Microsoft Graph when unset.
    pub directory_url: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

impl std::fmt::Debug for IdentityProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityProvider")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"…")
            .field("scopes", &self.scopes)
            .field("sso_only", &self.sso_only)
            .finish_non_exhaustive()
    }
}

/// A kind of resource with its ordered access levels.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceType {
    /// Name, unique per tenant (`agent`, `datasource`).
    pub name: Keyword,
    /// Levels, least permissive first.
    pub levels: Levels,
    /// Built-in types cannot be deleted.
    pub builtin: bool,
}

/// Something an app protects.
#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    /// Id.
    pub id: ResourceId,
    /// Its type.
    pub type_name: Keyword,
    /// Name, unique per tenant and type, case-insensitively.
    pub name: Name,
    /// Description.
    pub description: Description,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// A level on a resource given to a user or a group.
#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    /// The resource.
    pub resource_id: ResourceId,
    /// Who holds it.
    pub subject: Subject,
    /// The level (one of the resource type's).
    pub level: Keyword,
    /// Who granted it.
    pub granted_by: Option<UserId>,
    /// When.
    pub granted_at: Timestamp,
}

/// One row a CSV import of members will add: the user and the membership role, with its line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportRow {
    /// The line of the file.
    pub line: usize,
    /// The user.
    pub user_id: UserId,
    /// Member or manager.
    pub role: MemberRole,
}

/// One user a CSV import of users will create, with the groups to put them in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserImportRow {
    /// The line of the file.
    pub line: usize,
    /// Email.
    pub email: Email,
    /// Display name.
    pub display_name: ShortText,
    /// Department.
    pub department: ShortText,
    /// Title.
    pub title: ShortText,
    /// Their type.
    pub user_type: UserType,
    /// Groups to add them to (as members, source `import`).
    pub groups: Vec<GroupId>,
}

/// What a kept import will do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportRows {
    /// Add these members to this group.
    Members(GroupId, Vec<ImportRow>),
    /// Create these users.
    Users(Vec<UserImportRow>),
}

/// A previewed CSV import, applied as a whole on confirm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    /// Id.
    pub id: crate::id::ImportId,
    /// The rows the preview found valid.
    pub rows: ImportRows,
    /// Who previewed it.
    pub created_by: Option<UserId>,
    /// When.
    pub created_at: Timestamp,
    /// When it was confirmed, if it was.
    pub applied_at: Option<Timestamp>,
}

/// An auto-assignment rule: users its expression matches are members of its group (source
/// `rule`) for as long as it matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Id.
    pub id: RuleId,
    /// The group it fills.
    pub group_id: GroupId,
    /// The expression, as written (it compiled when saved).
    pub expression: String,
    /// A paused rule is not evaluated: the members it brought stay.
    pub paused: bool,
    /// Who made it.
    pub created_by: Option<UserId>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change of the expression or pause.
    pub updated_at: Timestamp,
    /// When it was last evaluated, for everyone or for one changed user.
    pub last_evaluated_at: Option<Timestamp>,
    /// How many users it matched when last evaluated.
    pub matched: i64,
    /// Why the last evaluation failed for a user, if it did.
    pub last_error: Option<String>,
}
