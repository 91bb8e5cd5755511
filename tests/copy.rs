//! `competency copy --from SOURCE --to TARGET` (SPEC §10): every organization with its full
//! history, audit included, ids preserved, into an empty database; counts verified; a
//! refused or failed copy changes nothing.
//!
//! When `COMPETENCY_TEST_PG` names a server, [`middle`] is a fresh, empty PostgreSQL
//! database, so the round trip runs SQLite → PostgreSQL → SQLite; without it, SQLite →
//! SQLite → SQLite.

mod common;

use std::time::Duration;

use common::Env;
use rusqlite::Connection;
use serde_json::Value;

const NOW: &str = "2026-03-01";
const DEADLINE: Duration = Duration::from_secs(60);

/// The middle database of the round trip: on a PostgreSQL run (`COMPETENCY_TEST_PG`), the
/// fresh database of a second sandbox (kept alive by the caller, dropped with it); else a
/// new SQLite file in the sandbox.
fn middle(env: &Env, second: &Env) -> String {
    if second.is_pg() {
        second.db().display().to_string()
    } else {
        env.path("middle.db").display().to_string()
    }
}

/// Every listing the SPEC names, in JSON, of every organization of the database at `db`.
fn listings(env: &Env, db: &str) -> Vec<(String, Value)> {
    let commands: &[&[&str]] = &[
        &["org", "show"],
        &["users", "list", "--all"],
        &["achievements", "list"],
        &["performance", "list"],
        &["membership", "status"],
        &["membership", "alerts", "--all"],
        &["audit"],
        &["designations", "list"],
        &["competencies", "list"],
    ];
    let orgs = env.json(&["--db", db, "org", "list"]);
    let mut out = vec![("org list".to_owned(), orgs.clone())];
    for org in orgs.as_array().unwrap() {
        let slug = org["slug"].as_str().unwrap();
        for args in commands {
            let mut a = vec!["--db", db, "--now", NOW, "--org", slug, "--format", "json"];
            a.extend_from_slice(args);
            // A refusal (e.g. designations under a rulebook without any) is a listing too:
            // its exit code, with what it printed.
            let (code, stdout, _) = env.run(&a);
            let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
            out.push((format!("{slug}: {} (exit {code})", args.join(" ")), json));
        }
    }
    out
}

/// Adds an account `name` <`email`> to Fabrikam (partner 7654321) in the database at `db`.
fn add_fabrikam_account(env: &Env, db: &str, name: &str, email: &str) {
    env.ok(&[
        "--db", db, "--now", NOW, "--org", "7654321", "add-user", "--name", name, "--email", email,
    ]);
}

/// A source with a whole history: the demo (import, progress, upgrade, an employee
/// leaving, the alert, the check), then a second organization with an account of its own.
fn rich_source(env: &Env) -> String {
    let src = env.path("source.db").display().to_string();
    env.ok(&["--db", &src, "--now", NOW, "demo"]);
    env.ok(&[
        "--db",
        &src,
        "--now",
        NOW,
        "init",
        "--name",
        "Fabrikam",
        "--partner-id",
        "7654321",
    ]);
    add_fabrikam_account(env, &src, "Fay", "fay@fabrikam.com");
    let orgs = env.json(&["--db", &src, "org", "list"]);
    assert_eq!(orgs.as_array().unwrap().len(), 2, "{orgs}");
    src
}

/// Row counts per table, read directly from a SQLite file.
fn counts(path: &str) -> Vec<(String, i64)> {
    let conn = Connection::open(path).unwrap();
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table'
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    tables
        .into_iter()
        .map(|t| {
            let n: i64 = conn
                .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
                .unwrap();
            (t, n)
        })
        .collect()
}

