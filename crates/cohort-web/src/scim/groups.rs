//! The SCIM `Group` resource, mapped onto cohort groups of source `scim`: `displayName` is
//! the name the identity provider gives (the group's name until an administrator renames it), `members` are the users with a `scim` membership row and the child groups nested
//! under it. Member changes are edits of those rows and edges, never a rewrite of the group.

use super::filter::Filter;
use super::patch::{self, Kind};
use super::query::{Attr, Resolver};
use super::schema::GROUP;
use super::{
    ListQuery, Projection, ScimBody, ScimCaller, ScimError, ScimQuery, answer, body, field, if_match, list_response,
    version,
};
use crate::shared::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cohort_core::model::{Group, GroupSource, Subject};
use cohort_core::name::{Name, ShortText};
use cohort_core::{GroupId, UserId};
use cohort_service::format::rfc3339;
use cohort_service::{GroupEdits, NewGroup};
use cohort_store::listing::Field;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

fn resolve(name: &str) -> Option<Attr> {
    Some(match name {
        "id" => Attr::Text(Field::Id),
        "externalid" => Attr::Text(Field::ExternalId),
        "displayname" => Attr::Text(Field::DisplayName),
        "members" | "members.value" => Attr::Text(Field::Member),
        "meta.created" => Attr::Time(Field::Created),
        "meta.lastmodified" => Attr::Time(Field::LastModified),
        _ => return None,
    })
}

const RESOLVE: Resolver = resolve;

fn to_json(g: &Group, members: Option<&[Subject]>, base: &str) -> Value {
    let mut v = json!({
        "schemas": [GROUP],
        "id": g.id.as_str(),
        // The identity provider sees the name it gave, whatever an administrator renamed it to.
        "displayName": g.provider_name.as_ref().unwrap_or(&g.name).as_str(),
        "meta": {
            "resourceType": "Group",
            "created": rfc3339(g.created_at),
            "lastModified": rfc3339(g.updated_at),
            "version": version(g.updated_at),
            "location": format!("{base}/Groups/{}", g.id),
        },
    });
    if let Some(m) = v.as_object_mut() {
        if let Some(e) = &g.external_id {
            m.insert("externalId".to_owned(), json!(e));
        }
        if let Some(ms) = members
            && !ms.is_empty()
        {
            let items = ms
                .iter()
                .map(|s| match s {
                    Subject::User(u) => {
                        json!({"value": u.as_str(), "type": "User", "$ref": format!("{base}/Users/{u}")})
                    }
                    Subject::Group(c) => {
                        json!({"value": c.as_str(), "type": "Group", "$ref": format!("{base}/Groups/{c}")})
                    }
                })
                .collect();
            m.insert("members".to_owned(), Value::Array(items));
        }
    }
    v
}

fn group_id(id: &str) -> Result<GroupId, ScimError> {
    GroupId::parse(id).map_err(|_| ScimError::not_found(&format!("group `{id}`")))
}

/// A member reference: `{"value": "usr_..."}` or `{"value": "grp_...", "type": "Group"}`.
fn member(v: &Value) -> Result<Subject, ScimError> {
    let id = match v {
        Value::Object(m) => field(m, "value").and_then(Value::as_str),
        _ => None,
    }
    .ok_or_else(|| ScimError::invalid_value("a member is an object with a `value`"))?;
    if let Ok(u) = UserId::parse(id) {
        return Ok(Subject::User(u));
    }
    GroupId::parse(id)
        .map(Subject::Group)
        .map_err(|_| ScimError::invalid_value(&format!("member `{id}` is neither a user nor a group id")))
}

fn members(v: &Value) -> Result<BTreeSet<Subject>, ScimError> {
    match v {
        Value::Array(items) => items.iter().map(member).collect(),
        Value::Object(_) => Ok(BTreeSet::from([member(v)?])),
        _ => Err(ScimError::invalid_value("`members` is a list")),
    }
}

fn name_of(map: &Map<String, Value>) -> Result<Name, ScimError> {
    let name = field(map, "displayName")
        .and_then(Value::as_str)
        .ok_or_else(|| ScimError::invalid_value("`displayName` is required and is a string"))?;
    Name::parse("displayName", name).map_err(|e| ScimError::invalid_value(&e.to_string()))
}

