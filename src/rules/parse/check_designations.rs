//! The checks of `[designations.ID]` (SPEC §9), with the same file:line errors as the rest
//! of the rulebook: unknown codes (in people, gates and `eligibility`), a track without items,
//! a maximum outside 0–1,000, a metric item that says neither or both of `points_per_unit`
//! and `full_at` (or mixes them with `best_of`/`sum_of`), a skilling item without its rate,
//! an input twice in one item, an `until` before its `from`, senseless numbers. The bounds
//! keep the exact arithmetic of [`crate::rules::engine::points`] within an `i128`.

use std::collections::{HashMap, HashSet};

use super::check::Checker;
use super::check_competencies::is_kebab_id;
use super::limits::MAX_FIGURE;
use super::spans::KeyPath;
use super::{MetricItem, PeopleRequirement, Program, Rulebook, SkillingItem};
use crate::rules::engine::points::LIMIT;

impl Checker<'_, '_> {
    pub(super) fn designation_program(&mut self, program: &Program, path: &KeyPath) {
        let t = program.designation_threshold;
        if !t.is_finite() || t < 0.0 {
            self.report(
                &path.key("designation_threshold"),
                format!("designation_threshold {t} must be a number of points from 0"),
            );
        }
        let w = program.qualification_window_months;
        if !(1..=24).contains(&w) {
            self.report(
                &path.key("qualification_window_months"),
                format!("{w} months makes no sense: expected 1 to 24"),
            );
        }
    }

    pub(super) fn designations(
        &mut self,
        rulebook: &Rulebook,
        codes: &HashSet<String>,
        path: &KeyPath,
    ) {
        for (id, d) in &rulebook.designations {
            let dpath = path.key(id);
            if !is_kebab_id(id) {
                self.report(
                    &dpath,
                    format!(
                        "designation id {id:?} must be kebab-case: lower-case letters and digits joined by single hyphens"
                    ),
                );
            }
            if d.name.trim().is_empty() {
                self.report(&dpath.key("name"), "the designation needs a name".into());
            }
            let direct = !d.metrics.is_empty() || !d.skilling.is_empty();
            if d.tracks.is_empty() && !direct {
                self.report(
                    &dpath,
                    format!(
                        "the designation has no items: add `metrics`/`skilling`, or \
                         [[designations.{id}.tracks]]"
                    ),
                );
            }
            if !d.tracks.is_empty() && direct {
                self.report(
                    &dpath,
                    "items are written both under the designation and in tracks: put them in \
                     tracks only"
                        .into(),
                );
            }
            self.items(&d.metrics, &d.skilling, codes, rulebook, &dpath);
            let mut listed = HashSet::new();
            for (i, e) in d.eligibility.iter().enumerate() {
                let epath = dpath.key("eligibility").index(i);
                if !codes.contains(&e.code) {
                    self.report(
                        &epath.key("code"),
                        format!("code {:?} is not in the catalog", e.code),
                    );
                } else if !listed.insert(e.code.as_str()) {
                    self.report(&epath.key("code"), format!("{:?} is listed twice", e.code));
                }
                if let (Some(f), Some(u)) = (e.from, e.until)
                    && u < f
                {
                    self.report(
                        &epath.key("until"),
                        format!("until {u} is before from {f}: it would never count"),
                    );
                }
            }
            let mut seen: HashMap<&str, usize> = HashMap::new();
            for (i, t) in d.tracks.iter().enumerate() {
                let tpath = dpath.key("tracks").index(i);
                let name = t.track.trim();
                if name.is_empty() {
                    self.report(&tpath.key("track"), "the track needs a name".into());
                } else if let Some(first) = seen.insert(name, i) {
                    self.report(
                        &tpath.key("track"),
                        format!("duplicate track name {name:?} (also tracks[{first}])"),
                    );
                }
                if t.metrics.is_empty() && t.skilling.is_empty() {
                    self.report(
                        &tpath,
                        format!(
                            "track {:?} has no items: add `metrics` or `skilling`",
                            t.track
                        ),
                    );
                }
                self.items(&t.metrics, &t.skilling, codes, rulebook, &tpath);
            }
        }
    }

