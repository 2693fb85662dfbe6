//! Sign-in through a real OpenID provider (npm `oidc-provider`, run by `tests/oidc/provider.mjs`)
//! with the code flow, PKCE, `state` and `nonce`: the person lands in the console, their provider
//! groups become `sso` memberships (and those of mapped groups), a later sign-in follows the
//! provider's changes at once, Entra's groups overage is read from a directory stand-in (and a
//! failing directory changes nothing), tokens that are forged, expired, for another audience,
//! of another sign-in or replayed are refused, the provider's key rotation is followed, and
//! `next` cannot leave the tenant.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::{Method, StatusCode};
use common::oidc::{Idp, set_up, sign_in};
use common::{ROOT, TestApp};
use serde_json::{Value, json};

const T: &str = "/t/default/api/v1";

async fn user_by_email(app: &TestApp, email: &str) -> Option<Value> {
    let found = app.get(&format!("{T}/users?q={email}"), ROOT).await.ok(200).clone();
    found["items"].as_array().unwrap().iter().find(|u| u["email"] == email).cloned()
}

/// The user's membership rows as `(group name, source)`.
async fn memberships(app: &TestApp, user: &str) -> Vec<(String, String)> {
    let groups = app.get(&format!("{T}/users/{user}/groups"), ROOT).await.ok(200).clone();
    let mut out = Vec::new();
    for g in groups["items"].as_array().unwrap().iter().filter(|g| g["direct"] == true) {
        let rows = app.get(&format!("{T}/groups/{}/members?limit=500", g["groupId"].as_str().unwrap()), ROOT).await;
        for r in rows.ok(200)["items"].as_array().unwrap().iter().filter(|r| r["userId"] == user) {
            out.push((g["name"].as_str().unwrap().to_owned(), r["source"].as_str().unwrap().to_owned()));
        }
    }
    out.sort();
    out
}

async fn allowed(app: &TestApp, user: &str, permission: &str) -> bool {
    let a = app.post(&format!("{T}/check"), ROOT, json!({"userId": user, "permission": permission})).await;
    a.ok(200)["allowed"].as_bool().unwrap()
}

async fn audited(app: &TestApp, action: &str) -> Vec<Value> {
    let a = app.get(&format!("{T}/audit?action={action}&limit=500"), ROOT).await;
    a.ok(200)["items"].as_array().unwrap().iter().filter(|e| e["action"] == action).cloned().collect()
}

