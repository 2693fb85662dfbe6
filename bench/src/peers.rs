//! The same dataset loaded into the peer engines (cedar-policy, casbin) and into cohort's store.

use crate::dataset::{Dataset, gid, perm, rid, uid, xid};
use casbin::prelude::*;
use cedar_policy::{Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicySet, Request};
use std::collections::HashSet;
use std::str::FromStr;

fn euid(kind: &str, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(EntityTypeName::from_str(kind).unwrap(), EntityId::from_str(id).unwrap())
}

/// Users, groups and roles as Cedar entities with parents; one policy per role:
/// `permit(principal in Role::"r", action in [its permissions], resource);`.
pub struct Cedar {
    authorizer: Authorizer,
    policies: PolicySet,
    entities: Entities,
}

impl Cedar {
    pub fn build(d: &Dataset) -> Self {
        let mut user_parents: Vec<HashSet<EntityUid>> = vec![HashSet::new(); d.size.users];
        let mut group_parents: Vec<HashSet<EntityUid>> = vec![HashSet::new(); d.size.groups];
        for (u, g) in &d.memberships {
            user_parents[*u].insert(euid("Group", &format!("g{g}")));
        }
        for (u, r) in &d.user_roles {
            user_parents[*u].insert(euid("Role", &format!("r{r}")));
        }
        for (c, p) in &d.edges {
            group_parents[*c].insert(euid("Group", &format!("g{p}")));
        }
        for (g, r) in &d.group_roles {
            group_parents[*g].insert(euid("Role", &format!("r{r}")));
        }
        let mut entities = Vec::new();
        for (u, parents) in user_parents.into_iter().enumerate() {
            entities.push(Entity::new_no_attrs(euid("User", &format!("u{u}")), parents));
        }
        for (g, parents) in group_parents.into_iter().enumerate() {
            entities.push(Entity::new_no_attrs(euid("Group", &format!("g{g}")), parents));
        }
        for r in 0..d.size.roles {
            entities.push(Entity::new_no_attrs(euid("Role", &format!("r{r}")), HashSet::new()));
        }
        let mut text = String::new();
        for (r, perms) in d.role_perms.iter().enumerate() {
            let actions: Vec<String> = perms.iter().map(|p| format!("Action::\"{}\"", perm(*p))).collect();
            text.push_str(&format!("permit(principal in Role::\"r{r}\", action in [{}], resource);\n", actions.join(", ")));
        }
        Self {
            authorizer: Authorizer::new(),
            policies: PolicySet::from_str(&text).unwrap(),
            entities: Entities::from_entities(entities, None).unwrap(),
        }
    }

    pub fn request(&self, user: usize, permission: &str) -> Request {
        Request::new(euid("User", &format!("u{user}")), euid("Action", permission), euid("Resource", "any"), Context::empty(), None)
            .unwrap()
    }

    pub fn check(&self, r: &Request) -> bool {
        self.authorizer.is_authorized(r, &self.policies, &self.entities).decision() == Decision::Allow
    }
}

const CASBIN_MODEL: &str = "
[request_definition]
r = sub, act

[policy_definition]
p = sub, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && r.act == p.act
";

/// RBAC with a role hierarchy: users and groups are linked to groups and roles by `g`, and
/// roles hold permissions by `p`.
pub struct Casbin(Enforcer);

impl Casbin {
    pub async fn build(d: &Dataset) -> Self {
        let model = DefaultModel::from_str(CASBIN_MODEL).await.unwrap();
        let mut e = Enforcer::new(model, MemoryAdapter::default()).await.unwrap();
        let mut policies = Vec::new();
        for (r, perms) in d.role_perms.iter().enumerate() {
            for p in perms {
                policies.push(vec![format!("r{r}"), perm(*p)]);
            }
        }
        policies.sort();
        policies.dedup();
        e.add_policies(policies).await.unwrap();
        let mut links = Vec::new();
        links.extend(d.memberships.iter().map(|(u, g)| vec![format!("u{u}"), format!("g{g}")]));
        links.extend(d.user_roles.iter().map(|(u, r)| vec![format!("u{u}"), format!("r{r}")]));
        links.extend(d.edges.iter().map(|(c, p)| vec![format!("g{c}"), format!("g{p}")]));
        links.extend(d.group_roles.iter().map(|(g, r)| vec![format!("g{g}"), format!("r{r}")]));
        links.sort();
        links.dedup();
        e.add_grouping_policies(links).await.unwrap();
        Self(e)
    }

    pub fn check(&self, user: &str, permission: &str) -> bool {
        self.0.enforce((user, permission)).unwrap()
    }
}

/// The admin token of the benchmark database.
pub const TOKEN: &str = "cohort_benchmark_admin_token_0123456789";

