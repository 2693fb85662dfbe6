//! The REST face end to end, in-process, on the test backend.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ROOT, TestApp};
use serde_json::json;

const T: &str = "/t/default/api/v1";

#[tokio::test]
async fn seed_calls_give_access_with_provenance() {
    let app = TestApp::new().await;
    let g = app
        .post(
            &format!("{T}/groups"),
            ROOT,
            json!({"name": "Support", "slug": "support", "description": "Support team"}),
        )
        .await;
    let group = g.ok(201)["id"].as_str().unwrap().to_owned();
    assert_eq!(g.body["slug"], "support");
    assert_eq!(g.body["memberCount"], 0);
    let rev1 = g.revision();
    let ann = app.user("default", ROOT, "ann@example.com").await;
    let m = app.post(&format!("{T}/groups/{group}/members"), ROOT, json!({"userId": ann})).await;
    assert_eq!(m.ok(201)["role"], "member");
    assert!(m.revision() > rev1);
    let role = app.role("default", ROOT, "Agent user", &["agents:use"]).await;
    app.post(&format!("{T}/groups/{group}/roles"), ROOT, json!({"roleId": role})).await.ok(201);

    let access = app.get(&format!("{T}/users/{ann}/access"), ROOT).await;
    let body = access.ok(200);
    assert_eq!(body["permissions"][0]["permission"], "agents:use");
    assert_eq!(body["roles"][0]["via"][0]["kind"], "group");
    assert_eq!(body["roles"][0]["via"][0]["path"]["chain"], json!([group]));
    assert_eq!(body["groups"][0]["direct"], true);

    let check = app.post(&format!("{T}/check"), ROOT, json!({"userId": ann, "permission": "agents:use"})).await;
    assert_eq!(check.ok(200)["allowed"], true);
    assert!(check.body["reason"].as_str().unwrap().contains(&group));
    let denied = app.post(&format!("{T}/check"), ROOT, json!({"userId": ann, "permission": "agents:edit"})).await;
    assert_eq!(denied.ok(200)["allowed"], false);

    // Removing the member removes what came through the group.
    app.delete(&format!("{T}/groups/{group}/members/{ann}"), ROOT).await.ok(200);
    let after = app.post(&format!("{T}/check"), ROOT, json!({"userId": ann, "permission": "agents:use"})).await;
    assert_eq!(after.ok(200)["allowed"], false);
    app.assert_consistent().await;
}

#[tokio::test]
async fn nesting_inherits_and_explains_the_path() {
    let app = TestApp::new().await;
    let company = app.group("default", ROOT, "Company", &[]).await;
    let emea = app.group("default", ROOT, "EMEA", &[&company]).await;
    let france = app.group("default", ROOT, "France", &[&emea]).await;
    let ann = app.user("default", ROOT, "ann@example.com").await;
    app.post(&format!("{T}/groups/{france}/members"), ROOT, json!({"userId": ann})).await.ok(201);
    let role = app.role("default", ROOT, "Reports", &["reports:view"]).await;
    app.post(&format!("{T}/groups/{company}/roles"), ROOT, json!({"roleId": role})).await.ok(201);

    let groups = app.get(&format!("{T}/users/{ann}/groups"), ROOT).await;
    let items = groups.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 3);
    let top = items.iter().find(|g| g["groupId"] == company.as_str()).unwrap();
    assert_eq!(top["direct"], false);
    assert_eq!(top["paths"][0]["chain"], json!([france, emea, company]));
    // Explanations name every group of the path with its id, the one that confers first.
    let path = format!("via group Company ({company}) ← EMEA ({emea}) ← France ({france}) (manual)");
    assert_eq!(top["paths"][0]["explanation"], path.as_str());
    let access = app.get(&format!("{T}/users/{ann}/access"), ROOT).await;
    assert_eq!(access.ok(200)["roles"][0]["via"][0]["explanation"], path.as_str());
    let c = app.post(&format!("{T}/check"), ROOT, json!({"userId": ann, "permission": "reports:view"})).await;
    assert_eq!(c.ok(200)["reason"], format!("`reports:view` from role `Reports` ({role}) {path}").as_str());

    let members = app.get(&format!("{T}/groups/{company}/effective-members"), ROOT).await;
    assert_eq!(members.ok(200)["items"][0]["userId"], ann.as_str());
    assert_eq!(members.body["items"][0]["through"], json!([france]));

    // Archiving the middle group cuts the flow; unarchiving brings it back.
    app.post(&format!("{T}/groups/{emea}/archive"), ROOT, json!({})).await.ok(200);
    let c = app.post(&format!("{T}/check"), ROOT, json!({"userId": ann, "permission": "reports:view"})).await;
    assert_eq!(c.ok(200)["allowed"], false);
    app.post(&format!("{T}/groups/{emea}/unarchive"), ROOT, json!({})).await.ok(200);
    let c = app.post(&format!("{T}/check"), ROOT, json!({"userId": ann, "permission": "reports:view"})).await;
    assert_eq!(c.ok(200)["allowed"], true);

    // applyPrivileges false: the group confers nothing.
    app.patch(&format!("{T}/groups/{company}"), ROOT, json!({"applyPrivileges": false})).await.ok(200);
    let c = app.post(&format!("{T}/check"), ROOT, json!({"userId": ann, "permission": "reports:view"})).await;
    assert_eq!(c.ok(200)["allowed"], false);

    // Deleting a group removes everything that flowed through it at once.
    app.patch(&format!("{T}/groups/{company}"), ROOT, json!({"applyPrivileges": true})).await.ok(200);
    app.delete(&format!("{T}/groups/{emea}"), ROOT).await;
    let c = app.post(&format!("{T}/check"), ROOT, json!({"userId": ann, "permission": "reports:view"})).await;
    assert_eq!(c.ok(200)["allowed"], false);
    let f = app.get(&format!("{T}/groups/{france}"), ROOT).await;
    assert_eq!(f.ok(200)["parentIds"], json!([]));
    app.assert_consistent().await;
}

