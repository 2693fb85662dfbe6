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

/// A page of a group's member rows as a query asks for it (REST and the console alike):
/// `q` (at most 200 characters), `sort` (`email`, `name`, `role`, `source`, `added`,
/// `expires`), `order` (`asc`, `desc`), and a cursor of a page of the same order.
pub fn member_listing(
    q: Option<&str>,
    sort: Option<&str>,
    order: Option<&str>,
    limit: i64,
    cursor: Option<&str>,
) -> Result<cohort_store::MemberListing, ServiceError> {
    use cohort_store::{MemberCursor, MemberSort};
    let bad = |m: String| ServiceError::BadRequest(m);
    let q = q.map(str::trim).filter(|q| !q.is_empty());
    if q.is_some_and(|q| q.chars().count() > 200) {
        return Err(bad("`q` is longer than 200 characters".to_owned()));
    }
    let sort = match sort.filter(|s| !s.is_empty()) {
        None => MemberSort::default(),
        Some(s) => MemberSort::parse(s).ok_or_else(|| {
            let names: Vec<&str> = MemberSort::ALL.iter().map(|(_, n)| *n).collect();
            bad(format!("sort `{s}` is not one of {}", names.join(", ")))
        })?,
    };
    let descending = match order.filter(|o| !o.is_empty()) {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(o) => return Err(bad(format!("order `{o}` is not `asc` or `desc`"))),
    };
    let from = match cursor {
        None => None,
        Some(c) => {
            let after = decode(c)?;
            let invalid = || bad("the cursor is not valid for this order".to_owned());
            let mut parts = after.id.split(' ');
            let (Some(order_of), Some(user), Some(source), Some(way), None) =
                (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(invalid());
            };
            if order_of != sort.as_str()
                || (matches!(sort, MemberSort::Added | MemberSort::Expiry) && after.key.parse::<i64>().is_err())
            {
                return Err(invalid());
            }
            Some(MemberCursor {
                key: after.key,
                user: cohort_core::UserId::parse(user).map_err(|_| invalid())?,
                source: cohort_core::model::MembershipSource::parse("cursor", source).map_err(|_| invalid())?,
                backward: way == "back",
            })
        }
    };
    Ok(cohort_store::MemberListing { q: q.map(str::to_owned), sort, descending, from, limit })
}

/// The cursors of the pages before and after `rows`, a page of `listing`.
pub fn member_pages(
    listing: &cohort_store::MemberListing,
    rows: &[cohort_store::MemberRow],
) -> (Option<String>, Option<String>) {
    let encode_row = |c: cohort_store::MemberCursor| {
        let way = if c.backward { "back" } else { "on" };
        encode(&c.key, &format!("{} {} {} {way}", listing.sort.as_str(), c.user, c.source.as_str()))
    };
    let full = rows.len() as i64 == listing.limit;
    let (prev, next) = match &listing.from {
        None => (false, full),
        Some(c) if c.backward => (full, true),
        Some(_) => (true, full),
    };
    (
        rows.first().filter(|_| prev).map(|r| encode_row(r.cursor(true))),
        rows.last().filter(|_| next).map(|r| encode_row(r.cursor(false))),
    )
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
