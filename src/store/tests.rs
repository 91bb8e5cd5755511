//! Store unit tests against `:memory:`.
//!
//! Long on purpose: one module's tests sharing one fixture; a split would only copy it.

use chrono::{DateTime, NaiveDate, Utc};

use super::*;
use crate::rules::{Market, Metric};

fn t(s: &str) -> DateTime<Utc> {
    crate::support::clock::parse_instant(s).unwrap()
}

fn org(store: &mut Store) -> i64 {
    store
        .write(|db| {
            db.insert_org(
                &NewOrg {
                    partner_id: "1",
                    name: "Contoso",
                    slug: "contoso",
                    domain: "contoso.com",
                    market: Market::Developed,
                    rulebook: "[program]\nname = \"x\"\n",
                },
                t("2026-01-01"),
            )
        })
        .unwrap()
}

fn user(db: &Db, org_id: i64, name: &str) -> i64 {
    // A user name is always in its organization's domain.
    let domain = db.org_domain(org_id).unwrap();
    db.insert_user(
        &NewUser {
            org_id,
            username: &format!("{name}@{domain}"),
            name,
            email: &format!("{name}@x.com"),
            roles: "user",
            password_hash: "sha256$00",
            expires_at: t("2026-04-01"),
        },
        None,
        t("2026-01-02"),
    )
    .unwrap()
}

#[test]
fn migrations_set_the_version_and_are_idempotent() {
    let mut store = Store::open_in_memory().unwrap();
    assert_eq!(store.schema_version().unwrap(), schema::current_version());
    let Conn::Lite(c) = &mut store.conn else {
        unreachable!()
    };
    schema::migrate(c).unwrap();
    assert_eq!(store.schema_version().unwrap(), schema::current_version());
}

#[test]
fn a_newer_schema_is_refused() {
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.pragma_update(None, "user_version", 1000).unwrap();
    let err = schema::migrate(&mut conn).unwrap_err().to_string();
    assert!(err.contains("newer"), "{err}");
}

/// A migration can be code (issue 11): it runs on the store's connection inside the same
/// exclusive transaction as the SQL steps, and a failing step rolls every step of the run
/// back, the version included.
#[test]
fn code_migrations_run_in_the_migration_transaction() {
    use schema::Migration;
    fn fill(conn: &Conn) -> Result<()> {
        let n: i64 = conn.query_row("SELECT count(*) FROM m", sql::params![], |r| r.get(0))?;
        for i in 0..3 {
            conn.execute("INSERT INTO m (x) VALUES (?1)", sql::params![n + i])?;
        }
        Ok(())
    }
    fn fail(_: &Conn) -> Result<()> {
        anyhow::bail!("refused by the step")
    }
    let steps = [
        Migration::Sql("CREATE TABLE m (x INTEGER NOT NULL) STRICT;"),
        Migration::Code(fill),
        Migration::Code(fail),
    ];
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    let count = |c: &rusqlite::Connection| -> rusqlite::Result<i64> {
        c.query_row("SELECT count(*) FROM m", [], |r| r.get(0))
    };
    let version = |c: &rusqlite::Connection| -> i64 {
        c.pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    };
    let err = schema::migrate_steps(&mut conn, &steps, 3).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "schema migration 3 failed: refused by the step"
    );
    assert_eq!(version(&conn), 0);
    assert!(count(&conn).is_err(), "the table of step 1 was rolled back");
    schema::migrate_steps(&mut conn, &steps, 2).unwrap();
    assert_eq!((version(&conn), count(&conn).unwrap()), (2, 3));
    // The connection is the caller's again, usable as before.
    conn.execute("INSERT INTO m VALUES (9)", []).unwrap();
}

#[test]
fn a_failing_write_changes_nothing() {
    let mut store = Store::open_in_memory().unwrap();
    let org_id = org(&mut store);
    let r: Result<()> = store.write(|db| {
        user(db, org_id, "ann");
        anyhow::bail!("boom")
    });
    assert!(r.is_err());
    let users = store.read(|db| db.users(org_id, true)).unwrap();
    assert!(users.is_empty());
}

