//! Levels: Gold counts as Silver, and a level met on its own.

use super::*;

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
