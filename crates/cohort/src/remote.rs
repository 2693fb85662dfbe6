//! The server a command talks to, and the calls every command makes through its REST API.

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// Where the server is and who is asking.
#[derive(clap::Args)]
pub struct Remote {
    /// The server's base URL.
    #[arg(long, env = "COHORT_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An API token of the tenant.
    #[arg(long, env = "COHORT_TOKEN", hide_env_values = true)]
    pub token: String,
    /// The tenant's slug.
    #[arg(long, env = "COHORT_TENANT", default_value = "default")]
    pub tenant: String,
}

impl Remote {
    pub fn api(&self, path: &str) -> String {
        format!("{}/t/{}/api/v1{path}", self.url.trim_end_matches('/'), self.tenant)
    }

    pub fn call(&self, method: &str, path: &str, content_type: &str, body: Option<&str>) -> Result<(u16, String)> {
        let req = ureq::request(method, &self.api(path)).set("Authorization", &format!("Bearer {}", self.token));
        let res = match body {
            Some(b) => req.set("Content-Type", content_type).send_string(b),
            None => req.call(),
        };
        let res = match res {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(e).with_context(|| format!("reaching {}", self.url)),
        };
        let status = res.status();
        Ok((status, res.into_string().context("reading the answer")?))
    }

    pub fn json(&self, method: &str, path: &str, content_type: &str, body: Option<&str>) -> Result<Value> {
        let (status, text) = self.call(method, path, content_type, body)?;
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if status >= 400 {
            bail!("{method} {path}: {status}: {}", problem_text(&v));
        }
        Ok(v)
    }

    /// The id of the group with this slug (or the id itself, when given one).
    pub fn group_id(&self, slug: &str) -> Result<String> {
        if slug.starts_with("grp_") {
            return Ok(slug.to_owned());
        }
        let page = self.json("GET", &format!("/groups?limit=500&q={}", encode(slug)), "", None)?;
        page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|g| g["slug"] == slug)
            .and_then(|g| g["id"].as_str())
            .map(str::to_owned)
            .with_context(|| format!("no group has the slug `{slug}`"))
    }
}

pub fn problem_text(v: &Value) -> String {
    let mut out = v["detail"].as_str().or(v["title"].as_str()).unwrap_or("").to_owned();
    for e in v["errors"].as_array().into_iter().flatten() {
        out.push_str(&format!("; {}: {}", e["field"].as_str().unwrap_or(""), e["message"].as_str().unwrap_or("")));
    }
    if out.is_empty() { v.to_string() } else { out }
}

pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Remote {
    /// Every item of a listing, page after page (`path` carries its query, with `limit`).
    pub fn all(&self, path: &str) -> Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = match &cursor {
                Some(c) => self.json("GET", &format!("{path}&cursor={}", encode(c)), "", None)?,
                None => self.json("GET", path, "", None)?,
            };
            items.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return Ok(items),
            }
        }
    }

    /// The id of the user with this email (or the id itself, when given one).
    pub fn user_id(&self, who: &str) -> Result<String> {
        if who.starts_with("usr_") {
            return Ok(who.to_owned());
        }
        let page = self.json("GET", &format!("/users?limit=20&q={}", encode(who)), "", None)?;
        page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|u| u["email"].as_str().is_some_and(|e| e.eq_ignore_ascii_case(who)))
            .and_then(|u| u["id"].as_str())
            .map(str::to_owned)
            .with_context(|| format!("no user has the email `{who}`"))
    }
}

/// Prints `rows` under `headers` in aligned columns.
pub fn table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(headers.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}

/// Prints `v` as JSON (for `--json`), or runs `human` to print it for people.
pub fn print(json: bool, v: &Value, human: impl FnOnce(&Value)) {
    if json {
        println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
    } else {
        human(v);
    }
}

/// Prints listed `items` as JSON (for `--json`), or as a table of `columns` (header, field).
pub fn print_items(json: bool, items: Vec<Value>, columns: &[(&str, &str)]) {
    let items = Value::Array(items);
    print(json, &items, |v| {
        let rows: Vec<Vec<String>> = v
            .as_array()
            .into_iter()
            .flatten()
            .map(|item| columns.iter().map(|(_, k)| cell(&item[*k])).collect())
            .collect();
        let headers: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
        table(&headers, &rows);
    });
}

/// A JSON value as a table cell.
pub fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
