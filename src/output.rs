//! Rendering: the only place that formats data for people or scripts.
//!
//! A command returns a [`Report`]: the JSON value scripts get with `--format json`, the
//! sections (tables, key/value blocks, text) people get by default, and the flat table
//! `--format csv` gives. Tables use comfy-table, fitted to the terminal width when stdout
//! is a terminal and never wrapped when piped (see `output/terminal.rs`).
//! The report's HTML page is rendered here too (`output/report.rs`), from the plain view the
//! domain builds.
//!
//! Invariant: nothing a command hands over reaches a terminal raw — table cells, labels,
//! values, titles and text are made printable (`support::terminal`), JSON escapes control
//! characters and bidirectional overrides as `\uXXXX`, and CSV does as tables on a
//! terminal (into a file or a pipe it is data, unchanged). Write errors keep their I/O kind,
//! so that `main` ends quietly on a closed pipe.

use std::io::{self, Write};

use serde::Serialize;

pub mod report;
mod terminal;
use crate::support::terminal::{printable, printable_lines};
use terminal::comfy;

/// Output format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    /// Tables for people.
    #[default]
    Table,
    /// JSON for scripts: stable keys.
    Json,
    /// CSV for spreadsheets and scripts.
    Csv,
}

/// A table: headers and rows of cells.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// A title printed above it (table format only).
    pub title: Option<String>,
    /// Column headers.
    pub headers: Vec<String>,
    /// Rows.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these headers.
    pub fn new(headers: &[&str]) -> Self {
        Table {
            title: None,
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Sets the title.
    pub fn titled(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Adds a row.
    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }
}

/// One part of a report in table format.
#[derive(Debug, Clone)]
pub enum Section {
    /// A table.
    Table(Table),
    /// Label / value pairs.
    Fields(Vec<(String, String)>),
    /// A line of text.
    Text(String),
}

/// What a command produces.
#[derive(Debug, Clone)]
pub struct Report {
    /// The JSON for `--format json`.
    pub json: serde_json::Value,
    /// What table format shows.
    pub sections: Vec<Section>,
    /// What `--format csv` writes; the first table when `None`.
    pub csv: Option<Table>,
    /// The process exit code (0 unless the command's contract says otherwise).
    pub exit: u8,
}

impl Report {
    /// An empty report around a JSON value.
    pub fn new(json: impl Serialize) -> Self {
        let mut json = serde_json::to_value(json).unwrap_or(serde_json::Value::Null);
        positive_zeros(&mut json);
        Report {
            json,
            sections: Vec::new(),
            csv: None,
            exit: 0,
        }
    }

    /// Nothing on stdout (messages went to stderr).
    pub fn empty() -> Self {
        Report {
            json: serde_json::Value::Null,
            sections: Vec::new(),
            csv: None,
            exit: 0,
        }
    }

    /// Adds a table.
    pub fn table(mut self, t: Table) -> Self {
        self.sections.push(Section::Table(t));
        self
    }

    /// Adds label / value pairs.
    pub fn fields<K: Into<String>, V: Into<String>>(mut self, f: Vec<(K, V)>) -> Self {
        self.sections.push(Section::Fields(
            f.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
        ));
        self
    }

    /// Adds a line of text.
    pub fn text(mut self, t: impl Into<String>) -> Self {
        self.sections.push(Section::Text(t.into()));
        self
    }

    /// Sets the CSV table.
    pub fn csv(mut self, t: Table) -> Self {
        self.csv = Some(t);
        self
    }

    /// Sets the exit code.
    pub fn exit(mut self, code: u8) -> Self {
        self.exit = code;
        self
    }
}

/// How to render.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// The format.
    pub format: Format,
    /// Colours allowed (a terminal, and neither `--no-color` nor `NO_COLOR`).
    pub color: bool,
    /// stdout is a terminal: fit tables to its width.
    pub tty: bool,
}

