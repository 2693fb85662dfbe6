//! A real OpenID provider for the sign-in tests (`tests/oidc/provider.mjs`, npm's
//! `oidc-provider`), and a browser's trip through it.

use super::{Answer, Page, ROOT, TestApp};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Where the in-process app says it lives (the host its test requests carry).
const CALLBACK: &str = "http://cohort.test/t/default/login/sso/callback";

/// The provider, killed when dropped.
pub struct Idp {
    child: Child,
    pub issuer: String,
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Idp {
    pub fn start() -> Self {
        let modules = std::env::var("COHORT_NODE_MODULES").expect(
            "COHORT_NODE_MODULES must name the node_modules holding oidc-provider (scripts/test.sh installs it)",
        );
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/oidc/provider.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .arg(CALLBACK)
            .env("COHORT_NODE_MODULES", modules)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs the test provider");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        // Keep reading what it prints, so that it never writes to a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let issuer =
            line.trim().strip_prefix("listening ").unwrap_or_else(|| panic!("provider said {line:?}")).to_owned();
        Self { child, issuer }
    }

    pub fn control(&self, path: &str, body: Value) -> Value {
        let r = ureq::post(&format!("{}{path}", self.issuer))
            .set("Content-Type", "application/json")
            .send_string(&body.to_string())
            .unwrap();
        serde_json::from_str(&r.into_string().unwrap()).unwrap()
    }

    pub fn account(&self, sub: &str, email: &str, groups: &[&str]) {
        self.control(
            "/test/account",
            json!({"sub": sub, "email": email, "email_verified": true, "name": format!("Person {sub}"),
                   "preferred_username": sub, "groups": groups}),
        );
    }
}

/// Sets the tenant's provider up through the REST API.
pub async fn set_up(app: &TestApp, idp: &Idp, extra: Value) -> Answer {
    let mut body = json!({"issuer": idp.issuer, "clientId": "cohort", "clientSecret": "cohort-test-secret",
        "scopes": ["openid", "email", "profile", "groups"], "createUsers": true,
        "directoryUrl": idp.issuer});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.call(Method::PUT, "/t/default/api/v1/identity-provider", Some(ROOT), Some(body)).await
}

/// A browser's trip through the provider: from cohort's `/login/sso` (with `next`, when given)
/// to the provider and back, keeping the provider's cookies, as `sub`. Returns cohort's answer
/// to the callback and the callback's path (to replay it).
pub async fn sign_in(app: &TestApp, idp: &Idp, sub: &str, next: Option<&str>) -> (Page, String) {
    idp.control("/test/login", json!({"sub": sub}));
    let start = match next {
        Some(n) => format!(
            "/t/default/login/sso?next={}",
            serde_html_form::to_string([("", n)]).unwrap().trim_start_matches('=')
        ),
        None => "/t/default/login/sso".to_owned(),
    };
    let begun = app.console(Method::GET, &start, None, None, None).await;
    assert_eq!(begun.status, StatusCode::SEE_OTHER, "{}", begun.html);
    let mut url = begun.location.clone();
    assert!(url.starts_with(&idp.issuer), "off to the provider: {url}");
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let mut jar: BTreeMap<String, String> = BTreeMap::new();
    for _ in 0..20 {
        let cookies: Vec<String> = jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let r = match agent.get(&url).set("Cookie", &cookies.join("; ")).call() {
            Ok(r) => r,
            Err(ureq::Error::Status(code, r)) => panic!("the provider answered {code}: {}", r.into_string().unwrap()),
            Err(e) => panic!("{e}"),
        };
        for c in r.all("set-cookie") {
            let pair = c.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() {
                jar.remove(k)
            } else {
                jar.insert(k.to_owned(), v.to_owned())
            };
        }
        let location = r.header("location").unwrap_or_else(|| panic!("the provider stopped at {url}")).to_owned();
        url = if location.starts_with('/') { format!("{}{location}", idp.issuer) } else { location };
        if let Some(path) = url.strip_prefix("http://cohort.test") {
            let path = path.to_owned();
            return (app.console(Method::GET, &path, None, None, None).await, path);
        }
    }
    panic!("the provider never sent the browser back");
}
