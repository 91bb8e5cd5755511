//! Crash safety: commands killed with SIGKILL at arbitrary moments leave a database that
//! passes `PRAGMA integrity_check`, holds each command's changes entirely or not at all,
//! never holds an account whose temporary password is not safe in its credentials file, and
//! takes the same command again.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Env, read_credentials};
use rusqlite::Connection;

/// The binary as a plain `std` command (killable), set up like `Env::cmd`.
fn std_cmd(env: &Env) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("competency"));
    c.current_dir(env.dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.dir.path())
        .env("USER", "tester")
        .env("COMPETENCY_DB", env.db())
        .env("COMPETENCY_CONFIG", env.path("config.toml"));
    c
}

/// Starts `cmd`, kills it with SIGKILL after `delay` (if still running); true when it was
/// killed before finishing.
fn kill_after(mut cmd: Command, delay: Duration) -> bool {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    while started.elapsed() < delay {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let finished = child.try_wait().unwrap().is_some();
    let _ = child.kill(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    !finished && !status.success()
}

fn integrity_ok(db: &Path) {
    let conn = Connection::open(db).unwrap();
    let rows: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows, vec!["ok".to_owned()]);
    let fk: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fk, 0);
}

/// The password hash and audit rows of the account with this e-mail, if it was committed.
fn committed(db: &Path, email: &str) -> Option<(String, String, i64)> {
    let conn = Connection::open(db).unwrap();
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT username, password_hash FROM users WHERE email = ?1",
            [email],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok();
    row.map(|(u, h)| {
        let audited: i64 = conn
            .query_row(
                "SELECT count(*) FROM audit WHERE action = 'users.add' AND subject = ?1",
                [&u],
                |r| r.get(0),
            )
            .unwrap();
        (u, h, audited)
    })
}

#[test]
fn users_add_killed_at_any_moment_is_all_or_nothing_and_can_be_rerun() {
    let env = Env::new();
    env.init();
    // How long one add takes here, so the kill points spread over its whole run.
    let t = Instant::now();
    env.add_user("Warm Up", "warm@contoso.com", &[]);
    let full = t.elapsed();
    let (mut killed, mut completed) = (0, 0);
    for i in 0..24 {
        let delay = full.mul_f64(f64::from(i) / 16.0);
        let email = format!("k{i}@contoso.com");
        let file = format!("k{i}.csv");
        let mut cmd = std_cmd(&env);
        cmd.args([
            "users",
            "add",
            "--name",
            "Killed",
            "--email",
            &email,
            "--msa",
            &format!("k{i}@outlook.com"),
            "--credentials-file",
            &file,
        ]);
        let was_killed = kill_after(cmd, delay);
        integrity_ok(&env.db());
        match committed(&env.db(), &email) {
            Some((username, hash, audited)) => {
                completed += 1;
                // Committed: audited in the same transaction, and its password safe on disk.
                assert_eq!(audited, 1, "{email}: account without its audit row");
                let creds = read_credentials(&env.path(&file));
                let row = creds
                    .iter()
                    .find(|r| r[0] == username)
                    .unwrap_or_else(|| panic!("{email} committed but not in {file}"));
                assert!(
                    competency::credentials::verify(&row[2], &hash),
                    "{email}: the password in the file does not match the account"
                );
                assert_eq!(
                    env.json(&["users", "show", &email])["msa"],
                    format!("k{i}@outlook.com")
                );
            }
            None => {
                assert!(was_killed, "{email}: not killed, yet not committed");
                killed += 1;
                // Rolled back: no trace in the database, and a leftover credentials file
                // (the process had no chance to delete it) names no committed account.
                let conn = Connection::open(env.db()).unwrap();
                let traces: i64 = conn
                    .query_row(
                        "SELECT (SELECT count(*) FROM msa_links WHERE msa = ?1)
                              + (SELECT count(*) FROM audit WHERE detail LIKE '%' || ?2 || '%')",
                        [format!("k{i}@outlook.com"), email.clone()],
                        |r| r.get(0),
                    )
                    .unwrap();
                assert_eq!(traces, 0, "{email}: half a command landed");
                if env.path(&file).exists() {
                    for row in read_credentials(&env.path(&file)) {
                        assert!(
                            committed(&env.db(), &row[1]).is_none(),
                            "{file} names a committed account"
                        );
                    }
                }
                // Running it again completes.
                env.add_user("Killed", &email, &["--msa", &format!("k{i}@outlook.com")]);
            }
        }
    }
    assert!(
        killed > 0,
        "no command was killed before committing: the test proved nothing"
    );
    assert!(
        completed > 0,
        "no command completed: the test proved nothing"
    );
    assert_eq!(env.json(&["users", "list"]).as_array().unwrap().len(), 25);
    let doctor = env.json(&["doctor"]);
    assert_eq!(doctor["ok"], true, "{doctor}");
}
