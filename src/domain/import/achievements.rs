//! `achievements import`: exams, certifications and assessments of MSAs.
//!
//! Per row: validated by `records::validate_achievement` (the catalogue, real dates, not in
//! the future). The same (MSA, code, earned) as in the database is `unchanged`; a record
//! already there with another expiry (or removed) is `updated`; the same key twice in the
//! file is rejected at the second occurrence whatever the database holds (SPEC §6), so a
//! second import of an accepted file changes nothing.

use anyhow::Result;
use chrono::NaiveDate;

use super::input::{Column, Input};
use super::{Options, Outcome, Rejects, Summary, drive_with};
use crate::domain::accounts::Actor;
use crate::domain::records::{self, ValidAchievement};
use crate::rules::Rulebook;
use crate::store::import::IMPORT_CACHE_KIB;
use crate::store::stage::{AchievementStage, Decision, HeldWhy, Verdict};
use crate::store::{Db, Org};

/// The columns of an achievements file.
pub const COLUMNS: &[Column] = &[
    Column {
        field: "msa",
        names: &["msa", "microsoftaccount"],
    },
    Column {
        field: "code",
        names: &["code"],
    },
    Column {
        field: "earned",
        names: &["earned"],
    },
    Column {
        field: "expires",
        names: &["expires"],
    },
];

/// Opens an achievements file and checks its header.
pub fn open(opts: &Options) -> Result<Input> {
    Input::open_requiring(opts, COLUMNS, 3)
}

/// Imports the achievements of `input` (they belong to their MSAs, not to an
/// organization); the caller commits only if
/// [`Summary::should_commit`].
#[allow(clippy::too_many_arguments)]
pub fn import(
    db: &Db,
    org: &Org,
    rb: &Rulebook,
    actor: &Actor,
    today: NaiveDate,
    opts: &Options,
    input: &mut Input,
    rejects: Option<&mut Rejects>,
) -> Result<Summary> {
    let mut summary = Summary::new("achievements", input, opts);
    let mut rejects = rejects;
    // About 40 bytes a row.
    let bulk = BulkWrite::begin(db, input.len() / 40)?;
    let cols = [0, 1, 2, 3].map(|c| input.column(c));
    // Only MSAs of this organization's accounts or of none (SPEC §4): checked per row only
    // when another organization has an associated MSA at all.
    let check_owner = db.has_open_links_elsewhere(org.id)?;
    let mut stage = db.achievement_stage(org.id, check_owner, actor.at)?;
    let mut retired_passes = 0;
    drive_with(
        input,
        &mut summary,
        rejects.as_deref_mut(),
        &mut stage,
        |stage, row, line, _failed| {
            let a = match records::validate_achievement(
                rb,
                today,
                row.get(cols[0]),
                row.get(cols[1]),
                row.get(cols[2]),
                row.opt(cols[3]),
            ) {
                Ok(a) => a,
                Err(e) => return Ok(Err(e)),
            };
            let outcome = record(stage, org, "msa", line, row.span(), &a, false)?;
            // Counted only for rows the import takes: a rejected duplicate is not a pass
            // (a row decided later and refused is taken off again by `finish`).
            if outcome.is_ok()
                && crate::rules::engine::retired_before_earned(rb, &a.code, a.earned).is_some()
            {
                retired_passes += 1;
            }
            Ok(outcome)
        },
    )?;
    finish(
        stage,
        org,
        rb,
        "msa",
        input,
        &mut summary,
        rejects,
        &mut retired_passes,
        |_, _, _| {},
    )?;
    summary.retired_passes = retired_passes;
    bulk.finish(db, input)?;
    Ok(summary)
}

/// The settings a bulk write of achievements runs with, shared by the CSV and the Trainings
/// report imports: the import's page cache, and the evaluation index suspended when the file
/// is large enough that one rebuild at the end beats updating it row by row. Undone by
/// [`BulkWrite::finish`]; on an error the transaction's rollback restores the index.
pub(super) struct BulkWrite {
    cache: i64,
    rebuild: bool,
}

