//! The SCIM `User` resource, mapped onto cohort users: `userName` is the login name, the one
//! email is `emails` (type `work`), `active` is the status, the enterprise `department` is
//! the department and its other attributes (`employeeNumber`, `costCenter`, `organization`,
//! `division`, `manager`) are user attributes of those names, and `groups` lists the user's
//! groups, direct and inherited (read-only).

use super::patch::{self, Kind};
use super::query::{Attr, Resolver};
use super::schema::{ENTERPRISE, USER};
use super::{
    ListQuery, Projection, ScimBody, ScimCaller, ScimError, ScimQuery, answer, body, boolean, field, if_match,
    list_response, version,
};
use crate::shared::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cohort_core::UserId;
use cohort_core::model::{User, UserStatus};
use cohort_core::name::{AttributeValue, Attributes, Email, Name, ShortText};
use cohort_service::format::rfc3339;
use cohort_service::{NewUser, UserPatch};
use cohort_store::listing::Field;
use serde_json::{Map, Value, json};

/// Attributes a PATCH path may name (read-only ones are refused with `mutability`).
const PATCHABLE: &[&str] =
    &["userName", "displayName", "title", "active", "emails", "name", "externalId", "id", "meta", "groups"];

/// Where PATCH finds a user's attributes.
const LAYOUT: patch::Layout<'static> =
    patch::Layout { core: USER, extensions: &[ENTERPRISE], read_only: &["id", "meta", "groups"] };

fn resolve(name: &str) -> Option<Attr> {
    Some(match name {
        "id" => Attr::Text(Field::Id),
        "externalid" => Attr::Text(Field::ExternalId),
        "username" => Attr::Text(Field::UserName),
        "displayname" => Attr::Text(Field::DisplayName),
        "title" => Attr::Text(Field::Title),
        "active" => Attr::Bool(Field::Active),
        "emails" | "emails.value" => Attr::Text(Field::Email),
        "emails.type" => Attr::Fixed("work"),
        "emails.primary" => Attr::Fixed("true"),
        "meta.created" => Attr::Time(Field::Created),
        "meta.lastmodified" => Attr::Time(Field::LastModified),
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:department" => Attr::Text(Field::Department),
        "groups" | "groups.value" => Attr::Text(Field::Member),
        _ => return None,
    })
}

const RESOLVE: Resolver = resolve;

/// Enterprise attributes kept as user attributes of the same name (`manager` holds the
/// manager's id).
const ENTERPRISE_ATTRIBUTES: &[&str] = &["employeeNumber", "costCenter", "organization", "division", "manager"];

/// The JSON form of a user; `groups` are (id, name, direct) when wanted.
fn to_json(u: &User, groups: Option<&[(String, String, bool)]>, base: &str) -> Value {
    let mut v = json!({
        "schemas": [USER, ENTERPRISE],
        "id": u.id.as_str(),
        "userName": u.user_name.as_ref().map(Name::as_str).or(u.email.as_ref().map(Email::as_str)).unwrap_or(u.id.as_str()),
        "active": u.status == UserStatus::Active,
        "meta": {
            "resourceType": "User",
            "created": rfc3339(u.created_at),
            "lastModified": rfc3339(u.updated_at),
            "version": version(u.updated_at),
            "location": format!("{base}/Users/{}", u.id),
        },
    });
    if let Some(m) = v.as_object_mut() {
        if let Some(e) = &u.external_id {
            m.insert("externalId".to_owned(), json!(e));
        }
        if !u.display_name.as_str().is_empty() {
            m.insert("displayName".to_owned(), json!(u.display_name.as_str()));
        }
        if let Some(e) = &u.email {
            m.insert("emails".to_owned(), json!([{"value": e.as_str()}]));
        }
        if !u.title.as_str().is_empty() {
            m.insert("title".to_owned(), json!(u.title.as_str()));
        }
        let mut ext = Map::new();
        if !u.department.as_str().is_empty() {
            ext.insert("department".to_owned(), json!(u.department.as_str()));
        }
        for key in ENTERPRISE_ATTRIBUTES {
            if let Some(AttributeValue::One(v)) = u.attributes.as_map().get(*key) {
                let value =
                    if *key == "manager" { json!({"value": v, "$ref": format!("{base}/Users/{v}")}) } else { json!(v) };
                ext.insert((*key).to_owned(), value);
            }
        }
        if !ext.is_empty() {
            m.insert(ENTERPRISE.to_owned(), Value::Object(ext));
        }
        if let Some(gs) = groups {
            let items: Vec<Value> = gs
                .iter()
                .map(|(id, name, direct)| {
                    json!({
                        "value": id, "display": name, "$ref": format!("{base}/Groups/{id}"),
                        "type": if *direct { "direct" } else { "indirect" },
                    })
                })
                .collect();
            if !items.is_empty() {
                m.insert("groups".to_owned(), Value::Array(items));
            }
        }
    }
    v
}

