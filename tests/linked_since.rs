//! `achievements import REPORT --link-users|--create-users --linked-since DATE` (SPEC §6a,
//! issue 25): the links a first import makes count from DATE, so an organization that
//! qualified before its first import keeps those months; refused where an MSA was linked
//! to another organization after DATE; the usage errors. Through the binary.

mod common;

use common::{Env, listed};
use serde_json::Value;

/// The organization's first day: it is created and imports its Lifetime report then.
const FIRST_DAY: &str = "2026-10-01T09:00:00Z";
/// An hour after the import, still on its first day.
const LATER_THAT_DAY: &str = "2026-10-01T10:00:00Z";

/// A Trainings report (2021 layout without MPNId) with one row per (title, completed,
/// MSA, CorpEmail, first name, last name).
fn report(rows: &[[&str; 6]]) -> String {
    let mut out = String::from(
        "TrainingTitle,TrainingCompletionDate,Email,CorpEmail,IndividualFirstName,IndividualLastName\n",
    );
    for r in rows {
        out.push_str(&r.join(","));
        out.push('\n');
    }
    out
}

/// Two people with AZ-400, passed in May and June: DevOps at Silver (default rulebook).
fn devops_report() -> String {
    let title = "Designing and Implementing Microsoft DevOps Solutions";
    report(&[
        [
            title,
            "2026-05-10",
            "ann@outlook.com",
            "ann@contoso.com",
            "Ann",
            "Lee",
        ],
        [
            title,
            "2026-06-20",
            "bob@outlook.com",
            "bob@contoso.com",
            "Bob",
            "Ray",
        ],
    ])
}

/// Contoso Ltd created on `now` on `rulebook` (`None`: the default one), with `report`
/// written as `r.csv`.
fn org_on(now: &str, rulebook: Option<&str>, report: &str) -> Env {
    let env = Env::new();
    let mut args = vec!["--name", "Contoso Ltd", "--partner-id", "1234567"];
    if let Some(r) = rulebook {
        args.extend(["--rulebook", r]);
    }
    args.extend(["--now", now]);
    env.create(&args);
    std::fs::write(env.path("r.csv"), report).expect("write report");
    env
}

/// `achievements import r.csv extra… --now now --format json`: (exit code, JSON, stderr).
fn import(env: &Env, extra: &[&str], now: &str) -> (i32, Value, String) {
    let mut args = vec!["achievements", "import", "r.csv", "--now", now];
    args.extend_from_slice(extra);
    args.extend(["--format", "json"]);
    let (code, out, err) = env.run(&args);
    (code, serde_json::from_str(&out).unwrap_or(Value::Null), err)
}

/// `competencies progress ID --level LEVEL` at `now`: (met, people counted).
fn progress(env: &Env, id: &str, level: &str, now: &str) -> (bool, u64) {
    let p = env.json(&[
        "--org",
        "contoso-ltd",
        "competencies",
        "progress",
        id,
        "--level",
        level,
        "--now",
        now,
    ]);
    let row = p
        .as_array()
        .and_then(|a| a.iter().find(|r| r["level"] == level))
        .unwrap_or_else(|| panic!("no {level} row: {p}"));
    let have = row["requirements"][0]["have"]
        .as_f64()
        .unwrap_or_else(|| panic!("no have: {row}"));
    (row["met"] == true, have as u64)
}

