//! The real server killed (SIGKILL) while it confirms a 1,000-row CSV import, at 16 moments that
//! close in on the commit (each kill that found nothing moves the next one later, each that found the
//! import whole moves it earlier): after each restart the import is all there or not there at all, the
//! audit log agrees with the data, and SQLite's `integrity_check` is `ok`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{request, send, start};
use serde_json::{Value, json};
use std::io::Read;
use std::time::Instant;

const ADMIN: &str = "cohort_crash_test_admin_token_0123456789";
const API: &str = "/t/default/api/v1";
const ROWS: usize = 1000;

/// Import rows in `group` and the audit events that added them.
fn imported(base: &str, group: &str) -> (usize, usize) {
    let mut rows = 0;
    let mut after = String::new();
    loop {
        let page = request(base, "GET", &format!("{API}/groups/{group}/members?limit=500{after}"), ADMIN, None).json();
        let items = page["items"].as_array().unwrap();
        rows += items.iter().filter(|m| m["source"] == "import").count();
        match page["nextCursor"].as_str() {
            Some(c) => after = format!("&cursor={c}"),
            None => break,
        }
    }
    let mut events = 0;
    let mut after = String::new();
    loop {
        let page = request(
            base,
            "GET",
            &format!("{API}/audit?action=membership.add&targetId={group}&limit=500{after}"),
            ADMIN,
            None,
        )
        .json();
        events += page["items"].as_array().unwrap().iter().filter(|e| e["after"]["source"] == "import").count();
        match page["nextCursor"].as_str() {
            Some(c) => after = format!("&cursor={c}"),
            None => break,
        }
    }
    (rows, events)
}

async fn integrity(url: &str) -> String {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
    sqlx::query_scalar::<_, String>("PRAGMA integrity_check").fetch_one(&mut c).await.unwrap()
}

#[tokio::test]
async fn a_killed_import_confirm_is_all_or_nothing() {
    let dir = std::env::temp_dir().join(format!("cohort-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/cohort.db", dir.display());
    let mut server = start(&dir, &url, Some(ADMIN));
    let mut file = String::from("email,role\n");
    for i in 0..ROWS {
        let email = format!("crash{i}@example.com");
        assert_eq!(
            request(&server.base, "POST", &format!("{API}/users"), ADMIN, Some(&json!({"email": email}))).status,
            201
        );
        file.push_str(&format!("{email},member\n"));
    }
    let preview = |base: &str, group: &str| -> String {
        let mut s = send(base, "POST", &format!("{API}/groups/{group}/members/import"), ADMIN, "text/csv", &file);
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let body: Value = serde_json::from_str(out.split_once("\r\n\r\n").unwrap().1).unwrap();
        assert_eq!(body["counts"]["added"], ROWS, "{body}");
        body["importId"].as_str().unwrap().to_owned()
    };
    let group = |base: &str, n: usize| -> String {
        let a = request(base, "POST", &format!("{API}/groups"), ADMIN, Some(&json!({"name": format!("Crash {n}")})));
        a.json()["id"].as_str().unwrap().to_owned()
    };

    // One confirm to completion measures how long a confirm takes here.
    let g = group(&server.base, 0);
    let id = preview(&server.base, &g);
    let t = Instant::now();
    let a = request(
        &server.base,
        "POST",
        &format!("{API}/groups/{g}/members/import/{id}/confirm"),
        ADMIN,
        Some(&json!({})),
    );
    let took = t.elapsed();
    assert_eq!(a.json()["added"], ROWS);
    assert_eq!(imported(&server.base, &g), (ROWS, ROWS));

    let moments = 16;
    let (mut none, mut all) = (0, 0);
    // The latest kill that found nothing and the earliest that found the import whole: the next
    // kill falls between them, or (while no kill has found it whole) twice as late as the latest.
    // A confirm on a server just restarted, into a tenant with more memberships each round, takes
    // longer than the one measured, so the moment of the commit is searched for, not assumed.
    let (mut before, mut after) = (std::time::Duration::ZERO, None::<std::time::Duration>);
    for k in 0..moments {
        let g = group(&server.base, k + 1);
        let id = preview(&server.base, &g);
        let delay = match (k, after) {
            (0, _) => std::time::Duration::ZERO,
            (_, None) => (before * 2).max(took / 2),
            (_, Some(after)) => (before + after) / 2,
        };
        let _pending = send(
            &server.base,
            "POST",
            &format!("{API}/groups/{g}/members/import/{id}/confirm"),
            ADMIN,
            "application/json",
            "{}",
        );
        std::thread::sleep(delay);
        server.kill();
        assert_eq!(integrity(&url).await, "ok", "after a kill {delay:?} into the confirm");
        server = start(&dir, &url, None);
        let (rows, events) = imported(&server.base, &g);
        assert_eq!(rows, events, "the audit log agrees with the data (kill at {delay:?})");
        if rows == 0 {
            none += 1;
            before = before.max(delay);
            // Nothing was committed, so the preview still stands and confirms whole.
            let a = request(
                &server.base,
                "POST",
                &format!("{API}/groups/{g}/members/import/{id}/confirm"),
                ADMIN,
                Some(&json!({})),
            );
            assert_eq!(a.json()["added"], ROWS);
        } else {
            assert_eq!(rows, ROWS, "all rows or none (kill at {delay:?})");
            all += 1;
            after = Some(after.map_or(delay, |a| a.min(delay)));
            let a = request(
                &server.base,
                "POST",
                &format!("{API}/groups/{g}/members/import/{id}/confirm"),
                ADMIN,
                Some(&json!({})),
            );
            assert_eq!(a.status, 409, "a committed import is not confirmed twice");
        }
    }
    eprintln!(
        "{moments} kills around a {took:?} confirm: {none} before the commit, {all} after (it fell between {before:?} and {after:?})"
    );
    assert!(none > 0 && all > 0, "the kills fell before and after the commit ({none} none, {all} all)");
    server.kill();
    assert_eq!(integrity(&url).await, "ok");
    let _ = std::fs::remove_dir_all(&dir);
}
