//! The renewal timeline as an inline SVG chart, with the table beside it that says the same.

use chrono::{Datelike, NaiveDate};
use maud::{Markup, html};

use super::{coord, truncate};
use crate::domain::report::{Timeline, TimelineBar, TimelineRow};

const W: f64 = 960.0;
const LEFT: f64 = 210.0;
const RIGHT: f64 = 700.0;
const LANE: f64 = 22.0;
const TOP: f64 = 28.0;

fn month_name(m: u32) -> &'static str {
    [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(m as usize + 11) % 12]
}

pub(super) fn section(t: &Timeline) -> Markup {
    let (from, to) = (t.from.to_string(), t.to.to_string());
    html! {
        section #timeline aria-labelledby="h-timeline" {
            h2 #h-timeline { "Renewal timeline" }
            @if t.bars() == 0 {
                p.met {
                    "Nothing any level relies on stops counting in the next 12 months ("
                    (from) " to " (to) ")."
                }
            } @else {
                p.sub {
                    "The certifications something relies on that stop counting between "
                    (from) " and " (to) " — exactly those of "
                    code { "competency achievements renewals" }
                    ": one row per person, each bar runs until the day it stops counting. \
                     Hatched red with “breaks a level”: losing it alone would break a level met \
                     today or stop a designation qualifying."
                }
                ul.legend {
                    li {
                        svg viewBox="0 0 28 12" aria-hidden="true" {
                            rect width="28" height="12" fill="url(#hatch-bad)" {}
                        }
                        " breaks a level if lost"
                    }
                    li {
                        svg viewBox="0 0 28 12" aria-hidden="true" {
                            rect width="28" height="12" fill="#1565c0" {}
                        }
                        " covered by others"
                    }
                }
                (chart(t))
                (table(t))
            }
        }
    }
}

fn chart(t: &Timeline) -> Markup {
    let height = TOP
        + t.rows
            .iter()
            .map(|r| (r.bars.len() + 1) as f64 * LANE)
            .sum::<f64>()
        + 8.0;
    let x = |d: NaiveDate| LEFT + t.position(d) * (RIGHT - LEFT);
    // Each person's top edge: their rows stack one lane for the name, one per bar.
    let mut tops = Vec::with_capacity(t.rows.len());
    let mut y = TOP;
    for r in &t.rows {
        tops.push(y);
        y += (r.bars.len() + 1) as f64 * LANE;
    }
    html! {
        div.chart {
            svg #timeline-chart viewBox=(format!("0 0 {W} {}", coord(height))) role="img"
                aria-labelledby="timeline-title timeline-desc" {
                title #timeline-title { "Renewal timeline, " (t.from.to_string()) " to " (t.to.to_string()) }
                desc #timeline-desc {
                    (t.bars()) " achievements of " (t.rows.len())
                    " people stop counting in the next 12 months; " (t.breaking())
                    " of them would break a level. The table below lists each one."
                }
                // Month grid: the first of each month inside the timeline.
                @for m in t.months() {
                    @let gx = coord(x(m));
                    line x1=(gx) y1=(coord(TOP - 6.0)) x2=(gx) y2=(coord(height - 4.0))
                        stroke="#d0d0d0" {}
                    text x=(gx) y="16" font-size="11" text-anchor="middle" fill="#5a5a5a" {
                        (month_name(m.month()))
                        @if m.month() == 1 { " " (m.year()) }
                    }
                }
                @for (i, (r, top)) in t.rows.iter().zip(tops).enumerate() {
                    @if i % 2 == 1 {
                        rect x="0" y=(coord(top)) width=(W)
                            height=(coord((r.bars.len() + 1) as f64 * LANE)) fill="#f5f6f8" {}
                    }
                    (person(r, top, &x))
                }
            }
        }
    }
}

/// One person's lane: their name, then one bar per certification, each ending the day it
/// stops counting.
fn person(r: &TimelineRow, top: f64, x: &dyn Fn(NaiveDate) -> f64) -> Markup {
    html! {
        g.person data-user=(r.username) {
            text x="6" y=(coord(top + 15.0)) font-size="13" font-weight="600" fill="#1b1b1b" {
                // The local part: the organization's domain is the same for everyone, and
                // the full name is in the tooltip and the table.
                (truncate(r.username.split('@').next().unwrap_or(&r.username), 28))
            }
            @for (n, b) in r.bars.iter().enumerate() {
                (bar(r, b, top + (n + 1) as f64 * LANE, x(b.stops)))
            }
        }
    }
}

