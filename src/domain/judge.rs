//! Loading an organization's rulebook and snapshot and evaluating them: the one path every
//! command that judges competencies takes (progress, gaps, risk, membership, what-if).

use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::domain::progress::{self, Progress, Silent};
use crate::domain::records;
use crate::error::not_found;
use crate::rules::rulebook::Competency;
use crate::rules::{Evaluation, Gap, Risk, Rulebook, Snapshot, evaluate};
use crate::store::{Db, Org};

/// An organization judged at one instant.
pub struct Judged {
    /// Its rulebook.
    pub rulebook: Rulebook,
    /// What was evaluated.
    pub snapshot: Snapshot,
    /// The answer.
    pub eval: Evaluation,
}

/// Frees an evaluation off the calling thread: a command that has its answer should not
/// spend a tenth of its time releasing 100,000 people one allocation at a time before it
/// prints (and a process that exits first never pays for it at all).
pub fn discard(judged: Judged) {
    let spawned = std::thread::Builder::new()
        .name("discard".into())
        .spawn(move || drop(judged));
    // Without a thread (resource limits), the value was dropped right here instead.
    drop(spawned);
}

impl Judged {
    /// The rulebook's competency `id`; not found (naming the near ones, or every one) when
    /// the rulebook has none by that id.
    pub fn competency(&self, id: &str) -> Result<&Competency> {
        self.rulebook
            .competencies
            .get(id)
            .ok_or_else(|| self.unknown_competency(id))
    }

    /// Refuses an `id` the evaluation has no competency for (as [`Judged::competency`]).
    pub fn require_evaluated(&self, id: &str) -> Result<()> {
        match self.eval.competency(id) {
            Some(_) => Ok(()),
            None => Err(self.unknown_competency(id)),
        }
    }

    /// For each level not met, the smallest additions that would meet it.
    pub fn gaps(&self) -> Vec<Gap> {
        crate::rules::gaps(&self.rulebook, &self.snapshot, &self.eval)
    }

    /// What achievements waiting out the progress delay will change for the levels not met
    /// (who counts from when, and when a level is met through them alone).
    pub fn pending(&self) -> crate::rules::engine::pending::Pending {
        crate::rules::engine::pending::pending(&self.rulebook, &self.snapshot, &self.eval)
    }

    /// For each level met at `at`, the people whose departure alone would break it.
    pub fn risk(&self, at: DateTime<Utc>) -> Vec<Risk> {
        crate::rules::risk(&self.rulebook, &self.snapshot, at, &self.eval)
    }

    fn unknown_competency(&self, id: &str) -> anyhow::Error {
        let ids: Vec<&str> = self
            .rulebook
            .competencies
            .keys()
            .map(String::as_str)
            .collect();
        let near: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|c| {
                c.contains(id)
                    || id.contains(*c)
                    || c.split('-').any(|w| id.contains(w) && w.len() > 3)
            })
            .take(3)
            .collect();
        not_found(format!(
            "no competency {} in the rulebook{}",
            crate::support::fields::shown(id),
            if near.is_empty() {
                format!(" (competencies: {})", ids.join(", "))
            } else {
                format!(" (did you mean {}?)", near.join(", "))
            }
        ))
    }
}

/// Loads everything the engine needs for `org` in a few queries.
pub fn load(db: &Db, org: &Org) -> Result<(Rulebook, Snapshot)> {
    let rb = records::rulebook(db, org)?;
    let snap = db.snapshot(org.id, org.market)?;
    Ok((rb, snap))
}

/// Loads and evaluates `org` at `at`.
pub fn judge(db: &Db, org: &Org, at: DateTime<Utc>) -> Result<Judged> {
    judge_reported(db, org, at, &Silent)
}

/// [`judge`], reporting its phases ("loading the organization", "evaluating N people"):
/// both are progress points where a Ctrl-C stops the command.
pub fn judge_reported(db: &Db, org: &Org, at: DateTime<Utc>, p: &dyn Progress) -> Result<Judged> {
    progress::phase(p, LOADING, None)?;
    let (rulebook, snapshot) = load(db, org)?;
    evaluate_reported(rulebook, snapshot, at, p)
}

/// Evaluates a loaded organization at `at` as the phase "evaluating N people".
pub fn evaluate_reported(
    rulebook: Rulebook,
    snapshot: Snapshot,
    at: DateTime<Utc>,
    p: &dyn Progress,
) -> Result<Judged> {
    progress::phase(p, &evaluating(&snapshot), None)?;
    let eval = evaluate(&rulebook, &snapshot, at);
    progress::check()?;
    Ok(Judged {
        rulebook,
        snapshot,
        eval,
    })
}

/// The phase that reads an organization's rulebook and people.
pub const LOADING: &str = "loading the organization";

/// The name of the evaluation phase: "evaluating 100,000 people" (associations counted,
/// the unit an administrator recognizes in a large organization).
pub fn evaluating(snapshot: &Snapshot) -> String {
    format!(
        "evaluating {} people",
        progress::count(snapshot.people.len() as u64)
    )
}
