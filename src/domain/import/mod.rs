//! Bulk CSV imports of users, achievements and performance records (SPEC §6).
//!
//! This module owns reading an import file and deciding, row by row, what each row means:
//! added, updated, unchanged or rejected. It keeps these invariants:
//! - **streaming**: the file is read once through one reused `ByteRecord`. Achievements
//!   and performance rows are staged as they are read and decided set-based by the store
//!   once the file is read (`store::import::records`, `store::import::performance`): the
//!   counts and the refused rows, in file order, come from there; users are staged in TEMP
//!   tables and written in index order (see [`users::import`]). Nothing proportional to
//!   the file is held in memory: memory stays flat whatever the file size.
//! - **one transaction**: the caller runs an import inside one `BEGIN IMMEDIATE`
//!   transaction, with statements prepared once. An all-or-nothing import that found a bad
//!   row, and every dry run, is rolled back, so the database checks (duplicates,
//!   collisions) are exactly those of a real run.
//! - **the same rules as single adds**: fields are validated by `validate` and `records`,
//!   the functions `users add`, `achievements add` and `performance record` use.
//! - **accepted + rejected = input**: every data row ends up counted exactly once as
//!   added, updated, unchanged or rejected; with `--skip-invalid` each rejected row is
//!   copied byte for byte to the rejects file with an `error` column.
//! - **idempotence**: a row already present with the same data is `unchanged` and writes
//!   nothing; an import that changes nothing leaves no audit entry.
//! - **no secret leaves except through the credentials file**: temporary passwords are
//!   generated from the OS random source, stored hashed, written only to the credentials
//!   file, never audited and never in a report.

pub mod achievements;
mod input;
pub mod performance;
mod rejects;
mod settle;
pub mod trainings;
pub mod users;

pub use input::{Encoding, Input, Source};
pub use rejects::Rejects;
pub use settle::{Fate, audit, settle};

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use serde::Serialize;

/// How many bad rows are listed; the rest are counted.
pub const MAX_LISTED_ERRORS: usize = 50;

/// What a row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A new record (or account).
    Added,
    /// An existing record changed (an expiry, a value, an MSA link).
    Updated,
    /// Already present with the same data.
    Unchanged,
}

/// The options every import takes.
#[derive(Clone)]
pub struct Options {
    /// The CSV file.
    pub file: PathBuf,
    /// Import the valid rows and write the invalid ones to the rejects file.
    pub skip_invalid: bool,
    /// Validate and report only.
    pub dry_run: bool,
    /// Where the import reports its phases (reading, writing, …).
    pub progress: crate::domain::progress::Reporter,
    /// `--encoding`: how a file without a BOM is read [default: UTF-8, checked].
    pub encoding: Option<Encoding>,
    /// The file as UTF-8 text, made once by the first pass over it and shared by the others
    /// (sniffing, a pre-scan, the import): standard input can be read only once, and a
    /// decoded copy is made only once.
    source: Arc<OnceLock<Arc<Source>>>,
}

impl Options {
    /// The options of an import of `file` that writes, all or nothing, in UTF-8 unless
    /// a BOM says otherwise.
    pub fn new(file: PathBuf, progress: crate::domain::progress::Reporter) -> Options {
        Options {
            file,
            skip_invalid: false,
            dry_run: false,
            progress,
            encoding: None,
            source: Arc::default(),
        }
    }

    /// The file as UTF-8 text, read (and checked or decoded) the first time it is asked for.
    pub fn source(&self) -> anyhow::Result<Arc<Source>> {
        if let Some(s) = self.source.get() {
            return Ok(s.clone());
        }
        let s = Arc::new(Source::open(&self.file, self.encoding)?);
        Ok(self.source.get_or_init(|| s).clone())
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("file", &self.file)
            .field("skip_invalid", &self.skip_invalid)
            .field("dry_run", &self.dry_run)
            .field("encoding", &self.encoding)
            .finish_non_exhaustive()
    }
}

/// After an import that linked MSAs to accounts of `org` (`by`, as the cause names it: "a
/// users import"): the associations it severed elsewhere counted and listed in the summary
/// (after its other notes, up to [`MAX_LISTED_ERRORS`]) and the organizations that lost them
/// re-evaluated, their alerts in the summary. The severing itself, its wording and its
/// audit are [`crate::domain::accounts::sever`]'s.
pub fn after_severing(
    db: &crate::store::Db,
    org: &crate::store::Org,
    actor: &crate::domain::Actor,
    severed: &crate::domain::accounts::Severed,
    by: &str,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    summary.severed = severed.count();
    let room = MAX_LISTED_ERRORS.saturating_sub(summary.notes.len());
    summary.notes.extend(severed.notes(room));
    // Another organization lost an MSA: that can break a competency its membership shows.
    let change = crate::domain::effects::Change::Severed { severed, by };
    for raised in crate::domain::effects::after(db, org, actor, &change)? {
        if raised.elsewhere {
            summary.elsewhere.push(raised);
        } else {
            summary.alerts.extend(raised.alerts);
        }
    }
    Ok(())
}

