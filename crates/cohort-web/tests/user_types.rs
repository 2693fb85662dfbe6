//! User types: the tenant keeps a list (always `member`), users carry one, a group's
//! `memberTypes` restricts who may join. A refused join is a 422 through every face (REST,
//! batch, CSV, SCIM, creating a group or a user with members); rules skip users of other
//! types; changing a user's type or a group's list is held to the same rule.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::Method;
use common::{ROOT, TestApp};
use serde_json::json;

const T: &str = "/t/default/api/v1";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

async fn with_types(app: &TestApp) {
    let a = app
        .call(Method::PUT, &format!("{T}/user-types"), Some(ROOT), Some(json!({"types": ["member", "customer"]})))
        .await;
    let names: Vec<&str> = a.ok(200)["items"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["customer", "member"]);
}

async fn typed_user(app: &TestApp, email: &str, user_type: &str) -> String {
    let a = app.post(&format!("{T}/users"), ROOT, json!({"email": email, "type": user_type})).await;
    assert_eq!(a.ok(201)["type"], user_type);
    a.id()
}

async fn members(app: &TestApp, group: &str) -> Vec<(String, String)> {
    let a = app.get(&format!("{T}/groups/{group}/members"), ROOT).await;
    let mut out: Vec<(String, String)> = a.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["userId"].as_str().unwrap().to_owned(), m["source"].as_str().unwrap().to_owned()))
        .collect();
    out.sort();
    out
}

fn says_type(a: &common::Answer) {
    a.problem(422);
    assert!(a.body.to_string().contains("admits only users of type `customer`"), "{}", a.body);
}

#[tokio::test]
async fn the_tenant_keeps_its_list_and_a_user_has_a_type_from_it() {
    let app = TestApp::new().await;
    let list = app.get(&format!("{T}/user-types"), ROOT).await;
    assert_eq!(list.ok(200)["items"], json!([{"name": "member", "users": 1, "groups": 0}]), "the admin is a member");
    let me = app.get(&format!("{T}/users"), ROOT).await;
    assert_eq!(me.ok(200)["items"][0]["type"], "member");
    // A type the tenant does not keep is refused, and so is a list without `member`.
    let a = app.post(&format!("{T}/users"), ROOT, json!({"email": "c@example.com", "type": "customer"})).await;
    a.problem(422);
    assert!(a.body.to_string().contains("not one of this tenant's user types"), "{}", a.body);
    let path = format!("{T}/user-types");
    let put = |types: serde_json::Value| app.call(Method::PUT, &path, Some(ROOT), Some(json!({ "types": types })));
    put(json!(["customer"])).await.problem(422);
    put(json!(["member", "Bad Type"])).await.problem(422);
    with_types(&app).await;
    let c = typed_user(&app, "c@example.com", "customer").await;
    // A type in use cannot be removed; once unused it can.
    let a = put(json!(["member"])).await;
    a.problem(409);
    assert!(a.body.to_string().contains("`customer` is still in use (1 users"), "{}", a.body);
    app.patch(&format!("{T}/users/{c}"), ROOT, json!({"type": "member"})).await.ok(200);
    put(json!(["member"])).await.ok(200);
    // Only an admin changes the list; anyone who reads users reads it.
    let u = app.user("default", ROOT, "plain@example.com").await;
    let token = app.token_for("default", ROOT, &u).await;
    app.call(Method::PUT, &format!("{T}/user-types"), Some(&token), Some(json!({"types": ["member", "x"]})))
        .await
        .problem(403);
    let audit = app.get(&format!("{T}/audit?action=tenant.user_types"), ROOT).await;
    assert_eq!(audit.ok(200)["items"].as_array().unwrap().len(), 2, "each change of the list is audited");
    app.assert_consistent().await;
}

