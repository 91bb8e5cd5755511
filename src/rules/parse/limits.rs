//! The limits every input is held to, rulebooks and the rest alike: the years a date may fall
//! in, the most days a period may last, and the text that may reach a terminal.
//!
//! They live here because `rules` imports nothing of ours (DESIGN.md) while its validation
//! needs them; `support::clock` and `support::fields` re-export them for everyone else, so
//! there is one definition of each.

use chrono::{Datelike, NaiveDate};

/// The first year a date or instant given to the program may fall in.
pub const MIN_YEAR: i32 = 1900;
/// The last year a date or instant given to the program may fall in (and the last one
/// stored: dates are stored as `YYYY-MM-DD`).
pub const MAX_YEAR: i32 = 9999;
/// The largest count of days accepted anywhere (`valid_days`, `--expiring-within`, windows):
/// 100 years. With dates bounded to [`MIN_YEAR`]..=[`MAX_YEAR`], no date arithmetic on
/// accepted input leaves chrono's range.
pub const MAX_DAYS: u32 = 36_500;

/// The largest figure the program takes anywhere (a performance value, a threshold, the
/// value a designation item needs for its maximum): 10^15. Beyond it no figure is
/// plausible, and the arithmetic on one could print `inf` or a saturated number.
pub const MAX_FIGURE: f64 = 1e15;

/// Checks that a date lies within [`MIN_YEAR`]..=[`MAX_YEAR`].
pub fn in_range(d: NaiveDate) -> Result<NaiveDate, String> {
    if (MIN_YEAR..=MAX_YEAR).contains(&d.year()) {
        Ok(d)
    } else {
        Err(format!(
            "{d} is outside the years {MIN_YEAR} to {MAX_YEAR} the program works with"
        ))
    }
}

/// The last day the program works with: 9999-12-31.
pub fn last_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(MAX_YEAR, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// A computed date held to [`last_day`]: an expiry 100 years after a pass in 9990, a grace
/// period ending after 9999-12-31, lie past every date the program works with, and are
/// shown (and stored) as its last day, never as `+10000-…`.
pub fn capped(d: NaiveDate) -> NaiveDate {
    d.min(last_day())
}

/// How many characters of a bad value an error message quotes.
pub const SHOWN_CHARS: usize = 60;

/// A value quoted for an error message: escaped (no control characters reach the terminal)
/// and cut short, so a 5 MB field does not become a 5 MB error line.
pub fn shown(value: &str) -> String {
    let n = value.chars().count();
    if n <= SHOWN_CHARS {
        format!("{value:?}")
    } else {
        let head: String = value.chars().take(SHOWN_CHARS).collect();
        format!("{head:?}… ({n} characters)")
    }
}

/// Whether `c` is a bidirectional embedding, override or isolate (U+202A–U+202E,
/// U+2066–U+2069): invisible characters that reorder what a terminal or a spreadsheet shows
/// ("Trojan Source").
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The first character of `s` that must not reach a terminal or a report: a control
/// character (an escape sequence can clear the screen) or a bidirectional override.
pub fn unsafe_char(s: &str) -> Option<char> {
    s.chars().find(|&c| c.is_control() || is_bidi_control(c))
}

/// Why a text with [`unsafe_char`] `c` is refused: "a control character (U+001B)".
pub fn unsafe_char_reason(c: char) -> String {
    if is_bidi_control(c) {
        format!("a bidirectional override (U+{:04X})", u32::from(c))
    } else {
        format!("a control character (U+{:04X})", u32::from(c))
    }
}
