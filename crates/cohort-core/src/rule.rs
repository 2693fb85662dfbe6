//! Auto-assignment rules: expressions over a user that decide whether the user belongs in a
//! group. The language sits behind [`RuleEngine`]; [`Cel`] is the one cohort ships (the
//! Common Expression Language).
//!
//! A rule sees one variable, `user`, with the fields in [`USER_FIELDS`]. A rule is compiled
//! once when saved: an unknown variable or field, an expression nested too deeply or a syntax
//! error is refused with its line and column, so a saved rule can only fail on a user's data
//! (an attribute the user lacks, a value of the wrong type).

use crate::model::{User, UserStatus};
use crate::name::AttributeValue;
use cel::common::ast::Expr;
use std::collections::HashMap;
use std::sync::Arc;

/// The fields of `user` a rule may read.
pub const USER_FIELDS: [&str; 9] =
    ["id", "email", "userName", "name", "department", "title", "status", "attributes", "ssoGroups"];

/// The longest expression accepted, in characters.
pub const MAX_SOURCE_CHARS: usize = 1000;

/// The deepest expression tree accepted (each operator, call or field access is a level).
pub const MAX_DEPTH: usize = 32;

/// The stack the parser runs on: its recursion is deep per nesting level, more so in debug
/// builds, and a request must not be able to overflow a server thread's stack.
const PARSER_STACK_BYTES: usize = 64 << 20;

/// Why an expression was refused, and where (1-based line and column).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSyntaxError {
    /// Line of the error, from 1.
    pub line: u32,
    /// Column of the error, from 1.
    pub column: u32,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for RuleSyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

/// A rule language: compiles expressions once, then decides them for many users.
pub trait RuleEngine: Send + Sync {
    /// A compiled expression.
    type Rule: Send + Sync;
    /// What rules see of one user, prepared once for every rule.
    type Subject;

    /// Compiles an expression, or says where it is wrong.
    fn compile(&self, source: &str) -> Result<Self::Rule, RuleSyntaxError>;

    /// Prepares a user for evaluation.
    fn subject(&self, user: &User) -> Self::Subject;

    /// Whether the rule matches the user; an error says why it could not be decided (the
    /// rule then does not match).
    fn matches(&self, rule: &Self::Rule, subject: &Self::Subject) -> Result<bool, String>;
}

/// The Common Expression Language, through the `cel` crate.
pub struct Cel {
    env: Arc<cel::Env>,
}

impl Default for Cel {
    fn default() -> Self {
        Self { env: Arc::new(cel::Env::stdlib()) }
    }
}

impl std::fmt::Debug for Cel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cel")
    }
}

/// Where a node was written, as a 1-based line and column of `source`.
fn at(source: &str, info: &cel::common::ast::SourceInfo, id: u64, message: String) -> RuleSyntaxError {
    let offset = info.offset_for(id).map(|(start, _)| start as usize).unwrap_or(0);
    let before: String = source.chars().take(offset).collect();
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    RuleSyntaxError { line: line as u32, column: column as u32, message }
}

fn string(s: &str) -> cel::Value {
    cel::Value::String(Arc::new(s.to_owned()))
}

fn strings(list: &[String]) -> cel::Value {
    cel::Value::List(Arc::new(list.iter().map(|s| string(s)).collect()))
}

/// What [`check`] walks with: the source for positions, and the variables in scope (`user`
/// and those the macros around the node bind).
struct Walk<'a> {
    source: &'a str,
    info: &'a cel::common::ast::SourceInfo,
    bound: Vec<&'a str>,
}

/// Checks what the parser cannot: variables and `user` fields are known, the tree is shallow.
fn check<'a>(w: &mut Walk<'a>, expr: &'a cel::IdedExpr, depth: usize) -> Result<(), RuleSyntaxError> {
    let refuse = |w: &Walk<'_>, id: u64, message: String| Err(at(w.source, w.info, id, message));
    if depth > MAX_DEPTH {
        return refuse(w, expr.id, format!("the expression is nested more than {MAX_DEPTH} levels deep"));
    }
    match &expr.expr {
        Expr::Select(sel) => {
            if let Expr::Ident(name) = &sel.operand.expr
                && name == "user"
                && !USER_FIELDS.contains(&sel.field.as_str())
            {
                let fields = USER_FIELDS.join(", ");
                let mut e =
                    at(w.source, w.info, expr.id, format!("`user` has no field `{}`; it has {fields}", sel.field));
                e.column += 1; // the node is the dot; point at the field after it
                return Err(e);
            }
            check(w, &sel.operand, depth + 1)
        }
        Expr::Call(call) => {
            if let Some(t) = &call.target {
                check(w, t, depth + 1)?;
            }
            call.args.iter().try_for_each(|a| check(w, a, depth + 1))
        }
        Expr::Comprehension(c) => {
            check(w, &c.iter_range, depth + 1)?;
            check(w, &c.accu_init, depth + 1)?;
            let outer = w.bound.len();
            w.bound.extend([c.iter_var.as_str(), c.accu_var.as_str()]);
            w.bound.extend(c.iter_var2.as_deref());
            let inner = [&c.loop_cond, &c.loop_step, &c.result].into_iter().try_for_each(|e| check(w, e, depth + 1));
            w.bound.truncate(outer);
            inner
        }
        Expr::List(l) => l.elements.iter().try_for_each(|e| check(w, e, depth + 1)),
        Expr::Map(m) => m.entries.iter().try_for_each(|e| match &e.expr {
            cel::common::ast::EntryExpr::MapEntry(me) => {
                check(w, &me.key, depth + 1).and_then(|()| check(w, &me.value, depth + 1))
            }
            cel::common::ast::EntryExpr::StructField(sf) => check(w, &sf.value, depth + 1),
        }),
        Expr::Struct(_) => refuse(w, expr.id, "message construction is not supported in rules".to_owned()),
        Expr::Ident(name) if !w.bound.contains(&name.as_str()) => {
            refuse(w, expr.id, format!("unknown variable `{name}`; rules see only `user`"))
        }
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => Ok(()),
    }
}

