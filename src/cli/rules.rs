//! `rules …`: the rulebook in use (stored in the database, per organization).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;
use serde::Serialize;

use super::Ctx;
use super::rules_diff;
use crate::domain::rulebook_diff::{self, Imported};
use crate::domain::{records, rulebooks};
use crate::output::{Report, Table, number};
use crate::rules::{Level, Rulebook};
use crate::support::terminal::message;

/// Rulebook commands.
#[derive(Debug, Subcommand)]
pub enum RulesCmd {
    /// Summarize the rulebook in use: program parameters, fees, competencies.
    Show,
    /// Check a rulebook file; errors name the file, line and key.
    Validate {
        /// The TOML file.
        file: PathBuf,
    },
    /// Replace the organization's rulebook with a file or an embedded rulebook by name
    /// (`solutions-partner`, `default`); validated first; audited.
    ///
    /// When the organization holds something the new rulebook changes (a competency its
    /// business profile displays, an enrolled designation), the changes are shown first
    /// (as `rules diff`), and the import is refused if one of those would disappear or stop
    /// being met / qualifying, unless `--force`.
    Import {
        /// The TOML file, or the name of an embedded rulebook.
        file: PathBuf,
        /// Import even though a displayed competency or an enrolled designation would
        /// disappear or stop qualifying: each gets its alert, the import as its cause.
        #[arg(long)]
        force: bool,
    },
    /// What a rulebook would change for the organization at `--now`, without importing
    /// it: each competency and designation whose level, score or qualification would
    /// change, and why ("Security Operations Analyst no longer counts in step 3"). Reads
    /// only; exit 0 whatever it finds (1 only for an invalid file, as `rules validate`).
    Diff {
        /// The TOML file, or the name of an embedded rulebook (`solutions-partner`,
        /// `default`).
        file: PathBuf,
    },
    /// Print the rulebook in use as TOML (what `rules import` reads back).
    Export,
}

/// The text of a rulebook named on the command line: a file, or (when no file has that
/// name) an embedded rulebook by name (`default`, `solutions-partner`).
pub fn source(file: &std::path::Path) -> Result<Vec<u8>> {
    if !file.exists()
        && let Some((_, text)) = crate::rules::rulebook::EMBEDDED_RULEBOOKS
            .iter()
            .find(|(name, _)| std::path::Path::new(name) == file)
    {
        return Ok(text.as_bytes().to_vec());
    }
    std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))
}

/// Prints the rulebook's warnings (problems that do not make it invalid) on stderr.
pub fn warn(rb: &Rulebook) {
    for w in crate::rules::validate::warnings(rb) {
        message(&format!("warning: {w}"));
    }
}

