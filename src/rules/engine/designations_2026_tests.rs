//! Scorer tests of the 2026 program's rules (SPEC §9): exact points, gates that score, the
//! "points in every required metric" rule, classified tracks, inputs per track and
//! association (best of, capped sum), and certifications eligible by date.

use super::*;
use crate::rules::points::{Exact, int};
use crate::rules::snapshot::{Achievement, Classification, PerformanceRecord, Person};
use chrono::TimeDelta;

const BOOK: &str = r#"
[program]
name = "2026"
progress_delay_hours = 24
designation_threshold = 70

[[catalog]]
code = "G1"
title = "Gate one"
kind = "certification"

[[catalog]]
code = "G2"
title = "Gate two"
kind = "certification"

[[catalog]]
code = "A"
title = "Step three"
kind = "certification"

[[catalog]]
code = "OLD"
title = "Retiring"
kind = "certification"

[designations.sec]
name = "Security-like"
inputs_by_track = true
eligibility = [ { code = "OLD", until = 2026-05-31 } ]

[[designations.sec.tracks]]
track = "enterprise"
metrics = [
  { metric = "deployments", scope = "x", max_points = 20, full_at = 6 },
  { metric = "net-customer-adds", scope = "x", max_points = 30, full_at = 3 },
  { metric = "usage-growth", scope = "x", max_points = 20, sum_of = [ { full_at = 25000 }, { metric = "protected-users-growth", full_at = 2500 } ], required = false },
]
skilling = [
  { name = "intermediate", max_points = 40, full_at = 6, prerequisites = [ { count = 2, any_of = [["G1"]] }, { count = 2, any_of = [["G2"]] } ], people = { any_of = [["A"], ["OLD"]] } },
]

[[designations.sec.tracks]]
track = "smb"
metrics = [
  { metric = "usage-growth", scope = "x", max_points = 30, best_of = [ { association = "cpor", full_at = 500 }, { association = "csp", full_at = 2000 } ] },
]
skilling = [
  { name = "intermediate", max_points = 40, points_per_person = 8, prerequisites = [ { count = 1, any_of = [["G1"]], points = 4 }, { count = 1, any_of = [["G2"]], points = 4 } ], people = { any_of = [["A"]] } },
]

[designations.ba]
name = "Classified"
track_choice = "classified"

[[designations.ba.tracks]]
track = "enterprise"
metrics = [ { metric = "net-customer-adds", scope = "b", max_points = 70, full_at = 10 } ]

[[designations.ba.tracks]]
track = "smb"
metrics = [ { metric = "net-customer-adds", scope = "b", max_points = 70, full_at = 5 } ]
"#;

fn rb() -> Rulebook {
    Rulebook::parse(BOOK, "book.toml").unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn at() -> DateTime<Utc> {
    "2026-03-01T12:00:00Z".parse().unwrap()
}

fn person(id: i64, codes: &[&str]) -> Person {
    Person {
        user_id: id,
        username: format!("p{id:02}"),
        msa: format!("p{id}@outlook.com"),
        associated: start_of(day("2025-01-01")),
        ended: None,
        achievements: codes
            .iter()
            .map(|c| Achievement {
                code: (*c).into(),
                earned: day("2025-01-01"),
                expires: None,
                removed: None,
            })
            .collect(),
    }
}

fn rec(
    metric: Metric,
    scope: &str,
    track: Option<&str>,
    association: Option<Association>,
    value: f64,
) -> PerformanceRecord {
    PerformanceRecord {
        metric,
        scope: scope.into(),
        value,
        date: day("2026-02-20"),
        track: track.map(str::to_owned),
        association,
    }
}

fn snap(people: Vec<Person>, performance: Vec<PerformanceRecord>) -> Snapshot {
    Snapshot {
        people,
        performance,
        ..Snapshot::default()
    }
}

fn item<'a>(s: &'a DesignationScore, track: &str, name: &str) -> &'a ItemScore {
    s.tracks
        .iter()
        .find(|t| t.track == track)
        .unwrap()
        .items
        .iter()
        .find(|i| i.name == name)
        .unwrap()
}

fn gated_people() -> Vec<Person> {
    vec![
        person(1, &["G1", "G2", "A"]),
        person(2, &["G1", "G2", "A"]),
        person(3, &["A"]),
    ]
}

