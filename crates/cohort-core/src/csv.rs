//! CSV as admins exchange it with spreadsheets (RFC 4180): reading records with their line
//! numbers, and writing cells so that a spreadsheet never runs one as a formula.

/// One record and the line it starts on (1-based, the header being line 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The line it starts on.
    pub line: usize,
    /// Its cells, unquoted.
    pub cells: Vec<String>,
}

/// A record that could not be read, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// The line it starts on.
    pub line: usize,
    /// Why.
    pub reason: String,
}

/// Reads every record of `text` (a leading byte-order mark is ignored; blank lines are
/// skipped). A malformed record is reported and reading goes on with the next line.
pub fn read(text: &str) -> Vec<Result<Record, Malformed>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start = line;
        let mut cells = Vec::new();
        let mut cell = String::new();
        let mut quoted = false;
        let mut was_quoted = false;
        let mut error: Option<String> = None;
        loop {
            let Some(c) = chars.next() else {
                if quoted {
                    error = Some("a quoted cell is not closed".to_owned());
                }
                break;
            };
            if c.is_control() && !matches!(c, '\n' | '\r' | '\t') {
                error.get_or_insert_with(|| format!("a cell holds the control character U+{:04X}", u32::from(c)));
                continue;
            }
            if quoted {
                match c {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        cell.push('"');
                    }
                    '"' => quoted = false,
                    '\n' => {
                        line += 1;
                        cell.push('\n');
                    }
                    _ => cell.push(c),
                }
                continue;
            }
            match c {
                '"' if cell.is_empty() && !was_quoted => {
                    quoted = true;
                    was_quoted = true;
                }
                '"' => {
                    error.get_or_insert_with(|| "a quote inside an unquoted cell".to_owned());
                }
                ',' => {
                    cells.push(std::mem::take(&mut cell));
                    was_quoted = false;
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' => {
                    line += 1;
                    break;
                }
                _ if was_quoted => {
                    error.get_or_insert_with(|| "text after a closing quote".to_owned());
                }
                _ => cell.push(c),
            }
        }
        cells.push(cell);
        if let Some(reason) = error {
            out.push(Err(Malformed { line: start, reason }));
        } else if !(cells.len() == 1 && cells[0].trim().is_empty()) {
            out.push(Ok(Record { line: start, cells }));
        }
    }
    out
}

/// A cell made safe for spreadsheets: text starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return gets a leading `'` so that it is shown, not evaluated; then it is quoted
/// when it holds a comma, a quote or a line break.
pub fn cell(value: &str) -> String {
    let mut v = String::new();
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        v.push('\'');
    }
    v.push_str(value);
    if v.contains([',', '"', '\n', '\r']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v }
}

/// One line of CSV from `values`, each made safe with [`cell`], ending in CRLF.
pub fn row<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = values.into_iter().map(cell).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(line: usize, cells: &[&str]) -> Result<Record, Malformed> {
        Ok(Record { line, cells: cells.iter().map(|c| (*c).to_owned()).collect() })
    }

    fn bad(line: usize, reason: &str) -> Result<Record, Malformed> {
        Err(Malformed { line, reason: reason.to_owned() })
    }

    #[test]
    fn records_quotes_and_line_numbers() {
        let got =
            read("\u{feff}email,role\r\na@x.com,member\n\n\"b@x.com\",\"man\"\"ager\"\n\"multi\nline\",x\nc@x.com\n");
        assert_eq!(
            got,
            vec![
                rec(1, &["email", "role"]),
                rec(2, &["a@x.com", "member"]),
                rec(4, &["b@x.com", "man\"ager"]),
                rec(5, &["multi\nline", "x"]),
                rec(7, &["c@x.com"]),
            ]
        );
    }

    #[test]
    fn malformed_records_are_reported_and_reading_goes_on() {
        let got = read("a,b\nx\"y,z\n\"q\"r,s\nok,1\n\"open,2\n");
        assert_eq!(got[1], bad(2, "a quote inside an unquoted cell"));
        assert_eq!(got[2], bad(3, "text after a closing quote"));
        assert_eq!(got[3], rec(4, &["ok", "1"]));
        assert_eq!(got[4], bad(5, "a quoted cell is not closed"));
        let got = read("email,role\na\u{0}b@x.com,member\n\"q\u{1b}\",x\nok@x.com,member\n");
        assert_eq!(got[1], bad(2, "a cell holds the control character U+0000"));
        assert_eq!(got[2], bad(3, "a cell holds the control character U+001B"));
        assert_eq!(got[3], rec(4, &["ok@x.com", "member"]));
    }

    #[test]
    fn cells_never_become_formulas() {
        assert_eq!(cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@cmd"), "'@cmd");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("\rx"), "\"'\rx\"");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("plain"), "plain");
        assert_eq!(row(["=1", "b"]), "'=1,b\r\n");
        // What is written reads back as the escaped text.
        assert_eq!(read(&row(["a,\"b\"", "=c"]))[0], rec(1, &["a,\"b\"", "'=c"]));
    }
}
