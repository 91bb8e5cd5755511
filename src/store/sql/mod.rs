//! The one interface to the backends: the [`Conn`] enum, with one `match` per operation,
//! each arm calling its backend's folder (`store/sqlite/`, `store/postgres/`). Nothing else
//! in the store asks which backend it runs on (`tests/architecture.rs` checks it).
//!
//! The store's queries are written once, in SQLite's dialect with numbered `?N`
//! placeholders, and run on SQLite as they are or on PostgreSQL through its translation
//! (`store/postgres/dialect.rs`: placeholders, `INSERT OR IGNORE`, `INDEXED BY`, the TEMP
//! schema, integer and real column types). Statements are translated and prepared once per
//! connection and cached.
//!
//! The API mirrors the part of rusqlite the store uses (`prepare_cached`, `execute`,
//! `query_row`, `query_map`, `query` with `next`, `exists`, `Row::get`, `get_ref`), so a query
//! reads the same on both backends. Parameters and columns are [`Value`]s (`value.rs`);
//! failures one [`Error`] (`error.rs`).

mod error;
mod import;
mod users;
mod value;

pub use error::{Error, OptionalExtension, Result};
pub use import::Fill;
pub use users::{UserImport, UserWrites};
pub use value::{FromValue, Param, Params, RowIndex, Value, params};

// `pg` (the store's alias of its `postgres` folder) rather than `postgres`, which reads as
// the crate's name: only `store/postgres/` names the crate.
pub use super::pg::Pg;
use super::pg::{self, PgRow, PgStatement};
use super::sqlite;

/// An open connection to one of the backends.
pub enum Conn {
    /// SQLite.
    Lite(rusqlite::Connection),
    /// PostgreSQL.
    Pg(Box<Pg>),
}

/// A row of a result.
pub enum Row<'a> {
    /// SQLite's.
    Lite(&'a rusqlite::Row<'a>),
    /// PostgreSQL's.
    Pg(&'a PgRow),
}

impl<'a> Row<'a> {
    /// The column at `idx`, converted.
    pub fn get<I: RowIndex, T: FromValue>(&self, idx: I) -> Result<T> {
        T::from_value(self.get_ref(idx)?)
    }

    /// The column at `idx`, borrowed.
    pub fn get_ref<I: RowIndex>(&self, idx: I) -> Result<Value<'a>> {
        let i = idx.index();
        match *self {
            Row::Lite(r) => {
                use rusqlite::types::ValueRef;
                Ok(match r.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::Int(n),
                    ValueRef::Real(f) => Value::Real(f),
                    ValueRef::Text(t) => {
                        Value::Text(std::str::from_utf8(t).map_err(|e| Error::Type(e.to_string()))?)
                    }
                    ValueRef::Blob(b) => Value::Blob(b),
                })
            }
            Row::Pg(r) => pg::value(r, i),
        }
    }
}

/// A prepared statement.
pub enum Stmt<'c> {
    /// SQLite's.
    Lite(rusqlite::CachedStatement<'c>),
    /// PostgreSQL's.
    Pg(&'c Pg, PgStatement),
}

/// The rows of a query, read one at a time.
pub enum Rows<'s> {
    /// SQLite's, stepped as read.
    Lite(rusqlite::Rows<'s>),
    /// PostgreSQL's, already fetched.
    Pg(std::vec::IntoIter<PgRow>, Option<PgRow>),
}

impl Rows<'_> {
    /// The next row, if any.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Row<'_>>> {
        match self {
            Rows::Lite(rows) => Ok(rows.next()?.map(Row::Lite)),
            Rows::Pg(it, cur) => {
                *cur = it.next();
                Ok(cur.as_ref().map(Row::Pg))
            }
        }
    }
}

/// The rows of a query, each converted by a function.
pub struct MappedRows<'s, F> {
    rows: Rows<'s>,
    f: F,
}

