//! Users' index entries, laid out for the check path.
//!
//! A check for a random user out of 100,000 finds nothing in cache, so its cost is the number
//! of dependent memory reads. Each entry is one allocation holding the user's id (to confirm
//! the match), their sorted permission ids, where each comes from, and their levels; the table
//! maps a 64-bit hash of the id to it. A check reads the table's slot and the entry, and
//! nothing else.

use rustc_hash::{FxHashMap, FxHasher};
use std::hash::Hasher;

/// Words before the id: permissions, levels, id length in bytes, whether the user holds
/// wildcard permissions, and the entry's expiry (two words).
const HEADER: usize = 6;

/// One user's entry: `[header | id bytes | perm ids | (role, group) per perm | (resource,
/// rank, group) per level]`, all `u32`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct UserEntry(Box<[u32]>);

/// What an entry is built from.
pub(super) struct Parts<'a> {
    /// (permission, role, group or DIRECT), sorted by permission, one row per permission.
    pub perms: &'a [(u32, u32, u32)],
    /// (resource, rank, group or DIRECT), sorted by resource, one row per resource.
    pub levels: &'a [(u32, u8, u32)],
    /// Whether the user also holds wildcard permissions (kept aside).
    pub wildcards: bool,
    /// The earliest expiry of a live membership (ms), or `i64::MAX`.
    pub valid_until: i64,
}

fn words(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    bytes.chunks(4).map(|c| {
        let mut w = [0u8; 4];
        w[..c.len()].copy_from_slice(c);
        u32::from_le_bytes(w)
    })
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl UserEntry {
    pub(super) fn new(id: &str, parts: &Parts<'_>) -> Self {
        let id_words = id.len().div_ceil(4);
        let mut v = Vec::with_capacity(HEADER + id_words + parts.perms.len() * 3 + parts.levels.len() * 3);
        let until = parts.valid_until as u64;
        v.extend([
            len32(parts.perms.len()),
            len32(parts.levels.len()),
            len32(id.len()),
            u32::from(parts.wildcards),
            until as u32,
            (until >> 32) as u32,
        ]);
        v.extend(words(id.as_bytes()));
        v.extend(parts.perms.iter().map(|p| p.0));
        v.extend(parts.perms.iter().flat_map(|p| [p.1, p.2]));
        v.extend(parts.levels.iter().flat_map(|l| [l.0, u32::from(l.1), l.2]));
        Self(v.into_boxed_slice())
    }

    fn n(&self, i: usize) -> usize {
        self.0.get(i).copied().unwrap_or(0) as usize
    }

    fn perms_at(&self) -> usize {
        HEADER + self.n(2).div_ceil(4)
    }

    fn is(&self, id: &str) -> bool {
        self.n(2) == id.len()
            && self.0.get(HEADER..self.perms_at()).is_some_and(|stored| stored.iter().copied().eq(words(id.as_bytes())))
    }

    /// The earliest expiry of a live membership (ms); from then on the entry is stale.
    pub(super) fn valid_until(&self) -> i64 {
        let lo = u64::from(self.0.get(4).copied().unwrap_or(0));
        let hi = u64::from(self.0.get(5).copied().unwrap_or(0));
        ((hi << 32) | lo) as i64
    }

    /// Whether the user holds wildcard permissions.
    pub(super) fn has_wildcards(&self) -> bool {
        self.n(3) != 0
    }

    /// The role giving permission `p` and the group it is on, if the user holds it exactly.
    pub(super) fn perm(&self, p: u32) -> Option<(u32, u32)> {
        let (start, n) = (self.perms_at(), self.n(0));
        let i = self.0.get(start..start + n)?.binary_search(&p).ok()?;
        let src = start + n + 2 * i;
        Some((*self.0.get(src)?, *self.0.get(src + 1)?))
    }

    /// The ids of the permissions held exactly (wildcards are kept aside).
    pub(super) fn perm_ids(&self) -> &[u32] {
        let start = self.perms_at();
        self.0.get(start..start + self.n(0)).unwrap_or(&[])
    }

    /// Every (resource, rank) held.
    pub(super) fn levels(&self) -> impl Iterator<Item = (u32, u8)> + '_ {
        let start = self.perms_at() + 3 * self.n(0);
        self.0
            .get(start..start + 3 * self.n(1))
            .unwrap_or(&[])
            .chunks_exact(3)
            .map(|l| (l[0], u8::try_from(l[1]).unwrap_or(u8::MAX)))
    }

    /// The rank held on resource `r` and the group giving it.
    pub(super) fn level(&self, r: u32) -> Option<(u8, u32)> {
        let start = self.perms_at() + 3 * self.n(0);
        let rows = self.0.get(start..start + 3 * self.n(1))?;
        let (mut lo, mut hi) = (0, rows.len() / 3);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match rows[3 * mid].cmp(&r) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => {
                    return Some((u8::try_from(rows[3 * mid + 1]).unwrap_or(u8::MAX), rows[3 * mid + 2]));
                }
            }
        }
        None
    }
}