impl RuleEngine for Cel {
    type Rule = cel::Program;
    type Subject = cel::Context<'static, 'static>;

    fn compile(&self, source: &str) -> Result<cel::Program, RuleSyntaxError> {
        let chars = source.chars().count();
        if source.trim().is_empty() {
            return Err(RuleSyntaxError { line: 1, column: 1, message: "the expression is empty".to_owned() });
        }
        if chars > MAX_SOURCE_CHARS {
            return Err(RuleSyntaxError {
                line: 1,
                column: MAX_SOURCE_CHARS as u32 + 1,
                message: format!("the expression is longer than {MAX_SOURCE_CHARS} characters"),
            });
        }
        let env = &self.env;
        let parsed = std::thread::scope(|s| {
            std::thread::Builder::new()
                .stack_size(PARSER_STACK_BYTES)
                .spawn_scoped(s, || env.compile(source))
                .map(|h| h.join())
        });
        let program = match parsed {
            Ok(Ok(Ok(p))) => p,
            Ok(Ok(Err(errors))) => {
                let first = errors.errors.first();
                let (line, column) = first.map(|e| e.pos).unwrap_or((1, 1));
                return Err(RuleSyntaxError {
                    line: u32::try_from(line.max(1)).unwrap_or(1),
                    column: u32::try_from(column.max(1)).unwrap_or(1),
                    message: first.map(|e| e.msg.clone()).unwrap_or_else(|| "syntax error".to_owned()),
                });
            }
            Ok(Err(_)) | Err(_) => {
                return Err(RuleSyntaxError {
                    line: 1,
                    column: 1,
                    message: "the expression cannot be parsed".to_owned(),
                });
            }
        };
        let mut walk = Walk { source, info: program.source_info(), bound: vec!["user"] };
        check(&mut walk, program.expression(), 1)?;
        Ok(program)
    }