fn bar(r: &TimelineRow, b: &TimelineBar, y: f64, end: f64) -> Markup {
    let breaks = b.breaks_level();
    let stops = b.stops.to_string();
    html! {
        g.renewal data-code=(b.code) data-stops=(stops) data-breaks=(breaks.to_string()) {
            title {
                (r.username) ": " (b.code) " stops counting on " (stops)
                @if breaks { "; losing it: " (b.breaks.join("; ")) }
            }
            text x="20" y=(coord(y + 12.0)) font-size="12" fill="#1b1b1b" {
                (truncate(&b.code, 26))
            }
            rect x=(coord(LEFT)) y=(coord(y + 2.0)) width=(coord((end - LEFT).max(2.0)))
                height="14" rx="2" fill=(if breaks { "url(#hatch-bad)" } else { "#1565c0" })
                stroke=(if breaks { "#b3261e" } else { "#0d47a1" }) {}
            text x=(coord(RIGHT + 8.0)) y=(coord(y + 13.0)) font-size="12"
                fill=(if breaks { "#b3261e" } else { "#1b1b1b" })
                font-weight=[breaks.then_some("700")] {
                "until " (stops)
                @if breaks { " · breaks a level" }
            }
        }
    }
}

/// The same data as a table: the text alternative, and what a screen reader reads.
fn table(t: &Timeline) -> Markup {
    html! {
        table.stack #timeline-table {
            thead { tr {
                th scope="col" { "Person" }
                th scope="col" { "Achievement" }
                th scope="col" { "Stops counting on" }
                th scope="col" { "If lost" }
            } }
            tbody {
                @for r in &t.rows {
                    @for b in &r.bars {
                        tr data-breaks=(b.breaks_level().to_string()) {
                            th scope="row" { (r.username) }
                            td data-label="Achievement" { (b.code) }
                            td data-label="Stops counting on" { (b.stops.to_string()) }
                            td data-label="If lost" class=(if b.breaks_level() { "bad" } else { "" }) {
                                @if b.breaks_level() {
                                    "⚠ " (b.breaks.join("; "))
                                } @else {
                                    "covered by others"
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeline(username: &str, code: &str, breaks: &[&str]) -> Timeline {
        let day = |d| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        Timeline {
            from: day("2026-12-01"),
            to: day("2027-12-01"),
            rows: vec![TimelineRow {
                username: username.into(),
                bars: vec![TimelineBar {
                    code: code.into(),
                    stops: day("2027-03-15"),
                    breaks: breaks.iter().map(|b| (*b).to_owned()).collect(),
                }],
            }],
        }
    }

    #[test]
    fn nothing_stopping_says_so_without_a_chart() {
        let mut t = timeline("a@x.test", "AZ-104", &[]);
        t.rows.clear();
        let o = section(&t).into_string();
        assert!(
            o.contains("Nothing any level relies on stops counting"),
            "{o}"
        );
        assert!(!o.contains("<svg"), "{o}");
    }

    #[test]
    fn a_bar_ends_on_its_day_and_says_what_it_breaks() {
        let o = section(&timeline(
            "ann@x.test",
            "AZ-104",
            &["Cloud Platform gold breaks"],
        ))
        .into_string();
        // 2027-03-15 is 104 of 365 days in: 210 + 104/365 * 490 = 349.62.
        assert!(o.contains("width=\"139.62\""), "{o}");
        assert!(o.contains("fill=\"url(#hatch-bad)\""), "{o}");
        assert!(o.contains("⚠ Cloud Platform gold breaks"), "{o}");
        assert!(o.contains(">Mar<"), "{o}");
        assert!(o.contains(">Jan 2027<"), "{o}");
    }

    #[test]
    fn hostile_user_names_and_codes_stay_text_in_elements_and_attributes() {
        let o = section(&timeline(
            "\"><script>alert(1)</script>@x.test",
            "<img src=x onerror=alert(2)>",
            &["<b>gold</b> breaks"],
        ))
        .into_string();
        for raw in ["<script", "<img", "<b>"] {
            assert!(!o.contains(raw), "{raw} in {o}");
        }
        assert!(o.contains("data-user=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;@x.test\""));
        assert!(
            o.contains("data-code=\"&lt;img src=x onerror=alert(2)&gt;\""),
            "{o}"
        );
        assert!(o.contains("&lt;b&gt;gold&lt;/b&gt; breaks"), "{o}");
    }
}
