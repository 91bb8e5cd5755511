//! Alerts: closing them, what fell short and why (the cause found in the history), and the
//! membership's re-evaluation after a change (which organizations a change touched is
//! [`crate::domain::effects`]'s to decide).
//!
//! Invariants: every alert raised or closed is audited; a cause given by the change wins
//! over one inferred from the history.

use super::*;

pub(super) fn close(db: &Db, org: &Org, actor: &Actor, a: &AlertRow, reason: &str) -> Result<()> {
    db.close_alert(a.id, actor.at, reason)?;
    actor.audit(
        db,
        org.id,
        "membership.alert",
        &a.competency,
        &format!("closed: {reason}"),
    )
}

/// What fell short for a level: the unmet requirements of its closest option, with have /
/// need, e.g. "2 people with 70-533 or 70-535: have 1, need 2".
pub fn shortfall(judged: &Judged, id: &str, level: Level) -> String {
    let Some(ce) = judged.eval.competency(id) else {
        return "the competency is no longer in the rulebook".to_owned();
    };
    let le = ce.level(level);
    let Some(opt) = le.options.get(le.best) else {
        return format!("the rulebook no longer has a {level} option");
    };
    let parts: Vec<String> = opt
        .requirements
        .iter()
        .filter(|r| !r.met)
        .map(|r| {
            let (have, need) = match &r.detail {
                RequirementDetail::Metric { metric, .. } => (
                    explain::amount(*metric, r.have),
                    explain::amount(*metric, r.need),
                ),
                RequirementDetail::People { .. } => (number(r.have), number(r.need)),
            };
            format!("{}: have {have}, need {need}", r.description)
        })
        .collect();
    let body = parts.join("; ");
    if le.options.len() > 1 {
        format!("option {}: {body}", opt.name)
    } else {
        body
    }
}

/// The codes any option of `level` names (for Silver, Gold's too: Gold meets Silver).
pub(super) fn relevant_codes<'r>(rb: &'r Rulebook, id: &str, level: Level) -> HashSet<&'r str> {
    let Some(comp) = rb.competency(id) else {
        return HashSet::new();
    };
    Level::ALL
        .into_iter()
        .filter(|l| *l >= level)
        .flat_map(|l| comp.options(l))
        .flat_map(|o| o.people.iter().flat_map(|p| p.codes()))
        .collect()
}

/// The change that made a competency fall short, from what happened to the people and
/// achievements it names since it was last met: the current command's own change (anything
/// at `at`) is `given`; earlier departures, removals and expiries are named.
#[allow(clippy::too_many_arguments)]
pub(super) fn find_cause(
    db: &Db,
    org: &Org,
    judged: &Judged,
    id: &str,
    level: Level,
    since: DateTime<Utc>,
    at: DateTime<Utc>,
    given: Option<&str>,
) -> Result<Option<String>> {
    let rb = &judged.rulebook;
    let codes = relevant_codes(rb, id, level);
    let within = |t: DateTime<Utc>| since < t && t <= at;
    let mut now = false;
    let mut events: Vec<String> = Vec::new();
    for p in &judged.snapshot.people {
        if !p.achievements.iter().any(|a| codes.contains(&*a.code)) {
            continue;
        }
        if let Some(end) = p.ended.filter(|e| within(*e)) {
            if end == at {
                now = true;
            } else {
                let removed = db
                    .users_by_key(org.id, &p.username)?
                    .iter()
                    .any(|u| u.username == p.username && u.removed_at == Some(end));
                events.push(if removed {
                    format!("user {} removed on {}", p.username, end.date_naive())
                } else {
                    format!(
                        "MSA {} of {} severed on {}",
                        p.msa,
                        p.username,
                        end.date_naive()
                    )
                });
            }
            continue;
        }
        if !association_active(p, at) {
            continue;
        }
        for a in p.achievements.iter().filter(|a| codes.contains(&*a.code)) {
            if let Some(r) = a.removed.filter(|r| within(*r)) {
                if r == at {
                    now = true;
                } else {
                    events.push(format!(
                        "achievement {} of {} removed on {}",
                        a.code,
                        p.msa,
                        r.date_naive()
                    ));
                }
            } else if let Some(u) = counts_until(rb, a).filter(|u| within(start_of(*u))) {
                events.push(format!(
                    "achievement {} of {} expired on {u}",
                    a.code, p.msa
                ));
            }
        }
    }
    events.sort();
    events.dedup();
    let inferred = (!events.is_empty()).then(|| {
        let n = events.len();
        let mut s = events.into_iter().take(3).collect::<Vec<_>>().join("; ");
        if n > 3 {
            s.push_str(&format!("; and {} more", n - 3));
        }
        s
    });
    Ok(match (given, inferred) {
        (Some(g), Some(i)) if !now => Some(format!("{g}; also {i}")),
        (Some(g), _) => Some(g.to_owned()),
        (None, i) => i,
    })
}

/// Re-evaluates the membership after a change that can lose (or regain) a competency:
/// records attainments, closes alerts whose competency is met again and raises one for
/// each displayed competency no longer met, with `cause` (the change, e.g. "user
/// bob@contoso.com removed"). Called by [`crate::domain::effects`] only, inside the write
/// transaction of the change. Returns the alerts newly raised. Without a held membership it
/// evaluates nothing (and closes alerts left open by a lapse).
pub fn reevaluate(db: &Db, org: &Org, actor: &Actor, cause: Option<&str>) -> Result<Vec<Alert>> {
    Ok(sync(db, org, actor, cause)?.raised)
}