#[tokio::test]
async fn a_group_that_admits_customers_refuses_others_through_every_face() {
    let app = TestApp::new().await;
    with_types(&app).await;
    let cust = typed_user(&app, "cust@example.com", "customer").await;
    let staff = typed_user(&app, "staff@example.com", "member").await;
    // Unknown types are refused for a group too.
    app.post(&format!("{T}/groups"), ROOT, json!({"name": "X", "memberTypes": ["partner"]})).await.problem(422);
    let g = app.post(&format!("{T}/groups"), ROOT, json!({"name": "Customers", "memberTypes": ["customer"]})).await;
    assert_eq!(g.ok(201)["memberTypes"], json!(["customer"]));
    let g = g.id();
    let before = app.fingerprint().await;

    // REST.
    says_type(&app.post(&format!("{T}/groups/{g}/members"), ROOT, json!({"userId": staff})).await);
    // Batch.
    let batch = json!({"groupIds": [g], "action": "addMembers", "userIds": [staff]});
    says_type(&app.post(&format!("{T}/groups/batch"), ROOT, batch).await);
    // A new group with first members; a new user put in the group.
    let body = json!({"name": "Sub", "memberTypes": ["customer"], "members": [{"userId": staff}]});
    says_type(&app.post(&format!("{T}/groups"), ROOT, body).await);
    let body = json!({"email": "new@example.com", "groupIds": [g]});
    says_type(&app.post(&format!("{T}/users"), ROOT, body).await);
    assert_eq!(app.fingerprint().await, before, "refused joins change nothing");
    // SCIM (a group the identity provider pushes, restricted by the admin).
    let scim = app.scim_token("default", ROOT).await;
    let sg = app.scim(Method::POST, "/t/default/scim/v2/Groups", &scim, Some(json!({"displayName": "Shop"}))).await;
    let sg = sg.id();
    app.patch(&format!("{T}/groups/{sg}"), ROOT, json!({"memberTypes": ["customer"]})).await.ok(200);
    let before_scim = app.fingerprint().await;
    let op =
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": staff}]}]});
    let a = app.scim(Method::PATCH, &format!("/t/default/scim/v2/Groups/{sg}"), &scim, Some(op)).await;
    assert_eq!(a.status.as_u16(), 422, "{}", a.body);
    assert!(a.body.to_string().contains("admits only users of type `customer`"), "{}", a.body);
    assert_eq!(app.fingerprint().await, before_scim, "a refused SCIM join changes nothing");
    app.delete(&format!("{T}/groups/{sg}"), ROOT).await.ok(204);

    // CSV: the line is refused in the preview, with why.
    let csv = "email\ncust@example.com\nstaff@example.com\n";
    let p = app.post(&format!("{T}/groups/{g}/members/import"), ROOT, json!(csv)).await;
    assert_eq!(p.ok(201)["counts"], json!({"added": 1, "skipped": 0, "errors": 1}));
    assert!(p.body["errors"][0]["reason"].as_str().unwrap().contains("admits only"), "{}", p.body);
    let id = p.body["importId"].as_str().unwrap().to_owned();
    app.post(&format!("{T}/groups/{g}/members/import/{id}/confirm"), ROOT, json!({})).await.ok(200);
    assert_eq!(members(&app, &g).await, vec![(cust.clone(), "import".to_owned())]);

    // The customer cannot become a member of another type while in the group.
    let a = app.patch(&format!("{T}/users/{cust}"), ROOT, json!({"type": "member"})).await;
    says_type(&a);
    // Nor may the group stop admitting its members' type.
    let a = app.patch(&format!("{T}/groups/{g}"), ROOT, json!({"memberTypes": ["member"]})).await;
    a.problem(422);
    // Admitting every type again lets anyone join.
    app.patch(&format!("{T}/groups/{g}"), ROOT, json!({"memberTypes": []})).await.ok(200);
    app.post(&format!("{T}/groups/{g}/members"), ROOT, json!({"userId": staff})).await.ok(201);
    app.assert_consistent().await;
}

