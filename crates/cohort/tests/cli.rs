//! `cohort members import` and `cohort members export` against a running server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{request, start};
use serde_json::json;
use std::process::{Command, Output, Stdio};

const ADMIN: &str = "cohort_cli_test_admin_token_0123456789ab";
const API: &str = "/t/default/api/v1";

fn cohort(base: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cohort"))
        .args(args)
        .env("COHORT_URL", base)
        .env("COHORT_TOKEN", ADMIN)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn members(base: &str, group: &str) -> Vec<(String, String, String)> {
    let page = request(base, "GET", &format!("{API}/groups/{group}/members"), ADMIN, None).json();
    let mut out: Vec<_> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["userId"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
                m["source"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn members_import_previews_asks_and_confirms_and_export_writes_csv() {
    let dir = std::env::temp_dir().join(format!("cohort-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let server = start(&dir, &format!("sqlite://{}/cohort.db", dir.display()), Some(ADMIN));
    let base = server.base.clone();
    let g =
        request(&base, "POST", &format!("{API}/groups"), ADMIN, Some(&json!({"name": "Support", "slug": "support"})));
    let group = g.json()["id"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for e in ["ann", "bob", "cat", "dan"] {
        let u =
            request(&base, "POST", &format!("{API}/users"), ADMIN, Some(&json!({"email": format!("{e}@example.com")})));
        ids.push(u.json()["id"].as_str().unwrap().to_owned());
    }
    let file = dir.join("members.csv");
    std::fs::write(&file, "email,role\nann@example.com,member\nbob@example.com,manager\nnobody@example.com,member\n")
        .unwrap();
    let path = file.to_str().unwrap();

    // Without a terminal and without --yes, nothing is confirmed.
    let out = cohort(&base, &["members", "import", "--group", "support", path]);
    assert!(!out.status.success());
    assert!(text(&out.stdout).contains("support: 2 to add, 0 skipped, 1 with errors"), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("line 4: no user has the email `nobody@example.com`"), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("pass --yes"), "{}", text(&out.stderr));
    assert!(members(&base, &group).is_empty());

    let out = cohort(&base, &["members", "import", "--group", "support", path, "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("added 2 members to support"), "{}", text(&out.stdout));
    let mut want = vec![
        (ids[0].clone(), "member".to_owned(), "import".to_owned()),
        (ids[1].clone(), "manager".to_owned(), "import".to_owned()),
    ];
    want.sort();
    assert_eq!(members(&base, &group), want);

    // A longer file goes in chunks, each previewed, then confirmed, with a progress bar.
    std::fs::write(&file, "email,role\ncat@example.com,member\ndan@example.com,member\nann@example.com,member\n")
        .unwrap();
    let out = cohort(&base, &["members", "import", "--group", "support", path, "--yes", "--chunk", "1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("support: 2 to add, 1 skipped, 0 with errors"), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("3/3 confirmed"), "{}", text(&out.stderr));
    assert_eq!(members(&base, &group).len(), 4);

    // Export: the same CSV as the API's, to standard output or to a file.
    let out = cohort(&base, &["members", "export", "--group", "support"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let api = request(&base, "GET", &format!("{API}/groups/{group}/members/export"), ADMIN, None).body;
    assert_eq!(text(&out.stdout), api);
    assert!(api.starts_with("email,userId,role,source,expiresAt\r\n"), "{api}");
    assert!(api.contains(&format!("\r\nann@example.com,{},member,import,\r\n", ids[0])), "{api}");
    assert_eq!(api.lines().count(), 5);
    let target = dir.join("out.csv");
    let out = cohort(&base, &["members", "export", "--group", "support", "--output", target.to_str().unwrap()]);
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), api);

    let out = cohort(&base, &["members", "export", "--group", "nope"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("no group has the slug `nope`"), "{}", text(&out.stderr));
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn groups_members_access_and_check_from_the_terminal() {
    let dir = std::env::temp_dir().join(format!("cohort-cli-daily-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let server = start(&dir, &format!("sqlite://{}/cohort.db", dir.display()), Some(ADMIN));
    let base = server.base.clone();
    let ok = |args: &[&str]| {
        let out = cohort(&base, args);
        assert!(out.status.success(), "{args:?}: {}{}", text(&out.stdout), text(&out.stderr));
        text(&out.stdout)
    };
    let json = |args: &[&str]| -> serde_json::Value { serde_json::from_str(&ok(args)).unwrap() };
    let ana = request(&base, "POST", &format!("{API}/users"), ADMIN, Some(&json!({"email": "ana@example.com"})));
    let ana = ana.json()["id"].as_str().unwrap().to_owned();
    let role = request(
        &base,
        "POST",
        &format!("{API}/roles"),
        ADMIN,
        Some(&json!({"name": "Exporter", "permissions": ["reports.export"]})),
    );
    let role = role.json()["id"].as_str().unwrap().to_owned();

    let emea = json(&["groups", "create", "EMEA", "--json"]);
    assert_eq!(emea["slug"], "emea");
    request(
        &base,
        "POST",
        &format!("{API}/groups/{}/roles", emea["id"].as_str().unwrap()),
        ADMIN,
        Some(&json!({"roleId": role})),
    );
    let shown = ok(&["groups", "create", "France", "--parent", "emea", "--description", "The French team"]);
    assert!(shown.contains("france") && shown.contains(emea["id"].as_str().unwrap()), "{shown}");
    // The API's refusal is the command's error.
    let again = cohort(&base, &["groups", "create", "france"]);
    assert!(!again.status.success() && text(&again.stderr).contains("name"), "{}", text(&again.stderr));

    ok(&["members", "add", "france", "ana@example.com", "--expires", "2100-01-01T00:00:00Z", "--reason", "cover"]);
    let listed = json(&["members", "list", "france", "--json"]);
    assert_eq!(listed[0]["userId"], ana.as_str());
    assert_eq!(listed[0]["expiresAt"], "2100-01-01T00:00:00Z");
    assert!(ok(&["members", "list", "france"]).contains(&ana));

    let access = ok(&["access", "ana@example.com"]);
    assert!(access.contains("Exporter") && access.contains("France") && access.contains("EMEA"), "{access}");
    assert_eq!(json(&["access", &ana, "--json"])["permissions"][0]["permission"], "reports.export");
    let allowed = cohort(&base, &["check", "ana@example.com", "reports.export"]);
    assert!(allowed.status.success() && text(&allowed.stdout).starts_with("allowed: "), "{}", text(&allowed.stdout));
    assert!(text(&allowed.stdout).contains("France"), "{}", text(&allowed.stdout));

    ok(&["groups", "archive", "france"]);
    let denied = cohort(&base, &["check", "ana@example.com", "reports.export"]);
    assert_eq!(denied.status.code(), Some(1), "{}", text(&denied.stdout));
    assert!(text(&denied.stdout).starts_with("denied: "));
    let listed = json(&["groups", "list", "--status", "archived", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["slug"], "france");
    ok(&["groups", "unarchive", "france"]);
    assert_eq!(json(&["groups", "show", "france", "--json"])["status"], "active");
    assert!(ok(&["groups", "list"]).contains("France"));

    ok(&["members", "remove", "france", "ana@example.com"]);
    assert!(json(&["members", "list", "france", "--json"]).as_array().unwrap().is_empty());
    // Deleting asks; without a terminal and without --yes nothing is deleted.
    let asked = cohort(&base, &["groups", "delete", "france"]);
    assert!(!asked.status.success() && text(&asked.stderr).contains("--yes"));
    ok(&["groups", "delete", "france", "--yes"]);
    assert_eq!(json(&["groups", "list", "--json"]).as_array().unwrap().len(), 1);
}
