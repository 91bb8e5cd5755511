//! Read-only views: every designation listed with its score, state and window, and the scores.
//!
//! Invariants: nothing here writes; the window of every designation not held is found in one
//! sweep, exactly (change points, never sampled days).

use super::*;

/// Every designation with its score and state at `at`, naming who counts when `names` (the
/// report needs them for its bus factor), reporting its phases: loading, scoring, the window
/// (each a point where a Ctrl-C stops it).
pub fn list_reported(
    db: &Db,
    org: &Org,
    at: DateTime<Utc>,
    names: bool,
    p: &dyn Progress,
) -> Result<Vec<Listed>> {
    let l = load_reported(db, org, p)?;
    list_loaded(db, org, at, names, l, p)
}

/// [`list_reported`] from `judged`, the caller's load of `org` (the report's), instead of loading
/// the organization a second time: its rulebook and a copy of its snapshot, with the term
/// tracks fixed as [`load_reported`] fixes them.
pub fn list_judged(
    db: &Db,
    org: &Org,
    at: DateTime<Utc>,
    names: bool,
    judged: &crate::domain::judge::Judged,
) -> Result<Vec<Listed>> {
    let rb = judged.rulebook.clone();
    let mut snap = judged.snapshot.clone();
    fix_term_tracks(db, org, &rb, &mut snap)?;
    list_loaded(db, org, at, names, Loaded { rb, snap }, &Silent)
}

fn list_loaded(
    db: &Db,
    org: &Org,
    at: DateTime<Utc>,
    names: bool,
    l: Loaded,
    p: &dyn Progress,
) -> Result<Vec<Listed>> {
    if l.rb.designations.is_empty() {
        return Err(no_designations(org));
    }
    let enrolled = latest(db, org)?;
    let from = window_start(&l.rb, at);
    progress::phase(p, &scoring(&l.snap), None)?;
    let scores = score_with(&l.rb, &l.snap, at, names);
    progress::phase(p, &window_phase(from), None)?;
    let held_now = |id: &str| {
        enrolled
            .get(id)
            .map(|e| held_state(&l.rb, e, at))
            .filter(|st| st.is_held())
    };
    // The window of every designation not held, in one sweep.
    let unheld: Vec<&str> =
        l.rb.designations
            .keys()
            .map(String::as_str)
            .filter(|id| held_now(id).is_none())
            .collect();
    let since: BTreeMap<&str, Option<DateTime<Utc>>> = unheld
        .iter()
        .copied()
        .zip(qualified_in_window_many(&l.rb, &l.snap, &unheld, from, at))
        .collect();
    progress::check()?;
    Ok(scores
        .into_iter()
        .map(|s| {
            let enrolment = enrolled.get(&s.id).cloned();
            let held = held_now(&s.id);
            let qualified_since = since.get(s.id.as_str()).copied().flatten();
            let state = match (held, &enrolment) {
                (Some(st), _) => st,
                _ if qualified_since.is_some() => DState::Qualified,
                (None, Some(_)) => DState::Lapsed,
                _ if s.score() <= 0.0 => DState::NotStarted,
                _ => DState::InProgress,
            };
            Listed {
                score: s,
                state,
                qualified_since,
                enrolment,
            }
        })
        .collect())
}

/// The scores at `at`: every designation, or the one named.
pub fn scores(
    db: &Db,
    org: &Org,
    at: DateTime<Utc>,
    id: Option<&str>,
    p: &dyn Progress,
) -> Result<Vec<DesignationScore>> {
    let l = load_reported(db, org, p)?;
    if l.rb.designations.is_empty() {
        return Err(no_designations(org));
    }
    if let Some(id) = id {
        known(&l.rb, id)?;
    }
    // People are always named: `score`'s JSON gives `people` one type (SPEC §9). Only the
    // commands that need counts alone (list, gaps, enrol, check) skip the names.
    progress::phase(p, &scoring(&l.snap), None)?;
    let scores = score_with(&l.rb, &l.snap, at, true)
        .into_iter()
        .filter(|s| id.is_none_or(|id| s.id == id))
        .collect();
    progress::check()?;
    Ok(scores)
}

/// The scoring phase: "scoring designations for 100,000 people".
pub(super) fn scoring(snap: &Snapshot) -> String {
    format!(
        "scoring designations for {} people",
        progress::count(snap.people.len() as u64)
    )
}

/// The window phase: "judging the designations window since 2026-06-01".
pub(super) fn window_phase(from: DateTime<Utc>) -> String {
    format!(
        "judging the designations window since {}",
        from.date_naive()
    )
}

pub(super) fn known(rb: &Rulebook, id: &str) -> Result<()> {
    if rb.designations.contains_key(id) {
        return Ok(());
    }
    Err(not_found(format!(
        "no designation {id:?}; the rulebook has: {}",
        rb.designations
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    )))
}
