//! What the command line and imports accept (issue 9): metric names, partner IDs, slugs, and
//! performance scopes checked against the rulebook.

mod common;

use common::{Env, small_rules};

/// A small organization on the small rulebook (revenue is used with scope `azure` only).
fn small() -> Env {
    Env::with_rulebook(&small_rules())
}

/// `--metric` is a value enum like `--level`: a bad value is a usage error (exit 2) listing
/// the metrics, and case does not matter.
#[test]
fn an_invalid_metric_is_a_usage_error_like_an_invalid_level() {
    let env = small();
    let record = |metric: &str| {
        env.run(&[
            "performance",
            "record",
            "--metric",
            metric,
            "--value",
            "1",
            "--date",
            "2025-12-01",
            "--scope",
            "azure",
            "--now",
            "2026-01-01",
        ])
    };
    let (code, _, err) = record("revnue");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("revenue") && err.contains("new-customers"),
        "{err}"
    );
    let (code, _, level_err) = env.run(&["membership", "upgrade", "--level", "platinum"]);
    assert_eq!(code, 2, "{level_err}");
    let (code, _, err) = record("Revenue");
    assert_eq!(code, 0, "{err}");
}

/// Partner IDs are numbers.
#[test]
fn a_non_numeric_partner_id_is_refused() {
    let env = Env::new();
    for bad in ["ABC-123", "12a", "-5"] {
        let (code, _, err) = env.run(&["init", "--name", "X", &format!("--partner-id={bad}")]);
        assert_eq!(code, 1, "{bad}: {err}");
        assert!(
            err.contains("--partner-id") && err.contains("number"),
            "{bad}: {err}"
        );
    }
    assert!(!env.db().exists() || env.json(&["org", "list"]).as_array().unwrap().is_empty());
}

/// The slug transliterates accented letters instead of dropping them.
#[test]
fn the_slug_transliterates_accents() {
    let env = Env::new();
    env.create(&["--name", "Société Générale", "--partner-id", "42"]);
    let orgs = env.json(&["org", "list"]);
    assert_eq!(orgs[0]["slug"], "societe-generale", "{orgs}");
}

/// SPEC §4: a scope no rule of the rulebook uses for the metric would never count: refused,
/// suggesting the scopes the rules do use; a missing scope too when every rule names one.
#[test]
fn a_performance_scope_no_rule_uses_is_refused_with_suggestions() {
    let env = small();
    let record = |metric: &str, scope: Option<&str>| {
        let mut args = vec![
            "performance",
            "record",
            "--metric",
            metric,
            "--value",
            "1000",
            "--date",
            "2025-12-01",
            "--now",
            "2026-01-01",
        ];
        if let Some(s) = scope {
            args.extend(["--scope", s]);
        }
        env.run(&args)
    };
    let (code, _, err) = record("revenue", Some("azur"));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("--scope:") && err.contains("did you mean azure?"),
        "{err}"
    );
    let (code, _, err) = record("revenue", None);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("only with a scope (azure)"), "{err}");
    // No rule uses new-customers: a scope would never count; none is fine.
    let (code, _, err) = record("new-customers", Some("azure"));
    assert_eq!(code, 1, "{err}");
    let (code, _, err) = record("new-customers", None);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = record("revenue", Some("Azure"));
    assert_eq!(code, 0, "{err}");
    // Imports apply the same rule, row by row.
    std::fs::write(
        env.path("p.csv"),
        "metric,value,date,scope\nrevenue,5,2025-12-02,azure\nrevenue,5,2025-12-03,azur\n",
    )
    .unwrap();
    let (code, _, err) = env.run(&["performance", "import", "p.csv", "--now", "2026-01-01"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("p.csv:3: scope:") && err.contains("azure"),
        "{err}"
    );
    assert_eq!(
        env.json(&["performance", "list"]).as_array().unwrap().len(),
        2
    );
}
