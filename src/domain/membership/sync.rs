//! One evaluation of the membership, brought into the database: attainments recorded, the
//! displayed competencies judged from the term's history, alerts raised and closed.
//!
//! Invariants: an evaluation is loaded and run once per command (a purchase hands its own to
//! [`sync_with`]); the displayed set never depends on which commands ran before; at most one
//! open alert per displayed competency.

use super::*;

pub(super) fn judge_with(
    db: &Db,
    org: &Org,
    rulebook: Rulebook,
    at: DateTime<Utc>,
    p: &dyn Progress,
) -> Result<Judged> {
    progress::phase(p, judge::LOADING, None)?;
    let snapshot = db.snapshot(org.id, org.market)?;
    judge::evaluate_reported(rulebook, snapshot, at, p)
}

/// What one evaluation of the membership found and changed.
pub(super) struct Synced {
    pub(super) membership: Option<Membership>,
    pub(super) judged: Option<Judged>,
    pub(super) raised: Vec<Alert>,
    pub(super) displayed: Vec<Displayed>,
}

/// The displayed competencies from stored attainments: per competency, the highest level.
pub(super) fn displayed_from(rows: &[AttainmentRow], held: Level) -> BTreeMap<String, Displayed> {
    let mut out: BTreeMap<String, Displayed> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.level <= held) {
        let d = Displayed {
            id: r.competency.clone(),
            name: r.name.clone(),
            level: r.level,
            attained: r.attained_at,
            last_met: r.last_met_at,
        };
        match out.get_mut(&r.competency) {
            None => {
                out.insert(r.competency.clone(), d);
            }
            Some(cur) if r.level > cur.level => *cur = d,
            Some(cur) if r.level == cur.level => {
                cur.attained = cur.attained.min(d.attained);
                cur.last_met = cur.last_met.max(d.last_met);
            }
            Some(_) => {}
        }
    }
    out
}

/// The competencies the profile displays at `at` (SPEC §7): each competency at the highest
/// level up to `held` met at some instant since the displayed term began, judged from the
/// snapshot's history, so the answer never depends on which commands ran before. `rows` (the
/// stored attainments) supply `last_met` for the alert bookkeeping, and add what was met
/// before the history was rewritten (see the module documentation).
pub(super) fn displayed_at(
    judged: &Judged,
    m: &Membership,
    at: DateTime<Utc>,
    held: Level,
    rows: &BTreeMap<String, Displayed>,
) -> BTreeMap<String, Displayed> {
    let Some(from) = m.display_from(at) else {
        return BTreeMap::new();
    };
    attained_since(judged, from, held)
        .into_iter()
        .map(|(id, a)| {
            let name = judged
                .rulebook
                .competency(&id)
                .map_or_else(|| id.clone(), |c| c.name.clone());
            let last_met = rows
                .get(&id)
                .filter(|r| r.level == a.level)
                .map_or(a.at, |r| r.last_met.max(a.at));
            let d = Displayed {
                id: id.clone(),
                name,
                level: a.level,
                attained: a.at,
                last_met,
            };
            (id, d)
        })
        .collect::<BTreeMap<String, Displayed>>()
        .into_iter()
        .chain(rows.clone())
        .fold(BTreeMap::new(), |mut out, (id, d)| {
            match out.get_mut(&id) {
                None => {
                    out.insert(id, d);
                }
                Some(cur) if d.level > cur.level => *cur = d,
                Some(cur) if d.level == cur.level => {
                    cur.attained = cur.attained.min(d.attained);
                    cur.last_met = cur.last_met.max(d.last_met);
                }
                Some(_) => {}
            }
            out
        })
}

/// [`attained`] over `[from, judged.eval.at]`, reusing the evaluation at its end when no
/// input of the engine changes in `(from, at]` (a term that began today, the common case of a
/// check on the day of a purchase): then every instant of the window has that evaluation's
/// answer, first reached at `from`, and the window costs no evaluation of its own.
pub(super) fn attained_since(
    judged: &Judged,
    from: DateTime<Utc>,
    held: Level,
) -> BTreeMap<String, Attained> {
    let at = judged.eval.at;
    let constant = from == at
        || (from < at && change_points(&judged.rulebook, &judged.snapshot, from, at).len() == 1);
    if !constant {
        return attained(&judged.rulebook, &judged.snapshot, from, at, held);
    }
    judged
        .eval
        .competencies
        .iter()
        .filter_map(|ce| {
            let level = Level::ALL
                .into_iter()
                .rev()
                .find(|l| *l <= held && ce.level(*l).met)?;
            Some((ce.id.clone(), Attained { level, at: from }))
        })
        .collect()
}

