//! Random operation sequences (groups, nesting, flags, archive, memberships with expiry, roles,
//! grants and levels, scopes, resources, suspensions, time passing) applied to a
//! `TenantState`; after every step the incrementally refreshed `AccessIndex` must answer every
//! check exactly as the reference resolution does, and as an index built from scratch.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cohort_core::graph::{DEFAULT_MAX_DEPTH, check_parents};
use cohort_core::index::{AccessIndex, Touched, Verdict};
use cohort_core::model::{GroupSource, MemberRole, MembershipSource, Subject};
use cohort_core::name::{Keyword, Levels, Scopes};
use cohort_core::permission::Permission;
use cohort_core::resolve::{check_level, check_permission, resolve};
use cohort_core::state::{GroupFacts, MemberFacts, ResourceFacts, RoleFacts, TenantState, UserFacts};
use cohort_core::{GroupId, Timestamp};
use common::{gid, res, rid, uid};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const USERS: usize = 5;
const GROUPS: usize = 7;
const ROLES: usize = 3;
const RESOURCES: usize = 3;
const PERMS: [&str; 5] = ["a:x", "a:y", "a:*", "*", "b:z"];
const QUERIES: [&str; 4] = ["a:x", "a:y", "b:z", "c:c"];
const LEVELS: [&str; 4] = ["view", "use", "edit", "nope"];
const SOURCES: [MembershipSource; 2] = [MembershipSource::Manual, MembershipSource::Rule];

#[derive(Clone, Debug)]
enum Op {
    PutGroup(usize, bool, bool),
    DeleteGroup(usize),
    SetParents(usize, Vec<usize>),
    AddMember(usize, usize, usize, Option<i64>),
    RemoveMember(usize, usize, usize),
    ReplaceMembers(usize, Vec<(usize, usize)>),
    PutUser(usize, bool),
    DeleteUser(usize),
    PutRole(usize, Vec<usize>),
    DeleteRole(usize),
    AssignUser(usize, usize),
    AssignGroup(usize, usize),
    UnassignGroup(usize, usize),
    PutResource(usize),
    DeleteResource(usize),
    GrantUser(usize, usize, u8),
    GrantGroup(usize, usize, u8),
    RevokeGroup(usize, usize),
    SetScopes(usize, Vec<(usize, usize)>),
    Advance(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..GROUPS, any::<bool>(), any::<bool>()).prop_map(|(g, a, p)| Op::PutGroup(g, a || p, p || !a)),
        1 => (0..GROUPS).prop_map(Op::DeleteGroup),
        4 => (0..GROUPS, prop::collection::vec(0..GROUPS, 0..3)).prop_map(|(g, p)| Op::SetParents(g, p)),
        5 => (0..GROUPS, 0..USERS, 0..SOURCES.len(), prop::option::of(1i64..50)).prop_map(|(g, u, s, e)| Op::AddMember(g, u, s, e)),
        1 => (0..GROUPS, 0..USERS, 0..SOURCES.len()).prop_map(|(g, u, s)| Op::RemoveMember(g, u, s)),
        2 => (0..GROUPS, prop::collection::vec((0..USERS, 0..SOURCES.len()), 0..4))
            .prop_map(|(g, rows)| Op::ReplaceMembers(g, rows)),
        2 => (0..USERS, any::<bool>()).prop_map(|(u, a)| Op::PutUser(u, a)),
        1 => (0..USERS).prop_map(Op::DeleteUser),
        2 => (0..ROLES, prop::collection::vec(0..PERMS.len(), 0..3)).prop_map(|(r, p)| Op::PutRole(r, p)),
        1 => (0..ROLES).prop_map(Op::DeleteRole),
        1 => (0..USERS, 0..ROLES).prop_map(|(u, r)| Op::AssignUser(u, r)),
        3 => (0..GROUPS, 0..ROLES).prop_map(|(g, r)| Op::AssignGroup(g, r)),
        1 => (0..GROUPS, 0..ROLES).prop_map(|(g, r)| Op::UnassignGroup(g, r)),
        2 => (0..RESOURCES).prop_map(Op::PutResource),
        1 => (0..RESOURCES).prop_map(Op::DeleteResource),
        1 => (0..USERS, 0..RESOURCES, 0u8..3).prop_map(|(u, r, l)| Op::GrantUser(u, r, l)),
        3 => (0..GROUPS, 0..RESOURCES, 0u8..3).prop_map(|(g, r, l)| Op::GrantGroup(g, r, l)),
        1 => (0..GROUPS, 0..RESOURCES).prop_map(|(g, r)| Op::RevokeGroup(g, r)),
        1 => (0..GROUPS, prop::collection::vec((0usize..2, 0usize..3), 0..3)).prop_map(|(g, s)| Op::SetScopes(g, s)),
        2 => (1i64..40).prop_map(Op::Advance),
    ]
}

