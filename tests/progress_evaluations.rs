//! Progress and Ctrl-C in evaluations (issue 17): judging a large organization reports
//! named phases ("loading the organization", "evaluating N people", the term's attainments,
//! the expiries, a designations window) through the domain's progress trait, and a SIGINT
//! at one of those points stops `membership check` / `designations list` with exit 130 and
//! nothing changed. The SIGINT is sent at a progress point (the hidden hold hook), never at
//! a clock time.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::Env;
use competency::api::domain::accounts::Actor;
use competency::api::domain::progress::Recording;
use competency::api::domain::{designations, membership};
use competency::api::store::Store;

/// How long any wait here may take: past it the test fails instead of hanging.
const DEADLINE: Duration = Duration::from_secs(120);

const RULEBOOK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/membership-rulebook.toml"
);

/// People in the "large" organization: enough for every phase to run over real data, few
/// enough to build quickly.
const PEOPLE: usize = 2000;

/// Imports `PEOPLE` employees with MSAs, each holding `code` (and every tenth `extra`).
fn populate(e: &Env, code: &str, extra: Option<&str>, now: &str) {
    let mut users = String::from("email,name,msa\n");
    let mut achievements = String::from("msa,code,earned,expires\n");
    for i in 0..PEOPLE {
        users.push_str(&format!("p{i}@contoso.com,Person {i},p{i}@outlook.com\n"));
        achievements.push_str(&format!("p{i}@outlook.com,{code},2025-12-01,\n"));
        if let Some(x) = extra.filter(|_| i % 10 == 0) {
            achievements.push_str(&format!("p{i}@outlook.com,{x},2025-12-01,\n"));
        }
    }
    std::fs::write(e.path("users.csv"), users).unwrap();
    std::fs::write(e.path("achievements.csv"), achievements).unwrap();
    e.ok(&[
        "users",
        "import",
        "users.csv",
        "--credentials-file",
        "creds.csv",
        "--now",
        now,
    ]);
    e.ok(&["achievements", "import", "achievements.csv", "--now", now]);
}

/// An organization of `PEOPLE` on the small membership rulebook with a Silver membership
/// bought on 2026-01-02 (Cloud met by everyone; Data by every tenth, whose CERT-X expires
/// before the anniversary).
fn member_org() -> Env {
    let e = Env::with_rulebook(RULEBOOK);
    populate(&e, "AZ-1", Some("CERT-X"), "2026-01-01");
    e.ok(&[
        "membership",
        "upgrade",
        "--level",
        "silver",
        "--now",
        "2026-01-02",
    ]);
    e
}

/// An organization of `PEOPLE` on the `solutions-partner` rulebook, each with AZ-104.
fn designations_org() -> Env {
    let e = Env::with_rulebook(&common::data("solutions-partner-2023.toml"));
    populate(&e, "AZ-104", None, "2026-01-01");
    e
}

fn actor(day: &str) -> Actor {
    Actor {
        name: "t".into(),
        at: competency::api::support::clock::midnight(
            chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap(),
        ),
    }
}

/// What a command may change, as text: the attainments (with their last-met instants), the
/// alerts and the audit trail.
fn state(env: &Env) -> String {
    let mut db = env.open_db();
    let mut one = |sql: &str| -> String {
        db.query(sql, &[])
            .iter()
            .map(|r| r.iter().map(|v| v.shown()).collect::<Vec<_>>().join(":"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    [
        one(
            "SELECT term_id, competency, level, last_met_at FROM membership_attainments \
             ORDER BY term_id, competency, level",
        ),
        one("SELECT count(*), max(id) FROM membership_alerts"),
        one("SELECT count(*), max(id) FROM audit"),
    ]
    .join("\n")
}

/// Runs the command held at the first phase whose name starts with `phase` (the hidden
/// test hook), sends SIGINT once it got there, and returns (exit code, stderr).
fn interrupt(env: &Env, phase: &str, args: &[&str]) -> (i32, String) {
    let marker = env.path("held");
    let _ = std::fs::remove_file(&marker);
    let child = env.spawn_held(phase, &marker, args);
    let out = common::interrupt_when_held(
        child,
        &marker,
        &format!("the phase {phase:?}"),
        DEADLINE,
        || {},
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn membership_check_reports_loading_evaluating_attainments_and_expiries_in_order() {
    let e = member_org();
    let mut store = Store::open(&e.db()).unwrap();
    let org = store.read(|db| Ok(db.orgs()?.remove(0))).unwrap();
    let rec = Arc::new(Recording::default());
    let actor = actor("2026-02-01");
    let check = store
        .write(|db| membership::check_reported(db, &org, &actor, &*rec))
        .unwrap();
    assert!(!check.displayed.is_empty());
    assert_eq!(
        rec.phases(),
        vec![
            "loading the organization".to_owned(),
            "evaluating 2,000 people".to_owned(),
            "judging attainments since 2026-01-02".to_owned(),
            "judging expiries before 2027-01-02".to_owned(),
        ]
    );
}

#[test]
fn a_designations_window_reports_loading_scoring_and_the_window_in_order() {
    let e = designations_org();
    let mut store = Store::open(&e.db()).unwrap();
    let org = store.read(|db| Ok(db.orgs()?.remove(0))).unwrap();
    let rec = Arc::new(Recording::default());
    let at = actor("2026-02-01").at;
    let list = store
        .read(|db| designations::list_reported(db, &org, at, false, &*rec))
        .unwrap();
    assert!(!list.is_empty());
    let phases = rec.phases();
    assert_eq!(
        phases[..2],
        [
            "loading the organization".to_owned(),
            "scoring designations for 2,000 people".to_owned(),
        ]
    );
    assert_eq!(phases.len(), 3, "{phases:?}");
    assert!(
        phases[2].starts_with("judging the designations window since "),
        "{phases:?}"
    );
}

#[test]
fn sigint_while_membership_check_judges_expiries_changes_nothing() {
    let e = member_org();
    // Held after the attainments were written in the check's transaction: the rollback
    // must take them back.
    let before = check_interrupted_at(&e, "judging expiries");
    // Without the interruption the same check does write (so the comparison above can fail).
    e.run(&["membership", "check", "--now", "2026-02-01"]);
    assert_ne!(state(&e), before);
}

#[test]
fn sigint_while_membership_check_evaluates_changes_nothing() {
    let e = member_org();
    check_interrupted_at(&e, "evaluating");
}

/// Interrupts `membership check` at `phase` and asserts it exits 130 having changed
/// nothing; returns the state it left (the state before).
fn check_interrupted_at(e: &Env, phase: &str) -> String {
    let before = state(e);
    let (code, err) = interrupt(e, phase, &["membership", "check", "--now", "2026-02-01"]);
    assert_eq!(code, 130, "{err}");
    assert_eq!(err.trim_end(), "interrupted: nothing was changed");
    assert_eq!(state(e), before);
    before
}

#[test]
fn sigint_during_a_designations_window_exits_130() {
    let e = designations_org();
    let before = e.db_bytes();
    let (code, err) = interrupt(
        &e,
        "judging the designations window",
        &["designations", "list", "--now", "2026-02-01"],
    );
    assert_eq!(code, 130, "{err}");
    assert_eq!(err.trim_end(), "interrupted: nothing was changed");
    assert_eq!(e.db_bytes(), before, "the database changed");
}
