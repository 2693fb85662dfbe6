//! The storage suite every backend must pass; `scripts/test.sh` runs it on SQLite and on
//! PostgreSQL from this same code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cohort_core::model::*;
use cohort_core::name::*;
use cohort_core::permission::Permission;
use cohort_core::*;
use cohort_store::testing::{TestDatabase, fresh_database};
use cohort_store::*;

async fn store() -> (Store, TestDatabase) {
    let db = fresh_database().await.unwrap();
    (Store::connect(&db.url).await.unwrap(), db)
}

fn id<T>(parse: fn(&str) -> Result<T, DomainError>, prefix: &str, n: usize) -> T {
    parse(&format!("{prefix}{n:012}")).unwrap()
}

async fn tenant(store: &Store, slug: &str, n: usize) -> TenantId {
    let t = Tenant {
        id: id(TenantId::parse, "ten_", n),
        slug: TenantSlug::parse(slug).unwrap(),
        name: Name::parse("name", slug).unwrap(),
        revision: 1,
        user_types: [UserType::default()].into(),
        time_zone: None,
        created_at: Timestamp(0),
    };
    store.create_tenant(&t).await.unwrap().commit().await.unwrap();
    t.id
}

fn user(n: usize, email: &str) -> User {
    User {
        id: id(UserId::parse, "usr_", n),
        email: Some(Email::parse(email).unwrap()),
        user_name: Some(Name::parse("userName", &format!("login-{n}")).unwrap()),
        display_name: ShortText::parse("displayName", email, false).unwrap(),
        department: ShortText::parse("department", "", false).unwrap(),
        title: ShortText::parse("title", "", false).unwrap(),
        attributes: Attributes::new(
            [("teams".to_owned(), AttributeValue::Many(vec!["a".into(), "b".into()]))].into_iter().collect(),
        )
        .unwrap(),
        sso_groups: SsoGroups::new(["emea".to_owned(), "all staff".to_owned()]).unwrap(),
        status: UserStatus::Active,
        user_type: UserType::default(),
        external_id: None,
        time_zone: None,
        created_at: Timestamp(1),
        updated_at: Timestamp(1),
    }
}

fn group(n: usize, name: &str, parents: &[usize]) -> Group {
    let name = Name::parse("name", name).unwrap();
    Group {
        id: id(GroupId::parse, "grp_", n),
        slug: GroupSlug::from_name(&name),
        name,
        provider_name: None,
        description: Description::parse("").unwrap(),
        status: GroupStatus::Active,
        source: GroupSource::Local,
        external_id: None,
        apply_privileges: true,
        notify_members: false,
        member_types: MemberTypes::default(),
        parent_ids: parents.iter().map(|p| id(GroupId::parse, "grp_", *p)).collect(),
        created_at: Timestamp(1),
        updated_at: Timestamp(1),
    }
}

fn membership(g: usize, u: usize, source: MembershipSource, expires: Option<i64>) -> Membership {
    Membership {
        group_id: id(GroupId::parse, "grp_", g),
        user_id: id(UserId::parse, "usr_", u),
        source,
        role: MemberRole::Member,
        expires_at: expires.map(Timestamp),
        added_by: None,
        added_at: Timestamp(2),
        reason: ShortText::parse("reason", "", false).unwrap(),
    }
}

