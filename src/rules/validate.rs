//! Parsing and validating a rulebook, with errors that name the file, the line and the key.
//!
//! A rulebook is read once, straight into the plain [`Rulebook`] types the engine uses, and
//! the semantic checks walk those types, building the key path as they go. Lines are found
//! only when there is something to report: then the text is read again as toml's spanned
//! document tree ([`DeTable`]), which remembers where every key and value sits. A serde
//! error's byte span is mapped back to a line and to the key path of the innermost key or
//! value that contains it; a check's key path is looked up in the tree to find its line. The
//! engine-facing types therefore stay free of spans, and a valid rulebook (the common case,
//! 45,000 competencies in 4 MB) pays for one parse and one pass, without the tree.

mod designations;
pub use designations::warnings;

use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::rulebook::{
    Benefits, CatalogEntry, Competency, Level, LevelOption, Metric, MetricRequirement,
    PeopleRequirement, Program, Rulebook, normalize_title,
};

/// The largest `count` a people requirement may ask for: anything above is a typo.
pub const MAX_COUNT: u32 = 100_000;

/// The most people requirements one option may have (the engine's requirement sets are
/// 64-bit masks).
pub const MAX_PEOPLE_REQUIREMENTS: usize = 64;

/// A rulebook that could not be read: where and why.
///
/// Displays on one line as `FILE:LINE: KEY: MESSAGE` (or `FILE:LINE: MESSAGE` when the
/// problem is not under a key, such as a TOML syntax error), e.g.
/// `rules.toml:42: competencies.cloud-platform.silver[0].people[0].any_of: code "70-999" is
/// not in the catalog (nearest: 70-533, 70-535)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RulebookError {
    /// The file name as given to [`Rulebook::parse`].
    pub file: String,
    /// The 1-based line of the offending key or value.
    pub line: usize,
    /// The key path, e.g. `competencies.cloud-platform.silver[0].people[0].count`; empty
    /// when the problem is not under a key.
    pub key: String,
    /// What is wrong, in one line.
    pub message: String,
}

impl fmt::Display for RulebookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// Codes longer than this get no suggestions.
const MAX_SUGGESTED_LEN: usize = 128;

/// The codes of `catalog` nearest to `code` by edit distance (ignoring case), closest
/// first, at most `n` of them. Codes too far away to be a plausible typo are left out, so
/// the result may be empty. Used to suggest codes for a misspelt one.
pub fn nearest_codes(catalog: &[CatalogEntry], code: &str, n: usize) -> Vec<String> {
    // No code is this long, so it is no typo of one; and the edit distance costs length
    // times length: a 5 MB "code" in an import took seconds per catalogue entry.
    if code.len() > MAX_SUGGESTED_LEN {
        return Vec::new();
    }
    let wanted = code.trim().to_lowercase();
    let wanted_len = wanted.chars().count();
    let mut scored: Vec<(usize, usize, &str)> = catalog
        .iter()
        .filter_map(|entry| {
            let candidate = entry.code.to_lowercase();
            let mut distance = strsim::levenshtein(&wanted, &candidate);
            // "o365" for "MCSA-O365": a fragment of a code is a plausible way to name it.
            let shorter = wanted_len.min(candidate.chars().count());
            if shorter >= 3 && (candidate.contains(&wanted) || wanted.contains(&candidate)) {
                distance = distance.min(1);
            }
            let limit = wanted_len.max(candidate.chars().count()) / 2;
            (distance <= limit.max(1)).then(|| {
                let prefix = wanted
                    .chars()
                    .zip(candidate.chars())
                    .take_while(|(a, b)| a == b)
                    .count();
                (distance, usize::MAX - prefix, entry.code.as_str())
            })
        })
        .collect();
    scored.sort_unstable();
    scored.dedup_by(|a, b| a.2 == b.2);
    scored
        .into_iter()
        .take(n)
        .map(|(_, _, c)| c.to_string())
        .collect()
}

/// The largest rulebook read, in bytes: the default is under 30 kB, so anything this big is
/// a wrong file, and refusing it up front bounds the time and memory parsing takes.
pub const MAX_RULEBOOK_BYTES: usize = 4 << 20;

/// Names the checks this file makes: change it whenever they get stricter, so a rulebook
/// stored under older checks is validated again rather than trusted.
const VALIDATION_VERSION: &str = "competency rulebook checks v3 (aliases, designations)";

