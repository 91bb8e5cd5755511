//! The report's "Designations" section (SPEC §9): each Solutions Partner designation's score
//! as a stacked bar of its items against the threshold line, items at 0 highlighted.
//!
//! It takes plain data ([`DesignationView`]), filled by [`super::gather`] from
//! `designations list` and `designations score`'s service functions. With none, the section
//! says so; a preview (the rulebook has no designations) says what it is.

use std::fmt::Write;

use chrono::{DateTime, NaiveDate, Utc};

use super::html::{coord, esc};
use crate::domain::membership::Dates;
use crate::rules::explain::thousands as number;
use crate::support::clock::rfc3339;

/// One designation as the report shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignationView {
    /// Its id, e.g. `azure-infra`.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// The total score.
    pub score: f64,
    /// The score needed to qualify.
    pub threshold: f64,
    /// Whether it qualifies now.
    pub qualified: bool,
    /// Its state as `designations list` prints it (e.g. `enrolled`, `in-progress`), or
    /// `preview`.
    pub state: String,
    /// The counting track's name, when the designation has more than one track.
    pub track: Option<String>,
    /// The counting track's items (metric then skilling), in rulebook order.
    pub items: Vec<DesignationItemView>,
    /// The latest enrolment's first day, if it was ever enrolled.
    pub term_start: Option<NaiveDate>,
    /// The latest enrolment's anniversary, renewal window and lapse day.
    pub dates: Option<Dates>,
    /// The first instant it qualified in the current window (when not held).
    pub qualified_since: Option<DateTime<Utc>>,
}

/// One scored item of a designation.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignationItemView {
    /// Its display name, e.g. "Net customer adds".
    pub name: String,
    /// The points earned.
    pub points: f64,
    /// The most points it can give.
    pub max_points: f64,
    /// Whether 0 points blocks qualification.
    pub required: bool,
}

/// Fills for the stacked segments, cycled; each segment is also labelled with its points
/// and listed in the table, so colour is never the only signal.
const FILLS: [&str; 6] = [
    "#1565c0", "#00838f", "#6a1b9a", "#2e7d32", "#ef6c00", "#455a64",
];

/// Writes the section: one heading, then per designation a stacked bar (SVG with title and
/// description) and a table of its items, items at 0 highlighted.
pub fn section(o: &mut String, list: &[DesignationView], preview: bool) {
    o.push_str(
        "<section id=\"designations\" aria-labelledby=\"h-designations\">\n\
         <h2 id=\"h-designations\">Designations</h2>\n",
    );
    if list.is_empty() {
        o.push_str("<p>No designations in this rulebook.</p>\n</section>\n");
        return;
    }
    if preview {
        preview_table(o, list);
        o.push_str("</section>\n");
        return;
    }
    for d in list {
        designation(o, d);
    }
    o.push_str("</section>\n");
}

/// The names of the designation's items that score nothing.
fn zero_items(d: &DesignationView) -> Vec<&str> {
    d.items
        .iter()
        .filter(|i| i.points <= 0.0)
        .map(|i| i.name.as_str())
        .collect()
}

