//! The time-zone forms: a person's own zone on their page (else the tenant's, which an admin
//! sets on the settings page, else UTC), sent to the same services as `PATCH /users/{id}` and
//! `PUT /settings` by the pages' own handlers.

use super::frame::user_url;
use super::layout::{described, field_error, section_url};
use crate::sign_in::Signed;
use cohort_core::{Timestamp, ZoneName};
use cohort_service::error::ServiceError;
use maud::{Markup, html};
use serde::Deserialize;

/// The zone form of either page.
#[derive(Deserialize)]
pub(super) struct ZoneForm {
    #[serde(default)]
    time_zone: String,
}

impl ZoneForm {
    /// The zone chosen, or none for "the default".
    pub(super) fn chosen(&self) -> Result<Option<ZoneName>, ServiceError> {
        chosen(&self.time_zone)
    }
}

fn chosen(raw: &str) -> Result<Option<ZoneName>, ServiceError> {
    match raw.trim() {
        "" => Ok(None),
        z => Ok(Some(ZoneName::parse("timeZone", z)?)),
    }
}

/// A select of every zone, grouped by region, starting on the default (`default_label`).
fn select(chosen: Option<&ZoneName>, default_label: &str, now: &str, errors: &[(String, String)]) -> Markup {
    let mut names: Vec<String> = ZoneName::names().collect();
    names.sort();
    let region = |n: &str| n.split_once('/').map_or("Other", |(r, _)| r).to_owned();
    let mut regions: Vec<(String, Vec<String>)> = Vec::new();
    for n in names {
        match regions.last_mut() {
            Some((r, list)) if *r == region(&n) => list.push(n),
            _ => regions.push((region(&n), vec![n])),
        }
    }
    regions.sort_by(|a, b| (a.0 == "Other").cmp(&(b.0 == "Other")).then(a.0.cmp(&b.0)));
    let is = |n: &str| chosen.is_some_and(|c| c.as_str() == n);
    html! {
        div.field {
            label for="time-zone" { "Time zone" }
            select #time-zone name="time_zone" aria-describedby=(described(errors, "timeZone").map_or_else(|| "time-zone-hint".to_owned(), |e| format!("time-zone-hint {e}"))) {
                option value="" selected[chosen.is_none()] { (default_label) }
                @for (r, list) in &regions {
                    optgroup label=(r) {
                        @for n in list { option value=(n) selected[is(n)] { (n) } }
                    }
                }
            }
            p.hint #time-zone-hint { "Times in the console are shown in this zone, its abbreviation beside each. Now: " (now) "." }
            (field_error(errors, "timeZone"))
        }
    }
}

/// The time-zone form of a person's own page.
pub(super) fn own_section(
    signed: &Signed,
    user: &cohort_core::model::User,
    now: Timestamp,
    errors: &[(String, String)],
) -> Markup {
    let action = format!("{}/time-zone", user_url(&signed.tenant, &user.id));
    html! {
        section #time-zone-section aria-labelledby="time-zone-title" {
            h2 #time-zone-title { "Time zone" }
            form method="post" action=(action) {
                (signed.csrf_field())
                (select(user.time_zone.as_ref(), "The tenant's", &signed.time.when(now), errors))
                button type="submit" { "Save time zone" }
            }
        }
    }
}

/// The tenant's default time zone, on the settings page.
pub(super) fn tenant_section(
    signed: &Signed,
    zone: Option<&ZoneName>,
    now: Timestamp,
    errors: &[(String, String)],
) -> Markup {
    let action = format!("{}/time-zone", section_url(&signed.tenant, "sign-in"));
    html! {
        section.card aria-labelledby="tenant-zone-title" {
            h2 #tenant-zone-title { "Default time zone" }
            p.muted { "The console shows times in this zone to everyone who has not chosen their own on their page." }
            form method="post" action=(action) {
                (signed.csrf_field())
                (select(zone, "UTC (no default)", &signed.time.when(now), errors))
                button type="submit" { "Save default time zone" }
            }
        }
    }
}
