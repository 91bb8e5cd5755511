//! Loading an organization's rulebook and snapshot and evaluating them: the one path every
//! command that judges competencies takes (progress, gaps, risk, membership, what-if).

use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::domain::progress::{self, Progress, Silent};
use crate::domain::records;
use crate::rules::{Evaluation, Rulebook, Snapshot, evaluate};
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
