//! `users import`, `achievements import`, `performance import`: the flags they share and
//! the steps around the import itself — files created before the transaction (so an
//! unwritable path changes nothing), synced before the commit, kept only after it.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use super::Ctx;

mod trainings;
use crate::domain::accounts::Actor;
use crate::domain::credentials::{self, CredentialsFile};
use crate::domain::import::trainings::DateOrder;
use crate::domain::import::{self, Encoding, Fate, Input, Options, Rejects, Summary};
use crate::domain::records;
use crate::error::bad_input;
use crate::output::Report;
use crate::store::{Db, Org};
use crate::support::files::{self, Dest, Found};
use crate::support::terminal::message;
use chrono::NaiveDate;

/// The flags of every import.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The CSV file: a header row, then one record per row (UTF-8, or UTF-16 with a BOM;
    /// headers match ignoring case, spaces, `_` and `-`); `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The encoding of a file without a byte-order mark (a BOM always decides):
    /// `windows-1252` for Excel's "CSV (Comma delimited)", `utf-16` for its "Unicode text"
    /// [default: utf-8; a file that is not is refused with its line].
    #[arg(long, value_enum, value_name = "ENCODING")]
    pub encoding: Option<Encoding>,
    /// Import the valid rows and copy every invalid row, unchanged, to the rejects file
    /// with an `error` column [default: all or nothing].
    #[arg(long)]
    pub skip_invalid: bool,
    /// Where --skip-invalid writes rejected rows; never over an existing file
    /// [default: FILE.rejects.csv].
    #[arg(long, value_name = "PATH", requires = "skip_invalid")]
    pub rejects: Option<PathBuf>,
    /// Validate every row against the rules and the database, report, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// The flags of `users import`.
#[derive(Debug, Args)]
pub struct UsersImportArgs {
    /// The flags every import takes.
    #[command(flatten)]
    pub common: ImportArgs,
    /// Where to write the new accounts' temporary passwords, one file for the whole import
    /// (mode 0600, never over an existing file) [default: credentials-<UTC timestamp>.csv].
    #[arg(long, value_name = "PATH")]
    pub credentials_file: Option<PathBuf>,
}

/// The flags of `achievements import`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("linking").args(["link_users", "create_users"]).multiple(true)))]
pub struct AchievementsImportArgs {
    /// The flags every import takes.
    #[command(flatten)]
    pub common: ImportArgs,
    /// Trainings report only: the day/month order of its DD/MM/YYYY dates, needed only when
    /// no date in the file has a day above 12 [default: taken from the file].
    #[arg(long, value_enum, value_name = "ORDER")]
    pub date_order: Option<DateOrder>,
    /// Trainings report only: link each person's MSA (Email) to the active account whose
    /// e-mail is their CorpEmail, when that account has no MSA yet.
    #[arg(long)]
    pub link_users: bool,
    /// Trainings report only: as --link-users, and create the missing accounts from
    /// CorpEmail and the name columns, with temporary passwords in one credentials file.
    #[arg(long)]
    pub create_users: bool,
    /// With --create-users: where to write the new accounts' temporary passwords (mode
    /// 0600, never over an existing file) [default: credentials-<UTC timestamp>.csv].
    #[arg(long, value_name = "PATH", requires = "create_users")]
    pub credentials_file: Option<PathBuf>,
    /// With --link-users or --create-users: the links this import makes count from DATE
    /// (YYYY-MM-DD, 00:00 UTC) instead of now, so that a full-history report keeps the
    /// months Partner Center already counted. Refused where an MSA was linked to another
    /// organization after DATE; links that already exist are unchanged.
    #[arg(long, value_name = "DATE", value_parser = crate::support::clock::parse_date, requires = "linking")]
    pub linked_since: Option<NaiveDate>,
}

fn options(a: &ImportArgs, ctx: &Ctx) -> Options {
    let mut o = Options::new(
        a.file.clone(),
        super::progress::reporter(ctx.quiet, ctx.style.format),
    );
    o.skip_invalid = a.skip_invalid;
    o.dry_run = a.dry_run;
    o.encoding = a.encoding;
    o
}

/// The rejects file: `--rejects` (refused if it exists), else the first free one of
/// `FILE.rejects.csv`, `FILE.rejects-2.csv`…; never the database or its side files.
fn rejects_file(a: &ImportArgs, opts: &Options, db: &Path) -> Result<Option<Rejects>> {
    if !opts.sets_bad_rows_aside() {
        return Ok(None);
    }
    if a.rejects.is_none() && a.file.as_os_str() == "-" {
        return Err(bad_input(
            "--skip-invalid on standard input (FILE -) needs --rejects PATH for the rejected rows",
        ));
    }
    let dest = match &a.rejects {
        Some(p) => Dest::Exact(p.clone()),
        None => {
            let mut p = a.file.clone().into_os_string();
            p.push(".rejects.csv");
            Dest::Free(PathBuf::from(p))
        }
    };
    let what = "the rejects file";
    let mut path = dest.path().to_path_buf();
    if matches!(dest, Dest::Free(_)) {
        // A default name taken (by a file, a link, a FIFO… or the database) is passed over.
        let mut n = 1;
        while !matches!(files::guard_output(&path, db, what), Ok(Found::Nothing)) && n < 10_000 {
            n += 1;
            path = files::numbered(dest.path(), n);
        }
    }
    files::guard_output(&path, db, what)?;
    Rejects::create(&path).map(Some)
}

