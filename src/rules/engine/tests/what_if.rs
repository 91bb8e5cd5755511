//! The what-if edits: users removed at an instant, achievements expired before a day.

use super::super::whatif::expire_before;

use super::*;

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
