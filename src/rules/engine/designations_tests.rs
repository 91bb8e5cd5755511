//! Scorer tests: every scoring rule of SPEC §9, table-driven, and the window against brute
//! force.
//!
//! Long on purpose: table-driven tests of one scorer sharing one fixture; a split would
//! only copy it.

use super::*;
use crate::rules::points::{exact, zero};
use crate::rules::snapshot::{Achievement, PerformanceRecord, Person};
use crate::rules::window::change_points;
use chrono::TimeDelta;
use proptest::prelude::*;

const BOOK: &str = r#"
[program]
name = "Designation test"
progress_delay_hours = 24
metric_window_days = 365
designation_threshold = 70
qualification_window_months = 6

[[catalog]]
code = "PRE"
title = "Prerequisite"
kind = "certification"

[[catalog]]
code = "INT1"
title = "Intermediate one"
kind = "certification"

[[catalog]]
code = "INT2"
title = "Intermediate two"
kind = "certification"

[[catalog]]
code = "ADV"
title = "Advanced"
kind = "certification"
valid_days = 90

[designations.d]
name = "D"

[[designations.d.tracks]]
track = "enterprise"
metrics = [
  { metric = "net-customer-adds", scope = "x", points_per_unit = 10, max_points = 30 },
  { metric = "usage-growth", scope = "x", full_at = 1000, max_points = 30 },
]
skilling = [
  { name = "intermediate", points_per_person = 6.67, max_points = 20, prerequisites = [ { count = 2, any_of = [["PRE"]] } ], people = { any_of = [["INT1"], ["INT2"]] } },
  { name = "advanced", points_per_person = 2.14, max_points = 20, people = { any_of = [["ADV"]] } },
]

[[designations.d.tracks]]
track = "smb"
metrics = [
  { metric = "net-customer-adds", scope = "x", points_per_unit = 5, max_points = 20 },
  { metric = "deployments", scope = "x", points_per_unit = 10, max_points = 40, required = false },
]
skilling = [
  { name = "intermediate", points_per_person = 20, max_points = 40, people = { any_of = [["INT1"], ["INT2"]] } },
]
"#;

