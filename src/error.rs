//! Errors. Every failure maps to exit code 1 with one clear line (SPEC §3); the messages
//! are built by the helpers here. [`AppError`] holds only the cases a caller tells apart.

use std::path::Path;

/// A failure a caller must tell apart from others.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Something named does not exist: a sign-in tells an unknown account (audited as
    /// such, one message to the employee) from a failure to look it up.
    #[error("{0}")]
    NotFound(String),
}

/// Something named does not exist ([`AppError::NotFound`]).
pub fn not_found(msg: impl Into<String>) -> anyhow::Error {
    AppError::NotFound(msg.into()).into()
}

/// A rule of the program refused the change.
pub fn refused(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::msg(msg.into())
}

/// Input was invalid (a flag value, a field).
pub fn bad_input(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::msg(msg.into())
}

/// A file had an invalid line: `file:line: message`.
pub fn bad_file(file: &Path, line: u64, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::msg(format!("{}:{line}: {}", file.display(), message.into()))
}

/// Authentication failed (wrong password or recovery code).
pub fn auth_failed(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::msg(msg.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_not_found_is_told_apart() {
        let is_not_found = |e: &anyhow::Error| {
            e.downcast_ref::<AppError>()
                .is_some_and(|e| matches!(e, AppError::NotFound(_)))
        };
        assert!(is_not_found(&not_found("no user ann")));
        assert!(!is_not_found(&refused("no")));
        assert!(!is_not_found(&bad_input("bad")));
        assert_eq!(
            bad_file(Path::new("u.csv"), 17, "email: bad").to_string(),
            "u.csv:17: email: bad"
        );
    }
}