#[tokio::test]
async fn cycles_are_refused_with_409_and_change_nothing() {
    let app = TestApp::new().await;
    let a = app.group("default", ROOT, "A", &[]).await;
    let b = app.group("default", ROOT, "B", &[&a]).await;
    let before = app.fingerprint().await;
    app.patch(&format!("{T}/groups/{a}"), ROOT, json!({"parentIds": [b]})).await.problem(409);
    app.patch(&format!("{T}/groups/{a}"), ROOT, json!({"parentIds": [a]})).await.problem(409);
    assert_eq!(app.fingerprint().await, before);
    assert_eq!(app.get(&format!("{T}/groups/{a}"), ROOT).await.ok(200)["parentIds"], json!([]));
    app.assert_consistent().await;
}

#[tokio::test]
async fn nesting_past_the_depth_limit_is_refused_with_422() {
    let app = TestApp::with_config(cohort_service::Config { max_depth: 3, ..Default::default() }).await;
    let a = app.group("default", ROOT, "A", &[]).await;
    let b = app.group("default", ROOT, "B", &[&a]).await;
    let c = app.group("default", ROOT, "C", &[&b]).await;
    let before = app.fingerprint().await;
    let r = app.post(&format!("{T}/groups"), ROOT, json!({"name": "D", "parentIds": [c]})).await;
    r.problem(422);
    assert_eq!(r.body["errors"][0]["field"], "parentIds");
    let d = app.group("default", ROOT, "D", &[]).await;
    let before2 = app.fingerprint().await;
    app.patch(&format!("{T}/groups/{a}"), ROOT, json!({"parentIds": [d]})).await.problem(422);
    assert_eq!(app.fingerprint().await, before2);
    assert_ne!(before, before2);
    app.assert_consistent().await;
}