#[test]
fn an_msa_has_one_open_association_and_history_is_kept() {
    let mut store = Store::open_in_memory().unwrap();
    let org_id = org(&mut store);
    store
        .write(|db| {
            let a = user(db, org_id, "ann");
            let b = user(db, org_id, "bob");
            db.insert_link("m@x.com", a, org_id, t("2026-01-03"))?;
            // A second open association of the same MSA violates the partial unique index.
            let e = db
                .insert_link("m@x.com", b, org_id, t("2026-01-04"))
                .unwrap_err();
            assert!(
                e.downcast_ref::<sql::Error>()
                    .is_some_and(is_unique_violation)
            );
            let link = db.open_link_for_msa("m@x.com")?.unwrap();
            db.end_link(link.id, t("2026-01-05"), "moved")?;
            db.insert_link("m@x.com", b, org_id, t("2026-01-05"))?;
            assert_eq!(db.open_link_for_msa("m@x.com")?.unwrap().user_id, b);
            Ok(())
        })
        .unwrap();
    let snap = store
        .read(|db| db.snapshot(org_id, Market::Developed))
        .unwrap();
    assert_eq!(snap.people.len(), 2, "both intervals are kept");
    assert_eq!(snap.people[0].ended, Some(t("2026-01-05")));
    assert_eq!(snap.people[1].ended, None);
}

#[test]
fn snapshot_carries_achievements_and_performance() {
    let mut store = Store::open_in_memory().unwrap();
    let org_id = org(&mut store);
    store
        .write(|db| {
            let a = user(db, org_id, "ann");
            db.insert_link("ann@live.com", a, org_id, t("2026-01-03"))?;
            let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
            for (code, earned) in [("70-533", "2025-05-01"), ("70-532", "2025-06-01")] {
                let r = db.upsert_achievement(
                    &NewAchievement {
                        msa: "ann@live.com",
                        code,
                        earned: d(earned),
                        expires: None,
                    },
                    t("2026-01-03"),
                )?;
                assert_eq!(r, Recorded::Added);
            }
            // Same again: unchanged. A stranger's achievement is not loaded.
            let again = NewAchievement {
                msa: "ann@live.com",
                code: "70-533",
                earned: d("2025-05-01"),
                expires: None,
            };
            assert_eq!(
                db.upsert_achievement(&again, t("2026-01-04"))?,
                Recorded::Unchanged
            );
            let stranger = NewAchievement {
                msa: "zed@live.com",
                code: "70-533",
                earned: d("2025-05-01"),
                expires: None,
            };
            db.upsert_achievement(&stranger, t("2026-01-04"))?;
            assert_eq!(
                db.remove_achievement("ann@live.com", "70-532", t("2026-02-01"))?,
                1
            );
            let row = PerformanceRow {
                metric: Metric::Revenue,
                scope: "azure".into(),
                track: String::new(),
                association: String::new(),
                value: 1000.0,
                date: d("2025-12-01"),
            };
            assert_eq!(
                db.upsert_performance(org_id, &row, t("2026-01-03"))?,
                Recorded::Added
            );
            assert_eq!(
                db.upsert_performance(org_id, &row, t("2026-01-03"))?,
                Recorded::Unchanged
            );
            let more = PerformanceRow {
                value: 2000.0,
                ..row
            };
            assert_eq!(
                db.upsert_performance(org_id, &more, t("2026-01-03"))?,
                Recorded::Updated
            );
            Ok(())
        })
        .unwrap();
    let snap = store
        .read(|db| db.snapshot(org_id, Market::Developed))
        .unwrap();
    assert_eq!(snap.people.len(), 1);
    let ach = &snap.people[0].achievements;
    assert_eq!(ach.len(), 2);
    let removed = ach.iter().find(|a| &*a.code == "70-532").unwrap();
    assert_eq!(removed.removed, Some(t("2026-02-01")));
    assert_eq!(snap.performance.len(), 1);
    assert_eq!(snap.performance[0].value, 2000.0);
    let listed = store.read(|db| db.achievements(org_id, None)).unwrap();
    assert_eq!(listed.len(), 1, "removed records are not listed");
}

