//! Crash safety: commands killed with SIGKILL at arbitrary moments leave a database that
//! is sound (SQLite: passes `PRAGMA integrity_check`; PostgreSQL: no transaction or writers'
//! lock left behind by the killed client), holds each command's changes entirely or not at
//! all, never holds an account whose temporary password is not safe in its credentials file,
//! and takes the same command again. Every test runs on the backend of the run.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{DAY_ONE, Db, Env, read_credentials, small_rules, users_add};
use competency::api::store::hash_text;

/// How long any wait here may take: past it the test fails instead of hanging (a 15,000-row
/// import on a loaded machine reaches its late phases after minutes).
const DEADLINE: Duration = common::COMMAND_DEADLINE;

/// Starts `cmd` and kills it with SIGKILL as soon as `reached()` says it got to a progress
/// point (never at a clock time); true when it was killed before finishing, false when it
/// finished first. Fails, killing it, when neither happens within [`DEADLINE`].
fn kill_when(mut cmd: Command, mut reached: impl FnMut() -> bool) -> bool {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + DEADLINE;
    loop {
        if reached() {
            break;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the command reached no progress point within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = child.kill(); // SIGKILL on Unix
    !child.wait().unwrap().success()
}

/// Makes `cmd` stop once its transaction committed, before it names its credentials file
/// (the hidden test hook); returns the file whose appearance says it got there.
fn pause_after_commit(env: &Env, cmd: &mut Command) -> PathBuf {
    let marker = env.path("paused-after-commit");
    let _ = std::fs::remove_file(&marker);
    cmd.env("COMPETENCY_TEST_PAUSE_AFTER_COMMIT", &marker);
    marker
}

/// The temporary file a credentials file is written to until the commit.
fn staged(env: &Env, name: &str) -> PathBuf {
    env.path(&format!(".{name}.competency-tmp"))
}

/// The file's size (0 when missing).
fn len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Settles the leftovers of a command killed after its commit: by `doctor` or by the next
/// command that writes credentials (here an `add-user` of `next_email`), and checks it said
/// so on stderr; the file `name` then holds the passwords under its final name.
fn recover(env: &Env, name: &str, by_doctor: bool, next_email: &str) {
    assert!(
        staged(env, name).exists() && !env.path(name).exists(),
        "{name}: committed, so its temporary file should be waiting to be recovered"
    );
    let (code, out, err) = if by_doctor {
        env.run(&["doctor"])
    } else {
        env.run(&users_add(
            "Next",
            next_email,
            &format!("{next_email}.csv"),
            &[],
        ))
    };
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("recovered credentials file") && err.contains(name),
        "should say it recovered {name}: {err}"
    );
    assert!(env.path(name).exists() && !staged(env, name).exists());
    assert_eq!(common::mode(&env.path(name)), 0o600);
}

fn integrity_ok(env: &Env) {
    env.open_db().assert_sound();
}

/// The stored password hash of the account `username`, as text (a user name is stored
/// without its organization's domain since migration 10).
fn password_hash(db: &mut Db, username: &str) -> String {
    let v = db.scalar(
        "SELECT u.password_hash FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.username || o.domain = $1",
        &[&username],
    );
    hash_text(v.bytes())
}

/// The password hash and audit rows of the account with this e-mail, if it was committed.
fn committed(env: &Env, email: &str) -> Option<(String, String, i64)> {
    let mut db = env.open_db();
    let row = db.row(
        "SELECT u.username || o.domain, u.password_hash FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.email = $1",
        &[&email],
    )?;
    let (u, h) = (row[0].text().to_owned(), hash_text(row[1].bytes()));
    let audited = db
        .scalar(
            "SELECT count(*) FROM audit WHERE action = 'users.add' AND subject = $1",
            &[&u],
        )
        .int();
    Some((u, h, audited))
}

/// Holds the writers' lock as another administrator's command would (SQLite: `BEGIN
/// IMMEDIATE`; PostgreSQL: the writers' advisory lock of src/store/postgres/, in a transaction)
/// until the returned connection is dropped or released.
fn hold_write_lock(env: &Env) -> Db {
    let mut db = env.open_db();
    match &mut db {
        Db::Sqlite(c) => c.execute_batch("BEGIN IMMEDIATE").unwrap(),
        Db::Pg(c) => c
            .batch_execute("BEGIN; SELECT pg_advisory_xact_lock(7165065861675640174)")
            .unwrap(),
    }
    db
}

/// PostgreSQL: whether another session of the database waits for a lock (a command
/// queued behind [`hold_write_lock`]).
fn waits_for_lock(db: &mut Db) -> bool {
    db.scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'",
        &[],
    )
    .int()
        > 0
}

