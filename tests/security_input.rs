//! Security promises about input (issue 10, items 9–13). Each test is one promise:
//!
//! - extreme dates and day counts are refused cleanly (exit 1 or 2), never a panic or a raw
//!   database error; dates live in the years 1900–9999, day counts up to 36,500;
//! - rulebook strings cannot carry control characters or bidirectional overrides, and
//!   display names cannot carry bidirectional overrides either;
//! - values that a spreadsheet would run as a formula are refused at input;
//! - a stored rulebook that passed validation is not validated again by every command;
//! - a value echoed in an error is escaped and cut to 60 characters.

mod common;

use common::{Env, small_rules, users_add};
use proptest::prelude::*;

const SMALL_RULES: &str = include_str!("data/small-rules.toml");

/// An organization on the small rulebook with one user (MSA ann@outlook.com).
fn org() -> Env {
    let env = Env::with_rulebook(&small_rules());
    env.ok(&users_add(
        "Ann Example",
        "ann@contoso.com",
        "ann.csv",
        &["--msa", "ann@outlook.com", "--now", "2026-01-01"],
    ));
    env
}

fn no_panic(args: &[&str], code: i32, err: &str) {
    assert!(
        code != 101 && !err.contains("panicked"),
        "{args:?} panicked: {err}"
    );
    assert!(
        !err.contains("CHECK constraint"),
        "{args:?}: a raw database error instead of a clear message: {err}"
    );
}

// ---------------------------------------------------------------------------------------
// Dates and day counts (item 9).

#[test]
fn membership_upgrade_at_the_last_representable_day_is_a_clean_error() {
    let env = org();
    env.ok(&users_add(
        "Bob Example",
        "bob@contoso.com",
        "bob.csv",
        &["--msa", "bob@outlook.com", "--now", "2026-01-01"],
    ));
    for msa in ["ann@outlook.com", "bob@outlook.com"] {
        env.achievement(msa, "EX-A", "2025-12-01", "2026-01-01");
    }
    env.record("revenue", "azure", "20000", "9999-12-30", "9999-12-31");
    let args = [
        "membership",
        "upgrade",
        "--level",
        "silver",
        "--now",
        "9999-12-31",
    ];
    let (code, out, err) = env.run(&args);
    no_panic(&args, code, &err);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.starts_with("error: ") && err.contains("10000"), "{err}");
    assert_eq!(
        env.json(&["membership", "status", "--now", "2026-01-02"])["level"],
        "none"
    );
}

#[test]
fn a_rulebook_with_an_absurd_valid_days_is_refused_by_validation() {
    let env = Env::new();
    let text = SMALL_RULES.replace("valid_days = 365", "valid_days = 4000000000");
    std::fs::write(env.path("r.toml"), text).unwrap();
    let err = env.fails(&["rules", "validate", "r.toml"]);
    assert!(
        err.contains("r.toml:") && err.contains("valid_days"),
        "{err}"
    );
}

#[test]
fn day_counts_beyond_100_years_are_usage_errors() {
    let env = org();
    for days in ["4294967295", "36501", "-1", "99999999999999999999999"] {
        let args = ["achievements", "list", "--expiring-within", days];
        let (code, _, err) = env.run(&args);
        no_panic(&args, code, &err);
        assert_eq!(code, 2, "{days}: {err}");
    }
    env.ok(&["achievements", "list", "--expiring-within", "36500"]);
}

/// Out-of-range instants and dates, in the shapes people and scripts produce.
fn extreme_date() -> impl Strategy<Value = String> {
    // Years outside 1900–9999 only: "+2026-12-31" is a fine `--now`.
    let year = || prop_oneof![-300_000i64..1900, 10_000i64..300_000];
    prop_oneof![
        year().prop_map(|y| format!("{y:+}-12-31")),
        year().prop_map(|y| format!("{y:+}-01-01T00:00:00Z")),
        (0i64..1900).prop_map(|y| format!("{y:04}-06-15")),
        (10_000i64..300_000).prop_map(|y| format!("{y}-06-15")),
        Just("+262142-12-31".to_owned()),
        Just("-262143-01-01".to_owned()),
        Just("0000-01-01".to_owned()),
        Just("1899-12-31T23:59:59Z".to_owned()),
        Just("99999-12-31T23:59:59+14:00".to_owned()),
    ]
}

