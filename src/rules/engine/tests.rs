//! Engine tests: every counting rule at its boundaries, metrics, levels, matching through
//! the engine, gaps, risk and the what-if edits.
//!
//! Long on purpose: table-driven tests of one engine sharing one fixture rulebook; a split
//! would only copy the fixtures.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, Utc};

use super::evaluate::closer;
use super::results::Counted;
use super::snapshot::{Achievement, PerformanceRecord, Person, Snapshot};
use super::whatif::expire_before;
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

// --- counting rules ----------------------------------------------------------------------

#[test]
fn counting_rules_at_their_boundaries() {
    let rb = book(
        &["A", "V", "R", "Z"]
            .iter()
            .map(|c| one_person(&format!("c-{}", c.to_lowercase()), c))
            .collect::<String>(),
    );
    let base = |code: &str, earned: &str| {
        let mut p = person(1, "ann", vec![ach(code, earned)]);
        p.associated = t("2019-01-01");
        p
    };
    let with_ach = |code: &str, earned: &str, f: &dyn Fn(&mut Achievement)| {
        let mut p = base(code, earned);
        f(&mut p.achievements[0]);
        p
    };
    let with_person = |f: &dyn Fn(&mut Person)| {
        let mut p = base("A", "2024-01-01");
        f(&mut p);
        p
    };
    let cases: Vec<(&str, Person, &str, bool)> = vec![
        (
            "exactly 24 h after earning counts",
            base("A", "2024-01-01"),
            "2024-01-02T00:00:00Z",
            true,
        ),
        (
            "23:59:59 after earning does not",
            base("A", "2024-01-01"),
            "2024-01-01T23:59:59Z",
            false,
        ),
        (
            "association after earning: 24 h from the association",
            with_person(&|p| p.associated = t("2024-03-01T10:00:00Z")),
            "2024-03-02T10:00:00Z",
            true,
        ),
        (
            "association after earning: a second early",
            with_person(&|p| p.associated = t("2024-03-01T10:00:00Z")),
            "2024-03-02T09:59:59Z",
            false,
        ),
        (
            "association before earning: 24 h from the earned day's midnight",
            with_person(&|p| p.associated = t("2023-12-31T23:00:00Z")),
            "2024-01-02T00:00:00Z",
            true,
        ),
        (
            "association not started yet",
            with_person(&|p| p.associated = t("2024-06-01")),
            "2024-05-01",
            false,
        ),
        (
            "ended association: not at its end",
            with_person(&|p| p.ended = Some(t("2024-05-01T08:00:00Z"))),
            "2024-05-01T08:00:00Z",
            false,
        ),
        (
            "ended association: a second before its end",
            with_person(&|p| p.ended = Some(t("2024-05-01T08:00:00Z"))),
            "2024-05-01T07:59:59Z",
            true,
        ),
        (
            "record expiry: the eve's last second counts",
            with_ach("A", "2024-01-01", &|a| a.expires = Some(d("2024-06-01"))),
            "2024-05-31T23:59:59Z",
            true,
        ),
        (
            "record expiry: not from midnight of the day",
            with_ach("A", "2024-01-01", &|a| a.expires = Some(d("2024-06-01"))),
            "2024-06-01T00:00:00Z",
            false,
        ),
        (
            "valid_days: last counting second",
            base("V", "2024-01-01"),
            "2024-01-10T23:59:59Z",
            true,
        ),
        (
            "valid_days: expired at earned + 10 days",
            base("V", "2024-01-01"),
            "2024-01-11",
            false,
        ),
        (
            "the record's expiry wins over valid_days",
            with_ach("V", "2024-01-01", &|a| a.expires = Some(d("2024-03-01"))),
            "2024-02-01",
            true,
        ),
        (
            "removed: not from the removal instant",
            with_ach("A", "2024-01-01", &|a| {
                a.removed = Some(t("2024-03-01T12:00:00Z"))
            }),
            "2024-03-01T12:00:00Z",
            false,
        ),
        (
            "removed: a second before removal",
            with_ach("A", "2024-01-01", &|a| {
                a.removed = Some(t("2024-03-01T12:00:00Z"))
            }),
            "2024-03-01T11:59:59Z",
            true,
        ),
        (
            "retired: before retirement",
            base("R", "2020-01-01"),
            "2020-03-01",
            true,
        ),
        (
            "retired: last second of grace",
            base("R", "2020-06-29"),
            "2021-06-29T23:59:59Z",
            true,
        ),
        (
            "retired: grace over at midnight",
            base("R", "2020-06-29"),
            "2021-06-30",
            false,
        ),
        (
            "retired: earned on the retirement day",
            base("R", "2020-06-30"),
            "2020-07-05",
            false,
        ),
        (
            "retired: earned after retirement",
            base("R", "2020-07-01"),
            "2020-08-01",
            false,
        ),
        (
            "code not in the catalogue",
            base("Z", "2024-01-01"),
            "2024-03-01",
            false,
        ),
    ];
    for (name, p, at, want) in cases {
        let at = t(at);
        let code = p.achievements[0].code.to_lowercase();
        assert_eq!(
            achievement_counts(&rb, &p, &p.achievements[0], at),
            want,
            "{name}"
        );
        let eval = evaluate(&rb, &snap(vec![p]), at);
        let level = eval
            .competency(&format!("c-{code}"))
            .unwrap()
            .level(Level::Silver);
        assert_eq!(level.met, want, "{name} (through evaluate)");
    }
}

