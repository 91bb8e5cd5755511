//! What only SQLite does: opening the file safely and configuring the connection (`open`),
//! the command transactions and the whole-database checks and backup (`transaction`), and
//! its failures said as what an administrator can act on (`errors`). The rest of the store
//! reaches SQLite through [`super::sql::Conn`], whose SQLite arm calls in here.

mod errors;
mod open;
pub mod staging;
pub mod trainees;
mod transaction;
pub mod users;

#[cfg(test)]
mod tests;

pub use errors::{explain, is_damage};
pub use open::{open, open_in_memory, restore_cache, set_cache_kib};
pub use transaction::{
    backup_to, foreign_key_violations, integrity_check, read, schema_version, write,
};
