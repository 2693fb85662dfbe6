//! Users.

use crate::row::{Columns, opt_text, text, time};
use crate::sql::{Arg, Sql, contains_pattern};
use crate::{After, Db, StoreError, Writer};
use cohort_core::TenantId;
use cohort_core::model::{User, UserStatus};
use cohort_core::name::{AttributeValue, Attributes, Email, Name, ShortText, SsoGroups, UserType};
use cohort_core::{UserId, ZoneName};
use serde_json::{Map, Value};
use sqlx::AnyConnection;
use std::collections::BTreeMap;
use std::ops::DerefMut;

/// Which users to list.
#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    /// Matches email or display name, case-insensitively.
    pub q: Option<String>,
    /// Only users with this status.
    pub status: Option<UserStatus>,
    /// Continue after this email key and id.
    pub after: Option<After>,
    /// At most this many.
    pub limit: i64,
}

/// A user's attributes as JSON, each a string or a list of strings: how they are stored, and
/// the one shape every face and audit body shows them in.
pub fn attributes_json(a: &Attributes) -> Value {
    let map: Map<String, Value> = a
        .as_map()
        .iter()
        .map(|(k, v)| {
            let v = match v {
                AttributeValue::One(s) => Value::String(s.clone()),
                AttributeValue::Many(l) => Value::Array(l.iter().cloned().map(Value::String).collect()),
            };
            (k.clone(), v)
        })
        .collect();
    Value::Object(map)
}

fn encode_attributes(a: &Attributes) -> String {
    attributes_json(a).to_string()
}

fn encode_sso_groups(g: &SsoGroups) -> String {
    Value::Array(g.as_slice().iter().cloned().map(Value::String).collect()).to_string()
}

fn decode_sso_groups(s: &str) -> Result<SsoGroups, StoreError> {
    let names: Vec<String> = serde_json::from_str(s).map_err(|_| StoreError::Corrupt("sso_groups".to_owned()))?;
    Ok(SsoGroups::new(names)?)
}

fn decode_attributes(s: &str) -> Result<Attributes, StoreError> {
    let corrupt = || StoreError::Corrupt("attributes".to_owned());
    let Value::Object(map) = serde_json::from_str::<Value>(s).map_err(|_| corrupt())? else { return Err(corrupt()) };
    let mut out = BTreeMap::new();
    for (k, v) in map {
        let v = match v {
            Value::String(s) => AttributeValue::One(s),
            Value::Array(items) => AttributeValue::Many(
                items
                    .into_iter()
                    .map(|i| i.as_str().map(str::to_owned).ok_or_else(corrupt))
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err(corrupt()),
        };
        out.insert(k, v);
    }
    Ok(Attributes::new(out)?)
}

pub(crate) fn user(row: &impl Columns) -> Result<User, StoreError> {
    Ok(User {
        id: UserId::parse(&text(row, "id")?)?,
        email: match text(row, "email")?.as_str() {
            "" => None,
            e => Some(Email::parse(e)?),
        },
        user_name: opt_text(row, "user_name")?.map(|n| Name::parse("userName", &n)).transpose()?,
        display_name: ShortText::parse("displayName", &text(row, "display_name")?, false)?,
        department: ShortText::parse("department", &text(row, "department")?, false)?,
        title: ShortText::parse("title", &text(row, "title")?, false)?,
        attributes: decode_attributes(&text(row, "attributes")?)?,
        sso_groups: decode_sso_groups(&text(row, "sso_groups")?)?,
        status: UserStatus::parse("status", &text(row, "status")?)?,
        user_type: UserType::parse("type", &text(row, "user_type")?)?,
        external_id: opt_text(row, "external_id")?,
        // A zone a newer database renamed away reads as none (the default), not as a broken row.
        time_zone: opt_text(row, "time_zone")?.and_then(|z| ZoneName::parse("timeZone", &z).ok()),
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

/// The columns a user is read from.
pub(crate) const NAMES: &[&str] = &[
    "id",
    "email",
    "user_name",
    "display_name",
    "department",
    "title",
    "attributes",
    "sso_groups",
    "status",
    "user_type",
    "external_id",
    "time_zone",
    "created_at",
    "updated_at",
];

/// `SELECT <the user columns> FROM users`.
pub(crate) fn select() -> String {
    format!("SELECT {} FROM users", NAMES.join(", "))
}

impl<C: DerefMut<Target = AnyConnection>> Db<C> {
    /// One user.
    pub async fn get_user(&mut self, tenant: &TenantId, id: &UserId) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(&format!("{} WHERE tenant_id = $1 AND id = $2", select()))
            .bind(tenant.as_str())
            .bind(id.as_str())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(user).transpose()
    }

    /// The user with this email, compared case-insensitively.
    pub async fn user_by_email(&mut self, tenant: &TenantId, email: &Email) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(&format!("{} WHERE tenant_id = $1 AND email_key = $2", select()))
            .bind(tenant.as_str())
            .bind(email.key())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(user).transpose()
    }

    /// The user with this login name, compared case-insensitively.
    pub async fn user_by_user_name(&mut self, tenant: &TenantId, name: &Name) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(&format!("{} WHERE tenant_id = $1 AND user_name_key = $2", select()))
            .bind(tenant.as_str())
            .bind(name.key())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(user).transpose()
    }

    /// The users of `ids` that exist, in no order.
    pub async fn users_by_ids(&mut self, tenant: &TenantId, ids: &[&UserId]) -> Result<Vec<User>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(&select());
        sql.push(" WHERE tenant_id = ").bind(Arg::Text(tenant.to_string())).push(" AND id IN (");
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(Arg::Text(id.to_string()));
        }
        sql.push(")");
        let rows = sql.query()?.fetch_all(self.conn()).await?;
        rows.iter().map(user).collect()
    }

    /// Users by email, filtered.
    pub async fn list_users(&mut self, tenant: &TenantId, f: &UserFilter) -> Result<Vec<User>, StoreError> {
        let mut sql = Sql::new(&select());
        sql.push(" WHERE tenant_id = ").bind(Arg::Text(tenant.to_string()));
        if let Some(q) = &f.q {
            let pattern = contains_pattern(q);
            // Users without an email have a key of their own (`~` and the id): not searchable.
            sql.push(" AND ((email <> '' AND email_key LIKE ").bind(Arg::Text(pattern.clone()));
            sql.push(" ESCAPE '\\') OR LOWER(display_name) LIKE ").bind(Arg::Text(pattern)).push(" ESCAPE '\\')");
        }
        if let Some(s) = f.status {
            sql.push(" AND status = ").bind(Arg::Text(s.as_str().to_owned()));
        }
        if let Some(a) = &f.after {
            sql.push(" AND (email_key > ").bind(Arg::Text(a.key.clone()));
            sql.push(" OR (email_key = ").bind(Arg::Text(a.key.clone()));
            sql.push(" AND id > ").bind(Arg::Text(a.id.clone())).push("))");
        }
        sql.push(" ORDER BY email_key, id LIMIT ").bind(Arg::Int(f.limit));
        let rows = sql.query()?.fetch_all(self.conn()).await?;
        rows.iter().map(user).collect()
    }
}

