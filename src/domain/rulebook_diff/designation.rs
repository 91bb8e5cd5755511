//! The designations' side of a rulebook diff: each designation whose score or qualification
//! differs between the rulebook in use and the new one, blocking when it is enrolled and
//! would disappear or stop qualifying, with its cause named from the rulebooks themselves
//! (the threshold, the counting track, what the new rulebook changed in each item).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::{Change, Held, Kind, Movement, Standing, join};
use crate::domain::designations;
use crate::rules::designations::{Designation, DesignationScore, ItemKind, ItemScore};
use crate::rules::{Rulebook, Snapshot};

/// Both rulebooks and what they are judged over, for naming causes.
pub(super) struct Rulebooks<'a> {
    pub(super) old: &'a Rulebook,
    pub(super) new: &'a Rulebook,
    pub(super) snapshot: &'a Snapshot,
    pub(super) at: DateTime<Utc>,
}

/// A score moves when its displayed value does (two decimals).
fn moved(a: f64, b: f64) -> bool {
    (a - b).abs() >= 0.005
}

pub(super) fn designation_changes(
    r: &Rulebooks,
    old: &[DesignationScore],
    new: &[DesignationScore],
    enrolled: &BTreeSet<String>,
) -> Vec<Change> {
    let before: BTreeMap<&str, &DesignationScore> =
        old.iter().map(|s| (s.id.as_str(), s)).collect();
    let after: BTreeMap<&str, &DesignationScore> = new.iter().map(|s| (s.id.as_str(), s)).collect();
    // An enrolled designation neither rulebook scores is not lost by this import.
    let ids: BTreeSet<&str> = before.keys().chain(after.keys()).copied().collect();
    ids.into_iter()
        .filter_map(|id| {
            let (b, a) = (before.get(id).copied(), after.get(id).copied());
            let standing = |s: &DesignationScore| Standing::Designation {
                score: s.score(),
                qualified: s.qualified(),
            };
            let (sb, sa) = (b.map(standing), a.map(standing));
            let same = match (b, a) {
                (Some(x), Some(y)) => {
                    !moved(x.score(), y.score()) && x.qualified() == y.qualified()
                }
                _ => false,
            };
            if same {
                return None;
            }
            let held = enrolled.contains(id).then_some(Held::Enrolled);
            let qualified = |s: Option<&DesignationScore>| s.is_some_and(|s| s.qualified());
            let blocking = held.is_some() && (a.is_none() || (qualified(b) && !qualified(a)));
            let name = a.or(b).map_or_else(|| id.to_owned(), |s| s.name.clone());
            let (movement, cause) = match (b, a) {
                (_, None) => (Movement::Disappears, "no longer in the rulebook".to_owned()),
                (None, Some(y)) => (
                    Movement::Appears,
                    format!(
                        "new in the rulebook; {} points, {}",
                        crate::rules::explain::thousands(y.score()),
                        if y.qualified() {
                            "qualifies"
                        } else {
                            "does not qualify"
                        }
                    ),
                ),
                (Some(x), Some(y)) => {
                    let movement = match (x.qualified(), y.qualified()) {
                        (true, false) => Movement::StopsQualifying,
                        (false, true) => Movement::StartsQualifying,
                        _ if y.score() < x.score() => Movement::Lower,
                        _ => Movement::Higher,
                    };
                    (movement, designation_cause(r, id, x, y))
                }
            };
            Some(Change {
                kind: Kind::Designation,
                id: id.to_owned(),
                name,
                before: sb,
                after: sa,
                movement,
                cause,
                held,
                blocking,
            })
        })
        .collect()
}

/// Why designation `id` scores `y` under the new rulebook and `x` under the one in use:
/// the threshold, the counting track, and per item of the counting track what the new
/// rulebook changed in it (certifications that no longer count or now count, its cap),
/// else its points before and after.
fn designation_cause(
    r: &Rulebooks,
    id: &str,
    x: &DesignationScore,
    y: &DesignationScore,
) -> String {
    let mut causes = Vec::new();
    if moved(x.threshold, y.threshold) {
        causes.push(format!(
            "the threshold is {} points (was {})",
            crate::rules::explain::thousands(y.threshold),
            crate::rules::explain::thousands(x.threshold)
        ));
    }
    let (Some(tb), Some(ta)) = (x.best_track(), y.best_track()) else {
        return join(causes, "no track scores");
    };
    // The same track under the rulebook in use when it has one by that name.
    let tb = x.tracks.iter().find(|t| t.track == ta.track).unwrap_or(tb);
    if tb.track != ta.track {
        causes.push(format!("the {} track counts (was {})", ta.track, tb.track));
    }
    let (db, da) = (r.old.designations.get(id), r.new.designations.get(id));
    let mut held_codes = None;
    for i in &tb.items {
        match ta.items.iter().find(|j| j.name == i.name) {
            None => causes.push(format!(
                "{} is no longer in the rulebook (was {} points)",
                i.name,
                crate::rules::explain::thousands(i.points)
            )),
            Some(j) if moved(i.points, j.points) || i.required != j.required => {
                let held = held_codes.get_or_insert_with(|| holdings(r));
                causes.extend(item_causes(r, (db, da), &ta.track, i, j, held));
            }
            Some(_) => {}
        }
    }
    for j in ta
        .items
        .iter()
        .filter(|j| !tb.items.iter().any(|i| i.name == j.name))
    {
        causes.push(format!(
            "new item {} ({} points)",
            j.name,
            crate::rules::explain::thousands(j.points)
        ));
    }
    join(causes, "the scoring changed")
}

