//! The standard dataset: 100,000 users, 10,000 groups nested as a DAG of depth 5 (one root
//! above four layers of 2,500, one group in ten under two parents), 20 direct groups per user,
//! 500 roles of 1 to 3 permissions each assigned to 1 to 3 groups, 5% of users with a direct
//! role, 1,000 resources granted to 1 to 5 groups each. Deterministic for a seed.

use cohort_core::model::{GroupSource, MemberRole, MembershipSource, Subject};
use cohort_core::name::{Keyword, Levels};
use cohort_core::permission::Permission;
use cohort_core::state::{GroupFacts, MemberFacts, ResourceFacts, RoleFacts, TenantState, UserFacts};
use cohort_core::{GroupId, ResourceId, RoleId, UserId};

/// SplitMix64: small, fast, deterministic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Sizes of a dataset.
#[derive(Clone, Copy, Debug)]
pub struct Size {
    pub users: usize,
    pub groups: usize,
    pub groups_per_user: usize,
    pub roles: usize,
    pub resources: usize,
    pub permissions: usize,
}

impl Size {
    pub fn standard() -> Self {
        Self { users: 100_000, groups: 10_000, groups_per_user: 20, roles: 500, resources: 1_000, permissions: 1_000 }
    }
}

pub fn uid(i: usize) -> UserId {
    UserId::parse(&format!("usr_{i:012}")).unwrap()
}
pub fn gid(i: usize) -> GroupId {
    GroupId::parse(&format!("grp_{i:012}")).unwrap()
}
pub fn rid(i: usize) -> RoleId {
    RoleId::parse(&format!("rol_{i:012}")).unwrap()
}
pub fn xid(i: usize) -> ResourceId {
    ResourceId::parse(&format!("res_{i:012}")).unwrap()
}
pub fn perm(i: usize) -> String {
    format!("app{}:action{}", i / 10, i % 10)
}

/// The dataset as plain lists, so it can be loaded into cohort and into the peers alike.
pub struct Dataset {
    pub size: Size,
    /// (child, parent) edges.
    pub edges: Vec<(usize, usize)>,
    /// (user, group).
    pub memberships: Vec<(usize, usize)>,
    /// role -> permission indexes.
    pub role_perms: Vec<Vec<usize>>,
    /// (group, role).
    pub group_roles: Vec<(usize, usize)>,
    /// (user, role).
    pub user_roles: Vec<(usize, usize)>,
    /// (group, resource, rank).
    pub grants: Vec<(usize, usize, u8)>,
}

impl Dataset {
    pub fn generate(size: Size, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        // Group 0 is the root; the rest form four layers below it.
        let layer = (size.groups - 1) / 4;
        let layer_of = |g: usize| if g == 0 { 0 } else { 1 + (g - 1) / layer };
        let mut edges = Vec::new();
        for g in 1..size.groups {
            let l = layer_of(g);
            if l == 1 {
                edges.push((g, 0));
                continue;
            }
            let start = 1 + (l - 2) * layer;
            let p = start + rng.below(layer);
            edges.push((g, p));
            if rng.below(10) == 0 {
                let q = start + rng.below(layer);
                if q != p {
                    edges.push((g, q));
                }
            }
        }
        let mut memberships = Vec::with_capacity(size.users * size.groups_per_user);
        for u in 0..size.users {
            let mut mine: Vec<usize> = (0..size.groups_per_user).map(|_| 1 + rng.below(size.groups - 1)).collect();
            mine.sort_unstable();
            mine.dedup();
            memberships.extend(mine.into_iter().map(|g| (u, g)));
        }
        let role_perms: Vec<Vec<usize>> =
            (0..size.roles).map(|_| (0..1 + rng.below(3)).map(|_| rng.below(size.permissions)).collect()).collect();
        let mut group_roles = Vec::new();
        for r in 0..size.roles {
            for _ in 0..1 + rng.below(3) {
                group_roles.push((1 + rng.below(size.groups - 1), r));
            }
        }
        let mut user_roles = Vec::new();
        for u in 0..size.users {
            if rng.below(20) == 0 {
                user_roles.push((u, rng.below(size.roles)));
            }
        }
        let mut grants = Vec::new();
        for x in 0..size.resources {
            for _ in 0..1 + rng.below(5) {
                grants.push((1 + rng.below(size.groups - 1), x, rng.below(3) as u8));
            }
        }
        Self { size, edges, memberships, role_perms, group_roles, user_roles, grants }
    }

    /// The dataset as cohort's in-memory facts.
    pub fn state(&self) -> TenantState {
        let mut s = TenantState::default();
        let levels = Levels::new(["view", "use", "edit"].iter().map(|l| Keyword::parse("levels", l).unwrap()).collect()).unwrap();
        s.put_resource_type("agent", levels);
        for u in 0..self.size.users {
            s.put_user(uid(u), UserFacts { active: true, user_type: Default::default() });
        }
        for g in 0..self.size.groups {
            let facts = GroupFacts { name: format!("group {g}"), active: true, apply_privileges: true, source: GroupSource::Local, member_types: Default::default() };
            s.put_group(gid(g), facts);
        }
        let mut parents: Vec<Vec<GroupId>> = vec![Vec::new(); self.size.groups];
        for (c, p) in &self.edges {
            parents[*c].push(gid(*p));
        }
        for (g, ps) in parents.into_iter().enumerate() {
            if !ps.is_empty() {
                s.set_parents(&gid(g), ps);
            }
        }
        let member = MemberFacts { role: MemberRole::Member, expires_at: None };
        for (u, g) in &self.memberships {
            s.put_membership(&gid(*g), &uid(*u), MembershipSource::Manual, member);
        }
        for (r, perms) in self.role_perms.iter().enumerate() {
            let permissions = perms.iter().map(|p| Permission::parse(&perm(*p)).unwrap()).collect();
            s.put_role(rid(r), RoleFacts { name: format!("role {r}"), permissions });
        }
        for (g, r) in &self.group_roles {
            s.assign(&Subject::Group(gid(*g)), &rid(*r));
        }
        for (u, r) in &self.user_roles {
            s.assign(&Subject::User(uid(*u)), &rid(*r));
        }
        for x in 0..self.size.resources {
            s.put_resource(xid(x), ResourceFacts { type_name: "agent".into(), name: format!("agent {x}") });
        }
        for (g, x, rank) in &self.grants {
            s.grant(&Subject::Group(gid(*g)), &xid(*x), *rank);
        }
        s
    }
}
