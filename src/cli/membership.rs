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

fn level_str(l: Option<Level>) -> &'static str {
    l.map_or("none", Level::as_str)
}

/// Prints alerts just raised on stderr (not merely informational: shown even with --quiet),
/// each naming its organization: a command on one organization can raise alerts in another
/// of the same database.
pub(super) fn print_alerts(alerts: &[Alert]) {
    for a in alerts {
        if a.org.is_empty() {
            eprintln!("alert: {}", a.line());
        } else {
            eprintln!("alert: {}: {}", a.org, a.line());
        }
    }
}

/// The alert's own sentence (what the program tells the partner), printed above the table
/// of open alerts so the cron mail says it in words.
fn alert_sentence(alerts: &[Alert]) -> String {
    alerts
        .iter()
        .find(|a| a.open)
        .or(alerts.first())
        .map_or_else(|| svc::ALERT_TEXT.to_owned(), |a| format!("{}.", a.message))
}

/// Prints alerts just raised, by organization: another organization's (one the command
/// was not run for, changed by a severed link) under its name.
pub(super) fn print_org_alerts(raised: &[crate::domain::membership::OrgAlerts]) {
    for r in raised {
        for a in &r.alerts {
            let org = if a.org.is_empty() {
                &r.org_name
            } else {
                &a.org
            };
            eprintln!("alert: {org}: {}", a.line());
        }
        // Another organization's designations put at risk by the same severing.
        for a in &r.designations {
            eprintln!(
                "alert: {}: {}",
                r.org_name,
                crate::domain::designations::alert_line(a)
            );
        }
    }
}

/// The JSON of an alert (for the demo's summary).
pub(super) fn alert_json(a: &Alert) -> Value {
    serde_json::to_value(AlertView::new(a)).unwrap_or(Value::Null)
}

fn alerts_table(alerts: &[Alert], title: &str) -> Table {
    let mut t = Table::new(&[
        "Raised",
        "Competency",
        "Level",
        "Requirement short",
        "Cause",
        "Open",
    ])
    .titled(title);
    for a in alerts {
        t.row([
            rfc3339(a.raised),
            a.name.clone(),
            a.level.as_str().to_owned(),
            a.requirement.clone(),
            a.cause.clone().unwrap_or_else(|| "(unknown)".into()),
            if a.open {
                "yes".to_owned()
            } else {
                format!(
                    "closed {}{}",
                    a.closed.map(rfc3339).unwrap_or_default(),
                    a.close_reason
                        .as_deref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                )
            },
        ]);
    }
    t
}

/// Alerts as CSV data: one row per alert, ISO instants, true/false.
fn alerts_csv(alerts: &[Alert]) -> Table {
    let mut t = Table::new(&[
        "raised",
        "competency",
        "name",
        "level",
        "message",
        "requirement",
        "cause",
        "open",
        "closed",
        "close_reason",
    ]);
    for a in alerts {
        t.row([
            rfc3339(a.raised),
            a.competency.clone(),
            a.name.clone(),
            a.level.as_str().to_owned(),
            a.message.clone(),
            a.requirement.clone(),
            a.cause.clone().unwrap_or_default(),
            csv_bool(a.open),
            a.closed.map(rfc3339).unwrap_or_default(),
            a.close_reason.clone().unwrap_or_default(),
        ]);
    }
    t
}

/// `membership status` as CSV: one row, the same columns whatever the state.
fn status_csv(m: Option<&Membership>) -> Table {
    let mut t = Table::new(&[
        "level",
        "state",
        "last_level",
        "purchased",
        "kind",
        "term_start",
        "anniversary",
        "renewal_opens",
        "renewal_closes",
        "lapses",
        "fee_usd",
        "list_fee_usd",
        "discount",
    ]);
    match m {
        None => t.row(["none", "none", "", "", "", "", "", "", "", "", "", "", ""]),
        Some(m) => {
            let (p, d) = (&m.current, &m.dates);
            t.row([
                if m.state == State::Lapsed {
                    "none".to_owned()
                } else {
                    p.level.as_str().to_owned()
                },
                m.state.as_str().to_owned(),
                p.level.as_str().to_owned(),
                rfc3339(p.purchased_at),
                p.kind.clone(),
                p.term_start.to_string(),
                d.anniversary.to_string(),
                d.renewal_opens.to_string(),
                d.window_closes().to_string(),
                d.lapses.to_string(),
                p.fee_usd.to_string(),
                p.list_fee_usd.to_string(),
                p.discount.clone().unwrap_or_default(),
            ]);
        }
    }
    t
}

