//! Translating SCIM filters and `sortBy` into storage conditions: each resource names the
//! attributes it can filter on, and anything else is an `invalidFilter`.

use super::ScimError;
use super::filter::{AttrPath, Filter, Literal};
use cohort_service::format::parse_rfc3339;
use cohort_store::listing::{Cmp, Cond, Field, Value};

/// What a filterable attribute is.
#[derive(Clone, Copy, Debug)]
pub enum Attr {
    /// Text in a column.
    Text(Field),
    /// A boolean column.
    Bool(Field),
    /// A time column (compared as RFC 3339 instants).
    Time(Field),
    /// A value that is the same for every resource (`emails.type` is always `work`).
    Fixed(&'static str),
}

/// Finds an attribute by its lowercase full name (`emails.value`, `meta.created`).
pub type Resolver = fn(&str) -> Option<Attr>;

/// The lowercase full name of `p` inside value path `outer` (if any), without the core
/// schema URN of the resource; extension attributes keep their URN (`urn:...:user:department`).
pub fn full_name(p: &AttrPath, outer: Option<&str>, core_urn: &str) -> String {
    let mut name = String::new();
    if let Some(u) = &p.urn
        && !u.eq_ignore_ascii_case(core_urn)
    {
        name.push_str(&u.to_ascii_lowercase());
        name.push(':');
    }
    if let Some(o) = outer {
        name.push_str(o);
        name.push('.');
    }
    name.push_str(&p.attr.to_ascii_lowercase());
    if let Some(s) = &p.sub {
        name.push('.');
        name.push_str(&s.to_ascii_lowercase());
    }
    name
}

fn fixed(value: &str, op: Cmp, lit: &Literal) -> Cond {
    let wanted = match lit {
        Literal::Str(s) => s.to_lowercase(),
        Literal::Bool(b) => b.to_string(),
        Literal::Num(n) => n.clone(),
        Literal::Null => return if op == Cmp::Ne { Cond::True } else { Cond::False },
    };
    let holds = match op {
        Cmp::Eq => value == wanted,
        Cmp::Ne => value != wanted,
        Cmp::Co => value.contains(&wanted),
        Cmp::Sw => value.starts_with(&wanted),
        Cmp::Ew => value.ends_with(&wanted),
        Cmp::Gt => value > wanted.as_str(),
        Cmp::Ge => value >= wanted.as_str(),
        Cmp::Lt => value < wanted.as_str(),
        Cmp::Le => value <= wanted.as_str(),
    };
    if holds { Cond::True } else { Cond::False }
}

fn compare(name: &str, attr: Attr, op: Cmp, lit: &Literal) -> Result<Cond, ScimError> {
    let bad = |why: &str| ScimError::invalid_filter(&format!("`{name}`: {why}"));
    if *lit == Literal::Null {
        // `eq null` asks for absence, `ne null` for presence.
        let field = match attr {
            Attr::Text(f) | Attr::Bool(f) | Attr::Time(f) => f,
            Attr::Fixed(v) => return Ok(fixed(v, op, lit)),
        };
        return match op {
            Cmp::Eq => Ok(Cond::Not(Box::new(Cond::Present(field)))),
            Cmp::Ne => Ok(Cond::Present(field)),
            _ => Err(bad("only `eq` and `ne` compare with null")),
        };
    }
    Ok(match (attr, lit) {
        (Attr::Fixed(v), _) => fixed(v, op, lit),
        (Attr::Text(f), Literal::Str(s)) => Cond::Compare(f, op, Value::Text(s.clone())),
        (Attr::Bool(f), Literal::Bool(b)) if matches!(op, Cmp::Eq | Cmp::Ne) => Cond::Compare(f, op, Value::Bool(*b)),
        (Attr::Bool(_), _) => return Err(bad("a boolean compares with `eq` or `ne` and true or false")),
        (Attr::Time(f), Literal::Str(s)) if !matches!(op, Cmp::Co | Cmp::Sw | Cmp::Ew) => {
            let t = parse_rfc3339(name, s).map_err(|e| bad(&e.to_string()))?;
            Cond::Compare(f, op, Value::Time(t.millis()))
        }
        (Attr::Time(_), _) => {
            return Err(bad("a date-time compares with an RFC 3339 string and eq, ne, gt, ge, lt or le"));
        }
        (Attr::Text(_), _) => return Err(bad("compare it with a string")),
    })
}

/// Translates a filter; `outer` is the multi-valued attribute a value path is inside.
pub fn to_cond(f: &Filter, outer: Option<&str>, core_urn: &str, resolve: Resolver) -> Result<Cond, ScimError> {
    let attr_of = |p: &AttrPath| {
        let name = full_name(p, outer, core_urn);
        resolve(&name)
            .map(|a| (name.clone(), a))
            .ok_or_else(|| ScimError::invalid_filter(&format!("`{p}` is not an attribute that can be filtered on")))
    };
    Ok(match f {
        Filter::And(a, b) => {
            Cond::And(Box::new(to_cond(a, outer, core_urn, resolve)?), Box::new(to_cond(b, outer, core_urn, resolve)?))
        }
        Filter::Or(a, b) => {
            Cond::Or(Box::new(to_cond(a, outer, core_urn, resolve)?), Box::new(to_cond(b, outer, core_urn, resolve)?))
        }
        Filter::Not(a) => Cond::Not(Box::new(to_cond(a, outer, core_urn, resolve)?)),
        Filter::Present(p) => match attr_of(p)?.1 {
            Attr::Fixed(_) => Cond::True,
            Attr::Text(f) | Attr::Bool(f) | Attr::Time(f) => Cond::Present(f),
        },
        Filter::Compare(p, op, lit) => {
            let (name, attr) = attr_of(p)?;
            compare(&name, attr, *op, lit)?
        }
        Filter::ValuePath(p, inner) => {
            if outer.is_some() || p.sub.is_some() {
                return Err(ScimError::invalid_filter("value paths cannot be nested"));
            }
            // Every condition inside applies to the one value a cohort user or group has, or,
            // for members, to the member ids.
            let name = full_name(p, None, core_urn);
            to_cond(inner, Some(&name), core_urn, resolve)?
        }
    })
}

/// The field `sortBy` names.
pub fn sort_field(p: &AttrPath, core_urn: &str, resolve: Resolver) -> Result<Field, ScimError> {
    match resolve(&full_name(p, None, core_urn)) {
        Some(Attr::Text(f) | Attr::Bool(f) | Attr::Time(f)) => Ok(f),
        _ => Err(ScimError::invalid_value(&format!("cannot sort by `{p}`"))),
    }
}
