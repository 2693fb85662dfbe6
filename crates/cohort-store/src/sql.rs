//! A small builder for queries with optional filters, numbering `$n` placeholders the same
//! way on both backends.

use crate::Backend;
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

    /// Appends `SELECT c0, c1, ... FROM <rows> WHERE true`, the rows bound as one JSON array of
    /// arrays: many rows in one statement with one parameter. Binding is per parameter, and
    /// SQLite finds each parameter's name by a linear search, so thousands of parameters cost
    /// O(n²). On PostgreSQL the array is `jsonb` (`->>` on `json` parses a row's text again
    /// for every column). `WHERE true` lets an `ON CONFLICT` clause follow on SQLite. `rows`
    /// is not empty, and every row has the kinds of values of the first.
    pub(crate) fn json_rows(&mut self, backend: Backend, rows: &[Vec<Arg>]) -> &mut Self {
        let first = rows.first().map(Vec::as_slice).unwrap_or_default();
        let columns: Vec<String> = first
            .iter()
            .enumerate()
            .map(|(i, kind)| match (backend, kind) {
                (Backend::Sqlite, _) => format!("value ->> {i}"),
                (Backend::Postgres, Arg::Int(_) | Arg::OptInt(_)) => format!("CAST(value ->> {i} AS BIGINT)"),
                (Backend::Postgres, _) => format!("value ->> {i}"),
            })
            .collect();
        let json = serde_json::Value::Array(
            rows.iter()
                .map(|row| {
                    serde_json::Value::Array(
                        row.iter()
                            .map(|a| match a {
                                Arg::Text(s) | Arg::OptText(Some(s)) => serde_json::Value::from(s.as_str()),
                                Arg::Int(i) | Arg::OptInt(Some(i)) => serde_json::Value::from(*i),
                                Arg::OptText(None) | Arg::OptInt(None) => serde_json::Value::Null,
                            })
                            .collect(),
                    )
                })
                .collect(),
        );
        self.push("SELECT ").push(&columns.join(", ")).push(" FROM ");
        match backend {
            Backend::Sqlite => self.push("json_each(").bind(Arg::Text(json.to_string())).push(")"),
            Backend::Postgres => {
                self.push("jsonb_array_elements(CAST(").bind(Arg::Text(json.to_string())).push(" AS JSONB))")
            }
        };
        self.push(" WHERE true")
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

/// `SELECT <one text value> AS rows <rest>`: every row `rest` selects, as a JSON array of arrays
/// of `fields` (comma-separated). A large read then crosses the driver as one value instead
/// of a hundred thousand rows, each a message between threads with every value copied.
pub(crate) fn json_agg(backend: Backend, fields: &str, rest: &str) -> String {
    match backend {
        Backend::Sqlite => format!("SELECT json_group_array(json_array({fields})) AS rows {rest}"),
        Backend::Postgres => {
            format!("SELECT CAST(COALESCE(json_agg(json_build_array({fields})), '[]') AS TEXT) AS rows {rest}")
        }
    }
}

/// How many rows one statement carries through [`Sql::json_rows`].
pub(crate) const ROWS_PER_STATEMENT: usize = 5_000;
