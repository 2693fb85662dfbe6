//! SCIM filter expressions and attribute paths (RFC 7644 §3.4.2.2 and §3.5.2): parsed into a
//! tree that the resource modules translate into storage conditions.
//!
//! Every filter is bounded before and while it is read: its length ([`MAX_FILTER_LEN`]), its
//! nesting ([`MAX_DEPTH`] levels of parentheses, `not` and `[...]`) and its comparisons
//! ([`MAX_TERMS`]), so no input makes the parser, the translation or the drop of the tree
//! recurse without bound, and a query built from it stays small.

/// The comparison operators are the store's listing comparisons: one enum for both.
pub use cohort_store::listing::Cmp;
use std::fmt;

/// Longest filter or PATCH path read, in bytes.
pub const MAX_FILTER_LEN: usize = 4096;
/// Deepest nesting of parentheses, `not` and value paths.
pub const MAX_DEPTH: usize = 16;
/// Most comparisons (including `pr`) in one filter.
pub const MAX_TERMS: usize = 64;

/// An attribute path: optional schema URN, attribute, optional sub-attribute. Names are kept
/// as written; comparisons are case-insensitive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN, when the path names one.
    pub urn: Option<String>,
    /// The attribute.
    pub attr: String,
    /// The sub-attribute.
    pub sub: Option<String>,
}

impl AttrPath {
    /// Whether the attribute (ignoring the URN) is `name`, case-insensitively.
    pub fn is(&self, name: &str) -> bool {
        self.attr.eq_ignore_ascii_case(name)
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(u) = &self.urn {
            write!(f, "{u}:")?;
        }
        f.write_str(&self.attr)?;
        if let Some(s) = &self.sub {
            write!(f, ".{s}")?;
        }
        Ok(())
    }
}

/// A literal compared against.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// A JSON string.
    Str(String),
    /// A number, as written.
    Num(String),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// A filter.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    /// `attr pr`.
    Present(AttrPath),
    /// `attr op value`.
    Compare(AttrPath, Cmp, Literal),
    /// `attr[filter]`: paths inside are sub-attributes of `attr`.
    ValuePath(AttrPath, Box<Filter>),
    /// Both.
    And(Box<Filter>, Box<Filter>),
    /// Either.
    Or(Box<Filter>, Box<Filter>),
    /// Not.
    Not(Box<Filter>),
}

/// A PATCH path: an attribute, optionally narrowed by a filter on its values, optionally
/// followed by a sub-attribute (`emails[type eq "work"].value`).
#[derive(Clone, Debug, PartialEq)]
pub struct PatchPath {
    /// The attribute (with a sub-attribute when written `name.givenName`).
    pub attr: AttrPath,
    /// The filter on the attribute's values.
    pub filter: Option<Filter>,
    /// The sub-attribute after the filter.
    pub sub: Option<String>,
}

/// Why an expression could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError(pub String);

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Open,
    Close,
    LBracket,
    RBracket,
    Str(String),
    Word(String),
}

fn lex(s: &str) -> Result<Vec<(usize, Tok)>, SyntaxError> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                chars.next();
            }
            '(' | ')' | '[' | ']' => {
                chars.next();
                out.push((
                    i,
                    match c {
                        '(' => Tok::Open,
                        ')' => Tok::Close,
                        '[' => Tok::LBracket,
                        _ => Tok::RBracket,
                    },
                ));
            }
            '"' => {
                chars.next();
                let mut raw = String::from("\"");
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    raw.push(c);
                    match c {
                        '\\' => {
                            if let Some((_, e)) = chars.next() {
                                raw.push(e);
                            }
                        }
                        '"' => {
                            closed = true;
                            break;
                        }
                        _ => {}
                    }
                }
                if !closed {
                    return Err(SyntaxError(format!("unterminated string at position {i}")));
                }
                let v: String =
                    serde_json::from_str(&raw).map_err(|_| SyntaxError(format!("malformed string at position {i}")))?;
                out.push((i, Tok::Str(v)));
            }
            _ => {
                let mut w = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if matches!(c, ' ' | '\t' | '\n' | '\r' | '(' | ')' | '[' | ']' | '"') {
                        break;
                    }
                    w.push(c);
                    chars.next();
                }
                out.push((i, Tok::Word(w)));
            }
        }
    }
    Ok(out)
}

