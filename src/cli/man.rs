//! `man --out DIR`: manual pages generated from the clap definitions, so they can never
//! drift from `--help`. One page for `competency` and one per subcommand
//! (`competency-membership-check.1`, …), each with the sections clap_mangen renders plus
//! EXAMPLES (the command's `after_help`), EXIT STATUS (SPEC §3), ENVIRONMENT and, on the
//! main page, FILES and the README's usage by task. Every page is checked for an existing
//! file before any is written: without `--force` nothing is overwritten.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, CommandFactory};
use clap_mangen::Man;
use roff::{Roff, bold, roman};
use serde::Serialize;

use super::Cli;
use crate::error::bad_input;
use crate::output::Report;
use crate::support::files::{self, Found};

/// `man` arguments.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The folder to write the pages into, created if missing (e.g.
    /// ~/.local/share/man/man1, which `man` searches).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace pages that already exist [default: refuse, writing nothing]. A page that is
    /// a symbolic link, a FIFO, a device or a folder is refused all the same.
    #[arg(long)]
    pub force: bool,
}

/// The README's usage by task, as the main page's EXAMPLES.
const MAIN_EXAMPLES: &[(&str, &[&str])] = &[
    (
        "Set up an organization (creates the database, mode 0600):",
        &["competency init --name \"Contoso Ltd\" --partner-id 1234567"],
    ),
    (
        "Add employees; temporary passwords go to a credentials file (mode 0600) only:",
        &[
            "competency add-user --name \"Ada Lovelace\" --email ada@contoso.com --role mpn-admin",
            "competency users import staff.csv --credentials-file staff-credentials.csv",
        ],
    ),
    (
        "Import the Partner Center Trainings report as downloaded, creating missing accounts:",
        &[
            "competency achievements import Export_trainings_Lifetime_1234567_Contoso_Ltd.csv --create-users",
        ],
    ),
    (
        "Record achievements and performance:",
        &[
            "competency achievements add --msa ada@outlook.com --code 70-533 --earned 2026-01-15",
            "competency performance record --metric revenue --scope azure --value 15000 --date 2026-03-31",
        ],
    ),
    (
        "See where the organization stands:",
        &[
            "competency competencies progress",
            "competency competencies gaps",
        ],
    ),
    (
        "Buy and watch the membership (the check is for cron; see EXIT STATUS):",
        &[
            "competency membership upgrade --level silver",
            "competency membership check || mail -s \"competency check: $?\" admin@contoso.com",
        ],
    ),
    (
        "Install these pages:",
        &["competency man --out ~/.local/share/man/man1"],
    ),
];

/// Environment variables every command reads.
const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "COMPETENCY_DB",
        "The database, as --db: a SQLite file or a PostgreSQL URL (default: db in the config \
         file, else $XDG_DATA_HOME/competency/competency.db).",
    ),
    (
        "PGPASSWORD",
        "The PostgreSQL password, when the database is a postgres:// URL (never put it in the URL).",
    ),
    (
        "COMPETENCY_ORG",
        "The organization, as --org: a partner ID or slug.",
    ),
    (
        "COMPETENCY_NOW",
        "The instant commands act at, as --now: RFC 3339 or a date (midnight UTC).",
    ),
    (
        "COMPETENCY_CONFIG",
        "The configuration file (default: $XDG_CONFIG_HOME/competency/config.toml).",
    ),
    (
        "NO_COLOR",
        "When set and not empty: no colours, as --no-color.",
    ),
];

/// The files the program reads and writes.
const FILES: &[(&str, &str)] = &[
    (
        "$XDG_DATA_HOME/competency/competency.db",
        "The default database (mode 0600, in a folder of mode 0700).",
    ),
    (
        "$XDG_CONFIG_HOME/competency/config.toml",
        "Optional configuration: keys db and org.",
    ),
    (
        "credentials-<UTC timestamp>.csv",
        "Temporary passwords of new accounts (users add, users import, users reset-password, \
         achievements import --create-users): mode 0600, never written over an existing file.",
    ),
    (
        "FILE.rejects.csv",
        "Rows an import with --skip-invalid rejected, each with an error column (mode 0600).",
    ),
];

/// One page: its file name and its roff text.
pub struct Page {
    /// `competency-membership-check.1`.
    pub file: String,
    /// The page.
    pub text: Vec<u8>,
}

/// Every page of the command tree, the main page first.
pub fn pages() -> Result<Vec<Page>> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut out = Vec::new();
    collect(&cmd, true, &mut out)?;
    Ok(out)
}

fn collect(cmd: &clap::Command, main: bool, out: &mut Vec<Page>) -> Result<()> {
    out.push(page(cmd, main)?);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect(sub, false, out)?;
    }
    Ok(())
}

fn page(cmd: &clap::Command, main: bool) -> Result<Page> {
    let man = Man::new(cmd.clone()).manual("competency manual");
    let mut text = Vec::new();
    man.render_title(&mut text)?;
    man.render_name_section(&mut text)?;
    man.render_synopsis_section(&mut text)?;
    man.render_description_section(&mut text)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut text)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut text)?;
    }
    let name = cmd.get_display_name().unwrap_or_else(|| cmd.get_name());
    let mut roff = Roff::new();
    examples(&mut roff, cmd, main);
    exit_status(&mut roff, name);
    definitions(&mut roff, "ENVIRONMENT", ENVIRONMENT);
    if main {
        definitions(&mut roff, "FILES", FILES);
    }
    see_also(&mut roff, cmd, main);
    roff.to_writer(&mut text)?;
    Ok(Page {
        file: man.get_filename(),
        text: ascii_roff(&String::from_utf8_lossy(&text)).into_bytes(),
    })
}

