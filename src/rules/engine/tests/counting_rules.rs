//! Every counting rule of SPEC §5 at its boundaries: when an achievement starts and stops
//! counting, and the earliest stop.

use super::*;

#[test]
fn counting_rules_at_their_boundaries() {
    let rb = book(
        &["A", "V", "R", "Z"]
            .iter()
            .map(|c| one_person(&format!("c-{}", c.to_lowercase()), c))
            .collect::<String>(),
    );
    let base = |code: &str, earned: &str| {
        let mut p = person(1, "ann", vec![ach(code, earned)]);
        p.associated = t("2019-01-01");
        p
    };
    let with_ach = |code: &str, earned: &str, f: &dyn Fn(&mut Achievement)| {
        let mut p = base(code, earned);
        f(&mut p.achievements[0]);
        p
    };
    let with_person = |f: &dyn Fn(&mut Person)| {
        let mut p = base("A", "2024-01-01");
        f(&mut p);
        p
    };
    let cases: Vec<(&str, Person, &str, bool)> = vec![
        (
            "exactly 24 h after earning counts",
            base("A", "2024-01-01"),
            "2024-01-02T00:00:00Z",
            true,
        ),
        (
            "23:59:59 after earning does not",
            base("A", "2024-01-01"),
            "2024-01-01T23:59:59Z",
            false,
        ),
        (
            "association after earning: 24 h from the association",
            with_person(&|p| p.associated = t("2024-03-01T10:00:00Z")),
            "2024-03-02T10:00:00Z",
            true,
        ),
        (
            "association after earning: a second early",
            with_person(&|p| p.associated = t("2024-03-01T10:00:00Z")),
            "2024-03-02T09:59:59Z",
            false,
        ),
        (
            "association before earning: 24 h from the earned day's midnight",
            with_person(&|p| p.associated = t("2023-12-31T23:00:00Z")),
            "2024-01-02T00:00:00Z",
            true,
        ),
        (
            "association not started yet",
            with_person(&|p| p.associated = t("2024-06-01")),
            "2024-05-01",
            false,
        ),
        (
            "ended association: not at its end",
            with_person(&|p| p.ended = Some(t("2024-05-01T08:00:00Z"))),
            "2024-05-01T08:00:00Z",
            false,
        ),
        (
            "ended association: a second before its end",
            with_person(&|p| p.ended = Some(t("2024-05-01T08:00:00Z"))),
            "2024-05-01T07:59:59Z",
            true,
        ),
        (
            "record expiry: the eve's last second counts",
            with_ach("A", "2024-01-01", &|a| a.expires = Some(d("2024-06-01"))),
            "2024-05-31T23:59:59Z",
            true,
        ),
        (
            "record expiry: not from midnight of the day",
            with_ach("A", "2024-01-01", &|a| a.expires = Some(d("2024-06-01"))),
            "2024-06-01T00:00:00Z",
            false,
        ),
        (
            "valid_days: last counting second",
            base("V", "2024-01-01"),
            "2024-01-10T23:59:59Z",
            true,
        ),
        (
            "valid_days: expired at earned + 10 days",
            base("V", "2024-01-01"),
            "2024-01-11",
            false,
        ),
        (
            "the record's expiry wins over valid_days",
            with_ach("V", "2024-01-01", &|a| a.expires = Some(d("2024-03-01"))),
            "2024-02-01",
            true,
        ),
        (
            "removed: not from the removal instant",
            with_ach("A", "2024-01-01", &|a| {
                a.removed = Some(t("2024-03-01T12:00:00Z"))
            }),
            "2024-03-01T12:00:00Z",
            false,
        ),
        (
            "removed: a second before removal",
            with_ach("A", "2024-01-01", &|a| {
                a.removed = Some(t("2024-03-01T12:00:00Z"))
            }),
            "2024-03-01T11:59:59Z",
            true,
        ),
        (
            "retired: before retirement",
            base("R", "2020-01-01"),
            "2020-03-01",
            true,
        ),
        (
            "retired: last second of grace",
            base("R", "2020-06-29"),
            "2021-06-29T23:59:59Z",
            true,
        ),
        (
            "retired: grace over at midnight",
            base("R", "2020-06-29"),
            "2021-06-30",
            false,
        ),
        (
            "retired: earned on the retirement day",
            base("R", "2020-06-30"),
            "2020-07-05",
            false,
        ),
        (
            "retired: earned after retirement",
            base("R", "2020-07-01"),
            "2020-08-01",
            false,
        ),
        (
            "code not in the catalogue",
            base("Z", "2024-01-01"),
            "2024-03-01",
            false,
        ),
    ];
    for (name, p, at, want) in cases {
        let at = t(at);
        let code = p.achievements[0].code.to_lowercase();
        assert_eq!(
            achievement_counts(&rb, &p, &p.achievements[0], at),
            want,
            "{name}"
        );
        let eval = evaluate(&rb, &snap(vec![p]), at);
        let level = eval
            .competency(&format!("c-{code}"))
            .unwrap()
            .level(Level::Silver);
        assert_eq!(level.met, want, "{name} (through evaluate)");
    }
}

#[test]
fn counts_until_is_the_earliest_stop() {
    let rb = book("");
    assert_eq!(counts_until(&rb, &ach("A", "2024-01-01")), None);
    assert_eq!(
        counts_until(&rb, &ach("V", "2024-01-01")),
        Some(d("2024-01-11"))
    );
    assert_eq!(
        counts_until(&rb, &ach("R", "2020-01-01")),
        Some(d("2021-06-30"))
    );
    let mut early = ach("R", "2020-01-01");
    early.expires = Some(d("2021-01-01"));
    assert_eq!(counts_until(&rb, &early), Some(d("2021-01-01")));
}
