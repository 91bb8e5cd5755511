//! `competency`: administer partner-program competencies — organizations, user accounts
//! and their Microsoft accounts, achievements, performance, rulebooks and membership.
//!
//! The shape (see DESIGN.md and docs/architecture.md): `cli` parses and
//! dispatches; `domain` services apply the program's rules; `rules` holds the rulebook and
//! the pure evaluation engine; `store` is the only module with SQL; `output` is the only
//! module that formats; `support` holds the small shared pieces (clock, fields, files).
//!
//! Every module is private, so rustc reports what nothing uses. What the binary, tests/,
//! examples/ and fuzz/ reach is re-exported in [`api`] under the same paths as inside the
//! crate (`competency::api::store::Store` is `crate::store::Store`); add a line there when a
//! test needs one more item.

mod cli;
mod domain;
mod error;
mod output;
mod rules;
mod store;
mod support;

/// The public face of the crate: the binary (src/main.rs), the integration tests, the
/// examples and the fuzz targets use these and nothing else.
pub mod api {
    pub mod cli {
        pub use crate::cli::{Cli, run};
    }
    pub mod output {
        pub use crate::output::render;
    }
    pub mod domain {
        pub mod accounts {
            pub use crate::domain::accounts::{Actor, Role};
        }
        pub mod credentials {
            pub use crate::domain::credentials::{hash_generated, verify};
        }
        pub mod designations {
            pub use crate::domain::designations::list_reported;
        }
        pub mod membership {
            pub use crate::domain::membership::check_reported;
        }
        pub mod import {
            pub use crate::domain::import::Options;
            pub mod users {
                pub use crate::domain::import::users::{import, open};
            }
            pub mod achievements {
                pub use crate::domain::import::achievements::{import, open};
            }
            pub mod performance {
                pub use crate::domain::import::performance::{import, open};
            }
        }
        pub mod progress {
            pub use crate::domain::progress::{
                Event, Interrupted, Recording, install_handler, none,
            };
        }
        pub mod records {
            pub use crate::domain::records::{
                ScopeRules, rulebook, validate_achievement, validate_performance,
            };
        }
    }
    pub mod rules {
        pub use crate::rules::{Level, Market, Metric, Rulebook, Snapshot, evaluate, gaps, risk};
        pub mod rulebook {
            pub use crate::rules::rulebook::{DEFAULT_RULEBOOK, SOLUTIONS_PARTNER_RULEBOOK};
        }
        pub mod snapshot {
            pub use crate::rules::snapshot::{Achievement, PerformanceRecord, Person};
        }
        pub mod validate {
            pub use crate::rules::validate::validated_digest;
        }
    }
    pub mod store {
        pub use crate::store::{NewOrg, Store, hash_bytes, hash_text};
        pub mod schema {
            pub use crate::store::schema::{MIGRATIONS, current_version, migrate, migrate_to};
        }
    }
    pub mod support {
        pub mod clock {
            pub use crate::support::clock::{midnight, parse_date, parse_instant};
        }
        pub mod fields {
            pub use crate::support::fields::{
                MAX_NAME, email, name, partner_id, shown_plain, slug, username_local,
            };
        }
        pub mod terminal {
            pub use crate::support::terminal::message;
        }
    }
}
