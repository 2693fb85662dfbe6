//! Auto-assignment rules: expressions over a user that decide whether the user belongs in a
//! group. The language sits behind [`RuleEngine`]; [`Cel`] is the one cohort ships (the
//! Common Expression Language).
//!
//! A rule sees one variable, `user`, with the fields in [`USER_FIELDS`]. A rule is compiled
//! once when saved: an unknown variable or field, an expression nested too deeply or a syntax
//! error is refused with its line and column, so a saved rule can only fail on a user's data
//! (an attribute the user lacks, a value of the wrong type).
//!
//! Its cost is bounded too. Saving measures how deeply the source nests (brackets and runs of
//! unary operators, which the parsed tree does not keep), how deeply comprehensions (`exists`,
//! `all`, `map`, `filter`, ...) nest, and estimates the steps one evaluation takes ([`Cost`]).
//! The pattern of `matches` must be a string literal: it is compiled once, when the rule is,
//! by the `regex` crate (linear-time matching, bounded compiled size; see [`pattern`]). Each
//! evaluation over a user's own lists (`ssoGroups`, attribute lists) is estimated again with
//! their real sizes first, and a user over [`EVAL_BUDGET`] is left undecided (saving allows
//! [`SAVE_BUDGET`]) with an error rather than evaluated.

use crate::model::{User, UserStatus};
use crate::name::AttributeValue;
use cel::common::ast::{Expr, LiteralValue};
use cel::common::types::{CelBool, CelString};
use std::collections::HashMap;
use std::sync::Arc;

mod pattern;
pub use pattern::MAX_PATTERN_BYTES;
use pattern::matches as matches_pattern;

/// The fields of `user` a rule may read.
pub const USER_FIELDS: [&str; 10] =
    ["id", "email", "userName", "name", "department", "title", "status", "userType", "attributes", "ssoGroups"];

/// The functions and methods a rule may call (macros such as `exists` and `all` are not calls).
pub const FUNCTIONS: [&str; 13] = [
    "startsWith",
    "endsWith",
    "contains",
    "size",
    "matches",
    "string",
    "int",
    "uint",
    "double",
    "bool",
    "bytes",
    "type",
    "dyn",
];

