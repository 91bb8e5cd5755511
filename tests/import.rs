//! `users import`, `achievements import`, `performance import` (SPEC §6), through the
//! binary.

mod common;

use std::fs;
use std::path::PathBuf;

use assert_cmd::Command;
use proptest::prelude::*;
use serde_json::Value;

/// The instant every command of this file runs at.
const NOW: &str = "2026-03-01T09:00:00Z";

/// A sandbox with Contoso (partner 1001) on the default rulebook; every command runs at
/// [`NOW`].
struct Env(common::Env);

impl Env {
    fn new() -> Env {
        let env = Env(common::Env::new());
        let rulebook = common::data("rulebook.toml");
        env.0.create(&[
            "--name",
            "Contoso",
            "--partner-id",
            "1001",
            "--rulebook",
            &rulebook,
            "--now",
            NOW,
        ]);
        env
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path(name)
    }

    fn cmd(&self) -> Command {
        let mut c = self.0.cmd();
        c.args(["--now", NOW]);
        c
    }

    fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        fs::write(&p, content).unwrap();
        p
    }

    /// Runs an import with `--format json`; returns (exit code, summary, stderr).
    fn import(&self, kind: &str, file: &str, extra: &[&str]) -> (i32, Value, String) {
        let out = self
            .cmd()
            .args(["--format", "json", kind, "import", file])
            .args(extra)
            .output()
            .unwrap();
        let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (
            out.status.code().unwrap_or(-1),
            json,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `users import u.csv --skip-invalid`, the credentials into c.csv; asserts it succeeds
    /// and returns the summary.
    fn import_users_skipping_invalid(&self) -> Value {
        let (code, summary, err) = self.import(
            "users",
            "u.csv",
            &["--skip-invalid", "--credentials-file", "c.csv"],
        );
        assert_eq!(code, 0, "{err}");
        summary
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self
            .cmd()
            .args(["--format", "json"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Everything an import could change, for before/after comparisons.
    fn state(&self) -> Value {
        serde_json::json!({
            "users": self.json(&["users", "list", "--all"]),
            "achievements": self.json(&["achievements", "list"]),
            "performance": self.json(&["performance", "list"]),
            "audit": self.json(&["audit"]),
        })
    }

    /// Files in the folder whose name starts with `prefix`.
    fn files(&self, prefix: &str) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(self.0.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(prefix))
            .collect();
        v.sort();
        v
    }
}

fn n(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("no {key} in {v}"))
}

/// An import summary's (rows, added, rejected).
fn rows_added_rejected(summary: &Value) -> (u64, u64, u64) {
    (
        n(summary, "rows"),
        n(summary, "added"),
        n(summary, "rejected"),
    )
}

#[test]
fn header_variants_map_to_the_same_people() {
    for header in [
        "E-Mail,Display Name,Role",
        "email,NAME,roles",
        "e_mail,display-name,ROLE",
    ] {
        let env = Env::new();
        env.write(
            "u.csv",
            format!("{header}\nada@contoso.com,Ada Lovelace,global-admin\n"),
        );
        let (code, s, err) = env.import("users", "u.csv", &["--credentials-file", "c.csv"]);
        assert_eq!(code, 0, "{header}: {err}");
        assert_eq!(n(&s, "added"), 1);
        let users = env.json(&["users", "list"]);
        assert_eq!(users[0]["name"], "Ada Lovelace", "{header}");
        assert_eq!(users[0]["roles"][0], "global-admin");
    }
    let env = Env::new();
    env.write(
        "u.csv",
        "first_name,Last Name,Email\nAda,Lovelace,ada@contoso.com\n",
    );
    let (code, _, err) = env.import("users", "u.csv", &["--credentials-file", "c.csv"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(env.json(&["users", "list"])[0]["name"], "Ada Lovelace");
}

#[test]
fn bom_crlf_and_quoted_fields_are_accepted() {
    let env = Env::new();
    env.write(
        "u.csv",
        b"\xEF\xBB\xBF\"email\",\"name\",\"msa\"\r\n\"ada@contoso.com\",\"Lovelace, Ada \"\"the first\"\"\",ada@outlook.com\r\n\r\nbob@contoso.com,Bob,\r\n",
    );
    let (code, s, err) = env.import("users", "u.csv", &["--credentials-file", "c.csv"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(n(&s, "added"), 2);
    let users = env.json(&["users", "list"]);
    assert_eq!(users[0]["name"], "Lovelace, Ada \"the first\"");
    assert_eq!(users[0]["msa"], "ada@outlook.com");
    assert_eq!(users[1]["msa"], Value::Null);
}

#[test]
fn credentials_file_is_private_and_holds_every_new_account() {
    let env = Env::new();
    env.write(
        "u.csv",
        "email,name\nada@contoso.com,Ada\nada@fabrikam.com,Ada F\n",
    );
    let (code, s, err) = env.import("users", "u.csv", &["--credentials-file", "c.csv"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(s["credentials_file"], "c.csv");
    let creds = fs::read_to_string(env.path("c.csv")).unwrap();
    let lines: Vec<&str> = creds.lines().collect();
    assert_eq!(lines[0], "username,email,temporary_password,expires");
    // The second ada collides on the user name: a number is appended.
    assert!(lines[1].starts_with("ada@contoso.onmicrosoft.com,ada@contoso.com,"));
    assert!(lines[2].starts_with("ada2@contoso.onmicrosoft.com,ada@fabrikam.com,"));
    let password = lines[1].split(',').nth(2).unwrap();
    assert_eq!(password.len(), 20);
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(env.path("c.csv"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // No secret in the audit trail.
    let audit = env.json(&["audit"]).to_string();
    assert!(audit.contains("users.import"));
    assert!(!audit.contains(password));
}

/// Each bad row is reported as FILE:LINE: field: reason; nothing is written, and no
/// credentials file is left behind.
#[test]
fn every_kind_of_bad_row_fails_the_whole_import() {
    let env = Env::new();
    let users_ok = "ok@contoso.com,Okay,,\n";
    let cases: &[(&str, &str, String, &str)] = &[
        (
            "users",
            "email,name,msa,role",
            format!("{users_ok}bob@,Bob,,\n"),
            "u.csv:3: email: \"bob@\" is not an e-mail address",
        ),
        (
            "users",
            "email,name,msa,role",
            format!("{users_ok}ok@contoso.com,Okay,,\n"),
            "u.csv:3: email: ok@contoso.com is already on line 2",
        ),
        (
            "users",
            "email,name,msa,role",
            format!("{users_ok}x@contoso.com,,,\n"),
            "u.csv:3: name: the name is empty",
        ),
        (
            "users",
            "email,name,msa,role",
            format!("{users_ok}y@contoso.com,Y,,wizard\n"),
            "u.csv:3: role: \"wizard\" is not a role",
        ),
        (
            "users",
            "email,name,msa,role",
            format!("{users_ok}z@contoso.com,Z,not-an-msa,\n"),
            "u.csv:3: msa:",
        ),
        (
            "achievements",
            "msa,code,earned",
            "a@outlook.com,70-533,2025-01-01\na@outlook.com,70-534,2025-01-01\n".into(),
            "u.csv:3: code: code \"70-534\" is not in the rulebook's catalog (did you mean",
        ),
        (
            "achievements",
            "msa,code,earned",
            "a@outlook.com,70-533,2026-02-30\n".into(),
            "u.csv:2: earned: \"2026-02-30\" is not a valid date",
        ),
        (
            "achievements",
            "msa,code,earned",
            "a@outlook.com,70-533,2027-01-01\n".into(),
            "u.csv:2: earned: 2027-01-01 is in the future",
        ),
        (
            "achievements",
            "msa,code,earned,expires",
            "a@outlook.com,70-533,2025-01-01,2024-01-01\n".into(),
            "u.csv:2: expires:",
        ),
        (
            "performance",
            "metric,value,date",
            "revenue,-5,2026-01-01\n".into(),
            "u.csv:2: value: -5 is negative",
        ),
        (
            "performance",
            "metric,value,date",
            "revenue,NaN,2026-01-01\n".into(),
            "u.csv:2: value: \"NaN\" is not a finite number",
        ),
        (
            "performance",
            "metric,value,date",
            "revenue,1e300,2026-01-01\n".into(),
            "u.csv:2: value: 1e300 is implausibly large (over 10^15)",
        ),
        (
            "performance",
            "metric,value,date",
            "profit,5,2026-01-01\n".into(),
            "u.csv:2: metric: \"profit\" is not a metric",
        ),
        (
            "performance",
            "metric,value,date",
            "revenue,5\n".into(),
            "u.csv:2: the row has 2 fields; the header has 3",
        ),
    ];
    let before = env.state();
    for (kind, header, rows, expected) in cases {
        env.write("u.csv", format!("{header}\n{rows}"));
        let (code, _, err) = env.import(kind, "u.csv", &[]);
        assert_eq!(code, 1, "{kind} {rows}: {err}");
        assert!(
            err.contains(expected),
            "{kind} {rows}: expected {expected:?} in {err}"
        );
        assert!(err.contains("nothing was imported"), "{err}");
        assert!(
            env.files("credentials-").is_empty(),
            "credentials left behind"
        );
        assert!(!env.path("u.csv.rejects.csv").exists());
    }
    assert_eq!(env.state(), before, "a failed import changed the database");
}

#[test]
fn a_file_not_in_utf8_is_refused_at_its_line_with_the_fix_not_a_crash() {
    let env = Env::new();
    env.write(
        "u.csv",
        b"email,name\nada@contoso.com,Ada\nbob@contoso.com,B\xFF\xFEb\n".as_slice(),
    );
    for extra in [&[][..], &["--skip-invalid", "--credentials-file", "c.csv"]] {
        let (code, _, err) = env.import("users", "u.csv", extra);
        assert_eq!(code, 1, "{err}");
        assert!(
            err.starts_with("error: u.csv:3: the file is not UTF-8 (byte 0xFF on this line)"),
            "{err}"
        );
        assert!(
            err.contains("\"CSV UTF-8\"") && err.contains("--encoding windows-1252"),
            "{err}"
        );
        assert!(!env.path("u.csv.rejects.csv").exists());
        assert!(env.files("c.csv").is_empty(), "credentials left behind");
    }
    // Read as Windows-1252, as the message says.
    let (code, s, err) = env.import(
        "users",
        "u.csv",
        &["--encoding", "windows-1252", "--credentials-file", "c.csv"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(n(&s, "added"), 2);
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for u in text.encode_utf16() {
        out.extend(if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    out
}

#[test]
fn users_and_performance_imports_read_utf16_with_a_bom_and_reject_rows_in_utf8() {
    let env = Env::new();
    env.write(
        "u.csv",
        utf16("email,name\r\nzoe@contoso.com,Zoë Müller\r\n", false),
    );
    let (code, s, err) = env.import("users", "u.csv", &["--credentials-file", "c.csv"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(n(&s, "added"), 1);
    let users: Value = serde_json::from_slice(
        &env.cmd()
            .args(["--format", "json", "users", "list"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(users[0]["name"], "Zoë Müller", "{users}");

    env.write(
        "p.csv",
        utf16(
            "metric,value,date,scope\nrevenue,12.5,2026-01-01,azure\nrevenue,öl,2026-01-02,azure\n",
            true,
        ),
    );
    let (code, s, err) = env.import("performance", "p.csv", &["--skip-invalid"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!((n(&s, "added"), n(&s, "rejected")), (1, 1), "{s}");
    let rejects = fs::read_to_string(env.path("p.csv.rejects.csv")).expect("rejects in UTF-8");
    assert!(
        rejects.starts_with("metric,value,date,scope,error\nrevenue,öl,2026-01-02,azure,\""),
        "{rejects}"
    );
}

#[test]
fn more_than_fifty_bad_rows_are_counted() {
    let env = Env::new();
    let mut csv = String::from("email,name\n");
    for i in 0..60 {
        csv.push_str(&format!("bad{i},Name\n"));
    }
    env.write("u.csv", csv);
    let (code, _, err) = env.import("users", "u.csv", &[]);
    assert_eq!(code, 1);
    assert_eq!(err.matches("is not an e-mail address").count(), 50);
    assert!(err.contains("… and 10 more"), "{err}");
    assert!(err.contains("60 of 60 rows"), "{err}");
}

#[test]
fn header_problems_name_the_file_and_line() {
    let env = Env::new();
    for (header, expected) in [
        ("name,role", "u.csv:1: missing required column \"email\""),
        ("email,role", "u.csv:1: missing required column \"name\""),
        (
            "email,first name",
            "u.csv:1: missing required column \"last name\"",
        ),
        ("email,name,E-Mail", "u.csv:1: duplicate column \"E-Mail\""),
    ] {
        env.write("u.csv", format!("{header}\n"));
        let (code, _, err) = env.import("users", "u.csv", &[]);
        assert_eq!(code, 1, "{header}");
        assert!(err.contains(expected), "{header}: {err}");
    }
    env.write("a.csv", "msa,code\n");
    let (code, _, err) = env.import("achievements", "a.csv", &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("a.csv:1: missing required column \"earned\""),
        "{err}"
    );
    env.write(
        "u.csv",
        "email,name,department,cost center\na@contoso.com,A,x,y\n",
    );
    let (code, _, err) = env.import("users", "u.csv", &["--credentials-file", "c.csv"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err.matches("warning:").count(), 1, "{err}");
    assert!(
        err.contains("ignoring columns \"department\", \"cost center\""),
        "{err}"
    );
}

#[test]
fn skip_invalid_copies_rejected_rows_unchanged() {
    let env = Env::new();
    env.write(
        "u.csv",
        "email,name,role\r\nada@contoso.com,Ada,\r\n\"bob@\", \"Bob\" ,user\r\nada@contoso.com,Ada again,\r\ncy@contoso.com,Cy,\r\n",
    );
    let s = env.import_users_skipping_invalid();
    assert_eq!(rows_added_rejected(&s), (4, 2, 2));
    assert_eq!(s["rejects_file"], "u.csv.rejects.csv");
    assert_eq!(
        fs::read_to_string(env.path("u.csv.rejects.csv")).unwrap(),
        "email,name,role,error\r\n\
         \"bob@\", \"Bob\" ,user,\"email: \"\"bob@\"\" is not an e-mail address (no domain)\"\r\n\
         ada@contoso.com,Ada again,,\"email: ada@contoso.com is already on line 2 of this file\"\r\n"
    );
    // Never over an existing rejects file: an explicit path that exists is refused before
    // anything changes; the default name takes the next free one (issue 9 item 11).
    let before = env.state();
    let (code, _, err) = env.import(
        "users",
        "u.csv",
        &["--skip-invalid", "--rejects", "u.csv.rejects.csv"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(env.state(), before);
    let (code, s, _) = env.import("users", "u.csv", &["--skip-invalid"]);
    assert_eq!(code, 0);
    assert_eq!(s["rejects_file"], "u.csv.rejects-2.csv");
    assert!(env.path("u.csv.rejects.csv").exists());
    // A chosen path.
    let (code, s, _) = env.import("users", "u.csv", &["--skip-invalid", "--rejects", "r.csv"]);
    assert_eq!(code, 0);
    assert_eq!((n(&s, "unchanged"), n(&s, "rejected")), (2, 2));
    assert!(env.path("r.csv").exists());
}

#[test]
fn dry_run_writes_nothing() {
    let env = Env::new();
    env.write("u.csv", "email,name\nada@contoso.com,Ada\nbob@,Bob\n");
    let before = env.state();
    let (code, s, err) = env.import("users", "u.csv", &["--dry-run", "--skip-invalid"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!((n(&s, "added"), n(&s, "rejected")), (1, 1));
    assert_eq!(s["dry_run"], true);
    let (code, _, _) = env.import("users", "u.csv", &["--dry-run"]);
    assert_eq!(code, 1, "a dry run reports the import would fail");
    assert_eq!(env.state(), before);
    assert_eq!(env.files("credentials-"), Vec::<String>::new());
    assert!(!env.path("u.csv.rejects.csv").exists());
}

#[test]
fn reimporting_changes_nothing() {
    let env = Env::new();
    env.write(
        "u.csv",
        "email,name,msa\nada@contoso.com,Ada,ada@outlook.com\nbob@contoso.com,Bob,\n",
    );
    env.write(
        "a.csv",
        "msa,code,earned,expires\nada@outlook.com,70-533,2025-01-01,\nada@outlook.com,az-104,2025-02-01,2027-02-01\n",
    );
    env.write(
        "p.csv",
        "metric,value,date,scope\nrevenue,15000,2026-01-01,Azure\nnew-customers,3,2026-01-01,\n",
    );
    for (kind, file, added, unchanged) in [
        ("users", "u.csv", 2, 0),
        ("achievements", "a.csv", 2, 0),
        ("performance", "p.csv", 2, 0),
    ] {
        let (code, s, err) = env.import(
            kind,
            file,
            &["--credentials-file", "c1.csv"][..if kind == "users" { 2 } else { 0 }],
        );
        assert_eq!(code, 0, "{kind}: {err}");
        assert_eq!(
            (n(&s, "added"), n(&s, "unchanged")),
            (added, unchanged),
            "{kind}"
        );
    }
    let before = env.state();
    for (kind, file, rows) in [
        ("users", "u.csv", 2),
        ("achievements", "a.csv", 2),
        ("performance", "p.csv", 2),
    ] {
        let (code, s, err) = env.import(kind, file, &[]);
        assert_eq!(code, 0, "{kind}: {err}");
        assert_eq!(
            (n(&s, "added"), n(&s, "updated"), n(&s, "unchanged")),
            (0, 0, rows),
            "{kind}"
        );
    }
    assert_eq!(env.state(), before);
    assert!(
        env.files("credentials-").is_empty(),
        "an empty credentials file was left"
    );
    let achievements = env.json(&["achievements", "list"]);
    assert_eq!(achievements[1]["code"], "AZ-104", "codes are canonical");
}

#[test]
fn an_msa_linked_elsewhere_is_severed_and_reported() {
    let env = Env::new();
    let rulebook = common::data("rulebook.toml");
    env.0.create(&[
        "--name",
        "Fabrikam",
        "--partner-id",
        "2002",
        "--rulebook",
        &rulebook,
        "--now",
        NOW,
    ]);
    env.write(
        "f.csv",
        "email,name,msa\nada@fabrikam.com,Ada,ada@outlook.com\n",
    );
    env.write(
        "c.csv",
        "email,name,msa\nada@contoso.com,Ada,ada@outlook.com\n",
    );
    let (code, _, err) = env.import(
        "users",
        "f.csv",
        &["--org", "fabrikam", "--credentials-file", "x.csv"],
    );
    assert_eq!(code, 0, "{err}");
    let (code, s, err) = env.import(
        "users",
        "c.csv",
        &["--org", "contoso", "--credentials-file", "y.csv"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(n(&s, "severed"), 1);
    assert!(
        err.contains(
            "ada@outlook.com was associated with ada@fabrikam.onmicrosoft.com in Fabrikam"
        ),
        "{err}"
    );
    let fab = env.json(&["--org", "fabrikam", "users", "list"]);
    assert_eq!(fab[0]["msa"], Value::Null);
    let audit = env.json(&["--org", "fabrikam", "audit"]).to_string();
    assert!(audit.contains("msa.sever"), "{audit}");
}

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let env = Env::new();
    let mut csv = String::from("email,name\n");
    for i in 0..5000 {
        csv.push_str(&format!("p{i}@contoso.com,P {i}\n"));
    }
    env.write("u.csv", csv);
    let out = env
        .cmd()
        .args(["users", "import", "u.csv", "--credentials-file", "c.csv"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("ETA") && !err.contains('\r') && !err.contains("importing"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Added:             5000"));
}

fn person() -> impl Strategy<Value = (String, String)> {
    (
        "[a-z]{1,8}(\\.[a-z]{1,6})?",
        "[A-Z][a-z]{0,8}( [A-Z][a-z]{0,8})?",
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    /// Import, then `users list` gives the same people; re-import changes nothing; with
    /// bad rows mixed in, accepted + rejected = input.
    #[test]
    fn import_round_trips_and_accounts_for_every_row(
        people in proptest::collection::btree_map("[a-z]{1,6}", person(), 1..12),
        bad in proptest::collection::vec("[a-z@ ]{0,6}", 0..4),
    ) {
        let env = Env::new();
        let mut csv = String::from("Email,Display Name\n");
        for (domain, (local, name)) in &people {
            csv.push_str(&format!("{local}@{domain}.com,\"{name}\"\n"));
        }
        let bad: Vec<&String> = bad.iter().filter(|b| !b.contains('@') || b.ends_with('@')).collect();
        for b in &bad {
            csv.push_str(&format!("{b},Someone\n"));
        }
        env.write("u.csv", &csv);
        let (code, s, err) = env.import("users", "u.csv", &["--skip-invalid", "--credentials-file", "c.csv"]);
        prop_assert_eq!(code, 0, "{}", err);
        let rows = (people.len() + bad.len()) as u64;
        prop_assert_eq!(n(&s, "rows"), rows);
        prop_assert_eq!(n(&s, "added") + n(&s, "unchanged") + n(&s, "updated") + n(&s, "rejected"), rows);
        prop_assert_eq!(n(&s, "rejected"), bad.len() as u64);
        if !bad.is_empty() {
            let rejects = fs::read_to_string(env.path("u.csv.rejects.csv")).unwrap();
            prop_assert_eq!(rejects.lines().count(), bad.len() + 1);
        }
        let listed = env.json(&["users", "list"]);
        let mut got: Vec<(String, String)> = listed.as_array().unwrap().iter()
            .map(|u| (u["email"].as_str().unwrap().to_owned(), u["name"].as_str().unwrap().to_owned()))
            .collect();
        got.sort();
        let mut want: Vec<(String, String)> = people.iter()
            .map(|(d, (l, name))| (format!("{l}@{d}.com"), name.clone()))
            .collect();
        want.sort();
        prop_assert_eq!(got, want);
        let before = env.state();
        let (code, s, _) = env.import("users", "u.csv", &["--skip-invalid", "--rejects", "r2.csv"]);
        prop_assert_eq!(code, 0);
        prop_assert_eq!(n(&s, "unchanged"), people.len() as u64);
        prop_assert_eq!(env.state(), before);
    }
}

/// Duplicates within the file are decided in file order whatever order rows are written in:
/// the first occurrence wins, and a rejected row takes neither its e-mail nor its MSA. With
/// --skip-invalid every account added still gets a temporary password.
#[test]
fn in_file_duplicates_first_occurrence_wins_and_rejected_rows_take_nothing() {
    let env = Env::new();
    env.write(
        "u.csv",
        "email,name,msa\n\
         zed@contoso.com,Zed,m1@outlook.com\n\
         zed@contoso.com,Zed again,m2@outlook.com\n\
         bea@contoso.com,Bea,m2@outlook.com\n\
         cy@contoso.com,Cy,m1@outlook.com\n\
         cy@contoso.com,Cy,m3@outlook.com\n\
         bad@,Bad,\n",
    );
    let s = env.import_users_skipping_invalid();
    assert_eq!(rows_added_rejected(&s), (6, 3, 3));
    let rejects = fs::read_to_string(env.path("u.csv.rejects.csv")).unwrap();
    let lines: Vec<&str> = rejects.lines().collect();
    assert_eq!(lines.len(), 4, "{rejects}");
    assert!(
        lines[1].starts_with("zed@contoso.com,Zed again,")
            && lines[1].contains("email: zed@contoso.com is already on line 2 of this file"),
        "{rejects}"
    );
    assert!(
        lines[2].starts_with("cy@contoso.com,Cy,m1@outlook.com,")
            && lines[2].contains("msa: m1@outlook.com is already on line 2 of this file"),
        "{rejects}"
    );
    assert!(lines[3].starts_with("bad@,"), "{rejects}");
    let users = env.json(&["users", "list"]);
    let mut got: Vec<(String, String)> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["email"].as_str().unwrap().to_owned(),
                u["msa"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("bea@contoso.com".to_owned(), "m2@outlook.com".to_owned()),
            ("cy@contoso.com".to_owned(), "m3@outlook.com".to_owned()),
            ("zed@contoso.com".to_owned(), "m1@outlook.com".to_owned()),
        ]
    );
    let creds = fs::read_to_string(env.path("c.csv")).unwrap();
    assert_eq!(
        creds.lines().count(),
        4,
        "every new account has a password: {creds}"
    );
    for line in creds.lines().skip(1) {
        assert_eq!(line.split(',').nth(2).unwrap().len(), 20, "{creds}");
    }
}

/// SPEC §6: two rows of one file with the same key are invalid whatever the database holds.
/// Before, a key already in the database let both rows through as "updated" (each import
/// then flipped the record and wrote an audit entry, so the file never settled).
fn assert_in_file_duplicate_of_existing_record_is_invalid(
    kind: &str,
    first: &str,
    dup_file: &str,
    listing: &[&str],
) {
    let env = Env::new();
    env.write("first.csv", first);
    let (code, _, err) = env.import(kind, "first.csv", &[]);
    assert_eq!(code, 0, "{kind}: {err}");
    env.write("dup.csv", dup_file);
    let before = env.state();
    // All or nothing: the duplicate fails the import, naming the second row.
    let (code, _, err) = env.import(kind, "dup.csv", &[]);
    assert_eq!(code, 1, "{kind}: {err}");
    assert!(err.contains("dup.csv:3:"), "{kind}: {err}");
    assert!(err.contains("already in this file"), "{kind}: {err}");
    assert_eq!(
        env.state(),
        before,
        "{kind}: a failed import changed something"
    );
    // Identical rows are a duplicate key too.
    let same = format!(
        "{}{}",
        dup_file,
        dup_file.lines().nth(1).unwrap().to_owned() + "\n"
    );
    env.write("same.csv", same);
    let (code, _, err) = env.import(kind, "same.csv", &[]);
    assert_eq!(code, 1, "{kind}: {err}");
    assert_eq!(env.state(), before);
    // With --skip-invalid the first occurrence wins; a second import settles: everything
    // unchanged and rejected as before, no new audit entry.
    let (code, s, err) = env.import(kind, "dup.csv", &["--skip-invalid", "--rejects", "r1.csv"]);
    assert_eq!(code, 0, "{kind}: {err}");
    assert_eq!((n(&s, "updated"), n(&s, "rejected")), (1, 1), "{kind}: {s}");
    let listed = env.json(listing);
    let audit = env.json(&["audit"]);
    let (code, s, err) = env.import(kind, "dup.csv", &["--skip-invalid", "--rejects", "r2.csv"]);
    assert_eq!(code, 0, "{kind}: {err}");
    assert_eq!(
        (n(&s, "updated"), n(&s, "unchanged"), n(&s, "rejected")),
        (0, 1, 1),
        "{kind}: {s}"
    );
    assert_eq!(env.json(listing), listed, "{kind}");
    assert_eq!(
        env.json(&["audit"]),
        audit,
        "{kind}: a no-op import was audited"
    );
}

#[test]
fn achievements_in_file_duplicate_key_is_invalid_even_when_the_record_exists() {
    assert_in_file_duplicate_of_existing_record_is_invalid(
        "achievements",
        "msa,code,earned,expires\nada@outlook.com,70-533,2025-01-01,2027-01-01\n",
        "msa,code,earned,expires\n\
         ada@outlook.com,70-533,2025-01-01,2027-06-01\n\
         ada@outlook.com,70-533,2025-01-01,2028-01-01\n",
        &["achievements", "list"],
    );
}

#[test]
fn performance_in_file_duplicate_key_is_invalid_even_when_the_record_exists() {
    assert_in_file_duplicate_of_existing_record_is_invalid(
        "performance",
        "metric,value,date,scope\nrevenue,1000,2026-01-01,azure\n",
        "metric,value,date,scope\n\
         revenue,2000,2026-01-01,azure\n\
         revenue,3000,2026-01-01,azure\n",
        &["performance", "list"],
    );
}

/// SPEC §6: a quote opened on the last line and never closed is an error naming the file and
/// line (the CSV reader used to end the field at the end of the file without a word).
#[test]
fn unterminated_quote_on_the_last_line_is_an_error_with_file_and_line() {
    let env = Env::new();
    for (kind, content) in [
        (
            "achievements",
            "msa,code,earned,expires\nada@outlook.com,70-533,2025-01-01,\nbob@outlook.com,70-533,\"2025-01-01,\n",
        ),
        (
            "performance",
            "metric,value,date,scope\nrevenue,1000,2026-01-01,azure\nrevenue,2000,2026-01-02,\"azure",
        ),
    ] {
        env.write("q.csv", content);
        let before = env.state();
        let (code, _, err) = env.import(kind, "q.csv", &[]);
        assert_eq!(code, 1, "{kind}: {err}");
        assert!(err.contains("q.csv:3:"), "{kind}: {err}");
        assert!(err.contains("never closed"), "{kind}: {err}");
        assert_eq!(env.state(), before, "{kind}");
    }
}

/// SPEC §6: FILE `-` reads standard input.
#[test]
fn imports_read_standard_input_with_dash() {
    let env = Env::new();
    let out = env
        .cmd()
        .args(["--format", "json", "performance", "import", "-"])
        .write_stdin("metric,value,date,scope\nrevenue,1000,2026-01-01,azure\nbad,1,2026-01-01,\n")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("<stdin>:3: metric:"), "{err}");
    // --skip-invalid needs a rejects path: there is no FILE to name it after.
    let out = env
        .cmd()
        .args(["performance", "import", "-", "--skip-invalid"])
        .write_stdin("metric,value,date,scope\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--rejects"));
    let out = env
        .cmd()
        .args(["--format", "json", "achievements", "import", "-"])
        .args(["--skip-invalid", "--rejects", "r.csv"])
        .write_stdin(
            "msa,code,earned\nada@outlook.com,70-533,2025-01-01\nbob@outlook.com,nope,2025-01-01\n",
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((n(&s, "added"), n(&s, "rejected")), (1, 1), "{s}");
    let rejects = fs::read_to_string(env.path("r.csv")).unwrap();
    assert!(
        rejects.contains("bob@outlook.com,nope,2025-01-01,"),
        "{rejects}"
    );
    let listed = env.json(&["achievements", "list", "--msa", "ada@outlook.com"]);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
}

/// A users file of many of the reader's batches (4,096 rows each, validated on a second
/// thread): every row is counted once, the bad ones (a wrong shape, a bad field, a repeat
/// across batches) are rejected into the rejects file in file order, each with its own
/// line, and the credentials file holds exactly the accounts added.
#[test]
fn a_users_file_of_many_batches_keeps_every_row_in_file_order() {
    let env = Env::new();
    let mut csv = String::from("email,name,msa\n");
    let mut bad = Vec::new();
    let rows = 10_000;
    for i in 0..rows {
        let line = i + 2;
        match i {
            i if i % 997 == 5 => {
                csv.push_str(&format!("p{i}@,Person {i},\n"));
                bad.push(format!("{line}:email"));
            }
            i if i % 1499 == 7 => {
                csv.push_str(&format!("p{i}@contoso.com,Person {i}\n"));
                bad.push(format!("{line}:fields"));
            }
            // The MSA of row 0 again, thousands of rows (batches) later.
            9_000 => {
                csv.push_str("p9000@contoso.com,Person 9000,m0@outlook.com\n");
                bad.push(format!("{line}:msa"));
            }
            i => csv.push_str(&format!("p{i}@contoso.com,Person {i},m{i}@outlook.com\n")),
        }
    }
    env.write("u.csv", &csv);
    let (code, s, err) = env.import(
        "users",
        "u.csv",
        &[
            "--skip-invalid",
            "--rejects",
            "r.csv",
            "--credentials-file",
            "c.csv",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let rejected = bad.len() as u64;
    assert_eq!(rows_added_rejected(&s), (rows, rows - rejected, rejected));
    let rejects = fs::read_to_string(env.path("r.csv")).unwrap();
    let mut lines = rejects.lines().skip(1);
    for b in &bad {
        let (line, kind) = b.split_once(':').unwrap();
        let r = lines
            .next()
            .unwrap_or_else(|| panic!("no reject for line {line}"));
        let i: u64 = line.parse::<u64>().unwrap() - 2;
        assert!(r.starts_with(&format!("p{i}@")), "line {line}: {r}");
        let why = match kind {
            "email" => "email:",
            "fields" => "fields",
            _ => "msa: m0@outlook.com is already on line 2",
        };
        assert!(r.contains(why), "line {line}: {r}");
    }
    assert_eq!(lines.next(), None);
    let creds = fs::read_to_string(env.path("c.csv")).unwrap();
    assert_eq!(
        creds.lines().count() as u64,
        rows - rejected + 1,
        "a header and each account"
    );
}
