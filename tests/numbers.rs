//! Numbers as written (SPEC §2): a point for decimals and no grouping, in every file and
//! argument that takes a number. A comma (`12,5`, `1,5`, `62,400`, as Excel writes them in
//! most languages) is refused with the fix, never read as another number.

mod common;

use common::Env;
use serde_json::Value;

const NOW: &str = "2026-03-01T09:00:00Z";
const FIX: &str = "use a point for decimals and no thousands separator";

fn records(env: &Env) -> Vec<Value> {
    env.json(&["performance", "list", "--now", NOW])
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn a_comma_in_a_recorded_value_is_refused_not_read_as_another_number() {
    let env = Env::new();
    env.init();
    for v in ["12,5", "1,5", "62,400", "62 400"] {
        let err = env.fails(&[
            "performance",
            "record",
            "--metric",
            "revenue",
            "--scope",
            "azure",
            "--value",
            v,
            "--date",
            "2026-02-01",
            "--now",
            NOW,
        ]);
        assert!(err.contains(&format!("--value \"{v}\": {FIX}")), "{err}");
    }
    assert!(records(&env).is_empty(), "{:?}", records(&env));
    env.ok(&[
        "performance",
        "record",
        "--metric",
        "revenue",
        "--scope",
        "azure",
        "--value",
        "12.5",
        "--date",
        "2026-02-01",
        "--now",
        NOW,
    ]);
    let list = records(&env);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["value"].as_f64(), Some(12.5), "{list:?}");
}

#[test]
fn a_comma_in_an_imported_value_is_refused_with_its_line() {
    let env = Env::new();
    env.init();
    std::fs::write(
        env.path("perf.csv"),
        "metric,value,date,scope\nrevenue,\"12,5\",2026-01-01,azure\n\
         revenue,1.5,2026-01-02,azure\nrevenue,\"62,400\",2026-01-03,azure\n",
    )
    .unwrap();
    let err = env.fails(&["performance", "import", "perf.csv", "--now", NOW]);
    assert!(
        err.contains(&format!("perf.csv:2: value \"12,5\": {FIX}")),
        "{err}"
    );
    assert!(
        err.contains(&format!("perf.csv:4: value \"62,400\": {FIX}")),
        "{err}"
    );
    assert!(records(&env).is_empty(), "{:?}", records(&env));

    // The valid row only, with --skip-invalid: never 125 or 62400.
    let out = env.json(&[
        "performance",
        "import",
        "perf.csv",
        "--skip-invalid",
        "--now",
        NOW,
    ]);
    assert_eq!(
        (out["added"].as_u64(), out["rejected"].as_u64()),
        (Some(1), Some(2))
    );
    let values: Vec<f64> = records(&env)
        .iter()
        .map(|r| r["value"].as_f64().unwrap())
        .collect();
    assert_eq!(values, [1.5]);
}

#[test]
fn every_other_number_argument_refuses_a_comma_with_the_fix() {
    let env = Env::new();
    env.init();
    for args in [
        &["audit", "--limit", "1,000"][..],
        &["achievements", "list", "--expiring-within", "1,5"],
    ] {
        let (code, _, err) = env.run(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(FIX), "{args:?}: {err}");
    }
    env.ok(&["rules", "import", "solutions-partner", "--now", NOW]);
    let (code, _, err) = env.run(&[
        "designations",
        "what-if",
        "--set",
        "revenue=1,5",
        "--now",
        NOW,
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&format!("--set \"1,5\": {FIX}")), "{err}");
}
