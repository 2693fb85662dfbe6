//! Random operation sequences by random non-admin actors against the real services, checked
//! after every step against a brute-force model built on the reference resolution
//! (`cohort_core::resolve`, not the index the server decides with):
//! - nobody but the admin ever holds a canary: the `canary:secret` permission and the `edit`
//!   level on a canary resource, which only a group nobody is in confers, and `cohort:admin`;
//! - an accepted change gave nobody a permission or a level its actor did not hold before it;
//! - a refused change (403) left every row as it was;
//! - for the memberships, nesting edges and direct roles the model can replay, the server
//!   accepts or refuses exactly as the model predicts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cohort_core::model::{MemberRole, MembershipSource, Subject};
use cohort_core::resolve::resolve;
use cohort_core::state::{MemberFacts, TenantState};
use cohort_core::{Clock, GroupId, RoleId, UserId};
use common::{ROOT, TestApp};
use proptest::prelude::*;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

const T: &str = "/t/default/api/v1";
const GROUPS: usize = 6;
const USERS: usize = 4;

#[derive(Clone, Debug)]
enum Op {
    AddMember { actor: usize, group: usize, user: usize },
    RemoveMember { actor: usize, group: usize, user: usize },
    Nest { actor: usize, group: usize, parent: usize },
    AssignGroupRole { actor: usize, group: usize, role: usize },
    AssignUserRole { actor: usize, user: usize, role: usize },
    GrantGroup { actor: usize, group: usize, level: usize },
    EditRole { actor: usize, role: usize, perm: usize },
    SetStatus { actor: usize, user: usize, active: bool },
}

const ACTORS: usize = 4;
const PERMS: [&str; 4] = ["a:x", "b:y", "canary:secret", "cohort:*"];
const LEVELS: [&str; 3] = ["view", "use", "edit"];

fn op() -> impl Strategy<Value = Op> {
    let a = 0..ACTORS;
    prop_oneof![
        4 => (a.clone(), 0..GROUPS, 0..USERS).prop_map(|(actor, group, user)| Op::AddMember { actor, group, user }),
        1 => (a.clone(), 0..GROUPS, 0..USERS).prop_map(|(actor, group, user)| Op::RemoveMember { actor, group, user }),
        3 => (a.clone(), 0..GROUPS, 0..GROUPS).prop_map(|(actor, group, parent)| Op::Nest { actor, group, parent }),
        2 => (a.clone(), 0..GROUPS, 0..4usize).prop_map(|(actor, group, role)| Op::AssignGroupRole { actor, group, role }),
        2 => (a.clone(), 0..USERS, 0..4usize).prop_map(|(actor, user, role)| Op::AssignUserRole { actor, user, role }),
        2 => (a.clone(), 0..GROUPS, 0..LEVELS.len()).prop_map(|(actor, group, level)| Op::GrantGroup { actor, group, level }),
        1 => (a.clone(), 0..2usize, 0..PERMS.len()).prop_map(|(actor, role, perm)| Op::EditRole { actor, role, perm }),
        1 => (a, 0..USERS, any::<bool>()).prop_map(|(actor, user, active)| Op::SetStatus { actor, user, active }),
    ]
}

/// What one user holds, by the reference resolution.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Holds {
    perms: BTreeSet<String>,
    levels: BTreeMap<String, u8>,
}

fn covers(held: &str, wanted: &str) -> bool {
    match held.strip_suffix('*') {
        Some(prefix) => wanted.starts_with(prefix),
        None => held == wanted,
    }
}

impl Holds {
    fn of(state: &TenantState, u: &UserId, now: cohort_core::Timestamp) -> Self {
        let a = resolve(state, u, now);
        Holds {
            perms: a.permissions.iter().map(|p| p.permission.as_str().to_owned()).collect(),
            levels: a.levels.iter().map(|l| (l.resource.to_string(), l.rank)).collect(),
        }
    }

    /// What `self` has that `before` did not cover.
    fn gained(&self, before: &Holds) -> Holds {
        Holds {
            perms: self.perms.iter().filter(|p| !before.perms.iter().any(|b| covers(b, p))).cloned().collect(),
            levels: self
                .levels
                .iter()
                .filter(|(r, k)| before.levels.get(*r).is_none_or(|b| b < *k))
                .map(|(r, k)| (r.clone(), *k))
                .collect(),
        }
    }

    fn within(&self, actor: &Holds) -> bool {
        self.perms.iter().all(|p| actor.perms.iter().any(|a| covers(a, p)))
            && self.levels.iter().all(|(r, k)| actor.levels.get(r).is_some_and(|a| a >= k))
    }
}

struct World {
    app: TestApp,
    tenant: cohort_core::TenantId,
    groups: Vec<String>,
    users: Vec<String>,
    /// Roles the ops may hand out: `a:x`, `b:y`, canary, admin.
    roles: Vec<String>,
    resource: String,
    actors: Vec<(String, String)>,
    admin: String,
}

