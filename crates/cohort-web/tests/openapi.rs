//! The committed `openapi.json` is exactly what the code serves; regenerate it with
//! `cargo run -- openapi > openapi.json`.

#[test]
fn committed_openapi_matches_the_code() {
    let committed = include_str!("../../../openapi.json");
    let generated = cohort_web::rest::openapi_json();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "openapi.json is stale: run `cargo run -- openapi > openapi.json` and commit it"
    );
}

#[test]
fn every_documented_operation_declares_its_problems() {
    let doc: serde_json::Value = serde_json::from_str(&cohort_web::rest::openapi_json()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/t/{tenant}/api/v1/groups/{groupId}/members"));
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            assert!(op["responses"].get("4XX").is_some(), "{method} {path} lacks its problem response");
        }
    }
}

#[test]
fn every_path_parameter_is_documented() {
    let doc: serde_json::Value = serde_json::from_str(&cohort_web::rest::openapi_json()).unwrap();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let wanted: Vec<&str> = path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect();
        for (method, op) in ops.as_object().unwrap() {
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            for w in &wanted {
                assert!(
                    params.iter().any(|p| p["name"] == *w && p["in"] == "path"),
                    "{method} {path} does not document path parameter `{w}`"
                );
            }
        }
    }
}
