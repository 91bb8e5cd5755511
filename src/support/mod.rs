//! The small shared pieces every layer may use: the clock, field validation, and the
//! private files the tool writes besides the database.

pub mod clock;
pub mod fields;
pub mod files;