impl World {
    async fn new() -> Self {
        let app = TestApp::new().await;
        let admin_role = app.builtin("default", ROOT, "admin").await;
        let ra = app.role("default", ROOT, "A", &["a:x"]).await;
        let rb = app.role("default", ROOT, "B", &["b:y"]).await;
        let canary = app.role("default", ROOT, "Canary", &["canary:secret"]).await;
        let resource = app.post(&format!("{T}/resources"), ROOT, json!({"type": "agent", "name": "Canary"})).await.id();
        let mut groups = Vec::new();
        for i in 0..GROUPS {
            groups.push(app.group("default", ROOT, &format!("G{i}"), &[]).await);
        }
        // G0 confers admin and G1 the canaries; nobody is in either. G2 confers `a:x` and
        // `use` on the resource, G3 `b:y`.
        for (g, r) in [(0, &admin_role), (1, &canary), (2, &ra), (3, &rb)] {
            app.post(&format!("{T}/groups/{}/roles", groups[g]), ROOT, json!({"roleId": r})).await.ok(201);
        }
        for (g, level) in [(1, "edit"), (2, "use")] {
            let grant = json!({"resourceId": resource, "level": level});
            app.post(&format!("{T}/groups/{}/grants", groups[g]), ROOT, grant).await.ok(201);
        }
        let mut users = Vec::new();
        for i in 0..USERS {
            users.push(app.user("default", ROOT, &format!("u{i}@example.com")).await);
        }
        // Actors: a group-admin holding `a:x` and `use`; a holder of user-roles and roles
        // writes holding `b:y`; a users.write holder; a manager of G2 and G4.
        let mut actors = Vec::new();
        let group_admin = app.builtin("default", ROOT, "group-admin").await;
        let specs: [(&str, Vec<&str>, Vec<usize>); 4] = [
            ("ga", vec!["builtin:group-admin", "A"], vec![]),
            ("roles", vec!["cohort:user-roles.write", "cohort:roles.write", "cohort:roles.read", "B"], vec![]),
            ("users", vec!["cohort:users.write", "cohort:users.read"], vec![]),
            ("manager", vec![], vec![2, 4]),
        ];
        for (name, perms, manages) in specs {
            let u = app.user("default", ROOT, &format!("{name}@actors.test")).await;
            for p in perms {
                let role = match p {
                    "builtin:group-admin" => group_admin.clone(),
                    "A" => ra.clone(),
                    "B" => rb.clone(),
                    other => app.role("default", ROOT, &format!("{name} {other}"), &[other]).await,
                };
                app.post(&format!("{T}/users/{u}/roles"), ROOT, json!({"roleId": role})).await.ok(201);
            }
            if name == "ga" {
                let grant = json!({"resourceId": resource, "level": "use"});
                app.post(&format!("{T}/users/{u}/grants"), ROOT, grant).await.ok(201);
            }
            for g in manages {
                let body = json!({"userId": u, "role": "manager"});
                app.post(&format!("{T}/groups/{}/members", groups[g]), ROOT, body).await.ok(201);
            }
            let token = app.token_for("default", ROOT, &u).await;
            actors.push((u, token));
        }
        let tenant = app.store.read().await.unwrap().tenant_by_slug("default").await.unwrap().unwrap().id;
        let me = app.get(&format!("{T}/me"), ROOT).await.ok(200).clone();
        let admin = me["id"].as_str().unwrap().to_owned();
        World { app, tenant, groups, users, roles: vec![ra, rb, canary, admin_role], resource, actors, admin }
    }

    async fn state(&self) -> TenantState {
        self.app.store.read().await.unwrap().load_state(&self.tenant).await.unwrap()
    }

    fn everyone(&self) -> Vec<UserId> {
        self.users.iter().chain(self.actors.iter().map(|(u, _)| u)).map(|u| UserId::parse(u).unwrap()).collect()
    }

    async fn run(&self, op: &Op) -> u16 {
        let app = &self.app;
        let (path, body, method) = match op {
            Op::AddMember { group, user, .. } => {
                (format!("/groups/{}/members", self.groups[*group]), json!({"userId": self.users[*user]}), "POST")
            }
            Op::RemoveMember { group, user, .. } => {
                (format!("/groups/{}/members/{}", self.groups[*group], self.users[*user]), json!(null), "DELETE")
            }
            Op::Nest { group, parent, .. } => {
                (format!("/groups/{}", self.groups[*group]), json!({"parentIds": [self.groups[*parent]]}), "PATCH")
            }
            Op::AssignGroupRole { group, role, .. } => {
                (format!("/groups/{}/roles", self.groups[*group]), json!({"roleId": self.roles[*role]}), "POST")
            }
            Op::AssignUserRole { user, role, .. } => {
                (format!("/users/{}/roles", self.users[*user]), json!({"roleId": self.roles[*role]}), "POST")
            }
            Op::GrantGroup { group, level, .. } => (
                format!("/groups/{}/grants", self.groups[*group]),
                json!({"resourceId": self.resource, "level": LEVELS[*level]}),
                "POST",
            ),
            Op::EditRole { role, perm, .. } => {
                (format!("/roles/{}", self.roles[*role]), json!({"permissions": [PERMS[*perm]]}), "PATCH")
            }
            Op::SetStatus { user, active, .. } => (
                format!("/users/{}", self.users[*user]),
                json!({"status": if *active { "active" } else { "suspended" }}),
                "PATCH",
            ),
        };
        let token = &self.actors[actor_of(op)].1;
        let path = format!("{T}{path}");
        let a = match method {
            "POST" => app.post(&path, token, body).await,
            "PATCH" => app.patch(&path, token, body).await,
            _ => app.delete(&path, token).await,
        };
        a.status.as_u16()
    }