    fn subject(&self, user: &User) -> cel::Context<'static, 'static> {
        let attributes: HashMap<String, cel::Value> = user
            .attributes
            .as_map()
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    AttributeValue::One(s) => string(s),
                    AttributeValue::Many(list) => strings(list),
                };
                (k.clone(), v)
            })
            .collect();
        let fields: HashMap<String, cel::Value> = HashMap::from([
            ("id".to_owned(), string(user.id.as_str())),
            ("email".to_owned(), string(user.email.as_ref().map(|e| e.as_str()).unwrap_or(""))),
            ("userName".to_owned(), string(user.user_name.as_ref().map(|n| n.as_str()).unwrap_or(""))),
            ("name".to_owned(), string(user.display_name.as_str())),
            ("department".to_owned(), string(user.department.as_str())),
            ("title".to_owned(), string(user.title.as_str())),
            (
                "status".to_owned(),
                string(match user.status {
                    UserStatus::Active => "active",
                    UserStatus::Suspended => "suspended",
                }),
            ),
            ("attributes".to_owned(), cel::Value::Map(attributes.into())),
            ("ssoGroups".to_owned(), strings(user.sso_groups.as_slice())),
        ]);
        let mut ctx = cel::Context::with_env(self.env.clone());
        ctx.add_variable_from_value("user", cel::Value::Map(fields.into()));
        ctx
    }

    fn matches(&self, rule: &cel::Program, subject: &cel::Context<'static, 'static>) -> Result<bool, String> {
        match rule.execute(subject) {
            Ok(cel::Value::Bool(b)) => Ok(b),
            Ok(other) => Err(format!("the rule gave {:?}, not true or false", other.type_of())),
            Err(e) => Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::id::UserId;
    use crate::model::UserStatus;
    use crate::name::{Attributes, Email, ShortText, SsoGroups};
    use crate::time::Timestamp;
    use std::collections::BTreeMap;

    fn user(email: &str, department: &str, title: &str) -> User {
        let text = |s: &str| ShortText::parse("t", s, false).unwrap();
        User {
            id: UserId::parse("usr_000000000001").unwrap(),
            email: Some(Email::parse(email).unwrap()),
            user_name: None,
            display_name: text("Ada"),
            department: text(department),
            title: text(title),
            attributes: Attributes::new(BTreeMap::from([(
                "costCenter".to_owned(),
                AttributeValue::One("4711".to_owned()),
            )]))
            .unwrap(),
            sso_groups: SsoGroups::new(["emea".to_owned(), "staff".to_owned()]).unwrap(),
            status: UserStatus::Active,
            external_id: None,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    fn decide(source: &str, u: &User) -> Result<bool, String> {
        let cel = Cel::default();
        let rule = cel.compile(source).map_err(|e| e.to_string())?;
        cel.matches(&rule, &cel.subject(u))
    }

    #[test]
    fn the_documented_examples_decide_as_written() {
        let support = user("kim@support.company.com", "Support", "Agent");
        let senior_sales = user("lee@company.com", "Sales", "Senior Account Executive");
        let junior_sales = user("max@company.com", "Sales", "Account Executive");
        let ends = "user.email.endsWith('@support.company.com')";
        assert_eq!(decide(ends, &support), Ok(true));
        assert_eq!(decide(ends, &senior_sales), Ok(false));
        let senior = "user.department == 'Sales' && user.title.startsWith('Senior')";
        assert_eq!(decide(senior, &senior_sales), Ok(true));
        assert_eq!(decide(senior, &junior_sales), Ok(false));
        assert_eq!(decide(senior, &support), Ok(false));
        assert_eq!(decide("'emea' in user.ssoGroups", &support), Ok(true));
        assert_eq!(decide("'apac' in user.ssoGroups", &support), Ok(false));
        assert_eq!(decide("user.attributes.costCenter == '4711'", &support), Ok(true));
        assert_eq!(decide("user.status == 'active' && user.name == 'Ada'", &support), Ok(true));
        assert_eq!(decide("user.ssoGroups.exists(g, g.startsWith('st'))", &support), Ok(true));
    }

    #[test]
    fn syntax_errors_say_where() {
        let cel = Cel::default();
        let e = cel.compile("user.department == 'Sales' &&").unwrap_err();
        assert_eq!((e.line, e.column), (1, 30), "{e}");
        let e = cel.compile("user.department == 'Sales'\n  && user.title.startsWith(").unwrap_err();
        assert_eq!((e.line, e.column), (2, 28), "{e}");
        let e = cel.compile("user.department = 'Sales'").unwrap_err();
        assert_eq!(e.line, 1, "{e}");
    }

    #[test]
    fn unknown_names_are_refused_where_they_are_used() {
        let cel = Cel::default();
        let e = cel.compile("user.email != '' && user.departmnet == 'Sales'").unwrap_err();
        assert_eq!((e.line, e.column), (1, 26), "{e}");
        assert!(e.message.contains("`departmnet`"), "{e}");
        let e = cel.compile("user.email != '' || usr.email == ''").unwrap_err();
        assert_eq!((e.line, e.column), (1, 21), "{e}");
        assert!(e.message.contains("`usr`"), "{e}");
        // Variables a macro binds are not unknown.
        assert!(cel.compile("user.ssoGroups.all(g, g != 'x')").is_ok());
    }

    #[test]
    fn oversized_and_deep_expressions_are_refused_without_harm() {
        let cel = Cel::default();
        let long = format!("user.email == '{}'", "a".repeat(MAX_SOURCE_CHARS));
        assert!(cel.compile(&long).unwrap_err().message.contains("longer than"));
        let deep = format!("{}true{}", "(".repeat(400), ")".repeat(400));
        assert!(cel.compile(&deep).is_err());
        let chain = format!("1{} == 0", " + 1".repeat(100));
        assert!(cel.compile(&chain).unwrap_err().message.contains("nested more than"));
        let ok = format!("1{} == 21", " + 1".repeat(20));
        assert!(cel.compile(&ok).is_ok());
        assert!(cel.compile("   ").is_err());
    }

    #[test]
    fn a_rule_that_cannot_be_decided_says_why() {
        let u = user("a@b.co", "Ops", "Lead");
        let missing = decide("user.attributes.region == 'eu'", &u).unwrap_err();
        assert!(missing.contains("region"), "{missing}");
        let not_bool = decide("user.email", &u).unwrap_err();
        assert!(not_bool.contains("not true or false"), "{not_bool}");
        // `has` guards an attribute a user may lack.
        assert_eq!(decide("has(user.attributes.region) && user.attributes.region == 'eu'", &u), Ok(false));
    }
}
