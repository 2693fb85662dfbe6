//! Prefixed random ids (`grp_7kq2m9x4c1ab`), one newtype per entity. Ids are shared, not
//! copied: a clone costs a reference count, which matters for the millions of references a
//! tenant's facts hold.

use crate::error::DomainError;
use std::fmt;

/// Where the random part of new ids comes from, so tests can fix it.
pub trait IdSource: Send + Sync {
    /// Returns at least 12 lowercase ASCII letters or digits.
    fn suffix(&self) -> String;
}

fn valid_suffix(s: &str) -> bool {
    (12..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        pub struct $name(std::sync::Arc<str>);

        impl $name {
            /// The prefix every id of this kind starts with.
            pub const PREFIX: &'static str = $prefix;
            /// What this id names, for messages.
            pub const KIND: &'static str = $kind;

            /// Parses an id, refusing anything not of this kind.
            pub fn parse(s: &str) -> Result<Self, DomainError> {
                match s.strip_prefix($prefix) {
                    Some(rest) if valid_suffix(rest) => Ok(Self(s.into())),
                    _ => Err(DomainError::not_found(format!("{} `{}`", $kind, s))),
                }
            }

            /// Makes a new id from `ids`.
            pub fn generate(ids: &dyn IdSource) -> Self {
                Self(format!("{}{}", $prefix, ids.suffix()).into())
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

prefixed_id!(
    /// A tenant (organisation).
    TenantId, "ten_", "tenant"
);
prefixed_id!(
    /// A user of one tenant.
    UserId, "usr_", "user"
);
prefixed_id!(
    /// A group of one tenant.
    GroupId, "grp_", "group"
);
prefixed_id!(
    /// A role of one tenant.
    RoleId, "rol_", "role"
);
prefixed_id!(
    /// A resource an app protects.
    ResourceId, "res_", "resource"
);
prefixed_id!(
    /// An API token.
    TokenId, "tok_", "token"
);
prefixed_id!(
    /// A previewed CSV import, waiting for confirmation.
    ImportId, "imp_", "import"
);
prefixed_id!(
    /// An auto-assignment rule of a group.
    RuleId, "rul_", "rule"
);
prefixed_id!(
    /// An audit event.
    EventId, "evt_", "event"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_checks_prefix_and_suffix() {
        assert!(GroupId::parse("grp_7kq2m9x4c1ab").is_ok());
        assert!(GroupId::parse("usr_7kq2m9x4c1ab").is_err());
        assert!(GroupId::parse("grp_short").is_err());
        assert!(GroupId::parse("grp_7KQ2M9X4C1AB").is_err());
        assert!(GroupId::parse("grp_7kq2m9x4c1a-").is_err());
    }
}
