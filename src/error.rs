//! Errors a caller must tell apart, and how they map to exit codes (SPEC §3).

use std::path::PathBuf;

/// A failure with a meaning: the front end maps each to exit code 1 with one clear line,
/// but callers (imports, tests) match on the variants.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Something named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A rule of the program refused the change.
    #[error("{0}")]
    Refused(String),
    /// Input was invalid (a flag value, a field).
    #[error("{0}")]
    BadInput(String),
    /// A file had an invalid line.
    #[error("{}:{line}: {message}", file.display())]
    BadFile {
        /// The file.
        file: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong, naming the field.
        message: String,
    },
    /// Authentication failed (wrong password or recovery code).
    #[error("{0}")]
    Auth(String),
}

/// Shorthand for a [`AppError::NotFound`] as an `anyhow::Error`.
pub fn not_found(msg: impl Into<String>) -> anyhow::Error {
    AppError::NotFound(msg.into()).into()
}

/// Shorthand for a [`AppError::Refused`] as an `anyhow::Error`.
pub fn refused(msg: impl Into<String>) -> anyhow::Error {
    AppError::Refused(msg.into()).into()
}

/// Shorthand for a [`AppError::BadInput`] as an `anyhow::Error`.
pub fn bad_input(msg: impl Into<String>) -> anyhow::Error {
    AppError::BadInput(msg.into()).into()
}