#[test]
fn dates_are_checked_by_the_schema() {
    let mut store = Store::open_in_memory().unwrap();
    let r = store.write(|db| {
        db.conn().execute(
            "INSERT INTO achievements (msa, code, earned, added_at) VALUES ('a', 'b', '2026-02-30', 0)",
            sql::params![],
        )?;
        Ok(())
    });
    assert!(r.is_err());
}

#[test]
fn last_global_admin_count() {
    let mut store = Store::open_in_memory().unwrap();
    let org_id = org(&mut store);
    store
        .write(|db| {
            let id = user(db, org_id, "ann");
            db.conn().execute(
                "UPDATE users SET roles = 'global-admin;mpn-admin' WHERE id = ?1",
                [id],
            )?;
            assert_eq!(db.count_active_with_role(org_id, "global-admin")?, 1);
            assert_eq!(db.count_active_with_role(org_id, "admin")?, 0);
            db.mark_user_removed(id, t("2026-02-01"), "left")?;
            assert_eq!(db.count_active_with_role(org_id, "global-admin")?, 0);
            Ok(())
        })
        .unwrap();
}

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
fn snapshot_of_a_small_org_among_many_loads_only_its_msas() {
    let mut store = Store::open_in_memory().unwrap();
    let a = org(&mut store);
    let b = store
        .write(|db| {
            db.insert_org(
                &NewOrg {
                    partner_id: "2",
                    name: "Big",
                    slug: "big",
                    domain: "big.com",
                    market: Market::Developed,
                    rulebook: "",
                },
                t("2026-01-01"),
            )
        })
        .unwrap();
    let d = NaiveDate::from_ymd_opt(2025, 5, 1).unwrap();
    store
        .write(|db| {
            // One MSA in the small organization, nine in the big one: the probe path.
            let ann = user(db, a, "ann");
            db.insert_link("ann@live.com", ann, a, t("2026-01-03"))?;
            for i in 0..9 {
                let u = user(db, b, &format!("b{i}"));
                let msa = format!("b{i}@live.com");
                db.insert_link(&msa, u, b, t("2026-01-03"))?;
                db.upsert_achievement(
                    &NewAchievement {
                        msa: &msa,
                        code: "70-533",
                        earned: d,
                        expires: None,
                    },
                    t("2026-01-03"),
                )?;
            }
            db.upsert_achievement(
                &NewAchievement {
                    msa: "ann@live.com",
                    code: "70-532",
                    earned: d,
                    expires: None,
                },
                t("2026-01-03"),
            )?;
            Ok(())
        })
        .unwrap();
    let small = store.read(|db| db.snapshot(a, Market::Developed)).unwrap();
    assert_eq!(small.people.len(), 1);
    assert_eq!(small.people[0].achievements.len(), 1);
    assert_eq!(&*small.people[0].achievements[0].code, "70-532");
    // The big one takes the scan path and skips the small one's records.
    let big = store.read(|db| db.snapshot(b, Market::Developed)).unwrap();
    assert_eq!(big.people.len(), 9);
    assert!(
        big.people
            .iter()
            .all(|p| p.achievements.len() == 1 && &*p.achievements[0].code == "70-533")
    );
}

#[test]
fn the_import_rebuilds_the_evaluation_index_exactly_as_the_migration_made_it() {
    let mut store = Store::open_in_memory().unwrap();
    fn store_sql(store: &Store) -> String {
        store
            .conn
            .lite()
            .unwrap()
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'achievements_by_msa'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    }
    assert_eq!(store_sql(&store), super::schema::ACHIEVEMENTS_BY_MSA);
    store
        .write(|db| {
            assert!(db.suspend_achievements_index(10)?);
            db.restore_achievements_index()
        })
        .unwrap();
    assert_eq!(store_sql(&store), super::schema::ACHIEVEMENTS_BY_MSA);
    // A small load into a large table keeps the index.
    store
        .write(|db| {
            for i in 0..40 {
                db.upsert_achievement(
                    &NewAchievement {
                        msa: &format!("m{i}@x.com"),
                        code: "70-533",
                        earned: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
                        expires: None,
                    },
                    t("2026-01-01"),
                )?;
            }
            assert!(!db.suspend_achievements_index(1)?);
            Ok(())
        })
        .unwrap();
    assert_eq!(store_sql(&store), super::schema::ACHIEVEMENTS_BY_MSA);
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
    let e = super::explain_with(sqlite(rusqlite::ffi::SQLITE_READONLY), db, ro_dir);
    assert_eq!(
        format!("{e:#}"),
        "cannot write in /srv/data: read-only folder (the database needs to create its -wal \
         and -shm files there)"
    );
    let ro_file = |p: &Path| p != db;
    let e = super::explain_with(sqlite(rusqlite::ffi::SQLITE_READONLY), db, ro_file);
    assert_eq!(
        format!("{e:#}"),
        "cannot write /srv/data/c.db: read-only file"
    );
    let e = super::explain_with(sqlite(rusqlite::ffi::SQLITE_FULL), db, |_| true);
    assert_eq!(
        format!("{e:#}"),
        "cannot write the database /srv/data/c.db: the disk is full"
    );
    let other = super::explain_with(sqlite(rusqlite::ffi::SQLITE_CONSTRAINT), db, |_| true);
    assert!(format!("{other:#}").starts_with("cannot commit"));
}

