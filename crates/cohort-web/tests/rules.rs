//! Auto-assignment rules through the REST API (and SCIM for users): the examples, errors with
//! positions, preview = apply, re-evaluation when users change, pause, state, audit, and the
//! guard that keeps `cohort:` permissions away from rule-filled groups.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::Method;
use common::{ROOT, TestApp};
use serde_json::{Value, json};

const T: &str = "/t/default/api/v1";

async fn person(app: &TestApp, email: &str, department: &str, title: &str, sso: &[&str]) -> String {
    let body = json!({"email": email, "department": department, "title": title, "ssoGroups": sso});
    app.post(&format!("{T}/users"), ROOT, body).await.ok(201)["id"].as_str().unwrap().to_owned()
}

/// The users in `group` through a row of source `rule`, sorted.
async fn rule_members(app: &TestApp, group: &str) -> Vec<String> {
    let a = app.get(&format!("{T}/groups/{group}/members?limit=500"), ROOT).await;
    let mut out: Vec<String> = a.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["source"] == "rule")
        .map(|m| m["userId"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

fn ids(list: &Value) -> Vec<String> {
    let mut out: Vec<String> = list.as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_owned()).collect();
    out.sort();
    out
}

async fn save(app: &TestApp, group: &str, expression: &str) -> Value {
    let body = json!({"expression": expression, "confirm": true});
    app.post(&format!("{T}/groups/{group}/rules"), ROOT, body).await.ok(201).clone()
}

async fn may(app: &TestApp, user: &str) -> Value {
    let body = json!({"userId": user, "permission": "deals:edit"});
    app.post(&format!("{T}/check"), ROOT, body).await.ok(200)["allowed"].clone()
}

/// Saving `expression` on `group`, as a preview and confirmed, is a 422 `invalid-expression`
/// at `(line, column)` of the field `expression`; answers its message.
async fn refused(app: &TestApp, group: &str, expression: &str, (line, column): (u32, u32)) -> String {
    let mut message = String::new();
    for confirm in [false, true] {
        let body = json!({"expression": expression, "confirm": confirm});
        let a = app.post(&format!("{T}/groups/{group}/rules"), ROOT, body).await;
        a.problem(422);
        assert_eq!(a.body["type"], "https://cohort.dev/problems/invalid-expression");
        assert_eq!(a.body["position"], json!({"line": line, "column": column}), "{expression}: {}", a.body);
        assert_eq!(a.body["errors"][0]["field"], "expression");
        message = a.body["errors"][0]["message"].as_str().unwrap_or_default().to_owned();
    }
    message
}

/// A group named Sales whose members may `deals:edit`.
async fn selling_group(app: &TestApp) -> String {
    let sales = app.group("default", ROOT, "Sales", &[]).await;
    let role = app.role("default", ROOT, "Seller", &["deals:edit"]).await;
    app.post(&format!("{T}/groups/{sales}/roles"), ROOT, json!({"roleId": role})).await.ok(201);
    sales
}

async fn audit_count(app: &TestApp, action: &str) -> usize {
    let a = app.get(&format!("{T}/audit?action={action}&limit=500"), ROOT).await;
    a.ok(200)["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn each_documented_example_fills_its_group() {
    let app = TestApp::new().await;
    let kim = person(&app, "kim@support.company.com", "Support", "Agent", &["emea"]).await;
    let lee = person(&app, "lee@company.com", "Sales", "Senior Account Executive", &[]).await;
    let max = person(&app, "max@company.com", "Sales", "Account Executive", &["emea", "apac"]).await;
    let _ = person(&app, "ola@company.com", "Finance", "Senior Analyst", &["apac"]).await;
    let cases = [
        ("Support", "user.email.endsWith('@support.company.com')", vec![kim.clone()]),
        ("Senior sales", "user.department == 'Sales' && user.title.startsWith('Senior')", vec![lee.clone()]),
        ("EMEA", "'emea' in user.ssoGroups", vec![kim.clone(), max.clone()]),
    ];
    for (name, expression, mut expected) in cases {
        let g = app.group("default", ROOT, name, &[]).await;
        let saved = save(&app, &g, expression).await;
        expected.sort();
        assert_eq!(ids(&saved["added"]), expected, "{expression}");
        assert_eq!(saved["addedCount"], expected.len());
        assert_eq!(saved["rule"]["membersMatched"], expected.len());
        assert!(saved["rule"]["lastEvaluatedAt"].is_string());
        assert_eq!(rule_members(&app, &g).await, expected, "{expression}");
    }
    assert_eq!(audit_count(&app, "auto_assignment.add").await, 4);
    assert_eq!(audit_count(&app, "auto_assignment.rule.create").await, 3);
    app.assert_consistent().await;
}

#[tokio::test]
async fn a_bad_expression_is_refused_with_its_position_and_nothing_changes() {
    let app = TestApp::new().await;
    person(&app, "a@company.com", "Sales", "Lead", &[]).await;
    let g = app.group("default", ROOT, "G", &[]).await;
    let before = app.fingerprint().await;
    let cases = [
        ("user.department == 'Sales' &&", 1, 30),
        ("user.department == 'Sales'\n&& user.title.startsWith(", 2, 26),
        ("user.departmnet == 'Sales'", 1, 6),
        ("account.email == ''", 1, 1),
        ("", 1, 1),
        // The typo the product documents warn about: refused at save, pointing at the name.
        ("user.email.ends_with('@x.com')", 1, 12),
    ];
    for (expression, line, column) in cases {
        refused(&app, &g, expression, (line, column)).await;
    }
    let deep = format!("{}true{}", "(".repeat(300), ")".repeat(300));
    app.post(&format!("{T}/groups/{g}/rules"), ROOT, json!({"expression": deep})).await.problem(422);
    let long = format!("user.email == '{}'", "x".repeat(1000));
    app.post(&format!("{T}/groups/{g}/rules"), ROOT, json!({"expression": long})).await.problem(422);
    app.post(&format!("{T}/groups/{g}/rules"), ROOT, json!({"expression": 5})).await.problem(422);
    app.post(&format!("{T}/groups/{g}/rules"), ROOT, json!({"expression": "true", "extra": 1})).await.problem(422);
    assert_eq!(app.fingerprint().await, before);
}

#[tokio::test]
async fn a_preview_writes_nothing_and_the_confirm_applies_exactly_it() {
    let app = TestApp::new().await;
    let mut sales = Vec::new();
    for n in 0..30 {
        let dept = if n % 3 == 0 { "Sales" } else { "Ops" };
        let id = person(&app, &format!("u{n}@company.com"), dept, "", &[]).await;
        if dept == "Sales" {
            sales.push(id);
        }
    }
    sales.sort();
    let g = app.group("default", ROOT, "Sales", &[]).await;
    // Members a first rule brought, which the changed rule will remove.
    let first = save(&app, &g, "user.email.startsWith('u1')").await;
    let first_id = first["rule"]["id"].as_str().unwrap().to_owned();
    let before = app.fingerprint().await;
    let patch = json!({"expression": "user.department == 'Sales'"});
    let preview = app.patch(&format!("{T}/groups/{g}/rules/{first_id}"), ROOT, patch.clone()).await.ok(200).clone();
    assert_eq!(preview["applied"], false);
    assert_eq!(app.fingerprint().await, before, "a preview saves nothing");
    assert_eq!(preview["rule"]["membersMatched"], sales.len());
    let mut confirm = patch;
    confirm["confirm"] = json!(true);
    let applied = app.patch(&format!("{T}/groups/{g}/rules/{first_id}"), ROOT, confirm).await.ok(200).clone();
    assert_eq!(applied["applied"], true);
    for part in ["added", "removed", "addedCount", "removedCount", "removalsHeld"] {
        assert_eq!(preview[part], applied[part], "{part}");
    }
    assert!(applied["removedCount"].as_u64().unwrap() > 0 && applied["addedCount"].as_u64().unwrap() > 0);
    assert_eq!(rule_members(&app, &g).await, sales);
    assert_eq!(audit_count(&app, "auto_assignment.rule.update").await, 1);
    assert_eq!(
        audit_count(&app, "auto_assignment.remove").await,
        applied["removedCount"].as_u64().unwrap() as usize,
        "one audit event per member removed"
    );
    app.assert_consistent().await;
}

#[tokio::test]
async fn a_department_change_through_the_api_moves_the_user() {
    let app = TestApp::new().await;
    let sales = selling_group(&app).await;
    let rule = save(&app, &sales, "user.department == 'Sales'").await;
    let rule_id = rule["rule"]["id"].as_str().unwrap().to_owned();
    let ann = person(&app, "ann@company.com", "Ops", "", &[]).await;
    assert_eq!(may(&app, &ann).await, false);

    app.patch(&format!("{T}/users/{ann}"), ROOT, json!({"department": "Sales"})).await.ok(200);
    assert_eq!(rule_members(&app, &sales).await, vec![ann.clone()]);
    assert_eq!(may(&app, &ann).await, true, "access follows at once");
    let state = app.get(&format!("{T}/groups/{sales}/rules/{rule_id}"), ROOT).await.ok(200).clone();
    assert_eq!(state["membersMatched"], 1);
    // The rule keeps its row: a person cannot edit it in place.
    let edit = json!({"expiresAt": "2999-01-01T00:00:00Z"});
    app.patch(&format!("{T}/groups/{sales}/members/{ann}"), ROOT, edit.clone()).await.problem(404);
    assert_eq!(rule_members(&app, &sales).await, vec![ann.clone()]);

    // A manual row stays when the rule lets go; the rule row goes.
    app.post(&format!("{T}/groups/{sales}/members"), ROOT, json!({"userId": ann})).await.ok(201);
    app.patch(&format!("{T}/users/{ann}"), ROOT, json!({"department": "Ops"})).await.ok(200);
    assert!(rule_members(&app, &sales).await.is_empty());
    assert_eq!(may(&app, &ann).await, true, "still a member by hand");
    app.patch(&format!("{T}/groups/{sales}/members/{ann}"), ROOT, edit).await.ok(200);
    app.delete(&format!("{T}/groups/{sales}/members/{ann}?source=manual"), ROOT).await.ok(200);
    assert_eq!(may(&app, &ann).await, false);
    let state = app.get(&format!("{T}/groups/{sales}/rules/{rule_id}"), ROOT).await.ok(200).clone();
    assert_eq!(state["membersMatched"], 0);
    assert_eq!(audit_count(&app, "auto_assignment.add").await, 1);
    assert_eq!(audit_count(&app, "auto_assignment.remove").await, 1);

    // New users are decided when created, through REST and through SCIM alike.
    let bob = person(&app, "bob@company.com", "Sales", "", &[]).await;
    assert_eq!(rule_members(&app, &sales).await, vec![bob.clone()]);
    let scim = app.scim_token("default", ROOT).await;
    let created = app
        .scim(
            Method::POST,
            "/t/default/scim/v2/Users",
            &scim,
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
                "userName": "cy@company.com",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales"}
            })),
        )
        .await;
    let cy = created.ok(201)["id"].as_str().unwrap().to_owned();
    let mut expected = vec![bob.clone(), cy];
    expected.sort();
    assert_eq!(rule_members(&app, &sales).await, expected);
    // Deleting a user takes them out of the rule's count.
    app.delete(&format!("{T}/users/{bob}"), ROOT).await.ok(204);
    let state = app.get(&format!("{T}/groups/{sales}/rules/{rule_id}"), ROOT).await.ok(200).clone();
    assert_eq!(state["membersMatched"], 1);
    app.assert_consistent().await;
}

