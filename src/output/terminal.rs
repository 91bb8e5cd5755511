//! Tables for people: comfy-table styled for a terminal or a pipe, with cells wrapped
//! between words so a table fits the terminal's width (never splitting a word).

use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table as Comfy, presets};

use super::{Style, Table};
use crate::support::terminal::printable_lines;

/// The width tables wrap to when stdout is a terminal: `COLUMNS` when set to a number, else
/// the terminal's own width; `None` when neither is known (then tables are not wrapped).
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

/// Display width of a cell's text in characters.
fn chars(s: &str) -> usize {
    s.chars().count()
}

/// The table with its cells wrapped between words so it fits `width` columns of terminal
/// (borders and padding included) when it can: the widest columns give way first, and no
/// column gets narrower than its longest word, so a word or an e-mail address is never
/// split (a table that cannot fit that way overflows instead).
pub(super) fn fit(t: &Table, width: u16) -> Table {
    let n = t.headers.len();
    if n == 0 {
        return t.clone();
    }
    let mut natural = vec![0usize; n];
    let mut least = vec![0usize; n];
    for row in std::iter::once(&t.headers).chain(&t.rows) {
        for (i, cell) in row.iter().enumerate().take(n) {
            for line in cell.lines() {
                natural[i] = natural[i].max(chars(line));
            }
            let longest = cell.split_whitespace().map(chars).max().unwrap_or(0);
            least[i] = least[i].max(longest);
        }
    }
    // A border before every column and after the last, one space of padding each side.
    let frame = 3 * n + 1;
    let available = usize::from(width).saturating_sub(frame);
    let mut widths = natural.clone();
    while widths.iter().sum::<usize>() > available {
        let Some(i) = (0..n)
            .filter(|&i| widths[i] > least[i].max(1))
            .max_by_key(|&i| (widths[i], std::cmp::Reverse(i)))
        else {
            break;
        };
        widths[i] -= 1;
    }
    let wrap_row = |row: &Vec<String>| -> Vec<String> {
        row.iter()
            .enumerate()
            .map(|(i, cell)| match widths.get(i) {
                Some(&w) if natural[i] > w => wrap_words(cell, w),
                _ => cell.clone(),
            })
            .collect()
    };
    Table {
        title: t.title.clone(),
        headers: wrap_row(&t.headers),
        rows: t.rows.iter().map(wrap_row).collect(),
    }
}

/// Greedy word wrap at `width` characters; a word longer than that keeps a line of its own.
fn wrap_words(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for (n, paragraph) in text.lines().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let mut line = 0;
        for word in paragraph.split_whitespace() {
            let w = chars(word);
            if line > 0 && line + 1 + w > width {
                out.push('\n');
                line = 0;
            } else if line > 0 {
                out.push(' ');
                line += 1;
            }
            out.push_str(word);
            line += w;
        }
    }
    out
}

pub(super) fn comfy(t: &Table, style: Style) -> Comfy {
    let mut c = Comfy::new();
    c.load_style(if style.tty {
        presets::UTF8_FULL_CONDENSED
    } else {
        presets::ASCII_MARKDOWN
    });
    // Wrapped to the terminal when stdout is one, colour or not, between words (see
    // [`fit`]); piped: never wrapped. comfy-table's own arrangement would split words.
    c.set_content_arrangement(ContentArrangement::Disabled);
    // Every cell printable: no control character or bidirectional override reaches the
    // terminal raw.
    let shown = Table {
        title: None,
        headers: t
            .headers
            .iter()
            .map(|h| printable_lines(h).into_owned())
            .collect(),
        rows: t
            .rows
            .iter()
            .map(|r| r.iter().map(|c| printable_lines(c).into_owned()).collect())
            .collect(),
    };
    let fitted;
    let t = match style.tty.then(terminal_width).flatten() {
        Some(w) => {
            fitted = fit(&shown, w);
            &fitted
        }
        None => &shown,
    };
    if !style.color {
        c.force_no_tty();
    }
    c.set_header(t.headers.iter().map(|h| {
        let cell = Cell::new(h);
        if style.color {
            cell.add_attribute(Attribute::Bold)
        } else {
            cell
        }
    }));
    for row in &t.rows {
        c.add_row(row.iter().map(|v| {
            let cell = Cell::new(v);
            if !style.color {
                return cell;
            }
            match v.as_str() {
                "yes" | "met" | "ok" | "active" => cell.fg(Color::Green),
                "no" | "not met" | "at-risk" | "lapsed" | "removed" => cell.fg(Color::Red),
                "warning" | "renewal-due" => cell.fg(Color::Yellow),
                _ => cell,
            }
        }));
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_fit_a_width_between_words_only() {
        assert_eq!(wrap_words("one two three", 7), "one two\nthree");
        assert_eq!(
            wrap_words("ann.lee@contoso.com x", 5),
            "ann.lee@contoso.com\nx"
        );
        let mut t = Table::new(&["Name", "E-mail"]);
        t.row([
            "Maria Fernanda de la Cruz Hernandez",
            "maria.fernanda@contoso.com",
        ]);
        let fitted = fit(&t, 50);
        // 3 * 2 + 1 columns of frame: 43 left, the e-mail keeps its 26.
        assert_eq!(fitted.rows[0][1], "maria.fernanda@contoso.com");
        assert!(fitted.rows[0][0].lines().all(|l| l.chars().count() <= 17));
        assert_eq!(
            fitted.rows[0][0].split_whitespace().collect::<Vec<_>>(),
            t.rows[0][0].split_whitespace().collect::<Vec<_>>()
        );
        // Too narrow for the words: overflows rather than splitting one.
        let narrow = fit(&t, 10);
        assert!(narrow.rows[0][1] == "maria.fernanda@contoso.com");
        assert!(narrow.rows[0][0].lines().any(|l| l == "Hernandez"));
    }
}
