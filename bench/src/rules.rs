//! Auto-assignment rules: a rule saved and applied across the 100,000 users of the standard
//! dataset (over HTTP, against a release server), and the re-evaluation of 100 rules for one
//! changed user (in process, and as the added cost of a user change over HTTP).

use crate::http::{call, pct};
use cohort_core::model::{User, UserStatus};
use cohort_core::name::{AttributeValue, Attributes, Email, ShortText, SsoGroups};
use cohort_core::rule::{Cel, RuleEngine};
use cohort_core::{Timestamp, UserId};
use serde_json::json;
use std::time::{Duration, Instant};

const API: &str = "/t/default/api/v1";

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// 100 rules of the shapes admins write: equality, suffix, membership in a list, a
/// conjunction, a guarded attribute.
fn hundred_rules() -> Vec<String> {
    (0..100)
        .map(|i| match i % 5 {
            0 => format!("user.department == 'Dept{i}'"),
            1 => format!("user.email.endsWith('@d{i}.example.com')"),
            2 => format!("'g{i}' in user.ssoGroups"),
            3 => format!("user.department == 'Sales' && user.title.startsWith('Senior {i}')"),
            _ => format!("has(user.attributes.region) && user.attributes.region == 'r{i}'"),
        })
        .collect()
}

fn in_process() {
    let cel = Cel::default();
    let rules: Vec<_> = hundred_rules().iter().map(|r| cel.compile(r).unwrap()).collect();
    let text = |s: &str| ShortText::parse("x", s, false).unwrap();
    let user = User {
        id: UserId::parse("usr_000000000042").unwrap(),
        email: Some(Email::parse("ann@d1.example.com").unwrap()),
        user_name: None,
        display_name: text("Ann"),
        department: text("Sales"),
        title: text("Senior 3 Engineer"),
        attributes: Attributes::new([("region".to_owned(), AttributeValue::One("r4".to_owned()))].into()).unwrap(),
        sso_groups: SsoGroups::new(["g2".to_owned(), "emea".to_owned()]).unwrap(),
        status: UserStatus::Active,
        user_type: Default::default(),
        external_id: None,
        time_zone: None,
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    };
    let mut times = Vec::new();
    let mut matched = 0;
    for _ in 0..20_000 {
        let t = Instant::now();
        let subject = cel.subject(&user);
        matched = rules.iter().filter(|r| cel.matches(r, &subject) == Ok(true)).count();
        times.push(t.elapsed());
    }
    println!(
        "100 rules decided for one user in process (subject built each time; {matched} match): p50 {:.1} µs, p99 {:.1} µs",
        pct(&mut times, 0.5).as_secs_f64() * 1e6,
        pct(&mut times, 0.99).as_secs_f64() * 1e6
    );
}

/// p50 of changing one user's title `n` times.
fn user_change_p50(base: &str, token: &str, api: &str, user: &str, n: usize) -> Duration {
    let mut times = Vec::new();
    for i in 0..n {
        let t = Instant::now();
        let (s, v) = call(base, "PATCH", &format!("{api}/users/{user}"), token, Some(json!({"title": format!("T{i}")})));
        times.push(t.elapsed());
        assert_eq!(s, 200, "{v}");
    }
    pct(&mut times, 0.5)
}

fn hundred_rules_over_http(base: &str, token: &str) {
    let (s, v) = call(
        base,
        "POST",
        "/api/v1/tenants",
        token,
        Some(json!({"slug": "rules100", "name": "Rules", "adminEmail": "admin@rules.example"})),
    );
    assert_eq!(s, 201, "{v}");
    let admin = v["adminToken"].as_str().unwrap().to_owned();
    let api = "/t/rules100/api/v1";
    let (_, u) = call(base, "POST", &format!("{api}/users"), &admin, Some(json!({"email": "ann@d1.example.com"})));
    let user = u["id"].as_str().unwrap().to_owned();
    let without = user_change_p50(base, &admin, api, &user, 300);
    for (i, expression) in hundred_rules().iter().enumerate() {
        let (_, g) = call(base, "POST", &format!("{api}/groups"), &admin, Some(json!({"name": format!("Ruled {i}")})));
        let group = g["id"].as_str().unwrap();
        let body = json!({"expression": expression, "confirm": true});
        let (s, v) = call(base, "POST", &format!("{api}/groups/{group}/rules"), &admin, Some(body));
        assert_eq!(s, 201, "{v}");
    }
    let with = user_change_p50(base, &admin, api, &user, 300);
    println!(
        "PATCH of one user over HTTP: p50 {:.2} ms without rules, {:.2} ms with 100 active rules (+{:.2} ms: \
         evaluation, rule state and membership writes)",
        ms(without),
        ms(with),
        ms(with.saturating_sub(without))
    );
}