#[tokio::test]
async fn a_regex_rule_follows_each_users_email() {
    let app = TestApp::new().await;
    let sales = selling_group(&app).await;
    let kim = person(&app, "kim.lee@support.company.com", "Support", "", &[]).await;
    let max = person(&app, "max@company.com", "Support", "", &[]).await;
    let saved = save(&app, &sales, "user.email.matches('^[a-z.]+@support[.]company[.]com$')").await;
    assert_eq!(ids(&saved["added"]), vec![kim.clone()]);
    assert_eq!((may(&app, &kim).await, may(&app, &max).await), (json!(true), json!(false)));

    // Max moves to the support address and Kim leaves it: the rule follows each change at once.
    app.patch(&format!("{T}/users/{max}"), ROOT, json!({"email": "max@support.company.com"})).await.ok(200);
    assert_eq!(rule_members(&app, &sales).await, {
        let mut v = vec![kim.clone(), max.clone()];
        v.sort();
        v
    });
    app.patch(&format!("{T}/users/{kim}"), ROOT, json!({"email": "kim.lee@company.com"})).await.ok(200);
    assert_eq!(rule_members(&app, &sales).await, vec![max.clone()]);
    assert_eq!((may(&app, &kim).await, may(&app, &max).await), (json!(false), json!(true)));
    // A digit is outside the pattern's letters and dots.
    let ola = person(&app, "ola2@support.company.com", "Support", "", &[]).await;
    assert_eq!(rule_members(&app, &sales).await, vec![max.clone()]);
    assert_eq!(may(&app, &ola).await, json!(false));
    assert_eq!(audit_count(&app, "auto_assignment.add").await, 2);
    assert_eq!(audit_count(&app, "auto_assignment.remove").await, 1);
    app.assert_consistent().await;
}

