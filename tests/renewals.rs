//! `achievements renewals` and the renewals `membership check` warns about (SPEC §9b),
//! through the binary: which certifications to renew, when their renewal opens, what each
//! carries, and that a renewal (a later expiry) clears the row.

mod common;

use common::Env;
use serde_json::Value;

const RULEBOOK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/membership-rulebook.toml"
);
const NOW: &str = "2026-03-01";

/// Ann (AZ-1), Bob (AZ-2), Dan (AZ-2) and Eve (AZ-1 with its own expiry on 2026-05-01):
/// Cloud needs two of them for Silver and three for Gold, so nobody relies on Eve's. Cat holds the only CERT-X (valid 365 days,
/// earned 2025-07-01: it stops counting on 2026-07-01), which Data Silver relies on.
/// Silver bought on 2026-01-02.
fn org() -> Env {
    let e = Env::with_rulebook(RULEBOOK);
    e.cloud_pair();
    e.person("dan", &["AZ-2"], "2025-12-01", "2026-01-01");
    e.person("cat", &["CERT-X"], "2025-07-01", "2026-01-01");
    let (_, eve) = e.employee("eve", "2026-01-01");
    e.ok(format!(
        "achievements add --msa {eve} --code AZ-1 --earned 2025-12-01 --expires 2026-05-01 --now 2026-01-01"
    ));
    e.ok("membership upgrade --level silver --now 2026-01-02");
    e
}

fn renewals(e: &Env, extra: &str) -> Vec<Value> {
    e.json(format!("achievements renewals --now {NOW} {extra}"))
        .as_array()
        .cloned()
        .expect("an array")
}

#[test]
fn a_relied_on_certification_is_listed_with_its_window_and_what_it_carries() {
    let e = org();
    let rows = renewals(&e, "");
    assert_eq!(rows.len(), 1, "only Cat's CERT-X is relied on: {rows:?}");
    let r = &rows[0];
    assert!(r["username"].as_str().unwrap().starts_with("cat@"), "{r}");
    assert_eq!(r["msa"], "cat@outlook.com");
    assert_eq!(r["code"], "CERT-X");
    assert_eq!(r["title"], "A certification valid one year");
    assert_eq!(r["expires"], "2026-07-01");
    // Microsoft opens the renewal 180 days before expiry.
    assert_eq!(r["renewal_opens"], "2026-01-02");
    assert_eq!(r["days_left"], 122);
    assert_eq!(r["renewable"], true);
    assert_eq!(r["relied_on"], true);
    assert_eq!(r["carries"], serde_json::json!(["Data silver breaks"]));

    // Within 60 days it is not due yet; --user narrows to one person.
    assert!(renewals(&e, "--within 60").is_empty());
    assert!(renewals(&e, "--user eve@contoso.com").is_empty());
    assert_eq!(renewals(&e, "--user cat@contoso.com").len(), 1);

    // The table says what it carries; CSV is one row per certification for a planner.
    let text = e.ok(format!("achievements renewals --now {NOW}"));
    assert!(
        text.contains("Data silver breaks") && text.contains("2026-01-02"),
        "{text}"
    );
    let csv = e.ok(format!("achievements renewals --now {NOW} --format csv"));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "username,msa,code,title,expires,renewal_opens,days_left,renewable,replacement,relied_on,carries"
    );
    assert!(
        lines[1].ends_with(",cat@outlook.com,CERT-X,A certification valid one year,2026-07-01,2026-01-02,122,true,,true,Data silver breaks"),
        "{csv}"
    );
}

