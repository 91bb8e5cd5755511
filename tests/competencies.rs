//! Rulebooks, achievements, performance and competency evaluation through the binary.

mod common;

use common::Env;
use serde_json::Value;

const RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/small-rules.toml");

fn setup() -> Env {
    let env = Env::new();
    env.add_org("Contoso", "42", RULES, "2026-01-01");
    env
}

/// Adds a user with an MSA at `now`.
fn person(env: &Env, now: &str, name: &str) -> String {
    let email = format!("{name}@contoso.com");
    let msa = format!("{name}@outlook.com");
    let file = format!("{name}.csv");
    env.ok(format!(
        "users add --name {name} --email {email} --msa {msa} \
         --credentials-file {file} --now {now}"
    ));
    msa
}

fn exam(env: &Env, now: &str, msa: &str, code: &str, earned: &str) {
    env.ok(format!(
        "achievements add --msa {msa} --code {code} --earned {earned} \
         --now {now}"
    ));
}

fn level(env: &Env, now: &str, id: &str) -> String {
    env.competency_level(id, now)
}

fn progress(env: &Env, now: &str, id: &str, level: &str) -> Value {
    let p = env.json(format!(
        "competencies progress {id} --level {level} --now {now}"
    ));
    p[0].clone()
}

#[test]
fn rules_validate_import_export_round_trip() {
    let env = setup();
    let out = env.ok(&["rules", "validate", RULES]);
    assert!(
        out.contains("valid (2 competencies, 4 catalog entries)"),
        "{out}"
    );
    std::fs::write(
        env.path("bad.toml"),
        "[program]\nname = \"x\"\ncolour = 1\n",
    )
    .unwrap();
    let err = env.fails(&["rules", "validate", "bad.toml"]);
    assert!(
        err.contains("bad.toml:3") && err.contains("colour"),
        "{err}"
    );
    let err = env.fails(&["rules", "import", "bad.toml"]);
    assert!(err.contains("bad.toml:3"), "{err}");
    let exported = env.ok(&["rules", "export"]);
    assert_eq!(
        exported.trim_end(),
        std::fs::read_to_string(RULES).unwrap().trim_end()
    );
    std::fs::write(env.path("again.toml"), &exported).unwrap();
    env.ok(&["rules", "import", "again.toml"]);
    assert!(env.ok(&["audit"]).contains("rules.import"));
    let show = env.json(&["rules", "show"]);
    assert_eq!(show["fees"]["gold"], 3000);
    assert_eq!(show["competencies"]["cloud"]["name"], "Cloud");
}

#[test]
fn the_default_rulebook_has_18_competencies() {
    let env = Env::new();
    env.create("--name D --partner-id 1");
    let list = env.json(&["competencies", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 18);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|c| c["level"] == "none")
    );
    let show = env.ok(&["competencies", "show", "cloud-platform"]);
    assert!(show.contains("70-533"), "{show}");
}

