//! Audit events as sentences in names: "Ana Martin added Bruno Silva to France as member,
//! until 12 Jan 2027 — reason: cover for Q1". Each name is the one recorded when the event
//! happened, with the present one beside it when it changed since, a link to the object while
//! it exists and its id in the link's `title`; a deleted object says so. An update lists the
//! fields it changed, before and after.

use super::layout::section_url;
use crate::local_time::LocalTime;
use cohort_core::Timestamp;
use cohort_store::AuditRecord;
use maud::{Markup, html};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The present names of what a page of events mentions; an id missing from it names
/// something deleted since.
pub(super) type Present = BTreeMap<String, String>;

/// One event, read for its sentence.
struct Event<'a> {
    tenant: &'a str,
    time: &'a LocalTime,
    record: &'a AuditRecord,
    recorded: BTreeMap<String, String>,
    present: &'a Present,
    before: Map<String, Value>,
    after: Map<String, Value>,
}

fn object(body: Option<&str>) -> Map<String, Value> {
    match body.and_then(|b| serde_json::from_str(b).ok()) {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

impl Event<'_> {
    /// A field of the body that says what the event is about: after, else before.
    fn field(&self, key: &str) -> Option<&Value> {
        self.after.get(key).or_else(|| self.before.get(key)).filter(|v| !v.is_null())
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.field(key).and_then(Value::as_str).filter(|s| !s.is_empty())
    }

    /// The name `id` had when the event happened: recorded with it, else held in its own body
    /// (an object the event deleted), else the present one.
    fn name_then(&self, id: &str) -> Option<String> {
        let own = (id == self.record.event.target_id)
            .then(|| self.text("name").or_else(|| self.text("displayName")).or_else(|| self.text("email")))
            .flatten();
        self.recorded.get(id).cloned().or_else(|| own.map(str::to_owned)).or_else(|| self.present.get(id).cloned())
    }

    /// A named object: a link while it exists (its id in the `title`), its present name beside
    /// the recorded one when it changed, and "(deleted)" when it is gone.
    fn thing(&self, id: &str) -> Markup {
        let then = self.name_then(id);
        let now = self.present.get(id);
        let shown = then.clone().or_else(|| now.cloned()).unwrap_or_else(|| kind(id).to_owned());
        html! {
            @match now {
                Some(now) => {
                    a href=(link(self.tenant, id)) title=(id) { (shown) }
                    @if then.as_ref().is_some_and(|t| t != now) { " (now " (now) ")" }
                }
                None => { span.gone title=(id) { (shown) } " (deleted)" }
            }
        }
    }

    /// Who acted.
    fn actor(&self) -> Markup {
        match self.record.event.actor_id.as_deref() {
            None => html! { "cohort" },
            Some(id) if id.starts_with("app_") => html! { "the app " span title=(id) { (id) } },
            Some(id) => self.thing(id),
        }
    }

    fn target(&self) -> Markup {
        self.thing(&self.record.event.target_id)
    }

    /// The object a field names by id.
    fn named(&self, key: &str) -> Markup {
        match self.text(key) {
            Some(id) => self.thing(id),
            None => html! { "something" },
        }
    }

    /// The fields an update changed: `name “France” → “Francia”`.
    fn changes(&self) -> Markup {
        let skip = ["updatedAt", "createdAt", "id"];
        let changed: Vec<(&String, Option<&Value>, &Value)> = self
            .after
            .iter()
            .filter(|(k, v)| !skip.contains(&k.as_str()) && self.before.get(*k) != Some(*v))
            .map(|(k, v)| (k, self.before.get(k), v))
            .collect();
        html! {
            @if !changed.is_empty() {
                ": "
                @for (i, (k, old, new)) in changed.iter().enumerate() {
                    @if i > 0 { "; " }
                    (words_of_key(k)) " "
                    @if let Some(old) = old { (self.value(old)) " → " }
                    (self.value(new))
                }
            }
        }
    }

    /// A value in words: text quoted, ids as names, lists joined, times as times.
    fn value(&self, v: &Value) -> Markup {
        match v {
            Value::Null => html! { "none" },
            Value::Bool(b) => html! { @if *b { "on" } @else { "off" } },
            Value::Number(n) => html! { (n.to_string()) },
            Value::String(s) if s.is_empty() => html! { "empty" },
            Value::String(s) if cohort_service::audit::mentioned_id(s) => self.thing(s),
            Value::String(s) => match instant(s) {
                Some(t) => html! { (self.time.when(t)) },
                None => html! { "“" (s) "”" },
            },
            Value::Array(items) if items.is_empty() => html! { "none" },
            Value::Array(items) => html! {
                @for (i, item) in items.iter().enumerate() { @if i > 0 { ", " } (self.value(item)) }
            },
            Value::Object(fields) => html! {
                @for (i, (k, item)) in fields.iter().enumerate() { @if i > 0 { "; " } (k) ": " (self.value(item)) }
            },
        }
    }

    /// The sentence, without who refused what.
    fn words(&self, action: &str) -> Markup {
        let (a, t) = (self.actor(), self.target());
        let kind = self.record.event.target_type.as_str();
        let thing = match kind {
            "group" => "the group",
            "user" => "the user",
            "role" => "the role",
            "resource" => "the resource",
            "token" => "the token",
            _ => "",
        };
        let level = self.text("level").unwrap_or("a level");
        match action {
            "group.create" | "role.create" | "resource.create" | "user.create" | "token.create" => {
                html! { (a) " created " (thing) " " (t) }
            }
            "group.update" | "role.update" | "resource.update" | "user.update" => {
                html! { (a) " changed " (thing) " " (t) (self.changes()) }
            }
            "group.delete" | "role.delete" | "resource.delete" | "user.delete" => {
                html! { (a) " deleted " (thing) " " (t) }
            }
            "group.archive" => html! { (a) " archived " (t) },
            "group.unarchive" => html! { (a) " unarchived " (t) },
            "auto_assignment.rule.create" => {
                html! { (a) " added a rule to " (t) ": " code { (self.text("expression").unwrap_or("?")) } }
            }
            "auto_assignment.rule.update" => html! { (a) " changed a rule of " (t) (self.changes()) },
            "auto_assignment.error" => html! { "A rule of " (t) " failed: " (self.text("error").unwrap_or("?")) },
            "user.suspend" => html! { (a) " suspended " (t) },
            "user.activate" => html! { (a) " reactivated " (t) },
            "token.regenerate" => html! { (a) " regenerated the token " (t) },
            "token.revoke" => html! { (a) " revoked the token " (t) },
            "group.nest" => html! { (a) " nested " (t) " under " (self.named("parentId")) },
            "group.unnest" => html! { (a) " took " (t) " out of " (self.named("parentId")) },
            "group.scopes.set" => html! { (a) " set the data scopes of " (t) (self.changes()) },
            "group.role.assign" | "user.role.assign" => {
                html! { (a) " gave " (t) " the role " (self.named("id")) }
            }
            "group.role.unassign" | "user.role.unassign" => {
                html! { (a) " took the role " (self.named("id")) " from " (t) }
            }
            "group.grant" | "user.grant" => {
                html! { (a) " granted " (t) " " (level) " on " (self.named("resourceId")) }
            }
            "group.revoke" | "user.revoke" => {
                html! { (a) " revoked " (level) " on " (self.named("resourceId")) " from " (t) }
            }
            "membership.add" => html! {
                (a) " added " (self.named("userId")) " to " (t) " as " (self.text("role").unwrap_or("member"))
                @if let Some(until) = self.text("expiresAt").and_then(instant) { ", until " (self.time.when(until)) }
                @if let Some(reason) = self.text("reason") { " — reason: " (reason) }
            },
            "membership.update" => {
                html! { (a) " changed " (self.named("userId")) "’s membership of " (t) (self.changes()) }
            }
            "membership.remove" => html! { (a) " removed " (self.named("userId")) " from " (t) },
            "membership.expire" => html! { (self.named("userId")) "’s membership of " (t) " expired" },
            "auto_assignment.add" => html! { "A rule of " (t) " added " (self.named("userId")) },
            "auto_assignment.remove" => html! { "A rule of " (t) " removed " (self.named("userId")) },
            "auto_assignment.rule.delete" => html! { (a) " deleted a rule of " (t) },
            "sso.add" => html! { "Signing in through the identity provider put " (self.named("userId")) " in " (t) },
            "sso.remove" => {
                html! { "Signing in through the identity provider took " (self.named("userId")) " out of " (t) }
            }
            "sso.skip" => {
                html! { "Signing in through the identity provider left " (self.named("userId")) " out of " (t) }
            }
            "sso_mapping.add" => html! {
                (a) " mapped the provider group “" (self.text("providerGroup").unwrap_or("?")) "” onto " (t)
            },
            "sso_mapping.remove" => html! {
                (a) " unmapped the provider group “" (self.text("providerGroup").unwrap_or("?")) "” from " (t)
            },
            "session.create" => html! { (a) " signed in to the console" },
            "session.delete" => html! { (a) " signed out of the console" },
            "password.set" => html! { (t) " set their password" },
            "invitation.create" => html! { (a) " invited " (t) " to set a password" },
            "identity_provider.put" => html! { (a) " set up the identity provider" (self.changes()) },
            "identity_provider.delete" => html! { (a) " removed the identity provider" },
            "resource_type.create" => html! { (a) " created the resource type " (self.text("name").unwrap_or("?")) },
            "resource_type.delete" => html! { (a) " deleted the resource type " (self.text("name").unwrap_or("?")) },
            "tenant.create" => html! { (a) " created the tenant" },
            "tenant.user_types" => html! { (a) " changed the tenant’s user types" (self.changes()) },
            "tenant.time_zone" => html! { (a) " changed the tenant’s default time zone" (self.changes()) },
            other => html! { (a) ": " code { (other) } " on " (t) },
        }
    }
}

/// An RFC 3339 instant, as the log's bodies write times.
fn instant(s: &str) -> Option<Timestamp> {
    (s.len() >= 20 && s.as_bytes().get(10) == Some(&b'T'))
        .then(|| cohort_service::format::parse_rfc3339("at", s).ok())
        .flatten()
}

/// `displayName` as `display name`.
fn words_of_key(key: &str) -> String {
    let mut out = String::new();
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push(' ');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// What an id names, when nothing else is known of it.
fn kind(id: &str) -> &'static str {
    match id.get(..4) {
        Some("usr_") => "a user",
        Some("grp_") => "a group",
        Some("rol_") => "a role",
        Some("res_") => "a resource",
        Some("tok_") => "a token",
        _ => "something",
    }
}

/// Where an object's page is.
fn link(tenant: &str, id: &str) -> String {
    match id.get(..4) {
        Some("usr_") => section_url(tenant, &format!("users/{id}")),
        Some("grp_") => section_url(tenant, &format!("groups/{id}")),
        Some("res_") => section_url(tenant, &format!("resources/{id}")),
        Some("tok_") => section_url(tenant, "tokens"),
        _ => section_url(tenant, "roles"),
    }
}

/// An event as a sentence in names.
pub(super) fn sentence(tenant: &str, time: &LocalTime, record: &AuditRecord, present: &Present) -> Markup {
    let e = &record.event;
    let recorded = e.names.as_deref().and_then(|n| serde_json::from_str(n).ok()).unwrap_or_default();
    let mut event = Event {
        tenant,
        time,
        record,
        recorded,
        present,
        before: object(e.before.as_deref()),
        after: object(e.after.as_deref()),
    };
    match e.action.strip_suffix(".refused") {
        Some(action) => {
            let reason = event.after.get("reason").and_then(Value::as_str).unwrap_or_default().to_owned();
            event.after = match event.after.get("attempted") {
                Some(Value::Object(m)) => m.clone(),
                _ => Map::new(),
            };
            html! { strong { "Refused: " } (event.words(action)) " — " (reason) }
        }
        None => event.words(&e.action),
    }
}
