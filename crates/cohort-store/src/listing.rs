//! Conditions over users and groups, as provisioning queries (SCIM filters) ask them,
//! translated into SQL so that the database does the filtering, sorting and paging.

use crate::group::{GROUP_COLUMNS, group};
use crate::sql::{Arg, Sql};
use crate::user::{select as select_users, user};
use crate::{Db, StoreError};
use cohort_core::TenantId;
use cohort_core::model::{Group, User};
use sqlx::AnyConnection;
use std::ops::DerefMut;

/// A field a condition can test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// The cohort id.
    Id,
    /// The provisioning system's id.
    ExternalId,
    /// Users: login name (the email when none is set).
    UserName,
    /// Users: email.
    Email,
    /// Users: display name; groups: name.
    DisplayName,
    /// Users: department.
    Department,
    /// Users: title.
    Title,
    /// Users: whether active.
    Active,
    /// Creation time (ms).
    Created,
    /// Last change (ms).
    LastModified,
    /// Groups: the id of a direct member (user or child group); users: the id of a group
    /// they are a direct member of.
    Member,
}

/// How a field is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Contains.
    Co,
    /// Starts with.
    Sw,
    /// Ends with.
    Ew,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
}

/// A value compared against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Text, compared case-insensitively except for ids.
    Text(String),
    /// A boolean (for `Active`).
    Bool(bool),
    /// A time in ms (for `Created`, `LastModified`).
    Time(i64),
}

/// A condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    /// Always true.
    True,
    /// Always false.
    False,
    /// The field has a value.
    Present(Field),
    /// The field compares so with the value.
    Compare(Field, Cmp, Value),
    /// Both.
    And(Box<Cond>, Box<Cond>),
    /// Either.
    Or(Box<Cond>, Box<Cond>),
    /// Not.
    Not(Box<Cond>),
}

