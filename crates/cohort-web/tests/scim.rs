//! The SCIM face: the request sequences Entra ID and Okta send, filters, PATCH forms, errors,
//! tokens confined to one tenant and to SCIM, and memberships of other sources left alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::Method;
use common::{Answer, ROOT, TestApp};
use serde_json::{Value, json};

const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const BASE: &str = "/t/default/scim/v2";

fn ops(ops: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": ops})
}

/// Asserts a SCIM error with this status (and `scimType`, when given).
fn scim_error(a: &Answer, status: u16, scim_type: Option<&str>) {
    assert_eq!(a.status.as_u16(), status, "{:#}", a.body);
    assert_eq!(a.headers.get("content-type").unwrap(), "application/scim+json");
    assert_eq!(a.body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]));
    assert_eq!(a.body["status"], status.to_string());
    if let Some(t) = scim_type {
        assert_eq!(a.body["scimType"], t, "{:#}", a.body);
    }
}

async fn get(app: &TestApp, token: &str, path: &str) -> Answer {
    app.scim(Method::GET, &format!("{BASE}{path}"), token, None).await
}

async fn send(app: &TestApp, token: &str, method: Method, path: &str, body: Value) -> Answer {
    app.scim(method, &format!("{BASE}{path}"), token, Some(body)).await
}

/// The groups a user is directly in, seen through the REST face.
async fn direct_groups(app: &TestApp, user: &str) -> Vec<String> {
    let a = app.get(&format!("/t/default/api/v1/users/{user}/groups"), ROOT).await;
    a.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["direct"] == true)
        .map(|g| g["groupId"].as_str().unwrap().to_owned())
        .collect()
}

fn total(a: &Answer) -> i64 {
    a.ok(200)["totalResults"].as_i64().unwrap()
}

