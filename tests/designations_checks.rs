//! Designations through the binary (SPEC §9, issue 24 items 7, 9, 10): what-if's `--set`
//! validated as `performance record`, designation CSV as data, the check's designation
//! alerts and wording, and people who only fill a gate counting in what-if.

mod common;

use common::Env;

/// Infrastructure at exactly 70 on its enterprise track (see `Env::azure_team`): Eve's
/// AZ-104 only fills the intermediate gate. Returns the environment and Eve's user name.
fn azure() -> (Env, String) {
    let e = Env::with_rulebook("solutions-partner");
    let [.., eve] = e.azure_team();
    e.ok("designations track infrastructure enterprise --since 2026-01-01 --now 2026-01-02");
    (e, eve)
}

/// The parsed CSV: the header, then each row, as strings (quoted cells may hold commas;
/// none of these outputs has a doubled quote or a line break in a cell).
fn csv(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .map(|l| {
            let mut cells = Vec::new();
            let mut cur = String::new();
            let mut quoted = false;
            for ch in l.chars() {
                match ch {
                    '"' => quoted = !quoted,
                    ',' if !quoted => cells.push(std::mem::take(&mut cur)),
                    c => cur.push(c),
                }
            }
            cells.push(cur);
            cells
        })
        .collect()
}

