//! SCIM discovery (RFC 7643 §5–7, RFC 7644 §4): `ServiceProviderConfig`, `ResourceTypes` and
//! `Schemas`, describing exactly the attributes cohort keeps.

use super::{ScimCaller, ScimError, answer, list_response};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

/// The core User schema.
pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The enterprise User extension.
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The core Group schema.
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn attr(name: &str, kind: &str, mutability: &str, description: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": description,
        "required": false,
        "caseExact": false,
        "mutability": mutability,
        "returned": "default",
        "uniqueness": "none",
    })
}

fn with(mut a: Value, extra: Value) -> Value {
    if let (Some(a), Value::Object(extra)) = (a.as_object_mut(), extra) {
        a.extend(extra);
    }
    a
}

fn user_schema() -> Value {
    json!({
        "id": USER,
        "name": "User",
        "description": "A person of the tenant",
        "attributes": [
            with(attr("userName", "string", "readWrite", "Login name, unique in the tenant (case-insensitive)"),
                json!({"required": true, "uniqueness": "server"})),
            attr("displayName", "string", "readWrite", "Name shown to people"),
            attr("title", "string", "readWrite", "Job title"),
            with(attr("active", "boolean", "readWrite", "False suspends the user: no access at all (true when omitted at creation)"),
                json!({"required": true})),
            with(attr("emails", "complex", "readWrite",
                "The user's one email, unique in the tenant: the primary value given, else the first. \
                 `type` and `primary` are accepted and not kept; every email is a work email, so \
                 `emails[type eq \"work\"]` finds it"), json!({
                "multiValued": true,
                "subAttributes": [
                    with(attr("value", "string", "readWrite", "Email address"), json!({"uniqueness": "server"})),
                ],
            })),
            with(attr("groups", "complex", "readOnly", "Groups the user is in, directly or through nesting"), json!({
                "multiValued": true,
                "subAttributes": [
                    attr("value", "string", "readOnly", "Group id"),
                    with(attr("$ref", "reference", "readOnly", "Group URI"), json!({"referenceTypes": ["Group"]})),
                    attr("display", "string", "readOnly", "Group name"),
                    with(attr("type", "string", "readOnly", "direct or indirect"), json!({"canonicalValues": ["direct", "indirect"]})),
                ],
            })),
        ],
        "meta": {"resourceType": "Schema", "location": format!("/Schemas/{USER}")},
    })
}

fn enterprise_schema() -> Value {
    json!({
        "id": ENTERPRISE,
        "name": "EnterpriseUser",
        "description": "Enterprise attributes of a user",
        "attributes": [
            attr("employeeNumber", "string", "readWrite", "Employee number (a user attribute of that name)"),
            attr("costCenter", "string", "readWrite", "Cost center (a user attribute)"),
            attr("organization", "string", "readWrite", "Organization (a user attribute)"),
            attr("division", "string", "readWrite", "Division (a user attribute)"),
            attr("department", "string", "readWrite", "Department"),
            with(attr("manager", "complex", "readWrite", "The user's manager (a user attribute holding the id)"), json!({
                "subAttributes": [
                    attr("value", "string", "readWrite", "The manager's id"),
                    with(attr("$ref", "reference", "readWrite", "The manager's URI"), json!({"referenceTypes": ["User"]})),
                ],
            })),
        ],
        "meta": {"resourceType": "Schema", "location": format!("/Schemas/{ENTERPRISE}")},
    })
}

fn group_schema() -> Value {
    json!({
        "id": GROUP,
        "name": "Group",
        "description": "A group of users; groups among its members are nested under it",
        "attributes": [
            with(attr("displayName", "string", "readWrite", "Name, unique in the tenant (case-insensitive)"),
                json!({"required": true, "uniqueness": "server"})),
            with(attr("members", "complex", "readWrite", "Direct members: users, and child groups"), json!({
                "multiValued": true,
                "subAttributes": [
                    with(attr("value", "string", "immutable", "User or group id"), json!({"caseExact": true})),
                    with(attr("$ref", "reference", "immutable", "User or group URI"), json!({"referenceTypes": ["User", "Group"]})),
                    with(attr("type", "string", "immutable", "User or Group"), json!({"canonicalValues": ["User", "Group"]})),
                    attr("display", "string", "readOnly", "Name"),
                ],
            })),
        ],
        "meta": {"resourceType": "Schema", "location": format!("/Schemas/{GROUP}")},
    })
}

fn located(mut v: Value, base: &str) -> Value {
    if let Some(Value::String(l)) = v.pointer_mut("/meta/location") {
        *l = format!("{base}{l}");
    }
    v
}

fn schema_docs(base: &str) -> Vec<Value> {
    [user_schema(), enterprise_schema(), group_schema()]
        .into_iter()
        .map(|mut s| {
            if let Some(m) = s.as_object_mut() {
                m.insert("schemas".to_owned(), json!(["urn:ietf:params:scim:schemas:core:2.0:Schema"]));
            }
            located(s, base)
        })
        .collect()
}

fn resource_type_docs(base: &str) -> Vec<Value> {
    let rt = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
    vec![
        located(
            json!({
                "schemas": [rt], "id": "User", "name": "User", "endpoint": "/Users",
                "description": "People of the tenant", "schema": USER,
                "schemaExtensions": [{"schema": ENTERPRISE, "required": false}],
                "meta": {"resourceType": "ResourceType", "location": "/ResourceTypes/User"},
            }),
            base,
        ),
        located(
            json!({
                "schemas": [rt], "id": "Group", "name": "Group", "endpoint": "/Groups",
                "description": "Groups of the tenant", "schema": GROUP,
                "meta": {"resourceType": "ResourceType", "location": "/ResourceTypes/Group"},
            }),
            base,
        ),
    ]
}

pub(super) async fn service_provider_config(caller: ScimCaller) -> Response {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": super::MAX_COUNT},
        "changePassword": {"supported": false},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A cohort SCIM token of the tenant (scope `scim`), sent as `Authorization: Bearer ...`",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{}/ServiceProviderConfig", caller.base)},
    });
    answer(StatusCode::OK, &body)
}

pub(super) async fn resource_types(caller: ScimCaller) -> Response {
    let docs = resource_type_docs(&caller.base);
    answer(StatusCode::OK, &list_response(docs.len() as i64, 1, docs))
}

pub(super) async fn resource_type(
    caller: ScimCaller,
    Path((_, name)): Path<(String, String)>,
) -> Result<Response, ScimError> {
    resource_type_docs(&caller.base)
        .into_iter()
        .find(|d| d["id"] == name.as_str())
        .map(|d| answer(StatusCode::OK, &d))
        .ok_or_else(|| ScimError::not_found(&format!("resource type `{name}`")))
}

pub(super) async fn schemas(caller: ScimCaller) -> Response {
    let docs = schema_docs(&caller.base);
    answer(StatusCode::OK, &list_response(docs.len() as i64, 1, docs))
}

pub(super) async fn schema(caller: ScimCaller, Path((_, id)): Path<(String, String)>) -> Result<Response, ScimError> {
    schema_docs(&caller.base)
        .into_iter()
        .find(|d| d["id"] == id.as_str())
        .map(|d| answer(StatusCode::OK, &d))
        .ok_or_else(|| ScimError::not_found(&format!("schema `{id}`")))
}
