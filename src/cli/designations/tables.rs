//! The human tables and the CSV of the `designations` commands (SPEC §9): a designation's
//! score item by item, the list, what-if, alerts and the checks after an enrolment; and
//! the sentence for a designation whose track is not set.

use super::*;

/// The track column of `designations list`: the track that counts, how it was chosen, or
/// that it is not set.
pub(super) fn track_label(s: &DesignationScore) -> String {
    match (s.track_set(), s.best_track(), &s.classified) {
        (false, _, _) => "not set".to_owned(),
        (true, Some(t), Some(_)) => t.track.clone(),
        (true, Some(t), None) if s.tracks.len() > 1 => format!("{} (best)", t.track),
        (true, Some(t), None) => t.track.clone(),
        (true, None, _) => String::new(),
    }
}

/// The sentence after a table for each designation whose track is not set.
pub(super) fn unset_lines(scores: &[&DesignationScore]) -> Option<String> {
    let lines: Vec<String> = scores
        .iter()
        .filter(|s| !s.track_set())
        .map(|s| format!("{}: {}", s.id, svc::unset_hint(&s.id)))
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

pub(super) fn score_table(s: &DesignationScore, names: bool) -> Table {
    let mut t =
        Table::new(&["Track", "Item", "Value", "Points", "Who counts / why"]).titled(format!(
            "{} — {} of {} needed: {}{}",
            s.name,
            number(s.score()),
            number(s.threshold),
            if s.qualified() {
                "qualifies"
            } else {
                "does not qualify"
            },
            if s.track_set() {
                String::new()
            } else {
                " (track not set: both must qualify)".to_owned()
            }
        ));
    for (i, track) in s.tracks.iter().enumerate() {
        let label = if s.tracks.len() > 1 && i == s.best && s.track_set() {
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
            if !it.inputs.is_empty() {
                let parts: Vec<String> = it
                    .inputs
                    .iter()
                    .map(|i| {
                        format!(
                            "{}{}: {} = {}",
                            i.metric.as_str(),
                            i.association
                                .map(|a| format!(" {}", a.as_str()))
                                .unwrap_or_default(),
                            number(i.value),
                            number(i.points)
                        )
                    })
                    .collect();
                why = parts.join("; ");
            }
            let scoring_gates: Vec<String> = it
                .gates
                .iter()
                .filter(|g| g.points > 0.0 && g.have >= g.need as usize)
                .map(|g| format!("gate {} +{}", g.codes, number(g.points)))
                .collect();
            if !it.unmet_prerequisites.is_empty() {
                why = format!("prerequisite short: {}", it.unmet_prerequisites.join("; "));
            } else if !scoring_gates.is_empty() {
                why = format!(
                    "{why}{}{}",
                    if why.is_empty() { "" } else { "; " },
                    scoring_gates.join("; ")
                );
            }
            if it.unmet_prerequisites.is_empty() && it.required && it.points <= 0.0 {
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

pub(in crate::cli) fn alerts_table(alerts: &[Alert], title: &str) -> Table {
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
pub(in crate::cli) fn print_alerts(alerts: &[Alert]) {
    for a in alerts {
        message(&format!("alert: {}", alert_line(a)));
    }
}

pub(super) fn enrolled_report(e: &Enrolled, what: &str) -> Report {
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
pub(in crate::cli) fn check_views(c: &Check) -> Vec<CheckedView<'_>> {
    c.held.iter().map(CheckedView::new).collect()
}

/// The designations' part of `membership check`, as a table.
pub(in crate::cli) fn check_table(c: &Check) -> Table {
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

/// A number as CSV data: rounded half up to two decimals like every display, without
/// thousands separators.
pub(super) fn raw(x: f64) -> String {
    number(x).replace(',', "")
}

/// `designations list --format csv`: one row per designation, the same columns whatever
/// its state (SPEC §9: data, not the table's wording).
pub(super) fn list_csv(list: &[Listed]) -> Table {
    let mut t = Table::new(&[
        "id",
        "track",
        "track_set",
        "score",
        "threshold",
        "qualified",
        "state",
        "anniversary",
    ]);
    for l in list {
        let v = ListedView::new(l);
        t.row([
            v.id.to_owned(),
            v.track.unwrap_or_default().to_owned(),
            csv_bool(v.track_set),
            raw(v.score),
            raw(v.threshold),
            csv_bool(v.qualified),
            v.state.to_owned(),
            v.anniversary.unwrap_or_default(),
        ]);
    }
    t
}

/// `designations score --format csv`: one row per designation × track × item.
pub(super) fn score_csv(scores: &[DesignationScore]) -> Table {
    let mut t = Table::new(&[
        "id",
        "track",
        "counts",
        "track_total",
        "track_qualified",
        "item",
        "kind",
        "required",
        "value",
        "points",
        "max_points",
        "people",
    ]);
    for s in scores {
        for tr in tracks(s) {
            for it in &tr.items {
                t.row([
                    tr.id.to_owned(),
                    tr.track.to_owned(),
                    csv_bool(tr.counts),
                    raw(tr.total),
                    csv_bool(tr.qualified),
                    it.name.to_owned(),
                    it.kind.to_owned(),
                    csv_bool(it.required),
                    raw(it.value),
                    raw(it.points),
                    raw(it.max_points),
                    it.people.join(";"),
                ]);
            }
        }
    }
    t
}

/// `designations what-if --format csv`: one row per designation.
pub(super) fn what_if_csv(w: &[WhatIf]) -> Table {
    let mut t = Table::new(&[
        "id",
        "score_now",
        "qualified_now",
        "score_after",
        "qualified_after",
        "changes",
    ]);
    for x in w {
        let v = WhatIfView::new(x);
        t.row([
            v.id.to_owned(),
            raw(v.score_now),
            csv_bool(v.qualified_now),
            raw(v.score_after),
            csv_bool(v.qualified_after),
            v.changes.join("; "),
        ]);
    }
    t
}

/// `designations alerts --format csv`: one row per alert, the designation by id.
pub(super) fn alerts_csv(alerts: &[Alert]) -> Table {
    let mut t = Table::new(&[
        "raised",
        "designation",
        "items",
        "cause",
        "open",
        "closed",
        "close_reason",
    ]);
    for a in alerts {
        let v = AlertView::new(a);
        t.row([
            v.raised,
            v.designation.to_owned(),
            v.items.to_owned(),
            v.cause.unwrap_or_default().to_owned(),
            csv_bool(v.open),
            v.closed.unwrap_or_default(),
            v.close_reason.unwrap_or_default().to_owned(),
        ]);
    }
    t
}
