//! One data row of an import file: its line and span, the check of its shape (fields as
//! many as the header's, UTF-8, no quote left open at the end of the file) and its fields.

use csv::ByteRecord;

/// Without the line breaks the CSV reader counted into a record's span (a CR/LF pair may be
/// split between two records).
pub(in crate::domain::import) fn trim_eol(mut b: &[u8]) -> &[u8] {
    while let [b'\r' | b'\n', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b'\r' | b'\n'] = b {
        b = rest;
    }
    b
}

/// Whether a record's raw bytes end inside a quoted field (a `"` opened and never closed),
/// following the CSV reader's rules: a quote opens a field only at its start, `""` inside
/// is an escaped quote.
pub(super) fn unterminated_quote(raw: &[u8], delimiter: u8) -> bool {
    #[derive(PartialEq)]
    enum S {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut s = S::FieldStart;
    for &b in raw {
        s = match (s, b) {
            (S::FieldStart, b'"') => S::Quoted,
            (S::FieldStart | S::Unquoted | S::QuoteInQuoted, b'\n') => S::FieldStart,
            (S::FieldStart | S::Unquoted | S::QuoteInQuoted, d) if d == delimiter => S::FieldStart,
            (S::FieldStart | S::Unquoted, _) => S::Unquoted,
            (S::Quoted, b'"') => S::QuoteInQuoted,
            (S::Quoted, _) => S::Quoted,
            (S::QuoteInQuoted, b'"') => S::Quoted,
            (S::QuoteInQuoted, _) => S::Unquoted,
        };
    }
    s == S::Quoted
}

/// One data row.
pub struct Row<'a> {
    /// The row's last field opens a quote the file never closes.
    pub(super) unterminated: bool,
    pub(super) record: &'a ByteRecord,
    pub(super) line: u64,
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) header_len: usize,
}

impl Row<'_> {
    /// The line the row starts on.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The row's span in the file (reader positions).
    pub fn span(&self) -> (u64, u64) {
        (self.start, self.end)
    }

    /// Checks the row's shape: as many fields as the header, all UTF-8.
    pub fn check(&self) -> Result<(), String> {
        if self.unterminated {
            return Err("a quoted field opened on this line is never closed (a missing \")".into());
        }
        if self.record.len() != self.header_len {
            return Err(format!(
                "the row has {} fields; the header has {}",
                self.record.len(),
                self.header_len
            ));
        }
        for (i, f) in self.record.iter().enumerate() {
            if std::str::from_utf8(f).is_err() {
                return Err(format!("column {}: not valid UTF-8", i + 1));
            }
        }
        Ok(())
    }

    /// The field in file column `col` (empty when there is no such column); only call
    /// after [`Row::check`].
    pub fn get(&self, col: Option<usize>) -> &str {
        let Some(c) = col else { return "" };
        let mut b = self.record.get(c).unwrap_or_default();
        if c + 1 == self.record.len() {
            b = b.strip_suffix(b"\r").unwrap_or(b);
        }
        std::str::from_utf8(b).unwrap_or("")
    }

    /// The trimmed field, `None` when absent or blank.
    pub fn opt(&self, col: Option<usize>) -> Option<&str> {
        Some(self.get(col).trim()).filter(|s| !s.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unterminated_quotes_are_found() {
        for ok in [
            &b"a,b"[..],
            b"a,\"b\"\n",
            b"\"a\"\"b\",c",
            b"a,b\"c",
            b"\"x\ny\",z\r\n",
            b"\"\"",
        ] {
            assert!(
                !unterminated_quote(ok, b','),
                "{:?}",
                String::from_utf8_lossy(ok)
            );
        }
        for bad in [&b"a,\"b"[..], b"\"a\"\"b", b"a,\"b\nc\n", b"\""] {
            assert!(
                unterminated_quote(bad, b','),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn eol_trimmed_both_ends() {
        assert_eq!(trim_eol(b"\na,b\r\n"), b"a,b");
        assert_eq!(trim_eol(b"a,\"x\ny\""), b"a,\"x\ny\"");
    }
}
