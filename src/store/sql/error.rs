//! A failure of either backend, as the store's queries see it: one [`Error`] type, so a
//! query reads the same whichever backend ran it.

use std::fmt;

use crate::store::postgres::PgError;

/// A failure of either backend, or a value that did not convert.
#[derive(Debug)]
pub enum Error {
    /// SQLite's.
    Lite(rusqlite::Error),
    /// PostgreSQL's.
    Pg(PgError),
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

impl From<PgError> for Error {
    fn from(e: PgError) -> Self {
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

#[cfg(test)]
impl Error {
    /// Whether this is a UNIQUE constraint violation, on either backend.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Error::Lite(rusqlite::Error::SqliteFailure(f, _)) => {
                f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            }
            e => e.pg_code() == Some("23505"),
        }
    }
}
