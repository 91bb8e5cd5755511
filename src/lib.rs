//! `competency`: administer partner-program competencies — organizations, user accounts
//! and their Microsoft accounts, achievements, performance, rulebooks and membership.
//!
//! The shape (see DESIGN.md): `cli` parses and dispatches; domain services (`users`,
//! `credentials`, …) apply the program's rules; `rules` holds the rulebook and the pure
//! evaluation engine; `store` is the only module with SQL; `output` is the only module that
//! formats.

pub mod cli;
pub mod clock;
pub mod credentials;
pub mod designations;
pub mod error;
pub mod evaluation;
pub mod fasthash;
pub mod files;
pub mod import;
pub mod membership;
pub mod output;
pub mod progress;
pub mod records;
pub mod report;
pub mod rules;
pub mod store;
pub mod users;
pub mod validate;
