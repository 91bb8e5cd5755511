//! The competencies' side of a rulebook diff: each competency whose highest level met
//! differs between the rulebook in use and the new one, with the cause (the first level lost
//! and what falls short of it, or the highest level gained), blocking when the business
//! profile displays it at a level it would no longer meet.

use std::collections::{BTreeMap, BTreeSet};

use super::{Change, Held, Kind, Movement, Standing};
use crate::domain::judge::Judged;
use crate::domain::membership;
use crate::rules::Level;
use crate::rules::engine::CompetencyEval;

pub(super) fn competencies(
    old: &[CompetencyEval],
    new: &Judged,
    displayed: &BTreeMap<String, Level>,
) -> Vec<Change> {
    let before: BTreeMap<&str, &CompetencyEval> = old.iter().map(|c| (c.id.as_str(), c)).collect();
    let after: BTreeMap<&str, &CompetencyEval> = new
        .eval
        .competencies
        .iter()
        .map(|c| (c.id.as_str(), c))
        .collect();
    let ids: BTreeSet<&str> = before.keys().chain(after.keys()).copied().collect();
    ids.into_iter()
        .filter_map(|id| {
            let (b, a) = (before.get(id), after.get(id));
            let (lb, la) = (b.map(|c| c.achieved), a.map(|c| c.achieved));
            if lb == la {
                return None;
            }
            let held = displayed.get(id).map(|l| Held::Displayed(*l));
            let blocking = match displayed.get(id) {
                None => false,
                Some(l) => {
                    let met = |c: Option<&&CompetencyEval>| c.is_some_and(|c| c.level(*l).met);
                    a.is_none() || (met(b) && !met(a))
                }
            };
            let name = a.or(b).map_or_else(|| id.to_owned(), |c| c.name.clone());
            let (movement, cause) = match (lb, la) {
                (_, None) => (Movement::Disappears, "no longer in the rulebook".to_owned()),
                (None, Some(l)) => (
                    Movement::Appears,
                    format!("new in the rulebook; {}", level_phrase(new, id, l)),
                ),
                (Some(x), Some(y)) => competency_cause(new, id, &name, x, y),
            };
            Some(Change {
                kind: Kind::Competency,
                id: id.to_owned(),
                name,
                before: lb.map(Standing::Competency),
                after: la.map(Standing::Competency),
                movement,
                cause,
                held,
                blocking,
            })
        })
        .collect()
}

/// "met at gold (option Skills and revenue)" or "not met".
fn level_phrase(new: &Judged, id: &str, level: Option<Level>) -> String {
    match level {
        None => "not met".to_owned(),
        Some(l) => format!("met at {l}{}", option_name(new, id, l)),
    }
}

/// " (option NAME)" when the level has several options: the one met.
fn option_name(new: &Judged, id: &str, level: Level) -> String {
    let Some(ce) = new.eval.competency(id) else {
        return String::new();
    };
    let le = ce.level(level);
    match le.options.get(le.best) {
        Some(o) if le.options.len() > 1 => format!(" (option {})", o.name),
        _ => String::new(),
    }
}

/// The movement between two levels and its cause: the first level lost with what falls
/// short of it under the new rulebook, or the highest level gained.
fn competency_cause(
    new: &Judged,
    id: &str,
    name: &str,
    before: Option<Level>,
    after: Option<Level>,
) -> (Movement, String) {
    if after < before {
        // The level just above the one kept is the first one lost.
        let lost = Level::ALL
            .into_iter()
            .find(|l| Some(*l) > after)
            .unwrap_or(Level::Silver);
        let movement = if after.is_none() {
            Movement::StopsQualifying
        } else {
            Movement::Lower
        };
        let short = membership::shortfall(new, id, lost);
        (movement, format!("{name} {lost} no longer met: {short}"))
    } else {
        let movement = if before.is_none() {
            Movement::StartsQualifying
        } else {
            Movement::Higher
        };
        let l = after.unwrap_or(Level::Silver);
        (
            movement,
            format!("{name} {l} now met{}", option_name(new, id, l)),
        )
    }
}
