//! Designation alerts: the re-evaluation after a change, the items that fell and the cause.
//!
//! Invariants: at most one open alert per enrolled designation; it closes when the designation
//! qualifies again or is no longer enrolled; every change is audited.

use super::*;

/// A designation alert.
pub type Alert = DesignationAlertRow;

/// One line for people: the text, the designation, the items that fell, the cause.
pub fn alert_line(a: &Alert) -> String {
    format!(
        "{}: {}: {}{}",
        a.message,
        a.name,
        a.items,
        a.cause
            .as_deref()
            .map(|c| format!(" (cause: {c})"))
            .unwrap_or_default()
    )
}

/// Evaluates the designations at `actor.at`: raises an alert for each enrolled designation
/// not qualifying (once), closes those that qualify again or are no longer enrolled.
/// Returns the alerts raised.
pub fn reevaluate(db: &Db, org: &Org, actor: &Actor, cause: Option<&str>) -> Result<Vec<Alert>> {
    // Nothing enrolled and no alert open: nothing to judge (and no snapshot to load).
    if db.enrolments(org.id)?.is_empty() && db.designation_alerts(org.id, false)?.is_empty() {
        return Ok(Vec::new());
    }
    let l = load(db, org)?;
    sync_with(db, org, actor, cause, &l)
}

pub(super) fn sync_with(
    db: &Db,
    org: &Org,
    actor: &Actor,
    cause: Option<&str>,
    l: &Loaded,
) -> Result<Vec<Alert>> {
    let at = actor.at;
    let held: BTreeMap<String, EnrolmentRow> = latest(db, org)?
        .into_iter()
        .filter(|(_, e)| held_state(&l.rb, e, at).is_held())
        .collect();
    let mut open: BTreeMap<String, Alert> = db
        .designation_alerts(org.id, false)?
        .into_iter()
        .map(|a| (a.designation.clone(), a))
        .collect();
    let mut raised = Vec::new();
    if held.is_empty() && open.is_empty() {
        return Ok(raised);
    }
    let scores = score(&l.rb, &l.snap, at);
    // An enrolled designation the rulebook no longer has (a rulebook import taken with
    // `--force`) cannot qualify: it gets its alert, and keeps it open, like one that fell.
    for (id, e) in held
        .iter()
        .filter(|(id, _)| !l.rb.designations.contains_key(*id))
    {
        if open.remove(id).is_none() {
            raised.push(raise_gone(db, org, actor, cause, e)?);
        }
    }
    for s in &scores {
        let Some(e) = held.get(&s.id) else { continue };
        match (s.qualified(), open.remove(&s.id)) {
            (true, Some(a)) => {
                db.close_designation_alert(a.id, at, "qualifies again")?;
                actor.audit(
                    db,
                    org.id,
                    "designations.alert",
                    &s.id,
                    "closed: qualifies again",
                )?;
            }
            (false, None) => {
                let was = last_qualified(l, &s.id, start_of(e.term_start).max(e.enrolled_at), at);
                let mut items = was.as_ref().map(|w| fell(w, s)).unwrap_or_default();
                if items.is_empty() {
                    items = s
                        .best_track()
                        .map(|t| {
                            t.items
                                .iter()
                                .filter(|i| i.required && i.points <= 0.0)
                                .map(item_text)
                                .collect()
                        })
                        .unwrap_or_default();
                }
                let track = was
                    .as_ref()
                    .and_then(|w| s.tracks.get(w.best))
                    .or(s.best_track());
                if items.is_empty() {
                    // Nothing to compare with (under a rulebook just imported it never
                    // qualified): where every item of its track stands.
                    items = track
                        .map(|t| t.items.iter().map(item_text).collect())
                        .unwrap_or_default();
                }
                let total = track.map_or(0.0, |t| t.total);
                items.push(format!(
                    "total {} {} {}",
                    crate::rules::explain::thousands(total),
                    if total < s.threshold { "<" } else { "≥" },
                    crate::rules::explain::thousands(s.threshold)
                ));
                let text = items.join("; ");
                let why = cause
                    .map(str::to_owned)
                    .or_else(|| was.as_ref().and_then(|w| infer_cause(w, s)));
                raised.push(raise(db, org, actor, &s.id, &s.name, text, why, at)?);
            }
            _ => {}
        }
    }
    for a in open.values() {
        db.close_designation_alert(a.id, at, "no longer enrolled")?;
    }
    Ok(raised)
}

