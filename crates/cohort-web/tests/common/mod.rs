//! The test harness: a real store on the backend named by `COHORT_TEST_BACKEND` (`sqlite`,
//! the default, or `postgres`, which needs `COHORT_TEST_PG_URL` and fails without it), the
//! real router driven in-process, and a clock tests can move.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use cohort_core::{Clock, Timestamp};
use cohort_service::Bootstrap;
use cohort_service::runtime::RandomIds;
use cohort_service::{Config, Services};
use cohort_store::Store;
use cohort_web::{app, rest};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use tower::ServiceExt;

pub mod oidc;

/// The bootstrap token of every test server.
pub const ROOT: &str = "cohort_test_root_token_0123456789abcdef";

/// A clock that follows the system clock plus an offset tests can move.
#[derive(Default)]
pub struct TestClock(AtomicI64);

impl TestClock {
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        Timestamp(cohort_service::runtime::SystemClock.now().millis() + self.0.load(Ordering::SeqCst))
    }
}

/// One answer.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The `cohort-revision` header.
    pub fn revision(&self) -> i64 {
        self.headers.get(rest::REVISION_HEADER).unwrap().to_str().unwrap().parse().unwrap()
    }

    /// Asserts a problem+json answer with this status.
    pub fn problem(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "{:#}", self.body);
        assert_eq!(self.headers.get("content-type").unwrap(), "application/problem+json", "{:#}", self.body);
        assert_eq!(self.body["status"], status);
        assert!(self.body["type"].as_str().unwrap().starts_with("https://cohort.dev/problems/"));
        self
    }

    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{:#}", self.body);
        &self.body
    }

    pub fn id(&self) -> String {
        self.body["id"].as_str().unwrap().to_owned()
    }
}

/// One console answer.
pub struct Page {
    pub status: StatusCode,
    pub location: String,
    pub cookie: Option<String>,
    pub headers: HeaderMap,
    pub html: String,
}

impl Page {
    /// The CSRF token the page's forms carry.
    pub fn csrf(&self) -> String {
        let at = self.html.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
        self.html[at..].split('"').next().unwrap().to_owned()
    }

    /// The revision a confirmation page counted at, which its form posts back.
    pub fn revision(&self) -> i64 {
        let at = self.html.find("name=\"revision\" value=\"").expect("a confirmation page") + 23;
        self.html[at..].split('"').next().unwrap().parse().unwrap()
    }
}