#[tokio::test]
async fn a_pattern_that_is_not_a_literal_or_does_not_compile_is_refused_and_nothing_is_saved() {
    let app = TestApp::new().await;
    person(&app, "kim@support.company.com", "Support", "", &[]).await;
    let g = app.group("default", ROOT, "Support", &[]).await;
    let before = app.fingerprint().await;
    let cases = [
        ("user.email.matches(user.department)", (1, 20), "must be a string literal"),
        ("user.email.matches('^' + user.department)", (1, 20), "must be a string literal"),
        (
            "user.department == 'x' ||\n  user.email.matches('(foo')",
            (2, 22),
            "not a valid regular expression: unclosed group",
        ),
        ("user.email.matches('(a{1000}){1000}')", (1, 20), "too large once compiled"),
    ];
    for (expression, position, says) in cases {
        let message = refused(&app, &g, expression, position).await;
        assert!(message.contains(says), "{expression}: {message}");
    }
    // 520 characters of two bytes each: within the expression's 1,000 characters, over the
    // pattern's 1,024 bytes.
    let long = format!("user.email.matches('{}')", "é".repeat(520));
    let a = app.post(&format!("{T}/groups/{g}/rules"), ROOT, json!({"expression": long})).await;
    a.problem(422);
    assert!(a.body["errors"][0]["message"].as_str().unwrap().contains("longer than 1024 bytes"), "{}", a.body);
    assert_eq!(app.fingerprint().await, before);
}