/// What an import did (or, for a dry run or a failed all-or-nothing import, would do).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// `users`, `achievements` or `performance`.
    pub kind: &'static str,
    /// The file imported.
    pub file: String,
    /// Data rows read (the header not counted).
    pub rows: u64,
    /// Rows added.
    pub added: u64,
    /// Rows that changed an existing record.
    pub updated: u64,
    /// Rows already present with the same data.
    pub unchanged: u64,
    /// Invalid rows.
    pub rejected: u64,
    /// Rows left aside, not errors (Trainings report titles outside the catalogue).
    pub skipped: u64,
    /// MSA associations severed in other accounts because a row linked the MSA here.
    pub severed: u64,
    /// Achievements accepted that never count: passes of an exam dated on or after its
    /// retirement.
    pub retired_passes: u64,
    /// Nothing was written: `--dry-run`.
    pub dry_run: bool,
    /// Valid rows are imported despite invalid ones: `--skip-invalid`.
    pub skip_invalid: bool,
    /// The changes were committed.
    pub committed: bool,
    /// The credentials file with the new temporary passwords.
    pub credentials_file: Option<String>,
    /// The rejects file.
    pub rejects_file: Option<String>,
    /// Columns present in the file but not used.
    pub ignored_columns: Vec<String>,
    /// The first [`MAX_LISTED_ERRORS`] bad rows, as `FILE:LINE: field: reason`.
    #[serde(skip)]
    pub errors: Vec<String>,
    /// Severed associations, one line each (the first [`MAX_LISTED_ERRORS`]).
    #[serde(skip)]
    pub notes: Vec<String>,
    /// Alerts raised in organizations whose MSA associations the import severed.
    #[serde(skip)]
    pub alerts: Vec<crate::domain::membership::Alert>,
    /// Alerts raised in other organizations (an MSA severed there), shown under their names.
    #[serde(skip)]
    pub elsewhere: Vec<crate::domain::effects::OrgAlerts>,
}

impl Summary {
    fn new(kind: &'static str, input: &Input, opts: &Options) -> Self {
        Summary {
            kind,
            file: input.display().to_owned(),
            ignored_columns: input.ignored().to_vec(),
            dry_run: opts.dry_run,
            skip_invalid: opts.skip_invalid,
            ..Summary::default()
        }
    }

    /// Counts a row's outcome.
    fn count(&mut self, o: Outcome) {
        match o {
            Outcome::Added => self.added += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Unchanged => self.unchanged += 1,
        }
    }

    /// Records a bad row.
    fn reject(&mut self, line: u64, message: &str) {
        self.rejected += 1;
        if self.errors.len() < MAX_LISTED_ERRORS {
            self.errors.push(format!("{}:{line}: {message}", self.file));
        }
    }

    /// Bad rows beyond those listed.
    pub fn unlisted_errors(&self) -> u64 {
        self.rejected - self.errors.len() as u64
    }

    /// Whether the import's changes should be committed (see [`Fate`]).
    pub fn should_commit(&self) -> bool {
        self.fate() == Fate::Kept
    }

    /// Whether the import changed anything (worth an audit entry).
    pub fn changed_anything(&self) -> bool {
        self.added + self.updated + self.severed > 0
    }

    /// The audit detail: file and counts, never a secret.
    pub fn audit_detail(&self) -> String {
        format!(
            "rows={} added={} updated={} unchanged={} rejected={}{} severed={}{}",
            self.rows,
            self.added,
            self.updated,
            self.unchanged,
            self.rejected,
            if self.skipped > 0 {
                format!(" skipped={}", self.skipped)
            } else {
                String::new()
            },
            self.severed,
            self.credentials_file
                .as_deref()
                .map(|c| format!(" credentials_file={c}"))
                .unwrap_or_default()
        )
    }
}

/// What reading a row of a record import did with it (the store decides the rows staged
/// once the file is read: the domain learns their outcomes then).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    /// Staged, to be decided with the others.
    Staged,
    /// Not for us: a Trainings report row whose title is in no catalogue entry.
    Skipped,
}

/// Reads the rows of a record import through `row`, which validates and stages a row; a
/// row it finds invalid (`Ok(Err(message))`) goes to the stage through `invalid`, to be
/// reported in file order with the rows the store refuses. `Err` only for a failure that
/// must abort the whole import (the database, the disk).
fn read_rows<S>(
    input: &mut Input,
    summary: &mut Summary,
    stage: &mut S,
    invalid: fn(&mut S, u64, (u64, u64), &str) -> anyhow::Result<()>,
    mut row: impl FnMut(&mut S, &input::Row, u64) -> anyhow::Result<Result<Read, String>>,
) -> anyhow::Result<()> {
    loop {
        let (line, span, read) = {
            let Some(r) = input.next_row()? else { break };
            let read = match r.check() {
                Err(e) => Err(e),
                Ok(()) => row(stage, &r, r.line())?,
            };
            (r.line(), r.span(), read)
        };
        summary.rows += 1;
        match read {
            Ok(Read::Staged) => {}
            Ok(Read::Skipped) => summary.skipped += 1,
            Err(message) => invalid(stage, line, span, &message)?,
        }
    }
    input.finish();
    Ok(())
}

/// Reports a row refused once the stage is decided (they come in file order): in the
/// summary and, with `--skip-invalid`, copied to the rejects file with its message.
fn refuse(
    input: &Input,
    summary: &mut Summary,
    rejects: Option<&mut Rejects>,
    line: u64,
    span: (u64, u64),
    message: &str,
) -> anyhow::Result<()> {
    summary.reject(line, message);
    if let Some(rej) = rejects {
        rej.write(input, span.0, span.1, message)?;
    }
    Ok(())
}
