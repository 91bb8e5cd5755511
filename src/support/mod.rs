//! The small shared pieces every layer may use: the clock, field validation, secrets (OS
//! randomness and hashing), and the private files the tool writes besides the database.

pub mod clock;
pub mod fields;
pub mod files;
pub mod hooks;
pub mod interrupt;
pub mod secrets;
