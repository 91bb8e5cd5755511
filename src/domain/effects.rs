//! Effects: what follows a change. This module owns "after a change": which organizations
//! the change touched, re-evaluating their membership and designation alerts at the
//! command's instant, and recording the alerts raised with the change as their cause
//! (SPEC §7, §9).
//!
//! Invariants:
//! - **Every writer calls [`after`]** inside the write transaction of its change, once it
//!   is written; no subject re-evaluates another subject itself. A change that wrote
//!   nothing (`Unchanged`, a dry run) touches nothing.
//! - **Every organization touched is evaluated once per change**, its own cause naming
//!   the change (the record, the import file, the user removed, the MSA severed).
//! - **Alerts come back by organization**: the organization the command was run for, and
//!   any other one a severed link touched, under its name. The command's own designation
//!   alerts are printed by the command layer once committed (`cli::Ctx::write_org`);
//!   another organization's come back here.

use anyhow::Result;

use crate::domain::Actor;
use crate::domain::accounts::Linked;
use crate::domain::accounts::sever::{self, Severed};
use crate::domain::designations;
use crate::domain::membership::{self, Alert};
use crate::rules::explain;
use crate::store::{Db, Org, PerformanceRow, Recorded};

/// A change that can move what an organization meets: what the writer did, as the
/// effects need to know it.
pub enum Change<'a> {
    /// An account of the organization was removed (its MSA association ended).
    UserRemoved {
        /// Its user name.
        username: &'a str,
    },
    /// An MSA was linked to an account of the organization (`users add --msa`,
    /// `users link-msa`, `employee link-msa`): an association elsewhere may have been
    /// severed, the account's previous MSA replaced.
    Linked {
        /// The account's user name.
        username: &'a str,
        /// What the link did.
        linked: &'a Linked,
    },
    /// MSA associations severed by an import that linked the MSAs to this organization
    /// (none touched on a dry run).
    Severed {
        /// What the import severed.
        severed: &'a Severed,
        /// The import, as the cause names it ("a users import").
        by: &'a str,
    },
    /// An achievement of `msa` was added or changed: the organization it counts for now.
    Achievement {
        /// The MSA.
        msa: &'a str,
        /// The catalogue code.
        code: &'a str,
        /// What the write did.
        recorded: Recorded,
    },
    /// An MSA's records of a code were removed by this organization.
    AchievementRemoved {
        /// The MSA.
        msa: &'a str,
        /// The code.
        code: &'a str,
    },
    /// A performance figure was recorded (a new date, or a new value for one).
    Performance {
        /// The record as written.
        row: &'a PerformanceRow,
        /// What the write did.
        recorded: Recorded,
    },
    /// An import of records (achievements, performance) committed changes.
    Imported {
        /// `achievements` or `performance`.
        kind: &'a str,
        /// The file, as the summary shows it.
        file: &'a str,
        /// Rows added.
        added: u64,
        /// Rows that changed an existing record.
        updated: u64,
    },
    /// Designations were classified into a track (`designations track`): only the
    /// designations can move, so only they are evaluated.
    Classified {
        /// The designation ids.
        designations: &'a [String],
        /// The track.
        track: &'a str,
    },
    /// The organization's rulebook was replaced.
    Rulebook {
        /// Where it was read from.
        origin: &'a str,
    },
}

/// Alerts raised in one organization by a change made from another (or from itself).
#[derive(Debug, Clone)]
pub struct OrgAlerts {
    /// The organization's name.
    pub org_name: String,
    /// Not the organization the command was run for: its alerts are shown under its name.
    pub elsewhere: bool,
    /// The membership alerts raised.
    pub alerts: Vec<Alert>,
    /// The designation alerts raised, for another organization only (the command prints its
    /// own organization's).
    pub designations: Vec<designations::Alert>,
}

/// The membership alerts of every organization in `raised`, each naming its organization.
pub fn alerts(raised: Vec<OrgAlerts>) -> Vec<Alert> {
    raised.into_iter().flat_map(|r| r.alerts).collect()
}

/// Re-evaluates every organization `change` (made from `org`) touched and records the
/// alerts raised with the change as their cause. Call it inside the write transaction of
/// the change, after the change is written. Returns the alerts raised, by organization.
pub fn after(db: &Db, org: &Org, actor: &Actor, change: &Change) -> Result<Vec<OrgAlerts>> {
    let mut raised = Vec::new();
    let membership_too = !matches!(change, Change::Classified { .. });
    for (id, cause) in touched(db, org, change)? {
        let other = if id == org.id {
            org.clone()
        } else {
            db.org_by_id(id)?
        };
        raised.push(evaluate(db, org, &other, actor, &cause, membership_too)?);
    }
    Ok(raised)
}

