//! Achievements waiting out the progress delay: when they start counting, and the gaps that
//! name them.

use super::*;

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
