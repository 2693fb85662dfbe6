//! Resource types, levels, grants, data scopes, and the check path that answers them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ROOT, TestApp};
use serde_json::{Value, json};

const T: &str = "/t/default/api/v1";

async fn check_level(app: &TestApp, user: &str, resource: &str, level: &str) -> Value {
    let a =
        app.post(&format!("{T}/check"), ROOT, json!({"userId": user, "resourceId": resource, "level": level})).await;
    a.ok(200).clone()
}

#[tokio::test]
async fn levels_flow_through_groups_and_the_most_permissive_wins() {
    let app = TestApp::new().await;
    let t = app
        .post(&format!("{T}/resource-types"), ROOT, json!({"name": "report", "levels": ["view", "edit", "admin"]}))
        .await;
    assert_eq!(t.ok(201)["levels"], json!(["view", "edit", "admin"]));
    let types = app.get(&format!("{T}/resource-types"), ROOT).await;
    let names: Vec<&str> = types.ok(200).as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["agent", "app", "datasource", "report"]);

    let report = app.post(&format!("{T}/resources"), ROOT, json!({"type": "report", "name": "Q3 sales"})).await.id();
    let agent = app.post(&format!("{T}/resources"), ROOT, json!({"type": "agent", "name": "Helper"})).await.id();
    let parent = app.group("default", ROOT, "Sales", &[]).await;
    let child = app.group("default", ROOT, "Sales France", &[&parent]).await;
    let ann = app.user("default", ROOT, "ann@example.com").await;
    app.post(&format!("{T}/groups/{child}/members"), ROOT, json!({"userId": ann})).await.ok(201);
    app.post(&format!("{T}/groups/{parent}/grants"), ROOT, json!({"resourceId": report, "level": "edit"}))
        .await
        .ok(201);
    app.post(&format!("{T}/groups/{child}/grants"), ROOT, json!({"resourceId": agent, "level": "use"})).await.ok(201);

    assert_eq!(check_level(&app, &ann, &report, "view").await["allowed"], true);
    let edit = check_level(&app, &ann, &report, "edit").await;
    assert_eq!(edit["allowed"], true);
    let path = format!("via group Sales ({parent}) ← Sales France ({child}) (manual)");
    assert_eq!(edit["reason"], format!("`edit` on `{report}` granted {path}").as_str(), "the whole path: {edit}");
    assert_eq!(check_level(&app, &ann, &report, "admin").await["allowed"], false);
    assert_eq!(check_level(&app, &ann, &agent, "use").await["allowed"], true);
    assert_eq!(check_level(&app, &ann, &agent, "edit").await["allowed"], false);
    // Unknown resource, level, user: denied, never an error.
    assert_eq!(check_level(&app, &ann, &report, "use").await["allowed"], false);
    assert_eq!(check_level(&app, &ann, "res_unknownunknown", "view").await["allowed"], false);
    assert_eq!(check_level(&app, &ann, "garbage", "view").await["allowed"], false);
    assert_eq!(check_level(&app, "usr_unknownunknown", &report, "view").await["allowed"], false);

    // A direct grant above the group's: the most permissive wins.
    app.post(&format!("{T}/users/{ann}/grants"), ROOT, json!({"resourceId": report, "level": "admin"})).await.ok(201);
    let admin = check_level(&app, &ann, &report, "admin").await;
    assert_eq!(admin["allowed"], true);
    assert!(admin["reason"].as_str().unwrap().contains("directly"), "{admin}");
    app.delete(&format!("{T}/users/{ann}/grants/{report}"), ROOT).await.ok(204);
    assert_eq!(check_level(&app, &ann, &report, "admin").await["allowed"], false);

    // The access view lists levels with every grant that gives them.
    let access = app.get(&format!("{T}/users/{ann}/access"), ROOT).await;
    let levels = access.ok(200)["levels"].as_array().unwrap().clone();
    let on_report = levels.iter().find(|l| l["resourceId"] == report.as_str()).unwrap();
    assert_eq!(on_report["level"], "edit");
    assert_eq!(on_report["via"][0]["kind"], "group");
    assert_eq!(on_report["via"][0]["path"]["chain"], json!([child, parent]));

    // Who can edit the report, and why.
    let holders = app.get(&format!("{T}/resources/{report}/holders?level=edit"), ROOT).await;
    let items = holders.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["userId"], ann.as_str());
    assert_eq!(items[0]["level"], "edit");
    let grants = app.get(&format!("{T}/resources/{report}/grants"), ROOT).await;
    assert_eq!(grants.ok(200)[0]["groupId"], parent.as_str());

    // applyPrivileges off or archived: the group confers no level; back on, it does.
    app.patch(&format!("{T}/groups/{parent}"), ROOT, json!({"applyPrivileges": false})).await.ok(200);
    assert_eq!(check_level(&app, &ann, &report, "view").await["allowed"], false);
    app.patch(&format!("{T}/groups/{parent}"), ROOT, json!({"applyPrivileges": true})).await.ok(200);
    app.post(&format!("{T}/groups/{parent}/archive"), ROOT, json!({})).await.ok(200);
    assert_eq!(check_level(&app, &ann, &report, "view").await["allowed"], false);
    app.post(&format!("{T}/groups/{parent}/grants"), ROOT, json!({"resourceId": agent, "level": "use"}))
        .await
        .problem(409);
    app.post(&format!("{T}/groups/{parent}/unarchive"), ROOT, json!({})).await.ok(200);
    assert_eq!(check_level(&app, &ann, &report, "view").await["allowed"], true);

    // Deleting the resource removes its grants at once.
    app.delete(&format!("{T}/resources/{report}"), ROOT).await.ok(204);
    assert_eq!(check_level(&app, &ann, &report, "view").await["allowed"], false);
    app.get(&format!("{T}/resources/{report}/grants"), ROOT).await.problem(404);
    app.assert_consistent().await;
}

