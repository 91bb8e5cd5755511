//! Tables for people: comfy-table styled for a terminal or a pipe.
//!
//! Invariants (SPEC §2):
//! - every cell, header, label and value is made printable first (no control character or
//!   bidirectional override reaches the terminal raw; see `support::terminal`);
//! - on a terminal, no table is wider than its width (`COLUMNS`, else the terminal's own):
//!   comfy-table's dynamic arrangement sizes the columns and wraps cells between words, and
//!   each column is given at least the width of its longest word ([`word_floors`]), so a
//!   word or an e-mail address is never split in two. When the longest words cannot all fit,
//!   the widest give way and a word longer than its column is shortened with `…` (the full
//!   value is in `--format json|csv`). Only a table with more columns than the terminal has
//!   room for one character of each can still be wider.
//! - piped, tables are neither wrapped nor shortened.

use std::borrow::Cow;

use comfy_table::{
    Attribute, Cell, Color, ColumnConstraint, ContentArrangement, Table as Comfy, Width, presets,
};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::{Style, Table};
use crate::support::terminal::printable_lines;

/// The width tables fit when stdout is a terminal: `COLUMNS` when set to a number, else the
/// terminal's own width; `None` when neither is known (then tables are not fitted).
pub(super) fn terminal_width() -> Option<u16> {
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<u16>().ok())
        .filter(|n| *n > 0)
    {
        return Some(n);
    }
    Comfy::new().width().filter(|w| *w > 0)
}

/// The words of a cell as comfy-table wraps them: lines split at spaces.
fn words(cell: &str) -> impl Iterator<Item = &str> {
    cell.lines().flat_map(|l| l.split(' '))
}

/// Columns whose longest word is at most this wide (instants, dates, codes, states) keep it
/// while wider ones (e-mail addresses, file names) give way, down to [`GIVE_WAY_TO`]: on 80
/// columns, `audit` keeps the whole instant of each change and shortens the subject instead.
const KEPT: usize = 20;
/// How far the columns wider than [`KEPT`] give way before every column shares the cut.
const GIVE_WAY_TO: usize = 12;

/// For each column, the width its cells may not be wrapped below: its longest word (header
/// included), lowered — the widest first, and the columns wider than [`KEPT`] before the
/// others — until the columns fit `available` characters (the width without borders and
/// padding). A column never gets less than 1.
fn word_floors(rows: &[Vec<String>], n: usize, available: usize) -> Vec<usize> {
    let mut floors = vec![1usize; n];
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(n) {
            let longest = words(cell).map(UnicodeWidthStr::width).max().unwrap_or(0);
            floors[i] = floors[i].max(longest);
        }
    }
    let wide: Vec<bool> = floors.iter().map(|&f| f > KEPT).collect();
    for (may_give, least) in [(&wide, GIVE_WAY_TO), (&vec![true; n], 1)] {
        while floors.iter().sum::<usize>() > available {
            let Some(i) = (0..n)
                .filter(|&i| may_give[i] && floors[i] > least)
                .max_by_key(|&i| (floors[i], std::cmp::Reverse(i)))
            else {
                break;
            };
            floors[i] -= 1;
        }
    }
    floors
}

/// `word` cut to at most `width` columns of terminal, ending with `…` when it was cut.
fn shorten(word: &str, width: usize) -> Cow<'_, str> {
    if word.width() <= width {
        return Cow::Borrowed(word);
    }
    let mut out = String::new();
    let mut used = 1; // the `…`
    for c in word.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    Cow::Owned(out)
}

