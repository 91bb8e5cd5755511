//! `designations …`: Solutions Partner scores (SPEC §9) — list, score, gaps, what-if, enrol,
//! renew, alerts.

use anyhow::Result;
use clap::Subcommand;
use serde::Serialize;

use super::Ctx;
use crate::domain::designations::{
    self as svc, Alert, Check, Checked, Enrolled, Listed, WhatIf, alert_line,
};
use crate::output::{Report, Table, number};
use crate::rules::designations::{DesignationScore, ItemKind, ItemScore, TrackScore};
use crate::support::clock::rfc3339;
use crate::support::terminal::message;

mod views;

pub(super) use views::CheckedView;
use views::*;

/// Designation commands.
#[derive(Debug, Subcommand)]
pub enum DesignationsCmd {
    /// Every designation: score, threshold, state (not-started, in-progress, qualified,
    /// enrolled, renewal-due, lapsed).
    List,
    /// The score per track and item: value, points, max and who counts (the people by
    /// name with an ID; without one, how many).
    Score {
        /// One designation (all without it; the table then counts the people instead of naming them).
        id: Option<String>,
    },
    /// For each designation not qualifying: the cheapest additions that reach the threshold
    /// with every required item above 0, each with its point gain.
    Gaps,
    /// The scores with supposed changes; changes nothing.
    WhatIf {
        /// Suppose this user (user name or e-mail) left now; repeatable.
        #[arg(long, value_name = "USER")]
        remove_user: Vec<String>,
        /// Suppose this MSA held this certification now; repeatable.
        #[arg(long, value_name = "MSA:CODE")]
        add_achievement: Vec<String>,
        /// Suppose this metric (and scope) had this value now; repeatable.
        #[arg(long, value_name = "METRIC[:SCOPE]=VALUE", allow_hyphen_values = true)]
        set: Vec<String>,
    },
    /// Enrol designations that qualified in the window: the first pays the yearly fee,
    /// later ones share its anniversary at no fee.
    Enrol {
        /// The designation ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Renew every enrolled designation that qualified in the anniversary's window.
    Renew,
    /// Designation renewal alerts (open ones unless --all).
    Alerts {
        /// Include closed alerts.
        #[arg(long)]
        all: bool,
    },
}

fn score_table(s: &DesignationScore, names: bool) -> Table {
    let mut t =
        Table::new(&["Track", "Item", "Value", "Points", "Who counts / why"]).titled(format!(
            "{} — {} of {} needed: {}",
            s.name,
            number(s.score()),
            number(s.threshold),
            if s.qualified() {
                "qualifies"
            } else {
                "does not qualify"
            }
        ));
    for (i, track) in s.tracks.iter().enumerate() {
        let label = if s.tracks.len() > 1 && i == s.best {
            format!("{} (counts)", track.track)
        } else {
            track.track.clone()
        };
        for it in &track.items {
            let mut why = if names || it.kind == ItemKind::Metric {
                it.people.join(", ")
            } else if it.value > 0.0 {
                format!(
                    "{} {}",
                    number(it.value),
                    if it.value == 1.0 { "person" } else { "people" }
                )
            } else {
                String::new()
            };
            if !it.unmet_prerequisites.is_empty() {
                why = format!("prerequisite short: {}", it.unmet_prerequisites.join("; "));
            } else if it.required && it.points <= 0.0 {
                why = format!(
                    "{why}{}0 points blocks qualification",
                    if why.is_empty() { "" } else { "; " }
                );
            }
            t.row([
                label.clone(),
                it.name.clone(),
                number(it.value),
                format!("{} / {}", number(it.points), number(it.max_points)),
                why,
            ]);
        }
        t.row([
            label,
            "total".to_owned(),
            String::new(),
            format!("{} / {}", number(track.total), number(s.threshold)),
            if track.qualified {
                "qualifies".to_owned()
            } else {
                String::new()
            },
        ]);
    }
    t
}

fn alerts_table(alerts: &[Alert], title: &str) -> Table {
    let mut t = Table::new(&["Raised", "Designation", "Items", "Cause", "Open"]).titled(title);
    for a in alerts {
        t.row([
            rfc3339(a.raised_at),
            a.name.clone(),
            a.items.clone(),
            a.cause.clone().unwrap_or_else(|| "(unknown)".into()),
            match (&a.closed_at, &a.close_reason) {
                (None, _) => "yes".to_owned(),
                (Some(c), r) => format!(
                    "closed {}{}",
                    rfc3339(*c),
                    r.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
                ),
            },
        ]);
    }
    t
}

/// Prints designation alerts just raised on stderr (shown even with --quiet).
pub(super) fn print_alerts(alerts: &[Alert]) {
    for a in alerts {
        message(&format!("alert: {}", alert_line(a)));
    }
}

fn enrolled_report(e: &Enrolled, what: &str) -> Report {
    let mut t = Table::new(&["Designation", "Term", "Fee", "Score"]).titled(what);
    for r in &e.rows {
        t.row([
            r.name.clone(),
            format!("{} to {}", r.term_start, r.anniversary),
            format!("{} USD", number(r.fee_usd)),
            number(r.score),
        ]);
    }
    let mut report = Report::new(EnrolledView::new(e)).table(t);
    for n in &e.not_renewed {
        report = report.text(format!("not renewed: {n}"));
    }
    report
}

/// The designations' part of `membership check --format json`.
pub(super) fn check_views(c: &Check) -> Vec<CheckedView<'_>> {
    c.held.iter().map(CheckedView::new).collect()
}

