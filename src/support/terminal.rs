//! What may reach a terminal: text made printable, and the one writer of messages on stderr.
//!
//! Invariant: no control character (ESC, CSI, BEL, `\r`, …) and no bidirectional override
//! from a stored or typed value reaches the terminal raw — a file name, an audit subject or
//! a CSV header could otherwise recolour, rewrite or reorder what the administrator reads.
//! Tables go through [`printable_lines`] in the output layer; every message on stderr goes
//! through [`message`], which escapes it the same way and never fails the command (a closed
//! stderr, as in `competency … 2>&1 | head -1`, is not an error: SPEC §2).

use std::borrow::Cow;
use std::io::Write;

use crate::rules::limits::{is_bidi_control, unsafe_char};

/// `s` with every control character and bidirectional override written as a visible Rust
/// escape (`\u{1b}`, `\r`, `\t`, `\u{202e}`); `s` itself when it has none (nearly always).
pub fn printable(s: &str) -> Cow<'_, str> {
    if unsafe_char(s).is_none() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() || is_bidi_control(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Like [`printable`], but line breaks stay line breaks: for a table cell or a message made
/// of several lines, where the program itself puts them.
pub fn printable_lines(s: &str) -> Cow<'_, str> {
    if !s.contains('\n') {
        return printable(s);
    }
    let lines: Vec<Cow<'_, str>> = s.split('\n').map(printable).collect();
    if lines.iter().all(|l| matches!(l, Cow::Borrowed(_))) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(lines.join("\n"))
    }
}

/// Writes one message (an error, warning, note, alert or informational line) on stderr,
/// made [`printable_lines`]. A failed write is ignored: the message has nowhere else to go,
/// and a closed stderr must not turn a finished command into a panic (`eprintln!` panics).
pub fn message(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", printable_lines(text));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_overrides_are_written_as_escapes() {
        assert_eq!(printable("plain ünïcode"), "plain ünïcode");
        assert!(matches!(printable("plain"), Cow::Borrowed(_)));
        assert_eq!(printable("\u{1b}[31mred"), "\\u{1b}[31mred");
        assert_eq!(printable("a\u{9b}2Jb"), "a\\u{9b}2Jb");
        assert_eq!(printable("bell\u{7}"), "bell\\u{7}");
        assert_eq!(printable("x\ry\tz\n"), "x\\ry\\tz\\n");
        assert_eq!(printable("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(printable("\u{2066}i\u{2069}"), "\\u{2066}i\\u{2069}");
        assert_eq!(printable_lines("one\ntwo\u{1b}"), "one\ntwo\\u{1b}");
        assert!(matches!(printable_lines("one\ntwo"), Cow::Borrowed(_)));
    }
}