fn read(file: &std::path::Path) -> Result<(String, Rulebook)> {
    let text = source(file)?;
    let text = String::from_utf8(text).map_err(|e| {
        anyhow::anyhow!(
            "{}: not UTF-8 (byte {})",
            file.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    // Every problem is reported, one per line on stderr; the error itself is the first.
    match Rulebook::parse_all(&text, &file.display().to_string()) {
        Ok(rb) => {
            warn(&rb);
            Ok((text, rb))
        }
        Err(errors) => {
            // In file order: all but the last here, the last as the command's error.
            let n = errors.len();
            let mut errors = errors.into_iter();
            for e in errors.by_ref().take(n - 1) {
                message(&format!("error: {e}"));
            }
            let last = errors.next().expect("parse_all never returns no error");
            if n > 1 {
                Err(anyhow::anyhow!("{last} ({n} problems in all)"))
            } else {
                Err(last.into())
            }
        }
    }
}

/// Runs a `rules` command.
pub fn run(cmd: RulesCmd, ctx: &mut Ctx) -> Result<Report> {
    match cmd {
        RulesCmd::Validate { file } => {
            let (_, rb) = read(&file)?;
            Ok(Report::new(ValidView {
                file: file.display().to_string(),
                valid: true,
                competencies: rb.competencies.len(),
                catalog: rb.catalog.len(),
            })
            .text(format!(
                "{}: valid ({})",
                file.display(),
                rulebooks::describe(&rb)
            )))
        }
        RulesCmd::Diff { file } => {
            let (_, rb) = read(&file)?;
            let at = ctx.actor().at;
            let d = ctx.read_org(|db, org| rulebook_diff::diff(db, org, &rb, at))?;
            Ok(rules_diff::report(&d, &file.display().to_string()))
        }
        RulesCmd::Import { file, force } => {
            let (text, rb) = read(&file)?;
            let actor = ctx.actor();
            let origin = file.display().to_string();
            let quiet = ctx.quiet;
            // The check and the import share one write transaction: what is held cannot
            // change between the two. A refusal rolls back (nothing was written anyway).
            let (org, outcome) = ctx.write_org_or_rollback(|db, org| {
                let outcome = rulebook_diff::import(db, org, &actor, &text, &rb, &origin, force)?;
                // What changes is shown first, before the alerts the import raises; always
                // when it is the reason for a refusal.
                let (diff, commit) = match &outcome {
                    Imported::Refused(d) => (d, false),
                    Imported::Done(d, _) => (d, true),
                };
                if (!commit || !quiet) && diff.holds && !diff.changes.is_empty() {
                    rules_diff::lines(diff).iter().for_each(|l| message(l));
                }
                Ok(((org.clone(), outcome), commit))
            })?;
            let (diff, replaced) = match outcome {
                Imported::Refused(d) => {
                    return Err(crate::error::refused(rulebook_diff::refusal(&d)));
                }
                Imported::Done(d, replaced) => (d, replaced),
            };
            if let Some(t) = &replaced.term {
                crate::support::terminal::message(&format!("note: {}", term_change(t)));
            }
            super::membership::print_alerts(&replaced.alerts);
            Ok(Report::new(ImportedView {
                organization: &org.slug,
                file: origin.clone(),
                competencies: rb.competencies.len(),
                catalog: rb.catalog.len(),
                changes: rules_diff::rows(&diff),
            })
            .text(format!(
                "{} now uses {} ({})",
                org.name,
                file.display(),
                rulebooks::describe(&rb)
            )))
        }
        RulesCmd::Export => {
            let src = ctx.read_org(rulebooks::source)?;
            let mut r = Report::new(ExportView { toml: &src });
            // The stored text is printed as is: comments and layout survive the round trip.
            r.sections
                .push(crate::output::Section::Text(src.trim_end().to_owned()));
            Ok(r)
        }
        RulesCmd::Show => {
            let rb = ctx.read_org(records::rulebook)?;
            let p = &rb.program;
            let mut t = Table::new(&[
                "Competency",
                "Name",
                "Area",
                "Silver options",
                "Gold options",
            ]);
            for (id, c) in &rb.competencies {
                let names = |l: Level| {
                    c.options(l)
                        .iter()
                        .map(|o| o.option.clone())
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                t.row([
                    id.clone(),
                    c.name.clone(),
                    c.area.clone(),
                    names(Level::Silver),
                    names(Level::Gold),
                ]);
            }
            let r = Report::new(&rb)
                .fields(vec![
                    ("Program", p.name.clone()),
                    (
                        "Progress delay",
                        format!("{} hours", p.progress_delay_hours),
                    ),
                    ("Term", format!("{} months", p.term_months)),
                    (
                        "Renewal opens",
                        format!("{} days before the anniversary", p.renewal_opens_days),
                    ),
                    (
                        "Grace",
                        format!("{} days after the anniversary", p.grace_days),
                    ),
                    ("Metric window", format!("{} days", p.metric_window_days)),
                    (
                        "Retired exams count",
                        format!("{} months after retirement", p.retired_grace_months),
                    ),
                    (
                        "Fees",
                        format!(
                            "Silver {} USD, Gold {} USD",
                            number(rb.fees.silver as f64),
                            number(rb.fees.gold as f64)
                        ),
                    ),
                    ("Catalog", format!("{} entries", rb.catalog.len())),
                ])
                .table(t);
            Ok(match rulebooks::embedded_newer(&rb) {
                Some(note) => r.text(note),
                None => r,
            })
        }
    }
}

/// The note of a rulebook import that moved the current term's windows: each date that
/// moved, then the state when it changed.
fn term_change(t: &rulebooks::TermChange) -> String {
    let (b, a) = (&t.before, &t.after);
    let mut moved = Vec::new();
    if a.renewal_opens != b.renewal_opens {
        moved.push(format!(
            "renewal opens {} (was {})",
            a.renewal_opens, b.renewal_opens
        ));
    }
    if a.lapses != b.lapses {
        moved.push(format!(
            "the renewal window closes {} and the membership lapses {} (was {} and {})",
            a.window_closes(),
            a.lapses,
            b.window_closes(),
            b.lapses
        ));
    }
    let mut text = format!(
        "the new rulebook changes the current term (anniversary {}): {}",
        a.anniversary,
        moved.join("; ")
    );
    if t.state_after != t.state_before {
        text.push_str(&format!(
            "; the membership is now {} (was {})",
            t.state_after.as_str(),
            t.state_before.as_str()
        ));
    }
    text
}

/// `rules validate --format json` (SPEC §8).
#[derive(Serialize)]
struct ValidView {
    file: String,
    valid: bool,
    competencies: usize,
    catalog: usize,
}

/// `rules import --format json` (SPEC §8).
#[derive(Serialize)]
struct ImportedView<'a> {
    organization: &'a str,
    file: String,
    competencies: usize,
    catalog: usize,
    /// What changed for the organization at the import's instant (as `rules diff`).
    changes: Vec<rules_diff::RowView<'a>>,
}

/// `rules export --format json` (SPEC §8).
#[derive(Serialize)]
struct ExportView<'a> {
    toml: &'a str,
}
