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
use super::{Options, Read, Rejects, Summary, read_rows, refuse};
use crate::domain::accounts::Actor;
use crate::domain::records::{self, ValidAchievement};
use crate::rules::Rulebook;
use crate::store::import::records::{RecordStage, Refusal, Refused, StagedRecord};
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
    let cols = [0, 1, 2, 3].map(|c| input.column(c));
    // About 40 bytes a row.
    let mut stage = db.record_stage(org.id, actor.at, input.len() / 40)?;
    read_rows(
        input,
        &mut summary,
        &mut stage,
        RecordStage::invalid,
        |stage, row, line| {
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
            stage.add(line, row.span(), &staged(rb, &a, None))?;
            Ok(Ok(Read::Staged))
        },
    )?;
    decide(stage, org, "msa", input, &mut summary, rejects)?;
    Ok(summary)
}

/// A validated achievement as the store stages it, with the Trainings report's person.
pub(super) fn staged<'r>(
    rb: &Rulebook,
    a: &'r ValidAchievement,
    person: Option<(Option<&'r str>, &'r str, &'r str)>,
) -> StagedRecord<'r> {
    StagedRecord {
        msa: &a.msa,
        code: &a.code,
        earned: a.earned,
        expires: a.expires,
        // Counted only for rows the import takes (the store counts them).
        retired: crate::rules::engine::retired_before_earned(rb, &a.code, a.earned).is_some(),
        person,
    }
}

/// The message of a refused row (`owner_field` names the MSA's column).
fn refusal_message(org: &Org, owner_field: &str, r: Refused) -> String {
    let earned = r.earned.map(|d| d.to_string()).unwrap_or_default();
    match r.why {
        Refusal::Invalid(m) | Refusal::Refused(m) => m,
        // A key this file already gave is invalid whatever the database holds (SPEC §6),
        // so a second import of an accepted file always settles.
        Refusal::Repeated(expires) => format!(
            "expires: {} earned {earned} is already in this file with {}",
            r.code,
            expires.map_or("no expiry".to_owned(), |e| format!("expiry {e}"))
        ),
        Refusal::Foreign(owner) => format!(
            "{owner_field}: {}",
            records::foreign_msa_message(org, &r.msa, &owner)
        ),
    }
}

/// Ends the write side, shared with the Trainings report import: the store decides the
/// staged rows; the counts are its statements', and the rows it refused are reported in
/// file order with the invalid ones (summary and rejects file); then the evaluation index
/// is rebuilt if it was suspended (a phase of its own: the long part of a large import).
pub(super) fn decide(
    stage: RecordStage<'_>,
    org: &Org,
    owner_field: &str,
    input: &Input,
    summary: &mut Summary,
    mut rejects: Option<&mut Rejects>,
) -> Result<()> {
    let (d, closing) = stage.decide(|r| {
        let (line, span) = (r.place.line, r.place.span);
        let message = refusal_message(org, owner_field, r);
        refuse(input, summary, rejects.as_deref_mut(), line, span, &message)
    })?;
    summary.added += d.added;
    summary.updated += d.updated;
    summary.unchanged += d.unchanged;
    summary.retired_passes = d.retired;
    if closing.rebuilds() {
        crate::domain::progress::phase(input.progress(), "rebuilding the evaluation index", None)?;
    }
    closing.finish()
}
