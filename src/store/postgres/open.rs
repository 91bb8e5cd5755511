//! Opening a PostgreSQL database: recognizing an empty or foreign database, the schema (the
//! same migrations as SQLite's, translated) under a `schema_version` table, and what the
//! store asks of a whole database (its version, its consistency, its encryption, removing a
//! schema this opening created).

use anyhow::{Context, Result, bail};

use super::Pg;
use super::connect::connect;
use super::transaction::{begin, commit, rollback};
use super::url::shown;
use crate::store::schema::{MIGRATIONS, current_version};
use crate::store::sql::{Conn, params};

/// Opens (or, with `create`, fills an empty) database at `url` and brings its schema up to
/// date. An empty database without `create` is `no database at URL`; a database with other
/// tables is refused unchanged. Returns whether the schema was created here.
pub fn open(url: &str, create: bool) -> Result<(Conn, bool)> {
    let conn = Conn::Pg(Box::new(connect(url)?));
    let pg = conn.pg().expect("PostgreSQL");
    let run = || -> Result<bool> {
        pg.batch_raw("SET TIME ZONE 'UTC'")?;
        // Recognize and migrate under the write lock: two `init`s at once create one schema.
        begin(pg, true)?;
        match recognize_and_migrate(&conn, url, create) {
            Ok(created) => commit(pg).map(|()| created),
            Err(e) => {
                let _ = pg.batch_raw("ROLLBACK");
                Err(e)
            }
        }
    };
    let created = run()?;
    Ok((conn, created))
}

/// Drops every table of the current schema, inside the caller's transaction: for a schema
/// this command created in an empty database ([`crate::store::Store::remove_created_schema`]).
fn drop_all_tables(pg: &Pg, conn: &Conn) -> Result<()> {
    let mut st = conn.prepare(
        "SELECT table_name FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    )?;
    let names: Vec<String> = st
        .query_map(params![], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    drop(st);
    if names.is_empty() {
        return Ok(());
    }
    // Names read from the catalog, quoted as identifiers: never a value spliced in.
    let list: Vec<String> = names
        .iter()
        .map(|n| format!("\"{}\"", n.replace('"', "\"\"")))
        .collect();
    pg.batch_raw(&format!("DROP TABLE {} CASCADE", list.join(", ")))?;
    Ok(())
}

fn recognize_and_migrate(conn: &Conn, url: &str, create: bool) -> Result<bool> {
    let (tables, ours): (i64, i64) = conn.query_row(
        "SELECT count(*), count(*) FILTER (WHERE table_name IN
                ('orgs', 'users', 'audit', 'schema_version'))
         FROM information_schema.tables WHERE table_schema = current_schema()",
        params![],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut created = false;
    if tables == 0 {
        if !create {
            return Err(crate::store::no_database_named(&shown(url)));
        }
        conn.execute_batch("CREATE TABLE schema_version (version BIGINT NOT NULL)")?;
        conn.execute("INSERT INTO schema_version VALUES (0)", params![])?;
        created = true;
    } else if ours < 4 {
        return Err(crate::error::refused(format!(
            "{} is a PostgreSQL database of another application (it has tables, not ours): it \
             was left unchanged; give another --db",
            shown(url)
        )));
    }
    let version: i64 = conn.query_row("SELECT version FROM schema_version", params![], |r| {
        r.get(0)
    })?;
    if version > current_version() {
        bail!(
            "the database has schema version {version}, newer than this competency binary \
             understands ({}): upgrade competency to open it",
            current_version()
        );
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        step.run(conn)
            .with_context(|| format!("schema migration {} failed", i + 1))?;
        conn.execute(
            "UPDATE schema_version SET version = ?1",
            params![(i + 1) as i64],
        )?;
    }
    Ok(created)
}

/// The schema version of an open database.
pub fn schema_version(conn: &Conn) -> Result<i64> {
    Ok(
        conn.query_row("SELECT version FROM schema_version", params![], |r| {
            r.get(0)
        })?,
    )
}
/// Whether the session's connection is encrypted.
pub fn tls_in_use(conn: &Conn) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)",
        params![],
        |r| r.get(0),
    )?)
}

/// Removes every table of the current schema in a transaction of its own: the schema this
/// opening created in an empty database, when the command it was created for failed.
pub fn drop_created_schema(pg: &Pg, conn: &Conn) -> Result<()> {
    begin(pg, true)?;
    match drop_all_tables(pg, conn) {
        Ok(()) => commit(pg),
        Err(e) => {
            let _ = rollback(pg);
            Err(e)
        }
    }
}

/// PostgreSQL checks its pages itself; here every constraint must be validated: `["ok"]`,
/// or how many are not.
pub fn integrity_check(conn: &Conn) -> Result<Vec<String>> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
         WHERE n.nspname = current_schema() AND NOT c.convalidated",
        params![],
        |r| r.get(0),
    )?;
    Ok(if n == 0 {
        vec!["ok".to_owned()]
    } else {
        vec![format!("{n} constraints are not validated")]
    })
}

/// PostgreSQL enforces its foreign keys on every write: the number of foreign keys not
/// validated (0 unless one was disabled).
pub fn foreign_key_violations(conn: &Conn) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
         WHERE n.nspname = current_schema() AND c.contype = 'f' AND NOT c.convalidated",
        params![],
        |r| r.get(0),
    )?)
}

/// PostgreSQL: every identity sequence set past the largest id its table now holds, so
/// new rows after a copy (which keeps ids) get fresh ones. Table names come from the
/// catalogue and are quoted by `format(%I)`, inside the server.
const RESET_SEQUENCES: &str = "DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT table_name FROM information_schema.columns
           WHERE table_schema = current_schema() AND column_name = 'id' AND is_identity = 'YES'
  LOOP
    EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, ''id''), \
                    COALESCE((SELECT max(id) FROM %I), 0) + 1, false)',
                   r.table_name, r.table_name);
  END LOOP;
END $$";

/// Runs [`RESET_SEQUENCES`].
pub fn reset_sequences(pg: &Pg) -> Result<()> {
    Ok(pg.batch_raw(RESET_SEQUENCES)?)
}