fn designation(o: &mut String, d: &DesignationView) {
    let zero = zero_items(d);
    let _ = write!(
        o,
        "<article class=\"designation\" id=\"designation-{}\" data-designation=\"{}\" data-score=\"{}\" \
         data-threshold=\"{}\" data-qualified=\"{}\" data-state=\"{}\">\n<h3>{} <span class=\"badge {}\">{}</span></h3>\n\
         <p class=\"sub\">Score {} of {} needed: {}.</p>\n",
        esc(&d.id),
        esc(&d.id),
        d.score,
        d.threshold,
        d.qualified,
        esc(&d.state),
        esc(&d.name),
        if d.qualified { "met" } else { "short" },
        if d.qualified {
            "✔ qualified"
        } else {
            "✘ not qualified"
        },
        number(d.score),
        number(d.threshold),
        esc(&d.state),
    );
    dates(o, d);
    stacked_bar(o, d, &zero);
    o.push_str(
        "<table class=\"stack items\"><thead><tr><th scope=\"col\">Item</th>\
         <th scope=\"col\">Points</th><th scope=\"col\">Of</th></tr></thead><tbody>",
    );
    for i in &d.items {
        let z = i.points <= 0.0;
        let _ = write!(
            o,
            "<tr{}><th scope=\"row\">{}</th><td class=\"num points\" data-label=\"Points\">{}{}{}</td>\
             <td class=\"num\" data-label=\"Of\">{}</td></tr>",
            if z { " class=\"zero\"" } else { "" },
            esc(&i.name),
            if z { "⚠ " } else { "" },
            number(i.points),
            if z && i.required {
                " (required: blocks qualification)"
            } else {
                ""
            },
            number(i.max_points),
        );
    }
    o.push_str("</tbody></table>\n</article>\n");
}

/// The preview (the rulebook has no designations, as step 7 of `competency demo`): one
/// compact table, score against threshold and the items at 0, no chart per designation.
fn preview_table(o: &mut String, list: &[DesignationView]) {
    o.push_str(
        "<p class=\"sub\" id=\"designations-preview\">The organization's rulebook has no \
         designations: the same people scored under the Solutions Partner rulebook, a preview \
         with no enrolment (step 7 of <code>competency demo</code>). <code>competency rules \
         import solutions-partner</code>, then <code>performance record</code> of the figures, \
         make them real.</p>\n<table class=\"stack\" id=\"designations-preview-table\"><thead><tr>\
         <th scope=\"col\">Designation</th><th scope=\"col\">Score</th><th scope=\"col\">Needed</th>\
         <th scope=\"col\">Qualifies</th><th scope=\"col\">Items at 0</th></tr></thead><tbody>",
    );
    for d in list {
        let zero = zero_items(d);
        let _ = write!(
            o,
            "<tr class=\"designation\" data-designation=\"{}\" data-score=\"{}\" data-threshold=\"{}\" \
             data-qualified=\"{}\" data-state=\"{}\"><th scope=\"row\">{}</th>\
             <td class=\"num\" data-label=\"Score\">{}</td><td class=\"num\" data-label=\"Needed\">{}</td>\
             <td data-label=\"Qualifies\" class=\"{}\">{}</td><td data-label=\"Items at 0\" class=\"{}\">{}</td></tr>",
            esc(&d.id),
            d.score,
            d.threshold,
            d.qualified,
            esc(&d.state),
            esc(&d.name),
            number(d.score),
            number(d.threshold),
            if d.qualified { "met" } else { "bad" },
            if d.qualified { "✔ yes" } else { "✘ no" },
            if zero.is_empty() { "" } else { "bad" },
            if zero.is_empty() {
                "none".to_owned()
            } else {
                esc(&format!("⚠ {}", zero.join(", ")))
            },
        );
    }
    o.push_str("</tbody></table>\n");
}

/// State, track and dates as a key/value table (a preview has none).
fn dates(o: &mut String, d: &DesignationView) {
    if d.state == "preview" {
        return;
    }
    let _ = write!(
        o,
        "<table class=\"kv designation-dates\"><tbody>\
         <tr><th scope=\"row\">State</th><td data-key=\"state\">{}</td></tr>",
        esc(&d.state)
    );
    if let Some(t) = &d.track {
        let _ = write!(
            o,
            "<tr><th scope=\"row\">Counting track</th><td data-key=\"track\">{}</td></tr>",
            esc(t)
        );
    }
    if let Some(q) = d.qualified_since {
        let _ = write!(
            o,
            "<tr><th scope=\"row\">Qualified since</th><td data-key=\"qualified_since\">{}</td></tr>",
            esc(&rfc3339(q))
        );
    }
    match (&d.dates, d.term_start) {
        (Some(x), Some(start)) => {
            let _ = write!(
                o,
                "<tr><th scope=\"row\">Term</th><td>{start} to {}</td></tr>\
                 <tr><th scope=\"row\">Enrolment anniversary</th><td data-key=\"anniversary\">{}</td></tr>\
                 <tr><th scope=\"row\">Renewal window</th><td data-key=\"renewal_window\">{} to {} (inclusive)</td></tr>\
                 <tr><th scope=\"row\">Lapses on</th><td data-key=\"lapses\">{}</td></tr>",
                x.anniversary,
                x.anniversary,
                x.renewal_opens,
                x.window_closes(),
                x.lapses,
            );
        }
        _ => o.push_str(
            "<tr><th scope=\"row\">Enrolment anniversary</th><td data-key=\"anniversary\">\
             not enrolled</td></tr>",
        ),
    }
    o.push_str("</tbody></table>\n");
}