/// Every code an active member of the organization holds at the instant (whether or not it
/// counts): the certifications whose place in a rulebook can explain a score.
fn holdings(r: &Rulebooks) -> BTreeSet<String> {
    r.snapshot
        .people
        .iter()
        .filter(|p| crate::rules::engine::association_active(p, r.at))
        .flat_map(|p| p.achievements.iter().map(|a| a.code.to_string()))
        .collect()
}

/// The codes an item's people and its prerequisites name, in the rulebook's designation.
fn item_codes(
    d: Option<&Designation>,
    track: &str,
    item: &str,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut people = BTreeSet::new();
    let mut gates = BTreeSet::new();
    let Some(d) = d else {
        return (people, gates);
    };
    for t in d.all_tracks().into_iter().filter(|t| t.name == track) {
        for s in t.skilling.iter().filter(|s| s.name == item) {
            people.extend(s.people.all_of.iter().cloned());
            people.extend(s.people.any_of.iter().flatten().cloned());
            for g in &s.prerequisites {
                gates.extend(g.all_of.iter().cloned());
                gates.extend(g.any_of.iter().flatten().cloned());
            }
        }
    }
    (people, gates)
}

/// A code's title: the new rulebook's, else the one in use, else the code.
fn title(r: &Rulebooks, code: &str) -> String {
    r.new
        .catalog_entry(code)
        .or_else(|| r.old.catalog_entry(code))
        .map_or_else(|| code.to_owned(), |c| c.title.clone())
}

/// The titles of `codes` someone holds, joined: "Security Operations Analyst".
fn titles(
    r: &Rulebooks,
    codes: impl Iterator<Item = String>,
    held: &BTreeSet<String>,
) -> Option<String> {
    let t: Vec<String> = codes
        .filter(|c| held.contains(c))
        .map(|c| title(r, &c))
        .collect();
    (!t.is_empty()).then(|| t.join(", "))
}

/// What the new rulebook changed in item `i` (now `j`) of the counting track.
fn item_causes(
    r: &Rulebooks,
    (db, da): (Option<&Designation>, Option<&Designation>),
    track: &str,
    i: &ItemScore,
    j: &ItemScore,
    held: &BTreeSet<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    if i.kind == ItemKind::Skilling {
        let (pb, gb) = item_codes(db, track, &i.name);
        let (pa, ga) = item_codes(da, track, &j.name);
        let count = |n: &str| if n.contains(", ") { "count" } else { "counts" };
        if let Some(t) = titles(r, pb.difference(&pa).cloned(), held) {
            out.push(format!("{t} no longer {} in {}", count(&t), i.name));
        }
        if let Some(t) = titles(r, pa.difference(&pb).cloned(), held) {
            out.push(format!("{t} now {} in {}", count(&t), i.name));
        }
        if let Some(t) = titles(r, gb.difference(&ga).cloned(), held) {
            out.push(format!("{t} no longer fills a prerequisite of {}", i.name));
        }
        if let Some(t) = titles(r, ga.difference(&gb).cloned(), held) {
            out.push(format!("{t} now fills a prerequisite of {}", i.name));
        }
        for u in j
            .unmet_prerequisites
            .iter()
            .filter(|u| !i.unmet_prerequisites.contains(u))
        {
            out.push(format!("{}: prerequisite not met: {u}", i.name));
        }
    }
    if moved(i.max_points, j.max_points) {
        out.push(format!(
            "{} is capped at {} points (was {})",
            i.name,
            crate::rules::explain::thousands(j.max_points),
            crate::rules::explain::thousands(i.max_points)
        ));
    }
    if i.required != j.required && j.required && j.points <= 0.0 {
        out.push(format!("{} is now required and has 0 points", i.name));
    }
    if out.is_empty() {
        out.push(format!(
            "{}, was {}",
            designations::item_text(j),
            crate::rules::explain::thousands(i.points)
        ));
    }
    out
}
