//! [`super::designations_reliance`] (one pass) against the brute force: re-scoring the
//! designation without that person, or without that person's records of that code.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use proptest::prelude::*;

use super::designations::score;
use super::designations_reliance::reliance;
use super::snapshot::{Achievement, PerformanceRecord, Person, Snapshot};
use super::start_of;
use crate::rules::parse::{Association, Metric, Rulebook};

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

[designations.sec]
name = "Security-like"

[[designations.sec.tracks]]
track = "enterprise"
metrics = [
  { metric = "deployments", scope = "x", max_points = 20, full_at = 6 },
  { metric = "net-customer-adds", scope = "x", max_points = 30, full_at = 3 },
]
skilling = [
  { name = "intermediate", max_points = 40, full_at = 6, prerequisites = [ { count = 2, any_of = [["G1"]] }, { count = 2, any_of = [["G2"]] } ], people = { any_of = [["A"], ["G1", "G2"]] } },
]

[[designations.sec.tracks]]
track = "smb"
metrics = [
  { metric = "usage-growth", scope = "x", max_points = 30, full_at = 500 },
]
skilling = [
  { name = "intermediate", max_points = 40, points_per_person = 8, prerequisites = [ { count = 1, any_of = [["G1"]], points = 4 }, { count = 1, any_of = [["G2"]], points = 4 } ], people = { any_of = [["A"]] } },
]
"#;

const CODES: [&str; 3] = ["G1", "G2", "A"];

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn at() -> DateTime<Utc> {
    "2026-03-01T12:00:00Z".parse().unwrap()
}

fn snapshot(holdings: &[u8]) -> Snapshot {
    let rec = |metric, value| PerformanceRecord {
        metric,
        scope: "x".into(),
        value,
        date: day("2026-02-20"),
        track: None,
        association: None::<Association>,
    };
    Snapshot {
        people: holdings
            .iter()
            .enumerate()
            .map(|(i, h)| Person {
                user_id: i as i64 + 1,
                username: format!("p{i:02}"),
                msa: format!("p{i}@outlook.com"),
                associated: start_of(day("2025-01-01")),
                ended: None,
                achievements: CODES
                    .iter()
                    .enumerate()
                    .filter(|(c, _)| h >> c & 1 == 1)
                    .map(|(_, c)| Achievement {
                        code: (*c).into(),
                        earned: day("2025-01-01"),
                        expires: None,
                        removed: None,
                    })
                    .collect(),
            })
            .collect(),
        performance: vec![
            rec(Metric::Deployments, 6.0),
            rec(Metric::NetCustomerAdds, 3.0),
            rec(Metric::UsageGrowth, 500.0),
        ],
        ..Snapshot::default()
    }
}

fn qualifies(rb: &Rulebook, snap: &Snapshot) -> bool {
    score(rb, snap, at())[0].qualified()
}

proptest! {
    #[test]
    fn one_pass_reliance_is_the_brute_force_what_if(
        holdings in prop::collection::vec(0u8..8, 0..8),
    ) {
        let rb = Rulebook::parse(BOOK, "book.toml").unwrap();
        let snap = snapshot(&holdings);
        let r = reliance(&rb, &snap, at());
        let fast_people: BTreeSet<i64> = r.critical.iter().flat_map(|c| c.2.clone()).collect();
        let fast_codes: BTreeSet<(i64, String)> = r.relied_on.keys().cloned().collect();
        let (mut people, mut codes) = (BTreeSet::new(), BTreeSet::new());
        if qualifies(&rb, &snap) {
            for (i, h) in holdings.iter().enumerate() {
                let mut gone = snap.clone();
                gone.people[i].ended = Some(at() - TimeDelta::hours(1));
                if !qualifies(&rb, &gone) {
                    people.insert(i as i64 + 1);
                }
                for (c, code) in CODES.iter().enumerate().filter(|(c, _)| h >> c & 1 == 1) {
                    let _ = c;
                    let mut lost = snap.clone();
                    lost.people[i].achievements.retain(|a| *a.code != **code);
                    if !qualifies(&rb, &lost) {
                        codes.insert((i as i64 + 1, (*code).to_owned()));
                    }
                }
            }
        } else {
            prop_assert!(r.critical.is_empty());
        }
        prop_assert_eq!(fast_people, people);
        prop_assert_eq!(fast_codes, codes);
    }
}
