//! `report`: writes the one-page HTML report (SPEC §11) to a private file.
//!
//! The page is built from one read transaction (nothing in the database changes), then
//! written: a new file is created mode 0600 with `O_CREAT|O_EXCL`, which fails on an
//! existing file and on a symbolic link alike; `--force` writes a new private sibling and
//! renames it over the old file, so a reader never sees half a page and a link is never
//! followed.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use clap::Args;
use serde::Serialize;

use super::Ctx;
use crate::domain::report;
use crate::error::{bad_input, refused};
use crate::output::Report;
use crate::support::clock::rfc3339;

/// `report` arguments.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The HTML file to write [default: competency-report-<YYYY-MM-DD>.html in the current
    /// folder, the date of --now]. Never written over an existing file unless --force.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Replace FILE if it exists (a new file is written beside it and renamed over it; a
    /// symbolic link is refused, never followed).
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
    // Ctrl-C while the organization is evaluated writes no file and exits 130.
    let _armed = crate::domain::progress::arm();
    let progress = super::progress::reporter(ctx.quiet, ctx.style.format);
    crate::domain::progress::phase(&*progress, "evaluating", None)?;
    let view = ctx.read_org(|db, org| report::gather(db, org, at))?;
    crate::domain::progress::phase(&*progress, "writing the report", None)?;
    let page = report::html::render(&view);
    crate::domain::progress::check()?;
    progress.finish();
    if a.force {
        replace(&path, page.as_bytes())?;
    } else {
        create(&path, page.as_bytes())?;
    }
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

/// Creates `path` (never over a file or a link), mode 0600, and writes `bytes` to it; on a
/// failed write the partial file is removed.
fn create(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = crate::support::files::create_private(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            refused(format!(
                "{} already exists (or is a link): choose another --out, or --force to \
                 replace a file; nothing was written",
                path.display()
            ))
        } else {
            anyhow!("cannot create {}: {e}", path.display())
        }
    })?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    if let Err(e) = written {
        drop(f);
        let _ = std::fs::remove_file(path);
        return Err(anyhow!("cannot write {}: {e}", path.display()));
    }
    Ok(())
}

/// Replaces `path` with a new private file holding `bytes`: written to a sibling first,
/// then renamed over it. A symbolic link or a folder at `path` is refused.
fn replace(path: &Path, bytes: &[u8]) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(refused(format!(
                "{} is a symbolic link: not replaced (write the report to the real path); \
                 nothing was written",
                path.display()
            )));
        }
        Ok(m) if m.is_dir() => {
            return Err(bad_input(format!("{} is a folder", path.display())));
        }
        _ => {}
    }
    let name = path
        .file_name()
        .ok_or_else(|| bad_input(format!("{} is not a file name", path.display())))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    create(&tmp, bytes)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow!(
            "cannot replace {}: {e}; nothing was changed",
            path.display()
        )
    })
}