impl BulkWrite {
    /// Starts a bulk write of about `expected_rows` rows.
    pub(super) fn begin(db: &Db, expected_rows: u64) -> Result<Self> {
        let cache = db.set_cache_kib(IMPORT_CACHE_KIB)?;
        let rebuild = db.suspend_achievements_index(expected_rows)?;
        Ok(BulkWrite { cache, rebuild })
    }

    /// Rebuilds the index if it was suspended (a phase of its own: it is the long part of a
    /// large import) and restores the page cache.
    pub(super) fn finish(self, db: &Db, input: &Input) -> Result<()> {
        if self.rebuild {
            crate::domain::progress::phase(
                input.progress(),
                "rebuilding the evaluation index",
                None,
            )?;
            db.restore_achievements_index()?;
        }
        db.restore_cache(self.cache)
    }
}

/// Writes one validated achievement: `Added`, `Unchanged` (the same record already there),
/// `Updated` (there with another expiry, or removed), a bad row when this file already gave
/// the same key or the MSA is another organization's (`owner_field` names the column), or
/// `Later` when the store decides it at the end ([`finish`]); `mark` comes back with it if
/// it is refused then. The Trainings report import writes through it too.
pub(super) fn record(
    stage: &mut AchievementStage<'_>,
    org: &Org,
    owner_field: &str,
    line: u64,
    span: (u64, u64),
    a: &ValidAchievement,
    mark: bool,
) -> Result<Result<Outcome, String>> {
    Ok(
        match stage.add(line, span, &a.msa, &a.code, a.earned, a.expires, mark)? {
            Verdict::Later => Ok(Outcome::Later),
            Verdict::Now(d) => decided(org, owner_field, &a.msa, &a.code, a.earned, d),
        },
    )
}

/// What a decision means for the row.
pub(super) fn decided(
    org: &Org,
    owner_field: &str,
    msa: &str,
    code: &str,
    earned: NaiveDate,
    d: Decision,
) -> Result<Outcome, String> {
    match d {
        Decision::Added => Ok(Outcome::Added),
        Decision::Unchanged => Ok(Outcome::Unchanged),
        Decision::Updated => Ok(Outcome::Updated),
        // A key this file already gave (added by this import, or an existing record met
        // earlier in the file) is invalid whatever the database holds (SPEC §6), so a
        // second import of an accepted file always settles.
        Decision::Repeated(expires) => Err(format!(
            "expires: {code} earned {earned} is already in this file with {}",
            expires.map_or("no expiry".to_owned(), |e| format!("expiry {e}"))
        )),
        Decision::Foreign(owner) => Err(format!(
            "{owner_field}: {}",
            records::foreign_msa_message(org, msa, &owner)
        )),
    }
}

/// Ends the write side: the rows the store decided at the end are counted, and the rows it
/// held or refused are reported in file order (summary and rejects file), a refused one
/// given to `refused` (MSA, decision, the row's mark) and no longer counted as a retired
/// pass.
#[allow(clippy::too_many_arguments)]
pub(super) fn finish(
    stage: AchievementStage<'_>,
    org: &Org,
    rb: &Rulebook,
    owner_field: &str,
    input: &Input,
    summary: &mut Summary,
    mut rejects: Option<&mut Rejects>,
    retired_passes: &mut u64,
    mut refused: impl FnMut(&str, &Decision, bool),
) -> Result<()> {
    let d = stage.finish(|h| {
        let message = match h.why {
            HeldWhy::Invalid(m) => m,
            HeldWhy::Refused {
                msa,
                code,
                earned,
                decision,
                mark,
            } => {
                if crate::rules::engine::retired_before_earned(rb, &code, earned).is_some() {
                    *retired_passes -= 1;
                }
                refused(&msa, &decision, mark);
                match decided(org, owner_field, &msa, &code, earned, decision) {
                    Err(m) => m,
                    Ok(_) => anyhow::bail!("line {}: a refused row was taken", h.line),
                }
            }
        };
        summary.reject(h.line, &message);
        if let Some(rej) = rejects.as_deref_mut() {
            rej.write(input, h.span.0, h.span.1, &message)?;
        }
        Ok(())
    })?;
    summary.added += d.added;
    summary.updated += d.updated;
    summary.unchanged += d.unchanged;
    Ok(())
}
