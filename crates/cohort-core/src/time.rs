//! Time as the domain sees it: milliseconds since the Unix epoch, from an injected clock.

/// An instant, in milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Milliseconds since the epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// The `updatedAt` of a change made at `self` to something last changed at `prior`: never
    /// earlier than `self` and always after `prior`, so every change gives a new version (two
    /// changes within one millisecond, or a clock that stepped back, included).
    pub fn next_after(self, prior: Timestamp) -> Timestamp {
        Timestamp(self.0.max(prior.0.saturating_add(1)))
    }
}

/// Where "now" comes from, so tests can fix it.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// A time zone people read times in, by its name in the IANA database (`Europe/Paris`),
/// known to the copy of that database cohort carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneName(String);

impl ZoneName {
    /// The longest name accepted (the longest in the database has 32 characters).
    pub const MAX_LEN: usize = 64;

    /// Parses a zone's name, refusing one the database does not know; the name is kept as
    /// the database spells it (`europe/paris` becomes `Europe/Paris`).
    pub fn parse(field: &str, s: &str) -> Result<Self, crate::DomainError> {
        let s = s.trim();
        let unknown =
            || crate::DomainError::invalid(field, format!("`{s}` is not a time zone (try a name like `Europe/Paris`)"));
        if s.is_empty()
            || s.len() > Self::MAX_LEN
            || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b))
        {
            return Err(unknown());
        }
        let zone = jiff::tz::db().get(s).map_err(|_| unknown())?;
        Ok(Self(zone.iana_name().unwrap_or(s).to_owned()))
    }

    /// Coordinated Universal Time, where no one chose a zone.
    pub fn utc() -> Self {
        Self("UTC".to_owned())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Every zone the database knows, by name, in its order (not sorted).
    pub fn names() -> impl Iterator<Item = String> {
        jiff::tz::db().available().map(|n| n.as_str().to_owned())
    }

    /// The zone, for converting instants.
    pub fn zone(&self) -> jiff::tz::TimeZone {
        jiff::tz::db().get(&self.0).unwrap_or(jiff::tz::TimeZone::UTC)
    }
}

impl std::fmt::Display for ZoneName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::ZoneName;

    #[test]
    fn a_zone_is_named_as_the_database_spells_it_and_an_unknown_one_is_refused() {
        assert_eq!(ZoneName::parse("timeZone", " europe/paris ").unwrap().as_str(), "Europe/Paris");
        assert_eq!(ZoneName::parse("timeZone", "UTC").unwrap().as_str(), "UTC");
        for bad in ["", "Mars/Olympus", "Europe/../../etc/passwd", &"A".repeat(65), "Europe/ Paris", "+01:00"] {
            let e = ZoneName::parse("timeZone", bad).unwrap_err();
            assert!(e.to_string().contains("not a time zone"), "{bad:?}: {e}");
        }
        assert!(ZoneName::names().count() > 300);
        let paris = ZoneName::parse("timeZone", "Europe/Paris").unwrap().zone();
        let winter = jiff::Timestamp::from_second(1_700_000_000).unwrap().to_zoned(paris);
        assert_eq!(winter.offset().seconds(), 3600);
    }
}
