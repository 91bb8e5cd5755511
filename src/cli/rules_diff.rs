//! `rules diff` and the changes `rules import` shows: a [`Diff`] as a table, JSON rows, CSV
//! rows or lines on stderr.

use serde::Serialize;

use crate::domain::rulebook_diff::{Change, Diff, Held, Kind, Movement, Standing};
use crate::output::{Report, Table, csv_bool, number};
use crate::rules::Level;

/// One row of `rules diff --format json|csv` (and of `rules import --format json`'s
/// `changes`).
#[derive(Serialize)]
pub(super) struct RowView<'a> {
    kind: Kind,
    id: &'a str,
    name: &'a str,
    /// Competency: its level (`none`, `silver`, `gold`); designation: its score. `null`
    /// when the rulebook in use has no such id.
    before: Option<StandingView>,
    /// The same under the new rulebook.
    after: Option<StandingView>,
    change: Movement,
    cause: &'a str,
    qualified_before: Option<bool>,
    qualified_after: Option<bool>,
    /// `displayed` (a competency of the business profile) or `enrolled` (a designation).
    held: Option<&'static str>,
    /// The level the business profile displays.
    displayed_level: Option<Level>,
    /// An import needs `--force` because of this row.
    blocks_import: bool,
}

#[derive(Serialize)]
#[serde(untagged)]
enum StandingView {
    Level(&'static str),
    Score(f64),
}

impl StandingView {
    fn new(s: &Standing) -> StandingView {
        match s {
            Standing::Competency(l) => StandingView::Level(level_name(*l)),
            Standing::Designation { score, .. } => StandingView::Score(*score),
        }
    }

    /// The raw value, as CSV writes it.
    fn raw(&self) -> String {
        match self {
            StandingView::Level(l) => (*l).to_owned(),
            StandingView::Score(s) => s.to_string(),
        }
    }
}

fn level_name(l: Option<Level>) -> &'static str {
    l.map_or("none", Level::as_str)
}

/// The JSON rows of `d`.
pub(super) fn rows(d: &Diff) -> Vec<RowView<'_>> {
    d.changes
        .iter()
        .map(|c| RowView {
            kind: c.kind,
            id: &c.id,
            name: &c.name,
            before: c.before.as_ref().map(StandingView::new),
            after: c.after.as_ref().map(StandingView::new),
            change: c.movement,
            cause: &c.cause,
            qualified_before: c.before.as_ref().map(Standing::qualified),
            qualified_after: c.after.as_ref().map(Standing::qualified),
            held: c.held.map(|h| match h {
                Held::Displayed(_) => "displayed",
                Held::Enrolled => "enrolled",
            }),
            displayed_level: match c.held {
                Some(Held::Displayed(l)) => Some(l),
                _ => None,
            },
            blocks_import: c.blocking,
        })
        .collect()
}

