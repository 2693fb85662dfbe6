//! The escalation matrix: every path that confers access × actors × targets. A change may
//! confer only what its actor holds (tenant admins excepted), an identity provider never
//! confers `cohort:` permissions, and a credential is issued only to its owner or by an admin.
//! A provider group mapped onto a group counts: its members join at their next sign-in.
//! Each refusal is a 403 that names what is lacking, changes nothing (but the audit log,
//! which records it as `*.refused`) and leaves the would-be beneficiary without it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::{Method, StatusCode};
use common::oidc::{Idp, set_up, sign_in};
use common::{ROOT, TestApp};
use serde_json::json;

const T: &str = "/t/default/api/v1";
const CONSOLE: &str = "/t/default/portal/access-management";

/// A tenant's facts at one moment: its access state and its roles.
type Facts = Option<(cohort_core::state::TenantState, Vec<cohort_core::model::Role>)>;

/// A group an attempt tries to confer: what it gives and how to see that it was given.
struct Target {
    name: &'static str,
    group: String,
    role: String,
    /// The permission it confers that proves membership took effect.
    proof: &'static str,
    /// The level it grants on the shared resource, if any.
    level: Option<&'static str>,
    /// Whether the actors hold everything it confers.
    held: bool,
    /// Whether it confers `cohort:` permissions.
    cohort: bool,
    /// The department a rule on the group matches (groups conferring `cohort:` have none).
    rule_department: Option<String>,
}

/// One way of conferring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    AddMember,
    BatchAdd,
    CsvImport,
    NestExisting,
    NestNew,
    GroupRole,
    UserRole,
    GroupGrant,
    UserGrant,
    RoleEdit,
    RuleByDepartment,
    Unsuspend,
    ScimMember,
    ScimNest,
    CreateUnder,
    CreateWithRole,
    CreateUserInto,
    ConsoleAddMember,
    ConsoleBatchAdd,
    ConsoleCreateWithRole,
    ConsoleGroupRole,
    ConsoleUserRole,
    ConsoleGroupGrant,
    ConsoleUserGrant,
    SsoMapping,
    ConsoleSsoMapping,
    ConsoleUnsuspend,
    ConsoleNestExisting,
}

const PATHS: [Path; 28] = [
    Path::AddMember,
    Path::BatchAdd,
    Path::CsvImport,
    Path::NestExisting,
    Path::NestNew,
    Path::GroupRole,
    Path::UserRole,
    Path::GroupGrant,
    Path::UserGrant,
    Path::RoleEdit,
    Path::RuleByDepartment,
    Path::Unsuspend,
    Path::ScimMember,
    Path::ScimNest,
    Path::CreateUnder,
    Path::CreateWithRole,
    Path::CreateUserInto,
    Path::ConsoleAddMember,
    Path::ConsoleBatchAdd,
    Path::ConsoleCreateWithRole,
    Path::ConsoleGroupRole,
    Path::ConsoleUserRole,
    Path::ConsoleGroupGrant,
    Path::ConsoleUserGrant,
    Path::SsoMapping,
    Path::ConsoleSsoMapping,
    Path::ConsoleUnsuspend,
    Path::ConsoleNestExisting,
];

impl Path {
    /// The path of the REST face that a console form takes through the same service (the
    /// path itself for every other).
    fn twin(self) -> Self {
        match self {
            Self::ConsoleAddMember => Self::AddMember,
            Self::ConsoleBatchAdd => Self::BatchAdd,
            Self::ConsoleCreateWithRole => Self::CreateWithRole,
            Self::ConsoleGroupRole => Self::GroupRole,
            Self::ConsoleUserRole => Self::UserRole,
            Self::ConsoleGroupGrant => Self::GroupGrant,
            Self::ConsoleUserGrant => Self::UserGrant,
            Self::ConsoleSsoMapping => Self::SsoMapping,
            Self::ConsoleUnsuspend => Self::Unsuspend,
            Self::ConsoleNestExisting => Self::NestExisting,
            other => other,
        }
    }

