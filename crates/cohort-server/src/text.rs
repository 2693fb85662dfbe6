//! Checks on text from outside that every face applies at its edge: no control characters
//! where they have no business (a NUL byte is not even storable in PostgreSQL), no malformed
//! percent-escapes, nothing that is not UTF-8.

use axum::http::Uri;
use serde_json::Value;

/// Decodes `%XX` escapes (and, in a query, `+`); `None` when an escape is malformed.
fn percent_decode(s: &str, plus_is_space: bool) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(out)
}

/// Why a URI is refused, if it is.
pub(crate) fn uri_problem(uri: &Uri) -> Option<&'static str> {
    let parts = [(uri.path(), false), (uri.query().unwrap_or(""), true)];
    for (part, query) in parts {
        let Some(decoded) = percent_decode(part, query) else {
            return Some("the request's path or query has a malformed percent-escape");
        };
        let Ok(text) = std::str::from_utf8(&decoded) else {
            return Some("the request's path or query is not UTF-8");
        };
        if text.chars().any(char::is_control) {
            return Some("the request's path or query holds a control character");
        }
    }
    None
}

/// Whether a control character other than tab, line feed and carriage return sits in any
/// string (or key) of a JSON document.
pub(crate) fn json_has_control(v: &Value) -> bool {
    let bad = |s: &str| s.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'));
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) if bad(s) => return true,
            Value::Array(a) => stack.extend(a),
            Value::Object(m) => {
                if m.keys().any(|k| bad(k)) {
                    return true;
                }
                stack.extend(m.values());
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_json_strings_and_keys_are_found() {
        let has = |s: &str| json_has_control(&serde_json::from_str(s).unwrap());
        assert!(!has(r#"{"name": "Sales", "description": "two\nlines\tand a tab"}"#));
        assert!(has(r#"{"name": "a\u0000b"}"#));
        assert!(has(r#"{"list": [{"deep": ["\u001b[31m"]}]}"#));
        assert!(has(r#"{"a\u0007": 1}"#));
        assert!(!has("[1, true, null]"));
    }

    #[test]
    fn control_characters_and_bad_escapes_are_found_in_path_and_query() {
        let bad = |s: &str| uri_problem(&s.parse::<Uri>().unwrap());
        assert_eq!(bad("/t/default/api/v1/groups?q=sales"), None);
        assert_eq!(bad("/t/default/api/v1/groups?q=caf%C3%A9+x"), None);
        assert!(bad("/t/default/api/v1/groups?q=%00").unwrap().contains("control"));
        assert!(bad("/t/default/api/v1/groups?q=a%0Ab").unwrap().contains("control"));
        assert!(bad("/t/default/api/v1/groups/%7F").unwrap().contains("control"));
        assert!(bad("/t/default/api/v1/groups?q=%FF").unwrap().contains("UTF-8"));
        assert!(bad("/t/default/api/v1/groups?q=%4").unwrap().contains("percent"));
    }
}