/// The designations' part of `membership check`, as a table.
pub(super) fn check_table(c: &Check) -> Table {
    let mut t = Table::new(&["Designation", "Score", "Anniversary", "Status", "Why"])
        .titled("Designations");
    for h in &c.held {
        t.row([
            h.name.clone(),
            number(h.score),
            h.anniversary.to_string(),
            h.severity.as_str().to_owned(),
            h.reason.clone(),
        ]);
    }
    t
}

/// Runs a `designations` command.
pub fn run(cmd: DesignationsCmd, ctx: &mut Ctx) -> Result<Report> {
    let at = ctx.clock.now();
    match cmd {
        DesignationsCmd::List => {
            let _armed = crate::domain::progress::arm();
            let progress = super::progress::reporter(ctx.quiet, ctx.style.format);
            let list =
                ctx.read_org(|db, org| svc::list_reported(db, org, at, false, &*progress))?;
            progress.finish();
            let mut t = Table::new(&["Designation", "Score", "Needed", "Qualifies now", "State"]);
            for l in &list {
                let s = &l.score;
                t.row([
                    format!("{} ({})", s.name, s.id),
                    number(s.score()),
                    number(s.threshold),
                    if s.qualified() { "yes" } else { "no" }.to_owned(),
                    match (&l.enrolment, l.state.is_held()) {
                        (Some(e), true) => format!("{} until {}", l.state.as_str(), e.anniversary),
                        _ => l.state.as_str().to_owned(),
                    },
                ]);
            }
            Ok(Report::new(list.iter().map(ListedView::new).collect::<Vec<_>>()).table(t))
        }
        DesignationsCmd::Score { id } => {
            let names = id.is_some();
            let _armed = crate::domain::progress::arm();
            let progress = super::progress::reporter(ctx.quiet, ctx.style.format);
            let scores =
                ctx.read_org(|db, org| svc::scores(db, org, at, id.as_deref(), &*progress))?;
            progress.finish();
            let mut r = Report::new(scores.iter().flat_map(tracks).collect::<Vec<_>>());
            for s in &scores {
                r = r.table(score_table(s, names));
            }
            if !names && !scores.is_empty() {
                r = r.text("`competency designations score ID` names the people who count.");
            }
            Ok(r)
        }
        DesignationsCmd::Gaps => {
            let gaps = ctx.read_org(|db, org| svc::gaps(db, org, at))?;
            let mut t = Table::new(&["Designation", "Track", "Score", "Missing"]);
            for g in &gaps {
                t.row([
                    g.name.clone(),
                    g.track.clone(),
                    format!("{} → {}", number(g.score), number(g.after)),
                    g.missing.join("\n"),
                ]);
            }
            let mut r = Report::new(&gaps).table(t);
            if gaps.is_empty() {
                r = r.text("Every designation qualifies now.");
            }
            Ok(r)
        }
        DesignationsCmd::WhatIf {
            remove_user,
            add_achievement,
            set,
        } => {
            let w = ctx.read_org(|db, org| {
                svc::what_if(db, org, at, &remove_user, &add_achievement, &set)
            })?;
            let mut t = Table::new(&[
                "Designation",
                "Score now",
                "Score after",
                "Items that change",
            ]);
            for x in &w {
                t.row([
                    x.before.name.clone(),
                    format!(
                        "{}{}",
                        number(x.before.score()),
                        if x.before.qualified() {
                            " (qualifies)"
                        } else {
                            ""
                        }
                    ),
                    format!(
                        "{}{}",
                        number(x.after.score()),
                        if x.after.qualified() {
                            " (qualifies)"
                        } else {
                            ""
                        }
                    ),
                    x.changes.join("\n"),
                ]);
            }
            Ok(Report::new(w.iter().map(WhatIfView::new).collect::<Vec<_>>()).table(t))
        }
        DesignationsCmd::Enrol { ids } => {
            let actor = ctx.actor();
            let e = ctx.write_org(|db, org| svc::enrol(db, org, &actor, &ids))?;
            Ok(enrolled_report(&e, "Enrolled"))
        }
        DesignationsCmd::Renew => {
            let actor = ctx.actor();
            let e = ctx.write_org(|db, org| svc::renew(db, org, &actor))?;
            Ok(enrolled_report(&e, "Renewed"))
        }
        DesignationsCmd::Alerts { all } => {
            let alerts = ctx.read_org(|db, org| svc::alerts(db, org, all))?;
            let j: Vec<_> = alerts.iter().map(AlertView::new).collect();
            Ok(Report::new(j).table(alerts_table(
                &alerts,
                if all { "Alerts" } else { "Open alerts" },
            )))
        }
    }
}