#[test]
fn achievements_are_validated_against_the_catalogue() {
    let env = setup();
    let msa = person(&env, "2026-01-02", "ann");
    let add = |msa: &str, code: &str, earned: &str| {
        format!("achievements add --msa {msa} --code {code} --earned {earned} --now 2026-02-01")
    };
    let err = env.fails(add(&msa, "EX-Z", "2026-01-10"));
    assert!(
        err.contains("not in the rulebook's catalog") && err.contains("EX-A"),
        "{err}"
    );
    let err = env.fails(add(&msa, "EX-A", "2026-02-30"));
    assert!(
        err.contains("earned") && err.contains("2026-02-30"),
        "{err}"
    );
    let err = env.fails(add(&msa, "EX-A", "2026-03-01"));
    assert!(err.contains("future"), "{err}");
    let err = env.fails(add("not-an-msa", "EX-A", "2026-01-01"));
    assert!(err.contains("msa"), "{err}");
    let first = env.json(add(&msa, "ex-a", "2026-01-10"));
    assert_eq!(first["result"], "added");
    assert_eq!(first["code"], "EX-A");
    let again = env.json(add(&msa, "EX-A", "2026-01-10"));
    assert_eq!(again["result"], "unchanged");
    let list = env.json("achievements list --now 2026-02-01");
    assert_eq!(list.as_array().unwrap().len(), 1);
    for key in ["msa", "code", "kind", "earned", "expires", "counts"] {
        assert!(list[0].get(key).is_some(), "missing {key}");
    }
    assert_eq!(list[0]["counts"], true);
    env.ok(format!(
        "achievements remove --msa {msa} --code EX-A --now 2026-02-02"
    ));
    assert_eq!(
        env.json("achievements list --now 2026-02-02")
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let err = env.fails(format!(
        "achievements remove --msa {msa} --code EX-A --now 2026-02-02"
    ));
    assert!(err.contains("has no achievement EX-A"), "{err}");
}

#[test]
fn expiring_within_uses_the_catalogue_validity() {
    let env = setup();
    let msa = person(&env, "2026-01-02", "ann");
    exam(&env, "2026-01-03", &msa, "CERT-C", "2025-03-01"); // valid 365 days: expires 2026-03-01
    exam(&env, "2026-01-03", &msa, "EX-A", "2025-03-01"); // never expires
    let soon = env.json("achievements list --expiring-within 60 --now 2026-01-03");
    assert_eq!(soon.as_array().unwrap().len(), 1);
    assert_eq!(soon[0]["code"], "CERT-C");
    assert_eq!(soon[0]["expires"], "2026-03-01");
    let later = env.json("achievements list --expiring-within 30 --now 2026-01-03");
    assert_eq!(later.as_array().unwrap().len(), 0);
}

#[test]
fn performance_values_are_validated() {
    let env = setup();
    for (value, why) in [
        ("-5", "negative"),
        ("NaN", "finite"),
        ("abc", "not a number"),
        ("1e300", "implausibly"),
    ] {
        let err = env.fails(format!(
            "performance record --metric revenue --value {value} --date 2026-01-01 \
             --now 2026-02-01"
        ));
        assert!(err.contains(why), "{value}: {err}");
    }
    // An unknown metric is a usage error (exit 2), like an unknown --level.
    let (code, _, err) = env.run(
        "performance record --metric profit --value 5 --date 2026-01-01 \
         --now 2026-02-01",
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("invalid value 'profit' for '--metric"),
        "{err}"
    );
    // A thousands separator is refused (SPEC §2), never read as 12000 or 12.
    let err = env.fails(
        "performance record --metric revenue --scope Azure --value 12,000 \
         --date 2026-01-31 --now 2026-02-01",
    );
    assert!(err.contains("no thousands separator"), "{err}");
    env.ok(
        "performance record --metric revenue --scope Azure --value 12000 \
         --date 2026-01-31 --now 2026-02-01",
    );
    let list = env.json(&["performance", "list"]);
    assert_eq!(list[0]["scope"], "azure");
    assert_eq!(list[0]["value"], 12000.0);
}

#[test]
fn progress_counts_24_hours_after_association_and_matches_unique_people() {
    let env = setup();
    // Ann holds EX-A and CERT-C, Bob only CERT-C: a greedy assignment of Ann to the CERT-C
    // requirement would leave EX-A empty; the maximum matching puts Bob there instead.
    let ann = person(&env, "2026-01-10T09:00:00Z", "ann");
    let bob = person(&env, "2026-01-10T09:00:00Z", "bob");
    exam(&env, "2026-01-10T09:00:00Z", &ann, "CERT-C", "2026-01-05");
    exam(&env, "2026-01-10T09:00:00Z", &ann, "EX-A", "2026-01-05");
    exam(&env, "2026-01-10T09:00:00Z", &bob, "CERT-C", "2026-01-05");
    assert_eq!(
        level(&env, "2026-01-11T08:59:59Z", "data"),
        "none",
        "counts only 24 hours after the association"
    );
    assert_eq!(level(&env, "2026-01-11T09:00:00Z", "data"), "silver");
    let p = progress(&env, "2026-01-11T09:00:00Z", "data", "silver");
    assert_eq!(p["met"], true);
    let reqs = p["requirements"].as_array().unwrap();
    assert_eq!(reqs[0]["counted"][0], "ann@contoso.onmicrosoft.com");
    assert_eq!(reqs[1]["counted"][0], "bob@contoso.onmicrosoft.com");
    for key in ["competency", "level", "met", "option", "requirements"] {
        assert!(p.get(key).is_some(), "missing {key}");
    }
    for key in ["description", "have", "need", "met"] {
        assert!(reqs[0].get(key).is_some(), "missing {key}");
    }
    // Evaluating at an earlier instant gives that instant's answer.
    assert_eq!(level(&env, "2026-01-05", "data"), "none");
}

#[test]
fn metrics_per_market_and_scope_and_gold_counts_as_silver() {
    let env = Env::new();
    env.create(&[
        "--name",
        "Dev",
        "--partner-id",
        "7",
        "--market",
        "developing",
        "--rulebook",
        RULES,
        "--now",
        "2026-01-01",
    ]);
    let a = person(&env, "2026-01-02", "a");
    let b = person(&env, "2026-01-02", "b");
    exam(&env, "2026-01-02", &a, "EX-A", "2025-12-01");
    exam(&env, "2026-01-02", &b, "EX-B", "2025-12-01");
    env.ok(
        "performance record --metric revenue --scope azure --value 6000 \
         --date 2026-01-01 --now 2026-01-03",
    );
    // A scope no rule uses would never count: refused, naming the scopes the rules use.
    let err = env.fails(
        "performance record --metric revenue --scope other --value 90000 \
         --date 2026-01-01 --now 2026-01-03",
    );
    assert!(err.contains("azure"), "{err}");
    // Developing market: 5,000 suffices.
    assert_eq!(level(&env, "2026-01-05", "cloud"), "silver");
    let gold = progress(&env, "2026-01-05", "cloud", "gold");
    assert_eq!(gold["met"], false);
    // The revenue leaves the 365-day window.
    assert_eq!(level(&env, "2027-01-01", "cloud"), "none");
    let gaps = env.ok("competencies gaps --now 2026-01-05");
    assert!(gaps.contains("1 more person with EX-A or EX-B"), "{gaps}");
    assert!(gaps.contains("short by 44,000 USD"), "{gaps}");
    let risk = env.json("competencies risk --now 2026-01-05");
    let cloud = risk
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["competency"] == "cloud")
        .unwrap();
    assert_eq!(cloud["critical"].as_array().unwrap().len(), 2);
}