#[test]
fn one_nothing_relies_on_is_listed_only_with_all() {
    let e = org();
    let all = renewals(&e, "--all");
    let codes: Vec<(&str, &str, bool)> = all
        .iter()
        .map(|r| {
            (
                r["msa"].as_str().unwrap(),
                r["code"].as_str().unwrap(),
                r["relied_on"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("eve@outlook.com", "AZ-1", false),
            ("cat@outlook.com", "CERT-X", true)
        ],
        "sorted by expiry"
    );
    assert_eq!(all[0]["carries"], serde_json::json!([]));
}

#[test]
fn the_check_warns_for_an_open_relied_on_renewal_and_a_renewal_clears_it() {
    let e = org();
    let (code, out, err) = e.run(&["membership", "check", "--now", NOW, "--format", "json"]);
    assert_eq!(code, 3, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let listed: Vec<&str> = v["renewals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["CERT-X"], "{v}");
    let (_, text, _) = e.run(&["membership", "check", "--now", NOW]);
    assert!(
        text.contains("Certifications to renew now") && text.contains("CERT-X"),
        "{text}"
    );

    // Cat renews: a record with a later expiry. The row leaves the list and the check.
    e.ok(format!(
        "achievements add --msa cat@outlook.com --code CERT-X --earned {NOW} --expires 2027-07-01 --now {NOW}"
    ));
    assert!(renewals(&e, "").is_empty());
    let v = e.json(format!(
        "achievements renewals --now {NOW} --all --user cat@contoso.com"
    ));
    assert_eq!(
        v,
        serde_json::json!([]),
        "the renewed one expires beyond the window"
    );
    let (_, out, _) = e.run(&["membership", "check", "--now", NOW, "--format", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["renewals"], serde_json::json!([]), "{v}");
    // Once the renewed record counts (24 hours on), nothing expires before the anniversary.
    let (code, out, _) = e.run(&[
        "membership",
        "check",
        "--now",
        "2026-03-03",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}");
}

/// The embedded 2026 rulebook, Infrastructure (Azure) classified Enterprise at exactly 70:
/// 30 (3 customers) + 20 (20 %) + 4 (2 deployments) + 12 (3 of 5 at intermediate, gate 2 ×
/// Azure Administrator: Ann and Eve) + 4 (1 of 5 at advanced, gate 2 × AZ-305). Eve's AZ-104
/// only fills the gate; every certification was earned 2026-01-01 and is valid a year.
fn azure() -> Env {
    let e = Env::with_rulebook("solutions-partner");
    e.azure_team();
    e.ok("designations track infrastructure enterprise --since 2026-01-01 --now 2026-01-02");
    e
}

#[test]
fn a_gate_holders_certification_is_relied_on_with_its_effect_and_the_report_and_check_show_it() {
    let e = azure();
    let now = "2026-09-01";
    let list = e.json(format!("designations list --now {now}"));
    let infra = common::listed(&list, "infrastructure");
    assert_eq!(
        (infra["score"].as_f64(), infra["qualified"].as_bool()),
        (Some(70.0), Some(true)),
        "{list}"
    );
    let rows = renewals_at(&e, now, "");
    let eve = rows
        .iter()
        .find(|r| r["msa"] == "eve@outlook.com" && r["code"] == "AZ-104")
        .unwrap_or_else(|| panic!("Eve's AZ-104 fills a gate: {rows:?}"));
    assert_eq!(eve["expires"], "2027-01-01");
    assert_eq!(eve["renewal_opens"], "2026-07-05");
    assert_eq!(eve["days_left"], 122);
    let carries: Vec<&str> = eve["carries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        carries
            .iter()
            .any(|c| c.contains("70 → 58: stops qualifying")),
        "{carries:?}"
    );
    assert!(
        carries.contains(&"gate of intermediate: 1 of 2 Azure Administrator Associate"),
        "{carries:?}"
    );

    // Enrolled, the check warns (its renewal is open) and names it.
    e.ok(format!("designations enrol infrastructure --now {now}"));
    let (code, out, err) = e.run(&["membership", "check", "--now", now, "--format", "json"]);
    assert_eq!(code, 3, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["renewals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["msa"] == "eve@outlook.com" && r["code"] == "AZ-104"),
        "{v}"
    );

    // The report's timeline shows it, with what it carries.
    e.ok(format!("report --now {now} --out r.html"));
    let page = std::fs::read_to_string(e.path("r.html")).unwrap();
    assert!(
        page.contains("gate of intermediate: 1 of 2 Azure Administrator Associate"),
        "the timeline names the gate"
    );
}

fn renewals_at(e: &Env, now: &str, extra: &str) -> Vec<Value> {
    e.json(format!("achievements renewals --now {now} {extra}"))
        .as_array()
        .cloned()
        .expect("an array")
}

/// Bug: the relied-on analysis judged an enrolled Azure designation on the track Partner
/// Center classifies the partner into now, while its term keeps the track it was enrolled on
/// (SPEC §9) — as `designations score` judges it. Enrolled on SMB (one Azure Administrator
/// fills the intermediate gate, and Ann holds one too), reclassified Enterprise mid-term
/// (where that gate needs two): Eve's AZ-104 still carries nothing this term.
#[test]
fn an_azure_term_is_judged_on_its_enrolment_track_for_what_it_relies_on() {
    let e = Env::with_rulebook("solutions-partner");
    e.azure_team();
    e.ok("designations track infrastructure smb --since 2026-01-01 --now 2026-01-02");
    e.ok("designations enrol infrastructure --now 2026-01-05");
    e.ok("designations track infrastructure enterprise --since 2026-03-01 --now 2026-03-01");
    let now = "2026-09-01";
    let list = e.json(format!("designations list --now {now}"));
    let infra = common::listed(&list, "infrastructure");
    assert_eq!(infra["track"], "smb", "{list}");
    let rows = renewals_at(&e, now, "--user eve@contoso.com");
    assert!(
        rows.is_empty(),
        "nothing relies on Eve's AZ-104 this term: {rows:?}"
    );
    // Ann's AZ-305 fills the SMB advanced gate with Cat's: not relied on either; Dan's
    // AZ-140 is the one person at advanced (4 of the 8 points above the gate).
    e.ok(format!("report --now {now} --out r.html"));
    let page = std::fs::read_to_string(e.path("r.html")).unwrap();
    assert!(
        !page.contains("gate of intermediate: 1 of 2"),
        "the report judges the term's track too"
    );
}