/// The closest of `known` to a mistyped `name` (case, `_` and small typos forgiven), if any is
/// close enough to be what was meant.
pub fn closest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    let fold = |s: &str| s.chars().filter(|c| *c != '_').flat_map(char::to_lowercase).collect::<Vec<char>>();
    let wanted = fold(name);
    known
        .iter()
        .map(|k| (edit_distance(&wanted, &fold(k)), *k))
        .filter(|(d, k)| *d <= k.chars().count().div_ceil(3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The longest expression accepted, in characters.
pub const MAX_SOURCE_CHARS: usize = 1000;

/// The deepest expression tree accepted (each operator, call or field access is a level).
pub const MAX_DEPTH: usize = 32;

/// The most comprehensions nested inside one another (`a.exists(x, b.all(y, ...))` is two).
pub const MAX_COMPREHENSION_NESTING: usize = 2;

/// The most steps a rule may take for a user whose lists hold one item: each node evaluated
/// once per iteration of the comprehensions around it. Past it the rule is refused when saved
/// (this keeps a preview over 100,000 users within about two seconds; see BENCHMARKS.md).
pub const SAVE_BUDGET: u64 = 250;

/// The most steps one evaluation may take with the user's real list sizes; a user over it is
/// left undecided rather than evaluated.
pub const EVAL_BUDGET: u64 = 2_000;

/// What one `matches` counts for in [`Cost`], beyond its arguments.
const MATCHES_STEPS: u64 = 4;

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
        let mut env = cel::Env::stdlib();
        // The `cel` crate's own `matches` (left out: its `regex` feature is off) compiles the
        // pattern at every call; this one finds it compiled. Declaring them fails only for a
        // name declared twice, which the stdlib without that feature does not do; a rule
        // calling `matches` would then fail to evaluate, which the tests below would show.
        let _ =
            cel::add_overload!(env, fn matches_pattern: (CelString, CelString) -> Result<CelBool>, name = "matches");
        let _ = cel::add_member_overload!(env, fn matches_pattern: (CelString, CelString) -> Result<CelBool>, name = "matches");
        Self { env: Arc::new(env) }
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
    /// Whether the rule names a field of the user on its own (`email`, not `user.email`).
    top_level: bool,
    /// The compiled patterns of its `matches` calls.
    patterns: Vec<Arc<regex::Regex>>,
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
                let hint =
                    closest(&sel.field, &USER_FIELDS).map(|f| format!("did you mean `{f}`? ")).unwrap_or_default();
                let message = format!("`user` has no field `{}`; {hint}it has {fields}", sel.field);
                let mut e = at(w.source, w.info, expr.id, message);
                e.column += 1; // the node is the dot; point at the field after it
                return Err(e);
            }
            check(w, &sel.operand, depth + 1)
        }
        Expr::Call(call) => {
            let name = call.func_name.as_str();
            let operator = name.starts_with(['_', '@', '!']);
            if !operator && !FUNCTIONS.contains(&name) {
                let hint = closest(name, &FUNCTIONS).map(|f| format!("did you mean `{f}`? ")).unwrap_or_default();
                let known = FUNCTIONS.join(", ");
                let mut e =
                    at(w.source, w.info, expr.id, format!("unknown function `{name}`; {hint}rules may call {known}"));
                // The call's position is its `(`: point at the name before it.
                let offset = w.info.offset_for(expr.id).map_or(0, |(start, _)| start as usize);
                if w.source.chars().take(offset).collect::<String>().ends_with(name) {
                    e.column = e.column.saturating_sub(name.chars().count() as u32).max(1);
                }
                return Err(e);
            }
            if name == "matches" {
                check_pattern(w, expr.id, call)?;
            }
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
        Expr::Ident(name) if !w.bound.contains(&name.as_str()) && !USER_FIELDS.contains(&name.as_str()) => {
            let hint = closest(name, &USER_FIELDS).map(|f| format!("did you mean `{f}`? ")).unwrap_or_default();
            let fields = USER_FIELDS.join(", ");
            refuse(w, expr.id, format!("unknown variable `{name}`; {hint}rules see `user` and its fields {fields}"))
        }
        Expr::Ident(name) => {
            if !w.bound.contains(&name.as_str()) {
                w.top_level = true;
            }
            Ok(())
        }
        Expr::Literal(_) | Expr::Unspecified => Ok(()),
    }
}

/// `text.matches(pattern)` or `matches(text, pattern)`: the pattern must be a string literal
/// that compiles (it is compiled here, once, and kept for evaluation).
fn check_pattern(w: &mut Walk<'_>, id: u64, call: &cel::common::ast::CallExpr) -> Result<(), RuleSyntaxError> {
    let pattern = match (&call.target, call.args.as_slice()) {
        (Some(_), [p]) | (None, [_, p]) => p,
        _ => {
            let why = "`matches` takes one pattern: `text.matches('^[a-z]+$')` or `matches(text, '^[a-z]+$')`";
            return Err(at(w.source, w.info, id, why.to_owned()));
        }
    };
    match &pattern.expr {
        Expr::Literal(LiteralValue::String(p)) => {
            let re = pattern::compiled(p.inner()).map_err(|why| at(w.source, w.info, pattern.id, why))?;
            w.patterns.push(re);
            Ok(())
        }
        _ => Err(at(
            w.source,
            w.info,
            leftmost(w.info, pattern),
            "the pattern of `matches` must be a string literal such as '^[a-z.]+@example[.]com$', not a \
             value computed from the user (it is compiled once, when the rule is saved)"
                .to_owned(),
        )),
    }
}

/// The node of `expr`'s tree written first in the source, so that an error about the whole
/// of `expr` points where it begins (an operator's or a field's own position is further in).
fn leftmost(info: &cel::common::ast::SourceInfo, expr: &cel::IdedExpr) -> u64 {
    let offset = |e: &cel::IdedExpr| info.offset_for(e.id).map_or(u32::MAX, |(start, _)| start);
    let mut best = (offset(expr), expr.id);
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        best = best.min((offset(e), e.id));
        match &e.expr {
            Expr::Select(sel) => stack.push(&sel.operand),
            Expr::Call(call) => stack.extend(call.target.as_deref().into_iter().chain(&call.args)),
            Expr::List(l) => stack.extend(&l.elements),
            Expr::Map(m) => stack.extend(m.entries.iter().flat_map(|e| match &e.expr {
                cel::common::ast::EntryExpr::MapEntry(me) => vec![&me.key, &me.value],
                cel::common::ast::EntryExpr::StructField(sf) => vec![&sf.value],
            })),
            Expr::Comprehension(c) => stack.push(&c.iter_range),
            Expr::Struct(_) | Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
        }
    }
    best.1
}

