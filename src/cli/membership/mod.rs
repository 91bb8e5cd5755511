//! `membership …`: status, upgrade, renew, profile, check (for cron), alerts, benefits,
//! what-if.

use anyhow::Result;
use clap::Subcommand;
use serde::Serialize;
use serde_json::Value;

use super::Ctx;
use super::competencies::LevelArg;
use crate::domain::membership::{
    self as svc, Alert, Check, CheckStatus, Displayed, Expiring, Membership, Profile, State, WhatIf,
};
use crate::error::bad_input;
use crate::output::{Report, Table, csv_bool, number};
use crate::rules::Level;
use crate::support::clock::{parse_date, rfc3339};

mod tables;
mod views;

use tables::*;
pub(super) use tables::{alert_json, print_alerts, print_org_alerts};
use views::*;

/// Membership commands.
#[derive(Debug, Subcommand)]
pub enum MembershipCmd {
    /// Level, purchase, anniversary and state (none, active, renewal-due, lapsed).
    Status,
    /// Buy a membership level: needs a competency met at that level now.
    Upgrade {
        /// The level to buy.
        #[arg(long, value_enum)]
        level: LevelArg,
    },
    /// Renew the held level for one more term (inside the renewal window only).
    Renew,
    /// The business profile: the competencies the membership displays.
    Profile,
    /// Evaluate now, record alerts, print the state. For cron: exit 0 ok, 3 warning,
    /// 4 at risk, 5 no membership.
    #[command(
        after_help = "Examples:\n  competency membership check --quiet --format json\n  # crontab: every morning, mail when not ok (exit 3, 4 or 5)\n  0 7 * * * competency membership check --quiet || mail -s \"competency: exit $?\" admin@contoso.com"
    )]
    Check,
    /// Renewal alerts (open ones unless --all).
    Alerts {
        /// Include closed alerts.
        #[arg(long)]
        all: bool,
    },
    /// The benefits the current membership gives.
    Benefits,
    /// What would be lost if people left or achievements expired; changes nothing.
    WhatIf {
        /// Suppose this user (user name or e-mail) left now; repeat for several.
        #[arg(long, value_name = "USER")]
        remove_user: Vec<String>,
        /// Suppose every achievement that stops counting before this day had expired.
        #[arg(long, value_name = "DATE")]
        expire_before: Option<String>,
    },
}

