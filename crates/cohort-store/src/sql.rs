//! A small builder for queries with optional filters, numbering `$n` placeholders the same
//! way on both backends.

use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments};

/// One bound value.
#[derive(Clone, Debug)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
    OptText(Option<String>),
    OptInt(Option<i64>),
}

/// A query under construction.
#[derive(Default)]
pub(crate) struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Self {
        Self { text: text.to_owned(), args: Vec::new() }
    }

    /// Starts from SQL that already holds placeholders for `args`.
    pub(crate) fn with_args(text: &str, args: Vec<Arg>) -> Self {
        Self { text: text.to_owned(), args }
    }

    /// Appends raw SQL.
    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `arg`.
    pub(crate) fn bind(&mut self, arg: Arg) -> &mut Self {
        self.args.push(arg);
        self.text.push_str(&format!("${}", self.args.len()));
        self
    }

    /// Appends `(a, b, ...)` binding each value.
    pub(crate) fn tuple(&mut self, values: Vec<Arg>) -> &mut Self {
        self.push("(");
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(v);
        }
        self.push(")")
    }

    pub(crate) fn query(&self) -> Result<sqlx::query::Query<'_, Any, AnyArguments<'_>>, sqlx::Error> {
        let mut args = AnyArguments::default();
        for a in &self.args {
            match a {
                Arg::Text(s) => args.add(s.clone()),
                Arg::Int(i) => args.add(*i),
                Arg::OptText(s) => args.add(s.clone()),
                Arg::OptInt(i) => args.add(*i),
            }
            .map_err(sqlx::Error::Encode)?;
        }
        Ok(sqlx::query_with(&self.text, args))
    }
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern matching `needle` anywhere.
pub(crate) fn contains_pattern(needle: &str) -> String {
    let mut out = String::from("%");
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// How many rows of `columns` values one multi-row statement carries. SQLite finds each bound
/// parameter's name by a linear search, so a statement with n parameters costs O(n²) to bind:
/// a few hundred parameters per statement is the sweet spot.
pub(crate) fn rows_per_statement(columns: usize) -> usize {
    (240 / columns.max(1)).max(1)
}
