//! Membership: purchases, the business profile, renewal alerts, the cron check, what-if.
//!
//! This module owns the membership lifecycle of SPEC §7 and keeps these invariants:
//! - **The latest purchase decides.** An organization's state at an instant comes from its
//!   most recent purchase: `active` before the anniversary A, `renewal-due` from A until
//!   A + `grace_days`, `lapsed` from then on; `none` without any purchase. Anniversaries and
//!   windows are calendar days taking effect at midnight UTC.
//! - **Terms.** An upgrade starts a term on the day bought and ends it term_months later (a
//!   Silver → Gold upgrade, and an upgrade after a lapse, start afresh); a renewal, allowed
//!   from A − `renewal_opens_days` until A + `grace_days`, buys the term from A to A + term.
//!   Anniversaries keep the day of the month of the original purchase (Jan 31 → Feb 28 →
//!   … → Jan 31 again) rather than drifting to the 28th.
//! - **A purchase needs a competency met at its level now** (Gold counting as Silver);
//!   Gold holders cannot buy Silver. Every refusal says what is missing or when to come
//!   back. Each purchase records the rulebook's fee (with the 25 % Silver → Gold discount
//!   marked) and is audited.
//! - **Attainments.** "Attained" (SPEC §7) is judged from the recorded history, never from
//!   which commands ran: the profile, the check's displayed set and the Silver → Gold
//!   discount show, for the term in force, each competency at the highest level (up to the
//!   held one) met at some instant since the term began, found exactly at the instants where
//!   an input changes ([`crate::rules::window::attained`]) — until the term ends, even when
//!   no longer met; nothing once lapsed. Evaluations still record attainment rows: their
//!   `last_met_at` (the last instant an evaluation found a competency met) bounds the search
//!   for the change that caused an alert, and they keep what was met when the history itself
//!   was rewritten later (a performance figure corrected in place, an import shortening an
//!   expiry, a new rulebook), which the snapshot no longer shows. On unchanged history every
//!   row is also found by the history search, so the rows never make the answer depend on
//!   which commands ran.
//! - **Alerts.** A displayed competency found not met at its displayed level raises exactly
//!   one open alert (one per competency, enforced by a unique index) with [`ALERT_TEXT`], the
//!   requirement that fell short and the cause when known; it closes when an evaluation finds
//!   the competency met again, when it is no longer displayed (a new term), or when the
//!   membership lapses.
//!
//! Domain code only: plain data in, plain data out, no printing, time from the [`Actor`].
//!
//! Files: `term` (states and dates), `sync` (one evaluation recorded: attainments, the
//! displayed set, alerts), `alerts` (causes, shortfalls, re-evaluation after a change),
//! `purchase` (upgrade, renew, refusals), `views` (status, profile, alerts, benefits),
//! `check` (the cron check and its expiry judgement), `what_if`.

use std::collections::{BTreeMap, HashSet};

use anyhow::Result;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;

use crate::domain::Actor;
use crate::domain::accounts;
use crate::domain::judge::{self, Judged};
use crate::domain::progress::{self, Progress, Silent};
use crate::domain::records;
use crate::error::{bad_input, refused};
use crate::rules::engine::{
    CompetencyEval, OptionEval, RequirementDetail, association_active, counts_until,
    option_missing, start_of,
};
use crate::rules::explain::thousands as number;
use crate::rules::rulebook::Program;
use crate::rules::snapshot::Person;
use crate::rules::window::{Attained, attained, change_points};
use crate::rules::{Evaluation, Level, Rulebook, Snapshot, evaluate, expire_before, explain};
use crate::store::{AlertRow, AttainmentRow, Db, NewPurchase, Org, PurchaseRow};

/// The text of every renewal alert (SPEC §7).
pub const ALERT_TEXT: &str = "A recent change to your competency achievement has put your membership renewal eligibility at risk";

/// The Silver-to-Gold upgrade discount (25 %, see ../shared/PROGRAM-FACTS.md).
pub const SILVER_TO_GOLD_DISCOUNT: f64 = 0.25;

mod alerts;
mod check;
mod purchase;
mod sync;
mod term;
#[cfg(test)]
mod tests;
mod views;
mod what_if;

pub use crate::domain::terms::{Dates, State, add_term};
pub use alerts::*;
pub use check::*;
pub use purchase::*;
use sync::*;
pub use term::*;
pub use views::*;
pub use what_if::*;

// ---------------------------------------------------------------------------------------
// Plain results
// ---------------------------------------------------------------------------------------

/// A competency the business profile displays.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Displayed {
    /// The competency id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// The highest level attained in the term.
    pub level: Level,
    /// When it was first attained at that level in the term.
    pub attained: DateTime<Utc>,
    /// When it was last found met at that level.
    #[serde(skip)]
    pub last_met: DateTime<Utc>,
}

/// A renewal alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// The organization's name (alerts printed during a command may concern another
    /// organization of the database: a severed MSA).
    pub org: String,
    /// When it was raised.
    pub raised: DateTime<Utc>,
    /// The competency id.
    pub competency: String,
    /// Its display name.
    pub name: String,
    /// The level displayed and no longer met.
    pub level: Level,
    /// [`ALERT_TEXT`].
    pub message: String,
    /// The requirement that fell short, e.g. "2 people with 70-533 or 70-535: have 1, need 2".
    pub requirement: String,
    /// The change that caused it, when known.
    pub cause: Option<String>,
    /// Still open.
    pub open: bool,
    /// When it was closed.
    pub closed: Option<DateTime<Utc>>,
    /// Why it was closed.
    pub close_reason: Option<String>,
}

impl From<AlertRow> for Alert {
    fn from(r: AlertRow) -> Alert {
        Alert {
            org: String::new(),
            raised: r.raised_at,
            competency: r.competency,
            name: r.name,
            level: r.level,
            message: r.message,
            requirement: r.requirement,
            cause: r.cause,
            open: r.closed_at.is_none(),
            closed: r.closed_at,
            close_reason: r.close_reason,
        }
    }
}

impl Alert {
    /// One line for people: the text, the competency, the shortfall and the cause.
    pub fn line(&self) -> String {
        format!(
            "{}: {} ({}): {}{}",
            self.message,
            self.name,
            self.level,
            self.requirement,
            self.cause
                .as_deref()
                .map(|c| format!(" (cause: {c})"))
                .unwrap_or_default()
        )
    }
}

/// An achievement a displayed competency relies on that stops counting by the anniversary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expiring {
    /// The competency id.
    pub competency: String,
    /// Its display name.
    pub name: String,
    /// The level displayed.
    pub level: Level,
    /// The person counted through it.
    pub username: String,
    /// Their MSA.
    pub msa: String,
    /// The code.
    pub code: String,
    /// The first day it no longer counts.
    pub expires: NaiveDate,
}
