//! The small shared pieces every layer may use: the clock, field validation, secrets (OS
//! randomness and hashing), the private files the tool writes besides the database, and
//! what may reach a terminal (escaping, the one writer of messages on stderr).

pub mod bloom;
pub mod clock;
pub mod fields;
pub mod files;
pub mod hooks;
pub mod interrupt;
pub mod secrets;
pub mod terminal;