fn external_id_of(map: &Map<String, Value>) -> Result<Option<ShortText>, ScimError> {
    match field(map, "externalId") {
        None => Ok(None),
        Some(Value::String(e)) => {
            ShortText::parse("externalId", e, false).map(Some).map_err(|e| ScimError::invalid_value(&e.to_string()))
        }
        Some(_) => Err(ScimError::invalid_value("`externalId` is a string")),
    }
}

async fn render(s: &AppState, caller: &ScimCaller, g: &Group, p: &Projection) -> Result<Value, ScimError> {
    let members = if p.wants("members") { Some(s.direct_members(&caller.ctx, &g.id).await?) } else { None };
    Ok(p.apply(to_json(g, members.as_deref(), &caller.base)))
}

async fn current(s: &AppState, caller: &ScimCaller, id: &GroupId) -> Result<Group, ScimError> {
    Ok(s.get_group(&caller.ctx, id).await?.0)
}

pub(super) async fn create(
    State(s): State<AppState>,
    caller: ScimCaller,
    raw: ScimBody,
) -> Result<Response, ScimError> {
    let map = body(&raw)?;
    let name = name_of(&map)?;
    let mut users = Vec::new();
    for m in field(&map, "members").map(members).transpose()?.unwrap_or_default() {
        match m {
            Subject::User(u) => users.push(u),
            Subject::Group(g) => {
                return Err(ScimError::invalid_value(&format!(
                    "group `{g}` cannot be a member of a group being created: add it by PATCH once the group exists"
                )));
            }
        }
    }
    let new = NewGroup { external_id: external_id_of(&map)?, ..NewGroup::named(name, GroupSource::Scim) };
    let w = s.create_scim_group(&caller.ctx, new, &users).await?;
    Ok(answer(StatusCode::CREATED, &render(&s, &caller, &w.value, &Projection::default()).await?))
}

pub(super) async fn get(
    State(s): State<AppState>,
    caller: ScimCaller,
    Path((_, id)): Path<(String, String)>,
    ScimQuery(q): ScimQuery,
) -> Result<Response, ScimError> {
    let req = q.parse()?;
    let g = current(&s, &caller, &group_id(&id)?).await?;
    Ok(answer(StatusCode::OK, &render(&s, &caller, &g, &req.projection).await?))
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
    let (total, groups) = s.list_groups_where(&caller.ctx, &req.listing(GROUP, RESOLVE)?).await?;
    let mut out = Vec::with_capacity(groups.len());
    for g in &groups {
        out.push(render(s, caller, g, &req.projection).await?);
    }
    Ok(answer(StatusCode::OK, &list_response(total, req.start_index, out)))
}

pub(super) async fn replace(
    State(s): State<AppState>,
    caller: ScimCaller,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    raw: ScimBody,
) -> Result<Response, ScimError> {
    let id = group_id(&id)?;
    let map = body(&raw)?;
    if field(&map, "id").and_then(Value::as_str).is_some_and(|given| given != id.as_str()) {
        return Err(ScimError::mutability("`id` cannot be changed"));
    }
    let edits = GroupEdits {
        name: Some(name_of(&map)?),
        external_id: Some(external_id_of(&map)?),
        add: field(&map, "members").map(members).transpose()?.unwrap_or_default(),
        replace_members: true,
        expect: if_match(&headers),
        ..GroupEdits::default()
    };
    s.edit_group(&caller.ctx, &id, edits).await?;
    let after = current(&s, &caller, &id).await?;
    Ok(answer(StatusCode::OK, &render(&s, &caller, &after, &Projection::default()).await?))
}

/// Folds PATCH operations into one set of edits.
fn edits_of(ops: &[patch::Operation], id: &GroupId) -> Result<GroupEdits, ScimError> {
    let mut e = GroupEdits::default();
    for op in ops {
        if op.path.is_some() {
            fold(&mut e, op)?;
            continue;
        }
        let Some(Value::Object(attrs)) = &op.value else { continue };
        for (k, v) in attrs {
            if k.eq_ignore_ascii_case("schemas") {
                continue;
            }
            if k.eq_ignore_ascii_case("id") {
                // Okta repeats the id in a partial resource; only a different one is a change.
                if v.as_str() != Some(id.as_str()) {
                    return Err(ScimError::mutability("`id` cannot be changed"));
                }
                continue;
            }
            let one = patch::Operation {
                kind: op.kind,
                path: Some(super::filter::parse_patch_path(k).map_err(|err| ScimError::invalid_path(&err.0))?),
                value: Some(v.clone()),
            };
            fold(&mut e, &one)?;
        }
    }
    Ok(e)
}

