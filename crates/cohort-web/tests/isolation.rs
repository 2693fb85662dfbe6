//! Every endpoint, called with another tenant's ids (404, nothing leaked, nothing changed)
//! and by a caller without the permission (403, nothing changed).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::Method;
use common::{ROOT, TestApp};
use serde_json::{Value, json};

/// Ids of one tenant's things.
struct Ids {
    user: String,
    group: String,
    role: String,
    token: String,
    resource: String,
    kind: String,
    import: String,
    rule: String,
}

async fn populate(app: &TestApp, tenant: &str, admin: &str, marker: &str) -> Ids {
    let user = app.user(tenant, admin, &format!("{marker}@example.com")).await;
    let group = app.group(tenant, admin, &format!("{marker}-group"), &[]).await;
    let role = app.role(tenant, admin, &format!("{marker}-role"), &[&format!("{marker}:use")]).await;
    app.post(&format!("/t/{tenant}/api/v1/groups/{group}/members"), admin, json!({"userId": user})).await.ok(201);
    app.post(&format!("/t/{tenant}/api/v1/groups/{group}/roles"), admin, json!({"roleId": role})).await.ok(201);
    app.post(&format!("/t/{tenant}/api/v1/users/{user}/roles"), admin, json!({"roleId": role})).await.ok(201);
    let t = app.post(&format!("/t/{tenant}/api/v1/tokens"), admin, json!({"name": "t", "userId": user})).await;
    let token = t.ok(201)["token"]["id"].as_str().unwrap().to_owned();
    // Type names are chosen by the tenant and echoed in messages; keep the marker out of them.
    let kind = format!("kind{}", marker.len());
    app.post(&format!("/t/{tenant}/api/v1/resource-types"), admin, json!({"name": kind})).await.ok(201);
    let r = app
        .post(&format!("/t/{tenant}/api/v1/resources"), admin, json!({"type": kind, "name": format!("{marker}-res")}))
        .await;
    let resource = r.id();
    let grant = json!({"resourceId": resource, "level": "use"});
    app.post(&format!("/t/{tenant}/api/v1/groups/{group}/grants"), admin, grant.clone()).await.ok(201);
    app.post(&format!("/t/{tenant}/api/v1/users/{user}/grants"), admin, grant).await.ok(201);
    let scopes = json!({"scopes": {"country": [format!("{marker}-land")]}});
    app.call(Method::PUT, &format!("/t/{tenant}/api/v1/groups/{group}/scopes"), Some(admin), Some(scopes))
        .await
        .ok(200);
    let csv = format!("email,role\n{marker}@example.com,member\n");
    let i = app.post(&format!("/t/{tenant}/api/v1/groups/{group}/members/import"), admin, json!(csv)).await;
    let import = i.ok(201)["importId"].as_str().unwrap().to_owned();
    let rule = json!({"expression": format!("user.email == '{marker}@example.com'"), "confirm": true});
    let r = app.post(&format!("/t/{tenant}/api/v1/groups/{group}/rules"), admin, rule).await;
    let rule = r.ok(201)["rule"]["id"].as_str().unwrap().to_owned();
    Ids { user, group, role, token, resource, kind, import, rule }
}