#[test]
fn guarded_password_updates_change_only_what_was_authenticated() {
    let mut store = Store::open_in_memory().unwrap();
    let o = org(&mut store);
    store
        .write(|db| {
            let id = user(db, o, "ann");
            // The hash the employee authenticated against: replaced once, then stale.
            assert!(
                db.replace_password_if(id, "sha256$00", "argon$new")
                    .unwrap()
            );
            assert!(
                !db.replace_password_if(id, "sha256$00", "argon$other")
                    .unwrap()
            );
            db.set_recovery_hash(id, Some("sha256$code")).unwrap();
            // A recovery code is spent once.
            assert!(
                db.spend_recovery_code(id, "sha256$code", "argon$r1")
                    .unwrap()
            );
            assert!(
                !db.spend_recovery_code(id, "sha256$code", "argon$r2")
                    .unwrap()
            );
            let u = db.user_by_id(id).unwrap().unwrap();
            assert_eq!(u.password_hash, "argon$r1");
            assert!(u.recovery_hash.is_none() && !u.password_temporary);
            // A removed account changes no more.
            db.mark_user_removed(id, t("2026-02-01"), "left").unwrap();
            assert!(!db.replace_password_if(id, "argon$r1", "argon$x").unwrap());
            Ok(())
        })
        .unwrap();
}

#[test]
fn failed_sign_ins_are_counted_in_a_window() {
    let mut store = Store::open_in_memory().unwrap();
    let o = org(&mut store);
    store
        .write(|db| {
            let id = user(db, o, "ann");
            for m in 0..5 {
                db.record_sign_in_failure(id, t(&format!("2026-01-02T10:0{m}:00Z")))
                    .unwrap();
            }
            let fifth = |now: &str| {
                let now = t(now);
                db.nth_recent_sign_in_failure(id, now - chrono::Duration::minutes(15), now, 5)
                    .unwrap()
            };
            assert_eq!(
                fifth("2026-01-02T10:05:00Z"),
                Some(t("2026-01-02T10:00:00Z"))
            );
            assert_eq!(
                fifth("2026-01-02T10:14:59Z"),
                Some(t("2026-01-02T10:00:00Z"))
            );
            assert_eq!(fifth("2026-01-02T10:15:00Z"), None);
            // Before the failures happened (a --now in the past), they do not count.
            assert_eq!(fifth("2026-01-02T10:03:00Z"), None);
            db.clear_sign_in_failures(id).unwrap();
            assert_eq!(fifth("2026-01-02T10:05:00Z"), None);
            Ok(())
        })
        .unwrap();
}

/// A fresh PostgreSQL database on the server of `COMPETENCY_TEST_PG`, if the run is for it.
fn pg_store() -> Option<(Store, String)> {
    let server = std::env::var("COMPETENCY_TEST_PG").ok()?;
    let name = "competency_unit_store";
    let mut admin = ::postgres::Client::connect(&server, ::postgres::NoTls).unwrap();
    admin
        .batch_execute("DROP DATABASE IF EXISTS competency_unit_store")
        .unwrap();
    admin
        .batch_execute("CREATE DATABASE competency_unit_store")
        .unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    let url = format!("{base}/{name}");
    assert!(
        Store::open(Path::new(&url)).is_err(),
        "an empty database is no database"
    );
    Some((Store::create(Path::new(&url)).unwrap(), server))
}

