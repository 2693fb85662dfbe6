//! Names, slugs and other validated text. Each constructor rejects bad input once, at the edge.

use crate::error::DomainError;
use std::collections::BTreeMap;
use std::fmt;

fn clean_text(field: &str, raw: &str, max: usize, allow_empty: bool) -> Result<String, DomainError> {
    let s = raw.trim();
    if s.is_empty() && !allow_empty {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if s.chars().count() > max {
        return Err(DomainError::invalid(field, format!("must be at most {max} characters")));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(DomainError::invalid(field, "must not contain control characters"));
    }
    Ok(s.to_owned())
}

fn slug_like(field: &str, s: &str, max: usize, extra: &[u8]) -> Result<String, DomainError> {
    let ok = !s.is_empty()
        && s.len() <= max
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || extra.contains(&b));
    if ok {
        Ok(s.to_owned())
    } else {
        let extra: String = extra.iter().map(|b| *b as char).collect();
        Err(DomainError::invalid(field, format!("`{s}` must be 1 to {max} characters of a-z, 0-9, -{extra}")))
    }
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, Debug)]
        pub struct $name(String);

        impl $name {
            /// The value as text.
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

text_type!(
    /// A tenant's URL slug: `[a-z0-9-]{1,64}`.
    TenantSlug
);
impl TenantSlug {
    /// Validates a tenant slug.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        slug_like("slug", s, 64, &[]).map(Self)
    }
}

text_type!(
    /// A display name of a group, role, tenant or token: trimmed, 1 to 128 characters,
    /// compared case-insensitively through [`Name::key`].
    Name
);
impl Name {
    /// Validates a name for `field`.
    pub fn parse(field: &str, s: &str) -> Result<Self, DomainError> {
        clean_text(field, s, 128, false).map(Self)
    }

    /// The case-insensitive key that uniqueness is decided on.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

text_type!(
    /// A group's slug: `[a-z0-9-]{1,64}`, unique per tenant.
    GroupSlug
);
impl GroupSlug {
    /// Validates a slug given by the client.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        slug_like("slug", s, 64, &[]).map(Self)
    }

    /// Derives a slug from a name: lowercase ASCII letters and digits, other runs become `-`.
    pub fn from_name(name: &Name) -> Self {
        let mut out = String::new();
        for c in name.as_str().chars().flat_map(char::to_lowercase) {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                out.push(c);
            } else if !out.ends_with('-') {
                out.push('-');
            }
        }
        let trimmed: String = out.trim_matches('-').chars().take(64).collect();
        let trimmed = trimmed.trim_end_matches('-');
        if trimmed.is_empty() { Self("group".to_owned()) } else { Self(trimmed.to_owned()) }
    }
}

text_type!(
    /// A resource type's name or one of its access levels: `[a-z0-9_-]{1,64}`.
    Keyword
);
impl Keyword {
    /// Validates a type or level name for `field`.
    pub fn parse(field: &str, s: &str) -> Result<Self, DomainError> {
        slug_like(field, s, 64, b"_").map(Self)
    }
}

/// A kind of user (`member`, `customer`, `partner`, `service`): `[a-z0-9_-]{1,32}`, from the
/// list the tenant keeps. Every user has one; a group may admit only some.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct UserType(String);

impl UserType {
    /// The type every user has unless given another, and every tenant's list holds.
    pub const DEFAULT: &str = "member";

    /// Validates a user type for `field`.
    pub fn parse(field: &str, s: &str) -> Result<Self, DomainError> {
        slug_like(field, s, 32, b"_").map(Self)
    }

    /// The value as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for UserType {
    fn default() -> Self {
        Self(Self::DEFAULT.to_owned())
    }
}

impl fmt::Display for UserType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The types a group admits as members; empty admits every type.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct MemberTypes(std::collections::BTreeSet<UserType>);

impl MemberTypes {
    /// Most types one group lists.
    pub const MAX: usize = 32;

    /// Validates a list of types for `field` (duplicates are one).
    pub fn new(field: &str, types: impl IntoIterator<Item = UserType>) -> Result<Self, DomainError> {
        let set: std::collections::BTreeSet<UserType> = types.into_iter().collect();
        if set.len() > Self::MAX {
            return Err(DomainError::invalid(field, format!("at most {} types", Self::MAX)));
        }
        Ok(Self(set))
    }

