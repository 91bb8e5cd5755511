//! The domain services: one module per subject. They take the store, an actor and plain
//! arguments and return plain typed data; they never print and never draw progress (they
//! report it through [`progress::Progress`], which `cli` implements).

pub mod accounts;
pub mod copy;
pub mod credentials;
pub mod designations;
pub mod import;
pub mod judge;
pub mod membership;
pub mod progress;
pub mod records;
pub mod report;