/// A running application with the `default` tenant bootstrapped.
pub struct TestApp {
    pub services: Arc<Services>,
    pub router: Router,
    pub clock: Arc<TestClock>,
    pub store: Store,
    _db: cohort_store::testing::TestDatabase,
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_config(Config::default()).await
    }

    pub async fn with_config(config: Config) -> Self {
        let db = cohort_store::testing::fresh_database().await.unwrap();
        let store = Store::connect(&db.url).await.unwrap();
        let clock = Arc::new(TestClock::default());
        let services = Arc::new(Services::new(store.clone(), clock.clone(), Arc::new(RandomIds), config));
        assert!(matches!(services.bootstrap(Some(ROOT.to_owned())).await.unwrap(), Bootstrap::Created(_)));
        let router = app::router(services.clone());
        Self { services, router, clock, store, _db: db }
    }

    /// Sends a request; `body` is JSON unless it is a string (sent raw).
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        self.call_as("application/json", method, path, token, body).await
    }

    /// Sends a SCIM request (`application/scim+json`), as identity providers do.
    pub async fn scim(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Answer {
        self.call_as("application/scim+json", method, path, Some(token), body).await
    }

    /// A SCIM token of `tenant`, made by its admin.
    pub async fn scim_token(&self, tenant: &str, admin: &str) -> String {
        let a = self.post(&format!("/t/{tenant}/api/v1/tokens"), admin, json!({"name": "idp", "scope": "scim"})).await;
        a.ok(201)["secret"].as_str().unwrap().to_owned()
    }

    async fn call_as(
        &self,
        content_type: &str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let body = match body {
            Some(Value::String(raw)) => {
                req = req.header("content-type", content_type);
                Body::from(raw)
            }
            Some(v) => {
                req = req.header("content-type", content_type);
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let res = self.router.clone().oneshot(req.body(body).unwrap()).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Answer { status, headers, body }
    }

    /// Sends a console request from `http://cohort.test` (a form when `form` is given).
    pub async fn console(
        &self,
        method: Method,
        path: &str,
        cookie: Option<&str>,
        origin: Option<&str>,
        form: Option<&str>,
    ) -> Page {
        let body = form.map(|f| ("application/x-www-form-urlencoded", f.to_owned()));
        self.console_body(method, path, cookie, origin, body).await
    }

    /// Sends a console request with a body of this content type.
    pub async fn console_body(
        &self,
        method: Method,
        path: &str,
        cookie: Option<&str>,
        origin: Option<&str>,
        body: Option<(&str, String)>,
    ) -> Page {
        let mut req = Request::builder().method(method).uri(path).header("host", "cohort.test");
        if let Some(c) = cookie {
            req = req.header("cookie", format!("cohort_session={c}"));
        }
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let body = match body {
            Some((content_type, b)) => {
                req = req.header("content-type", content_type);
                Body::from(b)
            }
            None => Body::empty(),
        };
        let res = self.router.clone().oneshot(req.body(body).unwrap()).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let location = headers.get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        let cookie = headers
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().to_owned())
            .and_then(|c| c.strip_prefix("cohort_session=").map(|r| r.split(';').next().unwrap().to_owned()));
        let html = String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
        Page { status, location, cookie, headers, html }
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None).await
    }
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }
    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, Some(token), Some(body)).await
    }
    pub async fn delete(&self, path: &str, token: &str) -> Answer {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Creates a tenant and returns its admin token.
    pub async fn tenant(&self, slug: &str) -> String {
        let a = self
            .post(
                "/api/v1/tenants",
                ROOT,
                json!({"slug": slug, "name": slug, "adminEmail": format!("admin@{slug}.test")}),
            )
            .await;
        a.ok(201)["adminToken"].as_str().unwrap().to_owned()
    }

    /// Creates a user in `tenant` and returns its id.
    pub async fn user(&self, tenant: &str, token: &str, email: &str) -> String {
        self.post(&format!("/t/{tenant}/api/v1/users"), token, json!({"email": email})).await.ok(201)["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Creates a group and returns its id.
    pub async fn group(&self, tenant: &str, token: &str, name: &str, parents: &[&str]) -> String {
        let a =
            self.post(&format!("/t/{tenant}/api/v1/groups"), token, json!({"name": name, "parentIds": parents})).await;
        a.ok(201)["id"].as_str().unwrap().to_owned()
    }

    /// Creates a role and returns its id.
    pub async fn role(&self, tenant: &str, token: &str, name: &str, perms: &[&str]) -> String {
        let a =
            self.post(&format!("/t/{tenant}/api/v1/roles"), token, json!({"name": name, "permissions": perms})).await;
        a.ok(201)["id"].as_str().unwrap().to_owned()
    }

    /// A token acting as `user`, made by an admin.
    pub async fn token_for(&self, tenant: &str, admin: &str, user: &str) -> String {
        let a = self.post(&format!("/t/{tenant}/api/v1/tokens"), admin, json!({"name": "test", "userId": user})).await;
        a.ok(201)["secret"].as_str().unwrap().to_owned()
    }

    /// The built-in role with this name.
    pub async fn builtin(&self, tenant: &str, token: &str, name: &str) -> String {
        let a = self.get(&format!("/t/{tenant}/api/v1/roles?q={name}"), token).await;
        let items = a.ok(200)["items"].as_array().unwrap().clone();
        items.iter().find(|r| r["name"] == name).unwrap()["id"].as_str().unwrap().to_owned()
    }

    /// The live view of every tenant equals what the database says, and its index answers
    /// every check as an index built from scratch does.
    pub async fn assert_consistent(&self) {
        let mut r = self.store.read().await.unwrap();
        let now = Clock::now(self.clock.as_ref());
        for t in r.list_tenants().await.unwrap() {
            let fresh = r.load_state(&t.id).await.unwrap();
            let live = self.services.live(&t.id).await.unwrap();
            assert_eq!(live.revision, r.revision(&t.id).await.unwrap(), "live revision of {}", t.slug);
            assert_eq!(live.state.canonical(), fresh.canonical(), "live state of {}", t.slug);
            let rebuilt = cohort_core::index::AccessIndex::build(&fresh, now);
            let users: Vec<_> = fresh.user_ids().cloned().collect();
            let perms: Vec<String> = ["cohort:groups.read", "cohort:admin", "agents:use", "reports:view", "x:y", "a:b"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            for u in &users {
                for p in &perms {
                    let reference = cohort_core::resolve::check_permission(&fresh, u, p, now).allowed;
                    for (which, verdict) in [
                        ("live", live.index.check_permission(&live.state, u, p, now)),
                        ("rebuilt", rebuilt.check_permission(&fresh, u, p, now)),
                    ] {
                        if verdict != cohort_core::index::Verdict::Stale {
                            assert_eq!(verdict.allowed(), reference, "{which} index: {p} for {u} in {}", t.slug);
                        }
                    }
                }
            }
        }
    }

    /// Every row of every table, so a test can prove nothing changed.
    pub async fn fingerprint(&self) -> Vec<String> {
        self.rows(true).await
    }

    /// Every row of every table but the audit log (and the revisions, which a refused attempt,
    /// audited in a change of its own, moves), so a test can prove a refusal changed nothing.
    pub async fn data(&self) -> Vec<String> {
        self.rows(false).await
    }

    /// How many refused attempts the audit log of `default` records.
    pub async fn refused_attempts(&self) -> usize {
        let mut r = self.store.read().await.unwrap();
        let t = r.tenant_by_slug("default").await.unwrap().unwrap();
        let all = cohort_store::AuditFilter { limit: 1_000_000, ..Default::default() };
        r.list_audit(&t.id, &all).await.unwrap().iter().filter(|e| e.event.action.ends_with(".refused")).count()
    }

    async fn rows(&self, audit: bool) -> Vec<String> {
        let mut out = Vec::new();
        let mut r = self.store.read().await.unwrap();
        for t in r.list_tenants().await.unwrap() {
            let s = r.load_state(&t.id).await.unwrap();
            out.push(format!("{s:?}").len().to_string());
            out.push(format!("{:?}", (&t.user_types, &t.time_zone)));
            if audit {
                out.push(format!("{}@{}", t.slug, t.revision));
                let filter = cohort_store::AuditFilter { limit: 100_000, ..Default::default() };
                out.push(r.list_audit(&t.id, &filter).await.unwrap().len().to_string());
            }
            let users =
                r.list_users(&t.id, &cohort_store::UserFilter { limit: 100_000, ..Default::default() }).await.unwrap();
            out.push(format!("{users:?}"));
            let groups = r
                .list_groups(&t.id, &cohort_store::GroupFilter { limit: 100_000, ..Default::default() }, Timestamp(0))
                .await
                .unwrap();
            out.push(format!("{groups:?}"));
            out.push(format!("{:?}", r.list_roles(&t.id, None, None, 100_000).await.unwrap()));
            out.push(format!("{:?}", r.list_rules(&t.id, None).await.unwrap()));
            out.push(format!(
                "{:?}",
                r.list_tokens(&t.id, None).await.unwrap().iter().map(|t| t.id.clone()).collect::<Vec<_>>()
            ));
        }
        out
    }
}