/// Entries keyed by a hash of the user id. Two ids with the same hash cannot share a slot, so
/// the later goes to `collided`, looked at only when it is not empty.
#[derive(Debug, Default)]
pub(super) struct Entries {
    by_hash: FxHashMap<u64, UserEntry>,
    collided: FxHashMap<Box<str>, UserEntry>,
}

fn hash(id: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(id.as_bytes());
    h.finish()
}

impl Entries {
    pub(super) fn get(&self, id: &str) -> Option<&UserEntry> {
        self.get_hashed(hash(id), id)
    }

    pub(super) fn insert(&mut self, id: &str, entry: UserEntry) {
        self.insert_hashed(hash(id), id, entry);
    }

    pub(super) fn remove(&mut self, id: &str) {
        self.remove_hashed(hash(id), id);
    }

    pub(super) fn len(&self) -> usize {
        self.by_hash.len() + self.collided.len()
    }

    /// Every entry, in no order.
    pub(super) fn values(&self) -> impl Iterator<Item = &UserEntry> {
        self.by_hash.values().chain(self.collided.values())
    }

    fn get_hashed(&self, h: u64, id: &str) -> Option<&UserEntry> {
        match self.by_hash.get(&h) {
            Some(e) if e.is(id) => Some(e),
            _ if self.collided.is_empty() => None,
            _ => self.collided.get(id),
        }
    }

    fn insert_hashed(&mut self, h: u64, id: &str, entry: UserEntry) {
        if !self.collided.is_empty() {
            self.collided.remove(id);
        }
        match self.by_hash.get_mut(&h) {
            None => {
                self.by_hash.insert(h, entry);
            }
            Some(e) if e.is(id) => *e = entry,
            Some(_) => {
                self.collided.insert(id.into(), entry);
            }
        }
    }

    fn remove_hashed(&mut self, h: u64, id: &str) {
        if self.by_hash.get(&h).is_some_and(|e| e.is(id)) {
            // Ids with the same hash stay in `collided`, where `get` still finds them.
            self.by_hash.remove(&h);
        } else {
            self.collided.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, perm: u32) -> UserEntry {
        UserEntry::new(
            id,
            &Parts {
                perms: &[(perm, 7, 9)],
                levels: &[(3, 2, 9), (5, 1, u32::MAX)],
                wildcards: false,
                valid_until: -5,
            },
        )
    }

    #[test]
    fn an_entry_reads_back_what_it_was_built_from() {
        let e = UserEntry::new(
            "usr_abcdefghijklm",
            &Parts {
                perms: &[(1, 10, 100), (4, 11, 101), (9, 12, u32::MAX)],
                levels: &[(2, 3, 7), (8, 1, u32::MAX)],
                wildcards: true,
                valid_until: 1_700_000_000_123,
            },
        );
        assert!(e.is("usr_abcdefghijklm"));
        assert!(!e.is("usr_abcdefghijkln"));
        assert!(!e.is("usr_abcdefghijklmn"));
        assert_eq!(e.perm(4), Some((11, 101)));
        assert_eq!(e.perm(9), Some((12, u32::MAX)));
        assert_eq!(e.perm(5), None);
        assert_eq!(e.level(2), Some((3, 7)));
        assert_eq!(e.level(8), Some((1, u32::MAX)));
        assert_eq!(e.level(4), None);
        assert_eq!(e.perm_ids(), &[1, 4, 9]);
        assert_eq!(e.levels().collect::<Vec<_>>(), vec![(2, 3), (8, 1)]);
        assert_eq!(e.valid_until(), 1_700_000_000_123);
        assert!(e.has_wildcards());
        assert_eq!(entry("usr_x", 1).valid_until(), -5);
    }

    #[test]
    fn ids_sharing_a_hash_keep_their_own_entries() {
        let mut m = Entries::default();
        m.insert_hashed(42, "usr_a", entry("usr_a", 1));
        m.insert_hashed(42, "usr_b", entry("usr_b", 2));
        m.insert_hashed(42, "usr_c", entry("usr_c", 3));
        assert_eq!(m.len(), 3);
        assert_eq!(m.get_hashed(42, "usr_b").and_then(|e| e.perm(2)), Some((7, 9)));
        assert_eq!(m.get_hashed(42, "usr_d"), None);
        m.insert_hashed(42, "usr_b", entry("usr_b", 5));
        assert_eq!(m.get_hashed(42, "usr_b").and_then(|e| e.perm(5)), Some((7, 9)));
        m.remove_hashed(42, "usr_a");
        assert_eq!(m.len(), 2);
        assert_eq!(m.get_hashed(42, "usr_a"), None);
        assert!(m.get_hashed(42, "usr_b").is_some() && m.get_hashed(42, "usr_c").is_some());
        // usr_b moves into the freed slot; no stale copy stays behind.
        m.insert_hashed(42, "usr_b", entry("usr_b", 6));
        assert_eq!(m.len(), 2);
        m.remove_hashed(42, "usr_b");
        assert_eq!(m.get_hashed(42, "usr_b"), None);
        m.remove_hashed(42, "usr_c");
        assert_eq!(m.len(), 0);
    }
}
