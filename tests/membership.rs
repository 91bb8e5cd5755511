//! Membership: the lifecycle as a story, each refusal, the check's exit codes, what-if,
//! alerts from every change that can lose a competency, and the demo.

mod common;

use common::Env;
use serde_json::Value;

const RULEBOOK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/membership-rulebook.toml"
);
const ALERT_TEXT: &str = "A recent change to your competency achievement has put your membership renewal eligibility at risk";

/// An organization on the small test rulebook, created on 2026-01-01.
fn setup() -> Env {
    Env::with_rulebook(RULEBOOK)
}

/// Adds an employee with an MSA and one achievement, at `now`; returns the user name.
fn person(e: &Env, local: &str, code: &str, earned: &str, now: &str) -> String {
    e.person(local, &[code], earned, now)
}

/// Ann (AZ-1) and Bob (AZ-2): Cloud is met at Silver from 2026-01-02.
fn two_people(e: &Env) -> (String, String) {
    e.cloud_pair()
}

/// [`setup`] with [`two_people`], Silver bought on 2026-01-02: (sandbox, Ann, Bob).
fn silver_since_day_two() -> (Env, String, String) {
    let e = setup();
    let (ann, bob) = two_people(&e);
    e.ok("membership upgrade --level silver --now 2026-01-02");
    (e, ann, bob)
}

