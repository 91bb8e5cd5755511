//! Gaps: what fills the slot the best assignment leaves, through the closest option (against
//! a brute force), never a retired exam.

use std::cmp::Ordering;

use super::super::evaluate::closer;

use super::*;

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