/// Writes every non-ASCII character as a groff Unicode escape (`→` is `\[u2192]`): groff
/// reads its input as Latin-1 unless a preprocessor converts it, and warns on the rest.
fn ascii_roff(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(&format!("\\[u{:04X}]", u32::from(c)));
        }
    }
    out
}

/// Verbatim command lines, indented.
fn verbatim(roff: &mut Roff, lines: &[&str]) {
    roff.control("RS", ["4"]).control("nf", []);
    for l in lines {
        roff.text([roman(*l)]);
    }
    roff.control("fi", []).control("RE", []);
}

fn examples(roff: &mut Roff, cmd: &clap::Command, main: bool) {
    if main {
        roff.control("SH", ["EXAMPLES"]);
        for (what, lines) in MAIN_EXAMPLES {
            roff.control("PP", []).text([roman(*what)]);
            verbatim(roff, lines);
        }
        return;
    }
    let Some(help) = cmd.get_after_long_help().or_else(|| cmd.get_after_help()) else {
        return;
    };
    let help = help.to_string();
    // The `--help` text says "Examples:" and indents the lines; the page has a heading.
    let lines: Vec<&str> = help
        .lines()
        .filter(|l| !l.trim().eq_ignore_ascii_case("examples:"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    roff.control("SH", ["EXAMPLES"]);
    verbatim(roff, &lines);
}

/// SPEC §3: every command exits 0, 1 or 2; `membership check` also 3, 4 and 5.
fn exit_status(roff: &mut Roff, name: &str) {
    let mut codes = vec![
        ("0", "Success."),
        (
            "1",
            "Error: bad input, not found, refused by a rule, database problem. One line on \
             stderr starting with error:, with FILE:LINE for a bad file. A command that fails \
             changes nothing.",
        ),
        ("2", "Usage error: an unknown flag, a missing argument."),
        (
            "130",
            "Interrupted by Ctrl-C: the transaction was rolled back, partial files removed, \
             and interrupted: nothing was changed printed on stderr.",
        ),
    ];
    let check = [
        (
            "3",
            "membership check: warning: still eligible, but something expires before the \
             anniversary, or the renewal window is open.",
        ),
        (
            "4",
            "membership check: renewal eligibility at risk: a competency the membership \
             shows is no longer met.",
        ),
        (
            "5",
            "membership check: no active membership (never bought, or lapsed).",
        ),
    ];
    if matches!(
        name,
        "competency" | "competency-membership" | "competency-membership-check"
    ) {
        codes.extend(check);
    }
    roff.control("SH", ["EXIT STATUS"]);
    for (code, what) in codes {
        roff.control("TP", [])
            .text([bold(code)])
            .text([roman(what)]);
    }
}

fn definitions(roff: &mut Roff, heading: &str, items: &[(&str, &str)]) {
    roff.control("SH", [heading]);
    for (name, what) in items {
        roff.control("TP", [])
            .text([bold(*name)])
            .text([roman(*what)]);
    }
}

fn see_also(roff: &mut Roff, cmd: &clap::Command, main: bool) {
    let mut refs: Vec<String> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| {
            format!(
                "{}(1)",
                s.get_display_name().unwrap_or_else(|| s.get_name())
            )
        })
        .collect();
    if !main {
        refs.insert(0, "competency(1)".into());
    }
    if refs.is_empty() {
        return;
    }
    roff.control("SH", ["SEE ALSO"])
        .text([roman(refs.join(", "))]);
}

/// Runs `man`. Every page passes the output guard of every writer before any is written
/// (`support::files::guard_output`): never the database `db` or its side files, a link, a
/// FIFO, a device or a folder, with or without `--force`; an existing page only with
/// `--force`, replaced by a rename (never written through).
pub fn run(a: ManArgs, db: &Path) -> Result<Report> {
    let pages = pages()?;
    let what = "the manual page";
    let mut existing = Vec::new();
    for p in &pages {
        let path = a.out.join(&p.file);
        if files::guard_output(&path, db, what)? == Found::File {
            existing.push(p.file.clone());
        }
    }
    if !a.force
        && let Some(first) = existing.first()
    {
        return Err(bad_input(format!(
            "{} already exists{}: add --force to overwrite the pages; nothing was written",
            a.out.join(first).display(),
            if existing.len() > 1 {
                format!(" (and {} more pages)", existing.len() - 1)
            } else {
                String::new()
            }
        )));
    }
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    for p in &pages {
        let path = a.out.join(&p.file);
        files::write_output(&path, &p.text, existing.contains(&p.file), false, what)?;
    }
    let files: Vec<&str> = pages.iter().map(|p| p.file.as_str()).collect();
    let text = format!(
        "Wrote {} manual pages to {} (competency.1, {}, …). Read one with `man -l {}`, or \
         install them in a folder of MANPATH such as ~/.local/share/man/man1.",
        pages.len(),
        a.out.display(),
        files.get(1).copied().unwrap_or(""),
        a.out.join("competency.1").display()
    );
    Ok(Report::new(ManView {
        out: a.out.display().to_string(),
        pages: files,
    })
    .text(text))
}

/// `man --format json` (SPEC §8).
#[derive(Serialize)]
struct ManView<'a> {
    out: String,
    pages: Vec<&'a str>,
}
