//! The demo's data: its private folder and database path, the embedded CSV files written
//! there with their dates moved to the command's instant, and their import with the bulk
//! importers in one transaction.

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, Days, Utc};

use crate::domain::Actor;
use crate::domain::credentials::CredentialsFile;
use crate::domain::import::{self, Options, Summary};
use crate::domain::{orgs, records};
use crate::error::refused;
use crate::store::{Db, Org};

const USERS: &str = include_str!("../../../data/demo-users.csv");
/// The achievements come as admins get them: Partner Center's Trainings report.
const TRAININGS: &str = include_str!("../../../data/demo-trainings.csv");
/// The name Partner Center gives the download.
pub(super) const TRAININGS_FILE: &str = "Export_trainings_Lifetime_4650001_Fabrikam_Consulting.csv";
const PERFORMANCE: &str = include_str!("../../../data/demo-performance.csv");

/// Normalizes a CSV header as SPEC §6 does: case, spaces, `_` and `-` do not matter.
fn norm(h: &str) -> String {
    h.trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Moves a file date written as of [`super::DEMO_BASE`] by `shift` days (a time after it is kept).
fn shifted(date: &str, shift: i64) -> Result<String> {
    if date.is_empty() {
        return Ok(String::new());
    }
    let (date, time) = date.split_at(date.len().min(10));
    let d = crate::support::clock::parse_date(date).map_err(|e| anyhow!("demo data: {e}"))?;
    let d = if shift >= 0 {
        d.checked_add_days(Days::new(shift as u64))
    } else {
        d.checked_sub_days(Days::new(shift.unsigned_abs()))
    };
    Ok(format!(
        "{}{time}",
        d.ok_or_else(|| anyhow!("demo data: date out of range"))?
    ))
}

/// Where the demo writes: the explicit `--db` (refused if it exists) with its files in a
/// new private folder `<stem>-files` beside it (refused if it exists), else a new
/// private folder under the system's temporary folder. Nothing beside PATH is ever
/// written over or through.
pub(super) fn place(explicit: Option<PathBuf>, now: DateTime<Utc>) -> Result<(PathBuf, PathBuf)> {
    if let Some(db) = explicit {
        if db.symlink_metadata().is_ok() {
            return Err(refused(format!(
                "{} already exists: the demo builds a database of its own; give a new path",
                db.display()
            )));
        }
        let stem = db
            .file_stem()
            .map_or_else(|| "demo".into(), |s| s.to_string_lossy().into_owned());
        let dir = crate::support::files::folder_of(&db).join(format!("{stem}-files"));
        crate::support::files::create_private_dir(&dir)?;
        return Ok((dir, db));
    }
    let dir = std::env::temp_dir().join(format!(
        "competency-demo-{}-{}",
        now.format("%Y%m%dT%H%M%SZ"),
        std::process::id()
    ));
    DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("cannot create the demo folder {}", dir.display()))?;
    let db = dir.join("demo.db");
    Ok((dir, db))
}

/// What the import loaded.
pub(super) struct Loaded {
    pub(super) users: usize,
    pub(super) linked: usize,
    pub(super) achievements: usize,
    /// Trainings report rows outside the catalogue.
    pub(super) skipped: usize,
    pub(super) performance: usize,
}

/// Writes the demo files into the demo folder, their dates moved by `shift` days, so the
/// import reads real files exactly as an administrator's `… import FILE` would.
pub(super) fn write_files(dir: &Path, db: &Path, shift: i64) -> Result<[PathBuf; 3]> {
    let mut out = Vec::new();
    for (name, text, dates) in [
        ("demo-users.csv", USERS, &[][..]),
        (
            TRAININGS_FILE,
            TRAININGS,
            &["trainingcompletiondate", "expirationdate"][..],
        ),
        ("demo-performance.csv", PERFORMANCE, &["date"][..]),
    ] {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let headers = r.headers()?.clone();
        let date_cols: Vec<usize> = headers
            .iter()
            .enumerate()
            .filter(|(_, h)| dates.contains(&norm(h).as_str()))
            .map(|(i, _)| i)
            .collect();
        let path = dir.join(name);
        crate::support::files::guard_output(&path, db, "the demo file")?;
        let file = crate::support::files::create_private(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut w = csv::Writer::from_writer(file);
        w.write_record(&headers)?;
        for rec in r.records() {
            let rec = rec.with_context(|| format!("data/{name}"))?;
            let row: Vec<String> = rec
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    if date_cols.contains(&i) {
                        shifted(v.trim(), shift)
                    } else {
                        Ok(v.to_owned())
                    }
                })
                .collect::<Result<_>>()?;
            w.write_record(&row)?;
        }
        w.flush()?;
        out.push(path);
    }
    Ok(out.try_into().expect("three files"))
}

/// Imports the demo files with the bulk importers (`users import`, `achievements import`,
/// `performance import`), in one transaction; any bad row fails the demo.
pub(super) fn load(
    db: &Db,
    org: &Org,
    actor: &Actor,
    creds: &mut CredentialsFile,
    files: &[PathBuf; 3],
) -> Result<Loaded> {
    let rb = records::rulebook(db, org)?;
    let today = actor.at.date_naive();
    let opts = |file: &PathBuf| Options::new(file.clone(), crate::domain::progress::none());
    let all_valid = |s: &Summary| -> Result<()> {
        if s.rejected > 0 {
            return Err(anyhow!("demo data: {}", s.errors.join("; ")));
        }
        Ok(())
    };
    let o = opts(&files[0]);
    let mut input = import::users::open(&o)?;
    let users = import::users::import(db, org, actor, &o, &mut input, Some(creds), None)?;
    all_valid(&users)?;
    let o = opts(&files[1]);
    let sniffed = import::trainings::sniff(&o)?
        .ok_or_else(|| anyhow!("demo data: not a Trainings report"))?;
    let (achievements, _) = import::trainings::import(
        db,
        org,
        &rb,
        actor,
        today,
        &o,
        sniffed,
        None,
        import::trainings::Linking::default(),
        None,
        None,
    )?;
    all_valid(&achievements)?;
    let o = opts(&files[2]);
    let mut input = import::performance::open(&o)?;
    let scopes = records::ScopeRules::new(&rb);
    let performance =
        import::performance::import(db, org, &scopes, actor, today, &o, &mut input, None)?;
    all_valid(&performance)?;
    for s in [&users, &achievements, &performance] {
        import::audit(db, org, actor, s)?;
    }
    let linked = orgs::counts(db, org)?.linked_msas as usize;
    Ok(Loaded {
        users: users.added as usize,
        linked,
        achievements: achievements.added as usize,
        skipped: achievements.skipped as usize,
        performance: performance.added as usize,
    })
}
