//! From a problem to its place in the file: key paths, byte spans to lines, and lookups in
//! toml's spanned document tree. Built only when there is something to report; a valid
//! rulebook never pays for the tree.
//!
//! Invariant: every lookup is a binary search or a map lookup (counted in tests through
//! `examined`), so locating thousands of errors in a 4 MB rulebook stays linear.

use std::cell::OnceCell;
use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{MAX_COUNT, Metric, RulebookError, examined};

/// One segment of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Seg {
    Key(String),
    Index(usize),
}

/// A key path such as `competencies.cloud-platform.silver[0].people[0].count`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct KeyPath(pub(super) Vec<Seg>);

impl KeyPath {
    pub(super) fn key(&self, key: &str) -> KeyPath {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.to_string()));
        KeyPath(segs)
    }

    pub(super) fn index(&self, index: usize) -> KeyPath {
        let mut segs = self.0.clone();
        segs.push(Seg::Index(index));
        KeyPath(segs)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if is_bare_key(k) {
                        f.write_str(k)?;
                    } else {
                        write!(f, "{k:?}")?;
                    }
                }
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Whether a key can be written without quotes in TOML.
pub(super) fn is_bare_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The text being read, for turning spans into lines.
#[derive(Clone, Copy)]
pub(super) struct Source<'a> {
    pub(super) file: &'a str,
    pub(super) text: &'a str,
    /// The offsets of the text's line feeds, ascending, found at the first error: a line
    /// number is a binary search, not a count over the text (a rulebook with thousands of
    /// errors stays linear), and a valid rulebook never needs them.
    pub(super) newlines: &'a OnceCell<Vec<usize>>,
}

impl Source<'_> {
    pub(super) fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        let newlines = self.newlines.get_or_init(|| {
            self.text
                .bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i)
                .collect()
        });
        examined(newlines.len());
        1 + newlines.partition_point(|&n| n < end)
    }

    pub(super) fn error(
        &self,
        span: Range<usize>,
        key: &KeyPath,
        message: String,
    ) -> RulebookError {
        RulebookError {
            file: self.file.to_string(),
            line: self.line_of(span.start),
            key: key.to_string(),
            message,
        }
    }

    /// A syntax error (no document) or a serde error (`doc` to find the key it is under).
    pub(super) fn toml_error(
        &self,
        err: &toml::de::Error,
        doc: Option<&Spanned<DeTable<'_>>>,
    ) -> RulebookError {
        let span = err.span().unwrap_or(0..0);
        let key = doc.map(|doc| path_at(doc, &span)).unwrap_or_default();
        let message = explain(err.message(), &key);
        self.error(span, &key, message)
    }
}

/// Rewords serde's messages where a rulebook author deserves better, and keeps it on one line.
pub(super) fn explain(message: &str, key: &KeyPath) -> String {
    let one_line = message.trim().replace('\n', "; ");
    let last_key = key.0.iter().rev().find_map(|s| match s {
        Seg::Key(k) => Some(k.as_str()),
        Seg::Index(_) => None,
    });
    if one_line == "missing field `at_least`" {
        return "missing `at_least`: every metrics requirement needs its developed-market \
                threshold; `developing` only lowers it for developing markets"
            .to_string();
    }
    if last_key == Some("metric") && one_line.starts_with("unknown variant") {
        let names: Vec<&str> = Metric::ALL.iter().map(|m| m.as_str()).collect();
        let found = one_line
            .split('`')
            .nth(1)
            .map(|s| format!(" \"{s}\""))
            .unwrap_or_default();
        return format!(
            "unknown metric{found} (expected one of {})",
            names.join(", ")
        );
    }
    if last_key == Some("count") && one_line.starts_with("invalid value: integer") {
        return format!("count must be a whole number from 1 to {MAX_COUNT} ({one_line})");
    }
    one_line
        .replace("expected u32", "expected a whole number from 0 up")
        .replace("expected u64", "expected a whole number from 0 up")
        .replace("expected f64", "expected a number")
}

/// The key path of the innermost key or value whose span contains `span`.
pub(super) fn path_at(doc: &Spanned<DeTable<'_>>, span: &Range<usize>) -> KeyPath {
    pub(super) fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
        outer.start <= inner.start && inner.end <= outer.end
    }
    struct Best {
        width: usize,
        path: KeyPath,
    }
    pub(super) fn consider(
        best: &mut Best,
        candidate: &Range<usize>,
        target: &Range<usize>,
        path: &KeyPath,
    ) {
        if contains(candidate, target) {
            let width = candidate.end - candidate.start;
            if width < best.width || (width == best.width && path.0.len() > best.path.0.len()) {
                best.width = width;
                best.path = path.clone();
            }
        }
    }
    pub(super) fn visit(
        value: &DeValue<'_>,
        path: &KeyPath,
        target: &Range<usize>,
        best: &mut Best,
    ) {
        match value {
            DeValue::Table(table) => {
                for (k, v) in table.iter() {
                    let child = path.key(k.get_ref());
                    consider(best, &k.span(), target, &child);
                    consider(best, &v.span(), target, &child);
                    visit(v.get_ref(), &child, target, best);
                }
            }
            DeValue::Array(array) => {
                for (i, v) in array.iter().enumerate() {
                    let child = path.index(i);
                    consider(best, &v.span(), target, &child);
                    visit(v.get_ref(), &child, target, best);
                }
            }
            _ => {}
        }
    }
    let mut best = Best {
        width: usize::MAX,
        path: KeyPath::default(),
    };
    for (k, v) in doc.get_ref().iter() {
        let child = KeyPath::default().key(k.get_ref());
        consider(&mut best, &k.span(), span, &child);
        consider(&mut best, &v.span(), span, &child);
        visit(v.get_ref(), &child, span, &mut best);
    }
    best.path
}

/// Where a key path sits in the document: the span of its key (or array element), or of
/// the deepest prefix found when the path is not all there (a defaulted key).
pub(super) fn locate(doc: &Spanned<DeTable<'_>>, path: &KeyPath) -> Option<Range<usize>> {
    let mut span: Option<Range<usize>> = None;
    let mut table: Option<&DeTable<'_>> = Some(doc.get_ref());
    let mut value: Option<&DeValue<'_>> = None;
    for seg in &path.0 {
        let next = match seg {
            Seg::Key(key) => table
                .or_else(|| value.and_then(DeValue::as_table))
                // A map lookup, not a scan: with 45,000 competencies a scan per check made
                // validation quadratic (14 s).
                .and_then(|t| {
                    examined(t.len());
                    t.get_key_value(key.as_str())
                })
                .map(|(k, v)| (k.span(), v.get_ref())),
            Seg::Index(i) => value
                .and_then(DeValue::as_array)
                .and_then(|a| a.get(*i))
                .map(|v| (v.span(), v.get_ref())),
        };
        let Some((found, inner)) = next else { break };
        span = Some(found);
        table = None;
        value = Some(inner);
    }
    span
}