#[tokio::test]
async fn signing_in_syncs_the_providers_groups_and_each_sign_in_follows_them() {
    let app = TestApp::new().await;
    let idp = Idp::start();
    set_up(&app, &idp, json!({})).await.ok(200);
    let shown = app.get(&format!("{T}/identity-provider"), ROOT).await.ok(200).clone();
    assert_eq!(shown["issuer"], idp.issuer.as_str());
    assert_eq!(shown["clientSecretSet"], true);
    assert!(!shown.to_string().contains("cohort-test-secret"), "the secret is never answered: {shown}");
    assert!(!app.get(&format!("{T}/audit?limit=50"), ROOT).await.body.to_string().contains("cohort-test-secret"));

    // An admin maps the provider's engineering group onto a group of cohort's, with a role.
    let eng = app.group("default", ROOT, "Engineering", &[]).await;
    let role = app.role("default", ROOT, "Docs", &["docs:read"]).await;
    app.post(&format!("{T}/groups/{eng}/roles"), ROOT, json!({"roleId": role})).await.ok(201);
    app.post(&format!("{T}/groups/{eng}/sso-mappings"), ROOT, json!({"providerGroup": "grp-eng"})).await.ok(201);
    let listed = app.get(&format!("{T}/groups/{eng}/sso-mappings"), ROOT).await.ok(200).clone();
    assert_eq!(listed[0]["providerGroup"], "grp-eng");

    idp.account("alice", "alice@example.com", &["grp-eng", "grp-sales"]);
    let (landed, _) = sign_in(&app, &idp, "alice", None).await;
    assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.html);
    assert_eq!(landed.location, "/t/default/portal/access-management/groups");
    let session = landed.cookie.clone().expect("a session cookie");
    let page = app.console(Method::GET, "/t/default/portal/access-management/groups", Some(&session), None, None).await;
    assert_eq!(page.status, StatusCode::OK, "the session opens the console");

    let alice = user_by_email(&app, "alice@example.com").await.expect("made at the first sign-in");
    let id = alice["id"].as_str().unwrap().to_owned();
    assert_eq!(alice["ssoGroups"], json!(["grp-eng", "grp-sales"]));
    assert_eq!(
        memberships(&app, &id).await,
        [("Engineering", "sso"), ("grp-eng", "sso"), ("grp-sales", "sso")].map(|(g, s)| (g.to_owned(), s.to_owned()))
    );
    assert!(allowed(&app, &id, "docs:read").await, "the mapped group's role reaches her");
    let synced = app.get(&format!("{T}/groups?source=sso"), ROOT).await.ok(200).clone();
    let ext: Vec<&str> =
        synced["items"].as_array().unwrap().iter().map(|g| g["externalId"].as_str().unwrap()).collect();
    assert_eq!(ext, ["grp-eng", "grp-sales"], "one sso group per provider group, its id kept");
    assert_eq!(audited(&app, "sso.add").await.len(), 3);
    let opened = audited(&app, "session.create").await;
    assert!(opened.iter().any(|e| e["after"]["method"] == "sso"), "{opened:?}");

    // A manual row in a synced group is hers to keep; the provider then moves her.
    let sales = synced["items"].as_array().unwrap().iter().find(|g| g["externalId"] == "grp-sales").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(&format!("{T}/groups/{eng}/members"), ROOT, json!({"userId": id})).await.ok(201);
    idp.account("alice", "alice@example.com", &["grp-sales", "grp-ops"]);
    let (again, _) = sign_in(&app, &idp, "alice", None).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.html);
    assert_eq!(
        memberships(&app, &id).await,
        [("Engineering", "manual"), ("grp-ops", "sso"), ("grp-sales", "sso")]
            .map(|(g, s)| (g.to_owned(), s.to_owned()))
    );
    assert_eq!(audited(&app, "sso.remove").await.len(), 2, "grp-eng and the mapped Engineering row went");
    // Her manual row still gives the role; without it, access goes at once.
    app.delete(&format!("{T}/groups/{eng}/members/{id}"), ROOT).await.ok(200);
    assert!(!allowed(&app, &id, "docs:read").await);
    // The console shows a synced group's source and the provider's id.
    let login = app.console(Method::POST, "/t/default/login/token", None, None, Some(&format!("token={ROOT}"))).await;
    let admin = login.cookie.expect("the admin signs in with a token");
    let page = app
        .console(Method::GET, &format!("/t/default/portal/access-management/groups/{sales}"), Some(&admin), None, None)
        .await;
    assert!(page.html.contains("badge source-sso") || page.html.contains(">sso<"), "{}", page.html);
    assert!(page.html.contains("<code class=\"external\">grp-sales</code>"), "{}", page.html);
}

#[tokio::test]
async fn the_groups_overage_is_read_from_the_directory_and_a_failing_directory_changes_nothing() {
    let app = TestApp::new().await;
    let idp = Idp::start();
    set_up(&app, &idp, json!({})).await.ok(200);
    // Past Entra's 200 groups, the token says only `hasgroups`; the directory pages 100 at a time.
    let many: Vec<String> = (0..250).map(|i| format!("dir-{i:03}")).collect();
    idp.control(
        "/test/account",
        json!({"sub": "bob", "email": "bob@example.com", "email_verified": true, "name": "Bob",
               "preferred_username": "bob", "overage": true, "directoryGroups": many}),
    );
    let (landed, _) = sign_in(&app, &idp, "bob", None).await;
    assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.html);
    let bob = user_by_email(&app, "bob@example.com").await.unwrap();
    let id = bob["id"].as_str().unwrap().to_owned();
    assert_eq!(bob["ssoGroups"].as_array().unwrap().len(), 250);
    assert_eq!(memberships(&app, &id).await.len(), 250, "all three pages were read");

    // The directory fails: the sign-in fails with a clear message and nothing moves.
    let fewer: Vec<String> = many[..10].to_vec();
    idp.control(
        "/test/account",
        json!({"sub": "bob", "email": "bob@example.com", "email_verified": true, "name": "Bob",
               "preferred_username": "bob", "overage": true, "directoryGroups": fewer}),
    );
    idp.control("/test/directory", json!({"fail": true}));
    let (failed, _) = sign_in(&app, &idp, "bob", None).await;
    assert_eq!(failed.status, StatusCode::BAD_GATEWAY);
    assert!(failed.html.contains("memberships are unchanged"), "{}", failed.html);
    assert!(failed.cookie.is_none());
    assert_eq!(memberships(&app, &id).await.len(), 250);
    let refused = audited(&app, "session.create.refused").await;
    assert_eq!(refused.len(), 1, "the failure is audited");
    // Once it answers again, the next sign-in follows it.
    idp.control("/test/directory", json!({"fail": false}));
    sign_in(&app, &idp, "bob", None).await.0.cookie.expect("signed in");
    assert_eq!(memberships(&app, &id).await.len(), 10);
    app.assert_consistent().await;
}