fn across_all_users(base: &str, token: &str) {
    for (name, expression) in [
        // A regular expression (users whose number ends in an even digit and a 5: 5,000 of
        // them), next to the plain rule that 5,000 users join too.
        ("Regex", "user.email.matches('^user[0-9]*[02468]5@bench[.]example$')"),
        ("Dept4 seniors", "user.department == 'Dept4' && user.title.startsWith('Senior')"),
        ("EMEA", "'emea' in user.ssoGroups"),
        ("Everyone", "user.email.endsWith('@bench.example')"),
    ] {
        let (_, g) = call(base, "POST", &format!("{API}/groups"), token, Some(json!({"name": name})));
        let group = g["id"].as_str().unwrap().to_owned();
        let t = Instant::now();
        let (s, p) = call(base, "POST", &format!("{API}/groups/{group}/rules"), token, Some(json!({"expression": expression})));
        let preview = t.elapsed();
        assert_eq!(s, 200, "{p}");
        let t = Instant::now();
        let body = json!({"expression": expression, "confirm": true});
        let (s, a) = call(base, "POST", &format!("{API}/groups/{group}/rules"), token, Some(body));
        let apply = t.elapsed();
        assert_eq!(s, 201, "{a}");
        assert_eq!(p["addedCount"], a["addedCount"]);
        println!(
            "rule `{expression}` over 100,000 users: preview {:.0} ms, saved and applied {:.0} ms ({} members added, \
             each with its audit event)",
            ms(preview),
            ms(apply),
            a["addedCount"]
        );
    }
}

/// The largest `n` for which `make(n)` still compiles (rules are bounded when saved), from `hi`
/// down.
fn largest_accepted(make: impl Fn(usize) -> String, hi: usize) -> String {
    let cel = Cel::default();
    (1..=hi).rev().map(&make).find(|e| cel.compile(e).is_ok()).unwrap_or_else(|| make(1))
}

/// The heaviest rules the save-time bounds still accept, each previewed (every user read and
/// decided, nothing written) over the 100,000 users of the standard dataset.
pub fn heaviest_accepted(base: &str, token: &str) {
    let list = |n: usize| format!("[{}]", (0..n).map(|i| i.to_string()).collect::<Vec<_>>().join(","));
    let candidates = [
        (
            "longest chain",
            largest_accepted(
                |n| (0..n).map(|i| format!("user.email == 'u{i}@x.co'")).collect::<Vec<_>>().join(" || "),
                60,
            ),
        ),
        (
            "longest chain of patterns",
            largest_accepted(
                |n| (0..n).map(|i| format!("user.email.matches('^u{i}[a-z]*@x[.]co$')")).collect::<Vec<_>>().join(" || "),
                60,
            ),
        ),
        ("widest literal comprehension", largest_accepted(|n| format!("{}.exists(x, x < 0)", list(n)), 1000)),
        (
            "nested literal comprehensions",
            largest_accepted(|n| format!("{0}.exists(x, {0}.exists(y, x + y < 0))", list(n)), 100),
        ),
        (
            "nested data comprehensions",
            "user.ssoGroups.exists(a, user.ssoGroups.exists(b, a + b == 'emeaapac'))".to_owned(),
        ),
    ];
    let mut slowest = (String::new(), Duration::ZERO);
    for (name, expression) in candidates {
        let (_, g) = call(base, "POST", &format!("{API}/groups"), token, Some(json!({"name": format!("Limit {name}")})));
        let group = g["id"].as_str().unwrap().to_owned();
        let t = Instant::now();
        let (s, p) = call(base, "POST", &format!("{API}/groups/{group}/rules"), token, Some(json!({"expression": expression})));
        let took = t.elapsed();
        assert_eq!(s, 200, "{name}: {p}");
        println!(
            "{name} ({} characters): preview over 100,000 users {:.0} ms ({} would join)",
            expression.chars().count(),
            ms(took),
            p["addedCount"]
        );
        if took > slowest.1 {
            slowest = (name.to_owned(), took);
        }
    }
    println!("slowest accepted rule preview: {} in {:.0} ms", slowest.0, ms(slowest.1));
}

pub fn run(base: &str, token: &str) {
    in_process();
    across_all_users(base, token);
    hundred_rules_over_http(base, token);
}