#[tokio::test]
async fn a_paused_rule_holds_its_members_and_resuming_catches_up() {
    let app = TestApp::new().await;
    let g = app.group("default", ROOT, "Sales", &[]).await;
    let ann = person(&app, "ann@company.com", "Sales", "", &[]).await;
    let rule = save(&app, &g, "user.department == 'Sales'").await;
    let id = rule["rule"]["id"].as_str().unwrap().to_owned();
    let paused = app.patch(&format!("{T}/groups/{g}/rules/{id}"), ROOT, json!({"paused": true, "confirm": true})).await;
    assert_eq!(paused.ok(200)["rule"]["paused"], true);
    app.patch(&format!("{T}/users/{ann}"), ROOT, json!({"department": "Ops"})).await.ok(200);
    let bob = person(&app, "bob@company.com", "Sales", "", &[]).await;
    assert_eq!(rule_members(&app, &g).await, vec![ann.clone()], "nothing is decided while paused");
    let resume = json!({"paused": false});
    let preview = app.patch(&format!("{T}/groups/{g}/rules/{id}"), ROOT, resume).await.ok(200).clone();
    assert_eq!(ids(&preview["added"]), vec![bob.clone()]);
    assert_eq!(ids(&preview["removed"]), vec![ann.clone()]);
    app.patch(&format!("{T}/groups/{g}/rules/{id}"), ROOT, json!({"paused": false, "confirm": true})).await.ok(200);
    assert_eq!(rule_members(&app, &g).await, vec![bob.clone()]);
    // Deleting the rule removes the members it brought.
    let gone = app.delete(&format!("{T}/groups/{g}/rules/{id}"), ROOT).await.ok(200).clone();
    assert_eq!(ids(&gone["removed"]), vec![bob]);
    assert!(rule_members(&app, &g).await.is_empty());
    let list = app.get(&format!("{T}/groups/{g}/rules"), ROOT).await.ok(200).clone();
    assert!(list["items"].as_array().unwrap().is_empty());
    app.assert_consistent().await;
}

#[tokio::test]
async fn a_rule_that_cannot_decide_a_user_says_so_in_its_state() {
    let app = TestApp::new().await;
    let g = app.group("default", ROOT, "EU", &[]).await;
    let body = json!({"email": "eu@company.com", "attributes": {"region": "eu"}});
    let eu = app.post(&format!("{T}/users"), ROOT, body).await.ok(201)["id"].as_str().unwrap().to_owned();
    person(&app, "plain@company.com", "", "", &[]).await;
    let saved = save(&app, &g, "user.attributes.region == 'eu'").await;
    assert_eq!(ids(&saved["added"]), vec![eu]);
    let error = saved["rule"]["lastError"].as_str().unwrap();
    assert!(error.contains("region"), "{error}");
    // The audit log says so too, filtered by auto_assignment as an admin looks for it.
    let log = app.get(&format!("{T}/audit?action=auto_assignment.error"), ROOT).await;
    let events = log.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["after"]["ruleId"], saved["rule"]["id"]);
    assert!(events[0]["after"]["error"].as_str().unwrap().contains("region"));
    let all = app.get(&format!("{T}/audit?action=auto_assignment&limit=500"), ROOT).await;
    assert!(all.ok(200)["items"].as_array().unwrap().iter().any(|e| e["action"] == "auto_assignment.error"));
    // A user who comes later and cannot be decided is logged with who it was.
    let late = person(&app, "late@company.com", "", "", &[]).await;
    let log = app.get(&format!("{T}/audit?action=auto_assignment.error"), ROOT).await;
    let events = log.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().any(|e| e["after"]["userId"] == late.as_str()), "{events:?}");
}

