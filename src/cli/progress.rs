//! The terminal's progress display: the [`Progress`] the domain reports through, drawn with
//! indicatif on stderr — one line, the current phase's name, a bar with rate and ETA when
//! its size is known, a spinner otherwise. Only when stderr is a terminal, and never with
//! `-q` or `--format json|csv`.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::domain::progress::{self, Progress, Reporter};
use crate::output::Format;

/// The phase being drawn: a new indicatif bar for each phase, the last one cleared first,
/// so no frame mixes two phases.
struct Bar {
    bar: Mutex<Option<ProgressBar>>,
}

impl Bar {
    fn new() -> Self {
        Bar {
            bar: Mutex::new(None),
        }
    }

    fn with(&self, f: impl FnOnce(&ProgressBar)) {
        if let Ok(b) = self.bar.lock()
            && let Some(b) = b.as_ref()
        {
            f(b);
        }
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        // Whole units a second: `1,368/s`, not `1,368.003/s`.
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(
                    w,
                    "{}",
                    crate::domain::progress::count(state.per_sec() as u64)
                );
            },
        )
}

impl Progress for Bar {
    fn phase(&self, name: &str, len: Option<u64>) {
        let bytes = name.starts_with("reading");
        let s = match (len, bytes) {
            (Some(_), true) => style(
                "{msg} {wide_bar} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}",
            ),
            (Some(_), false) => {
                style("{msg} {wide_bar} {human_pos}/{human_len} {rate}/s ETA {eta}")
            }
            (None, _) => style("{spinner} {msg} {elapsed}"),
        };
        // Hidden until it has its style: no frame of the default bar.
        let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::hidden());
        bar.set_style(s);
        // A phase can name the file being read: escaped like every message on stderr.
        bar.set_message(crate::support::terminal::printable(name).into_owned());
        if len.is_none() {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(old) = slot.take() {
                old.finish_and_clear();
            }
            bar.set_draw_target(ProgressDrawTarget::stderr());
            *slot = Some(bar);
        }
    }

    fn advance(&self, n: u64) {
        self.with(|b| b.inc(n));
    }

    fn finish(&self) {
        if let Ok(mut slot) = self.bar.lock()
            && let Some(old) = slot.take()
        {
            old.finish_and_clear();
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        // An error or a Ctrl-C leaves no half-drawn line before its message.
        self.finish();
    }
}

/// Whether a display is drawn: stderr a terminal, no `-q`, table output.
pub fn shown(quiet: bool, format: Format) -> bool {
    !quiet && format == Format::Table && std::io::stderr().is_terminal()
}

/// The reporter for a command: the terminal display when [`shown`], else nothing.
pub fn reporter(quiet: bool, format: Format) -> Reporter {
    if shown(quiet, format) {
        Arc::new(Bar::new())
    } else {
        progress::none()
    }
}
