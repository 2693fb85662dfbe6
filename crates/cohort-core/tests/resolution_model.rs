//! Random operation sequences applied both to `TenantState` (resolved by `cohort_core::resolve`
//! and checked by `cohort_core::graph`) and to a brute-force model written here from the
//! rules of DESIGN.md; after every step the two must agree exactly.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cohort_core::graph::check_parents;
use cohort_core::index::Touched;
use cohort_core::model::{GroupSource, MemberRole, MembershipSource, Subject};
use cohort_core::permission::Permission;
use cohort_core::resolve::{check_permission, effective_member_counts, effective_members, resolve, users_reached};
use cohort_core::state::{GroupFacts, MemberFacts, RoleFacts, TenantState, UserFacts};
use cohort_core::{DomainError, GroupId, RoleId, Timestamp, UserId};
use common::{gid, rid, uid};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const USERS: usize = 5;
const GROUPS: usize = 7;
const ROLES: usize = 4;
const PERMS: [&str; 6] = ["a:x", "a:y", "b:z", "a:*", "*", "c:q"];
const QUERIES: [&str; 5] = ["a:x", "a:y", "b:z", "c:q", "d:d"];
const MAX_DEPTH: usize = 4;
const SOURCES: [MembershipSource; 3] = [MembershipSource::Manual, MembershipSource::Rule, MembershipSource::Scim];

#[derive(Clone, Debug)]
enum Op {
    CreateGroup(usize),
    DeleteGroup(usize),
    SetGroupActive(usize, bool),
    SetApply(usize, bool),
    SetParents(usize, Vec<usize>),
    AddMember(usize, usize, usize, Option<i64>),
    RemoveMember(usize, usize, usize),
    SetUserActive(usize, bool),
    DeleteUser(usize),
    PutRole(usize, Vec<usize>),
    DeleteRole(usize),
    AssignUser(usize, usize),
    AssignGroup(usize, usize),
    UnassignUser(usize, usize),
    UnassignGroup(usize, usize),
    Advance(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..GROUPS).prop_map(Op::CreateGroup),
        1 => (0..GROUPS).prop_map(Op::DeleteGroup),
        1 => (0..GROUPS, any::<bool>()).prop_map(|(g, b)| Op::SetGroupActive(g, b)),
        1 => (0..GROUPS, any::<bool>()).prop_map(|(g, b)| Op::SetApply(g, b)),
        4 => (0..GROUPS, prop::collection::vec(0..GROUPS, 0..3)).prop_map(|(g, p)| Op::SetParents(g, p)),
        5 => (0..GROUPS, 0..USERS, 0..SOURCES.len(), prop::option::of(1i64..100)).prop_map(|(g, u, s, e)| Op::AddMember(g, u, s, e)),
        1 => (0..GROUPS, 0..USERS, 0..SOURCES.len()).prop_map(|(g, u, s)| Op::RemoveMember(g, u, s)),
        1 => (0..USERS, any::<bool>()).prop_map(|(u, b)| Op::SetUserActive(u, b)),
        1 => (0..USERS).prop_map(Op::DeleteUser),
        2 => (0..ROLES, prop::collection::vec(0..PERMS.len(), 0..3)).prop_map(|(r, p)| Op::PutRole(r, p)),
        1 => (0..ROLES).prop_map(Op::DeleteRole),
        2 => (0..USERS, 0..ROLES).prop_map(|(u, r)| Op::AssignUser(u, r)),
        3 => (0..GROUPS, 0..ROLES).prop_map(|(g, r)| Op::AssignGroup(g, r)),
        1 => (0..USERS, 0..ROLES).prop_map(|(u, r)| Op::UnassignUser(u, r)),
        1 => (0..GROUPS, 0..ROLES).prop_map(|(g, r)| Op::UnassignGroup(g, r)),
        2 => (1i64..60).prop_map(Op::Advance),
    ]
}