#[tokio::test]
async fn entra_id_provisions_a_user_a_group_members_and_deactivates() {
    let app = TestApp::new().await;
    let t = app.scim_token("default", ROOT).await;
    // Entra first looks the user up by its matching attribute.
    let a = get(&app, &t, "/Users?filter=userName+eq+%22alice%40contoso.com%22").await;
    assert_eq!(total(&a), 0);
    let a = send(
        &app,
        &t,
        Method::POST,
        "/Users",
        json!({
            "schemas": [CORE_USER, ENTERPRISE],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7a2c8f6e0001",
            "userName": "alice@contoso.com",
            "active": true,
            "displayName": "Alice Smith",
            "emails": [{"primary": true, "type": "work", "value": "alice@contoso.com"}],
            "name": {"formatted": "Alice Smith", "familyName": "Smith", "givenName": "Alice"},
            "title": "Engineer",
            ENTERPRISE: {"employeeNumber": "42", "department": "Sales"},
        }),
    )
    .await;
    let user = a.ok(201);
    let uid = user["id"].as_str().unwrap().to_owned();
    assert!(uid.starts_with("usr_"), "the externalId is never taken for the id");
    assert_eq!(user["externalId"], "0a21f0f2-8d2a-4f8e-bf98-7a2c8f6e0001");
    assert_eq!(user[ENTERPRISE]["department"], "Sales");
    assert_eq!(user["meta"]["location"], format!("http://localhost/t/default/scim/v2/Users/{uid}"));
    assert_eq!(a.headers.get("etag").unwrap().to_str().unwrap(), user["meta"]["version"].as_str().unwrap());
    let rest = app.get(&format!("/t/default/api/v1/users/{uid}"), ROOT).await;
    assert_eq!(rest.ok(200)["userName"], "alice@contoso.com");
    assert_eq!(rest.ok(200)["externalId"], "0a21f0f2-8d2a-4f8e-bf98-7a2c8f6e0001");
    let a = get(&app, &t, "/Users?filter=userName+eq+%22ALICE%40contoso.com%22").await;
    assert_eq!(total(&a), 1, "userName compares case-insensitively");

    let a = get(&app, &t, "/Groups?excludedAttributes=members&filter=displayName+eq+%22Sales+Team%22").await;
    assert_eq!(total(&a), 0);
    let a = send(
        &app,
        &t,
        Method::POST,
        "/Groups",
        json!({"schemas": [CORE_GROUP], "externalId": "5f1d", "displayName": "Sales Team", "members": []}),
    )
    .await;
    let gid = a.ok(201)["id"].as_str().unwrap().to_owned();
    let rest = app.get(&format!("/t/default/api/v1/groups/{gid}"), ROOT).await;
    assert_eq!(rest.ok(200)["source"], "scim");

    let a = send(
        &app,
        &t,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        ops(json!([{"op": "Add", "path": "members", "value": [{"value": uid}]}])),
    )
    .await;
    assert_eq!(a.status.as_u16(), 204, "{:#}", a.body);
    assert_eq!(direct_groups(&app, &uid).await, vec![gid.clone()]);
    let a = get(&app, &t, &format!("/Users/{uid}")).await;
    assert_eq!(a.ok(200)["groups"][0]["value"], gid);
    assert_eq!(a.ok(200)["groups"][0]["type"], "direct");
    let a = get(&app, &t, &format!("/Groups?filter=members[value+eq+%22{uid}%22]")).await;
    assert_eq!(total(&a), 1);

    let a = send(
        &app,
        &t,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        ops(json!([{"op": "Remove", "path": "members", "value": [{"value": uid}]}])),
    )
    .await;
    assert_eq!(a.status.as_u16(), 204, "{:#}", a.body);
    assert!(direct_groups(&app, &uid).await.is_empty());

    // Entra changes attributes one operation each, with "True"/"False" as strings.
    let a = send(
        &app,
        &t,
        Method::PATCH,
        &format!("/Users/{uid}"),
        ops(json!([
            {"op": "Replace", "path": "displayName", "value": "Alice S."},
            {"op": "Replace", "path": format!("{ENTERPRISE}:department"), "value": "Marketing"},
            {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "alice.s@contoso.com"},
        ])),
    )
    .await;
    let u = a.ok(200);
    assert_eq!(
        (u["displayName"].clone(), u[ENTERPRISE]["department"].clone()),
        (json!("Alice S."), json!("Marketing"))
    );
    assert_eq!(u["emails"][0]["value"], "alice.s@contoso.com");
    let a = send(
        &app,
        &t,
        Method::PATCH,
        &format!("/Users/{uid}"),
        ops(json!([{"op": "Replace", "path": "active", "value": "False"}])),
    )
    .await;
    assert_eq!(a.ok(200)["active"], false);
    let rest = app.get(&format!("/t/default/api/v1/users/{uid}"), ROOT).await;
    assert_eq!(rest.ok(200)["status"], "suspended");

    let a = app.scim(Method::DELETE, &format!("{BASE}/Users/{uid}"), &t, None).await;
    assert_eq!(a.status.as_u16(), 204);
    scim_error(&get(&app, &t, &format!("/Users/{uid}")).await, 404, None);
    app.assert_consistent().await;
}