fn attr_name_ok(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Parses `urn:...:attr.sub`, `attr.sub` or `attr`.
pub fn parse_attr_path(s: &str) -> Result<AttrPath, SyntaxError> {
    let bad = || SyntaxError(format!("`{s}` is not an attribute path"));
    let (urn, rest) = if s.len() > 4 && s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
        let i = s.rfind(':').ok_or_else(bad)?;
        (Some(s[..i].to_owned()), &s[i + 1..])
    } else {
        (None, s)
    };
    let (attr, sub) = match rest.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (rest, None),
    };
    if !attr_name_ok(attr) || sub.is_some_and(|b| !attr_name_ok(b)) {
        return Err(bad());
    }
    Ok(AttrPath { urn, attr: attr.to_owned(), sub: sub.map(str::to_owned) })
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    len: usize,
    depth: usize,
    terms: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.1)
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.len, |t| t.0)
    }

    fn err(&self, what: &str) -> SyntaxError {
        SyntaxError(format!("{what} at position {}", self.at()))
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
    }

    fn or(&mut self) -> Result<Filter, SyntaxError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, SyntaxError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    /// Enters one level of nesting, refusing to go deeper than [`MAX_DEPTH`].
    fn nest(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(&format!("the filter nests deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<Filter, SyntaxError> {
        self.nest()?;
        let f = self.unary_inner();
        self.depth -= 1;
        f
    }

    fn unary_inner(&mut self) -> Result<Filter, SyntaxError> {
        if self.keyword("not") {
            self.pos += 1;
            if self.peek() != Some(&Tok::Open) {
                return Err(self.err("expected `(` after `not`"));
            }
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Tok::Open) {
            self.pos += 1;
            let inner = self.or()?;
            if self.peek() != Some(&Tok::Close) {
                return Err(self.err("expected `)`"));
            }
            self.pos += 1;
            return Ok(inner);
        }
        let Some(Tok::Word(w)) = self.peek().cloned() else { return Err(self.err("expected an attribute path")) };
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(self.err(&format!("the filter has more than {MAX_TERMS} comparisons")));
        }
        let path = parse_attr_path(&w).map_err(|e| SyntaxError(format!("{} at position {}", e.0, self.at())))?;
        self.pos += 1;
        if self.peek() == Some(&Tok::LBracket) {
            self.pos += 1;
            let inner = self.or()?;
            if self.peek() != Some(&Tok::RBracket) {
                return Err(self.err("expected `]`"));
            }
            self.pos += 1;
            return Ok(Filter::ValuePath(path, Box::new(inner)));
        }
        let Some(Tok::Word(op)) = self.peek().cloned() else { return Err(self.err("expected an operator")) };
        let op = match op.to_ascii_lowercase().as_str() {
            "pr" => {
                self.pos += 1;
                return Ok(Filter::Present(path));
            }
            "eq" => Cmp::Eq,
            "ne" => Cmp::Ne,
            "co" => Cmp::Co,
            "sw" => Cmp::Sw,
            "ew" => Cmp::Ew,
            "gt" => Cmp::Gt,
            "ge" => Cmp::Ge,
            "lt" => Cmp::Lt,
            "le" => Cmp::Le,
            _ => return Err(self.err(&format!("unknown operator `{op}`"))),
        };
        self.pos += 1;
        let value = match self.peek().cloned() {
            Some(Tok::Str(s)) => Literal::Str(s),
            Some(Tok::Word(w)) if w == "true" => Literal::Bool(true),
            Some(Tok::Word(w)) if w == "false" => Literal::Bool(false),
            Some(Tok::Word(w)) if w == "null" => Literal::Null,
            Some(Tok::Word(w)) if w.parse::<f64>().is_ok() => Literal::Num(w),
            _ => return Err(self.err("expected a value (a string, number, true, false or null)")),
        };
        self.pos += 1;
        Ok(Filter::Compare(path, op, value))
    }
}

