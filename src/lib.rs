//! `competency`: administer partner-program competencies — organizations, user accounts
//! and their Microsoft accounts, achievements, performance, rulebooks and membership.
//!
//! The shape (see DESIGN.md and the README's "How the code is laid out"): `cli` parses and
//! dispatches; `domain` services apply the program's rules; `rules` holds the rulebook and
//! the pure evaluation engine; `store` is the only module with SQL; `output` is the only
//! module that formats; `support` holds the small shared pieces (clock, fields, files).

pub mod cli;
pub mod domain;
pub mod error;
pub mod output;
pub mod rules;
pub mod store;
pub mod support;