/// Runs a `membership` command.
pub fn run(cmd: MembershipCmd, ctx: &mut Ctx) -> Result<Report> {
    let at = ctx.clock.now();
    match cmd {
        MembershipCmd::Status => {
            let m = ctx.read_org(|db, org| svc::status(db, org, at))?;
            let (j, f) = status_fields(m.as_ref());
            Ok(Report::new(j).fields(f).csv(status_csv(m.as_ref())))
        }
        MembershipCmd::Upgrade { level } => {
            let actor = ctx.actor();
            let p = ctx.write_org(|db, org| svc::upgrade(db, org, &actor, level.into()))?;
            purchased_report(ctx, &p, "upgrade")
        }
        MembershipCmd::Renew => {
            let actor = ctx.actor();
            let p = ctx.write_org(|db, org| svc::renew(db, org, &actor))?;
            purchased_report(ctx, &p, "renewal")
        }
        MembershipCmd::Profile => {
            let p = ctx.read_org(|db, org| svc::profile(db, org, at))?;
            let mut t = Table::new(&["Competency", "Id", "Level", "Attained"]);
            let mut csv = Table::new(&[
                "organization",
                "membership_level",
                "state",
                "competency",
                "name",
                "level",
                "attained",
            ]);
            for d in &p.competencies {
                t.row([
                    d.name.clone(),
                    d.id.clone(),
                    d.level.as_str().to_owned(),
                    rfc3339(d.attained),
                ]);
                csv.row([
                    p.organization.clone(),
                    level_str(p.level).to_owned(),
                    p.state.as_str().to_owned(),
                    d.id.clone(),
                    d.name.clone(),
                    d.level.as_str().to_owned(),
                    rfc3339(d.attained),
                ]);
            }
            let mut r = Report::new(ProfileView::new(&p))
                .fields(vec![
                    ("Organization", p.organization.clone()),
                    ("Level", level_str(p.level).to_owned()),
                    ("State", p.state.as_str().to_owned()),
                ])
                .table(t.titled("Competencies displayed"))
                .csv(csv);
            if p.level.is_none() {
                r = r.text(
                    "No membership is held, so the profile displays no competency: \
                     `competency membership upgrade --level silver` buys one.",
                );
            }
            Ok(r)
        }
        MembershipCmd::Check => {
            let actor = ctx.actor();
            let _armed = crate::domain::progress::arm();
            let progress = super::progress::reporter(ctx.quiet, ctx.style.format);
            let (c, d) =
                ctx.write_org(|db, org| svc::check_all_reported(db, org, &actor, &*progress))?;
            progress.finish();
            print_alerts(&c.raised);
            let mut r = check_report(&c);
            if !d.held.is_empty() || !d.alerts.is_empty() {
                let designations = super::designations::check_views(&d);
                r.json = serde_json::to_value(CheckAllView {
                    membership: CheckView::new(&c),
                    designations,
                    designation_alerts: d
                        .alerts
                        .iter()
                        .map(super::designations::AlertView::new)
                        .collect(),
                })?;
                if !d.held.is_empty() {
                    r = r.table(super::designations::check_table(&d));
                }
                if !d.alerts.is_empty() {
                    r = r
                        .text("")
                        .text(format!("{}.", crate::domain::designations::ALERT_TEXT))
                        .table(super::designations::alerts_table(
                            &d.alerts,
                            "Open designation alerts",
                        ));
                }
            }
            Ok(r)
        }
        MembershipCmd::Alerts { all } => {
            let alerts = ctx.read_org(|db, org| svc::alerts(db, org, all))?;
            let mut r = Report::new(alerts.iter().map(AlertView::new).collect::<Vec<_>>());
            if alerts.iter().any(|a| a.open) {
                r = r.text(alert_sentence(&alerts));
            }
            Ok(r.table(alerts_table(
                &alerts,
                if all { "Alerts" } else { "Open alerts" },
            ))
            .csv(alerts_csv(&alerts)))
        }
        MembershipCmd::Benefits => {
            let b = ctx.read_org(|db, org| svc::benefits(db, org, at))?;
            let mut t = Table::new(&["From", "Benefit"]);
            let mut csv = Table::new(&["level", "competency", "competency_level", "benefit"]);
            if let Some(l) = b.level {
                for x in &b.membership {
                    t.row([format!("{l} membership"), x.clone()]);
                    csv.row([l.as_str(), "", "", x.as_str()]);
                }
            }
            for (d, list) in &b.competencies {
                for x in list {
                    t.row([format!("{} ({})", d.name, d.level), x.clone()]);
                    csv.row([level_str(b.level), &d.id, d.level.as_str(), x.as_str()]);
                }
            }
            let mut r = Report::new(BenefitsView::new(&b)).csv(csv);
            if b.level.is_none() {
                r = r.text(format!(
                    "No membership is held ({}): no benefits.",
                    b.state.as_str()
                ));
            } else {
                r = r.table(t);
            }
            Ok(r)
        }
        MembershipCmd::WhatIf {
            remove_user,
            expire_before,
        } => {
            let expire = expire_before
                .as_deref()
                .map(parse_date)
                .transpose()
                .map_err(|e| bad_input(format!("--expire-before: {e}")))?;
            let _armed = crate::domain::progress::arm();
            let progress = super::progress::reporter(ctx.quiet, ctx.style.format);
            let w = ctx
                .read_org(|db, org| svc::what_if(db, org, at, &remove_user, expire, &*progress))?;
            progress.finish();
            let mut t = Table::new(&["Competency", "Level now", "Level after"]);
            for c in &w.changes {
                t.row([
                    c.name.clone(),
                    level_str(c.now).to_owned(),
                    level_str(c.after).to_owned(),
                ]);
            }
            let mut b = Table::new(&["Competency", "Displayed at", "Would fall short"]);
            for (d, why) in &w.broken {
                b.row([d.name.clone(), d.level.as_str().to_owned(), why.clone()]);
            }
            let held = w.membership.as_ref().filter(|m| m.state.is_held());
            let verdict = match held {
                None => "No membership is held: nothing to renew.".to_owned(),
                Some(m) if w.renewal_possible_after => format!(
                    "Renewal of the {} membership would still be possible (a competency would \
                     still be met at {}).",
                    m.level(),
                    m.level()
                ),
                Some(m) if w.renewal_possible_now => format!(
                    "Renewal of the {} membership would NOT be possible: no competency would be \
                     met at {}.",
                    m.level(),
                    m.level()
                ),
                Some(m) => format!(
                    "Renewal of the {} membership is not possible now either: no competency is \
                     met at {}.",
                    m.level(),
                    m.level()
                ),
            };
            let j = WhatIfView::new(&w, held);
            let mut supposed = Vec::new();
            if !w.removed.is_empty() {
                supposed.push(format!("{} left", w.removed.join(", ")));
            }
            if let Some(d) = w.expire_before {
                supposed.push(format!("everything stopping counting before {d} expired"));
            }
            Ok(Report::new(j)
                .text(format!(
                    "Supposing {} (nothing is changed):",
                    supposed.join(" and ")
                ))
                .table(t.titled("Competency levels that would change"))
                .table(b.titled("Displayed competencies that would raise an alert"))
                .text(verdict))
        }
    }
}