#[test]
fn removed_users_stop_counting_from_their_removal() {
    let env = setup();
    let a = person(&env, "2026-01-02", "a");
    let b = person(&env, "2026-01-02", "b");
    exam(&env, "2026-01-02", &a, "EX-A", "2025-12-01");
    exam(&env, "2026-01-02", &b, "CERT-C", "2025-12-01");
    assert_eq!(level(&env, "2026-02-01", "data"), "silver");
    env.ok("users remove b@contoso.com --now 2026-02-01");
    assert_eq!(level(&env, "2026-02-02", "data"), "none");
    // History: before the removal it was met.
    assert_eq!(level(&env, "2026-01-20", "data"), "silver");
}

#[test]
fn unknown_competency_is_an_error_with_the_list() {
    let env = setup();
    let err = env.fails(&["competencies", "progress", "nope"]);
    assert!(
        err.contains("no competency \"nope\"") && err.contains("cloud"),
        "{err}"
    );
    let table = env.ok(&["competencies", "progress"]);
    assert!(table.contains("Cloud") && table.contains("░"), "{table}");
}

#[test]
fn lowering_a_performance_figure_or_an_expiry_raises_an_alert() {
    let env = setup();
    let a = person(&env, "2026-01-02", "a");
    let b = person(&env, "2026-01-02", "b");
    exam(&env, "2026-01-02", &a, "EX-A", "2025-12-01");
    exam(&env, "2026-01-02", &b, "EX-B", "2025-12-01");
    env.ok(
        "performance record --metric revenue --scope azure --value 12000 \
         --date 2026-01-01 --now 2026-01-03",
    );
    env.ok("membership upgrade --level silver --now 2026-01-05");
    let (code, _, err) = env.run(
        "performance record --metric revenue --scope azure --value 8000 \
         --date 2026-01-01 --now 2026-01-06",
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("A recent change to your competency achievement has put your membership renewal eligibility at risk"), "{err}");
    assert!(err.contains("revenue of 2026-01-01 changed"), "{err}");
    let (code, _, _) = env.run("membership check --now 2026-01-06");
    assert_eq!(code, 4);
    // Put back, then shorten an exam's life through an import: the alert closes, then reopens.
    env.ok(
        "performance record --metric revenue --scope azure --value 12000 \
         --date 2026-01-01 --now 2026-01-07",
    );
    let (code, _, _) = env.run("membership check --now 2026-01-07");
    assert_eq!(code, 0);
    std::fs::write(
        env.path("ach.csv"),
        format!("msa,code,earned,expires\n{a},EX-A,2025-12-01,2026-01-07\n"),
    )
    .unwrap();
    let (code, _, err) = env.run("achievements import ach.csv --now 2026-01-08");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("changed by an import"), "{err}");
}

