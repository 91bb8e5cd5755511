//! The PostgreSQL client as the store uses it: one connection, its statement cache (each
//! statement translated from the store's dialect once, [`super::dialect::pg_sql`]), every call
//! timed by the watchdog ([`super::wait`]), errors that name the database when the
//! connection is lost, and the binary `COPY` the imports stage their rows with.

use std::cell::RefCell;
use std::collections::HashMap;

use postgres::types::Type;

use super::dialect::pg_sql;
use super::wait::Watch;
use crate::store::sql::{Error, Result, Row, Value};

/// A PostgreSQL client with its statement cache, its watchdog (every call to the server
/// is timed: [`super::wait`]) and the (redacted) URL its errors name.
pub struct Pg {
    client: RefCell<postgres::Client>,
    cache: RefCell<HashMap<String, postgres::Statement>>,
    watch: std::sync::Arc<Watch>,
    shown: String,
}

/// The client borrowed for one call to the server, which the watchdog times.
struct Call<'a> {
    client: std::cell::RefMut<'a, postgres::Client>,
    watch: &'a Watch,
}

impl std::ops::Deref for Call<'_> {
    type Target = postgres::Client;
    fn deref(&self) -> &postgres::Client {
        &self.client
    }
}

impl std::ops::DerefMut for Call<'_> {
    fn deref_mut(&mut self) -> &mut postgres::Client {
        &mut self.client
    }
}

impl Drop for Call<'_> {
    fn drop(&mut self) {
        self.watch.disarm();
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        self.watch.close();
    }
}

impl Pg {
    /// Wraps a connected client, its watchdog and its redacted URL.
    pub fn new(client: postgres::Client, watch: std::sync::Arc<Watch>, shown: String) -> Pg {
        Pg {
            client: RefCell::new(client),
            cache: RefCell::new(HashMap::new()),
            watch,
            shown,
        }
    }

