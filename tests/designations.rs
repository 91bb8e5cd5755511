//! Designations (SPEC §9) as a story under the embedded `solutions-partner` rulebook:
//! scored, enrolled, a second designation added mid-term at no fee, an employee leaving,
//! the alert with its cause, `membership check` exit codes, a replacement, the renewal.

mod common;

use common::{Env, listed};

fn setup() -> Env {
    Env::with_rulebook(&common::data("solutions-partner-2023.toml"))
}

/// An employee with an MSA holding these certifications (earned 2026-01-01), added at `now`.
fn person(e: &Env, local: &str, codes: &[&str], now: &str) -> String {
    e.person(local, codes, "2026-01-01", now)
}

#[test]
fn scored_enrolled_second_added_departure_alert_replacement_renewal() {
    let e = setup();
    let [_, bob, ..] = e.azure_team();

    // Scored: 30 + 20 + 4 + 12 (ann, bob, cat) + 4 (dan) = 70: qualifies.
    let list = e.json(&["designations", "list", "--now", "2026-01-05"]);
    let infra = listed(&list, "infrastructure");
    assert_eq!(infra["score"], 70.0, "{list}");
    assert_eq!(infra["threshold"], 70.0);
    assert_eq!(infra["qualified"], true);
    assert_eq!(infra["state"], "qualified");
    // Data & AI shares the Azure figures (54 points) but has nobody at intermediate yet.
    assert_eq!(listed(&list, "data-ai")["state"], "in-progress");
    assert_eq!(listed(&list, "data-ai")["score"], 54.0);
    let score = e.json("designations score infrastructure --now 2026-01-05");
    let track = &score[0];
    assert_eq!(track["track"], "main");
    let inter = track["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "intermediate")
        .unwrap();
    assert_eq!(inter["points"], 12.0);
    assert_eq!(inter["max_points"], 20.0);
    assert_eq!(inter["kind"], "skilling");
    assert_eq!(inter["people"].as_array().unwrap().len(), 3, "{inter}");
    // Without an ID every designation is scored; `people` keeps its type (the names) so a
    // script reads one shape, and the numbers are the same.
    let all = e.json(&["designations", "score", "--now", "2026-01-05"]);
    let infra_all = listed(&all, "infrastructure");
    let inter_all = infra_all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "intermediate")
        .unwrap();
    assert_eq!(inter_all["people"], inter["people"], "{inter_all}");
    assert_eq!(inter_all["points"], 12.0);
    assert_eq!(infra_all["total"], track["total"]);
    let table = e.ok(&["designations", "score", "--now", "2026-01-05"]);
    assert!(table.contains("3 people"), "{table}");
    assert!(!table.contains("ann"), "{table}");

    // What a departure would cost, before it happens.
    let w = e.json(format!(
        "designations what-if --remove-user {bob} --now 2026-01-05"
    ));
    let wi = listed(&w, "infrastructure");
    assert_eq!(wi["score_after"], 66.0, "{w}");
    assert!(
        wi["changes"][0]
            .as_str()
            .unwrap()
            .contains("intermediate: 2 people, 8 of 20 points, was 12"),
        "{w}"
    );

    // Enrolled: the fee once, the anniversary a term later.
    let en = e.json("designations enrol infrastructure --now 2026-01-05");
    assert_eq!(en["enrolled"][0]["fee_usd"], 4730.0, "{en}");
    assert_eq!(en["enrolled"][0]["anniversary"], "2027-01-05");
    let refused = e.fails(&["designations", "enrol", "data-ai", "--now", "2026-01-05"]);
    assert!(
        refused.contains("has not qualified since 2025-08-01"),
        "{refused}"
    );
    let (code, j) = e.check("2026-01-06");
    assert_eq!(code, 0, "{j}");
    assert_eq!(j["designations"][0]["status"], "ok");

    // A second designation mid-term: no fee, the same anniversary.
    let now = "2026-03-01";
    person(&e, "fay", &["DP-203"], now);
    person(&e, "gus", &["AI-102"], now);
    person(&e, "hal", &["DP-100"], now);
    person(&e, "jon", &["DP-300", "DP-420"], now);
    let gaps = e.json(&["designations", "gaps", "--now", "2026-03-01"]);
    assert!(
        gaps.as_array()
            .unwrap()
            .iter()
            .any(|g| g["id"] == "security"),
        "{gaps}"
    );
    let en = e.json(&["designations", "enrol", "data-ai", "--now", "2026-03-03"]);
    assert_eq!(en["enrolled"][0]["fee_usd"], 0.0, "{en}");
    assert_eq!(en["enrolled"][0]["anniversary"], "2027-01-05");

    // An employee leaves before the renewal window: the alert names the item and the cause.
    let (code, _, err) = e.run(format!("users remove {bob} --reason left --now 2026-04-01"));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(
            "alert: A recent change has put your Solutions Partner designation renewal at risk"
        ),
        "{err}"
    );
    let alerts = e.json(&["designations", "alerts", "--now", "2026-04-01"]);
    assert_eq!(alerts.as_array().unwrap().len(), 1, "{alerts}");
    let a = &alerts[0];
    assert_eq!(
        a["message"],
        "A recent change has put your Solutions Partner designation renewal at risk"
    );
    assert_eq!(a["designation"], "infrastructure");
    let items = a["items"].as_str().unwrap();
    assert!(
        items.contains("intermediate: 2 people, 8 of 20 points, was 12"),
        "{items}"
    );
    assert!(items.contains("total 66 < 70"), "{items}");
    assert!(a["cause"].as_str().unwrap().contains("bob"), "{a}");

    // Before the anniversary's window (from 2026-08-01) the drop is a warning...
    let (code, j) = e.check("2026-04-02");
    assert_eq!(code, 3, "{j}");
    // ...once the window has begun without qualifying, at risk.
    let (code, j) = e.check("2026-08-02");
    assert_eq!(code, 4, "{j}");
    assert_eq!(j["status"], "at-risk");

    // A replacement certified: qualifies again, the alert closes, each designation is ok.
    // What still warns is the certifications both rely on (at exactly 70 every one counts):
    // their free renewal opened on 2026-07-05, six months before they expire (SPEC §9b).
    person(&e, "ivy", &["AZ-700"], "2026-08-10");
    let (code, j) = e.check("2026-08-12");
    assert_eq!(code, 3, "{j}");
    assert!(
        j["designations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == "ok"),
        "{j}"
    );
    assert!(
        j["renewals"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["renewal_opens"] == "2026-07-05"),
        "{j}"
    );
    let open = e.json(&["designations", "alerts", "--now", "2026-08-12"]);
    assert_eq!(open.as_array().unwrap().len(), 0, "{open}");
    let all = e.json(&["designations", "alerts", "--all", "--now", "2026-08-12"]);
    assert_eq!(all[0]["close_reason"], "qualifies again", "{all}");

    // Renewal in the window: both renewed, the fee once, the next anniversary.
    let err = e.fails(&["designations", "renew", "--now", "2026-11-01"]);
    assert!(err.contains("opens on 2026-12-06"), "{err}");
    let (code, _) = e.check("2026-12-10");
    assert_eq!(code, 3, "renewal window open");
    let r = e.json(&["designations", "renew", "--now", "2026-12-10"]);
    let rows = r["enrolled"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{r}");
    let fees: f64 = rows.iter().map(|x| x["fee_usd"].as_f64().unwrap()).sum();
    assert_eq!(fees, 4730.0);
    assert!(rows.iter().all(|x| x["anniversary"] == "2028-01-05"), "{r}");
    let list = e.json(&["designations", "list", "--now", "2027-01-10"]);
    assert_eq!(listed(&list, "data-ai")["state"], "enrolled", "{list}");
}

#[test]
fn without_membership_or_designation_the_check_is_none() {
    let e = setup();
    let (code, j) = e.check("2026-01-02");
    assert_eq!(code, 5, "{j}");
}

#[test]
fn rules_import_by_name_and_designation_metrics_may_be_negative() {
    let e = Env::new();
    e.init();
    let err = e.fails(&["designations", "list", "--now", "2026-01-02"]);
    assert!(err.contains("rules import solutions-partner"), "{err}");
    let out = e.ok("rules import solutions-partner --now 2026-01-02");
    assert!(out.contains("6 designations"), "{out}");
    e.record(
        "net-customer-adds",
        "azure",
        "-2",
        "2026-01-01",
        "2026-01-02",
    );
    let s = e.json("designations score infrastructure --now 2026-01-02");
    let nca = &s[0]["items"][0];
    assert_eq!(
        (nca["value"].as_f64(), nca["points"].as_f64()),
        (Some(-2.0), Some(0.0))
    );
    let err = e.fails(&["designations", "score", "infra", "--now", "2026-01-02"]);
    assert!(err.contains("infrastructure"), "{err}");
}

#[test]
fn severing_a_link_prints_the_other_organizations_designation_alert() {
    let e = setup();
    e.azure_team();
    e.ok("designations enrol infrastructure --now 2026-01-05");
    e.create(&[
        "--name",
        "Fabrikam",
        "--partner-id",
        "99",
        "--now",
        "2026-02-01",
    ]);
    let (code, _, err) = e.run(
        "--org fabrikam users add --name Bob --email bob@fabrikam.com \
         --credentials-file b.csv --now 2026-02-01",
    );
    assert_eq!(code, 0, "{err}");
    // Bob's MSA moves to Fabrikam: Contoso's infrastructure drops to 66 < 70.
    let (code, _, err) = e.run(
        "--org fabrikam users link-msa bob@fabrikam.com --msa bob@outlook.com \
         --now 2026-02-02",
    );
    assert_eq!(code, 0, "{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("alert: Contoso Ltd: ") && l.contains("Solutions Partner"))
        .unwrap_or_else(|| panic!("no designation alert for Contoso Ltd: {err}"));
    assert!(
        line.contains("intermediate: 2 people, 8 of 20 points, was 12"),
        "{line}"
    );
}

#[test]
fn gaps_ask_for_nobody_when_pending_certifications_make_a_designation_qualify() {
    // The team was added on 2026-01-02: its certifications count from 2026-01-03T00:00:00Z.
    let e = setup();
    e.azure_team();
    let gaps = e.json("designations gaps --now 2026-01-02T12:00:00Z");
    let infra = listed(&gaps, "infrastructure");
    assert_eq!(infra["qualifies_from"], "2026-01-03T00:00:00Z", "{gaps}");
    assert_eq!(
        infra["missing"],
        serde_json::json!([
            "nothing: qualifies from 2026-01-03T00:00:00Z once pending achievements count"
        ]),
        "{gaps}"
    );
    assert_eq!(infra["after"], 70.0, "{gaps}");
}
