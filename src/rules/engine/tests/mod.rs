//! Engine tests: every counting rule at its boundaries, metrics, levels, matching through
//! the engine, gaps, risk and the what-if edits.
//!
//! This module is the one shared fixture (the test catalogue and program, snapshot builders,
//! the rulebooks and random cases several subjects use); each submodule tests one subject
//! (named apart from the engine's modules, which the tests reach through `super::*`).

use chrono::{DateTime, NaiveDate, Utc};

use super::results::Counted;
use super::snapshot::{Achievement, PerformanceRecord, Person, Snapshot};
use super::*;
use crate::rules::parse::{Level, Market, Metric, Rulebook};
use proptest::prelude::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// An instant: RFC 3339, or a date meaning its midnight UTC.
fn t(s: &str) -> DateTime<Utc> {
    if s.len() == 10 {
        start_of(d(s))
    } else {
        s.parse().unwrap()
    }
}

const PROGRAM: &str = r#"
[program]
name = "Test"
progress_delay_hours = 24
metric_window_days = 365
retired_grace_months = 12

[[catalog]]
code = "A"
title = "Exam A"
kind = "exam"

[[catalog]]
code = "B"
title = "Exam B"
kind = "exam"

[[catalog]]
code = "C"
title = "Exam C"
kind = "exam"

[[catalog]]
code = "V"
title = "Valid for 10 days"
kind = "certification"
valid_days = 10

[[catalog]]
code = "R"
title = "Retired 2020-06-30"
kind = "exam"
retired = 2020-06-30
"#;

/// A rulebook with the test catalogue and the given competencies.
fn book(competencies: &str) -> Rulebook {
    toml::from_str(&format!("{PROGRAM}\n{competencies}")).unwrap()
}

/// One competency `id` whose Silver needs one person with `code`.
fn one_person(id: &str, code: &str) -> String {
    format!(
        "[competencies.{id}]\nname = \"{id}\"\n[[competencies.{id}.silver]]\noption = \"o\"\n\
         people = [{{ count = 1, any_of = [[\"{code}\"]] }}]\n"
    )
}

fn ach(code: &str, earned: &str) -> Achievement {
    Achievement {
        code: code.into(),
        earned: d(earned),
        expires: None,
        removed: None,
    }
}

/// An account associated since 2023-01-01 holding the achievements.
fn person(user_id: i64, username: &str, achievements: Vec<Achievement>) -> Person {
    Person {
        user_id,
        username: username.into(),
        msa: format!("{username}@outlook.com"),
        associated: t("2023-01-01"),
        ended: None,
        achievements,
    }
}

/// People holding codes earned 2023-06-01 (long counting by 2024).
fn people(list: &[(&str, &[&str])]) -> Vec<Person> {
    list.iter()
        .enumerate()
        .map(|(i, (name, codes))| {
            person(
                i as i64 + 1,
                name,
                codes.iter().map(|c| ach(c, "2023-06-01")).collect(),
            )
        })
        .collect()
}

fn snap(people: Vec<Person>) -> Snapshot {
    Snapshot {
        people,
        ..Snapshot::default()
    }
}

fn rec(metric: Metric, scope: &str, value: f64, date: &str) -> PerformanceRecord {
    PerformanceRecord {
        metric,
        scope: scope.into(),
        value,
        date: d(date),
        track: None,
        association: None,
    }
}

fn usernames(counted: &[Counted]) -> Vec<&str> {
    counted.iter().map(|c| c.username.as_str()).collect()
}

fn counted_of(r: &RequirementEval) -> &[Counted] {
    match &r.detail {
        RequirementDetail::People { counted, .. } => counted,
        RequirementDetail::Metric { .. } => panic!("not a people requirement"),
    }
}

const NOW: &str = "2024-03-01T12:00:00Z";

const GOLD_SILVER: &str = r#"
[competencies.g]
name = "G"
[[competencies.g.silver]]
option = "two A"
people = [{ count = 2, any_of = [["A"]] }]
[[competencies.g.gold]]
option = "one B"
people = [{ count = 1, all_of = ["B"] }]

[competencies.h]
name = "H"
[[competencies.h.gold]]
option = "revenue"
metrics = [{ metric = "revenue", at_least = 10 }]
"#;

const TWO_ROLES: &str = r#"
[competencies.m]
name = "M"
[[competencies.m.silver]]
option = "two roles"
people = [{ count = 1, any_of = [["A"]] }, { count = 1, any_of = [["B"]] }]
"#;

/// The codes among A, B and C whose bits are set in `bits`.
fn pick(bits: u8) -> impl Iterator<Item = &'static str> {
    const CODES: [&str; 3] = ["A", "B", "C"];
    CODES
        .iter()
        .enumerate()
        .filter(move |(i, _)| bits >> i & 1 == 1)
        .map(|(_, c)| *c)
}

/// A random case of the brute-force properties: one Silver option whose people slots are
/// `reqs` (count, any-of codes as bits over A, B, C), and one person per `holdings` entry
/// holding the codes of its bits.
fn people_case(holdings: &[u8], reqs: &[(u32, u8)]) -> (Rulebook, Vec<Person>) {
    let people_toml: Vec<String> = reqs
        .iter()
        .map(|(count, any)| {
            let lists: Vec<String> = pick(*any).map(|c| format!("[\"{c}\"]")).collect();
            format!("{{ count = {count}, any_of = [{}] }}", lists.join(", "))
        })
        .collect();
    let rb = book(&format!(
        "[competencies.p]\nname = \"P\"\n[[competencies.p.silver]]\noption = \"o\"\npeople = [{}]\n",
        people_toml.join(", ")
    ));
    let ps = holdings
        .iter()
        .enumerate()
        .map(|(i, &h)| {
            person(
                i as i64,
                &format!("u{i}"),
                pick(h).map(|c| ach(c, "2023-06-01")).collect(),
            )
        })
        .collect();
    (rb, ps)
}

mod counting_rules;
mod gap_suggestions;
mod levels;
mod matching_people;
mod metrics;
mod pending_delay;
mod risk;
mod what_if;
