//! `cohort access USER` (everything a user holds and why) and `cohort check USER PERMISSION`
//! (or `--resource R --level L`): the answers apps get, on a running server.

use crate::remote::{Remote, cell, print, table};
use anyhow::{Result, bail};
use serde_json::{Value, json};

/// `cohort access`.
#[derive(clap::Args)]
pub struct AccessArgs {
    #[command(flatten)]
    remote: Remote,
    /// The user's email or id.
    user: String,
    /// Print the answer as JSON.
    #[arg(long)]
    json: bool,
}

/// `cohort check`.
#[derive(clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    remote: Remote,
    /// The user's email or id.
    user: String,
    /// The permission asked about.
    permission: Option<String>,
    /// Ask about a level on this resource instead.
    #[arg(long, requires = "level", conflicts_with = "permission")]
    resource: Option<String>,
    /// The level wanted on `--resource`.
    #[arg(long, requires = "resource")]
    level: Option<String>,
    /// Print the answer as JSON.
    #[arg(long)]
    json: bool,
}

fn explanations(items: &Value, key: &str) -> String {
    items[key].as_array().into_iter().flatten().map(|v| cell(&v["explanation"])).collect::<Vec<_>>().join("; ")
}

/// Runs `cohort access`.
pub fn access(a: AccessArgs) -> Result<()> {
    let id = a.remote.user_id(&a.user)?;
    let v = a.remote.json("GET", &format!("/users/{id}/access"), "", None)?;
    print(a.json, &v, |v| {
        if v["active"] == json!(false) {
            println!("{} is suspended: no access", a.user);
            return;
        }
        println!("Groups");
        let groups: Vec<Vec<String>> = v["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|g| {
                vec![
                    cell(&g["name"]),
                    if g["direct"] == json!(true) { "direct" } else { "inherited" }.to_owned(),
                    explanations(g, "paths"),
                ]
            })
            .collect();
        table(&["GROUP", "HOW", "WHY"], &groups);
        println!("\nRoles");
        let roles: Vec<Vec<String>> = v["roles"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| vec![cell(&r["name"]), explanations(r, "via")])
            .collect();
        table(&["ROLE", "WHY"], &roles);
        println!("\nPermissions");
        let perms: Vec<Vec<String>> =
            v["permissions"].as_array().into_iter().flatten().map(|p| vec![cell(&p["permission"])]).collect();
        table(&["PERMISSION"], &perms);
        println!("\nLevels");
        let levels: Vec<Vec<String>> = v["levels"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| vec![cell(&l["name"]), cell(&l["level"]), explanations(l, "via")])
            .collect();
        table(&["RESOURCE", "LEVEL", "WHY"], &levels);
    });
    Ok(())
}

/// Runs `cohort check`; exits 0 when allowed and 1 when denied, so scripts can branch on it.
pub fn check(a: CheckArgs) -> Result<bool> {
    let id = a.remote.user_id(&a.user)?;
    let body = match (&a.permission, &a.resource, &a.level) {
        (Some(p), None, None) => json!({ "userId": id, "permission": p }),
        (None, Some(r), Some(l)) => json!({ "userId": id, "resourceId": r, "level": l }),
        _ => bail!("ask about a PERMISSION, or a --resource with a --level"),
    };
    let v = a.remote.json("POST", "/check", "application/json", Some(&body.to_string()))?;
    let allowed = v["allowed"] == json!(true);
    print(a.json, &v, |v| println!("{}: {}", if allowed { "allowed" } else { "denied" }, cell(&v["reason"])));
    Ok(allowed)
}
