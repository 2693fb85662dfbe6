//! The `cohort` binary: `cohort serve` runs the server; `cohort openapi` prints its API
//! document; `cohort members` imports and exports a group's members on a running server;
//! `cohort admin-token` mints a new admin token against the database.

mod access;
mod groups;
mod members;
mod remote;

use anyhow::Context;
use clap::{Parser, Subcommand};
use cohort_service::Bootstrap;
use cohort_service::{Config, Services, runtime, worker};
use cohort_store::Store;
use cohort_web::{app, rest};
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "cohort", version, about = "Group-based access management")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the server.
    Serve(ServeArgs),
    /// Prints the OpenAPI document.
    Openapi,
    /// Lists, creates, shows, archives, unarchives and deletes groups on a running server.
    #[command(subcommand)]
    Groups(groups::GroupsCommand),
    /// Adds, removes, lists, imports and exports a group's members on a running server.
    #[command(subcommand)]
    Members(members::MembersCommand),
    /// Shows everything a user holds on a running server, and why.
    Access(access::AccessArgs),
    /// Asks whether a user may do something (exit status 0 allowed, 1 denied), and why.
    Check(access::CheckArgs),
    /// Mints a new admin token, run against the database (for a lost first-start token).
    AdminToken(AdminTokenArgs),
}

#[derive(clap::Args)]
struct AdminTokenArgs {
    /// The tenant's slug.
    #[arg(long, default_value = "default")]
    tenant: String,
    /// The database the server uses.
    #[arg(long, env = "COHORT_DATABASE_URL", default_value = "sqlite://cohort-data/cohort.db")]
    database_url: String,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "COHORT_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// `sqlite://PATH` (created on first start) or `postgres://...`.
    #[arg(long, env = "COHORT_DATABASE_URL", default_value = "sqlite://cohort-data/cohort.db")]
    database_url: String,
    /// Longest allowed chain of nested groups.
    #[arg(long, env = "COHORT_MAX_NESTING_DEPTH", default_value_t = 25)]
    max_nesting_depth: usize,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "COHORT_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    max_body_bytes: usize,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "COHORT_LOG_JSON", default_value_t = false)]
    log_json: bool,
    /// The URL clients reach the server at, for the links it hands out (e.g. behind a proxy
    /// that terminates TLS: `https://access.example.com`).
    #[arg(long, env = "COHORT_PUBLIC_URL")]
    public_url: Option<String>,
    /// Most rows one CSV import may hold; a larger file is refused whole.
    #[arg(long, env = "COHORT_MAX_IMPORT_ROWS", default_value_t = 1000)]
    max_import_rows: usize,
    /// Seconds between sweeps that remove expired memberships (access stops at the expiry
    /// whatever this is; the sweep clears the rows and audits their removal).
    #[arg(long, env = "COHORT_SWEEP_SECONDS", default_value_t = 60)]
    sweep_seconds: u64,
    /// Minutes a console session may go unused before it ends.
    #[arg(long, env = "COHORT_SESSION_IDLE_MINUTES", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=10_080))]
    session_idle_minutes: u32,
    /// Hours a console session lasts at most, however much it is used.
    #[arg(long, env = "COHORT_SESSION_MAX_HOURS", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=720))]
    session_max_hours: u32,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Openapi => {
            println!("{}", rest::openapi_json());
            Ok(())
        }
        Command::Serve(args) => serve(args).await,
        Command::Groups(command) => tokio::task::spawn_blocking(move || groups::run(command)).await?,
        Command::Members(command) => tokio::task::spawn_blocking(move || members::run(command)).await?,
        Command::Access(args) => tokio::task::spawn_blocking(move || access::access(args)).await?,
        Command::Check(args) => {
            if !tokio::task::spawn_blocking(move || access::check(args)).await?? {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::AdminToken(args) => admin_token(args).await,
    }
}

/// Mints an admin token straight in the database and prints it (audited as `token.create`).
async fn admin_token(args: AdminTokenArgs) -> anyhow::Result<()> {
    let store = Store::connect(&args.database_url).await.with_context(|| format!("opening {}", args.database_url))?;
    let services =
        Services::new(store, Arc::new(runtime::SystemClock), Arc::new(runtime::RandomIds), Config::default());
    let created = services.mint_admin_token(&args.tenant).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    services.close().await;
    println!("New admin token for tenant `{}` (shown once, keep it): {}", args.tenant, created.secret);
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    if args.log_json {
        tracing_subscriber::fmt().json().with_env_filter(filter).with_writer(std::io::stderr).init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    }
    let store = Store::connect(&args.database_url).await.with_context(|| format!("opening {}", args.database_url))?;
    let config = Config {
        max_depth: args.max_nesting_depth,
        max_body_bytes: args.max_body_bytes,
        max_import_rows: args.max_import_rows,
        public_url: args.public_url.clone(),
        sessions: cohort_service::SessionLimits {
            idle_ms: i64::from(args.session_idle_minutes) * 60_000,
            absolute_ms: i64::from(args.session_max_hours) * 3_600_000,
            ..Default::default()
        },
    };
    let services = Arc::new(Services::new(store, Arc::new(runtime::SystemClock), Arc::new(runtime::RandomIds), config));
    let bootstrap = services.bootstrap(std::env::var("COHORT_BOOTSTRAP_TOKEN").ok()).await.context("first start")?;
    let started = std::time::Instant::now();
    let tenants = services.warm_up().await.context("loading the access index")?;
    tracing::info!(tenants, elapsed_ms = started.elapsed().as_millis() as u64, "access index built");
    let schedule = worker::Schedule { sweep_every: std::time::Duration::from_secs(args.sweep_seconds.max(1)) };
    let workers = worker::Workers::start(services.clone(), schedule);
    let listener =
        tokio::net::TcpListener::bind(&args.listen).await.with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");
    println!("cohort is listening on {base}");
    println!("  API:     {base}/t/default/api/v1   (OpenAPI: {base}/openapi.json)");
    println!("  SCIM:    {base}/t/default/scim/v2   (for a token made with \"scope\": \"scim\")");
    println!("  Console: {base}/t/default/portal/access-management/groups   (sign in with the admin token)");
    match bootstrap {
        Bootstrap::Created(created) => {
            println!(
                "  First start: created tenant `default` and its admin {}.",
                created.admin.email.as_ref().map_or("", |e| e.as_str())
            );
            println!("  Admin token (shown once, keep it): {}", created.secret);
            println!("  Try: curl -H 'Authorization: Bearer {}' {base}/t/default/api/v1/me", created.secret);
        }
        Bootstrap::AlreadyDone => {
            println!("  Using the existing database; use the admin token printed on first start.")
        }
    }
    axum::serve(listener, app::router(services.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(stop_signal())
        .await?;
    tracing::info!("no longer accepting; in-flight requests answered; stopping the workers");
    workers.stop().await;
    services.close().await;
    println!("cohort stopped");
    Ok(())
}

/// Resolves at Ctrl-C or SIGTERM: the server then stops accepting, answers the requests in
/// flight, lets the workers finish what they are doing and exits.
async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    tracing::info!("stopping");
}