    /// The cohort permission the path needs before any conferral is judged.
    fn needs(self) -> &'static str {
        match self.twin() {
            Self::AddMember
            | Self::BatchAdd
            | Self::CsvImport
            | Self::NestExisting
            | Self::NestNew
            | Self::CreateUnder
            | Self::CreateWithRole
            | Self::SsoMapping => "cohort:groups.write",
            Self::CreateUserInto => "cohort:users.write",
            Self::GroupRole | Self::GroupGrant => "cohort:groups.write",
            Self::UserRole => "cohort:user-roles.write",
            Self::UserGrant => "cohort:user-roles.write",
            Self::RoleEdit => "cohort:roles.write",
            Self::RuleByDepartment | Self::Unsuspend => "cohort:users.write",
            Self::ScimMember | Self::ScimNest => "scim",
            console => unreachable!("{console:?} has a twin"),
        }
    }

    fn scim(self) -> bool {
        matches!(self, Self::ScimMember | Self::ScimNest)
    }
}

/// Someone who tries.
struct Actor {
    name: String,
    token: String,
    /// The cohort permissions they hold (`scim` for the identity provider's token).
    perms: Vec<String>,
    /// Groups they manage.
    manages: Vec<String>,
}

struct World {
    app: TestApp,
    /// The tenant's identity provider: a mapped provider group's members join at sign-in.
    idp: Idp,
    targets: Vec<Target>,
    resource: String,
    actors: Vec<Actor>,
    n: std::cell::Cell<usize>,
    /// Each actor's console session (its cookie and CSRF token), or `None` when the console
    /// does not let them in.
    sessions: std::cell::RefCell<std::collections::HashMap<String, Option<(String, String)>>>,
}