#[test]
fn counts_until_is_the_earliest_stop() {
    let rb = book("");
    assert_eq!(counts_until(&rb, &ach("A", "2024-01-01")), None);
    assert_eq!(
        counts_until(&rb, &ach("V", "2024-01-01")),
        Some(d("2024-01-11"))
    );
    assert_eq!(
        counts_until(&rb, &ach("R", "2020-01-01")),
        Some(d("2021-06-30"))
    );
    let mut early = ach("R", "2020-01-01");
    early.expires = Some(d("2021-01-01"));
    assert_eq!(counts_until(&rb, &early), Some(d("2021-01-01")));
}

// --- metrics -----------------------------------------------------------------------------

#[test]
fn metrics_window_scope_sum_latest_and_market() {
    let records = vec![
        rec(Metric::Revenue, "azure", 100.0, "2024-12-31"),
        rec(Metric::Revenue, "azure", 10.0, "2024-01-02"),
        rec(Metric::Revenue, "azure", 1000.0, "2024-01-01"),
        rec(Metric::Revenue, "azure", 10000.0, "2025-01-01"),
        rec(Metric::Revenue, "office", 5.0, "2024-06-01"),
        rec(Metric::ActiveUsage, "", 50.0, "2024-03-01"),
        rec(Metric::ActiveUsage, "", 45.0, "2024-09-01"),
        rec(Metric::ActiveUsage, "", 40.0, "2024-09-01"),
        rec(Metric::ActiveUsage, "", 999.0, "2025-02-01"),
        rec(Metric::DeployedSeats, "", 7.0, "2023-12-01"),
        rec(Metric::NewCustomers, "", 2.0, "2024-05-01"),
        rec(Metric::NewCustomers, "", 3.0, "2024-06-01"),
    ];
    let at = t("2024-12-31T12:00:00Z");
    // (name, metric requirement, market, have, need)
    let cases = [
        (
            "sum in the window: 365 days ending today, 2024-01-01 just outside, future excluded",
            r#"{ metric = "revenue", scope = "azure", at_least = 110 }"#,
            Market::Developed,
            110.0,
            110.0,
        ),
        (
            "no scope: every scope",
            r#"{ metric = "revenue", at_least = 1 }"#,
            Market::Developed,
            115.0,
            1.0,
        ),
        (
            "scope ignores case",
            r#"{ metric = "revenue", scope = "AZURE", at_least = 1 }"#,
            Market::Developed,
            110.0,
            1.0,
        ),
        (
            "window_days overrides the program's",
            r#"{ metric = "revenue", scope = "azure", at_least = 1, window_days = 1 }"#,
            Market::Developed,
            100.0,
            1.0,
        ),
        (
            "latest record; same day: the larger",
            r#"{ metric = "active-usage", at_least = 46 }"#,
            Market::Developed,
            45.0,
            46.0,
        ),
        (
            "latest record outside the window",
            r#"{ metric = "deployed-seats", at_least = 1 }"#,
            Market::Developed,
            0.0,
            1.0,
        ),
        (
            "new customers are summed",
            r#"{ metric = "new-customers", at_least = 5 }"#,
            Market::Developed,
            5.0,
            5.0,
        ),
        (
            "developing market: developing threshold",
            r#"{ metric = "revenue", at_least = 200, developing = 100 }"#,
            Market::Developing,
            115.0,
            100.0,
        ),
        (
            "developed market: at_least",
            r#"{ metric = "revenue", at_least = 200, developing = 100 }"#,
            Market::Developed,
            115.0,
            200.0,
        ),
        (
            "developing market without a developing threshold: at_least",
            r#"{ metric = "revenue", at_least = 200 }"#,
            Market::Developing,
            115.0,
            200.0,
        ),
    ];
    for (name, req, market, have, need) in cases {
        let rb = book(&format!(
            "[competencies.m]\nname = \"M\"\n[[competencies.m.silver]]\noption = \"o\"\nmetrics = [{req}]\n"
        ));
        let s = Snapshot {
            market,
            people: vec![],
            performance: records.clone(),
            classifications: Vec::new(),
        };
        let eval = evaluate(&rb, &s, at);
        let level = eval.competency("m").unwrap().level(Level::Silver);
        let r = &level.options[0].requirements[0];
        assert_eq!((r.have, r.need), (have, need), "{name}");
        assert_eq!(r.met, have >= need, "{name}");
        assert_eq!(level.met, have >= need, "{name}");
    }
}