#[tokio::test]
async fn a_typo_is_refused_with_the_name_meant_and_the_documented_syntax_is_accepted() {
    let app = TestApp::new().await;
    let support = person(&app, "ann@support.company.com", "Support", "Agent", &[]).await;
    person(&app, "bob@company.com", "Sales", "Lead", &[]).await;
    let g = app.group("default", ROOT, "Support", &[]).await;
    let body = json!({"expression": "user.email.ends_with('@support.company.com')", "confirm": true});
    let a = app.post(&format!("{T}/groups/{g}/rules"), ROOT, body).await;
    a.problem(422);
    let detail = a.body["detail"].as_str().unwrap();
    assert!(detail.contains("`ends_with`") && detail.contains("did you mean `endsWith`?"), "{detail}");
    // The exact syntax of the document: the user's fields as top-level names.
    let saved = save(&app, &g, "email.endsWith('@support.company.com')").await;
    assert_eq!(ids(&saved["added"]), vec![support]);
    assert!(saved["rule"]["lastError"].is_null(), "{saved}");
}

#[tokio::test]
async fn a_group_filled_by_rules_never_confers_cohort_permissions() {
    let app = TestApp::new().await;
    let admin_role = app.builtin("default", ROOT, "admin").await;
    let plain = app.role("default", ROOT, "Plain", &["x:y"]).await;
    let ruled = app.group("default", ROOT, "Ruled", &[]).await;
    let inner = app.group("default", ROOT, "Inner", &[&ruled]).await;
    let admins = app.group("default", ROOT, "Admins", &[]).await;
    app.post(&format!("{T}/groups/{admins}/roles"), ROOT, json!({"roleId": admin_role})).await.ok(201);
    save(&app, &inner, "user.department == 'IT'").await;
    let before = app.fingerprint().await;
    // Assigning an admin role to the rule group, or to a group above it.
    for g in [&inner, &ruled] {
        let a = app.post(&format!("{T}/groups/{g}/roles"), ROOT, json!({"roleId": admin_role})).await;
        a.problem(422);
        assert!(a.body["detail"].as_str().unwrap().contains("rules"), "{}", a.body);
    }
    // Nesting it under a group that confers them.
    app.patch(&format!("{T}/groups/{ruled}"), ROOT, json!({"parentIds": [admins]})).await.problem(422);
    // Turning a role it holds into one that confers them.
    app.post(&format!("{T}/groups/{ruled}/roles"), ROOT, json!({"roleId": plain})).await.ok(201);
    let after_plain = app.fingerprint().await;
    app.patch(&format!("{T}/roles/{plain}"), ROOT, json!({"permissions": ["cohort:users.read"]})).await.problem(422);
    assert_eq!(app.fingerprint().await, after_plain);
    assert_ne!(before, after_plain);
    // And a rule on a group that confers them is refused.
    let a = app.post(&format!("{T}/groups/{admins}/rules"), ROOT, json!({"expression": "true"})).await;
    a.problem(409);
    let child = app.group("default", ROOT, "Below admins", &[&admins]).await;
    app.post(&format!("{T}/groups/{child}/rules"), ROOT, json!({"expression": "true"})).await.problem(409);
    app.assert_consistent().await;
}