impl World {
    async fn new() -> Self {
        let app = TestApp::new().await;
        let idp = Idp::start();
        set_up(&app, &idp, json!({"createUsers": false, "linkByEmail": true})).await.ok(200);
        let admin_role = app.builtin("default", ROOT, "admin").await;
        let deals = app.role("default", ROOT, "Deals", &["deals:edit"]).await;
        let viewer = app.role("default", ROOT, "Viewer", &["reports:view"]).await;
        let resource = app.post(&format!("{T}/resources"), ROOT, json!({"type": "agent", "name": "Agent"})).await.id();
        let mut targets = Vec::new();
        for (name, role, proof, level, held, cohort) in [
            ("cohort", admin_role, "cohort:admin", None, false, true),
            ("app", deals, "deals:edit", Some("edit"), false, false),
            ("held", viewer.clone(), "reports:view", Some("view"), true, false),
        ] {
            let group = app.group("default", ROOT, &format!("Target {name}"), &[]).await;
            app.post(&format!("{T}/groups/{group}/roles"), ROOT, json!({"roleId": role})).await.ok(201);
            if let Some(level) = level {
                let grant = json!({"resourceId": resource, "level": level});
                app.post(&format!("{T}/groups/{group}/grants"), ROOT, grant).await.ok(201);
            }
            let rule_department = (!cohort).then(|| format!("dept-{name}"));
            if let Some(d) = &rule_department {
                let rule = json!({"expression": format!("user.department == '{d}'"), "confirm": true});
                app.post(&format!("{T}/groups/{group}/rules"), ROOT, rule).await.ok(201);
            }
            targets.push(Target { name, group, role, proof, level, held, cohort, rule_department });
        }
        let mut actors = Vec::new();
        let mut with_role = async |name: &str, perms: Vec<String>, manages: Vec<String>| {
            let user = app.user("default", ROOT, &format!("{name}@actors.test")).await;
            // Every actor holds what the `held` target confers, directly.
            app.post(&format!("{T}/users/{user}/roles"), ROOT, json!({"roleId": viewer})).await.ok(201);
            let grant = json!({"resourceId": resource, "level": "view"});
            app.post(&format!("{T}/users/{user}/grants"), ROOT, grant).await.ok(201);
            if !perms.is_empty() {
                let role = app
                    .role(
                        "default",
                        ROOT,
                        &format!("Only {name}"),
                        &perms.iter().map(String::as_str).collect::<Vec<_>>(),
                    )
                    .await;
                app.post(&format!("{T}/users/{user}/roles"), ROOT, json!({"roleId": role})).await.ok(201);
            }
            for g in &manages {
                app.post(&format!("{T}/groups/{g}/members"), ROOT, json!({"userId": user, "role": "manager"}))
                    .await
                    .ok(201);
            }
            let token = app.token_for("default", ROOT, &user).await;
            actors.push(Actor { name: name.to_owned(), token, perms, manages });
        };
        let group_admin: Vec<String> = [
            "cohort:users.read",
            "cohort:groups.read",
            "cohort:groups.write",
            "cohort:roles.read",
            "cohort:resources.read",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        with_role("group-admin", group_admin, vec![]).await;
        let people_admin: Vec<String> =
            ["cohort:users.read", "cohort:users.write", "cohort:groups.read", "cohort:groups.write"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        with_role("people-admin", people_admin, vec![]).await;
        let held_group = targets[2].group.clone();
        with_role("manager", vec![], vec![held_group]).await;
        let auditor: Vec<String> = [
            "cohort:users.read",
            "cohort:groups.read",
            "cohort:roles.read",
            "cohort:resources.read",
            "cohort:access.read",
            "cohort:audit.read",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        with_role("auditor", auditor, vec![]).await;
        with_role("plain", vec![], vec![]).await;
        for p in [
            "users.read",
            "users.write",
            "groups.read",
            "groups.write",
            "roles.read",
            "roles.write",
            "user-roles.write",
            "resources.read",
            "resources.write",
            "access.read",
            "audit.read",
            "tokens.manage",
        ] {
            with_role(&format!("only-{p}"), vec![format!("cohort:{p}")], vec![]).await;
        }
        let scim = app.scim_token("default", ROOT).await;
        actors.push(Actor { name: "scim".to_owned(), token: scim, perms: vec!["scim".to_owned()], manages: vec![] });
        Self { app, idp, targets, resource, actors, n: std::cell::Cell::new(0), sessions: Default::default() }
    }

    /// Posts a console form as `who`, signing them in the first time; the answer as the REST
    /// face would give it (a redirect after a change is its success; the page is the detail).
    async fn console(&self, who: &Actor, path: &str, form: &str) -> common::Answer {
        const HERE: Option<&str> = Some("http://cohort.test");
        let known = self.sessions.borrow().get(&who.token).cloned();
        let session = match known {
            Some(s) => s,
            None => {
                let token = format!("token={}", who.token);
                let p = self.app.console(Method::POST, "/t/default/login/token", None, HERE, Some(&token)).await;
                let s = match p.cookie {
                    Some(c) => {
                        let page = self.app.console(Method::GET, &format!("{CONSOLE}/why"), Some(&c), None, None).await;
                        assert_eq!(page.status, StatusCode::OK, "{}: {}", who.name, page.html);
                        Some((c, page.csrf()))
                    }
                    None => None,
                };
                self.sessions.borrow_mut().insert(who.token.clone(), s.clone());
                s
            }
        };
        let Some((cookie, csrf)) = session else {
            let body = json!({"detail": "the console does not let them in"});
            return common::Answer { status: StatusCode::UNAUTHORIZED, headers: Default::default(), body };
        };
        let form = format!("csrf={csrf}&{form}");
        let mut p = self.app.console(Method::POST, &format!("{CONSOLE}{path}"), Some(&cookie), HERE, Some(&form)).await;
        if p.status == StatusCode::OK && p.html.contains("name=\"revision\"") {
            // A change that gives `cohort:` permissions is asked first: confirm it.
            let confirmed = format!("{form}&revision={}", p.revision());
            p = self
                .app
                .console(Method::POST, &format!("{CONSOLE}{path}"), Some(&cookie), HERE, Some(&confirmed))
                .await;
        }
        let status = if p.status == StatusCode::SEE_OTHER && !p.location.starts_with("/t/default/login") {
            StatusCode::OK
        } else {
            p.status
        };
        common::Answer { status, headers: p.headers, body: json!({"detail": p.html}) }
    }

    fn fresh(&self) -> usize {
        self.n.set(self.n.get() + 1);
        self.n.get()
    }

    /// Whether `who` may use `path` on `target` at all, before conferral is judged.
    fn authorised(&self, who: &Actor, path: Path, target: &Target) -> bool {
        if path.scim() || who.perms.iter().any(|p| p == "scim") {
            return path.scim() && who.perms.iter().any(|p| p == "scim");
        }
        let holds = |p: &str| who.perms.iter().any(|h| h == p);
        let console = path != path.twin();
        let path = path.twin();
        // The console finds the people a form names by email, which needs `cohort:users.read`
        // (a manager's add-member form may ask only about their own group).
        let finds = match path {
            Path::AddMember => !console || holds("cohort:users.read") || who.manages.contains(&target.group),
            Path::BatchAdd | Path::CreateWithRole => !console || holds("cohort:users.read"),
            // The mapping form finds its group by name, which needs `cohort:groups.read`.
            Path::SsoMapping => !console || holds("cohort:groups.read"),
            // The console's question names the user and counts whom the change reaches, which
            // needs `cohort:users.read`.
            Path::Unsuspend => !console || holds("cohort:users.read"),
            // The parents field finds its groups by slug or name, which needs `cohort:groups.read`.
            Path::NestExisting => !console || holds("cohort:groups.read"),
            _ => true,
        };
        finds
            && match path {
                Path::AddMember | Path::BatchAdd | Path::CsvImport => {
                    holds(path.needs()) || who.manages.contains(&target.group)
                }
                Path::GroupGrant | Path::UserGrant => {
                    holds(if path == Path::GroupGrant { "cohort:groups.write" } else { "cohort:user-roles.write" })
                }
                Path::CreateUserInto => holds("cohort:users.write") && holds("cohort:groups.write"),
                _ => holds(path.needs()),
            }
    }

    /// Whether the rule lets the attempt through once authorised.
    fn may_confer(&self, who: &Actor, path: Path, target: &Target) -> bool {
        if who.perms.iter().any(|p| p == "scim") {
            // The identity provider's token belongs to an admin: bounded only by `cohort:`.
            return !target.cohort;
        }
        target.held || !self.applicable_lacks(path, target)
    }

    /// Whether the path, on this target, would give something beyond what the actors hold.
    fn applicable_lacks(&self, path: Path, target: &Target) -> bool {
        match path.twin() {
            Path::GroupGrant | Path::UserGrant => target.level != Some("view"),
            _ => !target.held,
        }
    }

    /// Whether the path applies to the target.
    fn applies(&self, path: Path, target: &Target) -> bool {
        match path.twin() {
            Path::GroupGrant | Path::UserGrant => target.level.is_some(),
            Path::RuleByDepartment => target.rule_department.is_some(),
            _ => true,
        }
    }

    /// The tenant's facts, compared as values (not as printed: a map's printed order follows
    /// the order its rows were read in, which PostgreSQL does not keep).
    async fn facts(&self) -> Facts {
        let mut r = self.app.store.read().await.unwrap();
        let t = r.list_tenants().await.unwrap().into_iter().find(|t| t.slug.as_str() == "default").unwrap();
        let state = r.load_state(&t.id).await.unwrap().canonical();
        let roles = r.list_roles(&t.id, None, None, 1000).await.unwrap();
        Some((state, roles))
    }

    /// Whether `user` now holds what `target` confers.
    async fn holds(&self, user: &str, target: &Target, path: Path) -> bool {
        let check = match path.twin() {
            Path::GroupGrant | Path::UserGrant => {
                json!({"userId": user, "resourceId": self.resource, "level": target.level.unwrap()})
            }
            _ => json!({"userId": user, "permission": target.proof}),
        };
        self.app.post(&format!("{T}/check"), ROOT, check).await.ok(200)["allowed"].as_bool().unwrap()
    }

    /// Sets up a fresh beneficiary for one attempt and makes it; returns the beneficiary, the
    /// answer of the step that confers, and the facts just before that step.
    async fn attempt(
        &self,
        who: &Actor,
        path: Path,
        target: &Target,
        snapshot: bool,
    ) -> (String, common::Answer, Facts) {
        let app = &self.app;
        let n = self.fresh();
        let email = format!("victim{n}@example.com");
        let suspended = path.twin() == Path::Unsuspend;
        let body = if suspended { json!({"email": email, "status": "suspended"}) } else { json!({"email": email}) };
        let victim = app.post(&format!("{T}/users"), ROOT, body).await.id();
        // A group of the victim's (while they are active), with a role that gives nothing of use yet.
        let own = app.group("default", ROOT, &format!("Own {n}"), &[]).await;
        if !suspended {
            app.post(&format!("{T}/groups/{own}/members"), ROOT, json!({"userId": victim})).await.ok(201);
        }
        let empty_role = app.role("default", ROOT, &format!("Empty {n}"), &["nothing:yet"]).await;
        app.post(&format!("{T}/groups/{own}/roles"), ROOT, json!({"roleId": empty_role})).await.ok(201);
        if suspended {
            app.post(&format!("{T}/groups/{}/members", target.group), ROOT, json!({"userId": victim})).await.ok(201);
        }
        let tok = who.token.as_str();
        let g = &target.group;
        let facts = async || if snapshot { self.facts().await } else { None };
        let mut before = facts().await;
        let answer = match path {
            Path::AddMember => app.post(&format!("{T}/groups/{g}/members"), tok, json!({"userId": victim})).await,
            Path::BatchAdd => {
                let body = json!({"groupIds": [g], "action": "addMembers", "userIds": [victim]});
                app.post(&format!("{T}/groups/batch"), tok, body).await
            }
            Path::CsvImport => {
                let csv = format!("email,role\n{email},member\n");
                let p = app.post(&format!("{T}/groups/{g}/members/import"), tok, json!(csv)).await;
                if p.status != 201 {
                    return (victim, p, before);
                }
                let id = p.body["importId"].as_str().unwrap().to_owned();
                before = facts().await;
                app.post(&format!("{T}/groups/{g}/members/import/{id}/confirm"), tok, json!({})).await
            }
            Path::NestExisting => app.patch(&format!("{T}/groups/{own}"), tok, json!({"parentIds": [g]})).await,
            Path::NestNew => {
                let c = app
                    .post(&format!("{T}/groups"), tok, json!({"name": format!("Child {n}"), "parentIds": [g]}))
                    .await;
                if c.status != 201 {
                    return (victim, c, before);
                }
                let child = c.id();
                before = facts().await;
                app.post(&format!("{T}/groups/{child}/members"), tok, json!({"userId": victim})).await
            }
            Path::GroupRole => app.post(&format!("{T}/groups/{own}/roles"), tok, json!({"roleId": target.role})).await,
            Path::UserRole => app.post(&format!("{T}/users/{victim}/roles"), tok, json!({"roleId": target.role})).await,
            Path::GroupGrant => {
                let grant = json!({"resourceId": self.resource, "level": target.level.unwrap()});
                app.post(&format!("{T}/groups/{own}/grants"), tok, grant).await
            }
            Path::UserGrant => {
                let grant = json!({"resourceId": self.resource, "level": target.level.unwrap()});
                app.post(&format!("{T}/users/{victim}/grants"), tok, grant).await
            }
            Path::RoleEdit => {
                let perms = json!({"permissions": ["nothing:yet", target.proof]});
                app.patch(&format!("{T}/roles/{empty_role}"), tok, perms).await
            }
            Path::RuleByDepartment => {
                let d = target.rule_department.clone().unwrap();
                app.patch(&format!("{T}/users/{victim}"), tok, json!({"department": d})).await
            }
            Path::Unsuspend => app.patch(&format!("{T}/users/{victim}"), tok, json!({"status": "active"})).await,
            Path::ScimMember => {
                let op = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "add", "path": "members", "value": [{"value": victim}]}]});
                app.scim(Method::PATCH, &format!("/t/default/scim/v2/Groups/{g}"), tok, Some(op)).await
            }
            Path::ScimNest => {
                let op = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "add", "path": "members", "value": [{"value": own, "type": "Group"}]}]});
                app.scim(Method::PATCH, &format!("/t/default/scim/v2/Groups/{g}"), tok, Some(op)).await
            }
            Path::CreateUnder => {
                let body = json!({"name": format!("Under {n}"), "parentIds": [g], "members": [{"userId": victim}]});
                app.post(&format!("{T}/groups"), tok, body).await
            }
            Path::CreateWithRole => {
                let body =
                    json!({"name": format!("With {n}"), "roleIds": [target.role], "members": [{"userId": victim}]});
                app.post(&format!("{T}/groups"), tok, body).await
            }
            Path::SsoMapping | Path::ConsoleSsoMapping => {
                let provider_group = format!("pg-{n}");
                let a = if path == Path::SsoMapping {
                    let body = json!({"providerGroup": provider_group});
                    app.post(&format!("{T}/groups/{g}/sso-mappings"), tok, body).await
                } else {
                    let form = format!("provider_group={provider_group}&group=Target+{}", target.name);
                    self.console(who, "/sign-in/mappings", &form).await
                };
                if a.status.is_success() {
                    // The victim is in that provider group and signs in.
                    let sub = format!("victim{n}");
                    self.idp.control(
                        "/test/account",
                        json!({"sub": sub, "email": email, "email_verified": true, "name": sub,
                               "preferred_username": sub, "groups": [provider_group]}),
                    );
                    let (landed, _) = sign_in(app, &self.idp, &sub, None).await;
                    assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.html);
                }
                a
            }
            Path::ConsoleUnsuspend => self.console(who, &format!("/users/{victim}/unsuspend"), "").await,
            Path::ConsoleNestExisting => {
                self.console(who, &format!("/groups/{own}/parents"), &format!("parents=Target+{}", target.name)).await
            }
            Path::ConsoleAddMember => {
                self.console(who, &format!("/groups/{g}/members"), &format!("email={email}")).await
            }
            Path::ConsoleBatchAdd => {
                self.console(who, "/groups/batch/apply", &format!("groups={g}&action=add-members&users={email}")).await
            }
            Path::ConsoleCreateWithRole => {
                let form = format!("name=With{n}&roles={}&members={email}", target.role);
                self.console(who, "/groups", &form).await
            }
            Path::ConsoleGroupRole => {
                self.console(who, &format!("/groups/{own}/roles"), &format!("role={}", target.role)).await
            }
            Path::ConsoleUserRole => {
                self.console(who, &format!("/users/{victim}/roles"), &format!("role={}", target.role)).await
            }
            Path::ConsoleGroupGrant => {
                let form = format!("resource={}&level={}", self.resource, target.level.unwrap());
                self.console(who, &format!("/groups/{own}/resources"), &form).await
            }
            Path::ConsoleUserGrant => {
                let form = format!("resource={}&level={}", self.resource, target.level.unwrap());
                self.console(who, &format!("/users/{victim}/resources"), &form).await
            }
            Path::CreateUserInto => {
                // The beneficiary is the user the request creates.
                let body = json!({"email": format!("new{n}@example.com"), "groupIds": [g]});
                let a = app.post(&format!("{T}/users"), tok, body).await;
                let created = a.body["id"].as_str().map(str::to_owned);
                return (created.unwrap_or(victim), a, before);
            }
        };
        (victim, answer, before)
    }
}