/// The brute-force model: plain sets, no indexes.
#[derive(Default)]
struct Model {
    users: BTreeMap<usize, bool>,
    groups: BTreeMap<usize, (bool, bool)>,
    edges: BTreeSet<(usize, usize)>,
    rows: BTreeMap<(usize, usize, usize), Option<i64>>,
    roles: BTreeMap<usize, BTreeSet<&'static str>>,
    user_roles: BTreeSet<(usize, usize)>,
    group_roles: BTreeSet<(usize, usize)>,
    now: i64,
}

impl Model {
    fn confers(&self, g: usize) -> bool {
        self.groups.get(&g).is_some_and(|(active, apply)| *active && *apply)
    }

    fn reaches(&self, from: usize, to: usize, edges: &BTreeSet<(usize, usize)>) -> bool {
        let mut seen = BTreeSet::from([from]);
        let mut frontier = vec![from];
        while let Some(x) = frontier.pop() {
            for (c, p) in edges {
                if *c == x && seen.insert(*p) {
                    frontier.push(*p);
                }
            }
        }
        seen.contains(&to)
    }

    fn longest_chain(&self, edges: &BTreeSet<(usize, usize)>) -> usize {
        fn up(g: usize, edges: &BTreeSet<(usize, usize)>) -> usize {
            1 + edges.iter().filter(|(c, _)| *c == g).map(|(_, p)| up(*p, edges)).max().unwrap_or(0)
        }
        self.groups.keys().map(|g| up(*g, edges)).max().unwrap_or(0)
    }

    fn live(&self, expires: Option<i64>) -> bool {
        expires.is_none_or(|t| t > self.now)
    }

    fn direct_groups(&self, u: usize) -> BTreeSet<usize> {
        if !self.users.get(&u).copied().unwrap_or(false) {
            return BTreeSet::new();
        }
        self.rows
            .iter()
            .filter(|((g, uu, _), e)| *uu == u && self.live(**e) && self.confers(*g))
            .map(|((g, _, _), _)| *g)
            .collect()
    }

    fn effective_groups(&self, u: usize) -> BTreeSet<usize> {
        let mut set = self.direct_groups(u);
        loop {
            let more: BTreeSet<usize> = self
                .edges
                .iter()
                .filter(|(c, p)| set.contains(c) && self.confers(*p) && !set.contains(p))
                .map(|(_, p)| *p)
                .collect();
            if more.is_empty() {
                return set;
            }
            set.extend(more);
        }
    }

    fn roles_of(&self, u: usize) -> BTreeSet<usize> {
        if !self.users.get(&u).copied().unwrap_or(false) {
            return BTreeSet::new();
        }
        let groups = self.effective_groups(u);
        let mut out: BTreeSet<usize> = self.user_roles.iter().filter(|(uu, _)| *uu == u).map(|(_, r)| *r).collect();
        out.extend(self.group_roles.iter().filter(|(g, _)| groups.contains(g)).map(|(_, r)| *r));
        out.retain(|r| self.roles.contains_key(r));
        out
    }

    fn perms_of(&self, u: usize) -> BTreeSet<&'static str> {
        self.roles_of(u).iter().flat_map(|r| self.roles[r].iter().copied()).collect()
    }

    fn allows(&self, u: usize, wanted: &str) -> bool {
        self.perms_of(u).iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => wanted.starts_with(prefix),
            None => *p == wanted,
        })
    }
}

