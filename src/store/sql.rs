//! One way to send SQL to either backend: the store's queries are written once, in SQLite's
//! dialect with numbered `?N` placeholders, and run on SQLite as they are or on PostgreSQL
//! through [`pg_sql`], which rewrites the few constructs that differ (placeholders, `INSERT
//! OR IGNORE`, `INDEXED BY`, the TEMP schema, integer and real column types). Statements are
//! translated and prepared once per connection and cached.
//!
//! The API mirrors the part of rusqlite the store uses (`prepare_cached`, `execute`,
//! `query_row`, `query_map`, `query` with `next`, `exists`, `Row::get`, `get_ref`), so a query
//! reads the same on both backends. Parameters are [`Value`]s that adapt to the type
//! PostgreSQL inferred for each placeholder (an integer bound to a BOOLEAN or DOUBLE
//! PRECISION parameter is converted), and columns are read back as [`Value`]s whatever
//! their PostgreSQL type (BOOLEAN reads as 0/1, as in SQLite).
//!
//! Longer than ~400 lines on purpose: every type here is an enum over the two backends and
//! each method matches both arms side by side; split, an operation's two halves would part.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use postgres::types::{IsNull, Type};

/// An open connection to one of the backends.
pub enum Conn {
    /// SQLite.
    Lite(rusqlite::Connection),
    /// PostgreSQL.
    Pg(Box<Pg>),
}

/// A PostgreSQL client with its statement cache, its watchdog (every call to the server
/// is timed: `pgwait`) and the (redacted) URL its errors name.
pub struct Pg {
    client: RefCell<postgres::Client>,
    cache: RefCell<HashMap<String, postgres::Statement>>,
    watch: std::sync::Arc<super::pgwait::Watch>,
    shown: String,
}

/// The client borrowed for one call to the server, which the watchdog times.
struct Call<'a> {
    client: std::cell::RefMut<'a, postgres::Client>,
    watch: &'a super::pgwait::Watch,
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
    pub fn new(
        client: postgres::Client,
        watch: std::sync::Arc<super::pgwait::Watch>,
        shown: String,
    ) -> Pg {
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

    fn prepare(&self, sql: &str) -> Result<postgres::Statement> {
        if let Some(st) = self.cache.borrow().get(sql) {
            return Ok(st.clone());
        }
        let r = self.client()?.prepare(&pg_sql(sql));
        let st = r.map_err(|e| self.lost(e))?;
        self.cache.borrow_mut().insert(sql.to_owned(), st.clone());
        Ok(st)
    }

    fn run(&self, st: &postgres::Statement, params: &[Value<'_>]) -> Result<Vec<postgres::Row>> {
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|v| v as &(dyn postgres::types::ToSql + Sync))
            .collect();
        let r = self.client()?.query(st, &refs);
        r.map_err(|e| self.lost(e))
    }

    fn exec(&self, st: &postgres::Statement, params: &[Value<'_>]) -> Result<usize> {
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

/// A failure of either backend, or a value that did not convert.
#[derive(Debug)]
pub enum Error {
    /// SQLite's.
    Lite(rusqlite::Error),
    /// PostgreSQL's.
    Pg(postgres::Error),
    /// A query that must return a row returned none.
    NoRows,
    /// A column's value is not of the type asked for.
    Type(String),
    /// The connection to the server was lost (closed, a socket error, or cut by the
    /// watchdog after the server stopped answering): the message names the database.
    Lost(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Lite(e) => e.fmt(f),
            Error::Pg(e) => match e.as_db_error() {
                Some(db) => f.write_str(db.message()),
                None => e.fmt(f),
            },
            Error::NoRows => f.write_str("the query returned no rows"),
            Error::Type(m) | Error::Lost(m) => f.write_str(m),
        }
    }
}

// Transparent: the message and the causes are the backend's own, so a chain printed with
// `{:#}` says each thing once.
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Lite(e) => e.source(),
            _ => None,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => Error::NoRows,
            e => Error::Lite(e),
        }
    }
}

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        Error::Pg(e)
    }
}

impl Error {
    /// SQLite's error code, if any.
    pub fn sqlite_code(&self) -> Option<rusqlite::ErrorCode> {
        match self {
            Error::Lite(e) => e.sqlite_error_code(),
            _ => None,
        }
    }

