//! `doctor` and `backup`: a healthy database passes; each kind of damage is reported with
//! what to do; a backup taken while another process writes is consistent and private. The
//! tests run on the backend of the run, but those about the SQLite file itself (its mode,
//! owner, folder, damaged pages), which use `populated_sqlite`.
// Notes for the person running the tests (clippy.toml keeps `print!` out of src/).
#![allow(clippy::disallowed_macros)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{DAY_ONE, Db, Env, mode, small_rules, users_add};
use rusqlite::Connection;

/// A database with an organization on the small rulebook, a few users and achievements.
fn populated() -> Env {
    let env = Env::with_rulebook(&small_rules());
    fill(&env);
    env
}

/// The same on SQLite whatever the run is for: for tests about the SQLite file itself.
fn populated_sqlite() -> Env {
    let env = Env::sqlite();
    env.add_org("Contoso Ltd", "1234567", &small_rules(), DAY_ONE);
    fill(&env);
    env
}

fn fill(env: &Env) {
    for i in 0..5 {
        let email = format!("person{i}@contoso.com");
        let msa = format!("person{i}@outlook.com");
        env.add_user(&format!("Person {i}"), &email, &["--msa", &msa]);
        env.achievement(&msa, "EX-A", "2025-12-01", "2026-01-01");
    }
}

