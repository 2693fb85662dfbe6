//! End to end: the real `cohort serve` binary on a fresh database prints a URL and an admin
//! token that works, keeps its data across a restart, and does not mint a second token.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{get, start};

#[tokio::test]
async fn first_start_prints_a_working_admin_token_and_restarts_keep_it() {
    let dir = std::env::temp_dir().join(format!("cohort-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = cohort_store::testing::fresh_database().await.unwrap();
    let url = db.url.clone();

    let server = start(&dir, &url, None);
    let token_line =
        server.lines.iter().find(|l| l.contains("Admin token")).unwrap_or_else(|| panic!("{:?}", server.lines));
    let token = token_line.split_whitespace().last().unwrap().to_owned();
    assert!(token.starts_with("cohort_"));
    let (status, body) = get(&server.base, "/t/default/api/v1/me", &token);
    assert_eq!(status, 200, "{body}");
    let me: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(me["email"], "admin@cohort.local");
    assert_eq!(get(&server.base, "/t/default/api/v1/me", "cohort_wrong").0, 401);
    assert_eq!(get(&server.base, "/openapi.json", "").0, 200);
    drop(server);

    let again = start(&dir, &url, None);
    assert!(again.lines.iter().all(|l| !l.contains("Admin token")), "{:?}", again.lines);
    assert_eq!(get(&again.base, "/t/default/api/v1/me", &token).0, 200);
    drop(again);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_lost_admin_token_is_replaced_offline_and_the_minting_is_audited() {
    let dir = std::env::temp_dir().join(format!("cohort-admin-token-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = cohort_store::testing::fresh_database().await.unwrap();
    let server = start(&dir, &db.url, None);
    drop(server); // the printed token is "lost"

    let run = |tenant: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_cohort"))
            .args(["admin-token", "--tenant", tenant, "--database-url", &db.url])
            .env_remove("COHORT_DATABASE_URL")
            .output()
            .unwrap()
    };
    let unknown = run("nowhere");
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("tenant `nowhere` not found"));
    let out = run("default");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let token = stdout.split_whitespace().last().unwrap().to_owned();
    assert!(token.starts_with("cohort_"), "{stdout}");

    let again = start(&dir, &db.url, None);
    let (status, me) = get(&again.base, "/t/default/api/v1/me", &token);
    assert_eq!(status, 200, "{me}");
    let me: serde_json::Value = serde_json::from_str(&me).unwrap();
    assert_eq!(me["email"], "admin@cohort.local");
    // It is an admin's token: it reads the audit log, where its own minting is recorded.
    let (status, log) = get(&again.base, "/t/default/api/v1/audit?action=token.create&limit=50", &token);
    assert_eq!(status, 200, "{log}");
    let log: serde_json::Value = serde_json::from_str(&log).unwrap();
    let minted: Vec<&serde_json::Value> =
        log["items"].as_array().unwrap().iter().filter(|e| e["requestId"] == "admin-token").collect();
    assert_eq!(minted.len(), 1, "{log}");
    assert!(minted[0]["actorId"].is_null(), "{log}");
    drop(again);
    let _ = std::fs::remove_dir_all(&dir);
}
