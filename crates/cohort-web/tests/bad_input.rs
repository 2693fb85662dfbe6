//! Bad input everywhere gets a 4xx problem+json and changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::Method;
use common::{ROOT, TestApp};
use serde_json::{Value, json};

const T: &str = "/t/default/api/v1";

/// A request, the status it must get, and the field its error must name.
type Case = (Method, String, Option<Value>, u16, Option<&'static str>);

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let app = TestApp::new().await;
    let g = app.group("default", ROOT, "Sales", &[]).await;
    app.post(&format!("{T}/groups"), ROOT, json!({"name": "Other", "slug": "other"})).await.ok(201);
    let u = app.user("default", ROOT, "ann@example.com").await;
    let admin_role = app.builtin("default", ROOT, "admin").await;
    let huge = Value::String(format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024)));
    let cases: Vec<Case> = vec![
        (Method::POST, format!("{T}/groups"), Some(json!({})), 422, None),
        (Method::POST, format!("{T}/groups"), Some(json!({"name": 5})), 422, None),
        (Method::POST, format!("{T}/groups"), Some(json!({"name": "x".repeat(129)})), 422, Some("name")),
        (Method::POST, format!("{T}/groups"), Some(json!({"name": "   "})), 422, Some("name")),
        (Method::POST, format!("{T}/groups"), Some(json!({"name": "New", "slug": "Bad Slug"})), 422, Some("slug")),
        (Method::POST, format!("{T}/groups"), Some(json!({"name": "sALES"})), 409, Some("name")),
        (Method::POST, format!("{T}/groups"), Some(json!({"name": "New", "slug": "other"})), 409, Some("slug")),
        (
            Method::POST,
            format!("{T}/groups"),
            Some(json!({"name": "New", "parentIds": ["grp_unknownunknown"]})),
            422,
            Some("parentIds"),
        ),
        (
            Method::POST,
            format!("{T}/groups"),
            Some(json!({"name": "New", "parentIds": ["garbage"]})),
            422,
            Some("parentIds"),
        ),
        (Method::POST, format!("{T}/groups"), Some(json!({"name": "New", "colour": "red"})), 422, None),
        (Method::POST, format!("{T}/groups"), Some(Value::String("{\"name\": ".to_owned())), 400, None),
        (Method::POST, format!("{T}/groups"), Some(Value::String("[1, 2]".to_owned())), 422, None),
        (Method::POST, format!("{T}/groups"), Some(huge), 413, None),
        (Method::PATCH, format!("{T}/groups/{g}"), Some(json!({"name": ""})), 422, Some("name")),
        (Method::PATCH, format!("{T}/groups/{g}"), Some(json!({"applyPrivileges": "yes"})), 422, None),
        (Method::GET, format!("{T}/groups/grp_unknownunknown"), None, 404, None),
        (Method::GET, format!("{T}/groups/not-an-id"), None, 404, None),
        (Method::DELETE, format!("{T}/groups/grp_unknownunknown"), None, 404, None),
        (
            Method::POST,
            format!("{T}/groups/{g}/members"),
            Some(json!({"userId": "usr_unknownunknown"})),
            422,
            Some("userId"),
        ),
        (
            Method::POST,
            format!("{T}/groups/{g}/members"),
            Some(json!({"userId": u, "role": "owner"})),
            422,
            Some("role"),
        ),
        (
            Method::POST,
            format!("{T}/groups/{g}/members"),
            Some(json!({"userId": u, "expiresAt": "tomorrow"})),
            422,
            Some("expiresAt"),
        ),
        (Method::POST, format!("{T}/groups/{g}/members"), Some(json!({"role": "member"})), 422, None),
        (
            Method::POST,
            format!("{T}/groups/{g}/roles"),
            Some(json!({"roleId": "rol_unknownunknown"})),
            422,
            Some("roleId"),
        ),
        (Method::POST, format!("{T}/users"), Some(json!({"email": "not-an-email"})), 422, Some("email")),
        (Method::POST, format!("{T}/users"), Some(json!({"email": "ANN@example.com"})), 409, Some("email")),
        (
            Method::POST,
            format!("{T}/users"),
            Some(json!({"email": "b@example.com", "attributes": {"a": 1}})),
            422,
            Some("attributes"),
        ),
        (
            Method::POST,
            format!("{T}/users"),
            Some(json!({"email": "b@example.com", "status": "gone"})),
            422,
            Some("status"),
        ),
        (
            Method::POST,
            format!("{T}/roles"),
            Some(json!({"name": "R", "permissions": ["Bad Perm"]})),
            422,
            Some("permissions"),
        ),
        (Method::POST, format!("{T}/roles"), Some(json!({"name": "ADMIN", "permissions": []})), 409, Some("name")),
        (Method::PATCH, format!("{T}/roles/{admin_role}"), Some(json!({"permissions": ["a:b"]})), 409, None),
        (Method::DELETE, format!("{T}/roles/{admin_role}"), None, 409, None),
        (Method::GET, format!("{T}/groups?limit=100000"), None, 400, None),
        (Method::GET, format!("{T}/groups?bogus=1"), None, 400, None),
        (
            Method::POST,
            format!("{T}/check/batch"),
            Some(json!({"checks": vec![json!({"userId": u, "permission": "a"}); 1001]})),
            422,
            Some("checks"),
        ),
        (Method::GET, format!("{T}/nowhere"), None, 404, None),
        (Method::GET, "/t/nosuchtenant/api/v1/groups".to_owned(), None, 404, None),
    ];
    let before = app.fingerprint().await;
    for (method, path, body, status, field) in cases {
        let a = app.call(method.clone(), &path, Some(ROOT), body).await;
        a.problem(status);
        assert!(!a.body["detail"].as_str().unwrap().is_empty());
        if let Some(field) = field {
            let fields: Vec<&str> =
                a.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
            assert!(fields.contains(&field), "{method} {path}: {:#}", a.body);
        }
    }
    assert_eq!(app.fingerprint().await, before);
}

#[tokio::test]
async fn several_field_errors_are_reported_together() {
    let app = TestApp::new().await;
    let a = app
        .post(&format!("{T}/groups"), ROOT, json!({"name": "", "slug": "NO", "description": "x".repeat(2001)}))
        .await;
    a.problem(422);
    let fields: Vec<&str> = a.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "slug", "description"]);
}