/// Runs `users import`.
pub fn users(a: UsersImportArgs, ctx: &mut Ctx) -> Result<Report> {
    // Ctrl-C from here on rolls back and removes the files this command made.
    let _armed = crate::domain::progress::arm();
    let opts = options(&a.common, ctx);
    // The database first: a missing one is an error before any file is created.
    ctx.open_database()?;
    let mut input = import::users::open(&opts)?;
    let actor = ctx.actor();
    warn_ignored(ctx, &input);
    let creds = if !opts.keeps_a_clean_file() {
        None
    } else {
        let dest = credentials::destination(a.credentials_file.clone(), actor.at);
        Some(CredentialsFile::create(dest, ctx.db_path(), false)?)
    };
    let mut rejects = rejects_file(&a.common, &opts, ctx.db_path())?;
    let summary = with_credentials(ctx, creds, |db, org, mut creds| {
        let s = import::users::import(
            db,
            org,
            &actor,
            &opts,
            &mut input,
            creds.as_deref_mut(),
            rejects.as_mut(),
        )?;
        import::settle(db, org, &actor, &opts, s, creds, rejects.as_mut())
    })?;
    opts.progress.finish();
    finish(ctx, summary, rejects)
}

/// Runs an import that issues credentials (`creds`, `None` on a dry run) in one write
/// transaction, `run` settling it ([`import::settle`]): the credentials file follows the
/// transaction, kept under its final name only if it committed with a password in it,
/// deleted on any failure or rollback.
fn with_credentials(
    ctx: &mut Ctx,
    mut creds: Option<CredentialsFile>,
    run: impl FnOnce(&Db, &Org, Option<&mut CredentialsFile>) -> Result<(Summary, bool)>,
) -> Result<Summary> {
    let summary = ctx.write_org_or_rollback(|db, org| run(db, org, creds.as_mut()));
    let mut summary = match summary {
        Ok(s) => s,
        Err(e) => {
            return Err(match creds {
                Some(c) => c.after_failure(e),
                None => e,
            });
        }
    };
    if summary.credentials_file.is_some()
        && let Some(c) = creds
    {
        summary.credentials_file = Some(c.keep()?.display().to_string());
    }
    Ok(summary)
}

/// Runs `achievements import`: our CSV, or the Partner Center Trainings report.
pub fn achievements(a: AchievementsImportArgs, ctx: &mut Ctx) -> Result<Report> {
    // Ctrl-C from here on rolls back and removes the files this command made.
    let _armed = crate::domain::progress::arm();
    let opts = options(&a.common, ctx);
    // The database first: a missing one is refused before any file is created.
    ctx.open_database()?;
    // Standard input is read as our CSV; a Trainings report is read from its file.
    let sniffed = if opts.file.as_os_str() == "-" {
        None
    } else {
        import::trainings::sniff(&opts)?
    };
    if let Some(sniffed) = sniffed {
        return trainings::run(a, sniffed, opts, ctx);
    }
    if a.date_order.is_some() || a.link_users || a.create_users {
        return Err(bad_input(format!(
            "--date-order, --link-users, --create-users and --linked-since are for a Partner \
             Center Trainings report (columns TrainingTitle, TrainingCompletionDate, Email); {} is not one",
            opts.file.display()
        )));
    }
    let input = import::achievements::open(&opts)?;
    records_import(
        &a.common,
        ctx,
        opts,
        input,
        |db, org, actor, today, opts, input, rejects| {
            let rb = records::rulebook(db, org)?;
            import::achievements::import(db, org, &rb, actor, today, opts, input, rejects)
        },
    )
}

/// Runs `performance import`.
pub fn performance(a: ImportArgs, ctx: &mut Ctx) -> Result<Report> {
    // Ctrl-C from here on rolls back and removes the files this command made.
    let _armed = crate::domain::progress::arm();
    let opts = options(&a, ctx);
    ctx.open_database()?;
    let input = import::performance::open(&opts)?;
    records_import(
        &a,
        ctx,
        opts,
        input,
        |db, org, actor, today, opts, input, rejects| {
            let scopes = records::ScopeRules::new(&records::rulebook(db, org)?);
            import::performance::import(db, org, &scopes, actor, today, opts, input, rejects)
        },
    )
}

