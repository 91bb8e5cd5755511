//! `competencies …`: where the organization stands, why, and what is missing.

use anyhow::Result;
use clap::Subcommand;
use serde::Serialize;

use super::Ctx;
use crate::domain::judge::{self, Judged};
use crate::output::{Report, Table, bar, csv_bool, number};
use crate::rules::Level;
use crate::rules::engine::{CompetencyEval, RequirementDetail, RequirementEval, pending};
use crate::rules::explain;
use crate::rules::rulebook::Competency;

/// Competency commands.
#[derive(Debug, Subcommand)]
pub enum CompetenciesCmd {
    /// Every competency with the level met now (none, silver, gold).
    List,
    /// One competency's options and requirements as the rulebook writes them.
    Show {
        /// The competency id (e.g. cloud-platform).
        id: String,
    },
    /// For each competency and level: met or not, the closest option, have / need, who counts.
    Progress {
        /// Only this competency.
        id: Option<String>,
        /// Only this level.
        #[arg(long, value_enum)]
        level: Option<LevelArg>,
    },
    /// For each level not met, the smallest additions that would meet it.
    Gaps,
    /// For each level met now, the people whose departure alone would break it.
    Risk,
}

/// A level on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LevelArg {
    /// Silver.
    Silver,
    /// Gold.
    Gold,
}

impl From<LevelArg> for Level {
    fn from(l: LevelArg) -> Level {
        match l {
            LevelArg::Silver => Level::Silver,
            LevelArg::Gold => Level::Gold,
        }
    }
}

fn level_name(l: Option<Level>) -> &'static str {
    l.map_or("none", Level::as_str)
}

fn fmt_value(r: &RequirementEval) -> (String, String) {
    match &r.detail {
        RequirementDetail::Metric { metric, .. } => (
            explain::amount(*metric, r.have),
            explain::amount(*metric, r.need),
        ),
        RequirementDetail::People { .. } => (number(r.have), number(r.need)),
    }
}

fn who(r: &RequirementEval, limit: usize) -> String {
    match &r.detail {
        RequirementDetail::People { counted, eligible } => {
            let mut names: Vec<&str> = counted.iter().map(|c| c.username.as_str()).collect();
            let extra = names.len().saturating_sub(limit);
            names.truncate(limit);
            let mut s = names.join(", ");
            if extra > 0 {
                s.push_str(&format!(" and {extra} more"));
            }
            if *eligible > counted.len() {
                s.push_str(&format!(" ({eligible} qualify)"));
            }
            s
        }
        RequirementDetail::Metric {
            window_start,
            metric,
            ..
        } => {
            let how = if metric.is_summed() { "sum" } else { "latest" };
            format!("{how} since {window_start}")
        }
    }
}

/// Runs a `competencies` command.
pub fn run(cmd: CompetenciesCmd, ctx: &mut Ctx) -> Result<Report> {
    let at = ctx.clock.now();
    let _armed = crate::domain::progress::arm();
    let progress = super::progress::reporter(ctx.quiet, ctx.style.format);
    let judged = ctx.read_org(|db, org| judge::judge_reported(db, org, at, &*progress))?;
    progress.finish();
    let report = report(cmd, &judged, at);
    judge::discard(judged);
    report
}

