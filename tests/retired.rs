//! Passes of retired exams: a pass dated on or after the retirement never counts, and the
//! tool says so at entry, in the listing and in the import summary; gaps never suggest a
//! retired exam. The default rulebook retires 70-534 on 2017-12-31.

mod common;

use common::Env;

fn setup() -> Env {
    Env::with_ann()
}

#[test]
fn a_pass_after_retirement_is_recorded_with_a_warning_and_listed_with_its_reason() {
    let e = setup();
    let (code, _, err) = e.run(
        "achievements add --msa ann@outlook.com --code 70-534 --earned 2018-03-01 \
         --now 2026-01-02",
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: 70-534 was retired on 2017-12-31"),
        "{err}"
    );
    assert!(err.contains("never counts"), "{err}");

    let list = e.json(&["achievements", "list", "--now", "2026-01-05"]);
    assert_eq!(list[0]["counts"], false);
    assert_eq!(list[0]["reason"], "retired 2017-12-31 before it was earned");
    let table = e.ok(&["achievements", "list", "--now", "2026-01-05"]);
    assert!(
        table.contains("no: retired 2017-12-31 before it was earned"),
        "{table}"
    );
}

#[test]
fn the_expires_column_includes_the_retired_exam_grace() {
    let e = setup();
    e.achievement("ann@outlook.com", "70-534", "2017-06-01", "2017-07-01");
    // Earned before the retirement: counts until retired + 12 months, as the engine says.
    let list = e.json(&["achievements", "list", "--now", "2017-07-01"]);
    assert_eq!(list[0]["expires"], "2018-12-31", "{list}");
    assert_eq!(list[0]["reason"], serde_json::Value::Null);
    let soon = e.json("achievements list --expiring-within 30 --now 2018-12-15");
    assert_eq!(soon.as_array().map(Vec::len), Some(1), "{soon}");
}

#[test]
fn imports_count_passes_after_retirement_in_the_summary() {
    let e = setup();
    std::fs::write(
        e.path("a.csv"),
        "msa,code,earned\nann@outlook.com,70-534,2018-03-01\nann@outlook.com,70-533,2025-03-01\n",
    )
    .unwrap();
    let out = e
        .cmd()
        .args([
            "achievements",
            "import",
            "a.csv",
            "--now",
            "2026-01-02",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["added"], 2);
    assert_eq!(j["retired_passes"], 1, "{j}");
    assert!(err.contains("retired"), "{err}");
}

#[test]
fn gaps_never_suggest_a_retired_exam() {
    let e = setup();
    let gaps = e.ok(&["competencies", "gaps", "--now", "2026-01-05"]);
    assert!(gaps.contains("70-535"), "{gaps}");
    assert!(!gaps.contains("70-534"), "{gaps}");
    let j = e.json(&["competencies", "gaps", "--now", "2026-01-05"]);
    assert!(!j.to_string().contains("70-534"), "{j}");
}

#[test]
fn the_expires_column_of_the_table_and_csv_is_the_engines_retirement_grace() {
    let e = setup();
    e.ok(&[
        "achievements",
        "add",
        "--msa",
        "ann@outlook.com",
        "--code",
        "70-534",
        "--earned",
        "2017-06-01",
        "--now",
        "2017-07-01",
    ]);
    // An exam has no validity of its own: the only end is the retirement grace, which a
    // listing that recomputed the expiry without it would leave empty.
    let table = e.ok(&["achievements", "list", "--now", "2017-07-01"]);
    let row = table
        .lines()
        .find(|l| l.contains("70-534"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(row.contains("2018-12-31"), "{table}");
    let csv = e.ok(&[
        "achievements",
        "list",
        "--format",
        "csv",
        "--now",
        "2017-07-01",
    ]);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let at = header
        .iter()
        .position(|h| *h == "expires")
        .expect("an expires column");
    let first: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    assert_eq!(first.get(at), Some(&"2018-12-31"), "{csv}");
}

#[test]
fn listing_one_msa_answers_for_that_msa_only_and_as_the_engine_does() {
    let e = setup();
    e.add_user(
        "Bob",
        "bob@contoso.com",
        &["--msa", "bob@outlook.com", "--now", "2026-01-01"],
    );
    for msa in ["ann@outlook.com", "bob@outlook.com"] {
        e.achievement(msa, "70-535", "2025-06-01", "2026-01-02");
    }
    let ann = e.json(&[
        "achievements",
        "list",
        "--msa",
        "ann@outlook.com",
        "--now",
        "2026-02-01",
    ]);
    let rows = ann.as_array().expect("an array");
    assert_eq!(rows.len(), 1, "{ann}");
    assert_eq!(rows[0]["msa"], "ann@outlook.com");
    assert_eq!(rows[0]["counts"], true, "{ann}");
    let all = e.json(&["achievements", "list", "--now", "2026-02-01"]);
    assert_eq!(all.as_array().map(Vec::len), Some(2), "{all}");
    assert!(
        all.as_array()
            .is_some_and(|a| a.iter().all(|r| r["counts"] == true)),
        "{all}"
    );
}
