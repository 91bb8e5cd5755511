//! What only PostgreSQL does: its client and statement cache (`client`), the URL (never
//! with a password, `url`), connecting with TLS (`connect`), the bounded waits of every call
//! (`wait`), the dialect translation (`dialect`), values to and from the server (`value`),
//! opening and migrating a database (`open`) and the command transactions (`transaction`).
//! Nothing outside this folder names the `postgres` crate (nor `rustls`,
//! `tokio_postgres_rustls`): the rest of the store reaches the server through
//! [`super::sql::Conn`], whose PostgreSQL arm calls in here.
//!
//! Writers are serialized as SQLite serializes them: every write transaction first takes one
//! transaction-scoped advisory lock (per database), waiting at most [`super::BUSY_TIMEOUT`]
//! (`lock_timeout`), then runs at READ COMMITTED, so that it sees every command committed
//! before it and no two commands can lose an update or create the same account; unique
//! constraints back that up. Readers take a REPEATABLE READ READ ONLY snapshot and never wait,
//! with one exception: a users import large against the table (`users`) drops the foreign
//! keys of `users` and `msa_links` and adds them back inside its transaction, so from its
//! writing phase to its commit every other command touching those tables waits.
//! A lock wait that times out, a serialization failure or a deadlock is reported as a clear
//! retryable error ("busy: try again"), after which nothing has changed.

mod client;
mod connect;
mod copy;
mod dialect;
mod open;
pub mod staging;
pub mod trainees;
mod transaction;
mod url;
pub mod users;
mod users_keys;
mod value;
mod wait;

#[cfg(test)]
mod tests;

pub use client::Pg;
pub use dialect::pg_ddl;
pub use open::{
    drop_created_schema, foreign_key_violations, integrity_check, open, reset_sequences,
    schema_version, tls_in_use,
};
pub use transaction::{outcome_unknown, read, write};
pub use url::{is_url, refuse_password, set_config_password, shown};
pub(crate) use value::value;

/// The client's types the store's enums carry (a row, a prepared statement, an error), under
/// names of their own so that only this folder names the crate.
pub use postgres::{Error as PgError, Row as PgRow, Statement as PgStatement};