    fn items(
        &mut self,
        metrics: &[MetricItem],
        skilling: &[SkillingItem],
        codes: &HashSet<String>,
        rulebook: &Rulebook,
        path: &KeyPath,
    ) {
        for (i, m) in metrics.iter().enumerate() {
            let mpath = path.key("metrics").index(i);
            self.max_points(m.max_points, &mpath);
            let list = !m.best_of.is_empty() || !m.sum_of.is_empty();
            if !m.best_of.is_empty() && !m.sum_of.is_empty() {
                self.report(
                    &mpath.key("sum_of"),
                    "give either `best_of` or `sum_of`, not both".into(),
                );
            }
            if list && (m.points_per_unit.is_some() || m.full_at.is_some()) {
                self.report(
                    &mpath.key(if m.full_at.is_some() {
                        "full_at"
                    } else {
                        "points_per_unit"
                    }),
                    "with `best_of`/`sum_of`, each input has its own `full_at`: remove it here"
                        .into(),
                );
            }
            for (key, inputs) in [("best_of", &m.best_of), ("sum_of", &m.sum_of)] {
                let mut seen = HashSet::new();
                for (j, input) in inputs.iter().enumerate() {
                    let ipath = mpath.key(key).index(j);
                    self.full_at(input.full_at, &ipath);
                    let k = (input.metric.unwrap_or(m.metric), input.association);
                    if !seen.insert(k) {
                        self.report(
                            &ipath,
                            "the same metric and association twice in one item".into(),
                        );
                    }
                }
            }
            match (m.points_per_unit, m.full_at) {
                _ if list => {}
                (None, None) => self.report(
                    &mpath,
                    "a metric item needs `full_at` (the units that earn `max_points`), or \
                     `best_of`/`sum_of`"
                        .into(),
                ),
                (Some(_), Some(_)) => self.report(
                    &mpath.key("full_at"),
                    "give either `points_per_unit` or `full_at`, not both".into(),
                ),
                (Some(p), None) if !p.is_finite() || p < 0.0 => self.report(
                    &mpath.key("points_per_unit"),
                    format!("points_per_unit {p} must be a finite number from 0"),
                ),
                (None, Some(f)) => self.full_at(f, &mpath),
                // The value the maximum needs is shown in gaps: never beyond any figure.
                (Some(p), None) if p > 0.0 && m.max_points / p > MAX_FIGURE => self.report(
                    &mpath.key("points_per_unit"),
                    format!(
                        "points_per_unit {p} is so small that {} points need a value over \
                         10^15: give at least {}",
                        m.max_points,
                        m.max_points / MAX_FIGURE
                    ),
                ),
                _ => {}
            }
            if m.scope.as_deref().is_some_and(|s| s.trim().is_empty()) {
                self.report(
                    &mpath.key("scope"),
                    "scope is empty: name a scope or remove the key to count every record".into(),
                );
            }
        }
        let mut names: HashSet<&str> = metrics.iter().map(MetricItem::label).collect();
        for (i, s) in skilling.iter().enumerate() {
            let spath = path.key("skilling").index(i);
            if s.name.trim().is_empty() {
                self.report(&spath.key("name"), "the item needs a name".into());
            } else if !names.insert(s.name.as_str()) {
                self.report(
                    &spath.key("name"),
                    format!("duplicate item name {:?} in the track", s.name),
                );
            }
            self.max_points(s.max_points, &spath);
            match (s.points_per_person, s.full_at) {
                (None, None) => self.report(
                    &spath,
                    "a skilling item needs `full_at` (the people that earn `max_points`) or \
                     `points_per_person`"
                        .into(),
                ),
                (Some(_), Some(_)) => self.report(
                    &spath.key("full_at"),
                    "give either `points_per_person` or `full_at`, not both".into(),
                ),
                (Some(p), None) if !p.is_finite() || !(0.0..=LIMIT).contains(&p) => self.report(
                    &spath.key("points_per_person"),
                    format!("points_per_person {p} must be a finite number from 0"),
                ),
                (None, Some(f)) => self.full_at(f, &spath),
                _ => {}
            }
            for (j, pre) in s.prerequisites.iter().enumerate() {
                let ppath = spath.key("prerequisites").index(j);
                self.people(&pre.requirement(), codes, rulebook, &ppath);
                if let Some(p) = pre.points
                    && (!p.is_finite() || !(0.0..=1000.0).contains(&p))
                {
                    self.report(
                        &ppath.key("points"),
                        format!("points {p} must be a number of points from 0 to 1000"),
                    );
                }
            }
            let people = PeopleRequirement {
                count: 1,
                all_of: s.people.all_of.clone(),
                any_of: s.people.any_of.clone(),
            };
            self.people(&people, codes, rulebook, &spath.key("people"));
        }
    }

