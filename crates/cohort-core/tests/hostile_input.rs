//! Random and grammar-shaped hostile input thrown at every parser of the core: rule
//! expressions (CEL) and the patterns of their `matches`, CSV, ids and names. Each must answer a clean error or a value, never
//! panic, and never stall: the generous time bound below catches a runaway parse, it does not
//! measure speed (benchmarks do).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cohort_core::name::{Email, GroupSlug, Name, ShortText};
use cohort_core::rule::{Cel, RuleEngine};
use cohort_core::{GroupId, UserId};
use proptest::prelude::*;
use std::time::{Duration, Instant};

/// Far beyond any honest parse of inputs this size: only a stall gets here.
const STALL: Duration = Duration::from_secs(5);

fn bounded<T>(what: &str, input: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    assert!(
        t.elapsed() < STALL,
        "{what} stalled ({:?}) on {:?}",
        t.elapsed(),
        input.chars().take(120).collect::<String>()
    );
    out
}

/// Pieces of the rule language, so that random strings are often nearly valid.
fn cel_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("!".to_owned()),
        Just("-".to_owned()),
        Just(" && ".to_owned()),
        Just(" || ".to_owned()),
        Just(" == ".to_owned()),
        Just(" ? 1 : 2".to_owned()),
        Just("true".to_owned()),
        Just("user.email".to_owned()),
        Just("user.ssoGroups".to_owned()),
        Just(".exists(x, ".to_owned()),
        Just(".map(a, ".to_owned()),
        Just(".all(g, g".to_owned()),
        Just("size(".to_owned()),
        Just("'abc'".to_owned()),
        Just("\"".to_owned()),
        Just("'".to_owned()),
        Just("\\".to_owned()),
        Just(".matches('(a+)+$')".to_owned()),
        Just("[1,2,3,4,5,6,7,8,9,10]".to_owned()),
        Just("{'k': 1}".to_owned()),
        Just("1".to_owned()),
        Just("\u{0}".to_owned()),
        Just("\n".to_owned()),
        "[a-z]{1,8}",
        any::<char>().prop_map(String::from),
    ]
}

fn cel_input() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(cel_piece(), 0..80).prop_map(|v| v.concat()),
        // Long runs of one piece: deep nesting, long chains.
        (cel_piece(), 1usize..600).prop_map(|(p, n)| p.repeat(n)),
        (0usize..200, 0usize..200).prop_map(|(open, close)| format!("{}true{}", "(".repeat(open), ")".repeat(close))),
        (1usize..8, 1usize..30).prop_map(|(depth, width)| {
            let list = format!("[{}]", (0..width).map(|i| i.to_string()).collect::<Vec<_>>().join(","));
            let mut e = "true".to_owned();
            for i in 0..depth {
                e = format!("{list}.exists(v{i}, {e})");
            }
            e
        }),
        ".{0,1200}",
    ]
}

/// Pieces of regular expressions, the hostile shapes among them: nested and overlapping
/// repetitions that make backtracking engines take exponential time, repetitions that
/// compile to huge programs, escapes of bytes that are not UTF-8, unbalanced groups.
fn pattern_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("(a+)+".to_owned()),
        Just("(a|aa)*".to_owned()),
        Just("(.*)*".to_owned()),
        Just("(a*)*b".to_owned()),
        Just("a{1000}".to_owned()),
        Just("{1000}".to_owned()),
        Just("(\\w{100}){100}".to_owned()),
        Just(".{0,1000}".to_owned()),
        Just("\\xff".to_owned()),
        Just("(?-u:\\xff)".to_owned()),
        Just("(?-u).".to_owned()),
        Just("\\x{110000}".to_owned()),
        Just("\\p{Greek}".to_owned()),
        Just("\\p{Nope}".to_owned()),
        Just("[^a]".to_owned()),
        Just("[z-a]".to_owned()),
        Just("(?i)".to_owned()),
        Just("(?P<n>a)\\k<n>".to_owned()),
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just("[".to_owned()),
        Just("\\".to_owned()),
        Just("|".to_owned()),
        Just("^".to_owned()),
        Just("$".to_owned()),
        Just("@".to_owned()),
        "[a-z.]{1,6}",
        any::<char>().prop_map(|c| if c == '\'' { "x".to_owned() } else { c.to_string() }),
    ]
}

