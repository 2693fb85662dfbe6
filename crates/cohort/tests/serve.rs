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
