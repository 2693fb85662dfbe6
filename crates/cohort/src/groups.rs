//! `cohort groups list|create|show|archive|unarchive|delete`: groups on a running server,
//! through its REST API.

use crate::remote::{Remote, cell, encode, print, print_items};
use anyhow::{Result, bail};
use serde_json::{Value, json};
use std::io::{BufRead, IsTerminal, Write};

/// `cohort groups ...`.
#[derive(clap::Subcommand)]
pub enum GroupsCommand {
    /// Lists groups by name (every page).
    List {
        #[command(flatten)]
        remote: Remote,
        /// Only groups whose name or slug contains this.
        #[arg(long)]
        q: Option<String>,
        /// `active` or `archived`.
        #[arg(long)]
        status: Option<String>,
        /// Print the answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Creates a group.
    Create {
        #[command(flatten)]
        remote: Remote,
        /// Its name.
        name: String,
        /// Its slug (derived from the name when absent).
        #[arg(long)]
        slug: Option<String>,
        /// Its description.
        #[arg(long)]
        description: Option<String>,
        /// A parent group's slug or id (repeat for several).
        #[arg(long = "parent")]
        parents: Vec<String>,
        /// Print the answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Shows one group.
    Show {
        #[command(flatten)]
        remote: Remote,
        /// The group's slug or id.
        group: String,
        /// Print the answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Archives a group: it keeps its members and grants and confers nothing.
    Archive {
        #[command(flatten)]
        remote: Remote,
        /// The group's slug or id.
        group: String,
    },
    /// Unarchives a group.
    Unarchive {
        #[command(flatten)]
        remote: Remote,
        /// The group's slug or id.
        group: String,
    },
    /// Deletes a group, after asking (how many users lose access through it).
    Delete {
        #[command(flatten)]
        remote: Remote,
        /// The group's slug or id.
        group: String,
        /// Delete without asking.
        #[arg(long)]
        yes: bool,
    },
}

fn show(v: &Value) {
    for (label, key) in [
        ("id", "id"),
        ("name", "name"),
        ("slug", "slug"),
        ("status", "status"),
        ("source", "source"),
        ("members", "memberCount"),
        ("description", "description"),
    ] {
        println!("{label:<12} {}", cell(&v[key]));
    }
    let parents: Vec<String> = v["parentIds"].as_array().into_iter().flatten().map(cell).collect();
    println!("{:<12} {}", "parents", parents.join(", "));
}

/// Runs a `cohort groups` command.
pub fn run(command: GroupsCommand) -> Result<()> {
    match command {
        GroupsCommand::List { remote, q, status, json } => {
            let mut query = String::from("limit=500");
            if let Some(q) = q {
                query.push_str(&format!("&q={}", encode(&q)));
            }
            if let Some(s) = status {
                query.push_str(&format!("&status={}", encode(&s)));
            }
            let items = remote.all(&format!("/groups?{query}"))?;
            print_items(
                json,
                items,
                &[
                    ("SLUG", "slug"),
                    ("NAME", "name"),
                    ("STATUS", "status"),
                    ("SOURCE", "source"),
                    ("MEMBERS", "memberCount"),
                    ("ID", "id"),
                ],
            );
            Ok(())
        }
        GroupsCommand::Create { remote, name, slug, description, parents, json } => {
            let parent_ids = parents.iter().map(|p| remote.group_id(p)).collect::<Result<Vec<_>>>()?;
            let mut body = json!({ "name": name, "parentIds": parent_ids });
            if let Some(s) = slug {
                body["slug"] = json!(s);
            }
            if let Some(d) = description {
                body["description"] = json!(d);
            }
            let v = remote.json("POST", "/groups", "application/json", Some(&body.to_string()))?;
            print(json, &v, show);
            Ok(())
        }
        GroupsCommand::Show { remote, group, json } => {
            let v = remote.json("GET", &format!("/groups/{}", remote.group_id(&group)?), "", None)?;
            print(json, &v, show);
            Ok(())
        }
        GroupsCommand::Archive { remote, group } => {
            remote.json("POST", &format!("/groups/{}/archive", remote.group_id(&group)?), "", None)?;
            println!("{group} is archived: it confers nothing until it is unarchived");
            Ok(())
        }
        GroupsCommand::Unarchive { remote, group } => {
            remote.json("POST", &format!("/groups/{}/unarchive", remote.group_id(&group)?), "", None)?;
            println!("{group} is unarchived");
            Ok(())
        }
        GroupsCommand::Delete { remote, group, yes } => {
            let id = remote.group_id(&group)?;
            if !yes {
                if !std::io::stdin().is_terminal() {
                    bail!("not confirmed: pass --yes to delete without a terminal");
                }
                print!(
                    "Delete {group}? Its members, and the members of its child groups, lose what it confers. [y/N] "
                );
                std::io::stdout().flush()?;
                let mut answer = String::new();
                std::io::stdin().lock().read_line(&mut answer)?;
                if !matches!(answer.trim(), "y" | "Y" | "yes") {
                    println!("not confirmed; nothing changed");
                    return Ok(());
                }
            }
            remote.json("DELETE", &format!("/groups/{id}"), "", None)?;
            println!("{group} was deleted");
            Ok(())
        }
    }
}
