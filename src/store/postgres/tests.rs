//! Unit tests against a PostgreSQL server, when `COMPETENCY_TEST_PG` names one.

use std::path::Path;

use anyhow::Result;

use crate::rules::Market;
use crate::store::queries::tests::{org, t, user};
use crate::store::{Store, schema, sql};

/// A fresh PostgreSQL database on the server of `COMPETENCY_TEST_PG`. The tests that call
/// it are `#[ignore]`d, run by the CI's PostgreSQL pass with `--include-ignored`: without a
/// server they fail rather than pass vacuously.
/// `db`: the database's name and the statements that drop and create it, one database per
/// test (the tests run in parallel); SQL stays literal (`tests/security.rs`).
fn pg_store(db: [&str; 3]) -> (Store, String) {
    let [name, drop, create] = db;
    let server = std::env::var("COMPETENCY_TEST_PG")
        .expect("COMPETENCY_TEST_PG names the PostgreSQL server of this run");
    let mut admin = postgres::Client::connect(&server, postgres::NoTls).unwrap();
    admin.batch_execute(drop).unwrap();
    admin.batch_execute(create).unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    let url = format!("{base}/{name}");
    assert!(
        Store::open(Path::new(&url)).is_err(),
        "an empty database is no database"
    );
    (Store::create(Path::new(&url)).unwrap(), server)
}

#[test]
#[ignore = "needs COMPETENCY_TEST_PG"]
fn postgres_writes_reads_rolls_back_and_enforces_unique_keys() {
    let (mut store, server) = pg_store([
        "competency_unit_store",
        "DROP DATABASE IF EXISTS competency_unit_store",
        "CREATE DATABASE competency_unit_store",
    ]);
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
            .is_some_and(sql::Error::is_unique_violation),
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
    let mut admin = postgres::Client::connect(&server, postgres::NoTls).unwrap();
    admin
        .batch_execute("DROP DATABASE IF EXISTS competency_unit_store WITH (FORCE)")
        .unwrap();
}

/// The link COPY of the background tests: (MSA, account, organization, start).
const COPY_LINK: &str =
    "COPY msa_links (msa, user_id, org_id, started_at) FROM STDIN (FORMAT binary)";
const LINK_TYPES: &[postgres::types::Type] = &[
    postgres::types::Type::TEXT,
    postgres::types::Type::INT8,
    postgres::types::Type::INT8,
    postgres::types::Type::INT8,
];

/// Sends a COPY of one link (`msa` to account `user_id`) to the background.
fn link_in_background(db: &crate::store::Db<'_>, msa: &'static str, user_id: i64, org_id: i64) {
    let pg = db.conn().pg().expect("a PostgreSQL store");
    pg.copy_in_background(move |c| {
        c.copy_in(COPY_LINK, LINK_TYPES, |w| {
            w.write(&[&msa, &user_id, &org_id, &0i64])
        })?;
        Ok(())
    })
    .unwrap();
}

/// A COPY sent to the background ([`super::Pg::copy_in_background`]): the next call to the
/// server waits for it (and sees its rows); its failure is the next call's error, and the
/// commit's when no call came between: a failure before the COMMIT was sent (never an
/// unknown outcome), after which nothing the command wrote is kept.
#[test]
#[ignore = "needs COMPETENCY_TEST_PG"]
fn a_background_copy_is_seen_by_the_next_call_and_its_failure_fails_the_command() {
    let (mut store, server) = pg_store([
        "competency_unit_background",
        "DROP DATABASE IF EXISTS competency_unit_background",
        "CREATE DATABASE competency_unit_background",
    ]);
    let org_id = org(&mut store);

    // Its rows are seen by the next statement, and committed with the transaction.
    store
        .write(|db| {
            let a = user(db, org_id, "ann");
            link_in_background(db, "m@x.com", a, org_id);
            assert_eq!(db.open_link_for_msa("m@x.com")?.map(|l| l.user_id), Some(a));
            Ok(())
        })
        .unwrap();
    assert!(
        store
            .read(|db| db.open_link_for_msa("m@x.com"))
            .unwrap()
            .is_some()
    );

    // Its failure (an account that does not exist: a foreign key) is the next call's error,
    // and with no call between, the commit's: not committed, not an unknown outcome.
    for (name, msa, call_between) in [("bob", "n@x.com", true), ("cy", "o@x.com", false)] {
        let e = store
            .write(|db| {
                user(db, org_id, name);
                link_in_background(db, msa, 999_999, org_id);
                if call_between {
                    db.users(org_id, true)?;
                }
                Ok(())
            })
            .unwrap_err();
        assert!(format!("{e:#}").contains("foreign key"), "{name}: {e:#}");
        assert!(!super::outcome_unknown(&e), "{name}: {e:#}");
    }

    // Sent from inside a call (a row callback holds the client), a COPY is refused with an
    // error: it would wait for the call, and the call for it, forever.
    let e = store
        .write(|db| {
            let pg = db.conn().pg().expect("a PostgreSQL store");
            let mut st = db.conn().prepare_cached("SELECT 1")?;
            st.for_each(crate::store::sql::params![], |_| {
                pg.copy_in_background(|_| Ok(()))?;
                Ok(true)
            })?;
            Ok(())
        })
        .unwrap_err();
    assert!(format!("{e:#}").contains("in the middle of"), "{e:#}");

    // Neither failed command kept anything; the connection still works.
    let names: Vec<String> = store
        .read(|db| db.users(org_id, true))
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].starts_with("ann@"), "{names:?}");
    drop(store);
    let mut admin = postgres::Client::connect(&server, postgres::NoTls).unwrap();
    admin
        .batch_execute("DROP DATABASE IF EXISTS competency_unit_background WITH (FORCE)")
        .unwrap();
}