fn doctor_fails(env: &Env) -> String {
    let (code, out, err) = env.run(&["doctor"]);
    assert_eq!(code, 1, "doctor should fail: {out}{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.starts_with("error: "), "{err}");
    err
}

#[test]
fn doctor_passes_a_healthy_database() {
    let env = populated();
    let out = env.json(&["doctor"]);
    assert_eq!(out["ok"], true, "{out}");
    let checks = out["checks"].as_array().unwrap();
    // The file's permissions on SQLite; the connection and its encryption on PostgreSQL.
    let backend: &[&str] = if env.is_pg() {
        &["connection", "tls"]
    } else {
        &["permissions"]
    };
    for &name in ["integrity", "foreign keys", "schema version", "rulebook"]
        .iter()
        .chain(backend)
    {
        assert!(
            checks.iter().any(|c| c["check"] == name && c["ok"] == true),
            "missing passing check {name}: {out}"
        );
    }
}

#[test]
fn doctor_reports_a_database_others_can_read() {
    let env = populated_sqlite(); // the SQLite file's mode
    std::fs::set_permissions(env.db(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = doctor_fails(&env);
    assert!(
        err.contains("permissions") && err.contains("chmod 600"),
        "should say how to fix: {err}"
    );
}

#[test]
fn doctor_reports_a_database_folder_others_can_write() {
    let env = populated_sqlite(); // the SQLite file's folder
    // The sandbox folder holds the database; group-writable, anyone in the group can
    // replace the database or plant links beside it.
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o775)).unwrap();
    let err = doctor_fails(&env);
    assert!(err.contains("folder") && err.contains("775"), "{err}");
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let out = env.json(&["doctor"]);
    assert_eq!(out["ok"], true, "{out}");
    assert!(
        out["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["check"] == "folder" && c["ok"] == true),
        "{out}"
    );
}

#[test]
fn doctor_reports_a_database_file_owned_by_another_user() {
    let env = populated_sqlite(); // the SQLite file's owner
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    let other = if me == 0 { 65534 } else { me };
    if std::os::unix::fs::chown(env.db(), Some(other), None).is_err() || other == me {
        // Only root can give a file away; as another user this test cannot set the scene.
        eprintln!("skipped: cannot chown as uid {me}");
        return;
    }
    let err = doctor_fails(&env);
    assert!(err.contains("belongs to user id 65534"), "{err}");
}

#[test]
fn doctor_reports_a_rulebook_made_invalid_in_the_database() {
    let env = populated();
    env.open_db().execute(
        "UPDATE orgs SET rulebook = $1",
        &[&"[program]\nname = 3\n\u{1}garbage = [[[ \n"],
    );
    let err = doctor_fails(&env);
    assert!(err.contains("rulebook"), "{err}");
    assert!(err.contains("rules import"), "should say how to fix: {err}");
}

#[test]
fn doctor_refuses_a_database_from_a_newer_schema() {
    let env = populated();
    match env.open_db() {
        Db::Sqlite(conn) => conn.pragma_update(None, "user_version", 999).unwrap(),
        mut db => {
            db.execute("UPDATE schema_version SET version = 999", &[]);
        }
    }
    let err = doctor_fails(&env);
    assert!(
        err.contains("999") && err.contains("upgrade competency"),
        "should say to upgrade: {err}"
    );
}

/// Flips bytes in the middle of `page` (1-based) of a checkpointed database file.
fn corrupt_page(db: &Path, page: u64) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new().write(true).open(db).unwrap();
    let page_size = 4096;
    f.seek(SeekFrom::Start((page - 1) * page_size + 8)).unwrap();
    f.write_all(&[0xA5; 64]).unwrap();
    f.seek(SeekFrom::Start((page - 1) * page_size + 2000))
        .unwrap();
    f.write_all(&[0x5A; 512]).unwrap();
}

fn table_root_page(db: &Path, table: &str) -> u64 {
    let conn = Connection::open(db).unwrap();
    let page: i64 = conn
        .query_row(
            "SELECT rootpage FROM sqlite_schema WHERE name = ?1",
            [table],
            |r| r.get(0),
        )
        .unwrap();
    // Checkpoint so the page is in the main file, not only in the WAL.
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .unwrap();
    page as u64
}

#[test]
fn doctor_reports_a_corrupted_page_and_says_to_restore() {
    for table in ["orgs", "users", "achievements", "audit"] {
        let env = populated_sqlite(); // pages of the SQLite file
        let page = table_root_page(&env.db(), table);
        corrupt_page(&env.db(), page);
        let err = doctor_fails(&env);
        assert!(
            err.contains("integrity") && err.contains("backup"),
            "{table}: should name the failed check and say to restore a backup: {err}"
        );
    }
}

#[test]
fn doctor_reports_a_file_that_is_not_a_database_and_says_to_restore() {
    let env = populated_sqlite(); // the SQLite file's header
    table_root_page(&env.db(), "orgs");
    corrupt_page(&env.db(), 1);
    let err = doctor_fails(&env);
    assert!(
        err.contains("damaged") && err.contains("restore a backup"),
        "should say the file is damaged and to restore: {err}"
    );
}

#[test]
fn backup_while_another_process_writes_is_consistent_private_and_complete() {
    let env = Arc::new(populated());
    let before: Vec<String> = env
        .open_db()
        .query(
            "SELECT u.username || o.domain FROM users u JOIN orgs o ON o.id = u.org_id",
            &[],
        )
        .into_iter()
        .map(|r| r[0].text().to_owned())
        .collect();
    assert_eq!(before.len(), 5);

    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    // However the test ends (a failed assertion too), the writer stops after its command.
    struct StopOnDrop(Arc<AtomicBool>);
    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let _stop_on_drop = StopOnDrop(stop.clone());
    let writer = {
        let (env, stop, written) = (env.clone(), stop.clone(), written.clone());
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let email = format!("w{i}@contoso.com");
                let file = format!("w{i}.csv");
                let (code, _, err) = env.run(&users_add("Writer", &email, &file, &[]));
                assert_eq!(code, 0, "writer failed during the backup: {err}");
                written.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        })
    };
    // Waits, with a deadline, until the writer has added `n` accounts (it stops, and the
    // test fails, should the writer fail or stall).
    let wait_for = |n: usize| {
        let deadline = Instant::now() + Duration::from_secs(120);
        while written.load(Ordering::Relaxed) < n {
            if Instant::now() >= deadline || writer.is_finished() {
                stop.store(true, Ordering::Relaxed);
                panic!(
                    "the writer added {} of {n} accounts before the deadline",
                    written.load(Ordering::Relaxed)
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    // Let the writer get going, then back up while it writes.
    wait_for(2);
    let dest = env.path("backup.db");
    let out = env.ok(&["backup", dest.to_str().unwrap()]);
    assert!(out.contains("backup.db"), "{out}");
    let during = written.load(Ordering::Relaxed);
    wait_for(during + 2);
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("writer thread");

    assert_eq!(mode(&dest), 0o600);
    let copy = Connection::open(&dest).unwrap();
    let ok: String = copy
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let fk: i64 = copy
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fk, 0);
    for u in &before {
        let n: i64 = copy
            .query_row("SELECT count(*) FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.username || o.domain = ?1", [u], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(n, 1, "{u} was committed before the backup but is missing");
    }
    let ach: i64 = copy
        .query_row("SELECT count(*) FROM achievements", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ach, 5);
    // Each user added is audited in the same transaction: the copy is a consistent cut.
    let users: i64 = copy
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .unwrap();
    let audited: i64 = copy
        .query_row(
            "SELECT count(*) FROM audit WHERE action = 'users.add'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(users, audited, "the copy is not a consistent snapshot");
    assert!(
        users >= 5 + 2,
        "writes committed before the backup are missing"
    );
    drop(copy);

    // The copy is a working database.
    let (code, out, err) = env.run(&["--db", dest.to_str().unwrap(), "doctor"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn backup_refuses_an_existing_path_and_leaves_it_alone() {
    let env = populated();
    let dest = env.path("existing.db");
    std::fs::write(&dest, "precious").unwrap();
    let err = env.fails(&["backup", dest.to_str().unwrap()]);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "precious");
    // Nor through a symbolic link to a file that does not exist yet.
    let link = env.path("link.db");
    std::os::unix::fs::symlink(env.path("target.db"), &link).unwrap();
    env.fails(&["backup", link.to_str().unwrap()]);
    assert!(!env.path("target.db").exists());
}
