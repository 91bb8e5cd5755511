//! The report's "Designations" section (SPEC §9): each Solutions Partner designation's score
//! as a stacked bar of its items against the threshold line, items at 0 highlighted, and a
//! table of its items beside it. With none, the section says so; a preview (the rulebook has
//! no designations) is one compact table that says what it is.

use maud::{Markup, html};

use super::coord;
use crate::domain::report::DesignationView;
use crate::rules::explain::thousands as number;
use crate::support::clock::rfc3339;

/// Fills for the stacked segments, cycled; each segment is also labelled with its points
/// and listed in the table, so colour is never the only signal.
const FILLS: [&str; 6] = [
    "#1565c0", "#00838f", "#6a1b9a", "#2e7d32", "#ef6c00", "#455a64",
];

/// The section: one heading, then per designation a stacked bar (SVG with title and
/// description) and a table of its items, items at 0 highlighted.
pub(super) fn section(list: &[DesignationView], preview: bool) -> Markup {
    html! {
        section #designations aria-labelledby="h-designations" {
            h2 #h-designations { "Designations" }
            @if list.is_empty() {
                p { "No designations in this rulebook." }
            } @else if preview {
                (preview_table(list))
            } @else {
                @for d in list { (designation(d)) }
            }
        }
    }
}

fn designation(d: &DesignationView) -> Markup {
    let zero = d.zero_items();
    html! {
        article.designation id=(format!("designation-{}", d.id)) data-designation=(d.id)
            data-score=(d.score) data-threshold=(d.threshold)
            data-qualified=(d.qualified.to_string()) data-state=(d.state) {
            h3 {
                (d.name) " "
                span.badge.(if d.qualified { "met" } else { "short" }) {
                    (if d.qualified { "✔ qualified" } else { "✘ not qualified" })
                }
            }
            p.sub {
                "Score " (number(d.score)) " of " (number(d.threshold)) " needed: " (d.state) "."
            }
            (dates(d))
            (stacked_bar(d, &zero))
            table.stack.items {
                thead { tr {
                    th scope="col" { "Item" }
                    th scope="col" { "Points" }
                    th scope="col" { "Of" }
                } }
                tbody {
                    @for i in &d.items {
                        @let z = i.points <= 0.0;
                        tr class=[z.then_some("zero")] {
                            th scope="row" { (i.name) }
                            td.num.points data-label="Points" {
                                @if z { "⚠ " }
                                (number(i.points))
                                @if z && i.required { " (required: blocks qualification)" }
                            }
                            td.num data-label="Of" { (number(i.max_points)) }
                        }
                    }
                }
            }
        }
    }
}

/// The preview (the rulebook has no designations, as step 7 of `competency demo`): one
/// compact table, score against threshold and the items at 0, no chart per designation.
fn preview_table(list: &[DesignationView]) -> Markup {
    html! {
        p.sub #designations-preview {
            "The organization's rulebook has no designations: the same people scored under the \
             Solutions Partner rulebook, a preview with no enrolment (step 7 of "
            code { "competency demo" } "). "
            code { "competency rules import solutions-partner" } ", then "
            code { "performance record" } " of the figures, make them real."
        }
        table.stack #designations-preview-table {
            thead { tr {
                th scope="col" { "Designation" }
                th scope="col" { "Score" }
                th scope="col" { "Needed" }
                th scope="col" { "Qualifies" }
                th scope="col" { "Items at 0" }
            } }
            tbody {
                @for d in list {
                    @let zero = d.zero_items();
                    tr.designation data-designation=(d.id) data-score=(d.score)
                        data-threshold=(d.threshold) data-qualified=(d.qualified.to_string())
                        data-state=(d.state) {
                        th scope="row" { (d.name) }
                        td.num data-label="Score" { (number(d.score)) }
                        td.num data-label="Needed" { (number(d.threshold)) }
                        td data-label="Qualifies" class=(if d.qualified { "met" } else { "bad" }) {
                            (if d.qualified { "✔ yes" } else { "✘ no" })
                        }
                        td data-label="Items at 0" class=(if zero.is_empty() { "" } else { "bad" }) {
                            @if zero.is_empty() { "none" } @else { "⚠ " (zero.join(", ")) }
                        }
                    }
                }
            }
        }
    }
}

/// State, track and dates as a key/value table (a preview has none).
fn dates(d: &DesignationView) -> Markup {
    html! {
        @if !d.is_preview() {
            table.kv.designation-dates { tbody {
                tr { th scope="row" { "State" } td data-key="state" { (d.state) } }
                @if let Some(t) = &d.track {
                    tr { th scope="row" { "Counting track" } td data-key="track" { (t) } }
                }
                @if let Some(q) = d.qualified_since {
                    tr {
                        th scope="row" { "Qualified since" }
                        td data-key="qualified_since" { (rfc3339(q)) }
                    }
                }
                @if let (Some(x), Some(start)) = (&d.dates, d.term_start) {
                    tr {
                        th scope="row" { "Term" }
                        td { (start.to_string()) " to " (x.anniversary.to_string()) }
                    }
                    tr {
                        th scope="row" { "Enrolment anniversary" }
                        td data-key="anniversary" { (x.anniversary.to_string()) }
                    }
                    tr {
                        th scope="row" { "Renewal window" }
                        td data-key="renewal_window" {
                            (x.renewal_opens.to_string()) " to "
                            (x.window_closes().to_string()) " (inclusive)"
                        }
                    }
                    tr {
                        th scope="row" { "Lapses on" }
                        td data-key="lapses" { (x.lapses.to_string()) }
                    }
                } @else {
                    tr {
                        th scope="row" { "Enrolment anniversary" }
                        td data-key="anniversary" { "not enrolled" }
                    }
                }
            } }
        }
    }
}