impl<T, F: FnMut(&Row<'_>) -> Result<T>> Iterator for MappedRows<'_, F> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        match self.rows.next() {
            Ok(Some(r)) => Some((self.f)(&r)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

impl<'c> Stmt<'c> {
    /// Runs a statement that returns no rows; the number of rows changed.
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        let values = params.values();
        match self {
            Stmt::Lite(st) => Ok(st.execute(rusqlite::params_from_iter(values.iter()))?),
            Stmt::Pg(pg, st) => pg.exec(st, &values),
        }
    }

    /// Runs a statement with parameters gathered at run time (a copied row's values).
    pub fn execute_all(&mut self, params: &[&dyn Param]) -> Result<usize> {
        self.execute(params)
    }

    /// The rows of a query.
    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows<'_>> {
        let values = params.values();
        match self {
            Stmt::Lite(st) => Ok(Rows::Lite(
                st.query(rusqlite::params_from_iter(values.iter()))?,
            )),
            Stmt::Pg(pg, st) => Ok(Rows::Pg(pg.run(st, &values)?.into_iter(), None)),
        }
    }

    /// The rows of a query, each converted by `f`.
    pub fn query_map<P: Params, T, F: FnMut(&Row<'_>) -> Result<T>>(
        &mut self,
        params: P,
        f: F,
    ) -> Result<MappedRows<'_, F>> {
        Ok(MappedRows {
            rows: self.query(params)?,
            f,
        })
    }

    /// Calls `f` for each row of a query as the rows arrive, until `f` returns `false`:
    /// SQLite steps the statement, PostgreSQL streams the result (`query_raw`) instead of
    /// fetching it whole. `f` must not use the connection (PostgreSQL's client is busy
    /// reading the rows meanwhile).
    pub fn for_each<P: Params>(
        &mut self,
        params: P,
        mut f: impl FnMut(&Row<'_>) -> Result<bool>,
    ) -> Result<()> {
        let values = params.values();
        match self {
            Stmt::Lite(st) => {
                let mut rows = st.query(rusqlite::params_from_iter(values.iter()))?;
                while let Some(r) = rows.next()? {
                    if !f(&Row::Lite(r))? {
                        break;
                    }
                }
                Ok(())
            }
            Stmt::Pg(pg, st) => pg.for_each(st, &values, f),
        }
    }

    /// The first row, converted by `f`; [`Error::NoRows`] when there is none.
    pub fn query_row<P: Params, T>(
        &mut self,
        params: P,
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut rows = self.query(params)?;
        match rows.next()? {
            Some(r) => f(&r),
            None => Err(Error::NoRows),
        }
    }

    /// Whether the query returns a row.
    pub fn exists<P: Params>(&mut self, params: P) -> Result<bool> {
        let mut rows = self.query(params)?;
        Ok(rows.next()?.is_some())
    }
}

impl Conn {
    /// The SQLite connection, for what only SQLite has (pragmas, online backup): for the
    /// backend folders and the migrations (and, until issue 27's import rewrite lands, the
    /// import files `tests/architecture.rs` lists).
    pub fn lite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Conn::Lite(c) => Some(c),
            Conn::Pg(_) => None,
        }
    }

    /// The PostgreSQL client, for what only PostgreSQL has.
    pub fn pg(&self) -> Option<&Pg> {
        match self {
            Conn::Lite(_) => None,
            Conn::Pg(p) => Some(&**p),
        }
    }

    /// Whether this is PostgreSQL.
    pub fn is_pg(&self) -> bool {
        matches!(self, Conn::Pg(_))
    }

    /// Prepares (once per connection) a statement.
    pub fn prepare_cached(&self, sql: &str) -> Result<Stmt<'_>> {
        match self {
            Conn::Lite(c) => Ok(Stmt::Lite(c.prepare_cached(sql)?)),
            Conn::Pg(p) => Ok(Stmt::Pg(p, p.prepare(sql)?)),
        }
    }

    /// Same as [`Conn::prepare_cached`].
    pub fn prepare(&self, sql: &str) -> Result<Stmt<'_>> {
        self.prepare_cached(sql)
    }

    /// Runs one statement; the number of rows changed.
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    /// The first row of a query, converted by `f`.
    pub fn query_row<P: Params, T>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    /// Runs statements without parameters.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match self {
            Conn::Lite(c) => Ok(c.execute_batch(sql)?),
            Conn::Pg(p) => p.batch(sql),
        }
    }

    /// The id of the row the last INSERT added (PostgreSQL: the sequence's last value in
    /// this session, which the identity column of the row just inserted took).
    pub fn last_insert_rowid(&self) -> Result<i64> {
        match self {
            Conn::Lite(c) => Ok(c.last_insert_rowid()),
            Conn::Pg(_) => self.query_row("SELECT lastval()", params![], |r| r.get(0)),
        }
    }
}