/// Writes a report to `out`.
pub fn render(report: &Report, style: Style, out: &mut dyn Write) -> io::Result<()> {
    match style.format {
        Format::Json => {
            if report.json.is_null() {
                return Ok(());
            }
            let text = serde_json::to_string_pretty(&report.json)?;
            writeln!(out, "{}", json_printable(&text))
        }
        Format::Csv => {
            let table = report.csv.as_ref().or_else(|| {
                report.sections.iter().find_map(|s| match s {
                    Section::Table(t) => Some(t),
                    _ => None,
                })
            });
            let fields_table;
            let table = match table {
                Some(t) => t,
                None => {
                    // A report of fields only: one header row, one value row.
                    let Some(fields) = report.sections.iter().find_map(|s| match s {
                        Section::Fields(f) => Some(f),
                        _ => None,
                    }) else {
                        return Ok(());
                    };
                    fields_table = Table {
                        title: None,
                        headers: fields.iter().map(|(k, _)| csv_key(k)).collect(),
                        rows: vec![fields.iter().map(|(_, v)| v.clone()).collect()],
                    };
                    &fields_table
                }
            };
            // On a terminal, cells are made printable; into a file or a pipe they are data.
            let shown = |c: String| {
                if style.tty {
                    printable(&c).into_owned()
                } else {
                    c
                }
            };
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record(table.headers.iter().map(|h| csv_key(h)))
                .map_err(csv_io)?;
            for row in &table.rows {
                w.write_record(row.iter().map(|c| shown(csv_cell(c).into_owned())))
                    .map_err(csv_io)?;
            }
            w.flush()
        }
        Format::Table => {
            let mut first = true;
            for s in &report.sections {
                if !first && !matches!(s, Section::Text(_)) {
                    writeln!(out)?;
                }
                first = false;
                match s {
                    Section::Text(t) => writeln!(out, "{}", printable_lines(t))?,
                    Section::Fields(f) => write!(out, "{}", terminal::fields(f, style))?,
                    Section::Table(t) => {
                        if let Some(title) = &t.title {
                            writeln!(out, "{}", printable_lines(title))?;
                        }
                        if t.rows.is_empty() {
                            writeln!(out, "(none)")?;
                            continue;
                        }
                        writeln!(out, "{}", comfy(t, style))?;
                    }
                }
            }
            Ok(())
        }
    }
}

/// A CSV writer's error as the I/O error it wraps, so that a closed pipe stays a closed pipe
/// (which `main` ends quietly, SPEC §2) instead of becoming "cannot write the output".
fn csv_io(e: csv::Error) -> io::Error {
    if !e.is_io_error() {
        return io::Error::other(e);
    }
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        kind => io::Error::other(format!("{kind:?}")),
    }
}

