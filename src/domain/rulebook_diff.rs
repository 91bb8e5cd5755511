//! What a rulebook would change (SPEC §9, `rules diff`) and the rulebook import guarded by
//! it: for one organization at one instant, each competency whose level and each
//! designation whose score or qualification differs between the rulebook in use and
//! another one, with the cause when it can be named.
//!
//! Invariants:
//! - **Reads only**: both rulebooks are evaluated over the same snapshot by the engine's
//!   own evaluation ([`crate::rules::evaluate`]) and the designations' scorer
//!   ([`crate::rules::designations::score`]); nothing here computes a level or a point.
//! - **A change is what the organization would see**: competencies and designations that
//!   appear, disappear, or change level, score or qualification at the instant; one that
//!   stays the same is not listed.
//! - **Blocking** is decided on what is held at the instant under the rulebook in use: a
//!   competency the business profile displays, at its displayed level, or an enrolled
//!   designation, that disappears or stops being met / qualifying. [`import`] refuses a
//!   blocking change without `force`, inside the import's write transaction, before it
//!   writes anything; with `force` it imports through [`rulebooks::replace`], whose effects
//!   raise the alerts with the import as their cause.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::domain::judge::{self, Judged};
use crate::domain::membership;
use crate::domain::rulebooks::{self, Replaced};
use crate::domain::{Actor, designations};
use crate::rules::designations::{Designation, DesignationScore, ItemKind, ItemScore, score};
use crate::rules::engine::CompetencyEval;
use crate::rules::{Level, Rulebook, Snapshot, evaluate};
use crate::store::{Db, Org};

/// Competency or designation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Kind {
    /// A competency (level none/silver/gold).
    Competency,
    /// A designation (a score out of 100).
    Designation,
}

impl Kind {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Where a competency or designation stands under one rulebook.
#[derive(Debug, Clone, PartialEq)]
pub enum Standing {
    /// A competency: the highest level met, `None` when neither is.
    Competency(Option<Level>),
    /// A designation: its score and whether it qualifies.
    Designation {
        /// The counting track's total, rounded as displayed.
        score: f64,
        /// Whether it qualifies at the instant.
        qualified: bool,
    },
}

impl Standing {
    /// Met at some level, or qualifying.
    pub fn qualified(&self) -> bool {
        match self {
            Standing::Competency(l) => l.is_some(),
            Standing::Designation { qualified, .. } => *qualified,
        }
    }
}

/// What the organization holds of a competency or designation under the rulebook in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// The business profile displays the competency at this level.
    Displayed(Level),
    /// The designation is enrolled (or renewal-due).
    Enrolled,
}

/// How a row changes, in one word (`change` in JSON and CSV).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Movement {
    /// Only the new rulebook has it.
    Appears,
    /// Only the rulebook in use has it.
    Disappears,
    /// Met (at any level) or qualifying now, not under the new rulebook.
    StopsQualifying,
    /// Not met or qualifying now, met or qualifying under the new rulebook.
    StartsQualifying,
    /// A lower level or score, qualification unchanged.
    Lower,
    /// A higher level or score, qualification unchanged.
    Higher,
}

impl Movement {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One competency or designation that would change.
#[derive(Debug, Clone)]
pub struct Change {
    /// Competency or designation.
    pub kind: Kind,
    /// Its id.
    pub id: String,
    /// Its name (the new rulebook's, else the one in use).
    pub name: String,
    /// Under the rulebook in use (`None`: it has no such id).
    pub before: Option<Standing>,
    /// Under the new rulebook (`None`: it has no such id).
    pub after: Option<Standing>,
    /// How it moves.
    pub movement: Movement,
    /// Why, when it can be named ("Security Operations Analyst no longer counts in step
    /// 3"); else what changed.
    pub cause: String,
    /// What the organization holds of it now.
    pub held: Option<Held>,
    /// Held, and it would disappear or stop being met / qualifying: an import needs
    /// `--force`.
    pub blocking: bool,
}

/// The changes for one organization at one instant.
#[derive(Debug, Clone)]
pub struct Diff {
    /// The organization's name.
    pub organization: String,
    /// The instant judged.
    pub at: DateTime<Utc>,
    /// Whether the organization holds anything (a displayed competency, an enrolled
    /// designation) a rulebook could take away.
    pub holds: bool,
    /// Competencies first, then designations, each by id.
    pub changes: Vec<Change>,
}

impl Diff {
    /// The changes an import may not make without `--force`.
    pub fn blocking(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.blocking)
    }
}

