//! `cohort members import` and `cohort members export`: CSV in and out of a group of a
//! running server, through its REST API.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::io::{BufRead, IsTerminal, Write};

/// Where the server is and who is asking.
#[derive(clap::Args)]
pub struct Remote {
    /// The server's base URL.
    #[arg(long, env = "COHORT_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// An API token of the tenant.
    #[arg(long, env = "COHORT_TOKEN", hide_env_values = true)]
    token: String,
    /// The tenant's slug.
    #[arg(long, env = "COHORT_TENANT", default_value = "default")]
    tenant: String,
}

/// `cohort members ...`.
#[derive(clap::Subcommand)]
pub enum MembersCommand {
    /// Adds members to a group from a CSV file of `email,role` rows: shows the preview, asks,
    /// then confirms. Files longer than `--chunk` rows go in chunks, each applied whole.
    Import {
        #[command(flatten)]
        remote: Remote,
        /// The group's slug.
        #[arg(long)]
        group: String,
        /// The CSV file.
        file: std::path::PathBuf,
        /// Confirm without asking.
        #[arg(long)]
        yes: bool,
        /// Rows per import (the server refuses files longer than its limit, 1,000 by default).
        #[arg(long, default_value_t = 1000)]
        chunk: usize,
    },
    /// Writes a group's members as CSV (`email,userId,role,source,expiresAt`).
    Export {
        #[command(flatten)]
        remote: Remote,
        /// The group's slug.
        #[arg(long)]
        group: String,
        /// Where to write; standard output when absent.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
}

impl Remote {
    fn api(&self, path: &str) -> String {
        format!("{}/t/{}/api/v1{path}", self.url.trim_end_matches('/'), self.tenant)
    }

    fn call(&self, method: &str, path: &str, content_type: &str, body: Option<&str>) -> Result<(u16, String)> {
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

    fn json(&self, method: &str, path: &str, content_type: &str, body: Option<&str>) -> Result<Value> {
        let (status, text) = self.call(method, path, content_type, body)?;
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if status >= 400 {
            bail!("{method} {path}: {status}: {}", problem_text(&v));
        }
        Ok(v)
    }

    /// The id of the group with this slug.
    fn group_id(&self, slug: &str) -> Result<String> {
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

fn problem_text(v: &Value) -> String {
    let mut out = v["detail"].as_str().or(v["title"].as_str()).unwrap_or("").to_owned();
    for e in v["errors"].as_array().into_iter().flatten() {
        out.push_str(&format!("; {}: {}", e["field"].as_str().unwrap_or(""), e["message"].as_str().unwrap_or("")));
    }
    if out.is_empty() { v.to_string() } else { out }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A bar on standard error: `[#####.....] 3/10 what`.
fn progress(done: usize, total: usize, what: &str) {
    let width = 30;
    let filled = (done * width).checked_div(total).unwrap_or(width);
    eprint!("\r[{}{}] {done}/{total} {what}", "#".repeat(filled), ".".repeat(width - filled));
    if done == total {
        eprintln!();
    }
    let _ = std::io::stderr().flush();
}

/// Splits a file into files of at most `chunk` rows, each with the header.
fn chunks(text: &str, chunk: usize) -> Result<Vec<String>> {
    let mut lines = text.lines();
    let header = lines.next().context("the file is empty")?;
    let rows: Vec<&str> = lines.filter(|l| !l.trim().is_empty()).collect();
    if rows.iter().any(|r| r.contains('"')) && rows.len() > chunk {
        bail!("the file has quoted cells and more than {chunk} rows: split it by hand");
    }
    Ok(rows.chunks(chunk.max(1)).map(|part| format!("{header}\n{}\n", part.join("\n"))).collect())
}

fn show_issues(title: &str, items: &Value) {
    let items = items.as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        return;
    }
    println!("{title}:");
    for i in items.iter().take(20) {
        println!(
            "  line {}: {}{}",
            i["line"],
            i["email"].as_str().map(|e| format!("{e}: ")).unwrap_or_default(),
            i["reason"].as_str().unwrap_or("")
        );
    }
    if items.len() > 20 {
        println!("  ... and {} more", items.len() - 20);
    }
}

/// Runs a `cohort members` command.
pub fn run(command: MembersCommand) -> Result<()> {
    match command {
        MembersCommand::Import { remote, group, file, yes, chunk } => {
            let text = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let text = String::from_utf8(text).map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", file.display()))?;
            let id = remote.group_id(&group)?;
            let parts = chunks(&text, chunk)?;
            let mut previews = Vec::new();
            for (i, part) in parts.iter().enumerate() {
                if parts.len() > 1 {
                    progress(i, parts.len(), "previewed");
                }
                previews.push(remote.json("POST", &format!("/groups/{id}/members/import"), "text/csv", Some(part))?);
            }
            if parts.len() > 1 {
                progress(parts.len(), parts.len(), "previewed");
            }
            let count = |key: &str| previews.iter().map(|p| p["counts"][key].as_u64().unwrap_or(0)).sum::<u64>();
            let (added, skipped, errors) = (count("added"), count("skipped"), count("errors"));
            println!("{group}: {added} to add, {skipped} skipped, {errors} with errors");
            for p in &previews {
                show_issues("skipped", &p["skipped"]);
                show_issues("errors", &p["errors"]);
            }
            if added == 0 {
                println!("nothing to add");
                return Ok(());
            }
            if !yes {
                if !std::io::stdin().is_terminal() {
                    bail!("not confirmed: pass --yes to confirm without a terminal");
                }
                print!("Add {added} members to {group}? [y/N] ");
                std::io::stdout().flush()?;
                let mut answer = String::new();
                std::io::stdin().lock().read_line(&mut answer)?;
                if !matches!(answer.trim(), "y" | "Y" | "yes") {
                    println!("not confirmed; nothing changed");
                    return Ok(());
                }
            }
            let mut done = 0;
            for (i, p) in previews.iter().enumerate() {
                let import = p["importId"].as_str().context("the preview has no import id")?;
                let outcome = remote
                    .json(
                        "POST",
                        &format!("/groups/{id}/members/import/{import}/confirm"),
                        "application/json",
                        Some("{}"),
                    )
                    .with_context(|| {
                        format!("confirming part {} of {} ({done} members added before it)", i + 1, previews.len())
                    })?;
                done += outcome["added"].as_u64().unwrap_or(0);
                show_issues("left out since the preview", &outcome["skipped"]);
                if previews.len() > 1 {
                    progress(i + 1, previews.len(), "confirmed");
                }
            }
            println!("added {done} members to {group}");
            Ok(())
        }
        MembersCommand::Export { remote, group, output } => {
            let id = remote.group_id(&group)?;
            let (status, text) = remote.call("GET", &format!("/groups/{id}/members/export"), "", None)?;
            if status >= 400 {
                let v: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
                bail!("exporting {group}: {status}: {}", problem_text(&v));
            }
            match output {
                Some(path) => std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?,
                None => std::io::stdout().write_all(text.as_bytes())?,
            }
            Ok(())
        }
    }
}
