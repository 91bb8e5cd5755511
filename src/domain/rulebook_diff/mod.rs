//! What a rulebook would change (SPEC §9, `rules diff`) and the rulebook import guarded by
//! it: for one organization at one instant, each competency whose level and each
//! designation whose score or qualification differs between the rulebook in use and
//! another one, with the cause when it can be named.
//!
//! Invariants:
//! - **Reads only**: both rulebooks are evaluated over the same snapshot by the engine's
//!   own evaluation ([`crate::rules::evaluate`]) and the designations' scorer
//!   ([`crate::rules::designations::score`]); nothing here computes a level or a point.
//! - **A change is what the organization would see**: competencies and designations that
//!   appear, disappear, or change level, score or qualification at the instant; one that
//!   stays the same is not listed.
//! - **Blocking** is decided on what is held at the instant under the rulebook in use: a
//!   competency the business profile displays, at its displayed level, or an enrolled
//!   designation, that disappears or stops being met / qualifying. [`import`] refuses a
//!   blocking change without `force`, inside the import's write transaction, before it
//!   writes anything; with `force` it imports through [`rulebooks::replace`], whose effects
//!   raise the alerts with the import as their cause.
//!
//! Files: this one holds the diff's rows, [`diff`] and [`import`]; `competency` and
//! `designation` compute each subject's changes and name their causes.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::domain::judge::{self, Judged};
use crate::domain::membership;
use crate::domain::rulebooks::{self, Replaced};
use crate::domain::{Actor, designations};
use crate::rules::designations::score;
use crate::rules::{Level, Rulebook, evaluate};
use crate::store::{Db, Org};

mod competency;
mod designation;

use competency::competencies;
use designation::{Rulebooks, designation_changes};

/// Competency or designation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Kind {
    /// A competency (level none/silver/gold).
    Competency,
    /// A designation (a score out of 100).
    Designation,
}

impl Kind {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Where a competency or designation stands under one rulebook.
#[derive(Debug, Clone, PartialEq)]
pub enum Standing {
    /// A competency: the highest level met, `None` when neither is.
    Competency(Option<Level>),
    /// A designation: its score and whether it qualifies.
    Designation {
        /// The counting track's total, rounded as displayed.
        score: f64,
        /// Whether it qualifies at the instant.
        qualified: bool,
    },
}

impl Standing {
    /// Met at some level, or qualifying.
    pub fn qualified(&self) -> bool {
        match self {
            Standing::Competency(l) => l.is_some(),
            Standing::Designation { qualified, .. } => *qualified,
        }
    }
}

/// What the organization holds of a competency or designation under the rulebook in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// The business profile displays the competency at this level.
    Displayed(Level),
    /// The designation is enrolled (or renewal-due).
    Enrolled,
}

/// How a row changes, in one word (`change` in JSON and CSV).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Movement {
    /// Only the new rulebook has it.
    Appears,
    /// Only the rulebook in use has it.
    Disappears,
    /// Met (at any level) or qualifying now, not under the new rulebook.
    StopsQualifying,
    /// Not met or qualifying now, met or qualifying under the new rulebook.
    StartsQualifying,
    /// A lower level or score, qualification unchanged.
    Lower,
    /// A higher level or score, qualification unchanged.
    Higher,
}

impl Movement {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One competency or designation that would change.
#[derive(Debug, Clone)]
pub struct Change {
    /// Competency or designation.
    pub kind: Kind,
    /// Its id.
    pub id: String,
    /// Its name (the new rulebook's, else the one in use).
    pub name: String,
    /// Under the rulebook in use (`None`: it has no such id).
    pub before: Option<Standing>,
    /// Under the new rulebook (`None`: it has no such id).
    pub after: Option<Standing>,
    /// How it moves.
    pub movement: Movement,
    /// Why, when it can be named ("Security Operations Analyst no longer counts in step
    /// 3"); else what changed.
    pub cause: String,
    /// What the organization holds of it now.
    pub held: Option<Held>,
    /// Held, and it would disappear or stop being met / qualifying: an import needs
    /// `--force`.
    pub blocking: bool,
}

/// The changes for one organization at one instant.
#[derive(Debug, Clone)]
pub struct Diff {
    /// The organization's name.
    pub organization: String,
    /// The instant judged.
    pub at: DateTime<Utc>,
    /// Whether the organization holds anything (a displayed competency, an enrolled
    /// designation) a rulebook could take away.
    pub holds: bool,
    /// Competencies first, then designations, each by id.
    pub changes: Vec<Change>,
}

impl Diff {
    /// The changes an import may not make without `--force`.
    pub fn blocking(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.blocking)
    }
}

