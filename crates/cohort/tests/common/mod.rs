//! Starting the real `cohort` binary and talking HTTP/1.1 to it over a plain socket.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `cohort serve`, killed on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// What it printed on start.
    pub lines: Vec<String>,
    /// What it printed after.
    later: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Asks the process to stop (SIGTERM), as a service manager would.
    pub fn terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits up to `limit` for the process to exit; its exit status, or `None` if it did not.
    pub fn exited_within(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let until = std::time::Instant::now() + limit;
        while std::time::Instant::now() < until {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// What the process printed to standard output after starting.
    pub fn later_lines(&self) -> Vec<String> {
        self.later.lock().unwrap().clone()
    }

    /// Kills the process outright (SIGKILL): no shutdown, no flushing, nothing finished.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `cohort serve` on `database_url` in `dir`, with `bootstrap` as the first-start token.
pub fn start(dir: &std::path::Path, database_url: &str, bootstrap: Option<&str>) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cohort"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--database-url", database_url])
        .current_dir(dir)
        .env_remove("COHORT_BOOTSTRAP_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(t) = bootstrap {
        cmd.env("COHORT_BOOTSTRAP_TOKEN", t);
    }
    let mut child = cmd.spawn().unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    let mut base = None;
    loop {
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
    let later = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = later.clone();
    std::thread::spawn(move || {
        for line in reader.lines() {
            let Ok(line) = line else { break };
            sink.lock().unwrap().push(line);
        }
    });
    Server { child, base: base.unwrap_or_else(|| panic!("no URL printed: {lines:?}")), lines, later }
}

/// One HTTP answer.
pub struct Answer {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }

    pub fn revision(&self) -> i64 {
        self.headers
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("cohort-revision:").map(|v| v.trim().parse().unwrap()))
            .unwrap_or_else(|| panic!("no revision header: {}", self.headers))
    }
}

/// Sends one request and reads the whole answer.
pub fn request(base: &str, method: &str, path: &str, token: &str, body: Option<&serde_json::Value>) -> Answer {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut s = send(base, method, path, token, "application/json", &body);
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    Answer { status, headers: head.to_owned(), body: body.to_owned() }
}

/// Sends one request without waiting for the answer; read it from the stream returned.
pub fn send(base: &str, method: &str, path: &str, token: &str, content_type: &str, body: &str) -> TcpStream {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    s
}

pub fn get(base: &str, path: &str, token: &str) -> (u16, String) {
    let a = request(base, "GET", path, token, None);
    (a.status, a.body)
}