#[test]
fn postgres_writes_reads_rolls_back_and_enforces_unique_keys() {
    let Some((mut store, server)) = pg_store() else {
        return;
    };
    assert!(store.is_postgres());
    assert_eq!(store.schema_version().unwrap(), schema::current_version());
    let org_id = org(&mut store);
    let r: Result<()> = store.write(|db| {
        user(db, org_id, "ann");
        anyhow::bail!("boom")
    });
    assert!(r.is_err());
    assert!(store.read(|db| db.users(org_id, true)).unwrap().is_empty());
    let e = store
        .write(|db| {
            let a = user(db, org_id, "ann");
            let b = user(db, org_id, "bob");
            db.insert_link("m@x.com", a, org_id, t("2026-01-03"))?;
            db.insert_link("m@x.com", b, org_id, t("2026-01-04"))
        })
        .unwrap_err();
    assert!(
        e.downcast_ref::<sql::Error>()
            .is_some_and(is_unique_violation),
        "{e:#}"
    );
    assert!(store.read(|db| db.users(org_id, true)).unwrap().is_empty());
    store
        .write(|db| {
            let a = user(db, org_id, "ann");
            db.insert_link("m@x.com", a, org_id, t("2026-01-03"))
        })
        .unwrap();
    let snap = store
        .read(|db| db.snapshot(org_id, Market::Developed))
        .unwrap();
    assert_eq!(snap.people.len(), 1);
    assert_eq!(store.integrity_check().unwrap(), vec!["ok".to_owned()]);
    assert_eq!(store.foreign_key_violations().unwrap(), 0);
    drop(store);
    let mut admin = ::postgres::Client::connect(&server, ::postgres::NoTls).unwrap();
    admin
        .batch_execute("DROP DATABASE IF EXISTS competency_unit_store WITH (FORCE)")
        .unwrap();
}

/// Migration 10: a user name is stored without its organization's domain and read back
/// whole; organizations that share a domain share its names; a name outside the
/// organization's domain is refused rather than stored wrong.
#[test]
fn user_names_are_stored_without_the_domain_and_read_back_whole() {
    let mut store = Store::open_in_memory().unwrap();
    let a = org(&mut store);
    let b = store
        .write(|db| {
            db.insert_org(
                &NewOrg {
                    partner_id: "2",
                    name: "Contoso Two",
                    slug: "contoso-two",
                    domain: "contoso.com",
                    market: Market::Developed,
                    rulebook: "",
                },
                t("2026-01-01"),
            )
        })
        .unwrap();
    store
        .write(|db| {
            user(db, a, "ann");
            user(db, b, "bob");
            let raw: String =
                db.conn()
                    .query_row("SELECT username FROM users WHERE org_id = ?1", [a], |r| {
                        r.get(0)
                    })?;
            assert_eq!(raw, "ann@");
            assert!(db.username_taken("ann@contoso.com")?);
            assert!(db.username_taken("bob@contoso.com")?);
            assert!(!db.username_taken("ann@other.com")?);
            assert!(!db.username_taken("ann")?);
            assert!(db.password_hash_of("bob@contoso.com")?.is_some());
            let found = db.users_by_key(a, " ANN@Contoso.com ")?;
            assert_eq!(found.len(), 1);
            assert_eq!(found[0].username, "ann@contoso.com");
            assert!(db.users_by_key(a, "bob@contoso.com")?.is_empty());
            assert_eq!(db.users(b, true)?[0].username, "bob@contoso.com");
            let err = db
                .insert_user(
                    &NewUser {
                        org_id: a,
                        username: "cy@elsewhere.com",
                        name: "Cy",
                        email: "cy@x.com",
                        roles: "user",
                        password_hash: "sha256$00",
                        expires_at: t("2026-04-01"),
                    },
                    None,
                    t("2026-01-02"),
                )
                .unwrap_err();
            assert!(
                err.to_string().contains("not in its organization's domain"),
                "{err}"
            );
            Ok(())
        })
        .unwrap();
}
