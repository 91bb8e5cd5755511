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

// ---------------------------------------------------------------------------------------
// Bulk imports: one transaction for the whole file, killed part-way.

/// Rows per import: enough that an import runs for about a second in a debug build.
const USER_ROWS: usize = 15_000;
const ACHIEVEMENT_ROWS: usize = 50_000;

fn wal_len(env: &Env) -> u64 {
    std::fs::metadata(format!("{}-wal", env.db().display()))
        .map(|m| m.len())
        .unwrap_or(0)
}

fn count(env: &Env, table: &str) -> usize {
    let conn = Connection::open(env.db()).unwrap();
    let sql = match table {
        "users" => "SELECT count(*) FROM users",
        "achievements" => "SELECT count(*) FROM achievements",
        _ => unreachable!(),
    };
    conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap() as usize
}

/// Starts an import and kills it either after `delay` or once the WAL holds `wal_bytes`
/// (whichever comes first); true when it was killed before finishing.
fn kill_import(env: &Env, args: &[&str], delay: Duration, wal_bytes: u64) -> bool {
    let mut child = std_cmd(env)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if started.elapsed() >= delay || wal_len(env) >= wal_bytes {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = child.kill();
    !child.wait().unwrap().success()
}

/// Kills `import` at several points (50, 200, 500 ms, and once the WAL holds 1 MB); each
/// time the database must be intact and hold none of the rows or all of them (a kill can
/// land after the commit, before the process exits), and a leftover credentials file of a
/// rolled-back import must name no committed account. Returns the credentials file of the
/// run that committed, if one did.
fn kill_import_at_several_points(
    env: &Env,
    kind: &str,
    table: &str,
    rows: usize,
    extra: &[&str],
) -> Option<String> {
    let points = [
        (Duration::from_millis(50), u64::MAX),
        (Duration::from_millis(200), u64::MAX),
        (Duration::from_millis(500), u64::MAX),
        (Duration::from_secs(30), 1 << 20),
    ];
    let before = count(env, table);
    let mut killed_mid_way = 0;
    for (n, (delay, wal)) in points.into_iter().enumerate() {
        let creds = format!("creds-{n}.csv");
        let mut args = vec!["-q", kind, "import", "rows.csv"];
        if kind == "users" {
            args.extend(["--credentials-file", &creds]);
        }
        args.extend_from_slice(extra);
        let killed = kill_import(env, &args, delay, wal);
        integrity_ok(&env.db());
        let landed = count(env, table) - before;
        assert!(
            landed == 0 || landed == rows,
            "{kind} kill {n}: the import left {landed} of {rows} rows"
        );
        if landed == rows {
            assert!(
                killed_mid_way > 0,
                "{kind}: committed within {delay:?}: make the file bigger, or the test proves nothing"
            );
            return Some(creds);
        }
        assert!(killed, "{kind} kill {n}: finished without writing a row");
        killed_mid_way += 1;
        let conn = Connection::open(env.db()).unwrap();
        let audited: i64 = conn
            .query_row(
                "SELECT count(*) FROM audit WHERE action LIKE '%.import'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            audited, 0,
            "{kind} kill {n}: the import was audited but not committed"
        );
        if env.path(&creds).exists() {
            // The killed process could not delete it; what it lists was never committed.
            let text = std::fs::read_to_string(env.path(&creds)).unwrap();
            for line in text.lines().skip(1) {
                let username = line.split(',').next().unwrap();
                let n: i64 = conn
                    .query_row(
                        "SELECT count(*) FROM users WHERE username = ?1",
                        [username],
                        |r| r.get(0),
                    )
                    .unwrap();
                assert_eq!(n, 0, "{creds} names the committed account {username}");
            }
        }
    }
    assert!(killed_mid_way > 0);
    None
}

#[test]
fn users_import_killed_part_way_leaves_all_or_nothing_and_reruns() {
    let env = Env::new();
    env.init();
    let mut csv = String::from("email,name,msa\n");
    for i in 0..USER_ROWS {
        csv.push_str(&format!("p{i}@contoso.com,Person {i},p{i}@outlook.com\n"));
    }
    std::fs::write(env.path("rows.csv"), csv).unwrap();
    // Running it again completes (unless a kill came after the commit), with every
    // password on disk.
    let file = match kill_import_at_several_points(&env, "users", "users", USER_ROWS, &[]) {
        Some(committed) => committed,
        None => {
            env.ok(&[
                "-q",
                "users",
                "import",
                "rows.csv",
                "--credentials-file",
                "final.csv",
            ]);
            "final.csv".to_owned()
        }
    };
    assert_eq!(count(&env, "users"), USER_ROWS);
    let creds = read_credentials(&env.path(&file));
    assert_eq!(creds.len(), USER_ROWS);
    let conn = Connection::open(env.db()).unwrap();
    for row in creds.iter().step_by(USER_ROWS / 50) {
        let hash: String = conn
            .query_row(
                "SELECT password_hash FROM users WHERE username = ?1",
                [&row[0]],
                |r| r.get(0),
            )
            .unwrap();
        assert!(
            competency::credentials::verify(&row[2], &hash),
            "{}",
            row[0]
        );
    }
    integrity_ok(&env.db());
}

#[test]
fn achievements_import_killed_part_way_leaves_all_or_nothing_and_reruns() {
    let env = Env::new();
    let rules = format!("{}/tests/data/small-rules.toml", env!("CARGO_MANIFEST_DIR"));
    env.ok(&[
        "init",
        "--name",
        "Contoso",
        "--partner-id",
        "1",
        "--rulebook",
        &rules,
    ]);
    let mut csv = String::from("msa,code,earned\n");
    for i in 0..ACHIEVEMENT_ROWS {
        let code = ["EX-A", "EX-B", "CERT-C"][i % 3];
        csv.push_str(&format!("a{i}@outlook.com,{code},2025-12-01\n"));
    }
    std::fs::write(env.path("rows.csv"), csv).unwrap();
    let now = ["--now", "2026-01-01"];
    if kill_import_at_several_points(&env, "achievements", "achievements", ACHIEVEMENT_ROWS, &now)
        .is_none()
    {
        env.ok(&[
            "-q",
            "achievements",
            "import",
            "rows.csv",
            "--now",
            "2026-01-01",
        ]);
    }
    assert_eq!(count(&env, "achievements"), ACHIEVEMENT_ROWS);
    integrity_ok(&env.db());
}

/// The temporary file a credentials file is written to until the commit.
fn staged(env: &Env, name: &str) -> std::path::PathBuf {
    env.path(&format!(".{name}.competency-tmp"))
}

/// Starts `users import` and kills it once its temporary credentials file holds rows (the
/// first 64 KiB flushed: the transaction is part-way), with a deadline; panics if the import
/// finished first (the test would prove nothing).
fn kill_when_credentials_are_staged(env: &Env, creds: &str) {
    let mut child = std_cmd(env)
        .args([
            "-q",
            "users",
            "import",
            "rows.csv",
            "--credentials-file",
            creds,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let temp = staged(env, creds);
    loop {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import finished before its credentials were staged: make the file bigger"
        );
        if std::fs::metadata(&temp).is_ok_and(|m| m.len() > 0) {
            break;
        }
        assert!(Instant::now() < deadline, "no progress within the deadline");
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = child.kill();
    assert!(!child.wait().unwrap().success());
}

#[test]
fn a_killed_users_import_leaves_no_credentials_file_and_its_temporary_file_is_cleaned() {
    let env = Env::new();
    env.init();
    let mut csv = String::from("email,name\n");
    for i in 0..USER_ROWS {
        csv.push_str(&format!("k{i}@contoso.com,Person {i}\n"));
    }
    std::fs::write(env.path("rows.csv"), csv).unwrap();
    let before = count(&env, "users");

    // Killed part-way: no credentials file under its final name, no new account; the
    // temporary file (mode 0600) is what is left.
    kill_when_credentials_are_staged(&env, "creds.csv");
    integrity_ok(&env.db());
    assert!(
        !env.path("creds.csv").exists(),
        "a credentials file for no account"
    );
    assert_eq!(count(&env, "users"), before);
    assert_eq!(common::mode(&staged(&env, "creds.csv")), 0o600);
    // `doctor` removes it and says so.
    let out = env.ok(&["doctor"]);
    assert!(
        out.contains("removed a temporary credentials file"),
        "{out}"
    );
    assert!(!staged(&env, "creds.csv").exists());

    // Killed again: the next run removes the leftover and completes, every password on disk.
    kill_when_credentials_are_staged(&env, "creds.csv");
    assert!(staged(&env, "creds.csv").exists());
    env.ok(&[
        "-q",
        "users",
        "import",
        "rows.csv",
        "--credentials-file",
        "creds.csv",
    ]);
    assert!(!staged(&env, "creds.csv").exists());
    assert_eq!(read_credentials(&env.path("creds.csv")).len(), USER_ROWS);
    assert_eq!(count(&env, "users"), before + USER_ROWS);
    integrity_ok(&env.db());
}