#[test]
fn metric_detail_names_the_window() {
    let rb = book(
        "[competencies.m]\nname = \"M\"\n[[competencies.m.silver]]\noption = \"o\"\n\
         metrics = [{ metric = \"revenue\", scope = \"azure\", at_least = 1 }]\n",
    );
    let eval = evaluate(&rb, &Snapshot::default(), t("2024-12-31T12:00:00Z"));
    let r = &eval.competencies[0].levels[0].options[0].requirements[0];
    assert_eq!(r.description, "revenue (azure) over 365 days");
    assert_eq!(
        r.detail,
        RequirementDetail::Metric {
            metric: Metric::Revenue,
            scope: Some("azure".into()),
            window_start: d("2024-01-02"),
        }
    );
}

// --- levels ------------------------------------------------------------------------------

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

#[test]
fn gold_counts_as_silver() {
    let rb = book(GOLD_SILVER);
    let eval = evaluate(&rb, &snap(people(&[("ann", &["B"])])), t(NOW));
    let g = eval.competency("g").unwrap();
    assert_eq!(g.achieved, Some(Level::Gold));
    let silver = g.level(Level::Silver);
    assert!(silver.met && silver.via_gold);
    assert!(!silver.options[0].met);
}

#[test]
fn gold_only_competency_met_at_gold_counts_as_silver() {
    let rb = book(GOLD_SILVER);
    let mut s = Snapshot::default();
    s.performance
        .push(rec(Metric::Revenue, "", 20.0, "2024-02-01"));
    let eval = evaluate(&rb, &s, t(NOW));
    let h = eval.competency("h").unwrap();
    assert_eq!(h.achieved, Some(Level::Gold));
    assert!(h.level(Level::Silver).met && h.level(Level::Silver).options.is_empty());

    let eval = evaluate(&rb, &Snapshot::default(), t(NOW));
    let h = eval.competency("h").unwrap();
    assert_eq!(h.achieved, None);
    let gaps: Vec<Gap> = gaps(&rb, &Snapshot::default(), &eval)
        .into_iter()
        .filter(|g| g.competency == "h")
        .collect();
    assert_eq!(
        gaps.len(),
        1,
        "Silver has no options of its own: no gap of its own"
    );
    assert_eq!(gaps[0].level, Level::Gold);
    assert_eq!(gaps[0].missing, vec!["revenue short by 10 USD"]);
}

#[test]
fn silver_met_on_its_own_and_gold_not() {
    let rb = book(GOLD_SILVER);
    let eval = evaluate(
        &rb,
        &snap(people(&[("ann", &["A"]), ("bob", &["A"])])),
        t(NOW),
    );
    let g = eval.competency("g").unwrap();
    assert_eq!(g.achieved, Some(Level::Silver));
    assert!(!g.level(Level::Silver).via_gold);
    assert!(!g.level(Level::Gold).met);
    let counted = counted_of(&g.level(Level::Silver).options[0].requirements[0]);
    assert_eq!(usernames(counted), ["ann", "bob"]);
}

// --- matching through the engine ---------------------------------------------------------

const TWO_ROLES: &str = r#"
[competencies.m]
name = "M"
[[competencies.m.silver]]
option = "two roles"
people = [{ count = 1, any_of = [["A"]] }, { count = 1, any_of = [["B"]] }]
"#;

#[test]
fn unique_individuals_where_greedy_fails() {
    // Lowest user name first, requirement by requirement, would give ann to A and leave B
    // empty; the maximum assignment gives bob to A and ann to B.
    let rb = book(TWO_ROLES);
    let eval = evaluate(
        &rb,
        &snap(people(&[("ann", &["A", "B"]), ("bob", &["A"])])),
        t(NOW),
    );
    let option = &eval.competencies[0].levels[0].options[0];
    assert!(option.met);
    assert_eq!(usernames(counted_of(&option.requirements[0])), ["bob"]);
    assert_eq!(usernames(counted_of(&option.requirements[1])), ["ann"]);
    let eligible: Vec<usize> = option
        .requirements
        .iter()
        .map(|r| match r.detail {
            RequirementDetail::People { eligible, .. } => eligible,
            RequirementDetail::Metric { .. } => unreachable!(),
        })
        .collect();
    assert_eq!(eligible, [2, 1]);
}