fn rb() -> Rulebook {
    Rulebook::parse(BOOK, "book.toml").unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn person(id: i64, codes: &[&str]) -> Person {
    Person {
        user_id: id,
        username: format!("p{id:02}"),
        msa: format!("p{id}@outlook.com"),
        associated: start_of(day("2024-01-01")),
        ended: None,
        achievements: codes
            .iter()
            .map(|c| Achievement {
                code: (*c).into(),
                earned: day("2024-01-01"),
                expires: None,
                removed: None,
            })
            .collect(),
    }
}

fn rec(metric: Metric, value: f64, date: &str) -> PerformanceRecord {
    PerformanceRecord {
        metric,
        scope: "x".into(),
        value,
        date: day(date),
        track: None,
        association: None,
    }
}

const AT: &str = "2024-03-01T12:00:00Z";

fn at() -> DateTime<Utc> {
    AT.parse().unwrap()
}

/// The track's items as (name, value, points).
fn items(s: &DesignationScore, track: usize) -> Vec<(String, f64, f64)> {
    s.tracks[track]
        .items
        .iter()
        .map(|i| (i.name.clone(), i.value, i.points))
        .collect()
}

fn item(s: &DesignationScore, track: usize, name: &str) -> ItemScore {
    s.tracks[track]
        .items
        .iter()
        .find(|i| i.name == name)
        .unwrap()
        .clone()
}

struct Case {
    name: &'static str,
    people: Vec<Person>,
    records: Vec<PerformanceRecord>,
    check: fn(&DesignationScore),
}

#[test]
fn every_scoring_rule() {
    use Metric::*;
    let cases = vec![
        Case {
            name: "metric points per unit, capped",
            people: vec![],
            records: vec![rec(NetCustomerAdds, 5.0, "2024-02-01")],
            check: |s| assert_eq!(item(s, 0, "net-customer-adds").points, 30.0),
        },
        Case {
            name: "metric points per unit below the cap",
            people: vec![],
            records: vec![rec(NetCustomerAdds, 2.0, "2024-02-01")],
            check: |s| assert_eq!(item(s, 0, "net-customer-adds").points, 20.0),
        },
        Case {
            name: "full_at is proportional and capped",
            people: vec![],
            records: vec![
                rec(UsageGrowth, 250.0, "2024-02-01"),
                rec(Deployments, 9.0, "2024-02-01"),
            ],
            check: |s| {
                assert_eq!(item(s, 0, "usage-growth").points, 7.5);
                assert_eq!(item(s, 1, "deployments").points, 40.0);
            },
        },
        Case {
            name: "a negative value scores 0, never below",
            people: vec![],
            records: vec![rec(NetCustomerAdds, -3.0, "2024-02-01")],
            check: |s| {
                let i = item(s, 0, "net-customer-adds");
                assert_eq!((i.value, i.points), (-3.0, 0.0));
            },
        },
        Case {
            name: "the latest record in the window counts, not the sum",
            people: vec![],
            records: vec![
                rec(NetCustomerAdds, 3.0, "2024-01-01"),
                rec(NetCustomerAdds, 1.0, "2024-02-01"),
                rec(NetCustomerAdds, 9.0, "2024-04-01"),
            ],
            check: |s| assert_eq!(item(s, 0, "net-customer-adds").value, 1.0),
        },
        Case {
            name: "fractional points keep two decimals (3 × 6.67, 3 × 2.14)",
            people: vec![
                person(1, &["PRE", "INT1", "ADV"]),
                person(2, &["PRE", "INT2", "ADV"]),
                person(3, &["INT1", "ADV"]),
            ],
            records: vec![],
            check: |s| {
                assert_eq!(item(s, 0, "intermediate").points, 20.0); // 20.01 capped
                assert_eq!(item(s, 0, "advanced").points, 6.42);
                assert_eq!(s.tracks[0].total, 26.42);
            },
        },
        Case {
            name: "skilling caps at max_points",
            people: (1..=5).map(|i| person(i, &["INT1"])).collect(),
            records: vec![],
            check: |s| {
                let i = item(s, 1, "intermediate");
                assert_eq!((i.value, i.points), (5.0, 40.0));
            },
        },
        Case {
            name: "prerequisites not met: the item scores 0 and says why",
            people: vec![person(1, &["PRE", "INT1"]), person(2, &["INT2"])],
            records: vec![],
            check: |s| {
                let i = item(s, 0, "intermediate");
                assert_eq!((i.value, i.points), (2.0, 0.0));
                assert_eq!(
                    i.unmet_prerequisites,
                    ["2 people with Prerequisite: have 1"]
                );
            },
        },
        Case {
            name: "prerequisites met by the same people who count",
            people: vec![person(1, &["PRE", "INT1"]), person(2, &["PRE", "INT2"])],
            records: vec![],
            check: |s| assert_eq!(item(s, 0, "intermediate").points, 13.34),
        },
        Case {
            name: "prerequisites met by different people",
            people: vec![
                person(1, &["PRE"]),
                person(2, &["PRE"]),
                person(3, &["INT1"]),
            ],
            records: vec![],
            check: |s| {
                let i = item(s, 0, "intermediate");
                assert_eq!(
                    (i.points, i.people.clone()),
                    (6.67, vec!["p03".to_string()])
                );
            },
        },
        Case {
            name: "a person holding several counting certifications counts once",
            people: vec![person(1, &["PRE", "INT1", "INT2"]), person(2, &["PRE"])],
            records: vec![],
            check: |s| {
                let i = item(s, 0, "intermediate");
                assert_eq!((i.value, i.points), (1.0, 6.67));
            },
        },
        Case {
            name: "an expired certification does not count",
            people: vec![Person {
                achievements: vec![Achievement {
                    code: "ADV".into(),
                    earned: day("2023-11-01"),
                    expires: None,
                    removed: None,
                }],
                ..person(1, &[])
            }],
            records: vec![],
            check: |s| assert_eq!(item(s, 0, "advanced").value, 0.0),
        },
        Case {
            name: "a zero required item blocks a high total",
            people: vec![
                person(1, &["PRE", "INT1"]),
                person(2, &["PRE", "INT2"]),
                person(3, &["INT1"]),
            ],
            records: vec![
                rec(NetCustomerAdds, 3.0, "2024-02-01"),
                rec(UsageGrowth, 1000.0, "2024-02-01"),
            ],
            check: |s| {
                // enterprise: 30 + 30 + 20 + 0 = 80, advanced at 0 -> not qualified;
                // smb: 15 + 0 (not required) + 40 = 55.
                assert_eq!(s.tracks[0].total, 80.0);
                assert!(!s.tracks[0].qualified);
                assert!(!s.qualified());
                assert_eq!(s.score(), 80.0);
            },
        },
        Case {
            name: "the best of two tracks counts (a qualifying one first)",
            people: (1..=2).map(|i| person(i, &["INT1"])).collect(),
            records: vec![
                rec(NetCustomerAdds, 4.0, "2024-02-01"),
                rec(Deployments, 1.0, "2024-02-01"),
            ],
            check: |s| {
                // enterprise: 30 + 0 + 0 + 0 = 30; smb: 20 + 10 + 40 = 70, qualified.
                assert_eq!(s.best, 1);
                assert_eq!(s.score(), 70.0);
                assert!(s.qualified());
                assert_eq!(
                    items(s, 1),
                    [
                        ("net-customer-adds".to_string(), 4.0, 20.0),
                        ("deployments".to_string(), 1.0, 10.0),
                        ("intermediate".to_string(), 2.0, 40.0),
                    ]
                );
            },
        },
        Case {
            name: "an item with required = false may be 0",
            people: (1..=3).map(|i| person(i, &["INT1"])).collect(),
            records: vec![rec(NetCustomerAdds, 8.0, "2024-02-01")],
            check: |s| {
                assert_eq!(s.tracks[1].total, 60.0);
                assert!(!s.tracks[1].qualified); // below 70, not because of the 0
            },
        },
    ];
    let rb = rb();
    for case in cases {
        let snap = Snapshot {
            people: case.people,
            performance: case.records,
            ..Snapshot::default()
        };
        let s = score_designation(&rb, &snap, "d", at()).unwrap();
        let result = std::panic::catch_unwind(|| (case.check)(&s));
        assert!(result.is_ok(), "case failed: {}: {s:#?}", case.name);
    }
}

#[test]
fn people_who_count_are_listed_by_user_name() {
    let snap = Snapshot {
        people: vec![person(2, &["INT1"]), person(1, &["INT2"])],
        ..Snapshot::default()
    };
    let s = score_designation(&rb(), &snap, "d", at()).unwrap();
    assert_eq!(item(&s, 1, "intermediate").people, ["p01", "p02"]);
}

#[test]
fn window_starts_on_the_first_of_the_month_five_months_back() {
    let rb = rb();
    let w = window_start(&rb, "2024-03-15T10:00:00Z".parse().unwrap());
    assert_eq!(w, start_of(day("2023-10-01")));
}

// --- the window, against brute force -------------------------------------------------

fn h(hours: i64) -> DateTime<Utc> {
    start_of(day("2024-01-01")) + TimeDelta::minutes(hours * 60 + hours % 11)
}

type ArbAch = (usize, u64, Option<u64>);

fn arb_snapshot() -> impl Strategy<Value = Snapshot> {
    (
        proptest::collection::vec(
            (
                1i64..5,
                0i64..2000,
                proptest::option::of(0i64..3000),
                proptest::collection::vec(
                    (0usize..4, 0u64..120, proptest::option::of(0u64..150)),
                    0..4,
                ),
            ),
            0..6,
        ),
        proptest::collection::vec((0usize..3, -2i32..6, 0u64..120), 0..6),
    )
        .prop_map(|(people, records)| Snapshot {
            people: people
                .into_iter()
                .map(
                    |(id, assoc, len, achs): (i64, i64, Option<i64>, Vec<ArbAch>)| Person {
                        associated: h(assoc),
                        ended: len.map(|l| h(assoc + l)),
                        achievements: achs
                            .into_iter()
                            .map(|(c, e, x)| Achievement {
                                code: ["PRE", "INT1", "INT2", "ADV"][c].into(),
                                earned: day("2024-01-01") + chrono::Days::new(e),
                                expires: x.map(|x| day("2024-01-01") + chrono::Days::new(x)),
                                removed: None,
                            })
                            .collect(),
                        ..person(id, &[])
                    },
                )
                .collect(),
            performance: records
                .into_iter()
                .map(|(m, v, d)| PerformanceRecord {
                    metric: [
                        Metric::NetCustomerAdds,
                        Metric::UsageGrowth,
                        Metric::Deployments,
                    ][m],
                    scope: "x".into(),
                    value: f64::from(v) * if m == 1 { 150.0 } else { 1.0 },
                    date: day("2024-01-01") + chrono::Days::new(d),
                    track: None,
                    association: None,
                })
                .collect(),
            ..Snapshot::default()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// The first qualifying instant found from the gain points equals brute force over every
    /// change point and one second either side of it.
    #[test]
    fn qualified_in_window_equals_brute_force(snap in arb_snapshot(), threshold in 10.0f64..60.0) {
        let mut rb = rb();
        rb.program.designation_threshold = threshold.round();
        let (from, to) = (h(200), h(3500));
        let mut probes: Vec<DateTime<Utc>> = crate::rules::window::change_points(&rb, &snap, from, to)
            .into_iter()
            .flat_map(|c| [c - TimeDelta::seconds(1), c, c + TimeDelta::seconds(1)])
            .filter(|t| *t >= from && *t <= to)
            .collect();
        probes.sort_unstable();
        probes.dedup();
        let brute = probes
            .into_iter()
            .find(|&t| score_designation(&rb, &snap, "d", t).unwrap().qualified());
        prop_assert_eq!(qualified_in_window(&rb, &snap, "d", from, to), brute);
        prop_assert_eq!(qualified_in_window_by_scoring(&rb, &snap, "d", from, to), brute);
        // One sweep for several designations gives each its own answer: "e" is "d" with
        // only its last track (other specs, other instants).
        let mut e = rb.designations["d"].clone();
        if e.tracks.len() > 1 {
            e.tracks.remove(0);
        }
        rb.designations.insert("e".into(), e);
        let brute_e = qualified_in_window_by_scoring(&rb, &snap, "e", from, to);
        prop_assert_eq!(
            qualified_in_window_many(&rb, &snap, &["e", "nope", "d"], from, to),
            vec![brute_e, None, brute]
        );
    }
}

#[test]
fn window_sweep_sees_an_expiry_before_the_figures_arrive() {
    let rb = rb();
    let mut a = person(1, &["INT1"]);
    a.achievements[0].expires = Some(day("2024-02-01"));
    let b = person(2, &["INT2"]);
    let mut snap = Snapshot {
        people: vec![a, b],
        performance: vec![
            rec(Metric::NetCustomerAdds, 4.0, "2024-03-01"),
            rec(Metric::Deployments, 1.0, "2024-03-01"),
        ],
        ..Snapshot::default()
    };
    let (from, to) = (start_of(day("2024-01-01")), start_of(day("2024-06-01")));
    // smb: 20 + 10 + one person (20) = 50 from March: never 70.
    assert_eq!(qualified_in_window(&rb, &snap, "d", from, to), None);
    assert_eq!(
        qualified_in_window_by_scoring(&rb, &snap, "d", from, to),
        None
    );
    // Without the expiry both count from 2024-01-02 and it qualifies when the figures land.
    snap.people[0].achievements[0].expires = None;
    let first = Some(start_of(day("2024-03-01")));
    assert_eq!(qualified_in_window(&rb, &snap, "d", from, to), first);
    assert_eq!(
        qualified_in_window_by_scoring(&rb, &snap, "d", from, to),
        first
    );
}

/// `best`: the higher total counts even when a required item of it is at 0 (PROGRAM-FACTS
/// §2: "the higher total … is used"). Here the enterprise track leads (36.64 against 35)
/// with its intermediate item at 0 (no prerequisite holder), so `d` does not qualify
/// although its SMB track would; when the advanced certification lapses (90 days) the SMB
/// track leads and `d` qualifies: qualification can begin at a loss (found by proptest).
#[test]
fn a_lapse_on_the_leading_track_can_hand_the_count_to_a_qualifying_one() {
    let mut rb = rb();
    rb.program.designation_threshold = 10.0;
    let snap = Snapshot {
        people: vec![person(1, &["INT1", "ADV"])],
        performance: vec![
            rec(Metric::UsageGrowth, 150.0, "2024-01-01"),
            rec(Metric::NetCustomerAdds, 3.0, "2024-01-01"),
        ],
        ..Snapshot::default()
    };
    let before =
        score_designation(&rb, &snap, "d", "2024-03-30T23:59:59Z".parse().unwrap()).unwrap();
    assert_eq!(
        (before.tracks[0].total, before.tracks[1].total),
        (36.64, 35.0)
    );
    assert!(!before.qualified());
    let lapse = start_of(day("2024-03-31"));
    assert!(
        score_designation(&rb, &snap, "d", lapse)
            .unwrap()
            .qualified()
    );
    let (from, to) = (h(200), h(3500));
    assert_eq!(qualified_in_window(&rb, &snap, "d", from, to), Some(lapse));
    assert_eq!(
        qualified_in_window_by_scoring(&rb, &snap, "d", from, to),
        Some(lapse)
    );
}

/// [`qualified_in_window`] by scoring from scratch at the window's start and at each instant
/// an input changes ([`change_points`]): the slow reference the sweep is tested against
/// (test-only). Not only where something starts counting: each item's points are monotone,
/// but with `track_choice = "best"` the designation is not. A track whose total rises above
/// the other's counts even when a required item of it is at 0, and a certification that
/// lapses on it can hand the count back to a track that qualifies. (Proptest found it: one
/// person's advanced certification expiring made `d` qualify on its SMB track.)
fn qualified_in_window_by_scoring(
    rb: &Rulebook,
    snap: &Snapshot,
    id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let d = rb.designations.get(id)?;
    if to < from {
        return None;
    }
    change_points(rb, snap, from, to).into_iter().find(|&at| {
        could_qualify(rb, snap, d, at) && {
            let holdings = Holdings::new(rb, snap, at);
            score_one(rb, snap, &holdings, id, d, at, false).qualified()
        }
    })
}

/// Whether some track could qualify at `at` if every skilling item scored its maximum.
fn could_qualify(rb: &Rulebook, snap: &Snapshot, d: &Designation, at: DateTime<Utc>) -> bool {
    d.all_tracks().iter().any(|t| {
        let mut total = zero();
        for m in t.metrics {
            let p = m.points_exact(&item_values(rb, snap, m, None, at));
            if m.required && p <= zero() {
                return false;
            }
            total += p;
        }
        for s in t.skilling {
            total += exact(s.max_points);
        }
        total >= exact(rb.program.designation_threshold)
    })
}
