//! The terminal's progress display: the [`Progress`] the domain reports through, drawn with
//! indicatif on stderr — one line, the current phase's name, a bar with rate and ETA when
//! its size is known, a spinner otherwise. Only when stderr is a terminal, and never with
//! `-q` or `--format json|csv`.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output::Format;
use crate::progress::{self, Progress, Reporter};

/// The phase being drawn; byte-sized phases show bytes, the others counts.
struct Bar {
    bar: ProgressBar,
}

impl Bar {
    fn new() -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        Bar { bar }
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

impl Progress for Bar {
    fn phase(&self, name: &str, len: Option<u64>) {
        let bytes = name.starts_with("reading");
        let s = match (len, bytes) {
            (Some(_), true) => style(
                "{msg} {wide_bar} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}",
            ),
            (Some(_), false) => {
                style("{msg} {wide_bar} {human_pos}/{human_len} {per_sec} ETA {eta}")
            }
            (None, _) => style("{spinner} {msg} {elapsed}"),
        };
        self.bar.reset();
        self.bar.set_style(s);
        match len {
            Some(n) => {
                self.bar.disable_steady_tick();
                self.bar.set_length(n);
            }
            None => {
                self.bar.unset_length();
                self.bar.enable_steady_tick(Duration::from_millis(120));
            }
        }
        self.bar.set_message(name.to_owned());
    }

    fn advance(&self, n: u64) {
        self.bar.inc(n);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        // An error or a Ctrl-C leaves no half-drawn line before its message.
        self.bar.finish_and_clear();
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
