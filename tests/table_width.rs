//! Tables fit the terminal: when stdout is a terminal they wrap to its width (`COLUMNS`
//! when set), colour or not, between words — never inside a word or an e-mail address;
//! piped, they are not wrapped. The terminal is a real pty from util-linux `script`.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Env;

const NAMES: [(&str, &str); 3] = [
    ("Maria Fernanda de la Cruz Hernandez Oliveira", "mdlc"),
    ("Jean-Baptiste Emmanuel Zorg Leclerc", "jbz"),
    ("Ann Lee", "ann"),
];

fn setup() -> Env {
    let e = Env::new();
    e.create(&[
        "--name",
        "Contoso Ltd",
        "--partner-id",
        "1234567",
        "--domain",
        "contoso.com",
        "--now",
        "2026-01-01",
    ]);
    for (name, local) in NAMES {
        let msa = format!("{local}@outlook.com");
        e.add_user(
            name,
            &format!("{local}@contoso.com"),
            &["--msa", &msa, "--now", "2026-01-01"],
        );
    }
    e
}

/// Runs `competency ARGS` with stdout on a pty (`script -qec`), with `COLUMNS` and colour
/// as given; returns stdout with CR and colour codes removed. Gives up after 60 s.
fn on_a_terminal(e: &Env, args: &str, columns: &str, color: bool) -> String {
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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    strip(&String::from_utf8_lossy(&out.stdout))
}

/// Removes CRs and ANSI escape sequences.
fn strip(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {}
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

fn widest(s: &str) -> usize {
    s.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

fn assert_wrapped_between_words(out: &str, columns: usize) {
    assert!(widest(out) <= columns, "wider than {columns}:\n{out}");
    for (name, local) in NAMES {
        for addr in [
            format!("{local}@contoso.com"),
            format!("{local}@outlook.com"),
        ] {
            assert!(out.contains(&addr), "{addr} split:\n{out}");
        }
        for word in name.split(' ') {
            assert!(
                out.split(|c: char| c.is_whitespace() || c == '│' || c == '┆')
                    .any(|w| w == word),
                "{word} split:\n{out}"
            );
        }
    }
    assert!(
        !out.contains("Maria Fernanda de la Cruz Hernandez Oliveira"),
        "not wrapped:\n{out}"
    );
}

#[test]
fn tables_wrap_between_words_to_columns_without_colour() {
    let e = setup();
    let out = on_a_terminal(&e, "users list", "100", false);
    assert_wrapped_between_words(&out, 100);
}

#[test]
fn tables_wrap_between_words_to_columns_with_colour() {
    let e = setup();
    let out = on_a_terminal(&e, "users list", "100", true);
    assert_wrapped_between_words(&out, 100);
}

#[test]
fn columns_is_honoured() {
    let e = setup();
    let wide = on_a_terminal(&e, "users list", "200", false);
    assert!(
        wide.contains("Maria Fernanda de la Cruz Hernandez Oliveira"),
        "{wide}"
    );
    assert!(widest(&wide) > 100);
}

#[test]
fn piped_tables_are_not_wrapped() {
    let e = setup();
    let out = e.ok(&["users", "list"]);
    assert!(
        out.contains("Maria Fernanda de la Cruz Hernandez Oliveira"),
        "{out}"
    );
    assert!(widest(&out) > 100, "{out}");
}