#[tokio::test]
async fn forged_expired_misaddressed_and_replayed_tokens_are_refused_and_rotation_is_followed() {
    let app = TestApp::new().await;
    let idp = Idp::start();
    set_up(&app, &idp, json!({})).await.ok(200);
    idp.account("carol", "carol@example.com", &["grp-a"]);
    for mode in ["forged", "expired", "audience", "nonce"] {
        idp.control("/test/tamper", json!({"mode": mode}));
        let (refused, _) = sign_in(&app, &idp, "carol", None).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{mode}: {}", refused.html);
        assert!(refused.cookie.is_none(), "{mode}");
        assert!(user_by_email(&app, "carol@example.com").await.is_none(), "{mode}: nobody was made");
    }
    idp.control("/test/tamper", json!({"mode": null}));
    assert_eq!(audited(&app, "session.create.refused").await.len(), 4);

    // A callback replayed (its state and code used once already) is refused.
    let (first, callback) = sign_in(&app, &idp, "carol", None).await;
    first.cookie.expect("signed in");
    let replayed = app.console(Method::GET, &callback, None, None, None).await;
    assert_eq!(replayed.status, StatusCode::UNAUTHORIZED);
    assert!(replayed.html.contains("already used"), "{}", replayed.html);
    // A state nobody began is refused too.
    let made_up = app.console(Method::GET, "/t/default/login/sso/callback?code=x&state=y", None, None, None).await;
    assert_eq!(made_up.status, StatusCode::UNAUTHORIZED);
    // The provider says no.
    let denied = app.console(Method::GET, "/t/default/login/sso/callback?error=access_denied", None, None, None).await;
    assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
    assert!(denied.html.contains("access_denied"));

    // The provider rotates its key: the next token names a key cohort fetches then.
    idp.control("/test/rotate", json!({}));
    sign_in(&app, &idp, "carol", None).await.0.cookie.expect("signed in after the rotation");
}

