//! The console face through the real router: sign-in and sessions, CSRF and `Origin`, the
//! security headers, escaping, another tenant's ids, and who may see and change what.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::{Method, StatusCode};
use common::{Page, ROOT, TestApp};
use serde_json::json;

const GROUPS: &str = "/t/default/portal/access-management/groups";

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    cookie: Option<&str>,
    origin: Option<&str>,
    form: Option<&str>,
) -> Page {
    app.console(method, path, cookie, origin, form).await
}

const HERE: Option<&str> = Some("http://cohort.test");

fn encode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Signs in with `token` and returns the session cookie.
async fn sign_in(app: &TestApp, tenant: &str, token: &str) -> String {
    let p = send(
        app,
        Method::POST,
        &format!("/t/{tenant}/login/token"),
        None,
        HERE,
        Some(&format!("token={}", encode(token))),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    p.cookie.expect("a session cookie")
}

async fn csrf(app: &TestApp, cookie: &str) -> String {
    send(app, Method::GET, GROUPS, Some(cookie), None, None).await.csrf()
}

async fn group_names(app: &TestApp) -> Vec<String> {
    let a = app.get("/t/default/api/v1/groups", ROOT).await;
    a.ok(200)["items"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_token_opens_a_session_that_signing_out_ends() {
    let app = TestApp::new().await;
    let away = send(&app, Method::GET, GROUPS, None, None, None).await;
    assert_eq!((away.status, away.location.as_str()), (StatusCode::SEE_OTHER, "/t/default/login"));

    let wrong = send(
        &app,
        Method::POST,
        "/t/default/login/token",
        None,
        HERE,
        Some("token=cohort_nope_000000000000000000000000"),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.cookie.is_none() && wrong.html.contains("does not open the console"), "{}", wrong.html);

    let p = send(&app, Method::POST, "/t/default/login/token", None, HERE, Some(&format!("token={ROOT}"))).await;
    let set = p.headers.get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/t/default;"), "{set}");
    assert!(!set.contains("Secure"), "no Secure cookie on a plain-http deployment: {set}");
    // The cookie sessions had before it covered the whole tenant is expired, so it cannot shadow it.
    let legacy: Vec<&str> = p.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).collect();
    assert!(legacy.iter().any(|c| c.contains("Path=/t/default/portal;") && c.contains("Max-Age=0")), "{legacy:?}");
    let cookie = p.cookie.unwrap();
    let page = send(&app, Method::GET, GROUPS, Some(&cookie), None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    let csp = page.headers.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline")
    );
    assert_eq!(page.headers.get("x-content-type-options").unwrap(), "nosniff");
    assert_eq!(page.headers.get("referrer-policy").unwrap(), "same-origin");
    assert!(page.html.contains("<h1>Groups</h1>") && page.html.contains("Create group"));

    // Signing out is the sign-in room's, outside the console's path: the cookie reaches it.
    let out =
        send(&app, Method::POST, "/t/default/sign-out", Some(&cookie), HERE, Some(&format!("csrf={}", page.csrf())))
            .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let after = send(&app, Method::GET, GROUPS, Some(&cookie), None, None).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "the row is gone: the cookie opens nothing");
    let audit = app.get("/t/default/api/v1/audit?action=session.delete", ROOT).await;
    assert_eq!(audit.ok(200)["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_form_without_its_csrf_token_or_from_another_origin_changes_nothing() {
    let app = TestApp::new().await;
    let cookie = sign_in(&app, "default", ROOT).await;
    let token = csrf(&app, &cookie).await;
    let none = send(&app, Method::POST, GROUPS, Some(&cookie), HERE, Some("name=NoToken")).await;
    assert_eq!(none.status, StatusCode::FORBIDDEN);
    let wrong = send(&app, Method::POST, GROUPS, Some(&cookie), HERE, Some("name=WrongToken&csrf=0123")).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let elsewhere = send(
        &app,
        Method::POST,
        GROUPS,
        Some(&cookie),
        Some("https://evil.example"),
        Some(&format!("name=Elsewhere&csrf={token}")),
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::FORBIDDEN);
    assert!(group_names(&app).await.is_empty(), "nothing was created");
    let ok = send(&app, Method::POST, GROUPS, Some(&cookie), HERE, Some(&format!("name=Real&csrf={token}"))).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.html);
    assert_eq!(group_names(&app).await, vec!["Real"]);
    // A sign-in posted from another origin is refused too.
    let login = send(
        &app,
        Method::POST,
        "/t/default/login/token",
        None,
        Some("https://evil.example"),
        Some(&format!("token={ROOT}")),
    )
    .await;
    assert_eq!(login.status, StatusCode::FORBIDDEN);
    assert!(login.cookie.is_none());
}

#[tokio::test]
async fn a_group_is_created_with_its_parent_and_first_members_and_errors_show_beside_fields() {
    let app = TestApp::new().await;
    let cookie = sign_in(&app, "default", ROOT).await;
    let token = csrf(&app, &cookie).await;
    app.group("default", ROOT, "EMEA", &[]).await;
    app.user("default", ROOT, "ana@example.com").await;
    app.user("default", ROOT, "bo@example.com").await;
    let form = format!("csrf={token}&name=France&parents=emea&members={}", encode("ana@example.com\nbo@example.com"));
    let made = send(&app, Method::POST, GROUPS, Some(&cookie), HERE, Some(&form)).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.html);
    let page = send(&app, Method::GET, &made.location, Some(&cookie), None, None).await;
    assert!(page.html.contains("ana@example.com") && page.html.contains("bo@example.com"), "{}", page.html);
    assert!(page.html.contains("2 members"));
    // The same name again, and an unknown parent: the form comes back with both messages.
    let again = format!("csrf={token}&name=france&parents=nowhere");
    let refused = send(&app, Method::POST, GROUPS, Some(&cookie), HERE, Some(&again)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.html);
    assert!(refused.html.contains("no active group has the slug or name `nowhere`"), "{}", refused.html);
    let again = format!("csrf={token}&name=france");
    let taken = send(&app, Method::POST, GROUPS, Some(&cookie), HERE, Some(&again)).await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", taken.html);
    assert!(taken.html.contains("id=\"name-error\""), "{}", taken.html);
    assert_eq!(group_names(&app).await.len(), 2);
}

#[tokio::test]
async fn stored_text_is_escaped() {
    let app = TestApp::new().await;
    for name in ["<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>"] {
        app.group("default", ROOT, name, &[]).await;
    }
    let cookie = sign_in(&app, "default", ROOT).await;
    let page = send(&app, Method::GET, GROUPS, Some(&cookie), None, None).await;
    assert!(page.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{}", page.html);
    assert!(page.html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!page.html.contains("<script>alert") && !page.html.contains("<img src=x"));
}

#[tokio::test]
async fn another_tenants_ids_and_sessions_are_not_found() {
    let app = TestApp::new().await;
    let other = app.tenant("other").await;
    let theirs = app.group("other", &other, "Theirs", &[]).await;
    let cookie = sign_in(&app, "default", ROOT).await;
    let token = csrf(&app, &cookie).await;
    let their_user = app.user("other", &other, "them@example.com").await;
    let their_res =
        app.post("/t/other/api/v1/resources", &other, json!({"type": "agent", "name": "Their bot"})).await.id();
    let their_role = app.role("other", &other, "Theirs", &["x.y"]).await;
    let their_token = app.get("/t/other/api/v1/tokens", &other).await.ok(200)[0]["id"].as_str().unwrap().to_owned();
    let tabs = [
        "",
        "/settings",
        "/delete",
        "/import",
        "/import/template",
        "/export",
        "/rules",
        "/activity",
        "/roles",
        "/resources",
        "/scopes",
    ];
    let pages = [
        format!("{USERS}/{their_user}"),
        format!("/t/default/portal/access-management/resources/{their_res}"),
        format!("{TOKENS}/{their_token}/revoke"),
        format!("{TOKENS}/{their_token}/regenerate"),
        format!("{GROUPS}/tree?parent={theirs}&fragment=true"),
    ];
    for path in tabs.map(|tab| format!("{GROUPS}/{theirs}{tab}")).into_iter().chain(pages) {
        assert_eq!(
            send(&app, Method::GET, &path, Some(&cookie), None, None).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let del = send(
        &app,
        Method::POST,
        &format!("{GROUPS}/{theirs}/delete"),
        Some(&cookie),
        HERE,
        Some(&format!("csrf={token}")),
    )
    .await;
    assert_eq!(del.status, StatusCode::NOT_FOUND);
    let rule = format!("csrf={token}&expression=true");
    let save =
        send(&app, Method::POST, &format!("{GROUPS}/{theirs}/rules/save"), Some(&cookie), HERE, Some(&rule)).await;
    assert_eq!(save.status, StatusCode::NOT_FOUND);
    let batch = format!("csrf={token}&groups={theirs}&action=archive");
    let apply = send(&app, Method::POST, &format!("{GROUPS}/batch/apply"), Some(&cookie), HERE, Some(&batch)).await;
    assert_eq!(apply.status, StatusCode::NOT_FOUND);
    let writes = [
        (format!("{GROUPS}/{theirs}/roles"), format!("csrf={token}&role={their_role}")),
        (format!("{GROUPS}/{theirs}/resources"), format!("csrf={token}&resource={their_res}&level=use")),
        (format!("{GROUPS}/{theirs}/scopes"), format!("csrf={token}&scopes=country%3A%20France")),
        (format!("{USERS}/{their_user}/roles"), format!("csrf={token}&role={their_role}")),
        (format!("{USERS}/{their_user}/resources"), format!("csrf={token}&resource={their_res}&level=use")),
        (format!("{TOKENS}/{their_token}/revoke"), format!("csrf={token}")),
        (format!("{TOKENS}/{their_token}/regenerate"), format!("csrf={token}")),
        (TOKENS.to_owned(), format!("csrf={token}&name=x&user={their_user}")),
        (format!("{SIGN_IN}/mappings"), format!("csrf={token}&provider_group=x&group=theirs")),
        (format!("{SIGN_IN}/mappings/remove"), format!("csrf={token}&provider_group=x&group={theirs}")),
        (format!("{USERS}/{their_user}/time-zone"), format!("csrf={token}&time_zone=Asia%2FTokyo")),
        (format!("{GROUPS}/{theirs}/members/{their_user}/remove"), format!("csrf={token}&source=import")),
        (format!("{GROUPS}/{theirs}/members/{their_user}/edit"), format!("csrf={token}&role=manager&reason=x")),
    ];
    // Confirmations too, at our own tenant's revision: another tenant's ids are not found.
    let revision = app.post("/t/default/api/v1/groups", ROOT, json!({"name": "Ours"})).await.revision();
    let confirmed = [
        format!("{GROUPS}/{theirs}/archive"),
        format!("{GROUPS}/{theirs}/unarchive"),
        format!("{GROUPS}/{theirs}/delete"),
        format!("{GROUPS}/{theirs}/roles/{their_role}/remove"),
        format!("{GROUPS}/{theirs}/resources/{their_res}/revoke"),
        format!("{USERS}/{their_user}/roles/{their_role}/remove"),
        format!("{USERS}/{their_user}/resources/{their_res}/revoke"),
        format!("{GROUPS}/{theirs}/parents"),
        format!("{GROUPS}/{theirs}/members/remove"),
        format!("{USERS}/{their_user}/suspend"),
        format!("{USERS}/{their_user}/unsuspend"),
        format!("{USERS}/{their_user}/delete"),
        format!("/t/default/portal/access-management/roles/{their_role}/delete"),
        format!("/t/default/portal/access-management/resources/{their_res}/delete"),
    ];
    let writes = writes.into_iter().chain(confirmed.into_iter().flat_map(|path| {
        [(path.clone(), format!("csrf={token}")), (path, format!("csrf={token}&revision={revision}"))]
    }));
    for (path, form) in writes {
        let p = send(&app, Method::POST, &path, Some(&cookie), HERE, Some(&form)).await;
        assert!(matches!(p.status.as_u16(), 404 | 422), "{path}: {}", p.status);
    }
    // Our session does not set their tenant's time zone, nor does their user's zone change.
    let zone = format!("csrf={token}&time_zone=Asia%2FTokyo");
    let p = send(
        &app,
        Method::POST,
        "/t/other/portal/access-management/sign-in/time-zone",
        Some(&cookie),
        HERE,
        Some(&zone),
    )
    .await;
    assert_eq!((p.status, p.location.as_str()), (StatusCode::SEE_OTHER, "/t/other/login"));
    assert!(app.get("/t/other/api/v1/settings", &other).await.ok(200)["timeZone"].is_null());
    assert!(app.get(&format!("/t/other/api/v1/users/{their_user}"), &other).await.ok(200)["timeZone"].is_null());
    // Their invitation link does not open under our tenant's address.
    let inv = app.post(&format!("/t/other/api/v1/users/{their_user}/invitations"), &other, json!({})).await;
    let ours = inv.ok(201)["path"].as_str().unwrap().replacen("/t/other/", "/t/default/", 1);
    assert_eq!(send(&app, Method::GET, &ours, None, None, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("/t/other/api/v1/groups/{theirs}/roles"), &other).await.ok(200).as_array().unwrap().len(),
        0
    );
    assert_eq!(
        app.get(&format!("/t/other/api/v1/groups/{theirs}/grants"), &other).await.ok(200).as_array().unwrap().len(),
        0
    );
    assert_eq!(app.get(&format!("/t/other/api/v1/groups/{theirs}/scopes"), &other).await.ok(200)["scopes"], json!({}));
    app.get("/t/other/api/v1/groups", &other).await.ok(200);
    assert_eq!(app.get(&format!("/t/other/api/v1/groups/{theirs}"), &other).await.ok(200)["status"], "active");
    assert!(
        app.get(&format!("/t/other/api/v1/groups/{theirs}/rules"), &other).await.ok(200)["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // A session of one tenant opens nothing in another, and its token does not sign in there.
    let there = send(&app, Method::GET, "/t/other/portal/access-management/groups", Some(&cookie), None, None).await;
    assert_eq!(there.status, StatusCode::SEE_OTHER);
    // Nor can it sign out there, and trying does not end it at home.
    let token = csrf(&app, &cookie).await;
    let out = send(&app, Method::POST, "/t/other/sign-out", Some(&cookie), HERE, Some(&format!("csrf={token}"))).await;
    assert_eq!((out.status, out.location.as_str()), (StatusCode::SEE_OTHER, "/t/other/login"));
    assert_eq!(send(&app, Method::GET, GROUPS, Some(&cookie), None, None).await.status, StatusCode::OK);
    let p = send(&app, Method::POST, "/t/other/login/token", None, HERE, Some(&format!("token={ROOT}"))).await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoking_the_token_or_removing_the_role_ends_the_session() {
    let app = TestApp::new().await;
    let user = app.user("default", ROOT, "gail@example.com").await;
    let admin_role = app.builtin("default", ROOT, "group-admin").await;
    app.post(&format!("/t/default/api/v1/users/{user}/roles"), ROOT, json!({"roleId": admin_role})).await.ok(201);
    let token = app.token_for("default", ROOT, &user).await;
    let cookie = sign_in(&app, "default", &token).await;
    assert_eq!(send(&app, Method::GET, GROUPS, Some(&cookie), None, None).await.status, StatusCode::OK);
    app.delete(&format!("/t/default/api/v1/users/{user}/roles/{admin_role}"), ROOT).await;
    let ended = send(&app, Method::GET, GROUPS, Some(&cookie), None, None).await;
    assert_eq!(ended.location, "/t/default/login?ended=access-changed");

    app.post(&format!("/t/default/api/v1/users/{user}/roles"), ROOT, json!({"roleId": admin_role})).await.ok(201);
    let cookie = sign_in(&app, "default", &token).await;
    let tokens = app.get("/t/default/api/v1/tokens?all=true", ROOT).await;
    let body = tokens.ok(200);
    let id = body
        .as_array()
        .or(body["items"].as_array())
        .unwrap()
        .iter()
        .find(|t| t["userId"] == user.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.delete(&format!("/t/default/api/v1/tokens/{id}"), ROOT).await;
    let ended = send(&app, Method::GET, GROUPS, Some(&cookie), None, None).await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    assert!(ended.location.starts_with("/t/default/login"));
}

#[tokio::test]
async fn sessions_time_out_when_idle() {
    let app = TestApp::new().await;
    let cookie = sign_in(&app, "default", ROOT).await;
    app.clock.advance(29 * 60_000);
    assert_eq!(send(&app, Method::GET, GROUPS, Some(&cookie), None, None).await.status, StatusCode::OK);
    app.clock.advance(31 * 60_000);
    let ended = send(&app, Method::GET, GROUPS, Some(&cookie), None, None).await;
    assert_eq!(ended.location, "/t/default/login?ended=timed-out");
}

#[tokio::test]
async fn an_auditor_sees_everything_and_changes_nothing() {
    let app = TestApp::new().await;
    let g = app.group("default", ROOT, "Sales", &[]).await;
    let user = app.user("default", ROOT, "aud@example.com").await;
    let role = app.builtin("default", ROOT, "auditor").await;
    app.post(&format!("/t/default/api/v1/users/{user}/roles"), ROOT, json!({"roleId": role})).await.ok(201);
    let cookie = sign_in(&app, "default", &app.token_for("default", ROOT, &user).await).await;
    let list = send(&app, Method::GET, GROUPS, Some(&cookie), None, None).await;
    assert!(list.html.contains("Sales") && !list.html.contains("Create group"));
    let members = send(&app, Method::GET, &format!("{GROUPS}/{g}"), Some(&cookie), None, None).await;
    assert!(!members.html.contains("Add member"));
    let token = list.csrf();
    let made = send(&app, Method::POST, GROUPS, Some(&cookie), HERE, Some(&format!("csrf={token}&name=Nope"))).await;
    assert_eq!(made.status, StatusCode::FORBIDDEN);
    let del =
        send(&app, Method::POST, &format!("{GROUPS}/{g}/delete"), Some(&cookie), HERE, Some(&format!("csrf={token}")))
            .await;
    assert_eq!(del.status, StatusCode::FORBIDDEN);
    let other = app.user("default", ROOT, "other@example.com").await;
    let reader = app.role("default", ROOT, "Reader", &["reports.read"]).await;
    let writes = [
        (format!("{GROUPS}/{g}/rules/save"), format!("csrf={token}&expression=true")),
        (format!("{GROUPS}/batch/apply"), format!("csrf={token}&groups={g}&action=archive")),
        (format!("{GROUPS}/{g}/roles"), format!("csrf={token}&role={reader}")),
        (format!("{GROUPS}/{g}/scopes"), format!("csrf={token}&scopes=country%3A%20France")),
        (format!("{USERS}/{other}/roles"), format!("csrf={token}&role={reader}")),
        (TOKENS.to_owned(), format!("csrf={token}&name=x&user={other}")),
        (format!("{SIGN_IN}/time-zone"), format!("csrf={token}&time_zone=Asia%2FTokyo")),
        (format!("{USERS}/{other}/time-zone"), format!("csrf={token}&time_zone=Asia%2FTokyo")),
        (format!("{GROUPS}/{g}/members/{other}/remove"), format!("csrf={token}&source=import")),
        (format!("{GROUPS}/{g}/members/{other}/edit"), format!("csrf={token}&reason=x")),
        (format!("{GROUPS}/{g}/members/remove"), format!("csrf={token}&rows={other}+manual")),
    ];
    let res = app.post("/t/default/api/v1/resources", ROOT, json!({"type": "agent", "name": "Bot"})).await.id();
    // What is confirmed is refused before it is asked, and when confirmed.
    let revision =
        app.post(&format!("/t/default/api/v1/groups/{g}/roles"), ROOT, json!({"roleId": reader})).await.revision();
    let confirmed = [
        format!("{GROUPS}/{g}/archive"),
        format!("{GROUPS}/{g}/delete"),
        format!("{GROUPS}/{g}/roles/{reader}/remove"),
        format!("{GROUPS}/{g}/parents"),
        format!("{USERS}/{other}/suspend"),
        format!("{USERS}/{other}/unsuspend"),
        format!("{USERS}/{other}/delete"),
        format!("/t/default/portal/access-management/roles/{reader}/delete"),
        format!("/t/default/portal/access-management/resources/{res}/delete"),
    ];
    let writes = writes.into_iter().chain(confirmed.into_iter().flat_map(|path| {
        [(path.clone(), format!("csrf={token}")), (path, format!("csrf={token}&revision={revision}"))]
    }));
    for (path, form) in writes {
        let p = send(&app, Method::POST, &path, Some(&cookie), HERE, Some(&form)).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{path} {form}");
    }
    let rules = send(&app, Method::GET, &format!("{GROUPS}/{g}/rules"), Some(&cookie), None, None).await;
    assert!(rules.status == StatusCode::OK && !rules.html.contains("Add a rule"), "{}", rules.html);
    for path in [format!("{GROUPS}/{g}/roles"), format!("{GROUPS}/{g}/scopes"), format!("{USERS}/{other}")] {
        let p = send(&app, Method::GET, &path, Some(&cookie), None, None).await;
        assert!(
            p.status == StatusCode::OK && !p.html.contains("Assign role") && !p.html.contains("Save scopes"),
            "{path}"
        );
    }
    assert_eq!(
        app.get(&format!("/t/default/api/v1/users/{other}/roles"), ROOT).await.ok(200).as_array().unwrap().len(),
        0
    );
    assert_eq!(group_names(&app).await, vec!["Sales"]);
    assert_eq!(app.get(&format!("/t/default/api/v1/groups/{g}"), ROOT).await.ok(200)["status"], "active");
    assert!(
        app.get(&format!("/t/default/api/v1/groups/{g}/rules"), ROOT).await.ok(200)["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_group_manager_sees_and_edits_only_the_groups_they_manage() {
    let app = TestApp::new().await;
    let mine = app.group("default", ROOT, "Mine", &[]).await;
    let other = app.group("default", ROOT, "Other", &[]).await;
    let manager = app.user("default", ROOT, "mgr@example.com").await;
    app.user("default", ROOT, "new@example.com").await;
    app.post(&format!("/t/default/api/v1/groups/{mine}/members"), ROOT, json!({"userId": manager, "role": "manager"}))
        .await
        .ok(201);
    let cookie = sign_in(&app, "default", &app.token_for("default", ROOT, &manager).await).await;
    let list = send(&app, Method::GET, GROUPS, Some(&cookie), None, None).await;
    assert!(list.html.contains("Mine") && !list.html.contains("Other"), "{}", list.html);
    assert_eq!(
        send(&app, Method::GET, &format!("{GROUPS}/{other}"), Some(&cookie), None, None).await.status,
        StatusCode::FORBIDDEN
    );
    let token = list.csrf();
    let add = send(
        &app,
        Method::POST,
        &format!("{GROUPS}/{mine}/members"),
        Some(&cookie),
        HERE,
        Some(&format!("csrf={token}&email=new%40example.com&role=member")),
    )
    .await;
    assert_eq!(add.status, StatusCode::SEE_OTHER, "{}", add.html);
    let made_manager = send(
        &app,
        Method::POST,
        &format!("{GROUPS}/{mine}/members"),
        Some(&cookie),
        HERE,
        Some(&format!("csrf={token}&email=new%40example.com&role=manager")),
    )
    .await;
    assert_ne!(made_manager.status, StatusCode::SEE_OTHER, "a manager makes no managers");
    let theirs = send(
        &app,
        Method::POST,
        &format!("{GROUPS}/{other}/members"),
        Some(&cookie),
        HERE,
        Some(&format!("csrf={token}&email=new%40example.com")),
    )
    .await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN);
    let res = app.post("/t/default/api/v1/resources", ROOT, json!({"type": "agent", "name": "Bot"})).await.id();
    let new = app.get("/t/default/api/v1/users?q=new%40example.com", ROOT).await.ok(200)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Managing a group's members is not archiving, deleting or taking its roles away.
    let role = app.role("default", ROOT, "Reader", &["reports.read"]).await;
    let revision =
        app.post(&format!("/t/default/api/v1/groups/{mine}/roles"), ROOT, json!({"roleId": role})).await.revision();
    for path in [
        format!("{GROUPS}/{mine}/archive"),
        format!("{GROUPS}/{mine}/delete"),
        format!("{GROUPS}/{mine}/roles/{role}/remove"),
        format!("{GROUPS}/{mine}/parents"),
        format!("{USERS}/{new}/suspend"),
        format!("{USERS}/{new}/unsuspend"),
        format!("{USERS}/{new}/delete"),
        format!("/t/default/portal/access-management/roles/{role}/delete"),
        format!("/t/default/portal/access-management/resources/{res}/delete"),
    ] {
        for form in [format!("csrf={token}"), format!("csrf={token}&revision={revision}")] {
            let p = send(&app, Method::POST, &path, Some(&cookie), HERE, Some(&form)).await;
            assert_eq!(p.status, StatusCode::FORBIDDEN, "{path} {form}");
        }
    }
    assert_eq!(
        app.get(&format!("/t/default/api/v1/groups/{mine}/roles"), ROOT).await.ok(200).as_array().unwrap().len(),
        1
    );
    let rows = app.get(&format!("/t/default/api/v1/groups/{mine}/members"), ROOT).await;
    assert_eq!(rows.ok(200)["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.get(&format!("/t/default/api/v1/groups/{other}/members"), ROOT).await.ok(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn a_member_is_added_with_an_expiry_and_removed_after_the_question() {
    let app = TestApp::new().await;
    let g = app.group("default", ROOT, "Support", &[]).await;
    let u = app.user("default", ROOT, "cy@example.com").await;
    let cookie = sign_in(&app, "default", ROOT).await;
    let token = csrf(&app, &cookie).await;
    let add = send(
        &app,
        Method::POST,
        &format!("{GROUPS}/{g}/members"),
        Some(&cookie),
        HERE,
        Some(&format!("csrf={token}&email=cy%40example.com&expires=2100-01-01T00%3A00&reason=on+call")),
    )
    .await;
    assert_eq!(add.status, StatusCode::SEE_OTHER, "{}", add.html);
    let page = send(&app, Method::GET, &format!("{GROUPS}/{g}"), Some(&cookie), None, None).await;
    assert!(page.html.contains("days left") && page.html.contains("on call"), "{}", page.html);
    let ask = send(&app, Method::GET, &format!("{GROUPS}/{g}/members/{u}/remove"), Some(&cookie), None, None).await;
    assert!(ask.html.contains("Remove cy@example.com from Support?"), "{}", ask.html);
    let gone = send(
        &app,
        Method::POST,
        &format!("{GROUPS}/{g}/members/{u}/remove"),
        Some(&cookie),
        HERE,
        Some(&format!("csrf={token}")),
    )
    .await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&format!("/t/default/api/v1/groups/{g}/members"), ROOT).await.ok(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn failed_sign_ins_are_limited_per_address() {
    let app = TestApp::new().await;
    for _ in 0..10 {
        let p = send(
            &app,
            Method::POST,
            "/t/default/login/token",
            None,
            HERE,
            Some("token=cohort_wrong_token_00000000000000"),
        )
        .await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    }
    let limited = send(&app, Method::POST, "/t/default/login/token", None, HERE, Some(&format!("token={ROOT}"))).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "even the right token waits");
    app.clock.advance(5 * 60_000 + 1);
    let p = send(&app, Method::POST, "/t/default/login/token", None, HERE, Some(&format!("token={ROOT}"))).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn assets_carry_their_hash_and_are_cached() {
    let app = TestApp::new().await;
    let cookie = sign_in(&app, "default", ROOT).await;
    let page = send(&app, Method::GET, GROUPS, Some(&cookie), None, None).await;
    let at = page.html.find("/console-assets/console-").unwrap();
    let href = page.html[at..].split('"').next().unwrap().to_owned();
    let css = send(&app, Method::GET, &href, None, None, None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.headers.get("cache-control").unwrap().to_str().unwrap().contains("immutable"));
    assert_eq!(
        send(&app, Method::GET, "/console-assets/console-000000000000.css", None, None, None).await.status,
        StatusCode::NOT_FOUND
    );
}

/// Posts a `multipart/form-data` body of `(name, value)` fields.
async fn upload(app: &TestApp, path: &str, cookie: &str, fields: &[(&str, &str)]) -> Page {
    let b = "cohortboundary7d5";
    let mut body = String::new();
    for (k, v) in fields {
        body.push_str(&format!("--{b}\r\nContent-Disposition: form-data; name=\"{k}\""));
        if *k == "file" {
            body.push_str("; filename=\"members.csv\"\r\nContent-Type: text/csv");
        }
        body.push_str(&format!("\r\n\r\n{v}\r\n"));
    }
    body.push_str(&format!("--{b}--\r\n"));
    let kind = format!("multipart/form-data; boundary={b}");
    app.console_body(Method::POST, path, Some(cookie), HERE, Some((&kind, body))).await
}

fn member_count(a: &common::Answer) -> usize {
    a.ok(200)["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_csv_is_previewed_line_by_line_then_confirmed() {
    let app = TestApp::new().await;
    let g = app.group("default", ROOT, "Support", &[]).await;
    app.user("default", ROOT, "ana@example.com").await;
    app.user("default", ROOT, "bo@example.com").await;
    let cookie = sign_in(&app, "default", ROOT).await;
    let token = csrf(&app, &cookie).await;
    let members = format!("/t/default/api/v1/groups/{g}/members");
    let file = "email,role\nana@example.com,member\nbo@example.com,manager\nnobody@example.com,member\nana@example.com,member\n";
    // Without its CSRF field the upload is refused.
    let refused = upload(&app, &format!("{GROUPS}/{g}/import"), &cookie, &[("file", file)]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let p = upload(&app, &format!("{GROUPS}/{g}/import"), &cookie, &[("csrf", &token), ("file", file)]).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert!(p.html.contains("<strong>2</strong> to add"), "{}", p.html);
    assert!(p.html.contains("nobody@example.com") || p.html.contains("line"), "{}", p.html);
    assert_eq!(member_count(&app.get(&members, ROOT).await), 0, "a preview changes nothing");
    let at = p.html.find("/import/imp_").expect("a confirm form") + 8;
    let import: String = p.html[at..].split('/').next().unwrap().to_owned();
    let confirmed = send(
        &app,
        Method::POST,
        &format!("{GROUPS}/{g}/import/{import}/confirm"),
        Some(&cookie),
        HERE,
        Some(&format!("csrf={token}")),
    )
    .await;
    assert_eq!(confirmed.status, StatusCode::SEE_OTHER, "{}", confirmed.html);
    assert_eq!(member_count(&app.get(&members, ROOT).await), 2);
    let export = send(&app, Method::GET, &format!("{GROUPS}/{g}/export"), Some(&cookie), None, None).await;
    assert!(export.html.contains("bo@example.com") && export.html.contains("manager"), "{}", export.html);
}

#[tokio::test]
async fn a_rule_is_previewed_then_applied_paused_and_its_errors_shown() {
    let app = TestApp::new().await;
    let g = app.group("default", ROOT, "Support", &[]).await;
    app.user("default", ROOT, "ana@support.example.com").await;
    app.user("default", ROOT, "bo@example.com").await;
    let cookie = sign_in(&app, "default", ROOT).await;
    let token = csrf(&app, &cookie).await;
    let members = format!("/t/default/api/v1/groups/{g}/members");
    let rules = format!("{GROUPS}/{g}/rules");
    let typo = format!("csrf={token}&expression={}", encode("email.ends_with('@support.example.com')"));
    let bad = send(&app, Method::POST, &format!("{rules}/preview"), Some(&cookie), HERE, Some(&typo)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.html);
    assert!(bad.html.contains("id=\"expression-error\"") && bad.html.contains("endsWith"), "{}", bad.html);
    let expr = format!("csrf={token}&expression={}", encode("email.endsWith('@support.example.com')"));
    let p = send(&app, Method::POST, &format!("{rules}/preview"), Some(&cookie), HERE, Some(&expr)).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert!(p.html.contains("Added (1)") && p.html.contains("ana@support.example.com"), "{}", p.html);
    assert_eq!(member_count(&app.get(&members, ROOT).await), 0, "a preview changes nothing");
    let saved = send(&app, Method::POST, &format!("{rules}/save"), Some(&cookie), HERE, Some(&expr)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    assert_eq!(member_count(&app.get(&members, ROOT).await), 1);
    let tab = send(&app, Method::GET, &rules, Some(&cookie), None, None).await;
    assert!(tab.html.contains("auto_assignment.add"), "the rule log shows the join: {}", tab.html);
    let at = tab.html.find("/rules/rul_").expect("a rule row") + 7;
    let rule: String = tab.html[at..].split('/').next().unwrap().to_owned();
    let paused =
        send(&app, Method::POST, &format!("{rules}/{rule}/pause"), Some(&cookie), HERE, Some(&format!("csrf={token}")))
            .await;
    assert_eq!(paused.status, StatusCode::SEE_OTHER);
    let tab = send(&app, Method::GET, &rules, Some(&cookie), None, None).await;
    assert!(tab.html.contains("Paused") && tab.html.contains("Resume"), "{}", tab.html);
    let activity = send(&app, Method::GET, &format!("{GROUPS}/{g}/activity"), Some(&cookie), None, None).await;
    assert!(activity.html.contains("auto_assignment.rule.update"), "{}", activity.html);
}

#[tokio::test]
async fn two_groups_are_archived_together_after_the_confirmation_page() {
    let app = TestApp::new().await;
    let a = app.group("default", ROOT, "Alpha", &[]).await;
    let b = app.group("default", ROOT, "Beta", &[]).await;
    let c = app.group("default", ROOT, "Gamma", &[]).await;
    let res = app.post("/t/default/api/v1/resources", ROOT, json!({"type": "agent", "name": "Bot"})).await.id();
    let cookie = sign_in(&app, "default", ROOT).await;
    let list = send(&app, Method::GET, GROUPS, Some(&cookie), None, None).await;
    assert!(list.html.contains("form=\"batch\""), "{}", list.html);
    let token = list.csrf();
    let form = format!("csrf={token}&groups={a}&groups={b}&action=archive");
    let ask = send(&app, Method::POST, &format!("{GROUPS}/batch"), Some(&cookie), HERE, Some(&form)).await;
    assert_eq!(ask.status, StatusCode::OK, "{}", ask.html);
    assert!(ask.html.contains("Edit 2 groups?") && ask.html.contains("Alpha") && ask.html.contains("Beta"));
    // Nothing ticked, or no action chosen: said plainly, nothing changes.
    for (form, says) in [
        (format!("csrf={token}&action=archive"), "No group is ticked"),
        (format!("csrf={token}&groups={a}&action="), "Choose what to do"),
        (format!("csrf={token}&groups={a}&action=grant&resource=&level="), "Choose a resource"),
    ] {
        let p = send(&app, Method::POST, &format!("{GROUPS}/batch"), Some(&cookie), HERE, Some(&form)).await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
        assert!(p.html.contains(says), "{says}: {}", p.html);
    }
    // The panel shows each action's fields only for it, levels from the types' lists.
    assert!(
        list.html.contains("data-for=\"grant revoke\"") && list.html.contains("<optgroup label=\"agent\">"),
        "{}",
        list.html
    );
    // A level the resource's type does not have is refused on review, with its levels named.
    let bad = format!("csrf={token}&groups={a}&action=grant&resource={res}&level=admin");
    let p = send(&app, Method::POST, &format!("{GROUPS}/batch"), Some(&cookie), HERE, Some(&bad)).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    assert!(p.html.contains("whose levels are view, use, edit; `admin` is not one of them"), "{}", p.html);
    let status = |id: String| {
        let app = &app;
        async move { app.get(&format!("/t/default/api/v1/groups/{id}"), ROOT).await.ok(200)["status"].clone() }
    };
    assert_eq!(status(a.clone()).await, "active", "the confirmation page changes nothing");
    let apply = format!("{form}&revision={}", ask.revision());
    let done = send(&app, Method::POST, &format!("{GROUPS}/batch/apply"), Some(&cookie), HERE, Some(&apply)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert_eq!(
        (status(a).await, status(b).await, status(c).await),
        (json!("archived"), json!("archived"), json!("active"))
    );
}

#[tokio::test]
async fn the_why_page_gives_the_decision_and_its_path() {
    let app = TestApp::new().await;
    let role = app.role("default", ROOT, "Exporter", &["reports.export"]).await;
    let emea = app.group("default", ROOT, "EMEA", &[]).await;
    let france = app.group("default", ROOT, "France", &[&emea]).await;
    let u = app.user("default", ROOT, "ana@example.com").await;
    app.post(&format!("/t/default/api/v1/groups/{emea}/roles"), ROOT, json!({ "roleId": role })).await.ok(201);
    app.post(&format!("/t/default/api/v1/groups/{france}/members"), ROOT, json!({ "userId": u })).await.ok(201);
    let cookie = sign_in(&app, "default", ROOT).await;
    let why = "/t/default/portal/access-management/why?user=ana%40example.com&permission=reports.export";
    let p = send(&app, Method::GET, why, Some(&cookie), None, None).await;
    assert!(p.html.contains("Allowed") && p.html.contains("France") && p.html.contains("EMEA"), "{}", p.html);
    // In names: the role's id only in its title.
    let reason = &p.html[p.html.find("id=\"reason\"").unwrap()..];
    let reason = &reason[..reason.find("</p>").unwrap()];
    assert!(reason.contains(&format!("<code title=\"{role}\">Exporter</code>")), "{reason}");
    assert_eq!(reason.matches(role.as_str()).count(), 1, "{reason}");
    app.delete(&format!("/t/default/api/v1/groups/{france}/members/{u}"), ROOT).await;
    let p = send(&app, Method::GET, why, Some(&cookie), None, None).await;
    assert!(p.html.contains("Denied") && !p.html.contains("badge-active\">Allowed"), "{}", p.html);
}

const USERS: &str = "/t/default/portal/access-management/users";
const SIGN_IN: &str = "/t/default/portal/access-management/sign-in";
const TOKENS: &str = "/t/default/portal/access-management/tokens";

#[tokio::test]
async fn roles_levels_and_scopes_are_given_on_a_groups_tabs_and_reach_its_members() {
    let app = TestApp::new().await;
    let parent = app.group("default", ROOT, "Europe", &[]).await;
    let child = app.group("default", ROOT, "France team", &[&parent]).await;
    let ana = app.user("default", ROOT, "ana@example.com").await;
    app.post(&format!("/t/default/api/v1/groups/{child}/members"), ROOT, json!({"userId": ana})).await.ok(201);
    let role = app.role("default", ROOT, "Report reader", &["reports.read"]).await;
    let res = app.post("/t/default/api/v1/resources", ROOT, json!({"type": "agent", "name": "Pricing bot"})).await.id();
    let cookie = sign_in(&app, "default", ROOT).await;
    let token = csrf(&app, &cookie).await;
    let post =
        async |path: String, form: String| send(&app, Method::POST, &path, Some(&cookie), HERE, Some(&form)).await;

    let tab = send(&app, Method::GET, &format!("{GROUPS}/{parent}/roles"), Some(&cookie), None, None).await;
    assert!(tab.html.contains("No role is assigned here directly") && tab.html.contains("Report reader"));
    let p = post(format!("{GROUPS}/{parent}/roles"), format!("csrf={token}&role={role}")).await;
    assert_eq!(
        (p.status, p.location.as_str()),
        (StatusCode::SEE_OTHER, &*format!("{GROUPS}/{parent}/roles?done=role-assigned"))
    );
    let check = json!({"userId": ana, "permission": "reports.read"});
    assert_eq!(app.post("/t/default/api/v1/check", ROOT, check.clone()).await.ok(200)["allowed"], true);

    let tab = send(&app, Method::GET, &format!("{GROUPS}/{parent}/resources"), Some(&cookie), None, None).await;
    assert!(tab.html.contains("Pricing bot") && tab.html.contains("view &lt; use &lt; edit"), "{}", tab.html);
    let p = post(format!("{GROUPS}/{parent}/resources"), format!("csrf={token}&resource={res}&level=use")).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let level = json!({"userId": ana, "resourceId": res, "level": "use"});
    assert_eq!(app.post("/t/default/api/v1/check", ROOT, level.clone()).await.ok(200)["allowed"], true);
    let tab = send(&app, Method::GET, &format!("{GROUPS}/{parent}/resources"), Some(&cookie), None, None).await;
    assert!(tab.html.contains("use (also view)"), "{}", tab.html);

    // A line without a colon is refused beside the field, and nothing changes.
    let bad = post(format!("{GROUPS}/{parent}/scopes"), format!("csrf={token}&scopes={}", encode("France"))).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.html.contains("line 1: write `key: value, value`"), "{}", bad.html);
    let scopes = format!("csrf={token}&scopes={}", encode("country: France, Belgium\nteam: pricing"));
    assert_eq!(post(format!("{GROUPS}/{parent}/scopes"), scopes).await.status, StatusCode::SEE_OTHER);
    let got = app.get(&format!("/t/default/api/v1/groups/{parent}/scopes"), ROOT).await;
    assert_eq!(got.ok(200)["scopes"], json!({"country": ["Belgium", "France"], "team": ["pricing"]}));
    let tab = send(&app, Method::GET, &format!("{GROUPS}/{parent}/scopes"), Some(&cookie), None, None).await;
    assert!(tab.html.contains("country: Belgium, France"), "{}", tab.html);

    // The member's page says where each comes from, with names.
    let page = send(&app, Method::GET, &format!("{USERS}/{ana}"), Some(&cookie), None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    for text in ["France team", "Europe", "Report reader", "reports.read", "Pricing bot", "Belgium"] {
        assert!(page.html.contains(text), "{text}: {}", page.html);
    }
    assert!(page.html.contains("inherited") && page.html.contains("via"), "{}", page.html);

    for path in [format!("{GROUPS}/{parent}/resources/{res}/revoke"), format!("{GROUPS}/{parent}/roles/{role}/remove")]
    {
        let asked = post(path.clone(), format!("csrf={token}")).await;
        assert_eq!(asked.status, StatusCode::OK, "{}", asked.html);
        let p = post(path, format!("csrf={token}&revision={}", asked.revision())).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    }
    assert_eq!(app.post("/t/default/api/v1/check", ROOT, check).await.ok(200)["allowed"], false);
    assert_eq!(app.post("/t/default/api/v1/check", ROOT, level).await.ok(200)["allowed"], false);
}

/// Nothing that confers is preselected, and what gives `cohort:` permissions or takes access
/// away is asked first: what it does, to how many users (members of child groups included),
/// counted at a revision; a confirmation the tenant has moved past counts again and asks
/// again instead of applying.
#[tokio::test]
async fn conferring_and_taking_away_are_confirmed_with_a_count_at_a_revision() {
    let app = TestApp::new().await;
    let europe = app.group("default", ROOT, "Europe", &[]).await;
    let france = app.group("default", ROOT, "France", &[&europe]).await;
    let mut ids = Vec::new();
    for (email, group) in [("ana@example.com", &france), ("bo@example.com", &france), ("cy@example.com", &europe)] {
        let u = app.user("default", ROOT, email).await;
        app.post(&format!("/t/default/api/v1/groups/{group}/members"), ROOT, json!({"userId": u})).await.ok(201);
        ids.push(u);
    }
    let ana = ids[0].clone();
    let reader = app.role("default", ROOT, "Report reader", &["reports.read"]).await;
    let admin = app.builtin("default", ROOT, "admin").await;
    let cookie = sign_in(&app, "default", ROOT).await;
    let token = csrf(&app, &cookie).await;
    let post = async |path: &str, form: String| send(&app, Method::POST, path, Some(&cookie), HERE, Some(&form)).await;
    let allowed = async |permission: &str| {
        let check = json!({"userId": ana, "permission": permission});
        app.post("/t/default/api/v1/check", ROOT, check).await.ok(200)["allowed"].as_bool().unwrap()
    };
    let roles = format!("{GROUPS}/{europe}/roles");

    // The role picker starts on "Choose…"; sent as it is, it is refused beside the field.
    let tab = send(&app, Method::GET, &roles, Some(&cookie), None, None).await;
    let select = &tab.html[tab.html.find("<select id=\"role\"").unwrap()..];
    assert!(select.contains("<option value=\"\">Choose…</option>"), "{select}");
    assert!(!select[..select.find("</select>").unwrap()].contains("selected"), "{select}");
    let empty = post(&roles, format!("csrf={token}&role=")).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", empty.html);
    assert!(empty.html.contains("id=\"role-error\"") && empty.html.contains("Choose a role to assign."));
    let res = app.post("/t/default/api/v1/resources", ROOT, json!({"type": "agent", "name": "Bot"})).await.id();
    let grants = format!("{GROUPS}/{europe}/resources");
    let tab = send(&app, Method::GET, &grants, Some(&cookie), None, None).await;
    assert_eq!(tab.html.matches("<option value=\"\">Choose…</option>").count(), 2, "{}", tab.html);
    let empty = post(&grants, format!("csrf={token}&type=agent&resource={res}&level=")).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", empty.html);
    assert!(empty.html.contains("id=\"level-agent-error\""), "{}", empty.html);

    // A role without `cohort:` permissions is assigned at once; the admin role is asked first.
    assert_eq!(post(&roles, format!("csrf={token}&role={reader}")).await.status, StatusCode::SEE_OTHER);
    let asked = post(&roles, format!("csrf={token}&role={admin}")).await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.html);
    assert!(asked.html.contains("manages cohort itself") && asked.html.contains("cohort:*"), "{}", asked.html);
    assert!(asked.html.contains("<strong>3 users</strong>"), "{}", asked.html);
    assert!(!allowed("cohort:groups.write").await, "asking changes nothing");
    let done = post(&roles, format!("csrf={token}&role={admin}&revision={}", asked.revision())).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert!(allowed("cohort:groups.write").await);

    // Removing a role: asked, with the count; a confirmation the tenant moved past is asked again.
    let remove = format!("{GROUPS}/{europe}/roles/{reader}/remove");
    let asked = post(&remove, format!("csrf={token}")).await;
    assert!(asked.html.contains("Remove the role Report reader from Europe?"), "{}", asked.html);
    assert!(asked.html.contains("<strong>3 users</strong> in Europe and its child groups"), "{}", asked.html);
    let stale = asked.revision();
    app.user("default", ROOT, "dee@example.com").await;
    let again = post(&remove, format!("csrf={token}&revision={stale}")).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.html);
    assert!(again.html.contains("Something changed") && again.revision() > stale, "{}", again.html);
    assert!(allowed("reports.read").await, "a stale confirmation changes nothing");
    let done = post(&remove, format!("csrf={token}&revision={}", again.revision())).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert!(!allowed("reports.read").await);

    // Archiving counts the child group's members, and its notice is a warning.
    let archive = format!("{GROUPS}/{europe}/archive");
    let asked = post(&archive, format!("csrf={token}")).await;
    assert!(
        asked.html.contains("Archive Europe?") && asked.html.contains("<strong>3 users</strong>"),
        "{}",
        asked.html
    );
    let group = app.get(&format!("/t/default/api/v1/groups/{europe}"), ROOT).await;
    assert_eq!(group.ok(200)["status"], "active");
    let done = post(&archive, format!("csrf={token}&revision={}", asked.revision())).await;
    let settled = send(&app, Method::GET, &done.location, Some(&cookie), None, None).await;
    assert!(settled.html.contains("class=\"notice warning\""), "{}", settled.html);
    assert!(!allowed("cohort:groups.write").await);
    let group = app.get(&format!("/t/default/api/v1/groups/{europe}"), ROOT).await;
    assert_eq!(group.ok(200)["status"], "archived");
    app.assert_consistent().await;
}

#[tokio::test]
async fn a_users_roles_and_tokens_are_managed_on_their_page_and_a_secret_is_shown_once() {
    let app = TestApp::new().await;
    let bo = app.user("default", ROOT, "bo@example.com").await;
    let role = app.role("default", ROOT, "Exporter", &["reports.export"]).await;
    let cookie = sign_in(&app, "default", ROOT).await;
    let token = csrf(&app, &cookie).await;
    let list = send(&app, Method::GET, &format!("{USERS}?q=bo%40"), Some(&cookie), None, None).await;
    assert!(list.html.contains(&format!("{USERS}/{bo}")), "{}", list.html);
    let p = send(
        &app,
        Method::POST,
        &format!("{USERS}/{bo}/roles"),
        Some(&cookie),
        HERE,
        Some(&format!("csrf={token}&role={role}")),
    )
    .await;
    assert_eq!(
        (p.status, p.location.as_str()),
        (StatusCode::SEE_OTHER, &*format!("{USERS}/{bo}?done=role-assigned#roles"))
    );
    let check = json!({"userId": bo, "permission": "reports.export"});
    assert_eq!(app.post("/t/default/api/v1/check", ROOT, check).await.ok(200)["allowed"], true);
    let page = send(&app, Method::GET, &format!("{USERS}/{bo}"), Some(&cookie), None, None).await;
    assert!(page.html.contains("assigned directly") && page.html.contains("No tokens."), "{}", page.html);

    // A token made for them: its secret is on the answer, works, and is never shown again.
    let made = send(
        &app,
        Method::POST,
        TOKENS,
        Some(&cookie),
        HERE,
        Some(&format!("csrf={token}&name=laptop&scope=api&user={bo}")),
    )
    .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.html);
    let secret =
        made.html.split("value=\"cohort_").nth(1).map(|r| format!("cohort_{}", r.split('"').next().unwrap())).unwrap();
    app.get(&format!("/t/default/api/v1/users/{bo}"), &secret).await.ok(200);
    let page = send(&app, Method::GET, &format!("{USERS}/{bo}"), Some(&cookie), None, None).await;
    assert!(page.html.contains("laptop") && !page.html.contains(&secret));
    let id = page.html.split(&format!("{TOKENS}/")).nth(1).unwrap().split('/').next().unwrap().to_owned();

    let ask = send(&app, Method::GET, &format!("{TOKENS}/{id}/regenerate"), Some(&cookie), None, None).await;
    assert!(ask.html.contains("Regenerate laptop?") && ask.html.contains("bo@example.com"), "{}", ask.html);
    let again = send(
        &app,
        Method::POST,
        &format!("{TOKENS}/{id}/regenerate"),
        Some(&cookie),
        HERE,
        Some(&format!("csrf={token}")),
    )
    .await;
    let fresh =
        again.html.split("value=\"cohort_").nth(1).map(|r| format!("cohort_{}", r.split('"').next().unwrap())).unwrap();
    assert_ne!(fresh, secret);
    app.get(&format!("/t/default/api/v1/users/{bo}"), &secret).await.problem(401);
    app.get(&format!("/t/default/api/v1/users/{bo}"), &fresh).await.ok(200);
    let gone =
        send(&app, Method::POST, &format!("{TOKENS}/{id}/revoke"), Some(&cookie), HERE, Some(&format!("csrf={token}")))
            .await;
    assert_eq!(
        (gone.status, gone.location.as_str()),
        (StatusCode::SEE_OTHER, &*format!("{TOKENS}?done=token-revoked"))
    );
    app.get(&format!("/t/default/api/v1/users/{bo}"), &fresh).await.problem(401);

    // A name that is not one is refused beside its field.
    let bad =
        send(&app, Method::POST, TOKENS, Some(&cookie), HERE, Some(&format!("csrf={token}&name=&scope=api"))).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.html.contains("name-error"), "{}", bad.html);
}

#[tokio::test]
async fn the_roles_resources_and_audit_pages_list_and_filter() {
    let app = TestApp::new().await;
    app.role("default", ROOT, "Report reader", &["reports.read"]).await;
    let res = app.post("/t/default/api/v1/resources", ROOT, json!({"type": "agent", "name": "Pricing bot"})).await.id();
    let g = app.group("default", ROOT, "Sales", &[]).await;
    app.post(&format!("/t/default/api/v1/groups/{g}/grants"), ROOT, json!({"resourceId": res, "level": "edit"})).await;
    let cookie = sign_in(&app, "default", ROOT).await;
    let base = "/t/default/portal/access-management";
    let roles = send(&app, Method::GET, &format!("{base}/roles?q=report"), Some(&cookie), None, None).await;
    assert!(roles.html.contains("Report reader") && !roles.html.contains("group-admin"), "{}", roles.html);
    let list = send(&app, Method::GET, &format!("{base}/resources?type=agent"), Some(&cookie), None, None).await;
    assert!(list.html.contains("Pricing bot"), "{}", list.html);
    let one = send(&app, Method::GET, &format!("{base}/resources/{res}"), Some(&cookie), None, None).await;
    assert!(one.html.contains("Sales") && one.html.contains("edit"), "{}", one.html);
    let all = send(&app, Method::GET, &format!("{base}/audit"), Some(&cookie), None, None).await;
    assert!(all.html.contains("group.create") && all.html.contains("role.create"), "{}", all.html);
    let some = send(&app, Method::GET, &format!("{base}/audit?action=role."), Some(&cookie), None, None).await;
    assert!(some.html.contains("role.create") && !some.html.contains("group.create"), "{}", some.html);
    let bad = send(&app, Method::GET, &format!("{base}/audit?from=yesterday"), Some(&cookie), None, None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

/// The visible words of the events table's sentences (the record behind each, one click away
/// in its `details`, left out), tags stripped.
fn sentences(html: &str) -> Vec<String> {
    html.split("<td>")
        .skip(1)
        .filter_map(|cell| cell.split("<details").next().filter(|_| cell.contains("<details")))
        .map(|cell| {
            let mut out = String::new();
            let mut inside = false;
            for c in cell.chars() {
                match c {
                    '<' => inside = true,
                    '>' => inside = false,
                    c if !inside => out.push(c),
                    _ => {}
                }
            }
            out.replace("&amp;", "&")
        })
        .collect()
}

/// Audit rows read as sentences in names: names as recorded then, the present one beside a
/// changed name, "(deleted)" for what is gone, an update's changed fields; ids only in links
/// and titles. Filters choose a person by email and a group by name.
#[tokio::test]
async fn audit_rows_read_as_sentences_in_names() {
    let app = TestApp::new().await;
    let france = app.group("default", ROOT, "France", &[]).await;
    let ana = app
        .post("/t/default/api/v1/users", ROOT, json!({"email": "ana@example.com", "displayName": "Ana Martin"}))
        .await
        .id();
    let bo = app
        .post("/t/default/api/v1/users", ROOT, json!({"email": "bo@example.com", "displayName": "Bruno Silva"}))
        .await
        .id();
    let member = json!({"userId": bo, "expiresAt": "2027-01-12T09:00:00Z", "reason": "cover for Q1"});
    app.post(&format!("/t/default/api/v1/groups/{france}/members"), ROOT, member).await.ok(201);
    app.post(&format!("/t/default/api/v1/groups/{france}/members"), ROOT, json!({"userId": ana})).await.ok(201);
    app.patch(&format!("/t/default/api/v1/groups/{france}"), ROOT, json!({"name": "Francia"})).await.ok(200);
    app.delete(&format!("/t/default/api/v1/users/{bo}"), ROOT).await;
    let cookie = sign_in(&app, "default", ROOT).await;
    let audit = "/t/default/portal/access-management/audit";
    let page = send(&app, Method::GET, audit, Some(&cookie), None, None).await;
    let said = sentences(&page.html);
    let admin = "Administrator";
    for want in [
        format!(
            "{admin} added Bruno Silva (deleted) to France (now Francia) as member, until 2027-01-12 09:00 UTC — reason: cover for Q1"
        ),
        format!("{admin} added Ana Martin to France (now Francia) as member"),
        format!("{admin} changed the group Francia: name “France” → “Francia”"),
        format!("{admin} deleted the user Bruno Silva (deleted)"),
        format!("{admin} created the group France (now Francia)"),
    ] {
        assert!(said.contains(&want), "{want}\n{said:#?}");
    }
    assert!(said.iter().all(|s| !s.contains("usr_") && !s.contains("grp_")), "{said:#?}");
    assert!(page.html.contains(&format!("title=\"{ana}\"")) && page.html.contains(&format!("/users/{ana}\"")));
    // The names are recorded with the event, for every face.
    let rest = app.get("/t/default/api/v1/audit?action=membership.add", ROOT).await;
    let names = &rest.ok(200)["items"][1]["names"];
    assert_eq!((names[&bo].as_str(), names[&france].as_str()), (Some("Bruno Silva"), Some("France")), "{names}");
    // Filters: a person by email, a group by name.
    let by = send(
        &app,
        Method::GET,
        &format!("{audit}?actor=admin%40cohort.local&target=Francia&action=membership."),
        Some(&cookie),
        None,
        None,
    )
    .await;
    let said = sentences(&by.html);
    assert_eq!(said.len(), 2, "{said:#?}");
    let nobody =
        send(&app, Method::GET, &format!("{audit}?actor=nobody%40example.com"), Some(&cookie), None, None).await;
    assert_eq!(nobody.status, StatusCode::BAD_REQUEST);
    assert!(nobody.html.contains("no user has the email `nobody@example.com`"), "{}", nobody.html);
}

#[tokio::test]
async fn the_tree_opens_a_level_at_a_time_and_pickers_offer_only_active_groups() {
    let app = TestApp::new().await;
    let top = app.group("default", ROOT, "Company", &[]).await;
    let eng = app.group("default", ROOT, "Engineering", &[&top]).await;
    app.group("default", ROOT, "Platform", &[&eng]).await;
    let old = app.group("default", ROOT, "Engine room", &[&top]).await;
    app.post(&format!("/t/default/api/v1/groups/{old}/archive"), ROOT, json!({})).await.ok(200);
    app.user("default", ROOT, "enid@example.com").await;
    let cookie = sign_in(&app, "default", ROOT).await;
    let roots = send(&app, Method::GET, &format!("{GROUPS}/tree"), Some(&cookie), None, None).await;
    assert!(roots.html.contains("Company") && !roots.html.contains("Engineering"), "{}", roots.html);
    let level =
        send(&app, Method::GET, &format!("{GROUPS}/tree?parent={top}&fragment=true"), Some(&cookie), None, None).await;
    assert!(level.html.starts_with("<ul class=\"tree\">") && !level.html.contains("<html"), "{}", level.html);
    assert!(
        level.html.contains("Engineering") && level.html.contains("Engine room") && !level.html.contains("Platform")
    );
    assert!(level.html.contains(&format!("parent={eng}&amp;fragment=true")), "{}", level.html);
    let page = send(&app, Method::GET, &format!("{GROUPS}/tree?parent={eng}"), Some(&cookie), None, None).await;
    assert!(page.html.contains("Child groups of Engineering") && page.html.contains("Platform"), "{}", page.html);
    // A leaf is shown as one: no control opens it; a level says its size; a group with child
    // groups says how many.
    assert!(
        page.html.contains("1 child group.") && page.html.contains(r#"<span class="leaf" aria-hidden="true">"#),
        "{}",
        page.html
    );
    assert!(!page.html.contains("The 0 child groups"), "{}", page.html);
    assert!(level.html.contains("1 member") || level.html.contains("0 members"), "{}", level.html);
    assert!(level.html.contains(", 1 child group"), "{}", level.html);
    assert!(roots.html.contains("1 top group."), "{}", roots.html);
    // The tree searches, each group found shown where it sits.
    let found = send(&app, Method::GET, &format!("{GROUPS}/tree?q=platf"), Some(&cookie), None, None).await;
    let path = format!(
        r#"<a href="{GROUPS}/{top}" title="{top}">Company</a> › <a href="{GROUPS}/{eng}" title="{eng}">Engineering</a> › "#
    );
    assert!(found.html.contains(&path) && found.html.contains("<strong>Platform</strong>"), "{}", found.html);
    let none = send(&app, Method::GET, &format!("{GROUPS}/tree?q=zzz"), Some(&cookie), None, None).await;
    assert!(none.html.contains("No group matches."), "{}", none.html);
    // The list counts each group's child groups and links only those that have some.
    let list = send(&app, Method::GET, GROUPS, Some(&cookie), None, None).await;
    assert!(
        list.html
            .contains(&format!(r#"href="{GROUPS}?parent={top}" aria-label="The 2 child groups of Company">2</a>"#)),
        "{}",
        list.html
    );
    assert!(!list.html.contains("child groups of Platform"), "{}", list.html);

    let groups = send(&app, Method::GET, "/t/default/portal/pick/groups?q=engin", Some(&cookie), None, None).await;
    let offered: serde_json::Value = serde_json::from_str(&groups.html).unwrap();
    assert_eq!(offered, json!([{"value": "engineering", "label": "Engineering"}]));
    let users = send(&app, Method::GET, "/t/default/portal/pick/users?q=enid", Some(&cookie), None, None).await;
    let offered: serde_json::Value = serde_json::from_str(&users.html).unwrap();
    assert_eq!(offered[0]["value"], "enid@example.com");
    let nothing = send(&app, Method::GET, "/t/default/portal/pick/roles?q=x", Some(&cookie), None, None).await;
    assert_eq!(nothing.status, StatusCode::NOT_FOUND);
    let away = send(&app, Method::GET, "/t/default/portal/pick/users?q=enid", None, None, None).await;
    assert_eq!(away.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn times_are_said_and_read_in_the_persons_zone_with_the_zone_beside_them() {
    let app = TestApp::new().await;
    let g = app.group("default", ROOT, "Support", &[]).await;
    let cy = app.user("default", ROOT, "cy@example.com").await;
    let me = app.get("/t/default/api/v1/me", ROOT).await.ok(200)["id"].as_str().unwrap().to_owned();
    let cookie = sign_in(&app, "default", ROOT).await;
    let token = csrf(&app, &cookie).await;
    let post = async |path: &str, form: String| send(&app, Method::POST, path, Some(&cookie), HERE, Some(&form)).await;
    let get = async |path: &str| send(&app, Method::GET, path, Some(&cookie), None, None).await;
    // Nobody chose a zone: UTC, said beside every time and time field.
    let page = get(&format!("{GROUPS}/{g}")).await;
    assert!(page.html.contains("(optional, UTC time)"), "{}", page.html);
    // An admin sets the tenant's default on the settings page; an unknown zone changes nothing.
    let before = app.fingerprint().await;
    let bad = post(&format!("{SIGN_IN}/time-zone"), format!("csrf={token}&time_zone=Mars%2FOlympus")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.html.contains("id=\"timeZone-error\"") && bad.html.contains("is not a time zone"), "{}", bad.html);
    assert_eq!(app.fingerprint().await, before);
    let set = post(&format!("{SIGN_IN}/time-zone"), format!("csrf={token}&time_zone=Asia%2FTokyo")).await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.html);
    let settings = get(SIGN_IN).await;
    assert!(settings.html.contains(r#"<option value="Asia/Tokyo" selected>"#), "{}", settings.html);
    // A time typed into a field is read in the zone: 09:00 in Tokyo is 00:00 UTC.
    let add = post(
        &format!("{GROUPS}/{g}/members"),
        format!("csrf={token}&email=cy%40example.com&role=manager&expires=2100-01-01T09%3A00"),
    )
    .await;
    assert_eq!(add.status, StatusCode::SEE_OTHER, "{}", add.html);
    let rows = app.get(&format!("/t/default/api/v1/groups/{g}/members"), ROOT).await;
    assert_eq!(rows.ok(200)["items"][0]["expiresAt"], "2100-01-01T00:00:00Z");
    let page = get(&format!("{GROUPS}/{g}")).await;
    assert!(
        page.html.contains("2100-01-01 09:00 JST") && page.html.contains("(optional, Asia/Tokyo time)"),
        "{}",
        page.html
    );
    // A person's own choice wins over the tenant's, on their own page.
    let own = get(&format!("{USERS}/{me}")).await;
    assert!(own.html.contains(r#"<option value="" selected>The tenant's</option>"#), "{}", own.html);
    let set = post(&format!("{USERS}/{me}/time-zone"), format!("csrf={token}&time_zone=Europe%2FParis")).await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.html);
    let page = get(&format!("{GROUPS}/{g}")).await;
    assert!(page.html.contains("2100-01-01 01:00 CET"), "{}", page.html);
    let audit = get("/t/default/portal/access-management/audit").await;
    assert!(audit.html.contains("From (Europe/Paris)") && audit.html.contains(" CET</td>"), "{}", audit.html);
    assert!(
        audit.html.contains("changed the tenant’s default time zone: time zone none → “Asia/Tokyo”"),
        "{}",
        audit.html
    );
    // The audit filter reads its times in the zone too: from 01:00 Paris on 1 Jan 2100 is after
    // every event.
    let none = get("/t/default/portal/access-management/audit?from=2100-01-01T01%3A00").await;
    assert!(none.html.contains("No events yet."), "{}", none.html);
    // Another person's page offers no zone of theirs to change, and posting one is refused.
    let theirs = get(&format!("{USERS}/{cy}")).await;
    assert!(!theirs.html.contains("Save time zone"));
    let cy_cookie = sign_in(&app, "default", &app.token_for("default", ROOT, &cy).await).await;
    let cy_token = csrf(&app, &cy_cookie).await;
    let form = format!("csrf={cy_token}&time_zone=Asia%2FTokyo");
    let p = send(&app, Method::POST, &format!("{USERS}/{me}/time-zone"), Some(&cy_cookie), HERE, Some(&form)).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    // A group's manager (no `cohort:` permission) sets their own, back to the tenant's with the
    // first option.
    let p = send(&app, Method::POST, &format!("{USERS}/{cy}/time-zone"), Some(&cy_cookie), HERE, Some(&form)).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    assert_eq!(app.get(&format!("/t/default/api/v1/users/{cy}"), ROOT).await.ok(200)["timeZone"], "Asia/Tokyo");
    let p = send(
        &app,
        Method::POST,
        &format!("{USERS}/{cy}/time-zone"),
        Some(&cy_cookie),
        HERE,
        Some(&format!("csrf={cy_token}&time_zone=")),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert!(app.get(&format!("/t/default/api/v1/users/{cy}"), ROOT).await.ok(200)["timeZone"].is_null());
    assert_eq!(app.get(&format!("/t/default/api/v1/users/{me}"), ROOT).await.ok(200)["timeZone"], "Europe/Paris");
}

/// Suspending, unsuspending and deleting a user, deleting a role and a resource: each asked
/// first with the users it reaches, applied only at the revision it was counted at.
#[tokio::test]
async fn users_roles_and_resources_are_suspended_or_deleted_after_a_counted_question() {
    let app = TestApp::new().await;
    let sales = app.group("default", ROOT, "Sales", &[]).await;
    let ann = app
        .post("/t/default/api/v1/users", ROOT, json!({"email": "ann@example.com", "displayName": "Ann Lee"}))
        .await
        .id();
    let bo = app.user("default", ROOT, "bo@example.com").await;
    for u in [&ann, &bo] {
        app.post(&format!("/t/default/api/v1/groups/{sales}/members"), ROOT, json!({"userId": u})).await.ok(201);
    }
    let reader = app.role("default", ROOT, "Report reader", &["reports.read"]).await;
    app.post(&format!("/t/default/api/v1/groups/{sales}/roles"), ROOT, json!({"roleId": reader})).await.ok(201);
    let bot = app.post("/t/default/api/v1/resources", ROOT, json!({"type": "agent", "name": "Pricing bot"})).await.id();
    app.post(&format!("/t/default/api/v1/groups/{sales}/grants"), ROOT, json!({"resourceId": bot, "level": "use"}))
        .await
        .ok(201);
    let cookie = sign_in(&app, "default", ROOT).await;
    let token = csrf(&app, &cookie).await;
    let post = async |path: &str, form: String| send(&app, Method::POST, path, Some(&cookie), HERE, Some(&form)).await;
    let status = async |u: &str| app.get(&format!("/t/default/api/v1/users/{u}"), ROOT).await.body["status"].clone();
    let reads = async |u: &str| {
        let check = json!({"userId": u, "permission": "reports.read"});
        app.post("/t/default/api/v1/check", ROOT, check).await.ok(200)["allowed"].as_bool().unwrap()
    };

    // The user's page offers the actions, unpreselected: each is a question first.
    let page = send(&app, Method::GET, &format!("{USERS}/{ann}"), Some(&cookie), None, None).await;
    assert!(page.html.contains("Suspend…") && page.html.contains("Delete user…"), "{}", page.html);
    // Their access reads in names: each path's groups are links, their ids only in titles.
    assert!(
        page.html.contains(&format!(r#"via <a href="{GROUPS}/{sales}" title="{sales}">Sales</a> (manual)"#)),
        "{}",
        page.html
    );
    assert!(!page.html.contains("(grp_"), "{}", page.html);
    let suspend = format!("{USERS}/{ann}/suspend");
    let asked = post(&suspend, format!("csrf={token}")).await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.html);
    assert!(
        asked.html.contains("Suspend ann@example.com?")
            && asked.html.contains("<strong>1 user</strong> would lose all access"),
        "{}",
        asked.html
    );
    assert_eq!(status(&ann).await, "active", "asking changes nothing");
    app.assert_consistent().await;
    // A confirmation the tenant moved past is asked again, and changes nothing.
    let stale = asked.revision();
    app.user("default", ROOT, "cy@example.com").await;
    let again = post(&suspend, format!("csrf={token}&revision={stale}")).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.html);
    assert_eq!(status(&ann).await, "active");
    let done = post(&suspend, format!("csrf={token}&revision={}", again.revision())).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert_eq!(status(&ann).await, "suspended");
    assert!(!reads(&ann).await);
    let settled = send(&app, Method::GET, &done.location, Some(&cookie), None, None).await;
    assert!(
        settled.html.contains("class=\"notice warning\"") && settled.html.contains("Unsuspend…"),
        "{}",
        settled.html
    );
    // Unsuspending gives access back: asked too, the suspended user counted.
    let unsuspend = format!("{USERS}/{ann}/unsuspend");
    let asked = post(&unsuspend, format!("csrf={token}")).await;
    assert!(asked.html.contains("<strong>1 user</strong> would get their access back"), "{}", asked.html);
    assert_eq!(
        post(&unsuspend, format!("csrf={token}&revision={}", asked.revision())).await.status,
        StatusCode::SEE_OTHER
    );
    assert!(reads(&ann).await);

    // Deleting a role counts whoever holds it through a group.
    let asked =
        post(&format!("/t/default/portal/access-management/roles/{reader}/delete"), format!("csrf={token}")).await;
    assert!(
        asked.html.contains("Delete the role Report reader?")
            && asked.html.contains("<strong>2 users</strong> would lose what it gives"),
        "{}",
        asked.html
    );
    assert!(reads(&bo).await, "asking changes nothing");
    app.assert_consistent().await;
    let done = post(
        &format!("/t/default/portal/access-management/roles/{reader}/delete"),
        format!("csrf={token}&revision={}", asked.revision()),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert!(!reads(&bo).await);
    app.get(&format!("/t/default/api/v1/roles/{reader}"), ROOT).await.problem(404);

    // Deleting a resource counts the holders of a level on it.
    let path = format!("/t/default/portal/access-management/resources/{bot}/delete");
    let asked = post(&path, format!("csrf={token}")).await;
    assert!(
        asked.html.contains("Delete Pricing bot?")
            && asked.html.contains("<strong>2 users</strong> would lose their level on it"),
        "{}",
        asked.html
    );
    app.get(&format!("/t/default/api/v1/resources/{bot}"), ROOT).await.ok(200);
    app.assert_consistent().await;
    assert_eq!(post(&path, format!("csrf={token}&revision={}", asked.revision())).await.status, StatusCode::SEE_OTHER);
    app.get(&format!("/t/default/api/v1/resources/{bot}"), ROOT).await.problem(404);

    // Deleting a user; never oneself.
    let delete = format!("{USERS}/{bo}/delete");
    let asked = post(&delete, format!("csrf={token}")).await;
    assert!(asked.html.contains("Delete bo@example.com?") && asked.html.contains("cannot be undone"), "{}", asked.html);
    app.get(&format!("/t/default/api/v1/users/{bo}"), ROOT).await.ok(200);
    app.assert_consistent().await;
    let done = post(&delete, format!("csrf={token}&revision={}", asked.revision())).await;
    assert_eq!(done.location, format!("{USERS}?done=user-deleted"));
    app.get(&format!("/t/default/api/v1/users/{bo}"), ROOT).await.problem(404);
    let me = app.get("/t/default/api/v1/me", ROOT).await.ok(200)["id"].as_str().unwrap().to_owned();
    let own = send(&app, Method::GET, &format!("{USERS}/{me}"), Some(&cookie), None, None).await;
    assert!(!own.html.contains("Delete user…"), "nobody is offered to delete themself");
    let refused = post(&format!("{USERS}/{me}/delete"), format!("csrf={token}")).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.html);
    assert!(refused.html.contains("you cannot delete yourself"), "{}", refused.html);
}

/// A group's page shows every path from the top down to it and its child groups; its parents
/// change on Settings: a cycle is refused beside the field, a change is asked with the users
/// it reaches and applied at that revision.
#[tokio::test]
async fn nesting_is_seen_and_changed_after_a_question_and_a_cycle_is_refused_beside_the_field() {
    let app = TestApp::new().await;
    let europe = app.group("default", ROOT, "Europe", &[]).await;
    let france = app.group("default", ROOT, "France", &[&europe]).await;
    let paris = app.group("default", ROOT, "Paris", &[&france]).await;
    let sales = app.group("default", ROOT, "Sales", &[]).await;
    let reader = app.role("default", ROOT, "Report reader", &["reports.read"]).await;
    app.post(&format!("/t/default/api/v1/groups/{sales}/roles"), ROOT, json!({"roleId": reader})).await.ok(201);
    let ann = app.user("default", ROOT, "ann@example.com").await;
    app.post(&format!("/t/default/api/v1/groups/{paris}/members"), ROOT, json!({"userId": ann})).await.ok(201);
    let cookie = sign_in(&app, "default", ROOT).await;
    let token = csrf(&app, &cookie).await;
    let get = async |path: &str| send(&app, Method::GET, path, Some(&cookie), None, None).await;
    let post = async |path: &str, form: String| send(&app, Method::POST, path, Some(&cookie), HERE, Some(&form)).await;
    let reads = async || {
        let check = json!({"userId": ann, "permission": "reports.read"});
        app.post("/t/default/api/v1/check", ROOT, check).await.ok(200)["allowed"].as_bool().unwrap()
    };
    let link = |id: &str, name: &str| format!(r#"<a href="{GROUPS}/{id}" title="{id}">{name}</a>"#);

    // Seen: the path from the top, the child groups, a top group said to be one.
    let page = get(&format!("{GROUPS}/{france}")).await;
    assert!(page.html.contains(&format!("{} › <strong>France</strong>", link(&europe, "Europe"))), "{}", page.html);
    assert!(page.html.contains(&format!("Child groups (1): {}", link(&paris, "Paris"))), "{}", page.html);
    let page = get(&format!("{GROUPS}/{europe}")).await;
    assert!(page.html.contains("A top group: it has no parent."), "{}", page.html);
    let settings = get(&format!("{GROUPS}/{france}/settings")).await;
    assert!(settings.html.contains(r#"name="parents" value="europe""#), "{}", settings.html);

    // A cycle, or a group that is not there, is refused beside the field; nothing changes.
    let before = app.fingerprint().await;
    let parents = format!("{GROUPS}/{france}/parents");
    let cycle = post(&parents, format!("csrf={token}&parents=paris")).await;
    assert_eq!(cycle.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", cycle.html);
    assert!(cycle.html.contains(r#"id="parents-error""#) && cycle.html.contains(r#"value="paris""#), "{}", cycle.html);
    assert!(cycle.html.contains("Paris is below France: making it a parent would create a cycle"), "{}", cycle.html);
    let unknown = post(&parents, format!("csrf={token}&parents=nowhere")).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.html.contains("no active group has the slug or name `nowhere`"), "{}", unknown.html);
    assert_eq!(app.fingerprint().await, before);

    // Adding a parent that confers is asked, counting the members below; a stale
    // confirmation is asked again.
    let asked = post(&parents, format!("csrf={token}&parents=europe%2C+sales")).await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.html);
    assert!(
        asked.html.contains("Change the parents of France?")
            && asked.html.contains("inherit what <strong>Sales</strong> confers."),
        "{}",
        asked.html
    );
    assert!(
        asked.html.contains("<strong>1 user</strong> in France and its child groups would inherit it"),
        "{}",
        asked.html
    );
    assert!(!reads().await, "asking changes nothing");
    app.assert_consistent().await;
    let stale = asked.revision();
    app.user("default", ROOT, "bo@example.com").await;
    let again = post(&parents, format!("csrf={token}&parents=europe%2C+sales&revision={stale}")).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.html);
    assert!(!reads().await);
    let done = post(&parents, format!("csrf={token}&parents=europe%2C+sales&revision={}", again.revision())).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert!(reads().await);
    let parents_now = app.get(&format!("/t/default/api/v1/groups/{france}"), ROOT).await.ok(200)["parentIds"].clone();
    assert_eq!(parents_now.as_array().unwrap().len(), 2, "{parents_now}");
    // Paris now sits on two paths.
    let page = get(&format!("{GROUPS}/{paris}")).await;
    assert!(page.html.contains("Within 2 paths"), "{}", page.html);
    for top in [link(&europe, "Europe"), link(&sales, "Sales")] {
        assert!(
            page.html.contains(&format!("{top} › {} › <strong>Paris</strong>", link(&france, "France"))),
            "{}",
            page.html
        );
    }
    // Asking to delete a group with a child group and a member leaves everything as it was.
    let asked = post(&format!("{GROUPS}/{france}/delete"), format!("csrf={token}")).await;
    assert!(asked.html.contains("Delete France?"), "{}", asked.html);
    app.assert_consistent().await;
    assert!(reads().await);
    // Taking a parent away is asked as a warning, and made a top group.
    let asked = post(&parents, format!("csrf={token}&parents=")).await;
    assert!(
        asked.html.contains("stop inheriting what") && asked.html.contains("It becomes a top group."),
        "{}",
        asked.html
    );
    assert!(asked.html.contains("class=\"primary danger\""), "{}", asked.html);
    post(&parents, format!("csrf={token}&parents=&revision={}", asked.revision())).await;
    assert!(!reads().await);
}

/// An import's rows are removed by hand like a person's own; a rule's say who keeps them and
/// where to change them, and are not removed here. Each row links to its user.
#[tokio::test]
async fn import_rows_are_removed_by_hand_and_rows_kept_by_a_rule_say_so() {
    let app = TestApp::new().await;
    let g = app.group("default", ROOT, "Support", &[]).await;
    let ana = app.user("default", ROOT, "ana@example.com").await;
    let bo =
        app.post("/t/default/api/v1/users", ROOT, json!({"email": "bo@example.com", "department": "Ops"})).await.id();
    let cookie = sign_in(&app, "default", ROOT).await;
    let token = csrf(&app, &cookie).await;
    let file = "email,role\nana@example.com,member\n";
    let p = upload(&app, &format!("{GROUPS}/{g}/import"), &cookie, &[("csrf", &token), ("file", file)]).await;
    let at = p.html.find("/import/imp_").expect("a confirm form") + 8;
    let import: String = p.html[at..].split('/').next().unwrap().to_owned();
    let confirm = format!("{GROUPS}/{g}/import/{import}/confirm");
    assert_eq!(
        send(&app, Method::POST, &confirm, Some(&cookie), HERE, Some(&format!("csrf={token}"))).await.status,
        StatusCode::SEE_OTHER
    );
    let rule = json!({"expression": "user.department == 'Ops'", "confirm": true});
    app.post(&format!("/t/default/api/v1/groups/{g}/rules"), ROOT, rule).await.ok(201);
    let members = format!("/t/default/api/v1/groups/{g}/members");

    let page = send(&app, Method::GET, &format!("{GROUPS}/{g}"), Some(&cookie), None, None).await;
    assert!(page.html.contains(&format!(r#"<a href="{USERS}/{ana}">ana@example.com</a>"#)), "{}", page.html);
    assert!(page.html.contains(&format!("{GROUPS}/{g}/members/{ana}/remove?source=import")), "{}", page.html);
    assert!(
        page.html.contains(&format!(r#"Kept by a rule: change it on the <a href="{GROUPS}/{g}/rules">Rules tab</a>"#)),
        "{}",
        page.html
    );
    assert!(!page.html.contains(&format!("/members/{bo}/remove")), "{}", page.html);

    let ask =
        send(&app, Method::GET, &format!("{GROUPS}/{g}/members/{ana}/remove?source=import"), Some(&cookie), None, None)
            .await;
    assert!(
        ask.html.contains("This is the row an import added.") && ask.html.contains(r#"name="source" value="import""#),
        "{}",
        ask.html
    );
    let kept = send(
        &app,
        Method::POST,
        &format!("{GROUPS}/{g}/members/{bo}/remove"),
        Some(&cookie),
        HERE,
        Some(&format!("csrf={token}&source=rule")),
    )
    .await;
    assert_eq!(kept.status, StatusCode::BAD_REQUEST, "{}", kept.html);
    assert!(kept.html.contains("kept by its source"), "{}", kept.html);
    let gone = send(
        &app,
        Method::POST,
        &format!("{GROUPS}/{g}/members/{ana}/remove"),
        Some(&cookie),
        HERE,
        Some(&format!("csrf={token}&source=import")),
    )
    .await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER, "{}", gone.html);
    let left = app.get(&members, ROOT).await;
    let items = left.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["userId"], bo.as_str());
    assert_eq!(items[0]["source"], "rule");
}

/// A group's members are searched, sorted and paged back and forth on its page, by the store.
#[tokio::test]
async fn members_are_searched_sorted_and_paged_back_and_forth() {
    let app = TestApp::new().await;
    let g = app.group("default", ROOT, "Support", &[]).await;
    for n in 0..55 {
        let body = json!({"email": format!("m{n:02}@example.com"), "groupIds": [g]});
        app.post("/t/default/api/v1/users", ROOT, body).await.ok(201);
    }
    let cookie = sign_in(&app, "default", ROOT).await;
    let get = async |path: &str| send(&app, Method::GET, path, Some(&cookie), None, None).await;
    let link = |html: &str, rel: &str| {
        let at = html.find(&format!(r#"rel="{rel}""#))?;
        let start = html[..at].rfind("href=\"")? + 6;
        Some(html[start..at].split('"').next()?.replace("&amp;", "&"))
    };
    let first = get(&format!("{GROUPS}/{g}")).await;
    assert!(first.html.contains("55 rows in all.") && first.html.contains("m00@example.com"), "{}", first.html);
    assert!(!first.html.contains("m50@example.com") && link(&first.html, "prev").is_none(), "{}", first.html);
    let next = link(&first.html, "next").expect("a next page");
    let second = get(&next).await;
    assert!(second.html.contains("m54@example.com") && !second.html.contains("m49@example.com"), "{}", second.html);
    let back = get(&link(&second.html, "prev").expect("a page before")).await;
    assert!(back.html.contains("m00@example.com") && back.html.contains("m49@example.com"), "{}", back.html);
    let found = get(&format!("{GROUPS}/{g}?q=M07")).await;
    assert!(found.html.contains("1 row matches.") && found.html.contains("m07@example.com"), "{}", found.html);
    let none = get(&format!("{GROUPS}/{g}?q=nobody")).await;
    assert!(none.html.contains("No member matches."), "{}", none.html);
    let desc = get(&format!("{GROUPS}/{g}?sort=email&order=desc&size=100")).await;
    let (m54, m00) = (desc.html.find("m54@example.com").unwrap(), desc.html.find("m00@example.com").unwrap());
    assert!(m54 < m00 && link(&desc.html, "next").is_none(), "{}", desc.html);
    assert!(desc.html.contains(r#"<option value="desc" selected>"#), "{}", desc.html);
    let bad = get(&format!("{GROUPS}/{g}?sort=height")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

/// A person's row is changed in place: its role (by those who may make managers), expiry and
/// reason; a refused change says why and changes nothing.
#[tokio::test]
async fn a_membership_is_edited_in_place() {
    let app = TestApp::new().await;
    let g = app.group("default", ROOT, "Support", &[]).await;
    let cy = app.user("default", ROOT, "cy@example.com").await;
    let mgr = app.user("default", ROOT, "mgr@example.com").await;
    let members = format!("/t/default/api/v1/groups/{g}/members");
    app.post(&members, ROOT, json!({"userId": cy})).await.ok(201);
    app.post(&members, ROOT, json!({"userId": mgr, "role": "manager"})).await.ok(201);
    let cookie = sign_in(&app, "default", ROOT).await;
    let token = csrf(&app, &cookie).await;
    let edit = format!("{GROUPS}/{g}/members/{cy}/edit");
    let page = send(&app, Method::GET, &format!("{GROUPS}/{g}"), Some(&cookie), None, None).await;
    assert!(page.html.contains(&format!(r#"action="{edit}""#)), "{}", page.html);
    let form = format!("csrf={token}&role=manager&expires=2100-01-01T00%3A00&reason=on+call");
    let done = send(&app, Method::POST, &edit, Some(&cookie), HERE, Some(&form)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let row = |a: &common::Answer| {
        a.body["items"].as_array().unwrap().iter().find(|m| m["userId"] == cy.as_str()).unwrap().clone()
    };
    let now = row(&app.get(&members, ROOT).await);
    assert_eq!(
        (now["role"].as_str(), now["expiresAt"].as_str(), now["reason"].as_str()),
        (Some("manager"), Some("2100-01-01T00:00:00Z"), Some("on call"))
    );
    // The form shows the row as it stands, its expiry in the person's zone.
    let page = send(&app, Method::GET, &format!("{GROUPS}/{g}"), Some(&cookie), None, None).await;
    assert!(
        page.html.contains(r#"value="2100-01-01T00:00""#) && page.html.contains(r#"<option value="manager" selected>"#),
        "{}",
        page.html
    );
    // An expiry in the past is refused, said on the page, and changes nothing.
    let before = app.fingerprint().await;
    let past =
        send(&app, Method::POST, &edit, Some(&cookie), HERE, Some(&format!("csrf={token}&expires=2001-01-01T00%3A00")))
            .await;
    assert_eq!(past.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", past.html);
    assert!(past.html.contains("The membership was not changed: must be in the future"), "{}", past.html);
    assert_eq!(app.fingerprint().await, before);
    // Emptying the expiry removes it.
    let done =
        send(&app, Method::POST, &edit, Some(&cookie), HERE, Some(&format!("csrf={token}&expires=&reason=on+call")))
            .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert!(row(&app.get(&members, ROOT).await)["expiresAt"].is_null());
    // A manager edits a member's reason, but makes no manager.
    let mgr_cookie = sign_in(&app, "default", &app.token_for("default", ROOT, &mgr).await).await;
    let mgr_token = csrf(&app, &mgr_cookie).await;
    let bo = app.user("default", ROOT, "bo@example.com").await;
    app.post(&members, ROOT, json!({"userId": bo})).await.ok(201);
    let bo_edit = format!("{GROUPS}/{g}/members/{bo}/edit");
    let page = send(&app, Method::GET, &format!("{GROUPS}/{g}"), Some(&mgr_cookie), None, None).await;
    assert!(
        page.html.contains(&format!(r#"action="{bo_edit}""#)) && !page.html.contains(&format!("edit-{bo}-role")),
        "{}",
        page.html
    );
    let ok =
        send(&app, Method::POST, &bo_edit, Some(&mgr_cookie), HERE, Some(&format!("csrf={mgr_token}&reason=helps")))
            .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.html);
    let up =
        send(&app, Method::POST, &bo_edit, Some(&mgr_cookie), HERE, Some(&format!("csrf={mgr_token}&role=manager")))
            .await;
    assert_eq!(up.status, StatusCode::FORBIDDEN, "{}", up.html);
    let bo_row = app.get(&members, ROOT).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["userId"] == bo.as_str())
        .unwrap()
        .clone();
    assert_eq!((bo_row["role"].as_str(), bo_row["reason"].as_str()), (Some("member"), Some("helps")));
}

/// Several members are removed at once: one question that counts them, one change.
#[tokio::test]
async fn several_members_are_removed_at_once_after_one_question() {
    let app = TestApp::new().await;
    let g = app.group("default", ROOT, "Support", &[]).await;
    let members = format!("/t/default/api/v1/groups/{g}/members");
    let mut ids = Vec::new();
    for email in ["ann@example.com", "bo@example.com", "cy@example.com"] {
        let u = app.user("default", ROOT, email).await;
        app.post(&members, ROOT, json!({"userId": u})).await.ok(201);
        ids.push(u);
    }
    let cookie = sign_in(&app, "default", ROOT).await;
    let token = csrf(&app, &cookie).await;
    let remove = format!("{GROUPS}/{g}/members/remove");
    let post = async |form: String| send(&app, Method::POST, &remove, Some(&cookie), HERE, Some(&form)).await;
    let count = async || app.get(&members, ROOT).await.body["items"].as_array().unwrap().len();
    let page = send(&app, Method::GET, &format!("{GROUPS}/{g}"), Some(&cookie), None, None).await;
    assert!(page.html.contains(&format!(r#"value="{} manual" form="remove-several""#, ids[0])), "{}", page.html);
    // Nothing ticked: said beside the button.
    let none = post(format!("csrf={token}")).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", none.html);
    assert!(none.html.contains("Tick the members to remove first."), "{}", none.html);
    let rows = format!("rows={}+manual&rows={}+manual", ids[0], ids[1]);
    let asked = post(format!("csrf={token}&{rows}")).await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.html);
    assert!(
        asked.html.contains("Remove 2 members from Support?")
            && asked.html.contains("<strong>2 users</strong> would leave Support"),
        "{}",
        asked.html
    );
    assert!(asked.html.contains("ann@example.com, bo@example.com"), "{}", asked.html);
    assert_eq!(count().await, 3, "asking changes nothing");
    app.assert_consistent().await;
    let stale = asked.revision();
    app.user("default", ROOT, "dee@example.com").await;
    assert_eq!(post(format!("csrf={token}&{rows}&revision={stale}")).await.status, StatusCode::CONFLICT);
    assert_eq!(count().await, 3);
    let again = post(format!("csrf={token}&{rows}")).await;
    let done = post(format!("csrf={token}&{rows}&revision={}", again.revision())).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let left = app.get(&members, ROOT).await;
    assert_eq!(
        left.body["items"].as_array().unwrap().iter().map(|m| m["userId"].as_str().unwrap()).collect::<Vec<_>>(),
        vec![ids[2].as_str()]
    );
    // A rule's row is not removed here.
    let kept = post(format!("csrf={token}&rows={}+rule", ids[2])).await;
    assert_eq!(kept.status, StatusCode::BAD_REQUEST, "{}", kept.html);
}
