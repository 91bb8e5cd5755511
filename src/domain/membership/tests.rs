//! Unit tests of the membership's date arithmetic, exit codes and displayed set.

use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn program() -> Program {
    Rulebook::default_rulebook().program
}

#[test]
fn anniversaries_keep_the_day_of_the_month() {
    assert_eq!(add_term(d("2026-01-31"), 12, 31), d("2027-01-31"));
    assert_eq!(add_term(d("2024-02-29"), 12, 29), d("2025-02-28"));
    assert_eq!(add_term(d("2025-02-28"), 12, 29), d("2026-02-28"));
    assert_eq!(add_term(d("2027-02-28"), 12, 29), d("2028-02-29"));
    // One-month terms from Jan 31: Feb 28, then back to Mar 31, not Mar 28.
    assert_eq!(add_term(d("2026-01-31"), 1, 31), d("2026-02-28"));
    assert_eq!(add_term(d("2026-02-28"), 1, 31), d("2026-03-31"));
    assert_eq!(add_term(d("2026-03-31"), 1, 31), d("2026-04-30"));
    assert_eq!(add_term(d("2026-06-15"), 12, 15), d("2027-06-15"));
}

#[test]
fn states_change_at_midnight_of_the_anniversary_and_of_the_lapse() {
    let dates = Dates::new(d("2027-01-31"), &program());
    assert_eq!(dates.renewal_opens, d("2027-01-01"));
    assert_eq!(dates.lapses, d("2027-03-02"));
    assert_eq!(dates.window_closes(), d("2027-03-01"));
    let t = |s: &str| crate::support::clock::parse_instant(s).unwrap();
    assert_eq!(dates.state_at(t("2027-01-30T23:59:59Z")), State::Active);
    assert_eq!(dates.state_at(t("2027-01-31")), State::RenewalDue);
    assert_eq!(dates.state_at(t("2027-03-01T23:59:59Z")), State::RenewalDue);
    assert_eq!(dates.state_at(t("2027-03-02")), State::Lapsed);
    assert!(!dates.window_open(t("2026-12-31T23:59:59Z")));
    assert!(dates.window_open(t("2027-01-01")));
    assert!(dates.window_open(t("2027-03-01T12:00:00Z")));
    assert!(!dates.window_open(t("2027-03-02")));
}

#[test]
fn check_exit_codes_follow_the_contract() {
    assert_eq!(CheckStatus::Ok.exit_code(), 0);
    assert_eq!(CheckStatus::Warning.exit_code(), 3);
    assert_eq!(CheckStatus::AtRisk.exit_code(), 4);
    assert_eq!(CheckStatus::None.exit_code(), 5);
}

#[test]
fn displayed_keeps_the_highest_level_per_competency() {
    let t = crate::support::clock::parse_instant("2026-01-01").unwrap();
    let row = |c: &str, l: Level| AttainmentRow {
        term_id: 1,
        competency: c.into(),
        name: c.into(),
        level: l,
        attained_at: t,
        last_met_at: t,
    };
    let rows = vec![
        row("a", Level::Silver),
        row("a", Level::Gold),
        row("b", Level::Silver),
    ];
    let shown = displayed_from(&rows, Level::Gold);
    assert_eq!(shown["a"].level, Level::Gold);
    assert_eq!(shown["b"].level, Level::Silver);
    let silver_only = displayed_from(&rows, Level::Silver);
    assert_eq!(silver_only["a"].level, Level::Silver);
}

/// The small membership rulebook of the behaviour tests (Cloud: AZ-1/AZ-2 people; Data:
/// CERT-X, valid one year).
fn book() -> Rulebook {
    Rulebook::parse(
        include_str!("../../../tests/data/membership-rulebook.toml"),
        "membership-rulebook.toml",
    )
    .unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    start_of(d(s))
}

fn person(user_id: i64, codes: &[(&str, &str)], ended: Option<&str>) -> Person {
    Person {
        user_id,
        username: format!("u{user_id}"),
        msa: format!("u{user_id}@outlook.com"),
        associated: at("2025-11-01"),
        ended: ended.map(at),
        achievements: codes
            .iter()
            .map(|(code, earned)| crate::rules::snapshot::Achievement {
                code: (*code).into(),
                earned: d(earned),
                expires: None,
                removed: None,
            })
            .collect(),
    }
}

fn snapshot() -> Snapshot {
    Snapshot {
        market: Default::default(),
        people: vec![
            person(1, &[("AZ-1", "2025-12-01")], None),
            person(2, &[("AZ-2", "2026-02-10")], None),
            person(3, &[("AZ-1", "2025-12-01"), ("CERT-X", "2025-06-01")], None),
            person(4, &[("CERT-X", "2025-09-01")], Some("2026-04-01")),
            person(5, &[("NOT-IN-BOOK", "2025-12-01")], None),
            person(6, &[], None),
        ],
        performance: Vec::new(),
        classifications: Vec::new(),
    }
}

fn judged_at(when: DateTime<Utc>) -> Judged {
    let (rulebook, snapshot) = (book(), snapshot());
    let eval = evaluate(&rulebook, &snapshot, when);
    Judged {
        rulebook,
        snapshot,
        eval,
    }
}

#[test]
fn the_terms_history_from_one_evaluation_is_the_windows_answer() {
    // A window where nothing changes (reused evaluation) and windows where something
    // starts or stops counting (the full search): the same answer as the search alone.
    for (from, to) in [
        ("2026-01-05", "2026-01-05"),
        ("2026-01-05", "2026-01-20"),
        ("2026-01-05", "2026-03-01"),
        ("2026-03-01", "2026-06-15"),
    ] {
        let j = judged_at(at(to));
        for held in Level::ALL {
            assert_eq!(
                attained_since(&j, at(from), held),
                attained(&j.rulebook, &j.snapshot, at(from), at(to), held),
                "{from}..{to} up to {held}"
            );
        }
    }
}

#[test]
fn the_expiry_judgement_over_the_people_who_count_is_the_whole_organizations() {
    for (when, date) in [
        ("2026-02-15", "2026-07-01"),
        ("2026-02-15", "2027-01-01"),
        ("2026-03-01", "2026-01-01"),
        ("2026-05-01", "2026-10-01"),
    ] {
        let j = judged_at(at(when));
        let ids: HashSet<&str> = ["cloud", "data"].into_iter().collect();
        let reduced = evaluate_expired(&j, &ids, d(date));
        let mut whole = j.snapshot.clone();
        expire_before(&mut whole, &j.rulebook, d(date));
        let full = evaluate(&j.rulebook, &whole, at(when));
        for id in ids {
            let (a, b) = (
                reduced.competency(id).unwrap(),
                full.competency(id).unwrap(),
            );
            assert_eq!(
                a.achieved, b.achieved,
                "{id} at {when}, expired before {date}"
            );
            for level in Level::ALL {
                assert_eq!(a.level(level).met, b.level(level).met, "{id} {level}");
            }
        }
    }
}