#[tokio::test]
async fn okta_provisions_updates_groups_and_deactivates() {
    let app = TestApp::new().await;
    let t = app.scim_token("default", ROOT).await;
    let a = get(&app, &t, "/Users?filter=userName%20eq%20%22bob%40example.com%22&startIndex=1&count=100").await;
    assert_eq!(total(&a), 0);
    let a = send(
        &app,
        &t,
        Method::POST,
        "/Users",
        json!({
            "schemas": [CORE_USER],
            "userName": "bob@example.com",
            "name": {"givenName": "Bob", "familyName": "Jones"},
            "emails": [{"primary": true, "value": "bob@example.com", "type": "work"}],
            "displayName": "Bob Jones",
            "locale": "en-US",
            "externalId": "00u1abcd",
            "groups": [],
            "password": "not-kept-1A!",
            "active": true,
        }),
    )
    .await;
    let uid = a.ok(201)["id"].as_str().unwrap().to_owned();
    assert_eq!(a.ok(201)["displayName"], "Bob Jones");
    // Okta updates a profile with PUT of the whole user.
    let a = send(
        &app,
        &t,
        Method::PUT,
        &format!("/Users/{uid}"),
        json!({
            "schemas": [CORE_USER],
            "id": uid,
            "userName": "bob@example.com",
            "name": {"givenName": "Robert", "familyName": "Jones"},
            "emails": [{"primary": true, "value": "bob@example.com", "type": "work"}],
            "active": true,
            "title": "Manager",
        }),
    )
    .await;
    assert_eq!(a.ok(200)["displayName"], "Robert Jones");
    assert_eq!(a.ok(200)["title"], "Manager");
    assert!(a.ok(200).get("externalId").is_none(), "PUT replaces: an omitted externalId is cleared");

    let a = send(
        &app,
        &t,
        Method::POST,
        "/Groups",
        json!({"schemas": [CORE_GROUP], "displayName": "Engineering", "members": []}),
    )
    .await;
    let gid = a.ok(201)["id"].as_str().unwrap().to_owned();
    let a = send(
        &app,
        &t,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        ops(json!([{"op": "replace", "value": {"id": gid, "displayName": "Engineering EU"}}])),
    )
    .await;
    assert_eq!(a.status.as_u16(), 204, "{:#}", a.body);
    assert_eq!(get(&app, &t, &format!("/Groups/{gid}")).await.ok(200)["displayName"], "Engineering EU");
    let a = send(
        &app,
        &t,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        ops(json!([{"op": "add", "path": "members", "value": [{"value": uid, "display": "bob@example.com"}]}])),
    )
    .await;
    assert_eq!(a.status.as_u16(), 204, "{:#}", a.body);
    let a = get(&app, &t, &format!("/Groups/{gid}")).await;
    assert_eq!(
        a.ok(200)["members"],
        json!([{"value": uid, "type": "User", "$ref": format!("http://localhost/t/default/scim/v2/Users/{uid}")}])
    );
    let a = send(
        &app,
        &t,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        ops(json!([{"op": "remove", "path": format!("members[value eq \"{uid}\"]")}])),
    )
    .await;
    assert_eq!(a.status.as_u16(), 204, "{:#}", a.body);
    assert!(direct_groups(&app, &uid).await.is_empty());
    // Okta deactivates with a partial resource.
    let a = send(
        &app,
        &t,
        Method::PATCH,
        &format!("/Users/{uid}"),
        ops(json!([{"op": "replace", "value": {"active": false}}])),
    )
    .await;
    assert_eq!(a.ok(200)["active"], false);
    let a = app.scim(Method::DELETE, &format!("{BASE}/Groups/{gid}"), &t, None).await;
    assert_eq!(a.status.as_u16(), 204);
    scim_error(&get(&app, &t, &format!("/Groups/{gid}")).await, 404, None);
    app.assert_consistent().await;
}

#[tokio::test]
async fn a_manual_membership_survives_scim_removal_and_groups_nest() {
    let app = TestApp::new().await;
    let t = app.scim_token("default", ROOT).await;
    let uid = app.user("default", ROOT, "carol@example.com").await;
    let a = send(&app, &t, Method::POST, "/Groups", json!({"displayName": "Ops", "members": [{"value": uid}]})).await;
    let gid = a.ok(201)["id"].as_str().unwrap().to_owned();
    app.post(&format!("/t/default/api/v1/groups/{gid}/members"), ROOT, json!({"userId": uid})).await.ok(201);
    let a = send(&app, &t, Method::PATCH, &format!("/Groups/{gid}"), ops(json!([{"op": "remove", "path": "members"}])))
        .await;
    assert_eq!(a.status.as_u16(), 204, "{:#}", a.body);
    let rows = app.get(&format!("/t/default/api/v1/groups/{gid}/members"), ROOT).await;
    let rows = rows.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["source"], "manual");

    // A member of type Group is nested under the group; a cycle is refused.
    let child = send(&app, &t, Method::POST, "/Groups", json!({"displayName": "Ops EU"})).await.id();
    let a = send(
        &app,
        &t,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        ops(json!([{"op": "add", "path": "members", "value": [{"value": child, "type": "Group"}]}])),
    )
    .await;
    assert_eq!(a.status.as_u16(), 204, "{:#}", a.body);
    let rest = app.get(&format!("/t/default/api/v1/groups/{child}"), ROOT).await;
    assert_eq!(rest.ok(200)["parentIds"], json!([gid]));
    let before = app.fingerprint().await;
    let a = send(
        &app,
        &t,
        Method::PATCH,
        &format!("/Groups/{child}"),
        ops(json!([{"op": "add", "path": "members", "value": [{"value": gid}]}])),
    )
    .await;
    scim_error(&a, 409, None);
    assert_eq!(app.fingerprint().await, before);
    app.assert_consistent().await;
}

