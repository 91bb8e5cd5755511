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
//!
//! Files: [`rulebook`] (the whole rulebook and its catalogue), [`competency`] and
//! [`designations`] (the types under `[competencies.ID]` and `[designations.ID]`), `error`
//! ([`RulebookError`]), `spans` (from a problem to its line and key), `check`,
//! `check_competencies` and `check_designations` (the semantic checks), `suggest` (nearest
//! codes for a misspelt one), [`limits`] (years, days and text every input is held to).
//!
//! Invariants once a [`Rulebook`] has been returned by [`Rulebook::parse`]: every code used
//! by a requirement is in the catalogue, catalogue codes are unique, every count is from 1
//! to [`MAX_COUNT`], every competency has an option at Silver or Gold (one level may be
//! absent: meeting Gold meets Silver), no option is without requirements, option names are
//! unique within a level, every people requirement names codes, every `developing`
//! threshold has an `at_least`, thresholds are finite and not negative, and the program's
//! periods are sensible. Unknown keys are rejected.

mod check;
mod check_competencies;
mod check_designations;
pub mod competency;
pub mod designations;
mod error;
pub mod limits;
pub mod rulebook;
mod spans;
mod suggest;

pub use check_designations::warnings;
pub use competency::{
    Competency, Level, LevelOption, Market, Metric, MetricRequirement, PeopleRequirement, kebab,
};
pub use designations::{Association, Designation, MetricItem, SkillingItem, TrackChoice};
pub use error::RulebookError;
pub use rulebook::{
    Benefits, CatalogEntry, DEFAULT_RULEBOOK, EMBEDDED_RULEBOOKS, Program, RequiredPoints,
    Rulebook, SOLUTIONS_PARTNER_RULEBOOK, normalize_title,
};
pub use suggest::nearest_codes;

use std::cell::OnceCell;

use toml::de::DeTable;

use check::Checker;
use spans::Source;

/// The largest `count` a people requirement may ask for: anything above is a typo.
pub const MAX_COUNT: u32 = 100_000;

/// The most people requirements one option may have (the engine's requirement sets are
/// 64-bit masks).
pub const MAX_PEOPLE_REQUIREMENTS: usize = 64;

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

#[cfg(test)]
mod tests;