fn status_fields(m: Option<&Membership>) -> (StatusView<'_>, Vec<(String, String)>) {
    let Some(m) = m else {
        return (
            StatusView::None(NoStatusView {
                level: "none",
                state: "none",
                purchased: None,
                anniversary: None,
            }),
            vec![
                ("Level".into(), "none".into()),
                ("State".into(), "none".into()),
            ],
        );
    };
    let p = &m.current;
    let d = &m.dates;
    let j = StatusView::Held(HeldStatusView {
        level: if m.state == State::Lapsed {
            "none"
        } else {
            p.level.as_str()
        },
        last_level: p.level.as_str(),
        state: m.state.as_str(),
        purchased: rfc3339(p.purchased_at),
        kind: &p.kind,
        term_start: p.term_start.to_string(),
        anniversary: d.anniversary.to_string(),
        renewal_opens: d.renewal_opens.to_string(),
        renewal_closes: d.window_closes().to_string(),
        lapses: d.lapses.to_string(),
        fee_usd: p.fee_usd,
        list_fee_usd: p.list_fee_usd,
        discount: p.discount.as_deref(),
    });
    let mut f: Vec<(String, String)> = vec![
        ("Level".into(), p.level.as_str().to_owned()),
        ("State".into(), m.state.as_str().to_owned()),
        (
            "Purchased".into(),
            format!("{} ({})", rfc3339(p.purchased_at), p.kind),
        ),
        (
            "Term".into(),
            format!("{} to {}", p.term_start, d.anniversary),
        ),
        ("Anniversary".into(), d.anniversary.to_string()),
        (
            "Renewal window".into(),
            format!("{} to {} (inclusive)", d.renewal_opens, d.window_closes()),
        ),
        (
            "Fee paid".into(),
            format!(
                "{} USD{}",
                number(p.fee_usd),
                p.discount
                    .as_deref()
                    .map(|x| format!(" (list {} USD; {x})", number(p.list_fee_usd)))
                    .unwrap_or_default()
            ),
        ),
    ];
    if m.state == State::Lapsed {
        f.push(("Lapsed on".into(), d.lapses.to_string()));
    }
    (j, f)
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
            if !d.held.is_empty() {
                let designations = super::designations::check_views(&d);
                r.json = serde_json::to_value(CheckAllView {
                    membership: CheckView::new(&c),
                    designations,
                })?;
                r = r.table(super::designations::check_table(&d));
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
        CheckStatus::Warning => {
            "Renew or replace the expiring achievements before the anniversary.".to_owned()
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

// ---------------------------------------------------------------------------------------
// JSON views (SPEC §7, §8, §9)
// ---------------------------------------------------------------------------------------

/// A competency and level: the profile's, a purchase's and the check's `competencies`.
#[derive(Serialize)]
struct LevelView<'a> {
    id: &'a str,
    name: &'a str,
    level: &'static str,
}

fn levels(list: &[Displayed]) -> Vec<LevelView<'_>> {
    list.iter()
        .map(|d| LevelView {
            id: &d.id,
            name: &d.name,
            level: d.level.as_str(),
        })
        .collect()
}

/// A renewal alert (`membership alerts`, `membership check`).
#[derive(Serialize)]
pub(super) struct AlertView<'a> {
    raised: String,
    competency: &'a str,
    name: &'a str,
    level: &'static str,
    message: &'a str,
    requirement: &'a str,
    cause: Option<&'a str>,
    open: bool,
    closed: Option<String>,
    close_reason: Option<&'a str>,
}

impl<'a> AlertView<'a> {
    fn new(a: &'a Alert) -> Self {
        AlertView {
            raised: rfc3339(a.raised),
            competency: &a.competency,
            name: &a.name,
            level: a.level.as_str(),
            message: &a.message,
            requirement: &a.requirement,
            cause: a.cause.as_deref(),
            open: a.open,
            closed: a.closed.map(rfc3339),
            close_reason: a.close_reason.as_deref(),
        }
    }
}

/// `membership status`: without a purchase, or with one.
#[derive(Serialize)]
#[serde(untagged)]
enum StatusView<'a> {
    None(NoStatusView),
    Held(HeldStatusView<'a>),
}

/// `membership status` without any purchase.
#[derive(Serialize)]
struct NoStatusView {
    level: &'static str,
    state: &'static str,
    purchased: Option<String>,
    anniversary: Option<String>,
}

/// `membership status` with a purchase (the latest decides).
#[derive(Serialize)]
struct HeldStatusView<'a> {
    level: &'static str,
    last_level: &'static str,
    state: &'static str,
    purchased: String,
    kind: &'a str,
    term_start: String,
    anniversary: String,
    renewal_opens: String,
    renewal_closes: String,
    lapses: String,
    fee_usd: f64,
    list_fee_usd: f64,
    discount: Option<&'a str>,
}

/// `membership upgrade` / `membership renew`.
#[derive(Serialize)]
struct PurchasedView<'a> {
    kind: &'a str,
    level: &'static str,
    previous_level: &'static str,
    purchased: String,
    term_start: String,
    anniversary: String,
    renewal_opens: String,
    fee_usd: f64,
    list_fee_usd: f64,
    discount: Option<&'a str>,
    competencies: Vec<LevelView<'a>>,
}

/// `membership profile`.
#[derive(Serialize)]
struct ProfileView<'a> {
    organization: &'a str,
    level: &'static str,
    state: &'static str,
    anniversary: Option<String>,
    competencies: Vec<LevelView<'a>>,
}