/// The sizes of a user's lists that a rule may iterate over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// `user.ssoGroups`.
    pub sso_groups: u64,
    /// `user.attributes` (its keys).
    pub attributes: u64,
    /// The longest list among the user's attributes.
    pub attribute_list: u64,
}

impl Sizes {
    /// The smallest a user's data can make a comprehension over it: one item.
    const LEAST: Sizes = Sizes { sso_groups: 1, attributes: 1, attribute_list: 1 };

    fn of(user: &User) -> Self {
        let longest = user
            .attributes
            .as_map()
            .values()
            .map(|v| match v {
                AttributeValue::One(_) => 1,
                AttributeValue::Many(l) => l.len() as u64,
            })
            .max()
            .unwrap_or(0);
        Sizes {
            sso_groups: user.sso_groups.as_slice().len() as u64,
            attributes: user.attributes.as_map().len() as u64,
            attribute_list: longest,
        }
    }

    fn largest(&self) -> u64 {
        self.sso_groups.max(self.attributes).max(self.attribute_list)
    }
}

/// The estimated steps of one evaluation of a rule: each node evaluated once per iteration of
/// the comprehensions around it, a comprehension's iterations being the size of its range
/// (exact for list and map literals, the user's list sizes for their data).
pub struct Cost<'a> {
    sizes: Sizes,
    /// Whether a comprehension iterates over the user's data (its cost then depends on them).
    pub over_data: bool,
    /// Where the estimate stopped, for an error.
    refused: Option<(&'a cel::IdedExpr, String)>,
}

impl<'a> Cost<'a> {
    /// Estimates `expr` with the given sizes.
    fn estimate(expr: &'a cel::IdedExpr, sizes: Sizes) -> (u64, Cost<'a>) {
        let mut c = Cost { sizes, over_data: false, refused: None };
        let steps = c.steps(expr, 0);
        (steps, c)
    }

    /// An upper bound of how many items `e` yields when iterated.
    fn items(&mut self, e: &cel::IdedExpr) -> u64 {
        let data = |c: &mut Self, n: u64| {
            c.over_data = true;
            n
        };
        match &e.expr {
            Expr::List(l) => l.elements.len() as u64,
            Expr::Map(m) => m.entries.len() as u64,
            Expr::Ident(name) if name == "ssoGroups" => data(self, self.sizes.sso_groups),
            Expr::Ident(name) if name == "attributes" => data(self, self.sizes.attributes),
            Expr::Select(sel) => match (&sel.operand.expr, sel.field.as_str()) {
                (Expr::Ident(u), "ssoGroups") if u == "user" => data(self, self.sizes.sso_groups),
                (Expr::Ident(u), "attributes") if u == "user" => data(self, self.sizes.attributes),
                _ => data(self, self.sizes.attribute_list),
            },
            Expr::Comprehension(c) => self.items(&c.iter_range),
            Expr::Call(call) if call.func_name == cel::common::ast::operators::ADD && call.args.len() == 2 => {
                let a = self.items(&call.args[0]);
                let b = self.items(&call.args[1]);
                a.saturating_add(b)
            }
            _ => data(self, self.sizes.largest()),
        }
    }