#[test]
fn a_true_70_from_20_over_6_and_20_over_3_qualifies() {
    let s = score_designation(
        &rb(),
        &snap(
            gated_people(),
            vec![
                rec(Metric::Deployments, "x", Some("enterprise"), None, 6.0),
                rec(Metric::NetCustomerAdds, "x", Some("enterprise"), None, 3.0),
            ],
        ),
        "sec",
        at(),
    )
    .unwrap();
    let ent = &s.tracks[0];
    assert_eq!(item(&s, "enterprise", "deployments").exact, int(20));
    assert_eq!(
        item(&s, "enterprise", "intermediate").exact,
        int(20),
        "3 × 20/3"
    );
    assert_eq!(ent.exact_total, int(70));
    assert_eq!(ent.total, 70.0);
    assert!(ent.qualified, "{ent:#?}");
    assert!(s.qualified());
}

#[test]
fn fractions_display_half_up_and_sum_exactly() {
    let s = score_designation(
        &rb(),
        &snap(
            gated_people()[..2].to_vec(),
            vec![rec(Metric::Deployments, "x", Some("enterprise"), None, 1.0)],
        ),
        "sec",
        at(),
    )
    .unwrap();
    let i = item(&s, "enterprise", "intermediate");
    assert_eq!((i.points, i.exact), (13.33, Exact::new(40, 3)));
    assert_eq!(item(&s, "enterprise", "deployments").points, 3.33);
    // 40/3 + 10/3 = 50/3 = 16.67, not 13.33 + 3.33 = 16.66.
    assert_eq!(s.tracks[0].total, 16.67);
}

#[test]
fn smb_gates_score_on_their_own_and_gate_the_people() {
    let rb = rb();
    let score = |people: Vec<Person>| {
        let s = score_designation(&rb, &snap(people, vec![]), "sec", at()).unwrap();
        item(&s, "smb", "intermediate").clone()
    };
    // Step 1 only: 4 points, the step-3 people give nothing yet.
    let i = score(vec![person(1, &["G1", "A"]), person(2, &["A"])]);
    assert_eq!(i.exact, int(4));
    assert_eq!(i.unmet_prerequisites, ["1 person with Gate two: have 0"]);
    assert_eq!((i.gates[0].have, i.gates[0].points), (1, 4.0));
    // Both steps: 4 + 4 + 2 × 8.
    let i = score(vec![person(1, &["G1", "G2", "A"]), person(2, &["A"])]);
    assert_eq!(i.exact, int(24));
    // Capped at 40 however many.
    let many: Vec<Person> = (1..=6).map(|k| person(k, &["G1", "G2", "A"])).collect();
    assert_eq!(score(many).exact, int(40));
    // Enterprise gates earn nothing and need two people each.
    let s = score_designation(
        &rb,
        &snap(vec![person(1, &["G1", "G2", "A"])], vec![]),
        "sec",
        at(),
    )
    .unwrap();
    assert_eq!(item(&s, "enterprise", "intermediate").exact, int(0));
}

#[test]
fn a_fraction_of_a_point_passes_above_zero_and_fails_at_least_one() {
    // Modern Work-like usage growth: 5 users of 500 for 30 points = 0.3 points.
    let text = BOOK.replace("designation_threshold = 70", "designation_threshold = 0.3");
    let people = vec![person(1, &["G1", "G2", "A"])];
    let records = vec![rec(
        Metric::UsageGrowth,
        "x",
        Some("smb"),
        Some(Association::Cpor),
        5.0,
    )];
    let rb = Rulebook::parse(&text, "b.toml").unwrap();
    let s = score_designation(&rb, &snap(people.clone(), records.clone()), "sec", at()).unwrap();
    assert_eq!(item(&s, "smb", "usage-growth").exact, Exact::new(3, 10));
    assert!(s.tracks[1].qualified, "0.3 > 0");
    let text = text.replace(
        "designation_threshold = 0.3",
        "designation_threshold = 0.3\nrequired_item_points = \"at-least-one\"",
    );
    let rb = Rulebook::parse(&text, "b.toml").unwrap();
    let s = score_designation(&rb, &snap(people, records), "sec", at()).unwrap();
    assert!(!s.tracks[1].qualified, "0.3 < 1");
}

