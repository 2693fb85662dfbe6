//! Batch edits over several groups: all or nothing, one audit event per change.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ROOT, TestApp};
use serde_json::json;

const T: &str = "/t/default/api/v1";

async fn audit_count(app: &TestApp, action: &str) -> usize {
    let a = app.get(&format!("{T}/audit?action={action}&limit=500"), ROOT).await;
    a.ok(200)["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn one_edit_applies_to_every_group_in_one_revision() {
    let app = TestApp::new().await;
    let groups: Vec<String> = groups(&app, &["A", "B", "C"]).await;
    let ann = app.user("default", ROOT, "ann@example.com").await;
    let bob = app.user("default", ROOT, "bob@example.com").await;
    let role = app.role("default", ROOT, "R", &["x:y"]).await;
    let body = json!({"groupIds": groups, "action": "addMembers", "userIds": [ann, bob]});
    let a = app.post(&format!("{T}/groups/batch"), ROOT, body).await;
    assert_eq!(a.ok(200), &json!({"groups": 3, "changes": 6}));
    let revision = a.revision();
    assert_eq!(audit_count(&app, "membership.add").await, 6, "one audit event per change");
    let events = app.get(&format!("{T}/audit?action=membership.add"), ROOT).await;
    assert!(events.ok(200)["items"].as_array().unwrap().iter().all(|e| e["revision"] == revision), "one change");
    for g in &groups {
        let rows = app.get(&format!("{T}/groups/{g}/members"), ROOT).await;
        assert_eq!(rows.ok(200)["items"].as_array().unwrap().len(), 2);
    }
    let a = app
        .post(&format!("{T}/groups/batch"), ROOT, json!({"groupIds": groups, "action": "assignRole", "roleId": role}))
        .await;
    assert_eq!(a.ok(200)["changes"], 3);
    let c = app.post(&format!("{T}/check"), ROOT, json!({"userId": ann, "permission": "x:y"})).await;
    assert_eq!(c.ok(200)["allowed"], true);
    let a = app.post(&format!("{T}/groups/batch"), ROOT, json!({"groupIds": groups, "action": "archive"})).await;
    assert_eq!(a.ok(200)["changes"], 3);
    let c = app.post(&format!("{T}/check"), ROOT, json!({"userId": ann, "permission": "x:y"})).await;
    assert_eq!(c.ok(200)["allowed"], false, "archived groups confer nothing");
    app.post(&format!("{T}/groups/batch"), ROOT, json!({"groupIds": groups, "action": "unarchive"})).await.ok(200);
    let a = app
        .post(
            &format!("{T}/groups/batch"),
            ROOT,
            json!({"groupIds": [groups[0].clone()], "action": "removeMembers", "userIds": [bob]}),
        )
        .await;
    assert_eq!(a.ok(200)["changes"], 1);
    app.post(
        &format!("{T}/groups/batch"),
        ROOT,
        json!({"groupIds": [groups[1].clone(), groups[2].clone()], "action": "delete"}),
    )
    .await
    .ok(200);
    app.get(&format!("{T}/groups/{}", groups[1]), ROOT).await.problem(404);
    app.assert_consistent().await;
}

async fn groups(app: &TestApp, names: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for n in names {
        out.push(app.group("default", ROOT, n, &[]).await);
    }
    out
}

#[tokio::test]
async fn one_refused_step_applies_nothing() {
    let app = TestApp::new().await;
    let groups = groups(&app, &["A", "B", "C"]).await;
    let ann = app.user("default", ROOT, "ann@example.com").await;
    let role = app.role("default", ROOT, "R", &["x:y"]).await;
    app.post(&format!("{T}/groups/{}/archive", groups[2]), ROOT, json!({})).await.ok(200);
    app.post(&format!("{T}/groups/{}/roles", groups[1]), ROOT, json!({"roleId": role})).await.ok(201);
    let before = app.fingerprint().await;
    // The third group is archived: nobody is added anywhere.
    let a = app
        .post(&format!("{T}/groups/batch"), ROOT, json!({"groupIds": groups, "action": "addMembers", "userIds": [ann]}))
        .await;
    a.problem(409);
    assert!(a.body["detail"].as_str().unwrap().contains("the group C is archived"), "{:#}", a.body);
    // The role is already on the second group: it is not assigned to the first either.
    let two = [groups[0].clone(), groups[1].clone()];
    app.post(&format!("{T}/groups/batch"), ROOT, json!({"groupIds": two, "action": "assignRole", "roleId": role}))
        .await
        .problem(409);
    // Bad input is refused before anything is looked at.
    for body in [
        json!({"groupIds": [], "action": "archive"}),
        json!({"groupIds": [groups[0], groups[0]], "action": "archive"}),
        json!({"groupIds": ["nope"], "action": "archive"}),
        json!({"groupIds": [groups[0]], "action": "explode"}),
        json!({"groupIds": [groups[0]], "action": "addMembers"}),
        json!({"groupIds": [groups[0]], "action": "grant", "resourceId": "res_000000000000"}),
    ] {
        app.post(&format!("{T}/groups/batch"), ROOT, body).await.problem(422);
    }
    // A group-admin-less caller is refused, and a manager of one group cannot batch-archive it.
    let lead = app.user("default", ROOT, "lead@example.com").await;
    app.post(&format!("{T}/groups/{}/members", groups[0]), ROOT, json!({"userId": lead, "role": "manager"}))
        .await
        .ok(201);
    let token = app.token_for("default", ROOT, &lead).await;
    let before_lead = app.fingerprint().await;
    app.post(&format!("{T}/groups/batch"), &token, json!({"groupIds": [groups[0]], "action": "archive"}))
        .await
        .problem(403);
    // Managers may add ordinary members to their own group, but not to a group they do not manage.
    let a = app
        .post(
            &format!("{T}/groups/batch"),
            &token,
            json!({"groupIds": [groups[0], groups[1]], "action": "addMembers", "userIds": [ann]}),
        )
        .await;
    a.problem(403);
    assert_eq!(app.fingerprint().await, before_lead);
    assert_ne!(before, before_lead);
    app.assert_consistent().await;
}
