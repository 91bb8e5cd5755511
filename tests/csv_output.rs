//! `--format csv` is data, not the table: one row per record, raw numbers, ISO dates,
//! true/false, no progress bars or blank continuation cells, and the same columns whatever
//! the state. Each listing command's output is parsed with the csv crate.

mod common;

use common::Env;

const RULEBOOK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/membership-rulebook.toml"
);

/// Runs a command with `--format csv` and parses it: (headers, rows).
fn csv(e: &Env, args: &[&str]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut a = args.to_vec();
    a.extend(["--format", "csv"]);
    let out = e.ok(&a);
    let mut r = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(out.as_bytes());
    let headers: Vec<String> = r
        .headers()
        .unwrap_or_else(|x| panic!("`{}`: bad CSV ({x}): {out}", args.join(" ")))
        .iter()
        .map(str::to_owned)
        .collect();
    let rows: Vec<Vec<String>> = r
        .records()
        .map(|rec| {
            rec.unwrap_or_else(|x| panic!("`{}`: bad CSV ({x}): {out}", args.join(" ")))
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect();
    for row in &rows {
        assert!(!row[0].is_empty(), "a blank continuation cell: {out}");
        for cell in row {
            assert!(
                !cell.contains('█') && !cell.contains('░'),
                "a progress bar: {out}"
            );
            assert!(!cell.ends_with(" USD"), "a unit: {out}");
        }
    }
    (headers, rows)
}

/// The column `name` of every row.
fn column(h: &[String], rows: &[Vec<String>], name: &str) -> Vec<String> {
    let i = h
        .iter()
        .position(|x| x == name)
        .unwrap_or_else(|| panic!("no column {name} in {h:?}"));
    rows.iter().map(|r| r[i].clone()).collect()
}

/// Ann and Bob hold AZ-1 and AZ-2 (Cloud met at Silver from 2026-01-02), 62,400 USD of
/// revenue is recorded, and Silver is bought on 2026-01-03.
fn story() -> Env {
    let e = Env::with_rulebook(RULEBOOK);
    e.cloud_pair();
    e.record("revenue", "", "62400", "2025-12-15", "2026-01-01");
    e
}

fn upgrade(e: &Env) {
    e.ok("membership upgrade --level silver --now 2026-01-03");
}

#[test]
fn users_list_csv() {
    let e = story();
    let (h, rows) = csv(&e, &["users", "list", "--now", "2026-01-05"]);
    assert_eq!(h, ["username", "name", "email", "status", "msa", "roles"]);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        column(&h, &rows, "msa"),
        ["ann@outlook.com", "bob@outlook.com"]
    );
}

#[test]
fn achievements_list_csv_has_iso_dates_and_booleans() {
    let e = story();
    let (h, rows) = csv(&e, &["achievements", "list", "--now", "2026-01-05"]);
    assert_eq!(
        h,
        [
            "msa", "username", "code", "kind", "earned", "expires", "counts", "reason"
        ]
    );
    assert_eq!(column(&h, &rows, "earned"), ["2025-12-01", "2025-12-01"]);
    assert_eq!(column(&h, &rows, "counts"), ["true", "true"]);
}

#[test]
fn performance_list_csv_has_raw_numbers() {
    let e = story();
    let (h, rows) = csv(&e, &["performance", "list", "--now", "2026-01-05"]);
    assert_eq!(column(&h, &rows, "value"), ["62400"]);
    assert_eq!(column(&h, &rows, "date"), ["2025-12-15"]);
}

#[test]
fn competencies_list_csv() {
    let e = story();
    let (h, rows) = csv(&e, &["competencies", "list", "--now", "2026-01-05"]);
    assert_eq!(h, ["id", "name", "area", "level"]);
    assert_eq!(column(&h, &rows, "level"), ["silver", "none"]);
}

#[test]
fn competencies_progress_csv_is_one_row_per_requirement_without_bars() {
    let e = story();
    let (h, rows) = csv(&e, &["competencies", "progress", "--now", "2026-01-05"]);
    assert_eq!(
        h,
        [
            "competency",
            "name",
            "level",
            "met",
            "option",
            "requirement",
            "have",
            "need",
            "requirement_met",
            "counted",
            "pending",
            "pending_until"
        ]
    );
    // Cloud Silver and Gold, Data Silver and Gold (Data has no Gold option: no row).
    assert!(rows.len() >= 3, "{rows:?}");
    let first = &rows[0];
    assert_eq!(first[0], "cloud");
    assert_eq!(first[3], "true");
    assert_eq!((first[6].as_str(), first[7].as_str()), ("2", "2"));
    assert_eq!(
        first[9],
        "ann@contoso-ltd.onmicrosoft.com bob@contoso-ltd.onmicrosoft.com"
    );
    for m in column(&h, &rows, "met") {
        assert!(m == "true" || m == "false", "{m}");
    }
}

#[test]
fn competencies_gaps_csv_is_one_row_per_missing_item() {
    let e = story();
    let (h, rows) = csv(&e, &["competencies", "gaps", "--now", "2026-01-05"]);
    assert_eq!(h, ["competency", "name", "level", "option", "missing"]);
    assert!(
        rows.iter().any(|r| r[0] == "cloud"
            && r[2] == "gold"
            && r[4] == "1 more person with AZ-1 or AZ-2"),
        "{rows:?}"
    );
}

#[test]
fn competencies_risk_csv() {
    let e = story();
    let (h, rows) = csv(&e, &["competencies", "risk", "--now", "2026-01-05"]);
    assert_eq!(h, ["competency", "name", "level", "critical"]);
    assert_eq!(
        rows,
        [[
            "cloud",
            "Cloud",
            "silver",
            "ann@contoso-ltd.onmicrosoft.com bob@contoso-ltd.onmicrosoft.com"
        ]]
    );
}

#[test]
fn membership_status_csv_has_the_same_columns_whatever_the_state() {
    let e = story();
    let (none_h, none_rows) = csv(&e, &["membership", "status", "--now", "2026-01-02"]);
    upgrade(&e);
    let (active_h, active_rows) = csv(&e, &["membership", "status", "--now", "2026-02-01"]);
    let (lapsed_h, lapsed_rows) = csv(&e, &["membership", "status", "--now", "2028-01-01"]);
    assert_eq!(none_h, active_h);
    assert_eq!(active_h, lapsed_h);
    assert_eq!(column(&none_h, &none_rows, "state"), ["none"]);
    assert_eq!(column(&active_h, &active_rows, "state"), ["active"]);
    assert_eq!(column(&active_h, &active_rows, "fee_usd"), ["1000"]);
    assert_eq!(
        column(&active_h, &active_rows, "anniversary"),
        ["2027-01-03"]
    );
    assert_eq!(column(&lapsed_h, &lapsed_rows, "state"), ["lapsed"]);
}

#[test]
fn membership_alerts_csv() {
    let e = story();
    upgrade(&e);
    e.ok("users remove bob@contoso.com --reason left --now 2026-02-01");
    let (h, rows) = csv(&e, &["membership", "alerts", "--now", "2026-02-02"]);
    assert_eq!(rows.len(), 1);
    assert_eq!(column(&h, &rows, "open"), ["true"]);
    assert_eq!(column(&h, &rows, "competency"), ["cloud"]);
    assert!(column(&h, &rows, "raised")[0].starts_with("2026-02-01T"));
}

#[test]
fn membership_check_csv_is_one_row_whatever_the_state() {
    let e = story();
    let (h1, r1) = csv_with_exit(&e, &["membership", "check", "--now", "2026-01-02"], 5);
    upgrade(&e);
    let (h2, r2) = csv_with_exit(&e, &["membership", "check", "--now", "2026-01-05"], 0);
    assert_eq!(h1, h2);
    assert_eq!((r1.len(), r2.len()), (1, 1));
    assert_eq!(column(&h2, &r2, "renewal_eligible"), ["true"]);
}

fn csv_with_exit(e: &Env, args: &[&str], want: i32) -> (Vec<String>, Vec<Vec<String>>) {
    let mut a = args.to_vec();
    a.extend(["--format", "csv"]);
    let (code, out, err) = e.run(&a);
    assert_eq!(code, want, "{out}{err}");
    let mut r = csv::Reader::from_reader(out.as_bytes());
    let h = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (h, rows)
}

#[test]
fn membership_profile_csv_is_one_row_per_competency() {
    let e = story();
    upgrade(&e);
    let (h, rows) = csv(&e, &["membership", "profile", "--now", "2026-01-05"]);
    assert_eq!(column(&h, &rows, "competency"), ["cloud"]);
    assert_eq!(column(&h, &rows, "membership_level"), ["silver"]);
}

#[test]
fn membership_benefits_csv() {
    let e = story();
    upgrade(&e);
    let (h, rows) = csv(&e, &["membership", "benefits", "--now", "2026-01-05"]);
    assert_eq!(h, ["level", "competency", "competency_level", "benefit"]);
    assert!(rows.iter().any(|r| r[3] == "Silver logo"), "{rows:?}");
    assert!(
        rows.iter()
            .any(|r| r[1] == "cloud" && r[3] == "Cloud credits"),
        "{rows:?}"
    );
}

#[test]
fn audit_csv() {
    let e = story();
    let (h, rows) = csv(&e, &["audit", "--now", "2026-01-05"]);
    assert_eq!(h, ["at", "actor", "action", "subject", "detail"]);
    assert!(rows.len() >= 5);
    assert!(
        column(&h, &rows, "at")
            .iter()
            .all(|a| a.starts_with("2026-01-01T"))
    );
}

#[test]
fn org_list_csv() {
    let e = story();
    let (h, rows) = csv(&e, &["org", "list"]);
    assert_eq!(column(&h, &rows, "partner_id"), ["1234567"]);
    assert_eq!(column(&h, &rows, "users"), ["2"]);
}