/// The operations on a whole database or a command's transaction: one match per operation,
/// each arm calling its backend's folder (`store/sqlite/`, `store/postgres/`).
impl Conn {
    /// Runs `f` in one write transaction: the write lock taken first (SQLite's `BEGIN
    /// IMMEDIATE`, PostgreSQL's advisory lock), committed when `f` answers `true`, rolled
    /// back when it answers `false` or fails.
    pub fn write<T>(&self, f: impl FnOnce() -> anyhow::Result<(T, bool)>) -> anyhow::Result<T> {
        match self {
            Conn::Lite(c) => sqlite::write(c, f),
            Conn::Pg(p) => pg::write(p, f),
        }
    }

    /// Runs `f` in a read transaction: one consistent view of the database.
    pub fn read<T>(&self, f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
        match self {
            Conn::Lite(c) => sqlite::read(c, f),
            Conn::Pg(p) => pg::read(p, f),
        }
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> anyhow::Result<i64> {
        match self {
            Conn::Lite(c) => sqlite::schema_version(c),
            Conn::Pg(_) => pg::schema_version(self),
        }
    }

    /// The database's own consistency check: `["ok"]` when sound, else what is wrong.
    pub fn integrity_check(&self) -> anyhow::Result<Vec<String>> {
        match self {
            Conn::Lite(c) => sqlite::integrity_check(c),
            Conn::Pg(_) => pg::integrity_check(self),
        }
    }

    /// How many rows point at rows that do not exist.
    pub fn foreign_key_violations(&self) -> anyhow::Result<i64> {
        match self {
            Conn::Lite(c) => sqlite::foreign_key_violations(c),
            Conn::Pg(_) => pg::foreign_key_violations(self),
        }
    }

    /// Whether the connection to the server is encrypted (`None`: a file, no connection).
    pub fn tls_in_use(&self) -> anyhow::Result<Option<bool>> {
        match self {
            Conn::Lite(_) => Ok(None),
            Conn::Pg(_) => pg::tls_in_use(self).map(Some),
        }
    }

    /// Copies the whole database into a new SQLite file at `dest`, and checks the copy.
    pub fn backup_to(&self, dest: &std::path::Path) -> anyhow::Result<()> {
        match self {
            Conn::Lite(c) => sqlite::backup_to(c, dest),
            Conn::Pg(_) => {
                anyhow::bail!("backup of a PostgreSQL database is not available yet: use pg_dump")
            }
        }
    }

    /// Removes the schema an opening created in an empty database, in a transaction of its
    /// own (SQLite: nothing, the caller removes a file it created).
    pub fn drop_created_schema(&self) -> anyhow::Result<()> {
        match self {
            Conn::Lite(_) => Ok(()),
            Conn::Pg(p) => pg::drop_created_schema(p, self),
        }
    }

    /// After `copy` wrote every table with its ids: whatever the backend needs so that new
    /// rows get fresh ids (SQLite: nothing, ids follow the largest; PostgreSQL sets its
    /// identity sequences past the copied ids).
    pub fn after_copy(&self) -> anyhow::Result<()> {
        match self {
            Conn::Lite(_) => Ok(()),
            Conn::Pg(p) => pg::reset_sequences(p),
        }
    }
}