#[test]
fn a_first_import_linked_since_july_counts_from_july_and_buys_silver_on_its_first_day() {
    // Without --linked-since the links start at the import: nobody counted in August, and
    // on the import's day not even now (the progress delay of 24 hours).
    let without = org_on(FIRST_DAY, None, &devops_report());
    let (code, s, err) = import(
        &without,
        &["--create-users", "--credentials-file", "c.csv"],
        FIRST_DAY,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(s["linked"], 2, "{s}");
    assert_eq!(
        progress(&without, "devops", "silver", "2026-08-15"),
        (false, 0)
    );
    let err = without.fails(&[
        "membership",
        "upgrade",
        "--level",
        "silver",
        "--now",
        LATER_THAT_DAY,
    ]);
    assert!(err.contains("silver"), "{err}");

    // With it, the same report counts from July 1st (and the progress delay after it).
    let env = org_on(FIRST_DAY, None, &devops_report());
    let (code, s, err) = import(
        &env,
        &[
            "--create-users",
            "--credentials-file",
            "c.csv",
            "--linked-since",
            "2026-07-01",
        ],
        FIRST_DAY,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!((&s["linked"], &s["created"]), (&2.into(), &2.into()), "{s}");
    assert_eq!(s["linked_since"], "2026-07-01", "{s}");
    assert_eq!(progress(&env, "devops", "silver", "2026-08-15"), (true, 2));
    assert_eq!(
        progress(&env, "devops", "silver", "2026-07-01T12:00:00Z"),
        (false, 0)
    );
    assert_eq!(progress(&env, "devops", "silver", "2026-06-30"), (false, 0));
    env.ok(&[
        "membership",
        "upgrade",
        "--level",
        "silver",
        "--now",
        LATER_THAT_DAY,
    ]);
    // The audit trail shows the link's effective start.
    let audit = env.json("audit");
    let links: Vec<&Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "msa.link")
        .collect();
    assert_eq!(links.len(), 2, "{audit}");
    for l in links {
        let detail = l["detail"].as_str().unwrap();
        assert!(
            detail.contains("counting from 2026-07-01T00:00:00Z (--linked-since)"),
            "{detail}"
        );
        assert_eq!(l["at"], "2026-10-01T09:00:00Z", "{l}");
    }
}

#[test]
fn an_organization_enrols_on_the_day_of_its_first_import_when_it_qualified_before() {
    // The Azure team of the designations story, certified in June; the Azure figures
    // Partner Center showed in July.
    let team: [(&str, &[&str]); 5] = [
        (
            "ann",
            &[
                "Azure Administrator Associate",
                "Azure Solutions Architect Expert",
                "Azure Network Engineer Associate",
            ],
        ),
        ("bob", &["Azure Network Engineer Associate"]),
        (
            "cat",
            &[
                "Azure Solutions Architect Expert",
                "Azure Network Engineer Associate",
            ],
        ),
        ("dan", &["Azure Virtual Desktop Specialty"]),
        ("eve", &["Azure Administrator Associate"]),
    ];
    let mut rows = Vec::new();
    let owned: Vec<(String, String)> = team
        .iter()
        .map(|(p, _)| (format!("{p}@outlook.com"), format!("{p}@contoso.com")))
        .collect();
    for ((person, titles), (msa, corp)) in team.iter().zip(&owned) {
        for t in *titles {
            rows.push([
                *t,
                "2026-06-01",
                msa.as_str(),
                corp.as_str(),
                *person,
                "Doe",
            ]);
        }
    }
    let text = report(&rows);
    let setup = |linked_since: Option<&str>| {
        let env = org_on(FIRST_DAY, Some("solutions-partner"), &text);
        for (metric, value) in [
            ("net-customer-adds", "3"),
            ("usage-growth", "20"),
            ("deployments", "2"),
        ] {
            env.ok(format!(
                "performance record --metric {metric} --scope azure --value {value} \
                 --date 2026-07-01 --now {FIRST_DAY}"
            ));
        }
        let mut extra = vec!["--create-users", "--credentials-file", "c.csv"];
        if let Some(d) = linked_since {
            extra.extend(["--linked-since", d]);
        }
        let (code, s, err) = import(&env, &extra, FIRST_DAY);
        assert_eq!(code, 0, "{err}");
        assert_eq!(s["linked"], 5, "{s}");
        env
    };

    // Links made now: the team counts only from tomorrow, so it has not qualified yet.
    let without = setup(None);
    let err = without.fails(&[
        "designations",
        "enrol",
        "infrastructure",
        "--now",
        LATER_THAT_DAY,
    ]);
    assert!(err.contains("has not qualified"), "{err}");

    // Linked since July: qualified since July 2nd, in the window: enrolled on day one.
    let env = setup(Some("2026-07-01"));
    let list = env.json(&["designations", "list", "--now", "2026-08-15"]);
    assert_eq!(listed(&list, "infrastructure")["score"], 70.0, "{list}");
    let en = env.json(&[
        "designations",
        "enrol",
        "infrastructure",
        "--now",
        LATER_THAT_DAY,
    ]);
    assert_eq!(en["enrolled"][0]["anniversary"], "2027-10-01", "{en}");
}

/// A second organization, Fabrikam, whose account for Ann gets Ann's MSA on 2026-02-01.
fn fabrikam_with_ann(env: &Env) {
    env.create(&[
        "--name",
        "Fabrikam",
        "--partner-id",
        "99",
        "--now",
        "2026-02-01",
    ]);
    env.ok(
        "--org fabrikam users add --name Ann --email ann@fabrikam.com --msa ann@outlook.com \
         --credentials-file f.csv --now 2026-02-01",
    );
}

/// What a refused import must leave as it was: Contoso's accounts, achievements, audit.
fn contoso_state(env: &Env) -> (Value, Value, Value) {
    (
        env.json("--org contoso-ltd users list --all"),
        env.json("--org contoso-ltd achievements list --msa bob@outlook.com"),
        env.json("--org contoso-ltd audit"),
    )
}

#[test]
fn an_msa_linked_to_another_organization_after_the_date_refuses_the_whole_import() {
    let env = org_on("2026-01-01", None, &devops_report());
    fabrikam_with_ann(&env);
    // Ann left Fabrikam on August 3rd: her MSA was Fabrikam's until then.
    env.ok("--org fabrikam users remove ann@fabrikam.com --now 2026-08-03T15:00:00Z");
    let before = contoso_state(&env);
    let args = |since: &'static str| {
        vec![
            "--org",
            "contoso-ltd",
            "achievements",
            "import",
            "r.csv",
            "--create-users",
            "--credentials-file",
            "c.csv",
            "--linked-since",
            since,
            "--now",
            FIRST_DAY,
        ]
    };
    let err = env.fails(&args("2026-07-01"));
    assert!(
        err.contains("ann@outlook.com was linked to an account of another organization until 2026-08-03T15:00:00Z")
            && err.contains("--linked-since 2026-08-04 or later")
            && err.contains("nothing was imported"),
        "{err}"
    );
    assert!(
        !err.contains("Fabrikam") && !err.contains("fabrikam"),
        "leaks the other organization: {err}"
    );
    assert_eq!(
        contoso_state(&env),
        before,
        "the refused import changed something"
    );
    assert!(
        !env.path("c.csv").exists(),
        "a credentials file of a refused import"
    );
    // A dry run says the same.
    let mut dry = args("2026-07-01");
    dry.retain(|a| *a != "--credentials-file" && *a != "c.csv");
    dry.push("--dry-run");
    let err = env.fails(&dry);
    assert!(err.contains("dry run, nothing written"), "{err}");

    // From the day after she left, both count.
    env.ok(&args("2026-08-04"));
    assert_eq!(
        progress(&env, "devops", "silver", "2026-08-03T12:00:00Z").1,
        0,
        "nobody counts before the date"
    );
    assert_eq!(progress(&env, "devops", "silver", "2026-08-15"), (true, 2));
}