    fn steps(&mut self, e: &'a cel::IdedExpr, nesting: usize) -> u64 {
        if self.refused.is_some() {
            return u64::MAX;
        }
        match &e.expr {
            Expr::Select(sel) => 1 + self.steps(&sel.operand, nesting),
            Expr::Call(call) => {
                let mut n: u64 = 1;
                if let Some(t) = &call.target {
                    n = n.saturating_add(self.steps(t, nesting));
                }
                for a in &call.args {
                    n = n.saturating_add(self.steps(a, nesting));
                }
                match call.func_name.as_str() {
                    // A compiled pattern runs in time linear in the text, which is at most a
                    // field's length: a few steps' worth.
                    "matches" => n.saturating_add(MATCHES_STEPS),
                    cel::common::ast::operators::IN if call.args.len() == 2 => {
                        let items = self.items(&call.args[1]);
                        n.saturating_add(items)
                    }
                    _ => n,
                }
            }
            Expr::Comprehension(c) => {
                if nesting >= MAX_COMPREHENSION_NESTING {
                    self.refused = Some((e, format!("comprehensions nest more than {MAX_COMPREHENSION_NESTING} deep")));
                    return u64::MAX;
                }
                let items = self.items(&c.iter_range);
                let per_item =
                    self.steps(&c.loop_cond, nesting + 1).saturating_add(self.steps(&c.loop_step, nesting + 1));
                self.steps(&c.iter_range, nesting)
                    .saturating_add(self.steps(&c.accu_init, nesting))
                    .saturating_add(items.saturating_mul(per_item))
                    .saturating_add(self.steps(&c.result, nesting + 1))
            }
            Expr::List(l) => l.elements.iter().fold(1u64, |n, x| n.saturating_add(self.steps(x, nesting))),
            Expr::Map(m) => m.entries.iter().fold(1u64, |n, x| match &x.expr {
                cel::common::ast::EntryExpr::MapEntry(me) => {
                    n.saturating_add(self.steps(&me.key, nesting)).saturating_add(self.steps(&me.value, nesting))
                }
                cel::common::ast::EntryExpr::StructField(sf) => n.saturating_add(self.steps(&sf.value, nesting)),
            }),
            Expr::Struct(_) | Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => 1,
        }
    }
}

/// The deepest the source nests, counting brackets and runs of unary operators (which the
/// parsed tree folds away), outside string literals; with where it first goes past `limit`.
fn source_nesting(source: &str, limit: usize) -> Result<(), usize> {
    let (mut depth, mut unary, mut quote): (usize, usize, Option<char>) = (0, 0, None);
    let mut chars = source.char_indices();
    while let Some((i, c)) = chars.next() {
        if let Some(q) = quote {
            match c {
                '\\' => {
                    chars.next();
                }
                c if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                unary = 0;
            }
            '(' | '[' | '{' => {
                depth += 1;
                unary = 0;
            }
            ')' | ']' | '}' => {
                depth = depth.saturating_sub(1);
                unary = 0;
            }
            '!' | '-' => unary += 1,
            c if c.is_whitespace() => {}
            _ => unary = 0,
        }
        if depth + unary > limit {
            return Err(i);
        }
    }
    Ok(())
}

/// A compiled rule: the program, and whether its cost depends on the user's data.
pub struct CelRule {
    program: cel::Program,
    over_data: bool,
    /// Whether it names the user's fields on their own, and so needs them as variables.
    top_level: bool,
    /// The compiled patterns of its `matches` calls: held here so that evaluation finds them
    /// compiled for as long as the rule lives (see [`pattern`]).
    _patterns: Vec<Arc<regex::Regex>>,
}

impl std::fmt::Debug for CelRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CelRule").field("over_data", &self.over_data).finish_non_exhaustive()
    }
}

/// What rules see of one user, prepared once for every rule.
pub struct CelSubject {
    /// `user` alone: what most rules read.
    context: cel::Context<'static, 'static>,
    /// `user` and each of its fields as a variable of its own, made for the first rule that
    /// names a field on its own (so the others do not pay for it).
    flat: std::cell::OnceCell<cel::Context<'static, 'static>>,
    fields: cel::Value,
    env: Arc<cel::Env>,
    sizes: Sizes,
}

impl CelSubject {
    /// The context where the fields are names of their own too: `email.endsWith(...)` means
    /// `user.email.endsWith(...)`.
    fn flat(&self) -> &cel::Context<'static, 'static> {
        self.flat.get_or_init(|| {
            let mut ctx = cel::Context::with_env(self.env.clone());
            if let cel::Value::Map(m) = &self.fields {
                for (k, v) in m.map.iter() {
                    if let cel::objects::Key::String(name) = k {
                        ctx.add_variable_from_value(name.as_str(), v.clone());
                    }
                }
            }
            ctx.add_variable_from_value("user", self.fields.clone());
            ctx
        })
    }
}

impl RuleEngine for Cel {
    type Rule = CelRule;
    type Subject = CelSubject;