fn release_write_lock(mut db: Db) {
    match &mut db {
        Db::Sqlite(c) => c.execute_batch("ROLLBACK").unwrap(),
        Db::Pg(c) => c.batch_execute("ROLLBACK").unwrap(),
    }
}

/// Where a `users add` is killed.
#[derive(Clone, Copy, Debug)]
enum AddPoint {
    /// Its temporary credentials file exists (PostgreSQL: or it waits for the writers'
    /// lock) while the test holds that lock: before its transaction, certainly.
    BeforeTransaction,
    /// Its password is synced into the temporary file: just before the commit, or after.
    PasswordStaged,
    /// Committed, before the credentials file is named (the test hook).
    AfterCommit,
    /// Not killed.
    Never,
}

#[test]
fn users_add_killed_at_any_moment_is_all_or_nothing_and_can_be_rerun() {
    use AddPoint::*;
    let env = Env::new();
    env.init();
    let points = [BeforeTransaction, PasswordStaged, AfterCommit, Never];
    let (mut killed, mut completed, mut recovered, mut extra) = (0, 0, 0, 0);
    for (i, point) in points.into_iter().cycle().take(12).enumerate() {
        let email = format!("k{i}@contoso.com");
        let file = format!("k{i}.csv");
        let mut cmd = env.std_cmd();
        cmd.args(users_add(
            "Killed",
            &email,
            &file,
            &["--msa", &format!("k{i}@outlook.com")],
        ));
        let temp = staged(&env, &file);
        let was_killed = match point {
            BeforeTransaction => {
                let lock = hold_write_lock(&env);
                // PostgreSQL: it queues for the writers' lock before it stages its file.
                let mut watcher = env.is_pg().then(|| env.open_db());
                let k = kill_when(cmd, || {
                    temp.exists() || watcher.as_mut().is_some_and(waits_for_lock)
                });
                drop(watcher);
                release_write_lock(lock);
                k
            }
            PasswordStaged => kill_when(cmd, || len(&temp) > 0),
            AfterCommit => {
                let marker = pause_after_commit(&env, &mut cmd);
                kill_when(cmd, || marker.exists())
            }
            Never => kill_when(cmd, || false),
        };
        integrity_ok(&env);
        match committed(&env, &email) {
            Some((username, hash, audited)) => {
                completed += 1;
                // Committed: audited in the same transaction, and its password safe on
                // disk: under its final name, or recovered by the next run or `doctor`.
                assert_eq!(audited, 1, "{email}: account without its audit row");
                if !env.path(&file).exists() {
                    assert!(was_killed, "{email}: finished without naming {file}");
                    let by_doctor = recovered % 2 == 0;
                    recover(&env, &file, by_doctor, &format!("n{i}@contoso.com"));
                    recovered += 1;
                    extra += usize::from(!by_doctor);
                }
                let creds = read_credentials(&env.path(&file));
                let row = creds
                    .iter()
                    .find(|r| r[0] == username)
                    .unwrap_or_else(|| panic!("{email} committed but not in {file}"));
                assert!(
                    competency::api::domain::credentials::verify(&row[2], &hash),
                    "{email}: the password in the file does not match the account"
                );
                assert_eq!(
                    env.json(&["users", "show", &email])["msa"],
                    format!("k{i}@outlook.com")
                );
            }
            None => {
                assert!(was_killed, "{email}: not killed, yet not committed");
                assert!(
                    !matches!(point, AfterCommit | Never),
                    "{email}: {point:?} but not committed"
                );
                killed += 1;
                // Rolled back: no trace in the database, no credentials file under its
                // final name; a temporary one with content names no committed account.
                let traces = env
                    .open_db()
                    .scalar(
                        "SELECT (SELECT count(*) FROM msa_links WHERE msa = $1)
                              + (SELECT count(*) FROM audit
                                 WHERE detail LIKE '%' || CAST($2 AS TEXT) || '%')",
                        &[&format!("k{i}@outlook.com"), &email],
                    )
                    .int();
                assert_eq!(traces, 0, "{email}: half a command landed");
                assert!(!env.path(&file).exists(), "{file} for no account");
                let had_rows = len(&temp) > 0;
                // Running it again completes, and settles the leftover: not committed,
                // it is removed (an empty brand-new one is left: it holds nothing).
                env.add_user("Killed", &email, &["--msa", &format!("k{i}@outlook.com")]);
                if had_rows {
                    assert!(!temp.exists(), "{email}: uncommitted leftover kept");
                }
                assert!(!env.path(&file).exists(), "{file} recovered for no account");
            }
        }
    }
    assert!(
        killed >= 3,
        "BeforeTransaction always lands before the commit"
    );
    assert!(
        recovered >= 3,
        "AfterCommit always leaves a file to recover"
    );
    assert!(completed >= 6);
    assert_eq!(
        env.json(&["users", "list"]).as_array().unwrap().len(),
        12 + extra
    );
    let doctor = env.json(&["doctor"]);
    assert_eq!(doctor["ok"], true, "{doctor}");
}