fn apply(state: &mut TenantState, model: &mut Model, op: &Op) {
    match op.clone() {
        Op::CreateGroup(g) if !model.groups.contains_key(&g) => {
            state.put_group(
                gid(g),
                GroupFacts {
                    name: format!("g{g}"),
                    active: true,
                    apply_privileges: true,
                    source: GroupSource::Local,
                    member_types: Default::default(),
                },
            );
            model.groups.insert(g, (true, true));
        }
        Op::DeleteGroup(g) if model.groups.contains_key(&g) => {
            state.remove_group(&gid(g));
            model.groups.remove(&g);
            model.edges.retain(|(c, p)| *c != g && *p != g);
            model.rows.retain(|(gg, _, _), _| *gg != g);
            model.group_roles.retain(|(gg, _)| *gg != g);
        }
        Op::SetGroupActive(g, active) if model.groups.contains_key(&g) => {
            let f = state.group(&gid(g)).unwrap().clone();
            state.put_group(gid(g), GroupFacts { active, ..f });
            model.groups.get_mut(&g).unwrap().0 = active;
        }
        Op::SetApply(g, apply) if model.groups.contains_key(&g) => {
            let f = state.group(&gid(g)).unwrap().clone();
            state.put_group(gid(g), GroupFacts { apply_privileges: apply, ..f });
            model.groups.get_mut(&g).unwrap().1 = apply;
        }
        Op::SetParents(g, parents) if model.groups.contains_key(&g) => {
            let wanted: BTreeSet<usize> = parents.into_iter().collect();
            let ids: BTreeSet<GroupId> = wanted.iter().map(|p| gid(*p)).collect();
            let decided = check_parents(state, Some(&gid(g)), &ids, MAX_DEPTH);
            // The model's own verdict.
            let mut edges = model.edges.clone();
            edges.retain(|(c, _)| *c != g);
            let old: BTreeSet<usize> = model.edges.iter().filter(|(c, _)| *c == g).map(|(_, p)| *p).collect();
            let missing = wanted.iter().any(|p| !model.groups.contains_key(p));
            let archived_new = wanted.iter().any(|p| !old.contains(p) && model.groups.get(p).is_some_and(|(a, _)| !a));
            edges.extend(wanted.iter().map(|p| (g, *p)));
            let cycle = !missing && wanted.iter().any(|p| *p == g || model.reaches(*p, g, &edges));
            let expected = if missing || archived_new {
                "invalid"
            } else if cycle {
                "conflict"
            } else if model.longest_chain(&edges) > MAX_DEPTH {
                "invalid"
            } else {
                "ok"
            };
            let got = match &decided {
                Ok(()) => "ok",
                Err(DomainError::Conflict { .. }) => "conflict",
                Err(DomainError::Invalid { .. }) => "invalid",
                Err(_) => "other",
            };
            assert_eq!(got, expected, "set parents of {g} to {wanted:?}: {decided:?}");
            if decided.is_ok() {
                state.set_parents(&gid(g), ids);
                model.edges = edges;
            }
        }
        Op::AddMember(g, u, s, expires) if model.groups.contains_key(&g) => {
            if let std::collections::btree_map::Entry::Vacant(e) = model.users.entry(u) {
                state.put_user(uid(u), UserFacts { active: true, user_type: Default::default() });
                e.insert(true);
            }
            let expires_at = expires.map(|e| model.now + e);
            let role = if s == 0 { MemberRole::Manager } else { MemberRole::Member };
            state.put_membership(
                &gid(g),
                &uid(u),
                SOURCES[s],
                MemberFacts { role, expires_at: expires_at.map(Timestamp) },
            );
            model.rows.insert((g, u, s), expires_at);
        }
        Op::RemoveMember(g, u, s) => {
            state.remove_membership(&gid(g), &uid(u), SOURCES[s]);
            model.rows.remove(&(g, u, s));
        }
        Op::SetUserActive(u, active) => {
            state.put_user(uid(u), UserFacts { active, user_type: Default::default() });
            model.users.insert(u, active);
        }
        Op::DeleteUser(u) => {
            state.remove_user(&uid(u));
            model.users.remove(&u);
            model.rows.retain(|(_, uu, _), _| *uu != u);
            model.user_roles.retain(|(uu, _)| *uu != u);
        }
        Op::PutRole(r, perms) => {
            let set: BTreeSet<&'static str> = perms.iter().map(|p| PERMS[*p]).collect();
            let permissions = set.iter().map(|p| Permission::parse(p).unwrap()).collect();
            state.put_role(rid(r), RoleFacts { name: format!("r{r}"), permissions });
            model.roles.insert(r, set);
        }
        Op::DeleteRole(r) => {
            state.remove_role(&rid(r));
            model.roles.remove(&r);
            model.user_roles.retain(|(_, rr)| *rr != r);
            model.group_roles.retain(|(_, rr)| *rr != r);
        }
        Op::AssignUser(u, r) if model.users.contains_key(&u) && model.roles.contains_key(&r) => {
            state.assign(&Subject::User(uid(u)), &rid(r));
            model.user_roles.insert((u, r));
        }
        Op::AssignGroup(g, r) if model.groups.contains_key(&g) && model.roles.contains_key(&r) => {
            state.assign(&Subject::Group(gid(g)), &rid(r));
            model.group_roles.insert((g, r));
        }
        Op::UnassignUser(u, r) => {
            state.unassign(&Subject::User(uid(u)), &rid(r));
            model.user_roles.remove(&(u, r));
        }
        Op::UnassignGroup(g, r) => {
            state.unassign(&Subject::Group(gid(g)), &rid(r));
            model.group_roles.remove(&(g, r));
        }
        Op::Advance(ms) => model.now += ms,
        _ => {}
    }
}