#[test]
fn what_if_set_refuses_an_unknown_metric_scope_track_or_association_with_the_accepted_ones() {
    let (e, _) = azure();
    let now = "--now 2026-03-01";
    for (set, says) in [
        ("bogus=3", "net-customer-adds"),
        ("net-customer-adds:nope=3", "azure"),
        ("net-customer-adds:azure:smb=3", "no track or association"),
        ("net-customer-adds:azure::cpor=3", "no track or association"),
        ("net-customer-adds:azure::zzz=3", "cpor, dpor or csp"),
        (
            "usage-growth:modern-work=5",
            "track smb with association csp",
        ),
    ] {
        let err = e.fails_with(format!("designations what-if --set {set} {now}"), 1);
        assert!(err.contains(says), "{set}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // What the rulebook declares is accepted.
    let w = e.json(format!(
        "designations what-if --set net-customer-adds:azure=0 {now}"
    ));
    let infra = common::listed(&w, "infrastructure");
    assert_eq!(infra["score_after"].as_f64(), Some(40.0), "{w}");
    e.ok(format!(
        "designations what-if --set usage-growth:modern-work:smb:csp=2000 {now}"
    ));
}

#[test]
fn designation_csv_is_data_one_row_per_record_with_ids_raw_numbers_and_booleans() {
    let (e, eve) = azure();
    let now = "--now 2026-09-01";
    e.ok(format!("designations enrol infrastructure {now}"));

    let list = csv(&e.ok(format!("designations list --format csv {now}")));
    assert_eq!(
        list[0],
        [
            "id",
            "track",
            "track_set",
            "score",
            "threshold",
            "qualified",
            "state",
            "anniversary"
        ]
    );
    assert_eq!(list.len(), 7, "every designation: {list:?}");
    let infra = list.iter().find(|r| r[0] == "infrastructure").unwrap();
    assert_eq!(
        infra,
        &[
            "infrastructure",
            "enterprise",
            "true",
            "70",
            "70",
            "true",
            "enrolled",
            "2027-09-01"
        ]
    );
    let ba = list
        .iter()
        .find(|r| r[0] == "business-applications")
        .unwrap();
    assert_eq!(&ba[1..7], ["", "false", "0", "70", "false", "not-started"]);

    let score = csv(&e.ok(format!("designations score --format csv {now}")));
    assert_eq!(score[0][0], "id");
    let widths: std::collections::BTreeSet<usize> = score.iter().map(Vec::len).collect();
    assert_eq!(widths.len(), 1, "the same columns on every row: {score:?}");
    let nca = score
        .iter()
        .find(|r| r[0] == "infrastructure" && r[1] == "enterprise" && r[5] == "net-customer-adds")
        .unwrap_or_else(|| panic!("{score:?}"));
    assert_eq!(
        (&nca[2], &nca[3], &nca[4], &nca[8], &nca[9], &nca[10]),
        (
            &"true".to_owned(),
            &"70".to_owned(),
            &"true".to_owned(),
            &"3".to_owned(),
            &"30".to_owned(),
            &"30".to_owned()
        )
    );
    for id in [
        "business-applications",
        "data-ai",
        "digital-app-innovation",
        "modern-work",
        "security",
    ] {
        assert!(score.iter().any(|r| r[0] == id), "{id} in {score:?}");
    }

    let w = csv(&e.ok(format!(
        "designations what-if --remove-user {eve} --format csv {now}"
    )));
    assert_eq!(
        w[0],
        [
            "id",
            "score_now",
            "qualified_now",
            "score_after",
            "qualified_after",
            "changes"
        ]
    );
    assert_eq!(w.len(), 7, "{w:?}");
    let infra = w.iter().find(|r| r[0] == "infrastructure").unwrap();
    assert_eq!(&infra[1..5], ["70", "true", "58", "false"]);

    e.ok("performance record --metric net-customer-adds --scope azure --value 0 --date 2026-09-02 --now 2026-09-02");
    let alerts = csv(&e.ok("designations alerts --format csv --now 2026-09-03"));
    assert_eq!(
        alerts[0],
        [
            "raised",
            "designation",
            "items",
            "cause",
            "open",
            "closed",
            "close_reason"
        ]
    );
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert_eq!(alerts[1][1], "infrastructure");
    assert_eq!(alerts[1][4], "true");
}

#[test]
fn what_if_removing_a_person_who_only_fills_a_gate_stops_qualifying() {
    let (e, eve) = azure();
    let w = e.json(format!(
        "designations what-if --remove-user {eve} --now 2026-03-01"
    ));
    let infra = common::listed(&w, "infrastructure");
    assert_eq!(
        (
            infra["score_now"].as_f64(),
            infra["score_after"].as_f64(),
            infra["qualified_after"].as_bool()
        ),
        (Some(70.0), Some(58.0), Some(false)),
        "{w}"
    );
}

const SENTENCE: &str = "A recent change has put your Solutions Partner designation renewal at risk";

/// [`azure`] enrolled on 2026-03-01 (anniversary 2027-03-01, whose window begins on
/// 2026-10-01), then a lower net-customer-adds on a new date, 2026-10-05: the stderr of
/// that `performance record`.
fn dropped() -> (Env, String) {
    let (e, _) = azure();
    e.ok("designations enrol infrastructure --now 2026-03-01");
    let (_, err) = e.exits(
        "performance record --metric net-customer-adds --scope azure --value 0 --date 2026-10-05 --now 2026-10-05",
        0,
    );
    (e, err)
}

#[test]
fn a_lower_record_on_a_new_date_records_the_designation_alert_at_once_with_what_fell_and_why() {
    let (e, err) = dropped();
    assert!(err.contains(SENTENCE), "{err}");
    let alerts = e.json("designations alerts --now 2026-10-05");
    let a = &alerts[0];
    assert_eq!(a["designation"], "infrastructure", "{alerts}");
    assert_eq!(a["message"], SENTENCE);
    assert!(
        a["items"]
            .as_str()
            .unwrap()
            .contains("net-customer-adds: 0, 0 of 30 points, was 30"),
        "{a}"
    );
    assert!(
        a["cause"]
            .as_str()
            .unwrap()
            .contains("net-customer-adds of 2026-10-05 recorded: 0"),
        "{a}"
    );
}

#[test]
fn the_check_prints_open_designation_alerts_and_never_says_qualifies_of_one_that_does_not() {
    let (e, _) = dropped();
    let now = "2026-10-06";
    let (_, v) = e.check(now);
    let held = common::listed(&v["designations"], "infrastructure");
    assert_eq!(held["qualified"], false, "{v}");
    assert_eq!(
        held["reason"],
        "qualified on 2026-10-01 in the window; does not qualify now: net-customer-adds 0 of 30; \
         total 40 of 70",
        "{v}"
    );
    let alerts = v["designation_alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{v}");
    assert_eq!(alerts[0]["message"], SENTENCE);
    assert_eq!(alerts[0]["designation"], "infrastructure");

    let (out, _) = e.exits(format!("membership check --now {now}"), 0);
    assert!(out.contains(SENTENCE), "{out}");
    assert!(
        out.contains("net-customer-adds: 0, 0 of 30 points, was 30"),
        "{out}"
    );
    let row = out
        .lines()
        .find(|l| l.contains("Infrastructure") && l.contains("2027-03-01"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(!row.contains("qualifies"), "{row}");
}

#[test]
fn before_its_window_the_check_says_what_a_dropped_designation_lacks() {
    let (e, _) = azure();
    e.ok("designations enrol infrastructure --now 2026-09-01");
    e.ok("performance record --metric net-customer-adds --scope azure --value 0 --date 2026-09-02 --now 2026-09-02");
    let (code, v) = e.check("2026-09-03");
    assert_eq!(code, 3, "{v}");
    let held = common::listed(&v["designations"], "infrastructure");
    assert_eq!(
        held["reason"],
        "does not qualify now: net-customer-adds 0 of 30; total 40 of 70; the window of the \
         2027-09-01 anniversary begins on 2027-04-01",
        "{v}"
    );
    // The advice is about the designation, not about expiring achievements there are none of.
    let (out, _) = e.exits("membership check --now 2026-09-03", 3);
    assert!(out.contains("A designation does not qualify now"), "{out}");
    assert!(!out.contains("expiring achievements"), "{out}");
}

#[test]
fn the_report_counts_designation_alerts_in_its_tile_and_lists_them() {
    let (e, _) = dropped();
    e.ok("report --now 2026-10-06 --out r.html");
    let page = std::fs::read_to_string(e.path("r.html")).unwrap();
    assert!(
        page.contains("Open alerts</a><b class=\"bad\">1</b>"),
        "the tile counts it"
    );
    let table = page
        .split("id=\"designation-alerts-table\"")
        .nth(1)
        .expect("the alerts section lists it");
    assert!(table.contains("data-designation=\"infrastructure\""));
    assert!(table.contains("net-customer-adds: 0, 0 of 30 points, was 30"));
    assert!(page.contains(SENTENCE));
}

/// Issue 27 item 4: `designations track` re-evaluated the designations itself and printed
/// the alerts it raised, which the committed write prints too: each alert appeared twice.
/// Through `effects` it is printed once, with the classification as its cause.
#[test]
fn a_classification_that_raises_a_designation_alert_prints_it_once() {
    let (e, _) = azure();
    e.ok("designations enrol infrastructure --now 2026-03-01");
    // The certifications and figures of 2026-01-01 no longer count a year on: the first
    // command that evaluates finds Infrastructure short.
    let (_, err) = e.exits(
        "designations track infrastructure enterprise --since 2026-01-01 --now 2027-01-05",
        0,
    );
    assert_eq!(err.matches("alert:").count(), 1, "{err}");
    assert!(err.contains(SENTENCE), "{err}");
    assert!(
        err.contains("(cause: classified enterprise for infrastructure)"),
        "{err}"
    );
}