/// A user as a client wrote it (POST, PUT, or the result of a PATCH).
struct UserInput {
    user_name: Name,
    email: Option<Email>,
    display_name: ShortText,
    title: ShortText,
    department: ShortText,
    /// The enterprise attributes given, by name.
    enterprise: Vec<(&'static str, String)>,
    active: bool,
    external_id: Option<ShortText>,
}

fn text(map: &Map<String, Value>, name: &str) -> Result<Option<String>, ScimError> {
    match field(map, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ScimError::invalid_value(&format!("`{name}` must be a string"))),
    }
}

fn short(field_name: &str, v: Option<String>) -> Result<ShortText, ScimError> {
    ShortText::parse(field_name, v.as_deref().unwrap_or(""), false)
        .map_err(|e| ScimError::invalid_value(&e.to_string()))
}

/// Reads a user. A missing display name comes from `name`; failing that, `creating` takes the
/// login name, where a replacement leaves it empty as written.
fn user_input(map: &Map<String, Value>, creating: bool) -> Result<UserInput, ScimError> {
    let user_name = text(map, "userName")?.ok_or_else(|| ScimError::invalid_value("`userName` is required"))?;
    let user_name = Name::parse("userName", &user_name).map_err(|e| ScimError::invalid_value(&e.to_string()))?;
    let email = match field(map, "emails") {
        None => None,
        Some(Value::Array(items)) => {
            let primary = items.iter().find(|i| i.get("primary").and_then(boolean) == Some(true));
            primary.or(items.first()).and_then(|i| i.get("value")).and_then(Value::as_str).map(str::to_owned)
        }
        Some(_) => return Err(ScimError::invalid_value("`emails` must be a list")),
    };
    let email = email.map(|e| Email::parse(&e).map_err(|e| ScimError::invalid_value(&e.to_string()))).transpose()?;
    let name = field(map, "name").and_then(Value::as_object);
    let formatted = name.and_then(|n| field(n, "formatted")).and_then(Value::as_str).map(str::to_owned);
    let given = name.and_then(|n| field(n, "givenName")).and_then(Value::as_str);
    let family = name.and_then(|n| field(n, "familyName")).and_then(Value::as_str);
    let from_parts = match (given, family) {
        (Some(g), Some(f)) => Some(format!("{g} {f}")),
        (Some(x), None) | (None, Some(x)) => Some(x.to_owned()),
        (None, None) => None,
    };
    let display = match text(map, "displayName")?.or(formatted).or(from_parts) {
        Some(d) => d,
        None if creating => user_name.to_string(),
        None => String::new(),
    };
    let (department, enterprise) = match field(map, ENTERPRISE) {
        Some(Value::Object(ext)) => {
            let mut given = Vec::new();
            for key in ENTERPRISE_ATTRIBUTES {
                let value = match field(ext, key) {
                    None => None,
                    Some(Value::Object(m)) if *key == "manager" => text(m, "value")?,
                    Some(Value::String(s)) if *key != "manager" => Some(s.clone()),
                    Some(_) => return Err(ScimError::invalid_value(&format!("`{key}` has the wrong type"))),
                };
                if let Some(v) = value.filter(|v| !v.is_empty()) {
                    given.push((*key, v));
                }
            }
            (text(ext, "department")?, given)
        }
        Some(_) => return Err(ScimError::invalid_value("the enterprise extension must be an object")),
        None => (None, Vec::new()),
    };
    let active = match field(map, "active") {
        None => true,
        Some(v) => boolean(v).ok_or_else(|| ScimError::invalid_value("`active` must be true or false"))?,
    };
    Ok(UserInput {
        user_name,
        email,
        display_name: short("displayName", Some(display))?,
        title: short("title", text(map, "title")?)?,
        department: short("department", department)?,
        enterprise,
        active,
        external_id: text(map, "externalId")?.map(|e| short("externalId", Some(e))).transpose()?,
    })
}

