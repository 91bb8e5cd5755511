//! What only PostgreSQL does: its client, its connection's bounded waits, and the binary
//! `COPY` that stages an import's rows. Nothing outside this folder names the `postgres`
//! crate; the rest of the store reaches the server through [`super::sql::Conn`].

pub mod staging;