#[tokio::test]
async fn rules_skip_users_of_other_types_and_follow_type_changes() {
    let app = TestApp::new().await;
    with_types(&app).await;
    let cust = typed_user(&app, "cust@shop.example", "customer").await;
    let staff = typed_user(&app, "staff@shop.example", "member").await;
    let g = app.post(&format!("{T}/groups"), ROOT, json!({"name": "Shoppers", "memberTypes": ["customer"]})).await.id();
    let rule = json!({"expression": "email.endsWith('@shop.example')", "confirm": true});
    let r = app.post(&format!("{T}/groups/{g}/rules"), ROOT, rule).await;
    assert_eq!(r.ok(201)["rule"]["membersMatched"], 1, "the member of another type is not matched: {}", r.body);
    assert_eq!(members(&app, &g).await, vec![(cust.clone(), "rule".to_owned())]);
    // A rule reads the type too.
    let open = app.group("default", ROOT, "Anyone", &[]).await;
    let preview = json!({"expression": "user.userType == 'customer'"});
    let p = app.post(&format!("{T}/groups/{open}/rules"), ROOT, preview).await;
    assert_eq!(p.ok(200)["added"][0]["id"], cust.as_str(), "{}", p.body);
    // A user whose type becomes `customer` joins through the rule; one who stops being one leaves.
    app.patch(&format!("{T}/users/{staff}"), ROOT, json!({"type": "customer"})).await.ok(200);
    app.patch(&format!("{T}/users/{cust}"), ROOT, json!({"type": "member"})).await.ok(200);
    assert_eq!(members(&app, &g).await, vec![(staff.clone(), "rule".to_owned())]);
    // Widening the group's types lets the rule bring in everyone it matches.
    app.patch(&format!("{T}/groups/{g}"), ROOT, json!({"memberTypes": ["customer", "member"]})).await.ok(200);
    let mut both = vec![(cust.clone(), "rule".to_owned()), (staff.clone(), "rule".to_owned())];
    both.sort();
    assert_eq!(members(&app, &g).await, both);
    // Narrowing it again: rule members of the other type leave instead of blocking the change.
    app.patch(&format!("{T}/groups/{g}"), ROOT, json!({"memberTypes": ["customer"]})).await.ok(200);
    assert_eq!(members(&app, &g).await, vec![(staff, "rule".to_owned())]);
    app.assert_consistent().await;
}

#[tokio::test]
async fn a_users_import_sets_types_and_refuses_unknown_ones() {
    let app = TestApp::new().await;
    with_types(&app).await;
    let g = app.post(&format!("{T}/groups"), ROOT, json!({"name": "Customers", "memberTypes": ["customer"]})).await;
    let slug = g.ok(201)["slug"].as_str().unwrap().to_owned();
    let csv = format!(
        "email,type,groups\na@example.com,customer,{slug}\nb@example.com,partner,\nc@example.com,,{slug}\nd@example.com,,\n"
    );
    let p = app.post(&format!("{T}/users/import"), ROOT, json!(csv)).await;
    assert_eq!(p.ok(201)["counts"], json!({"added": 2, "skipped": 0, "errors": 2}), "{}", p.body);
    let reasons: Vec<&str> =
        p.body["errors"].as_array().unwrap().iter().map(|e| e["reason"].as_str().unwrap()).collect();
    assert!(reasons[0].contains("`partner` is not one of this tenant's user types"), "{reasons:?}");
    assert!(reasons[1].contains("admits only users of type `customer`"), "{reasons:?}");
    let id = p.body["importId"].as_str().unwrap().to_owned();
    app.post(&format!("{T}/users/import/{id}/confirm"), ROOT, json!({})).await.ok(200);
    let users = app.get(&format!("{T}/users?q=example.com"), ROOT).await;
    let types: Vec<(&str, &str)> = users.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["email"].as_str().unwrap(), u["type"].as_str().unwrap()))
        .collect();
    assert!(
        types.contains(&("a@example.com", "customer")) && types.contains(&("d@example.com", "member")),
        "{types:?}"
    );
    app.assert_consistent().await;
}