#[tokio::test]
async fn only_group_writers_manage_rules_and_managers_may_read_them() {
    let app = TestApp::new().await;
    let g = app.group("default", ROOT, "G", &[]).await;
    let rule = save(&app, &g, "user.title == 'Boss'").await;
    let id = rule["rule"]["id"].as_str().unwrap().to_owned();
    let mia = person(&app, "mia@company.com", "", "", &[]).await;
    app.post(&format!("{T}/groups/{g}/members"), ROOT, json!({"userId": mia, "role": "manager"})).await.ok(201);
    let token = app.token_for("default", ROOT, &mia).await;
    app.get(&format!("{T}/groups/{g}/rules"), &token).await.ok(200);
    app.get(&format!("{T}/groups/{g}/rules/{id}"), &token).await.ok(200);
    let before = app.fingerprint().await;
    app.post(&format!("{T}/groups/{g}/rules"), &token, json!({"expression": "true", "confirm": true}))
        .await
        .problem(403);
    app.patch(&format!("{T}/groups/{g}/rules/{id}"), &token, json!({"paused": true, "confirm": true}))
        .await
        .problem(403);
    app.delete(&format!("{T}/groups/{g}/rules/{id}"), &token).await.problem(403);
    assert_eq!(app.fingerprint().await, before);
    // A rule id of another group is not found through this one.
    let other = app.group("default", ROOT, "Other", &[]).await;
    app.get(&format!("{T}/groups/{other}/rules/{id}"), ROOT).await.problem(404);
    app.delete(&format!("{T}/groups/{other}/rules/{id}"), ROOT).await.problem(404);
}

#[tokio::test]
async fn users_created_by_csv_import_are_decided_in_the_same_change() {
    let app = TestApp::new().await;
    let g = app.group("default", ROOT, "Sales", &[]).await;
    save(&app, &g, "user.department == 'Sales'").await;
    let file = "email,displayName,department,title,groups\n\
                one@company.com,One,Sales,,\n\
                two@company.com,Two,Ops,,\n";
    let p = app.post(&format!("{T}/users/import"), ROOT, json!(file)).await;
    let id = p.ok(201)["importId"].as_str().unwrap().to_owned();
    let c = app.post(&format!("{T}/users/import/{id}/confirm"), ROOT, json!({})).await;
    c.ok(200);
    let revision = c.revision();
    let users = app.get(&format!("{T}/users?q=one@company.com"), ROOT).await;
    let one = users.ok(200)["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(rule_members(&app, &g).await, vec![one]);
    let events = app.get(&format!("{T}/audit?action=auto_assignment.add"), ROOT).await;
    let events = events.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["revision"], revision, "in the import's own change");
    app.assert_consistent().await;
}

#[tokio::test]
async fn changing_a_rule_moves_exactly_the_users_it_changes_for_and_access_follows() {
    let app = TestApp::new().await;
    let sales = selling_group(&app).await;
    let mut staff = Vec::new();
    for i in 0..6 {
        staff.push(person(&app, &format!("s{i}@company.com"), "Sales", "Rep", &[]).await);
    }
    let intern = person(&app, "intern@company.com", "Sales", "Intern", &[]).await;
    let ops = person(&app, "ops@company.com", "Ops", "Rep", &[]).await;
    let rule = save(&app, &sales, "user.department == 'Sales'").await;
    let id = rule["rule"]["id"].as_str().unwrap().to_owned();
    assert_eq!(rule["addedCount"], 7);
    assert_eq!(may(&app, &intern).await, true);

    // One of seven leaves: the others keep their rows and their access.
    let body = json!({"expression": "user.department == 'Sales' && user.title != 'Intern'", "confirm": true});
    let changed = app.patch(&format!("{T}/groups/{sales}/rules/{id}"), ROOT, body).await.ok(200).clone();
    assert_eq!(ids(&changed["removed"]), vec![intern.clone()]);
    assert_eq!(changed["addedCount"], 0);
    assert_eq!(may(&app, &intern).await, false, "access goes at once");
    for s in &staff {
        assert_eq!(may(&app, s).await, true);
    }
    let mut expected = staff.clone();
    expected.sort();
    assert_eq!(rule_members(&app, &sales).await, expected);
    app.assert_consistent().await;

    // Everyone moves: six leave, one joins.
    let body = json!({"expression": "user.department == 'Ops'", "confirm": true});
    let changed = app.patch(&format!("{T}/groups/{sales}/rules/{id}"), ROOT, body).await.ok(200).clone();
    assert_eq!((changed["addedCount"].clone(), changed["removedCount"].clone()), (json!(1), json!(6)));
    assert_eq!(rule_members(&app, &sales).await, vec![ops.clone()]);
    assert_eq!(may(&app, &ops).await, true);
    for s in &staff {
        assert_eq!(may(&app, s).await, false);
    }
    assert_eq!(audit_count(&app, "auto_assignment.remove").await, 7);
    assert_eq!(audit_count(&app, "auto_assignment.add").await, 8);
    app.assert_consistent().await;
}