/// The digest stored with a rulebook that passed validation: SHA-256 of the checks'
/// version and the text, in hex.
pub fn validated_digest(text: &str) -> String {
    use sha2::{Digest, Sha256};
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut h = Sha256::new();
    h.update(VALIDATION_VERSION.as_bytes());
    h.update([0u8]);
    h.update(text.as_bytes());
    let mut out = String::with_capacity(64);
    for &b in h.finalize().iter() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

/// Parses a rulebook that passed validation before (see [`validated_digest`]): straight into
/// the plain types, without the spanned tree or the checks.
pub(crate) fn parse_validated(text: &str, file: &str) -> Result<Rulebook, RulebookError> {
    toml::from_str(text).map_err(|e| {
        let newlines = OnceCell::new();
        let source = Source {
            file,
            text,
            newlines: &newlines,
        };
        source.toml_error(&e, None)
    })
}

/// Parses and validates; every problem found, earliest line first (a syntax or type error
/// stops the reading, so it comes alone).
pub(crate) fn parse_all(text: &str, file: &str) -> Result<Rulebook, Vec<RulebookError>> {
    if text.len() > MAX_RULEBOOK_BYTES {
        return Err(vec![RulebookError {
            file: file.to_string(),
            line: 1,
            key: String::new(),
            message: format!(
                "the file has {:.1} MB; a rulebook is at most {} MB (is this the right file?)",
                text.len() as f64 / 1e6,
                MAX_RULEBOOK_BYTES >> 20
            ),
        }]);
    }
    let newlines = OnceCell::new();
    let source = Source {
        file,
        text,
        newlines: &newlines,
    };
    // One parse into the plain types; the spanned tree only to locate an error.
    let rulebook: Rulebook = match toml::from_str(text) {
        Ok(rulebook) => rulebook,
        Err(e) => {
            return Err(vec![match DeTable::parse(text) {
                // A syntax error is not under a key.
                Err(syntax) => source.toml_error(&syntax, None),
                Ok(doc) => source.toml_error(&e, Some(&doc)),
            }]);
        }
    };
    let mut checker = Checker {
        source,
        text,
        doc: OnceCell::new(),
        empty_array: OnceCell::new(),
        errors: Vec::new(),
    };
    checker.rulebook(&rulebook);
    let mut errors = checker.errors;
    if errors.is_empty() {
        Ok(rulebook)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

#[cfg(test)]
thread_local! {
    /// Table entries examined by lookups, for the test that validation stays linear.
    static EXAMINED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// Spanned trees built by the checks, for the test that a valid rulebook needs none.
    static TREES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Accounts for one lookup among `len` sorted entries: a binary search, about log2(len)
/// steps. Counted only in tests (see `validation_work_grows_linearly`).
fn examined(len: usize) {
    #[cfg(test)]
    EXAMINED.with(|c| c.set(c.get() + u64::from(usize::BITS - len.leading_zeros()) + 1));
    let _ = len;
}

/// One segment of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// A key path such as `competencies.cloud-platform.silver[0].people[0].count`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct KeyPath(Vec<Seg>);

impl KeyPath {
    fn key(&self, key: &str) -> KeyPath {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.to_string()));
        KeyPath(segs)
    }

    fn index(&self, index: usize) -> KeyPath {
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
fn is_bare_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The text being read, for turning spans into lines.
#[derive(Clone, Copy)]
struct Source<'a> {
    file: &'a str,
    text: &'a str,
    /// The offsets of the text's line feeds, ascending, found at the first error: a line
    /// number is a binary search, not a count over the text (a rulebook with thousands of
    /// errors stays linear), and a valid rulebook never needs them.
    newlines: &'a OnceCell<Vec<usize>>,
}

impl Source<'_> {
    fn line_of(&self, offset: usize) -> usize {
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

    fn error(&self, span: Range<usize>, key: &KeyPath, message: String) -> RulebookError {
        RulebookError {
            file: self.file.to_string(),
            line: self.line_of(span.start),
            key: key.to_string(),
            message,
        }
    }

    /// A syntax error (no document) or a serde error (`doc` to find the key it is under).
    fn toml_error(
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
fn explain(message: &str, key: &KeyPath) -> String {
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
fn path_at(doc: &Spanned<DeTable<'_>>, span: &Range<usize>) -> KeyPath {
    fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
        outer.start <= inner.start && inner.end <= outer.end
    }
    struct Best {
        width: usize,
        path: KeyPath,
    }
    fn consider(best: &mut Best, candidate: &Range<usize>, target: &Range<usize>, path: &KeyPath) {
        if contains(candidate, target) {
            let width = candidate.end - candidate.start;
            if width < best.width || (width == best.width && path.0.len() > best.path.0.len()) {
                best.width = width;
                best.path = path.clone();
            }
        }
    }
    fn visit(value: &DeValue<'_>, path: &KeyPath, target: &Range<usize>, best: &mut Best) {
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
fn locate(doc: &Spanned<DeTable<'_>>, path: &KeyPath) -> Option<Range<usize>> {
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

/// The semantic checks, collecting every problem.
struct Checker<'a, 'd> {
    source: Source<'a>,
    /// The text again, for the spanned tree.
    text: &'d str,
    /// The spanned tree, parsed at the first question about where a key is: a valid
    /// rulebook seldom asks (only for a level or a code list written empty).
    doc: OnceCell<Spanned<DeTable<'d>>>,
    /// Whether the text may hold an empty array literal (see [`may_have_empty_array`]).
    empty_array: OnceCell<bool>,
    errors: Vec<RulebookError>,
}

/// Whether `text` may hold an empty array literal: a `[` followed, after white space and
/// comments, by `]`. Never a false no; a `[]` inside a string is a harmless false yes.
fn may_have_empty_array(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(open) = bytes[i..].iter().position(|&b| b == b'[') {
        let mut j = i + open + 1;
        loop {
            match bytes.get(j) {
                Some(b' ' | b'\t' | b'\r' | b'\n') => j += 1,
                Some(b'#') => {
                    j += bytes[j..]
                        .iter()
                        .position(|&b| b == b'\n')
                        .unwrap_or(bytes.len() - j)
                }
                Some(b']') => return true,
                _ => break,
            }
        }
        i += open + 1;
    }
    false
}

impl<'d> Checker<'_, 'd> {
    /// The spanned tree of the text (which parsed already, so this cannot fail; an empty
    /// tree stands in if it did, and errors would then show line 1).
    fn doc(&self) -> &Spanned<DeTable<'d>> {
        self.doc.get_or_init(|| {
            #[cfg(test)]
            TREES.with(|c| c.set(c.get() + 1));
            DeTable::parse(self.text).unwrap_or_else(|_| Spanned::new(0..0, DeTable::new()))
        })
    }

    fn report(&mut self, path: &KeyPath, message: String) {
        self.report_at(path, path, message);
    }

    /// Reports under `shown`, at the line of `at` (a more precise spot inside it).
    fn report_at(&mut self, shown: &KeyPath, at: &KeyPath, message: String) {
        let span = locate(self.doc(), at).unwrap_or(0..0);
        let error = self.source.error(span, shown, message);
        self.errors.push(error);
    }

    /// Whether the key, a list that came out empty, is written in the file (as opposed to
    /// defaulted). Only an empty array literal gives an empty list, so a text without one
    /// answers no without the spanned tree.
    fn written(&self, path: &KeyPath) -> bool {
        let Some(Seg::Key(last)) = path.0.last() else {
            return false;
        };
        if !*self
            .empty_array
            .get_or_init(|| may_have_empty_array(self.text))
        {
            return false;
        }
        let parent = KeyPath(path.0[..path.0.len() - 1].to_vec());
        // Walk down explicitly: `locate` stops at the deepest prefix, which is not presence.
        let mut value: Option<&DeValue<'_>> = None;
        let mut table = Some(self.doc().get_ref());
        for seg in &parent.0 {
            let next = match seg {
                Seg::Key(key) => table
                    .or_else(|| value.and_then(DeValue::as_table))
                    .and_then(|t| {
                        examined(t.len());
                        t.get(key.as_str())
                    })
                    .map(|v| v.get_ref()),
                Seg::Index(i) => value
                    .and_then(DeValue::as_array)
                    .and_then(|a| a.get(*i))
                    .map(|v| v.get_ref()),
            };
            let Some(next) = next else { return false };
            table = None;
            value = Some(next);
        }
        table
            .or_else(|| value.and_then(DeValue::as_table))
            .is_some_and(|t| {
                examined(t.len());
                t.contains_key(last.as_str())
            })
    }

    fn rulebook(&mut self, rulebook: &Rulebook) {
        let root = KeyPath::default();
        self.program(&rulebook.program, &root.key("program"));
        self.benefits(&rulebook.benefits, &root.key("benefits"));
        let codes = self.catalog(&rulebook.catalog, &root.key("catalog"));
        if rulebook.competencies.is_empty() && rulebook.designations.is_empty() {
            // A rulebook without competencies or designations evaluates to nothing: surely
            // a wrong or truncated file.
            self.report(
                &root.key("competencies"),
                "the rulebook defines no competencies and no designations: add at least one \
                 [competencies.ID] or [designations.ID] section"
                    .into(),
            );
        }
        self.competencies(rulebook, &codes, &root.key("competencies"));
        self.designation_program(&rulebook.program, &root.key("program"));
        self.designations(rulebook, &codes, &root.key("designations"));
    }

    /// Refuses a text that would reach a terminal with a control character (`\u001b[2J`
    /// clears the screen in `competencies list`) or a bidirectional override.
    fn text(&mut self, path: &KeyPath, value: &str) {
        if let Some(c) = super::limits::unsafe_char(value) {
            self.report(
                path,
                format!(
                    "{} contains {}",
                    super::limits::shown(value),
                    super::limits::unsafe_char_reason(c)
                ),
            );
        }
    }

    fn program(&mut self, program: &Program, path: &KeyPath) {
        if program.name.trim().is_empty() {
            self.report(&path.key("name"), "the program needs a name".into());
        }
        self.text(&path.key("name"), &program.name);
        let ranges: [(&str, u32, u32, u32, &str); 6] = [
            (
                "progress_delay_hours",
                program.progress_delay_hours,
                0,
                24 * 365,
                "hours",
            ),
            ("term_months", program.term_months, 1, 120, "months"),
            (
                "renewal_opens_days",
                program.renewal_opens_days,
                0,
                365,
                "days",
            ),
            ("grace_days", program.grace_days, 0, 365, "days"),
            (
                "metric_window_days",
                program.metric_window_days,
                1,
                3650,
                "days",
            ),
            (
                "retired_grace_months",
                program.retired_grace_months,
                0,
                120,
                "months",
            ),
        ];
        for (key, value, low, high, unit) in ranges {
            if !(low..=high).contains(&value) {
                self.report(
                    &path.key(key),
                    format!("{value} {unit} makes no sense: expected {low} to {high}"),
                );
            }
        }
        // The renewal window opens inside the term, or renewal would be open all the time.
        let shortest_term_days = u64::from(program.term_months) * 28;
        if program.term_months >= 1 && u64::from(program.renewal_opens_days) >= shortest_term_days {
            self.report(
                &path.key("renewal_opens_days"),
                format!(
                    "renewal would open {} days before the anniversary, but the term is only {} months",
                    program.renewal_opens_days, program.term_months
                ),
            );
        }
    }

    fn benefits(&mut self, benefits: &Benefits, path: &KeyPath) {
        for level in Level::ALL {
            let list = match level {
                Level::Silver => &benefits.silver,
                Level::Gold => &benefits.gold,
            };
            let level_path = path.key(level.as_str());
            for (i, benefit) in list.iter().enumerate() {
                if benefit.trim().is_empty() {
                    self.report(&level_path.index(i), "a benefit cannot be empty".into());
                }
                self.text(&level_path.index(i), benefit);
            }
        }
    }

    /// Checks the catalogue and returns its codes.
    fn catalog(&mut self, catalog: &[CatalogEntry], path: &KeyPath) -> HashSet<String> {
        let mut first_at: HashMap<&str, usize> = HashMap::new();
        for (i, entry) in catalog.iter().enumerate() {
            let entry_path = path.index(i);
            if entry.code.trim().is_empty() || entry.code.trim() != entry.code {
                self.report(
                    &entry_path.key("code"),
                    format!(
                        "code {:?} must be non-empty, without surrounding spaces",
                        entry.code
                    ),
                );
            }
            if entry.title.trim().is_empty() {
                self.report(&entry_path.key("title"), "the title cannot be empty".into());
            }
            self.text(&entry_path.key("code"), &entry.code);
            self.text(&entry_path.key("title"), &entry.title);
            if entry.valid_days == Some(0) {
                self.report(
                    &entry_path.key("valid_days"),
                    "valid_days must be at least 1 (leave it out for achievements that never expire)"
                        .into(),
                );
            }
            if let Some(days) = entry.valid_days.filter(|&d| d > super::limits::MAX_DAYS) {
                self.report(
                    &entry_path.key("valid_days"),
                    format!(
                        "valid_days {days} makes no sense: at most {} (100 years)",
                        super::limits::MAX_DAYS
                    ),
                );
            }
            if let Some(Err(e)) = entry.retired.map(super::limits::in_range) {
                self.report(&entry_path.key("retired"), e);
            }
            if let Some(first) = first_at.insert(entry.code.as_str(), i) {
                let first_line = self.source.line_of(
                    locate(self.doc(), &path.index(first).key("code")).map_or(0, |s| s.start),
                );
                self.report(
                    &entry_path.key("code"),
                    format!(
                        "duplicate catalog code {:?} (first defined at line {first_line})",
                        entry.code
                    ),
                );
                first_at.insert(entry.code.as_str(), first);
            }
        }
        self.aliases(catalog, path);
        catalog.iter().map(|e| e.code.clone()).collect()
    }

    /// Checks that a Partner Center title names at most one entry: an alias may not be
    /// empty nor equal (ignoring case and runs of spaces) another entry's title or alias.
    fn aliases(&mut self, catalog: &[CatalogEntry], path: &KeyPath) {
        let mut titles: HashMap<String, usize> = HashMap::new();
        for (i, entry) in catalog.iter().enumerate() {
            titles.entry(normalize_title(&entry.title)).or_insert(i);
        }
        let mut seen: HashMap<String, (usize, usize)> = HashMap::new();
        for (i, entry) in catalog.iter().enumerate() {
            for (j, alias) in entry.aliases.iter().enumerate() {
                let alias_path = path.index(i).key("aliases").index(j);
                let norm = normalize_title(alias);
                if norm.is_empty() {
                    self.report(&alias_path, "an alias cannot be empty".into());
                    continue;
                }
                let clash = if let Some(&k) = titles.get(&norm).filter(|&&k| k != i) {
                    Some((k, path.index(k).key("title"), "the title"))
                } else if let Some(&(k, m)) = seen.get(&norm).filter(|(k, _)| *k != i) {
                    Some((k, path.index(k).key("aliases").index(m), "an alias"))
                } else {
                    seen.entry(norm).or_insert((i, j));
                    None
                };
                if let Some((k, at, what)) = clash {
                    let line = self
                        .source
                        .line_of(locate(self.doc(), &at).map_or(0, |s| s.start));
                    self.report(
                        &alias_path,
                        format!(
                            "alias {:?} is already {what} of catalog entry {:?} (line {line}): \
                             a Partner Center title must name one entry",
                            alias, catalog[k].code
                        ),
                    );
                }
            }
        }
    }

    fn competencies(&mut self, rulebook: &Rulebook, codes: &HashSet<String>, path: &KeyPath) {
        let competencies: &BTreeMap<String, Competency> = &rulebook.competencies;
        for (id, competency) in competencies {
            let comp_path = path.key(id);
            if !is_kebab_id(id) {
                self.report(
                    &comp_path,
                    format!(
                        "competency id {id:?} must be kebab-case: lower-case letters and digits joined by single hyphens"
                    ),
                );
            }
            if competency.name.trim().is_empty() {
                self.report(&comp_path.key("name"), "the competency needs a name".into());
            }
            self.text(&comp_path.key("name"), &competency.name);
            self.text(&comp_path.key("area"), &competency.area);
            if competency.silver.is_empty() && competency.gold.is_empty() {
                self.report(
                    &comp_path,
                    format!(
                        "the competency has no options at silver or gold: add a \
                         [[competencies.{id}.silver]] or [[competencies.{id}.gold]] option"
                    ),
                );
            }
            for level in Level::ALL {
                let level_path = comp_path.key(level.as_str());
                let options = competency.options(level);
                if options.is_empty() && self.written(&level_path) {
                    self.report(
                        &level_path,
                        format!("the {level} level is empty: add an option or remove the key"),
                    );
                }
                self.options(options, codes, rulebook, &level_path);
            }
            if let Some(benefits) = &competency.benefits {
                self.benefits(benefits, &comp_path.key("benefits"));
            }
        }
    }

    fn options(
        &mut self,
        options: &[LevelOption],
        codes: &HashSet<String>,
        rulebook: &Rulebook,
        path: &KeyPath,
    ) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, option) in options.iter().enumerate() {
            let option_path = path.index(i);
            let name = option.option.trim();
            self.text(&option_path.key("option"), &option.option);
            if name.is_empty() {
                self.report(&option_path.key("option"), "the option needs a name".into());
            } else if let Some(first) = seen.insert(name, i) {
                self.report(
                    &option_path.key("option"),
                    format!("duplicate option name {name:?} (also {path}[{first}])"),
                );
                seen.insert(name, first);
            }
            if option.people.is_empty() && option.metrics.is_empty() {
                self.report(
                    &option_path,
                    format!(
                        "option {:?} has no requirements: add `people` or `metrics`",
                        option.option
                    ),
                );
            }
            if option.people.len() > MAX_PEOPLE_REQUIREMENTS {
                // The engine assigns people to requirements over a 64-bit set of them.
                self.report(
                    &option_path.key("people"),
                    format!(
                        "option {:?} has {} people requirements; at most {MAX_PEOPLE_REQUIREMENTS} are supported",
                        option.option,
                        option.people.len()
                    ),
                );
            }
            for (j, people) in option.people.iter().enumerate() {
                self.people(people, codes, rulebook, &option_path.key("people").index(j));
            }
            for (j, metric) in option.metrics.iter().enumerate() {
                self.metric(metric, &option_path.key("metrics").index(j));
            }
        }
    }

    fn people(
        &mut self,
        req: &PeopleRequirement,
        codes: &HashSet<String>,
        rulebook: &Rulebook,
        path: &KeyPath,
    ) {
        if req.count < 1 {
            self.report(&path.key("count"), "count must be at least 1".to_string());
        } else if req.count > MAX_COUNT {
            self.report(
                &path.key("count"),
                format!("count {} is absurd: at most {MAX_COUNT}", req.count),
            );
        }
        let all_of = path.key("all_of");
        let any_of = path.key("any_of");
        if req.all_of.is_empty() && req.any_of.is_empty() {
            let (written_all, written_any) = (self.written(&all_of), self.written(&any_of));
            let message = "a people requirement needs `all_of` or `any_of` codes".to_string();
            match (written_all, written_any) {
                (_, true) => self.report(&any_of, message),
                (true, false) => self.report(&all_of, message),
                (false, false) => self.report(path, message),
            }
        } else {
            if req.any_of.is_empty() && self.written(&any_of) {
                self.report(
                    &any_of,
                    "any_of is empty: list alternatives or remove it".into(),
                );
            }
            if req.all_of.is_empty() && self.written(&all_of) {
                self.report(&all_of, "all_of is empty: list codes or remove it".into());
            }
        }
        for (i, alternative) in req.any_of.iter().enumerate() {
            if alternative.is_empty() {
                self.report_at(
                    &any_of,
                    &any_of.index(i),
                    format!(
                        "alternative {i} of any_of is an empty list: it would let anyone count"
                    ),
                );
            }
        }
        let mut listed: Vec<(&KeyPath, KeyPath, &String)> = Vec::new();
        for (i, code) in req.all_of.iter().enumerate() {
            listed.push((&all_of, all_of.index(i), code));
        }
        for (i, alternative) in req.any_of.iter().enumerate() {
            for (j, code) in alternative.iter().enumerate() {
                listed.push((&any_of, any_of.index(i).index(j), code));
            }
        }
        for (shown, at, code) in listed {
            if !codes.contains(code) {
                let nearest = nearest_codes(&rulebook.catalog, code, 3);
                let hint = if nearest.is_empty() {
                    String::new()
                } else {
                    format!(" (nearest: {})", nearest.join(", "))
                };
                self.report_at(
                    shown,
                    &at,
                    format!("code {code:?} is not in the catalog{hint}"),
                );
            }
        }
    }

    fn metric(&mut self, req: &MetricRequirement, path: &KeyPath) {
        let thresholds = [
            ("at_least", Some(req.at_least)),
            ("developing", req.developing),
        ];
        for (key, value) in thresholds {
            let Some(value) = value else { continue };
            if !value.is_finite() {
                self.report(&path.key(key), format!("{key} must be a finite number"));
            } else if value < 0.0 {
                self.report(
                    &path.key(key),
                    format!("{key} is {value}: a threshold cannot be negative"),
                );
            }
        }
        if req.scope.as_deref().is_some_and(|s| s.trim().is_empty()) {
            self.report(
                &path.key("scope"),
                "scope is empty: name a scope or remove the key to count every record".into(),
            );
        }
        if let Some(scope) = &req.scope {
            self.text(&path.key("scope"), scope);
        }
        if req.window_days == Some(0) {
            self.report(
                &path.key("window_days"),
                "window_days must be at least 1 (leave it out for the program's window)".into(),
            );
        }
        if let Some(days) = req.window_days.filter(|&d| d > super::limits::MAX_DAYS) {
            self.report(
                &path.key("window_days"),
                format!(
                    "window_days {days} makes no sense: at most {} (100 years)",
                    super::limits::MAX_DAYS
                ),
            );
        }
    }
}

/// Lower-case letters and digits joined by single hyphens: `cloud-platform`.
fn is_kebab_id(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid rulebook the cases below break one way each.
    const BASE: &str = r#"[program]
name = "P"

[[catalog]]
code = "70-533"
title = "Implementing Microsoft Azure Infrastructure Solutions"
kind = "exam"

[[catalog]]
code = "70-535"
title = "Architecting Microsoft Azure Solutions"
kind = "exam"

[[catalog]]
code = "MCSA-O365"
title = "MCSA: Office 365"
kind = "certification"

[competencies.cloud]
name = "Cloud"

[[competencies.cloud.silver]]
option = "A"
people = [ { count = 1, any_of = [["70-533"], ["70-535"]] } ]
metrics = [ { metric = "revenue", at_least = 100, developing = 50 } ]
"#;

    /// A rulebook with `n` competencies, each with a silver and a gold option, every tenth
    /// naming a code not in the catalogue (errors are located and numbered too).
    fn generated(n: usize) -> String {
        let mut text = String::from(BASE);
        for i in 0..n {
            let code = if i % 10 == 0 { "NOPE-1" } else { "70-533" };
            text.push_str(&format!(
                "\n[competencies.gen-{i}]\nname = \"Generated {i}\"\n\
                 [[competencies.gen-{i}.silver]]\noption = \"S\"\n\
                 people = [ {{ count = 1, any_of = [[\"{code}\"]] }} ]\n\
                 [[competencies.gen-{i}.gold]]\noption = \"G\"\n\
                 metrics = [ {{ metric = \"revenue\", at_least = 10 }} ]\n"
            ));
        }
        text
    }

    /// Issue 10: validation was quadratic (every check scanned the competencies table to
    /// find its line: 45,000 competencies took 14 s). Counted, not timed: the lookups'
    /// work per competency must not grow with the number of competencies (beyond the
    /// logarithm of a binary search).
    #[test]
    fn validation_work_grows_linearly() {
        let work = |n: usize| {
            let text = generated(n);
            EXAMINED.with(|c| c.set(0));
            let errors = Rulebook::parse_all(&text, "big.toml").unwrap_err();
            assert_eq!(errors.len(), n.div_ceil(10), "every tenth has a bad code");
            EXAMINED.with(std::cell::Cell::get) as f64 / n as f64
        };
        let (small, large) = (work(500), work(8_000));
        assert!(
            large < small * 1.6,
            "work per competency grew from {small:.1} to {large:.1} for 16 times as many"
        );
    }

    /// Issue 10: a valid rulebook is read once into the plain types and checked in one pass;
    /// the spanned tree (which cost more time and memory than the rest) is built only to
    /// locate a problem.
    #[test]
    fn valid_rulebooks_are_checked_without_the_spanned_tree() {
        let trees = |text: &str| {
            TREES.with(|c| c.set(0));
            let result = Rulebook::parse_all(text, "big.toml");
            (result.is_ok(), TREES.with(std::cell::Cell::get))
        };
        // A level left out (no Gold here) is asked about and answered without the tree.
        let valid = format!(
            "{BASE}\n[competencies.only-silver]\nname = \"S\"\n\
             silver = [ {{ option = \"S\", people = [ {{ count = 1, all_of = [\"70-533\"] }} ] }} ]\n"
        );
        assert_eq!(trees(&valid), (true, 0));
        assert_eq!(trees(&generated(0)), (true, 0));
        // A problem needs its line: the tree is built once, however many problems.
        assert_eq!(trees(&generated(50)), (false, 1));
        // A level written empty is found through the tree.
        let empty = format!("{BASE}\n[competencies.half]\nname = \"H\"\nsilver = [ ]\n");
        assert_eq!(trees(&empty), (false, 1));
    }

    #[test]
    fn empty_array_literals_are_never_missed() {
        for text in [
            "a = []",
            "a = [ ]",
            "a = [\n  # none yet\n]",
            "a = [[]]",
            "a = [\r\n]",
            "a = [ # c ]\n ]",
        ] {
            assert!(may_have_empty_array(text), "{text:?}");
        }
        for text in [
            "[[catalog]]\na = [1]",
            "a = [ \"x\" ]",
            "a = [",
            "",
            "[a]\nb = 1",
        ] {
            assert!(!may_have_empty_array(text), "{text:?}");
        }
    }

    /// A rulebook that passed is trusted by its digest: the digest changes with the text, and
    /// the trusted parse gives the same rulebook.
    #[test]
    fn validated_rulebooks_are_recognised_by_digest() {
        let checked = Rulebook::parse(BASE, "rules.toml").unwrap();
        assert_eq!(
            Rulebook::parse_validated(BASE, "rules.toml").unwrap(),
            checked
        );
        assert_eq!(validated_digest(BASE), validated_digest(BASE));
        assert_ne!(
            validated_digest(BASE),
            validated_digest(&format!("{BASE}\n"))
        );
        assert_eq!(validated_digest(BASE).len(), 64);
    }

    #[test]
    fn base_is_valid() {
        let rulebook = Rulebook::parse(BASE, "rules.toml").unwrap();
        assert_eq!(rulebook.competencies["cloud"].silver[0].people[0].count, 1);
    }

    /// The 1-based line holding the `# <-` marker.
    fn marked_line(text: &str) -> usize {
        text.lines()
            .position(|l| l.contains("# <-"))
            .expect("a case marks its line with # <-")
            + 1
    }

    /// Each case: name, text, expected key, a fragment of the message. The expected line is
    /// the one marked `# <-`.
    fn cases() -> Vec<(&'static str, String, &'static str, &'static str)> {
        vec![
            (
                "toml syntax error",
                BASE.replace("name = \"P\"", "name = \"P # <-"),
                "",
                "",
            ),
            (
                "unknown key in program",
                BASE.replace("name = \"P\"", "name = \"P\"\ncolour = 1 # <-"),
                "program.colour",
                "unknown field `colour`",
            ),
            (
                "unknown top-level key",
                format!("{BASE}\n[extras] # <-\nx = 1\n"),
                "extras",
                "unknown field `extras`",
            ),
            (
                "unknown key in a people requirement",
                BASE.replace("[\"70-535\"]] } ]", "[\"70-535\"]], some = 1 } ] # <-"),
                "competencies.cloud.silver[0].people[0].some",
                "unknown field `some`",
            ),
            (
                "wrong type",
                BASE.replace("name = \"P\"", "name = \"P\"\nterm_months = \"twelve\" # <-"),
                "program.term_months",
                "invalid type: string \"twelve\"",
            ),
            (
                "wrong kind",
                BASE.replace("kind = \"certification\"", "kind = \"quiz\" # <-"),
                "catalog[2].kind",
                "unknown variant `quiz`",
            ),
            (
                "retired not a date",
                BASE.replace(
                    "kind = \"certification\"",
                    "kind = \"certification\"\nretired = \"2019\" # <-",
                ),
                "catalog[2].retired",
                "",
            ),
            (
                "code not in the catalogue",
                BASE.replace("[\"70-535\"]] } ]", "[\"70-539\"]] } ] # <-"),
                "competencies.cloud.silver[0].people[0].any_of",
                "code \"70-539\" is not in the catalog (nearest: 70-533, 70-535)",
            ),
            (
                "all_of code not in the catalogue",
                BASE.replace("count = 1,", "count = 1, all_of = [\"MCSA-0365\"], # <-\n"),
                "competencies.cloud.silver[0].people[0].all_of",
                "code \"MCSA-0365\" is not in the catalog (nearest: MCSA-O365)",
            ),
            (
                "code on its own line in a multi-line any_of",
                BASE.replace(
                    "any_of = [[\"70-533\"], [\"70-535\"]]",
                    "any_of = [\n  [\"70-533\"],\n  [\"nonsense-code-zz\"], # <-\n]",
                ),
                "competencies.cloud.silver[0].people[0].any_of",
                "code \"nonsense-code-zz\" is not in the catalog",
            ),
            (
                "duplicate catalogue code",
                BASE.replace("code = \"70-535\"", "code = \"70-533\" # <-"),
                "catalog[1].code",
                "duplicate catalog code \"70-533\" (first defined at line 5)",
            ),
            (
                "count zero",
                BASE.replace(
                    "people = [ { count = 1,",
                    "people = [\n  { count = 0, # <-\n",
                ),
                "competencies.cloud.silver[0].people[0].count",
                "count must be at least 1",
            ),
            (
                "count absurd",
                BASE.replace("count = 1", "count = 200000 # <-\n"),
                "competencies.cloud.silver[0].people[0].count",
                "count 200000 is absurd",
            ),
            (
                "count negative",
                BASE.replace("count = 1", "count = -1 # <-\n"),
                "competencies.cloud.silver[0].people[0].count",
                "count must be a whole number from 1 to 100000",
            ),
            (
                "competency without options",
                format!("{BASE}\n[competencies.empty] # <-\nname = \"E\"\n"),
                "competencies.empty",
                "no options at silver or gold",
            ),
            (
                "explicitly empty level",
                format!(
                    "{BASE}\n[competencies.half]\nname = \"H\"\nsilver = [] # <-\n\
                     gold = [ {{ option = \"G\", metrics = [ {{ metric = \"revenue\", at_least = 1 }} ] }} ]\n"
                ),
                "competencies.half.silver",
                "the silver level is empty",
            ),
            (
                "option without requirements",
                format!("{BASE}\n[[competencies.cloud.gold]] # <-\noption = \"B\"\n"),
                "competencies.cloud.gold[0]",
                "option \"B\" has no requirements",
            ),
            (
                "unknown metric",
                BASE.replace("metric = \"revenue\",", "metric = \"profit\", # <-\n"),
                "competencies.cloud.silver[0].metrics[0].metric",
                "unknown metric \"profit\" (expected one of revenue, active-usage",
            ),
            (
                "duplicate option name",
                format!(
                    "{BASE}\n[[competencies.cloud.silver]]\noption = \"A\" # <-\n\
                     metrics = [ {{ metric = \"new-customers\", at_least = 3 }} ]\n"
                ),
                "competencies.cloud.silver[1].option",
                "duplicate option name \"A\"",
            ),
            (
                "developing without at_least",
                BASE.replace(
                    "metrics = [ { metric = \"revenue\", at_least = 100, developing = 50 } ]",
                    "metrics = [\n  { metric = \"revenue\", developing = 50 }, # <-\n]",
                ),
                "competencies.cloud.silver[0].metrics[0]",
                "missing `at_least`",
            ),
            (
                "developing without at_least in a table",
                BASE.replace(
                    "metrics = [ { metric = \"revenue\", at_least = 100, developing = 50 } ]",
                    "[[competencies.cloud.silver.metrics]] # <-\nmetric = \"revenue\"\ndeveloping = 50",
                ),
                "competencies.cloud.silver[0].metrics[0]",
                "missing `at_least`",
            ),
            (
                "negative at_least",
                BASE.replace("at_least = 100,", "at_least = -100, # <-\n"),
                "competencies.cloud.silver[0].metrics[0].at_least",
                "cannot be negative",
            ),
            (
                "negative developing",
                BASE.replace("developing = 50", "developing = -0.5 # <-\n"),
                "competencies.cloud.silver[0].metrics[0].developing",
                "cannot be negative",
            ),
            (
                "nan threshold",
                BASE.replace("at_least = 100,", "at_least = nan, # <-\n"),
                "competencies.cloud.silver[0].metrics[0].at_least",
                "finite",
            ),
            (
                "people without codes",
                BASE.replace(
                    "people = [ { count = 1, any_of = [[\"70-533\"], [\"70-535\"]] } ]",
                    "people = [ { count = 1 } ] # <-",
                ),
                "competencies.cloud.silver[0].people[0]",
                "needs `all_of` or `any_of`",
            ),
            (
                "empty any_of",
                BASE.replace(
                    "any_of = [[\"70-533\"], [\"70-535\"]]",
                    "all_of = [\"70-533\"],\n any_of = [] # <-\n",
                ),
                "competencies.cloud.silver[0].people[0].any_of",
                "any_of is empty",
            ),
            (
                "empty any_of alone",
                BASE.replace(
                    "any_of = [[\"70-533\"], [\"70-535\"]]",
                    "\n any_of = [] # <-\n",
                ),
                "competencies.cloud.silver[0].people[0].any_of",
                "needs `all_of` or `any_of`",
            ),
            (
                "empty alternative in any_of",
                BASE.replace("any_of = [[\"70-533\"], [\"70-535\"]]", "any_of = [[\"70-533\"], []] # <-\n"),
                "competencies.cloud.silver[0].people[0].any_of",
                "alternative 1 of any_of is an empty list",
            ),
            (
                "term of zero months",
                BASE.replace("name = \"P\"", "name = \"P\"\nterm_months = 0 # <-"),
                "program.term_months",
                "0 months makes no sense",
            ),
            (
                "metric window of zero days",
                BASE.replace("name = \"P\"", "name = \"P\"\nmetric_window_days = 0 # <-"),
                "program.metric_window_days",
                "0 days makes no sense",
            ),
            (
                "renewal window longer than the term",
                BASE.replace("name = \"P\"", "name = \"P\"\nrenewal_opens_days = 400 # <-"),
                "program.renewal_opens_days",
                "",
            ),
            (
                "empty program name",
                BASE.replace("name = \"P\"", "name = \"\" # <-"),
                "program.name",
                "needs a name",
            ),
            (
                "missing program",
                format!("# <-\n{}", BASE.replace("[program]\nname = \"P\"\n", "")),
                "",
                "missing field `program`",
            ),
            (
                "competency id not kebab-case",
                BASE.replace("[competencies.cloud]", "[competencies.Cloud_Platform] # <-")
                    .replace("competencies.cloud.silver", "competencies.Cloud_Platform.silver"),
                "competencies.Cloud_Platform",
                "kebab-case",
            ),
            (
                "valid_days beyond 100 years",
                BASE.replace("kind = \"certification\"", "kind = \"certification\"\nvalid_days = 4000000000 # <-"),
                "catalog[2].valid_days",
                "at most 36500",
            ),
            (
                "escape sequence in a competency name",
                BASE.replace("name = \"Cloud\"", "name = \"Cloud\\u001b[2J\" # <-"),
                "competencies.cloud.name",
                "control character (U+001B)",
            ),
            (
                "bidi override in a catalog title",
                BASE.replace("title = \"MCSA: Office 365\"", "title = \"MCSA\u{202E}365\" # <-"),
                "catalog[2].title",
                "bidirectional override (U+202E)",
            ),
            (
                "control character in an option name",
                BASE.replace("option = \"A\"", "option = \"A\\tB\" # <-"),
                "competencies.cloud.silver[0].option",
                "control character (U+0009)",
            ),
            (
                "control character in a program name",
                BASE.replace("name = \"P\"", "name = \"P\\u0007\" # <-"),
                "program.name",
                "control character (U+0007)",
            ),
            (
                "zero valid_days",
                BASE.replace("kind = \"certification\"", "kind = \"certification\"\nvalid_days = 0 # <-"),
                "catalog[2].valid_days",
                "valid_days must be at least 1",
            ),
            (
                "alias equal to another entry's title, in other case and spacing",
                BASE.replace(
                    "kind = \"certification\"",
                    "kind = \"certification\"\naliases = [\"architecting  MICROSOFT azure solutions\"] # <-",
                ),
                "catalog[2].aliases[0]",
                "is already the title of catalog entry \"70-535\" (line 11)",
            ),
            (
                "alias equal to another entry's alias",
                BASE.replace(
                    "title = \"Architecting Microsoft Azure Solutions\"",
                    "title = \"Architecting Microsoft Azure Solutions\"\naliases = [\"Azure architect\"]",
                )
                .replace(
                    "kind = \"certification\"",
                    "kind = \"certification\"\naliases = [\"Office\", \"azure  Architect\"] # <-",
                ),
                "catalog[2].aliases[1]",
                "is already an alias of catalog entry \"70-535\" (line 12)",
            ),
            (
                "empty alias",
                BASE.replace(
                    "kind = \"certification\"",
                    "kind = \"certification\"\naliases = [\"  \"] # <-",
                ),
                "catalog[2].aliases[0]",
                "an alias cannot be empty",
            ),
        ]
    }

    #[test]
    fn aliases_map_titles_to_codes_ignoring_case_and_spacing() {
        let text = BASE.replace(
            "title = \"MCSA: Office 365\"",
            "title = \"MCSA: Office 365\"\naliases = [\"MCSA Office 365\", \"mcsa: office 365\"]",
        );
        let rb = Rulebook::parse(&text, "r").unwrap();
        let index = rb.title_index();
        assert_eq!(index[&normalize_title("  MCSA  office 365 ")], "MCSA-O365");
        assert_eq!(index[&normalize_title("MCSA: OFFICE\t365")], "MCSA-O365");
        assert_eq!(
            index[&normalize_title("Architecting Microsoft Azure Solutions")],
            "70-535"
        );
    }

    #[test]
    fn each_problem_is_reported_with_its_line_and_key() {
        let mut failures = Vec::new();
        for (name, text, key, fragment) in cases() {
            let want_line = marked_line(&text);
            match Rulebook::parse(&text, "rules.toml") {
                Ok(_) => failures.push(format!("{name}: accepted")),
                Err(e) => {
                    if e.file != "rules.toml"
                        || e.line != want_line
                        || e.key != key
                        || !e.message.contains(fragment)
                        || e.to_string().contains('\n')
                    {
                        failures.push(format!(
                            "{name}: want line {want_line}, key {key:?}, message with {fragment:?}; got {e}"
                        ));
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn display_is_file_line_key_message() {
        let text = BASE.replace("[\"70-535\"]] }", "[\"70-999\"]] }");
        let e = Rulebook::parse(&text, "rules.toml").unwrap_err();
        assert_eq!(
            e.to_string(),
            "rules.toml:24: competencies.cloud.silver[0].people[0].any_of: \
             code \"70-999\" is not in the catalog (nearest: 70-533, 70-535)"
        );
    }

    #[test]
    fn parse_all_reports_every_problem_in_line_order() {
        let text = BASE
            .replace("count = 1", "count = 0")
            .replace("name = \"P\"", "name = \"P\"\nterm_months = 0");
        let errors = Rulebook::parse_all(&text, "r.toml").unwrap_err();
        let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "program.term_months",
                "competencies.cloud.silver[0].people[0].count"
            ]
        );
        assert!(errors[0].line < errors[1].line);
    }

    #[test]
    fn nearest_codes_prefers_close_codes_and_drops_far_ones() {
        let catalog = Rulebook::parse(BASE, "r").unwrap().catalog;
        assert_eq!(nearest_codes(&catalog, "70-534", 2), ["70-533", "70-535"]);
        assert_eq!(nearest_codes(&catalog, "mcsa-o365", 3)[0], "MCSA-O365");
        assert_eq!(nearest_codes(&catalog, "o365", 1), ["MCSA-O365"]);
        assert!(nearest_codes(&catalog, "completely-unrelated", 3).is_empty());
        assert!(nearest_codes(&catalog, "70-533", 0).is_empty());
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC*") {
            let _ = Rulebook::parse(&text, "fuzz.toml");
        }

        #[test]
        fn parse_never_panics_on_rulebook_like_text(
            edits in proptest::collection::vec((0usize..2000, "[\\[\\]{}=\",.#a-z0-9\\n -]{0,6}"), 0..6)
        ) {
            let mut text = BASE.to_string();
            for (at, insert) in edits {
                let mut at = at % (text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                text.insert_str(at, &insert);
            }
            if let Err(e) = Rulebook::parse(&text, "fuzz.toml") {
                proptest::prop_assert!(e.line >= 1 && e.line <= text.lines().count().max(1) + 1);
                proptest::prop_assert!(!e.to_string().contains('\n'));
            }
        }
    }
}
