//! Enrolment and renewal of designations.
//!
//! Invariants: one Solutions Partner term; the first enrolment pays and sets the anniversary,
//! later ones share it at no fee; enrolment and renewal need qualification in the window.

use super::*;

/// What an enrolment or renewal did.
#[derive(Debug, Clone)]
pub struct Enrolled {
    /// The rows written.
    pub rows: Vec<EnrolmentRow>,
    /// Designations not renewed (renewal only), with why.
    pub not_renewed: Vec<String>,
}

/// Enrols the designations: each must have qualified in the window. The first enrolment of a
/// term pays the fee and sets the anniversary; later ones share it at no fee.
pub fn enrol(db: &Db, org: &Org, actor: &Actor, ids: &[String]) -> Result<Enrolled> {
    let at = actor.at;
    if ids.is_empty() {
        return Err(bad_input(
            "name the designations to enrol (see `competency designations list`)",
        ));
    }
    let l = load(db, org)?;
    if l.rb.designations.is_empty() {
        return Err(no_designations(org));
    }
    let enrolled = latest(db, org)?;
    let from = window_start(&l.rb, at);
    let scores: BTreeMap<String, DesignationScore> = score_with(&l.rb, &l.snap, at, false)
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    for id in ids {
        known(&l.rb, id)?;
        if let Some(e) = enrolled.get(id)
            && held_state(&l.rb, e, at).is_held()
        {
            return Err(refused(format!(
                "{} is already enrolled until {}: renew it with `competency designations renew`",
                e.name, e.anniversary
            )));
        }
        if qualified_in_window(&l.rb, &l.snap, id, from, at).is_none() {
            let s = &scores[id];
            return Err(refused(format!(
                "{} has not qualified since {} (score now {} of {} needed{}): `competency \
                 designations gaps` shows what is missing",
                s.name,
                from.date_naive(),
                crate::rules::explain::thousands(s.score()),
                crate::rules::explain::thousands(s.threshold),
                zero_items(s)
            )));
        }
    }
    // The term in force: an active enrolment's anniversary.
    let term = enrolled
        .values()
        .filter(|e| held_state(&l.rb, e, at) == DState::Enrolled)
        .max_by_key(|e| e.anniversary)
        .cloned();
    let today = at.date_naive();
    let mut rows = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let (anniversary, anchor, fee) = match &term {
            Some(t) => (t.anniversary, t.anchor_day, 0.0),
            None => (
                add_term(today, l.rb.program.term_months, today.day()),
                today.day(),
                if n == 0 {
                    l.rb.fees.designation as f64
                } else {
                    0.0
                },
            ),
        };
        let s = &scores[id];
        let new = NewEnrolment {
            designation: id,
            name: &s.name,
            kind: "enrolment",
            term_start: today,
            anniversary,
            anchor_day: anchor,
            fee_usd: fee,
            score: s.score(),
        };
        let rid = db.insert_enrolment(org.id, &new, at)?;
        actor.audit(
            db,
            org.id,
            "designations.enrol",
            id,
            &format!(
                "score={} fee={} USD term={today}..{anniversary}{}",
                crate::rules::explain::thousands(s.score()),
                crate::rules::explain::thousands(fee),
                if term.is_some() {
                    " (shares the anniversary)"
                } else {
                    ""
                }
            ),
        )?;
        rows.push(EnrolmentRow {
            id: rid,
            designation: id.clone(),
            name: s.name.clone(),
            kind: "enrolment".into(),
            enrolled_at: at,
            term_start: today,
            anniversary,
            anchor_day: anchor,
            fee_usd: fee,
            score: s.score(),
        });
    }
    sync_with(db, org, actor, None, &l)?;
    Ok(Enrolled {
        rows,
        not_renewed: Vec::new(),
    })
}

pub(super) fn zero_items(s: &DesignationScore) -> String {
    let zero: Vec<&str> = s
        .best_track()
        .map(|t| {
            t.items
                .iter()
                .filter(|i| i.required && i.points <= 0.0)
                .map(|i| i.name.as_str())
                .collect()
        })
        .unwrap_or_default();
    if zero.is_empty() {
        String::new()
    } else {
        format!("; at 0: {}", zero.join(", "))
    }
}

/// Renews every enrolled designation that qualified in its anniversary's window, inside the
/// renewal window; the fee is paid once. The others are not renewed and lapse after grace.
pub fn renew(db: &Db, org: &Org, actor: &Actor) -> Result<Enrolled> {
    let at = actor.at;
    let l = load(db, org)?;
    let held: Vec<EnrolmentRow> = latest(db, org)?
        .into_values()
        .filter(|e| held_state(&l.rb, e, at).is_held())
        .collect();
    let Some(first) = held.first() else {
        return Err(refused(format!(
            "{} holds no designation to renew: enrol with `competency designations enrol ID`",
            org.name
        )));
    };
    let dates = Dates::new(first.anniversary, &l.rb.program);
    if !dates.window_open(at) {
        return Err(refused(format!(
            "the renewal window of the designations opens on {} ({} days before the anniversary \
             on {}) and closes at the end of {}; today is {}",
            dates.renewal_opens,
            l.rb.program.renewal_opens_days,
            dates.anniversary,
            dates.window_closes(),
            at.date_naive()
        )));
    }
    let mut rows = Vec::new();
    let mut not_renewed = Vec::new();
    let scores: BTreeMap<String, DesignationScore> = score(&l.rb, &l.snap, at)
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    for e in &held {
        let from = window_start(&l.rb, start_of(e.anniversary));
        if !l.rb.designations.contains_key(&e.designation)
            || qualified_in_window(&l.rb, &l.snap, &e.designation, from, at).is_none()
        {
            not_renewed.push(format!(
                "{} did not qualify since {}: it lapses on {}",
                e.name,
                from.date_naive(),
                Dates::new(e.anniversary, &l.rb.program).lapses
            ));
            continue;
        }
        let anniversary = add_term(e.anniversary, l.rb.program.term_months, e.anchor_day);
        let fee = if rows.is_empty() {
            l.rb.fees.designation as f64
        } else {
            0.0
        };
        let s = scores
            .get(&e.designation)
            .map_or(0.0, DesignationScore::score);
        let new = NewEnrolment {
            designation: &e.designation,
            name: &e.name,
            kind: "renewal",
            term_start: e.anniversary,
            anniversary,
            anchor_day: e.anchor_day,
            fee_usd: fee,
            score: s,
        };
        let rid = db.insert_enrolment(org.id, &new, at)?;
        actor.audit(
            db,
            org.id,
            "designations.renew",
            &e.designation,
            &format!(
                "fee={} USD term={}..{anniversary}",
                crate::rules::explain::thousands(fee),
                e.anniversary
            ),
        )?;
        rows.push(EnrolmentRow {
            id: rid,
            designation: e.designation.clone(),
            name: e.name.clone(),
            kind: "renewal".into(),
            enrolled_at: at,
            term_start: e.anniversary,
            anniversary,
            anchor_day: e.anchor_day,
            fee_usd: fee,
            score: s,
        });
    }
    if rows.is_empty() {
        return Err(refused(format!(
            "no designation can be renewed: {}",
            not_renewed.join("; ")
        )));
    }
    sync_with(db, org, actor, None, &l)?;
    Ok(Enrolled { rows, not_renewed })
}