/// `base` with the enterprise attributes replaced by those of `input`; others stay.
fn with_enterprise(base: &Attributes, input: &UserInput) -> Result<Attributes, ScimError> {
    let mut map = base.as_map().clone();
    for key in ENTERPRISE_ATTRIBUTES {
        map.remove(*key);
    }
    for (key, value) in &input.enterprise {
        map.insert((*key).to_owned(), AttributeValue::One(value.clone()));
    }
    Attributes::new(map).map_err(|e| ScimError::invalid_value(&e.to_string()))
}

fn status(active: bool) -> UserStatus {
    if active { UserStatus::Active } else { UserStatus::Suspended }
}

fn user_id(id: &str) -> Result<UserId, ScimError> {
    UserId::parse(id).map_err(|_| ScimError::not_found(&format!("user `{id}`")))
}

async fn groups_of(s: &AppState, caller: &ScimCaller, u: &UserId) -> Result<Vec<(String, String, bool)>, ScimError> {
    let groups = s.user_groups(&caller.ctx, u, None).await?;
    Ok(groups.into_iter().map(|g| (g.group.to_string(), g.name, g.direct)).collect())
}

async fn render(s: &AppState, caller: &ScimCaller, u: &User, p: &Projection) -> Result<Value, ScimError> {
    let groups = if p.wants("groups") { Some(groups_of(s, caller, &u.id).await?) } else { None };
    Ok(p.apply(to_json(u, groups.as_deref(), &caller.base)))
}

pub(super) async fn create(
    State(s): State<AppState>,
    caller: ScimCaller,
    raw: ScimBody,
) -> Result<Response, ScimError> {
    let input = user_input(&body(&raw)?, true)?;
    let attributes = with_enterprise(&Attributes::default(), &input)?;
    let new = NewUser {
        email: input.email,
        display_name: input.display_name,
        department: input.department,
        title: input.title,
        attributes,
        sso_groups: Default::default(),
        status: status(input.active),
        user_type: None,
        user_name: Some(input.user_name),
        external_id: input.external_id,
        time_zone: None,
    };
    let w = s.create_user(&caller.ctx, new, &[]).await?;
    Ok(answer(StatusCode::CREATED, &render(&s, &caller, &w.value, &Projection::default()).await?))
}

pub(super) async fn get(
    State(s): State<AppState>,
    caller: ScimCaller,
    Path((_, id)): Path<(String, String)>,
    ScimQuery(q): ScimQuery,
) -> Result<Response, ScimError> {
    let u = s.get_user(&caller.ctx, &user_id(&id)?).await?;
    let req = q.parse()?;
    Ok(answer(StatusCode::OK, &render(&s, &caller, &u, &req.projection).await?))
}

pub(super) async fn list(
    State(s): State<AppState>,
    caller: ScimCaller,
    ScimQuery(q): ScimQuery,
) -> Result<Response, ScimError> {
    list_with(&s, &caller, &q).await
}

pub(super) async fn search(
    State(s): State<AppState>,
    caller: ScimCaller,
    raw: ScimBody,
) -> Result<Response, ScimError> {
    list_with(&s, &caller, &ListQuery::from_search(&body(&raw)?)?).await
}