/// Bootstraps a fresh store (tenant `default`, admin token [`TOKEN`]) and writes the dataset
/// into that tenant in one transaction.
pub async fn write_to_store(url: &str, d: &Dataset) {
    use cohort_core::Timestamp;
    use cohort_core::model::*;
    use cohort_core::name::*;
    use cohort_service::runtime::{RandomIds, SystemClock};
    use std::sync::Arc;
    let store = cohort_store::Store::connect(url).await.unwrap();
    let services = cohort_service::Services::new(store.clone(), Arc::new(SystemClock), Arc::new(RandomIds), Default::default());
    services.bootstrap(Some(TOKEN.to_owned())).await.unwrap();
    let tenant = store.read().await.unwrap().tenant_by_slug("default").await.unwrap().unwrap();
    let t0 = Timestamp(1);
    let mut w = store.write(&tenant.id).await.unwrap();
    let text = |s: &str| ShortText::parse("x", s, false).unwrap();
    for u in 0..d.size.users {
        let user = User {
            id: uid(u),
            email: Some(Email::parse(&format!("user{u}@bench.example")).unwrap()),
            user_name: None,
            display_name: text(&format!("User {u}")),
            // Ten departments, one user in four senior, and the region an IdP reports: what
            // auto-assignment rules read (`bench rules`).
            department: text(&format!("Dept{}", u % 10)),
            title: text(if u % 4 == 0 { "Senior Engineer" } else { "Engineer" }),
            attributes: Attributes::default(),
            sso_groups: SsoGroups::new([["emea", "amer", "apac"][u % 3].to_owned()]).unwrap(),
            status: UserStatus::Active,
            user_type: Default::default(),
            external_id: None,
            time_zone: None,
            created_at: t0,
            updated_at: t0,
        };
        w.insert_user(&user).await.unwrap();
    }
    let mut parents: Vec<Vec<cohort_core::GroupId>> = vec![Vec::new(); d.size.groups];
    for (c, p) in &d.edges {
        parents[*c].push(gid(*p));
    }
    for (g, ps) in parents.into_iter().enumerate() {
        let name = Name::parse("name", &format!("Group {g}")).unwrap();
        let group = Group {
            id: gid(g),
            slug: GroupSlug::from_name(&name),
            name,
            provider_name: None,
            description: Description::parse("").unwrap(),
            status: GroupStatus::Active,
            source: GroupSource::Local,
            external_id: None,
            apply_privileges: true,
            notify_members: false,
            member_types: Default::default(),
            parent_ids: ps,
            created_at: t0,
            updated_at: t0,
        };
        w.insert_group(&group).await.unwrap();
    }
    for (u, g) in &d.memberships {
        let m = Membership {
            group_id: gid(*g),
            user_id: uid(*u),
            source: MembershipSource::Manual,
            role: MemberRole::Member,
            expires_at: None,
            added_by: None,
            added_at: t0,
            reason: text(""),
        };
        w.put_membership(&m).await.unwrap();
    }
    for (r, perms) in d.role_perms.iter().enumerate() {
        let mut permissions: Vec<cohort_core::permission::Permission> =
            perms.iter().map(|p| cohort_core::permission::Permission::parse(&perm(*p)).unwrap()).collect();
        permissions.sort();
        permissions.dedup();
        let role = Role {
            id: rid(r),
            name: Name::parse("name", &format!("Role {r}")).unwrap(),
            description: Description::parse("").unwrap(),
            permissions,
            builtin: false,
            created_at: t0,
            updated_at: t0,
        };
        w.insert_role(&role).await.unwrap();
    }
    for (g, r) in &d.group_roles {
        w.assign_role(&Subject::Group(gid(*g)), &rid(*r), None, t0).await.unwrap();
    }
    for (u, r) in &d.user_roles {
        w.assign_role(&Subject::User(uid(*u)), &rid(*r), None, t0).await.unwrap();
    }
    for x in 0..d.size.resources {
        let r = Resource {
            id: xid(x),
            type_name: Keyword::parse("type", "agent").unwrap(),
            name: Name::parse("name", &format!("Agent {x}")).unwrap(),
            description: Description::parse("").unwrap(),
            created_at: t0,
            updated_at: t0,
        };
        w.put_resource(&r).await.unwrap();
    }
    for (g, x, rank) in &d.grants {
        let level = ["view", "use", "edit"][usize::from(*rank)];
        let grant = Grant {
            resource_id: xid(*x),
            subject: Subject::Group(gid(*g)),
            level: Keyword::parse("level", level).unwrap(),
            granted_by: None,
            granted_at: t0,
        };
        w.put_grant(&grant).await.unwrap();
    }
    w.commit().await.unwrap();
}
