//! The checks of `[competencies.ID]`: kebab-case ids, named and unique options, every
//! option with requirements, counts from 1 to [`MAX_COUNT`], codes in the catalogue (with
//! the nearest ones suggested), finite non-negative thresholds, sensible windows.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::check::Checker;
use super::limits;
use super::spans::KeyPath;
use super::{
    Competency, Level, LevelOption, MAX_COUNT, MAX_PEOPLE_REQUIREMENTS, MetricRequirement,
    PeopleRequirement, Rulebook, nearest_codes,
};

impl Checker<'_, '_> {
    pub(super) fn competencies(
        &mut self,
        rulebook: &Rulebook,
        codes: &HashSet<String>,
        path: &KeyPath,
    ) {
        let competencies: &BTreeMap<String, Competency> = &rulebook.competencies;
        for (id, competency) in competencies {
            let comp_path = path.key(id);
            if !is_kebab_id(id) {
                self.report(
                    &comp_path,
                    format!(
                        "competency id {id:?} must be kebab-case: lower-case letters and digits joined by single hyphens"
                    ),
                );
            }
            if competency.name.trim().is_empty() {
                self.report(&comp_path.key("name"), "the competency needs a name".into());
            }
            self.text(&comp_path.key("name"), &competency.name);
            self.text(&comp_path.key("area"), &competency.area);
            if competency.silver.is_empty() && competency.gold.is_empty() {
                self.report(
                    &comp_path,
                    format!(
                        "the competency has no options at silver or gold: add a \
                         [[competencies.{id}.silver]] or [[competencies.{id}.gold]] option"
                    ),
                );
            }
            for level in Level::ALL {
                let level_path = comp_path.key(level.as_str());
                let options = competency.options(level);
                if options.is_empty() && self.written(&level_path) {
                    self.report(
                        &level_path,
                        format!("the {level} level is empty: add an option or remove the key"),
                    );
                }
                self.options(options, codes, rulebook, &level_path);
            }
            if let Some(benefits) = &competency.benefits {
                self.benefits(benefits, &comp_path.key("benefits"));
            }
        }
    }

    pub(super) fn options(
        &mut self,
        options: &[LevelOption],
        codes: &HashSet<String>,
        rulebook: &Rulebook,
        path: &KeyPath,
    ) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, option) in options.iter().enumerate() {
            let option_path = path.index(i);
            let name = option.option.trim();
            self.text(&option_path.key("option"), &option.option);
            if name.is_empty() {
                self.report(&option_path.key("option"), "the option needs a name".into());
            } else if let Some(first) = seen.insert(name, i) {
                self.report(
                    &option_path.key("option"),
                    format!("duplicate option name {name:?} (also {path}[{first}])"),
                );
                seen.insert(name, first);
            }
            if option.people.is_empty() && option.metrics.is_empty() {
                self.report(
                    &option_path,
                    format!(
                        "option {:?} has no requirements: add `people` or `metrics`",
                        option.option
                    ),
                );
            }
            if option.people.len() > MAX_PEOPLE_REQUIREMENTS {
                // The engine assigns people to requirements over a 64-bit set of them.
                self.report(
                    &option_path.key("people"),
                    format!(
                        "option {:?} has {} people requirements; at most {MAX_PEOPLE_REQUIREMENTS} are supported",
                        option.option,
                        option.people.len()
                    ),
                );
            }
            for (j, people) in option.people.iter().enumerate() {
                self.people(people, codes, rulebook, &option_path.key("people").index(j));
            }
            for (j, metric) in option.metrics.iter().enumerate() {
                self.metric(metric, &option_path.key("metrics").index(j));
            }
        }
    }

    pub(super) fn people(
        &mut self,
        req: &PeopleRequirement,
        codes: &HashSet<String>,
        rulebook: &Rulebook,
        path: &KeyPath,
    ) {
        if req.count < 1 {
            self.report(&path.key("count"), "count must be at least 1".to_string());
        } else if req.count > MAX_COUNT {
            self.report(
                &path.key("count"),
                format!("count {} is absurd: at most {MAX_COUNT}", req.count),
            );
        }
        let all_of = path.key("all_of");
        let any_of = path.key("any_of");
        if req.all_of.is_empty() && req.any_of.is_empty() {
            let (written_all, written_any) = (self.written(&all_of), self.written(&any_of));
            let message = "a people requirement needs `all_of` or `any_of` codes".to_string();
            match (written_all, written_any) {
                (_, true) => self.report(&any_of, message),
                (true, false) => self.report(&all_of, message),
                (false, false) => self.report(path, message),
            }
        } else {
            if req.any_of.is_empty() && self.written(&any_of) {
                self.report(
                    &any_of,
                    "any_of is empty: list alternatives or remove it".into(),
                );
            }
            if req.all_of.is_empty() && self.written(&all_of) {
                self.report(&all_of, "all_of is empty: list codes or remove it".into());
            }
        }
        for (i, alternative) in req.any_of.iter().enumerate() {
            if alternative.is_empty() {
                self.report_at(
                    &any_of,
                    &any_of.index(i),
                    format!(
                        "alternative {i} of any_of is an empty list: it would let anyone count"
                    ),
                );
            }
        }
        let mut listed: Vec<(&KeyPath, KeyPath, &String)> = Vec::new();
        for (i, code) in req.all_of.iter().enumerate() {
            listed.push((&all_of, all_of.index(i), code));
        }
        for (i, alternative) in req.any_of.iter().enumerate() {
            for (j, code) in alternative.iter().enumerate() {
                listed.push((&any_of, any_of.index(i).index(j), code));
            }
        }
        for (shown, at, code) in listed {
            if !codes.contains(code) {
                let nearest = nearest_codes(&rulebook.catalog, code, 3);
                let hint = if nearest.is_empty() {
                    String::new()
                } else {
                    format!(" (nearest: {})", nearest.join(", "))
                };
                self.report_at(
                    shown,
                    &at,
                    format!("code {code:?} is not in the catalog{hint}"),
                );
            }
        }
    }

    pub(super) fn metric(&mut self, req: &MetricRequirement, path: &KeyPath) {
        let thresholds = [
            ("at_least", Some(req.at_least)),
            ("developing", req.developing),
        ];
        for (key, value) in thresholds {
            let Some(value) = value else { continue };
            if !value.is_finite() {
                self.report(&path.key(key), format!("{key} must be a finite number"));
            } else if value < 0.0 {
                self.report(
                    &path.key(key),
                    format!("{key} is {value}: a threshold cannot be negative"),
                );
            } else if value > limits::MAX_FIGURE {
                self.report(
                    &path.key(key),
                    format!("{key} is {value}: a threshold is at most 10^15"),
                );
            }
        }
        if req.scope.as_deref().is_some_and(|s| s.trim().is_empty()) {
            self.report(
                &path.key("scope"),
                "scope is empty: name a scope or remove the key to count every record".into(),
            );
        }
        if let Some(scope) = &req.scope {
            self.text(&path.key("scope"), scope);
        }
        if req.window_days == Some(0) {
            self.report(
                &path.key("window_days"),
                "window_days must be at least 1 (leave it out for the program's window)".into(),
            );
        }
        if let Some(days) = req.window_days.filter(|&d| d > limits::MAX_DAYS) {
            self.report(
                &path.key("window_days"),
                format!(
                    "window_days {days} makes no sense: at most {} (100 years)",
                    limits::MAX_DAYS
                ),
            );
        }
    }
}

/// Lower-case letters and digits joined by single hyphens: `cloud-platform`.
pub(super) fn is_kebab_id(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}