/// Every tenant endpoint: method, path under `/t/{tenant}/api/v1`, body; `{u} {g} {r} {k}
/// {x} {t} {i} {l}` stand for a user, group, role, token, resource, resource type, import and
/// rule.
fn endpoints() -> Vec<(Method, &'static str, Option<Value>)> {
    use Method as M;
    vec![
        (M::POST, "/users", Some(json!({"email": "new@example.com"}))),
        (M::POST, "/users", Some(json!({"email": "new2@example.com", "groupIds": ["{g}"]}))),
        (M::GET, "/user-types", None),
        (M::PUT, "/user-types", Some(json!({"types": ["member", "customer"]}))),
        (M::GET, "/settings", None),
        (M::PUT, "/settings", Some(json!({"timeZone": "Europe/Paris"}))),
        (M::GET, "/users", None),
        (M::GET, "/users/{u}", None),
        (M::PATCH, "/users/{u}", Some(json!({"title": "x"}))),
        (M::PATCH, "/users/{u}", Some(json!({"timeZone": "Asia/Tokyo"}))),
        (M::DELETE, "/users/{u}", None),
        (M::POST, "/users/{u}/roles", Some(json!({"roleId": "{r}"}))),
        (M::GET, "/users/{u}/roles", None),
        (M::DELETE, "/users/{u}/roles/{r}", None),
        (M::GET, "/users/{u}/access", None),
        (M::GET, "/users/{u}/groups", None),
        (M::POST, "/groups", Some(json!({"name": "New"}))),
        (
            M::POST,
            "/groups",
            Some(json!({"name": "New2", "parentIds": ["{g}"], "roleIds": ["{r}"], "members": [{"userId": "{u}"}]})),
        ),
        (M::GET, "/groups", None),
        (M::GET, "/groups/{g}", None),
        (M::PATCH, "/groups/{g}", Some(json!({"name": "Renamed"}))),
        (M::DELETE, "/groups/{g}", None),
        (M::POST, "/groups/{g}/archive", Some(json!({}))),
        (M::POST, "/groups/{g}/unarchive", Some(json!({}))),
        (M::POST, "/groups/{g}/members", Some(json!({"userId": "{u}"}))),
        (M::GET, "/groups/{g}/members", None),
        (M::PATCH, "/groups/{g}/members/{u}", Some(json!({"role": "manager"}))),
        (M::DELETE, "/groups/{g}/members/{u}", None),
        (M::GET, "/groups/{g}/effective-members", None),
        (M::GET, "/groups/{g}/members/import-template", None),
        (M::POST, "/groups/{g}/members/import", Some(json!("email,role\nnew@example.com,member\n"))),
        (M::POST, "/groups/{g}/members/import/{i}/confirm", Some(json!({}))),
        (M::GET, "/groups/{g}/members/export", None),
        (M::GET, "/users/export", None),
        (M::GET, "/users/import-template", None),
        (M::POST, "/users/import", Some(json!("email\nnew@example.com\n"))),
        (M::POST, "/users/import/{i}/confirm", Some(json!({}))),
        (M::POST, "/groups/batch", Some(json!({"groupIds": ["{g}"], "action": "archive"}))),
        (M::POST, "/groups/{g}/roles", Some(json!({"roleId": "{r}"}))),
        (M::GET, "/groups/{g}/roles", None),
        (M::DELETE, "/groups/{g}/roles/{r}", None),
        (M::POST, "/roles", Some(json!({"name": "New", "permissions": ["a:b"]}))),
        (M::GET, "/roles", None),
        (M::GET, "/roles/{r}", None),
        (M::PATCH, "/roles/{r}", Some(json!({"name": "Renamed"}))),
        (M::DELETE, "/roles/{r}", None),
        (M::POST, "/tokens", Some(json!({"name": "x", "userId": "{u}"}))),
        (M::GET, "/tokens?all=true", None),
        (M::POST, "/tokens/{k}/regenerate", Some(json!({}))),
        (M::DELETE, "/tokens/{k}", None),
        (M::POST, "/check", Some(json!({"userId": "{u}", "permission": "x:y"}))),
        (M::POST, "/check/batch", Some(json!({"checks": [{"userId": "{u}", "permission": "x:y"}]}))),
        (M::GET, "/audit", None),
        (M::POST, "/resource-types", Some(json!({"name": "newkind"}))),
        (M::GET, "/resource-types", None),
        (M::DELETE, "/resource-types/{t}", None),
        (M::POST, "/resources", Some(json!({"type": "agent", "name": "New"}))),
        (M::GET, "/resources", None),
        (M::GET, "/resources/{x}", None),
        (M::PATCH, "/resources/{x}", Some(json!({"name": "Renamed"}))),
        (M::DELETE, "/resources/{x}", None),
        (M::GET, "/resources/{x}/grants", None),
        (M::GET, "/resources/{x}/holders?level=use", None),
        (M::POST, "/groups/{g}/grants", Some(json!({"resourceId": "{x}", "level": "edit"}))),
        (M::GET, "/groups/{g}/grants", None),
        (M::DELETE, "/groups/{g}/grants/{x}", None),
        (M::POST, "/users/{u}/grants", Some(json!({"resourceId": "{x}", "level": "edit"}))),
        (M::GET, "/users/{u}/grants", None),
        (M::DELETE, "/users/{u}/grants/{x}", None),
        (M::GET, "/groups/{g}/scopes", None),
        (M::POST, "/groups/{g}/rules", Some(json!({"expression": "user.title == 'x'"}))),
        (M::GET, "/groups/{g}/rules", None),
        (M::GET, "/groups/{g}/rules/{l}", None),
        (M::PATCH, "/groups/{g}/rules/{l}", Some(json!({"paused": true, "confirm": true}))),
        (M::DELETE, "/groups/{g}/rules/{l}", None),
        (M::PUT, "/groups/{g}/scopes", Some(json!({"scopes": {"k": ["v"]}}))),
        (M::POST, "/check", Some(json!({"userId": "{u}", "resourceId": "{x}", "level": "use"}))),
        (M::POST, "/users/{u}/invitations", Some(json!({}))),
        (M::GET, "/identity-provider", None),
        (
            M::PUT,
            "/identity-provider",
            Some(json!({"issuer": "https://idp.example", "clientId": "c", "clientSecret": "s"})),
        ),
        (M::DELETE, "/identity-provider", None),
        (M::POST, "/groups/{g}/sso-mappings", Some(json!({"providerGroup": "staff"}))),
        (M::GET, "/groups/{g}/sso-mappings", None),
        (M::DELETE, "/groups/{g}/sso-mappings/staff", None),
        (M::GET, "/me", None),
        (M::GET, "/me/access", None),
    ]
}

