//! Progress of long jobs, and Ctrl-C.
//!
//! Domain code never draws: it reports named phases ("reading users.csv", "writing 1,000
//! accounts", "rebuilding the evaluation index", "evaluating") through [`Progress`], which the
//! command layer implements with indicatif on a terminal (`cli::progress`) and with [`Silent`]
//! everywhere else. Tests use [`Recording`].
//!
//! The same calls are the points where an interrupted job stops: a Ctrl-C (SIGINT) while a
//! job is [`arm`]ed only sets a flag; the next [`phase`], [`advance`] or [`check`] — and every
//! commit (`store`) — returns [`Interrupted`], so the write transaction is rolled back and
//! the partial files (credentials, rejects, report) are removed as their owners drop. The
//! front end then says `interrupted: nothing was changed` and exits 130. Outside an armed
//! job, or on a second Ctrl-C, the process exits 130 at once, as without a handler.

use std::sync::{Arc, Mutex};

/// What a long job reports. Implementations take `&self` (the display is shared).
pub trait Progress: Send + Sync {
    /// A new phase begins (the previous one is over): its name and, when known, its size
    /// in the phase's units (bytes, rows, accounts).
    fn phase(&self, name: &str, len: Option<u64>);
    /// `n` more units of the current phase are done.
    fn advance(&self, n: u64);
    /// The job is over: clear the display.
    fn finish(&self);
}

/// The handle domain functions take.
pub type Reporter = Arc<dyn Progress>;

/// Reports nothing: `-q`, `--format json|csv`, stderr not a terminal, tests.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn phase(&self, _: &str, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// A reporter that reports nothing.
pub fn none() -> Reporter {
    Arc::new(Silent)
}

/// One reported event, as [`Recording`] keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// [`Progress::phase`].
    Phase(String, Option<u64>),
    /// [`Progress::advance`].
    Advance(u64),
    /// [`Progress::finish`].
    Finish,
}

/// Keeps every event, for tests.
#[derive(Debug, Default)]
pub struct Recording(Mutex<Vec<Event>>);

impl Recording {
    /// The events so far.
    pub fn events(&self) -> Vec<Event> {
        self.0.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// The phases' names, in order.
    pub fn phases(&self) -> Vec<String> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Phase(name, _) => Some(name),
                _ => None,
            })
            .collect()
    }

    fn push(&self, e: Event) {
        if let Ok(mut v) = self.0.lock() {
            v.push(e);
        }
    }
}

impl Progress for Recording {
    fn phase(&self, name: &str, len: Option<u64>) {
        self.push(Event::Phase(name.to_owned(), len));
    }
    fn advance(&self, n: u64) {
        self.push(Event::Advance(n));
    }
    fn finish(&self) {
        self.push(Event::Finish);
    }
}

pub use crate::support::interrupt::{Interrupted, arm, check, install_handler, interrupted};

/// Begins a phase: reports it, then checks for an interruption. The hidden test hook
/// `COMPETENCY_TEST_HOLD_PHASE=PREFIX:FILE` makes a phase whose name starts with PREFIX
/// create FILE and wait there (at most a minute) for a Ctrl-C, so a test can interrupt the
/// job at exactly that point, never at a clock time.
pub fn phase(p: &dyn Progress, name: &str, len: Option<u64>) -> Result<(), Interrupted> {
    p.phase(name, len);
    test_hold(name);
    check()
}

/// Advances the current phase, then checks for an interruption.
pub fn advance(p: &dyn Progress, n: u64) -> Result<(), Interrupted> {
    p.advance(n);
    check()
}

fn test_hold(name: &str) {
    let Some(hook) = crate::support::hooks::var("HOLD_PHASE") else {
        return;
    };
    let hook = hook.to_string_lossy();
    let Some((prefix, marker)) = hook.split_once(':') else {
        return;
    };
    if !name.starts_with(prefix) {
        return;
    }
    let _ = std::fs::File::create(marker);
    for _ in 0..6000 {
        if interrupted() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// `1,000,000`: counts in phase names.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recording_keeps_events_in_order() {
        let r = Recording::default();
        phase(&r, "reading", Some(10)).unwrap();
        advance(&r, 4).unwrap();
        phase(&r, "writing", None).unwrap();
        r.finish();
        assert_eq!(
            r.events(),
            vec![
                Event::Phase("reading".into(), Some(10)),
                Event::Advance(4),
                Event::Phase("writing".into(), None),
                Event::Finish,
            ]
        );
    }

    #[test]
    fn counts_are_grouped() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_000_000), "1,000,000");
    }
}