#[test]
fn lifecycle_upgrade_departure_alert_replacement_renewal_grace_lapse() {
    let e = setup();
    let (_, bob) = two_people(&e);

    let up = e.json("membership upgrade --level silver --now 2026-01-02");
    assert_eq!(up["fee_usd"], 1000.0);
    assert_eq!(up["anniversary"], "2027-01-02");
    let profile = e.json(&["membership", "profile", "--now", "2026-01-10"]);
    assert_eq!(profile["organization"], "Contoso Ltd");
    assert_eq!(profile["level"], "silver");
    assert_eq!(profile["competencies"][0]["id"], "cloud");
    assert_eq!(profile["competencies"][0]["level"], "silver");
    assert_eq!(e.check("2026-01-10").0, 0);

    // Bob leaves: the alert is raised by `users remove` itself, with its cause.
    let (code, _, err) = e.run(&["users", "remove", &bob, "--now", "2026-02-01"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(ALERT_TEXT), "{err}");
    assert!(err.contains(&format!("user {bob} removed")), "{err}");
    let alerts = e.json(&["membership", "alerts", "--now", "2026-02-01T01:00:00Z"]);
    assert_eq!(alerts.as_array().unwrap().len(), 1);
    let a = &alerts[0];
    assert_eq!(a["message"], ALERT_TEXT);
    assert_eq!(a["competency"], "cloud");
    assert_eq!(a["open"], true);
    assert_eq!(a["raised"], "2026-02-01T00:00:00Z");
    assert_eq!(
        a["requirement"],
        "2 people with AZ-1 or AZ-2: have 1, need 2"
    );
    assert_eq!(a["cause"], format!("user {bob} removed"));
    let (code, j) = e.check("2026-02-01T01:00:00Z");
    assert_eq!(code, 4);
    assert_eq!(j["status"], "at-risk");
    assert_eq!(j["alerts"].as_array().unwrap().len(), 1);
    // Still displayed until the term ends, and not raised twice.
    let profile = e.json(&["membership", "profile", "--now", "2026-02-01T02:00:00Z"]);
    assert_eq!(profile["competencies"][0]["id"], "cloud");
    assert_eq!(
        e.check("2026-02-01T03:00:00Z").1["alerts"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // A replacement is certified; it counts 24 hours later, and the check closes the alert.
    person(&e, "carol", "AZ-1", "2026-02-02", "2026-02-02");
    assert_eq!(e.check("2026-02-02T12:00:00Z").0, 4);
    let (code, j) = e.check("2026-02-03T00:00:00Z");
    assert_eq!(code, 0, "{j}");
    assert_eq!(j["status"], "ok");
    let all = e.json(&["membership", "alerts", "--all", "--now", "2026-02-03"]);
    assert_eq!(all[0]["open"], false);
    assert_eq!(all[0]["close_reason"], "met again");
    assert_eq!(
        e.json(&["membership", "alerts", "--now", "2026-02-03"]),
        serde_json::json!([])
    );

    // The renewal window opens 30 days before the anniversary.
    assert_eq!(e.check("2026-12-02T23:59:59Z").0, 0);
    let (code, j) = e.check("2026-12-03");
    assert_eq!(code, 3);
    assert_eq!(j["status"], "warning");
    assert_eq!(j["renewal_eligible"], true);
    let renewed = e.json(&["membership", "renew", "--now", "2026-12-10"]);
    assert_eq!(renewed["kind"], "renewal");
    assert_eq!(renewed["term_start"], "2027-01-02");
    assert_eq!(renewed["anniversary"], "2028-01-02");
    assert_eq!(e.check("2027-01-10").0, 0);

    // Not renewed again: renewal-due in the grace period, then lapsed.
    let st = e.json(&["membership", "status", "--now", "2028-01-10"]);
    assert_eq!(st["state"], "renewal-due");
    assert_eq!(st["anniversary"], "2028-01-02");
    assert_eq!(e.check("2028-01-10").0, 3);
    let st = e.json(&["membership", "status", "--now", "2028-02-01"]);
    assert_eq!(st["state"], "lapsed");
    let (code, j) = e.check("2028-02-01");
    assert_eq!(code, 5);
    assert_eq!(j["status"], "none");
    let profile = e.json(&["membership", "profile", "--now", "2028-02-01"]);
    assert_eq!(profile["level"], "none");
    assert_eq!(profile["competencies"], serde_json::json!([]));
}

/// Bug (issue 26 item 11): a rulebook import that shortened the grace period (and so lapsed
/// the membership at once) said nothing. The periods apply to the term already bought: a
/// note on stderr says which of its dates moved and the state they lead to.
#[test]
fn a_rulebook_import_that_moves_the_current_terms_windows_says_so() {
    let (e, _, _) = silver_since_day_two();
    // Anniversary 2027-01-02; renewal opens 2026-12-03, lapses 2027-02-01.
    let now = "2027-01-20";
    assert_eq!(
        e.json(&["membership", "status", "--now", now])["state"],
        "renewal-due"
    );
    let text = std::fs::read_to_string(RULEBOOK).unwrap();
    let shorter = text
        .replace("grace_days = 30", "grace_days = 10")
        .replace("renewal_opens_days = 30", "renewal_opens_days = 60");
    std::fs::write(e.path("shorter.toml"), shorter).unwrap();
    let (code, _, err) = e.run(&["rules", "import", "shorter.toml", "--now", now]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("note: the new rulebook changes the current term (anniversary 2027-01-02)"),
        "{err}"
    );
    assert!(
        err.contains("renewal opens 2026-11-03 (was 2026-12-03)"),
        "{err}"
    );
    assert!(
        err.contains(
            "the renewal window closes 2027-01-11 and the membership lapses 2027-01-12 \
             (was 2027-01-31 and 2027-02-01)"
        ),
        "{err}"
    );
    assert!(err.contains("now lapsed (was renewal-due)"), "{err}");
    assert_eq!(
        e.json(&["membership", "status", "--now", now])["state"],
        "lapsed"
    );
    // The same periods again: nothing moves, nothing said.
    let (code, _, err) = e.run(&["rules", "import", "shorter.toml", "--now", now]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("current term"), "{err}");
}

#[test]
fn upgrade_refused_when_nothing_is_met_names_the_closest_and_gaps() {
    let e = setup();
    person(&e, "ann", "AZ-1", "2025-12-01", "2026-01-01");
    let err = e.fails("membership upgrade --level silver --now 2026-01-05");
    assert!(err.contains("no competency is met at silver now"), "{err}");
    assert!(err.contains("Cloud (cloud"), "{err}");
    assert!(err.contains("1 more person with AZ-1 or AZ-2"), "{err}");
    assert!(err.contains("competencies gaps"), "{err}");
    assert_eq!(e.json(&["membership", "status"])["state"], "none");
}

#[test]
fn upgrade_before_the_progress_delay_says_when_to_come_back() {
    let e = setup();
    two_people(&e);
    let err = e.fails("membership upgrade --level silver --now 2026-01-01T12:00:00Z");
    assert!(err.contains("no competency is met at silver yet"), "{err}");
    // Linked and earned before 2026-01-01T00:00: counted from 2026-01-02T00:00, not from
    // "now + 24 hours".
    assert!(
        err.contains("Cloud (cloud) will be met at 2026-01-02T00:00:00Z"),
        "{err}"
    );
}

const ERP_STORY_RULEBOOK: &str = r#"
[program]
name = "Test program"
progress_delay_hours = 24
term_months = 12
renewal_opens_days = 30
grace_days = 30
metric_window_days = 365
retired_grace_months = 12

[fees]
silver = 1000
gold = 4000

[[catalog]]
code = "AZ-1"
title = "Azure one"
kind = "exam"

[[catalog]]
code = "MB-1"
title = "Dynamics one"
kind = "exam"

[[catalog]]
code = "DP-1"
title = "Data one"
kind = "exam"

[competencies.aaa-security]
name = "Security"
area = "Test"
[[competencies.aaa-security.silver]]
option = "Security"
metrics = [ { metric = "revenue", scope = "security", at_least = 100000 } ]

[competencies.cloud-platform]
name = "Cloud Platform"
area = "Test"
[[competencies.cloud-platform.silver]]
option = "Cloud Platform"
people = [ { count = 2, any_of = [["AZ-1"]] } ]
metrics = [ { metric = "revenue", scope = "azure", at_least = 10000 } ]

[competencies.data]
name = "Data"
area = "Test"
[[competencies.data.silver]]
option = "Data"
people = [ { count = 3, any_of = [["DP-1"]] } ]

[competencies.erp]
name = "ERP"
area = "Test"
[[competencies.erp.silver]]
option = "ERP"
people = [ { count = 1, any_of = [["MB-1"]] } ]
metrics = [ { metric = "revenue", scope = "dynamics", at_least = 100000 } ]
"#;

#[test]
fn refusals_rank_people_only_gaps_first_then_relative_revenue_shortfall_top_three() {
    // ERP is 50,000 USD short with its person in place; Cloud Platform is one certified
    // person away with its revenue met. The person is the nearer goal.
    let e = Env::new();
    std::fs::write(e.path("erp.toml"), ERP_STORY_RULEBOOK).unwrap();
    e.add_org("Contoso Ltd", "1234567", "erp.toml", "2026-01-01");
    person(&e, "ann", "AZ-1", "2025-12-01", "2026-01-01");
    person(&e, "mia", "MB-1", "2025-12-01", "2026-01-01");
    for (scope, value) in [
        ("azure", "12000"),
        ("dynamics", "50000"),
        ("security", "5000"),
    ] {
        e.ok(format!(
            "performance record --metric revenue --value {value} --date 2025-12-15 \
             --scope {scope} --now 2026-01-01"
        ));
    }
    let err = e.fails("membership upgrade --level silver --now 2026-01-10");
    let cloud = err.find("Cloud Platform (cloud-platform) needs 1 more person with AZ-1");
    let data = err.find("Data (data) needs 3 more people with DP-1");
    let erp = err.find("ERP (erp) needs revenue (dynamics) short by 50,000 USD");
    assert!(cloud.is_some() && data.is_some() && erp.is_some(), "{err}");
    assert!(
        cloud < data && data < erp,
        "ranked: people first, then revenue: {err}"
    );
    assert!(!err.contains("Security"), "only the top three: {err}");
}

#[test]
fn gold_holders_cannot_buy_silver_and_holders_renew_instead_of_rebuying() {
    let e = setup();
    two_people(&e);
    person(&e, "carol", "AZ-1", "2025-12-01", "2026-01-01");
    let gold = e.json("membership upgrade --level gold --now 2026-01-02");
    assert_eq!(gold["fee_usd"], 4000.0);
    assert_eq!(gold["discount"], Value::Null);
    let err = e.fails("membership upgrade --level silver --now 2026-01-03");
    assert!(err.contains("cannot buy Silver"), "{err}");
    let err = e.fails("membership upgrade --level gold --now 2026-01-03");
    assert!(
        err.contains("already holds a Gold membership until 2027-01-02"),
        "{err}"
    );
    assert!(err.contains("membership renew"), "{err}");
}

#[test]
fn silver_to_gold_starts_a_new_term_with_the_discount_marked() {
    let (e, _, _) = silver_since_day_two();
    let err = e.fails("membership upgrade --level gold --now 2026-02-01");
    assert!(err.contains("no competency is met at gold now"), "{err}");
    person(&e, "carol", "AZ-1", "2026-02-01", "2026-02-01");
    let gold = e.json("membership upgrade --level gold --now 2026-03-01");
    assert_eq!(gold["previous_level"], "silver");
    assert_eq!(gold["list_fee_usd"], 4000.0);
    assert_eq!(gold["fee_usd"], 3000.0);
    let discount = gold["discount"].as_str().unwrap();
    assert!(
        discount.contains("25% Silver-to-Gold upgrade discount"),
        "{gold}"
    );
    assert!(
        !discount.contains("PROGRAM-FACTS"),
        "an internal document: {gold}"
    );
    assert_eq!(gold["term_start"], "2026-03-01");
    assert_eq!(gold["anniversary"], "2027-03-01");
    let profile = e.json(&["membership", "profile", "--now", "2026-03-02"]);
    assert_eq!(profile["level"], "gold");
    assert_eq!(profile["competencies"][0]["level"], "gold");
    let b = e.json(&["membership", "benefits", "--now", "2026-03-02"]);
    assert_eq!(
        b["membership"],
        serde_json::json!(["Silver logo", "Gold logo"])
    );
    assert_eq!(
        b["competencies"][0]["benefits"],
        serde_json::json!(["Cloud credits", "More cloud credits"])
    );
    let audit = e.ok(&["audit", "--now", "2026-03-02"]);
    assert!(audit.contains("membership.upgrade"), "{audit}");
}

#[test]
fn renew_refusals_say_what_is_missing_or_when_the_window_opens() {
    let e = setup();
    let (_, bob) = two_people(&e);
    let err = e.fails(&["membership", "renew", "--now", "2026-01-02"]);
    assert!(err.contains("no membership to renew"), "{err}");

    e.ok("membership upgrade --level silver --now 2026-01-02");
    let err = e.fails(&["membership", "renew", "--now", "2026-06-01"]);
    assert!(err.contains("opens on 2026-12-03"), "{err}");
    assert!(err.contains("anniversary on 2027-01-02"), "{err}");
    assert!(err.contains("closes at the end of 2027-01-31"), "{err}");

    e.ok(&["users", "remove", &bob, "--now", "2026-12-01"]);
    let err = e.fails(&["membership", "renew", "--now", "2026-12-05"]);
    assert!(err.contains("no competency is met at silver now"), "{err}");
    assert!(err.contains("1 more person with AZ-1 or AZ-2"), "{err}");

    let err = e.fails(&["membership", "renew", "--now", "2027-02-01"]);
    assert!(err.contains("lapsed on 2027-02-01"), "{err}");
    assert!(err.contains("upgrade --level silver"), "{err}");
}

#[test]
fn upgrading_after_a_lapse_starts_afresh() {
    let (e, _, _) = silver_since_day_two();
    let again = e.json("membership upgrade --level silver --now 2027-03-15");
    assert_eq!(again["previous_level"], "none");
    assert_eq!(again["term_start"], "2027-03-15");
    assert_eq!(again["anniversary"], "2028-03-15");
}

#[test]
fn check_exit_codes_none_ok_warning_for_expiry_and_at_risk_with_inferred_cause() {
    let e = setup();
    let (code, j) = e.check("2026-01-01");
    assert_eq!((code, j["status"].as_str()), (5, Some("none")));

    // Data rests on one certification that stops counting on 2026-06-01.
    person(&e, "dora", "CERT-X", "2025-06-01", "2026-01-01");
    e.ok("membership upgrade --level silver --now 2026-01-02");
    let (code, j) = e.check("2026-01-10");
    assert_eq!(code, 3, "{j}");
    assert_eq!(j["status"], "warning");
    assert_eq!(j["expiring"][0]["code"], "CERT-X");
    assert_eq!(j["expiring"][0]["expires"], "2026-06-01");
    assert_eq!(j["expiring"][0]["msa"], "dora@outlook.com");

    let (code, j) = e.check("2026-06-02");
    assert_eq!(code, 4, "{j}");
    assert_eq!(
        j["alerts"][0]["cause"],
        "achievement CERT-X of dora@outlook.com expired on 2026-06-01"
    );
}

#[test]
fn check_does_not_warn_about_an_expiry_when_another_holder_keeps_the_competency_met() {
    let e = setup();
    // Dora's certification stops counting on 2026-06-01, before the anniversary
    // (2027-01-02); Eve's, earned later, lasts beyond it.
    person(&e, "dora", "CERT-X", "2025-06-01", "2026-01-01");
    e.ok("membership upgrade --level silver --now 2026-01-02");
    let (code, j) = e.check("2026-01-10");
    assert_eq!((code, j["status"].as_str()), (3, Some("warning")), "{j}");

    person(&e, "eve", "CERT-X", "2026-02-01", "2026-02-01");
    let (code, j) = e.check("2026-02-10");
    assert_eq!((code, j["status"].as_str()), (0, Some("ok")), "{j}");
    assert_eq!(j["expiring"], serde_json::json!([]));
    // The same judgement as what-if: nothing is lost by the anniversary.
    let w = e.json("membership what-if --expire-before 2027-01-02 --now 2026-02-10");
    assert!(!w.to_string().contains("\"data\""), "{w}");
}

#[test]
fn status_before_the_first_purchase_is_none() {
    let e = setup();
    two_people(&e);
    e.ok("membership upgrade --level silver --now 2026-01-03");
    let before = e.json(&["membership", "status", "--now", "2026-01-02"]);
    assert_eq!(before["state"], "none", "{before}");
    assert_eq!(before["level"], "none", "{before}");
    let after = e.json(&["membership", "status", "--now", "2026-01-04"]);
    assert_eq!(after["state"], "active", "{after}");
}

#[test]
fn check_and_alerts_tables_print_the_alert_sentence_above_the_open_alerts() {
    let (e, _, bob) = silver_since_day_two();
    e.ok(format!("users remove {bob} --reason left --now 2026-02-01"));
    let (code, out, _) = e.run(&["membership", "check", "--now", "2026-02-02"]);
    assert_eq!(code, 4, "{out}");
    let (sentence, table) = (out.find(ALERT_TEXT), out.find("Open alerts"));
    assert!(sentence.is_some() && sentence < table, "{out}");
    let out = e.ok(&["membership", "alerts", "--now", "2026-02-02"]);
    let (sentence, table) = (out.find(ALERT_TEXT), out.find("Open alerts"));
    assert!(sentence.is_some() && sentence < table, "{out}");
}

#[test]
fn achievements_remove_raises_an_alert_with_its_cause() {
    let (e, _, _) = silver_since_day_two();
    let (code, _, err) =
        e.run("achievements remove --msa bob@outlook.com --code AZ-2 --now 2026-01-05");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(ALERT_TEXT), "{err}");
    let a = e.json(&["membership", "alerts", "--now", "2026-01-05"]);
    assert_eq!(a[0]["cause"], "achievement AZ-2 of bob@outlook.com removed");
}

/// A Fabrikam command succeeded and printed the alert it raised for Contoso, saying whose.
fn fabrikam_command_alerted_contoso(code: i32, err: &str) {
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(ALERT_TEXT), "{err}");
    // Printed during Fabrikam's command, the alert is Contoso's: it says so.
    assert!(
        err.contains(&format!("alert: Contoso Ltd: {ALERT_TEXT}")),
        "{err}"
    );
}

#[test]
fn severing_an_msa_from_another_organization_alerts_the_one_that_lost_it() {
    let (e, _, _) = silver_since_day_two();
    e.add_org("Fabrikam", "7654321", RULEBOOK, "2026-01-03");
    let (code, _, err) = e.run(
        "--org 7654321 users add --name Bob --email bob@fabrikam.com \
         --msa bob@outlook.com --credentials-file fab.csv --now 2026-01-04",
    );
    fabrikam_command_alerted_contoso(code, &err);
    let a = e.json("--org 1234567 membership alerts --now 2026-01-04");
    let cause = a[0]["cause"].as_str().unwrap();
    assert!(cause.contains("MSA bob@outlook.com"), "{cause}");
    assert!(
        cause.contains("severed (linked to another organization)"),
        "{cause}"
    );
}

#[test]
fn what_if_reports_losses_and_changes_nothing() {
    let (e, ann, bob) = silver_since_day_two();
    let before = e.db_bytes();
    let w = e.json(format!(
        "membership what-if --remove-user {bob} --now 2026-01-10"
    ));
    assert_eq!(w["removed_users"], serde_json::json!([bob]));
    assert_eq!(w["lost"][0]["competency"], "cloud");
    assert_eq!(w["lost"][0]["now"], "silver");
    assert_eq!(w["lost"][0]["after"], "none");
    assert_eq!(
        w["alerts"][0]["requirement"],
        "2 people with AZ-1 or AZ-2: have 1, need 2"
    );
    assert_eq!(w["renewal_possible"], false);
    assert_eq!(w["renewal_possible_now"], true);
    let w = e.json("membership what-if --expire-before 2027-01-01 --now 2026-01-10");
    assert_eq!(
        w["lost"],
        serde_json::json!([]),
        "exams without expiry never expire"
    );
    assert_eq!(w["renewal_possible"], true);
    let err = e.fails(&["membership", "what-if", "--now", "2026-01-10"]);
    assert!(err.contains("--remove-user"), "{err}");
    assert_eq!(e.db_bytes(), before, "what-if wrote to the database");
    assert_eq!(
        e.json(&["membership", "alerts", "--all"]),
        serde_json::json!([])
    );
    let users = e.json(&["users", "list"]);
    assert!(
        users
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == ann)
    );
    assert_eq!(users.as_array().unwrap().len(), 2);
}

