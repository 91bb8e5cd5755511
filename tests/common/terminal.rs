//! The binary on a real terminal: util-linux `script` gives it a pty for stdout and stderr
//! (both end up in what `script` prints), with `COLUMNS` and colour as a test asks.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::Env;

/// What a run on a terminal printed (stdout and stderr, CRs removed, escape sequences
/// kept) and its exit code.
pub struct OnTerminal {
    pub code: i32,
    pub raw: String,
}

impl OnTerminal {
    /// What the run printed with colour codes and other escape sequences removed.
    pub fn text(&self) -> String {
        strip_ansi(&self.raw)
    }
}

/// Runs `competency ARGS` (a shell command line: quote arguments with spaces) with stdout
/// and stderr on a pty, `COLUMNS` set to `columns`, colour allowed or not. Gives up after
/// 60 s.
pub fn on_a_terminal(e: &Env, args: &str, columns: &str, color: bool) -> OnTerminal {
    let bin = env!("CARGO_BIN_EXE_competency");
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &format!("{bin} {args}"), "/dev/null"])
        .current_dir(e.dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", e.dir.path())
        .env("SHELL", "/bin/sh")
        .env("TERM", "xterm")
        .env("COMPETENCY_DB", e.db())
        .env("COMPETENCY_CONFIG", e.path("config.toml"))
        .env("COLUMNS", columns)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if !color {
        cmd.env("NO_COLOR", "1");
    }
    let mut child = cmd
        .spawn()
        .expect("util-linux `script` is needed for this test");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("`script` did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    OnTerminal {
        code: out.status.code().unwrap_or(-1),
        raw: String::from_utf8_lossy(&out.stdout).replace('\r', ""),
    }
}

/// Removes ANSI escape sequences (CSI `ESC [ … letter`).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                if chars.peek() == Some(&'[') {
                    chars.next();
                    for d in chars.by_ref() {
                        if d.is_ascii_alphabetic() {
                            break;
                        }
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}