/// Applies `op` to `state`, returning what it touched (None when it did nothing).
fn apply(state: &mut TenantState, now: &mut i64, op: &Op) -> Option<Touched> {
    let mut t = Touched::default();
    match op.clone() {
        Op::PutGroup(g, active, apply_privileges) => {
            let facts = GroupFacts {
                name: format!("g{g}"),
                active,
                apply_privileges,
                source: GroupSource::Local,
                member_types: Default::default(),
            };
            state.put_group(gid(g), facts);
            t.groups.insert(gid(g));
        }
        Op::DeleteGroup(g) => {
            state.group(&gid(g))?;
            state.remove_group(&gid(g));
            t.groups.insert(gid(g));
        }
        Op::SetParents(g, parents) => {
            state.group(&gid(g))?;
            let parents: BTreeSet<GroupId> = parents.into_iter().map(gid).collect();
            check_parents(state, Some(&gid(g)), &parents, DEFAULT_MAX_DEPTH).ok()?;
            state.set_parents(&gid(g), parents);
            t.groups.insert(gid(g));
        }
        Op::AddMember(g, u, s, expires) => {
            state.group(&gid(g))?;
            state.user(&uid(u))?;
            let facts = MemberFacts { role: MemberRole::Member, expires_at: expires.map(|e| Timestamp(*now + e)) };
            state.put_membership(&gid(g), &uid(u), SOURCES[s], facts);
            t.users.insert(uid(u));
        }
        Op::RemoveMember(g, u, s) => {
            state.remove_membership(&gid(g), &uid(u), SOURCES[s]);
            t.users.insert(uid(u));
        }
        Op::ReplaceMembers(g, rows) => {
            state.group(&gid(g))?;
            let facts = MemberFacts { role: MemberRole::Member, expires_at: None };
            let rows = rows
                .into_iter()
                .filter(|(u, _)| state.user(&uid(*u)).is_some())
                .map(|(u, s)| (uid(u), SOURCES[s], facts))
                .collect();
            state.replace_members_of(&gid(g), rows);
            t.members.insert(gid(g));
        }
        Op::PutUser(u, active) => {
            state.put_user(uid(u), UserFacts { active, user_type: Default::default() });
            t.users.insert(uid(u));
        }
        Op::DeleteUser(u) => {
            state.remove_user(&uid(u));
            t.users.insert(uid(u));
        }
        Op::PutRole(r, perms) => {
            let permissions = perms.iter().map(|p| Permission::parse(PERMS[*p]).unwrap()).collect();
            state.put_role(rid(r), RoleFacts { name: format!("r{r}"), permissions });
            t.roles.insert(rid(r));
        }
        Op::DeleteRole(r) => {
            state.remove_role(&rid(r));
            t.roles.insert(rid(r));
        }
        Op::AssignUser(u, r) => {
            state.user(&uid(u))?;
            state.assign(&Subject::User(uid(u)), &rid(r));
            t.users.insert(uid(u));
        }
        Op::AssignGroup(g, r) => {
            state.group(&gid(g))?;
            state.assign(&Subject::Group(gid(g)), &rid(r));
            t.groups.insert(gid(g));
        }
        Op::UnassignGroup(g, r) => {
            state.unassign(&Subject::Group(gid(g)), &rid(r));
            t.groups.insert(gid(g));
        }
        Op::PutResource(r) => {
            state.put_resource(res(r), ResourceFacts { type_name: "agent".into(), name: format!("r{r}") });
            t.resources.insert(res(r));
        }
        Op::DeleteResource(r) => {
            state.remove_resource(&res(r));
            t.resources.insert(res(r));
        }
        Op::GrantUser(u, r, rank) => {
            state.user(&uid(u))?;
            state.resource(&res(r))?;
            state.grant(&Subject::User(uid(u)), &res(r), rank);
            t.users.insert(uid(u));
        }
        Op::GrantGroup(g, r, rank) => {
            state.group(&gid(g))?;
            state.resource(&res(r))?;
            state.grant(&Subject::Group(gid(g)), &res(r), rank);
            t.groups.insert(gid(g));
        }
        Op::RevokeGroup(g, r) => {
            state.revoke(&Subject::Group(gid(g)), &res(r));
            t.groups.insert(gid(g));
        }
        Op::SetScopes(g, pairs) => {
            state.group(&gid(g))?;
            let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for (k, v) in pairs {
                map.entry(["country", "team"][k].to_owned()).or_default().insert(format!("v{v}"));
            }
            state.set_scopes(&gid(g), Scopes::new(map).unwrap());
            t.groups.insert(gid(g));
        }
        Op::Advance(ms) => {
            *now += ms;
            return None;
        }
    }
    Some(t)
}

