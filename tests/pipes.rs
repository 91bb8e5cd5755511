//! A closed pipe (`competency users list --format csv | head -1`) ends quietly with exit 0
//! (SPEC §2): no "broken pipe" message, no exit 1, no panic — for stdout in every format,
//! and for messages on stderr.
//!
//! The reading end of the pipe is closed before the command starts, so its first write
//! fails with EPIPE whatever the machine's speed: the same as `head` having exited.

mod common;

use std::fs::File;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

use common::Env;

/// The writing end of a pipe whose reading end is already closed.
fn closed_pipe() -> File {
    let mut fds = [0; 2];
    // SAFETY: `pipe` fills both descriptors on success; each is owned exactly once below.
    let rc = unsafe { libc::pipe(fds.as_mut_ptr()) };
    assert_eq!(rc, 0, "pipe: {}", std::io::Error::last_os_error());
    // SAFETY: fresh descriptors from `pipe`, owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    File::from(write)
}

/// An organization with 300 people: every format's output is far larger than the
/// writers' buffers (the CSV writer's is 8 KiB), so the closed pipe is hit mid-output.
fn setup() -> Env {
    let e = Env::new();
    e.init();
    let mut staff = String::from("name,email\n");
    for n in 0..300 {
        staff.push_str(&format!(
            "Person Number {n},person.number.{n}@contoso.com\n"
        ));
    }
    std::fs::write(e.path("staff.csv"), staff).unwrap();
    e.ok(&[
        "users",
        "import",
        "staff.csv",
        "--credentials-file",
        "staff-credentials.csv",
        "--now",
        "2026-01-01",
    ]);
    e
}

/// Runs `competency ARGS` with stdout (or stderr) into a closed pipe; the other stream is
/// captured. Returns (exit code, captured stream).
fn into_closed_pipe(e: &Env, args: &[&str], closed_stderr: bool) -> (i32, String) {
    let mut cmd: Command = e.std_cmd();
    cmd.args(args).env("NO_COLOR", "1").stdin(Stdio::null());
    if closed_stderr {
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::from(closed_pipe()));
    } else {
        cmd.stdout(Stdio::from(closed_pipe()))
            .stderr(Stdio::piped());
    }
    let child = cmd.spawn().expect("spawn");
    drop(cmd);
    let out = common::output_within_deadline(child);
    let code = out.status.code().unwrap_or(-1);
    let kept = if closed_stderr {
        out.stdout
    } else {
        out.stderr
    };
    (code, String::from_utf8_lossy(&kept).into_owned())
}

#[test]
fn csv_into_a_closed_pipe_ends_quietly() {
    let e = setup();
    let (code, stderr) = into_closed_pipe(&e, &["users", "list", "--format", "csv"], false);
    assert_eq!((code, stderr.as_str()), (0, ""));
}

#[test]
fn json_into_a_closed_pipe_ends_quietly() {
    let e = setup();
    let (code, stderr) = into_closed_pipe(&e, &["users", "list", "--format", "json"], false);
    assert_eq!((code, stderr.as_str()), (0, ""));
}

#[test]
fn a_table_into_a_closed_pipe_ends_quietly() {
    let e = setup();
    for args in [
        &["users", "list"][..],
        &["audit"],
        &["users", "show", "person.number.1@contoso.com"],
        &["org", "show"],
        &["competencies", "list"],
    ] {
        let (code, stderr) = into_closed_pipe(&e, args, false);
        assert_eq!((code, stderr.as_str()), (0, ""), "{args:?}");
    }
}

#[test]
fn a_closed_pipe_keeps_the_commands_own_exit_code() {
    let e = setup();
    // `membership check` without a membership exits 5 (SPEC §3), piped or not.
    let (code, stderr) = into_closed_pipe(&e, &["membership", "check"], false);
    assert_eq!((code, stderr.as_str()), (5, ""));
}

#[test]
fn messages_into_a_closed_stderr_end_quietly() {
    let e = setup();
    // A warning and an informational line on stderr, then the data on stdout.
    std::fs::write(
        e.path("more.csv"),
        "name,email,unknown_column\nNew Person,new@contoso.com,x\n",
    )
    .unwrap();
    let (code, stdout) = into_closed_pipe(
        &e,
        &[
            "users",
            "import",
            "more.csv",
            "--credentials-file",
            "more-credentials.csv",
            "--now",
            "2026-01-02",
        ],
        true,
    );
    assert_eq!(code, 0, "{stdout}");
    // The command did its work: the new person is there.
    let list = e.ok(&["users", "list", "--format", "csv"]);
    assert!(list.contains("new@contoso.com"), "{list}");
}

#[test]
fn an_error_into_a_closed_stderr_still_exits_1_without_a_panic() {
    let e = setup();
    let (code, _) = into_closed_pipe(&e, &["users", "show", "nobody@contoso.com"], true);
    assert_eq!(code, 1);
}