    /// The model's replay of the ops it can apply on its own copy of the facts.
    fn replay(&self, state: &TenantState, op: &Op) -> Option<TenantState> {
        let mut s = state.clone();
        let g = |i: usize| GroupId::parse(&self.groups[i]).unwrap();
        let u = |i: usize| UserId::parse(&self.users[i]).unwrap();
        match op {
            Op::AddMember { group, user, .. } => {
                let facts = MemberFacts { role: MemberRole::Member, expires_at: None };
                s.put_membership(&g(*group), &u(*user), MembershipSource::Manual, facts);
            }
            Op::Nest { group, parent, .. } => s.set_parents(&g(*group), [g(*parent)]),
            Op::AssignUserRole { user, role, .. } => {
                s.assign(&Subject::User(u(*user)), &RoleId::parse(&self.roles[*role]).unwrap());
            }
            _ => return None,
        }
        Some(s)
    }
}

fn actor_of(op: &Op) -> usize {
    match op {
        Op::AddMember { actor, .. }
        | Op::RemoveMember { actor, .. }
        | Op::Nest { actor, .. }
        | Op::AssignGroupRole { actor, .. }
        | Op::AssignUserRole { actor, .. }
        | Op::GrantGroup { actor, .. }
        | Op::EditRole { actor, .. }
        | Op::SetStatus { actor, .. } => *actor,
    }
}

async fn check(ops: Vec<Op>) {
    let w = World::new().await;
    let canary_res = w.resource.clone();
    let mut refused = 0;
    for op in &ops {
        let now = Clock::now(w.app.clock.as_ref());
        let before = w.state().await;
        let actor = UserId::parse(&w.actors[actor_of(op)].0).unwrap();
        let actor_held = Holds::of(&before, &actor, now);
        let holds_before: Vec<Holds> = w.everyone().iter().map(|u| Holds::of(&before, u, now)).collect();
        let status = w.run(op).await;
        let after = w.state().await;
        assert!(status < 500, "{op:?}: {status}");
        if status == 403 {
            refused += 1;
            assert_eq!(after.canonical(), before.canonical(), "a refused {op:?} changed something");
        }
        let mut gained = Holds::default();
        for (u, was) in w.everyone().iter().zip(&holds_before) {
            let now_holds = Holds::of(&after, u, now);
            let g = now_holds.gained(was);
            gained.perms.extend(g.perms);
            gained.levels.extend(g.levels);
            assert!(
                !now_holds.perms.iter().any(|p| covers(p, "canary:secret") || covers(p, "cohort:admin")),
                "{u} holds a canary permission after {op:?}: {now_holds:?}"
            );
            assert!(
                now_holds.levels.get(&canary_res).is_none_or(|k| *k < 2),
                "{u} holds `edit` on the canary after {op:?}"
            );
        }
        assert!(gained.within(&actor_held), "{op:?} gave {gained:?}, beyond what its actor held: {actor_held:?}");
        // Where the model can replay the op, it predicts a refusal exactly when the op would
        // give someone what the actor lacks (among ops the actor's role allows).
        if let Some(model) = w.replay(&before, op) {
            let would: Vec<Holds> = w.everyone().iter().map(|u| Holds::of(&model, u, now)).collect();
            let lacks =
                w.everyone().iter().zip(&holds_before).zip(&would).any(|((_, b), a)| !a.gained(b).within(&actor_held));
            if lacks {
                assert!(
                    status == 403 || status == 404 || status == 409 || status == 422,
                    "{op:?} should be refused: {status}"
                );
            }
            if status < 300 {
                assert!(!lacks, "{op:?} was accepted though the model says it confers beyond the actor");
            }
        }
    }
    let last = w.state().await;
    let now = Clock::now(w.app.clock.as_ref());
    assert!(w.everyone().iter().all(|u| !Holds::of(&last, u, now).perms.contains("cohort:*")), "admin {}", w.admin);
    eprintln!("{} ops, {refused} refused", ops.len());
    w.app.assert_consistent().await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 40, ..ProptestConfig::default() })]

    #[test]
    fn no_sequence_of_non_admin_changes_confers_beyond_its_actors(ops in prop::collection::vec(op(), 1..30)) {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(check(ops));
    }
}