    /// PostgreSQL's SQLSTATE, if any.
    pub fn pg_code(&self) -> Option<&str> {
        match self {
            Error::Pg(e) => e.code().map(|c| c.code()),
            _ => None,
        }
    }
}

/// The result of a SQL operation.
pub type Result<T> = std::result::Result<T, Error>;

/// `.optional()` on a query that may find no row.
pub trait OptionalExtension<T> {
    /// `Ok(None)` instead of [`Error::NoRows`].
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A value bound to, or read from, a statement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// NULL.
    Null,
    /// An integer (booleans are 0/1).
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// Text.
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
}

impl<'a> Value<'a> {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Int(_) => "an integer",
            Value::Real(_) => "a real",
            Value::Text(_) => "text",
            Value::Blob(_) => "bytes",
        }
    }

    /// The text.
    pub fn as_str(&self) -> Result<&'a str> {
        match *self {
            Value::Text(s) => Ok(s),
            Value::Blob(b) => std::str::from_utf8(b).map_err(|e| Error::Type(e.to_string())),
            v => Err(Error::Type(format!("expected text, found {}", v.kind()))),
        }
    }

    /// The text, or `None` for NULL.
    pub fn as_str_or_null(&self) -> Result<Option<&'a str>> {
        match self {
            Value::Null => Ok(None),
            v => v.as_str().map(Some),
        }
    }

    /// The bytes of text or bytes.
    pub fn as_bytes(&self) -> Result<&'a [u8]> {
        match *self {
            Value::Text(s) => Ok(s.as_bytes()),
            Value::Blob(b) => Ok(b),
            v => Err(Error::Type(format!("expected text, found {}", v.kind()))),
        }
    }

    /// The bytes, or `None` for NULL.
    pub fn as_bytes_or_null(&self) -> Result<Option<&'a [u8]>> {
        match self {
            Value::Null => Ok(None),
            v => v.as_bytes().map(Some),
        }
    }
}

/// A Rust value that binds as a [`Value`].
pub trait Param {
    /// The value to bind.
    fn value(&self) -> Value<'_>;
}

macro_rules! int_param {
    ($($t:ty),*) => {$(
        impl Param for $t {
            fn value(&self) -> Value<'_> {
                Value::Int(*self as i64)
            }
        }
    )*};
}
int_param!(i64, i32, u32, u16, u8, i16);

impl Param for bool {
    fn value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}
impl Param for f64 {
    fn value(&self) -> Value<'_> {
        Value::Real(*self)
    }
}
impl Param for str {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl Param for String {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl Param for [u8] {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}
impl Param for Vec<u8> {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}
impl<T: Param + ?Sized> Param for &T {
    fn value(&self) -> Value<'_> {
        (**self).value()
    }
}
impl<T: Param> Param for Option<T> {
    fn value(&self) -> Value<'_> {
        match self {
            Some(v) => v.value(),
            None => Value::Null,
        }
    }
}
impl Param for Value<'_> {
    fn value(&self) -> Value<'_> {
        *self
    }
}

/// A statement's parameters: `params![a, b]` or an array `[a]`.
pub trait Params {
    /// The values, in placeholder order.
    fn values(&self) -> Vec<Value<'_>>;
}

impl Params for &[&dyn Param] {
    fn values(&self) -> Vec<Value<'_>> {
        self.iter().map(|p| p.value()).collect()
    }
}

impl<T: Param, const N: usize> Params for [T; N] {
    fn values(&self) -> Vec<Value<'_>> {
        self.iter().map(|p| p.value()).collect()
    }
}

