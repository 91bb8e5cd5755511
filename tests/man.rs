//! `competency man --out DIR`: one page per command of the clap tree, each rendering
//! without warnings (groff, from the `groff` package; `man` from `man-db`), with its
//! SYNOPSIS and exit codes; never over existing pages without --force.

mod common;

use std::path::Path;
use std::process::Command as Process;

use clap::CommandFactory;
use common::Env;
use competency::api::cli::Cli;

/// Every command of the clap tree: its page name (`competency-membership-check`) and how
/// it is typed (`competency membership check`).
fn commands() -> Vec<(String, String)> {
    fn walk(
        cmd: &clap::Command,
        prefix: Option<&(String, String)>,
        out: &mut Vec<(String, String)>,
    ) {
        let me = match prefix {
            None => (cmd.get_name().to_owned(), cmd.get_name().to_owned()),
            Some((page, typed)) => (
                format!("{page}-{}", cmd.get_name()),
                format!("{typed} {}", cmd.get_name()),
            ),
        };
        out.push(me.clone());
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            if sub.get_name() != "help" {
                walk(sub, Some(&me), out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&Cli::command(), None, &mut out);
    out
}

fn write_pages(env: &Env) -> std::path::PathBuf {
    let out = env.path("man/man1");
    env.ok(&["man", "--out", out.to_str().unwrap()]);
    out
}

/// groff's warnings (all of them, `-ww`) for a page; fails clearly when groff is missing.
fn groff_warnings(page: &Path) -> String {
    let out = Process::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(page)
        .output()
        .expect("groff is needed by this test: install the `groff` package");
    assert!(out.status.success(), "groff failed on {}", page.display());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The page as `man` formats it, as plain text.
fn rendered(page: &Path) -> String {
    let out = Process::new("groff")
        .args(["-man", "-Tutf8", "-P-c", "-P-b", "-P-u"])
        .arg(page)
        .output()
        .expect("groff");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_command_has_a_page_that_renders_without_warnings() {
    let env = Env::new();
    let out = write_pages(&env);
    let commands = commands();
    assert!(commands.len() > 40, "{commands:?}");
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut want: Vec<String> = commands.iter().map(|(n, _)| format!("{n}.1")).collect();
    want.sort();
    assert_eq!(files, want);
    for (name, typed) in &commands {
        let page = out.join(format!("{name}.1"));
        let warnings = groff_warnings(&page);
        assert!(warnings.is_empty(), "{name}.1: {warnings}");
        let text = rendered(&page);
        let synopsis = text
            .split("SYNOPSIS")
            .nth(1)
            .unwrap_or_else(|| panic!("{name}.1 has no SYNOPSIS"));
        let words = synopsis.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            words.starts_with(typed.as_str()),
            "{name}.1: the synopsis does not start with {typed:?}: {words:.80}"
        );
        assert!(
            text.contains("EXIT STATUS") && text.contains("Usage error"),
            "{name}.1 has no exit codes"
        );
        assert!(
            text.contains("COMPETENCY_DB"),
            "{name}.1 has no ENVIRONMENT"
        );
    }
}

#[test]
fn the_pages_say_what_admins_look_for() {
    let env = Env::new();
    let out = write_pages(&env);
    let check = rendered(&out.join("competency-membership-check.1"));
    for code in ["3", "4", "5"] {
        assert!(
            check.lines().any(|l| l.trim_start().starts_with(code)),
            "exit {code} missing: {check}"
        );
    }
    assert!(check.contains("crontab"), "{check}");
    let main = rendered(&out.join("competency.1"));
    for want in [
        "ENVIRONMENT",
        "COMPETENCY_ORG",
        "COMPETENCY_NOW",
        "COMPETENCY_CONFIG",
        "NO_COLOR",
        "FILES",
        "config.toml",
        "EXAMPLES",
        "competency man --out ~/.local/share/man/man1",
        "competency-membership(1)",
    ] {
        assert!(main.contains(want), "competency.1 lacks {want}");
    }
    // A page with non-ASCII help text (→) is plain ASCII roff.
    let import = std::fs::read(out.join("competency-achievements-import.1")).unwrap();
    assert!(import.is_ascii());
    assert!(
        rendered(&out.join("competency-achievements-import.1")).contains("Insights → Downloads")
    );
    // Plain commands do not claim the check's codes.
    let list = rendered(&out.join("competency-users-list.1"));
    assert!(!list.contains("no active membership"));
}

#[test]
fn existing_pages_are_kept_unless_force() {
    let env = Env::new();
    let out = write_pages(&env);
    let page = out.join("competency-doctor.1");
    std::fs::write(&page, "mine").unwrap();
    let err = env.fails(&["man", "--out", out.to_str().unwrap()]);
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&page).unwrap(), "mine");
    env.ok(&["man", "--out", out.to_str().unwrap(), "--force"]);
    assert!(std::fs::read_to_string(&page).unwrap().contains(".TH"));
}

#[test]
fn help_shows_examples_for_the_common_tasks() {
    let env = Env::new();
    for (args, want) in [
        (&["add-user", "--help"][..], "competency add-user --name"),
        (
            &["users", "add", "--help"][..],
            "competency users add --name",
        ),
        (
            &["users", "import", "--help"][..],
            "competency users import staff.csv",
        ),
        (&["achievements", "import", "--help"][..], "--create-users"),
        (
            &["performance", "import", "--help"][..],
            "competency performance import",
        ),
        (&["membership", "check", "--help"][..], "crontab"),
        (&["init", "--help"][..], "competency init --name"),
    ] {
        let out = env.ok(args);
        assert!(
            out.contains("Examples:") && out.contains(want),
            "{}: {out}",
            args.join(" ")
        );
    }
}