/// A user whose lists are as long as the domain allows.
fn big_user() -> cohort_core::model::User {
    use cohort_core::name::{AttributeValue, Attributes, SsoGroups};
    let text = |s: &str| ShortText::parse("t", s, false).unwrap();
    let list: Vec<String> = (0..100).map(|i| format!("v{i}")).collect();
    cohort_core::model::User {
        id: UserId::parse("usr_000000000001").unwrap(),
        email: Some(Email::parse("ada@example.com").unwrap()),
        user_name: None,
        display_name: text("Ada"),
        department: text("Sales"),
        title: text("Lead"),
        attributes: Attributes::new((0..50).map(|i| (format!("k{i}"), AttributeValue::Many(list.clone()))).collect())
            .unwrap(),
        sso_groups: SsoGroups::new((0..200).map(|i| format!("g{i}"))).unwrap(),
        status: cohort_core::model::UserStatus::Active,
        user_type: Default::default(),
        external_id: None,
        time_zone: None,
        created_at: cohort_core::Timestamp(0),
        updated_at: cohort_core::Timestamp(0),
    }
}

/// A rule either compiles, and then decides a user with the longest lists without stalling,
/// or is refused with a position and a reason.
fn compiles_or_says_why(src: &str) -> Result<(), TestCaseError> {
    let cel = Cel::default();
    match bounded("compile", src, || cel.compile(src)) {
        Ok(rule) => {
            let subject = cel.subject(&big_user());
            let _ = bounded("evaluate", src, || cel.matches(&rule, &subject));
        }
        Err(e) => {
            prop_assert!(e.line >= 1 && e.column >= 1);
            prop_assert!(!e.message.is_empty());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn rule_expressions_compile_or_say_why_and_every_accepted_one_evaluates_quickly(src in cel_input()) {
        compiles_or_says_why(&src)?;
    }

    #[test]
    fn regex_patterns_compile_or_say_why_and_every_accepted_one_matches_quickly(
        pattern in prop_oneof![
            prop::collection::vec(pattern_piece(), 0..40).prop_map(|v| v.concat()),
            (pattern_piece(), 1usize..300).prop_map(|(p, n)| p.repeat(n)),
        ]
    ) {
        // A raw string: the pattern reaches the regex compiler as written.
        let src = format!("user.email.matches(r'{pattern}') || user.attributes.k1.exists(v, v.matches(r'{pattern}'))");
        compiles_or_says_why(&src)?;
    }

    #[test]
    fn csv_reads_anything_into_records_or_reasons(
        text in prop_oneof![
            ".{0,400}",
            prop::collection::vec(prop_oneof![Just("\"".to_owned()), Just(",".to_owned()), Just("\n".to_owned()),
                Just("\r\n".to_owned()), Just("\u{0}".to_owned()), Just("a".to_owned()), Just("\u{feff}".to_owned())], 0..400)
                .prop_map(|v| v.concat()),
        ]
    ) {
        let records = bounded("csv", &text, || cohort_core::csv::read(&text));
        for r in records {
            match r {
                Ok(rec) => {
                    prop_assert!(rec.line >= 1);
                    prop_assert!(rec.cells.iter().all(|c| !c.chars().any(|ch| ch.is_control() && !matches!(ch, '\n' | '\r' | '\t'))));
                }
                Err(m) => prop_assert!(m.line >= 1 && !m.reason.is_empty()),
            }
        }
    }

    #[test]
    fn ids_and_names_parse_or_refuse(s in prop_oneof![".{0,300}", "(usr_|grp_)[a-z0-9\u{0}-\u{1f}]{0,40}", "[\u{0}-\u{7f}]{0,80}"]) {
        // Whatever parses holds no control character (a NUL could not even be stored on
        // PostgreSQL); free text keeps only line breaks and tabs.
        // (What is kept is the parsed value: surrounding whitespace is trimmed away.)
        let kept = [
            ShortText::parse("t", &s, false).ok().map(|t| t.as_str().to_owned()),
            Name::parse("name", &s).ok().map(|n| n.as_str().to_owned()),
        ];
        for v in kept.into_iter().flatten() {
            prop_assert!(!v.chars().any(|c| c.is_control() && c != '\n' && c != '\t'), "{:?}", v);
        }
        let strict = [
            UserId::parse(&s).ok().map(|v| v.as_str().to_owned()),
            GroupId::parse(&s).ok().map(|v| v.as_str().to_owned()),
            GroupSlug::parse(&s).ok().map(|v| v.as_str().to_owned()),
            Email::parse(&s).ok().map(|v| v.as_str().to_owned()),
        ];
        for v in strict.into_iter().flatten() {
            prop_assert!(!v.chars().any(char::is_control), "{:?}", v);
        }
    }
}
