//! Times as a person reads them: in the zone they chose (else their tenant's, else UTC),
//! with the zone said beside every time and every time field. Instants stay UTC everywhere
//! else (the REST and SCIM answers, the store, the audit bodies).

use cohort_core::{DomainError, Timestamp, ZoneName};
use jiff::civil::DateTime;
use jiff::tz::{Disambiguation, TimeZone};

/// The zone a page says times in.
#[derive(Clone, Debug)]
pub(crate) struct LocalTime {
    name: ZoneName,
    zone: TimeZone,
}

impl Default for LocalTime {
    fn default() -> Self {
        Self::new(ZoneName::utc())
    }
}

impl LocalTime {
    /// Times said in `name`.
    pub(crate) fn new(name: ZoneName) -> Self {
        Self { zone: name.zone(), name }
    }

    /// The zone's name (`Europe/Paris`), for labels.
    pub(crate) fn name(&self) -> &str {
        self.name.as_str()
    }

    /// An instant as people read it, with the zone's abbreviation or offset: `2026-12-07 23:32
    /// CET`.
    pub(crate) fn when(&self, t: Timestamp) -> String {
        match jiff::Timestamp::from_millisecond(t.millis()) {
            Ok(at) => at.to_zoned(self.zone.clone()).strftime("%Y-%m-%d %H:%M %Z").to_string(),
            Err(_) => cohort_service::format::rfc3339(t),
        }
    }

    /// The value a `datetime-local` field shows for an instant, in the zone.
    pub(crate) fn field_value(&self, t: Timestamp) -> String {
        match jiff::Timestamp::from_millisecond(t.millis()) {
            Ok(at) => at.to_zoned(self.zone.clone()).strftime("%Y-%m-%dT%H:%M").to_string(),
            Err(_) => String::new(),
        }
    }

    /// A `datetime-local` value read in the zone, or nothing when empty. A time a clock change
    /// skips is moved forward by the gap's length (02:30 on a night that goes from 02:00 to
    /// 03:00 is 03:30); one it repeats is the earlier of the two.
    pub(crate) fn parse(&self, field: &str, raw: &str) -> Result<Option<Timestamp>, DomainError> {
        let v = raw.trim();
        if v.is_empty() {
            return Ok(None);
        }
        let bad = || DomainError::invalid(field, format!("`{v}` is not a date and time"));
        if v.len() > 32 {
            return Err(bad());
        }
        let civil: DateTime = v.parse().map_err(|_| bad())?;
        let at = self.zone.to_ambiguous_zoned(civil).disambiguate(Disambiguation::Compatible).map_err(|_| bad())?;
        Ok(Some(Timestamp(at.timestamp().as_millisecond())))
    }
}

#[cfg(test)]
mod tests {
    use super::LocalTime;
    use cohort_core::{Timestamp, ZoneName};

    fn zone(name: &str) -> LocalTime {
        LocalTime::new(ZoneName::parse("timeZone", name).unwrap())
    }

    #[test]
    fn a_time_is_said_and_read_in_the_zone_with_its_abbreviation() {
        // 2027-01-12T09:30:00Z
        let t = Timestamp(1_799_746_200_000);
        assert_eq!(LocalTime::default().when(t), "2027-01-12 09:30 UTC");
        assert_eq!(zone("Europe/Paris").when(t), "2027-01-12 10:30 CET");
        assert_eq!(zone("America/Sao_Paulo").when(t), "2027-01-12 06:30 -03");
        let paris = zone("Europe/Paris");
        assert_eq!(paris.field_value(t), "2027-01-12T10:30");
        assert_eq!(paris.parse("expiresAt", "2027-01-12T10:30").unwrap(), Some(t));
        assert_eq!(LocalTime::default().parse("expiresAt", "2027-01-12T09:30").unwrap(), Some(t));
        assert_eq!(paris.parse("expiresAt", " ").unwrap(), None);
        for bad in ["tomorrow", "2027-13-01T00:00", &"9".repeat(40)] {
            assert!(paris.parse("expiresAt", bad).is_err(), "{bad}");
        }
        // 02:30 on the morning Paris skips from 02:00 to 03:00 is read as 03:30 CEST.
        let skipped = paris.parse("expiresAt", "2027-03-28T02:30").unwrap().unwrap();
        assert_eq!(paris.when(skipped), "2027-03-28 03:30 CEST");
    }
}
