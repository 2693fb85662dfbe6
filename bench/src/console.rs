//! The console at size: server time of the groups list (first page and a page 5,000 groups
//! deep) and of a 10,000-member group's members tab, each next to the REST list of the same
//! page, interleaved in one run on the standard dataset.

use crate::dataset::uid;
use crate::http::{call, pct, request};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const API: &str = "/t/default/api/v1";
const PORTAL: &str = "/t/default/portal";
const ROUNDS: usize = 50;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The `cursor` of a page's `rel="next"` link.
fn next_link(html: &str) -> Option<String> {
    let before = &html[..html.find("rel=\"next\"")?];
    let at = before.rfind("cursor=")? + "cursor=".len();
    Some(before[at..].chars().take_while(char::is_ascii_hexdigit).collect())
}

fn page(base: &str, path: &str, cookie: &str) -> String {
    let (status, _, body) = request(base, "GET", path, &[("Cookie", cookie)], "");
    assert_eq!(status, 200, "{path}: {body}");
    body
}

fn rest(base: &str, path: &str, token: &str) -> Value {
    let (status, v) = call(base, "GET", path, token, None);
    assert_eq!(status, 200, "{path}: {v}");
    v
}

pub fn run(base: &str, token: &str) {
    // Sign in as a person would: the token pasted into the form, a session cookie back.
    let (status, head, _) = request(
        base,
        "POST",
        &format!("{PORTAL}/sign-in"),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &format!("token={token}"),
    );
    assert_eq!(status, 303, "sign-in refused");
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: ").or_else(|| l.strip_prefix("Set-Cookie: ")))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned();

    // One group of 10,000 of the dataset's users, added through the batch service.
    let t = Instant::now();
    let (_, g) = call(base, "POST", &format!("{API}/groups"), token, Some(json!({"name": "Everyone at size"})));
    let big = g["id"].as_str().unwrap().to_owned();
    for chunk in (0..10_000).collect::<Vec<_>>().chunks(1000) {
        let users: Vec<String> = chunk.iter().map(|i| uid(*i).to_string()).collect();
        let (s, v) = call(base, "POST", &format!("{API}/groups/batch"), token,
            Some(json!({"groupIds": [big], "action": "addMembers", "userIds": users})));
        assert_eq!(s, 200, "{v}");
    }
    println!("added 10,000 members to one group in {:?}", t.elapsed());

    // A page 5,000 groups deep (page 101 of 50), reached by following each face's own cursors.
    let groups = format!("{PORTAL}/access-management/groups");
    let html = page(base, &groups, &cookie);
    let mut console_cursor = next_link(&html).expect("a next page");
    let v = rest(base, &format!("{API}/groups?limit=50"), token);
    let mut rest_cursor = v["nextCursor"].as_str().expect("a next page").to_owned();
    for _ in 1..100 {
        let html = page(base, &format!("{groups}?cursor={console_cursor}"), &cookie);
        console_cursor = next_link(&html).expect("a next page");
        let v = rest(base, &format!("{API}/groups?limit=50&cursor={rest_cursor}"), token);
        rest_cursor = v["nextCursor"].as_str().expect("a next page").to_owned();
    }
    assert_eq!(console_cursor, rest_cursor, "the two faces page alike");

    let cases = [
        ("groups list, first page of 50", groups.clone(), format!("{API}/groups?limit=50")),
        (
            "groups list, page 101 (5,000 groups in)",
            format!("{groups}?cursor={console_cursor}"),
            format!("{API}/groups?limit=50&cursor={rest_cursor}"),
        ),
        (
            "10,000-member group, members tab (first 100)",
            format!("{groups}/{big}"),
            format!("{API}/groups/{big}/members?limit=100"),
        ),
    ];
    for (what, console_path, rest_path) in cases {
        let (mut c, mut r) = (Vec::new(), Vec::new());
        let (mut c_bytes, mut r_bytes) = (0, 0);
        for _ in 0..ROUNDS {
            let t = Instant::now();
            c_bytes = page(base, &console_path, &cookie).len();
            c.push(t.elapsed());
            let t = Instant::now();
            let v = rest(base, &rest_path, token);
            r.push(t.elapsed());
            r_bytes = v.to_string().len();
        }
        let (cp50, rp50) = (pct(&mut c, 0.5), pct(&mut r, 0.5));
        println!(
            "{what}: console p50 {:.2} ms p99 {:.2} ms ({c_bytes} bytes of HTML) | REST p50 {:.2} ms p99 {:.2} ms ({r_bytes} bytes of JSON) | console/REST {:.2}x",
            ms(cp50), ms(pct(&mut c, 0.99)), ms(rp50), ms(pct(&mut r, 0.99)), cp50.as_secs_f64() / rp50.as_secs_f64()
        );
    }
}