    /// The client, or an error (never a panic) when it is taken: a statement sent while a
    /// COPY streams (the users import writes accounts while it decides them) is a bug.
    /// The watchdog times the call until the returned guard drops.
    fn client(&self) -> Result<Call<'_>> {
        let client = self.client.try_borrow_mut().map_err(|_| {
            Error::Type("internal error: a statement was sent in the middle of a COPY".into())
        })?;
        self.watch.arm();
        Ok(Call {
            client,
            watch: &self.watch,
        })
    }

    /// The error of a call: one that is not the server's answer (the connection closed, a
    /// socket error, the watchdog cut a silent connection) names the database and says
    /// that the connection was lost ([`Error::Lost`]).
    pub fn lost(&self, e: postgres::Error) -> Error {
        if e.as_db_error().is_some() {
            return Error::Pg(e);
        }
        match self.watch.cut() {
            Some(after) => Error::Lost(format!(
                "no answer from {} for {} s (the network or the server stopped answering)",
                self.shown,
                after.as_secs().max(1)
            )),
            // Closed, or a socket error (a conversion error has another source).
            None if e.is_closed()
                || std::error::Error::source(&e).is_some_and(|c| c.is::<std::io::Error>()) =>
            {
                Error::Lost(format!("the connection to {} was lost ({e})", self.shown))
            }
            None => Error::Pg(e),
        }
    }

    /// The (redacted) URL, for messages.
    pub fn lost_to(&self) -> &str {
        &self.shown
    }

    /// Runs statements without parameters (translated).
    pub fn batch(&self, sql: &str) -> Result<()> {
        let r = self.client()?.batch_execute(&pg_sql(sql));
        r.map_err(|e| self.lost(e))
    }

    /// Runs SQL exactly as given (PostgreSQL's own dialect).
    pub fn batch_raw(&self, sql: &str) -> Result<()> {
        let r = self.client()?.batch_execute(sql);
        r.map_err(|e| self.lost(e))
    }

    pub(crate) fn prepare(&self, sql: &str) -> Result<postgres::Statement> {
        if let Some(st) = self.cache.borrow().get(sql) {
            return Ok(st.clone());
        }
        let r = self.client()?.prepare(&pg_sql(sql));
        let st = r.map_err(|e| self.lost(e))?;
        self.cache.borrow_mut().insert(sql.to_owned(), st.clone());
        Ok(st)
    }

    pub(crate) fn run(
        &self,
        st: &postgres::Statement,
        params: &[Value<'_>],
    ) -> Result<Vec<postgres::Row>> {
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|v| v as &(dyn postgres::types::ToSql + Sync))
            .collect();
        let r = self.client()?.query(st, &refs);
        r.map_err(|e| self.lost(e))
    }

    pub(crate) fn exec(&self, st: &postgres::Statement, params: &[Value<'_>]) -> Result<usize> {
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|v| v as &(dyn postgres::types::ToSql + Sync))
            .collect();
        let r = self.client()?.execute(st, &refs);
        Ok(r.map_err(|e| self.lost(e))? as usize)
    }

    /// Prepares (once per connection) a statement written in PostgreSQL's own dialect
    /// (`$N` placeholders, arrays), not translated.
    fn prepare_raw(&self, sql: &str) -> Result<postgres::Statement> {
        let key = ["\u{0}raw:", sql].concat();
        if let Some(st) = self.cache.borrow().get(&key) {
            return Ok(st.clone());
        }
        let r = self.client()?.prepare(sql);
        let st = r.map_err(|e| self.lost(e))?;
        self.cache.borrow_mut().insert(key, st.clone());
        Ok(st)
    }

    /// Runs a query written in PostgreSQL's own dialect with typed parameters (arrays
    /// among them): the set-based statements of the bulk imports.
    pub fn query_typed(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>> {
        let st = self.prepare_raw(sql)?;
        let r = self.client()?.query(&st, params);
        r.map_err(|e| self.lost(e))
    }

    /// [`Pg::query_typed`] unprepared: planned with its parameters each time it runs, so
    /// that a statement sent once per chunk of a long import sees the tables as they have
    /// grown (a cached generic plan made while they were small would scan them whole). Costs
    /// a round trip more than a cached statement: for statements per chunk, not per row.
    pub fn query_unprepared(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>> {
        Ok(self.client()?.query(sql, params)?)
    }

    /// Runs `COPY … FROM STDIN (FORMAT binary)` (`sql`, a constant) with columns of
    /// `types`, `write` sending the rows: values travel as typed binary fields, never as
    /// SQL text. Returns the number of rows copied.
    pub fn copy_in(
        &self,
        sql: &str,
        types: &[Type],
        write: impl FnOnce(&mut postgres::binary_copy::BinaryCopyInWriter<'_>) -> Result<()>,
    ) -> Result<u64> {
        let mut client = self.client()?;
        let copy = client.copy_in(sql).map_err(|e| self.lost(e))?;
        let mut w = postgres::binary_copy::BinaryCopyInWriter::new(copy, types);
        write(&mut w)?;
        w.finish().map_err(|e| self.lost(e))
    }
}

impl Pg {
    /// [`Pg::copy_in`] for a writer that does more than send rows (its errors are the
    /// caller's own type): the COPY stays open while `write` runs, so the server inserts what
    /// was sent while the client works out the next rows. `write` must send no statement.
    pub fn copy_in_with<E: From<Error> + From<postgres::Error>>(
        &self,
        sql: &str,
        types: &[Type],
        write: impl FnOnce(
            &mut postgres::binary_copy::BinaryCopyInWriter<'_>,
        ) -> std::result::Result<(), E>,
    ) -> std::result::Result<u64, E> {
        let mut client = self.client()?;
        let copy = client.copy_in(sql).map_err(|e| self.lost(e))?;
        let mut w = postgres::binary_copy::BinaryCopyInWriter::new(copy, types);
        write(&mut w)?;
        Ok(w.finish().map_err(|e| self.lost(e))?)
    }
}

impl Pg {
    /// Streams the rows of `st` to `f` (`query_raw`) until it returns `false`: `f` must not
    /// use the connection, which is busy reading the rows meanwhile.
    pub(crate) fn for_each(
        &self,
        st: &postgres::Statement,
        values: &[Value<'_>],
        mut f: impl FnMut(&Row<'_>) -> Result<bool>,
    ) -> Result<()> {
        use postgres::fallible_iterator::FallibleIterator;
        let mut client = self.client()?;
        let mut rows = client.query_raw(st, values.iter())?;
        while let Some(r) = rows.next()? {
            if !f(&Row::Pg(&r))? {
                break;
            }
        }
        Ok(())
    }
}