fn report(
    cmd: CompetenciesCmd,
    judged: &Judged,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Report> {
    match cmd {
        CompetenciesCmd::List => {
            let mut t = Table::new(&["Id", "Name", "Area", "Level"]);
            for c in &judged.eval.competencies {
                t.row([
                    c.id.clone(),
                    c.name.clone(),
                    c.area.clone(),
                    level_name(c.achieved).to_owned(),
                ]);
            }
            let j: Vec<_> = judged
                .eval
                .competencies
                .iter()
                .map(ListedView::new)
                .collect();
            Ok(Report::new(j).table(t))
        }
        CompetenciesCmd::Show { id } => {
            let comp = judged.competency(&id)?;
            let window = judged.rulebook.program.metric_window_days;
            let mut t = Table::new(&["Level", "Option", "Requirement"]);
            for level in Level::ALL {
                for o in comp.options(level) {
                    for p in &o.people {
                        t.row([
                            level.as_str().to_owned(),
                            o.option.clone(),
                            explain::describe_people(p),
                        ]);
                    }
                    for m in &o.metrics {
                        let mut d = explain::describe_metric(m, m.window_days.unwrap_or(window));
                        d.push_str(&format!(
                            " at least {}",
                            explain::amount(m.metric, m.at_least)
                        ));
                        if let Some(dev) = m.developing {
                            d.push_str(&format!(
                                " ({} in developing markets)",
                                explain::amount(m.metric, dev)
                            ));
                        }
                        t.row([level.as_str().to_owned(), o.option.clone(), d]);
                    }
                }
            }
            Ok(Report::new(ShowView {
                id: &id,
                competency: comp,
            })
            .fields(vec![
                ("Competency", format!("{} ({id})", comp.name)),
                ("Area", comp.area.clone()),
            ])
            .table(t))
        }
        CompetenciesCmd::Progress { id, level } => {
            if let Some(id) = &id {
                judged.require_evaluated(id)?;
            }
            let pending = judged.pending();
            let mut t = Table::new(&[
                "Competency",
                "Level",
                "Met",
                "Option",
                "Requirement",
                "Have",
                "Need",
                "Progress",
                "Who counts",
            ]);
            let mut csv = Table::new(&[
                "competency",
                "name",
                "level",
                "met",
                "option",
                "requirement",
                "have",
                "need",
                "requirement_met",
                "counted",
                "pending",
                "pending_until",
            ]);
            let mut j = Vec::new();
            for c in judged
                .eval
                .competencies
                .iter()
                .filter(|c| id.as_deref().is_none_or(|i| i == c.id))
            {
                for l in c
                    .levels
                    .iter()
                    .filter(|l| level.is_none_or(|x| Level::from(x) == l.level))
                {
                    let Some(opt) = l.options.get(l.best) else {
                        continue;
                    };
                    let mut reqs = Vec::new();
                    let met_from = pending.met_from(&c.id, l.level);
                    for (i, r) in opt.requirements.iter().enumerate() {
                        let (mut have, need) = fmt_value(r);
                        // People who count once their progress delay is over (SPEC §5).
                        let waiting = pending.requirement(&c.id, l.level, i);
                        if let Some(p) = waiting {
                            have.push_str(&format!(
                                " (+{} pending until {})",
                                p.people,
                                pending::instant(p.from)
                            ));
                        }
                        t.row([
                            if i == 0 {
                                c.name.clone()
                            } else {
                                String::new()
                            },
                            if i == 0 {
                                l.level.as_str().to_owned()
                            } else {
                                String::new()
                            },
                            if i == 0 {
                                match (l.met, met_from) {
                                    (true, _) => "yes".to_owned(),
                                    (false, Some(t)) => {
                                        format!("from {}", pending::instant(t))
                                    }
                                    (false, None) => "no".to_owned(),
                                }
                            } else {
                                String::new()
                            },
                            if i == 0 {
                                opt.name.clone()
                            } else {
                                String::new()
                            },
                            r.description.clone(),
                            have,
                            need,
                            format!("{} {}", bar(r.have, r.need), if r.met { "met" } else { "" })
                                .trim_end()
                                .to_owned(),
                            who(r, 5),
                        ]);
                        let counted: Vec<&str> = match &r.detail {
                            RequirementDetail::People { counted, .. } => {
                                counted.iter().map(|c| c.username.as_str()).collect()
                            }
                            RequirementDetail::Metric { .. } => Vec::new(),
                        };
                        csv.row([
                            c.id.clone(),
                            c.name.clone(),
                            l.level.as_str().to_owned(),
                            csv_bool(l.met),
                            opt.name.clone(),
                            r.description.clone(),
                            r.have.to_string(),
                            r.need.to_string(),
                            csv_bool(r.met),
                            counted.join(" "),
                            waiting.map_or(0, |p| p.people).to_string(),
                            waiting
                                .map(|p| pending::instant(p.from))
                                .unwrap_or_default(),
                        ]);
                        reqs.push(RequirementView {
                            description: &r.description,
                            have: r.have,
                            need: r.need,
                            met: r.met,
                            counted,
                            pending: waiting.map_or(0, |p| p.people),
                            pending_until: waiting.map(|p| p.from),
                        });
                    }
                    j.push(ProgressView {
                        competency: &c.id,
                        name: &c.name,
                        level: l.level.as_str(),
                        met: l.met,
                        via_gold: l.via_gold,
                        met_from,
                        option: &opt.name,
                        requirements: reqs,
                    });
                }
            }
            Ok(Report::new(j).table(t).csv(csv))
        }
        CompetenciesCmd::Gaps => {
            let gaps = judged.gaps();
            let mut t = Table::new(&["Competency", "Level", "Closest option", "Missing"]);
            for g in &gaps {
                let mut missing = g.missing.join("; ");
                if let Some(from) = g.met_from {
                    missing = format!(
                        "nothing: met from {} once pending achievements count ({missing})",
                        pending::instant(from)
                    );
                }
                t.row([
                    g.name.clone(),
                    g.level.as_str().to_owned(),
                    g.option.clone(),
                    missing,
                ]);
            }
            // One row per missing item.
            let mut csv = Table::new(&["competency", "name", "level", "option", "missing"]);
            for g in &gaps {
                for m in &g.missing {
                    csv.row([
                        g.competency.clone(),
                        g.name.clone(),
                        g.level.as_str().to_owned(),
                        g.option.clone(),
                        m.clone(),
                    ]);
                }
            }
            Ok(Report::new(&gaps).table(t).csv(csv))
        }
        CompetenciesCmd::Risk => {
            let risks = judged.risk(at);
            let mut t = Table::new(&["Competency", "Level", "Would break if one of these left"]);
            let mut csv = Table::new(&["competency", "name", "level", "critical"]);
            let mut j = Vec::new();
            for r in &risks {
                let names: Vec<&str> = r.critical.iter().map(|(_, u)| u.as_str()).collect();
                csv.row([
                    r.competency.clone(),
                    r.name.clone(),
                    r.level.as_str().to_owned(),
                    names.join(" "),
                ]);
                t.row([
                    r.name.clone(),
                    r.level.as_str().to_owned(),
                    if names.is_empty() {
                        "(no single departure would break it)".to_owned()
                    } else {
                        names.join(", ")
                    },
                ]);
                j.push(RiskView {
                    competency: &r.competency,
                    name: &r.name,
                    level: r.level.as_str(),
                    critical: names,
                });
            }
            Ok(Report::new(j).table(t).csv(csv))
        }
    }
}

// ---------------------------------------------------------------------------------------
// JSON views (SPEC §8)
// ---------------------------------------------------------------------------------------

/// A competency in `competencies list`: the level met now.
#[derive(Serialize)]
struct ListedView<'a> {
    id: &'a str,
    name: &'a str,
    area: &'a str,
    level: &'static str,
}