fn stacked_bar(o: &mut String, d: &DesignationView, zero: &[&str]) {
    const W: f64 = 960.0;
    const LEFT: f64 = 10.0;
    const RIGHT: f64 = 900.0;
    let scale_max = d
        .items
        .iter()
        .map(|i| i.max_points.max(i.points).max(0.0))
        .sum::<f64>()
        .max(d.threshold)
        .max(d.score)
        .max(1.0);
    let x = |v: f64| LEFT + (v / scale_max).clamp(0.0, 1.0) * (RIGHT - LEFT);
    let height = if zero.is_empty() { 64.0 } else { 84.0 };
    let _ = write!(
        o,
        "<div class=\"chart\"><svg class=\"designation-bar\" viewBox=\"0 0 {W} {}\" role=\"img\" \
         aria-labelledby=\"dt-{id} dd-{id}\"><title id=\"dt-{id}\">{}: {} of {} points</title>\
         <desc id=\"dd-{id}\">{}{}</desc>\
         <rect x=\"{LEFT}\" y=\"18\" width=\"{}\" height=\"26\" fill=\"#e3e5e8\"/>",
        coord(height),
        esc(&d.name),
        number(d.score),
        number(d.threshold),
        esc(&d
            .items
            .iter()
            .map(|i| format!(
                "{} {} of {}",
                i.name,
                number(i.points),
                number(i.max_points)
            ))
            .collect::<Vec<_>>()
            .join("; ")),
        esc(&if zero.is_empty() {
            String::new()
        } else {
            format!(". At 0: {}", zero.join(", "))
        }),
        coord(RIGHT - LEFT),
        id = esc(&d.id),
    );
    let mut acc = 0.0;
    for (n, i) in d.items.iter().enumerate().filter(|(_, i)| i.points > 0.0) {
        let (x0, x1) = (x(acc), x(acc + i.points));
        acc += i.points;
        let _ = write!(
            o,
            "<g class=\"item\"><title>{}: {} of {}</title><rect x=\"{}\" y=\"18\" width=\"{}\" height=\"26\" \
             fill=\"{}\" stroke=\"#ffffff\" stroke-width=\"1.5\"/>",
            esc(&i.name),
            number(i.points),
            number(i.max_points),
            coord(x0),
            coord((x1 - x0).max(1.0)),
            FILLS[n % FILLS.len()],
        );
        if x1 - x0 > 22.0 {
            let _ = write!(
                o,
                "<text x=\"{}\" y=\"36\" font-size=\"12\" text-anchor=\"middle\" fill=\"#ffffff\">{}</text>",
                coord((x0 + x1) / 2.0),
                number(i.points),
            );
        }
        o.push_str("</g>");
    }
    let tx = coord(x(d.threshold));
    let _ = write!(
        o,
        "<g class=\"threshold\"><line x1=\"{tx}\" y1=\"8\" x2=\"{tx}\" y2=\"54\" stroke=\"#1b1b1b\" \
         stroke-width=\"2\" stroke-dasharray=\"4 3\"/><text x=\"{tx}\" y=\"62\" font-size=\"11\" \
         text-anchor=\"middle\" fill=\"#1b1b1b\">threshold {}</text></g>\
         <text x=\"{LEFT}\" y=\"12\" font-size=\"11\" fill=\"#5a5a5a\">score {}</text>",
        number(d.threshold),
        number(d.score),
    );
    if !zero.is_empty() {
        let _ = write!(
            o,
            "<g class=\"zero-items\"><rect x=\"{LEFT}\" y=\"66\" width=\"{}\" height=\"16\" fill=\"#fdecea\" \
             stroke=\"#b3261e\"/><text x=\"{}\" y=\"78\" font-size=\"11\" fill=\"#b3261e\" font-weight=\"700\">\
             ⚠ at 0: {}</text></g>",
            coord(RIGHT - LEFT),
            coord(LEFT + 6.0),
            esc(&zero.join(", ")),
        );
    }
    o.push_str("</svg></div>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> DesignationView {
        DesignationView {
            id: "infra".into(),
            name: "Infrastructure (Azure) <A&B>".into(),
            score: 75.0,
            threshold: 70.0,
            qualified: true,
            state: "enrolled".into(),
            track: None,
            term_start: None,
            dates: None,
            qualified_since: None,
            items: vec![
                DesignationItemView {
                    name: "Performance".into(),
                    points: 30.0,
                    max_points: 30.0,
                    required: false,
                },
                DesignationItemView {
                    name: "Skilling".into(),
                    points: 45.0,
                    max_points: 50.0,
                    required: false,
                },
                DesignationItemView {
                    name: "Customer success".into(),
                    points: 0.0,
                    max_points: 20.0,
                    required: true,
                },
            ],
        }
    }

    #[test]
    fn none_says_so() {
        let mut o = String::new();
        section(&mut o, &[], false);
        assert!(o.contains("<h2 id=\"h-designations\">Designations</h2>"));
        assert!(o.contains("No designations in this rulebook"));
        assert!(!o.contains("<svg"));
    }

    #[test]
    fn stacked_bar_has_a_segment_per_scoring_item_the_threshold_and_zero_items() {
        let mut o = String::new();
        section(&mut o, &[sample()], false);
        // Two scoring items drawn, the one at 0 not drawn but called out and highlighted.
        assert_eq!(o.matches("<g class=\"item\">").count(), 2, "{o}");
        assert!(o.contains("<g class=\"threshold\">"));
        assert!(o.contains("threshold 70"));
        assert!(o.contains("⚠ at 0: Customer success"));
        assert_eq!(o.matches("<tr class=\"zero\">").count(), 1);
        assert!(o.contains("<title id=\"dt-infra\">"));
        assert!(o.contains("<desc id=\"dd-infra\">"));
        assert!(o.contains("role=\"img\""));
        // Names are escaped.
        assert!(o.contains("Infrastructure (Azure) &lt;A&amp;B&gt;"));
        assert!(!o.contains("<A&B>"));
        // The threshold line sits at 70 of a 100-point scale: 10 + 0.7 * 890.
        assert!(o.contains("x1=\"633\""), "{o}");
    }

    #[test]
    fn a_preview_is_one_table_without_charts_or_dates() {
        let mut d = sample();
        d.state = "preview".into();
        let mut o = String::new();
        section(&mut o, &[d], true);
        assert!(o.contains("id=\"designations-preview\""));
        assert_eq!(o.matches("<tr class=\"designation\"").count(), 1, "{o}");
        assert!(o.contains("⚠ Customer success"), "{o}");
        assert!(!o.contains("<svg"), "{o}");
        assert!(!o.contains("anniversary"), "{o}");
    }

    #[test]
    fn a_score_over_the_scale_stays_inside_the_chart() {
        let mut d = sample();
        d.items[0].points = 500.0;
        d.score = 545.0;
        let mut o = String::new();
        section(&mut o, &[d], false);
        for w in o.split("width=\"").skip(1) {
            let v: f64 = w.split('"').next().unwrap().parse().unwrap();
            assert!(v <= 960.0, "{w}");
        }
    }
}
