//! Two `cohort serve` processes on one real PostgreSQL: a change made through one is seen by
//! the other for any read carrying the change's revision, and without it as soon as the
//! notification arrives. A removed membership never answers a stale allow.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{request, start};
use serde_json::json;
use std::time::{Duration, Instant};

const ROOT: &str = "cohort_two_servers_root_token_0123456789";
const T: &str = "/t/default/api/v1";

#[tokio::test]
async fn a_removal_through_one_server_is_denied_by_the_other() {
    let db = cohort_store::testing::fresh_database_on("postgres")
        .await
        .expect("this test needs PostgreSQL: run it through scripts/test.sh, which sets COHORT_TEST_PG_URL");
    let dir = std::env::temp_dir().join(format!("cohort-two-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = start(&dir, &db.url, Some(ROOT));
    let b = start(&dir, &db.url, Some(ROOT));
    let post = |base: &str, path: &str, body: serde_json::Value| {
        request(base, "POST", &format!("{T}{path}"), ROOT, Some(&body))
    };

    let group = post(&a.base, "/groups", json!({"name": "Support"})).json()["id"].as_str().unwrap().to_owned();
    let user = post(&a.base, "/users", json!({"email": "ann@example.com"})).json()["id"].as_str().unwrap().to_owned();
    let role = post(&a.base, "/roles", json!({"name": "Agents", "permissions": ["agents:use"]})).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(post(&a.base, &format!("/groups/{group}/roles"), json!({"roleId": role})).status, 201);

    let check = |rev: Option<i64>| {
        let body = json!({"userId": user, "permission": "agents:use", "atLeastRevision": rev});
        let answer = post(&b.base, "/check", body);
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.json()
    };
    for round in 0..10 {
        let added = post(&a.base, &format!("/groups/{group}/members"), json!({"userId": user}));
        assert_eq!(added.status, 201, "{}", added.body);
        let seen = check(Some(added.revision()));
        assert_eq!(seen["allowed"], true, "round {round}: {seen}");
        assert!(seen["revision"].as_i64().unwrap() >= added.revision());

        let removed = request(&a.base, "DELETE", &format!("{T}/groups/{group}/members/{user}"), ROOT, None);
        assert_eq!(removed.status, 200, "{}", removed.body);
        let seen = check(Some(removed.revision()));
        assert_eq!(seen["allowed"], false, "round {round}: a stale allow after the removal: {seen}");
    }

    // Without a revision, the notification brings the other server up to date by itself.
    let added = post(&a.base, &format!("/groups/{group}/members"), json!({"userId": user}));
    let started = Instant::now();
    loop {
        if check(None)["allowed"] == true {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "the change never reached the other server");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(added.revision() > 0);

    // A revision nobody has written yet is the client's mistake, answered at once.
    let future =
        post(&b.base, "/check", json!({"userId": user, "permission": "agents:use", "atLeastRevision": 1_000_000}));
    assert_eq!(future.status, 400, "{}", future.body);
    drop((a, b));
    let _ = std::fs::remove_dir_all(&dir);
}
