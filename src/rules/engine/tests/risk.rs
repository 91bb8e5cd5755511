//! Risk: the people without whom a level breaks, following the matching, agreeing with a
//! re-evaluation without them.

use super::*;

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
