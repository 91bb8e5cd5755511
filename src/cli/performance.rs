//! `performance …`: the organization's revenue, usage, seats and new customers.

use anyhow::Result;
use clap::Subcommand;
use serde::Serialize;

use super::Ctx;
use crate::domain::{performance, records};
use crate::error::bad_input;
use crate::output::{Report, Table, number};
use crate::store::Recorded;

/// Performance commands.
#[derive(Debug, Subcommand)]
pub enum PerformanceCmd {
    /// Record a value (the same metric, scope and date again replaces the value).
    #[command(
        after_help = "Examples:\n  competency performance record --metric revenue --scope azure --value 15000 --date 2026-03-31"
    )]
    Record {
        /// The metric: revenue (USD), active-usage, deployed-seats, new-customers, …
        #[arg(long, ignore_case = true, value_parser = clap::builder::PossibleValuesParser::new(
            crate::rules::Metric::ALL.map(crate::rules::Metric::as_str)))]
        metric: String,
        /// The value (non-negative; `net-customer-adds`, `usage-growth`, `deployments` and
        /// `protected-users-growth` may be negative).
        #[arg(long, value_name = "N", allow_hyphen_values = true)]
        value: String,
        /// The day the value is for (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        date: String,
        /// A scope such as `azure`; requirements with a scope count only matching records. A
        /// scope no rule of the rulebook uses for the metric is refused.
        #[arg(long)]
        scope: Option<String>,
        /// The designation track the figure is for (`enterprise`, `smb`), where the rulebook
        /// records the metric per track (Partner Center shows each track's figure).
        #[arg(long)]
        track: Option<String>,
        /// The customer association the figure is for, where the rulebook scores each
        /// association against its own threshold.
        #[arg(long, ignore_case = true, value_parser = clap::builder::PossibleValuesParser::new(
            crate::rules::Association::ALL.map(crate::rules::Association::as_str)))]
        association: Option<String>,
    },
    /// Import records from a CSV file: `metric`, `value`, `date`, optional `scope`, `track`,
    /// `association`. All or nothing unless --skip-invalid; rows already recorded are
    /// unchanged.
    #[command(
        after_help = "Examples:\n  competency performance import perf.csv\n  competency performance import perf.csv --dry-run"
    )]
    Import(super::import::ImportArgs),
    /// List the organization's records.
    List,
}

/// Runs a `performance` command.
pub fn run(cmd: PerformanceCmd, ctx: &mut Ctx) -> Result<Report> {
    match cmd {
        PerformanceCmd::Record {
            metric,
            value,
            date,
            scope,
            track,
            association,
        } => {
            let row = records::validate_performance(
                ctx.clock.today(),
                &metric,
                &value,
                &date,
                scope.as_deref(),
                track.as_deref(),
                association.as_deref(),
            )
            .map_err(|e| bad_input(format!("--{e}")))?;
            let actor = ctx.actor();
            let (r, alerts) =
                ctx.write_org(|db, org| performance::record(db, org, &actor, &row))?;
            super::membership::print_alerts(&alerts);
            let what = match r {
                Recorded::Added => "added",
                Recorded::Updated => "updated",
                Recorded::Unchanged => "unchanged",
            };
            Ok(Report::new(RecordedView {
                metric: row.metric.as_str(),
                scope: &row.scope,
                track: &row.track,
                association: &row.association,
                value: row.value,
                date: row.date.to_string(),
                result: what,
            })
            .text(format!(
                "{} {} on {}: {what}",
                row.metric.as_str(),
                number(row.value),
                row.date
            )))
        }
        PerformanceCmd::Import(a) => super::import::performance(a, ctx),
        PerformanceCmd::List => {
            let rows = ctx.read_org(performance::list)?;
            // The track and association columns appear in the table only when a record has
            // one (an 80-column terminal); JSON and CSV always have them.
            let split = rows
                .iter()
                .any(|r| !r.track.is_empty() || !r.association.is_empty());
            let mut t = if split {
                Table::new(&["Date", "Metric", "Scope", "Track", "Assoc.", "Value"])
            } else {
                Table::new(&["Date", "Metric", "Scope", "Value"])
            };
            let mut j = Vec::new();
            for r in &rows {
                let mut cells = vec![
                    r.date.to_string(),
                    r.metric.as_str().to_owned(),
                    r.scope.clone(),
                ];
                if split {
                    cells.push(r.track.clone());
                    cells.push(r.association.clone());
                }
                cells.push(number(r.value));
                t.row(cells);
                j.push(RowView {
                    date: r.date.to_string(),
                    metric: r.metric.as_str(),
                    scope: &r.scope,
                    track: &r.track,
                    association: &r.association,
                    value: r.value,
                });
            }
            Ok(Report::new(j).table(t).csv({
                let mut c =
                    Table::new(&["date", "metric", "scope", "track", "association", "value"]);
                for r in &rows {
                    c.row([
                        r.date.to_string(),
                        r.metric.as_str().to_owned(),
                        r.scope.clone(),
                        r.track.clone(),
                        r.association.clone(),
                        r.value.to_string(),
                    ]);
                }
                c
            }))
        }
    }
}

/// `performance record --format json` (SPEC §8).
#[derive(Serialize)]
struct RecordedView<'a> {
    metric: &'a str,
    scope: &'a str,
    track: &'a str,
    association: &'a str,
    value: f64,
    date: String,
    result: &'a str,
}

/// One record of `performance list --format json` (SPEC §8).
#[derive(Serialize)]
struct RowView<'a> {
    date: String,
    metric: &'a str,
    scope: &'a str,
    track: &'a str,
    association: &'a str,
    value: f64,
}
