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
use super::{Options, Read, Rejects, Summary, read_rows, refuse};
use crate::domain::accounts::Actor;
use crate::domain::records;
use crate::rules::Metric;
use crate::rules::explain::thousands as number;
use crate::store::import::performance::{PerformanceRefusal, PerformanceStage};
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
    Column {
        field: "track",
        names: &["track"],
    },
    Column {
        field: "association",
        names: &["association"],
    },
];

/// Opens a performance file and checks its header.
pub fn open(opts: &Options) -> Result<Input> {
    Input::open_requiring(opts, COLUMNS, 3)
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
    let mut rejects = rejects;
    let cols = [0, 1, 2, 3, 4, 5].map(|c| input.column(c));
    let mut stage = db.performance_stage(org.id, actor.at)?;
    read_rows(
        input,
        &mut summary,
        &mut stage,
        PerformanceStage::invalid,
        |stage, row, line| {
            let p = match records::validate_performance(
                today,
                row.get(cols[0]),
                row.get(cols[1]),
                row.get(cols[2]),
                row.opt(cols[3]),
                row.opt(cols[4]),
                row.opt(cols[5]),
            ) {
                Ok(p) => p,
                Err(e) => return Ok(Err(e)),
            };
            if let Err(e) = scopes.check_input(&p) {
                return Ok(Err(e));
            }
            let key = (p.scope.as_str(), p.track.as_str(), p.association.as_str());
            stage.add(line, row.span(), p.metric, key, p.value, p.date)?;
            Ok(Ok(Read::Staged))
        },
    )?;
    // The store decides the staged rows: the counts are its statements', and the rows it
    // refused come back in file order with the invalid ones.
    let d = stage.decide(|place, why| {
        let message = match why {
            PerformanceRefusal::Invalid(m) => m,
            PerformanceRefusal::Repeated {
                metric,
                scope,
                track,
                association,
                date,
                value,
            } => repeated(metric, (&scope, &track, &association), date, value),
        };
        refuse(
            input,
            &mut summary,
            rejects.as_deref_mut(),
            place.line,
            place.span,
            &message,
        )
    })?;
    summary.added += d.added;
    summary.updated += d.updated;
    summary.unchanged += d.unchanged;
    Ok(summary)
}

/// The error of a row whose key (metric, scope, track, association, date) this file already
/// gave, naming the value recorded for it now.
fn repeated(metric: Metric, key: (&str, &str, &str), date: NaiveDate, value: f64) -> String {
    let parts: Vec<&str> = [key.0, key.1, key.2]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect();
    format!(
        "value: {}{} on {date} is already in this file with value {}",
        metric.as_str(),
        if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join(", "))
        },
        number(value)
    )
}
