//! SCIM PATCH (RFC 7644 §3.5.2): reading the operations, and applying them to a resource's
//! JSON form. Users are patched as a whole document and then stored like a PUT; a group's
//! `members` operations become member edits so that a large group is never rewritten.

use super::filter::{Cmp, Filter, Literal, PatchPath, parse_patch_path};
use super::{PATCH_OP, ScimError, field};
use serde_json::{Map, Value};

/// What an operation does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `add`.
    Add,
    /// `remove`.
    Remove,
    /// `replace`.
    Replace,
}

/// One operation.
#[derive(Clone, Debug)]
pub struct Operation {
    /// What it does.
    pub kind: Kind,
    /// Where; `None` means the value is a partial resource.
    pub path: Option<PatchPath>,
    /// The value.
    pub value: Option<Value>,
}

/// Reads a PATCH body into its operations.
pub fn operations(body: &Map<String, Value>) -> Result<Vec<Operation>, ScimError> {
    let schemas = field(body, "schemas").and_then(Value::as_array);
    if !schemas.is_some_and(|s| s.iter().any(|v| v.as_str() == Some(PATCH_OP))) {
        return Err(ScimError::invalid_syntax(&format!("a PATCH body has the schema `{PATCH_OP}`")));
    }
    let Some(Value::Array(ops)) = field(body, "Operations") else {
        return Err(ScimError::invalid_syntax("a PATCH body has an `Operations` list"));
    };
    if ops.is_empty() {
        return Err(ScimError::invalid_syntax("`Operations` is empty"));
    }
    ops.iter()
        .map(|op| {
            let Value::Object(op) = op else { return Err(ScimError::invalid_syntax("each operation is an object")) };
            let kind = match field(op, "op").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
                Some("add") => Kind::Add,
                Some("remove") => Kind::Remove,
                Some("replace") => Kind::Replace,
                other => {
                    return Err(ScimError::invalid_syntax(&format!(
                        "`op` is add, remove or replace, not `{}`",
                        other.unwrap_or("")
                    )));
                }
            };
            let path = match field(op, "path") {
                None => None,
                Some(Value::String(p)) => Some(parse_patch_path(p).map_err(|e| ScimError::invalid_path(&e.0))?),
                Some(_) => return Err(ScimError::invalid_path("`path` is a string")),
            };
            let value = field(op, "value").cloned();
            match (kind, &path, &value) {
                (Kind::Remove, None, _) => Err(ScimError::no_target("`remove` needs a `path`")),
                (Kind::Add | Kind::Replace, _, None) => {
                    Err(ScimError::invalid_value("`add` and `replace` need a `value`"))
                }
                (Kind::Add | Kind::Replace, None, Some(v)) if !v.is_object() => {
                    Err(ScimError::invalid_value("without a `path`, the `value` is an object of attributes"))
                }
                _ => Ok(Operation { kind, path, value }),
            }
        })
        .collect()
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.to_lowercase()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Whether one value of a multi-valued attribute (an object of sub-attributes) matches `f`.
pub fn matches(item: &Value, f: &Filter) -> bool {
    let get = |p: &super::filter::AttrPath| match item {
        Value::Object(m) => field(m, &p.attr).cloned(),
        other if p.is("value") => Some(other.clone()),
        _ => None,
    };
    match f {
        Filter::And(a, b) => matches(item, a) && matches(item, b),
        Filter::Or(a, b) => matches(item, a) || matches(item, b),
        Filter::Not(a) => !matches(item, a),
        Filter::ValuePath(..) => false,
        Filter::Present(p) => get(p).is_some(),
        Filter::Compare(p, op, lit) => {
            let have = get(p).as_ref().and_then(text_of);
            let want = match lit {
                Literal::Str(s) => Some(s.to_lowercase()),
                Literal::Bool(b) => Some(b.to_string()),
                Literal::Num(n) => Some(n.clone()),
                Literal::Null => None,
            };
            match (have, want) {
                (None, None) => *op == Cmp::Eq,
                (Some(_), None) => *op == Cmp::Ne,
                (None, Some(_)) => *op == Cmp::Ne,
                (Some(h), Some(w)) => match op {
                    Cmp::Eq => h == w,
                    Cmp::Ne => h != w,
                    Cmp::Co => h.contains(&w),
                    Cmp::Sw => h.starts_with(&w),
                    Cmp::Ew => h.ends_with(&w),
                    Cmp::Gt => h > w,
                    Cmp::Ge => h >= w,
                    Cmp::Lt => h < w,
                    Cmp::Le => h <= w,
                },
            }
        }
    }
}

/// The key of `name` in `map` as stored (matched case-insensitively), or `name` itself.
fn key_in(map: &Map<String, Value>, name: &str) -> String {
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned().unwrap_or_else(|| name.to_owned())
}