    fn compile(&self, source: &str) -> Result<CelRule, RuleSyntaxError> {
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
        if let Err(offset) = source_nesting(source, MAX_DEPTH) {
            let before = &source[..offset];
            return Err(RuleSyntaxError {
                line: before.matches('\n').count() as u32 + 1,
                column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1,
                message: format!("the expression is nested more than {MAX_DEPTH} levels deep"),
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
        let mut walk =
            Walk { source, info: program.source_info(), bound: vec!["user"], top_level: false, patterns: Vec::new() };
        check(&mut walk, program.expression(), 1)?;
        let (top_level, patterns) = (walk.top_level, walk.patterns);
        let (steps, cost) = Cost::estimate(program.expression(), Sizes::LEAST);
        if let Some((node, why)) = cost.refused {
            return Err(at(source, program.source_info(), node.id, why));
        }
        if steps > SAVE_BUDGET {
            return Err(RuleSyntaxError {
                line: 1,
                column: 1,
                message: format!(
                    "the expression takes about {steps} steps for every user; at most {SAVE_BUDGET} are allowed"
                ),
            });
        }
        let over_data = cost.over_data;
        Ok(CelRule { program, over_data, top_level, _patterns: patterns })
    }

    fn subject(&self, user: &User) -> CelSubject {
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
            ("userType".to_owned(), string(user.user_type.as_str())),
            ("attributes".to_owned(), cel::Value::Map(attributes.into())),
            ("ssoGroups".to_owned(), strings(user.sso_groups.as_slice())),
        ]);
        let fields = cel::Value::Map(fields.into());
        let mut ctx = cel::Context::with_env(self.env.clone());
        ctx.add_variable_from_value("user", fields.clone());
        CelSubject {
            context: ctx,
            flat: std::cell::OnceCell::new(),
            fields,
            env: self.env.clone(),
            sizes: Sizes::of(user),
        }
    }

    fn matches(&self, rule: &CelRule, subject: &CelSubject) -> Result<bool, String> {
        if rule.over_data {
            let (steps, _) = Cost::estimate(rule.program.expression(), subject.sizes);
            if steps > EVAL_BUDGET {
                return Err(format!(
                    "the rule would take about {steps} steps for this user's lists; at most {EVAL_BUDGET} are allowed"
                ));
            }
        }
        let context = if rule.top_level { subject.flat() } else { &subject.context };
        match rule.program.execute(context) {
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
            user_type: crate::name::UserType::default(),
            external_id: None,
            time_zone: None,
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
        let e = cel.compile("emial.endsWith('@x.com')").unwrap_err();
        assert!(e.message.contains("did you mean `email`?"), "{e}");
    }

    #[test]
    fn an_unknown_method_is_refused_when_saved_with_the_name_meant() {
        let cel = Cel::default();
        let e = cel.compile("user.email.ends_with('@x.com')").unwrap_err();
        assert_eq!(e.line, 1, "{e}");
        assert!((11..=20).contains(&e.column), "points at the call: {e}");
        assert!(e.message.contains("unknown function `ends_with`") && e.message.contains("did you mean `endsWith`?"));
        let e = cel.compile("user.title.startswith('VP') || user.department.lowercase() == 'x'").unwrap_err();
        assert!(e.message.contains("did you mean `startsWith`?"), "{e}");
        let e = cel.compile("user.department.frobnicate()").unwrap_err();
        assert!(e.message.contains("`frobnicate`") && !e.message.contains("did you mean"), "{e}");
        assert_eq!(closest("ends_with", &FUNCTIONS), Some("endsWith"));
        assert_eq!(closest("sise", &FUNCTIONS), Some("size"));
        assert_eq!(closest("zzz", &FUNCTIONS), None);
    }

    #[test]
    fn the_user_s_fields_are_names_of_their_own() {
        // The syntax of the product documents: `email.endsWith(...)`, same as `user.email`.
        let u = user("ann@support.company.com", "Support", "Agent");
        assert_eq!(decide("email.endsWith('@support.company.com')", &u), Ok(true));
        assert_eq!(decide("department == 'Support' && user.title == title", &u), Ok(true));
        assert_eq!(decide("email.endsWith('@other.com')", &u), Ok(false));
        // A macro's own variable shadows a field of the same name.
        assert_eq!(decide("['x'].exists(title, title == 'x')", &u), Ok(true));
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
    fn nesting_the_parsed_tree_folds_away_is_counted() {
        let cel = Cel::default();
        let parens = format!("{}true{}", "(".repeat(40), ")".repeat(40));
        let e = cel.compile(&parens).unwrap_err();
        assert!(e.message.contains("nested more than 32"), "{e}");
        assert_eq!((e.line, e.column), (1, 33), "{e}");
        let nots = format!("{}true", "!".repeat(300));
        assert!(cel.compile(&nots).unwrap_err().message.contains("nested more than"));
        // Inside a string, brackets are text.
        assert!(cel.compile(&format!("user.email == '{}'", "(".repeat(100))).is_ok());
        assert!(cel.compile(&format!("{}true{}", "(".repeat(20), ")".repeat(20))).is_ok());
    }

    #[test]
    fn costly_expressions_are_refused_when_saved() {
        let cel = Cel::default();
        let deep = "size([1].map(a, [1].map(b, [1].map(c, c)))) == 1";
        let e = cel.compile(deep).unwrap_err();
        assert!(e.message.contains("comprehensions nest more than 2"), "{e}");
        let list: Vec<String> = (0..60).map(|i| i.to_string()).collect();
        let list = format!("[{}]", list.join(","));
        let wide = format!("{list}.all(x, {list}.all(y, x + y >= 0))");
        let e = cel.compile(&wide).unwrap_err();
        assert!(e.message.contains("steps for every user"), "{e}");
        let short: Vec<String> = (0..20).map(|i| i.to_string()).collect();
        assert!(cel.compile(&format!("[{}].exists(x, x == 3)", short.join(","))).is_ok());
        assert!(cel.compile(&format!("{list}.exists(x, x == 3)")).unwrap_err().message.contains("steps"));
    }

    #[test]
    fn matches_takes_a_literal_pattern_compiled_when_saved() {
        let support = user("kim.lee@support.company.com", "Support", "Agent");
        let other = user("kim@company.com", "Support", "Agent");
        for rule in [
            "user.email.matches('^[a-z.]+@support[.]company[.]com$')",
            "matches(user.email, '^[a-z.]+@support[.]company[.]com$')",
            "email.matches(r'^[a-z.]+@support\\.company\\.com$')",
        ] {
            assert_eq!(decide(rule, &support), Ok(true), "{rule}");
            assert_eq!(decide(rule, &other), Ok(false), "{rule}");
        }
        let cel = Cel::default();
        // A pattern made from the user's data is refused where it is written.
        let e = cel.compile("user.email.matches(user.department)").unwrap_err();
        assert_eq!((e.line, e.column), (1, 20), "{e}");
        assert!(e.message.contains("must be a string literal"), "{e}");
        let e = cel.compile("matches(user.email, '^a' + 'b')").unwrap_err();
        assert_eq!((e.line, e.column), (1, 21), "{e}");
        assert!(e.message.contains("must be a string literal"), "{e}");
        // A bad pattern is refused with the regex error, pointing at the literal.
        let e = cel.compile("user.title == 'x' ||\n user.email.matches('(foo')").unwrap_err();
        assert_eq!((e.line, e.column), (2, 21), "{e}");
        assert_eq!(e.message, "the pattern is not a valid regular expression: unclosed group");
        let e = cel.compile("user.email.matches('a', 'b')").unwrap_err();
        assert!(e.message.contains("takes one pattern"), "{e}");
    }

    #[test]
    fn a_user_whose_lists_make_a_rule_too_costly_is_undecided() {
        let cel = Cel::default();
        let pairs = cel.compile("user.ssoGroups.exists(a, user.ssoGroups.exists(b, a != b && a == b))").unwrap();
        let few = user("a@b.co", "Ops", "Lead");
        assert_eq!(cel.matches(&pairs, &cel.subject(&few)), Ok(false));
        let mut many = few.clone();
        many.sso_groups = SsoGroups::new((0..200).map(|i| format!("g{i}"))).unwrap();
        let e = cel.matches(&pairs, &cel.subject(&many)).unwrap_err();
        assert!(e.contains("steps for this user"), "{e}");
        // One pass over the same list is within the budget.
        let one = cel.compile("user.ssoGroups.exists(g, g == 'g7')").unwrap();
        assert_eq!(cel.matches(&one, &cel.subject(&many)), Ok(true));
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
