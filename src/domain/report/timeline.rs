//! The renewal timeline of the page: for the 12 months ahead, the achievements whose end
//! would break a met level or a designation, one bar per person.

use chrono::{DateTime, Months, NaiveDate, Utc};

use super::*;

/// Every achievement a counted person is counted through (in the option each level shows)
/// that stops counting after today and within 12 months, and which met levels losing it
/// alone would break: the snapshot is re-evaluated today with that person's records of
/// the code expired.
///
/// Losing one achievement takes away less than the person leaving, and meeting a level
/// only ever needs more, so only the levels `critical` names for that person (`(user_id,
/// competency, level)` from [`risk`]) can break: everyone else's bars need no evaluation,
/// and the re-evaluations are bounded by the critical people, not the organization's size.
///
/// Designations likewise: only a person critical to a designation (see
/// [`designation_risks`]) can break it by losing one achievement, so only their
/// achievements stopping within the 12 months are re-scored, one at a time, against the
/// designations they are critical to; those that break one get a bar (or join the
/// competency bar of the same achievement) naming "<designation> designation".
pub(super) fn build(
    judged: Judged,
    at: DateTime<Utc>,
    critical: &[(i64, String, Level)],
    designation_risks: &[DesignationRisk],
) -> Timeline {
    let from = at.date_naive();
    // Never past the program's last day (a report dated late in 9999).
    let to = crate::support::clock::capped(
        from.checked_add_months(Months::new(12))
            .unwrap_or(NaiveDate::MAX),
    );
    // (username, user_id, code, stops), deduplicated.
    let mut found: Vec<(String, i64, String, NaiveDate)> = Vec::new();
    for c in &judged.eval.competencies {
        for l in &c.levels {
            let Some(opt) = l.options.get(l.best) else {
                continue;
            };
            for r in &opt.requirements {
                let RequirementDetail::People { counted, .. } = &r.detail else {
                    continue;
                };
                for p in counted {
                    for u in &p.uses {
                        let Some(stops) = u.expires.filter(|e| *e > from && *e <= to) else {
                            continue;
                        };
                        let key = (p.username.clone(), p.user_id, u.code.clone(), stops);
                        if !found.contains(&key) {
                            found.push(key);
                        }
                    }
                }
            }
        }
    }
    let met_now: Vec<(String, String, Level)> = met_levels(&judged);
    let Judged {
        rulebook,
        mut snapshot,
        eval,
    } = judged;
    let mut rows: Vec<TimelineRow> = Vec::new();
    for (username, user_id, code, stops) in found {
        let candidates: Vec<&(String, String, Level)> = met_now
            .iter()
            .filter(|(id, _, lv)| {
                critical
                    .iter()
                    .any(|(u, c, l)| *u == user_id && c == id && l == lv)
            })
            .collect();
        if candidates.is_empty() {
            push_bar(
                &mut rows,
                username,
                TimelineBar {
                    code,
                    stops,
                    breaks: Vec::new(),
                },
            );
            continue;
        }
        // Expire this person's records of the code, evaluate, restore.
        let mut saved = Vec::new();
        for (pi, person) in snapshot.people.iter_mut().enumerate() {
            if person.user_id != user_id {
                continue;
            }
            for (ai, a) in person.achievements.iter_mut().enumerate() {
                if *a.code == *code {
                    saved.push((pi, ai, a.expires));
                    a.expires = Some(a.earned);
                }
            }
        }
        let after = evaluate(&rulebook, &snapshot, at);
        for &(pi, ai, e) in &saved {
            snapshot.people[pi].achievements[ai].expires = e;
        }
        let breaks = candidates
            .into_iter()
            .filter(|(id, _, lv)| after.competency(id).is_some_and(|c| !c.level(*lv).met))
            .map(|(_, name, lv)| format!("{name} {}", lv.as_str()))
            .collect();
        push_bar(
            &mut rows,
            username,
            TimelineBar {
                code,
                stops,
                breaks,
            },
        );
    }
    designation_bars(
        &rulebook,
        &mut snapshot,
        at,
        (from, to),
        designation_risks,
        &mut rows,
    );
    for r in &mut rows {
        r.bars
            .sort_by(|a, b| a.stops.cmp(&b.stops).then(a.code.cmp(&b.code)));
    }
    rows.sort_by(|a, b| {
        a.bars[0]
            .stops
            .cmp(&b.bars[0].stops)
            .then(a.username.cmp(&b.username))
    });
    judge::discard(Judged {
        rulebook,
        snapshot,
        eval,
    });
    Timeline { from, to, rows }
}