// ---------------------------------------------------------------------------------------
// Bulk imports: one transaction for the whole file, killed part-way.

/// Rows per import: enough that an import runs for about a second in a debug build.
const USER_ROWS: usize = 15_000;
const ACHIEVEMENT_ROWS: usize = 50_000;

/// The size of the SQLite file's WAL (SQLite only).
fn wal_len(env: &Env) -> u64 {
    std::fs::metadata(format!("{}-wal", env.db().display()))
        .map(|m| m.len())
        .unwrap_or(0)
}

fn count(env: &Env, table: &str) -> usize {
    env.count(table) as usize
}

/// Where an import is killed: progress it shows, never a clock time.
#[derive(Clone, Copy, Debug)]
enum ImportPoint {
    /// Its temporary credentials file holds rows (the first 64 KiB flushed, part-way
    /// through writing the accounts).
    CredentialsStaged,
    /// The WAL holds this many bytes (pages spilled part-way, or the commit): SQLite only.
    Wal(u64),
    /// Held at the start of the phase whose name starts with this (the hidden test hook
    /// `COMPETENCY_TEST_HOLD_PHASE`), inside the transaction: part of the rows written.
    Phase(&'static str),
    /// Committed, before the credentials file is named (the test hook).
    AfterCommit,
}

/// Kills `import` at each progress point in turn until one run commits; each time the
/// database must be intact and hold none of the rows or all of them (a kill can land
/// after the commit), a rolled-back import must leave no audit row and no credentials file
/// under its final name, and a committed one must lose no password: a credentials file
/// not yet named is recovered by `doctor`. Returns the credentials file of the run that
/// committed, if one did.
fn kill_import_at_points(
    env: &Env,
    kind: &str,
    table: &str,
    rows: usize,
    extra: &[&str],
    points: &[ImportPoint],
) -> Option<String> {
    let before = count(env, table);
    for (n, &point) in points.iter().enumerate() {
        let creds = format!("creds-{n}.csv");
        let temp = staged(env, &creds);
        let mut cmd = env.std_cmd();
        cmd.args(["-q", kind, "import", "rows.csv"]);
        if kind == "users" {
            cmd.args(["--credentials-file", &creds]);
        }
        cmd.args(extra);
        let killed = match point {
            ImportPoint::CredentialsStaged => kill_when(cmd, || len(&temp) > 0),
            ImportPoint::Wal(bytes) => kill_when(cmd, || wal_len(env) >= bytes),
            ImportPoint::Phase(phase) => {
                let marker = env.path(&format!("held-{n}"));
                cmd.env(
                    "COMPETENCY_TEST_HOLD_PHASE",
                    format!("{phase}:{}", marker.display()),
                );
                let killed = kill_when(cmd, || marker.exists());
                assert!(killed, "{kind}: finished without reaching {phase:?}");
                killed
            }
            ImportPoint::AfterCommit => {
                let marker = pause_after_commit(env, &mut cmd);
                kill_when(cmd, || marker.exists())
            }
        };
        integrity_ok(env);
        let landed = count(env, table) - before;
        assert!(
            landed == 0 || landed == rows,
            "{kind} kill {n} ({point:?}): the import left {landed} of {rows} rows"
        );
        assert!(
            landed == 0 || !matches!(point, ImportPoint::Phase(_)),
            "{kind} kill {n} ({point:?}): held inside its transaction, yet committed"
        );
        if landed == rows {
            if kind == "users" && !env.path(&creds).exists() {
                assert!(killed, "{kind}: finished without naming {creds}");
                let out = env.run(&["doctor"]);
                assert!(
                    out.2.contains("recovered credentials file") && out.2.contains(&creds),
                    "{kind} kill {n} ({point:?}): doctor should recover {creds}: {}",
                    out.2
                );
            }
            return Some(creds);
        }
        assert!(killed, "{kind} kill {n}: finished without writing a row");
        assert!(
            !matches!(point, ImportPoint::AfterCommit),
            "{kind}: paused after the commit, yet nothing committed"
        );
        let audited = env
            .open_db()
            .scalar(
                "SELECT count(*) FROM audit WHERE action LIKE '%.import'",
                &[],
            )
            .int();
        assert_eq!(
            audited, 0,
            "{kind} kill {n}: the import was audited but not committed"
        );
        assert!(
            !env.path(&creds).exists(),
            "{kind} kill {n}: a credentials file for accounts that do not exist"
        );
    }
    None
}

#[test]
fn users_import_killed_part_way_leaves_all_or_nothing_and_reruns() {
    let env = Env::new();
    env.init();
    // PostgreSQL is killed at its phases only (no WAL to watch): fewer rows do, still
    // enough to flush the credentials file part-way.
    let rows = if env.is_pg() {
        USER_ROWS / 5
    } else {
        USER_ROWS
    };
    let mut csv = String::from("email,name,msa\n");
    for i in 0..rows {
        csv.push_str(&format!("p{i}@contoso.com,Person {i},p{i}@outlook.com\n"));
    }
    std::fs::write(env.path("rows.csv"), csv).unwrap();
    // The last point always commits; whichever run did, every password is on disk. The
    // phases are held inside the transaction: every account written, then the credentials
    // file about to be synced just before the commit.
    let mut points = vec![
        ImportPoint::CredentialsStaged,
        ImportPoint::Phase("linking Microsoft accounts"),
        ImportPoint::Phase("saving the credentials file"),
    ];
    if !env.is_pg() {
        points.push(ImportPoint::Wal(1 << 20));
    }
    points.push(ImportPoint::AfterCommit);
    let file = kill_import_at_points(&env, "users", "users", rows, &[], &points)
        .expect("the run paused after its commit committed");
    assert_eq!(count(&env, "users"), rows);
    let creds = read_credentials(&env.path(&file));
    assert_eq!(creds.len(), rows);
    let mut db = env.open_db();
    for row in creds.iter().step_by(rows / 50) {
        let hash = password_hash(&mut db, &row[0]);
        assert!(
            competency::api::domain::credentials::verify(&row[2], &hash),
            "{}",
            row[0]
        );
    }
    // Nothing is left to settle, and nothing else was named.
    for n in 0..points.len() {
        let other = format!("creds-{n}.csv");
        assert!(!staged(&env, &other).exists() || len(&staged(&env, &other)) == 0);
        assert_eq!(env.path(&other).exists(), other == file, "{other}");
    }
    drop(db);
    integrity_ok(&env);
}

#[test]
fn achievements_import_killed_part_way_leaves_all_or_nothing_and_reruns() {
    let env = Env::new();
    let rules = small_rules();
    env.add_org("Contoso", "1", &rules, DAY_ONE);
    let mut csv = String::from("msa,code,earned\n");
    for i in 0..ACHIEVEMENT_ROWS {
        let code = ["EX-A", "EX-B", "CERT-C"][i % 3];
        csv.push_str(&format!("a{i}@outlook.com,{code},2025-12-01\n"));
    }
    std::fs::write(env.path("rows.csv"), csv).unwrap();
    let now = ["--now", "2026-01-01"];
    // Held before the file is read (outside the transaction), then with every row written
    // and the evaluation index dropped (inside it); on SQLite also as the WAL grows.
    let mut points = vec![
        ImportPoint::Phase("reading"),
        ImportPoint::Phase("rebuilding the evaluation index"),
    ];
    if !env.is_pg() {
        points.extend([
            ImportPoint::Wal(256 << 10),
            ImportPoint::Wal(1 << 20),
            ImportPoint::Wal(4 << 20),
        ]);
    }
    if kill_import_at_points(
        &env,
        "achievements",
        "achievements",
        ACHIEVEMENT_ROWS,
        &now,
        &points,
    )
    .is_none()
    {
        env.ok("-q achievements import rows.csv --now 2026-01-01");
    }
    assert_eq!(count(&env, "achievements"), ACHIEVEMENT_ROWS);
    integrity_ok(&env);
}

/// Starts `users import` and kills it once its temporary credentials file holds rows (the
/// first 64 KiB flushed: the transaction is part-way); true when the kill landed before
/// the commit (false: after it, the process stopped short of naming the file or not).
fn kill_when_credentials_are_staged(env: &Env, creds: &str) -> bool {
    let before = count(env, "users");
    let mut cmd = env.std_cmd();
    cmd.args([
        "-q",
        "users",
        "import",
        "rows.csv",
        "--credentials-file",
        creds,
    ]);
    let temp = staged(env, creds);
    kill_when(cmd, || len(&temp) > 0);
    count(env, "users") == before
}

#[test]
fn a_killed_users_import_leaves_no_credentials_file_and_its_temporary_file_is_settled() {
    let env = Env::new();
    env.init();
    let mut csv = String::from("email,name\n");
    for i in 0..USER_ROWS {
        csv.push_str(&format!("k{i}@contoso.com,Person {i}\n"));
    }
    std::fs::write(env.path("rows.csv"), csv).unwrap();
    let before = count(&env, "users");

    // Killed part-way: no credentials file under its final name, no new account; the
    // temporary file (mode 0600) is what is left, and `doctor` removes it and says so.
    // Should the kill land after the commit (a slow poll), doctor recovers it instead.
    if kill_when_credentials_are_staged(&env, "creds.csv") {
        integrity_ok(&env);
        assert!(
            !env.path("creds.csv").exists(),
            "a credentials file for no account"
        );
        assert_eq!(count(&env, "users"), before);
        assert_eq!(common::mode(&staged(&env, "creds.csv")), 0o600);
        let out = env.ok(&["doctor"]);
        assert!(
            out.contains("removed a temporary credentials file"),
            "{out}"
        );
        assert!(!staged(&env, "creds.csv").exists());
        assert!(!env.path("creds.csv").exists());
        // Killed again: the next run removes the leftover and completes.
        if kill_when_credentials_are_staged(&env, "creds.csv") {
            assert!(staged(&env, "creds.csv").exists());
            env.ok("-q users import rows.csv --credentials-file creds.csv");
        }
    }
    if staged(&env, "creds.csv").exists() {
        env.ok(&["doctor"]);
    }
    assert!(!staged(&env, "creds.csv").exists());
    assert_eq!(read_credentials(&env.path("creds.csv")).len(), USER_ROWS);
    assert_eq!(count(&env, "users"), before + USER_ROWS);
    integrity_ok(&env);
}

/// Adds an account with the run paused after its commit and killed there: the temporary
/// credentials file holds the account's committed password.
fn add_killed_after_commit(env: &Env, email: &str, file: &str) {
    let mut cmd = env.std_cmd();
    cmd.args(users_add("Paused", email, file, &[]));
    let marker = pause_after_commit(env, &mut cmd);
    assert!(kill_when(cmd, || marker.exists()), "not paused");
    assert!(staged(env, file).exists() && !env.path(file).exists());
}

#[test]
fn a_run_killed_after_its_commit_loses_no_password_and_only_uncommitted_leftovers_go() {
    let env = Env::new();
    env.init();
    // Recovered by the next command writing credentials in the folder, under the next
    // free numbered name when its own is taken meanwhile.
    add_killed_after_commit(&env, "a@contoso.com", "a.csv");
    std::fs::write(env.path("a.csv"), "someone else's").unwrap();
    let (code, _, err) = env.run(&["users", "add", "--name", "B", "--email", "b@contoso.com"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("recovered credentials file ./a-2.csv from an interrupted run"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(env.path("a.csv")).unwrap(),
        "someone else's"
    );
    let row = &read_credentials(&env.path("a-2.csv"))[0];
    let user = env.json(&["users", "show", "a@contoso.com"]);
    assert_eq!(row[0], user["username"].as_str().unwrap());
    assert_eq!(common::mode(&env.path("a-2.csv")), 0o600);
    let hash = password_hash(&mut env.open_db(), &row[0]);
    assert!(competency::api::domain::credentials::verify(&row[2], &hash));

    // The same leftover against the database as it was before that commit: the accounts
    // do not exist, so it is removed, never named. (Restoring the SQLite file from its
    // backup is how it gets there: SQLite only.)
    if env.is_pg() {
        return;
    }
    env.ok(&["backup", "before.db"]);
    add_killed_after_commit(&env, "c@contoso.com", "c.csv");
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{side}", env.db().display()));
    }
    std::fs::copy(env.path("before.db"), env.db()).unwrap();
    let out = env.ok(&["doctor"]);
    assert!(
        out.contains("removed a temporary credentials file"),
        "{out}"
    );
    assert!(!staged(&env, "c.csv").exists() && !env.path("c.csv").exists());
}

#[test]
fn a_leftover_of_another_database_is_left_alone_until_its_own_database_settles_it() {
    let env = Env::new();
    env.init();
    add_killed_after_commit(&env, "a@contoso.com", "a.csv");
    // Another database, another organization, used from the same folder: it cannot tell
    // whether the file's accounts exist, so it neither removes nor names it.
    let other = env.path("other.db");
    let other = other.to_str().unwrap();
    env.ok(&[
        "--db",
        other,
        "init",
        "--name",
        "Fabrikam",
        "--partner-id",
        "2",
    ]);
    let out = env.ok(&["--db", other, "doctor"]);
    assert!(out.contains("not in this database"), "{out}");
    let (code, _, err) = env.run(&[
        "--db",
        other,
        "users",
        "add",
        "--name",
        "F",
        "--email",
        "f@fabrikam.com",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("left the temporary credentials file"), "{err}");
    assert!(staged(&env, "a.csv").exists() && !env.path("a.csv").exists());
    // Its own database recovers it.
    let (code, _, err) = env.run(&["doctor"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("recovered credentials file"), "{err}");
    assert_eq!(read_credentials(&env.path("a.csv")).len(), 1);
}

#[test]
fn a_reset_password_killed_after_its_commit_keeps_the_new_password_and_before_it_none() {
    let env = Env::new();
    env.init();
    let (username, _) = env.add_user("Ada", "ada@contoso.com", &[]);
    let reset = |file: &str| {
        let mut cmd = env.std_cmd();
        cmd.args([
            "users",
            "reset-password",
            &username,
            "--credentials-file",
            file,
        ]);
        cmd
    };
    // Killed after the commit: the new password is the account's, and is recovered.
    let mut cmd = reset("r1.csv");
    let marker = pause_after_commit(&env, &mut cmd);
    assert!(kill_when(cmd, || marker.exists()));
    let out = env.ok(&["doctor"]);
    assert!(out.contains("recovered credentials file"), "{out}");
    let row = &read_credentials(&env.path("r1.csv"))[0];
    let hash = committed(&env, "ada@contoso.com").unwrap().1;
    assert!(competency::api::domain::credentials::verify(&row[2], &hash));
    // Its leftover set against the account as it was before (the password in the file is
    // not the account's): removed.
    let before = hash.clone();
    let mut cmd = reset("r2.csv");
    let marker = pause_after_commit(&env, &mut cmd);
    assert!(kill_when(cmd, || marker.exists()));
    env.open_db().execute(
        "UPDATE users SET password_hash = $1
         WHERE username || (SELECT domain FROM orgs WHERE orgs.id = users.org_id) = $2",
        &[&competency::api::store::hash_bytes(&before), &username],
    );
    let out = env.ok(&["doctor"]);
    assert!(
        out.contains("removed a temporary credentials file"),
        "{out}"
    );
    assert!(!staged(&env, "r2.csv").exists() && !env.path("r2.csv").exists());
}