#[tokio::test]
async fn next_stays_in_the_tenant_and_who_may_sign_in_is_the_tenants_choice() {
    let app = TestApp::new().await;
    let idp = Idp::start();
    set_up(&app, &idp, json!({"createUsers": false})).await.ok(200);
    idp.account("dave", "dave@example.com", &[]);
    // Unknown and not made: refused with a page that says why.
    let (refused, _) = sign_in(&app, &idp, "dave", None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.html.contains("not a user of this tenant"), "{}", refused.html);
    // Known by email, linked only when the tenant allows it and the provider vouches for it.
    let dave = app.user("default", ROOT, "dave@example.com").await;
    assert_eq!(sign_in(&app, &idp, "dave", None).await.0.status, StatusCode::FORBIDDEN);
    set_up(&app, &idp, json!({"createUsers": false, "linkByEmail": true})).await.ok(200);
    let (linked, _) = sign_in(&app, &idp, "dave", Some("/t/default/portal/access-management/users")).await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER, "{}", linked.html);
    assert_eq!(linked.location, "/t/default/portal/access-management/users");
    // `next` may not leave the tenant.
    for away in ["https://evil.example/", "//evil.example/x", "/t/other/portal", "/t/default/../other"] {
        let (landed, _) = sign_in(&app, &idp, "dave", Some(away)).await;
        assert_eq!(landed.location, "/t/default/portal/access-management/groups", "{away}");
    }
    // A suspended user cannot sign in, and their open session ends.
    let session = linked.cookie.unwrap();
    app.patch(&format!("{T}/users/{dave}"), ROOT, json!({"status": "suspended"})).await.ok(200);
    let (suspended, _) = sign_in(&app, &idp, "dave", None).await;
    assert_eq!(suspended.status, StatusCode::FORBIDDEN);
    assert!(suspended.html.contains("suspended"));
    let page = app.console(Method::GET, "/t/default/portal/access-management/groups", Some(&session), None, None).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_provider_is_checked_when_set_up_and_mappings_confer_only_what_their_maker_holds() {
    let app = TestApp::new().await;
    let idp = Idp::start();
    let url = format!("{T}/identity-provider");
    let put = |body: Value| app.call(Method::PUT, &url, Some(ROOT), Some(body));
    put(json!({"issuer": "http://example.com", "clientId": "c", "clientSecret": "s"})).await.problem(422);
    let a = put(json!({"issuer": "http://127.0.0.1:9", "clientId": "c", "clientSecret": "s"})).await;
    a.problem(422);
    assert!(a.body["detail"].as_str().unwrap().contains("out of reach"), "{}", a.body);
    put(json!({"issuer": idp.issuer, "clientId": "c"})).await.problem(422);
    set_up(&app, &idp, json!({})).await.ok(200);
    // Replacing it without the secret keeps the one kept.
    put(json!({"issuer": idp.issuer, "clientId": "cohort", "scopes": ["openid", "groups", "email"], "createUsers": true}))
        .await
        .ok(200);
    idp.account("erin", "erin@example.com", &["grp-x"]);
    sign_in(&app, &idp, "erin", None).await.0.cookie.expect("the kept secret still redeems codes");

    // A group admin who does not hold what a group gives may not map a provider group onto it.
    let role = app.role("default", ROOT, "Finance", &["finance:approve"]).await;
    let finance = app.group("default", ROOT, "Finance", &[]).await;
    app.post(&format!("{T}/groups/{finance}/roles"), ROOT, json!({"roleId": role})).await.ok(201);
    let lead = app.user("default", ROOT, "lead@example.com").await;
    let group_admin = app.builtin("default", ROOT, "group-admin").await;
    app.post(&format!("{T}/users/{lead}/roles"), ROOT, json!({"roleId": group_admin})).await.ok(201);
    let lead_token = app.token_for("default", ROOT, &lead).await;
    let a =
        app.post(&format!("{T}/groups/{finance}/sso-mappings"), &lead_token, json!({"providerGroup": "grp-x"})).await;
    a.problem(403);
    assert!(a.body["detail"].as_str().unwrap().contains("finance:approve"), "{}", a.body);
    assert_eq!(audited(&app, "sso_mapping.add.refused").await.len(), 1);
    // Nor may anyone map onto a group that confers cohort's own permissions.
    let admins = app.group("default", ROOT, "Admins", &[]).await;
    app.post(&format!("{T}/groups/{admins}/roles"), ROOT, json!({"roleId": group_admin})).await.ok(201);
    app.post(&format!("{T}/groups/{admins}/sso-mappings"), ROOT, json!({"providerGroup": "grp-x"})).await.problem(403);
    // An admin may map onto Finance; twice is a conflict; removing it ends it at the next sign-in.
    app.post(&format!("{T}/groups/{finance}/sso-mappings"), ROOT, json!({"providerGroup": "grp-x"})).await.ok(201);
    app.post(&format!("{T}/groups/{finance}/sso-mappings"), ROOT, json!({"providerGroup": "grp-x"})).await.problem(409);
    sign_in(&app, &idp, "erin", None).await;
    let erin = user_by_email(&app, "erin@example.com").await.unwrap()["id"].as_str().unwrap().to_owned();
    assert!(allowed(&app, &erin, "finance:approve").await);
    app.delete(&format!("{T}/groups/{finance}/sso-mappings/grp-x"), ROOT).await.ok(204);
    app.delete(&format!("{T}/groups/{finance}/sso-mappings/grp-x"), ROOT).await.problem(404);
    sign_in(&app, &idp, "erin", None).await;
    assert!(!allowed(&app, &erin, "finance:approve").await);

    // With `ssoOnly`, the members of sso groups follow sign-in alone.
    put(json!({"issuer": idp.issuer, "clientId": "cohort", "ssoOnly": true, "createUsers": true})).await.ok(200);
    let synced =
        app.get(&format!("{T}/groups?source=sso"), ROOT).await.ok(200)["items"][0]["id"].as_str().unwrap().to_owned();
    let other = app.user("default", ROOT, "other@example.com").await;
    let a = app.post(&format!("{T}/groups/{synced}/members"), ROOT, json!({"userId": other})).await;
    a.problem(409);
    assert!(a.body["detail"].as_str().unwrap().contains("ssoOnly"));
    app.delete(&format!("{T}/groups/{synced}/members/{erin}?source=sso"), ROOT).await.problem(409);
    // Local groups are edited as ever, and the provider can be removed.
    app.post(&format!("{T}/groups/{finance}/members"), ROOT, json!({"userId": other})).await.ok(201);
    app.delete(&format!("{T}/identity-provider"), ROOT).await.ok(204);
    app.get(&format!("{T}/identity-provider"), ROOT).await.problem(404);
    app.assert_consistent().await;
}

