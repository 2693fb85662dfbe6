//! SCIM at size: one member added to or removed from a 10,000-member group by PATCH (the
//! group is never rewritten), and listing 10,000 groups with `excludedAttributes=members`.

use crate::http::{call, pct};
use serde_json::json;
use std::time::{Duration, Instant};

const SCIM: &str = "/t/default/scim/v2";

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn run(base: &str, admin: &str) {
    let (_, t) = call(base, "POST", "/t/default/api/v1/tokens", admin, Some(json!({"name": "bench", "scope": "scim"})));
    let token = t["secret"].as_str().unwrap().to_owned();
    let t = Instant::now();
    let users: Vec<String> = (0..10_001)
        .map(|i| {
            let (s, v) = call(base, "POST", &format!("{SCIM}/Users"), &token, Some(json!({"userName": format!("scim{i}@bench.example")})));
            assert_eq!(s, 201, "{v}");
            v["id"].as_str().unwrap().to_owned()
        })
        .collect();
    let (_, g) = call(base, "POST", &format!("{SCIM}/Groups"), &token, Some(json!({"displayName": "Everyone"})));
    let big = g["id"].as_str().unwrap().to_owned();
    for chunk in users[..10_000].chunks(1000) {
        let members: Vec<_> = chunk.iter().map(|u| json!({"value": u})).collect();
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "members", "value": members}]});
        let (s, v) = call(base, "PATCH", &format!("{SCIM}/Groups/{big}"), &token, Some(body));
        assert_eq!(s, 204, "{v}");
    }
    for i in 1..10_000 {
        let (s, v) = call(base, "POST", &format!("{SCIM}/Groups"), &token, Some(json!({"displayName": format!("Group {i}")})));
        assert_eq!(s, 201, "{v}");
    }
    println!("set up 10,001 users, a 10,000-member group and 9,999 more groups in {:?}", t.elapsed());

    // One member in, one member out, 200 times: each PATCH names only that member.
    let extra = &users[10_000];
    let mut add = Vec::new();
    let mut remove = Vec::new();
    for round in 0..200 {
        let op = if round % 2 == 0 { "add" } else { "remove" };
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": op, "path": "members", "value": [{"value": extra}]}]});
        let t = Instant::now();
        let (s, v) = call(base, "PATCH", &format!("{SCIM}/Groups/{big}"), &token, Some(body));
        let took = t.elapsed();
        assert_eq!(s, 204, "{v}");
        if round % 2 == 0 { add.push(took) } else { remove.push(took) }
    }
    println!(
        "PATCH one member of a 10,000-member group: add p50 {:.2} ms p99 {:.2} ms; remove p50 {:.2} ms p99 {:.2} ms",
        ms(pct(&mut add, 0.5)), ms(pct(&mut add, 0.99)), ms(pct(&mut remove, 0.5)), ms(pct(&mut remove, 0.99))
    );

    // Every group, members excluded, in pages of 1,000 (the most a page holds).
    let mut walks = Vec::new();
    let mut pages = Vec::new();
    for _ in 0..5 {
        let walk = Instant::now();
        let mut start = 1;
        let mut seen = 0;
        loop {
            let t = Instant::now();
            let (s, v) = call(base, "GET", &format!("{SCIM}/Groups?excludedAttributes=members&startIndex={start}&count=1000"), &token, None);
            pages.push(t.elapsed());
            assert_eq!(s, 200, "{v}");
            assert_eq!(v["totalResults"], 10_000);
            let n = v["Resources"].as_array().unwrap().len();
            assert!(v["Resources"].as_array().unwrap().iter().all(|g| g.get("members").is_none()));
            seen += n;
            if n < 1000 || seen >= 10_000 {
                break;
            }
            start += 1000;
        }
        assert_eq!(seen, 10_000);
        walks.push(walk.elapsed());
    }
    println!(
        "GET /Groups?excludedAttributes=members over 10,000 groups: all 10 pages p50 {:.1} ms (max {:.1} ms); one page of 1,000 p50 {:.1} ms p99 {:.1} ms",
        ms(pct(&mut walks, 0.5)), ms(pct(&mut walks, 1.0)), ms(pct(&mut pages, 0.5)), ms(pct(&mut pages, 0.99))
    );
    let mut full = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let (s, v) = call(base, "GET", &format!("{SCIM}/Groups/{big}"), &token, None);
        full.push(t.elapsed());
        assert_eq!(s, 200);
        assert_eq!(v["members"].as_array().unwrap().len(), 10_000);
    }
    println!("GET /Groups/{{id}} with its 10,000 members: p50 {:.1} ms", ms(pct(&mut full, 0.5)));
}
