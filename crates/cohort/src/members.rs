//! `cohort members add|remove|list|import|export`: a group's members on a running server,
//! through its REST API.

use crate::remote::{Remote, cell, print, print_items, problem_text};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::io::{BufRead, IsTerminal, Write};

/// `cohort members ...`.
#[derive(clap::Subcommand)]
pub enum MembersCommand {
    /// Adds a user to a group by hand.
    Add {
        #[command(flatten)]
        remote: Remote,
        /// The group's slug or id.
        group: String,
        /// The user's email or id.
        user: String,
        /// Make them a manager of the group.
        #[arg(long)]
        manager: bool,
        /// When the membership stops conferring access (RFC 3339, e.g. 2027-01-31T00:00:00Z).
        #[arg(long)]
        expires: Option<String>,
        /// Why they are added (kept with the membership and in the audit log).
        #[arg(long)]
        reason: Option<String>,
        /// Print the answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Removes a user's hand-added membership of a group.
    Remove {
        #[command(flatten)]
        remote: Remote,
        /// The group's slug or id.
        group: String,
        /// The user's email or id.
        user: String,
    },
    /// Lists a group's direct members.
    List {
        #[command(flatten)]
        remote: Remote,
        /// The group's slug or id.
        group: String,
        /// Print the answer as JSON.
        #[arg(long)]
        json: bool,
    },
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
        MembersCommand::Add { remote, group, user, manager, expires, reason, json } => {
            let (g, u) = (remote.group_id(&group)?, remote.user_id(&user)?);
            let mut body = json!({ "userId": u, "role": if manager { "manager" } else { "member" } });
            if let Some(e) = expires {
                body["expiresAt"] = json!(e);
            }
            if let Some(r) = reason {
                body["reason"] = json!(r);
            }
            let v =
                remote.json("POST", &format!("/groups/{g}/members"), "application/json", Some(&body.to_string()))?;
            print(json, &v, |v| println!("{user} is now a {} of {group}", cell(&v["role"])));
            Ok(())
        }
        MembersCommand::Remove { remote, group, user } => {
            let (g, u) = (remote.group_id(&group)?, remote.user_id(&user)?);
            remote.json("DELETE", &format!("/groups/{g}/members/{u}"), "", None)?;
            println!("{user} was removed from {group}");
            Ok(())
        }
        MembersCommand::List { remote, group, json } => {
            let g = remote.group_id(&group)?;
            let items = remote.all(&format!("/groups/{g}/members?limit=500"))?;
            print_items(
                json,
                items,
                &[("USER", "userId"), ("ROLE", "role"), ("SOURCE", "source"), ("EXPIRES", "expiresAt")],
            );
            Ok(())
        }
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