    fn max_points(&mut self, max: f64, path: &KeyPath) {
        // Points are out of 100 per area; the bound keeps exact arithmetic within i128.
        if !max.is_finite() || !(0.0..=1000.0).contains(&max) {
            self.report(
                &path.key("max_points"),
                format!("max_points {max} must be a finite number from 0 to 1000"),
            );
        }
    }

    fn full_at(&mut self, f: f64, path: &KeyPath) {
        if !f.is_finite() || f <= 0.0 || f > LIMIT {
            self.report(
                &path.key("full_at"),
                format!("full_at {f} must be a finite number above 0"),
            );
        }
    }
}

/// Problems that do not make a rulebook invalid but that its author should hear about: a
/// designation whose best track cannot reach the threshold even with every item at its
/// maximum.
pub fn warnings(rulebook: &Rulebook) -> Vec<String> {
    let threshold = rulebook.program.designation_threshold;
    let mut out = Vec::new();
    for (id, d) in &rulebook.designations {
        let best = d
            .all_tracks()
            .iter()
            .map(|t| {
                t.metrics.iter().map(MetricItem::reachable).sum::<f64>()
                    + t.skilling
                        .iter()
                        .map(|s| {
                            let gates: f64 = s.prerequisites.iter().filter_map(|g| g.points).sum();
                            if s.scores_people() {
                                s.max_points.max(0.0)
                            } else {
                                gates.min(s.max_points).max(0.0)
                            }
                        })
                        .sum::<f64>()
            })
            .fold(0.0, f64::max);
        if best < threshold {
            out.push(format!(
                "designations.{id}: at most {best} points can be reached, below the threshold of \
                 {threshold}: it can never qualify"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::rules::rulebook::Rulebook;

    const BASE: &str = r#"[program]
name = "P"

[[catalog]]
code = "AZ-104"
title = "Azure Administrator Associate"
kind = "certification"

[[catalog]]
code = "AZ-700"
title = "Azure Network Engineer Associate"
kind = "certification"

[designations.infra]
name = "Infrastructure"

[[designations.infra.tracks]]
track = "main"
metrics = [
  { metric = "net-customer-adds", scope = "azure", points_per_unit = 10, max_points = 30 },
]
skilling = [
  { name = "intermediate", points_per_person = 4, max_points = 20, prerequisites = [ { count = 2, any_of = [["AZ-104"]] } ], people = { any_of = [["AZ-700"]] } },
]
"#;

    /// Each case: name, text (the line of the problem marked `# <-`), key, message fragment.
    fn cases() -> Vec<(&'static str, String, &'static str, &'static str)> {
        vec![
            (
                "unknown key in a metric item",
                BASE.replace("max_points = 30 }", "max_points = 30, bonus = 1 } # <-"),
                "designations.infra.tracks[0].metrics[0].bonus",
                "unknown field `bonus`",
            ),
            (
                "unknown key in a designation",
                BASE.replace(
                    "name = \"Infrastructure\"",
                    "name = \"Infrastructure\"\ncolour = 1 # <-",
                ),
                "designations.infra.colour",
                "unknown field `colour`",
            ),
            (
                "unknown code in people",
                BASE.replace(
                    "people = { any_of = [[\"AZ-700\"]] } }",
                    "people = { any_of = [[\"AZ-701\"]] } } # <-",
                ),
                "designations.infra.tracks[0].skilling[0].people.any_of",
                "code \"AZ-701\" is not in the catalog (nearest: AZ-700",
            ),
            (
                "unknown code in a prerequisite",
                BASE.replace("[[\"AZ-104\"]]", "[[\"AZ-105\"]]").replace(
                    "people = { any_of = [[\"AZ-700\"]] } },",
                    "people = { any_of = [[\"AZ-700\"]] } }, # <-",
                ),
                "designations.infra.tracks[0].skilling[0].prerequisites[0].any_of",
                "code \"AZ-105\" is not in the catalog",
            ),
            (
                "max below 0",
                BASE.replace(
                    "points_per_unit = 10, max_points = 30 }",
                    "points_per_unit = 10, max_points = -1 } # <-",
                ),
                "designations.infra.tracks[0].metrics[0].max_points",
                "max_points -1 must be a finite number from 0",
            ),
            (
                "neither points_per_unit nor full_at",
                BASE.replace(
                    "points_per_unit = 10, max_points = 30 }",
                    "max_points = 30 } # <-",
                ),
                "designations.infra.tracks[0].metrics[0]",
                "needs `full_at`",
            ),
            (
                "both points_per_unit and full_at",
                BASE.replace(
                    "points_per_unit = 10, max_points = 30 }",
                    "points_per_unit = 10, full_at = 5, max_points = 30 } # <-",
                ),
                "designations.infra.tracks[0].metrics[0].full_at",
                "not both",
            ),
            (
                "a track without items",
                format!("{BASE}\n[[designations.infra.tracks]] # <-\ntrack = \"empty\"\n"),
                "designations.infra.tracks[1]",
                "track \"empty\" has no items",
            ),
            (
                "a designation without items",
                format!("{BASE}\n[designations.empty] # <-\nname = \"Empty\"\n"),
                "designations.empty",
                "the designation has no items",
            ),
            (
                "negative points per person",
                BASE.replace(
                    "people = { any_of = [[\"AZ-700\"]] } },",
                    "people = { any_of = [[\"AZ-700\"]] } }, # <-",
                )
                .replace("points_per_person = 4,", "points_per_person = -4,"),
                "designations.infra.tracks[0].skilling[0].points_per_person",
                "points_per_person -4",
            ),
            (
                "best_of and sum_of together",
                BASE.replace(
                    "points_per_unit = 10, max_points = 30 }",
                    "max_points = 30, best_of = [ { association = \"cpor\", full_at = 1 } ], sum_of = [ { full_at = 2 } ] } # <-",
                ),
                "designations.infra.tracks[0].metrics[0].sum_of",
                "not both",
            ),
            (
                "an input twice",
                BASE.replace(
                    "points_per_unit = 10, max_points = 30 }",
                    "max_points = 30, best_of = [ { full_at = 1 }, { full_at = 2 } ] } # <-",
                ),
                "designations.infra.tracks[0].metrics[0].best_of[1]",
                "twice",
            ),
            (
                "an eligibility code not in the catalogue",
                BASE.replace(
                    "name = \"Infrastructure\"",
                    "name = \"Infrastructure\"\neligibility = [ { code = \"AZ-999\", until = 2027-01-01 } ] # <-",
                ),
                "designations.infra.eligibility[0].code",
                "not in the catalog",
            ),
            (
                "negative gate points",
                BASE.replace("[ { count = 2, any_of = [[\"AZ-104\"]] } ]", "[ { count = 2, any_of = [[\"AZ-104\"]], points = -4 } ]")
                    .replace(
                        "people = { any_of = [[\"AZ-700\"]] } },",
                        "people = { any_of = [[\"AZ-700\"]] } }, # <-",
                    ),
                "designations.infra.tracks[0].skilling[0].prerequisites[0].points",
                "points -4",
            ),
            (
                "a window of 0 months",
                BASE.replace(
                    "name = \"P\"",
                    "name = \"P\"\nqualification_window_months = 0 # <-",
                ),
                "program.qualification_window_months",
                "expected 1 to 24",
            ),
        ]
    }

    #[test]
    fn designation_problems_are_reported_with_line_and_key() {
        Rulebook::parse(BASE, "rules.toml").unwrap();
        let mut failures = Vec::new();
        for (name, text, key, fragment) in cases() {
            let want = text.lines().position(|l| l.contains("# <-")).unwrap() + 1;
            match Rulebook::parse(&text, "rules.toml") {
                Ok(_) => failures.push(format!("{name}: accepted")),
                Err(e) if e.line != want || e.key != key || !e.message.contains(fragment) => {
                    failures.push(format!("{name}: want {want} {key} {fragment:?}; got {e}"));
                }
                Err(_) => {}
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn an_unreachable_threshold_is_a_warning_not_an_error() {
        let rb = Rulebook::parse(BASE, "rules.toml").unwrap();
        let warnings = super::warnings(&rb);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("at most 50 points"), "{warnings:?}");
        let text = BASE.replace("name = \"P\"", "name = \"P\"\ndesignation_threshold = 50");
        assert!(super::warnings(&Rulebook::parse(&text, "r.toml").unwrap()).is_empty());
    }
}
