//! Local sign-in: an invitation (by the user or an admin only, shown once, 72 hours, once),
//! a password that must be long and uncommon, kept as an Argon2id hash; signing in with it,
//! a wrong password, the limit per account, and every sign-in, failure and sign-out in the
//! audit log. (`ssoOnly`, which keeps everyone but admins to the provider, is in `sso.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::{Method, StatusCode};
use common::{Page, ROOT, TestApp};
use serde_json::{Value, json};

const T: &str = "/t/default/api/v1";
const HERE: Option<&str> = Some("http://cohort.test");
const GROUPS: &str = "/t/default/portal/access-management/groups";

fn form(pairs: &[(&str, &str)]) -> String {
    serde_html_form::to_string(pairs).unwrap()
}

async fn set_password(app: &TestApp, link: &str, password: &str) -> Page {
    let body = form(&[("password", password), ("again", password)]);
    app.console(Method::POST, link, None, HERE, Some(&body)).await
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> Page {
    let body = form(&[("email", email), ("password", password)]);
    app.console(Method::POST, "/t/default/login/password", None, HERE, Some(&body)).await
}

async fn audited(app: &TestApp, action: &str) -> Vec<Value> {
    let a = app.get(&format!("{T}/audit?action={action}&limit=500"), ROOT).await;
    a.ok(200)["items"].as_array().unwrap().iter().filter(|e| e["action"] == action).cloned().collect()
}

#[tokio::test]
async fn an_invitation_sets_a_password_once_and_the_password_signs_in() {
    let app = TestApp::new().await;
    let fay = app.user("default", ROOT, "fay@example.com").await;
    let group = app.group("default", ROOT, "Team", &[]).await;
    app.post(&format!("{T}/groups/{group}/members"), ROOT, json!({"userId": fay, "role": "manager"})).await.ok(201);
    let inv = app.post(&format!("{T}/users/{fay}/invitations"), ROOT, json!({})).await.ok(201).clone();
    let link = inv["path"].as_str().unwrap().to_owned();
    assert!(link.starts_with("/t/default/login/invitation/cohort_invite_"), "{link}");
    assert!(
        !app.get(&format!("{T}/audit?limit=50"), ROOT).await.body.to_string().contains(&link[28..]),
        "the secret is not audited"
    );

    let page = app.console(Method::GET, &link, None, None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("fay@example.com"));
    // Too short, too common, or two that differ: refused beside the field, nothing set.
    for (bad, why) in [("short", "at least 12"), ("password1234", "too common"), ("fay@example.com", "email")] {
        let p = set_password(&app, &link, bad).await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(p.html.contains(why), "{bad}: {}", p.html);
    }
    let differ = form(&[("password", "a long enough passphrase"), ("again", "another long passphrase")]);
    let p = app.console(Method::POST, &link, None, HERE, Some(&differ)).await;
    assert!(p.html.contains("differ"));
    // From another origin: refused.
    let p = app
        .console(
            Method::POST,
            &link,
            None,
            Some("https://evil.example"),
            Some(&form(&[("password", "x"), ("again", "x")])),
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);

    let set = set_password(&app, &link, "correct horse staple battery").await;
    assert_eq!((set.status, set.location.as_str()), (StatusCode::SEE_OTHER, "/t/default/login?ended=password-set"));
    // The invitation works once.
    assert_eq!(set_password(&app, &link, "another good passphrase").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.console(Method::GET, &link, None, None, None).await.status, StatusCode::NOT_FOUND);

    // Only the Argon2id hash is kept.
    let mut r = app.store.read().await.unwrap();
    let tenant = r.tenant_by_slug("default").await.unwrap().unwrap();
    let hash = r.password_hash(&tenant.id, &cohort_core::UserId::parse(&fay).unwrap()).await.unwrap().unwrap();
    drop(r);
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$") && !hash.contains("horse"), "{hash}");

    let wrong = sign_in(&app, "fay@example.com", "correct horse staple batter").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let nobody = sign_in(&app, "nobody@example.com", "correct horse staple battery").await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.html.contains("do not sign in here"), nobody.html.contains("do not sign in here"), "alike");
    let ok = sign_in(&app, "FAY@example.com", "correct horse staple battery").await;
    assert_eq!((ok.status, ok.location.as_str()), (StatusCode::SEE_OTHER, GROUPS));
    let session = ok.cookie.unwrap();
    let page = app.console(Method::GET, GROUPS, Some(&session), None, None).await;
    assert!(page.html.contains("Team"), "a manager sees their group");
    let signed_out = app
        .console(Method::POST, "/t/default/sign-out", Some(&session), HERE, Some(&form(&[("csrf", &page.csrf())])))
        .await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);

    let created = audited(&app, "session.create").await;
    assert!(created.iter().any(|e| e["after"]["method"] == "password"), "{created:?}");
    let refused = audited(&app, "session.create.refused").await;
    assert!(refused.iter().filter(|e| e.to_string().contains("password")).count() >= 2, "{refused:?}");
    let ended = audited(&app, "session.delete").await;
    assert_eq!(ended[0]["before"]["method"], "password");

    // A new invitation is a reset: the old password still works until the new one is set.
    let again = app.post(&format!("{T}/users/{fay}/invitations"), ROOT, json!({})).await.ok(201)["path"]
        .as_str()
        .unwrap()
        .to_owned();
    set_password(&app, &again, "a brand new passphrase here").await;
    assert_eq!(sign_in(&app, "fay@example.com", "correct horse staple battery").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(sign_in(&app, "fay@example.com", "a brand new passphrase here").await.status, StatusCode::SEE_OTHER);
    // Suspended: refused.
    app.patch(&format!("{T}/users/{fay}"), ROOT, json!({"status": "suspended"})).await.ok(200);
    assert_eq!(sign_in(&app, "fay@example.com", "a brand new passphrase here").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_invitation_is_issued_by_its_user_or_an_admin_and_expires() {
    let app = TestApp::new().await;
    let gus = app.user("default", ROOT, "gus@example.com").await;
    let other = app.user("default", ROOT, "other@example.com").await;
    let keeper = app.role("default", ROOT, "Keeper", &["cohort:tokens.manage", "cohort:users.write"]).await;
    app.post(&format!("{T}/users/{gus}/roles"), ROOT, json!({"roleId": keeper})).await.ok(201);
    let token = app.token_for("default", ROOT, &gus).await;
    // For someone else: only an admin, and the refusal is audited.
    let a = app.post(&format!("{T}/users/{other}/invitations"), &token, json!({})).await;
    a.problem(403);
    assert!(a.body["detail"].as_str().unwrap().contains("cohort:admin"));
    assert_eq!(audited(&app, "invitation.create.refused").await.len(), 1);
    // For themself: yes.
    let own = app.post(&format!("{T}/users/{gus}/invitations"), &token, json!({})).await.ok(201)["path"]
        .as_str()
        .unwrap()
        .to_owned();
    // After 72 hours it no longer works.
    app.clock.advance(72 * 3_600_000 + 1);
    assert_eq!(app.console(Method::GET, &own, None, None, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(set_password(&app, &own, "a long enough passphrase").await.status, StatusCode::NOT_FOUND);
    // Another tenant's users are not found.
    let acme = app.tenant("acme").await;
    let theirs = app.user("acme", &acme, "them@acme.test").await;
    app.post(&format!("{T}/users/{theirs}/invitations"), ROOT, json!({})).await.problem(404);
}

#[tokio::test]
async fn failed_password_sign_ins_are_limited_per_account() {
    let app = TestApp::new().await;
    let hal = app.user("default", ROOT, "hal@example.com").await;
    let link = app.post(&format!("{T}/users/{hal}/invitations"), ROOT, json!({})).await.ok(201)["path"]
        .as_str()
        .unwrap()
        .to_owned();
    set_password(&app, &link, "hal's long passphrase").await;
    for _ in 0..10 {
        assert_eq!(sign_in(&app, "hal@example.com", "not the passphrase").await.status, StatusCode::UNAUTHORIZED);
    }
    // The account (and the address) now wait, even with the right password.
    let limited = sign_in(&app, "hal@example.com", "hal's long passphrase").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance(5 * 60_000 + 1);
    assert_eq!(sign_in(&app, "hal@example.com", "hal's long passphrase").await.status, StatusCode::SEE_OTHER);
}
