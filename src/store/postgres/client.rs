//! The PostgreSQL client as the store uses it: one connection, its statement cache (each
//! statement translated from the store's dialect once, [`super::dialect::pg_sql`]), every call
//! timed by the watchdog ([`super::wait`]), errors that name the database when the
//! connection is lost, and the binary `COPY` the imports write their rows with — in the
//! caller's thread, or on another while the caller works out the next rows
//! ([`Pg::copy_in_background`]).
//!
//! Invariant: one call at a time reaches the server. A COPY sent to the background holds
//! the client until it ends, and every other call waits for it first ([`Pg::settle`]), so a
//! statement can never be sent in the middle of a COPY, and its error is reported by the
//! next call.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use postgres::types::Type;

use super::copy::CopyWriter;
use super::dialect::pg_sql;
use super::wait::Watch;
use crate::store::sql::{Error, Result, Row, Value};

/// A PostgreSQL client with its statement cache, its watchdog (every call to the server
/// is timed: [`super::wait`]) and the (redacted) URL its errors name.
pub struct Pg {
    /// Shared with a COPY running in the background, which holds the lock until it ends.
    client: Arc<Mutex<postgres::Client>>,
    /// The COPY running in the background, if any ([`Pg::copy_in_background`]).
    pending: RefCell<Option<std::thread::JoinHandle<Result<()>>>>,
    cache: RefCell<HashMap<String, postgres::Statement>>,
    watch: Arc<Watch>,
    shown: String,
}

/// The client borrowed for one call to the server, which the watchdog times.
struct Call<'a> {
    client: MutexGuard<'a, postgres::Client>,
    watch: &'a Watch,
}

/// What a job in the background may do with the client: COPYs, nothing else.
pub struct Copier<'c>(&'c mut postgres::Client);

impl Copier<'_> {
    /// Runs `COPY … FROM STDIN (FORMAT binary)` as [`Pg::copy_in`] does.
    pub fn copy_in(
        &mut self,
        sql: &str,
        types: &[Type],
        write: impl FnOnce(&mut CopyWriter<'_>) -> Result<()>,
    ) -> Result<u64> {
        let copy = self.0.copy_in(sql)?;
        let mut w = CopyWriter::new(copy, types);
        write(&mut w)?;
        w.finish()
    }
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
        // A COPY still running ends before the connection does (its error no longer matters:
        // whatever it wrote is rolled back with the transaction).
        if let Some(job) = self.pending.get_mut().take() {
            let _ = job.join();
        }
        self.watch.close();
    }
}

impl Pg {
    /// Wraps a connected client, its watchdog and its redacted URL.
    pub fn new(client: postgres::Client, watch: Arc<Watch>, shown: String) -> Pg {
        Pg {
            client: Arc::new(Mutex::new(client)),
            pending: RefCell::new(None),
            cache: RefCell::new(HashMap::new()),
            watch,
            shown,
        }
    }

    /// The client, once a COPY running in the background has ended (its error, if it
    /// failed, is this call's); an error (never a panic or a deadlock) when this thread
    /// holds it already: a statement sent from inside a COPY's writer is a bug. The
    /// watchdog times the call until the returned guard drops.
    fn client(&self) -> Result<Call<'_>> {
        self.settle()?;
        let client = match self.client.try_lock() {
            Ok(c) => c,
            // A writer that panicked left the lock poisoned: the server reports the state
            // the connection is in.
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => {
                return Err(Error::Type(
                    "internal error: a statement was sent in the middle of a COPY".into(),
                ));
            }
        };
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
        write: impl FnOnce(&mut CopyWriter<'_>) -> Result<()>,
    ) -> Result<u64> {
        let mut client = self.client()?;
        let copy = client.copy_in(sql).map_err(|e| self.lost(e))?;
        let mut w = CopyWriter::new(copy, types);
        write(&mut w)?;
        w.finish().map_err(|e| match e {
            Error::Pg(e) => self.lost(e),
            e => e,
        })
    }
}

impl Pg {
    /// Runs `job` (its COPYs) on another thread, so that the server inserts one chunk of
    /// an import while this thread decides the next: the users import's accounts and links
    /// went from 14.5 s to 10.3 s at 1,000,000 rows (the server's work and the client's,
    /// which took turns, now overlap). The next call to the server waits for it first and
    /// reports its error ([`Pg::settle`]); so does the next job.
    pub fn copy_in_background(
        &self,
        job: impl FnOnce(&mut Copier<'_>) -> Result<()> + Send + 'static,
    ) -> Result<()> {
        self.settle()?;
        // Sent while this thread holds the client (from inside a writer or a row callback),
        // the job would wait for it forever, and so would this thread for the job: refused,
        // as a statement sent there is.
        if let Err(TryLockError::WouldBlock) = self.client.try_lock() {
            return Err(Error::Type(
                "internal error: a COPY was sent in the middle of another call".into(),
            ));
        }
        let (client, watch) = (Arc::clone(&self.client), Arc::clone(&self.watch));
        let handle = std::thread::Builder::new()
            .name("competency-copy".into())
            .spawn(move || {
                let mut c = client.lock().unwrap_or_else(|e| e.into_inner());
                watch.arm();
                let r = job(&mut Copier(&mut c));
                watch.disarm();
                r
            })
            .map_err(|e| Error::Type(format!("cannot start a thread for the COPY: {e}")))?;
        *self.pending.borrow_mut() = Some(handle);
        Ok(())
    }

    /// Waits for the COPY running in the background, if any; its error, said as any call's
    /// ([`Pg::lost`]). Called by every call to the server, and before a commit or a
    /// rollback.
    pub fn settle(&self) -> Result<()> {
        let Some(job) = self.pending.borrow_mut().take() else {
            return Ok(());
        };
        match job.join() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(Error::Pg(e))) => Err(self.lost(e)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(Error::Type(
                "internal error: the thread of a COPY stopped".into(),
            )),
        }
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