async fn list_with(s: &AppState, caller: &ScimCaller, q: &ListQuery) -> Result<Response, ScimError> {
    let req = q.parse()?;
    let (total, users) = s.list_users_where(&caller.ctx, &req.listing(USER, RESOLVE)?).await?;
    let mut out = Vec::with_capacity(users.len());
    for u in &users {
        out.push(render(s, caller, u, &req.projection).await?);
    }
    Ok(answer(StatusCode::OK, &list_response(total, req.start_index, out)))
}

/// Stores `input` as the whole new state of user `id`.
async fn store(
    s: &AppState,
    caller: &ScimCaller,
    current: &User,
    input: UserInput,
    expect: cohort_service::Expect,
) -> Result<Response, ScimError> {
    let attributes = with_enterprise(&current.attributes, &input)?;
    let id = &current.id;
    let patch = UserPatch {
        email: Some(input.email),
        display_name: Some(input.display_name),
        department: Some(input.department),
        title: Some(input.title),
        attributes: Some(attributes),
        status: Some(status(input.active)),
        user_name: Some(Some(input.user_name)),
        external_id: Some(input.external_id),
        sso_groups: None,
        user_type: None,
        time_zone: None,
        expect,
    };
    let w = s.update_user(&caller.ctx, id, patch).await?;
    Ok(answer(StatusCode::OK, &render(s, caller, &w.value, &Projection::default()).await?))
}

pub(super) async fn replace(
    State(s): State<AppState>,
    caller: ScimCaller,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    raw: ScimBody,
) -> Result<Response, ScimError> {
    let id = user_id(&id)?;
    let current = s.get_user(&caller.ctx, &id).await?;
    let map = body(&raw)?;
    if let Some(given) = text(&map, "id")?
        && given != id.as_str()
    {
        return Err(ScimError::mutability("`id` cannot be changed"));
    }
    store(&s, &caller, &current, user_input(&map, false)?, if_match(&headers)).await
}

pub(super) async fn patch(
    State(s): State<AppState>,
    caller: ScimCaller,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    raw: ScimBody,
) -> Result<Response, ScimError> {
    let id = user_id(&id)?;
    let ops = patch::operations(&body(&raw)?)?;
    let current = s.get_user(&caller.ctx, &id).await?;
    let Value::Object(mut doc) = to_json(&current, None, &caller.base) else {
        return Err(ScimError::invalid_syntax("the user could not be read"));
    };
    // Paths such as `emails[type eq "work"].value` (Entra ID) find the email: it is the
    // user's primary work email.
    if let Some(Value::Array(emails)) = doc.get_mut("emails") {
        for e in emails.iter_mut().filter_map(Value::as_object_mut) {
            e.insert("type".to_owned(), json!("work"));
            e.insert("primary".to_owned(), json!(true));
        }
    }
    for op in &ops {
        if let Some(p) = &op.path {
            let known = match &p.attr.urn {
                Some(u) if u.eq_ignore_ascii_case(ENTERPRISE) => {
                    p.attr.is("department") || ENTERPRISE_ATTRIBUTES.iter().any(|a| p.attr.is(a))
                }
                Some(u) if !u.eq_ignore_ascii_case(USER) => {
                    format!("{u}:{}", p.attr.attr).eq_ignore_ascii_case(ENTERPRISE)
                }
                _ => PATCHABLE.iter().any(|a| p.attr.is(a)),
            };
            if !known {
                return Err(ScimError::invalid_path(&format!("`{}` is not a User attribute", p.attr)));
            }
            if op.kind == Kind::Remove && p.attr.is("userName") {
                return Err(ScimError::mutability("`userName` is required and cannot be removed"));
            }
        }
        patch::apply(&mut doc, op, &LAYOUT)?;
    }
    store(&s, &caller, &current, user_input(&doc, false)?, if_match(&headers)).await
}

pub(super) async fn delete(
    State(s): State<AppState>,
    caller: ScimCaller,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ScimError> {
    let id = user_id(&id)?;
    s.delete_user(&caller.ctx, &id, &if_match(&headers)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
