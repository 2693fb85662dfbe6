//! Auto-assignment rules and what their last evaluation found.

use crate::row::{boolean, int, opt_text, opt_time, text, time};
use crate::sql::{Arg, Sql};
use crate::user::{NAMES as USER_COLUMNS, user};
use crate::{Db, StoreError, Writer};
use cohort_core::model::{Rule, User};
use cohort_core::{GroupId, RuleId, TenantId, Timestamp, UserId};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use std::ops::DerefMut;

const COLUMNS: &str = "SELECT id, group_id, expression, paused, created_by, created_at, updated_at, \
                       last_evaluated_at, matched, last_error FROM rules";

fn rule(row: &AnyRow) -> Result<Rule, StoreError> {
    Ok(Rule {
        id: RuleId::parse(&text(row, "id")?)?,
        group_id: GroupId::parse(&text(row, "group_id")?)?,
        expression: text(row, "expression")?,
        paused: boolean(row, "paused")?,
        created_by: opt_text(row, "created_by")?.map(|u| UserId::parse(&u)).transpose()?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
        last_evaluated_at: opt_time(row, "last_evaluated_at")?,
        matched: int(row, "matched")?,
        last_error: opt_text(row, "last_error")?,
    })
}

/// What one evaluation found for a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleOutcome {
    /// The rule.
    pub id: RuleId,
    /// When it was evaluated.
    pub at: Timestamp,
    /// How many users it now matches.
    pub matched: i64,
    /// Why it could not be decided for a user, if so.
    pub last_error: Option<String>,
}

impl<C: DerefMut<Target = AnyConnection>> Db<C> {
    /// Every rule of the tenant (`group`: of one group), oldest first.
    pub async fn list_rules(&mut self, tenant: &TenantId, group: Option<&GroupId>) -> Result<Vec<Rule>, StoreError> {
        let mut sql = Sql::new(COLUMNS);
        sql.push(" WHERE tenant_id = ").bind(Arg::Text(tenant.to_string()));
        if let Some(g) = group {
            sql.push(" AND group_id = ").bind(Arg::Text(g.to_string()));
        }
        sql.push(" ORDER BY created_at, id");
        let rows = sql.query()?.fetch_all(self.conn()).await?;
        rows.iter().map(rule).collect()
    }

    /// One rule.
    pub async fn get_rule(&mut self, tenant: &TenantId, id: &RuleId) -> Result<Option<Rule>, StoreError> {
        let row = sqlx::query(&format!("{COLUMNS} WHERE tenant_id = $1 AND id = $2"))
            .bind(tenant.as_str())
            .bind(id.as_str())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(rule).transpose()
    }

    /// Every user of the tenant, for evaluating a rule over all of them.
    pub async fn all_users(&mut self, tenant: &TenantId) -> Result<Vec<User>, StoreError> {
        let rows = self
            .fetch_json(USER_COLUMNS, "FROM users WHERE tenant_id = $1", vec![Arg::Text(tenant.to_string())])
            .await?;
        rows.iter().map(user).collect()
    }
}

impl Writer {
    /// Inserts a rule, or replaces its expression, pause and state.
    pub async fn put_rule(&mut self, r: &Rule) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        sqlx::query(
            "INSERT INTO rules (tenant_id, id, group_id, expression, paused, created_by, created_at, updated_at, \
             last_evaluated_at, matched, last_error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (tenant_id, id) DO UPDATE SET expression = excluded.expression, paused = excluded.paused, \
             updated_at = excluded.updated_at, last_evaluated_at = excluded.last_evaluated_at, \
             matched = excluded.matched, last_error = excluded.last_error",
        )
        .bind(tenant)
        .bind(r.id.as_str())
        .bind(r.group_id.as_str())
        .bind(r.expression.clone())
        .bind(r.paused)
        .bind(r.created_by.as_ref().map(ToString::to_string))
        .bind(r.created_at.millis())
        .bind(r.updated_at.millis())
        .bind(r.last_evaluated_at.map(|t| t.millis()))
        .bind(r.matched)
        .bind(r.last_error.clone())
        .execute(self.tx())
        .await?;
        Ok(())
    }

    /// Records what evaluations found.
    pub async fn record_rule_outcomes(&mut self, outcomes: &[RuleOutcome]) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        for o in outcomes {
            sqlx::query(
                "UPDATE rules SET last_evaluated_at = $3, matched = $4, last_error = $5 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant.clone())
            .bind(o.id.as_str())
            .bind(o.at.millis())
            .bind(o.matched)
            .bind(o.last_error.clone())
            .execute(self.tx())
            .await?;
        }
        Ok(())
    }

    /// Notes that every active rule of the tenant was just evaluated (for one user).
    pub async fn mark_rules_evaluated(&mut self, at: Timestamp) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        sqlx::query("UPDATE rules SET last_evaluated_at = $2 WHERE tenant_id = $1 AND paused = $3")
            .bind(tenant)
            .bind(at.millis())
            .bind(false)
            .execute(self.tx())
            .await?;
        Ok(())
    }

    /// Deletes a rule (the memberships it brought are the caller's to settle).
    pub async fn delete_rule(&mut self, id: &RuleId) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        let done = sqlx::query("DELETE FROM rules WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id.as_str())
            .execute(self.tx())
            .await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }
}