#[test]
fn an_msa_still_linked_to_another_organization_is_not_severed_into_the_past() {
    let env = org_on("2026-01-01", None, &devops_report());
    fabrikam_with_ann(&env);
    let before = contoso_state(&env);
    // Its rows are refused (SPEC §4: another organization's MSA), so nothing is linked.
    let err = env.fails(&[
        "--org",
        "contoso-ltd",
        "achievements",
        "import",
        "r.csv",
        "--link-users",
        "--linked-since",
        "2026-07-01",
        "--now",
        FIRST_DAY,
    ]);
    assert!(
        err.contains("r.csv:2: Email: ann@outlook.com is associated with an account of")
            && err.contains("nothing was imported"),
        "{err}"
    );
    assert_eq!(contoso_state(&env), before);
    // Fabrikam keeps Ann's MSA: nothing was severed.
    let fab = env.json("--org fabrikam users list");
    assert_eq!(fab[0]["msa"], "ann@outlook.com", "{fab}");
}

#[test]
fn links_that_exist_are_unchanged_and_an_earlier_association_here_is_never_overlapped() {
    let env = org_on("2026-01-01", None, &devops_report());
    // Ann's account already has her MSA since September: left as it is.
    env.ok(
        "users add --name Ann --email ann@contoso.com --msa ann@outlook.com \
         --credentials-file a.csv --now 2026-09-01",
    );
    // Bob's MSA was an old account's until August 10th (that account was removed).
    env.ok(
        "users add --name Robert --email robert@contoso.com --msa bob@outlook.com \
         --credentials-file b.csv --now 2026-02-01",
    );
    env.ok("users remove robert@contoso.com --now 2026-08-10T00:00:00Z");
    let (code, s, err) = import(
        &env,
        &[
            "--create-users",
            "--credentials-file",
            "c.csv",
            "--linked-since",
            "2026-07-01",
        ],
        FIRST_DAY,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        (&s["linked"], &s["already_linked"]),
        (&1.into(), &1.into()),
        "{s}"
    );
    assert!(
        err.contains("bob@outlook.com counts from 2026-08-10T00:00:00Z"),
        "the later start is said: {err}"
    );
    // Ann counts from September (her link), Bob from August 10th (never twice: Robert's
    // account held his MSA until then and still counts for the days before).
    assert_eq!(progress(&env, "devops", "silver", "2026-08-05").1, 1);
    assert_eq!(progress(&env, "devops", "silver", "2026-08-15").1, 1);
    assert_eq!(progress(&env, "devops", "silver", "2026-09-15").1, 2);
}