/// What `org` would see at `at` if `new` replaced its rulebook.
pub fn diff(db: &Db, org: &Org, new: &Rulebook, at: DateTime<Utc>) -> Result<Diff> {
    let (old, snapshot) = judge::load(db, org)?;
    let displayed: BTreeMap<String, Level> = membership::profile(db, org, at)?
        .competencies
        .into_iter()
        .map(|d| (d.id, d.level))
        .collect();
    let enrolled: BTreeSet<String> = designations::held_ids(db, org, &old, at)?
        .into_iter()
        .collect();
    let holds = !displayed.is_empty() || !enrolled.is_empty();
    let old_eval = evaluate(&old, &snapshot, at);
    let old_scores = score(&old, &snapshot, at);
    let new_scores = score(new, &snapshot, at);
    let new_judged = Judged {
        eval: evaluate(new, &snapshot, at),
        rulebook: new.clone(),
        snapshot,
    };
    let mut changes = competencies(&old_eval.competencies, &new_judged, &displayed);
    let ctx = Rulebooks {
        old: &old,
        new,
        snapshot: &new_judged.snapshot,
        at,
    };
    changes.extend(designation_changes(
        &ctx,
        &old_scores,
        &new_scores,
        &enrolled,
    ));
    judge::discard(new_judged);
    Ok(Diff {
        organization: org.name.clone(),
        at,
        holds,
        changes,
    })
}

/// What [`import`] did.
pub enum Imported {
    /// Refused: a blocking change and no `force`; nothing was written.
    Refused(Diff),
    /// Imported: what changed, and what the import's effects raised.
    Done(Diff, Replaced),
}

/// Replaces `org`'s rulebook with `text` (parsed as `rb`, read from `origin`) unless a
/// competency the profile displays or an enrolled designation would disappear or stop
/// being met / qualifying at the actor's instant and `force` is not given. Call it inside
/// the import's write transaction: the check and the write see the same data.
pub fn import(
    db: &Db,
    org: &Org,
    actor: &Actor,
    text: &str,
    rb: &Rulebook,
    origin: &str,
    force: bool,
) -> Result<Imported> {
    let d = diff(db, org, rb, actor.at)?;
    if !force && d.blocking().next().is_some() {
        return Ok(Imported::Refused(d));
    }
    let replaced = rulebooks::replace(db, org, actor, text, rb, origin)?;
    Ok(Imported::Done(d, replaced))
}

/// The refusal's message: what would disappear or stop qualifying, and `--force`.
pub fn refusal(d: &Diff) -> String {
    let what: Vec<String> = d
        .blocking()
        .map(|c| {
            let (held, verb) = match c.held {
                Some(Held::Displayed(l)) => {
                    (format!("displayed at {l}"), "stop being met at that level")
                }
                _ => ("enrolled".to_owned(), "stop qualifying"),
            };
            let verb = if c.after.is_none() { "disappear" } else { verb };
            format!("{} {} ({held}) would {verb}", c.kind.as_str(), c.name)
        })
        .collect();
    let what = join(what, "nothing");
    format!(
        "the new rulebook is not imported: {what}; nothing changed (see the changes above, or \
         `competency rules diff`); to import it anyway, run again with --force (the \
         alerts are then raised)"
    )
}

// ---------------------------------------------------------------------------------------
// Competencies
// ---------------------------------------------------------------------------------------

fn competencies(
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

// ---------------------------------------------------------------------------------------
// Designations
// ---------------------------------------------------------------------------------------

/// Both rulebooks and what they are judged over, for naming causes.
struct Rulebooks<'a> {
    old: &'a Rulebook,
    new: &'a Rulebook,
    snapshot: &'a Snapshot,
    at: DateTime<Utc>,
}

/// A score moves when its displayed value does (two decimals).
fn moved(a: f64, b: f64) -> bool {
    (a - b).abs() >= 0.005
}

fn designation_changes(
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

/// The most causes one row names; the rest are counted.
const MAX_CAUSES: usize = 4;

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

fn join(mut causes: Vec<String>, otherwise: &str) -> String {
    if causes.is_empty() {
        return otherwise.to_owned();
    }
    let n = causes.len();
    causes.truncate(MAX_CAUSES);
    let mut s = causes.join("; ");
    if n > MAX_CAUSES {
        s.push_str(&format!("; and {} more", n - MAX_CAUSES));
    }
    s
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
