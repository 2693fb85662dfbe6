//! The console in a real browser: Debian's Chromium, driven through chromedriver (WebDriver),
//! against a real `cohort serve` on the backend of the run. It walks the workflows of the
//! product documents, runs axe-core on every page it visits (no serious or critical
//! violation), and saves a screenshot of each main page under `target/console-screenshots/`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "common/webdriver.rs"]
mod webdriver;

use common::{Server, request, start};
use serde_json::{Value, json};
use std::path::PathBuf;
use webdriver::Browser;

const ROOT: &str = "cohort_browser_root_token_0123456789abcd";
const API: &str = "/t/default/api/v1";

fn target() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target")
}

/// axe-core's source, which the test command installs from npm.
fn axe_source() -> String {
    let path = std::env::var("COHORT_AXE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| target().join("browser-tools/node_modules/axe-core/axe.min.js"));
    std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!("the browser tests need axe-core at {}: run them through scripts/test.sh", path.display())
    })
}

struct Walk {
    server: Server,
    browser: Browser,
    axe: String,
    shots: PathBuf,
    backend: String,
    visited: usize,
}

impl Walk {
    fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let a = request(&self.server.base, method, &format!("{API}{path}"), ROOT, body.as_ref());
        (a.status, if a.body.is_empty() { Value::Null } else { a.json() })
    }

    fn made(&self, path: &str, body: Value) -> String {
        let (status, v) = self.api("POST", path, Some(body));
        assert_eq!(status, 201, "{path}: {v}");
        v["id"].as_str().unwrap().to_owned()
    }

    fn go(&self, path: &str) {
        self.browser.goto(&format!("{}{path}", self.server.base));
    }

    /// The page is checked by axe-core, and saved as `name` when it is a main page.
    fn check(&mut self, name: Option<&str>) {
        let found = self.browser.axe(&self.axe);
        assert!(found.is_empty(), "axe-core on {}:\n{}", self.browser.current(), found.join("\n"));
        self.visited += 1;
        if let Some(n) = name {
            self.browser.screenshot(&self.shots.join(format!("{}-{n}.png", self.backend)));
        }
    }

    fn body(&self) -> String {
        self.browser.text()
    }

    fn sign_in(&mut self, token: &str) {
        self.go("/t/default/login");
        self.browser.fill("#token", token);
        self.browser.click("form[action$='/login/token'] button[type=submit]");
        assert!(self.browser.current().ends_with("/portal/access-management/groups"), "{}", self.body());
    }

    fn sign_out(&self) {
        self.browser.click("form.signout button");
        assert!(self.body().contains("You are signed out."), "{}", self.body());
    }
}

