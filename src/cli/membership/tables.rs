//! The tables, CSV rows and stderr lines of the `membership` commands.

use super::*;
use crate::support::terminal::message;

pub(super) fn level_str(l: Option<Level>) -> &'static str {
    l.map_or("none", Level::as_str)
}

/// Prints alerts just raised on stderr (not merely informational: shown even with --quiet),
/// each naming its organization: a command on one organization can raise alerts in another
/// of the same database.
pub(in crate::cli) fn print_alerts(alerts: &[Alert]) {
    for a in alerts {
        if a.org.is_empty() {
            message(&format!("alert: {}", a.line()));
        } else {
            message(&format!("alert: {}: {}", a.org, a.line()));
        }
    }
}

/// The alert's own sentence (what the program tells the partner), printed above the table
/// of open alerts so the cron mail says it in words.
pub(super) fn alert_sentence(alerts: &[Alert]) -> String {
    alerts
        .iter()
        .find(|a| a.open)
        .or(alerts.first())
        .map_or_else(|| svc::ALERT_TEXT.to_owned(), |a| format!("{}.", a.message))
}

/// Prints alerts just raised, by organization: another organization's (one the command
/// was not run for, changed by a severed link) under its name.
pub(in crate::cli) fn print_org_alerts(raised: &[crate::domain::effects::OrgAlerts]) {
    for r in raised {
        for a in &r.alerts {
            let org = if a.org.is_empty() {
                &r.org_name
            } else {
                &a.org
            };
            message(&format!("alert: {org}: {}", a.line()));
        }
        // Another organization's designations put at risk by the same severing.
        for a in &r.designations {
            message(&format!(
                "alert: {}: {}",
                r.org_name,
                crate::domain::designations::alert_line(a)
            ));
        }
    }
}

/// The JSON of an alert (for the demo's summary).
pub(in crate::cli) fn alert_json(a: &Alert) -> Value {
    serde_json::to_value(AlertView::new(a)).unwrap_or(Value::Null)
}

pub(super) fn alerts_table(alerts: &[Alert], title: &str) -> Table {
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
pub(super) fn alerts_csv(alerts: &[Alert]) -> Table {
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
pub(super) fn status_csv(m: Option<&Membership>) -> Table {
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

pub(super) fn status_fields(m: Option<&Membership>) -> (StatusView<'_>, Vec<(String, String)>) {
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
