//! The shape of the house, read from the source: the rooms of `cohort-server` import each other
//! without a cycle, no face imports another face, the services import no face, and inside each
//! room the files import each other without a cycle either. ARCHITECTURE.md draws the same map.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The faces: each is mounted by `app` and imports no other.
const FACES: &[&str] = &["rest", "scim", "console"];

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file: `src/service/rule/engine.rs` is `["service", "rule", "engine"]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts == ["lib"] { Vec::new() } else { parts }
}

/// The module paths a file names: `crate::a::b` and `super::x` (resolved against its own path),
/// taken from the code with comments left out.
fn references(module: &[String], text: &str) -> BTreeSet<Vec<String>> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        for (prefix, base) in [("crate::", Vec::new()), ("super::", module[..module.len().saturating_sub(1)].to_vec())]
        {
            let mut rest = code;
            while let Some(i) = rest.find(prefix) {
                let after = &rest[i + prefix.len()..];
                let words = match after.strip_prefix('{') {
                    Some(list) => list.split('}').next().unwrap_or_default().split(',').map(str::trim).collect(),
                    None => vec![after],
                };
                for w in words {
                    let word: String = w.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    if !word.is_empty() && word != "self" {
                        let mut path = base.clone();
                        path.push(word);
                        out.insert(path);
                    }
                }
                rest = after;
            }
        }
    }
    out
}

/// A cycle in `edges`, if there is one.
fn cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut c = path[i..].to_vec();
            c.push(n.to_owned());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_owned());
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    edges.keys().find_map(|n| visit(n, edges, &mut Vec::new(), &mut done))
}

/// For every room (a module with files of its own), which of its children import which.
fn graph() -> BTreeMap<Vec<String>, BTreeMap<String, BTreeSet<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut rooms: BTreeMap<Vec<String>, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in files {
        let module = module_of(&src, &file);
        let text = std::fs::read_to_string(&file).unwrap();
        for target in references(&module, &text) {
            // The deepest room holding both: an edge between two of its children.
            let shared = module.iter().zip(&target).take_while(|(a, b)| a == b).count();
            if shared >= module.len() || shared >= target.len() {
                continue; // a module naming its own descendants or ancestors
            }
            let room = module[..shared].to_vec();
            let entry = rooms.entry(room).or_default();
            entry.entry(module[shared].clone()).or_default().insert(target[shared].clone());
        }
    }
    rooms
}

#[test]
fn the_rooms_import_each_other_without_a_cycle() {
    for (room, edges) in graph() {
        assert_eq!(cycle(&edges), None, "a cycle among the modules of `crate::{}`", room.join("::"));
    }
}

#[test]
fn no_face_imports_another_and_the_services_import_none() {
    let graph = graph();
    let top = graph.get(&Vec::new()).expect("the crate's top-level modules import each other");
    for face in FACES {
        let imports = top.get(*face).cloned().unwrap_or_default();
        for other in FACES.iter().filter(|f| *f != face) {
            assert!(!imports.contains(*other), "the `{face}` face imports the `{other}` face");
        }
    }
    for inner in ["service", "view", "error", "shared", "cursor"] {
        let imports = top.get(inner).cloned().unwrap_or_default();
        for face in FACES.iter().chain(&["app"]) {
            assert!(!imports.contains(*face), "`{inner}` imports `{face}`");
        }
    }
    let app = top.get("app").expect("the composition room mounts the faces");
    for face in FACES {
        assert!(app.contains(*face), "the composition room does not mount `{face}`");
    }
}

#[test]
fn the_map_finds_a_cycle_when_there_is_one() {
    let edges: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]
    .into();
    assert_eq!(cycle(&edges).map(|c| c.len()), Some(4));
    let refs = references(
        &["service".to_owned(), "group".to_owned()],
        "use super::authz::Guard; // crate::rest\nuse crate::{app, scim::X};",
    );
    let names = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(refs, BTreeSet::from([names(&["service", "authz"]), names(&["app"]), names(&["scim"])]));
}
