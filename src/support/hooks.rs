//! The hidden test hooks: environment variables `COMPETENCY_TEST_*` with which the tests
//! stop a command at an exact point (a phase, after a commit) or bound a wait, never at a
//! clock time.
//!
//! Invariant: this is the only place that reads them, and only a build with debug
//! assertions (the one `cargo test` drives) honours them. A release binary ignores them, so
//! no environment an administrator inherits can pause, slow or reroute a real command.

use std::ffi::OsString;

/// The value of the hook `COMPETENCY_TEST_<name>`, in a test build; `None` in a release
/// build whatever the environment says.
pub fn var(name: &str) -> Option<OsString> {
    if cfg!(debug_assertions) {
        std::env::var_os(format!("COMPETENCY_TEST_{name}"))
    } else {
        None
    }
}
