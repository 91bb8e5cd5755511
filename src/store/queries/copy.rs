//! Whole-database copy (`competency copy`, and `backup` from a non-SQLite source): every
//! table's rows streamed out of one database and into another, ids preserved.
//!
//! The rows travel as [`Value`]s, which every backend can read and bind, so the same
//! machinery copies between any two backends; the domain (`domain::copy`) drives it table by
//! table in [`TABLES`] order, the source inside one read transaction and the target inside
//! one write transaction.

use anyhow::{Result, bail};

use crate::store::Db;
use crate::store::sql::{self, Param, Stmt};

/// One table of the schema as the copy reads and writes it: its columns, and its SQL
/// (literals, so that no identifier is ever spliced into SQL at run time).
#[derive(Debug)]
pub struct CopyTable {
    /// The table.
    pub name: &'static str,
    /// Its columns, in the schema's order.
    pub columns: &'static [&'static str],
    count: &'static str,
    select: &'static str,
    insert: &'static str,
}

/// Every table of the schema, parents before children (so foreign keys hold at every
/// insert). A unit test checks the list against the schema itself: a migration that adds a
/// table or a column must add it here too.
pub const TABLES: &[CopyTable] = &[
    CopyTable {
        name: "orgs",
        columns: &[
            "id",
            "partner_id",
            "name",
            "slug",
            "domain",
            "market",
            "created_at",
            "rulebook",
            "rulebook_at",
            "rulebook_digest",
        ],
        count: "SELECT count(*) FROM orgs",
        select: "SELECT id, partner_id, name, slug, domain, market, created_at, rulebook, rulebook_at, rulebook_digest FROM orgs ORDER BY id",
        insert: "INSERT INTO orgs (id, partner_id, name, slug, domain, market, created_at, rulebook, rulebook_at, rulebook_digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    },
    CopyTable {
        name: "users",
        columns: &[
            "id",
            "org_id",
            "username",
            "name",
            "email",
            "roles",
            "status",
            "created_at",
            "removed_at",
            "removal_reason",
            "password_temporary",
            "password_expires_at",
            "self_service_reset",
            "password_hash",
            "recovery_hash",
        ],
        count: "SELECT count(*) FROM users",
        select: "SELECT id, org_id, username, name, email, roles, status, created_at, removed_at, removal_reason, password_temporary, password_expires_at, self_service_reset, password_hash, recovery_hash FROM users ORDER BY id",
        insert: "INSERT INTO users (id, org_id, username, name, email, roles, status, created_at, removed_at, removal_reason, password_temporary, password_expires_at, self_service_reset, password_hash, recovery_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    },
    CopyTable {
        name: "msa_links",
        columns: &[
            "id",
            "msa",
            "user_id",
            "org_id",
            "started_at",
            "ended_at",
            "end_reason",
        ],
        count: "SELECT count(*) FROM msa_links",
        select: "SELECT id, msa, user_id, org_id, started_at, ended_at, end_reason FROM msa_links ORDER BY id",
        insert: "INSERT INTO msa_links (id, msa, user_id, org_id, started_at, ended_at, end_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    },
    CopyTable {
        name: "achievements",
        columns: &[
            "id",
            "msa",
            "code",
            "earned",
            "expires",
            "added_at",
            "removed_at",
        ],
        count: "SELECT count(*) FROM achievements",
        select: "SELECT id, msa, code, earned, expires, added_at, removed_at FROM achievements ORDER BY id",
        insert: "INSERT INTO achievements (id, msa, code, earned, expires, added_at, removed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    },
    CopyTable {
        name: "performance",
        columns: &[
            "id",
            "org_id",
            "metric",
            "scope",
            "track",
            "association",
            "value",
            "date",
            "recorded_at",
        ],
        count: "SELECT count(*) FROM performance",
        select: "SELECT id, org_id, metric, scope, track, association, value, date, recorded_at FROM performance ORDER BY id",
        insert: "INSERT INTO performance (id, org_id, metric, scope, track, association, value, date, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    },
    CopyTable {
        name: "audit",
        columns: &["id", "org_id", "at", "actor", "action", "subject", "detail"],
        count: "SELECT count(*) FROM audit",
        select: "SELECT id, org_id, at, actor, action, subject, detail FROM audit ORDER BY id",
        insert: "INSERT INTO audit (id, org_id, at, actor, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    },
    CopyTable {
        name: "membership_purchases",
        columns: &[
            "id",
            "org_id",
            "kind",
            "level",
            "purchased_at",
            "term_start",
            "anniversary",
            "anchor_day",
            "list_fee_usd",
            "fee_usd",
            "discount",
        ],
        count: "SELECT count(*) FROM membership_purchases",
        select: "SELECT id, org_id, kind, level, purchased_at, term_start, anniversary, anchor_day, list_fee_usd, fee_usd, discount FROM membership_purchases ORDER BY id",
        insert: "INSERT INTO membership_purchases (id, org_id, kind, level, purchased_at, term_start, anniversary, anchor_day, list_fee_usd, fee_usd, discount) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    },
    CopyTable {
        name: "membership_attainments",
        columns: &[
            "term_id",
            "competency",
            "name",
            "level",
            "attained_at",
            "last_met_at",
        ],
        count: "SELECT count(*) FROM membership_attainments",
        select: "SELECT term_id, competency, name, level, attained_at, last_met_at FROM membership_attainments ORDER BY term_id, competency, level",
        insert: "INSERT INTO membership_attainments (term_id, competency, name, level, attained_at, last_met_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    },
    CopyTable {
        name: "membership_alerts",
        columns: &[
            "id",
            "org_id",
            "term_id",
            "competency",
            "name",
            "level",
            "message",
            "requirement",
            "cause",
            "raised_at",
            "closed_at",
            "close_reason",
        ],
        count: "SELECT count(*) FROM membership_alerts",
        select: "SELECT id, org_id, term_id, competency, name, level, message, requirement, cause, raised_at, closed_at, close_reason FROM membership_alerts ORDER BY id",
        insert: "INSERT INTO membership_alerts (id, org_id, term_id, competency, name, level, message, requirement, cause, raised_at, closed_at, close_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    },
    CopyTable {
        name: "sign_in_failures",
        columns: &["id", "user_id", "at"],
        count: "SELECT count(*) FROM sign_in_failures",
        select: "SELECT id, user_id, at FROM sign_in_failures ORDER BY id",
        insert: "INSERT INTO sign_in_failures (id, user_id, at) VALUES (?1, ?2, ?3)",
    },
    CopyTable {
        name: "designation_enrolments",
        columns: &[
            "id",
            "org_id",
            "designation",
            "name",
            "kind",
            "enrolled_at",
            "term_start",
            "anniversary",
            "anchor_day",
            "fee_usd",
            "score",
        ],
        count: "SELECT count(*) FROM designation_enrolments",
        select: "SELECT id, org_id, designation, name, kind, enrolled_at, term_start, anniversary, anchor_day, fee_usd, score FROM designation_enrolments ORDER BY id",
        insert: "INSERT INTO designation_enrolments (id, org_id, designation, name, kind, enrolled_at, term_start, anniversary, anchor_day, fee_usd, score) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    },
    CopyTable {
        name: "designation_alerts",
        columns: &[
            "id",
            "org_id",
            "designation",
            "name",
            "message",
            "items",
            "cause",
            "raised_at",
            "closed_at",
            "close_reason",
        ],
        count: "SELECT count(*) FROM designation_alerts",
        select: "SELECT id, org_id, designation, name, message, items, cause, raised_at, closed_at, close_reason FROM designation_alerts ORDER BY id",
        insert: "INSERT INTO designation_alerts (id, org_id, designation, name, message, items, cause, raised_at, closed_at, close_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    },
    CopyTable {
        name: "designation_tracks",
        columns: &[
            "id",
            "org_id",
            "designation",
            "track",
            "since",
            "recorded_at",
        ],
        count: "SELECT count(*) FROM designation_tracks",
        select: "SELECT id, org_id, designation, track, since, recorded_at FROM designation_tracks ORDER BY id",
        insert: "INSERT INTO designation_tracks (id, org_id, designation, track, since, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    },
];

/// One column's value, as it travels between backends.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer (ids, instants, flags).
    Integer(i64),
    /// A floating-point number (fees, figures).
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes (hashes).
    Blob(Vec<u8>),
}

impl Param for Value {
    fn value(&self) -> sql::Value<'_> {
        match self {
            Value::Null => sql::Value::Null,
            Value::Integer(i) => sql::Value::Int(*i),
            Value::Real(f) => sql::Value::Real(*f),
            Value::Text(s) => sql::Value::Text(s),
            Value::Blob(b) => sql::Value::Blob(b),
        }
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Integer(i)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_owned())
    }
}

impl Value {
    fn read(v: sql::Value<'_>) -> Result<Value> {
        Ok(match v {
            sql::Value::Null => Value::Null,
            sql::Value::Int(i) => Value::Integer(i),
            sql::Value::Real(f) => Value::Real(f),
            sql::Value::Text(t) => Value::Text(t.to_owned()),
            sql::Value::Blob(b) => Value::Blob(b.to_vec()),
        })
    }
}

/// Rows handed over per call of the sink in [`Db::copy_rows`].
pub const COPY_BATCH: usize = 1000;

/// A table of [`TABLES`] by name.
fn table(name: &str) -> Result<&'static CopyTable> {
    match TABLES.iter().find(|t| t.name == name) {
        Some(t) => Ok(t),
        None => bail!("no table {name} in the schema"),
    }
}

/// Inserts rows into one table of the target (see [`Db::copy_inserter`]).
pub struct Inserter<'a> {
    statement: Stmt<'a>,
    width: usize,
}

impl Inserter<'_> {
    /// Inserts one row, its values in the table's [`TABLES`] column order.
    pub fn insert(&mut self, row: &[Value]) -> Result<()> {
        if row.len() != self.width {
            bail!(
                "a copied row has {} values, the table {}",
                row.len(),
                self.width
            );
        }
        let params: Vec<&dyn Param> = row.iter().map(|v| v as &dyn Param).collect();
        self.statement.execute_all(&params)?;
        Ok(())
    }
}

impl<'a> Db<'a> {
    /// The number of rows of a table of [`TABLES`].
    pub fn table_rows(&self, name: &str) -> Result<u64> {
        let t = table(name)?;
        let n: i64 = self
            .conn()
            .query_row(t.count, sql::params![], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Streams every row of a table of [`TABLES`] in key order to `sink`, [`COPY_BATCH`]
    /// rows at a time, each row's values in the table's column order. Returns the rows read.
    pub fn copy_rows(
        &self,
        name: &str,
        mut sink: impl FnMut(&[Vec<Value>]) -> Result<()>,
    ) -> Result<u64> {
        let t = table(name)?;
        let mut st = self.conn().prepare(t.select)?;
        let mut rows = st.query(sql::params![])?;
        let mut batch = Vec::with_capacity(COPY_BATCH);
        let mut n = 0;
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(t.columns.len());
            for i in 0..t.columns.len() {
                row.push(Value::read(r.get_ref(i)?)?);
            }
            batch.push(row);
            if batch.len() == COPY_BATCH {
                n += batch.len() as u64;
                sink(&batch)?;
                batch.clear();
            }
        }
        if !batch.is_empty() {
            n += batch.len() as u64;
            sink(&batch)?;
        }
        Ok(n)
    }

    /// A prepared insert of whole rows (ids included) into a table of [`TABLES`].
    pub fn copy_inserter(&'a self, name: &str) -> Result<Inserter<'a>> {
        let t = table(name)?;
        Ok(Inserter {
            statement: self.conn().prepare_cached(t.insert)?,
            width: t.columns.len(),
        })
    }

    /// After every table was copied in: whatever the backend needs so that new rows get
    /// fresh ids (SQLite: nothing, ids follow the largest; a backend with sequences sets
    /// them past the copied ids here).
    pub fn copy_finish(&self) -> Result<()> {
        self.conn().after_copy()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// [`TABLES`] names every table of the schema, each with all its columns in order: a
    /// migration that forgets to extend it fails here, not in a user's copy.
    #[test]
    fn tables_match_the_schema() {
        let mut store = Store::open_in_memory().unwrap();
        let schema: Vec<(String, Vec<String>)> = store
            .read(|db| {
                let c = db.conn();
                let mut names = c.prepare(
                    "SELECT name FROM sqlite_master WHERE type = 'table'
                     AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                )?;
                let names: Vec<String> = names
                    .query_map(sql::params![], |r| r.get(0))?
                    .collect::<sql::Result<_>>()?;
                let mut out = Vec::new();
                for t in names {
                    let mut cols =
                        c.prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")?;
                    let cols: Vec<String> = cols
                        .query_map([&t], |r| r.get(0))?
                        .collect::<sql::Result<_>>()?;
                    out.push((t, cols));
                }
                Ok(out)
            })
            .unwrap();
        let mut ours: Vec<(String, Vec<String>)> = TABLES
            .iter()
            .map(|t| {
                let cols = t.columns.iter().map(|c| c.to_string()).collect();
                (t.name.to_string(), cols)
            })
            .collect();
        ours.sort();
        assert_eq!(ours, schema);
        // Each table's SQL names its columns, in order.
        for t in TABLES {
            let cols = t.columns.join(", ");
            assert!(
                t.select.contains(&cols) && t.insert.contains(&cols),
                "{}",
                t.name
            );
            assert_eq!(t.insert.matches('?').count(), t.columns.len(), "{}", t.name);
            assert!(
                t.count.ends_with(t.name) && t.select.contains(t.name),
                "{}",
                t.name
            );
        }
    }
}
