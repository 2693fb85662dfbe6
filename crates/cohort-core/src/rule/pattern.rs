//! The regular expressions of `matches`: each pattern a string literal of the rule, checked
//! and compiled once with the `regex` crate (whose matching takes time linear in the text,
//! whatever the pattern) when the rule is compiled, then found by its text at each evaluation.
//!
//! CEL's functions are plain function pointers that see only their arguments, so the compiled
//! patterns are found in one table shared by every rule, keyed by their text. The rules own
//! their patterns; the table only points at them, so a pattern lives exactly as long as a
//! compiled rule that uses it, and the table never drops one a rule still needs.

use rustc_hash::FxHashMap;
use std::sync::{Arc, LazyLock, RwLock, Weak};

/// The longest pattern accepted, in bytes.
pub const MAX_PATTERN_BYTES: usize = 1024;

/// The most memory one compiled pattern may take (its program), and the most its lazy DFA
/// may use while matching.
const COMPILED_BYTES: usize = 256 << 10;

/// The deepest a pattern's groups and repetitions may nest.
const NEST_LIMIT: u32 = 32;

/// The patterns of the rules compiled in this process, by their text.
static COMPILED: LazyLock<RwLock<Table>> = LazyLock::new(RwLock::default);

#[derive(Default)]
struct Table {
    by_text: FxHashMap<Box<str>, Weak<regex::Regex>>,
    /// The size at which entries of dropped rules are swept out next.
    sweep_at: usize,
}

/// Compiles `pattern`, or says why it is refused: too long, not a valid expression of the
/// `regex` syntax, or too large once compiled.
fn build(pattern: &str) -> Result<regex::Regex, String> {
    if pattern.len() > MAX_PATTERN_BYTES {
        return Err(format!("the pattern is longer than {MAX_PATTERN_BYTES} bytes"));
    }
    regex::RegexBuilder::new(pattern)
        .size_limit(COMPILED_BYTES)
        .dfa_size_limit(COMPILED_BYTES)
        .nest_limit(NEST_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(limit) => {
                format!("the pattern is too large once compiled (over {limit} bytes); use fewer or smaller repetitions")
            }
            // The crate's message draws the pattern with a caret under the fault over several
            // lines; its last line says what the fault is.
            regex::Error::Syntax(text) => {
                let why = text.lines().rev().find_map(|l| l.strip_prefix("error: ")).unwrap_or("invalid syntax");
                format!("the pattern is not a valid regular expression: {why}")
            }
            other => format!("the pattern is not a valid regular expression: {other}"),
        })
}

/// The compiled `pattern`: the one a live rule already holds, or compiled now. The caller
/// keeps the `Arc` for as long as the pattern must stay findable.
pub(super) fn compiled(pattern: &str) -> Result<Arc<regex::Regex>, String> {
    if let Some(re) = COMPILED.read().ok().and_then(|t| t.by_text.get(pattern).and_then(Weak::upgrade)) {
        return Ok(re);
    }
    let re = Arc::new(build(pattern)?);
    if let Ok(mut table) = COMPILED.write() {
        if table.by_text.len() >= table.sweep_at {
            table.by_text.retain(|_, weak| weak.strong_count() > 0);
            table.sweep_at = (table.by_text.len() * 2).max(64);
        }
        table.by_text.insert(pattern.into(), Arc::downgrade(&re));
    }
    Ok(re)
}

/// `text.matches(pattern)` and `matches(text, pattern)`, for the rule language.
pub(super) fn matches(
    text: &cel::common::types::CelString<'_>,
    pattern: &cel::common::types::CelString<'_>,
) -> Result<cel::common::types::CelBool, cel::ExecutionError> {
    let re = compiled(pattern.inner()).map_err(|why| cel::ExecutionError::function_error("matches", why))?;
    Ok(cel::common::types::CelBool::from(re.is_match(text.inner())))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_pattern_is_compiled_once_while_a_rule_holds_it_and_forgotten_after() {
        // A pattern no other test uses: tests share the table.
        let a = compiled("^[a-z.]+@only-here[.]example$").unwrap();
        let b = compiled("^[a-z.]+@only-here[.]example$").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(a.is_match("kim.lee@only-here.example"));
        assert!(!a.is_match("kim@example.com"));
        let weak = Arc::downgrade(&a);
        drop((a, b));
        assert!(weak.upgrade().is_none(), "the table does not keep a pattern alive");
        // Many patterns come and go; those still held stay found.
        let kept = compiled("^kept-here$").unwrap();
        for i in 0..500 {
            drop(compiled(&format!("^swept-{i}$")).unwrap());
        }
        assert!(Arc::ptr_eq(&kept, &compiled("^kept-here$").unwrap()));
        assert!(COMPILED.read().unwrap().by_text.len() < 500, "dropped rules' entries are swept");
    }

    #[test]
    fn bad_and_oversized_patterns_are_refused_with_why() {
        assert_eq!(compiled("(foo").unwrap_err(), "the pattern is not a valid regular expression: unclosed group");
        assert!(compiled(&"a".repeat(MAX_PATTERN_BYTES + 1)).unwrap_err().contains("longer than 1024 bytes"));
        assert!(compiled("(a{1000}){1000}").unwrap_err().contains("too large once compiled"), "huge repetition");
        let nested = format!("{}a{}", "(".repeat(40), ")".repeat(40));
        assert!(compiled(&nested).unwrap_err().contains("not a valid regular expression"), "deep nesting");
    }
}
