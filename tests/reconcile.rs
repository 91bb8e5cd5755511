//! `achievements reconcile REPORT` (SPEC §6a): a Lifetime Trainings report compared with the
//! organization, through the binary. It reads only; exit 0 when nothing differs, 3 otherwise.

mod common;

use common::Env;
use serde_json::Value;

const NOW: &str = "2026-12-20T00:00:00Z";
const HEADER: &str = "TrainingTitle,IndividualFirstName,IndividualLastName,Email,CorpEmail,\
                      TrainingCompletionDate,ExpirationDate,MPNId\n";

/// A report of `rows` (title, first, last, msa, corp, completed, expires).
fn report(env: &Env, name: &str, rows: &[[&str; 7]]) -> String {
    let mut s = String::from(HEADER);
    for r in rows {
        s.push_str(&r.join(","));
        s.push_str(",1234567\n");
    }
    std::fs::write(env.path(name), s).expect("write report");
    name.to_owned()
}

const ANN: [&str; 7] = [
    "Architecting Microsoft Azure Solutions",
    "Ann",
    "Lee",
    "ann@outlook.com",
    "ann@contoso.com",
    "2026-01-10",
    "2027-01-10",
];
const BOB: [&str; 7] = [
    "Developing Microsoft Azure Solutions",
    "Bob",
    "Ray",
    "bob@outlook.com",
    "bob@contoso.com",
    "2026-01-12",
    "2027-01-12",
];

/// Ann and Bob with their MSAs, and the first report imported.
fn org() -> Env {
    let env = Env::new();
    env.init();
    env.add_user("Ann Lee", "ann@contoso.com", &["--msa", "ann@outlook.com"]);
    env.add_user("Bob Ray", "bob@contoso.com", &["--msa", "bob@outlook.com"]);
    let first = report(&env, "first.csv", &[ANN, BOB]);
    env.ok(&["achievements", "import", &first, "--now", NOW]);
    env
}

fn reconcile(env: &Env, file: &str) -> (i32, Value, String) {
    let (code, out, err) = env.run(&[
        "achievements",
        "reconcile",
        file,
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    (code, serde_json::from_str(&out).unwrap_or(Value::Null), err)
}

fn kinds(v: &Value) -> Vec<(String, String)> {
    v["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_owned(),
                d["msa"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_same_report_agrees_and_exits_0() {
    let env = org();
    let same = report(&env, "same.csv", &[ANN, BOB]);
    let (code, v, err) = reconcile(&env, &same);
    assert_eq!(code, 0, "{err} {v}");
    assert_eq!(kinds(&v), Vec::<(String, String)>::new());
    assert_eq!(v["people"], 2);
    let text = env.ok(&["achievements", "reconcile", &same, "--now", NOW]);
    assert!(text.contains("agrees with the organization"), "{text}");
}

#[test]
fn a_leaver_a_newcomer_an_expiry_and_a_title_are_named_and_exit_3_changing_nothing() {
    let env = org();
    let mut ann = ANN;
    ann[6] = "2027-06-01";
    let carol = [
        "Developing Microsoft Azure Solutions",
        "Carol",
        "Diaz",
        "carol@outlook.com",
        "carol@contoso.com",
        "2026-02-01",
        "2027-02-01",
    ];
    let course = [
        "Partner sales enablement: Modern Workplace",
        "Ann",
        "Lee",
        "ann@outlook.com",
        "ann@contoso.com",
        "2026-02-01",
        "",
    ];
    // Bob left Partner Center: his row is gone from the Lifetime report.
    let later = report(&env, "later.csv", &[ann, carol, course]);
    let before = env.db_bytes();
    let audit_before = env.ok(&["audit", "--format", "csv"]);
    let (code, v, err) = reconcile(&env, &later);
    assert_eq!(code, 3, "{err} {v}");
    assert_eq!(
        kinds(&v),
        vec![
            ("absent".into(), "bob@outlook.com".into()),
            ("no-account".into(), "carol@outlook.com".into()),
            ("expiry".into(), "ann@outlook.com".into()),
            ("skipped-title".into(), String::new()),
        ],
        "{v}"
    );
    let d = &v["differences"];
    assert_eq!(d[0]["code"], "70-532");
    assert!(
        d[0]["username"].as_str().unwrap().starts_with("bob@"),
        "{v}"
    );
    assert_eq!(d[1]["corp_email"], "carol@contoso.com");
    assert_eq!(d[1]["name"], "Carol Diaz");
    assert_eq!(
        (&d[2]["expires_here"], &d[2]["expires_in_report"]),
        (&Value::from("2027-01-10"), &Value::from("2027-06-01"))
    );
    assert_eq!(d[3]["title"], "Partner sales enablement: Modern Workplace");
    // Reads only.
    assert_eq!(env.db_bytes(), before, "reconcile changed the database");
    assert_eq!(env.ok(&["audit", "--format", "csv"]), audit_before);

    // The table names each kind with what to do; CSV has one row per difference.
    let (code, text, _) = env.run(&["achievements", "reconcile", &later, "--now", NOW]);
    assert_eq!(code, 3);
    assert!(
        text.contains("absent from the report") && text.contains("users remove"),
        "{text}"
    );
    let (_, csv, _) = env.run(&[
        "achievements",
        "reconcile",
        &later,
        "--now",
        NOW,
        "--format",
        "csv",
    ]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "{csv}");
    assert!(lines[0].starts_with("kind,msa,username,"), "{csv}");
    assert!(lines[1].starts_with("absent,bob@outlook.com,"), "{csv}");
}

#[test]
fn a_file_that_is_not_a_trainings_report_is_refused() {
    let env = org();
    std::fs::write(
        env.path("x.csv"),
        "msa,code,earned\na@b.com,70-532,2026-01-01\n",
    )
    .unwrap();
    let (code, _, err) = env.run(&["achievements", "reconcile", "x.csv", "--now", NOW]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("not a Partner Center Trainings report"),
        "{err}"
    );
}