/// The levels at or below `held` a competency meets now.
pub(super) fn met_levels(ce: &CompetencyEval, held: Level) -> impl Iterator<Item = Level> + '_ {
    Level::ALL
        .into_iter()
        .filter(move |l| *l <= held && ce.level(*l).met)
}

/// Evaluates the organization at `actor.at` and brings attainments and alerts up to date.
pub(super) fn sync(db: &Db, org: &Org, actor: &Actor, cause: Option<&str>) -> Result<Synced> {
    sync_with(db, org, actor, cause, None, &Silent)
}

/// [`sync`] reusing an evaluation made at `actor.at` in this transaction (a purchase has
/// just made one), so a command evaluates once.
pub(super) fn sync_with(
    db: &Db,
    org: &Org,
    actor: &Actor,
    cause: Option<&str>,
    judged: Option<Judged>,
    p: &dyn Progress,
) -> Result<Synced> {
    let at = actor.at;
    let (rulebook, judged) = match judged {
        Some(j) if j.eval.at == at => (None, Some(j)),
        _ => (Some(records::rulebook(db, org)?), None),
    };
    let program = match (&rulebook, &judged) {
        (Some(rb), _) => rb.program.clone(),
        (None, Some(j)) => j.rulebook.program.clone(),
        (None, None) => unreachable!("one of the two is set above"),
    };
    let Some(m) = membership(db, org, &program, at)? else {
        return Ok(Synced {
            membership: None,
            judged: None,
            raised: Vec::new(),
            displayed: Vec::new(),
        });
    };
    if !m.state.is_held() {
        let reason = format!("the membership lapsed on {}", m.dates.lapses);
        for a in db.alerts(org.id, false)? {
            close(db, org, actor, &a, &reason)?;
        }
        return Ok(Synced {
            membership: Some(m),
            judged: None,
            raised: Vec::new(),
            displayed: Vec::new(),
        });
    }
    let judged = match (judged, rulebook) {
        (Some(j), _) => j,
        (None, Some(rb)) => judge_with(db, org, rb, at, p)?,
        (None, None) => unreachable!("one of the two is set above"),
    };
    let terms = m.display_terms(at);
    let held = m.level();
    let before = displayed_from(&db.attainments(&terms)?, held);

    for ce in &judged.eval.competencies {
        for level in met_levels(ce, held) {
            for &t in &terms {
                db.record_attainment(t, &ce.id, &ce.name, level, at)?;
            }
        }
    }
    let rows = displayed_from(&db.attainments(&terms)?, held);
    if let Some(from) = m.display_from(at) {
        progress::phase(
            p,
            &format!("judging attainments since {}", from.date_naive()),
            None,
        )?;
    }
    let displayed = displayed_at(&judged, &m, at, held, &rows);

    let mut open: BTreeMap<String, AlertRow> = db
        .alerts(org.id, false)?
        .into_iter()
        .map(|a| (a.competency.clone(), a))
        .collect();
    let mut raised = Vec::new();
    for d in displayed.values() {
        let met = judged
            .eval
            .competency(&d.id)
            .is_some_and(|ce| ce.level(d.level).met);
        match (met, open.remove(&d.id)) {
            (true, Some(a)) => close(db, org, actor, &a, "met again")?,
            (false, None) => {
                let since = before.get(&d.id).map_or(d.last_met, |b| b.last_met);
                let requirement = shortfall(&judged, &d.id, d.level);
                let why = find_cause(db, org, &judged, &d.id, d.level, since, at, cause)?;
                db.insert_alert(
                    org.id,
                    m.current.id,
                    &d.id,
                    &d.name,
                    d.level,
                    ALERT_TEXT,
                    &requirement,
                    why.as_deref(),
                    at,
                )?;
                actor.audit(
                    db,
                    org.id,
                    "membership.alert",
                    &d.id,
                    &format!(
                        "raised: {} no longer met: {requirement}{}",
                        d.level,
                        why.as_deref()
                            .map(|c| format!(" (cause: {c})"))
                            .unwrap_or_default()
                    ),
                )?;
                raised.push(Alert {
                    org: org.name.clone(),
                    raised: at,
                    competency: d.id.clone(),
                    name: d.name.clone(),
                    level: d.level,
                    message: ALERT_TEXT.to_owned(),
                    requirement,
                    cause: why,
                    open: true,
                    closed: None,
                    close_reason: None,
                });
            }
            _ => {}
        }
    }
    for a in open.values() {
        close(db, org, actor, a, "no longer displayed in the current term")?;
    }
    Ok(Synced {
        membership: Some(m),
        judged: Some(judged),
        raised,
        displayed: displayed.into_values().collect(),
    })
}
