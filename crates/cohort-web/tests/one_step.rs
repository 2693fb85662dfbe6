//! One step where the product documents take one: a group created with its parents, roles
//! and first members, a user created with their groups, each one change that is applied
//! whole or not at all; and a provisioned group an administrator renames keeps that name when
//! its identity provider sends its own again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::Method;
use common::{ROOT, TestApp};
use serde_json::json;

const T: &str = "/t/default/api/v1";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

async fn allowed(app: &TestApp, user: &str, permission: &str) -> bool {
    let a = app.post(&format!("{T}/check"), ROOT, json!({"userId": user, "permission": permission})).await;
    a.ok(200)["allowed"].as_bool().unwrap()
}

#[tokio::test]
async fn a_group_is_created_with_its_parents_roles_and_first_members_in_one_change() {
    let app = TestApp::new().await;
    let emea = app.group("default", ROOT, "EMEA", &[]).await;
    let sales = app.role("default", ROOT, "Sales", &["deals:edit"]).await;
    let ann = app.user("default", ROOT, "ann@example.com").await;
    let bob = app.user("default", ROOT, "bob@example.com").await;
    let body = json!({
        "name": "France", "parentIds": [emea], "roleIds": [sales],
        "members": [{"userId": ann}, {"userId": bob, "role": "manager", "reason": "team lead"}],
    });
    let a = app.post(&format!("{T}/groups"), ROOT, body).await;
    let g = a.ok(201);
    assert_eq!((g["parentIds"].clone(), g["memberCount"].clone()), (json!([emea]), json!(2)), "{g}");
    let france = a.id();
    let roles = app.get(&format!("{T}/groups/{france}/roles"), ROOT).await;
    assert_eq!(roles.ok(200)[0]["id"], sales.as_str());
    let members = app.get(&format!("{T}/groups/{france}/members"), ROOT).await;
    let rows = members.ok(200)["items"].as_array().unwrap().clone();
    let bob_row = rows.iter().find(|m| m["userId"] == bob.as_str()).unwrap();
    assert_eq!((bob_row["role"].clone(), bob_row["reason"].clone()), (json!("manager"), json!("team lead")));
    assert!(allowed(&app, &ann, "deals:edit").await, "the role reaches the first members at once");
    let audit = app.get(&format!("{T}/audit?limit=10"), ROOT).await;
    let actions: Vec<&str> =
        audit.ok(200)["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    let mut last = actions[..4].to_vec();
    last.sort();
    assert_eq!(last, ["group.create", "group.role.assign", "membership.add", "membership.add"], "{actions:?}");

    // Any bad part refuses the whole: nothing is created.
    let before = app.fingerprint().await;
    for (bad, status) in [
        (
            json!({"name": "Spain", "parentIds": [emea], "members": [{"userId": ann}, {"userId": "usr_000000000000"}]}),
            422,
        ),
        (json!({"name": "Spain", "roleIds": ["rol_000000000000"], "members": [{"userId": ann}]}), 422),
        (json!({"name": "Spain", "members": [{"userId": ann}, {"userId": ann}]}), 422),
        (json!({"name": "Spain", "members": [{"userId": ann, "role": "boss"}]}), 422),
        (json!({"name": "France", "members": [{"userId": ann}]}), 409),
    ] {
        let a = app.post(&format!("{T}/groups"), ROOT, bad.clone()).await;
        a.problem(status);
        assert_eq!(app.fingerprint().await, before, "{bad}: {}", a.body);
    }
    app.assert_consistent().await;
}

#[tokio::test]
async fn a_user_is_created_with_their_groups_in_one_change() {
    let app = TestApp::new().await;
    let sales = app.role("default", ROOT, "Sales", &["deals:edit"]).await;
    let team = app.group("default", ROOT, "Team", &[]).await;
    app.post(&format!("{T}/groups/{team}/roles"), ROOT, json!({"roleId": sales})).await.ok(201);
    let other = app.group("default", ROOT, "Other", &[]).await;
    let a = app.post(&format!("{T}/users"), ROOT, json!({"email": "new@example.com", "groupIds": [team, other]})).await;
    let user = a.id();
    let groups = app.get(&format!("{T}/users/{user}/groups"), ROOT).await;
    assert_eq!(groups.ok(200)["items"].as_array().unwrap().len(), 2, "{}", groups.body);
    assert!(allowed(&app, &user, "deals:edit").await);

    let before = app.fingerprint().await;
    let archived = app.group("default", ROOT, "Old", &[]).await;
    app.post(&format!("{T}/groups/{archived}/archive"), ROOT, json!({})).await.ok(200);
    let before_archived = app.fingerprint().await;
    assert_ne!(before, before_archived);
    for (bad, status) in [
        (json!({"email": "x@example.com", "groupIds": [team, "grp_000000000000"]}), 422),
        (json!({"email": "x@example.com", "groupIds": [team, archived]}), 409),
        (json!({"email": "new@example.com", "groupIds": [team]}), 409),
    ] {
        let a = app.post(&format!("{T}/users"), ROOT, bad.clone()).await;
        a.problem(status);
        assert_eq!(app.fingerprint().await, before_archived, "{bad}: {}", a.body);
    }
    // Putting a new user in groups needs `cohort:groups.write` besides `cohort:users.write`.
    let writer = app.role("default", ROOT, "Users only", &["cohort:users.write"]).await;
    let hr = app.user("default", ROOT, "hr@example.com").await;
    app.post(&format!("{T}/users/{hr}/roles"), ROOT, json!({"roleId": writer})).await.ok(201);
    let token = app.token_for("default", ROOT, &hr).await;
    let a = app.post(&format!("{T}/users"), &token, json!({"email": "y@example.com", "groupIds": [team]})).await;
    a.problem(403);
    assert!(a.body["detail"].as_str().unwrap().contains("cohort:groups.write"), "{}", a.body);
    app.post(&format!("{T}/users"), &token, json!({"email": "y@example.com"})).await.ok(201);
    app.assert_consistent().await;
}

#[tokio::test]
async fn an_admins_name_for_a_provisioned_group_outlasts_the_providers_next_name() {
    let app = TestApp::new().await;
    let scim = app.scim_token("default", ROOT).await;
    let groups = "/t/default/scim/v2/Groups";
    let g = app.scim(Method::POST, groups, &scim, Some(json!({"displayName": "grp-eng-42"}))).await.id();
    let path = format!("{T}/groups/{g}");
    let view = async |app: &TestApp| {
        let a = app.get(&path, ROOT).await;
        (a.ok(200)["name"].as_str().unwrap().to_owned(), a.body["providerName"].as_str().unwrap().to_owned())
    };
    assert_eq!(view(&app).await, ("grp-eng-42".to_owned(), "grp-eng-42".to_owned()));
    // Until an administrator renames it, the name follows the provider's.
    let rename = |name: &str| json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": name}]});
    app.scim(Method::PATCH, &format!("{groups}/{g}"), &scim, Some(rename("grp-eng-43"))).await;
    assert_eq!(view(&app).await, ("grp-eng-43".to_owned(), "grp-eng-43".to_owned()));
    app.patch(&format!("{T}/groups/{g}"), ROOT, json!({"name": "Engineering"})).await.ok(200);
    let a = app.scim(Method::PATCH, &format!("{groups}/{g}"), &scim, Some(rename("grp-eng-44"))).await;
    assert!(a.status.is_success(), "{}", a.body);
    assert_eq!(view(&app).await, ("Engineering".to_owned(), "grp-eng-44".to_owned()), "the admin's name stays");
    // The provider keeps seeing, and finding, the group by the name it gave.
    let s = app.scim(Method::GET, &format!("{groups}/{g}"), &scim, None).await;
    assert_eq!(s.ok(200)["displayName"], "grp-eng-44");
    let found =
        app.scim(Method::GET, &format!("{groups}?filter=displayName%20eq%20%22grp-eng-44%22"), &scim, None).await;
    assert_eq!(found.ok(200)["totalResults"], 1, "{}", found.body);
    // A full replace by the provider keeps the admin's name too.
    let put = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "grp-eng-45"});
    app.scim(Method::PUT, &format!("{groups}/{g}"), &scim, Some(put)).await.ok(200);
    assert_eq!(view(&app).await, ("Engineering".to_owned(), "grp-eng-45".to_owned()));
    app.assert_consistent().await;
}