impl<'a> ListedView<'a> {
    fn new(c: &'a CompetencyEval) -> Self {
        ListedView {
            id: &c.id,
            name: &c.name,
            area: &c.area,
            level: level_name(c.achieved),
        }
    }
}

/// `competencies show`: the rulebook's own terms.
#[derive(Serialize)]
struct ShowView<'a> {
    id: &'a str,
    competency: &'a Competency,
}

/// A competency and level in `competencies progress`, with its closest option.
#[derive(Serialize)]
struct ProgressView<'a> {
    competency: &'a str,
    name: &'a str,
    level: &'static str,
    met: bool,
    via_gold: bool,
    /// Not met now, but met from this instant once pending achievements count.
    met_from: Option<chrono::DateTime<chrono::Utc>>,
    option: &'a str,
    requirements: Vec<RequirementView<'a>>,
}

/// One requirement of the closest option: have / need and who counts.
#[derive(Serialize)]
struct RequirementView<'a> {
    description: &'a str,
    have: f64,
    need: f64,
    met: bool,
    counted: Vec<&'a str>,
    /// People who count once their achievements' progress delay is over.
    pending: u64,
    /// The instant they all count.
    pending_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// A met level in `competencies risk`: the people whose departure alone would break it.
#[derive(Serialize)]
struct RiskView<'a> {
    competency: &'a str,
    name: &'a str,
    level: &'static str,
    critical: Vec<&'a str>,
}