/// `params![a, b, ...]`: heterogeneous parameters.
#[macro_export]
macro_rules! sql_params {
    () => { &[] as &[&dyn $crate::store::sql::Param] };
    ($($x:expr),+ $(,)?) => { &[$(&$x as &dyn $crate::store::sql::Param),+] as &[&dyn $crate::store::sql::Param] };
}
pub use crate::sql_params as params;

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::ValueRef;
        Ok(rusqlite::types::ToSqlOutput::Borrowed(match *self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(i),
            Value::Real(f) => ValueRef::Real(f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl postgres::types::ToSql for Value<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, BoxError> {
        match *self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(i)?.to_sql(ty, out),
                Type::FLOAT8 => (i as f64).to_sql(ty, out),
                Type::FLOAT4 => (i as f32).to_sql(ty, out),
                Type::BOOL => (i != 0).to_sql(ty, out),
                _ => i.to_string().as_str().to_sql(ty, out),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (f as f32).to_sql(ty, out),
                _ => f.to_string().as_str().to_sql(ty, out),
            },
            Value::Text(s) => s.to_sql(ty, out),
            Value::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// A row of a result.
pub enum Row<'a> {
    /// SQLite's.
    Lite(&'a rusqlite::Row<'a>),
    /// PostgreSQL's.
    Pg(&'a postgres::Row),
}

/// A column position.
pub trait RowIndex {
    /// The 0-based position.
    fn index(self) -> usize;
}
impl RowIndex for usize {
    fn index(self) -> usize {
        self
    }
}

/// A Rust type read from a [`Value`].
pub trait FromValue: Sized {
    /// Converts, or says why not.
    fn from_value(v: Value<'_>) -> Result<Self>;
}

fn mismatch<T>(want: &str, v: Value<'_>) -> Result<T> {
    Err(Error::Type(format!(
        "a column holds {}, expected {want}",
        v.kind()
    )))
}

impl FromValue for i64 {
    fn from_value(v: Value<'_>) -> Result<Self> {
        match v {
            Value::Int(i) => Ok(i),
            v => mismatch("an integer", v),
        }
    }
}
macro_rules! int_from {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: Value<'_>) -> Result<Self> {
                let i = i64::from_value(v)?;
                <$t>::try_from(i).map_err(|_| Error::Type(format!("{i} is out of range")))
            }
        }
    )*};
}
int_from!(i32, u32, u64, usize, u16, u8);
impl FromValue for bool {
    fn from_value(v: Value<'_>) -> Result<Self> {
        Ok(i64::from_value(v)? != 0)
    }
}
impl FromValue for f64 {
    fn from_value(v: Value<'_>) -> Result<Self> {
        match v {
            Value::Int(i) => Ok(i as f64),
            Value::Real(f) => Ok(f),
            v => mismatch("a number", v),
        }
    }
}
impl FromValue for String {
    fn from_value(v: Value<'_>) -> Result<Self> {
        v.as_str().map(str::to_owned)
    }
}
impl FromValue for Vec<u8> {
    fn from_value(v: Value<'_>) -> Result<Self> {
        v.as_bytes().map(<[u8]>::to_vec)
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: Value<'_>) -> Result<Self> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
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
            Row::Pg(r) => pg_value(r, i),
        }
    }
}

fn pg_value(r: &postgres::Row, i: usize) -> Result<Value<'_>> {
    let Some(col) = r.columns().get(i) else {
        return Err(Error::Type(format!("no column {i}")));
    };
    let ty = col.type_().clone();
    fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Value<'static>) -> Value<'static> {
        v.map_or(Value::Null, f)
    }
    Ok(match ty {
        Type::INT8 => opt(r.try_get::<_, Option<i64>>(i)?, Value::Int),
        Type::INT4 => opt(r.try_get::<_, Option<i32>>(i)?, |v| Value::Int(v.into())),
        Type::INT2 => opt(r.try_get::<_, Option<i16>>(i)?, |v| Value::Int(v.into())),
        Type::BOOL => opt(r.try_get::<_, Option<bool>>(i)?, |v| Value::Int(v.into())),
        Type::FLOAT8 => opt(r.try_get::<_, Option<f64>>(i)?, Value::Real),
        Type::FLOAT4 => opt(r.try_get::<_, Option<f32>>(i)?, |v| Value::Real(v.into())),
        Type::BYTEA => r
            .try_get::<_, Option<&[u8]>>(i)?
            .map_or(Value::Null, Value::Blob),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => r
            .try_get::<_, Option<&str>>(i)?
            .map_or(Value::Null, Value::Text),
        other => {
            return Err(Error::Type(format!(
                "column {} has PostgreSQL type {other}, which the store does not read (cast it)",
                col.name()
            )));
        }
    })
}