#[test]
fn demo_runs_in_its_own_database_and_exits_zero() {
    let e = Env::new();
    let db = e.path("demo/demo.db");
    let (code, out, err) = e.run(&["demo", "--db", db.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Upgrade to Silver"), "{out}");
    assert!(out.contains(ALERT_TEXT), "{out}");
    assert!(out.contains("exit status is 4"), "{out}");
    assert!(db.exists());
    assert!(!e.db().exists(), "the demo wrote to COMPETENCY_DB");
    // Its files are in a new private folder beside it (issue 10 item 7).
    assert!(e.path("demo/demo-files/demo-credentials.csv").exists());
    assert_eq!(common::mode(&e.path("demo/demo-files")), 0o700);
    // The database is usable afterwards, and the story left one open alert.
    let alerts = e.json(&["--db", db.to_str().unwrap(), "membership", "alerts"]);
    assert_eq!(alerts.as_array().unwrap().len(), 1);
    // An existing file is refused.
    let err = e.fails(&["demo", "--db", db.to_str().unwrap()]);
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn demo_without_arguments_uses_a_new_temporary_folder() {
    let e = Env::new();
    let out = e
        .cmd()
        .env("TMPDIR", e.dir.path())
        .arg("demo")
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!e.db().exists(), "the demo wrote to COMPETENCY_DB");
    let made: Vec<_> = std::fs::read_dir(e.dir.path())
        .unwrap()
        .filter_map(|d| d.ok())
        .filter(|d| {
            d.file_name()
                .to_string_lossy()
                .starts_with("competency-demo-")
        })
        .collect();
    assert_eq!(made.len(), 1);
    assert!(made[0].path().join("demo.db").exists());
}

#[test]
fn a_users_import_that_severs_an_msa_alerts_the_organization_that_lost_it() {
    let (e, _, _) = silver_since_day_two();
    e.add_org("Fabrikam", "7654321", RULEBOOK, "2026-01-03");
    std::fs::write(
        e.path("staff.csv"),
        "email,name,msa\nbob@fabrikam.com,Bob,bob@outlook.com\n",
    )
    .unwrap();
    let (code, _, err) = e.run(
        "--org 7654321 users import staff.csv --credentials-file fab.csv \
         --now 2026-01-04",
    );
    fabrikam_command_alerted_contoso(code, &err);
    let a = e.json("--org 1234567 membership alerts --now 2026-01-04");
    assert_eq!(a.as_array().unwrap().len(), 1);
    let cause = a[0]["cause"].as_str().unwrap();
    assert!(
        cause.contains("severed") && cause.contains("users import"),
        "{cause}"
    );
    let (code, _, _) = e.run("--org 1234567 membership check --now 2026-01-05");
    assert_eq!(code, 4);
}

/// Issue 9 item 2: the profile and the Silver → Gold discount are judged from the recorded
/// history ("attained at any instant since the term began"), so a `membership check` run
/// before or not changes nothing.
#[test]
fn profile_and_gold_discount_do_not_depend_on_a_prior_check() {
    let story = |with_check: bool| {
        let e = setup();
        // Silver bought on Data alone; Cloud becomes met at Silver only later in the term.
        person(&e, "carol", "CERT-X", "2025-12-01", "2026-01-01");
        e.ok("membership upgrade --level silver --now 2026-01-02");
        two_people_at(&e, "2026-02-01");
        if with_check {
            e.check("2026-02-15");
        }
        assert_eq!(e.competency_level("cloud", "2026-02-16"), "silver");
        let profile = e.json(&["membership", "profile", "--now", "2026-02-16"]);
        let shown: Vec<&str> = profile["competencies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert_eq!(shown, ["cloud", "data"], "with_check={with_check}");
        person(&e, "dave", "AZ-1", "2026-03-01", "2026-03-01");
        let gold = e.json("membership upgrade --level gold --now 2026-03-05");
        gold["fee_usd"].as_f64().unwrap()
    };
    assert_eq!(story(false), 3000.0);
    assert_eq!(story(true), 3000.0);
}

/// Ann (AZ-1) and Bob (AZ-2) added at `now`.
fn two_people_at(e: &Env, now: &str) {
    person(e, "ann", "AZ-1", "2025-12-01", now);
    person(e, "bob", "AZ-2", "2025-12-01", now);
}

/// A rulebook whose only competency needs one AZ-1 holder and an active-usage level (the
/// latest figure counts, so a lower figure on a new date lowers it).
const USAGE_RULEBOOK: &str = r#"
[program]
name = "Test program"
progress_delay_hours = 24
term_months = 12
renewal_opens_days = 30
grace_days = 30
metric_window_days = 365
retired_grace_months = 12

[fees]
silver = 1000
gold = 4000

[[catalog]]
code = "AZ-1"
title = "Azure one"
kind = "exam"

[competencies.modern]
name = "Modern Work"
area = "Test"

[[competencies.modern.silver]]
option = "Usage"
people = [ { count = 1, any_of = [["AZ-1"]] } ]
metrics = [ { metric = "active-usage", at_least = 1000 } ]
"#;

/// Modern Work met at Silver and bought on 2026-01-03 (1,500 active users on 2026-01-01).
fn usage_silver() -> Env {
    let e = Env::new();
    std::fs::write(e.path("usage.toml"), USAGE_RULEBOOK).unwrap();
    e.add_org("Contoso Ltd", "1234567", "usage.toml", "2026-01-01");
    person(&e, "ann", "AZ-1", "2025-12-01", "2026-01-01");
    e.record("active-usage", "", "1500", "2026-01-01", "2026-01-02");
    e.ok("membership upgrade --level silver --now 2026-01-03");
    e
}

#[test]
fn a_lower_figure_recorded_on_a_new_date_alerts_at_once_with_the_record_as_cause() {
    let e = usage_silver();
    let (code, _, err) = e.run(
        "performance record --metric active-usage --value 800 --date 2026-02-01 \
         --now 2026-02-02T09:00:00Z",
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(ALERT_TEXT), "the record alerts at once: {err}");
    let cause = "active-usage of 2026-02-01 recorded: 800";
    assert!(err.contains(cause), "{err}");
    // Recorded with its cause and its instant, before any cron check.
    let a = e.json("membership alerts --now 2026-02-02T09:00:00Z");
    assert_eq!(a.as_array().unwrap().len(), 1, "{a}");
    assert_eq!(a[0]["cause"], cause, "{a}");
    assert_eq!(a[0]["raised"], "2026-02-02T09:00:00Z");
    assert!(
        a[0]["requirement"]
            .as_str()
            .unwrap()
            .contains("have 800, need 1,000"),
        "{a}"
    );
    // The check finds it open and does not raise it again.
    let (code, j) = e.check("2026-02-02T10:00:00Z");
    assert_eq!(code, 4, "{j}");
    assert_eq!(j["alerts"].as_array().unwrap().len(), 1, "{j}");
    // A figure back above the threshold closes it at once too.
    e.record("active-usage", "", "1200", "2026-02-03", "2026-02-03");
    assert_eq!(
        e.json("membership alerts --now 2026-02-03"),
        serde_json::json!([])
    );
}

#[test]
fn a_performance_import_of_a_lower_figure_alerts_at_once_naming_the_file() {
    let e = usage_silver();
    std::fs::write(
        e.path("march.csv"),
        "metric,value,date\nactive-usage,700,2026-03-01\n",
    )
    .unwrap();
    let (code, _, err) = e.run("performance import march.csv --now 2026-03-02");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(ALERT_TEXT), "the import alerts at once: {err}");
    let cause = "1 performance record(s) added by an import of march.csv";
    assert!(err.contains(cause), "{err}");
    let a = e.json("membership alerts --now 2026-03-02");
    assert_eq!(a[0]["cause"], cause, "{a}");
    // A dry run of another lower figure writes and raises nothing.
    std::fs::write(
        e.path("april.csv"),
        "metric,value,date\nactive-usage,600,2026-04-01\n",
    )
    .unwrap();
    let (code, _, err) = e.run("performance import april.csv --dry-run --now 2026-04-02");
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains(ALERT_TEXT), "{err}");
}

/// Issue 27 item 4: severing is worded once, for single links and imports alike. The users
/// import recorded "MSA of USER severed (linked to Fabrikam by a users import)": unlike a
/// single link's cause it did not name the MSA Contoso lost, and it named the organization
/// that took it where a single link says "another organization".
#[test]
fn a_users_import_that_severs_an_msa_records_the_cause_a_single_link_records() {
    let (e, _, bob) = silver_since_day_two();
    e.add_org("Fabrikam", "7654321", RULEBOOK, "2026-01-03");
    std::fs::write(
        e.path("staff.csv"),
        "email,name,msa\nbob@fabrikam.com,Bob,bob@outlook.com\n",
    )
    .unwrap();
    let (code, _, err) =
        e.run("--org 7654321 users import staff.csv --credentials-file fab.csv --now 2026-01-04");
    fabrikam_command_alerted_contoso(code, &err);
    let a = e.json("--org 1234567 membership alerts --now 2026-01-04");
    assert_eq!(
        a[0]["cause"],
        format!(
            "MSA bob@outlook.com of {bob} severed (linked to another organization by a users \
             import)"
        )
    );
}
