//! CSV import at its default limit: a 1,000-row file of members previewed, then confirmed in
//! one transaction, five times over into fresh groups.

use crate::http::{call, call_raw, pct};
use serde_json::json;
use std::time::{Duration, Instant};

const API: &str = "/t/default/api/v1";

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn run(base: &str, token: &str) {
    let t = Instant::now();
    let mut file = String::from("email,role\n");
    for i in 0..1000 {
        let email = format!("import{i}@bench.example");
        let (s, v) = call(base, "POST", &format!("{API}/users"), token, Some(json!({"email": email})));
        assert_eq!(s, 201, "{v}");
        file.push_str(&format!("{email},member\n"));
    }
    println!("made 1,000 users in {:?}", t.elapsed());
    let (mut previews, mut confirms) = (Vec::new(), Vec::new());
    for round in 0..5 {
        let (_, g) = call(base, "POST", &format!("{API}/groups"), token, Some(json!({"name": format!("Imported {round}")})));
        let group = g["id"].as_str().unwrap().to_owned();
        let t = Instant::now();
        let (s, p) = call_raw(base, "POST", &format!("{API}/groups/{group}/members/import"), token, "text/csv", &file);
        previews.push(t.elapsed());
        assert_eq!(s, 201, "{p}");
        assert_eq!(p["counts"]["added"], 1000);
        let id = p["importId"].as_str().unwrap();
        let t = Instant::now();
        let (s, c) = call(base, "POST", &format!("{API}/groups/{group}/members/import/{id}/confirm"), token, Some(json!({})));
        confirms.push(t.elapsed());
        assert_eq!(s, 200, "{c}");
        assert_eq!(c["added"], 1000);
    }
    println!(
        "1,000-row member import: preview p50 {:.0} ms (max {:.0} ms); confirm p50 {:.0} ms (max {:.0} ms)",
        ms(pct(&mut previews, 0.5)), ms(pct(&mut previews, 1.0)), ms(pct(&mut confirms, 0.5)), ms(pct(&mut confirms, 1.0))
    );
}
