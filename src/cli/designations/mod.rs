//! `designations …`: Solutions Partner scores (SPEC §9) — list, score, gaps, what-if, enrol,
//! renew, alerts. This file parses and runs the commands; `tables` renders their tables and
//! CSV, `views` their JSON.

use anyhow::Result;
use clap::Subcommand;
use serde::Serialize;

use super::Ctx;
use crate::domain::designations::{
    self as svc, Alert, Check, Checked, Enrolled, Listed, WhatIf, alert_line,
};
use crate::output::{Report, Table, csv_bool, number};
use crate::rules::designations::{DesignationScore, ItemKind, ItemScore, TrackScore};
use crate::support::clock::rfc3339;
use crate::support::terminal::message;

mod tables;
mod views;

use tables::*;
pub(super) use tables::{alerts_table, check_table, check_views, print_alerts};
use views::*;
pub(super) use views::{AlertView, CheckedView};

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
        /// Suppose this metric (and scope, track, association) had this value now; repeatable.
        #[arg(
            long,
            value_name = "METRIC[:SCOPE[:TRACK[:ASSOCIATION]]]=VALUE",
            allow_hyphen_values = true
        )]
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
    /// Record the track Partner Center classifies the organization into for designations
    /// whose track Microsoft decides (Azure, Business Applications); without arguments, list
    /// what is recorded.
    #[command(
        after_help = "Examples:\n  competency designations track business-applications enterprise\n  competency designations track infrastructure data-ai digital-app-innovation smb --since 2026-04-01\n  competency designations track"
    )]
    Track {
        /// The designation ids, then the track (`enterprise` or `smb`).
        #[arg(value_name = "ID... TRACK")]
        args: Vec<String>,
        /// From when the classification holds (a date or an instant; default: now).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
    },
    /// Designation renewal alerts (open ones unless --all).
    Alerts {
        /// Include closed alerts.
        #[arg(long)]
        all: bool,
    },
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
            let mut t = Table::new(&[
                "Designation",
                "Track",
                "Score",
                "Needed",
                "Qualifies now",
                "State",
            ]);
            for l in &list {
                let s = &l.score;
                t.row([
                    format!("{} ({})", s.name, s.id),
                    track_label(s),
                    number(s.score()),
                    number(s.threshold),
                    if s.qualified() { "yes" } else { "no" }.to_owned(),
                    match (&l.enrolment, l.state.is_held()) {
                        (Some(e), true) => format!("{} until {}", l.state.as_str(), e.anniversary),
                        _ => l.state.as_str().to_owned(),
                    },
                ]);
            }
            let mut r = Report::new(list.iter().map(ListedView::new).collect::<Vec<_>>())
                .table(t)
                .csv(list_csv(&list));
            if let Some(text) = unset_lines(&list.iter().map(|l| &l.score).collect::<Vec<_>>()) {
                r = r.text(text);
            }
            Ok(r)
        }
        DesignationsCmd::Score { id } => {
            let names = id.is_some();
            let _armed = crate::domain::progress::arm();
            let progress = super::progress::reporter(ctx.quiet, ctx.style.format);
            let scores =
                ctx.read_org(|db, org| svc::scores(db, org, at, id.as_deref(), &*progress))?;
            progress.finish();
            let mut r = Report::new(scores.iter().flat_map(tracks).collect::<Vec<_>>())
                .csv(score_csv(&scores));
            for s in &scores {
                r = r.table(score_table(s, names));
            }
            if let Some(text) = unset_lines(&scores.iter().collect::<Vec<_>>()) {
                r = r.text(text);
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
            let mut unset: Vec<&str> = gaps
                .iter()
                .filter(|g| g.track.ends_with("(track not set)"))
                .map(|g| g.id.as_str())
                .collect();
            unset.dedup();
            if !unset.is_empty() {
                let lines: Vec<String> = unset
                    .iter()
                    .map(|id| format!("{id}: {}", svc::unset_hint(id)))
                    .collect();
                r = r.text(lines.join("\n"));
            }
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
            Ok(
                Report::new(w.iter().map(WhatIfView::new).collect::<Vec<_>>())
                    .table(t)
                    .csv(what_if_csv(&w)),
            )
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
        DesignationsCmd::Track { args, since } => track(ctx, args, since),
        DesignationsCmd::Alerts { all } => {
            let alerts = ctx.read_org(|db, org| svc::alerts(db, org, all))?;
            let j: Vec<_> = alerts.iter().map(AlertView::new).collect();
            Ok(Report::new(j)
                .table(alerts_table(
                    &alerts,
                    if all { "Alerts" } else { "Open alerts" },
                ))
                .csv(alerts_csv(&alerts)))
        }
    }
}

/// `designations track`: with arguments, records a classification; without, lists them.
fn track(ctx: &mut Ctx, mut args: Vec<String>, since: Option<String>) -> Result<Report> {
    let at = ctx.clock.now();
    if args.is_empty() {
        if since.is_some() {
            return Err(crate::error::bad_input(
                "--since needs designations and a track: `competency designations track ID... \
                 enterprise|smb --since DATE`",
            ));
        }
        let list = ctx.read_org(|db, org| svc::tracks(db, org, at))?;
        let mut t = Table::new(&["Designation", "Chosen by", "Track now", "Since", "History"]);
        let mut j = Vec::new();
        for s in &list {
            let history: Vec<String> = s
                .history
                .iter()
                .map(|c| format!("{} from {}", c.track, c.since.date_naive()))
                .collect();
            t.row([
                s.id.clone(),
                match s.choice {
                    crate::rules::designations::TrackChoice::Best => "best total".to_owned(),
                    crate::rules::designations::TrackChoice::Classified => {
                        "Microsoft (classified)".to_owned()
                    }
                },
                match (&s.current, s.choice) {
                    (Some(c), _) => c.track.clone(),
                    (None, crate::rules::designations::TrackChoice::Best) => "both scored".into(),
                    (None, _) => "not set".to_owned(),
                },
                s.current
                    .as_ref()
                    .map(|c| c.since.date_naive().to_string())
                    .unwrap_or_default(),
                history.join("\n"),
            ]);
            j.push(TrackSettingView::new(s));
        }
        return Ok(Report::new(j).table(t));
    }
    if args.len() < 2 {
        return Err(crate::error::bad_input(
            "name the designations, then the track: `competency designations track ID... \
             enterprise|smb`",
        ));
    }
    let track = args.pop().unwrap_or_default();
    let since = match since {
        Some(s) => crate::support::clock::parse_instant(&s)
            .map_err(|e| crate::error::bad_input(format!("--since: {e}")))?,
        None => at,
    };
    let actor = ctx.actor();
    // Its designation alerts are printed by `write_org` once committed.
    ctx.write_org(|db, org| svc::set_track(db, org, &actor, &args, &track, since))?;
    let j: Vec<TrackSetView<'_>> = args
        .iter()
        .map(|id| TrackSetView {
            id,
            track: &track,
            since: rfc3339(since),
        })
        .collect();
    Ok(Report::new(j).text(format!(
        "{}: track {} from {}",
        args.join(", "),
        track.to_lowercase(),
        since.date_naive()
    )))
}