#[tokio::test]
async fn migrations_are_idempotent_and_data_round_trips() {
    let (store, db) = store().await;
    let t = tenant(&store, "acme", 1).await;
    let mut w = store.write(&t).await.unwrap();
    assert_eq!(w.revision(), 2);
    let ann = user(1, "Ann@Example.com");
    w.insert_user(&ann).await.unwrap();
    w.insert_group(&group(1, "Parent", &[])).await.unwrap();
    w.insert_group(&group(2, "Child", &[1])).await.unwrap();
    w.put_membership(&membership(2, 1, MembershipSource::Manual, Some(50))).await.unwrap();
    w.put_membership(&membership(2, 1, MembershipSource::Rule, None)).await.unwrap();
    assert_eq!(w.commit().await.unwrap(), 2);
    store.close().await;

    let store = Store::connect(&db.url).await.unwrap();
    let mut r = store.read().await.unwrap();
    assert_eq!(r.revision(&t).await.unwrap(), 2);
    assert_eq!(r.user_by_email(&t, &Email::parse("ann@EXAMPLE.com").unwrap()).await.unwrap(), Some(ann.clone()));
    let (child, members) = r.get_group(&t, &id(GroupId::parse, "grp_", 2), Timestamp(10)).await.unwrap().unwrap();
    assert_eq!(child.parent_ids, vec![id(GroupId::parse, "grp_", 1)]);
    assert_eq!(members, 1);
    let rows = r.membership_rows(&t, &child.id, &ann.id).await.unwrap();
    assert_eq!(rows.len(), 2);
    let state = r.load_state(&t).await.unwrap();
    assert_eq!(state.parents(&child.id).len(), 1);
    assert_eq!(state.rows(&child.id, &ann.id).count(), 2);
}

#[tokio::test]
async fn user_types_member_types_provider_names_and_time_zones_round_trip_and_are_counted() {
    let (store, _db) = store().await;
    let t = tenant(&store, "acme", 1).await;
    let customer = UserType::parse("type", "customer").unwrap();
    let mut w = store.write(&t).await.unwrap();
    let types: std::collections::BTreeSet<UserType> = [UserType::default(), customer.clone()].into();
    w.set_user_types(&types).await.unwrap();
    let paris = ZoneName::parse("timeZone", "Europe/Paris").unwrap();
    w.set_time_zone(Some(&paris)).await.unwrap();
    let lima = Some(ZoneName::parse("timeZone", "America/Lima").unwrap());
    let ann = User { user_type: customer.clone(), time_zone: lima, ..user(1, "ann@example.com") };
    w.insert_user(&ann).await.unwrap();
    w.insert_user(&user(2, "bob@example.com")).await.unwrap();
    let shop = Group {
        member_types: MemberTypes::new("memberTypes", [customer.clone()]).unwrap(),
        provider_name: Some(Name::parse("providerName", "Shop (IdP)").unwrap()),
        ..group(1, "Shop", &[])
    };
    w.insert_group(&shop).await.unwrap();
    w.put_membership(&membership(1, 1, MembershipSource::Manual, None)).await.unwrap();
    w.commit().await.unwrap();

    let mut r = store.read().await.unwrap();
    let read = r.tenant_by_id(&t).await.unwrap().unwrap();
    assert_eq!((read.user_types, read.time_zone), (types, Some(paris)));
    assert_eq!(r.get_user(&t, &ann.id).await.unwrap(), Some(ann.clone()));
    let mut updated = ann.clone();
    updated.time_zone = None;
    drop(r);
    let mut w = store.write(&t).await.unwrap();
    w.update_user(&updated).await.unwrap();
    w.commit().await.unwrap();
    let mut r = store.read().await.unwrap();
    assert_eq!(r.get_user(&t, &ann.id).await.unwrap().unwrap().time_zone, None);
    let (read, _) = r.get_group(&t, &shop.id, Timestamp(10)).await.unwrap().unwrap();
    assert_eq!(
        (read.member_types.clone(), read.provider_name.clone()),
        (shop.member_types.clone(), shop.provider_name)
    );
    let uses = r.user_type_uses(&t).await.unwrap();
    assert_eq!(uses.get("customer"), Some(&(1, 1)), "one customer, one group admitting customers");
    assert_eq!(uses.get("member"), Some(&(1, 0)));
    let state = r.load_state(&t).await.unwrap();
    assert_eq!(state.user(&ann.id).unwrap().user_type, customer);
    assert!(state.admits_user(&shop.id, &ann.id).is_ok());
    assert!(state.admits_user(&shop.id, &id(UserId::parse, "usr_", 2)).is_err(), "a member is not a customer");
    assert_eq!(state.first_refused_member([&ann.id], [&shop.id]), None);
}