#[tokio::test]
async fn an_administrator_walks_the_console_workflows() {
    let db = cohort_store::testing::fresh_database().await.unwrap();
    let dir = std::env::temp_dir().join(format!("cohort-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let shots = target().join("console-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let server = start(&dir, &db.url, Some(ROOT));
    let mut w = Walk {
        server,
        browser: Browser::start(1280),
        axe: axe_source(),
        shots,
        backend: cohort_store::testing::backend(),
        visited: 0,
    };

    // What the walk starts from, made through the API.
    let exporter = w.made("/roles", json!({ "name": "Exporter", "permissions": ["reports.export"] }));
    let emea = w.made("/groups", json!({ "name": "EMEA" }));
    w.api("POST", &format!("/groups/{emea}/roles"), Some(json!({ "roleId": exporter })));
    let support = w.made("/groups", json!({ "name": "Support" }));
    let alpha = w.made("/groups", json!({ "name": "Alpha" }));
    let beta = w.made("/groups", json!({ "name": "Beta" }));
    let hostile = ["<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>"];
    for name in hostile {
        w.made("/groups", json!({ "name": name }));
    }
    let ana = w.made("/users", json!({ "email": "ana@example.com", "displayName": "Ana" }));
    for email in ["bo@example.com", "cy@example.com", "dee@example.com", "eve@support.example.com"] {
        w.made("/users", json!({ "email": email }));
    }

    // Sign in.
    w.go("/t/default/portal/access-management/groups");
    assert!(w.browser.current().contains("/login"), "signed out, the console asks to sign in");
    w.check(Some("sign-in"));
    w.sign_in(ROOT);
    w.check(Some("groups"));

    // The two hostile names show as text, and run nothing.
    let body = w.body();
    assert!(hostile.iter().all(|n| body.contains(n)), "{body}");
    assert_eq!(w.browser.run("return document.querySelectorAll('main img, main script').length"), json!(0));

    // Create a group with a parent and two first members.
    w.browser.click("a[href$='/groups/new']");
    w.check(Some("create-group"));
    w.browser.fill("#name", "France");
    w.browser.fill("#parents", "emea");
    w.browser.fill("#members", "ana@example.com\nbo@example.com");
    w.browser.click("form.stack button[type=submit]");
    let body = w.body();
    assert!(body.contains("The group was created.") && body.contains("2 members"), "{body}");
    assert!(body.contains("ana@example.com") && body.contains("bo@example.com"), "{body}");
    let france = w.browser.current().rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    let (_, parents) = w.api("GET", &format!("/groups/{france}"), None);
    assert_eq!(parents["parentIds"], json!([emea]), "{parents}");

    // The nesting as a tree: EMEA opens onto France in place, loaded on demand.
    w.go("/t/default/portal/access-management/groups/tree");
    assert!(!w.body().contains("France"), "{}", w.body());
    w.browser.tick(&format!("a[data-children][href$='parent={emea}']"));
    w.browser.wait_until("return document.querySelector('ul.tree ul.tree')?.innerText.includes('France') === true");
    assert!(w.browser.current().ends_with("/groups/tree"), "the children open in place");
    w.check(Some("tree"));
    // Found in the tree by name, where it sits; its page says the same.
    w.browser.fill("#tree-q", "fran");
    w.browser.click("form[role=search] button[type=submit]");
    assert!(w.body().contains("EMEA › France"), "{}", w.body());
    w.check(Some("tree-search"));
    w.go(&format!("/t/default/portal/access-management/groups/{france}"));
    assert!(w.body().contains("EMEA › France") && w.body().contains("No child groups."), "{}", w.body());
    // Its parents change on Settings, asked first; a cycle is refused beside the field.
    w.go(&format!("/t/default/portal/access-management/groups/{emea}/settings"));
    w.browser.fill("#parents", "france");
    w.browser.click("form[action$='/parents'] button[type=submit]");
    assert!(w.body().contains("cycle"), "{}", w.body());
    assert_eq!(
        w.browser.run("return document.getElementById('parents').getAttribute('aria-describedby')"),
        json!("parents-hint parents-error")
    );
    w.check(Some("parents-cycle"));
    w.go(&format!("/t/default/portal/access-management/groups/{france}/settings"));
    w.browser.fill("#parents", "emea, beta");
    w.browser.click("form[action$='/parents'] button[type=submit]");
    assert!(
        w.body().contains("Change the parents of France?") && w.body().contains("inherit what Beta confers."),
        "{}",
        w.body()
    );
    w.check(Some("confirm-parents"));
    w.browser.click("form.actions button[type=submit]");
    assert!(w.body().contains("The parent groups were changed."), "{}", w.body());
    assert_eq!(w.api("GET", &format!("/groups/{france}"), None).1["parentIds"].as_array().unwrap().len(), 2);
    w.go(&format!("/t/default/portal/access-management/groups/{france}"));
    // Its members are searched and sorted by the store.
    w.browser.fill("#members-q", "bo@");
    w.browser.run("document.getElementById('members-sort').value = 'name'");
    w.browser.click("form[role=search] button[type=submit]");
    assert!(w.body().contains("1 row matches.") && w.body().contains("bo@example.com"), "{}", w.body());
    assert!(!w.body().contains("ana@example.com"), "{}", w.body());
    w.check(Some("members-search"));
    // A large group pages back and forth, and several rows go at once after one question.
    let crowd = w.made("/groups", json!({ "name": "Crowd" }));
    for n in 0..52 {
        w.made("/users", json!({ "email": format!("c{n:02}@example.com"), "groupIds": [crowd] }));
    }
    w.go(&format!("/t/default/portal/access-management/groups/{crowd}"));
    assert!(w.body().contains("52 rows in all.") && !w.body().contains("c51@example.com"), "{}", w.body());
    w.browser.click("a[rel=next]");
    assert!(w.body().contains("c51@example.com") && !w.body().contains("c00@example.com"), "{}", w.body());
    w.browser.click("a[rel=prev]");
    assert!(w.body().contains("c00@example.com"), "{}", w.body());
    w.browser.tick("input[aria-label^='Select c00@example.com']");
    w.browser.tick("input[aria-label^='Select c01@example.com']");
    w.browser.click("#remove-several button[type=submit]");
    assert!(w.body().contains("Remove 2 members from Crowd?"), "{}", w.body());
    w.check(Some("confirm-remove-several"));
    w.browser.click("form.actions button[type=submit]");
    assert!(w.body().contains("The members were removed.") && w.body().contains("50 rows in all."), "{}", w.body());
    w.check(None);
    w.go(&format!("/t/default/portal/access-management/groups/{france}"));
    // A row is edited in place.
    w.browser.tick("details.edit summary");
    w.browser.run("const f = document.querySelector('details.edit form'); f.querySelector('input[name=reason]').value = 'covers Q1'");
    w.browser.click("details.edit form button[type=submit]");
    assert!(w.body().contains("The membership was changed.") && w.body().contains("covers Q1"), "{}", w.body());
    w.check(None);
    w.go(&format!("/t/default/portal/access-management/groups/{france}"));

    // The member picker suggests people as one types.
    w.browser.fill("#email", "dee");
    w.browser.wait_until(
        "return [...document.querySelectorAll('#email-options option')].some(o => o.value === 'dee@example.com')",
    );

    // Add a member with an expiry.
    w.browser.fill("#email", "cy@example.com");
    w.browser.run("document.getElementById('expires').value = '2100-01-01T00:00'");
    w.browser.fill("#reason", "cover for Q1");
    w.browser.click("form[action$='/members'] button[type=submit]");
    let body = w.body();
    assert!(body.contains("The member was added.") && body.contains("days left"), "{body}");
    w.check(Some("group-members"));

    // Import a CSV: the preview, then the confirmation.
    w.browser.click("nav.tabs a[href$='/import']");
    w.check(Some("group-import"));
    let csv = dir.join("members.csv");
    std::fs::write(&csv, "email,role\ndee@example.com,member\nnobody@example.com,member\nana@example.com,member\n")
        .unwrap();
    w.browser.attach("#file", &csv);
    w.browser.click("form[action$='/import'] button[type=submit]");
    let body = w.body();
    assert!(body.contains("1 to add") && body.contains("Nothing has changed yet."), "{body}");
    w.check(Some("import-preview"));
    let (_, before) = w.api("GET", &format!("/groups/{france}/members"), None);
    assert_eq!(before["items"].as_array().unwrap().len(), 3, "a preview changes nothing");
    w.browser.click("form[action$='/confirm'] button[type=submit]");
    let body = w.body();
    assert!(body.contains("The import was applied") && body.contains("dee@example.com"), "{body}");

    // Save a rule: its preview says who joins; confirming applies it.
    w.go(&format!("/t/default/portal/access-management/groups/{support}/rules"));
    w.browser.fill("#expression", "email.endsWith('@support.example.com')");
    w.browser.click("form[action$='/rules/preview'] button[type=submit]");
    let body = w.body();
    assert!(body.contains("Added (1)") && body.contains("eve@support.example.com"), "{body}");
    w.check(Some("rule-preview"));
    w.browser.click("form[action$='/rules/save'] button[type=submit]");
    assert!(w.body().contains("The rule was saved and applied."), "{}", w.body());
    w.check(Some("group-rules"));
    let (_, members) = w.api("GET", &format!("/groups/{support}/members"), None);
    assert_eq!(members["items"][0]["source"], "rule", "{members}");

    // Select two groups and archive them, after the confirmation page.
    w.go("/t/default/portal/access-management/groups");
    w.browser.tick(&format!("input[name=groups][value='{alpha}']"));
    w.browser.tick(&format!("input[name=groups][value='{beta}']"));
    w.browser.run("document.getElementById('batch-action').value = 'archive'");
    w.browser.click("form#batch button[type=submit]");
    let body = w.body();
    assert!(body.contains("Edit 2 groups?") && body.contains("Alpha") && body.contains("Beta"), "{body}");
    w.check(Some("batch-confirm"));
    w.browser.click("form[action$='/batch/apply'] button[type=submit]");
    assert!(w.body().contains("The change was applied to every selected group."), "{}", w.body());
    for g in [&alpha, &beta] {
        assert_eq!(w.api("GET", &format!("/groups/{g}"), None).1["status"], "archived");
    }

    // The Why? page: allowed through France ← EMEA; after France is deleted, denied.
    let why = "/t/default/portal/access-management/why?user=ana%40example.com&permission=reports.export".to_owned();
    w.go(&why);
    let body = w.body();
    assert!(body.contains("Allowed") && body.contains("France") && body.contains("EMEA"), "{body}");
    w.check(Some("why"));
    w.go(&format!("/t/default/portal/access-management/groups/{france}/settings"));
    w.check(Some("group-settings"));
    w.browser.click("a[href$='/delete']");
    let body = w.body();
    assert!(body.contains("Delete France?") && body.contains("4 users"), "{body}");
    w.check(Some("delete-confirm"));
    w.browser.click("form[action$='/delete'] button[type=submit]");
    assert!(w.body().contains("The group was deleted."), "{}", w.body());
    w.go(&why);
    let body = w.body();
    assert!(body.contains("Denied") && !body.contains("Allowed"), "{body}");
    let (_, access) = w.api("POST", "/check", Some(json!({ "userId": ana, "permission": "reports.export" })));
    assert_eq!(access["allowed"], false, "{access}");

    // A group's Roles, Resources and Scopes tabs.
    let bot = w.made("/resources", json!({ "type": "agent", "name": "Pricing bot" }));
    w.go(&format!("/t/default/portal/access-management/groups/{emea}/roles"));
    assert!(w.body().contains("Exporter") && w.body().contains("reports.export"), "{}", w.body());
    w.check(Some("group-roles"));
    w.browser.click("nav.tabs a[href$='/resources']");
    w.browser.run(&format!("document.getElementById('resource-agent').value = '{bot}'; document.getElementById('level-agent').value = 'use'"));
    w.browser.click("form[action$='/resources'] button[type=submit]");
    assert!(w.body().contains("The level was granted.") && w.body().contains("use (also view)"), "{}", w.body());
    w.check(Some("group-resources"));
    w.browser.click("nav.tabs a[href$='/scopes']");
    w.browser.fill("#scopes", "country: France, Belgium");
    w.browser.click("form[action$='/scopes'] button[type=submit]");
    assert!(w.body().contains("The scopes were saved."), "{}", w.body());
    w.check(Some("group-scopes"));
    assert_eq!(
        w.api("GET", &format!("/groups/{emea}/scopes"), None).1["scopes"]["country"],
        json!(["Belgium", "France"])
    );

    // Nothing that confers is preselected; the admin role is given only after a question that
    // counts whom it reaches; removing it and revoking a level are asked too.
    w.api("POST", &format!("/groups/{emea}/members"), Some(json!({ "userId": ana })));
    w.go(&format!("/t/default/portal/access-management/groups/{emea}/roles"));
    assert_eq!(w.browser.run("return document.getElementById('role').selectedOptions[0].text"), json!("Choose…"));
    w.browser.run(
        "const s = document.getElementById('role'); s.value = [...s.options].find(o => o.text.startsWith('admin')).value",
    );
    w.browser.click("form[action$='/roles'] button[type=submit]");
    let body = w.body();
    assert!(body.contains("Give EMEA the role admin?") && body.contains("manages cohort itself"), "{body}");
    assert!(body.contains("1 user in EMEA and its child groups would hold it"), "{body}");
    w.check(Some("confirm-role"));
    assert_eq!(
        w.api("POST", "/check", Some(json!({ "userId": ana, "permission": "cohort:groups.write" }))).1["allowed"],
        false
    );
    w.browser.click("form[action$='/roles'] button[type=submit]");
    assert!(w.body().contains("The role was assigned."), "{}", w.body());
    assert_eq!(
        w.api("POST", "/check", Some(json!({ "userId": ana, "permission": "cohort:groups.write" }))).1["allowed"],
        true
    );
    w.browser.click("form[action$='/remove'] button[aria-label='Remove the role admin']");
    assert!(w.body().contains("Remove the role admin from EMEA?"), "{}", w.body());
    w.check(Some("confirm-remove-role"));
    w.browser.click("form.actions button[type=submit]");
    assert!(w.body().contains("The role was removed."), "{}", w.body());
    assert_eq!(w.browser.run("return document.querySelector('p.notice').className"), json!("notice warning"));
    w.go(&format!("/t/default/portal/access-management/groups/{emea}/resources"));
    w.browser.click(&format!("form[action$='/resources/{bot}/revoke'] button"));
    assert!(w.body().contains("Revoke use on Pricing bot from EMEA?") && w.body().contains("1 user"), "{}", w.body());
    w.check(Some("confirm-revoke"));
    w.browser.click("form.actions button[type=submit]");
    assert!(w.body().contains("The level was revoked."), "{}", w.body());
    w.api("POST", &format!("/groups/{emea}/grants"), Some(json!({ "resourceId": bot, "level": "use" })));

    // The batch panel shows the chosen action's fields only, and levels of the resource's type.
    w.go("/t/default/portal/access-management/groups");
    let shown = |w: &Walk, id: &str| {
        w.browser.run(&format!("return getComputedStyle(document.getElementById('{id}').closest('.field')).display"))
            != json!("none")
    };
    assert!(!shown(&w, "batch-users") && !shown(&w, "batch-role") && !shown(&w, "batch-level"));
    w.browser.run(
        "const s = document.getElementById('batch-action'); s.value = 'grant'; s.dispatchEvent(new Event('change'))",
    );
    assert!(shown(&w, "batch-resource") && shown(&w, "batch-level") && !shown(&w, "batch-users"));
    w.browser.run(&format!(
        "const r = document.getElementById('batch-resource'); r.value = '{bot}'; r.dispatchEvent(new Event('change'))"
    ));
    let levels = w.browser.run("return [...document.querySelectorAll('#batch-level option[data-type]')].filter(o => !o.disabled).map(o => o.value)");
    assert_eq!(levels, json!(["view", "use", "edit"]));
    w.check(Some("batch-panel"));
    w.browser.click("form#batch button[type=submit]");
    assert!(w.body().contains("No group is ticked"), "{}", w.body());
    w.check(None);

    // Archiving is asked with its count, and the notice after it is a warning.
    let ops = w.made("/groups", json!({ "name": "Ops" }));
    w.api("POST", &format!("/groups/{ops}/members"), Some(json!({ "userId": ana })));
    w.go(&format!("/t/default/portal/access-management/groups/{ops}/settings"));
    w.browser.click("form[action$='/archive'] button[type=submit]");
    assert!(w.body().contains("Archive Ops?") && w.body().contains("1 user"), "{}", w.body());
    w.check(Some("confirm-archive"));
    w.browser.click("form.actions button[type=submit]");
    assert!(w.body().contains("The group was archived"), "{}", w.body());
    w.check(None);
    assert_eq!(w.api("GET", &format!("/groups/{ops}"), None).1["status"], "archived");

    // Users, a user's page with the paths of their access, and a token shown once.
    w.go("/t/default/portal/access-management/users");
    w.check(Some("users"));
    w.go(&format!("/t/default/portal/access-management/users/{ana}"));
    let body = w.body();
    assert!(body.contains("Pricing bot") && body.contains("Belgium") && body.contains("Exporter"), "{body}");
    assert!(body.contains("via EMEA (manual)") && !body.contains("grp_"), "{body}");
    w.check(Some("user"));
    w.browser.fill("#token-name", "ana's laptop");
    w.browser.click("form[action$='/tokens'] button[type=submit]");
    assert!(w.body().contains("shown only this once"), "{}", w.body());
    let secret = w.browser.run("return document.getElementById('secret').value");
    let me = request(&w.server.base, "GET", &format!("{API}/users/{ana}"), secret.as_str().unwrap(), None);
    assert_eq!(me.status, 200, "the new token works");
    w.check(Some("token-created"));
    for (path, name) in
        [("roles", "roles"), ("resources", "resources"), ("tokens", "tokens"), ("audit?action=group.", "audit")]
    {
        w.go(&format!("/t/default/portal/access-management/{path}"));
        w.check(Some(name));
    }
    // The audit log reads in sentences, in names: the group events only, as filtered.
    let body = w.body();
    assert!(
        body.contains("Administrator created the group EMEA") && body.contains("gave EMEA the role admin"),
        "{body}"
    );
    assert!(!body.contains("created the role") && !body.contains("grp_"), "{body}");

    // Times in the person's zone: the tenant's default on the settings page, their own on
    // their page, the zone said beside each time.
    w.go("/t/default/portal/access-management/sign-in");
    w.browser.run("document.getElementById('time-zone').value = 'Asia/Tokyo'");
    w.browser.click("form[action$='/sign-in/time-zone'] button[type=submit]");
    assert!(w.body().contains("The default time zone was saved."), "{}", w.body());
    w.check(Some("settings"));
    let me = w.api("GET", "/me", None).1["id"].as_str().unwrap().to_owned();
    w.go(&format!("/t/default/portal/access-management/users/{me}"));
    assert!(w.body().contains(" JST"), "the tenant's zone: {}", w.body());
    w.browser.run("document.getElementById('time-zone').value = 'Europe/Paris'");
    w.browser.click("#time-zone-section button[type=submit]");
    let body = w.body();
    assert!(body.contains("The time zone was saved") && !body.contains(" JST"), "{body}");
    assert!(body.contains(" CET") || body.contains(" CEST"), "{body}");
    w.check(Some("own-time-zone"));

    // Suspending a user is asked first, with the count, and told as a warning.
    let zed = w.made("/users", json!({ "email": "zed@example.com" }));
    w.go(&format!("/t/default/portal/access-management/users/{zed}"));
    w.browser.click("form[action$='/suspend'] button[type=submit]");
    assert!(
        w.body().contains("Suspend zed@example.com?") && w.body().contains("1 user would lose all access"),
        "{}",
        w.body()
    );
    w.check(Some("confirm-suspend"));
    w.browser.click("form.actions button[type=submit]");
    assert!(w.body().contains("The user was suspended"), "{}", w.body());
    w.check(None);
    assert_eq!(w.api("GET", &format!("/users/{zed}"), None).1["status"], "suspended");
    // Unsuspending and deleting are asked too.
    w.browser.click("form[action$='/unsuspend'] button[type=submit]");
    assert!(
        w.body().contains("Unsuspend zed@example.com?") && w.body().contains("1 user would get their access back"),
        "{}",
        w.body()
    );
    w.check(Some("confirm-unsuspend"));
    w.browser.click("form.actions button[type=submit]");
    assert!(w.body().contains("The user was unsuspended"), "{}", w.body());
    w.browser.click(&format!("form[action$='/users/{zed}/delete'] button[type=submit]"));
    assert!(w.body().contains("Delete zed@example.com?") && w.body().contains("cannot be undone"), "{}", w.body());
    w.check(Some("confirm-delete-user"));
    w.browser.click("form.actions button[type=submit]");
    assert!(w.body().contains("The user was deleted."), "{}", w.body());
    w.check(None);
    // Deleting a role and a resource, each from its page, after the question.
    let temp = w.made("/roles", json!({ "name": "Temp", "permissions": ["temp.read"] }));
    w.go("/t/default/portal/access-management/roles");
    w.browser.click(&format!("form[action$='/roles/{temp}/delete'] button[type=submit]"));
    assert!(w.body().contains("Delete the role Temp?"), "{}", w.body());
    w.check(Some("confirm-delete-role"));
    w.browser.click("form.actions button[type=submit]");
    assert!(w.body().contains("The role was deleted."), "{}", w.body());
    w.check(None);
    let old_bot = w.made("/resources", json!({ "type": "agent", "name": "Old bot" }));
    w.go(&format!("/t/default/portal/access-management/resources/{old_bot}"));
    w.browser.click(&format!("form[action$='/resources/{old_bot}/delete'] button[type=submit]"));
    assert!(w.body().contains("Delete Old bot?"), "{}", w.body());
    w.check(Some("confirm-delete-resource"));
    w.browser.click("form.actions button[type=submit]");
    assert!(w.body().contains("The resource was deleted"), "{}", w.body());
    w.check(None);

    // Narrow, and dark: the main pages stay usable (and axe-core checks their contrast).
    w.browser.resize(390, 844);
    for (path, name) in [
        ("groups".to_owned(), "groups-390"),
        (format!("groups/{emea}"), "group-members-390"),
        (format!("groups/{emea}/delete"), "confirm-390"),
    ] {
        w.go(&format!("/t/default/portal/access-management/{path}"));
        let wide = w.browser.run(
            "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > \
             document.documentElement.clientWidth + 1 && !e.closest('.table-wrap')).map(e => e.tagName + '.' + e.className).slice(0, 8)",
        );
        assert_eq!(wide, json!([]), "{path} is wider than the window");
        let sizes =
            w.browser.run("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]");
        assert!(sizes[0].as_u64() <= sizes[1].as_u64(), "{path} scrolls sideways: {sizes}");
        w.check(Some(name));
    }
    w.browser.resize(1280, 900);
    w.browser.dark(true);
    for (path, name) in [("groups".to_owned(), "groups-dark"), (format!("users/{ana}"), "user-dark")] {
        w.go(&format!("/t/default/portal/access-management/{path}"));
        assert_eq!(w.browser.run("return getComputedStyle(document.body).backgroundColor"), json!("rgb(13, 17, 23)"));
        w.check(Some(name));
    }
    w.browser.dark(false);

    // A form sent without its CSRF token changes nothing.
    w.go("/t/default/portal/access-management/groups/new");
    w.browser.fill("#name", "Forged");
    w.browser.run("window.__cohortLeaving = true");
    w.browser.run(
        "document.querySelector('form.stack input[name=csrf]').remove(); document.querySelector('form.stack').submit()",
    );
    w.browser.wait_for_new_page();
    assert!(w.body().contains("did not come from a console page"), "{}", w.body());
    let (_, found) = w.api("GET", "/groups?q=Forged", None);
    assert!(found["items"].as_array().unwrap().is_empty(), "{found}");

    // Another tenant's ids are not found.
    let other = request(
        &w.server.base,
        "POST",
        "/api/v1/tenants",
        ROOT,
        Some(&json!({ "slug": "other", "name": "Other", "adminEmail": "admin@other.test" })),
    );
    assert_eq!(other.status, 201, "{}", other.body);
    let other_token = other.json()["adminToken"].as_str().unwrap().to_owned();
    let theirs =
        request(&w.server.base, "POST", "/t/other/api/v1/groups", &other_token, Some(&json!({ "name": "Theirs" })));
    let theirs = theirs.json()["id"].as_str().unwrap().to_owned();
    w.go(&format!("/t/default/portal/access-management/groups/{theirs}"));
    assert!(w.body().contains("not found") && !w.body().contains("Theirs"), "{}", w.body());
    w.check(None);

    // Sign out: the session ends.
    w.sign_out();
    w.go("/t/default/portal/access-management/groups");
    assert!(w.browser.current().contains("/login"));

    // A group manager sees the groups they manage, and edits their members only.
    let manager = w.made("/users", json!({ "email": "mo@example.com" }));
    w.api("POST", &format!("/groups/{support}/members"), Some(json!({ "userId": manager, "role": "manager" })));
    let (_, t) = w.api("POST", "/tokens", Some(json!({ "name": "mo", "userId": manager })));
    w.sign_in(t["secret"].as_str().unwrap());
    let body = w.body();
    assert!(body.contains("You manage these groups") && body.contains("Support") && !body.contains("EMEA"), "{body}");
    assert!(!body.contains("Create group"), "{body}");
    w.check(Some("manager-groups"));
    w.sign_out();

    // An auditor sees everything and has no control that writes.
    let auditor = w.made("/users", json!({ "email": "aud@example.com" }));
    let (_, roles) = w.api("GET", "/roles?q=auditor", None);
    let role = roles["items"].as_array().unwrap().iter().find(|r| r["name"] == "auditor").unwrap()["id"].clone();
    w.api("POST", &format!("/users/{auditor}/roles"), Some(json!({ "roleId": role })));
    let (_, t) = w.api("POST", "/tokens", Some(json!({ "name": "aud", "userId": auditor })));
    w.sign_in(t["secret"].as_str().unwrap());
    let body = w.body();
    assert!(body.contains("EMEA") && body.contains("Support") && !body.contains("Create group"), "{body}");
    assert_eq!(w.browser.run("return document.querySelectorAll('input[name=groups]').length"), json!(0));
    w.go(&format!("/t/default/portal/access-management/groups/{support}"));
    assert!(!w.body().contains("Add a member"), "{}", w.body());
    w.check(Some("auditor-members"));
    w.sign_out();
    assert!(w.visited >= 30, "axe-core ran on {} pages", w.visited);
}