/// A prepared statement.
pub enum Stmt<'c> {
    /// SQLite's.
    Lite(rusqlite::CachedStatement<'c>),
    /// PostgreSQL's.
    Pg(&'c Pg, postgres::Statement),
}

/// The rows of a query, read one at a time.
pub enum Rows<'s> {
    /// SQLite's, stepped as read.
    Lite(rusqlite::Rows<'s>),
    /// PostgreSQL's, already fetched.
    Pg(std::vec::IntoIter<postgres::Row>, Option<postgres::Row>),
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
            Stmt::Pg(pg, st) => {
                use postgres::fallible_iterator::FallibleIterator;
                let mut client = pg.client()?;
                let mut rows = client.query_raw(st, values.iter())?;
                while let Some(r) = rows.next()? {
                    if !f(&Row::Pg(&r))? {
                        break;
                    }
                }
                Ok(())
            }
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
    /// The SQLite connection, for what only SQLite has (pragmas, online backup).
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

/// Rewrites a statement of the store's SQLite dialect for PostgreSQL: `?N` → `$N` (a bare
/// `?` takes the next number), `INSERT OR IGNORE` → `ON CONFLICT DO NOTHING`, no `INDEXED
/// BY` hint, no `temp.` schema prefix (PostgreSQL finds temporary tables first), `WITHOUT
/// ROWID` dropped, `INTEGER` → `BIGINT`, `REAL` → `DOUBLE PRECISION`, `LIKE` → `ILIKE`
/// (SQLite's LIKE ignores ASCII case). String literals are left alone.
pub fn pg_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut next = 1;
    let mut ignore = false;
    let b = sql.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\'' {
            let end = sql[i + 1..].find('\'').map_or(b.len(), |j| i + 1 + j + 1);
            out.push_str(&sql[i..end]);
            i = end;
            continue;
        }
        if c == b'?' {
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j > i + 1 {
                out.push('$');
                out.push_str(&sql[i + 1..j]);
            } else {
                out.push_str(&format!("${next}"));
                next += 1;
            }
            i = j;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'.') {
                j += 1;
            }
            let word = &sql[i..j];
            let rest = &sql[j..];
            let upper = word.to_ascii_uppercase();
            match upper.as_str() {
                "INSERT"
                    if rest
                        .trim_start()
                        .to_ascii_uppercase()
                        .starts_with("OR IGNORE") =>
                {
                    let skip = rest.len() - rest.trim_start().len() + "OR IGNORE".len();
                    out.push_str("INSERT");
                    ignore = true;
                    i = j + skip;
                    continue;
                }
                "INDEXED" if rest.trim_start().to_ascii_uppercase().starts_with("BY ") => {
                    // Skip `INDEXED BY name`.
                    let after = rest.trim_start()[3..].trim_start();
                    let name_len = after
                        .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                        .unwrap_or(after.len());
                    i = sql.len() - after.len() + name_len;
                    continue;
                }
                "WITHOUT" if rest.trim_start().to_ascii_uppercase().starts_with("ROWID") => {
                    let skip = rest.len() - rest.trim_start().len() + "ROWID".len();
                    i = j + skip;
                    continue;
                }
                "INTEGER" => out.push_str("BIGINT"),
                "REAL" => out.push_str("DOUBLE PRECISION"),
                "LIKE" => out.push_str("ILIKE"),
                _ => match word.strip_prefix("temp.") {
                    Some(name) => out.push_str(name),
                    None => out.push_str(word),
                },
            }
            i = j;
            continue;
        }
        let ch = sql[i..].chars().next().expect("within the text");
        out.push(ch);
        i += ch.len_utf8();
    }
    if ignore {
        let trimmed = out.trim_end().trim_end_matches(';').to_owned();
        out = format!("{trimmed} ON CONFLICT DO NOTHING");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::pg_sql;

    #[test]
    fn translates_the_sqlite_dialect() {
        assert_eq!(
            pg_sql("SELECT a FROM t INDEXED BY t_i WHERE a = ?1 AND b = ?2"),
            "SELECT a FROM t  WHERE a = $1 AND b = $2"
        );
        assert_eq!(
            pg_sql("INSERT OR IGNORE INTO temp.x VALUES (?1)"),
            "INSERT INTO x VALUES ($1) ON CONFLICT DO NOTHING"
        );
        assert_eq!(
            pg_sql("CREATE TEMP TABLE x (a INTEGER PRIMARY KEY, b REAL) WITHOUT ROWID"),
            "CREATE TEMP TABLE x (a BIGINT PRIMARY KEY, b DOUBLE PRECISION) "
        );
        assert_eq!(pg_sql("SELECT '?1 é', ?, ?"), "SELECT '?1 é', $1, $2");
        assert_eq!(pg_sql("x LIKE 'é' || ?2"), "x ILIKE 'é' || $2");
    }
}
