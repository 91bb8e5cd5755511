//! The renewal timeline as an inline SVG chart, with the table beside it that says the same.

use super::*;

/// Days from `from` to `d`, as a fraction of the timeline.
fn fraction(t: &Timeline, d: NaiveDate) -> f64 {
    let span = (t.to - t.from).num_days().max(1) as f64;
    ((d - t.from).num_days() as f64 / span).clamp(0.0, 1.0)
}

fn month_name(m: u32) -> &'static str {
    [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(m as usize + 11) % 12]
}

pub(super) fn render(o: &mut String, t: &Timeline) {
    let bars: usize = t.rows.iter().map(|r| r.bars.len()).sum();
    o.push_str(
        "<section id=\"timeline\" aria-labelledby=\"h-timeline\">\n\
         <h2 id=\"h-timeline\">Renewal timeline</h2>\n",
    );
    if bars == 0 {
        let _ = writeln!(
            o,
            "<p class=\"met\">Nothing any level relies on stops counting in the next 12 months \
             ({} to {}).</p>\n</section>",
            t.from, t.to
        );
        return;
    }
    let _ = writeln!(
        o,
        "<p class=\"sub\">The certifications something relies on that stop counting between \
         {} and {} — exactly those of <code>competency achievements renewals</code>: one row \
         per person, each bar runs until the day it stops counting. Hatched red with “breaks a \
         level”: losing it alone would break a level met today or stop a designation \
         qualifying.</p>",
        t.from, t.to
    );
    const W: f64 = 960.0;
    const LEFT: f64 = 210.0;
    const RIGHT: f64 = 700.0;
    const LANE: f64 = 22.0;
    const TOP: f64 = 28.0;
    let height = TOP
        + t.rows
            .iter()
            .map(|r| (r.bars.len() + 1) as f64 * LANE)
            .sum::<f64>()
        + 8.0;
    let x = |d: NaiveDate| LEFT + fraction(t, d) * (RIGHT - LEFT);
    let breaking = t
        .rows
        .iter()
        .flat_map(|r| &r.bars)
        .filter(|b| !b.breaks.is_empty())
        .count();
    let _ = write!(
        o,
        "<ul class=\"legend\"><li><svg viewBox=\"0 0 28 12\" aria-hidden=\"true\"><rect width=\"28\" height=\"12\" fill=\"url(#hatch-bad)\"/></svg> \
         breaks a level if lost</li><li><svg viewBox=\"0 0 28 12\" aria-hidden=\"true\"><rect width=\"28\" height=\"12\" fill=\"#1565c0\"/></svg> \
         covered by others</li></ul>\n<div class=\"chart\"><svg id=\"timeline-chart\" viewBox=\"0 0 {W} {}\" role=\"img\" \
         aria-labelledby=\"timeline-title timeline-desc\"><title id=\"timeline-title\">Renewal timeline, {} to {}</title>\
         <desc id=\"timeline-desc\">{} achievements of {} people stop counting in the next 12 months; {} of them would break a level. \
         The table below lists each one.</desc>",
        coord(height),
        t.from,
        t.to,
        bars,
        t.rows.len(),
        breaking,
    );
    // Month grid: the first of each month inside the timeline.
    let mut m = NaiveDate::from_ymd_opt(t.from.year(), t.from.month(), 1).unwrap_or(t.from);
    while m <= t.to {
        if m >= t.from {
            let gx = coord(x(m));
            let _ = write!(
                o,
                "<line x1=\"{gx}\" y1=\"{}\" x2=\"{gx}\" y2=\"{}\" stroke=\"#d0d0d0\"/>\
                 <text x=\"{gx}\" y=\"16\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5a5a5a\">{}</text>",
                coord(TOP - 6.0),
                coord(height - 4.0),
                if m.month() == 1 {
                    format!("{} {}", month_name(m.month()), m.year())
                } else {
                    month_name(m.month()).to_owned()
                },
            );
        }
        match m.checked_add_months(chrono::Months::new(1)) {
            Some(next) => m = next,
            None => break,
        }
    }
    let mut y = TOP;
    for (i, r) in t.rows.iter().enumerate() {
        if i % 2 == 1 {
            let _ = write!(
                o,
                "<rect x=\"0\" y=\"{}\" width=\"{W}\" height=\"{}\" fill=\"#f5f6f8\"/>",
                coord(y),
                coord((r.bars.len() + 1) as f64 * LANE)
            );
        }
        let _ = write!(
            o,
            "<g class=\"person\" data-user=\"{}\"><text x=\"6\" y=\"{}\" font-size=\"13\" font-weight=\"600\" fill=\"#1b1b1b\">{}</text>",
            esc(&r.username),
            coord(y + 15.0),
            // The local part: the organization's domain is the same for everyone, and the
            // full name is in the tooltip and the table.
            esc(&truncate(
                r.username.split('@').next().unwrap_or(&r.username),
                28
            )),
        );
        y += LANE;
        for b in &r.bars {
            let end = x(b.stops);
            let breaks = !b.breaks.is_empty();
            let _ = write!(
                o,
                "<g class=\"renewal\" data-code=\"{}\" data-stops=\"{}\" data-breaks=\"{}\">\
                 <title>{}</title>\
                 <text x=\"20\" y=\"{}\" font-size=\"12\" fill=\"#1b1b1b\">{}</text>\
                 <rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"14\" rx=\"2\" fill=\"{}\" stroke=\"{}\"/>\
                 <text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"{}\"{}>until {}{}</text></g>",
                esc(&b.code),
                b.stops,
                breaks,
                esc(&format!(
                    "{}: {} stops counting on {}{}",
                    r.username,
                    b.code,
                    b.stops,
                    if breaks {
                        format!("; losing it: {}", b.breaks.join("; "))
                    } else {
                        String::new()
                    }
                )),
                coord(y + 12.0),
                esc(&truncate(&b.code, 26)),
                coord(LEFT),
                coord(y + 2.0),
                coord((end - LEFT).max(2.0)),
                if breaks { "url(#hatch-bad)" } else { "#1565c0" },
                if breaks { "#b3261e" } else { "#0d47a1" },
                coord(RIGHT + 8.0),
                coord(y + 13.0),
                if breaks { "#b3261e" } else { "#1b1b1b" },
                if breaks { " font-weight=\"700\"" } else { "" },
                b.stops,
                if breaks { " · breaks a level" } else { "" },
            );
            y += LANE;
        }
        o.push_str("</g>");
    }
    o.push_str("</svg></div>\n");
    // The same data as a table: the text alternative, and what a screen reader reads.
    o.push_str(
        "<table class=\"stack\" id=\"timeline-table\"><thead><tr><th scope=\"col\">Person</th>\
         <th scope=\"col\">Achievement</th><th scope=\"col\">Stops counting on</th>\
         <th scope=\"col\">If lost</th></tr></thead><tbody>",
    );
    for r in &t.rows {
        for b in &r.bars {
            let _ = write!(
                o,
                "<tr data-breaks=\"{}\"><th scope=\"row\">{}</th><td data-label=\"Achievement\">{}</td>\
                 <td data-label=\"Stops counting on\">{}</td><td data-label=\"If lost\" class=\"{}\">{}</td></tr>",
                !b.breaks.is_empty(),
                esc(&r.username),
                esc(&b.code),
                b.stops,
                if b.breaks.is_empty() { "" } else { "bad" },
                if b.breaks.is_empty() {
                    "covered by others".to_owned()
                } else {
                    esc(&format!("⚠ {}", b.breaks.join("; ")))
                },
            );
        }
    }
    o.push_str("</tbody></table>\n</section>\n");
}