/// Ann (AZ-1) counts since 2026-01-02; Bob (AZ-2, passed long ago) was added on
/// 2026-03-01 at 09:00, so he counts from 2026-03-02T09:00:00Z. Cloud needs 2 such people
/// at Silver and 3 at Gold (tests/data/membership-rulebook.toml).
fn bob_waiting() -> Env {
    let e = Env::with_rulebook(&common::data("membership-rulebook.toml"));
    e.person("ann", &["AZ-1"], "2025-12-01", common::DAY_ONE);
    e.person("bob", &["AZ-2"], "2025-12-01", "2026-03-01T09:00:00Z");
    e
}

const WAITING: &str = "2026-03-01T12:00:00Z";
const BOB_COUNTS: &str = "2026-03-02T09:00:00Z";

#[test]
fn gaps_do_not_ask_for_people_whose_achievements_count_within_the_delay() {
    let e = bob_waiting();
    let gaps = e.json(format!("competencies gaps --now {WAITING}"));
    let level = |l: &str| {
        gaps.as_array()
            .unwrap()
            .iter()
            .find(|g| g["competency"] == "cloud" && g["level"] == l)
            .unwrap_or_else(|| panic!("no cloud {l} in {gaps}"))
            .clone()
    };
    // Silver: Bob is all it lacks, and he counts tomorrow: nobody more to certify.
    let silver = level("silver");
    assert_eq!(
        silver["missing"],
        serde_json::json!([format!(
            "1 person with AZ-1 or AZ-2 pending: counts from {BOB_COUNTS}"
        )]),
        "{gaps}"
    );
    assert_eq!(silver["met_from"], BOB_COUNTS, "{gaps}");
    // Gold: one more person beyond Bob.
    let gold = level("gold");
    assert_eq!(
        gold["missing"],
        serde_json::json!([
            "1 more person with AZ-1 or AZ-2",
            format!("1 person with AZ-1 or AZ-2 pending: counts from {BOB_COUNTS}")
        ]),
        "{gaps}"
    );
    assert_eq!(gold["met_from"], Value::Null);
    let table = e.ok(format!("competencies gaps --now {WAITING}"));
    assert!(table.contains(&format!("met from {BOB_COUNTS}")), "{table}");
    assert!(!table.contains("2 more people"), "{table}");
    // Once Bob counts, Silver has no gap left.
    let later = e.json(format!("competencies gaps --now {BOB_COUNTS}"));
    assert!(
        !later
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["competency"] == "cloud" && g["level"] == "silver"),
        "{later}"
    );
}

#[test]
fn progress_achievements_list_and_the_report_show_pending_achievements_with_their_instant() {
    let e = bob_waiting();
    let p = progress(&e, WAITING, "cloud", "silver");
    let r = &p["requirements"][0];
    assert_eq!(r["have"], 1.0, "{p}");
    assert_eq!(r["pending"], 1, "{p}");
    assert_eq!(r["pending_until"], BOB_COUNTS, "{p}");
    assert_eq!(p["met_from"], BOB_COUNTS, "{p}");
    let table = e.ok(format!("competencies progress cloud --now {WAITING}"));
    assert!(
        table.contains(&format!("+1 pending until {BOB_COUNTS}")),
        "{table}"
    );

    let list = e.json(format!(
        "achievements list --msa bob@outlook.com --now {WAITING}"
    ));
    assert_eq!(list[0]["counts"], false, "{list}");
    assert_eq!(
        list[0]["reason"],
        format!("pending until {BOB_COUNTS}"),
        "{list}"
    );
    assert_eq!(list[0]["pending_until"], BOB_COUNTS, "{list}");
    let table = e.ok(format!("achievements list --now {WAITING}"));
    assert!(
        table.contains(&format!("no: pending until {BOB_COUNTS}")),
        "{table}"
    );
    let list = e.json(format!(
        "achievements list --msa bob@outlook.com --now {BOB_COUNTS}"
    ));
    assert_eq!(list[0]["counts"], true, "{list}");
    assert_eq!(list[0]["pending_until"], Value::Null, "{list}");

    e.ok(format!("report --now {WAITING} --out r.html"));
    let html = std::fs::read_to_string(e.path("r.html")).unwrap();
    assert!(
        html.contains(&format!("1 (+1 pending until {BOB_COUNTS})")),
        "the report's Have cell names the pending person"
    );
    assert!(html.contains(&format!("data-pending-until=\"{BOB_COUNTS}\"")));
}
