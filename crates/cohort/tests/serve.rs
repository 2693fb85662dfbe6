//! End to end: the real `cohort serve` binary on a fresh database prints a URL and an admin
//! token that works, keeps its data across a restart, and does not mint a second token.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Server {
    child: Child,
    base: String,
    lines: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &std::path::Path, database_url: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cohort"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", database_url])
        .current_dir(dir)
        .env_remove("COHORT_BOOTSTRAP_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    let mut base = None;
    while lines.len() < 6 {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(rest) = line.trim().strip_prefix("cohort is listening on ") {
            base = Some(rest.to_owned());
        }
        let done = line.contains("Try:") || line.contains("existing database");
        lines.push(line);
        if done {
            break;
        }
    }
    std::thread::spawn(move || {
        let mut sink = String::new();
        let _ = reader.read_to_string(&mut sink);
    });
    Server { child, base: base.unwrap_or_else(|| panic!("no URL printed: {lines:?}")), lines }
}

fn get(base: &str, path: &str, token: &str) -> (u16, String) {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, out.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned())
}

#[tokio::test]
async fn first_start_prints_a_working_admin_token_and_restarts_keep_it() {
    let dir = std::env::temp_dir().join(format!("cohort-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = cohort_store::testing::fresh_database().await.unwrap();
    let url = db.url.clone();

    let server = start(&dir, &url);
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

    let again = start(&dir, &url);
    assert!(again.lines.iter().all(|l| !l.contains("Admin token")), "{:?}", again.lines);
    assert_eq!(get(&again.base, "/t/default/api/v1/me", &token).0, 200);
    drop(again);
    let _ = std::fs::remove_dir_all(&dir);
}