#[tokio::test]
async fn an_uncommitted_change_leaves_nothing_behind() {
    let (store, _db) = store().await;
    let t = tenant(&store, "acme", 1).await;
    {
        let mut w = store.write(&t).await.unwrap();
        w.insert_user(&user(1, "a@example.com")).await.unwrap();
        // Dropped without commit: rolled back.
    }
    let mut r = store.read().await.unwrap();
    assert_eq!(r.revision(&t).await.unwrap(), 1);
    assert!(r.get_user(&t, &id(UserId::parse, "usr_", 1)).await.unwrap().is_none());
}

#[tokio::test]
async fn uniqueness_is_enforced_case_insensitively_per_tenant() {
    let (store, _db) = store().await;
    let a = tenant(&store, "a", 1).await;
    let b = tenant(&store, "b", 2).await;
    let mut w = store.write(&a).await.unwrap();
    w.insert_user(&user(1, "ann@example.com")).await.unwrap();
    assert!(
        matches!(w.insert_user(&user(2, "ANN@example.com")).await, Err(StoreError::Conflict { field, .. }) if field == "email")
    );
    // The failed statement aborts a PostgreSQL transaction; start again.
    drop(w);
    let mut w = store.write(&a).await.unwrap();
    w.insert_group(&group(1, "Sales", &[])).await.unwrap();
    w.commit().await.unwrap();
    let mut w = store.write(&a).await.unwrap();
    assert!(
        matches!(w.insert_group(&group(2, "SALES", &[])).await, Err(StoreError::Conflict { field, .. }) if field == "name" || field == "slug")
    );
    drop(w);
    // The same names are free in another tenant.
    let mut w = store.write(&b).await.unwrap();
    w.insert_user(&user(1, "ann@example.com")).await.unwrap();
    w.insert_group(&group(1, "Sales", &[])).await.unwrap();
    w.commit().await.unwrap();
    assert!(store.read().await.unwrap().get_user(&a, &id(UserId::parse, "usr_", 1)).await.unwrap().is_none());
    // Users without an email (provisioned so) coexist; login names are unique like emails.
    let mut w = store.write(&b).await.unwrap();
    for n in [7, 8] {
        w.insert_user(&User { email: None, ..user(n, "unused@example.com") }).await.unwrap();
    }
    w.commit().await.unwrap();
    let back = store.read().await.unwrap().get_user(&b, &id(UserId::parse, "usr_", 7)).await.unwrap().unwrap();
    // Their stand-in key (`~` and the id) is not an email to search by.
    let found = store
        .read()
        .await
        .unwrap()
        .list_users(&b, &UserFilter { q: Some("usr_".into()), limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert!(found.is_empty(), "{found:?}");
    assert_eq!((back.email, back.user_name.unwrap().as_str().to_owned()), (None, "login-7".to_owned()));
    let mut w = store.write(&b).await.unwrap();
    let twin = User { user_name: Some(Name::parse("userName", "LOGIN-7").unwrap()), ..user(9, "nine@example.com") };
    assert!(matches!(w.insert_user(&twin).await, Err(StoreError::Conflict { field, .. }) if field == "userName"));
}

#[tokio::test]
async fn deletes_cascade_to_everything_that_hangs_off() {
    let (store, _db) = store().await;
    let t = tenant(&store, "acme", 1).await;
    let mut w = store.write(&t).await.unwrap();
    w.insert_user(&user(1, "a@example.com")).await.unwrap();
    w.insert_group(&group(1, "Parent", &[])).await.unwrap();
    w.insert_group(&group(2, "Child", &[1])).await.unwrap();
    w.put_membership(&membership(1, 1, MembershipSource::Manual, None)).await.unwrap();
    let role = Role {
        id: id(RoleId::parse, "rol_", 1),
        name: Name::parse("name", "R").unwrap(),
        description: Description::parse("").unwrap(),
        permissions: vec![Permission::parse("a:b").unwrap()],
        builtin: false,
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    };
    w.insert_role(&role).await.unwrap();
    let parent = Subject::Group(id(GroupId::parse, "grp_", 1));
    assert!(w.assign_role(&parent, &role.id, None, Timestamp(0)).await.unwrap());
    assert!(!w.assign_role(&parent, &role.id, None, Timestamp(0)).await.unwrap());
    w.commit().await.unwrap();

    let mut w = store.write(&t).await.unwrap();
    w.delete_group(&id(GroupId::parse, "grp_", 1)).await.unwrap();
    w.commit().await.unwrap();
    let mut r = store.read().await.unwrap();
    let state = r.load_state(&t).await.unwrap();
    let child = id(GroupId::parse, "grp_", 2);
    assert!(state.parents(&child).is_empty());
    assert_eq!(state.memberships_of(&id(UserId::parse, "usr_", 1)).count(), 0);
    assert!(r.groups_with_role(&t, &role.id).await.unwrap().is_empty());

    let mut w = store.write(&t).await.unwrap();
    assert!(matches!(w.delete_group(&id(GroupId::parse, "grp_", 1)).await, Err(StoreError::NotFound)));
}

#[tokio::test]
async fn lists_filter_and_page_with_keyset_cursors() {
    let (store, _db) = store().await;
    let t = tenant(&store, "acme", 1).await;
    let mut w = store.write(&t).await.unwrap();
    w.insert_group(&group(100, "Root", &[])).await.unwrap();
    for i in 0..9 {
        w.insert_group(&group(i, &format!("Team {i}"), &[100])).await.unwrap();
        w.insert_user(&user(i, &format!("user{i}@example.com"))).await.unwrap();
    }
    w.commit().await.unwrap();
    let mut r = store.read().await.unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let f = GroupFilter { q: Some("team".into()), after: after.clone(), limit: 4, ..Default::default() };
        let page = r.list_groups(&t, &f, Timestamp(0)).await.unwrap();
        seen.extend(page.iter().map(|(g, _)| g.name.to_string()));
        match page.last() {
            Some((g, _)) if page.len() == 4 => after = Some(After { key: g.name.key(), id: g.id.to_string() }),
            _ => break,
        }
    }
    assert_eq!(seen, (0..9).map(|i| format!("Team {i}")).collect::<Vec<_>>());
    let by_parent = GroupFilter { parent: Some(id(GroupId::parse, "grp_", 100)), limit: 50, ..Default::default() };
    assert_eq!(r.list_groups(&t, &by_parent, Timestamp(0)).await.unwrap().len(), 9);
    let only_roots = GroupFilter { roots: true, limit: 50, ..Default::default() };
    let roots = r.list_groups(&t, &only_roots, Timestamp(0)).await.unwrap();
    assert_eq!(roots.iter().map(|(g, _)| g.name.to_string()).collect::<Vec<_>>(), ["Root"]);
    let users =
        r.list_users(&t, &UserFilter { q: Some("USER3".into()), limit: 50, ..Default::default() }).await.unwrap();
    assert_eq!(users.len(), 1);
}

#[tokio::test]
async fn concurrent_writers_to_one_tenant_are_serialised() {
    let (store, _db) = store().await;
    let t = tenant(&store, "acme", 1).await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let store = store.clone();
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            let mut w = store.write(&t).await.unwrap();
            w.insert_group(&group(i, &format!("G{i}"), &[])).await.unwrap();
            w.commit().await.unwrap()
        }));
    }
    let mut revisions = Vec::new();
    for task in tasks {
        revisions.push(task.await.unwrap());
    }
    revisions.sort();
    assert_eq!(revisions, (2..14).collect::<Vec<i64>>());
    assert_eq!(store.read().await.unwrap().revision(&t).await.unwrap(), 13);
}