#[tokio::test]
async fn every_conferring_path_is_bounded_by_what_its_actor_holds() {
    let w = World::new().await;
    let (mut tried, mut allowed, mut refused, mut unauthorised) = (0, 0, 0, 0);
    for who in &w.actors {
        for path in PATHS {
            for target in &w.targets {
                if !w.applies(path, target) {
                    continue;
                }
                tried += 1;
                let authorised = w.authorised(who, path, target);
                let refusal_expected = authorised && !w.may_confer(who, path, target);
                let refused_before = if refusal_expected { w.app.refused_attempts().await } else { 0 };
                let (victim, a, before) = w.attempt(who, path, target, refusal_expected).await;
                let case = format!("{} × {path:?} × {}: {} {}", who.name, target.name, a.status, a.body);
                let ok = a.status.is_success();
                if !authorised {
                    unauthorised += 1;
                    assert!(matches!(a.status.as_u16(), 401 | 403 | 404), "{case}");
                    assert!(!w.holds(&victim, target, path).await, "{case}");
                    continue;
                }
                if !refusal_expected {
                    allowed += 1;
                    assert!(ok, "{case}");
                    assert!(w.holds(&victim, target, path).await, "the victim holds it: {case}");
                } else {
                    refused += 1;
                    assert_eq!(a.status.as_u16(), 403, "{case}");
                    let detail = a.body["detail"].as_str().unwrap_or_else(|| panic!("{case}"));
                    assert!(
                        detail.contains(target.proof) || detail.contains("level") || detail.contains("cohort:"),
                        "{case}"
                    );
                    assert!(!w.holds(&victim, target, path).await, "the victim does not hold it: {case}");
                    assert_eq!(w.app.refused_attempts().await, refused_before + 1, "the refusal is audited: {case}");
                    assert_eq!(w.facts().await, before, "nothing changed: {case}");
                }
            }
        }
    }
    eprintln!("{tried} attempts: {allowed} allowed, {refused} refused by the rule, {unauthorised} lacking the role");
    assert!(refused > 20 && allowed > 20 && unauthorised > 100, "{tried} {allowed} {refused} {unauthorised}");
    w.app.assert_consistent().await;
}

