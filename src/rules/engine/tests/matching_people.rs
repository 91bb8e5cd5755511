//! Matching through the engine: unique individuals filling requirements (against a brute
//! force), the lowest usernames counted, and what each counted person uses.

use super::*;

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
