//! Write → visible: after a write's response, how long until a check reflects it, on the same
//! server and on a second server sharing PostgreSQL (no `atLeastRevision`: the notification
//! alone must bring it).

use crate::http::{call, pct};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub fn run(a: &str, b: &str, token: &str, rounds: usize) {
    let api = "/t/default/api/v1";
    let id = |(_, v): (u16, Value)| v["id"].as_str().unwrap().to_owned();
    let group = id(call(a, "POST", &format!("{api}/groups"), token, Some(json!({"name": "Visible"}))));
    let user = id(call(a, "POST", &format!("{api}/users"), token, Some(json!({"email": "visible@bench.example"}))));
    let role = id(call(a, "POST", &format!("{api}/roles"), token, Some(json!({"name": "Visible", "permissions": ["visible:check"]}))));
    call(a, "POST", &format!("{api}/groups/{group}/roles"), token, Some(json!({"roleId": role})));
    let check = |base: &str| {
        let (_, v) = call(base, "POST", &format!("{api}/check"), token, Some(json!({"userId": user, "permission": "visible:check"})));
        v["allowed"] == true
    };
    let mut same = Vec::new();
    let mut same_stale = 0;
    let mut other = Vec::new();
    for round in 0..rounds {
        let adding = round % 2 == 0;
        let (status, _) = if adding {
            call(a, "POST", &format!("{api}/groups/{group}/members"), token, Some(json!({"userId": user})))
        } else {
            call(a, "DELETE", &format!("{api}/groups/{group}/members/{user}"), token, None)
        };
        assert!(status < 300, "write failed: {status}");
        let written = Instant::now();
        if check(a) != adding {
            same_stale += 1;
        }
        same.push(written.elapsed());
        let started = Instant::now();
        while check(b) != adding {
            assert!(started.elapsed() < Duration::from_secs(10), "never visible on the second server");
        }
        other.push(written.elapsed());
    }
    println!(
        "same server: the next check reflected the write {}/{} times; that check took p50 {:?} p99 {:?}",
        rounds - same_stale,
        rounds,
        pct(&mut same, 0.5),
        pct(&mut same, 0.99)
    );
    println!(
        "second server (PostgreSQL LISTEN/NOTIFY, no atLeastRevision): visible after p50 {:?} p99 {:?} (max {:?})",
        pct(&mut other, 0.5),
        pct(&mut other, 0.99),
        pct(&mut other, 1.0)
    );
}
