//! The shape of the house, read from the source and the lock file. Cargo already keeps the use
//! cases (`cohort-service`) from importing a face (`cohort-web`); this keeps what Cargo cannot:
//! in every crate, the modules of each room import each other without a cycle; every top-level
//! module of `cohort-web` is a face, the composition room or a shared room, and no face imports
//! another face or the composition room; and nothing HTTP-serving is in the use cases' dependency
//! tree. ARCHITECTURE.md draws the same map.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The faces of `cohort-web`: each is mounted by `app` and imports no other.
const FACES: &[&str] = &["rest", "scim", "console"];

/// `cohort-web`'s rooms every face may use; they import no face and not `app`. The sign-in
/// room also has pages of its own, which `app` mounts like a face's.
const SHARED: &[&str] = &["view", "problem", "shared", "cursor", "text", "html", "local_time", "sign_in"];

/// The composition room: it alone mounts the faces.
const APP: &str = "app";

/// Crates that serve HTTP or render pages; the use cases' dependency tree holds none of them.
const WEB_ONLY: &[&str] = &["axum", "axum-core", "maud", "tower-http", "utoipa", "utoipa-axum", "hyper"];

/// The workspace's crates, by directory name.
fn crates() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut out: Vec<PathBuf> =
        std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.join("src").is_dir()).collect();
    out.sort();
    out
}

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

/// For every room (a module with files of its own) of the crate at `dir`, which of its children
/// import which.
fn graph(dir: &Path) -> BTreeMap<Vec<String>, BTreeMap<String, BTreeSet<String>>> {
    let src = dir.join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut rooms: BTreeMap<Vec<String>, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in files {
        let module = module_of(&src, &file);
        if module.first().is_some_and(|m| m == "main") {
            continue; // a binary's root: it names the library's modules, not rooms of its own
        }
        if let Some(top) = module.first() {
            rooms.entry(Vec::new()).or_default().entry(top.clone()).or_default();
        }
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

/// The packages `name` depends on, directly or not, as `Cargo.lock` records them (every kind
/// of dependency and every feature, so a superset of what is built).
fn locked_tree(name: &str) -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock");
    let lock = std::fs::read_to_string(root).unwrap();
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for block in lock.split("[[package]]").skip(1) {
        let field =
            |key: &str| block.lines().find_map(|l| l.strip_prefix(key)).map(|v| v.trim().trim_matches('"').to_owned());
        let package = field("name = ").unwrap();
        let list = block.split("dependencies = [").nth(1).and_then(|r| r.split(']').next()).unwrap_or_default();
        let names = list
            .split(',')
            .map(|d| d.trim().trim_matches('"').split(' ').next().unwrap_or_default().to_owned())
            .filter(|d| !d.is_empty());
        deps.entry(package).or_default().extend(names);
    }
    let mut seen = BTreeSet::new();
    let mut todo = vec![name.to_owned()];
    while let Some(p) = todo.pop() {
        for d in deps.get(&p).into_iter().flatten() {
            if seen.insert(d.clone()) {
                todo.push(d.clone());
            }
        }
    }
    seen
}

#[test]
fn the_rooms_of_every_crate_import_each_other_without_a_cycle() {
    let all = crates();
    assert!(all.len() >= 5, "the workspace's crates are found: {all:?}");
    for dir in all {
        for (room, edges) in graph(&dir) {
            let name = dir.file_name().unwrap().to_string_lossy().replace('-', "_");
            assert_eq!(cycle(&edges), None, "a cycle among the modules of `{name}::{}`", room.join("::"));
        }
    }
}

#[test]
fn every_web_module_has_its_place_and_no_face_imports_another() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR"));
    let graph = graph(web);
    let top = graph.get(&Vec::new()).expect("the crate's top-level modules");
    for module in top.keys() {
        assert!(
            FACES.contains(&module.as_str()) || SHARED.contains(&module.as_str()) || module == APP,
            "`{module}` is neither a face, a shared room nor the composition room: give it its place here and in \
             ARCHITECTURE.md"
        );
    }
    for face in FACES {
        let imports = top.get(*face).cloned().unwrap_or_default();
        for other in FACES.iter().chain(&[APP]).filter(|f| *f != face) {
            assert!(!imports.contains(*other), "the `{face}` face imports `{other}`");
        }
    }
    for inner in SHARED {
        let imports = top.get(*inner).cloned().unwrap_or_default();
        for face in FACES.iter().chain(&[APP]) {
            assert!(!imports.contains(*face), "the shared room `{inner}` imports `{face}`");
        }
    }
    let app = top.get(APP).expect("the composition room mounts the faces");
    for face in FACES.iter().chain(&["sign_in"]) {
        assert!(app.contains(*face), "the composition room does not mount `{face}`");
    }
}

#[test]
fn the_use_cases_depend_on_nothing_that_serves_http() {
    let tree = locked_tree("cohort-service");
    assert!(tree.contains("cohort-store") && tree.contains("tokio"), "the lock file is read: {tree:?}");
    for web in WEB_ONLY {
        assert!(!tree.contains(*web), "`cohort-service` depends on `{web}`");
    }
    assert!(!tree.contains("cohort-web"), "`cohort-service` depends on the faces");
    assert!(locked_tree("cohort-web").contains("axum"), "the web crate's tree is read the same way");
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