#[tokio::test]
async fn audit_events_come_back_newest_first_and_filtered() {
    let (store, _db) = store().await;
    let t = tenant(&store, "acme", 1).await;
    for (i, action) in ["group.create", "group.update", "membership.add"].iter().enumerate() {
        let mut w = store.write(&t).await.unwrap();
        w.insert_audit(&[NewAuditEvent {
            names: None,
            id: id(EventId::parse, "evt_", i),
            at: Timestamp(i as i64 * 1000),
            actor_id: Some("usr_000000000001".into()),
            action: (*action).into(),
            target_type: "group".into(),
            target_id: format!("grp_{i:012}"),
            before: None,
            after: Some("{}".into()),
            request_id: "req".into(),
        }])
        .await
        .unwrap();
        w.commit().await.unwrap();
    }
    let mut r = store.read().await.unwrap();
    let all = r.list_audit(&t, &AuditFilter { limit: 10, ..Default::default() }).await.unwrap();
    let actions: Vec<&str> = all.iter().map(|e| e.event.action.as_str()).collect();
    assert_eq!(actions, ["membership.add", "group.update", "group.create"]);
    let prefix = AuditFilter { action_prefix: Some("group.".into()), limit: 10, ..Default::default() };
    assert_eq!(r.list_audit(&t, &prefix).await.unwrap().len(), 2);
    let window =
        AuditFilter { from: Some(Timestamp(1000)), to: Some(Timestamp(2000)), limit: 10, ..Default::default() };
    assert_eq!(r.list_audit(&t, &window).await.unwrap().len(), 1);
    let page2 =
        AuditFilter { after: Some((all[0].revision, all[0].event.id.to_string())), limit: 10, ..Default::default() };
    assert_eq!(r.list_audit(&t, &page2).await.unwrap().len(), 2);
}