fn compare(state: &TenantState, model: &Model) {
    let now = Timestamp(model.now);
    for u in 0..USERS {
        let access = resolve(state, &uid(u), now);
        let groups: BTreeSet<GroupId> = access.groups.iter().map(|g| g.group.clone()).collect();
        let want: BTreeSet<GroupId> = model.effective_groups(u).into_iter().map(gid).collect();
        assert_eq!(groups, want, "effective groups of user {u}");
        let direct = model.direct_groups(u);
        for g in &access.groups {
            assert_eq!(g.direct, direct.iter().any(|d| gid(*d) == g.group), "direct flag of {} for {u}", g.group);
            assert!(!g.paths.is_empty());
            for path in &g.paths {
                let first = path.chain.first().unwrap();
                assert!(direct.iter().any(|d| gid(*d) == *first), "path starts at a direct group");
                assert_eq!(path.chain.last().unwrap(), &g.group);
                for pair in path.chain.windows(2) {
                    assert!(state.parents(&pair[0]).contains(&pair[1]), "path follows nesting edges");
                }
            }
        }
        let roles: BTreeSet<RoleId> = access.roles.iter().map(|r| r.role.clone()).collect();
        assert_eq!(roles, model.roles_of(u).into_iter().map(rid).collect(), "roles of user {u}");
        let perms: BTreeSet<String> = access.permissions.iter().map(|p| p.permission.to_string()).collect();
        assert_eq!(perms, model.perms_of(u).into_iter().map(str::to_owned).collect(), "permissions of user {u}");
        for q in QUERIES {
            assert_eq!(check_permission(state, &uid(u), q, now).allowed, model.allows(u, q), "check {q} for user {u}");
        }
    }
    for g in 0..GROUPS {
        let listed = effective_members(state, &gid(g), now);
        let got: BTreeSet<UserId> = listed.iter().map(|m| m.user.clone()).collect();
        let want: BTreeSet<UserId> = (0..USERS).filter(|u| model.effective_groups(*u).contains(&g)).map(uid).collect();
        assert_eq!(got, want, "effective members of group {g}");
        let direct = listed.iter().filter(|m| m.direct).count();
        assert_eq!(
            effective_member_counts(state, &gid(g), now),
            (direct, listed.len() - direct),
            "counts of group {g}"
        );
        if state.group(&gid(g)).is_some_and(|f| f.confers()) {
            let touched = Touched { groups: [gid(g)].into(), ..Touched::default() };
            assert_eq!(users_reached(state, &touched, now), listed.len(), "users a change to group {g} reaches");
        }
    }
    // A change to a role reaches exactly the active users who hold it, directly or through a group.
    for r in 0..ROLES {
        let touched = Touched { roles: [rid(r)].into(), ..Touched::default() };
        let holders = (0..USERS)
            .filter(|u| state.user(&uid(*u)).is_some_and(|f| f.active))
            .filter(|u| resolve(state, &uid(*u), now).roles.iter().any(|h| h.role == rid(r)))
            .count();
        assert_eq!(users_reached(state, &touched, now), holders, "users a change to role {r} reaches");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn resolution_matches_the_brute_force_model(ops in prop::collection::vec(op(), 1..60)) {
        let mut state = TenantState::default();
        let mut model = Model::default();
        for op in &ops {
            apply(&mut state, &mut model, op);
            compare(&state, &model);
        }
    }
}
