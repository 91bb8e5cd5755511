//! Ctrl-C: the flag every progress point and every commit checks.
//!
//! It lives in `support` because both the domain (progress points) and the store (the
//! check just before a commit) must see it, and the store imports nothing above it.
//! Invariants: a Ctrl-C during an armed job only sets the flag (the job then stops at its
//! next check and rolls back); outside an armed job, or at a second Ctrl-C, the process
//! ends at once with exit code 130.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The job was interrupted (Ctrl-C): its transaction was rolled back.
#[derive(Debug, thiserror::Error)]
#[error("interrupted: nothing was changed")]
pub struct Interrupted;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static ARMED: AtomicUsize = AtomicUsize::new(0);

/// Whether a Ctrl-C arrived during an armed job.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// [`Interrupted`] once a Ctrl-C arrived: the check at every progress point.
pub fn check() -> Result<(), Interrupted> {
    if interrupted() {
        Err(Interrupted)
    } else {
        Ok(())
    }
}

/// While it lives, a Ctrl-C interrupts the job at its next progress point instead of
/// ending the process at once. Nested guards are fine. Only long jobs that reach progress
/// points often arm: a command waiting at a password prompt must still end at once.
#[must_use = "the job is armed only while the guard lives"]
pub struct Armed(());

/// Arms the Ctrl-C handling for a job (see [`Armed`]).
pub fn arm() -> Armed {
    ARMED.fetch_add(1, Ordering::SeqCst);
    Armed(())
}

impl Drop for Armed {
    fn drop(&mut self) {
        ARMED.fetch_sub(1, Ordering::SeqCst);
    }
}

extern "C" fn on_sigint(_: libc::c_int) {
    // Only async-signal-safe work here: atomics and `_exit`.
    if ARMED.load(Ordering::SeqCst) == 0 || INTERRUPTED.swap(true, Ordering::SeqCst) {
        // SAFETY: `_exit` is async-signal-safe.
        unsafe { libc::_exit(130) }
    }
}

/// Installs the SIGINT handler (the binary calls it once, first thing).
pub fn install_handler() {
    let handler: extern "C" fn(libc::c_int) = on_sigint;
    // SAFETY: the handler only touches atomics and calls `_exit`.
    unsafe {
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
    }
}
