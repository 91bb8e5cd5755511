//! `rules diff FILE|NAME` and the guarded `rules import` (SPEC §9, issue 24 item 8): what a
//! rulebook would change for the organization, with the cause; an import that would take
//! away a displayed competency or an enrolled designation refused without `--force`, and
//! with it, the alerts naming the import.
//!
//! The story runs on `tests/data/diff-rules.toml`: Cloud (Silver: 2 people with AZ-1 or
//! AZ-2) and the Security designation (step 1: AZ-1 or AZ-2, 20 points each; step 3: AZ-1
//! or Security Operations Analyst, 10 each), filled by ann (AZ-1), bob (AZ-2), cat and dan
//! (SC-200): Cloud Silver, Security 40 + 30 = 70. The stricter copy takes AZ-2 out of Cloud
//! and SC-200 out of step 3: Cloud is no longer met, Security scores 50.

mod common;

use common::{DAY_ONE, Env, data};
use serde_json::Value;

const NOW: &str = "2026-01-05";
const STRICTER: &str = "stricter.toml";

/// Contoso on the diff rulebook with its four people (passes of 2025-12-01, counting from
/// 2026-01-02), and the stricter copy written beside the database.
fn setup() -> Env {
    let e = Env::with_rulebook(&data("diff-rules.toml"));
    for (local, code) in [
        ("ann", "AZ-1"),
        ("bob", "AZ-2"),
        ("cat", "SC-200"),
        ("dan", "SC-200"),
    ] {
        e.person(local, &[code], "2025-12-01", DAY_ONE);
    }
    let text = original();
    let stricter = text
        .replace(
            r#"count = 2, any_of = [["AZ-1"], ["AZ-2"]]"#,
            r#"count = 2, any_of = [["AZ-1"]]"#,
        )
        .replace(
            r#"any_of = [["AZ-1"], ["SC-200"]]"#,
            r#"any_of = [["AZ-1"]]"#,
        );
    assert_ne!(stricter, text);
    std::fs::write(e.path(STRICTER), stricter).unwrap();
    e
}

fn original() -> String {
    std::fs::read_to_string(data("diff-rules.toml")).unwrap()
}

/// The row of `kind` `id` in a diff's JSON rows.
fn row<'a>(rows: &'a Value, kind: &str, id: &str) -> &'a Value {
    rows.as_array()
        .unwrap_or_else(|| panic!("not an array: {rows}"))
        .iter()
        .find(|r| r["kind"] == kind && r["id"] == id)
        .unwrap_or_else(|| panic!("no {kind} {id} in {rows}"))
}

