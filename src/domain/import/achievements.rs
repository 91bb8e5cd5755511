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
use super::{Options, Outcome, Rejects, Seen, Summary, drive};
use crate::domain::accounts::Actor;
use crate::domain::records::{self, ValidAchievement};
use crate::rules::Rulebook;
use crate::store::import::{AchievementStatements, BulkTable, IMPORT_CACHE_KIB, Insert};
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
    Input::open_requiring(&opts.file, COLUMNS, 3, &opts.progress)
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
    // About 40 bytes a row.
    let bulk = BulkWrite::begin(db, input.len() / 40)?;
    let first_id = db.next_id(BulkTable::Achievements)?;
    let cols = [0, 1, 2, 3].map(|c| input.column(c));
    let mut st = db.achievement_statements()?;
    let mut retired_passes = 0;
    // Only MSAs of this organization's accounts or of none (SPEC §4): checked per row only
    // when another organization has an associated MSA at all.
    let check_owner = db.has_open_links_elsewhere(org.id)?;
    let mut seen = Seen::default();
    drive(input, &mut summary, rejects, |row, _line, _failed| {
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
        if check_owner && let Some(why) = records::foreign_msa(db, org, &a.msa)? {
            return Ok(Err(format!("msa: {why}")));
        }
        let outcome = record(&mut st, first_id, &mut seen, actor, &a)?;
        // Counted only for rows the import takes: a rejected duplicate is not a pass.
        if outcome.is_ok()
            && crate::rules::engine::retired_before_earned(rb, &a.code, a.earned).is_some()
        {
            retired_passes += 1;
        }
        Ok(outcome)
    })?;
    drop(st);
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
/// `Updated` (there with another expiry, or removed), or a bad row when this file already
/// gave the same key (ids from `first_id` on were added by this import; `seen` marks the
/// existing records met so far).
/// The Trainings report import writes through it too.
pub(super) fn record(
    st: &mut AchievementStatements<'_>,
    first_id: i64,
    seen: &mut Seen,
    actor: &Actor,
    a: &ValidAchievement,
) -> Result<Result<Outcome, String>> {
    let new_expires = a.expires.map(|d| d.to_string());
    Ok(
        match st.insert(&a.msa, &a.code, a.earned, a.expires, actor.at)? {
            Insert::Added(_) => Ok(Outcome::Added),
            // A key this file already gave (added by this import, or an existing record
            // met earlier in the file) is invalid whatever the database holds (SPEC §6), so
            // a second import of an accepted file always settles.
            Insert::Exists(id, (expires, _)) if id >= first_id || !seen.insert(id) => Err(format!(
                "expires: {} earned {} is already in this file with {}",
                a.code,
                a.earned,
                expires.map_or("no expiry".to_owned(), |e| format!("expiry {e}"))
            )),
            Insert::Exists(_, (expires, false)) if expires == new_expires => Ok(Outcome::Unchanged),
            Insert::Exists(id, _) => {
                st.update(id, a.expires)?;
                Ok(Outcome::Updated)
            }
        },
    )
}
