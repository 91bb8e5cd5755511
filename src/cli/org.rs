//! `org list`, `org show`.

use anyhow::Result;
use clap::Subcommand;
use serde::Serialize;

use super::Ctx;
use crate::domain::orgs;
use crate::output::{Report, Table};
use crate::store::Org;
use crate::support::clock::rfc3339;

/// Organization commands.
#[derive(Debug, Subcommand)]
pub enum OrgCmd {
    /// Every organization in the database.
    List,
    /// One organization's summary (the --org one, or the only one).
    Show,
}

/// One row of `org list --format json` (SPEC §8).
#[derive(Serialize)]
struct OrgRowView<'a> {
    partner_id: &'a str,
    slug: &'a str,
    name: &'a str,
    market: &'a str,
    domain: &'a str,
    users: i64,
}

/// `org show --format json` (SPEC §8).
#[derive(Serialize)]
struct OrgView<'a> {
    partner_id: &'a str,
    name: &'a str,
    slug: &'a str,
    domain: &'a str,
    market: &'a str,
    created: String,
    users: i64,
    removed_users: i64,
    linked_msas: i64,
}

/// Runs an `org` command.
pub fn run(cmd: OrgCmd, ctx: &mut Ctx) -> Result<Report> {
    match cmd {
        OrgCmd::List => {
            let rows = ctx.read(orgs::list)?;
            let mut t = Table::new(&["Partner ID", "Slug", "Name", "Market", "Domain", "Users"]);
            let mut j = Vec::new();
            for (o, counts) in &rows {
                t.row([
                    o.partner_id.clone(),
                    o.slug.clone(),
                    o.name.clone(),
                    o.market.as_str().to_owned(),
                    o.domain.clone(),
                    counts.active.to_string(),
                ]);
                j.push(OrgRowView {
                    partner_id: &o.partner_id,
                    slug: &o.slug,
                    name: &o.name,
                    market: o.market.as_str(),
                    domain: &o.domain,
                    users: counts.active,
                });
            }
            Ok(Report::new(j).table(t))
        }
        OrgCmd::Show => {
            let (org, c) = ctx.read_org(|db, org| Ok((org.clone(), orgs::counts(db, org)?)))?;
            Ok(Report::new(OrgView {
                partner_id: &org.partner_id,
                name: &org.name,
                slug: &org.slug,
                domain: &org.domain,
                market: org.market.as_str(),
                created: rfc3339(org.created_at),
                users: c.active,
                removed_users: c.removed,
                linked_msas: c.linked_msas,
            })
            .fields(
                [
                    identity(&org),
                    vec![
                        ("Created", rfc3339(org.created_at)),
                        ("Active users", c.active.to_string()),
                        ("Removed users", c.removed.to_string()),
                        ("Linked MSAs", c.linked_msas.to_string()),
                    ],
                ]
                .concat(),
            ))
        }
    }
}

/// The fields that say which organization this is (`org show`, `init`).
pub(super) fn identity(org: &Org) -> Vec<(&'static str, String)> {
    vec![
        ("Organization", org.name.clone()),
        ("Slug", org.slug.clone()),
        ("Partner ID", org.partner_id.clone()),
        ("Domain", org.domain.clone()),
        ("Market", org.market.as_str().to_owned()),
    ]
}