#[test]
fn best_of_options_and_capped_sums() {
    let rb = rb();
    let s = score_designation(
        &rb,
        &snap(
            vec![],
            vec![
                // smb: CPOR 100 of 500 = 6, CSP 1,000 of 2,000 = 15: the CSP option counts.
                rec(
                    Metric::UsageGrowth,
                    "x",
                    Some("smb"),
                    Some(Association::Cpor),
                    100.0,
                ),
                rec(
                    Metric::UsageGrowth,
                    "x",
                    Some("smb"),
                    Some(Association::Csp),
                    1000.0,
                ),
                // enterprise: USD 12,500 / 1,250 = 10 plus 1,250 users / 125 = 10 → 20; more
                // users stay capped at 20.
                rec(Metric::UsageGrowth, "x", Some("enterprise"), None, 12500.0),
                rec(
                    Metric::ProtectedUsersGrowth,
                    "x",
                    Some("enterprise"),
                    None,
                    1250.0,
                ),
                // A record without a track is for no track of a designation split by track.
                rec(Metric::Deployments, "x", None, None, 6.0),
            ],
        ),
        "sec",
        at(),
    )
    .unwrap();
    let ug = item(&s, "smb", "usage-growth");
    assert_eq!((ug.exact, ug.value), (int(15), 1000.0));
    assert_eq!(ug.inputs.len(), 2);
    assert_eq!(item(&s, "enterprise", "usage-growth").exact, int(20));
    assert_eq!(item(&s, "enterprise", "deployments").exact, int(0));
}

#[test]
fn a_classified_designation_counts_its_track_and_both_must_qualify_when_unset() {
    let rb = rb();
    // 5 adds: enterprise 35, smb 70.
    let mut sn = snap(
        vec![],
        vec![rec(Metric::NetCustomerAdds, "b", None, None, 5.0)],
    );
    let s = score_designation(&rb, &sn, "ba", at()).unwrap();
    assert!(!s.track_set());
    assert!(
        !s.qualified(),
        "not set: smb qualifies, enterprise does not"
    );
    assert_eq!(s.score(), 35.0, "the track that decides is the lower");
    sn.classifications.push(Classification {
        designation: "ba".into(),
        track: "smb".into(),
        since: start_of(day("2026-01-01")),
    });
    let s = score_designation(&rb, &sn, "ba", at()).unwrap();
    assert_eq!(
        (s.classified.as_deref(), s.qualified()),
        (Some("smb"), true)
    );
    sn.classifications.push(Classification {
        designation: "ba".into(),
        track: "enterprise".into(),
        since: start_of(day("2026-02-01")),
    });
    let s = score_designation(&rb, &sn, "ba", at()).unwrap();
    assert_eq!((s.score(), s.qualified()), (35.0, false));
    // The window: qualified while classified smb (January), from the record's day on.
    sn.performance[0].date = day("2025-12-01");
    let (from, to) = (start_of(day("2025-12-01")), at());
    assert_eq!(
        qualified_in_window(&rb, &sn, "ba", from, to),
        Some(start_of(day("2026-01-01")))
    );
    // Classified enterprise from before the window: never.
    sn.classifications[0].track = "enterprise".into();
    assert_eq!(qualified_in_window(&rb, &sn, "ba", from, to), None);
}

#[test]
fn a_certification_counts_only_while_eligible_for_the_designation() {
    let rb = rb();
    let people: Vec<Person> = (1..=2)
        .map(|k| person(k, &["G1", "G2"]))
        .chain([person(3, &["OLD"])])
        .collect();
    let sn = snap(people, vec![]);
    let before =
        score_designation(&rb, &sn, "sec", "2026-05-31T23:00:00Z".parse().unwrap()).unwrap();
    assert_eq!(item(&before, "enterprise", "intermediate").value, 1.0);
    let after =
        score_designation(&rb, &sn, "sec", "2026-06-01T00:00:00Z".parse().unwrap()).unwrap();
    assert_eq!(item(&after, "enterprise", "intermediate").value, 0.0);
    // The sweep sees the end of eligibility as a change point: with the OLD holder the
    // 3 deployments + 30 adds + 20/3 ... never reach 70, so check the instant directly.
    let t = start_of(day("2026-06-01"));
    let just_before = t - TimeDelta::seconds(1);
    assert!(rb.designations["sec"].eligible_on("OLD", just_before.date_naive()));
    assert!(!rb.designations["sec"].eligible_on("OLD", t.date_naive()));
}

mod window_with_classifications {
    use super::*;
    use proptest::prelude::*;