/// `rules diff`'s report: the table for people, the rows for scripts.
pub(super) fn report(d: &Diff, origin: &str) -> Report {
    let rows = rows(d);
    let mut csv = Table::new(&[
        "kind",
        "id",
        "name",
        "before",
        "after",
        "change",
        "cause",
        "qualified_before",
        "qualified_after",
        "held",
        "displayed_level",
        "blocks_import",
    ]);
    for r in &rows {
        let opt_bool = |b: Option<bool>| b.map(csv_bool).unwrap_or_default();
        csv.row([
            r.kind.as_str().to_owned(),
            r.id.to_owned(),
            r.name.to_owned(),
            r.before.as_ref().map(StandingView::raw).unwrap_or_default(),
            r.after.as_ref().map(StandingView::raw).unwrap_or_default(),
            r.change.as_str().to_owned(),
            r.cause.to_owned(),
            opt_bool(r.qualified_before),
            opt_bool(r.qualified_after),
            r.held.unwrap_or_default().to_owned(),
            r.displayed_level
                .map(|l| l.as_str().to_owned())
                .unwrap_or_default(),
            csv_bool(r.blocks_import),
        ]);
    }
    let day = d.at.date_naive();
    let report = Report::new(&rows).csv(csv);
    if d.changes.is_empty() {
        return report.text(format!(
            "Nothing changes for {} on {day} under {origin}: every competency and designation \
             keeps its level, score and qualification.",
            d.organization
        ));
    }
    let mut t =
        Table::new(&["Kind", "ID", "Name", "Before", "After", "Change", "Cause"]).titled(format!(
            "What changes for {} on {day} under {origin}",
            d.organization
        ));
    for c in &d.changes {
        t.row([
            c.kind.as_str().to_owned(),
            c.id.clone(),
            c.name.clone(),
            shown(c.before.as_ref()),
            shown(c.after.as_ref()),
            change(c),
            c.cause.clone(),
        ]);
    }
    let mut report = report.table(t);
    if d.blocking().next().is_some() {
        report = report.text(
            "`rules import` of this rulebook needs --force: a displayed competency or an \
             enrolled designation would disappear or stop qualifying.",
        );
    }
    report
}

/// A standing for people: `silver`, `none`, `70 (qualifies)`, `-` when absent.
fn shown(s: Option<&Standing>) -> String {
    match s {
        None => "-".to_owned(),
        Some(Standing::Competency(l)) => level_name(*l).to_owned(),
        Some(Standing::Designation { score, qualified }) => format!(
            "{}{}",
            number(*score),
            if *qualified { " (qualifies)" } else { "" }
        ),
    }
}

/// The change for people: "−13.34, stops qualifying (enrolled)", "no longer met
/// (displayed at silver)".
fn change(c: &Change) -> String {
    let mut parts = Vec::new();
    if let (
        Some(Standing::Designation { score: b, .. }),
        Some(Standing::Designation { score: a, .. }),
    ) = (&c.before, &c.after)
    {
        let delta = a - b;
        if delta.abs() >= 0.005 {
            // A true minus sign, as the program's pages write a loss.
            let sign = if delta < 0.0 { "−" } else { "+" };
            parts.push(format!("{sign}{}", number(delta.abs())));
        }
    }
    let word = match (c.kind, c.movement) {
        (_, Movement::Appears) => Some("appears"),
        (_, Movement::Disappears) => Some("disappears"),
        (Kind::Competency, Movement::StopsQualifying) => Some("no longer met"),
        (Kind::Competency, Movement::StartsQualifying) => Some("now met"),
        (Kind::Competency, Movement::Lower) => Some("lower level"),
        (Kind::Competency, Movement::Higher) => Some("higher level"),
        (Kind::Designation, Movement::StopsQualifying) => Some("stops qualifying"),
        (Kind::Designation, Movement::StartsQualifying) => Some("now qualifies"),
        (Kind::Designation, _) => None,
    };
    parts.extend(word.map(str::to_owned));
    let mut s = parts.join(", ");
    match c.held {
        Some(Held::Displayed(l)) => s.push_str(&format!(" (displayed at {l})")),
        Some(Held::Enrolled) => s.push_str(" (enrolled)"),
        None => {}
    }
    s
}

/// The changes as lines for stderr (what `rules import` shows before it imports):
/// "designation Security (security): 70 → 50, −20, stops qualifying (enrolled): …".
pub(super) fn lines(d: &Diff) -> Vec<String> {
    let mut out = vec![format!(
        "changes for {} on {} under the new rulebook:",
        d.organization,
        d.at.date_naive()
    )];
    out.extend(d.changes.iter().map(|c| {
        format!(
            "  {} {} ({}): {} → {}, {}: {}",
            c.kind.as_str(),
            c.name,
            c.id,
            shown(c.before.as_ref()),
            shown(c.after.as_ref()),
            change(c),
            c.cause
        )
    }));
    out
}