    /// Whether a user of type `t` may be a member.
    pub fn admits(&self, t: &UserType) -> bool {
        self.0.is_empty() || self.0.contains(t)
    }

    /// Whether every type is admitted.
    pub fn is_any(&self) -> bool {
        self.0.is_empty()
    }

    /// The types listed, in order.
    pub fn iter(&self) -> impl Iterator<Item = &UserType> {
        self.0.iter()
    }

    /// The types as text separated by spaces (as stored).
    pub fn to_text(&self) -> String {
        self.0.iter().map(UserType::as_str).collect::<Vec<_>>().join(" ")
    }

    /// Reads types stored by [`Self::to_text`].
    pub fn from_text(field: &str, s: &str) -> Result<Self, DomainError> {
        Self::new(field, s.split_whitespace().map(|t| UserType::parse(field, t)).collect::<Result<Vec<_>, _>>()?)
    }
}

/// The ordered access levels of a resource type, least permissive first.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Levels(Vec<Keyword>);

impl Levels {
    /// The default order: `view < use < edit`.
    pub fn default_order() -> Self {
        Self(["view", "use", "edit"].iter().map(|l| Keyword(l.to_string())).collect())
    }

    /// Validates an order: 1 to 16 distinct level names.
    pub fn new(levels: Vec<Keyword>) -> Result<Self, DomainError> {
        if levels.is_empty() || levels.len() > 16 {
            return Err(DomainError::invalid("levels", "a type has 1 to 16 levels"));
        }
        for (i, l) in levels.iter().enumerate() {
            if levels[..i].contains(l) {
                return Err(DomainError::invalid("levels", format!("level `{l}` is listed twice")));
            }
        }
        Ok(Self(levels))
    }

    /// The levels, least permissive first.
    pub fn as_slice(&self) -> &[Keyword] {
        &self.0
    }

    /// The rank of a level name (0 = least permissive).
    pub fn rank(&self, level: &str) -> Option<u8> {
        self.0.iter().position(|l| l.as_str() == level).and_then(|i| u8::try_from(i).ok())
    }
}

/// Data scopes of a group: keys to sets of values (`{"country": ["France"]}`).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Scopes(BTreeMap<String, std::collections::BTreeSet<String>>);

impl Scopes {
    /// Validates scopes: at most 20 keys of `[A-Za-z0-9_.-]{1,64}`, each with 1 to 100 values
    /// of 1 to 200 characters.
    pub fn new(map: BTreeMap<String, std::collections::BTreeSet<String>>) -> Result<Self, DomainError> {
        if map.len() > 20 {
            return Err(DomainError::invalid("scopes", "at most 20 scope keys are allowed"));
        }
        for (k, values) in &map {
            let key_ok = !k.is_empty()
                && k.len() <= 64
                && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-');
            if !key_ok {
                return Err(DomainError::invalid("scopes", format!("`{k}` is not a valid scope key")));
            }
            if values.is_empty() || values.len() > 100 {
                return Err(DomainError::invalid("scopes", format!("`{k}` needs 1 to 100 values")));
            }
            if values.iter().any(|v| v.trim().is_empty() || v.chars().count() > 200 || v.chars().any(char::is_control))
            {
                return Err(DomainError::invalid(
                    "scopes",
                    format!("a value of `{k}` is empty, too long or has control characters"),
                ));
            }
        }
        Ok(Self(map))
    }

    /// The scopes as a map.
    pub fn as_map(&self) -> &BTreeMap<String, std::collections::BTreeSet<String>> {
        &self.0
    }
}

text_type!(
    /// A free-text description, at most 2,000 characters.
    Description
);
#[expect(clippy::derivable_impls, reason = "text_type! derives no Default: an empty name or email is invalid")]
impl Default for Description {
    fn default() -> Self {
        Self(String::new())
    }
}

impl Description {
    /// Validates a description.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        clean_text("description", s, 2000, true).map(Self)
    }
}

text_type!(
    /// A short free-text value (display name, department, title, reason), 0 to 200 characters.
    ShortText
);
impl ShortText {
    /// Validates short text for `field`; `required` refuses an empty value.
    pub fn parse(field: &str, s: &str, required: bool) -> Result<Self, DomainError> {
        clean_text(field, s, 200, !required).map(Self)
    }

    /// The empty value.
    pub fn empty() -> Self {
        Self(String::new())
    }
}