#[test]
fn one_person_cannot_fill_two_requirements() {
    let rb = book(TWO_ROLES);
    let eval = evaluate(&rb, &snap(people(&[("ann", &["A", "B"])])), t(NOW));
    let option = &eval.competencies[0].levels[0].options[0];
    assert!(!option.met);
    assert_eq!(
        option.requirements[0].have + option.requirements[1].have,
        1.0
    );
}

#[test]
fn one_accounts_intervals_are_one_individual() {
    // Two association intervals of one account active at once (the store should not
    // produce it, but one human must never count twice): their holdings merge.
    let rb = book(TWO_ROLES);
    let mut ps = people(&[("ann", &["A"]), ("ann", &["B"])]);
    ps[1].user_id = ps[0].user_id;
    let eval = evaluate(&rb, &snap(ps), t(NOW));
    assert!(!eval.competencies[0].levels[0].met);
}

#[test]
fn lowest_usernames_are_counted() {
    let rb = book(GOLD_SILVER);
    let eval = evaluate(
        &rb,
        &snap(people(&[
            ("dan", &["A"]),
            ("bob", &["A"]),
            ("cat", &["A"]),
            ("ann", &["C"]),
        ])),
        t(NOW),
    );
    let silver = eval.competency("g").unwrap().level(Level::Silver);
    assert_eq!(
        usernames(counted_of(&silver.options[0].requirements[0])),
        ["bob", "cat"]
    );
}

#[test]
fn uses_name_the_longest_counting_alternative_and_record() {
    let rb = book(
        r#"
[competencies.u]
name = "U"
[[competencies.u.silver]]
option = "o"
people = [{ count = 1, all_of = ["A"], any_of = [["V"], ["B"]] }]
"#,
    );
    let mut p = person(
        1,
        "ann",
        vec![
            ach("A", "2024-01-01"),
            ach("V", "2024-02-25"),
            ach("B", "2024-01-01"),
            ach("A", "2023-01-01"),
        ],
    );
    p.achievements[2].expires = Some(d("2025-01-01"));
    p.achievements[3].expires = Some(d("2024-06-01"));
    let eval = evaluate(&rb, &snap(vec![p]), t(NOW));
    let counted = counted_of(&eval.competencies[0].levels[0].options[0].requirements[0]);
    let uses: Vec<(&str, NaiveDate, Option<NaiveDate>)> = counted[0]
        .uses
        .iter()
        .map(|u| (u.code.as_str(), u.earned, u.expires))
        .collect();
    assert_eq!(
        uses,
        [
            ("A", d("2024-01-01"), None),
            ("B", d("2024-01-01"), Some(d("2025-01-01")))
        ],
        "V expires 2024-03-06, B later; of two A records the one that never expires"
    );
    assert_eq!(counted[0].person, 0);
    assert_eq!(counted[0].user_id, 1);
}