#[tokio::test]
async fn rules_round_trip_keep_their_state_stay_in_their_tenant_and_go_with_their_group() {
    let (store, _db) = store().await;
    let t = tenant(&store, "acme", 1).await;
    let other = tenant(&store, "other", 2).await;
    let mut w = store.write(&t).await.unwrap();
    for n in 1..=3 {
        w.insert_user(&user(n, &format!("u{n}@example.com"))).await.unwrap();
    }
    w.insert_group(&group(1, "Sales", &[])).await.unwrap();
    w.insert_group(&group(2, "Support", &[])).await.unwrap();
    let rule = |n: usize, g: usize, paused: bool| Rule {
        id: id(RuleId::parse, "rul_", n),
        group_id: id(GroupId::parse, "grp_", g),
        expression: format!("user.department == 'D{n}'"),
        paused,
        created_by: Some(id(UserId::parse, "usr_", 1)),
        created_at: Timestamp(n as i64),
        updated_at: Timestamp(n as i64),
        last_evaluated_at: None,
        matched: 0,
        last_error: None,
    };
    w.put_rule(&rule(1, 1, false)).await.unwrap();
    w.put_rule(&rule(2, 1, true)).await.unwrap();
    w.put_rule(&rule(3, 2, false)).await.unwrap();
    for n in 1..=3 {
        w.put_membership(&membership(1, n, MembershipSource::Rule, None)).await.unwrap();
    }
    w.commit().await.unwrap();

    let mut w = store.write(&t).await.unwrap();
    let outcome = RuleOutcome { id: rule(1, 1, false).id, at: Timestamp(50), matched: 7, last_error: Some("x".into()) };
    w.record_rule_outcomes(std::slice::from_ref(&outcome)).await.unwrap();
    w.mark_rules_evaluated(Timestamp(60)).await.unwrap();
    let sales = id(GroupId::parse, "grp_", 1);
    let gone = [id(UserId::parse, "usr_", 1), id(UserId::parse, "usr_", 3)];
    w.delete_memberships(&sales, MembershipSource::Rule, &gone).await.unwrap();
    w.commit().await.unwrap();

    let mut r = store.read().await.unwrap();
    let all = r.list_rules(&t, None).await.unwrap();
    assert_eq!(
        all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["rul_000000000001", "rul_000000000002", "rul_000000000003"]
    );
    let first = &all[0];
    assert_eq!(
        (first.matched, first.last_error.as_deref(), first.last_evaluated_at),
        (7, Some("x"), Some(Timestamp(60)))
    );
    // Paused rules are not marked evaluated.
    assert_eq!(all[1].last_evaluated_at, None);
    assert!(all[1].paused);
    assert_eq!(r.list_rules(&t, Some(&sales)).await.unwrap().len(), 2);
    assert!(r.list_rules(&other, None).await.unwrap().is_empty());
    assert!(r.get_rule(&other, &first.id).await.unwrap().is_none());
    assert_eq!(r.all_users(&t).await.unwrap().len(), 3);
    assert_eq!(r.all_users(&t).await.unwrap()[0].sso_groups.as_slice(), ["all staff", "emea"]);
    let state = r.load_state(&t).await.unwrap();
    assert_eq!(state.members_of(&sales).count(), 1, "only the named users' rule rows are deleted");

    let mut w = store.write(&t).await.unwrap();
    w.delete_group(&sales).await.unwrap();
    assert!(matches!(w.delete_rule(&id(RuleId::parse, "rul_", 3)).await, Ok(())));
    w.commit().await.unwrap();
    assert!(r.list_rules(&t, None).await.unwrap().is_empty(), "a group's rules go with it");
}

