//! Window tests: change points and first attainment against evaluating at every instant.

use super::*;
use crate::rules::rulebook::Metric;
use crate::rules::snapshot::{Achievement, PerformanceRecord, Person};
use chrono::NaiveDate;
use proptest::prelude::*;

const BOOK: &str = r#"
[program]
name = "Window test"
progress_delay_hours = 24
metric_window_days = 20
retired_grace_months = 1

[[catalog]]
code = "A"
title = "A"
kind = "exam"

[[catalog]]
code = "B"
title = "B"
kind = "exam"
valid_days = 9

[[catalog]]
code = "R"
title = "R"
kind = "exam"
retired = 2024-01-20

[competencies.one]
name = "One"
[[competencies.one.silver]]
option = "o"
people = [{ count = 1, any_of = [["A"], ["R"]] }]
[[competencies.one.gold]]
option = "o"
people = [{ count = 2, any_of = [["A"], ["B"]] }, { count = 1, all_of = ["R"] }]
metrics = [{ metric = "revenue", at_least = 10 }]

[competencies.two]
name = "Two"
[[competencies.two.silver]]
option = "o"
people = [{ count = 1, all_of = ["B"] }]
metrics = [{ metric = "active-usage", at_least = 5, window_days = 7 }]
"#;

fn base() -> DateTime<Utc> {
    start_of(NaiveDate::from_ymd_opt(2024, 1, 1).unwrap())
}

/// Hours from 2024-01-01, as an instant (a few odd minutes so not everything is at
/// midnight).
fn h(hours: i64) -> DateTime<Utc> {
    base() + TimeDelta::minutes(hours * 60 + hours % 7)
}

fn day(d: u64) -> NaiveDate {
    base().date_naive() + Days::new(d)
}

/// (user id, associated hour, association length, achievements as (code index, earned
/// day, expiry day, removal hour)).
type ArbPerson = (
    i64,
    i64,
    Option<i64>,
    Vec<(usize, u64, Option<u64>, Option<i64>)>,
);

fn arb_person() -> impl Strategy<Value = ArbPerson> {
    (
        1i64..4,
        0i64..900,
        proptest::option::of(0i64..1400),
        proptest::collection::vec(
            (
                0usize..4,
                0u64..50,
                proptest::option::of(0u64..60),
                proptest::option::of(0i64..1400),
            ),
            0..4,
        ),
    )
}

fn arb_snapshot() -> impl Strategy<Value = Snapshot> {
    (
        proptest::collection::vec(arb_person(), 0..5),
        proptest::collection::vec((any::<bool>(), 0u64..50, 0u32..15), 0..5),
    )
        .prop_map(|(people, records)| Snapshot {
            people: people
                .into_iter()
                .map(|(user, assoc, len, achs)| Person {
                    user_id: user,
                    username: format!("u{user}"),
                    msa: format!("m{user}"),
                    associated: h(assoc),
                    ended: len.map(|l| h(assoc + l)),
                    achievements: achs
                        .into_iter()
                        .map(|(code, earned, expires, removed)| Achievement {
                            code: ["A", "B", "R", "X"][code].into(),
                            earned: day(earned),
                            expires: expires.map(day),
                            removed: removed.map(h),
                        })
                        .collect(),
                })
                .collect(),
            performance: records
                .into_iter()
                .map(|(rev, d, v)| PerformanceRecord {
                    metric: if rev {
                        Metric::Revenue
                    } else {
                        Metric::ActiveUsage
                    },
                    scope: String::new(),
                    value: f64::from(v),
                    date: day(d),
                    track: None,
                    association: None,
                })
                .collect(),
            ..Snapshot::default()
        })
}

/// What an evaluation decides, without the instant it was made at.
fn verdict(rb: &Rulebook, snap: &Snapshot, at: DateTime<Utc>) -> Vec<(bool, bool, Vec<u64>)> {
    evaluate(rb, snap, at)
        .competencies
        .iter()
        .map(|c| {
            let haves = c
                .levels
                .iter()
                .flat_map(|l| &l.options)
                .flat_map(|o| &o.requirements)
                .map(|r| r.have.to_bits())
                .collect();
            (c.level(Level::Silver).met, c.level(Level::Gold).met, haves)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Between two change points nothing changes: the evaluation one second after a
    /// change point and one second before the next equal the one at the change point.
    #[test]
    fn evaluations_are_constant_between_change_points(snap in arb_snapshot()) {
        let rb: Rulebook = toml::from_str(BOOK).unwrap();
        let (from, to) = (h(100), h(1500));
        let cps = change_points(&rb, &snap, from, to);
        for (i, &cp) in cps.iter().enumerate() {
            let here = verdict(&rb, &snap, cp);
            let next = cps.get(i + 1).copied().unwrap_or(to + TimeDelta::seconds(1));
            for probe in [cp + TimeDelta::seconds(1), next - TimeDelta::seconds(1)] {
                if probe > cp && probe < next && probe <= to {
                    prop_assert_eq!(&verdict(&rb, &snap, probe), &here, "at {} vs {}", probe, cp);
                }
            }
        }
    }

    /// `attained` (gain points only, competencies dropped once decided) equals brute
    /// force over every change point and one second either side of it.
    #[test]
    fn attained_equals_brute_force(snap in arb_snapshot(), gold in any::<bool>()) {
        let rb: Rulebook = toml::from_str(BOOK).unwrap();
        let up_to = if gold { Level::Gold } else { Level::Silver };
        let (from, to) = (h(100), h(1500));
        let mut probes: Vec<DateTime<Utc>> = change_points(&rb, &snap, from, to)
            .into_iter()
            .flat_map(|c| [c - TimeDelta::seconds(1), c, c + TimeDelta::seconds(1)])
            .filter(|t| *t >= from && *t <= to)
            .collect();
        probes.sort_unstable();
        probes.dedup();
        let mut brute: BTreeMap<String, Attained> = BTreeMap::new();
        for &at in &probes {
            for ce in evaluate(&rb, &snap, at).competencies {
                if let Some(level) = Level::ALL.into_iter().rev().find(|l| *l <= up_to && ce.level(*l).met) {
                    if brute.get(&ce.id).is_none_or(|a| a.level < level) {
                        brute.insert(ce.id.clone(), Attained { level, at });
                    }
                }
            }
        }
        prop_assert_eq!(attained(&rb, &snap, from, to, up_to), brute);
    }
}