#[tokio::test]
async fn with_sso_only_a_password_signs_in_tenant_admins_alone() {
    let app = TestApp::new().await;
    let idp = Idp::start();
    set_up(&app, &idp, json!({"ssoOnly": true})).await.ok(200);
    let me = app.get(&format!("{T}/me"), ROOT).await.ok(200).clone();
    let admin = me["id"].as_str().or(me["user"]["id"].as_str()).unwrap().to_owned();
    let admin_email = me["email"].as_str().or(me["user"]["email"].as_str()).unwrap().to_owned();
    let ivy = app.user("default", ROOT, "ivy@example.com").await;
    for (user, email) in [(&admin, admin_email.as_str()), (&ivy, "ivy@example.com")] {
        let link = app.post(&format!("{T}/users/{user}/invitations"), ROOT, json!({})).await.ok(201)["path"]
            .as_str()
            .unwrap()
            .to_owned();
        let set = serde_html_form::to_string([
            ("password", "a long enough passphrase"),
            ("again", "a long enough passphrase"),
        ])
        .unwrap();
        let done = app.console(Method::POST, &link, None, None, Some(&set)).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{email}: {}", done.html);
    }
    let refused = password_sign_in(&app, "ivy@example.com").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.html.contains("identity provider only"), "{}", refused.html);
    let page = app.console(Method::GET, "/t/default/login", None, None, None).await;
    assert!(page.html.contains("/t/default/login/sso"), "the button is there");
    let ok = password_sign_in(&app, &admin_email).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "an admin is never locked out: {}", ok.html);
}

async fn password_sign_in(app: &TestApp, email: &str) -> common::Page {
    let body = serde_html_form::to_string([("email", email), ("password", "a long enough passphrase")]).unwrap();
    app.console(Method::POST, "/t/default/login/password", None, None, Some(&body)).await
}

