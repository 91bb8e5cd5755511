//! What-if: the organization evaluated as if people had left or achievements had expired.
//!
//! Invariants: reads only; nothing is recorded.

use super::*;

/// One competency's level now and after the hypothetical changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelChange {
    /// The competency id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// The level met now.
    pub now: Option<Level>,
    /// The level that would be met.
    pub after: Option<Level>,
}

/// What `membership what-if` found.
#[derive(Debug, Clone)]
pub struct WhatIf {
    /// The accounts supposed gone, by user name.
    pub removed: Vec<String>,
    /// Achievements stopping counting before this day supposed expired.
    pub expire_before: Option<NaiveDate>,
    /// Every competency whose level would change.
    pub changes: Vec<LevelChange>,
    /// Displayed competencies that would no longer be met (each would raise an alert),
    /// with the requirement that would fall short.
    pub broken: Vec<(Displayed, String)>,
    /// The membership, if ever bought.
    pub membership: Option<Membership>,
    /// Renewal possible now (held and a competency met at the held level).
    pub renewal_possible_now: bool,
    /// Renewal possible after the changes.
    pub renewal_possible_after: bool,
}

/// Evaluates the organization as if these users had left now and achievements stopping
/// counting before `expire_before` had expired. Reads only: nothing is recorded.
pub fn what_if(
    db: &Db,
    org: &Org,
    at: DateTime<Utc>,
    remove_users: &[String],
    expire: Option<NaiveDate>,
    p: &dyn Progress,
) -> Result<WhatIf> {
    if remove_users.is_empty() && expire.is_none() {
        return Err(bad_input(
            "say what to suppose: --remove-user USER (repeatable) and/or --expire-before DATE",
        ));
    }
    let mut ids = Vec::new();
    let mut removed = Vec::new();
    for key in remove_users {
        let u = accounts::find(db, org, key)?;
        ids.push(u.id);
        removed.push(u.username);
    }
    let rulebook = records::rulebook(db, org)?;
    let m = membership(db, org, &rulebook.program, at)?;
    let now = judge_with(db, org, rulebook, at, p)?;
    progress::phase(p, "evaluating the supposed changes", None)?;
    let mut snap = now.snapshot.clone();
    snap.without_users(&ids, at);
    if let Some(d) = expire {
        expire_before(&mut snap, &now.rulebook, d);
    }
    let after_eval = evaluate(&now.rulebook, &snap, at);
    progress::check()?;
    let after = Judged {
        rulebook: now.rulebook.clone(),
        snapshot: snap,
        eval: after_eval,
    };
    let changes = now
        .eval
        .competencies
        .iter()
        .zip(&after.eval.competencies)
        .filter(|(a, b)| a.achieved != b.achieved)
        .map(|(a, b)| LevelChange {
            id: a.id.clone(),
            name: a.name.clone(),
            now: a.achieved,
            after: b.achieved,
        })
        .collect();
    let held = m.as_ref().filter(|m| m.state.is_held());
    let mut broken = Vec::new();
    let (mut possible_now, mut possible_after) = (false, false);
    if let Some(h) = held {
        let level = h.level();
        let rows = displayed_from(&db.attainments(&h.display_terms(at))?, level);
        let mut shown = displayed_at(&now, h, at, level, &rows);
        for ce in &now.eval.competencies {
            if let Some(l) = met_levels(ce, level).last() {
                let e = shown.entry(ce.id.clone()).or_insert_with(|| Displayed {
                    id: ce.id.clone(),
                    name: ce.name.clone(),
                    level: l,
                    attained: at,
                    last_met: at,
                });
                e.level = e.level.max(l);
            }
        }
        for d in shown.into_values() {
            let still = after
                .eval
                .competency(&d.id)
                .is_some_and(|ce| ce.level(d.level).met);
            let was = now
                .eval
                .competency(&d.id)
                .is_some_and(|ce| ce.level(d.level).met);
            if was && !still {
                let why = shortfall(&after, &d.id, d.level);
                broken.push((d, why));
            }
        }
        possible_now = now.eval.competencies.iter().any(|c| c.level(level).met);
        possible_after = after.eval.competencies.iter().any(|c| c.level(level).met);
    }
    Ok(WhatIf {
        removed,
        expire_before: expire,
        changes,
        broken,
        membership: m,
        renewal_possible_now: possible_now,
        renewal_possible_after: possible_after,
    })
}