#[tokio::test]
async fn group_managers_have_limits() {
    let app = TestApp::new().await;
    let mine = app.group("default", ROOT, "Mine", &[]).await;
    let other = app.group("default", ROOT, "Other", &[]).await;
    let mgr = app.user("default", ROOT, "mgr@example.com").await;
    let bob = app.user("default", ROOT, "bob@example.com").await;
    app.post(&format!("{T}/groups/{mine}/members"), ROOT, json!({"userId": mgr, "role": "manager"})).await.ok(201);
    let tok = app.token_for("default", ROOT, &mgr).await;

    // May add and remove ordinary members and edit the description.
    app.post(&format!("{T}/groups/{mine}/members"), &tok, json!({"userId": bob})).await.ok(201);
    app.patch(&format!("{T}/groups/{mine}"), &tok, json!({"description": "ours"})).await.ok(200);
    app.get(&format!("{T}/groups/{mine}/members"), &tok).await.ok(200);
    app.delete(&format!("{T}/groups/{mine}/members/{bob}"), &tok).await.ok(200);

    let role = app.role("default", ROOT, "R", &["x:y"]).await;
    let before = app.fingerprint().await;
    // Not groups they do not manage.
    app.post(&format!("{T}/groups/{other}/members"), &tok, json!({"userId": bob})).await.problem(403);
    // No managers.
    app.post(&format!("{T}/groups/{mine}/members"), &tok, json!({"userId": bob, "role": "manager"})).await.problem(403);
    // No roles, flags, names, parents or deletion.
    app.post(&format!("{T}/groups/{mine}/roles"), &tok, json!({"roleId": role})).await.problem(403);
    app.patch(&format!("{T}/groups/{mine}"), &tok, json!({"applyPrivileges": false})).await.problem(403);
    app.patch(&format!("{T}/groups/{mine}"), &tok, json!({"name": "Renamed"})).await.problem(403);
    app.patch(&format!("{T}/groups/{mine}"), &tok, json!({"parentIds": [other]})).await.problem(403);
    app.delete(&format!("{T}/groups/{mine}"), &tok).await.problem(403);
    assert_eq!(app.fingerprint().await, before);
    // Cannot promote a member to manager, nor remove a manager.
    app.post(&format!("{T}/groups/{mine}/members"), &tok, json!({"userId": bob})).await.ok(201);
    let before = app.fingerprint().await;
    app.delete(&format!("{T}/groups/{mine}/members/{mgr}"), &tok).await.problem(403);
    app.patch(&format!("{T}/groups/{mine}/members/{bob}"), &tok, json!({"role": "manager"})).await.problem(403);
    assert_eq!(app.fingerprint().await, before);
    app.assert_consistent().await;
}

#[tokio::test]
async fn nobody_grants_what_they_do_not_hold() {
    let app = TestApp::new().await;
    let ga = app.user("default", ROOT, "ga@example.com").await;
    let group_admin = app.builtin("default", ROOT, "group-admin").await;
    app.post(&format!("{T}/users/{ga}/roles"), ROOT, json!({"roleId": group_admin})).await.ok(201);
    let tok = app.token_for("default", ROOT, &ga).await;
    let g = app.group("default", &tok, "Team", &[]).await;
    let agents = app.role("default", ROOT, "Agents", &["agents:use"]).await;
    let admin = app.builtin("default", ROOT, "admin").await;

    let before = app.data().await;
    let r = app.post(&format!("{T}/groups/{g}/roles"), &tok, json!({"roleId": agents})).await;
    r.problem(403);
    assert!(r.body["detail"].as_str().unwrap().contains("agents:use"));
    app.post(&format!("{T}/groups/{g}/roles"), &tok, json!({"roleId": admin})).await.problem(403);
    assert_eq!(app.data().await, before);
    assert_eq!(app.refused_attempts().await, 2, "both refusals are audited");
    // What they hold they may pass on.
    app.post(&format!("{T}/groups/{g}/roles"), &tok, json!({"roleId": group_admin})).await.ok(201);
    // Admins may grant anything.
    app.post(&format!("{T}/groups/{g}/roles"), ROOT, json!({"roleId": agents})).await.ok(201);
    app.assert_consistent().await;
}

#[tokio::test]
async fn a_user_in_a_group_through_two_sources_keeps_it_when_one_goes() {
    let app = TestApp::new().await;
    let g = app.group("default", ROOT, "G", &[]).await;
    let ann = app.user("default", ROOT, "ann@example.com").await;
    app.post(&format!("{T}/groups/{g}/members"), ROOT, json!({"userId": ann})).await.ok(201);
    // A rule row, as the rules engine will write it.
    let tenant = app.store.read().await.unwrap().tenant_by_slug("default").await.unwrap().unwrap();
    let mut w = app.store.write(&tenant.id).await.unwrap();
    w.put_membership(&cohort_core::model::Membership {
        group_id: cohort_core::GroupId::parse(&g).unwrap(),
        user_id: cohort_core::UserId::parse(&ann).unwrap(),
        source: cohort_core::model::MembershipSource::Rule,
        role: cohort_core::model::MemberRole::Member,
        expires_at: None,
        added_by: None,
        added_at: cohort_core::Timestamp(0),
        reason: cohort_core::name::ShortText::parse("reason", "", false).unwrap(),
    })
    .await
    .unwrap();
    w.commit().await.unwrap();

    let r = app.delete(&format!("{T}/groups/{g}/members/{ann}"), ROOT).await;
    assert_eq!(r.ok(200)["stillMember"], true);
    assert_eq!(r.body["remainingSources"], json!(["rule"]));
    let groups = app.get(&format!("{T}/users/{ann}/groups"), ROOT).await;
    assert_eq!(groups.ok(200)["items"][0]["paths"][0]["sources"], json!(["rule"]));
    app.assert_consistent().await;
}