#[test]
fn linked_since_needs_linking_a_report_a_past_date_and_a_year_from_1900() {
    let env = org_on("2026-01-01", None, &devops_report());
    let base = ["achievements", "import", "r.csv", "--now", FIRST_DAY];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        a
    };
    // Without --link-users or --create-users: a usage error naming both.
    let err = env.fails_with(&with(&["--linked-since", "2026-07-01"]), 2);
    assert!(
        err.contains("--link-users") && err.contains("--create-users"),
        "{err}"
    );
    // In the future.
    let err = env.fails(&with(&["--link-users", "--linked-since", "2026-10-02"]));
    assert!(
        err.contains("--linked-since 2026-10-02 is in the future"),
        "{err}"
    );
    // Before 1900, or not a date.
    let err = env.fails_with(&with(&["--link-users", "--linked-since", "1899-12-31"]), 2);
    assert!(err.contains("1900"), "{err}");
    let err = env.fails_with(&with(&["--link-users", "--linked-since", "July"]), 2);
    assert!(err.contains("YYYY-MM-DD"), "{err}");
    // On our own achievements CSV.
    std::fs::write(
        env.path("a.csv"),
        "msa,code,earned\nbob@outlook.com,AZ-400,2025-01-02\n",
    )
    .unwrap();
    let err = env.fails(&[
        "achievements",
        "import",
        "a.csv",
        "--link-users",
        "--linked-since",
        "2026-07-01",
        "--now",
        FIRST_DAY,
    ]);
    assert!(
        err.contains("--linked-since are for a Partner Center Trainings report"),
        "{err}"
    );
    // Nothing was written by any of them.
    let users = env.json("users list --all");
    assert_eq!(users.as_array().map(Vec::len), Some(0), "{users}");
}
