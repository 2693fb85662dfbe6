//! CSV import of members (preview, confirm, re-checks, every kind of bad file) and CSV
//! export with cells that cannot become spreadsheet formulas.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ROOT, TestApp};
use serde_json::{Value, json};

const T: &str = "/t/default/api/v1";

fn lines(v: &Value, part: &str) -> Vec<(u64, String)> {
    v[part]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["reason"].as_str().or(r["email"].as_str()).unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn a_preview_reports_every_row_and_confirm_applies_exactly_it() {
    let app = TestApp::new().await;
    let g = app.group("default", ROOT, "Support", &[]).await;
    let ann = app.user("default", ROOT, "ann@example.com").await;
    let bob = app.user("default", ROOT, "bob@example.com").await;
    let cat = app.user("default", ROOT, "cat@example.com").await;
    let dan = app.user("default", ROOT, "dan@example.com").await;
    app.post(&format!("{T}/groups/{g}/members"), ROOT, json!({"userId": dan})).await.ok(201);
    let file = "Email,Role\r\n\
                ann@example.com,member\r\n\
                BOB@example.com,manager\r\n\
                cat@example.com\r\n\
                dan@example.com,member\r\n\
                ann@example.com,member\r\n\
                nobody@example.com,member\r\n\
                eve@example.com,owner\r\n\
                not-an-email,member\r\n\
                a@example.com,member,extra\r\n\
                \"broken,member\r\n";
    let p = app.post(&format!("{T}/groups/{g}/members/import"), ROOT, json!(file)).await;
    let preview = p.ok(201).clone();
    assert_eq!(preview["counts"], json!({"added": 3, "skipped": 2, "errors": 5}));
    let added: Vec<(u64, &str, &str)> = preview["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["userId"].as_str().unwrap(), r["role"].as_str().unwrap()))
        .collect();
    assert_eq!(added, vec![(2, ann.as_str(), "member"), (3, bob.as_str(), "manager"), (4, cat.as_str(), "member")]);
    assert_eq!(
        lines(&preview, "skipped"),
        vec![(5, "already a member".to_owned()), (6, "duplicate of line 2".to_owned())]
    );
    let errors = lines(&preview, "errors");
    assert_eq!(errors.iter().map(|e| e.0).collect::<Vec<_>>(), vec![7, 8, 9, 10, 11]);
    assert!(errors[0].1.contains("no user has the email"));
    assert!(errors[1].1.contains("`owner`"));
    assert!(errors[2].1.contains("not an email"));
    assert!(errors[3].1.contains("3 cells"));
    assert!(errors[4].1.contains("quoted cell is not closed"));
    // Nothing changed yet.
    let rows = app.get(&format!("{T}/groups/{g}/members"), ROOT).await;
    assert_eq!(rows.ok(200)["items"].as_array().unwrap().len(), 1);

    let id = preview["importId"].as_str().unwrap();
    let c = app.post(&format!("{T}/groups/{g}/members/import/{id}/confirm"), ROOT, json!({})).await;
    assert_eq!(c.ok(200)["added"], 3);
    let rows = app.get(&format!("{T}/groups/{g}/members"), ROOT).await;
    let mut got: Vec<(String, String, String)> = rows.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["source"] == "import")
        .map(|r| {
            (
                r["userId"].as_str().unwrap().to_owned(),
                r["role"].as_str().unwrap().to_owned(),
                r["source"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    let mut want = vec![
        (ann.clone(), "member".to_owned(), "import".to_owned()),
        (bob.clone(), "manager".to_owned(), "import".to_owned()),
        (cat.clone(), "member".to_owned(), "import".to_owned()),
    ];
    want.sort();
    assert_eq!(got, want, "confirm applies exactly the previewed rows");
    let audit = app.get(&format!("{T}/audit?action=membership.add"), ROOT).await;
    let imported =
        audit.ok(200)["items"].as_array().unwrap().iter().filter(|e| e["after"]["source"] == "import").count();
    assert_eq!(imported, 3, "one audit event per membership");
    // An import is confirmed once.
    app.post(&format!("{T}/groups/{g}/members/import/{id}/confirm"), ROOT, json!({})).await.problem(409);
    app.assert_consistent().await;
}

#[tokio::test]
async fn confirm_checks_again_what_changed_since_the_preview() {
    let app = TestApp::new().await;
    let g = app.group("default", ROOT, "Ops", &[]).await;
    let ann = app.user("default", ROOT, "ann@example.com").await;
    let bob = app.user("default", ROOT, "bob@example.com").await;
    let cat = app.user("default", ROOT, "cat@example.com").await;
    let p = app
        .post(
            &format!("{T}/groups/{g}/members/import"),
            ROOT,
            json!("email\nann@example.com\nbob@example.com\ncat@example.com\n"),
        )
        .await;
    let id = p.ok(201)["importId"].as_str().unwrap().to_owned();
    app.post(&format!("{T}/groups/{g}/members"), ROOT, json!({"userId": bob})).await.ok(201);
    app.delete(&format!("{T}/users/{cat}"), ROOT).await;
    let c = app.post(&format!("{T}/groups/{g}/members/import/{id}/confirm"), ROOT, json!({})).await;
    assert_eq!(c.ok(200)["added"], 1);
    let skipped: Vec<(u64, String)> = lines(&c.body, "skipped");
    assert_eq!(
        skipped,
        vec![(3, "became a member since the preview".to_owned()), (4, "the user no longer exists".to_owned())]
    );
    let groups = app.get(&format!("{T}/users/{ann}/groups"), ROOT).await;
    assert_eq!(groups.ok(200)["items"][0]["groupId"], json!(g));
    // Another group's import is not found through this group.
    let other = app.group("default", ROOT, "Other", &[]).await;
    app.post(&format!("{T}/groups/{other}/members/import/{id}/confirm"), ROOT, json!({})).await.problem(404);
    app.assert_consistent().await;
}

#[tokio::test]
async fn bad_files_are_refused_whole_and_change_nothing() {
    let app = TestApp::with_config(cohort_service::Config { max_import_rows: 1000, ..Default::default() }).await;
    let g = app.group("default", ROOT, "G", &[]).await;
    app.user("default", ROOT, "ann@example.com").await;
    let before = app.fingerprint().await;
    let many: String = std::iter::once("email,role\n".to_owned())
        .chain((0..1001).map(|i| format!("user{i}@example.com,member\n")))
        .collect();
    let cases: Vec<(Value, &str)> = vec![
        (json!(""), "the file is empty"),
        (json!("email,role\n"), "no rows"),
        (json!("mail,role\nann@example.com,member\n"), "the first line must be the header `email,role`"),
        (json!("ann@example.com,member\n"), "the first line must be the header"),
        (json!(many), "1001 rows; at most 1000"),
        (json!("\"email,role\nann@example.com\n"), "line 1"),
    ];
    for (file, message) in cases {
        let a = app.post(&format!("{T}/groups/{g}/members/import"), ROOT, file).await;
        a.problem(422);
        let detail = a.body["errors"][0]["message"].as_str().unwrap();
        assert!(detail.contains(message), "{detail} should say {message}");
        assert_eq!(a.body["errors"][0]["field"], "file");
    }
    // Latin-1 bytes are not UTF-8.
    let mut latin1 = b"email,role\nj".to_vec();
    latin1.push(0xe9);
    latin1.extend_from_slice(b"r\xf4me@example.com,member\n");
    let req = axum::http::Request::builder()
        .method("POST")
        .uri(format!("{T}/groups/{g}/members/import"))
        .header("authorization", format!("Bearer {ROOT}"))
        .header("content-type", "text/csv")
        .body(axum::body::Body::from(latin1))
        .unwrap();
    let res = tower::ServiceExt::oneshot(app.router.clone(), req).await.unwrap();
    assert_eq!(res.status().as_u16(), 422);
    let body = http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("not UTF-8"));
    assert_eq!(app.fingerprint().await, before);
    // The template is the header.
    let t = app.get(&format!("{T}/groups/{g}/members/import-template"), ROOT).await;
    assert_eq!(t.ok(200), &json!("email,role\r\n"));
    assert!(t.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
}

#[tokio::test]
async fn managers_import_members_but_not_managers() {
    let app = TestApp::new().await;
    let g = app.group("default", ROOT, "Team", &[]).await;
    let lead = app.user("default", ROOT, "lead@example.com").await;
    app.user("default", ROOT, "ann@example.com").await;
    app.user("default", ROOT, "bob@example.com").await;
    app.post(&format!("{T}/groups/{g}/members"), ROOT, json!({"userId": lead, "role": "manager"})).await.ok(201);
    let token = app.token_for("default", ROOT, &lead).await;
    let p = app
        .post(
            &format!("{T}/groups/{g}/members/import"),
            &token,
            json!("email,role\nann@example.com,member\nbob@example.com,manager\n"),
        )
        .await;
    let preview = p.ok(201).clone();
    assert_eq!(preview["counts"], json!({"added": 1, "skipped": 0, "errors": 1}));
    assert!(lines(&preview, "errors")[0].1.contains("cohort:groups.write"));
    let id = preview["importId"].as_str().unwrap();
    assert_eq!(
        app.post(&format!("{T}/groups/{g}/members/import/{id}/confirm"), &token, json!({})).await.ok(200)["added"],
        1
    );
    // A group they do not manage is closed to them.
    let other = app.group("default", ROOT, "Other", &[]).await;
    app.post(&format!("{T}/groups/{other}/members/import"), &token, json!("email\nann@example.com\n"))
        .await
        .problem(403);
}

#[tokio::test]
async fn exports_escape_cells_that_spreadsheets_would_run() {
    let app = TestApp::new().await;
    let g = app.group("default", ROOT, "G", &[]).await;
    let u = app
        .post(
            &format!("{T}/users"),
            ROOT,
            json!({"email": "eve@example.com", "displayName": "=HYPERLINK(\"http://x\")", "department": "+1", "title": "@boss, \"chief\""}),
        )
        .await
        .id();
    app.post(&format!("{T}/groups/{g}/members"), ROOT, json!({"userId": u})).await.ok(201);
    let users = app.get(&format!("{T}/users/export"), ROOT).await;
    let text = users.ok(200).as_str().unwrap().to_owned();
    assert!(text.starts_with("email,userId,userName,displayName,department,title,status\r\n"), "{text}");
    assert!(
        text.contains(&format!(
            "eve@example.com,{u},,\"'=HYPERLINK(\"\"http://x\"\")\",'+1,\"'@boss, \"\"chief\"\"\",active\r\n"
        )),
        "{text}"
    );
    let members = app.get(&format!("{T}/groups/{g}/members/export"), ROOT).await;
    assert_eq!(
        members.ok(200).as_str().unwrap(),
        format!("email,userId,role,source,expiresAt\r\neve@example.com,{u},member,manual,\r\n")
    );
    // What is exported reads back as a valid import of the same members into another group.
    let h = app.group("default", ROOT, "H", &[]).await;
    let exported = members.body.as_str().unwrap().replace("email,userId,role,source,expiresAt", "email,role");
    let reimport: String =
        exported.lines().map(|l| l.split(',').take(1).collect::<Vec<_>>().join(",") + "\n").collect();
    let p = app.post(&format!("{T}/groups/{h}/members/import"), ROOT, json!(reimport)).await;
    assert_eq!(p.ok(201)["counts"]["added"], 1);
}

#[tokio::test]
async fn a_users_import_creates_users_with_their_groups() {
    let app = TestApp::new().await;
    let support = app.post(&format!("{T}/groups"), ROOT, json!({"name": "Support", "slug": "support"})).await.id();
    let ops = app.post(&format!("{T}/groups"), ROOT, json!({"name": "Ops", "slug": "ops"})).await.id();
    app.post(&format!("{T}/groups/{ops}/archive"), ROOT, json!({})).await.ok(200);
    app.user("default", ROOT, "ann@example.com").await;
    let file = "email,displayName,groups,title\n\
                new1@example.com,New One,support,Agent\n\
                ann@example.com,,support,\n\
                new2@example.com,,support;ops,\n\
                new3@example.com,,nope,\n\
                bad,,,\n\
                NEW1@example.com,,,\n\
                new4@example.com,Four,,\n\
                new5@example.com,,\n";
    let p = app.post(&format!("{T}/users/import"), ROOT, json!(file)).await;
    let preview = p.ok(201).clone();
    assert_eq!(preview["counts"], json!({"added": 2, "skipped": 2, "errors": 4}));
    assert_eq!(preview["added"][0], json!({"line": 2, "email": "new1@example.com", "groupIds": [support]}));
    assert_eq!(
        lines(&preview, "skipped"),
        vec![(3, "a user has this email already".to_owned()), (7, "duplicate of line 2".to_owned())]
    );
    let errors = lines(&preview, "errors");
    assert_eq!(errors.iter().map(|e| e.0).collect::<Vec<_>>(), vec![4, 5, 6, 9]);
    assert!(
        errors[0].1.contains("`ops` is archived") && errors[1].1.contains("`nope`") && errors[3].1.contains("3 cells")
    );
    let users_before = app.get(&format!("{T}/users?limit=100"), ROOT).await.ok(200)["items"].as_array().unwrap().len();
    let id = preview["importId"].as_str().unwrap();
    let c = app.post(&format!("{T}/users/import/{id}/confirm"), ROOT, json!({})).await;
    assert_eq!(c.ok(200)["added"], 2);
    let users = app.get(&format!("{T}/users?q=new"), ROOT).await;
    let made: Vec<(String, String, String)> = users.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["email"].as_str().unwrap().to_owned(),
                u["displayName"].as_str().unwrap().to_owned(),
                u["title"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        made,
        vec![
            ("new1@example.com".to_owned(), "New One".to_owned(), "Agent".to_owned()),
            ("new4@example.com".to_owned(), "Four".to_owned(), String::new()),
        ]
    );
    let all = app.get(&format!("{T}/users?limit=100"), ROOT).await;
    assert_eq!(all.ok(200)["items"].as_array().unwrap().len(), users_before + 2);
    let rows = app.get(&format!("{T}/groups/{support}/members"), ROOT).await;
    assert_eq!(rows.ok(200)["items"][0]["source"], "import");
    assert_eq!(audit_of(&app, "user.create").await, 4, "the admin, ann, then the two imported");
    app.post(&format!("{T}/users/import/{id}/confirm"), ROOT, json!({})).await.problem(409);

    // Confirm checks again: an email taken since the preview is left out.
    let p = app.post(&format!("{T}/users/import"), ROOT, json!("email\nlate@example.com\nlater@example.com\n")).await;
    let id = p.ok(201)["importId"].as_str().unwrap().to_owned();
    app.user("default", ROOT, "late@example.com").await;
    let c = app.post(&format!("{T}/users/import/{id}/confirm"), ROOT, json!({})).await;
    assert_eq!(c.ok(200)["added"], 1);
    assert_eq!(lines(&c.body, "skipped"), vec![(2, "the email was taken since the preview".to_owned())]);
    // A members import is not a users import.
    let m = app.post(&format!("{T}/groups/{support}/members/import"), ROOT, json!("email\nann@example.com\n")).await;
    let mid = m.ok(201)["importId"].as_str().unwrap().to_owned();
    app.post(&format!("{T}/users/import/{mid}/confirm"), ROOT, json!({})).await.problem(404);
    for bad in
        ["name,email\nx,y@example.com\n", "email,shoeSize\na@example.com,9\n", "email,title,title\na@example.com,x,y\n"]
    {
        app.post(&format!("{T}/users/import"), ROOT, json!(bad)).await.problem(422);
    }
    let t = app.get(&format!("{T}/users/import-template"), ROOT).await;
    assert_eq!(t.ok(200), &json!("email,displayName,department,title,type,groups\r\n"));
    app.assert_consistent().await;
}

async fn audit_of(app: &TestApp, action: &str) -> usize {
    let a = app.get(&format!("{T}/audit?action={action}&limit=500"), ROOT).await;
    a.ok(200)["items"].as_array().unwrap().len()
}