/// The organizations `change` touched (by id, in the order evaluated) and the cause each
/// records.
fn touched(db: &Db, org: &Org, change: &Change) -> Result<Vec<(i64, String)>> {
    Ok(match change {
        Change::UserRemoved { username } => vec![(org.id, format!("user {username} removed"))],
        Change::Linked { username, linked } => link_touched(org, username, linked),
        Change::Severed { severed, by } => severed.causes(by),
        Change::Achievement {
            msa,
            code,
            recorded,
        } => {
            let what = match recorded {
                Recorded::Unchanged => return Ok(Vec::new()),
                Recorded::Added => "added",
                Recorded::Updated => "changed",
            };
            // It counts (or will) wherever its MSA is associated now, if anywhere.
            db.open_link_for_msa(msa)?
                .map(|l| (l.org_id, format!("achievement {code} of {msa} {what}")))
                .into_iter()
                .collect()
        }
        Change::AchievementRemoved { msa, code } => {
            vec![(org.id, format!("achievement {code} of {msa} removed"))]
        }
        Change::Performance { row, recorded } => {
            let value = explain::amount(row.metric, row.value);
            let scope = if row.scope.is_empty() {
                String::new()
            } else {
                format!(" ({})", row.scope)
            };
            let what = match recorded {
                Recorded::Unchanged => return Ok(Vec::new()),
                Recorded::Added => format!("recorded: {value}"),
                Recorded::Updated => format!("changed to {value}"),
            };
            vec![(
                org.id,
                format!("{} of {} {what}{scope}", row.metric.as_str(), row.date),
            )]
        }
        Change::Imported {
            kind,
            file,
            added,
            updated,
        } => {
            let counts = match (added, updated) {
                (0, 0) => return Ok(Vec::new()),
                (0, u) => format!("{u} {kind} record(s) changed"),
                (a, 0) => format!("{a} {kind} record(s) added"),
                (a, u) => format!("{a} {kind} record(s) added and {u} changed"),
            };
            vec![(org.id, format!("{counts} by an import of {file}"))]
        }
        Change::Classified {
            designations,
            track,
        } => vec![(
            org.id,
            format!("classified {track} for {}", designations.join(", ")),
        )],
        Change::Rulebook { origin } => vec![(org.id, format!("rulebook replaced by {origin}"))],
    })
}

/// The organizations an MSA link touched: the one whose association was severed (another
/// one, or this one when the MSA moved between two of its accounts), and this one when the
/// account's previous MSA was replaced.
fn link_touched(org: &Org, username: &str, linked: &Linked) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    if linked.unchanged {
        return out;
    }
    if let Some(s) = &linked.severed {
        let cause = if s.moved_within(org) {
            format!("MSA {} moved from {} to {username}", linked.msa, s.username)
        } else {
            sever::cause(&[s], None)
        };
        out.push((s.org_id, cause));
    }
    if let Some(old) = &linked.replaced
        && linked.severed.as_ref().is_none_or(|s| s.org_id != org.id)
    {
        out.push((
            org.id,
            format!("MSA {old} of {username} replaced by {}", linked.msa),
        ));
    }
    out
}

/// Evaluates `other` (touched by a change made from `home`) at the actor's instant: its
/// membership (`membership_too`) and its designations, alerts recorded with `cause`.
fn evaluate(
    db: &Db,
    home: &Org,
    other: &Org,
    actor: &Actor,
    cause: &str,
    membership_too: bool,
) -> Result<OrgAlerts> {
    let alerts = if membership_too {
        membership::reevaluate(db, other, actor, Some(cause))?
    } else {
        Vec::new()
    };
    // The same changes can cost an enrolled designation its points (SPEC §9): its alerts are
    // recorded here and shown by `membership check` and `designations alerts`.
    let designations = designations::reevaluate(db, other, actor, Some(cause))?;
    let elsewhere = other.id != home.id;
    Ok(OrgAlerts {
        org_name: other.name.clone(),
        elsewhere,
        alerts,
        designations: if elsewhere { designations } else { Vec::new() },
    })
}
