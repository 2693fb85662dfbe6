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
    /// An app registered with a tenant, which may call its API as itself.
    AppId, "app_", "app"
);
prefixed_id!(
    /// An audit event.
    EventId, "evt_", "event"
);

impl EventId {
    /// A new id for an event at `at`: nine base-36 digits of its millisecond, then the random
    /// part. Ids sort by time, so a change writing many events appends to the end of the
    /// table's key order instead of inserting all over it.
    pub fn at(at: crate::Timestamp, ids: &dyn IdSource) -> Self {
        const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        let mut ms = u64::try_from(at.millis()).unwrap_or(0);
        let mut time = [b'0'; 9];
        for d in time.iter_mut().rev() {
            *d = DIGITS[(ms % 36) as usize];
            ms /= 36;
        }
        let time = String::from_utf8_lossy(&time);
        Self(format!("evt_{time}{}", ids.suffix()).into())
    }
}

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

    struct Fixed;
    impl IdSource for Fixed {
        fn suffix(&self) -> String {
            "zzzzzzzzzzzz".to_owned()
        }
    }

    #[test]
    fn event_ids_sort_by_time() {
        let ids: Vec<EventId> = [0, 35, 36, 1_764_000_000_000, 1_764_000_000_001]
            .map(|ms| EventId::at(crate::Timestamp(ms), &Fixed))
            .into();
        assert_eq!(ids[0].as_str(), "evt_000000000zzzzzzzzzzzz");
        assert_eq!(ids[2].as_str(), "evt_000000010zzzzzzzzzzzz");
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        assert!(ids.iter().all(|i| EventId::parse(i.as_str()).is_ok()));
    }
}