fn fill(s: &str, ids: &Ids) -> String {
    s.replace("{u}", &ids.user)
        .replace("{g}", &ids.group)
        .replace("{r}", &ids.role)
        .replace("{k}", &ids.token)
        .replace("{x}", &ids.resource)
        .replace("{t}", &ids.kind)
        .replace("{i}", &ids.import)
        .replace("{l}", &ids.rule)
}

fn fill_body(body: &Option<Value>, ids: &Ids) -> Option<Value> {
    body.as_ref().map(|b| serde_json::from_str(&fill(&b.to_string(), ids)).unwrap())
}

#[tokio::test]
async fn another_tenants_ids_are_not_found_and_nothing_leaks() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    let theirs = populate(&app, "acme", &acme, "acmesecret").await;
    populate(&app, "default", ROOT, "ours").await;
    let before = app.fingerprint().await;
    for (method, path, body) in endpoints() {
        let marked = |s: &str| ["{u}", "{g}", "{r}", "{k}", "{x}", "{t}", "{i}", "{l}"].iter().any(|m| s.contains(m));
        let has_ids = marked(path) || body.as_ref().is_some_and(|b| marked(&b.to_string()));
        // Our token on their tenant's URL: the tenant does not exist for us.
        let a = app
            .call(
                method.clone(),
                &format!("/t/acme/api/v1{}", fill(path, &theirs)),
                Some(ROOT),
                fill_body(&body, &theirs),
            )
            .await;
        a.problem(404);
        assert!(!a.body.to_string().contains("acmesecret"), "{method} {path}: {}", a.body);
        // Our token, our tenant's URL, their ids.
        if has_ids {
            let a = app
                .call(
                    method.clone(),
                    &format!("/t/default/api/v1{}", fill(path, &theirs)),
                    Some(ROOT),
                    fill_body(&body, &theirs),
                )
                .await;
            assert!(!a.body.to_string().contains("acmesecret"), "{method} {path}: {}", a.body);
            if path.starts_with("/check") {
                let results =
                    if path == "/check" { vec![a.body.clone()] } else { a.body["results"].as_array().unwrap().clone() };
                assert!(results.iter().all(|r| r["allowed"] == false), "{method} {path}: {}", a.body);
            } else if marked(path) {
                a.problem(404);
            } else {
                assert!(a.status.is_client_error(), "{method} {path}: {}", a.body);
            }
        }
    }
    assert_eq!(app.fingerprint().await, before);
    app.assert_consistent().await;
}

#[tokio::test]
async fn callers_without_the_permission_are_forbidden_and_change_nothing() {
    let app = TestApp::new().await;
    let ours = populate(&app, "default", ROOT, "ours").await;
    let nobody = app.user("default", ROOT, "nobody@example.com").await;
    let token = app.token_for("default", ROOT, &nobody).await;
    let before = app.fingerprint().await;
    for (method, path, body) in endpoints() {
        let a = app
            .call(
                method.clone(),
                &format!("/t/default/api/v1{}", fill(path, &ours)),
                Some(&token),
                fill_body(&body, &ours),
            )
            .await;
        if path.starts_with("/me") {
            a.ok(200);
        } else {
            a.problem(403);
            assert!(a.body["detail"].as_str().unwrap().contains("cohort:"), "{method} {path}: {}", a.body);
        }
    }
    // An auditor reads everything and changes nothing.
    let auditor_role = app.builtin("default", ROOT, "auditor").await;
    let auditor = app.user("default", ROOT, "auditor@example.com").await;
    app.post(&format!("/t/default/api/v1/users/{auditor}/roles"), ROOT, json!({"roleId": auditor_role})).await.ok(201);
    let token = app.token_for("default", ROOT, &auditor).await;
    let before_auditor = app.fingerprint().await;
    assert_ne!(before, before_auditor);
    for (method, path, body) in endpoints() {
        let a = app
            .call(
                method.clone(),
                &format!("/t/default/api/v1{}", fill(path, &ours)),
                Some(&token),
                fill_body(&body, &ours),
            )
            .await;
        // Reading the identity provider is for admins, like its secret-holding settings.
        let admin_only = ["/tokens?all=true", "/identity-provider", "/settings"];
        let reads = method == Method::GET && !admin_only.contains(&path) || path.starts_with("/check");
        if reads {
            a.ok(200);
        } else {
            a.problem(403);
        }
    }
    assert_eq!(app.fingerprint().await, before_auditor);
    app.assert_consistent().await;
}