#[tokio::test]
async fn expired_memberships_stop_at_expiry_and_suspended_users_have_nothing() {
    let app = TestApp::new().await;
    let g = app.group("default", ROOT, "G", &[]).await;
    let role = app.role("default", ROOT, "R", &["x:y"]).await;
    app.post(&format!("{T}/groups/{g}/roles"), ROOT, json!({"roleId": role})).await.ok(201);
    let ann = app.user("default", ROOT, "ann@example.com").await;
    let soon = cohort_service::format::rfc3339(cohort_core::Timestamp(app.services_now() + 60_000));
    app.post(&format!("{T}/groups/{g}/members"), ROOT, json!({"userId": ann, "expiresAt": soon})).await.ok(201);
    let url = format!("{T}/check");
    let body = json!({"userId": ann, "permission": "x:y"});
    let check = || app.post(&url, ROOT, body.clone());
    assert_eq!(check().await.ok(200)["allowed"], true);
    let rows = app.get(&format!("{T}/groups/{g}/members"), ROOT).await;
    assert!((59..=60).contains(&rows.ok(200)["items"][0]["expiresInSeconds"].as_i64().unwrap()), "{:#}", rows.body);
    app.clock.advance(30_000);
    let rows = app.get(&format!("{T}/groups/{g}/members"), ROOT).await;
    assert!((29..=30).contains(&rows.ok(200)["items"][0]["expiresInSeconds"].as_i64().unwrap()), "{:#}", rows.body);
    // Nothing to sweep yet: the sweep changes nothing, not even the revision.
    let tenant = app.store.read().await.unwrap().tenant_by_slug("default").await.unwrap().unwrap().id;
    let before = app.fingerprint().await;
    assert_eq!(app.services.sweep_expired(&tenant).await.unwrap(), 0);
    assert_eq!(app.fingerprint().await, before);
    app.clock.advance(31_000);
    // Access stops at the expiry, before any sweep...
    assert_eq!(check().await.ok(200)["allowed"], false);
    let rows = app.get(&format!("{T}/groups/{g}/members"), ROOT).await;
    assert_eq!(
        (rows.ok(200)["items"][0]["expired"].clone(), rows.body["items"][0]["expiresInSeconds"].clone()),
        (json!(true), json!(0))
    );
    // ...and the sweep removes the row and audits it.
    assert_eq!(app.services.sweep_expired(&tenant).await.unwrap(), 1);
    let rows = app.get(&format!("{T}/groups/{g}/members"), ROOT).await;
    assert_eq!(rows.ok(200)["items"], json!([]));
    let audit = app.get(&format!("{T}/audit?action=membership.expire"), ROOT).await;
    let events = audit.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["actorId"], json!(null));
    assert_eq!(events[0]["before"]["userId"], json!(ann));
    assert_eq!(check().await.ok(200)["allowed"], false);

    let bob = app.user("default", ROOT, "bob@example.com").await;
    app.post(&format!("{T}/users/{bob}/roles"), ROOT, json!({"roleId": role})).await.ok(201);
    let bob_token = app.token_for("default", ROOT, &bob).await;
    app.get(&format!("{T}/me"), &bob_token).await.ok(200);
    app.patch(&format!("{T}/users/{bob}"), ROOT, json!({"status": "suspended"})).await.ok(200);
    let c = app.post(&format!("{T}/check"), ROOT, json!({"userId": bob, "permission": "x:y"})).await;
    assert_eq!(c.ok(200)["allowed"], false);
    assert!(c.body["reason"].as_str().unwrap().contains("suspended"));
    app.get(&format!("{T}/me"), &bob_token).await.problem(401);
    let expired_past = cohort_service::format::rfc3339(cohort_core::Timestamp(0));
    app.post(&format!("{T}/groups/{g}/members"), ROOT, json!({"userId": bob, "expiresAt": expired_past}))
        .await
        .problem(422);
    app.assert_consistent().await;
}