#[test]
fn a_round_trip_gives_identical_listings_of_every_command() {
    let env = Env::new();
    let a = rich_source(&env);
    let second = Env::new();
    let b = middle(&env, &second);
    let c = env.path("back.db").display().to_string();
    let before = listings(&env, &a);
    let source_bytes = std::fs::read(&a).unwrap();

    let out = env.json(&["copy", "--from", &a, "--to", &b]);
    // The counts the copy verified are the source's, table by table.
    let source_counts = counts(&a);
    for (table, n) in &source_counts {
        assert_eq!(out["tables"][table], *n, "{table}: {out}");
    }
    let total: i64 = source_counts.iter().map(|(_, n)| n).sum();
    assert_eq!(out["rows"], total);
    assert!(
        source_counts.iter().any(|(t, n)| t == "audit" && *n > 0),
        "the demo writes an audit trail"
    );
    env.ok(&["copy", "--from", &b, "--to", &c]);

    assert_eq!(listings(&env, &b), before, "after one copy");
    assert_eq!(listings(&env, &c), before, "after the round trip");
    assert_eq!(counts(&c), source_counts);
    // Every row, ids included, is the same (in a table without ids, the same set of rows).
    let dump = |path: &str| -> Vec<String> {
        let conn = Connection::open(path).unwrap();
        let mut out = Vec::new();
        for (table, _) in counts(path) {
            let mut st = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
            let n = st.column_count();
            let rows = st
                .query_map([], |r| {
                    let mut s = table.clone();
                    for i in 0..n {
                        s.push_str(&format!("|{:?}", r.get_ref(i)?));
                    }
                    Ok(s)
                })
                .unwrap()
                .collect::<rusqlite::Result<Vec<_>>>()
                .unwrap();
            out.extend(rows);
        }
        out.sort();
        out
    };
    assert_eq!(dump(&c), dump(&a));
    // The source was only read.
    assert_eq!(std::fs::read(&a).unwrap(), source_bytes);
    assert_eq!(common::mode(std::path::Path::new(&c)), 0o600);
    // The copy is a working database: doctor passes and it takes new writes with new ids.
    let doctor = env.json(&["--db", &c, "doctor"]);
    assert_eq!(doctor["ok"], true, "{doctor}");
    add_fabrikam_account(&env, &c, "Newcomer", "newcomer@contoso.com");
}

#[test]
fn a_target_that_is_not_empty_is_refused_unchanged() {
    let env = Env::new();
    let a = rich_source(&env);
    env.init();
    let target = env.db().display().to_string();
    let before = env.db_bytes();
    let listed = listings(&env, &target);
    let err = env.fails(&["copy", "--from", &a, "--to", &target]);
    assert!(
        err.contains("not empty") && err.contains("nothing was copied"),
        "{err}"
    );
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{err}"
    );
    assert_eq!(env.db_bytes(), before);
    assert_eq!(listings(&env, &target), listed);
    // Copying a database into itself is refused too.
    let err = env.fails(&["copy", "--from", &a, "--to", &a]);
    assert!(err.contains("nothing was changed"), "{err}");
}

#[test]
fn a_missing_source_is_refused_and_nothing_is_created() {
    let env = Env::new();
    let missing = env.path("missing.db").display().to_string();
    let target = env.path("new.db");
    let err = env.fails(&[
        "copy",
        "--from",
        &missing,
        "--to",
        &target.display().to_string(),
    ]);
    assert!(err.contains("no database at"), "{err}");
    assert!(!env.path("missing.db").exists());
    assert!(!target.exists());
    // Both flags are required: a usage error.
    let (code, _, _) = env.run(&["copy", "--from", &missing]);
    assert_eq!(code, 2);
}

#[test]
fn an_interrupted_copy_leaves_no_target() {
    let env = Env::new();
    let a = rich_source(&env);
    let target = env.path("partial.db");
    let marker = env.path("held");
    let child = env.spawn_held(
        "copying audit",
        &marker,
        &["copy", "--from", &a, "--to", target.to_str().unwrap()],
    );
    let out = common::interrupt_when_held(child, &marker, "the audit", DEADLINE, || {});
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    for suffix in ["", "-wal", "-shm"] {
        let p = format!("{}{suffix}", target.display());
        assert!(!std::path::Path::new(&p).exists(), "{p} left behind");
    }
}