fn same(index: &Verdict<'_>, reference: bool, what: &str) {
    match index {
        Verdict::Stale => {}
        v => assert_eq!(v.allowed(), reference, "{what}: index says {v:?}"),
    }
}

fn compare(state: &TenantState, index: &AccessIndex, now: i64) {
    let now = Timestamp(now);
    let fresh = AccessIndex::build(state, now);
    for u in 0..USERS {
        let user = uid(u);
        for q in QUERIES {
            let reference = check_permission(state, &user, q, now).allowed;
            same(&index.check_permission(state, &user, q, now), reference, &format!("{q} for {u}"));
            assert_eq!(fresh.check_permission(state, &user, q, now).allowed(), reference, "fresh {q} for {u}");
        }
        for r in 0..RESOURCES {
            for l in LEVELS {
                let reference = check_level(state, &user, &res(r), l, now).allowed;
                same(&index.check_level(state, &user, &res(r), l, now), reference, &format!("{l} on {r} for {u}"));
                assert_eq!(
                    fresh.check_level(state, &user, &res(r), l, now).allowed(),
                    reference,
                    "fresh {l} on {r} for {u}"
                );
            }
        }
        // Scopes: the union over effective groups, per key.
        let access = resolve(state, &user, now);
        for s in &access.scopes {
            for v in &s.values {
                for g in &v.groups {
                    assert!(access.groups.iter().any(|e| &e.group == g));
                    assert!(state.scopes_of(g).unwrap().as_map()[&s.key].contains(&v.value));
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn the_incremental_index_agrees_with_the_reference(ops in prop::collection::vec(op(), 1..50)) {
        let mut state = TenantState::default();
        state.put_resource_type("agent", Levels::new(["view", "use", "edit"].iter().map(|l| Keyword::parse("levels", l).unwrap()).collect()).unwrap());
        let mut now = 1_000;
        let mut index = AccessIndex::build(&state, Timestamp(now));
        for op in &ops {
            let before = state.clone();
            if let Some(touched) = apply(&mut state, &mut now, op) {
                let mut footprint = AccessIndex::footprint(&before, &touched);
                footprint.merge(AccessIndex::footprint(&state, &touched));
                index.refresh(&state, &footprint, Timestamp(now));
            }
            compare(&state, &index, now);
        }
    }
}