text_type!(
    /// An email address, unique per tenant case-insensitively through [`Email::key`].
    Email
);
impl Email {
    /// Validates an email address (one `@`, non-empty local part and dotted domain).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        let bad = || DomainError::invalid("email", format!("`{s}` is not a valid email address"));
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        if local.is_empty() || domain.is_empty() || domain.contains('@') || !domain.contains('.') {
            return Err(bad());
        }
        if domain.starts_with('.') || domain.ends_with('.') {
            return Err(bad());
        }
        Ok(Self(s.to_owned()))
    }

    /// The case-insensitive key that uniqueness is decided on.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// The most groups an identity provider may report for one user.
pub const MAX_SSO_GROUPS: usize = 1000;

/// The names of the groups the upstream identity provider last reported for a user
/// (`user.ssoGroups` in rules): at most [`MAX_SSO_GROUPS`] distinct names of 1 to 200
/// characters, sorted.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct SsoGroups(Vec<String>);

impl SsoGroups {
    /// Validates the names; duplicates collapse.
    pub fn new(names: impl IntoIterator<Item = String>) -> Result<Self, DomainError> {
        let mut out = Vec::new();
        for n in names {
            out.push(ShortText::parse("ssoGroups", &n, true)?.0);
        }
        out.sort();
        out.dedup();
        if out.len() > MAX_SSO_GROUPS {
            return Err(DomainError::invalid("ssoGroups", format!("at most {MAX_SSO_GROUPS} groups are allowed")));
        }
        Ok(Self(out))
    }

    /// The names.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

/// One value of a user attribute.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum AttributeValue {
    /// A single string.
    One(String),
    /// A list of strings.
    Many(Vec<String>),
}

/// Free user attributes: string keys to a string or a list of strings.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Attributes(BTreeMap<String, AttributeValue>);

impl Attributes {
    /// Validates attributes: at most 50 keys of `[A-Za-z0-9_.-]{1,64}`, values at most
    /// 1,000 characters and lists at most 100 items.
    pub fn new(map: BTreeMap<String, AttributeValue>) -> Result<Self, DomainError> {
        if map.len() > 50 {
            return Err(DomainError::invalid("attributes", "at most 50 attributes are allowed"));
        }
        for (k, v) in &map {
            let key_ok = !k.is_empty()
                && k.len() <= 64
                && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-');
            if !key_ok {
                return Err(DomainError::invalid("attributes", format!("`{k}` is not a valid attribute name")));
            }
            let values: &[String] = match v {
                AttributeValue::One(s) => std::slice::from_ref(s),
                AttributeValue::Many(list) if list.len() <= 100 => list,
                AttributeValue::Many(_) => {
                    return Err(DomainError::invalid("attributes", format!("`{k}` has more than 100 values")));
                }
            };
            if values.iter().any(|s| s.chars().count() > 1000) {
                return Err(DomainError::invalid("attributes", format!("a value of `{k}` is over 1000 characters")));
            }
        }
        Ok(Self(map))
    }

    /// The attributes as a map.
    pub fn as_map(&self) -> &BTreeMap<String, AttributeValue> {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_is_derived_from_name() {
        let name = Name::parse("name", "  Sales — EMEA  Team ").unwrap();
        assert_eq!(GroupSlug::from_name(&name).as_str(), "sales-emea-team");
        let symbols = Name::parse("name", "!!!").unwrap();
        assert_eq!(GroupSlug::from_name(&symbols).as_str(), "group");
    }

    #[test]
    fn names_compare_case_insensitively() {
        let a = Name::parse("name", "Sales").unwrap();
        let b = Name::parse("name", "sALES").unwrap();
        assert_eq!(a.key(), b.key());
        assert!(Name::parse("name", "   ").is_err());
        assert!(Name::parse("name", &"x".repeat(129)).is_err());
    }

    #[test]
    fn slugs_and_emails_are_validated() {
        assert!(GroupSlug::parse("sales-emea").is_ok());
        assert!(GroupSlug::parse("Sales").is_err());
        assert!(GroupSlug::parse(&"a".repeat(65)).is_err());
        assert!(Email::parse("Ann@Example.com").is_ok());
        assert_eq!(Email::parse("Ann@Example.com").unwrap().key(), "ann@example.com");
        for bad in ["ann", "ann@", "@x.com", "a b@x.com", "a@x", "a@@x.com"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
