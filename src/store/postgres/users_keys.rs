//! The foreign keys a large PostgreSQL users import writes without: suspended before its
//! writes and added back, each checked once against the whole table, in the same
//! transaction (see [`LARGE_RATIO`]).

use crate::store::sql::{Pg, Result};

/// A users import large against the table (its rows at least a quarter of the accounts)
/// writes without the foreign keys of `users` and `msa_links` and adds them back at the
/// end, in the same transaction: one check of the whole table each instead of one trigger
/// per row (at 200,000 rows the per-row checks took 5.1 s of the links' insert alone, as
/// many as the rest of the import). The indexes stay: the chunks' lookups go through them.
/// The definitions are read from the catalogue (so what is added back is exactly what was
/// there, whatever migration made it) into a TEMP table, then dropped; names are quoted by
/// `format(%I)` / `regclass`, inside the server. Until the commit, other commands touching
/// those tables wait for the import (the lock of `ALTER TABLE`).
pub const LARGE_RATIO: i64 = 4;

const SUSPEND_KEYS: &str = "CREATE TEMP TABLE import_suspended AS
  SELECT c.conrelid::regclass::text AS tbl, c.conname::text AS name,
         pg_get_constraintdef(c.oid) AS def
    FROM pg_constraint c
   WHERE c.conrelid IN ('users'::regclass, 'msa_links'::regclass) AND c.contype = 'f';
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT * FROM import_suspended ORDER BY tbl, name LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.name);
  END LOOP;
END $$";

/// Adds back what [`SUSPEND_KEYS`] dropped (each checked once, against the whole table).
const RESTORE_KEYS: &str = "DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT * FROM import_suspended ORDER BY tbl, name LOOP
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', r.tbl, r.name, r.def);
  END LOOP;
END $$;
DROP TABLE import_suspended";

/// Drops the foreign keys of `users` and `msa_links` when `staged` rows are large against
/// the `accounts` already there ([`LARGE_RATIO`]); whether it did.
pub fn suspend_keys(pg: &Pg, staged: i64, accounts: i64) -> Result<bool> {
    if staged == 0 || staged.saturating_mul(LARGE_RATIO) < accounts {
        return Ok(false);
    }
    pg.batch_raw(SUSPEND_KEYS)?;
    Ok(true)
}

/// Adds back the foreign keys [`suspend_keys`] dropped.
pub fn restore_keys(pg: &Pg) -> Result<()> {
    pg.batch_raw(RESTORE_KEYS)
}