/// One page of a listing.
#[derive(Clone, Debug)]
pub struct Listing {
    /// Which rows.
    pub cond: Cond,
    /// Sort by this field (default: creation order), descending when `true`.
    pub sort: Option<(Field, bool)>,
    /// Rows to skip.
    pub offset: i64,
    /// Rows to return at most.
    pub limit: i64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Table {
    Users,
    Groups,
}

/// The SQL expression for `field`, and whether text compares case-insensitively.
fn column(table: Table, field: Field) -> Result<(&'static str, bool), StoreError> {
    let unsupported = || StoreError::Unsupported(format!("{field:?} cannot be filtered here"));
    Ok(match (table, field) {
        (_, Field::Id) => ("id", false),
        (_, Field::ExternalId) => ("external_id", false),
        (_, Field::Created) => ("created_at", false),
        (_, Field::LastModified) => ("updated_at", false),
        (Table::Users, Field::UserName) => ("COALESCE(user_name_key, NULLIF(email, ''))", true),
        (Table::Users, Field::Email) => ("NULLIF(email, '')", true),
        (Table::Users, Field::DisplayName) => ("LOWER(display_name)", true),
        (Table::Users, Field::Department) => ("LOWER(department)", true),
        (Table::Users, Field::Title) => ("LOWER(title)", true),
        (Table::Users, Field::Active) => ("status", false),
        // A provisioned group answers to the name its identity provider gave it.
        (Table::Groups, Field::DisplayName) => ("LOWER(COALESCE(provider_name, name))", true),
        _ => return Err(unsupported()),
    })
}

fn like(cmp: Cmp, needle: &str) -> String {
    let mut out = String::new();
    if matches!(cmp, Cmp::Co | Cmp::Ew) {
        out.push('%');
    }
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    if matches!(cmp, Cmp::Co | Cmp::Sw) {
        out.push('%');
    }
    out
}

fn member_exists(table: Table, sql: &mut Sql, cmp: Cmp, v: &Value) -> Result<(), StoreError> {
    let Value::Text(id) = v else { return Err(StoreError::Unsupported("member ids are text".to_owned())) };
    if cmp != Cmp::Eq {
        return Err(StoreError::Unsupported("members can only be compared with `eq`".to_owned()));
    }
    match table {
        Table::Groups => {
            sql.push("(EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = groups.tenant_id AND m.group_id = groups.id AND m.user_id = ")
                .bind(Arg::Text(id.clone()))
                .push(") OR EXISTS (SELECT 1 FROM group_parents p WHERE p.tenant_id = groups.tenant_id AND p.parent_id = groups.id AND p.group_id = ")
                .bind(Arg::Text(id.clone()))
                .push("))");
        }
        Table::Users => {
            sql.push("EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = users.tenant_id AND m.user_id = users.id AND m.group_id = ")
                .bind(Arg::Text(id.clone()))
                .push(")");
        }
    }
    Ok(())
}

fn condition(table: Table, sql: &mut Sql, c: &Cond) -> Result<(), StoreError> {
    match c {
        Cond::True => {
            sql.push("1 = 1");
        }
        Cond::False => {
            sql.push("1 = 0");
        }
        Cond::And(a, b) | Cond::Or(a, b) => {
            sql.push("(");
            condition(table, sql, a)?;
            sql.push(if matches!(c, Cond::And(..)) { " AND " } else { " OR " });
            condition(table, sql, b)?;
            sql.push(")");
        }
        Cond::Not(a) => {
            sql.push("NOT (");
            condition(table, sql, a)?;
            sql.push(")");
        }
        Cond::Present(Field::Member) => {
            let exists = match table {
                Table::Groups => {
                    "(EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = groups.tenant_id AND m.group_id = groups.id) \
                     OR EXISTS (SELECT 1 FROM group_parents p WHERE p.tenant_id = groups.tenant_id AND p.parent_id = groups.id))"
                }
                Table::Users => {
                    "EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = users.tenant_id AND m.user_id = users.id)"
                }
            };
            sql.push(exists);
        }
        Cond::Present(f) => {
            let (col, _) = column(table, *f)?;
            sql.push(&format!("({col} IS NOT NULL AND {col} <> '')"));
        }
        Cond::Compare(Field::Member, cmp, v) => member_exists(table, sql, *cmp, v)?,
        Cond::Compare(Field::Active, cmp, v) => {
            let want = match (cmp, v) {
                (Cmp::Eq, Value::Bool(b)) => *b,
                (Cmp::Ne, Value::Bool(b)) => !*b,
                _ => {
                    return Err(StoreError::Unsupported(
                        "`active` compares with `eq` or `ne` and a boolean".to_owned(),
                    ));
                }
            };
            sql.push("status = ").bind(Arg::Text(if want { "active" } else { "suspended" }.to_owned()));
        }
        Cond::Compare(f, cmp, v) => {
            let (col, folded) = column(table, *f)?;
            let arg = match v {
                Value::Text(t) if folded => Arg::Text(t.to_lowercase()),
                Value::Text(t) => Arg::Text(t.clone()),
                Value::Time(ms) => Arg::Int(*ms),
                Value::Bool(_) => return Err(StoreError::Unsupported(format!("{f:?} is not a boolean"))),
            };
            let op = match cmp {
                Cmp::Eq => "=",
                Cmp::Ne => "<>",
                Cmp::Gt => ">",
                Cmp::Ge => ">=",
                Cmp::Lt => "<",
                Cmp::Le => "<=",
                Cmp::Co | Cmp::Sw | Cmp::Ew => {
                    let Arg::Text(t) = arg else {
                        return Err(StoreError::Unsupported(format!("{f:?} is not text")));
                    };
                    sql.push(&format!("{col} LIKE ")).bind(Arg::Text(like(*cmp, &t))).push(" ESCAPE '\\'");
                    return Ok(());
                }
            };
            if *cmp == Cmp::Ne {
                // A missing value is "not equal" to anything.
                sql.push(&format!("({col} IS NULL OR {col} {op} ")).bind(arg).push(")");
            } else {
                sql.push(&format!("{col} {op} ")).bind(arg);
            }
        }
    }
    Ok(())
}

fn page(table: Table, base: &str, tenant: &TenantId, l: &Listing) -> Result<(Sql, Sql), StoreError> {
    let mut count = Sql::new(&format!("SELECT COUNT(*) FROM {} WHERE tenant_id = ", table_name(table)));
    let mut rows = Sql::new(&format!("{base} WHERE tenant_id = "));
    for sql in [&mut count, &mut rows] {
        sql.bind(Arg::Text(tenant.to_string())).push(" AND ");
        condition(table, sql, &l.cond)?;
    }
    let order = match l.sort {
        Some((f, desc)) => format!("{} {}, id", column(table, f)?.0, if desc { "DESC" } else { "ASC" }),
        None => "created_at, id".to_owned(),
    };
    rows.push(&format!(" ORDER BY {order} LIMIT ")).bind(Arg::Int(l.limit)).push(" OFFSET ").bind(Arg::Int(l.offset));
    Ok((count, rows))
}

fn table_name(t: Table) -> &'static str {
    match t {
        Table::Users => "users",
        Table::Groups => "groups",
    }
}

impl<C: DerefMut<Target = AnyConnection>> Db<C> {
    /// How many users match, and one page of them.
    pub async fn list_users_where(&mut self, tenant: &TenantId, l: &Listing) -> Result<(i64, Vec<User>), StoreError> {
        let (count, rows) = page(Table::Users, &select_users(), tenant, l)?;
        let total: i64 = count.query()?.fetch_one(self.conn()).await.map(|r| sqlx::Row::get(&r, 0))?;
        let page = if l.limit > 0 { rows.query()?.fetch_all(self.conn()).await? } else { Vec::new() };
        Ok((total, page.iter().map(user).collect::<Result<_, _>>()?))
    }

    /// How many groups match, and one page of them.
    pub async fn list_groups_where(&mut self, tenant: &TenantId, l: &Listing) -> Result<(i64, Vec<Group>), StoreError> {
        let (count, rows) = page(Table::Groups, GROUP_COLUMNS, tenant, l)?;
        let total: i64 = count.query()?.fetch_one(self.conn()).await.map(|r| sqlx::Row::get(&r, 0))?;
        let page = if l.limit > 0 { rows.query()?.fetch_all(self.conn()).await? } else { Vec::new() };
        Ok((total, page.iter().map(|r| group(r).map(|g| g.0)).collect::<Result<_, _>>()?))
    }
}