/// Parses a whole filter expression.
pub fn parse_filter(s: &str) -> Result<Filter, SyntaxError> {
    if s.len() > MAX_FILTER_LEN {
        return Err(SyntaxError(format!("the filter is longer than {MAX_FILTER_LEN} bytes")));
    }
    let mut p = Parser { toks: lex(s)?, pos: 0, len: s.len(), depth: 0, terms: 0 };
    if p.toks.is_empty() {
        return Err(SyntaxError("the filter is empty".to_owned()));
    }
    let f = p.or()?;
    if p.pos != p.toks.len() {
        return Err(p.err("unexpected text"));
    }
    Ok(f)
}

/// Parses a PATCH operation's `path`.
pub fn parse_patch_path(s: &str) -> Result<PatchPath, SyntaxError> {
    if s.len() > MAX_FILTER_LEN {
        return Err(SyntaxError(format!("the path is longer than {MAX_FILTER_LEN} bytes")));
    }
    let bad = || SyntaxError(format!("`{}` is not a valid path", s.chars().take(200).collect::<String>()));
    match s.find('[') {
        None => Ok(PatchPath { attr: parse_attr_path(s.trim())?, filter: None, sub: None }),
        Some(i) => {
            let close = s.rfind(']').ok_or_else(bad)?;
            if close < i {
                return Err(bad());
            }
            let attr = parse_attr_path(s[..i].trim())?;
            if attr.sub.is_some() {
                return Err(bad());
            }
            let filter = parse_filter(&s[i + 1..close])?;
            let sub = match &s[close + 1..] {
                "" => None,
                rest => {
                    let sub = rest.strip_prefix('.').filter(|r| attr_name_ok(r)).ok_or_else(bad)?;
                    Some(sub.to_owned())
                }
            };
            Ok(PatchPath { attr, filter: Some(filter), sub })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> AttrPath {
        parse_attr_path(s).unwrap()
    }

    fn cmp(a: &str, op: Cmp, v: &str) -> Filter {
        Filter::Compare(p(a), op, Literal::Str(v.to_owned()))
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        let f = parse_filter(r#"a eq "1" or b eq "2" and not (c pr)"#).unwrap();
        assert_eq!(
            f,
            Filter::Or(
                Box::new(cmp("a", Cmp::Eq, "1")),
                Box::new(Filter::And(
                    Box::new(cmp("b", Cmp::Eq, "2")),
                    Box::new(Filter::Not(Box::new(Filter::Present(p("c")))))
                ))
            )
        );
        let g = parse_filter(r#"(a eq "1" or b eq "2") AND c Gt 5"#).unwrap();
        assert!(
            matches!(g, Filter::And(_, ref r) if **r == Filter::Compare(p("c"), Cmp::Gt, Literal::Num("5".into())))
        );
    }

    #[test]
    fn value_paths_urns_and_escapes() {
        let f = parse_filter(r#"emails[type eq "work" and value ew "@x.com"]"#).unwrap();
        assert!(matches!(f, Filter::ValuePath(ref a, _) if a.attr == "emails"));
        let u =
            parse_filter(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "a\"b""#).unwrap();
        assert_eq!(
            u,
            Filter::Compare(
                AttrPath {
                    urn: Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".into()),
                    attr: "department".into(),
                    sub: None
                },
                Cmp::Eq,
                Literal::Str("a\"b".into())
            )
        );
        assert_eq!(parse_filter("meta.lastModified gt \"2020\"").unwrap(), cmp("meta.lastModified", Cmp::Gt, "2020"));
    }

    #[test]
    fn malformed_filters_say_where() {
        for bad in [
            "",
            "userName",
            "userName eq",
            "userName zz \"a\"",
            "(a eq \"b\"",
            "a eq \"b\" c",
            "a eq \"b",
            "emails[type eq \"w\"",
            "not a eq \"b\"",
            "1a eq \"b\"",
            "a eq bare",
        ] {
            assert!(parse_filter(bad).is_err(), "{bad} should not parse");
        }
        assert_eq!(
            parse_filter("a eq").unwrap_err().0,
            "expected a value (a string, number, true, false or null) at position 4"
        );
    }

    #[test]
    fn deep_long_and_wide_filters_are_refused_at_their_limits() {
        let nested = |n: usize| format!("{}userName eq \"a\"{}", "(".repeat(n), ")".repeat(n));
        assert!(parse_filter(&nested(MAX_DEPTH - 1)).is_ok());
        assert!(parse_filter(&nested(MAX_DEPTH)).unwrap_err().0.contains("nests deeper"));
        assert!(parse_filter(&nested(5000)).is_err());
        let nots = format!("{}a pr{}", "not (".repeat(500), ")".repeat(500));
        assert!(parse_filter(&nots).unwrap_err().0.contains("nests deeper"));
        let brackets = format!("{}b pr{}", "a[".repeat(100), "]".repeat(100));
        assert!(parse_filter(&brackets).is_err());
        let terms = |n: usize| vec!["a eq \"b\""; n].join(" or ");
        assert!(parse_filter(&terms(MAX_TERMS)).is_ok());
        assert!(parse_filter(&terms(MAX_TERMS + 1)).unwrap_err().0.contains("comparisons"));
        assert!(parse_filter(&vec!["a pr"; 20_000].join(" and ")).is_err());
        assert!(parse_filter(&format!("a eq \"{}\"", "x".repeat(MAX_FILTER_LEN))).unwrap_err().0.contains("longer"));
        assert!(parse_patch_path(&format!("members[{}]", nested(100))).is_err());
    }

    use proptest::prelude::*;

    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("(".to_owned()),
            Just(")".to_owned()),
            Just("[".to_owned()),
            Just("]".to_owned()),
            Just("not ".to_owned()),
            Just(" and ".to_owned()),
            Just(" or ".to_owned()),
            Just("userName eq \"a\"".to_owned()),
            Just("emails[type eq \"work\"]".to_owned()),
            Just(" pr".to_owned()),
            Just("\"".to_owned()),
            Just("\\".to_owned()),
            Just("urn:ietf:params:scim:schemas:core:2.0:User:".to_owned()),
            Just("\u{0}".to_owned()),
            "[a-zA-Z.]{1,10}",
            any::<char>().prop_map(String::from),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn any_filter_or_path_parses_within_its_limits_or_is_refused(
            s in prop_oneof![
                prop::collection::vec(piece(), 0..200).prop_map(|v| v.concat()),
                (piece(), 1usize..5000).prop_map(|(p, n)| p.repeat(n)),
                ".{0,2000}",
            ]
        ) {
            let t = std::time::Instant::now();
            if let Ok(f) = parse_filter(&s) {
                fn depth(f: &Filter) -> usize {
                    match f {
                        Filter::Present(_) | Filter::Compare(..) => 1,
                        Filter::ValuePath(_, i) | Filter::Not(i) => 1 + depth(i),
                        Filter::And(a, b) | Filter::Or(a, b) => 1 + depth(a).max(depth(b)),
                    }
                }
                prop_assert!(s.len() <= MAX_FILTER_LEN);
                prop_assert!(depth(&f) <= MAX_DEPTH + MAX_TERMS);
            }
            let _ = parse_patch_path(&s);
            let _ = parse_attr_path(&s);
            // Only a runaway parse gets near this; speed is measured elsewhere.
            prop_assert!(t.elapsed() < std::time::Duration::from_secs(5));
        }
    }

    #[test]
    fn patch_paths() {
        let pp = parse_patch_path(r#"members[value eq "usr_123456789012"]"#).unwrap();
        assert!(pp.attr.is("members") && pp.filter.is_some() && pp.sub.is_none());
        let pp = parse_patch_path(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(pp.sub.as_deref(), Some("value"));
        assert_eq!(parse_patch_path("name.givenName").unwrap().attr.sub.as_deref(), Some("givenName"));
        for bad in ["", "members[", "members]x[", "a.b[c eq \"d\"]", "emails[type eq \"w\"]value", "a b"] {
            assert!(parse_patch_path(bad).is_err(), "{bad} should not parse");
        }
    }
}
