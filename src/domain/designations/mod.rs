//! Solutions Partner designations (SPEC §9): scores, gaps, what-if, enrolment, renewal,
//! alerts and the designations' part of the cron check.
//!
//! Invariants:
//! - **Scores come from the pure scorer** ([`crate::rules::designations`]) over the same
//!   snapshot the competencies use; nothing here computes points.
//! - **One Solutions Partner term.** The first enrolment pays `fees.designation` and sets the
//!   anniversary (term_months later); designations enrolled while that term is active share
//!   its anniversary at no fee. A renewal buys the term from the anniversary on, once, for
//!   every enrolled designation that qualified in the anniversary's window; the others lapse
//!   at the end of grace. Enrolment and renewal need qualification at some instant of the
//!   window, found exactly (change points, never sampled days).
//! - **Alerts.** An evaluation finding an enrolled designation not qualifying records one
//!   open alert (a unique index keeps it to one) naming the items that fell against the
//!   last instant it qualified, and the cause when known; it closes when the designation
//!   qualifies again or is no longer enrolled. Every change that can lose points evaluates
//!   (through [`crate::domain::effects`]), and so does `membership check`.
//!
//! Domain code only: plain data in, plain data out, no printing; time from the [`Actor`].
//!
//! Files: `views` (list and scores), `gaps`, `what_if`, `purchase` (enrolment and renewal),
//! `alerts` (re-evaluation, causes), `check` (the designations' part of the cron check).

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use serde::Serialize;

use crate::domain::Actor;
use crate::domain::accounts;
use crate::domain::judge;
use crate::domain::progress::{self, Progress, Silent};
use crate::domain::records;
use crate::domain::terms::{Dates, State, add_term};
use crate::error::{bad_input, not_found, refused};
use crate::rules::designations::{
    Designation, DesignationScore, ItemKind, ItemScore, TrackScore, qualified_in_window,
    qualified_in_window_many, score, score_with, window_start,
};
use crate::rules::engine::start_of;
use crate::rules::snapshot::{Achievement, PerformanceRecord, Snapshot};
use crate::rules::window::change_points;
use crate::rules::{Metric, Rulebook};
use crate::store::{Db, DesignationAlertRow, EnrolmentRow, NewEnrolment, Org};

mod alerts;
mod check;
mod gaps;
mod purchase;
mod tracks;
mod views;
mod what_if;

pub use alerts::*;
pub use check::*;
pub use gaps::*;
pub use purchase::*;
pub use tracks::*;
pub use views::*;
pub use what_if::*;

/// The text of every designation renewal alert (SPEC §9).
pub const ALERT_TEXT: &str =
    "A recent change has put your Solutions Partner designation renewal at risk";

/// A designation's state at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum DState {
    /// 0 points.
    NotStarted,
    /// Some points, not qualified in the window.
    InProgress,
    /// Qualified in the window, not enrolled.
    Qualified,
    /// Enrolled, before the anniversary.
    Enrolled,
    /// From the anniversary until grace ends.
    RenewalDue,
    /// Enrolled once, not renewed.
    Lapsed,
}

impl DState {
    /// The name as printed.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Enrolled or renewal-due.
    pub fn is_held(self) -> bool {
        matches!(self, DState::Enrolled | DState::RenewalDue)
    }
}

/// One designation as `designations list` shows it.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The score now.
    pub score: DesignationScore,
    /// The state now.
    pub state: DState,
    /// The first instant it qualified in the current window (computed when not held).
    pub qualified_since: Option<DateTime<Utc>>,
    /// The latest enrolment.
    pub enrolment: Option<EnrolmentRow>,
}

struct Loaded {
    rb: Rulebook,
    snap: Snapshot,
}

fn load(db: &Db, org: &Org) -> Result<Loaded> {
    load_reported(db, org, &Silent)
}

/// [`load`] as the phase "loading the organization" (a point where a Ctrl-C stops).
fn load_reported(db: &Db, org: &Org, p: &dyn Progress) -> Result<Loaded> {
    progress::phase(p, judge::LOADING, None)?;
    let rb = records::rulebook(db, org)?;
    let mut snap = db.snapshot(org.id, org.market)?;
    fix_term_tracks(db, org, &rb, &mut snap)?;
    Ok(Loaded { rb, snap })
}

/// Azure (`term_track_fixed`): each enrolment's term keeps the track it was enrolled on
/// (SPEC §9), whatever Partner Center classifies the partner into during the term.
fn fix_term_tracks(db: &Db, org: &Org, rb: &Rulebook, snap: &mut Snapshot) -> Result<()> {
    if !rb.designations.values().any(|d| d.term_track_fixed) || snap.classifications.is_empty() {
        return Ok(());
    }
    for e in db.enrolments(org.id)? {
        if !rb
            .designations
            .get(&e.designation)
            .is_some_and(|d| d.term_track_fixed)
        {
            continue;
        }
        let start = if e.kind == "renewal" {
            start_of(e.term_start)
        } else {
            e.enrolled_at
        };
        crate::rules::designations::fix_term_track(
            rb,
            snap,
            &e.designation,
            start,
            start_of(e.anniversary),
        );
    }
    Ok(())
}

/// A copy of `snap` with each Azure term's track fixed as [`fix_term_tracks`] does, for
/// analyses made on a snapshot loaded for other purposes (renewals, the report): `None` when
/// nothing would change (no enrolment of a `term_track_fixed` designation, or no
/// classification recorded), so the common case copies nothing.
pub fn term_fixed(db: &Db, org: &Org, rb: &Rulebook, snap: &Snapshot) -> Result<Option<Snapshot>> {
    if !rb.designations.values().any(|d| d.term_track_fixed) || snap.classifications.is_empty() {
        return Ok(None);
    }
    let enrolled = db.enrolments(org.id)?.iter().any(|e| {
        rb.designations
            .get(&e.designation)
            .is_some_and(|d| d.term_track_fixed)
    });
    if !enrolled {
        return Ok(None);
    }
    let mut copy = snap.clone();
    fix_term_tracks(db, org, rb, &mut copy)?;
    Ok(Some(copy))
}

fn no_designations(org: &Org) -> anyhow::Error {
    refused(format!(
        "the rulebook of {} has no designations: import one that has, e.g. `competency rules \
         import solutions-partner`",
        org.name
    ))
}

/// The latest enrolment row per designation.
fn latest(db: &Db, org: &Org) -> Result<BTreeMap<String, EnrolmentRow>> {
    let mut out = BTreeMap::new();
    for e in db.enrolments(org.id)? {
        out.insert(e.designation.clone(), e);
    }
    Ok(out)
}

fn held_state(rb: &Rulebook, e: &EnrolmentRow, at: DateTime<Utc>) -> DState {
    match Dates::new(e.anniversary, &rb.program).state_at(at) {
        State::Active => DState::Enrolled,
        State::RenewalDue => DState::RenewalDue,
        _ => DState::Lapsed,
    }
}
