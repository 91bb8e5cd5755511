//! `audit`: the trail of every change.

use anyhow::Result;
use chrono::{DateTime, Utc};
use clap::Args;
use serde::Serialize;

use super::Ctx;
use crate::domain::orgs;
use crate::output::{Report, Table};
use crate::support::clock::{parse_instant, rfc3339};

/// `audit` arguments.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only changes at or after this time (RFC 3339 or a date).
    #[arg(long, value_name = "DATE", value_parser = parse_instant)]
    pub since: Option<DateTime<Utc>>,
    /// At most this many of the most recent changes.
    #[arg(long, value_name = "N", value_parser = parse_limit)]
    pub limit: Option<u32>,
}

/// `--limit`: a whole number, read as every number is (SPEC §2: `1,000` refused).
fn parse_limit(s: &str) -> Result<u32, String> {
    let n = crate::support::fields::whole_number("", s)?;
    u32::try_from(n).map_err(|_| format!("at most {} changes can be asked for", u32::MAX))
}

/// Runs `audit`.
pub fn run(a: AuditArgs, ctx: &mut Ctx) -> Result<Report> {
    let rows = ctx.read_org(|db, org| orgs::audit_trail(db, org, a.since, a.limit))?;
    let mut t = Table::new(&["At", "Actor", "Action", "Subject", "Detail"]);
    let mut j = Vec::with_capacity(rows.len());
    for r in &rows {
        let at = rfc3339(r.at);
        t.row([
            at.clone(),
            r.actor.clone(),
            r.action.clone(),
            r.subject.clone(),
            r.detail.clone(),
        ]);
        j.push(AuditView {
            at,
            actor: &r.actor,
            action: &r.action,
            subject: &r.subject,
            detail: &r.detail,
        });
    }
    Ok(Report::new(j).table(t))
}

/// One change in `audit --format json` (SPEC §8).
#[derive(Serialize)]
struct AuditView<'a> {
    at: String,
    actor: &'a str,
    action: &'a str,
    subject: &'a str,
    detail: &'a str,
}
