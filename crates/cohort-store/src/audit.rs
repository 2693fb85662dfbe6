//! The audit log: one event per change, written in the change's transaction.

use crate::row::{int, opt_text, text, time};
use crate::sql::{Arg, Sql};
use crate::{Db, StoreError, Writer};
use cohort_core::{EventId, TenantId, Timestamp};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;
use std::ops::DerefMut;

/// An event to record with the change that caused it.
#[derive(Clone, Debug)]
pub struct NewAuditEvent {
    /// Id.
    pub id: EventId,
    /// When.
    pub at: Timestamp,
    /// Who (a user id), absent for the system itself.
    pub actor_id: Option<String>,
    /// What, e.g. `group.create`.
    pub action: String,
    /// The kind of thing changed, e.g. `group`.
    pub target_type: String,
    /// Its id.
    pub target_id: String,
    /// JSON of the thing before, if it existed.
    pub before: Option<String>,
    /// JSON of the thing after, if it still exists.
    pub after: Option<String>,
    /// The request that made the change.
    pub request_id: String,
    /// JSON object: the name of each id the event mentions, as it was when it happened.
    pub names: Option<String>,
}

/// A recorded event.
#[derive(Clone, Debug)]
pub struct AuditRecord {
    /// The event.
    pub event: NewAuditEvent,
    /// The revision the change committed at.
    pub revision: i64,
}

/// Which events to list, newest first.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Actions starting with this, e.g. `group.`.
    pub action_prefix: Option<String>,
    /// Only this actor.
    pub actor_id: Option<String>,
    /// Only this target.
    pub target_id: Option<String>,
    /// At or after this instant.
    pub from: Option<Timestamp>,
    /// Before this instant.
    pub to: Option<Timestamp>,
    /// Continue after this (revision, id).
    pub after: Option<(i64, String)>,
    /// At most this many.
    pub limit: i64,
}

fn record(row: &AnyRow) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        revision: int(row, "revision")?,
        event: NewAuditEvent {
            id: EventId::parse(&text(row, "id")?)?,
            at: time(row, "at")?,
            actor_id: opt_text(row, "actor_id")?,
            action: text(row, "action")?,
            target_type: text(row, "target_type")?,
            target_id: text(row, "target_id")?,
            before: opt_text(row, "before_json")?,
            after: opt_text(row, "after_json")?,
            request_id: text(row, "request_id")?,
            names: opt_text(row, "names_json")?,
        },
    })
}

impl<C: DerefMut<Target = AnyConnection>> Db<C> {
    /// Events, newest first.
    pub async fn list_audit(&mut self, tenant: &TenantId, f: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError> {
        let mut sql = Sql::new(
            "SELECT id, revision, at, actor_id, action, target_type, target_id, before_json, after_json, request_id, \
             names_json \
             FROM audit_events WHERE tenant_id = ",
        );
        sql.bind(Arg::Text(tenant.to_string()));
        if let Some(p) = &f.action_prefix {
            // A prefix match without LIKE, so no character in it is special.
            sql.push(" AND SUBSTR(action, 1, CAST(").bind(Arg::Int(p.chars().count() as i64));
            sql.push(" AS INTEGER)) = ").bind(Arg::Text(p.clone()));
        }
        if let Some(a) = &f.actor_id {
            sql.push(" AND actor_id = ").bind(Arg::Text(a.clone()));
        }
        if let Some(t) = &f.target_id {
            sql.push(" AND target_id = ").bind(Arg::Text(t.clone()));
        }
        if let Some(t) = f.from {
            sql.push(" AND at >= ").bind(Arg::Int(t.millis()));
        }
        if let Some(t) = f.to {
            sql.push(" AND at < ").bind(Arg::Int(t.millis()));
        }
        if let Some((rev, id)) = &f.after {
            sql.push(" AND (revision < ").bind(Arg::Int(*rev));
            sql.push(" OR (revision = ").bind(Arg::Int(*rev));
            sql.push(" AND id < ").bind(Arg::Text(id.clone())).push("))");
        }
        sql.push(" ORDER BY revision DESC, id DESC LIMIT ").bind(Arg::Int(f.limit));
        let rows = sql.query()?.fetch_all(self.conn()).await?;
        rows.iter().map(record).collect()
    }
}

/// Where the name of an id of each kind is kept: (id prefix, table, the name's expression).
/// A user's name is their display name, else their email, else their user name.
const NAMED: [(&str, &str, &str); 5] = [
    ("usr_", "users", "CASE WHEN display_name <> '' THEN display_name ELSE COALESCE(email, user_name, id) END"),
    ("grp_", "groups", "name"),
    ("rol_", "roles", "name"),
    ("res_", "resources", "name"),
    ("tok_", "api_tokens", "name"),
];

impl<C: DerefMut<Target = AnyConnection>> Db<C> {
    /// The present names of `ids` (users, groups, roles, resources, tokens) in `tenant`; an id
    /// of another kind, or of nothing that exists, is left out.
    pub async fn names_of(
        &mut self,
        tenant: &TenantId,
        ids: &[String],
    ) -> Result<BTreeMap<String, String>, StoreError> {
        let mut out = BTreeMap::new();
        for (prefix, table, name) in NAMED {
            let mine: Vec<&String> = ids.iter().filter(|i| i.starts_with(prefix)).collect();
            for chunk in mine.chunks(500) {
                let mut sql = Sql::new(&format!("SELECT id, {name} AS name FROM {table} WHERE tenant_id = "));
                sql.bind(Arg::Text(tenant.to_string())).push(" AND id IN (");
                for (i, id) in chunk.iter().enumerate() {
                    if i > 0 {
                        sql.push(", ");
                    }
                    sql.bind(Arg::Text((*id).clone()));
                }
                sql.push(")");
                for row in sql.query()?.fetch_all(self.conn()).await? {
                    out.insert(text(&row, "id")?, text(&row, "name")?);
                }
            }
        }
        Ok(out)
    }
}

impl Writer {
    /// Records audit events at this change's revision, many rows per statement.
    pub async fn insert_audit(&mut self, events: &[NewAuditEvent]) -> Result<(), StoreError> {
        let rows: Vec<Vec<Arg>> = events
            .iter()
            .map(|e| {
                vec![
                    Arg::Text(self.tenant.to_string()),
                    Arg::Text(e.id.to_string()),
                    Arg::Int(self.revision),
                    Arg::Int(e.at.millis()),
                    Arg::OptText(e.actor_id.clone()),
                    Arg::Text(e.action.clone()),
                    Arg::Text(e.target_type.clone()),
                    Arg::Text(e.target_id.clone()),
                    Arg::OptText(e.before.clone()),
                    Arg::OptText(e.after.clone()),
                    Arg::Text(e.request_id.clone()),
                    Arg::OptText(e.names.clone()),
                ]
            })
            .collect();
        self.insert_rows(
            "INSERT INTO audit_events (tenant_id, id, revision, at, actor_id, action, target_type, target_id, \
             before_json, after_json, request_id, names_json) ",
            &rows,
            "",
        )
        .await
    }
}