/// The object that holds the path's attribute: the resource itself, or an extension's object.
fn holder<'a>(
    doc: &'a mut Map<String, Value>,
    path: &PatchPath,
    core_urn: &str,
) -> Result<&'a mut Map<String, Value>, ScimError> {
    match &path.attr.urn {
        Some(u) if !u.eq_ignore_ascii_case(core_urn) => {
            let k = key_in(doc, u);
            match doc.entry(k).or_insert_with(|| Value::Object(Map::new())) {
                Value::Object(m) => Ok(m),
                _ => Err(ScimError::invalid_path(&format!("`{u}` is not an extension object"))),
            }
        }
        _ => Ok(doc),
    }
}

/// How a resource's document is laid out for PATCH.
pub struct Layout<'a> {
    /// The resource's core schema URN.
    pub core: &'a str,
    /// Its extension schema URNs (each an object in the document).
    pub extensions: &'a [&'a str],
    /// Attributes (lowercase) that clients cannot change.
    pub read_only: &'a [&'a str],
}

/// Applies one operation to a resource document.
pub fn apply(doc: &mut Map<String, Value>, op: &Operation, layout: &Layout<'_>) -> Result<(), ScimError> {
    let (core_urn, read_only) = (layout.core, layout.read_only);
    let Some(path) = &op.path else {
        // A partial resource: each attribute is its own operation.
        let Some(Value::Object(attrs)) = &op.value else { return Ok(()) };
        for (k, v) in attrs {
            if k.to_ascii_lowercase().starts_with("urn:") && v.is_object() {
                let Value::Object(inner) = v else { continue };
                for (ik, iv) in inner {
                    let sub = Operation {
                        kind: op.kind,
                        path: Some(parse_patch_path(&format!("{k}:{ik}")).map_err(|e| ScimError::invalid_path(&e.0))?),
                        value: Some(iv.clone()),
                    };
                    apply(doc, &sub, layout)?;
                }
                continue;
            }
            if k.eq_ignore_ascii_case("schemas") {
                continue;
            }
            let sub = Operation {
                kind: op.kind,
                path: Some(parse_patch_path(k).map_err(|e| ScimError::invalid_path(&e.0))?),
                value: Some(v.clone()),
            };
            apply(doc, &sub, layout)?;
        }
        return Ok(());
    };
    // A path naming a whole extension (`urn:...:enterprise:2.0:User`).
    if let Some(u) = &path.attr.urn
        && path.attr.sub.is_none()
        && path.filter.is_none()
        && let Some(ext) = layout.extensions.iter().find(|e| e.eq_ignore_ascii_case(&format!("{u}:{}", path.attr.attr)))
    {
        let k = key_in(doc, ext);
        match (op.kind, op.value.clone()) {
            (Kind::Remove, _) => {
                doc.remove(&k);
            }
            (Kind::Add, Some(Value::Object(more))) => {
                if let Some(Value::Object(have)) = doc.get_mut(&k) {
                    have.extend(more);
                } else {
                    doc.insert(k, Value::Object(more));
                }
            }
            (_, Some(v @ Value::Object(_))) => {
                doc.insert(k, v);
            }
            _ => return Err(ScimError::invalid_value(&format!("`{ext}` is an object"))),
        }
        return Ok(());
    }
    let name = path.attr.attr.to_ascii_lowercase();
    if read_only.contains(&name.as_str()) {
        return Err(ScimError::mutability(&format!("`{}` cannot be changed", path.attr)));
    }
    let target = holder(doc, path, core_urn)?;
    let key = key_in(target, &path.attr.attr);
    match (&path.filter, &path.attr.sub) {
        (None, None) => match op.kind {
            Kind::Remove => {
                target.remove(&key);
            }
            Kind::Replace => {
                target.insert(key, op.value.clone().unwrap_or(Value::Null));
            }
            Kind::Add => {
                let value = op.value.clone().unwrap_or(Value::Null);
                match (target.get_mut(&key), value) {
                    (Some(Value::Array(have)), Value::Array(more)) => {
                        for m in more {
                            if !have.contains(&m) {
                                have.push(m);
                            }
                        }
                    }
                    (_, value) => {
                        target.insert(key, value);
                    }
                }
            }
        },
        (None, Some(sub)) => {
            let slot = target.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                return Err(ScimError::invalid_path(&format!("`{}` has no sub-attributes", path.attr)));
            }
            if let Value::Object(m) = slot {
                let sk = key_in(m, sub);
                match op.kind {
                    Kind::Remove => {
                        m.remove(&sk);
                    }
                    Kind::Add | Kind::Replace => {
                        m.insert(sk, op.value.clone().unwrap_or(Value::Null));
                    }
                }
            }
        }
        (Some(filter), _) => {
            let sub = &path.sub;
            let items = match target.get_mut(&key) {
                Some(Value::Array(items)) => items,
                _ if op.kind == Kind::Remove => return Ok(()),
                _ => {
                    target.insert(key.clone(), Value::Array(Vec::new()));
                    match target.get_mut(&key) {
                        Some(Value::Array(items)) => items,
                        _ => return Ok(()),
                    }
                }
            };
            let hit: Vec<usize> =
                (0..items.len()).filter(|i| items.get(*i).is_some_and(|v| matches(v, filter))).collect();
            match (op.kind, sub) {
                (Kind::Remove, None) => {
                    for i in hit.into_iter().rev() {
                        items.remove(i);
                    }
                }
                (Kind::Remove, Some(s)) => {
                    for i in hit {
                        if let Some(Value::Object(m)) = items.get_mut(i) {
                            let sk = key_in(m, s);
                            m.remove(&sk);
                        }
                    }
                }
                (Kind::Add | Kind::Replace, _) if hit.is_empty() && op.kind == Kind::Replace && sub.is_none() => {
                    return Err(ScimError::no_target(&format!("no value of `{}` matches the filter", path.attr)));
                }
                (Kind::Add | Kind::Replace, Some(s)) => {
                    let value = op.value.clone().unwrap_or(Value::Null);
                    if hit.is_empty() {
                        // Entra ID adds `emails[type eq "work"].value` to a user without one.
                        let mut item = Map::new();
                        seed_from_filter(filter, &mut item);
                        item.insert(s.clone(), value.clone());
                        items.push(Value::Object(item));
                    }
                    for i in hit {
                        if let Some(Value::Object(m)) = items.get_mut(i) {
                            let sk = key_in(m, s);
                            m.insert(sk, value.clone());
                        }
                    }
                }
                (Kind::Add | Kind::Replace, None) => {
                    let value = op.value.clone().unwrap_or(Value::Null);
                    for i in hit {
                        if let Some(slot) = items.get_mut(i) {
                            *slot = value.clone();
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// The equalities a filter demands, as the sub-attributes of a new value.
fn seed_from_filter(f: &Filter, item: &mut Map<String, Value>) {
    match f {
        Filter::And(a, b) => {
            seed_from_filter(a, item);
            seed_from_filter(b, item);
        }
        Filter::Compare(p, Cmp::Eq, Literal::Str(s)) => {
            item.insert(p.attr.clone(), Value::String(s.clone()));
        }
        Filter::Compare(p, Cmp::Eq, Literal::Bool(b)) => {
            item.insert(p.attr.clone(), Value::Bool(*b));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

    fn ops(v: Value) -> Vec<Operation> {
        let Value::Object(m) = v else { panic!("object") };
        operations(&m).unwrap()
    }

    fn doc() -> Map<String, Value> {
        let Value::Object(m) = json!({
            "userName": "a@x.com", "active": true, "displayName": "A",
            "emails": [{"value": "a@x.com", "type": "work", "primary": true}],
        }) else {
            panic!("object")
        };
        m
    }

    fn patch(d: &mut Map<String, Value>, body: Value) -> Result<(), ScimError> {
        let layout = Layout {
            core: CORE,
            extensions: &["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            read_only: &["id", "meta", "groups"],
        };
        for op in ops(body) {
            apply(d, &op, &layout)?;
        }
        Ok(())
    }

    fn body(ops: Value) -> Value {
        json!({"schemas": [PATCH_OP], "Operations": ops})
    }

    #[test]
    fn entra_and_okta_shapes_apply() {
        let mut d = doc();
        patch(&mut d, body(json!([{"op": "Replace", "path": "active", "value": "False"}]))).unwrap();
        assert_eq!(d["active"], json!("False"));
        patch(&mut d, body(json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "b@x.com"}])))
            .unwrap();
        assert_eq!(d["emails"][0]["value"], json!("b@x.com"));
        patch(&mut d, body(json!([{"op": "replace", "value": {"displayName": "B", "userName": "b@x.com"}}]))).unwrap();
        assert_eq!((d["displayName"].clone(), d["userName"].clone()), (json!("B"), json!("b@x.com")));
        patch(
            &mut d,
            body(json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales"}])),
        )
        .unwrap();
        assert_eq!(d["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"], json!("Sales"));
        patch(
            &mut d,
            body(json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}])),
        )
        .unwrap();
        assert!(!d.contains_key("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
        patch(&mut d, body(json!([{"op": "remove", "path": "displayName"}]))).unwrap();
        assert!(!d.contains_key("displayName"));
    }

    #[test]
    fn bad_operations_are_refused() {
        let refused = |b: Value| {
            let Value::Object(m) = b else { panic!("object") };
            operations(&m).is_err()
        };
        assert!(refused(json!({"Operations": [{"op": "add", "path": "a", "value": 1}]})));
        assert!(refused(body(json!([]))));
        assert!(refused(body(json!([{"op": "move", "path": "a", "value": 1}]))));
        assert!(refused(body(json!([{"op": "remove"}]))));
        assert!(refused(body(json!([{"op": "add", "path": "a"}]))));
        assert!(refused(body(json!([{"op": "add", "path": "a[b eq", "value": 1}]))));
        let mut d = doc();
        assert!(patch(&mut d, body(json!([{"op": "replace", "path": "id", "value": "x"}]))).is_err());
        assert!(
            patch(&mut d, body(json!([{"op": "replace", "path": "emails[type eq \"home\"]", "value": {}}]))).is_err()
        );
    }
}