#[tokio::test]
async fn admins_set_the_provider_up_on_the_sign_in_page() {
    let app = TestApp::new().await;
    let idp = Idp::start();
    const HERE: Option<&str> = Some("http://cohort.test");
    const PAGE: &str = "/t/default/portal/access-management/sign-in";
    let login = app.console(Method::POST, "/t/default/login/token", None, HERE, Some(&format!("token={ROOT}"))).await;
    let admin = login.cookie.unwrap();
    let empty = app.console(Method::GET, PAGE, Some(&admin), None, None).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.html.contains("http://cohort.test/t/default/login/sso/callback"), "the redirect URI to register");
    let csrf = empty.csrf();
    let form = |issuer: &str, csrf: &str| {
        serde_html_form::to_string([
            ("csrf", csrf),
            ("issuer", issuer),
            ("client_id", "cohort"),
            ("client_secret", "cohort-test-secret"),
            ("scopes", "openid email profile groups"),
            ("create_users", "on"),
        ])
        .unwrap()
    };
    // Without its CSRF token nothing is saved.
    let forged = app.console(Method::POST, PAGE, Some(&admin), HERE, Some(&form(&idp.issuer, "nope"))).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    app.get(&format!("{T}/identity-provider"), ROOT).await.problem(404);
    // A wrong issuer is told beside its field.
    let bad = app.console(Method::POST, PAGE, Some(&admin), HERE, Some(&form("http://127.0.0.1:9", &csrf))).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.html.contains("out of reach"), "{}", bad.html);
    let saved = app.console(Method::POST, PAGE, Some(&admin), HERE, Some(&form(&idp.issuer, &csrf))).await;
    assert_eq!((saved.status, saved.location.as_str()), (StatusCode::SEE_OTHER, &*format!("{PAGE}?done=saved")));
    let shown = app.console(Method::GET, PAGE, Some(&admin), None, None).await;
    assert!(shown.html.contains(&idp.issuer) && !shown.html.contains("cohort-test-secret"), "{}", shown.html);
    // The sign-in page now offers the provider, and it signs people in.
    let page = app.console(Method::GET, "/t/default/login", None, None, None).await;
    assert!(page.html.contains("Sign in with your organisation"));
    idp.account("jo", "jo@example.com", &["grp-j"]);
    sign_in(&app, &idp, "jo", None).await.0.cookie.expect("signed in");
    // Someone who is not an admin may not see or change it.
    let lead = app.user("default", ROOT, "lead@example.com").await;
    let group_admin = app.builtin("default", ROOT, "group-admin").await;
    app.post(&format!("{T}/users/{lead}/roles"), ROOT, json!({"roleId": group_admin})).await.ok(201);
    let token = app.token_for("default", ROOT, &lead).await;
    let theirs = app.console(Method::POST, "/t/default/login/token", None, HERE, Some(&format!("token={token}"))).await;
    let theirs = theirs.cookie.unwrap();
    let denied = app.console(Method::GET, PAGE, Some(&theirs), None, None).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let groups =
        app.console(Method::GET, "/t/default/portal/access-management/groups", Some(&theirs), None, None).await;
    let remove = serde_html_form::to_string([("csrf", groups.csrf())]).unwrap();
    let denied = app.console(Method::POST, &format!("{PAGE}/remove"), Some(&theirs), HERE, Some(&remove)).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    app.get(&format!("{T}/identity-provider"), ROOT).await.ok(200);
    // Provider groups are mapped onto groups on the same page.
    let eng = app.group("default", ROOT, "Engineering", &[]).await;
    let map_form = |group: &str| {
        let pairs = [("csrf", shown.csrf()), ("provider_group", "grp-j".to_owned()), ("group", group.to_owned())];
        serde_html_form::to_string(pairs).unwrap()
    };
    let mapped = app
        .console(Method::POST, &format!("{PAGE}/mappings"), Some(&admin), HERE, Some(&map_form("engineering")))
        .await;
    assert_eq!(mapped.location, format!("{PAGE}?done=mapped"));
    let unknown =
        app.console(Method::POST, &format!("{PAGE}/mappings"), Some(&admin), HERE, Some(&map_form("nope"))).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.html.contains("no active group is called"));
    let listed = app.console(Method::GET, PAGE, Some(&admin), None, None).await;
    assert!(listed.html.contains("<code>grp-j</code>") && listed.html.contains("Engineering"), "{}", listed.html);
    sign_in(&app, &idp, "jo", None).await;
    let jo = app.get(&format!("{T}/users?q=jo@example.com"), ROOT).await.ok(200)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let groups = app.get(&format!("{T}/users/{jo}/groups"), ROOT).await.ok(200).clone();
    assert!(groups["items"].as_array().unwrap().iter().any(|g| g["groupId"] == eng.as_str()), "{groups}");
    let unmapped =
        app.console(Method::POST, &format!("{PAGE}/mappings/remove"), Some(&admin), HERE, Some(&map_form(&eng))).await;
    assert_eq!(unmapped.location, format!("{PAGE}?done=unmapped"));
    app.get(&format!("{T}/groups/{eng}/sso-mappings"), ROOT)
        .await
        .ok(200)
        .as_array()
        .unwrap()
        .is_empty()
        .then_some(())
        .expect("unmapped");
    // An admin removes it.
    let remove = serde_html_form::to_string([("csrf", shown.csrf())]).unwrap();
    let removed = app.console(Method::POST, &format!("{PAGE}/remove"), Some(&admin), HERE, Some(&remove)).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    app.get(&format!("{T}/identity-provider"), ROOT).await.problem(404);
}

#[tokio::test]
async fn sign_ins_in_progress_are_bounded() {
    let mut config = cohort_service::Config::default();
    config.sessions.pending_sign_ins = 3;
    let app = TestApp::with_config(config).await;
    let idp = Idp::start();
    set_up(&app, &idp, json!({})).await.ok(200);
    for _ in 0..3 {
        let begun = app.console(Method::GET, "/t/default/login/sso", None, None, None).await;
        assert_eq!(begun.status, StatusCode::SEE_OTHER);
    }
    // Anyone may begin one: past the limit, new ones wait until old ones finish or age out.
    let refused = app.console(Method::GET, "/t/default/login/sso", None, None, None).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.html);
    app.clock.advance(10 * 60_000 + 1);
    let begun = app.console(Method::GET, "/t/default/login/sso", None, None, None).await;
    assert_eq!(begun.status, StatusCode::SEE_OTHER, "stale flows are forgotten");
}