/// The import of one opened records file (achievements as our CSV, performance) in one
/// transaction: `import` reads the rows, then the import settles (commit or not, the audit,
/// the re-evaluation) and the report is made.
fn records_import(
    a: &ImportArgs,
    ctx: &mut Ctx,
    opts: Options,
    mut input: Input,
    import: impl FnOnce(
        &Db,
        &Org,
        &Actor,
        NaiveDate,
        &Options,
        &mut Input,
        Option<&mut Rejects>,
    ) -> Result<Summary>,
) -> Result<Report> {
    let actor = ctx.actor();
    let today = ctx.clock.today();
    warn_ignored(ctx, &input);
    let mut rejects = rejects_file(a, &opts, ctx.db_path())?;
    let summary = ctx.write_org_or_rollback(|db, org| {
        let s = import(db, org, &actor, today, &opts, &mut input, rejects.as_mut())?;
        import::settle(db, org, &actor, &opts, s, None, rejects.as_mut())
    })?;
    opts.progress.finish();
    finish(ctx, summary, rejects)
}

fn warn_ignored(ctx: &Ctx, input: &Input) {
    warn_ignored_columns(ctx, input.display(), input.ignored());
}

/// The one warning naming the columns of a file that are not read.
fn warn_ignored_columns(ctx: &Ctx, file: &str, ignored: &[String]) {
    if !ignored.is_empty() {
        let cols: Vec<String> = ignored.iter().map(|c| format!("{c:?}")).collect();
        ctx.warn(format!(
            "{}: ignoring column{} {}",
            file,
            if cols.len() == 1 { "" } else { "s" },
            cols.join(", ")
        ));
    }
}

/// Keeps the rejects file, prints the bad rows and notes, and builds the report — or the
/// error of an all-or-nothing import that found bad rows.
fn finish(ctx: &Ctx, s: Summary, rejects: Option<Rejects>) -> Result<Report> {
    finish_with(ctx, s, rejects, &())
}

/// [`finish`] with more JSON keys (`extra`, flattened beside the summary's).
fn finish_with(
    ctx: &Ctx,
    s: Summary,
    rejects: Option<Rejects>,
    extra: &impl serde::Serialize,
) -> Result<Report> {
    if s.rejects_file.is_some()
        && let Some(r) = rejects
    {
        r.keep();
    }
    for n in &s.notes {
        message(&format!("note: {n}"));
    }
    if !s.dry_run {
        super::membership::print_alerts(&s.alerts);
        super::membership::print_org_alerts(&s.elsewhere);
    }
    // All or nothing: any bad row fails the import (a dry run says it would fail).
    let fatal = s.fate() == Fate::Failed;
    if fatal || !ctx.quiet {
        let prefix = if fatal { "error" } else { "warning" };
        for e in &s.errors {
            message(&format!("{prefix}: {e}"));
        }
        if s.unlisted_errors() > 0 {
            message(&format!("{prefix}: … and {} more", s.unlisted_errors()));
        }
    }
    if fatal {
        return Err(bad_input(format!(
            "{} of {} rows of {} are invalid: {}; fix them, or import the valid rows with \
             --skip-invalid",
            s.rejected,
            s.rows,
            s.file,
            if s.dry_run {
                "dry run, nothing written"
            } else {
                "nothing was imported"
            }
        )));
    }
    let mut fields = vec![
        ("File", s.file.clone()),
        ("Rows", s.rows.to_string()),
        ("Added", s.added.to_string()),
        ("Updated", s.updated.to_string()),
        ("Unchanged", s.unchanged.to_string()),
        ("Rejected", s.rejected.to_string()),
    ];
    if s.skipped > 0 {
        fields.push((
            "Skipped (title not in the catalogue)",
            s.skipped.to_string(),
        ));
    }
    if s.severed > 0 {
        fields.push(("MSA associations severed", s.severed.to_string()));
    }
    if s.retired_passes > 0 {
        ctx.warn(format!(
            "{}: {} pass(es) of retired exams dated on or after their retirement: recorded, \
             but they never count (`competency achievements list` shows which)",
            s.file, s.retired_passes
        ));
        fields.push((
            "Retired before earned (never count)",
            s.retired_passes.to_string(),
        ));
    }
    if let Some(c) = &s.credentials_file {
        fields.push(("Credentials file", format!("{c} (mode 0600)")));
    }
    if let Some(r) = &s.rejects_file {
        fields.push(("Rejects file", r.clone()));
    }
    let mut json = serde_json::to_value(&s)?;
    if let (Some(obj), Ok(serde_json::Value::Object(more))) =
        (json.as_object_mut(), serde_json::to_value(extra))
    {
        obj.extend(more);
    }
    let mut report = Report::new(json).fields(fields);
    if s.dry_run {
        report = report.text("Dry run: nothing was written.");
    }
    Ok(report)
}