impl<'a> ProfileView<'a> {
    fn new(p: &'a Profile) -> Self {
        ProfileView {
            organization: &p.organization,
            level: level_str(p.level),
            state: p.state.as_str(),
            anniversary: p.anniversary.map(|d| d.to_string()),
            competencies: levels(&p.competencies),
        }
    }
}

/// `membership benefits`.
#[derive(Serialize)]
struct BenefitsView<'a> {
    level: &'static str,
    state: &'static str,
    membership: &'a [String],
    competencies: Vec<CompetencyBenefitsView<'a>>,
}

/// The benefits one displayed competency gives.
#[derive(Serialize)]
struct CompetencyBenefitsView<'a> {
    id: &'a str,
    name: &'a str,
    level: &'static str,
    benefits: &'a [String],
}

impl<'a> BenefitsView<'a> {
    fn new(b: &'a svc::BenefitsView) -> Self {
        BenefitsView {
            level: level_str(b.level),
            state: b.state.as_str(),
            membership: &b.membership,
            competencies: b
                .competencies
                .iter()
                .map(|(d, list)| CompetencyBenefitsView {
                    id: &d.id,
                    name: &d.name,
                    level: d.level.as_str(),
                    benefits: list,
                })
                .collect(),
        }
    }
}

/// `membership what-if`.
#[derive(Serialize)]
struct WhatIfView<'a> {
    removed_users: &'a [String],
    expire_before: Option<String>,
    level: &'static str,
    lost: Vec<LostView<'a>>,
    alerts: Vec<BrokenView<'a>>,
    renewal_possible: bool,
    renewal_possible_now: bool,
}

/// A competency whose level would change.
#[derive(Serialize)]
struct LostView<'a> {
    competency: &'a str,
    name: &'a str,
    now: &'static str,
    after: &'static str,
}

/// A displayed competency that would raise an alert.
#[derive(Serialize)]
struct BrokenView<'a> {
    competency: &'a str,
    name: &'a str,
    level: &'static str,
    requirement: &'a str,
}

impl<'a> WhatIfView<'a> {
    fn new(w: &'a WhatIf, held: Option<&Membership>) -> Self {
        WhatIfView {
            removed_users: &w.removed,
            expire_before: w.expire_before.map(|d| d.to_string()),
            level: level_str(held.map(Membership::level)),
            lost: w
                .changes
                .iter()
                .map(|c| LostView {
                    competency: &c.id,
                    name: &c.name,
                    now: level_str(c.now),
                    after: level_str(c.after),
                })
                .collect(),
            alerts: w
                .broken
                .iter()
                .map(|(d, why)| BrokenView {
                    competency: &d.id,
                    name: &d.name,
                    level: d.level.as_str(),
                    requirement: why,
                })
                .collect(),
            renewal_possible: held.is_some() && w.renewal_possible_after,
            renewal_possible_now: w.renewal_possible_now,
        }
    }
}

/// `membership check` (SPEC §7).
#[derive(Serialize)]
struct CheckView<'a> {
    status: &'static str,
    level: &'static str,
    state: &'static str,
    anniversary: Option<String>,
    renewal_opens: Option<String>,
    renewal_window_open: bool,
    renewal_eligible: bool,
    alerts: Vec<AlertView<'a>>,
    expiring: Vec<ExpiringView<'a>>,
    competencies: Vec<LevelView<'a>>,
}

impl<'a> CheckView<'a> {
    fn new(c: &'a Check) -> Self {
        let m = c.membership.as_ref();
        CheckView {
            status: c.status.as_str(),
            level: level_str(m.filter(|m| m.state.is_held()).map(Membership::level)),
            state: m.map_or("none", |m| m.state.as_str()),
            anniversary: m.map(|m| m.dates.anniversary.to_string()),
            renewal_opens: m.map(|m| m.dates.renewal_opens.to_string()),
            renewal_window_open: c.window_open,
            renewal_eligible: c.renewal_eligible,
            alerts: c.alerts.iter().map(AlertView::new).collect(),
            expiring: c.expiring.iter().map(ExpiringView::new).collect(),
            competencies: levels(&c.displayed),
        }
    }
}

/// `membership check` with designations held (SPEC §9): their part under `designations`.
#[derive(Serialize)]
struct CheckAllView<'a> {
    #[serde(flatten)]
    membership: CheckView<'a>,
    designations: Vec<super::designations::CheckedView<'a>>,
}

/// An achievement a displayed competency relies on that stops counting by the anniversary.
#[derive(Serialize)]
struct ExpiringView<'a> {
    competency: &'a str,
    name: &'a str,
    level: &'static str,
    username: &'a str,
    msa: &'a str,
    code: &'a str,
    expires: String,
}

impl<'a> ExpiringView<'a> {
    fn new(e: &'a Expiring) -> Self {
        ExpiringView {
            competency: &e.competency,
            name: &e.name,
            level: e.level.as_str(),
            username: &e.username,
            msa: &e.msa,
            code: &e.code,
            expires: e.expires.to_string(),
        }
    }
}