fn extreme_count() -> impl Strategy<Value = String> {
    prop_oneof![
        (36_501u64..u64::MAX).prop_map(|n| n.to_string()),
        Just(u32::MAX.to_string()),
        Just("-1".to_owned()),
        Just("1e9".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 12,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Every command that takes a date, an instant or a day count refuses an extreme one
    /// with exit 1 or 2 and one clear line, never a panic (exit 101), and changes nothing.
    #[test]
    fn extreme_dates_and_counts_never_panic(date in extreme_date(), count in extreme_count()) {
        let env = org();
        std::fs::write(env.path("u.csv"), "email,name\ncyd@contoso.com,Cyd\n").unwrap();
        let now = format!("--now={date}");
        let runs: Vec<Vec<&str>> = vec![
            vec!["add-user", "--name", "Dee", "--email", "dee@contoso.com", &now],
            vec!["users", "reset-password", "ann@contoso.com", &now],
            vec!["users", "import", "u.csv", &now],
            vec!["achievements", "list", &now],
            vec!["membership", "upgrade", "--level", "silver", &now],
            vec!["membership", "check", &now],
            vec!["achievements", "add", "--msa", "ann@outlook.com", "--code", "EX-A",
                 "--earned", &date, "--now", "2026-01-01"],
            vec!["achievements", "add", "--msa", "ann@outlook.com", "--code", "EX-A",
                 "--earned", "2025-01-01", "--expires", &date, "--now", "2026-01-01"],
            vec!["performance", "record", "--metric", "revenue", "--scope", "azure",
                 "--value", "5", "--date", &date, "--now", "2026-01-01"],
            vec!["membership", "what-if", "--expire-before", &date, "--now", "2026-01-01"],
            vec!["audit", "--since", &date],
            vec!["achievements", "list", "--expiring-within", &count, "--now", "2026-01-01"],
        ];
        let before = env.db_bytes();
        for args in &runs {
            let (code, out, err) = env.run(args);
            no_panic(args, code, &err);
            prop_assert!(code == 1 || code == 2, "{:?}: exit {} {}{}", args, code, out, err);
            prop_assert!(err.len() < 2000, "{:?}: {}", args, err);
        }
        prop_assert!(env.db_bytes() == before, "a refused command changed the database");
    }
}

// ---------------------------------------------------------------------------------------
// Control characters and bidirectional overrides (item 10).

#[test]
fn rulebook_strings_with_control_characters_or_bidi_overrides_are_refused() {
    let env = Env::new();
    for (from, to, key) in [
        (
            "name = \"Cloud\"",
            "name = \"Cloud\\u001b[2J\"",
            "competencies.cloud.name",
        ),
        (
            "area = \"Data\"",
            "area = \"Da\\u202Eta\"",
            "competencies.data.area",
        ),
        (
            "title = \"Exam A\"",
            "title = \"Exam\\u0007A\"",
            "catalog[0].title",
        ),
        (
            "option = \"Pair\"",
            "option = \"Pa\\u2066ir\"",
            "competencies.data.silver[0].option",
        ),
        (
            "silver = [\"Silver logo\"]",
            "silver = [\"Silver\\rlogo\"]",
            "benefits.silver[0]",
        ),
        (
            "name = \"Test program\"",
            "name = \"Test\\u009bprogram\"",
            "program.name",
        ),
    ] {
        let text = SMALL_RULES.replacen(from, to, 1);
        assert_ne!(text, SMALL_RULES, "{from}");
        std::fs::write(env.path("r.toml"), &text).unwrap();
        let line = text.lines().position(|l| l.contains(to)).unwrap() + 1;
        let err = env.fails(&["rules", "validate", "r.toml"]);
        assert!(
            err.contains(&format!("r.toml:{line}: {key}:")),
            "{key}: {err}"
        );
        assert!(
            !err.contains('\u{1b}') && !err.contains('\u{202e}'),
            "{err:?}"
        );
    }
}

#[test]
fn display_names_refuse_bidi_overrides_like_control_characters() {
    let env = org();
    for c in ['\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}'] {
        let name = format!("Mallory{c}gpj.exe");
        let err = env.fails(&users_add(&name, "mallory@contoso.com", "m.csv", &[]));
        assert!(err.contains("bidirectional"), "{err}");
        assert!(!err.contains(c), "the override was echoed: {err:?}");
    }
    assert!(!env.path("m.csv").exists());
}

// ---------------------------------------------------------------------------------------
// Spreadsheet formulas (item 11).

#[test]
fn values_a_spreadsheet_would_run_are_refused_at_input() {
    let env = org();
    let before = env.db_bytes();
    let add = |name: &str, email: &str, msa: &str| {
        let (name, email, msa) = (
            format!("--name={name}"),
            format!("--email={email}"),
            format!("--msa={msa}"),
        );
        let mut a = vec!["users", "add", &name, &email, "--credentials-file", "f.csv"];
        if msa != "--msa=" {
            a.push(&msa);
        }
        env.fails(&a)
    };
    for err in [
        add("=HYPERLINK(\"http://x\",\"y\")", "eve@contoso.com", ""),
        add("+cmd", "eve@contoso.com", ""),
        add("@SUM(A1)", "eve@contoso.com", ""),
        add("-2+3", "eve@contoso.com", ""),
        add("Eve", "=1+2@x.com", ""),
        add("Eve", "eve@contoso.com", "+cmd@outlook.com"),
        env.fails(&[
            "performance",
            "record",
            "--metric",
            "revenue",
            "--value",
            "5",
            "--date",
            "2025-12-01",
            "--scope==cmd|' /C calc'!A0",
            "--now",
            "2026-01-01",
        ]),
        env.fails(&["users", "remove", "ann@contoso.com", "--reason=-1+1"]),
    ] {
        assert!(err.contains("formula"), "{err}");
    }
    std::fs::write(
        env.path("u.csv"),
        "email,name\neve@contoso.com,\"=HYPERLINK(\"\"http://x\"\")\"\n",
    )
    .unwrap();
    let err = env.fails(&["users", "import", "u.csv", "--credentials-file", "f.csv"]);
    assert!(err.contains("u.csv:2:") && err.contains("formula"), "{err}");
    assert_eq!(
        env.db_bytes(),
        before,
        "a refused value changed the database"
    );
    assert!(!env.path("f.csv").exists());
    // Hyphens and plus signs inside values are fine.
    env.ok(&users_add(
        "Ann-Marie O'Neil",
        "ann-marie+work@contoso.com",
        "ok.csv",
        &[],
    ));
}

// ---------------------------------------------------------------------------------------
// A stored rulebook is validated once (item 12).

#[test]
fn a_stored_rulebook_that_passed_is_not_validated_again() {
    let env = org();
    // Swap in a text that parses but fails a semantic check, with a digest claiming it
    // passed: commands trust the digest (they do not validate again) …
    let bad = SMALL_RULES.replace("count = 4", "count = 0");
    assert!(competency::api::rules::Rulebook::parse(&bad, "x").is_err());
    let mut conn = env.open_db();
    conn.execute(
        "UPDATE orgs SET rulebook = $1, rulebook_digest = $2",
        &[
            &bad,
            &competency::api::rules::validate::validated_digest(&bad),
        ],
    );
    env.ok(&["competencies", "list", "--now", "2026-01-02"]);
    // … while a digest that does not match the text (an older database, an edit) means
    // validating again, and `doctor` always validates.
    conn.execute("UPDATE orgs SET rulebook_digest = 'stale'", &[]);
    let err = env.fails(&["competencies", "list", "--now", "2026-01-02"]);
    assert!(err.contains("count"), "{err}");
    drop(conn);
    let (code, out, err) = env.run(&["doctor"]);
    assert_ne!(code, 0, "{out}{err}");
}

// ---------------------------------------------------------------------------------------
// Echoed values (item 13).

#[test]
fn values_echoed_in_errors_are_escaped_and_cut_to_60_characters() {
    let env = org();
    let huge = "y".repeat(120_000);
    let escape = "bad\u{1b}[2Jname".to_owned();
    for (args, code) in [
        (vec!["users", "show", huge.as_str()], 1),
        (vec!["--org", huge.as_str(), "users", "list"], 1),
        (vec!["users", "show", escape.as_str()], 1),
        (vec!["--now", huge.as_str(), "users", "list"], 2),
        (vec!["competencies", "progress", huge.as_str()], 1),
        (vec!["membership", "upgrade", "--level", huge.as_str()], 2),
    ] {
        let (got, _, err) = env.run(&args);
        assert_eq!(got, code, "{}", &err[..err.len().min(300)]);
        assert!(err.len() < 1000, "{} bytes: {}", err.len(), &err[..300]);
        assert!(!err.contains('\u{1b}'), "{err:?}");
        if args.contains(&huge.as_str()) {
            assert!(err.contains("120000 characters"), "{err}");
        }
    }
}
