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
        // Most requests escape nothing: printable ASCII alone is neither a control character
        // nor anything but UTF-8.
        if part.bytes().all(|b| b.is_ascii_graphic() && b != b'%') {
            continue;
        }
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

/// Whether the JSON text `bytes` may hold a control character other than tab, line feed and
/// carriage return in a string: false only when it cannot (no escape that could make one, no
/// DEL, no C1 control written as UTF-8; JSON forbids the C0 controls raw). A true answer is
/// settled by parsing and [`json_has_control`].
pub(crate) fn json_may_hold_control(bytes: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match (b, bytes.get(i + 1)) {
            // An escape and what it escapes are read together, so `\\u` is a backslash and a `u`.
            (b'\\', Some(b'n' | b'r' | b't' | b'"' | b'\\' | b'/')) => i += 2,
            (b'\\', _) | (0x7F, _) => return true,
            (0xC2, Some(0x80..=0x9F)) => return true,
            _ => i += 1,
        }
    }
    false
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
    fn a_json_text_that_holds_a_control_character_is_never_passed_as_clean() {
        let clean = |text: &str| !json_may_hold_control(text.as_bytes());
        // Every character, as serde writes it (escaped or raw) and escaped by hand (a backslash, `u`, four hex digits).
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            let bad = c.is_control() && !matches!(c, '\t' | '\n' | '\r');
            let written = serde_json::to_string(&serde_json::json!({"k": format!("a{c}b")})).unwrap();
            let escaped = format!("{{\"k\": \"a\\u{:04x}b\"}}", u32::from(c).min(0xFFFF));
            for text in [&written, &escaped] {
                let value: serde_json::Value = match serde_json::from_str(text) {
                    Ok(v) => v,
                    Err(_) => continue, // a lone surrogate escape: not JSON to serde
                };
                if bad || json_has_control(&value) {
                    assert!(!clean(text), "{c:?} in {text:?}");
                }
            }
        }
        // Keys too, and the short escapes of control characters.
        assert!(!clean(r#"{"a\u0007": 1}"#));
        assert!(!clean(r#"{"k": "\b"}"#) && !clean(r#"{"k": "\f"}"#));
        assert!(!clean("{\"k\": \"\u{7f}\"}"));
        // What bodies usually are passes, escaped quotes, slashes and line breaks included.
        assert!(clean(r#"{"userId": "usr_1", "permission": "deals:edit"}"#));
        assert!(clean(r#"{"description": "a \"quoted\" \\ path/to\n\tnext"}"#));
        assert!(clean("{\"name\": \"caf\u{e9} \u{1F600}\"}"));
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
