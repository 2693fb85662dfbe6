//! The audit log: reading it, and the names each event records of what it mentions.

use super::{Ctx, Services};
use crate::error::ServiceResult;
use cohort_core::TenantId;
use cohort_core::permission::CohortPermission as P;
use cohort_store::{AuditFilter, AuditRecord, NewAuditEvent, Writer};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Which events to read.
pub type AuditQuery = AuditFilter;

/// The kinds of id an event may mention by name.
const NAMED_PREFIXES: [&str; 5] = ["usr_", "grp_", "rol_", "res_", "tok_"];

/// Whether `s` looks like an id of a kind that has a name.
pub fn mentioned_id(s: &str) -> bool {
    NAMED_PREFIXES.iter().any(|p| {
        s.strip_prefix(p)
            .is_some_and(|rest| (12..=40).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
    })
}

fn ids_in(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) if mentioned_id(s) => {
            out.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|i| ids_in(i, out)),
        Value::Object(fields) => fields.values().for_each(|f| ids_in(f, out)),
        _ => {}
    }
}

/// The ids of named things an event mentions: its actor, its target and every id in its bodies.
pub fn mentioned(e: &NewAuditEvent) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for id in e.actor_id.iter().chain([&e.target_id]) {
        if mentioned_id(id) {
            out.insert(id.clone());
        }
    }
    for body in [&e.before, &e.after].into_iter().flatten() {
        if let Ok(v) = serde_json::from_str::<Value>(body) {
            ids_in(&v, &mut out);
        }
    }
    out
}

/// Records in each event the names of what it mentions, as the change leaves them (its own
/// writes included: a group made in the change is named; one it deletes keeps the name its
/// `before` body holds).
pub(crate) async fn name_events(w: &mut Writer, tenant: &TenantId, events: &mut [NewAuditEvent]) -> ServiceResult<()> {
    let each: Vec<BTreeSet<String>> = events.iter().map(mentioned).collect();
    let all: Vec<String> = each.iter().flatten().cloned().collect::<BTreeSet<_>>().into_iter().collect();
    if all.is_empty() {
        return Ok(());
    }
    let names = w.names_of(tenant, &all).await?;
    for (e, ids) in events.iter_mut().zip(each) {
        let mine: BTreeMap<&String, &String> = ids.iter().filter_map(|i| names.get_key_value(i)).collect();
        if !mine.is_empty() {
            e.names = serde_json::to_string(&mine).ok();
        }
    }
    Ok(())
}

impl Services {
    /// Audit events, newest first: needs `cohort:audit.read`.
    pub async fn list_audit(&self, ctx: &Ctx, filter: &AuditQuery) -> ServiceResult<Vec<AuditRecord>> {
        let tenant = ctx.tenant();
        Ok(self.read_holding(ctx, P::AuditRead).await?.list_audit(tenant, filter).await?)
    }

    /// The present names of what `records` mention; an id missing from the answer names
    /// something deleted since. Needs `cohort:audit.read`, as the events do.
    pub async fn present_names(&self, ctx: &Ctx, records: &[AuditRecord]) -> ServiceResult<BTreeMap<String, String>> {
        let ids: BTreeSet<String> = records.iter().flat_map(|r| mentioned(&r.event)).collect();
        let ids: Vec<String> = ids.into_iter().collect();
        Ok(self.read_holding(ctx, P::AuditRead).await?.names_of(ctx.tenant(), &ids).await?)
    }
}