#[tokio::test]
async fn checks_deny_by_default() {
    let app = TestApp::new().await;
    for (user, perm) in
        [("usr_doesnotexist00", "x:y"), ("not-an-id", "x:y"), ("", ""), ("usr_doesnotexist00", "NOT VALID")]
    {
        let c = app.post(&format!("{T}/check"), ROOT, json!({"userId": user, "permission": perm})).await;
        assert_eq!(c.ok(200)["allowed"], false, "{user} {perm}");
    }
    let ann = app.user("default", ROOT, "ann@example.com").await;
    let batch = app
        .post(&format!("{T}/check/batch"), ROOT, json!({"checks": [{"userId": ann, "permission": "x:y"}, {"userId": "usr_nobodynobody", "permission": "cohort:admin"}]}))
        .await;
    let results = batch.ok(200)["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|r| r["allowed"] == false));
    let me = app.get(&format!("{T}/me/access"), ROOT).await;
    assert_eq!(me.ok(200)["permissions"][0]["permission"], "cohort:*");
    app.assert_consistent().await;
}

#[tokio::test]
async fn tokens_are_shown_once_and_can_be_regenerated_and_revoked() {
    let app = TestApp::new().await;
    let created = app.post(&format!("{T}/tokens"), ROOT, json!({"name": "ci"})).await;
    let secret = created.ok(201)["secret"].as_str().unwrap().to_owned();
    let id = created.body["token"]["id"].as_str().unwrap().to_owned();
    app.get(&format!("{T}/me"), &secret).await.ok(200);
    let list = app.get(&format!("{T}/tokens"), ROOT).await;
    let text = list.ok(200).to_string();
    assert!(text.contains(&id) && !text.contains(&secret));
    let regenerated = app.post(&format!("{T}/tokens/{id}/regenerate"), ROOT, json!({})).await;
    let new_secret = regenerated.ok(200)["secret"].as_str().unwrap().to_owned();
    app.get(&format!("{T}/me"), &secret).await.problem(401);
    app.get(&format!("{T}/me"), &new_secret).await.ok(200);
    app.delete(&format!("{T}/tokens/{id}"), ROOT).await.ok(204);
    app.get(&format!("{T}/me"), &new_secret).await.problem(401);
    app.get(&format!("{T}/me"), "nonsense").await.problem(401);
    app.call(axum::http::Method::GET, &format!("{T}/me"), None, None).await.problem(401);
    app.assert_consistent().await;
}

#[tokio::test]
async fn every_change_is_audited_with_filters_and_pages() {
    let app = TestApp::new().await;
    let g = app.post(&format!("{T}/groups"), ROOT, json!({"name": "Audited"})).await;
    let rid = g.headers.get("x-request-id").unwrap().to_str().unwrap().to_owned();
    let gid = g.id();
    app.patch(&format!("{T}/groups/{gid}"), ROOT, json!({"description": "changed"})).await.ok(200);
    let a = app.get(&format!("{T}/audit?action=group.&targetId={gid}"), ROOT).await;
    let items = a.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["action"], "group.update");
    assert_eq!(items[0]["before"]["description"], "");
    assert_eq!(items[0]["after"]["description"], "changed");
    assert_eq!(items[1]["action"], "group.create");
    assert_eq!(items[1]["requestId"], rid.as_str());
    // Pages of one, newest first, cover everything exactly once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{T}/audit?limit=1&cursor={c}"),
            None => format!("{T}/audit?limit=1"),
        };
        let page = app.get(&url, ROOT).await;
        let body = page.ok(200).clone();
        seen.extend(body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        match body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let all = app.get(&format!("{T}/audit?limit=500"), ROOT).await;
    let all: Vec<String> =
        all.ok(200)["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(seen, all);
    let future = app.get(&format!("{T}/audit?from=2999-01-01T00:00:00Z"), ROOT).await;
    assert_eq!(future.ok(200)["items"], json!([]));
    app.assert_consistent().await;
}

#[tokio::test]
async fn lists_search_filter_and_paginate() {
    let app = TestApp::new().await;
    let parent = app.group("default", ROOT, "Parent", &[]).await;
    for i in 0..7 {
        app.group("default", ROOT, &format!("Team {i}"), &[&parent]).await;
    }
    app.group("default", ROOT, "100% Other_", &[]).await;
    let page = app.get(&format!("{T}/groups?q=team&limit=3"), ROOT).await;
    assert_eq!(page.ok(200)["items"].as_array().unwrap().len(), 3);
    let mut names = Vec::new();
    let mut url = format!("{T}/groups?q=team&limit=3");
    loop {
        let p = app.get(&url, ROOT).await;
        let body = p.ok(200).clone();
        names.extend(body["items"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap().to_owned()));
        match body["nextCursor"].as_str() {
            Some(c) => url = format!("{T}/groups?q=team&limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(names, (0..7).map(|i| format!("Team {i}")).collect::<Vec<_>>());
    let children = app.get(&format!("{T}/groups?parentId={parent}"), ROOT).await;
    assert_eq!(children.ok(200)["items"].as_array().unwrap().len(), 7);
    let literal = app.get(&format!("{T}/groups?q=%25"), ROOT).await;
    assert_eq!(literal.ok(200)["items"].as_array().unwrap().len(), 1, "`%` is matched literally");
    app.post(&format!("{T}/groups/{parent}/archive"), ROOT, json!({})).await.ok(200);
    let archived = app.get(&format!("{T}/groups?status=archived"), ROOT).await;
    assert_eq!(archived.ok(200)["items"][0]["id"], parent.as_str());
    app.user("default", ROOT, "zed@example.com").await;
    let users = app.get(&format!("{T}/users?q=ZED"), ROOT).await;
    assert_eq!(users.ok(200)["items"][0]["email"], "zed@example.com");
    app.get(&format!("{T}/groups?limit=0"), ROOT).await.problem(400);
    app.get(&format!("{T}/groups?cursor=zz"), ROOT).await.problem(400);
    app.get(&format!("{T}/groups?status=nope"), ROOT).await.problem(422);
    app.assert_consistent().await;
}

#[tokio::test]
async fn system_tokens_create_tenants_and_others_cannot() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    app.get("/t/acme/api/v1/me", &acme).await.ok(200);
    app.post("/api/v1/tenants", ROOT, json!({"slug": "acme", "name": "x", "adminEmail": "a@b.co"})).await.problem(409);
    app.post("/api/v1/tenants", &acme, json!({"slug": "other", "name": "x", "adminEmail": "a@b.co"}))
        .await
        .problem(403);
    app.post("/api/v1/tenants", ROOT, json!({"slug": "Bad Slug", "name": "", "adminEmail": "nope"})).await.problem(422);
    let list = app.get("/api/v1/tenants", ROOT).await;
    assert_eq!(list.ok(200).as_array().unwrap().len(), 2);
    app.get("/api/v1/tenants", &acme).await.problem(403);
    app.assert_consistent().await;
}

impl TestApp {
    fn services_now(&self) -> i64 {
        cohort_core::Clock::now(self.clock.as_ref()).millis()
    }
}

#[tokio::test]
async fn admins_cannot_lock_themselves_out() {
    let app = TestApp::new().await;
    let me = app.get(&format!("{T}/me"), ROOT).await.ok(200)["id"].as_str().unwrap().to_owned();
    let admin = app.builtin("default", ROOT, "admin").await;
    let before = app.fingerprint().await;
    app.delete(&format!("{T}/users/{me}/roles/{admin}"), ROOT).await.problem(409);
    app.patch(&format!("{T}/users/{me}"), ROOT, json!({"status": "suspended"})).await.problem(409);
    app.delete(&format!("{T}/users/{me}"), ROOT).await.problem(409);
    assert_eq!(app.fingerprint().await, before);
    // Another admin may.
    let other = app.user("default", ROOT, "second@example.com").await;
    app.post(&format!("{T}/users/{other}/roles"), ROOT, json!({"roleId": admin})).await.ok(201);
    let tok = app.token_for("default", ROOT, &other).await;
    app.delete(&format!("{T}/users/{me}/roles/{admin}"), &tok).await.ok(204);
    app.get(&format!("{T}/groups"), ROOT).await.problem(403);
    app.assert_consistent().await;
}

#[tokio::test]
async fn a_person_chooses_the_zone_they_read_times_in_and_an_admin_sets_the_tenants_default() {
    let app = TestApp::new().await;
    let ann = app.user("default", ROOT, "ann@example.com").await;
    let token = app.token_for("default", ROOT, &ann).await;
    let me = format!("{T}/users/{ann}");
    // Her own zone needs no `cohort:users.write`, and is kept as the database spells it ...
    let r = app.patch(&me, &token, json!({"timeZone": "europe/paris"})).await;
    r.ok(200);
    assert_eq!(r.body["timeZone"], "Europe/Paris");
    // ... but anything else of hers does, zone or not.
    app.patch(&me, &token, json!({"timeZone": "Asia/Tokyo", "title": "Boss"})).await.problem(403);
    let bob = app.user("default", ROOT, "bob@example.com").await;
    app.patch(&format!("{T}/users/{bob}"), &token, json!({"timeZone": "Asia/Tokyo"})).await.problem(403);
    // A zone the database does not know is refused beside its field, changing nothing.
    let before = app.fingerprint().await;
    let r = app.patch(&me, &token, json!({"timeZone": "Mars/Olympus"})).await;
    r.problem(422);
    assert_eq!(r.body["errors"][0]["field"], "timeZone");
    app.post(&format!("{T}/users"), ROOT, json!({"email": "c@example.com", "timeZone": "+01:00"})).await.problem(422);
    assert_eq!(app.fingerprint().await, before);
    assert_eq!(app.get(&me, ROOT).await.body["timeZone"], "Europe/Paris");
    // `null` goes back to the tenant's.
    let r = app.patch(&me, &token, json!({"timeZone": null})).await;
    r.ok(200);
    assert!(r.body["timeZone"].is_null());
    // The tenant's default is an admin's to read and set.
    assert!(app.get(&format!("{T}/settings"), ROOT).await.body["timeZone"].is_null());
    app.call(axum::http::Method::PUT, &format!("{T}/settings"), Some(&token), Some(json!({"timeZone": "Asia/Tokyo"})))
        .await
        .problem(403);
    let r = app
        .call(axum::http::Method::PUT, &format!("{T}/settings"), Some(ROOT), Some(json!({"timeZone": "asia/tokyo"})))
        .await;
    r.ok(200);
    assert_eq!(r.body["timeZone"], "Asia/Tokyo");
    assert_eq!(app.get(&format!("{T}/settings"), ROOT).await.body["timeZone"], "Asia/Tokyo");
    let r = app
        .call(axum::http::Method::PUT, &format!("{T}/settings"), Some(ROOT), Some(json!({"timeZone": "Tokyo"})))
        .await;
    r.problem(422);
    assert_eq!(r.body["errors"][0]["field"], "timeZone");
    // Both are in the audit log.
    let log = app.get(&format!("{T}/audit?targetId={ann}"), ROOT).await;
    assert!(log.body.to_string().contains("Europe/Paris"), "{}", log.body);
    let log = app.get(&format!("{T}/audit?action=tenant.time_zone"), ROOT).await;
    assert_eq!(log.body["items"][0]["after"]["timeZone"], "Asia/Tokyo", "{}", log.body);
}

#[tokio::test]
async fn what_is_not_there_is_named_not_numbered() {
    let app = TestApp::new().await;
    let sales = app.group("default", ROOT, "Sales", &[]).await;
    let ann =
        app.post(&format!("{T}/users"), ROOT, json!({"email": "ann@example.com", "displayName": "Ann Lee"})).await.id();
    let role = app.role("default", ROOT, "Exporter", &["reports.export"]).await;
    let bot = app.post(&format!("{T}/resources"), ROOT, json!({"type": "agent", "name": "Pricing bot"})).await.id();
    let detail = |a: &common::Answer| a.body["detail"].as_str().unwrap().to_owned();
    let cases = [
        (format!("{T}/groups/{sales}/roles/{role}"), "the role Exporter of Sales not found"),
        (format!("{T}/users/{ann}/roles/{role}"), "the role Exporter of Ann Lee not found"),
        (format!("{T}/groups/{sales}/grants/{bot}"), "a level of Sales on Pricing bot not found"),
        (format!("{T}/groups/{sales}/members/{ann}"), "manual membership of Ann Lee in Sales not found"),
    ];
    for (path, words) in cases {
        let a = app.call(axum::http::Method::DELETE, &path, Some(ROOT), None).await;
        a.problem(404);
        assert_eq!(detail(&a), words, "{path}");
    }
    // A level the actor lacks is named by its resource, not its id.
    let grant =
        app.post(&format!("{T}/groups/{sales}/grants"), ROOT, json!({"resourceId": bot, "level": "edit"})).await;
    grant.ok(201);
    let mgr = app.user("default", ROOT, "mgr@example.com").await;
    let writer = app.builtin("default", ROOT, "group-admin").await;
    app.post(&format!("{T}/users/{mgr}/roles"), ROOT, json!({"roleId": writer})).await.ok(201);
    let token = app.token_for("default", ROOT, &mgr).await;
    let a = app.post(&format!("{T}/groups/{sales}/members"), &token, json!({"userId": ann})).await;
    a.problem(403);
    assert!(detail(&a).contains("level `edit` on Pricing bot") && !detail(&a).contains("res_"), "{}", a.body);
}

#[tokio::test]
async fn a_groups_members_are_searched_sorted_and_paged_back_and_forth() {
    let app = TestApp::new().await;
    let g = app.group("default", ROOT, "Support", &[]).await;
    for (email, name) in
        [("cy@example.com", "Cy"), ("ann@example.com", "Ann"), ("bo@example.com", "Bo"), ("dee@other.org", "Dee")]
    {
        let u = app.post(&format!("{T}/users"), ROOT, json!({"email": email, "displayName": name})).await.id();
        app.post(&format!("{T}/groups/{g}/members"), ROOT, json!({"userId": u})).await.ok(201);
    }
    let page = |query: &str| format!("{T}/groups/{g}/members?{query}");
    let emails = |a: &common::Answer, app_users: &[(String, String)]| -> Vec<String> {
        a.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let id = m["userId"].as_str().unwrap();
                app_users.iter().find(|(i, _)| i == id).unwrap().1.clone()
            })
            .collect()
    };
    let users: Vec<(String, String)> = app.get(&format!("{T}/users?limit=500"), ROOT).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["id"].as_str().unwrap().to_owned(), u["email"].as_str().unwrap().to_owned()))
        .collect();
    // By name, two a page: forward, then back.
    let first = app.get(&page("sort=name&limit=2"), ROOT).await;
    assert_eq!(
        (first.ok(200)["total"].as_i64(), emails(&first, &users)),
        (Some(4), vec!["ann@example.com".to_owned(), "bo@example.com".to_owned()])
    );
    assert!(first.body["prevCursor"].is_null());
    let next = first.body["nextCursor"].as_str().unwrap().to_owned();
    let second = app.get(&page(&format!("sort=name&limit=2&cursor={next}")), ROOT).await;
    assert_eq!(emails(&second, &users), vec!["cy@example.com", "dee@other.org"]);
    let prev = second.body["prevCursor"].as_str().unwrap().to_owned();
    let back = app.get(&page(&format!("sort=name&limit=2&cursor={prev}")), ROOT).await;
    assert_eq!(emails(&back, &users), emails(&first, &users));
    // Descending, searched: the total counts what matches.
    let found = app.get(&page("q=EXAMPLE.COM&sort=email&order=desc"), ROOT).await;
    assert_eq!(
        (found.ok(200)["total"].as_i64(), emails(&found, &users)),
        (Some(3), vec!["cy@example.com".to_owned(), "bo@example.com".to_owned(), "ann@example.com".to_owned()])
    );
    // An unknown order, or a cursor of another order, is a clear 400.
    let bad = app.get(&page("sort=height"), ROOT).await;
    bad.problem(400);
    assert!(bad.body["detail"].as_str().unwrap().contains("email, name, role, source, added, expires"), "{}", bad.body);
    app.get(&page("order=sideways"), ROOT).await.problem(400);
    app.get(&page(&format!("sort=email&cursor={next}")), ROOT).await.problem(400);
    app.get(&page(&format!("q={}", "x".repeat(201))), ROOT).await.problem(400);
}
