//! Every user-supplied string echoed to a terminal is escaped (SPEC §2, DESIGN "Errors"):
//! a file name, an audit subject or detail, a CSV header, whatever it holds, never reaches
//! the terminal as a raw control character (ESC, CSI, BEL, `\r`) or bidirectional
//! override — in messages on stderr, in tables and label/value blocks, and in JSON; CSV
//! keeps the value as data when piped and escapes it on a terminal.

mod common;

use common::{Env, terminal};

/// A file name that would turn the terminal red and ring its bell if printed raw.
const RED_FILE: &str = "\u{1b}[31mstaff\u{7}.csv";
/// How the program shows it: Rust-style escapes.
const RED_SHOWN: &str = "\\u{1b}[31mstaff\\u{7}.csv";

/// What must never reach a terminal raw.
fn assert_clean(what: &str, s: &str) {
    for c in s.chars() {
        assert!(
            c == '\n' || !(c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)),
            "{what}: raw {c:?} in {s:?}"
        );
    }
}

/// Contoso with one person imported from [`RED_FILE`], whose header names a column the
/// import ignores (with an escape sequence in its name), into a credentials file whose name
/// clears the screen.
fn imported_from_a_red_file() -> (Env, String, String) {
    let e = Env::new();
    e.init();
    std::fs::write(
        e.path(RED_FILE),
        "name,email,note\u{1b}[2J\nAnn Lee,ann@contoso.com,x\n",
    )
    .unwrap();
    let (code, stdout, stderr) = e.run(&[
        "users",
        "import",
        RED_FILE,
        "--credentials-file",
        "cred\u{1b}]0;owned\u{7}.csv",
        "--now",
        "2026-01-02",
    ]);
    assert_eq!(code, 0, "{stderr}");
    (e, stdout, stderr)
}

#[test]
fn file_names_and_headers_in_messages_and_summaries_are_escaped() {
    let (e, stdout, stderr) = imported_from_a_red_file();
    assert_clean("stdout", &stdout);
    assert_clean("stderr", &stderr);
    assert!(stdout.contains(RED_SHOWN), "{stdout}");
    assert!(stderr.contains("\\u{1b}[2J"), "{stderr}");
    // An error naming a file that is not there.
    let (code, stdout, stderr) = e.run(&["users", "import", "\u{1b}[31mmissing\r.csv"]);
    assert_eq!(code, 1);
    assert_clean("stdout", &stdout);
    assert_clean("stderr", &stderr);
    assert!(stderr.contains("\\u{1b}[31mmissing"), "{stderr}");
}

/// Writes an audit entry whose subject and detail hold what a terminal acts on, as a
/// database written by another tool (or by hand) could hold it.
fn hostile_audit_entry(e: &Env) {
    let mut db = e.open_db();
    db.execute(
        "INSERT INTO audit (org_id, at, actor, action, subject, detail) \
         SELECT org_id, at, actor, 'test', $1, $2 FROM audit ORDER BY id LIMIT 1",
        &[
            &"\u{9b}2Jgone\rfake\u{202e}txt.exe",
            &"\u{1b}]8;;http://x\u{7}link\u{1b}]8;;\u{7} \u{1b}[5mblink",
        ],
    );
}

#[test]
fn audit_subjects_and_details_are_escaped_in_tables_and_json() {
    let (e, _, _) = imported_from_a_red_file();
    hostile_audit_entry(&e);
    let table = e.ok("audit");
    assert_clean("audit", &table);
    assert!(table.contains(RED_SHOWN), "{table}");
    assert!(
        table.contains("\\u{9b}2Jgone\\rfake\\u{202e}txt.exe"),
        "{table}"
    );
    let json = e.ok("audit --format json");
    assert_clean("audit json", &json);
    // The same values, escaped the JSON way.
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let subjects: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["subject"].as_str().unwrap())
        .collect();
    assert!(subjects.contains(&RED_FILE), "{subjects:?}");
    assert!(
        subjects.contains(&"\u{9b}2Jgone\rfake\u{202e}txt.exe"),
        "{subjects:?}"
    );
    // CSV into a pipe is data: the value as it is.
    let csv = e.ok("audit --format csv");
    assert!(csv.contains(RED_FILE), "{csv:?}");
}

#[test]
fn on_a_terminal_nothing_raw_reaches_it_in_any_format() {
    let (e, _, _) = imported_from_a_red_file();
    hostile_audit_entry(&e);
    for command in ["audit", "audit --format csv", "audit --format json"] {
        let out = terminal::on_a_terminal(&e, &format!("{command} -q"), "200", false);
        assert_eq!(out.code, 0, "{}", out.raw);
        assert_clean(command, &out.raw);
    }
    let out = terminal::on_a_terminal(&e, "audit -q", "200", false);
    assert!(out.raw.contains(RED_SHOWN), "{}", out.raw);
}

#[test]
fn the_progress_line_escapes_the_file_it_reads() {
    let e = Env::new();
    e.init();
    let mut staff = String::from("name,email\n");
    for n in 0..50 {
        staff.push_str(&format!("Person {n},person.{n}@contoso.com\n"));
    }
    std::fs::write(e.path(RED_FILE), staff).unwrap();
    // The progress line is drawn on a terminal's stderr; the shell spells the file name.
    let out = terminal::on_a_terminal(
        &e,
        "users import \"$(printf '\\033[31mstaff\\007.csv')\" --dry-run",
        "200",
        false,
    );
    assert_eq!(out.code, 0, "{}", out.raw);
    assert!(
        out.raw.contains("reading"),
        "no progress line: {:?}",
        out.raw
    );
    assert!(!out.raw.contains("\u{1b}[31mstaff"), "{:?}", out.raw);
    assert!(!out.raw.contains('\u{7}'), "{:?}", out.raw);
}