impl Writer {
    /// Inserts a new user.
    pub async fn insert_user(&mut self, u: &User) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        sqlx::query(
            "INSERT INTO users (tenant_id, id, email, email_key, display_name, department, title, attributes, \
             status, external_id, created_at, updated_at, user_name, user_name_key, sso_groups, user_type, \
             time_zone) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(tenant)
        .bind(u.id.as_str())
        .bind(u.email.as_ref().map_or("", Email::as_str).to_owned())
        .bind(u.email_key())
        .bind(u.display_name.as_str())
        .bind(u.department.as_str())
        .bind(u.title.as_str())
        .bind(encode_attributes(&u.attributes))
        .bind(u.status.as_str())
        .bind(u.external_id.clone())
        .bind(u.created_at.millis())
        .bind(u.updated_at.millis())
        .bind(u.user_name.as_ref().map(|n| n.as_str().to_owned()))
        .bind(u.user_name.as_ref().map(Name::key))
        .bind(encode_sso_groups(&u.sso_groups))
        .bind(u.user_type.as_str())
        .bind(u.time_zone.as_ref().map(|z| z.as_str().to_owned()))
        .execute(self.tx())
        .await?;
        Ok(())
    }

    /// Replaces a user's fields.
    pub async fn update_user(&mut self, u: &User) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        let done = sqlx::query(
            "UPDATE users SET email = $3, email_key = $4, display_name = $5, department = $6, title = $7, \
             attributes = $8, status = $9, external_id = $10, updated_at = $11, user_name = $12, user_name_key = $13, \
             sso_groups = $14, user_type = $15, time_zone = $16 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant)
        .bind(u.id.as_str())
        .bind(u.email.as_ref().map_or("", Email::as_str).to_owned())
        .bind(u.email_key())
        .bind(u.display_name.as_str())
        .bind(u.department.as_str())
        .bind(u.title.as_str())
        .bind(encode_attributes(&u.attributes))
        .bind(u.status.as_str())
        .bind(u.external_id.clone())
        .bind(u.updated_at.millis())
        .bind(u.user_name.as_ref().map(|n| n.as_str().to_owned()))
        .bind(u.user_name.as_ref().map(Name::key))
        .bind(encode_sso_groups(&u.sso_groups))
        .bind(u.user_type.as_str())
        .bind(u.time_zone.as_ref().map(|z| z.as_str().to_owned()))
        .execute(self.tx())
        .await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    /// Deletes a user with their memberships, roles and tokens.
    pub async fn delete_user(&mut self, id: &UserId) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        let done = sqlx::query("DELETE FROM users WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id.as_str())
            .execute(self.tx())
            .await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }
}
