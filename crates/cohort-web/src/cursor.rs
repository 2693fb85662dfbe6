//! Opaque list cursors, shared by every face that pages through a list: a position (a sort
//! key and an id) written as hex, and read back only when it is exactly what was written.

use cohort_service::error::ServiceError;
use cohort_store::After;

/// Encodes a position as an opaque cursor (hex of `key NUL id`).
pub fn encode(key: &str, id: &str) -> String {
    format!("{key}\u{0}{id}").bytes().map(|b| format!("{b:02x}")).collect()
}

pub fn decode(cursor: &str) -> Result<After, ServiceError> {
    let bad = || ServiceError::BadRequest("the cursor is not valid".to_owned());
    if !cursor.len().is_multiple_of(2) || cursor.len() > 2048 {
        return Err(bad());
    }
    let bytes: Vec<u8> = (0..cursor.len())
        .step_by(2)
        .map(|i| cursor.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or_else(bad))
        .collect::<Result<_, _>>()?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (key, id) = text.split_once('\u{0}').ok_or_else(bad)?;
    // Only what `encode` makes: a key and an id without control characters of their own.
    if key.chars().chain(id.chars()).any(char::is_control) {
        return Err(bad());
    }
    Ok(After { key: key.to_owned(), id: id.to_owned() })
}

/// The cursor of the next page, when this one was full.
pub fn next<T>(items: &[T], limit: i64, position: impl Fn(&T) -> (String, String)) -> Option<String> {
    if items.len() as i64 == limit {
        items.last().map(|i| {
            let (k, id) = position(i);
            encode(&k, &id)
        })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn cursors_round_trip_and_anything_else_is_refused(key in "[a-z0-9 @.]{0,40}", id in "[a-z0-9_]{1,30}", junk in ".{0,3000}") {
            let after = decode(&encode(&key, &id)).unwrap();
            prop_assert_eq!((after.key.as_str(), after.id.as_str()), (key.as_str(), id.as_str()));
            if let Ok(a) = decode(&junk) {
                prop_assert!(!a.key.chars().chain(a.id.chars()).any(char::is_control));
            }
            let nul_in_id: String = format!("{key}\u{0}{id}\u{0}x").bytes().map(|b| format!("{b:02x}")).collect();
            prop_assert!(decode(&nul_in_id).is_err());
        }
    }
}