fn stacked_bar(d: &DesignationView, zero: &[&str]) -> Markup {
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
    let items = d
        .items
        .iter()
        .map(|i| {
            format!(
                "{} {} of {}",
                i.name,
                number(i.points),
                number(i.max_points)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    // Each scoring item's segment: its left and right edges on the scale.
    let mut acc = 0.0;
    let segments: Vec<(usize, &_, f64, f64)> = d
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| i.points > 0.0)
        .map(|(n, i)| {
            let (x0, x1) = (x(acc), x(acc + i.points));
            acc += i.points;
            (n, i, x0, x1)
        })
        .collect();
    let tx = coord(x(d.threshold));
    let (title, desc) = (format!("dt-{}", d.id), format!("dd-{}", d.id));
    html! {
        div.chart {
            svg.designation-bar viewBox=(format!("0 0 {W} {}", coord(height))) role="img"
                aria-labelledby=(format!("{title} {desc}")) {
                title id=(title) {
                    (d.name) ": " (number(d.score)) " of " (number(d.threshold)) " points"
                }
                desc id=(desc) {
                    (items)
                    @if !zero.is_empty() { ". At 0: " (zero.join(", ")) }
                }
                rect x=(LEFT) y="18" width=(coord(RIGHT - LEFT)) height="26" fill="#e3e5e8" {}
                @for (n, i, x0, x1) in segments {
                    g.item {
                        title { (i.name) ": " (number(i.points)) " of " (number(i.max_points)) }
                        rect x=(coord(x0)) y="18" width=(coord((x1 - x0).max(1.0))) height="26"
                            fill=(FILLS[n % FILLS.len()]) stroke="#ffffff" stroke-width="1.5" {}
                        @if x1 - x0 > 22.0 {
                            text x=(coord((x0 + x1) / 2.0)) y="36" font-size="12"
                                text-anchor="middle" fill="#ffffff" { (number(i.points)) }
                        }
                    }
                }
                g.threshold {
                    line x1=(tx) y1="8" x2=(tx) y2="54" stroke="#1b1b1b" stroke-width="2"
                        stroke-dasharray="4 3" {}
                    text x=(tx) y="62" font-size="11" text-anchor="middle" fill="#1b1b1b" {
                        "threshold " (number(d.threshold))
                    }
                }
                text x=(LEFT) y="12" font-size="11" fill="#5a5a5a" { "score " (number(d.score)) }
                @if !zero.is_empty() {
                    g.zero-items {
                        rect x=(LEFT) y="66" width=(coord(RIGHT - LEFT)) height="16"
                            fill="#fdecea" stroke="#b3261e" {}
                        text x=(coord(LEFT + 6.0)) y="78" font-size="11" fill="#b3261e"
                            font-weight="700" { "⚠ at 0: " (zero.join(", ")) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::report::DesignationItemView;

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

    fn render(list: &[DesignationView], preview: bool) -> String {
        section(list, preview).into_string()
    }

    #[test]
    fn none_says_so() {
        let o = render(&[], false);
        assert!(o.contains("<h2 id=\"h-designations\">Designations</h2>"));
        assert!(o.contains("No designations in this rulebook"));
        assert!(!o.contains("<svg"));
    }

    #[test]
    fn stacked_bar_has_a_segment_per_scoring_item_the_threshold_and_zero_items() {
        let o = render(&[sample()], false);
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
        let o = render(&[d], true);
        assert!(o.contains("id=\"designations-preview\""));
        assert_eq!(o.matches("<tr class=\"designation\"").count(), 1, "{o}");
        assert!(o.contains("⚠ Customer success"), "{o}");
        assert!(!o.contains("<svg"), "{o}");
        assert!(!o.contains("anniversary"), "{o}");
    }

    #[test]
    fn hostile_ids_and_names_stay_text_in_elements_and_attributes() {
        let mut d = sample();
        d.id = "x\" onmouseover=\"alert(1)".into();
        d.name = "<script>alert('n')</script>".into();
        d.items[0].name = "</title><script>".into();
        for preview in [false, true] {
            let o = render(std::slice::from_ref(&d), preview);
            assert!(!o.contains("<script"), "{o}");
            // Inside a quoted value, never an attribute of its own.
            assert!(!o.contains("onmouseover=\""), "{o}");
            assert!(o.contains("data-designation=\"x&quot; onmouseover=&quot;alert(1)\""));
            assert!(o.contains("&lt;script&gt;alert('n')&lt;/script&gt;"), "{o}");
        }
    }

    #[test]
    fn a_score_over_the_scale_stays_inside_the_chart() {
        let mut d = sample();
        d.items[0].points = 500.0;
        d.score = 545.0;
        let o = render(&[d], false);
        for w in o.split("width=\"").skip(1) {
            let v: f64 = w.split('"').next().unwrap().parse().unwrap();
            assert!(v <= 960.0, "{w}");
        }
    }
}
