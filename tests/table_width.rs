//! Tables fit the terminal (SPEC §2): when stdout is a terminal no table is wider than its
//! width (`COLUMNS` when set), colour or not; cells wrap between words — never inside a word
//! or an e-mail address — and a word too long for its column is shortened with `…` (the full
//! value stays in JSON and CSV); piped, tables are not wrapped. Every table-producing
//! command is checked at 80 columns with long names, e-mail addresses and audit details.
//! The terminal is a real pty from util-linux `script` (`common::terminal`).

mod common;

use common::{Env, terminal};

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

/// `competency ARGS` on an 80-column (or `columns`) terminal: what it printed, colour
/// codes removed; the command must succeed.
fn on_a_terminal(e: &Env, args: &str, columns: &str, color: bool) -> String {
    let out = terminal::on_a_terminal(e, args, columns, color);
    assert_eq!(out.code, 0, "{}", out.raw);
    out.text()
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

/// An organization from the demo, with a person whose name, e-mail address and MSA are far
/// longer than an 80-column terminal's share for them, imported from a file with a long
/// name (which the audit trail's subject and detail repeat).
fn long_values() -> Env {
    let e = Env::demo("2026-03-01");
    std::fs::write(
        e.path(LONG_FILE),
        format!("name,email,msa\n{LONG_NAME},{LONG_EMAIL},{LONG_MSA}\n"),
    )
    .unwrap();
    e.ok(&[
        "users",
        "import",
        LONG_FILE,
        "--credentials-file",
        "credentials-of-the-people-imported-from-the-human-resources-export.csv",
        "--now",
        "2026-03-01",
    ]);
    e
}

const LONG_NAME: &str = "Maria Fernanda de la Cruz Hernandez Oliveira Santos";
const LONG_EMAIL: &str = "maria.fernanda.delacruz.hernandez.oliveira@contoso.com";
const LONG_MSA: &str = "maria.fernanda.delacruz.hernandez.oliveira.personal@outlook.com";
const LONG_FILE: &str = "staff-export-from-the-human-resources-system-2026-03-01-final.csv";

/// The lines of tables (comfy-table's box drawing) in what a command printed.
fn table_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with(['┌', '│', '╞', '├', '└']))
        .collect()
}

fn assert_fits(e: &Env, command: &str, columns: usize, color: bool) -> String {
    let out = terminal::on_a_terminal(e, &format!("{command} -q"), &columns.to_string(), color);
    assert!(
        matches!(out.code, 0 | 3 | 4 | 5),
        "{command}: exit {}\n{}",
        out.code,
        out.raw
    );
    let text = out.text();
    let lines = table_lines(&text);
    let wide: Vec<&&str> = lines
        .iter()
        .filter(|l| l.chars().count() > columns)
        .collect();
    assert!(wide.is_empty(), "{command}: wider than {columns}:\n{text}");
    text
}

#[test]
fn no_table_is_wider_than_80_columns_with_long_values() {
    let e = long_values();
    let commands = [
        "users list",
        "users list --all",
        "audit",
        "org list",
        "competencies list",
        "competencies progress",
        "competencies gaps",
        "competencies risk",
        "achievements list",
        "performance list",
        "rules show",
        "membership status",
        "membership check",
        "membership alerts --all",
        "membership profile",
        "membership benefits",
        "rules diff solutions-partner",
    ];
    for color in [false, true] {
        for command in commands {
            assert_fits(&e, command, 80, color);
        }
    }
    // The designations, on the Solutions Partner rulebook (--force: the competencies the
    // profile displays disappear with the competency rulebook).
    e.ok("rules import solutions-partner --now 2026-03-02 --force");
    for command in [
        "designations list",
        "designations score",
        "designations gaps",
        "designations alerts --all",
        "rules show",
        "audit",
    ] {
        assert_fits(&e, command, 80, false);
    }
}

#[test]
fn long_values_are_shortened_on_the_terminal_and_whole_in_json_and_csv() {
    let e = long_values();
    let text = assert_fits(&e, "users list", 80, false);
    assert!(!text.contains(LONG_EMAIL), "{text}");
    assert!(text.contains('…'), "{text}");
    // Names wrap between words: each word is whole on some line.
    for word in LONG_NAME.split(' ') {
        assert!(
            text.split(|c: char| c.is_whitespace() || c == '│' || c == '┆')
                .any(|w| w == word),
            "{word} split:\n{text}"
        );
    }
    let audit = assert_fits(&e, "audit", 80, false);
    assert!(!audit.contains(LONG_FILE), "{audit}");
    let json = e.ok("users list --format json");
    assert!(
        json.contains(LONG_EMAIL) && json.contains(LONG_MSA),
        "{json}"
    );
    let csv = e.ok("audit --format csv");
    assert!(csv.contains(LONG_FILE), "{csv}");
    // Piped, the table is whole.
    let piped = e.ok("users list");
    assert!(piped.contains(LONG_EMAIL), "{piped}");
}

#[test]
fn label_and_value_blocks_fit_80_columns() {
    let e = long_values();
    for command in [format!("users show {LONG_EMAIL}"), "org show".to_owned()] {
        let out = terminal::on_a_terminal(&e, &format!("{command} -q"), "80", false);
        assert_eq!(out.code, 0, "{}", out.raw);
        let text = out.text();
        assert!(widest(&text) <= 80, "{command}: wider than 80:\n{text}");
    }
}

#[test]
fn a_narrow_terminal_still_bounds_the_table() {
    let e = long_values();
    for command in ["users list", "audit"] {
        assert_fits(&e, command, 40, false);
    }
}