/// Member rows are searched, sorted and paged by the store: every order walks each row once,
/// ties broken by user and source, back as well as forth, and a cursor taken before a change
/// still continues where it was.
#[tokio::test]
async fn member_rows_are_searched_sorted_and_paged_both_ways() {
    let (store, _db) = store().await;
    let t = tenant(&store, "acme", 1).await;
    let mut w = store.write(&t).await.unwrap();
    w.insert_group(&group(1, "Support", &[])).await.unwrap();
    // Five users; two share a display name (a tie), user 3 has two rows (manual and rule).
    let people = [
        (1, "cy@example.com", "Cy"),
        (2, "ann@example.com", "Bo"),
        (3, "bo@example.com", "Bo"),
        (4, "dee@other.org", "Dee"),
        (5, "eve@example.com", "Eve"),
    ];
    for (n, email, name) in people {
        let u = User { display_name: ShortText::parse("displayName", name, false).unwrap(), ..user(n, email) };
        w.insert_user(&u).await.unwrap();
    }
    for (n, expires, added) in [(1, Some(50), 5), (2, None, 4), (3, Some(40), 3), (4, None, 2), (5, Some(60), 1)] {
        let m = Membership { added_at: Timestamp(added), ..membership(1, n, MembershipSource::Manual, expires) };
        w.put_membership(&m).await.unwrap();
    }
    let rule = Membership { role: MemberRole::Member, ..membership(1, 3, MembershipSource::Rule, None) };
    w.put_membership(&rule).await.unwrap();
    let manager = Membership { role: MemberRole::Manager, ..membership(1, 4, MembershipSource::Manual, None) };
    w.put_membership(&manager).await.unwrap();
    w.commit().await.unwrap();
    let g = id(GroupId::parse, "grp_", 1);
    let walk = async |sort: MemberSort, descending: bool, q: Option<&str>| {
        let mut r = store.read().await.unwrap();
        let mut listing = MemberListing { q: q.map(str::to_owned), sort, descending, from: None, limit: 2 };
        let mut seen = Vec::new();
        let mut pages = Vec::new();
        loop {
            let (total, rows) = r.member_rows(&t, &g, &listing).await.unwrap();
            let page: Vec<(usize, &'static str)> = rows
                .iter()
                .map(|m| (m.membership.user_id.as_str()[4..].parse().unwrap(), m.membership.source.as_str()))
                .collect();
            seen.extend(page.iter().copied());
            if rows.is_empty() && !pages.is_empty() {
                break;
            }
            pages.push((total, rows.clone()));
            match rows.last() {
                Some(last) if rows.len() == 2 => listing.from = Some(last.cursor(false)),
                _ => break,
            }
        }
        // Back from the last page's first row gives the page before it.
        if pages.len() > 1 {
            let (_, last) = &pages[pages.len() - 1];
            let (_, before) = &pages[pages.len() - 2];
            listing.from = Some(last[0].cursor(true));
            let (_, back) = r.member_rows(&t, &g, &listing).await.unwrap();
            let ids = |rows: &[MemberRow]| rows.iter().map(|m| m.cursor(false)).collect::<Vec<_>>();
            assert_eq!(ids(&back), ids(before), "{sort:?} backward");
        }
        (pages[0].0, seen)
    };
    let (total, by_name) = walk(MemberSort::Name, false, None).await;
    assert_eq!(total, 6);
    assert_eq!(by_name, vec![(2, "manual"), (3, "manual"), (3, "rule"), (1, "manual"), (4, "manual"), (5, "manual")]);
    let (_, by_name_desc) = walk(MemberSort::Name, true, None).await;
    assert_eq!(by_name_desc, by_name.iter().rev().copied().collect::<Vec<_>>());
    let (_, by_email) = walk(MemberSort::Email, false, None).await;
    assert_eq!(by_email.iter().map(|(u, _)| *u).collect::<Vec<_>>(), vec![2, 3, 3, 1, 4, 5]);
    let (_, by_expiry) = walk(MemberSort::Expiry, false, None).await;
    assert_eq!(by_expiry, vec![(3, "manual"), (1, "manual"), (5, "manual"), (2, "manual"), (3, "rule"), (4, "manual")]);
    let (_, by_added) = walk(MemberSort::Added, true, None).await;
    assert_eq!(by_added[..2], [(1, "manual"), (2, "manual")]);
    let (_, by_role) = walk(MemberSort::Role, false, None).await;
    assert_eq!(by_role[0], (4, "manual"), "the manager first");
    let (_, by_source) = walk(MemberSort::Source, true, None).await;
    assert_eq!(by_source[0], (3, "rule"));
    // Search: email or display name, case-insensitively; the total counts what matches.
    let (total, found) = walk(MemberSort::Email, false, Some("EXAMPLE.COM")).await;
    assert_eq!((total, found.len()), (5, 5));
    let (total, found) = walk(MemberSort::Name, false, Some("bo")).await;
    assert_eq!((total, found), (3, vec![(2, "manual"), (3, "manual"), (3, "rule")]));
    let (total, found) = walk(MemberSort::Name, false, Some("%")).await;
    assert_eq!((total, found), (0, vec![]), "a wildcard is text");

    // A cursor taken before a change goes on from where it was.
    let mut r = store.read().await.unwrap();
    let first = MemberListing { sort: MemberSort::Name, limit: 2, ..MemberListing::default() };
    let (_, page) = r.member_rows(&t, &g, &first).await.unwrap();
    let cursor = page[1].cursor(false);
    drop(r);
    let mut w = store.write(&t).await.unwrap();
    let early =
        User { display_name: ShortText::parse("displayName", "Al", false).unwrap(), ..user(6, "al@example.com") };
    w.insert_user(&early).await.unwrap();
    w.put_membership(&membership(1, 6, MembershipSource::Manual, None)).await.unwrap();
    w.commit().await.unwrap();
    let mut r = store.read().await.unwrap();
    let next = MemberListing { from: Some(cursor), ..first };
    let (total, page) = r.member_rows(&t, &g, &next).await.unwrap();
    assert_eq!(total, 7);
    let ids: Vec<_> = page
        .iter()
        .map(|m| (m.membership.user_id.as_str()[4..].parse::<usize>().unwrap(), m.membership.source.as_str()))
        .collect();
    assert_eq!(ids, vec![(3, "rule"), (1, "manual")]);
}