fn purchased_report(ctx: &Ctx, p: &svc::Purchased, what: &str) -> Result<Report> {
    let x = &p.purchase;
    ctx.info(format!(
        "{} membership {} recorded: {} USD, term {} to {}",
        x.level,
        what,
        number(x.fee_usd),
        x.term_start,
        x.anniversary
    ));
    let mut t = Table::new(&["Competency", "Id", "Level"]);
    for d in &p.competencies {
        t.row([d.name.clone(), d.id.clone(), d.level.as_str().to_owned()]);
    }
    Ok(Report::new(PurchasedView {
        kind: &x.kind,
        level: x.level.as_str(),
        previous_level: level_str(p.previous),
        purchased: rfc3339(x.purchased_at),
        term_start: x.term_start.to_string(),
        anniversary: x.anniversary.to_string(),
        renewal_opens: p.dates.renewal_opens.to_string(),
        fee_usd: x.fee_usd,
        list_fee_usd: x.list_fee_usd,
        discount: x.discount.as_deref(),
        competencies: levels(&p.competencies),
    })
    .fields(vec![
        ("Level", x.level.as_str().to_owned()),
        ("Purchase", x.kind.clone()),
        ("Term", format!("{} to {}", x.term_start, x.anniversary)),
        (
            "Renewal window",
            format!("{} to {}", p.dates.renewal_opens, p.dates.window_closes()),
        ),
        (
            "Fee",
            match &x.discount {
                Some(d) => format!(
                    "{} USD (list {} USD; {d})",
                    number(x.fee_usd),
                    number(x.list_fee_usd)
                ),
                None => format!("{} USD", number(x.fee_usd)),
            },
        ),
    ])
    .table(t.titled("Business profile")))
}

