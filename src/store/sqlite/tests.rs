//! Unit tests of what only SQLite does: opening files safely, their modes, refusals, and
//! its failures said plainly.

use std::path::{Path, PathBuf};

use crate::store::Store;
use crate::store::queries::tests::org;

#[test]
fn files_are_created_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/c.db");
    let mut store = Store::create(&path).unwrap();
    org(&mut store);
    for d in ["a", "a/b"] {
        let m = std::fs::metadata(dir.path().join(d))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(m, 0o700, "{d}");
    }
    for p in [
        path.clone(),
        PathBuf::from(format!("{}-wal", path.display())),
    ] {
        let m = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(m, 0o600, "{}", p.display());
    }
    let mode: String = store
        .conn
        .lite()
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = store
        .conn
        .lite()
        .unwrap()
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
}

#[test]
fn open_refuses_a_missing_or_empty_file_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/c.db");
    let e = Store::open(&path).err().expect("refused");
    assert_eq!(
        format!("{e:#}"),
        format!(
            "no database at {}: create one with `competency init`",
            path.display()
        )
    );
    assert!(!dir.path().join("sub").exists());
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, "").unwrap();
    assert!(Store::open(&empty).is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    // `create` (init) fills an empty file.
    Store::create(&empty).unwrap();
    drop(Store::open(&empty).unwrap());
}

#[test]
fn open_and_create_refuse_another_applications_database_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes VALUES (1, 'x');")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    assert!(Store::open(&path).is_err());
    assert!(Store::create(&path).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_read_only_folder_or_a_full_disk_is_named_not_sqlites_message() {
    let sqlite = |code: i32| -> anyhow::Error {
        anyhow::Error::from(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(code),
            Some("attempt to write a readonly database".into()),
        ))
        .context("cannot commit the transaction")
    };
    let db = Path::new("/srv/data/c.db");
    let ro_dir = |p: &Path| p != Path::new("/srv/data");
    let e = super::errors::explain_with(sqlite(rusqlite::ffi::SQLITE_READONLY), db, ro_dir);
    assert_eq!(
        format!("{e:#}"),
        "cannot write in /srv/data: read-only folder (the database needs to create its -wal \
         and -shm files there)"
    );
    let ro_file = |p: &Path| p != db;
    let e = super::errors::explain_with(sqlite(rusqlite::ffi::SQLITE_READONLY), db, ro_file);
    assert_eq!(
        format!("{e:#}"),
        "cannot write /srv/data/c.db: read-only file"
    );
    let e = super::errors::explain_with(sqlite(rusqlite::ffi::SQLITE_FULL), db, |_| true);
    assert_eq!(
        format!("{e:#}"),
        "cannot write the database /srv/data/c.db: the disk is full"
    );
    let other = super::errors::explain_with(sqlite(rusqlite::ffi::SQLITE_CONSTRAINT), db, |_| true);
    assert!(format!("{other:#}").starts_with("cannot commit"));
}