fn fold(e: &mut GroupEdits, op: &patch::Operation) -> Result<(), ScimError> {
    let Some(path) = &op.path else { return Ok(()) };
    if path.attr.urn.as_deref().is_some_and(|u| !u.eq_ignore_ascii_case(GROUP)) {
        return Err(ScimError::invalid_path(&format!("`{}` is not a Group attribute", path.attr)));
    }
    let value = op.value.as_ref();
    match path.attr.attr.to_ascii_lowercase().as_str() {
        "members" => {
            if path.attr.sub.is_some() || path.sub.is_some() {
                return Err(ScimError::invalid_path("members are added or removed whole"));
            }
            match (op.kind, &path.filter, value) {
                (Kind::Add, None, Some(v)) => {
                    let add = members(v)?;
                    e.remove.retain(|s| !add.contains(s));
                    e.add.extend(add);
                }
                (Kind::Replace, None, Some(v)) => {
                    e.add = members(v)?;
                    e.remove.clear();
                    e.replace_members = true;
                }
                // Entra ID and Okta remove listed members; a bare remove empties the group.
                (Kind::Remove, None, Some(v)) => {
                    let gone = members(v)?;
                    e.add.retain(|s| !gone.contains(s));
                    e.remove.extend(gone);
                }
                (Kind::Remove, None, None) => {
                    e.add.clear();
                    e.remove.clear();
                    e.replace_members = true;
                }
                (Kind::Remove, Some(f), _) => {
                    let gone = member_ids(f)?;
                    e.add.retain(|s| !gone.contains(s));
                    e.remove.extend(gone);
                }
                _ => return Err(ScimError::invalid_path("a member filter is only used to remove members")),
            }
        }
        "displayname" => match (op.kind, value) {
            (Kind::Remove, _) => return Err(ScimError::mutability("`displayName` is required")),
            (_, Some(Value::String(n))) => {
                e.name = Some(Name::parse("displayName", n).map_err(|err| ScimError::invalid_value(&err.to_string()))?);
            }
            _ => return Err(ScimError::invalid_value("`displayName` is a string")),
        },
        "externalid" => match (op.kind, value) {
            (Kind::Remove, _) => e.external_id = Some(None),
            (_, Some(Value::String(x))) => {
                e.external_id = Some(Some(
                    ShortText::parse("externalId", x, false)
                        .map_err(|err| ScimError::invalid_value(&err.to_string()))?,
                ));
            }
            _ => return Err(ScimError::invalid_value("`externalId` is a string")),
        },
        "id" | "meta" => return Err(ScimError::mutability(&format!("`{}` cannot be changed", path.attr))),
        _ => return Err(ScimError::invalid_path(&format!("`{}` is not a Group attribute", path.attr))),
    }
    Ok(())
}

/// The ids a member filter names: `value eq "..."`, joined with `or`.
fn member_ids(f: &Filter) -> Result<BTreeSet<Subject>, ScimError> {
    match f {
        Filter::Compare(p, super::filter::Cmp::Eq, super::filter::Literal::Str(id)) if p.is("value") => {
            Ok(BTreeSet::from([member(&json!({ "value": id }))?]))
        }
        Filter::Or(a, b) => Ok(member_ids(a)?.into_iter().chain(member_ids(b)?).collect()),
        _ => Err(ScimError::invalid_path("members are picked by `value eq \"id\"` (joined with `or`)")),
    }
}

pub(super) async fn patch(
    State(s): State<AppState>,
    caller: ScimCaller,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    raw: ScimBody,
) -> Result<Response, ScimError> {
    let id = group_id(&id)?;
    let ops = patch::operations(&body(&raw)?)?;
    let edits = GroupEdits { expect: if_match(&headers), ..edits_of(&ops, &id)? };
    s.edit_group(&caller.ctx, &id, edits).await?;
    // Entra ID and Okta expect 204 for a PATCH; the resource is one GET away.
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn delete(
    State(s): State<AppState>,
    caller: ScimCaller,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ScimError> {
    let id = group_id(&id)?;
    s.delete_group(&caller.ctx, &id, &if_match(&headers)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
