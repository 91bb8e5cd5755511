//! Unit tests of the schema: the SQLite runner, code steps, and the index an import
//! rebuilds.

use chrono::NaiveDate;

use crate::store::queries::tests::t;
use crate::store::sql::{self, Conn};
use crate::store::{NewAchievement, Store, schema};
use anyhow::Result;

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
    assert_eq!(store_sql(&store), schema::ACHIEVEMENTS_BY_MSA);
    store
        .write(|db| {
            assert!(db.suspend_achievements_index(10)?);
            db.restore_achievements_index()
        })
        .unwrap();
    assert_eq!(store_sql(&store), schema::ACHIEVEMENTS_BY_MSA);
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
    assert_eq!(store_sql(&store), schema::ACHIEVEMENTS_BY_MSA);
}