/// The designation ids enrolled (enrolled or renewal-due) at `at`, their term dated by
/// `rb`'s program: what a rulebook import must not take away unannounced (SPEC §9).
pub fn held_ids(db: &Db, org: &Org, rb: &Rulebook, at: DateTime<Utc>) -> Result<Vec<String>> {
    Ok(latest(db, org)?
        .into_iter()
        .filter(|(_, e)| held_state(rb, e, at).is_held())
        .map(|(id, _)| id)
        .collect())
}

/// Records the alert of enrolled designation `e`, which the rulebook no longer has.
fn raise_gone(
    db: &Db,
    org: &Org,
    actor: &Actor,
    cause: Option<&str>,
    e: &EnrolmentRow,
) -> Result<Alert> {
    raise(
        db,
        org,
        actor,
        &e.designation,
        &e.name,
        "the designation is no longer in the rulebook".to_owned(),
        cause.map(str::to_owned),
        actor.at,
    )
}

/// Records a designation alert raised at `at` and its audit row: the one way an alert is
/// raised, so every alert is audited with the same line.
#[allow(clippy::too_many_arguments)]
fn raise(
    db: &Db,
    org: &Org,
    actor: &Actor,
    designation: &str,
    name: &str,
    items: String,
    cause: Option<String>,
    at: DateTime<Utc>,
) -> Result<Alert> {
    let a = Alert {
        id: 0,
        designation: designation.to_owned(),
        name: name.to_owned(),
        message: ALERT_TEXT.to_owned(),
        items,
        cause,
        raised_at: at,
        closed_at: None,
        close_reason: None,
    };
    db.insert_designation_alert(org.id, &a)?;
    actor.audit(
        db,
        org.id,
        "designations.alert",
        designation,
        &format!("raised: {}", alert_line(&a)),
    )?;
    Ok(a)
}

/// The score at the last instant of `[from, at)` at which the designation qualified, if any:
/// what an alert compares against ("was 20").
pub(super) fn last_qualified(
    l: &Loaded,
    id: &str,
    from: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Option<DesignationScore> {
    let mut points = change_points(&l.rb, &l.snap, from, at);
    points.retain(|t| *t < at);
    // The state just before `at` first (a change at `at` itself), then each change point
    // backwards; bounded, as this runs only when an alert is raised.
    let mut probes = vec![at - TimeDelta::seconds(1)];
    probes.extend(points.into_iter().rev().take(64));
    probes.into_iter().filter(|t| *t >= from).find_map(|t| {
        crate::rules::designations::score_designation(&l.rb, &l.snap, id, t)
            .filter(DesignationScore::qualified)
    })
}

/// "p03 no longer counts for intermediate" from the people who counted then and not now.
pub(super) fn infer_cause(was: &DesignationScore, now: &DesignationScore) -> Option<String> {
    let (b, a) = (was.best_track()?, now.tracks.get(was.best)?);
    for (x, y) in b.items.iter().zip(&a.items) {
        let gone: Vec<&str> = x
            .people
            .iter()
            .filter(|p| !y.people.contains(p))
            .map(String::as_str)
            .collect();
        if !gone.is_empty() {
            return Some(format!(
                "{} no longer {} for {}",
                gone.join(", "),
                if gone.len() == 1 { "counts" } else { "count" },
                x.name
            ));
        }
        if x.kind == ItemKind::Metric && x.value != y.value {
            return Some(format!(
                "{} went from {} to {}",
                x.name,
                crate::rules::explain::thousands(x.value),
                crate::rules::explain::thousands(y.value)
            ));
        }
    }
    None
}
