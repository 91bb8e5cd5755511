//! `performance import`: the organization's revenue, usage, seats and new customers.
//!
//! Per row: validated by `records::validate_performance` (a known metric; a finite,
//! non-negative, plausible value; a real date not in the future) and by the scopes the
//! rulebook uses for the metric (`records::ScopeRules`). The same (metric,
//! scope, date) as in the database with the same value is `unchanged`; with another value
//! it replaces the stored one (`updated`) as `performance record` does. Twice in one file
//! is ambiguous and rejected at the second occurrence whatever the database holds (SPEC
//! §6), so a second import of an accepted file changes nothing.

use anyhow::Result;
use chrono::NaiveDate;

use super::input::{Column, Input};
use super::{Options, Outcome, Rejects, Seen, Summary, drive};
use crate::domain::accounts::Actor;
use crate::domain::records;
use crate::rules::explain::thousands as number;
use crate::store::import::{BulkTable, Insert};
use crate::store::{Db, Org};

/// The columns of a performance file.
pub const COLUMNS: &[Column] = &[
    Column {
        field: "metric",
        names: &["metric"],
    },
    Column {
        field: "value",
        names: &["value"],
    },
    Column {
        field: "date",
        names: &["date"],
    },
    Column {
        field: "scope",
        names: &["scope"],
    },
];

/// Opens a performance file and checks its header.
pub fn open(opts: &Options) -> Result<Input> {
    Input::open_requiring(&opts.file, COLUMNS, 3, &opts.progress)
}

/// Imports the performance records of `input` into `org`; the caller commits only if
/// [`Summary::should_commit`].
#[allow(clippy::too_many_arguments)]
pub fn import(
    db: &Db,
    org: &Org,
    scopes: &records::ScopeRules,
    actor: &Actor,
    today: NaiveDate,
    opts: &Options,
    input: &mut Input,
    rejects: Option<&mut Rejects>,
) -> Result<Summary> {
    let mut summary = Summary::new("performance", input, opts);
    let first_id = db.next_id(BulkTable::Performance)?;
    let cols = [0, 1, 2, 3].map(|c| input.column(c));
    let mut st = db.performance_statements()?;
    let mut seen = Seen::default();
    drive(input, &mut summary, rejects, |row, _line, _failed| {
        let p = match records::validate_performance(
            today,
            row.get(cols[0]),
            row.get(cols[1]),
            row.get(cols[2]),
            row.opt(cols[3]),
        ) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        if let Err(e) = scopes.check(p.metric, &p.scope) {
            return Ok(Err(e));
        }
        let metric = p.metric.as_str();
        Ok(
            match st.insert(org.id, metric, &p.scope, p.value, p.date, actor.at)? {
                Insert::Added(_) => Ok(Outcome::Added),
                Insert::Exists(id, v) if id >= first_id || !seen.insert(id) => Err(format!(
                    "value: {metric}{} on {} is already in this file with value {}",
                    if p.scope.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", p.scope)
                    },
                    p.date,
                    number(v)
                )),
                Insert::Exists(_, v) if v == p.value => Ok(Outcome::Unchanged),
                Insert::Exists(id, _) => {
                    st.update(id, p.value, actor.at)?;
                    Ok(Outcome::Updated)
                }
            },
        )
    })?;
    Ok(summary)
}
