//! Performance records as the commands see them: recording one value (its scope checked
//! against the rulebook, audited, and its effects evaluated at once when it wrote anything)
//! and listing the organization's records. Field validation and the bulk import live in
//! `records` and `import::performance`.

use anyhow::Result;

use crate::domain::membership::Alert;
use crate::domain::records;
use crate::domain::{Actor, effects};
use crate::error::bad_input;
use crate::store::{Db, Org, PerformanceRow, Recorded};

/// Records one validated value in `org`; a scope no rule of the rulebook uses for the
/// metric is refused (as `--scope`), and so is a track or association it does not declare
/// for that metric and scope, or one missing where it requires one. Returns what happened and the alerts it raised.
pub fn record(
    db: &Db,
    org: &Org,
    actor: &Actor,
    row: &PerformanceRow,
) -> Result<(Recorded, Vec<Alert>)> {
    let rb = records::rulebook(db, org)?;
    records::ScopeRules::new(&rb)
        .check_input(row)
        .map_err(|e| bad_input(format!("--{e}")))?;
    let recorded = records::record_performance(db, org, actor, row)?;
    // A lower figure — a new value for a date, or a lower latest one on a new date — can
    // break a competency the membership displays, or a designation's points.
    let change = effects::Change::Performance { row, recorded };
    let alerts = effects::alerts(effects::after(db, org, actor, &change)?);
    Ok((recorded, alerts))
}

/// The organization's performance records.
pub fn list(db: &Db, org: &Org) -> Result<Vec<PerformanceRow>> {
    db.performance(org.id)
}