/// What `org` would see at `at` if `new` replaced its rulebook.
pub fn diff(db: &Db, org: &Org, new: &Rulebook, at: DateTime<Utc>) -> Result<Diff> {
    let (old, snapshot) = judge::load(db, org)?;
    let displayed: BTreeMap<String, Level> = membership::profile(db, org, at)?
        .competencies
        .into_iter()
        .map(|d| (d.id, d.level))
        .collect();
    let enrolled: BTreeSet<String> = designations::held_ids(db, org, &old, at)?
        .into_iter()
        .collect();
    let holds = !displayed.is_empty() || !enrolled.is_empty();
    let old_eval = evaluate(&old, &snapshot, at);
    let old_scores = score(&old, &snapshot, at);
    let new_scores = score(new, &snapshot, at);
    let new_judged = Judged {
        eval: evaluate(new, &snapshot, at),
        rulebook: new.clone(),
        snapshot,
    };
    let mut changes = competencies(&old_eval.competencies, &new_judged, &displayed);
    let ctx = Rulebooks {
        old: &old,
        new,
        snapshot: &new_judged.snapshot,
        at,
    };
    changes.extend(designation_changes(
        &ctx,
        &old_scores,
        &new_scores,
        &enrolled,
    ));
    judge::discard(new_judged);
    Ok(Diff {
        organization: org.name.clone(),
        at,
        holds,
        changes,
    })
}

/// What [`import`] did.
pub enum Imported {
    /// Refused: a blocking change and no `force`; nothing was written.
    Refused(Diff),
    /// Imported: what changed, and what the import's effects raised.
    Done(Diff, Replaced),
}

/// Replaces `org`'s rulebook with `text` (parsed as `rb`, read from `origin`) unless a
/// competency the profile displays or an enrolled designation would disappear or stop
/// being met / qualifying at the actor's instant and `force` is not given. Call it inside
/// the import's write transaction: the check and the write see the same data.
pub fn import(
    db: &Db,
    org: &Org,
    actor: &Actor,
    text: &str,
    rb: &Rulebook,
    origin: &str,
    force: bool,
) -> Result<Imported> {
    let d = diff(db, org, rb, actor.at)?;
    if !force && d.blocking().next().is_some() {
        return Ok(Imported::Refused(d));
    }
    let replaced = rulebooks::replace(db, org, actor, text, rb, origin)?;
    Ok(Imported::Done(d, replaced))
}

/// The refusal's message: what would disappear or stop qualifying, and `--force`.
pub fn refusal(d: &Diff) -> String {
    let what: Vec<String> = d
        .blocking()
        .map(|c| {
            let (held, verb) = match c.held {
                Some(Held::Displayed(l)) => {
                    (format!("displayed at {l}"), "stop being met at that level")
                }
                _ => ("enrolled".to_owned(), "stop qualifying"),
            };
            let verb = if c.after.is_none() { "disappear" } else { verb };
            format!("{} {} ({held}) would {verb}", c.kind.as_str(), c.name)
        })
        .collect();
    let what = join(what, "nothing");
    format!(
        "the new rulebook is not imported: {what}; nothing changed (see the changes above, or \
         `competency rules diff`); to import it anyway, run again with --force (the \
         alerts are then raised)"
    )
}

/// The most causes one row names; the rest are counted.
const MAX_CAUSES: usize = 4;

/// `causes` joined, at most [`MAX_CAUSES`] of them, or `otherwise` when there is none.
fn join(mut causes: Vec<String>, otherwise: &str) -> String {
    if causes.is_empty() {
        return otherwise.to_owned();
    }
    let n = causes.len();
    causes.truncate(MAX_CAUSES);
    let mut s = causes.join("; ");
    if n > MAX_CAUSES {
        s.push_str(&format!("; and {} more", n - MAX_CAUSES));
    }
    s
}
