//! Unit tests against a PostgreSQL server, when `COMPETENCY_TEST_PG` names one.

use std::path::Path;

use anyhow::Result;

use crate::rules::Market;
use crate::store::queries::tests::{org, t, user};
use crate::store::{Store, schema, sql};

/// A fresh PostgreSQL database on the server of `COMPETENCY_TEST_PG`. The tests that call
/// it are `#[ignore]`d, run by the CI's PostgreSQL pass with `--include-ignored`: without a
/// server they fail rather than pass vacuously.
fn pg_store() -> (Store, String) {
    let server = std::env::var("COMPETENCY_TEST_PG")
        .expect("COMPETENCY_TEST_PG names the PostgreSQL server of this run");
    let name = "competency_unit_store";
    let mut admin = postgres::Client::connect(&server, postgres::NoTls).unwrap();
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
    (Store::create(Path::new(&url)).unwrap(), server)
}

#[test]
#[ignore = "needs COMPETENCY_TEST_PG"]
fn postgres_writes_reads_rolls_back_and_enforces_unique_keys() {
    let (mut store, server) = pg_store();
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