#[test]
fn options_with_many_people_requirements() {
    // Past 8 requirements the engine keeps wider masks, past 12 a sparse class table.
    for k in [9usize, 13] {
        let reqs = vec![r#"{ count = 1, any_of = [["A"]] }"#; k].join(", ");
        let rb = book(&format!(
            "[competencies.w]\nname = \"W\"\n[[competencies.w.silver]]\noption = \"o\"\npeople = [{reqs}]\n"
        ));
        let names: Vec<String> = (0..k).map(|i| format!("u{i:02}")).collect();
        let holders: Vec<(&str, &[&str])> =
            names.iter().map(|n| (n.as_str(), &["A"][..])).collect();
        let eval = evaluate(&rb, &snap(people(&holders)), t(NOW));
        assert!(
            eval.competencies[0].levels[0].met,
            "{k} people for {k} requirements"
        );
        let eval = evaluate(&rb, &snap(people(&holders[1..])), t(NOW));
        let option = &eval.competencies[0].levels[0].options[0];
        assert!(!option.met, "{} people for {k} requirements", k - 1);
        assert_eq!(
            option.requirements.iter().map(|r| r.have).sum::<f64>(),
            (k - 1) as f64
        );
    }
}

/// Brute force: can each requirement get its count, each person filling at most one?
fn feasible(quals: &[u64], left: &mut [u64]) -> bool {
    if left.iter().all(|&l| l == 0) {
        return true;
    }
    let Some((&first, rest)) = quals.split_first() else {
        return false;
    };
    if feasible(rest, left) {
        return true;
    }
    for r in 0..left.len() {
        if first >> r & 1 == 1 && left[r] > 0 {
            left[r] -= 1;
            let ok = feasible(rest, left);
            left[r] += 1;
            if ok {
                return true;
            }
        }
    }
    false
}

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

proptest! {
    #[test]
    fn engine_option_met_matches_brute_force(
        holdings in prop::collection::vec(0u8..8, 0..7),
        reqs in prop::collection::vec((1u32..3, 1u8..8), 1..4),
    ) {
        let (rb, ps) = people_case(&holdings, &reqs);
        let eval = evaluate(&rb, &snap(ps), t(NOW));
        let option = &eval.competencies[0].levels[0].options[0];

        let quals: Vec<u64> = holdings
            .iter()
            .map(|&h| reqs.iter().enumerate().filter(|(_, (_, any))| h & any != 0).fold(0, |m, (r, _)| m | 1 << r))
            .collect();
        let mut left: Vec<u64> = reqs.iter().map(|(c, _)| u64::from(*c)).collect();
        prop_assert_eq!(option.met, feasible(&quals, &mut left));

        let mut seen = std::collections::HashSet::new();
        for (r, req) in option.requirements.iter().enumerate() {
            let counted = counted_of(req);
            prop_assert_eq!(counted.len() as f64, req.have);
            for c in counted {
                prop_assert!(seen.insert(c.user_id), "counted twice in one option");
                prop_assert!(quals[c.user_id as usize] >> r & 1 == 1, "counted without qualifying");
            }
        }
    }
}

// --- gaps --------------------------------------------------------------------------------

#[test]
fn gaps_name_what_fills_the_slot_left_by_the_best_assignment() {
    // "1 person with A or B" + "1 person with A", one A-holder: the A-holder must fill the
    // second, so a B-holder is enough to close the gap.
    let rb = book(
        r#"
[competencies.c]
name = "C"
[[competencies.c.silver]]
option = "o"
people = [{ count = 1, any_of = [["A"], ["B"]] }, { count = 1, any_of = [["A"]] }]
"#,
    );
    let s = snap(people(&[("ann", &["A"])]));
    let eval = evaluate(&rb, &s, t(NOW));
    let reqs = &eval.competencies[0].levels[0].options[0].requirements;
    assert_eq!((reqs[0].have, reqs[1].have), (0.0, 1.0));
    assert_eq!(
        gaps(&rb, &s, &eval)[0].missing,
        vec!["1 more person with A or B".to_string()]
    );
    let s = snap(people(&[("ann", &["A"]), ("bob", &["B"])]));
    assert!(evaluate(&rb, &s, t(NOW)).competencies[0].levels[0].met);
}

#[test]
fn gaps_never_suggest_a_retired_exam() {
    let rb = book(
        r#"
[competencies.c]
name = "C"
[[competencies.c.silver]]
option = "o"
people = [{ count = 2, any_of = [["R"], ["B"]] }]
[[competencies.c.gold]]
option = "g"
people = [{ count = 1, all_of = ["R"] }]
"#,
    );
    let s = snap(people(&[("ann", &["A"])]));
    let eval = evaluate(&rb, &s, t(NOW));
    let gaps = gaps(&rb, &s, &eval);
    assert_eq!(gaps[0].missing, vec!["2 more people with B".to_string()]);
    assert!(
        gaps[1].missing[0].contains("cannot be filled"),
        "{:?}",
        gaps[1].missing
    );
}

/// Brute force: over every way of giving each person at most one requirement they qualify
/// for, the smallest (people missing, people missing weighted by how demanding their
/// requirement is).
fn cheapest_shortfall(quals: &[u64], left: &mut [u64], weight: &[u64]) -> (u64, u64) {
    let Some((&first, rest)) = quals.split_first() else {
        let missing = left.iter().sum();
        let weighted = left.iter().zip(weight).map(|(l, w)| l * w).sum();
        return (missing, weighted);
    };
    let mut best = cheapest_shortfall(rest, left, weight);
    for r in 0..left.len() {
        if first >> r & 1 == 1 && left[r] > 0 {
            left[r] -= 1;
            best = best.min(cheapest_shortfall(rest, left, weight));
            left[r] += 1;
        }
    }
    best
}

proptest! {
    #[test]
    fn gaps_are_the_cheapest_additions_by_brute_force(
        holdings in prop::collection::vec(0u8..8, 0..6),
        reqs in prop::collection::vec((1u32..3, 1u8..8), 1..4),
    ) {
        let (rb, ps) = people_case(&holdings, &reqs);
        let s = snap(ps);
        let eval = evaluate(&rb, &s, t(NOW));
        let option = &eval.competencies[0].levels[0].options[0];

        // How demanding a requirement is: how many of the option's requirements anyone
        // qualifying for it also qualifies for (single-code alternatives: a subset).
        let weight: Vec<u64> = reqs
            .iter()
            .map(|(_, a)| reqs.iter().filter(|(_, b)| a & !b == 0).count() as u64)
            .collect();
        let quals: Vec<u64> = holdings
            .iter()
            .map(|&h| reqs.iter().enumerate().filter(|(_, (_, any))| h & any != 0).fold(0, |m, (r, _)| m | 1 << r))
            .collect();
        let mut left: Vec<u64> = reqs.iter().map(|(c, _)| u64::from(*c)).collect();
        let want = cheapest_shortfall(&quals, &mut left, &weight);

        let short: Vec<u64> = option.requirements.iter().map(|r| (r.need - r.have) as u64).collect();
        let got = (
            short.iter().sum::<u64>(),
            short.iter().zip(&weight).map(|(l, w)| l * w).sum::<u64>(),
        );
        prop_assert_eq!(got, want);

        // The gap names exactly those shortfalls.
        if !option.met {
            let expected: Vec<String> = reqs
                .iter()
                .zip(&short)
                .filter(|(_, n)| **n > 0)
                .map(|((_, any), n)| {
                    let codes: Vec<&str> = pick(*any).collect();
                    let noun = if *n == 1 { "person" } else { "people" };
                    format!("{n} more {noun} with {}", codes.join(" or "))
                })
                .collect();
            prop_assert_eq!(&gaps(&rb, &s, &eval)[0].missing, &expected);
        }
    }
}

#[test]
fn gaps_go_through_the_closest_option() {
    let rb = book(
        r#"
[competencies.c]
name = "C"
[[competencies.c.silver]]
option = "two B"
people = [{ count = 2, any_of = [["B"], ["C"]] }]
[[competencies.c.silver]]
option = "A and revenue"
people = [{ count = 1, any_of = [["A"]] }]
metrics = [{ metric = "revenue", scope = "azure", at_least = 5000 }]
[[competencies.c.gold]]
option = "three B"
people = [{ count = 3, any_of = [["B"], ["C"]] }, { count = 1, all_of = ["A", "C"] }]
"#,
    );
    let mut s = snap(people(&[("ann", &["A"]), ("bob", &["B"])]));
    s.performance
        .push(rec(Metric::Revenue, "azure", 3800.0, "2024-02-01"));
    let eval = evaluate(&rb, &s, t(NOW));
    // Both Silver options miss one requirement; "two B" misses a person, "A and revenue"
    // none: the latter is closer.
    assert_eq!(eval.competencies[0].levels[0].best, 1);
    let gaps = gaps(&rb, &s, &eval);
    assert_eq!(
        gaps,
        vec![
            Gap {
                competency: "c".into(),
                name: "C".into(),
                level: Level::Silver,
                option: "A and revenue".into(),
                missing: vec!["revenue (azure) short by 1,200 USD".into()],
                met_from: None,
            },
            Gap {
                competency: "c".into(),
                name: "C".into(),
                level: Level::Gold,
                option: "three B".into(),
                missing: vec![
                    "2 more people with B or C".into(),
                    "1 more person with A and C".into()
                ],
                met_from: None,
            },
        ]
    );
}

#[test]
fn closest_prefers_fewer_unmet_then_fewer_people_then_smaller_metric_shortfall() {
    let people_req = |have: f64, need: f64| RequirementEval {
        description: String::new(),
        have,
        need,
        met: have >= need,
        detail: RequirementDetail::People {
            counted: vec![],
            eligible: 0,
        },
    };
    let metric_req = |have: f64, need: f64| RequirementEval {
        description: String::new(),
        have,
        need,
        met: have >= need,
        detail: RequirementDetail::Metric {
            metric: Metric::Revenue,
            scope: None,
            window_start: d("2024-01-01"),
        },
    };
    let option = |requirements| OptionEval {
        name: String::new(),
        met: false,
        requirements,
    };
    let one_unmet_many_people = option(vec![people_req(0.0, 5.0)]);
    let two_unmet = option(vec![people_req(0.0, 1.0), metric_req(0.0, 1.0)]);
    assert_eq!(closer(&one_unmet_many_people, &two_unmet), Ordering::Less);
    let one_person_short = option(vec![people_req(1.0, 2.0)]);
    assert_eq!(
        closer(&one_person_short, &one_unmet_many_people),
        Ordering::Less
    );
    let metric_half = option(vec![people_req(1.0, 2.0), metric_req(50.0, 100.0)]);
    let metric_tenth = option(vec![people_req(1.0, 2.0), metric_req(9000.0, 10000.0)]);
    assert_eq!(closer(&metric_tenth, &metric_half), Ordering::Less);
}

// --- risk --------------------------------------------------------------------------------

fn critical(risks: &[Risk], id: &str, level: Level) -> Vec<String> {
    risks
        .iter()
        .find(|r| r.competency == id && r.level == level)
        .unwrap_or_else(|| panic!("no risk entry for {id} {level}"))
        .critical
        .iter()
        .map(|c| c.1.clone())
        .collect()
}

fn risks_for(rb: &Rulebook, s: &Snapshot) -> Vec<Risk> {
    let eval = evaluate(rb, s, t(NOW));
    risk(rb, s, t(NOW), &eval)
}

#[test]
fn risk_names_people_without_whom_the_level_breaks() {
    let rb = book(GOLD_SILVER);
    let two = snap(people(&[("bob", &["A"]), ("ann", &["A"])]));
    assert_eq!(
        critical(&risks_for(&rb, &two), "g", Level::Silver),
        ["ann", "bob"]
    );
    let three = snap(people(&[("bob", &["A"]), ("ann", &["A"]), ("cat", &["A"])]));
    assert!(critical(&risks_for(&rb, &three), "g", Level::Silver).is_empty());
    assert!(
        risks_for(&rb, &three)
            .iter()
            .all(|r| r.level == Level::Silver),
        "only met levels"
    );
}

#[test]
fn risk_counts_every_option_and_gold_for_silver() {
    let rb = book(GOLD_SILVER);
    // Silver through "two A" (ann, bob) and through Gold (cat): nobody alone breaks Silver,
    // cat alone breaks Gold.
    let s = snap(people(&[("ann", &["A"]), ("bob", &["A"]), ("cat", &["B"])]));
    let risks = risks_for(&rb, &s);
    assert!(critical(&risks, "g", Level::Silver).is_empty());
    assert_eq!(critical(&risks, "g", Level::Gold), ["cat"]);
    // Silver only through Gold: cat is critical for both.
    let s = snap(people(&[("ann", &["A"]), ("cat", &["B"])]));
    let risks = risks_for(&rb, &s);
    assert_eq!(critical(&risks, "g", Level::Silver), ["cat"]);
}

#[test]
fn risk_follows_the_matching_not_the_counted_list() {
    let rb = book(TWO_ROLES);
    let s = snap(people(&[("ann", &["A", "B"]), ("bob", &["A"])]));
    assert_eq!(
        critical(&risks_for(&rb, &s), "m", Level::Silver),
        ["ann", "bob"]
    );
    // With cat holding B, any one of the three can leave: the others re-assign.
    let s = snap(people(&[
        ("ann", &["A", "B"]),
        ("bob", &["A"]),
        ("cat", &["B"]),
    ]));
    assert!(critical(&risks_for(&rb, &s), "m", Level::Silver).is_empty());
}

#[test]
fn risk_agrees_with_re_evaluation() {
    let rb = book(&format!("{TWO_ROLES}{GOLD_SILVER}"));
    let s = snap(people(&[
        ("ann", &["A", "B"]),
        ("bob", &["A"]),
        ("cat", &["B", "C"]),
        ("dan", &["A", "B"]),
    ]));
    let at = t(NOW);
    let eval = evaluate(&rb, &s, at);
    for r in risk(&rb, &s, at, &eval) {
        for p in &s.people {
            let mut without = s.clone();
            without.without_users(&[p.user_id], at);
            let still = evaluate(&rb, &without, at)
                .competency(&r.competency)
                .unwrap()
                .level(r.level)
                .met;
            let listed = r.critical.iter().any(|c| c.0 == p.user_id);
            assert_eq!(
                listed, !still,
                "{} {} {}",
                r.competency, r.level, p.username
            );
        }
    }
}

// --- what-if -----------------------------------------------------------------------------

#[test]
fn without_users_ends_associations_at_the_instant() {
    let rb = book(GOLD_SILVER);
    let mut s = snap(people(&[("ann", &["A"]), ("bob", &["A"])]));
    s.people[1].ended = Some(t("2025-01-01"));
    let mut ended_before = s.clone();
    ended_before.people[0].ended = Some(t("2024-01-01"));
    s.without_users(&[2, 99], t(NOW));
    assert_eq!(s.people[1].ended, Some(t(NOW)));
    assert_eq!(s.people[0].ended, None);
    assert!(
        !evaluate(&rb, &s, t(NOW))
            .competency("g")
            .unwrap()
            .level(Level::Silver)
            .met
    );
    ended_before.without_users(&[1], t(NOW));
    assert_eq!(
        ended_before.people[0].ended,
        Some(t("2024-01-01")),
        "an earlier end stays"
    );
}

#[test]
fn expire_before_is_strict_and_includes_retirement() {
    let rb = book("");
    let mut a = ach("A", "2024-01-01");
    a.expires = Some(d("2024-06-01"));
    let mut s = snap(vec![person(
        1,
        "ann",
        vec![a, ach("R", "2020-01-01"), ach("B", "2024-01-01")],
    )]);
    s.people[0].associated = t("2019-01-01");
    let p = &s.people[0];
    assert!(achievement_counts(
        &rb,
        p,
        &p.achievements[1],
        t("2020-03-01")
    ));

    let mut on_the_day = s.clone();
    expire_before(&mut on_the_day, &rb, d("2024-06-01"));
    assert_eq!(
        on_the_day.people[0].achievements[0].expires,
        Some(d("2024-06-01"))
    );

    let mut day_after = s.clone();
    expire_before(&mut day_after, &rb, d("2024-06-02"));
    let p = &day_after.people[0];
    assert!(!achievement_counts(&rb, p, &p.achievements[0], t(NOW)));
    assert!(
        !achievement_counts(&rb, p, &p.achievements[1], t("2020-03-01")),
        "grace ended 2021-06-30"
    );
    assert!(
        achievement_counts(&rb, p, &p.achievements[2], t(NOW)),
        "never expires"
    );
}

#[test]
fn pending_until_is_the_first_counting_instant_while_the_delay_runs() {
    let rb = book(&one_person("c", "A"));
    let mut p = person(
        1,
        "ann",
        vec![ach("A", "2024-03-01"), ach("V", "2024-02-01")],
    );
    p.associated = t("2024-03-10T09:00:00Z");
    let [a, v] = [&p.achievements[0], &p.achievements[1]];
    // Linked at 09:00: counts 24 hours later, exactly.
    let from = t("2024-03-11T09:00:00Z");
    assert_eq!(pending::counts_from(&rb, &p, a), Some(from));
    assert_eq!(
        pending::pending_until(&rb, &p, a, t("2024-03-10T10:00:00Z")),
        Some(from)
    );
    assert_eq!(
        pending::pending_until(&rb, &p, a, from),
        None,
        "counts then"
    );
    // Expired (valid 10 days) before it would count: never pending.
    assert_eq!(
        pending::pending_until(&rb, &p, v, t("2024-03-10T10:00:00Z")),
        None
    );
    // An association that ends before the delay is over: never counts, never pending.
    p.ended = Some(t("2024-03-11T08:00:00Z"));
    assert_eq!(
        pending::pending_until(&rb, &p, &p.achievements[0], t("2024-03-10T10:00:00Z")),
        None
    );
}

#[test]
fn gaps_name_pending_people_with_their_instant_and_ask_only_for_the_rest() {
    let rb = book(
        "[competencies.c]\nname = \"C\"\n[[competencies.c.silver]]\noption = \"o\"\n\
         people = [{ count = 3, any_of = [[\"A\"]] }]\n",
    );
    let mut ps = people(&[("ann", &["A"]), ("bob", &["A"]), ("cat", &["A"])]);
    ps[1].associated = t("2024-03-10T09:00:00Z");
    ps[2].associated = t("2024-03-10T11:00:00Z");
    let s = snap(ps);
    let at = t("2024-03-10T12:00:00Z");
    let eval = evaluate(&rb, &s, at);
    let g = gaps(&rb, &s, &eval);
    assert_eq!(
        g[0].missing,
        ["2 people with A pending: count from 2024-03-11T11:00:00Z"]
    );
    assert_eq!(g[0].met_from, Some(t("2024-03-11T11:00:00Z")));
    // Half-way: one counts, the other is still pending.
    let at = t("2024-03-11T10:00:00Z");
    let eval = evaluate(&rb, &s, at);
    let g = gaps(&rb, &s, &eval);
    assert_eq!(
        g[0].missing,
        ["1 person with A pending: counts from 2024-03-11T11:00:00Z"]
    );
    // Without Cat, one more person is needed whatever Bob's delay.
    let s2 = snap(s.people[..2].to_vec());
    let eval = evaluate(&rb, &s2, t("2024-03-10T12:00:00Z"));
    let g = gaps(&rb, &s2, &eval);
    assert_eq!(
        g[0].missing,
        [
            "1 more person with A",
            "1 person with A pending: counts from 2024-03-11T09:00:00Z"
        ]
    );
    assert_eq!(g[0].met_from, None);
}