#[test]
fn diff_names_a_competency_no_longer_met_and_a_designation_losing_points_with_causes() {
    let e = setup();
    let before = e.db_bytes();

    let rows = e.json(&["rules", "diff", STRICTER, "--now", NOW]);
    assert_eq!(rows.as_array().unwrap().len(), 2, "{rows}");
    let cloud = row(&rows, "competency", "cloud");
    assert_eq!(cloud["before"], "silver", "{cloud}");
    assert_eq!(cloud["after"], "none");
    assert_eq!(cloud["change"], "stops-qualifying");
    assert_eq!(
        cloud["cause"],
        "Cloud silver no longer met: 2 people with AZ-1: have 1, need 2"
    );
    assert_eq!(cloud["qualified_before"], true);
    assert_eq!(cloud["qualified_after"], false);
    // Nothing is held yet: no import would be refused.
    assert_eq!(cloud["held"], Value::Null);
    assert_eq!(cloud["blocks_import"], false);
    let sec = row(&rows, "designation", "security");
    assert_eq!(sec["before"], 70.0, "{sec}");
    assert_eq!(sec["after"], 50.0);
    assert_eq!(sec["change"], "stops-qualifying");
    assert_eq!(
        sec["cause"],
        "Security Operations Analyst no longer counts in step 3"
    );

    // For people: the loss with a true minus sign and the cause.
    let table = e.ok(&["rules", "diff", STRICTER, "--now", NOW]);
    assert!(table.contains("−20, stops qualifying"), "{table}");
    assert!(
        table.contains("Security Operations Analyst no longer counts in step 3"),
        "{table}"
    );
    assert!(table.contains("no longer met"), "{table}");

    // CSV: one row per change, raw numbers.
    let csv = e.ok(&["rules", "diff", STRICTER, "--now", NOW, "--format", "csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[0].starts_with("kind,id,name,before,after,change,cause,"),
        "{csv}"
    );
    assert!(
        lines.contains(
            &"designation,security,Security,70,50,stops-qualifying,\
              Security Operations Analyst no longer counts in step 3,true,false,,,false"
        ),
        "{csv}"
    );

    // It reads only.
    assert_eq!(e.db_bytes(), before, "rules diff changed the database");
    assert!(e.ok("rules export").contains(r#"["AZ-1"], ["SC-200"]"#));
}

#[test]
fn diff_by_embedded_name_the_same_rulebook_and_an_invalid_file() {
    let e = setup();
    // By name, as `rules import` takes it: the Cloud competency disappears.
    let rows = e.json(&["rules", "diff", "solutions-partner", "--now", NOW]);
    let cloud = row(&rows, "competency", "cloud");
    assert_eq!(cloud["change"], "disappears", "{cloud}");
    assert_eq!(cloud["after"], Value::Null);
    assert_eq!(cloud["cause"], "no longer in the rulebook");

    // The rulebook in use: nothing changes.
    std::fs::write(e.path("same.toml"), original()).unwrap();
    assert_eq!(
        e.json(&["rules", "diff", "same.toml", "--now", NOW]),
        serde_json::json!([])
    );
    let out = e.ok(&["rules", "diff", "same.toml", "--now", NOW]);
    assert!(out.contains("Nothing changes for Contoso Ltd"), "{out}");

    // An invalid file: exit 1 with file:line, as `rules validate`.
    std::fs::write(e.path("bad.toml"), "[program]\nname = 3\n").unwrap();
    let err = e.fails(&["rules", "diff", "bad.toml", "--now", NOW]);
    assert!(err.contains("bad.toml:2"), "{err}");
}

#[test]
fn import_refused_without_force_when_held_things_would_stop_then_forced_with_alerts() {
    let e = setup();
    e.ok(&["membership", "upgrade", "--level", "silver", "--now", NOW]);
    e.ok(&["designations", "enrol", "security", "--now", NOW]);
    let later = "2026-01-06";

    // Refused: the changes first, then one error naming what would stop and --force.
    let (out, err) = e.exits(&["rules", "import", STRICTER, "--now", later], 1);
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains(
            "competency Cloud (cloud): silver → none, no longer met (displayed at silver)"
        ),
        "{err}"
    );
    assert!(
        err.contains("Security Operations Analyst no longer counts in step 3"),
        "{err}"
    );
    let error = err.lines().find(|l| l.starts_with("error: ")).unwrap();
    assert!(
        error.contains("competency Cloud (displayed at silver) would stop being met"),
        "{error}"
    );
    assert!(
        error.contains("designation Security (enrolled) would stop qualifying"),
        "{error}"
    );
    assert!(error.contains("--force"), "{error}");
    // Nothing changed: the stored rulebook is the old one, no alert, no audit entry.
    assert_eq!(e.ok("rules export").trim_end(), original().trim_end());
    assert_eq!(
        e.json(&["membership", "alerts", "--now", later]),
        serde_json::json!([])
    );
    assert!(!e.ok(&["audit", "--now", later]).contains("rules.import"));
    // `rules diff` says the same, and flags the rows.
    let rows = e.json(&["rules", "diff", STRICTER, "--now", later]);
    assert_eq!(row(&rows, "competency", "cloud")["blocks_import"], true);
    assert_eq!(row(&rows, "competency", "cloud")["held"], "displayed");
    assert_eq!(row(&rows, "designation", "security")["held"], "enrolled");

    // With --force: imported, each alert naming the import as its cause.
    let (out, err) = e.exits(
        &[
            "rules", "import", STRICTER, "--now", later, "--force", "--format", "json",
        ],
        0,
    );
    let imported: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        row(&imported["changes"], "designation", "security")["after"],
        50.0,
        "{imported}"
    );
    assert!(err.contains("alert: "), "{err}");
    assert!(e.ok("rules export").contains(r#"any_of = [["AZ-1"]] } },"#));
    let alerts = e.json(&["membership", "alerts", "--now", later]);
    let cloud = listed_by(&alerts, "competency", "cloud");
    assert_eq!(
        cloud["cause"], "rulebook replaced by stricter.toml",
        "{cloud}"
    );
    let dalerts = e.json(&["designations", "alerts", "--now", later]);
    let sec = listed_by(&dalerts, "designation", "security");
    assert_eq!(sec["cause"], "rulebook replaced by stricter.toml", "{sec}");
    assert!(
        sec["items"].as_str().unwrap().contains("total 50 < 70"),
        "{sec}"
    );

    // And back: the original rulebook would restore both, and say why.
    std::fs::write(e.path("original.toml"), original()).unwrap();
    let rows = e.json(&["rules", "diff", "original.toml", "--now", later]);
    let sec = row(&rows, "designation", "security");
    assert_eq!(sec["change"], "starts-qualifying", "{sec}");
    assert_eq!(
        sec["cause"],
        "Security Operations Analyst now counts in step 3"
    );
    assert_eq!(sec["blocks_import"], false);
    assert_eq!(row(&rows, "competency", "cloud")["after"], "silver");
    e.ok(&["rules", "import", "original.toml", "--now", later]);
}

/// An enrolled designation the new rulebook no longer has: refused, then with --force its
/// alert says so.
#[test]
fn an_enrolled_designation_that_disappears_needs_force_and_gets_its_alert() {
    let e = setup();
    e.ok(&["designations", "enrol", "security", "--now", NOW]);
    let text = original();
    let cut = text.find("[designations.security]").unwrap();
    std::fs::write(e.path("without.toml"), &text[..cut]).unwrap();

    let err = e.fails(&["rules", "import", "without.toml", "--now", NOW]);
    assert!(
        err.contains("designation Security (enrolled) would disappear"),
        "{err}"
    );
    e.ok(&["rules", "import", "without.toml", "--now", NOW, "--force"]);
    let dalerts = e.json(&["designations", "alerts", "--now", NOW]);
    let sec = listed_by(&dalerts, "designation", "security");
    assert_eq!(sec["items"], "the designation is no longer in the rulebook");
    assert_eq!(sec["cause"], "rulebook replaced by without.toml");
}

/// Nothing held: the import neither shows the changes nor asks for --force.
#[test]
fn an_import_over_nothing_held_is_not_guarded() {
    let e = setup();
    let (_, err) = e.exits(&["rules", "import", STRICTER, "--now", NOW], 0);
    assert!(!err.contains("changes for"), "{err}");
}

/// The element of `list` whose `key` is `id`.
fn listed_by<'a>(list: &'a Value, key: &str, id: &str) -> &'a Value {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .find(|a| a[key] == id)
        .unwrap_or_else(|| panic!("no {id} in {list}"))
}
