//! cohort's benchmarks, each one command (see BENCHMARKS.md):
//!
//!     cohort-bench inproc          in-process check latency: cohort, cedar-policy, casbin
//!     cohort-bench nest            one nesting edge that gives 100,000 users new access
//!     cohort-bench load URL        write the standard dataset into a database
//!     cohort-bench cold URL        time and peak memory to build the index from it
//!     cohort-bench visible A B     write on server A, time until a check on B reflects it
//!     cohort-bench console BASE    the console's groups list and members tab next to REST

mod console;
mod dataset;
mod http;
mod import;
mod peers;
mod rules;
mod scim;
mod visible;

use cohort_core::index::{AccessIndex, Touched};
use cohort_core::resolve::{check_permission, resolve};
use cohort_core::{Timestamp, UserId};
use dataset::{Dataset, Rng, Size, gid, uid};
use std::time::{Duration, Instant};

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Percentile of sorted nanoseconds.
fn pct(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn timer_overhead() -> u64 {
    let mut v: Vec<u64> = (0..200_000)
        .map(|_| {
            let t = Instant::now();
            t.elapsed().as_nanos() as u64
        })
        .collect();
    v.sort_unstable();
    pct(&v, 0.5)
}

/// The machine's floor for one random memory read that misses every cache: a chain of
/// dependent reads through a shuffled 256 MiB cycle (each read needs the one before).
fn memory_latency() -> u64 {
    let n: usize = 32 << 20; // 32 Mi slots of 8 bytes
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = Rng::new(11);
    for i in (1..n).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let mut next = vec![0usize; n];
    for w in 0..n {
        next[order[w]] = order[(w + 1) % n];
    }
    let steps = 2_000_000;
    let mut at = order[0];
    let t = Instant::now();
    for _ in 0..steps {
        at = next[at];
    }
    let ns = t.elapsed().as_nanos() as u64 / steps as u64;
    std::hint::black_box(at);
    ns
}

struct Lat {
    allowed: Vec<u64>,
    denied: Vec<u64>,
}

impl Lat {
    fn new() -> Self {
        Self { allowed: Vec::new(), denied: Vec::new() }
    }
    fn push(&mut self, allowed: bool, ns: u64) {
        if allowed { self.allowed.push(ns) } else { self.denied.push(ns) }
    }
    fn report(mut self, name: &str, overhead: u64) -> (u64, u64) {
        self.allowed.sort_unstable();
        self.denied.sort_unstable();
        let c = |x: u64| x.saturating_sub(overhead);
        println!(
            "{name:<8} allowed p50 {:>9} ns  p99 {:>9} ns | denied p50 {:>9} ns  p99 {:>9} ns  ({} + {} samples)",
            c(pct(&self.allowed, 0.5)),
            c(pct(&self.allowed, 0.99)),
            c(pct(&self.denied, 0.5)),
            c(pct(&self.denied, 0.99)),
            self.allowed.len(),
            self.denied.len()
        );
        let mut all: Vec<u64> = self.allowed.iter().chain(self.denied.iter()).copied().collect();
        all.sort_unstable();
        (c(pct(&all, 0.5)), c(pct(&all, 0.99)))
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn inproc() {
    let size = Size::standard();
    let queries_n = env_usize("BENCH_QUERIES", 100_000);
    let t = Instant::now();
    let data = Dataset::generate(size, 42);
    let state = data.state();
    println!("dataset: {} users, {} groups, {} memberships, {} edges, {} role assignments, {} grants ({:?})",
        size.users, size.groups, data.memberships.len(), data.edges.len(), data.group_roles.len() + data.user_roles.len(), data.grants.len(), t.elapsed());
    let now = Timestamp(1);
    let t = Instant::now();
    let index = AccessIndex::build(&state, now);
    println!("cohort index built in {:?}", t.elapsed());

    // Half the queries ask for something the user holds, half for a random permission.
    let mut rng = Rng::new(7);
    let mut queries: Vec<(usize, String)> = Vec::with_capacity(queries_n);
    while queries.len() < queries_n {
        let u = rng.below(size.users);
        if queries.len() % 2 == 0 {
            let held = resolve(&state, &uid(u), now).permissions;
            if held.is_empty() {
                continue;
            }
            queries.push((u, held[rng.below(held.len())].permission.to_string()));
        } else {
            queries.push((u, dataset::perm(rng.below(size.permissions))));
        }
    }
    let users: Vec<UserId> = (0..size.users).map(uid).collect();
    let reference: Vec<bool> = queries.iter().map(|(u, p)| check_permission(&state, &users[*u], p, now).allowed).collect();
    println!("queries: {} ({} allowed by the reference resolution)", queries.len(), reference.iter().filter(|a| **a).count());

    let overhead = timer_overhead();
    println!("timer overhead {overhead} ns per sample (subtracted below)");
    println!("memory latency floor: {} ns per dependent random read over 256 MiB", memory_latency());

    // Each query owns its inputs, laid out in order, as a request's would be.
    let prepared: Vec<(UserId, String)> = queries.iter().map(|(u, p)| (uid(*u), p.clone())).collect();
    let mut disagreements = [0usize; 3];
    let mut lat = Lat::new();
    for (i, (user, p)) in prepared.iter().enumerate() {
        let t = Instant::now();
        let v = index.check_permission(&state, user, p, now);
        let ns = t.elapsed().as_nanos() as u64;
        let allowed = v.allowed();
        if allowed != reference[i] {
            disagreements[0] += 1;
        }
        lat.push(allowed, ns);
    }
    let cohort = lat.report("cohort", overhead);
    if std::env::var("BENCH_PEERS").as_deref() == Ok("0") {
        println!("disagreements with the reference: cohort {} (peers skipped)", disagreements[0]);
        return;
    }

    let t = Instant::now();
    let cedar = peers::Cedar::build(&data);
    println!("cedar    built in {:?}", t.elapsed());
    let requests: Vec<_> = queries.iter().map(|(u, p)| cedar.request(*u, p)).collect();
    let mut lat = Lat::new();
    for (i, r) in requests.iter().enumerate() {
        let t = Instant::now();
        let allowed = cedar.check(r);
        let ns = t.elapsed().as_nanos() as u64;
        if allowed != reference[i] {
            disagreements[1] += 1;
        }
        lat.push(allowed, ns);
    }
    let cedar_p = lat.report("cedar", overhead);

    let t = Instant::now();
    let casbin = peers::Casbin::build(&data).await;
    println!("casbin   built in {:?}", t.elapsed());
    let casbin_n = env_usize("BENCH_CASBIN_QUERIES", queries.len()).min(queries.len());
    let mut lat = Lat::new();
    for (i, (u, p)) in queries.iter().take(casbin_n).enumerate() {
        let user = format!("u{u}");
        let t = Instant::now();
        let allowed = casbin.check(&user, p);
        let ns = t.elapsed().as_nanos() as u64;
        if allowed != reference[i] {
            disagreements[2] += 1;
        }
        lat.push(allowed, ns);
    }
    let casbin_p = lat.report("casbin", overhead);
    println!(
        "disagreements with the reference over {} queries: cohort {}, cedar {}, casbin {} (casbin over {casbin_n})",
        queries.len(),
        disagreements[0],
        disagreements[1],
        disagreements[2]
    );
    let ratio = |a: u64, b: u64| if b == 0 { f64::INFINITY } else { a as f64 / b as f64 };
    println!(
        "ratios (peer / cohort, all queries): cedar p50 {:.0}x p99 {:.0}x; casbin p50 {:.0}x p99 {:.0}x",
        ratio(cedar_p.0, cohort.0.max(1)),
        ratio(cedar_p.1, cohort.1.max(1)),
        ratio(casbin_p.0, cohort.0.max(1)),
        ratio(casbin_p.1, cohort.1.max(1))
    );
    println!("peak resident memory {:.0} MiB", peak_rss_mib());
}

fn nest() {
    let size = Size::standard();
    let data = Dataset::generate(size, 42);
    let mut state = data.state();
    let now = Timestamp(1);
    let mut index = AccessIndex::build(&state, now);
    // A new group above the root, holding a role with a permission nobody has.
    let top = gid(size.groups);
    state.put_group(
        top.clone(),
        cohort_core::state::GroupFacts {
            name: "everyone".into(),
            active: true,
            apply_privileges: true,
            source: cohort_core::model::GroupSource::Local,
            member_types: Default::default(),
        },
    );
    let role = dataset::rid(size.roles);
    let fresh = cohort_core::permission::Permission::parse("everything:new").unwrap();
    state.put_role(role.clone(), cohort_core::state::RoleFacts { name: "new".into(), permissions: vec![fresh] });
    state.assign(&cohort_core::model::Subject::Group(top.clone()), &role);
    let mut prep = Touched::default();
    prep.groups.insert(top.clone());
    prep.roles.insert(role);
    let fp = AccessIndex::footprint(&state, &prep);
    index.refresh(&state, &fp, now);
    let sample = uid(12_345);
    assert!(!index.check_permission(&state, &sample, "everything:new", now).allowed());

    let mut times = Vec::new();
    for round in 0..5 {
        let root = gid(0);
        let mut touched = Touched::default();
        touched.groups.insert(root.clone());
        let t = Instant::now();
        let mut footprint = AccessIndex::footprint(&state, &touched);
        if round % 2 == 0 {
            state.set_parents(&root, [top.clone()]);
        } else {
            state.set_parents(&root, []);
        }
        footprint.merge(AccessIndex::footprint(&state, &touched));
        index.refresh(&state, &footprint, now);
        let took = t.elapsed();
        let users = footprint.users();
        assert_eq!(index.check_permission(&state, &sample, "everything:new", now).allowed(), round % 2 == 0);
        println!("{} the edge: {users} users' entries recomputed in {took:?}", if round % 2 == 0 { "adding" } else { "removing" });
        times.push(took);
    }
    times.sort();
    println!("median {:?}", times[times.len() / 2]);
}

async fn load(url: &str) {
    let data = Dataset::generate(Size::standard(), 42);
    let t = Instant::now();
    peers::write_to_store(url, &data).await;
    println!("wrote the standard dataset to {url} in {:?}", t.elapsed());
}

async fn cold(url: &str) {
    let store = cohort_store::Store::connect(url).await.unwrap();
    let tenant = store.read().await.unwrap().tenant_by_slug("default").await.unwrap().expect("run `load` first");
    let t = Instant::now();
    let state = store.read().await.unwrap().load_state(&tenant.id).await.unwrap();
    let loaded = t.elapsed();
    let index = AccessIndex::build(&state, Timestamp(1));
    let total = t.elapsed();
    println!(
        "cold start from {}: loaded in {loaded:?}, index built, total {total:?}; {} users indexed; peak resident memory {:.0} MiB",
        url.split(':').next().unwrap_or(url),
        index.user_count(),
        peak_rss_mib()
    );
    let _ = Duration::ZERO;
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("inproc") => inproc().await,
        Some("nest") => nest(),
        Some("load") => load(args.get(2).expect("database url")).await,
        Some("cold") => cold(args.get(2).expect("database url")).await,
        Some("visible") => visible::run(&args[2], &args[3], peers::TOKEN, 200),
        Some("console") => console::run(&args[2], peers::TOKEN),
        Some("scim") => scim::run(&args[2], peers::TOKEN),
        Some("import") => import::run(&args[2], peers::TOKEN),
        Some("rules") => rules::run(&args[2], peers::TOKEN),
        Some("rules-limits") => rules::heaviest_accepted(&args[2], peers::TOKEN),
        _ => eprintln!("usage: cohort-bench inproc | nest | load URL | cold URL | visible BASE_A BASE_B | console BASE | scim BASE | import BASE | rules BASE"),
    }
}