#[tokio::test]
async fn scopes_are_the_union_over_effective_groups() {
    let app = TestApp::new().await;
    let france = app.group("default", ROOT, "France", &[]).await;
    let spain = app.group("default", ROOT, "Spain", &[]).await;
    let emea = app.group("default", ROOT, "EMEA", &[]).await;
    app.patch(&format!("{T}/groups/{france}"), ROOT, json!({"parentIds": [emea]})).await.ok(200);
    let ann = app.user("default", ROOT, "ann@example.com").await;
    for g in [&france, &spain] {
        app.post(&format!("{T}/groups/{g}/members"), ROOT, json!({"userId": ann})).await.ok(201);
    }
    app.call(
        axum::http::Method::PUT,
        &format!("{T}/groups/{france}/scopes"),
        Some(ROOT),
        Some(json!({"scopes": {"country": ["France"]}})),
    )
    .await
    .ok(200);
    app.call(
        axum::http::Method::PUT,
        &format!("{T}/groups/{spain}/scopes"),
        Some(ROOT),
        Some(json!({"scopes": {"country": ["Spain"]}})),
    )
    .await
    .ok(200);
    app.call(
        axum::http::Method::PUT,
        &format!("{T}/groups/{emea}/scopes"),
        Some(ROOT),
        Some(json!({"scopes": {"region": ["emea"], "country": ["France"]}})),
    )
    .await
    .ok(200);
    let got = app.get(&format!("{T}/groups/{emea}/scopes"), ROOT).await;
    assert_eq!(got.ok(200)["scopes"]["region"], json!(["emea"]));

    let access = app.get(&format!("{T}/users/{ann}/access"), ROOT).await;
    let scopes = access.ok(200)["scopes"].as_array().unwrap().clone();
    let keys: Vec<&str> = scopes.iter().map(|s| s["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["country", "region"]);
    let countries = &scopes[0]["values"];
    assert_eq!(countries[0]["value"], "France");
    let mut from: Vec<&str> =
        countries[0]["groupIds"].as_array().unwrap().iter().map(|g| g.as_str().unwrap()).collect();
    from.sort();
    let mut want = vec![france.as_str(), emea.as_str()];
    want.sort();
    assert_eq!(from, want);
    assert_eq!(countries[1]["value"], "Spain");

    // Bad scopes are refused and change nothing.
    let before = app.fingerprint().await;
    for bad in [
        json!({"scopes": {"bad key": ["x"]}}),
        json!({"scopes": {"k": []}}),
        json!({"scopes": {"k": "x"}}),
        json!({"k": ["x"]}),
    ] {
        app.call(axum::http::Method::PUT, &format!("{T}/groups/{france}/scopes"), Some(ROOT), Some(bad))
            .await
            .problem(422);
    }
    assert_eq!(app.fingerprint().await, before);
    app.assert_consistent().await;
}

#[tokio::test]
async fn nobody_grants_a_level_they_do_not_hold() {
    let app = TestApp::new().await;
    let agent = app.post(&format!("{T}/resources"), ROOT, json!({"type": "agent", "name": "Helper"})).await.id();
    let ga = app.user("default", ROOT, "ga@example.com").await;
    let group_admin = app.builtin("default", ROOT, "group-admin").await;
    app.post(&format!("{T}/users/{ga}/roles"), ROOT, json!({"roleId": group_admin})).await.ok(201);
    let tok = app.token_for("default", ROOT, &ga).await;
    let team = app.group("default", &tok, "Team", &[]).await;
    let before = app.data().await;
    app.post(&format!("{T}/groups/{team}/grants"), &tok, json!({"resourceId": agent, "level": "use"}))
        .await
        .problem(403);
    assert_eq!(app.data().await, before);
    assert_eq!(app.refused_attempts().await, 1);
    // Once they hold `use`, they may pass `view` and `use` on, but not `edit`.
    app.post(&format!("{T}/users/{ga}/grants"), ROOT, json!({"resourceId": agent, "level": "use"})).await.ok(201);
    app.post(&format!("{T}/groups/{team}/grants"), &tok, json!({"resourceId": agent, "level": "use"})).await.ok(201);
    app.post(&format!("{T}/groups/{team}/grants"), &tok, json!({"resourceId": agent, "level": "edit"}))
        .await
        .problem(403);
    // Bad levels and resources.
    app.post(&format!("{T}/groups/{team}/grants"), ROOT, json!({"resourceId": agent, "level": "own"}))
        .await
        .problem(422);
    app.post(&format!("{T}/groups/{team}/grants"), ROOT, json!({"resourceId": "res_unknownunknown", "level": "use"}))
        .await
        .problem(422);
    app.post(&format!("{T}/resources"), ROOT, json!({"type": "nope", "name": "X"})).await.problem(422);
    app.post(&format!("{T}/resources"), ROOT, json!({"type": "agent", "name": "HELPER"})).await.problem(409);
    app.post(&format!("{T}/resource-types"), ROOT, json!({"name": "x", "levels": ["a", "a"]})).await.problem(422);
    app.post(&format!("{T}/resource-types"), ROOT, json!({"name": "agent"})).await.problem(409);
    app.delete(&format!("{T}/resource-types/agent"), ROOT).await.problem(409);
    app.assert_consistent().await;
}

#[tokio::test]
async fn reads_wait_for_the_revision_they_are_asked_to_reflect() {
    let app = TestApp::new().await;
    let g = app.post(&format!("{T}/groups"), ROOT, json!({"name": "G"})).await;
    let rev = g.revision();
    let access = app.get(&format!("{T}/me/access"), ROOT).await;
    assert!(access.ok(200)["revision"].as_i64().unwrap() >= rev, "the very next request sees the write");
    let me = access.body["userId"].as_str().unwrap().to_owned();
    let fresh = app.get(&format!("{T}/users/{me}/access?atLeastRevision={rev}"), ROOT).await;
    assert_eq!(fresh.ok(200)["revision"].as_i64().unwrap(), rev);
    // A revision nobody has committed is the client's mistake, answered at once.
    let future = app.get(&format!("{T}/users/{me}/access?atLeastRevision={}", rev + 1000), ROOT).await;
    future.problem(400);
    assert!(future.body["detail"].as_str().unwrap().contains("has not been committed"), "{}", future.body);
    app.get(&format!("{T}/users/{me}/access?atLeastRevision=-1"), ROOT).await.problem(400);
    // One committed behind this server's back (as by another server) is caught up with.
    let tenant = app.store.read().await.unwrap().tenant_by_slug("default").await.unwrap().unwrap();
    let w = app.store.write(&tenant.id).await.unwrap();
    let theirs = w.commit().await.unwrap();
    let caught = app.get(&format!("{T}/users/{me}/access?atLeastRevision={theirs}"), ROOT).await;
    assert_eq!(caught.ok(200)["revision"].as_i64().unwrap(), theirs);
}
