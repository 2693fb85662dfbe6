//! Migrations are append-only: each one already released is pinned by its SHA-256 in
//! `migrations/CHECKSUMS`, and changing, renaming or removing it fails here. A new migration is
//! added as the next number in both backends' folders and its checksum appended to the file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

fn dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations")
}

/// `backend/file` → SHA-256 (hex) of every migration on disk.
fn on_disk() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for backend in ["sqlite", "postgres"] {
        for entry in std::fs::read_dir(dir().join(backend)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let hash: String =
                Sha256::digest(std::fs::read(&path).unwrap()).iter().map(|b| format!("{b:02x}")).collect();
            out.insert(format!("{backend}/{name}"), hash);
        }
    }
    out
}

/// The pinned checksums, in the order they were appended.
fn pinned() -> Vec<(String, String)> {
    std::fs::read_to_string(dir().join("CHECKSUMS"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (hash, name) = l.split_once("  ").unwrap_or_else(|| panic!("`<sha256>  <backend/file>`: {l}"));
            (name.to_owned(), hash.to_owned())
        })
        .collect()
}

#[test]
fn every_released_migration_is_unchanged_and_every_migration_is_pinned() {
    let disk = on_disk();
    let pinned = pinned();
    for (name, hash) in &pinned {
        match disk.get(name) {
            None => panic!("migration `{name}` was removed or renamed: migrations are append-only"),
            Some(now) => assert_eq!(now, hash, "migration `{name}` changed after release: add a new one instead"),
        }
    }
    for name in disk.keys() {
        assert!(
            pinned.iter().any(|(p, _)| p == name),
            "migration `{name}` is not pinned: append `sha256sum {name}` to migrations/CHECKSUMS"
        );
    }
}

#[test]
fn both_backends_have_the_same_numbered_migrations_in_order() {
    let disk = on_disk();
    let names = |backend: &str| -> Vec<String> {
        disk.keys().filter_map(|k| k.strip_prefix(&format!("{backend}/")).map(str::to_owned)).collect()
    };
    let (sqlite, postgres) = (names("sqlite"), names("postgres"));
    assert_eq!(sqlite, postgres, "each migration exists for both backends");
    for (i, name) in sqlite.iter().enumerate() {
        assert!(name.starts_with(&format!("{:04}_", i + 1)), "migration `{name}` is out of sequence");
    }
    // Every migration on disk is one the server applies.
    let runner = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/migrate.rs")).unwrap();
    for name in disk.keys() {
        assert!(runner.contains(&format!("../migrations/{name}")), "src/migrate.rs does not apply `{name}`");
    }
    // Pinned in the order they were made: the file is appended to, never reordered.
    let numbers: Vec<String> =
        pinned().iter().map(|(n, _)| n.split('/').nth(1).unwrap_or_default().chars().take(4).collect()).collect();
    assert!(numbers.windows(2).all(|w| w[0] <= w[1]), "CHECKSUMS is out of order: {numbers:?}");
}