/// JSON text with the characters a terminal would act on written as `\uXXXX` escapes: the
/// same JSON value, but no DEL, C1 control (U+0080–U+009F, CSI among them) or bidirectional
/// override reaches a terminal raw (serde_json escapes only U+0000–U+001F). Outside strings
/// serde_json writes only ASCII, so escaping the whole text escapes inside strings only.
fn json_printable(text: &str) -> std::borrow::Cow<'_, str> {
    use crate::rules::limits::is_bidi_control;
    // Raw line breaks are pretty-printing: serde_json writes one inside a string as `\n`.
    let acts = |c: char| c != '\n' && (c.is_control() || is_bidi_control(c));
    if !text.chars().any(acts) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if acts(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A CSV cell made safe for spreadsheets (defence in depth: input refuses such values
/// too): a cell starting with `=`, `+`, `-`, `@`, tab or carriage return would be read as
/// a formula, so it gets a leading `'`. Plain negative numbers (`-12.5`) are data and stay.
pub fn csv_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let negative_number = cell.len() > 1
        && cell.starts_with('-')
        && cell[1..].bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && cell[1..].bytes().any(|b| b.is_ascii_digit())
        && cell.matches('.').count() <= 1;
    if risky && !negative_number {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// `true`/`false`, as CSV data says it.
pub fn csv_bool(b: bool) -> String {
    b.to_string()
}

fn csv_key(h: &str) -> String {
    h.trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Every `-0.0` in a JSON value made `0.0`: a negative zero (a figure `-0`, `0 × -1`) is no
/// number anyone wrote, and JSON would print it as `-0.0`. (serde_json already writes no
/// `inf`/`NaN`: a non-finite float is no JSON number.)
fn positive_zeros(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n)
            if n.as_f64().is_some_and(|f| f == 0.0 && f.is_sign_negative()) =>
        {
            *v = serde_json::json!(0.0);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(positive_zeros),
        serde_json::Value::Object(o) => o.values_mut().for_each(positive_zeros),
        _ => {}
    }
}

/// A progress bar for a table cell: `███░░░░░░░ 3/10`.
pub fn bar(have: f64, need: f64) -> String {
    let frac = if need <= 0.0 {
        1.0
    } else {
        (have / need).clamp(0.0, 1.0)
    };
    let filled = (frac * 10.0).round() as usize;
    format!("{}{}", "█".repeat(filled), "░".repeat(10 - filled))
}

/// Formats a number with thousands separators, rounded to cents (`1,200`, `1,199.50`,
/// `1,200` for 1199.996): the one number formatter, which lives with the rules' wording
/// ([`crate::rules::explain::thousands`]) so that alert texts and tables agree.
pub fn number(x: f64) -> String {
    crate::rules::explain::thousands(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_bars() {
        assert_eq!(number(1200.0), "1,200");
        assert_eq!(number(1234567.5), "1,234,567.50");
        assert_eq!(number(12.0), "12");
        assert_eq!(bar(3.0, 10.0), "███░░░░░░░");
    }

    #[test]
    fn numbers_round_to_cents_instead_of_truncating() {
        assert_eq!(number(1199.996), "1,200");
        assert_eq!(number(0.999), "1");
        assert_eq!(number(0.994), "0.99");
        assert_eq!(number(1199.5), "1,199.50");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(999.0), "999");
        assert_eq!(number(1234567.0), "1,234,567");
        assert_eq!(number(-62400.0), "-62,400");
        assert_eq!(number(-0.001), "0");
        assert_eq!(number(999999.999), "1,000,000");
        assert_eq!(bar(5.0, 0.0), "██████████");
    }

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_get_a_quote() {
        for risky in [
            "=HYPERLINK(\"x\")",
            "+cmd@outlook.com",
            "@SUM(A1)",
            "-2+3",
            "\tx",
            "\rx",
            "-",
        ] {
            assert_eq!(csv_cell(risky), format!("'{risky}"), "{risky:?}");
        }
        for data in ["-12", "-12.5", "0", "ann@x.com", "a=b", "2026-01-01"] {
            assert_eq!(csv_cell(data), data, "{data:?}");
        }
        let mut t = Table::new(&["Name", "Value"]);
        t.row(["=1+2", "-62400"]);
        let mut out = Vec::new();
        let style = Style {
            format: Format::Csv,
            color: false,
            tty: false,
        };
        render(&Report::new(()).table(t), style, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "name,value\n'=1+2,-62400\n"
        );
    }

    #[test]
    fn json_escapes_what_a_terminal_would_act_on_and_stays_the_same_value() {
        let v = serde_json::json!({"subject": "a\u{1b}[31m\u{9b}b\u{202e}c\u{7f}", "n": [1, 2]});
        let mut out = Vec::new();
        let style = Style {
            format: Format::Json,
            color: false,
            tty: false,
        };
        render(&Report::new(&v), style, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.contains(['\u{1b}', '\u{9b}', '\u{202e}', '\u{7f}']),
            "{text:?}"
        );
        assert!(
            text.contains("\\u009b") && text.contains("\\u202e"),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), v);
    }

    #[test]
    fn csv_of_first_table() {
        let mut t = Table::new(&["User name", "E-mail"]);
        t.row(["a@x.com", "a,b@x.com"]);
        let r = Report::new(()).table(t);
        let mut out = Vec::new();
        let style = Style {
            format: Format::Csv,
            color: false,
            tty: false,
        };
        render(&r, style, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "user_name,e_mail\na@x.com,\"a,b@x.com\"\n"
        );
    }
}
