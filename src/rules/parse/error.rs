//! The error a rulebook that cannot be read gives: the file, the line, the key and why.

use std::fmt;

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