/// Adds to `rows` the achievements of designation-critical people that stop counting in
/// `(from, to]` and whose loss alone stops a designation they are critical to qualifying.
fn designation_bars(
    rulebook: &crate::rules::Rulebook,
    snapshot: &mut crate::rules::snapshot::Snapshot,
    at: DateTime<Utc>,
    (from, to): (NaiveDate, NaiveDate),
    risks: &[DesignationRisk],
    rows: &mut Vec<TimelineRow>,
) {
    // (user id, user name, designations they are critical to)
    let mut people: Vec<(i64, &str, Vec<&DesignationRisk>)> = Vec::new();
    for r in risks {
        for (uid, name) in r.critical_ids.iter().zip(&r.critical) {
            match people.iter_mut().find(|p| p.0 == *uid) {
                Some(p) => p.2.push(r),
                None => people.push((*uid, name, vec![r])),
            }
        }
    }
    for (uid, username, designations) in people {
        // (code, stops) of this person's records, deduplicated.
        let mut codes: Vec<(std::sync::Arc<str>, NaiveDate)> = Vec::new();
        for p in snapshot.people.iter().filter(|p| p.user_id == uid) {
            for a in p.achievements.iter().filter(|a| a.removed.is_none()) {
                let Some(stops) = crate::rules::engine::counts_until(rulebook, a)
                    .filter(|e| *e > from && *e <= to)
                else {
                    continue;
                };
                if !codes.iter().any(|(c, s)| *c == a.code && *s == stops) {
                    codes.push((a.code.clone(), stops));
                }
            }
        }
        for (code, stops) in codes {
            let mut saved = Vec::new();
            for (pi, person) in snapshot.people.iter_mut().enumerate() {
                if person.user_id != uid {
                    continue;
                }
                for (ai, a) in person.achievements.iter_mut().enumerate() {
                    if a.code == code {
                        saved.push((pi, ai, a.expires));
                        a.expires = Some(a.earned);
                    }
                }
            }
            let breaks: Vec<String> = designations
                .iter()
                .filter(|d| {
                    crate::rules::designations::score_designation(rulebook, snapshot, &d.id, at)
                        .is_some_and(|s| !s.qualified())
                })
                .map(|d| format!("{} designation", d.name))
                .collect();
            for &(pi, ai, e) in &saved {
                snapshot.people[pi].achievements[ai].expires = e;
            }
            if breaks.is_empty() {
                continue;
            }
            let existing = rows
                .iter_mut()
                .find(|r| r.username == username)
                .and_then(|r| {
                    r.bars
                        .iter_mut()
                        .find(|b| *b.code == *code && b.stops == stops)
                });
            match existing {
                Some(b) => b.breaks.extend(breaks),
                None => push_bar(
                    rows,
                    username.to_owned(),
                    TimelineBar {
                        code: code.to_string(),
                        stops,
                        breaks,
                    },
                ),
            }
        }
    }
}

fn push_bar(rows: &mut Vec<TimelineRow>, username: String, bar: TimelineBar) {
    match rows.iter_mut().find(|r| r.username == username) {
        Some(r) => r.bars.push(bar),
        None => rows.push(TimelineRow {
            username,
            bars: vec![bar],
        }),
    }
}

fn met_levels(judged: &Judged) -> Vec<(String, String, Level)> {
    judged
        .eval
        .competencies
        .iter()
        .flat_map(|c| {
            c.levels
                .iter()
                .filter(|l| l.met)
                .map(|l| (c.id.clone(), c.name.clone(), l.level))
        })
        .collect()
}
