//! `report`: writes the one-page HTML report (SPEC §11) to a private file.
//!
//! The page's view is built by the domain from one read transaction (nothing in the database
//! changes) and rendered by `output::report`, then written through the output guard of every
//! writer (`support::files`): never the database or its side files, never a link, FIFO,
//! device or folder, with or without `--force`; a new file is created mode 0600 with
//! `O_CREAT|O_EXCL`; `--force` writes a new private sibling and renames it over an existing
//! regular file, so a reader never sees half a page.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use super::Ctx;
use crate::domain::report;
use crate::error::{bad_input, refused};
use crate::output::Report;
use crate::support::clock::rfc3339;
use crate::support::files::{self, Found};

/// `report` arguments.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The HTML file to write [default: competency-report-<YYYY-MM-DD>.html in the current
    /// folder, the date of --now]. Never written over an existing file unless --force.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Replace FILE if it is a regular file (a new file is written beside it and renamed
    /// over it). The database's files, a symbolic link, a FIFO, a device or a folder are
    /// refused all the same.
    #[arg(long)]
    force: bool,
}

/// Runs `report`.
pub fn run(a: ReportArgs, ctx: &mut Ctx) -> Result<Report> {
    let at = ctx.clock.now();
    let path = a
        .out
        .unwrap_or_else(|| PathBuf::from(format!("competency-report-{}.html", at.date_naive())));
    if path.as_os_str().is_empty() {
        return Err(bad_input("--out needs a file name"));
    }
    // Refused before the evaluation: the database, a link, a FIFO… and, without --force,
    // an existing file.
    guard(&path, a.force, ctx.db_path())?;
    // Ctrl-C while the organization is evaluated writes no file and exits 130.
    let _armed = crate::domain::progress::arm();
    let progress = super::progress::reporter(ctx.quiet, ctx.style.format);
    crate::domain::progress::phase(&*progress, "evaluating", None)?;
    let view = ctx.read_org(|db, org| report::gather(db, org, at))?;
    crate::domain::progress::phase(&*progress, "writing the report", None)?;
    let page = crate::output::report::render(&view);
    crate::domain::progress::check()?;
    progress.finish();
    // Checked again after the evaluation: a file may have appeared meanwhile.
    write(&path, page.as_bytes(), a.force, ctx.db_path())?;
    ctx.info(format!("report written to {}", path.display()));
    Ok(Report::new(WrittenView {
        path: path.display().to_string(),
        bytes: page.len(),
        at: rfc3339(at),
        organization: &view.org.name,
    })
    .text(path.display().to_string()))
}

/// `report --format json` (SPEC §8).
#[derive(Serialize)]
struct WrittenView<'a> {
    path: String,
    bytes: usize,
    at: String,
    organization: &'a str,
}

/// The output guard of every writer (`support::files::guard_output`), and without `force`
/// an existing file refused with the way out.
fn guard(path: &Path, force: bool, db: &Path) -> Result<()> {
    let found = files::guard_output(path, db, "the report")?;
    if found == Found::File && !force {
        return Err(refused(format!(
            "{} already exists: choose another --out, or --force to replace it; nothing was \
             written",
            path.display()
        )));
    }
    Ok(())
}

/// Writes the page: a new private file, or with `force` a new one renamed over the old.
fn write(path: &Path, page: &[u8], force: bool, db: &Path) -> Result<()> {
    guard(path, force, db)?;
    files::write_output(path, page, force, true, "the report")
}