#[tokio::test]
async fn a_credential_is_issued_only_by_its_owner_or_an_admin() {
    let app = TestApp::new().await;
    let me = app.get(&format!("{T}/me"), ROOT).await.ok(200).clone();
    let admin_user = me["id"].as_str().or(me["user"]["id"].as_str()).unwrap().to_owned();
    let keeper = app.user("default", ROOT, "keeper@example.com").await;
    let role = app.role("default", ROOT, "Token keeper", &["cohort:tokens.manage"]).await;
    app.post(&format!("{T}/users/{keeper}/roles"), ROOT, json!({"roleId": role})).await.ok(201);
    let keeper_token = app.token_for("default", ROOT, &keeper).await;
    let other = app.user("default", ROOT, "other@example.com").await;
    app.token_for("default", ROOT, &other).await;
    let tokens = app.get(&format!("{T}/tokens?all=true"), ROOT).await.ok(200).as_array().unwrap().clone();
    let of = |u: &str| tokens.iter().find(|t| t["userId"] == u).unwrap()["id"].as_str().unwrap().to_owned();
    let (admin_tok, other_tok, keeper_tok) = (of(&admin_user), of(&other), of(&keeper));
    let refused = async || {
        let a = app.get(&format!("{T}/audit?action=token.&limit=100"), ROOT).await;
        a.ok(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"].as_str().unwrap().ends_with(".refused"))
            .count()
    };

    // Regenerating the admin's token would hand the keeper the admin's new secret.
    let a = app.post(&format!("{T}/tokens/{admin_tok}/regenerate"), &keeper_token, json!({})).await;
    a.problem(403);
    assert!(a.body["detail"].as_str().unwrap().contains("cohort:admin"), "{}", a.body);
    assert!(a.body.get("secret").is_none());
    app.get(&format!("{T}/me"), ROOT).await.ok(200);
    assert_eq!(refused().await, 1);
    // Nor may it mint a token for someone else.
    let a = app.post(&format!("{T}/tokens"), &keeper_token, json!({"name": "x", "userId": admin_user})).await;
    a.problem(403);
    assert_eq!(refused().await, 2);
    // Taking a credential away confers nothing: `cohort:tokens.manage` may revoke.
    app.delete(&format!("{T}/tokens/{other_tok}"), &keeper_token).await.ok(204);
    // Its own token it may regenerate, and the new secret works.
    let a = app.post(&format!("{T}/tokens/{keeper_tok}/regenerate"), &keeper_token, json!({})).await;
    let secret = a.ok(200)["secret"].as_str().unwrap().to_owned();
    app.get(&format!("{T}/me"), &secret).await.ok(200);
    // An admin may regenerate anyone's and receives the secret.
    let a = app.post(&format!("{T}/tokens/{keeper_tok}/regenerate"), ROOT, json!({})).await;
    let secret = a.ok(200)["secret"].as_str().unwrap().to_owned();
    app.get(&format!("{T}/me"), &secret).await.ok(200);
    app.assert_consistent().await;
}

/// An app acting as itself (the token issues give apps their own credentials) holds exactly
/// what its registration gives: no group or role of a user, nothing a user owns, and it
/// confers only what it holds. The audit log names it.
#[tokio::test]
async fn an_app_holds_what_its_registration_gives_and_confers_no_more() {
    use cohort_core::model::{MemberRole, TokenScope};
    use cohort_core::name::ShortText;
    use cohort_core::permission::Permission;
    use cohort_core::{AppId, GroupId, UserId};
    use cohort_service::error::ServiceError;
    use cohort_service::{Actor, Ctx, NewMember, Principal};
    use std::sync::Arc;

    let app = TestApp::new().await;
    let reports = app.role("default", ROOT, "Reports", &["reports:view"]).await;
    let readers = app.group("default", ROOT, "Readers", &[]).await;
    app.post(&format!("{T}/groups/{readers}/roles"), ROOT, json!({"roleId": reports})).await.ok(201);
    let plain = app.group("default", ROOT, "Plain", &[]).await;
    let ana = app.user("default", ROOT, "ana@example.com").await;
    let root = app.services.authenticate("default", Some(ROOT), "test").await.unwrap();
    let as_app = |id: &str, perms: &[&str]| {
        let principal = Arc::new(Principal {
            tenant: root.principal.tenant.clone(),
            actor: Actor::App {
                id: AppId::parse(id).unwrap(),
                permissions: perms.iter().map(|p| Permission::parse(p).unwrap()).collect(),
            },
            token: None,
            system: false,
            scope: TokenScope::Api,
        });
        Ctx::new(principal, "app-test")
    };
    let member = || NewMember {
        user_id: UserId::parse(&ana).unwrap(),
        role: MemberRole::Member,
        expires_at: None,
        reason: ShortText::parse("reason", "", false).unwrap(),
    };
    let (plain, readers) = (GroupId::parse(&plain).unwrap(), GroupId::parse(&readers).unwrap());
    let s = &app.services;

    // What its permissions allow, it may do.
    let writer = as_app("app_writer000001", &["cohort:groups.write"]);
    s.add_member(&writer, &plain, member()).await.unwrap();
    // It does not hold `reports:view`, so it may not give it.
    let e = s.add_member(&writer, &readers, member()).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Forbidden(d) if d.contains("reports:view")), "{e:?}");
    // Nor what its permissions do not name.
    let e = s.list_users(&writer, &Default::default()).await.map(|_| ()).unwrap_err();
    assert!(matches!(&e, ServiceError::Forbidden(d) if d.contains("cohort:users.read")), "{e:?}");
    // It has no user of its own: no tokens, no profile, no session.
    let e = s.list_tokens(&writer, false).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Forbidden(d) if d.contains("no user")), "{e:?}");
    // Holding `reports:*`, it may.
    let reporter = as_app("app_reporter0001", &["cohort:groups.write", "reports:*"]);
    s.add_member(&reporter, &readers, member()).await.unwrap();
    let a = app.get(&format!("{T}/users/{ana}/access"), ROOT).await;
    assert!(a.ok(200).to_string().contains("reports:view"), "{}", a.body);
    // The audit log says which app did what.
    let a = app.get(&format!("{T}/audit?action=membership.add&limit=10"), ROOT).await;
    let actors: Vec<&str> =
        a.ok(200)["items"].as_array().unwrap().iter().filter_map(|e| e["actorId"].as_str()).collect();
    assert!(actors.contains(&"app_writer000001") && actors.contains(&"app_reporter0001"), "{actors:?}");
    app.assert_consistent().await;
}