/// The report of `membership check`, exit code included.
pub(super) fn check_report(c: &Check) -> Report {
    let m = c.membership.as_ref();
    let held = m.filter(|m| m.state.is_held());
    let j = CheckView::new(c);
    let mut f = vec![
        ("Status", c.status.as_str().to_owned()),
        ("Level", level_str(held.map(Membership::level)).to_owned()),
        ("State", m.map_or("none", |m| m.state.as_str()).to_owned()),
    ];
    if let Some(m) = held {
        f.push(("Anniversary", m.dates.anniversary.to_string()));
        f.push((
            "Renewal window",
            format!(
                "{} to {}{}",
                m.dates.renewal_opens,
                m.dates.window_closes(),
                if c.window_open { " (open now)" } else { "" }
            ),
        ));
        f.push((
            "Renewal eligible",
            if c.renewal_eligible { "yes" } else { "no" }.to_owned(),
        ));
    }
    let mut csv = Table::new(&[
        "status",
        "level",
        "state",
        "anniversary",
        "renewal_opens",
        "renewal_window_open",
        "renewal_eligible",
        "open_alerts",
        "expiring",
        "renewals_open",
    ]);
    csv.row([
        c.status.as_str().to_owned(),
        level_str(held.map(Membership::level)).to_owned(),
        m.map_or("none", |m| m.state.as_str()).to_owned(),
        m.map(|m| m.dates.anniversary.to_string())
            .unwrap_or_default(),
        m.map(|m| m.dates.renewal_opens.to_string())
            .unwrap_or_default(),
        csv_bool(c.window_open),
        csv_bool(c.renewal_eligible),
        c.alerts.len().to_string(),
        c.expiring.len().to_string(),
        c.renewals.len().to_string(),
    ]);
    let mut r = Report::new(j).fields(f).csv(csv);
    if !c.alerts.is_empty() {
        r = r
            .text("")
            .text(alert_sentence(&c.alerts))
            .table(alerts_table(&c.alerts, "Open alerts"));
    }
    if !c.expiring.is_empty() {
        let mut t = Table::new(&["Competency", "Level", "Person", "Code", "Stops counting"])
            .titled("Expiring before the anniversary");
        for e in &c.expiring {
            t.row([
                e.name.clone(),
                e.level.as_str().to_owned(),
                e.username.clone(),
                e.code.clone(),
                e.expires.to_string(),
            ]);
        }
        r = r.table(t);
    }
    if !c.renewals.is_empty() {
        let mut t = Table::new(&["Person", "Certification", "Expires", "Carries"])
            .titled("Certifications to renew now (the free renewal is open)");
        for x in &c.renewals {
            t.row([
                x.username.clone(),
                format!("{} {}", x.code, x.title),
                x.expires.to_string(),
                x.carries.join("; "),
            ]);
        }
        r = r.table(t);
    }
    let advice = match c.status {
        CheckStatus::Ok => "Nothing to do.".to_owned(),
        CheckStatus::Warning if c.window_open => format!(
            "The renewal window is open: `competency membership renew`{}.",
            if c.renewal_eligible {
                ""
            } else {
                " once a competency is met again"
            }
        ),
        CheckStatus::Warning if c.expiring.is_empty() && !c.renewals.is_empty() => {
            "Renew the certifications listed before they expire: `competency achievements \
             renewals` shows them all."
                .to_owned()
        }
        // Neither an expiry nor a renewal nor the membership's window: a designation warns.
        CheckStatus::Warning if c.expiring.is_empty() && c.renewals.is_empty() => {
            "A designation does not qualify now (the Designations table says why): `competency \
             designations gaps` shows what is missing."
                .to_owned()
        }
        CheckStatus::Warning => {
            "Renew or replace the expiring achievements before the anniversary.".to_owned()
        }
        // No competency alert open: the at-risk verdict is a designation's.
        CheckStatus::AtRisk if c.alerts.is_empty() => {
            "A designation has not qualified in its anniversary's window: `competency \
             designations gaps` shows what is missing; `competency designations alerts` lists \
             the alerts."
                .to_owned()
        }
        CheckStatus::AtRisk => "A displayed competency is no longer met: `competency competencies \
             gaps` shows what is missing; `competency membership alerts` lists the alerts."
            .to_owned(),
        CheckStatus::None => match m {
            Some(m) => format!(
                "The {} membership lapsed on {}: `competency membership upgrade --level {}` \
                 starts afresh.",
                m.level(),
                m.dates.lapses,
                m.level()
            ),
            None => {
                "No membership: `competency membership upgrade --level silver` buys one.".to_owned()
            }
        },
    };
    r.text(advice).exit(c.status.exit_code())
}