/// The cell with every word longer than `width` shortened with `…`, so that comfy-table
/// only ever wraps it between words.
fn shorten_words(cell: &str, width: usize) -> String {
    cell.lines()
        .map(|l| {
            l.split(' ')
                .map(|w| shorten(w, width))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Fits the cells of a table `width` columns wide, of which `frame` are borders and
/// padding: shortens the words that cannot fit, and returns each column's floor.
fn fit(rows: &mut [Vec<String>], n: usize, width: u16, frame: usize) -> Vec<usize> {
    let floors = word_floors(rows, n, usize::from(width).saturating_sub(frame));
    for row in rows.iter_mut() {
        for (cell, &floor) in row.iter_mut().zip(&floors) {
            if words(cell).any(|w| w.width() > floor) {
                *cell = shorten_words(cell, floor);
            }
        }
    }
    floors
}

/// The printable text of every cell: the header first, then the rows.
fn printable_rows(t: &Table) -> Vec<Vec<String>> {
    std::iter::once(&t.headers)
        .chain(&t.rows)
        .map(|r| r.iter().map(|c| printable_lines(c).into_owned()).collect())
        .collect()
}

pub(super) fn comfy(t: &Table, style: Style) -> Comfy {
    let mut c = Comfy::new();
    c.load_style(if style.tty {
        presets::UTF8_FULL_CONDENSED
    } else {
        presets::ASCII_MARKDOWN
    });
    if !style.color {
        c.force_no_tty();
    }
    let mut rows = printable_rows(t);
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width = style.tty.then(terminal_width).flatten();
    // A border before every column and after the last, one space of padding each side.
    let floors = width.map(|w| fit(&mut rows, n, w, 3 * n + 1));
    match width {
        Some(w) => c
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(w),
        None => c.set_content_arrangement(ContentArrangement::Disabled),
    };
    let mut rows = rows.into_iter();
    c.set_header(rows.next().unwrap_or_default().into_iter().map(|h| {
        let cell = Cell::new(h);
        if style.color {
            cell.add_attribute(Attribute::Bold)
        } else {
            cell
        }
    }));
    for row in rows {
        c.add_row(row.into_iter().map(|v| {
            let color = match v.as_str() {
                _ if !style.color => None,
                "yes" | "met" | "ok" | "active" => Some(Color::Green),
                "no" | "not met" | "at-risk" | "lapsed" | "removed" => Some(Color::Red),
                "warning" | "renewal-due" => Some(Color::Yellow),
                _ => None,
            };
            let cell = Cell::new(v);
            match color {
                Some(color) => cell.fg(color),
                None => cell,
            }
        }));
    }
    if let Some(floors) = floors {
        // Padding is part of a constraint's width.
        c.set_constraints(floors.iter().map(|&f| {
            ColumnConstraint::LowerBoundary(Width::Fixed(u16::try_from(f + 2).unwrap_or(u16::MAX)))
        }));
    }
    c
}

/// Label / value pairs, one a line, the values aligned after the longest label. On a
/// terminal, a value too long for the width wraps between words under itself (comfy-table,
/// without borders), its too-long words shortened with `…`.
pub(super) fn fields(f: &[(String, String)], style: Style) -> String {
    let labels: Vec<String> = f
        .iter()
        .map(|(k, _)| format!("{}:", printable_lines(k)))
        .collect();
    let values: Vec<String> = f
        .iter()
        .map(|(_, v)| printable_lines(v).into_owned())
        .collect();
    let label_width = labels.iter().map(|l| l.width()).max().unwrap_or(0);
    let Some(width) = style.tty.then(terminal_width).flatten() else {
        let mut out = String::new();
        for (k, v) in labels.iter().zip(&values) {
            let pad = label_width - k.width();
            out.push_str(&format!("{k}{:pad$}  {v}\n", ""));
        }
        return out;
    };
    let mut rows: Vec<Vec<String>> = values.into_iter().map(|v| vec![v]).collect();
    let floors = fit(&mut rows, 1, width, label_width + 2);
    let mut c = Comfy::new();
    c.load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .force_no_tty();
    for (label, row) in labels.into_iter().zip(rows) {
        c.add_row([label, row.into_iter().next().unwrap_or_default()]);
    }
    let label_width = u16::try_from(label_width).unwrap_or(u16::MAX);
    let value_floor = u16::try_from(floors[0]).unwrap_or(u16::MAX);
    if let Some(col) = c.column_mut(0) {
        col.set_padding((0, 2))
            .set_constraint(ColumnConstraint::Absolute(Width::Fixed(label_width + 2)));
    }
    if let Some(col) = c.column_mut(1) {
        col.set_padding((0, 0))
            .set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(value_floor)));
    }
    let mut out = c.trim_fmt();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Format;

    fn on_terminal() -> Style {
        Style {
            format: Format::Table,
            color: false,
            tty: true,
        }
    }

    fn widest(s: &str) -> usize {
        s.lines().map(UnicodeWidthStr::width).max().unwrap_or(0)
    }

    #[test]
    fn long_words_are_shortened_never_split() {
        assert_eq!(shorten("ann.lee@contoso.com", 8), "ann.lee…");
        assert_eq!(shorten("ann", 8), "ann");
        assert_eq!(shorten("日本語テキスト", 5), "日本…");
        assert_eq!(shorten_words("one two\nthreefold", 4), "one two\nthr…");
    }

    #[test]
    fn floors_give_way_widest_first() {
        let rows = vec![
            vec!["Name".into(), "E-mail".into()],
            vec![
                "Maria Fernanda".into(),
                "maria.fernanda.delacruz@contoso.com".into(),
            ],
        ];
        assert_eq!(word_floors(&rows, 2, 100), vec![8, 35]);
        assert_eq!(word_floors(&rows, 2, 30), vec![8, 22]);
        assert_eq!(word_floors(&rows, 2, 1), vec![1, 1]);
        // An instant (20) keeps its width while an e-mail address gives way to 12.
        let audit = vec![
            vec!["At".into(), "Subject".into()],
            vec![
                "2026-01-01T00:00:00Z".into(),
                "maria.fernanda.delacruz@contoso.com".into(),
            ],
        ];
        assert_eq!(word_floors(&audit, 2, 34), vec![20, 14]);
        assert_eq!(word_floors(&audit, 2, 30), vec![18, 12]);
    }

    #[test]
    fn a_table_fits_the_width_between_words() {
        let mut t = Table::new(&["Name", "E-mail", "Detail"]);
        t.row([
            "Maria Fernanda de la Cruz Hernandez Oliveira",
            "maria.fernanda.delacruz.hernandez.oliveira@contoso.com",
            "imported from a file with a very long name indeed, twice over",
        ]);
        let mut rows = printable_rows(&t);
        let floors = fit(&mut rows, 3, 80, 10);
        assert!(floors.iter().sum::<usize>() <= 70, "{floors:?}");
        let mut c = Comfy::new();
        c.load_style(presets::UTF8_FULL_CONDENSED)
            .force_no_tty()
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(80);
        let mut it = rows.into_iter();
        c.set_header(it.next().unwrap());
        for r in it {
            c.add_row(r);
        }
        c.set_constraints(
            floors
                .iter()
                .map(|&f| ColumnConstraint::LowerBoundary(Width::Fixed(f as u16 + 2))),
        );
        let out = c.to_string();
        assert!(widest(&out) <= 80, "{out}");
        assert!(out.contains('…'), "{out}");
        for word in ["Maria", "Fernanda", "Hernandez", "Oliveira", "imported"] {
            assert!(out.contains(word), "{word}: {out}");
        }
    }

    #[test]
    fn control_characters_are_escaped_in_cells_and_fields() {
        let mut t = Table::new(&["Subject"]);
        t.row(["\u{1b}[31mred\u{7}"]);
        let style = Style {
            tty: false,
            ..on_terminal()
        };
        let out = comfy(&t, style).to_string();
        assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
        assert!(out.contains("\\u{1b}[31mred\\u{7}"), "{out}");
        let f = fields(&[("File".into(), "\u{202e}txt.exe".into())], style);
        assert_eq!(f, "File:  \\u{202e}txt.exe\n");
    }
}
