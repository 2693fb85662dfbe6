//! End to end: the inputs that once aborted or stalled a real `cohort serve` (filters nested
//! thousands deep, thousands of terms, a NUL byte, costly rules, oversized bodies, a method a
//! path does not take) each get a clean 4xx in the face's own error format, and the same
//! process answers afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Answer, request, send, start};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

const ADMIN: &str = "cohort_hostile_test_admin_token_0123456789";
const API: &str = "/t/default/api/v1";
const SCIM: &str = "/t/default/scim/v2";

fn encode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Sends `body` as `content_type`, tolerating a server that answers and closes before reading
/// all of it (as it does past the body limit).
fn send_large(base: &str, method: &str, path: &str, token: &str, content_type: &str, body: &[u8]) -> Answer {
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = s.write_all(head.as_bytes()).and_then(|()| s.write_all(body));
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let out = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let status = head.split_whitespace().nth(1).unwrap_or_else(|| panic!("no answer: {out:?}")).parse().unwrap();
    Answer { status, headers: head.to_owned(), body: body.to_owned() }
}

fn assert_problem(a: &Answer, status: u16, what: &str) {
    assert_eq!(a.status, status, "{what}: {} {}", a.headers, a.body);
    assert!(a.headers.to_ascii_lowercase().contains("content-type: application/problem+json"), "{what}: {}", a.headers);
    let v: Value = serde_json::from_str(&a.body).unwrap_or_else(|_| panic!("{what}: {}", a.body));
    assert_eq!(v["status"], status, "{what}");
}

fn assert_scim_error(a: &Answer, status: u16, what: &str) {
    assert_eq!(a.status, status, "{what}: {} {}", a.headers, a.body.chars().take(300).collect::<String>());
    assert!(a.headers.to_ascii_lowercase().contains("content-type: application/scim+json"), "{what}: {}", a.headers);
    let v: Value = serde_json::from_str(&a.body).unwrap_or_else(|_| panic!("{what}: {}", a.body));
    assert_eq!(v["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error", "{what}");
}

#[tokio::test]
async fn hostile_requests_get_clean_errors_and_the_server_keeps_answering() {
    let dir = std::env::temp_dir().join(format!("cohort-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = cohort_store::testing::fresh_database().await.unwrap();
    let server = start(&dir, &db.url, Some(ADMIN));
    let base = server.base.clone();
    let scim = request(&base, "POST", &format!("{API}/tokens"), ADMIN, Some(&json!({"name": "idp", "scope": "scim"})));
    let scim = scim.json()["secret"].as_str().unwrap().to_owned();
    let started = Instant::now();

    // SCIM filters that overflowed the worker's stack, by query and by POST /.search.
    let deep = format!("{}userName eq \"a\"{}", "(".repeat(3000), ")".repeat(3000));
    let nots = format!("{}userName eq \"a\"{}", "not (".repeat(1000), ")".repeat(1000));
    let ors = vec!["userName eq \"a\""; 20_000].join(" or ");
    let nested_nots = format!("{}userName pr{}", "not (".repeat(600), ")".repeat(600));
    for (name, filter) in [("deep", &deep), ("nots", &nots), ("nested nots", &nested_nots)] {
        let a = request(&base, "GET", &format!("{SCIM}/Users?filter={}", encode(filter)), &scim, None);
        assert_scim_error(&a, 400, name);
        assert_eq!(a.json()["scimType"], "invalidFilter", "{name}");
    }
    for (name, filter) in [("deep", &deep), ("nots", &nots), ("ors", &ors)] {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": filter});
        let a = send_large(
            &base,
            "POST",
            &format!("{SCIM}/Users/.search"),
            &scim,
            "application/scim+json",
            body.to_string().as_bytes(),
        );
        assert_scim_error(&a, 400, name);
    }
    // A PATCH path with a deep filter.
    let g = request(&base, "POST", &format!("{API}/groups"), ADMIN, Some(&json!({"name": "Hostile"}))).json();
    let g = g["id"].as_str().unwrap().to_owned();
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": format!("members[{deep}]")}]});
    let a = send_large(
        &base,
        "PATCH",
        &format!("{SCIM}/Groups/{g}"),
        &scim,
        "application/scim+json",
        patch.to_string().as_bytes(),
    );
    assert!(a.status == 400 || a.status == 404, "{} {}", a.status, a.body);

    // A NUL byte and other control characters, in a query, a path and a body, on both faces.
    assert_problem(&request(&base, "GET", &format!("{API}/groups?q=%00"), ADMIN, None), 400, "q=%00");
    assert_problem(&request(&base, "GET", &format!("{API}/users?q=a%1Bb"), ADMIN, None), 400, "q=ESC");
    assert_problem(&request(&base, "GET", &format!("{API}/groups/grp_%00"), ADMIN, None), 400, "path NUL");
    let body = json!({"name": "Nul\u{0}Group"});
    assert_problem(&request(&base, "POST", &format!("{API}/groups"), ADMIN, Some(&body)), 400, "body NUL");
    assert_scim_error(
        &request(&base, "GET", &format!("{SCIM}/Users?filter=userName%20eq%20%22%00%22"), &scim, None),
        400,
        "scim NUL",
    );
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a\u{0}b"});
    let a = send_large(
        &base,
        "POST",
        &format!("{SCIM}/Users"),
        &scim,
        "application/scim+json",
        user.to_string().as_bytes(),
    );
    assert_scim_error(&a, 400, "scim body NUL");
    let csv = "email,role\nnul\u{0}@example.com,member\n";
    let a = send_large(&base, "POST", &format!("{API}/groups/{g}/members/import"), ADMIN, "text/csv", csv.as_bytes());
    assert_eq!(a.status, 201, "{}", a.body);
    assert!(a.body.contains("control character"), "{}", a.body);

    // Errors the routing layer makes are problem documents too.
    assert_problem(&request(&base, "PUT", &format!("{API}/groups"), ADMIN, None), 405, "PUT /groups");
    let big = vec![b'a'; 10 * 1024 * 1024];
    assert_problem(
        &send_large(&base, "POST", &format!("{API}/groups/{g}/members/import"), ADMIN, "text/csv", &big),
        413,
        "10 MB CSV",
    );
    assert_scim_error(
        &send_large(&base, "POST", &format!("{SCIM}/Users"), &scim, "application/scim+json", &big),
        413,
        "10 MB SCIM",
    );

    // Rules that were accepted and then stalled previews.
    for (name, expression) in [
        ("40 parentheses", format!("{}true{}", "(".repeat(40), ")".repeat(40))),
        ("300 nots", format!("{}true", "!".repeat(300))),
        (
            "nested comprehensions",
            "size([1,2,3].map(a, [1,2,3].map(b, [1,2,3].map(c, [1,2,3].map(d, a+b+c+d))))) > 0".to_owned(),
        ),
    ] {
        let a =
            request(&base, "POST", &format!("{API}/groups/{g}/rules"), ADMIN, Some(&json!({"expression": expression})));
        assert_problem(&a, 422, name);
        assert_eq!(a.json()["type"], "https://cohort.dev/problems/invalid-expression", "{name}");
    }

    // Still there, and it never took long.
    let a = request(&base, "GET", &format!("{API}/me"), ADMIN, None);
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(request(&base, "GET", &format!("{SCIM}/Users?count=1"), &scim, None).status, 200);
    let mut s = send(&base, "GET", "/healthz", "", "text/plain", "");
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.ends_with("ok"), "{out}");
    assert!(started.elapsed() < Duration::from_secs(120), "the hostile requests took {:?}", started.elapsed());
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