#[tokio::test]
async fn filters_pages_sorting_and_projection() {
    let app = TestApp::new().await;
    let t = app.scim_token("default", ROOT).await;
    for (name, email, title, active) in [
        ("ann", "ann@x.com", "Engineer", true),
        ("ben", "ben@y.org", "Senior Engineer", true),
        ("cat", "cat@x.com", "Manager", false),
        ("dan", "dan@x.com", "", true),
    ] {
        send(
            &app,
            &t,
            Method::POST,
            "/Users",
            json!({"userName": name, "emails": [{"value": email}], "title": title, "active": active}),
        )
        .await
        .ok(201);
    }
    let count = |f: &'static str| {
        let app = &app;
        let t = t.clone();
        async move {
            let q: String = url_encode(f);
            let a = get(app, &t, &format!("/Users?filter={q}&attributes=userName")).await;
            let names: Vec<String> = a.ok(200)["Resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["userName"].as_str().unwrap().to_owned())
                .collect();
            names.into_iter().filter(|n| !n.starts_with("admin@")).collect::<Vec<_>>()
        }
    };
    assert_eq!(count(r#"userName eq "BEN""#).await, ["ben"]);
    assert_eq!(count(r#"userName ne "ben""#).await, ["ann", "cat", "dan"]);
    assert_eq!(count(r#"title co "engineer""#).await, ["ann", "ben"]);
    assert_eq!(count(r#"title sw "Senior""#).await, ["ben"]);
    assert_eq!(count(r#"emails ew "@x.com""#).await, ["ann", "cat", "dan"]);
    assert_eq!(count(r#"title pr"#).await, ["ann", "ben", "cat"]);
    assert_eq!(count(r#"active eq false"#).await, ["cat"]);
    assert_eq!(count(r#"userName gt "b" and userName lt "d""#).await, ["ben", "cat"]);
    assert_eq!(count(r#"userName ge "ben" and userName le "cat""#).await, ["ben", "cat"]);
    assert_eq!(count(r#"not (title pr) and emails[type eq "work" and value ew "@x.com"]"#).await, ["dan"]);
    assert_eq!(count(r#"(userName eq "ann" or userName eq "dan") and active eq true"#).await, ["ann", "dan"]);
    assert_eq!(
        count(r#"meta.created gt "2000-01-01T00:00:00Z" and emails[type eq "home"]"#).await,
        Vec::<String>::new()
    );

    let a = get(&app, &t, "/Users?sortBy=userName&sortOrder=descending&startIndex=2&count=2").await;
    let page = a.ok(200);
    assert_eq!(page["totalResults"], 5);
    assert_eq!((page["startIndex"].clone(), page["itemsPerPage"].clone()), (json!(2), json!(2)));
    let names: Vec<&str> =
        page["Resources"].as_array().unwrap().iter().map(|r| r["userName"].as_str().unwrap()).collect();
    assert_eq!(names, ["cat", "ben"]);
    let a = get(&app, &t, "/Users?filter=userName+eq+%22ann%22&excludedAttributes=emails,meta").await;
    let r = &a.ok(200)["Resources"][0];
    assert!(
        r.get("emails").is_none() && r.get("meta").is_none() && r.get("userName").is_some() && r.get("id").is_some()
    );
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn bad_requests_get_scim_errors_and_change_nothing() {
    let app = TestApp::new().await;
    let t = app.scim_token("default", ROOT).await;
    let uid = send(&app, &t, Method::POST, "/Users", json!({"userName": "eve@x.com"})).await.id();
    let gid = send(&app, &t, Method::POST, "/Groups", json!({"displayName": "G"})).await.id();
    let before = app.fingerprint().await;
    for (filter, kind) in [
        ("userName eq", "invalidFilter"),
        ("userName zz \"a\"", "invalidFilter"),
        ("(userName eq \"a\"", "invalidFilter"),
        ("shoeSize eq \"9\"", "invalidFilter"),
        ("active eq \"yes\"", "invalidFilter"),
        ("meta.created gt \"yesterday\"", "invalidFilter"),
    ] {
        let a = get(&app, &t, &format!("/Users?filter={}", url_encode(filter))).await;
        scim_error(&a, 400, Some(kind));
    }
    scim_error(&get(&app, &t, "/Users?count=ten").await, 400, Some("invalidValue"));
    scim_error(&get(&app, &t, "/Users?sortBy=shoeSize").await, 400, Some("invalidValue"));
    let bad_patches = [
        (json!({"Operations": [{"op": "add", "path": "title", "value": "x"}]}), "invalidSyntax"),
        (ops(json!([{"op": "frobnicate", "path": "title", "value": "x"}])), "invalidSyntax"),
        (ops(json!([{"op": "add", "path": "emails[type eq", "value": "x"}])), "invalidPath"),
        (ops(json!([{"op": "replace", "path": "id", "value": "usr_000000000000"}])), "mutability"),
        (ops(json!([{"op": "replace", "path": "groups", "value": []}])), "mutability"),
        (ops(json!([{"op": "remove"}])), "noTarget"),
        (ops(json!([{"op": "replace", "path": "emails[type eq \"home\"]", "value": {"value": "a@b.c"}}])), "noTarget"),
        (ops(json!([{"op": "replace", "path": "active", "value": "maybe"}])), "invalidValue"),
        (ops(json!([{"op": "add", "path": "shoeSize", "value": "44"}])), "invalidPath"),
        (ops(json!([{"op": "add", "path": "urn:example:ext:1.0:User:x", "value": "1"}])), "invalidPath"),
    ];
    for (body, kind) in bad_patches {
        scim_error(&send(&app, &t, Method::PATCH, &format!("/Users/{uid}"), body).await, 400, Some(kind));
    }
    let bad_group_patches = [
        (ops(json!([{"op": "add", "path": "members[value eq \"x\"]", "value": []}])), "invalidPath"),
        (ops(json!([{"op": "add", "path": "owners", "value": []}])), "invalidPath"),
        (ops(json!([{"op": "add", "path": "members", "value": [{"value": "nobody"}]}])), "invalidValue"),
        (ops(json!([{"op": "add", "path": "members", "value": [{"value": "usr_000000000000"}]}])), "invalidValue"),
        (ops(json!([{"op": "remove", "path": "displayName"}])), "mutability"),
    ];
    for (body, kind) in bad_group_patches {
        scim_error(&send(&app, &t, Method::PATCH, &format!("/Groups/{gid}"), body).await, 400, Some(kind));
    }
    for body in [
        json!({"emails": [{"value": "x@y.z"}]}),
        json!({"userName": 5}),
        json!({"userName": "z@x.com", "active": "maybe"}),
        json!([1]),
    ] {
        scim_error(&send(&app, &t, Method::POST, "/Users", body).await, 400, None);
    }
    let a = app.scim(Method::POST, &format!("{BASE}/Users"), &t, Some(json!("{not json"))).await;
    scim_error(&a, 400, Some("invalidSyntax"));
    let huge = "x".repeat(2 * 1024 * 1024);
    let a =
        app.scim(Method::POST, &format!("{BASE}/Users"), &t, Some(json!({"userName": huge}).to_string().into())).await;
    scim_error(&a, 413, None);
    let a = send(&app, &t, Method::POST, "/Users", json!({"userName": "EVE@x.com"})).await;
    scim_error(&a, 409, Some("uniqueness"));
    scim_error(&get(&app, &t, "/Nonsense").await, 404, None);
    assert_eq!(app.fingerprint().await, before);
}

#[tokio::test]
async fn if_match_guards_changes() {
    let app = TestApp::new().await;
    let t = app.scim_token("default", ROOT).await;
    let a = send(&app, &t, Method::POST, "/Users", json!({"userName": "fay@x.com"})).await;
    let uid = a.id();
    let etag = a.headers.get("etag").unwrap().to_str().unwrap().to_owned();
    let put = |tag: &'static str| {
        let body = json!({"userName": "fay@x.com", "title": tag});
        let path = format!("{BASE}/Users/{uid}");
        let router = app.router.clone();
        let token = t.clone();
        let etag = etag.clone();
        async move {
            let tag_header = if tag == "current" { etag } else { "W/\"1\"".to_owned() };
            let req = axum::http::Request::builder()
                .method(Method::PUT)
                .uri(path)
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/scim+json")
                .header("if-match", tag_header)
                .body(axum::body::Body::from(body.to_string()))
                .unwrap();
            tower::ServiceExt::oneshot(router, req).await.unwrap().status().as_u16()
        }
    };
    assert_eq!(put("stale").await, 412);
    assert_eq!(put("current").await, 200);
}

/// Sends `method` to `path` with `If-Match: etag`; the status.
async fn conditional(app: &TestApp, token: &str, method: Method, path: String, etag: &str, body: Value) -> u16 {
    conditional_on(app.router.clone(), token.to_owned(), method, path, etag.to_owned(), body).await
}

async fn conditional_on(
    router: axum::Router,
    token: String,
    method: Method,
    path: String,
    etag: String,
    body: Value,
) -> u16 {
    let req = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/scim+json")
        .header("if-match", etag)
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    tower::ServiceExt::oneshot(router, req).await.unwrap().status().as_u16()
}

#[tokio::test]
async fn writers_expecting_one_version_cannot_both_pass_if_match() {
    let app = TestApp::new().await;
    let t = app.scim_token("default", ROOT).await;
    let a = send(&app, &t, Method::POST, "/Users", json!({"userName": "gus@x.com"})).await;
    let uid = a.id();
    let user_tag = a.headers.get("etag").unwrap().to_str().unwrap().to_owned();
    let a = send(&app, &t, Method::POST, "/Groups", json!({"displayName": "Racers"})).await;
    let gid = a.id();
    let group_tag = a.headers.get("etag").unwrap().to_str().unwrap().to_owned();
    // The clock stands still: the versions still differ after each change.
    const WRITERS: usize = 8;
    let mut writers = Vec::new();
    for i in 0..WRITERS {
        let body = json!({"userName": "gus@x.com", "title": format!("writer {i}")});
        let (path, tag) = (format!("{BASE}/Users/{uid}"), user_tag.clone());
        writers.push(tokio::spawn(conditional_on(app.router.clone(), t.clone(), Method::PUT, path, tag, body)));
        let op = json!({"op": "replace", "path": "displayName", "value": format!("Racers {i}")});
        let body = json!({"schemas": [PATCH_OP], "Operations": [op]});
        let (path, tag) = (format!("{BASE}/Groups/{gid}"), group_tag.clone());
        writers.push(tokio::spawn(conditional_on(app.router.clone(), t.clone(), Method::PATCH, path, tag, body)));
    }
    let mut statuses = Vec::new();
    for w in writers {
        statuses.push(w.await.unwrap());
    }
    let users: Vec<u16> = statuses.iter().step_by(2).copied().collect();
    let groups: Vec<u16> = statuses.iter().skip(1).step_by(2).copied().collect();
    for (what, statuses) in [("user PUT", users), ("group PATCH", groups)] {
        let passed = statuses.iter().filter(|s| **s < 300).count();
        assert_eq!(passed, 1, "{what}: one writer passes If-Match, the others get 412: {statuses:?}");
        assert!(statuses.iter().all(|s| *s < 300 || *s == 412), "{what}: {statuses:?}");
    }
    // The version moved: the old tag no longer opens a delete, the new one does.
    let stale = conditional(&app, &t, Method::DELETE, format!("{BASE}/Users/{uid}"), &user_tag, Value::Null).await;
    assert_eq!(stale, 412);
    let now = get(&app, &t, &format!("/Users/{uid}")).await;
    let tag = now.headers.get("etag").unwrap().to_str().unwrap().to_owned();
    assert_ne!(tag, user_tag);
    assert_eq!(conditional(&app, &t, Method::DELETE, format!("{BASE}/Users/{uid}"), &tag, Value::Null).await, 204);
}

#[tokio::test]
async fn scim_tokens_open_one_tenant_and_only_scim() {
    let app = TestApp::new().await;
    let b_admin = app.tenant("bravo").await;
    let a_scim = app.scim_token("default", ROOT).await;
    let b_scim = app.scim_token("bravo", &b_admin).await;
    // Tenant B's token does not open tenant A's SCIM face either.
    scim_error(&send(&app, &b_scim, Method::POST, "/Users", json!({"userName": "x@bravo.test"})).await, 404, None);
    let b_user =
        app.scim(Method::POST, "/t/bravo/scim/v2/Users", &b_scim, Some(json!({"userName": "y@bravo.test"}))).await.id();
    let b_group =
        app.scim(Method::POST, "/t/bravo/scim/v2/Groups", &b_scim, Some(json!({"displayName": "B"}))).await.id();
    let before = app.fingerprint().await;
    // Tenant A's SCIM token: B's ids are unknown, B's endpoints are closed, lists hold only A.
    for path in [format!("{BASE}/Users/{b_user}"), format!("{BASE}/Groups/{b_group}")] {
        scim_error(&app.scim(Method::GET, &path, &a_scim, None).await, 404, None);
        scim_error(&app.scim(Method::DELETE, &path, &a_scim, None).await, 404, None);
        scim_error(
            &app.scim(Method::PUT, &path, &a_scim, Some(json!({"userName": "z", "displayName": "z"}))).await,
            404,
            None,
        );
        scim_error(
            &app.scim(Method::PATCH, &path, &a_scim, Some(ops(json!([{"op": "remove", "path": "members"}])))).await,
            404,
            None,
        );
    }
    let a = app
        .scim(
            Method::PATCH,
            &format!("{BASE}/Groups/{b_group}"),
            &a_scim,
            Some(ops(json!([{"op": "add", "path": "members", "value": [{"value": b_user}]}]))),
        )
        .await;
    scim_error(&a, 404, None);
    scim_error(&app.scim(Method::GET, "/t/bravo/scim/v2/Users", &a_scim, None).await, 404, None);
    let mine = get(&app, &a_scim, "/Users?count=1000").await;
    assert!(
        mine.ok(200)["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| !u["userName"].as_str().unwrap().contains("bravo"))
    );
    let a = get(&app, &a_scim, &format!("/Groups?filter=members+eq+%22{b_user}%22")).await;
    assert_eq!(total(&a), 0);
    // A SCIM token cannot call the admin REST API; an admin token cannot call SCIM.
    app.get("/t/default/api/v1/users", &a_scim).await.problem(403);
    app.post("/t/default/api/v1/tokens", &a_scim, json!({"name": "escalate"})).await.problem(403);
    scim_error(&get(&app, ROOT, "/Users").await, 403, None);
    let a = app.call(Method::GET, &format!("{BASE}/Users"), None, None).await;
    scim_error(&a, 401, None);
    scim_error(&get(&app, "cohort_not_a_real_token_000000000000000000", "/Users").await, 401, None);
    assert_eq!(app.fingerprint().await, before);
    // Only holders of cohort:tokens.manage make SCIM tokens.
    let u = app.user("default", ROOT, "plain@default.test").await;
    let plain = app.token_for("default", ROOT, &u).await;
    app.post("/t/default/api/v1/tokens", &plain, json!({"name": "idp", "scope": "scim"})).await.problem(403);
}

#[tokio::test]
async fn discovery_describes_what_is_supported() {
    let app = TestApp::new().await;
    let t = app.scim_token("default", ROOT).await;
    let spc = get(&app, &t, "/ServiceProviderConfig").await;
    let spc = spc.ok(200);
    assert_eq!(spc["patch"]["supported"], true);
    assert_eq!(spc["bulk"]["supported"], false);
    assert_eq!(spc["filter"]["supported"], true);
    let types = get(&app, &t, "/ResourceTypes").await;
    let names: Vec<&str> =
        types.ok(200)["Resources"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["User", "Group"]);
    let schemas = get(&app, &t, "/Schemas").await;
    assert_eq!(schemas.ok(200)["totalResults"], 3);
    let user = get(&app, &t, &format!("/Schemas/{CORE_USER}")).await;
    let attrs: Vec<&str> =
        user.ok(200)["attributes"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(attrs, ["userName", "displayName", "title", "active", "emails", "groups"]);
    assert_eq!(get(&app, &t, "/ResourceTypes/Group").await.ok(200)["endpoint"], "/Groups");
    scim_error(&get(&app, &t, "/Schemas/urn:nope").await, 404, None);
}

#[tokio::test]
async fn enterprise_attributes_map_onto_user_attributes() {
    let app = TestApp::new().await;
    let t = app.scim_token("default", ROOT).await;
    let boss = send(&app, &t, Method::POST, "/Users", json!({"userName": "boss@x.com"})).await.id();
    let a = send(
        &app,
        &t,
        Method::POST,
        "/Users",
        json!({"userName": "emp@x.com", ENTERPRISE: {"employeeNumber": "701", "costCenter": "CC-9",
            "organization": "Acme", "division": "Tools", "department": "R&D", "manager": {"value": boss}}}),
    )
    .await;
    let uid = a.id();
    let ext = a.ok(201)[ENTERPRISE].clone();
    assert_eq!(ext["employeeNumber"], "701");
    assert_eq!(ext["manager"]["value"], json!(boss));
    assert_eq!(ext["manager"]["$ref"], format!("http://localhost/t/default/scim/v2/Users/{boss}"));
    let rest = app.get(&format!("/t/default/api/v1/users/{uid}"), ROOT).await;
    let attrs = rest.ok(200)["attributes"].clone();
    assert_eq!((attrs["costCenter"].clone(), attrs["manager"].clone()), (json!("CC-9"), json!(boss)));
    assert_eq!(rest.body["department"], "R&D");
    // An attribute set through the REST API survives SCIM changes to the enterprise ones.
    let mut attrs = attrs.as_object().unwrap().clone();
    attrs.insert("badge".to_owned(), json!("blue"));
    app.patch(&format!("/t/default/api/v1/users/{uid}"), ROOT, json!({"attributes": attrs})).await.ok(200);
    let a = send(
        &app,
        &t,
        Method::PATCH,
        &format!("/Users/{uid}"),
        ops(json!([{"op": "remove", "path": format!("{ENTERPRISE}:costCenter")},
                   {"op": "replace", "path": format!("{ENTERPRISE}:division"), "value": "Parts"}])),
    )
    .await;
    let ext = a.ok(200)[ENTERPRISE].clone();
    assert!(ext.get("costCenter").is_none());
    assert_eq!(ext["division"], "Parts");
    let rest = app.get(&format!("/t/default/api/v1/users/{uid}"), ROOT).await;
    assert_eq!(rest.ok(200)["attributes"]["badge"], "blue");
    assert!(rest.body["attributes"].get("costCenter").is_none());
}

#[tokio::test]
async fn links_use_the_public_url_when_one_is_set() {
    let config =
        cohort_service::Config { public_url: Some("https://access.example.com/".to_owned()), ..Default::default() };
    let app = TestApp::with_config(config).await;
    let t = app.scim_token("default", ROOT).await;
    let a = send(&app, &t, Method::POST, "/Users", json!({"userName": "pub@x.com"})).await;
    let id = a.id();
    assert_eq!(a.ok(201)["meta"]["location"], format!("https://access.example.com/t/default/scim/v2/Users/{id}"));
    assert_eq!(
        a.headers["location"].to_str().unwrap(),
        format!("https://access.example.com/t/default/scim/v2/Users/{id}")
    );
}

#[tokio::test]
async fn a_group_is_created_with_its_members_or_not_at_all() {
    let app = TestApp::new().await;
    let t = app.scim_token("default", ROOT).await;
    let other = send(&app, &t, Method::POST, "/Groups", json!({"displayName": "Other"})).await.id();
    let before = app.fingerprint().await;
    // An unknown member refuses the whole creation: no group is left behind without it.
    let a = send(
        &app,
        &t,
        Method::POST,
        "/Groups",
        json!({"displayName": "New", "members": [{"value": "usr_000000000000"}]}),
    )
    .await;
    scim_error(&a, 400, Some("invalidValue"));
    let a = send(&app, &t, Method::POST, "/Groups", json!({"displayName": "New", "members": [{"value": other}]})).await;
    scim_error(&a, 400, Some("invalidValue"));
    assert_eq!(app.fingerprint().await, before);
    let uid = app.user("default", ROOT, "m@x.com").await;
    let a = send(&app, &t, Method::POST, "/Groups", json!({"displayName": "New", "members": [{"value": uid}]})).await;
    let gid = a.ok(201)["id"].as_str().unwrap().to_owned();
    assert_eq!(a.body["members"][0]["value"], json!(uid));
    let rows = app.get(&format!("/t/default/api/v1/groups/{gid}/members"), ROOT).await;
    assert_eq!(rows.ok(200)["items"][0]["source"], "scim");
    app.assert_consistent().await;
}
