//! What a change newly gives users, and whether its actor may give it: nobody confers a
//! permission or an access level they do not hold themselves.
//!
//! The server reads what every user a change may affect holds before and after the change
//! (from the access index), and asks [`Held::gained_since`] what is new and
//! [`Held::lacking`] which of it the actor does not hold. Holding is by coverage: a user who
//! held `reports:*` gains nothing new with `reports:view`, and an actor holding `reports:*`
//! may confer `reports:view` (and `reports:*`), but one holding `reports:view` may not confer
//! `reports:*`.

use crate::id::ResourceId;
use crate::permission::covers;
use std::collections::{BTreeMap, BTreeSet};

/// What one user holds at one moment: permission strings (wildcards included) and the
/// highest rank held on each resource.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Held {
    /// Permission strings.
    pub permissions: BTreeSet<String>,
    /// The highest rank on each resource (0 = least permissive level).
    pub levels: BTreeMap<ResourceId, u8>,
}

impl Held {
    /// Whether anything is held.
    pub fn is_empty(&self) -> bool {
        self.permissions.is_empty() && self.levels.is_empty()
    }

    /// Whether a held permission covers `wanted`.
    pub fn covers(&self, wanted: &str) -> bool {
        self.permissions.iter().any(|p| covers(p, wanted))
    }

    /// The rank held on `resource`, if any.
    pub fn rank(&self, resource: &ResourceId) -> Option<u8> {
        self.levels.get(resource).copied()
    }

    /// What `self` holds that `before` did not: permissions `before` did not cover, and levels
    /// above the rank `before` had.
    pub fn gained_since(&self, before: &Held) -> Held {
        Held {
            permissions: self.permissions.iter().filter(|p| !before.covers(p)).cloned().collect(),
            levels: self
                .levels
                .iter()
                .filter(|(r, rank)| before.rank(r).is_none_or(|b| b < **rank))
                .map(|(r, rank)| (r.clone(), *rank))
                .collect(),
        }
    }

    /// What of `conferred` `self` does not hold: permissions none of its own covers, and
    /// levels above the rank it holds.
    pub fn lacking(&self, conferred: &Held) -> Held {
        Held {
            permissions: conferred.permissions.iter().filter(|p| !self.covers(p)).cloned().collect(),
            levels: conferred
                .levels
                .iter()
                .filter(|(r, rank)| self.rank(r).is_none_or(|mine| mine < **rank))
                .map(|(r, rank)| (r.clone(), *rank))
                .collect(),
        }
    }

    /// Adds everything `other` holds, keeping the higher rank per resource.
    pub fn merge(&mut self, other: Held) {
        self.permissions.extend(other.permissions);
        for (r, rank) in other.levels {
            let slot = self.levels.entry(r).or_insert(rank);
            *slot = (*slot).max(rank);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(perms: &[&str], levels: &[(&str, u8)]) -> Held {
        Held {
            permissions: perms.iter().map(|p| p.to_string()).collect(),
            levels: levels.iter().map(|(r, k)| (ResourceId::parse(r).unwrap(), *k)).collect(),
        }
    }

    #[test]
    fn gains_are_what_was_not_covered_before() {
        let before = held(&["reports:*", "a:b"], &[("res_aaaaaaaaaaaa", 1)]);
        let after = held(&["reports:view", "a:b", "c:d"], &[("res_aaaaaaaaaaaa", 2), ("res_bbbbbbbbbbbb", 0)]);
        assert_eq!(after.gained_since(&before), held(&["c:d"], &[("res_aaaaaaaaaaaa", 2), ("res_bbbbbbbbbbbb", 0)]));
        assert!(before.gained_since(&after).permissions.contains("reports:*"));
        assert!(after.gained_since(&after).is_empty());
    }

    #[test]
    fn an_actor_lacks_what_none_of_theirs_covers() {
        let actor = held(&["reports:*", "x:y"], &[("res_aaaaaaaaaaaa", 1)]);
        let conferred = held(
            &["reports:view", "reports:*", "x:*", "cohort:admin"],
            &[("res_aaaaaaaaaaaa", 1), ("res_bbbbbbbbbbbb", 0)],
        );
        assert_eq!(actor.lacking(&conferred), held(&["cohort:admin", "x:*"], &[("res_bbbbbbbbbbbb", 0)]));
        let wider = held(&["*"], &[("res_aaaaaaaaaaaa", 3), ("res_bbbbbbbbbbbb", 0)]);
        assert!(wider.lacking(&conferred).is_empty());
    }
}
