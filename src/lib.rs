//! `competency`: administer partner-program competencies.

pub mod rules;
