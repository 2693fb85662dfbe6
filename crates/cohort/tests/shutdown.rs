//! Graceful shutdown of the real binary: on SIGTERM the server stops accepting, answers the
//! request it is in the middle of (and commits it), lets its workers finish, and exits with
//! success. What it committed is there at the next start.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{get, start};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const ROOT: &str = "cohort_shutdown_root_token_0123456789ab";

#[tokio::test]
async fn sigterm_finishes_the_request_in_flight_then_exits_cleanly() {
    let dir = std::env::temp_dir().join(format!("cohort-shutdown-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = cohort_store::testing::fresh_database().await.unwrap();
    let mut server = start(&dir, &db.url, Some(ROOT));
    let addr = server.base.trim_start_matches("http://").to_owned();

    // A request in flight: its headers and half its body are sent when the signal arrives.
    let body = serde_json::json!({"name": "Written during shutdown"}).to_string();
    let (first, second) = body.split_at(body.len() / 2);
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "POST /t/default/api/v1/groups HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {ROOT}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    s.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));

    server.terminate();
    std::thread::sleep(Duration::from_millis(500));
    assert!(server.exited_within(Duration::ZERO).is_none(), "the server left a request unanswered");
    assert!(TcpStream::connect(&addr).is_err(), "the server still accepts connections after SIGTERM");

    s.write_all(second.as_bytes()).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "the request in flight was not answered: {answer}");

    let status = server.exited_within(Duration::from_secs(15)).expect("the server did not exit after SIGTERM");
    assert!(status.success(), "the server exited with {status}");
    assert!(server.later_lines().iter().any(|l| l == "cohort stopped"), "{:?}", server.later_lines());
    drop(server);

    let again = start(&dir, &db.url, None);
    let (code, groups) = get(&again.base, "/t/default/api/v1/groups?q=shutdown", ROOT);
    assert_eq!(code, 200, "{groups}");
    assert!(groups.contains("Written during shutdown"), "the request answered during shutdown was lost: {groups}");
    drop(again);
    let _ = std::fs::remove_dir_all(&dir);
}