    fn h(hours: i64) -> DateTime<Utc> {
        start_of(day("2026-01-01")) + TimeDelta::hours(hours)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// The sweep's first qualifying instant of a classified designation equals brute
        /// force over every instant where a classification or a record changes, with
        /// classifications changing inside the window.
        #[test]
        fn the_window_follows_the_classification_in_force(
            classes in proptest::collection::vec((0i64..3000, any::<bool>()), 0..4),
            records in proptest::collection::vec((0u64..120, -2i32..12), 0..4),
        ) {
            let rb = rb();
            let snap = Snapshot {
                performance: records
                    .iter()
                    .map(|&(d, v)| PerformanceRecord {
                        metric: Metric::NetCustomerAdds,
                        scope: "b".into(),
                        value: f64::from(v),
                        date: day("2026-01-01") + chrono::Days::new(d),
                        track: None,
                        association: None,
                    })
                    .collect(),
                classifications: classes
                    .iter()
                    .map(|&(t, smb)| Classification {
                        designation: "ba".into(),
                        track: if smb { "smb" } else { "enterprise" }.into(),
                        since: h(t),
                    })
                    .collect(),
                ..Snapshot::default()
            };
            let (from, to) = (h(100), h(2900));
            let mut probes: Vec<DateTime<Utc>> = vec![from, to];
            for c in &snap.classifications {
                probes.push(c.since);
            }
            for r in &snap.performance {
                probes.push(start_of(r.date));
                probes.push(start_of(r.date + chrono::Days::new(365)));
            }
            let mut all: Vec<DateTime<Utc>> = probes
                .iter()
                .flat_map(|&t| [t - TimeDelta::seconds(1), t, t + TimeDelta::seconds(1)])
                .filter(|t| *t >= from && *t <= to)
                .collect();
            all.sort_unstable();
            all.dedup();
            let brute = all
                .into_iter()
                .find(|&t| score_designation(&rb, &snap, "ba", t).unwrap().qualified());
            prop_assert_eq!(qualified_in_window(&rb, &snap, "ba", from, to), brute);
        }
    }

    #[test]
    fn a_term_keeps_the_smb_track_seen_in_its_window() {
        let rb = rb();
        let mut snap = Snapshot {
            classifications: vec![
                Classification {
                    designation: "ba".into(),
                    track: "smb".into(),
                    since: h(0),
                },
                Classification {
                    designation: "ba".into(),
                    track: "enterprise".into(),
                    since: h(500),
                },
                Classification {
                    designation: "ba".into(),
                    track: "smb".into(),
                    since: h(9000),
                },
            ],
            ..Snapshot::default()
        };
        // Enrolled at 1000 (Enterprise then, SMB earlier in the window), term to 8000.
        fix_term_track(&rb, &mut snap, "ba", h(1000), h(8000));
        assert_eq!(snap.classification("ba", h(1000)), Some("smb"));
        assert_eq!(snap.classification("ba", h(7999)), Some("smb"));
        assert_eq!(snap.classification("ba", h(8000)), Some("enterprise"));
        assert_eq!(snap.classification("ba", h(9000)), Some("smb"));
    }
}

/// "Retires 31 Mar 2026, eligible for PCS points through 31 Mar 2027" (PROGRAM-FACTS-2026
/// §4.3): a pass on the retirement day counts through the stated day, not a day less; a pass
/// after it never counts.
#[test]
fn the_embedded_rulebook_counts_a_retiring_certification_through_the_stated_day() {
    let rb = Rulebook::parse(
        crate::rules::parse::SOLUTIONS_PARTNER_RULEBOOK,
        "solutions-partner",
    )
    .unwrap();
    let holder = |earned: &str| Person {
        associated: start_of(day("2026-01-01")),
        achievements: vec![Achievement {
            code: "MS-900".into(),
            earned: day(earned),
            expires: None,
            removed: None,
        }],
        ..person(1, &[])
    };
    let intermediate = |earned: &str, at: &str| {
        let s = score_designation(
            &rb,
            &snap(vec![holder(earned)], vec![]),
            "modern-work",
            at.parse().unwrap(),
        )
        .unwrap();
        item(&s, "smb", "intermediate").value
    };
    assert_eq!(intermediate("2026-03-31", "2027-03-31T23:00:00Z"), 1.0);
    assert_eq!(intermediate("2026-03-31", "2027-04-01T00:00:00Z"), 0.0);
    assert_eq!(intermediate("2026-04-01", "2026-06-01T00:00:00Z"), 0.0);
}
