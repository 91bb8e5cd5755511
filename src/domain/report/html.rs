//! How the report looks: one HTML document with its CSS and SVG inline, no script and no
//! reference to anything outside it (only `#fragment` references between its own parts).
//!
//! Plain Rust writing into a `String`. Every interpolated text goes through [`esc`]; numbers
//! are formatted by the same helpers the command tables use. Charts are inline SVG with a
//! `<title>`, a `<desc>` and `role="img"`, and every chart has a table or text beside it
//! saying the same thing, so colour is never the only signal.

use std::fmt::Write;

mod timeline;

use chrono::{Datelike, NaiveDate};

use super::{CompetencyView, LevelView, RequirementView, Timeline, View, designations};
use crate::domain::membership::State;
use crate::rules::Level;
use crate::support::clock::rfc3339;

/// Escapes text for HTML element content and double- or single-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A level as people read it.
pub fn level_label(l: Option<Level>) -> &'static str {
    match l {
        None => "None",
        Some(Level::Silver) => "Silver",
        Some(Level::Gold) => "Gold",
    }
}

/// A number for SVG coordinates: finite, two decimals at most.
pub fn coord(x: f64) -> String {
    let x = if x.is_finite() { x } else { 0.0 };
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

const CSS: &str = r#"
:root { color-scheme: light; --ink:#1b1b1b; --muted:#5a5a5a; --line:#d0d0d0; --ok:#2e7d32;
  --short:#b26a00; --bad:#b3261e; --safe:#1565c0; --bg:#ffffff; --panel:#f5f6f8; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1100px; padding: 24px; font: 15px/1.45 system-ui, -apple-system,
  "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; color: var(--ink); background: var(--bg); }
h1 { font-size: 1.7em; margin: 0 0 4px; }
h2 { font-size: 1.3em; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 1.1em; margin: 18px 0 6px; }
h4 { font-size: 1em; margin: 12px 0 4px; }
p.sub { color: var(--muted); margin: 0 0 12px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid var(--line); }
thead th { background: var(--panel); font-weight: 600; }
tbody th { font-weight: 600; width: 14em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; border: 1px solid currentColor;
  font-size: .85em; font-weight: 600; }
.met { color: var(--ok); } .short { color: var(--short); } .bad { color: var(--bad); }
.summary { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; padding: 0; list-style: none; }
.summary li { background: var(--panel); padding: 10px 14px; border-radius: 6px; min-width: 10em; }
.summary b { display: block; font-size: 1.25em; }
.summary a { color: inherit; }
.chart { overflow-x: auto; margin: 8px 0; }
.chart svg { display: block; width: 100%; min-width: 560px; height: auto; }
svg.bar { width: 100%; max-width: 160px; height: 14px; vertical-align: middle; }
table.progress { table-layout: fixed; }
table.progress th:nth-child(1) { width: 36%; } table.progress th:nth-child(2),
table.progress th:nth-child(3) { width: 10%; } table.progress th:nth-child(4) { width: 18%; }
td.who { overflow-wrap: anywhere; font-size: .9em; }
tr.zero td, tr.zero th { background: #fdecea; }
.legend { display: flex; flex-wrap: wrap; gap: 16px; margin: 4px 0; padding: 0; list-style: none; color: var(--muted); }
.legend svg { width: 28px; height: 12px; vertical-align: middle; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 0 28px; }
.grid tbody th { width: 9em; }
footer { margin-top: 32px; color: var(--muted); font-size: .85em; }
@media (max-width: 640px) {
  .grid { display: block; }
  .summary { gap: 8px; } .summary li { flex: 1 1 40%; min-width: 0; padding: 8px 10px; }
  body { padding: 12px; font-size: 14px; }
  h1 { font-size: 1.35em; }
  table.stack, table.stack tbody, table.stack tr, table.stack th, table.stack td { display: block; width: 100%; }
  table.stack thead { display: none; }
  table.stack tr { border-bottom: 1px solid var(--line); padding: 6px 0; }
  table.stack td, table.stack th { border: 0; padding: 2px 4px; }
  table.stack td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); }
  td.num { text-align: left; }
  svg.bar { width: 120px; }
}
@page { size: A4; margin: 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 9.5pt; line-height: 1.3; background: #fff; color: #000; }
  h1 { font-size: 16pt; } h2 { font-size: 12.5pt; margin: 12px 0 4px; } h3 { margin: 8px 0 2px; }
  h4 { margin: 6px 0 2px; } p.sub { margin: 0 0 4px; } table { margin: 2px 0 6px; }
  th, td { padding: 2px 6px; }
  .summary { margin: 6px 0; gap: 6px; } .summary li { padding: 4px 8px; }
  h2 { break-after: avoid; }
  h3, h4 { break-after: avoid; }
  tr, .chart, svg { break-inside: avoid; }
  .chart { overflow: visible; }
  .chart svg { min-width: 0; }
  .summary li { border: 1px solid var(--line); }
}
"#;

/// The SVG patterns the charts share (hatching for "breaks a level" and "short").
const DEFS: &str = r##"<svg width="0" height="0" style="position:absolute" aria-hidden="true" focusable="false"><defs>
<pattern id="hatch-bad" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#b3261e"/><rect width="3" height="8" fill="#f2b8b5"/></pattern>
<pattern id="dots-short" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#b26a00"/><circle cx="3" cy="3" r="1.2" fill="#ffe0b2"/></pattern>
</defs></svg>"##;

/// Renders the whole page.
pub fn render(v: &View) -> String {
    let mut o = String::with_capacity(32 * 1024);
    let title = format!("Competency report: {}", v.org.name);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{DEFS}\n<header>\n<h1>{}</h1>\n\
         <p class=\"sub\">As of <time datetime=\"{at}\">{at}</time> · partner ID {}</p>\n",
        esc(&title),
        esc(&title),
        esc(&v.org.partner_id),
        at = esc(&rfc3339(v.at)),
    );
    summary(&mut o, v);
    o.push_str("</header>\n<main>\n");
    o.push_str("<div class=\"grid\">\n");
    organization(&mut o, v);
    membership(&mut o, v);
    o.push_str("</div>\n");
    designations::section(&mut o, &v.designations, v.designations_preview);
    competencies(&mut o, &v.competencies);
    alerts(&mut o, v);
    timeline::render(&mut o, &v.timeline);
    bus_factor(&mut o, v);
    let _ = write!(
        o,
        "</main>\n<footer><p>Generated by competency {} for {} at {}. The figures are those of \
         <code>competency membership status</code>, <code>competencies progress</code>, \
         <code>competencies risk</code>, <code>membership alerts</code>, <code>designations list</code> \
         and <code>designations score</code> with the same \
         <code>--now</code>.</p></footer>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        esc(&v.org.name),
        esc(&rfc3339(v.at)),
    );
    o
}

fn summary(o: &mut String, v: &View) {
    let (level, state) = match &v.membership {
        Some(m) => (
            if m.state == State::Lapsed {
                "None".to_owned()
            } else {
                level_label(Some(m.level())).to_owned()
            },
            m.state.as_str(),
        ),
        None => ("None".to_owned(), "none"),
    };
    let met = v
        .competencies
        .iter()
        .filter(|c| c.achieved.is_some())
        .count();
    let critical: usize = {
        let mut names: Vec<&str> = v
            .risks
            .iter()
            .flat_map(|r| r.critical.iter().map(String::as_str))
            .chain(
                v.designation_risks
                    .iter()
                    .flat_map(|r| r.critical.iter().map(String::as_str)),
            )
            .collect();
        names.sort_unstable();
        names.dedup();
        names.len()
    };
    let breaking = v
        .timeline
        .rows
        .iter()
        .flat_map(|r| &r.bars)
        .filter(|b| !b.breaks.is_empty())
        .count();
    let _ = writeln!(
        o,
        "<ul class=\"summary\" aria-label=\"At a glance\">\
         <li><a href=\"#membership\">Membership</a><b>{}{}</b></li>\
         <li><a href=\"#competencies\">Competencies met</a><b>{met} of {}</b></li>\
         <li><a href=\"#alerts\">Open alerts</a><b class=\"{}\">{}</b></li>\
         <li><a href=\"#timeline\">Level-breaking renewals in 12 months</a><b class=\"{}\">{breaking}</b></li>\
         <li><a href=\"#bus-factor\">Irreplaceable people</a><b>{critical}</b></li></ul>",
        esc(&level),
        if state == "none" {
            String::new()
        } else {
            format!(" ({})", esc(state))
        },
        v.competencies.len(),
        if v.alerts.is_empty() { "met" } else { "bad" },
        v.alerts.len(),
        if breaking == 0 { "met" } else { "bad" },
    );
}

fn organization(o: &mut String, v: &View) {
    let g = &v.org;
    let _ = write!(
        o,
        "<section id=\"organization\" aria-labelledby=\"h-organization\">\n\
         <h2 id=\"h-organization\">Organization</h2>\n<table class=\"kv\"><tbody>\
         <tr><th scope=\"row\">Name</th><td>{}</td></tr>\
         <tr><th scope=\"row\">Partner ID</th><td>{}</td></tr>\
         <tr><th scope=\"row\">Slug</th><td>{}</td></tr>\
         <tr><th scope=\"row\">Domain</th><td>{}</td></tr>\
         <tr><th scope=\"row\">Market</th><td>{}</td></tr>\
         </tbody></table>\n</section>\n",
        esc(&g.name),
        esc(&g.partner_id),
        esc(&g.slug),
        esc(&g.domain),
        esc(g.market.as_str()),
    );
}

fn membership(o: &mut String, v: &View) {
    o.push_str(
        "<section id=\"membership\" aria-labelledby=\"h-membership\">\n\
         <h2 id=\"h-membership\">Membership</h2>\n",
    );
    let Some(m) = &v.membership else {
        o.push_str(
            "<table class=\"kv\" id=\"membership-status\"><tbody>\
             <tr><th scope=\"row\">Level</th><td data-key=\"level\">none</td></tr>\
             <tr><th scope=\"row\">State</th><td data-key=\"state\">none</td></tr>\
             </tbody></table>\n<p>No membership has been bought: \
             <code>competency membership upgrade --level silver</code> buys one once a \
             competency is met at Silver.</p>\n</section>\n",
        );
        return;
    };
    let level = if m.state == State::Lapsed {
        "none"
    } else {
        m.level().as_str()
    };
    let d = &m.dates;
    let p = &m.current;
    let _ = writeln!(
        o,
        "<table class=\"kv\" id=\"membership-status\"><tbody>\
         <tr><th scope=\"row\">Level</th><td data-key=\"level\">{level}</td></tr>\
         <tr><th scope=\"row\">State</th><td data-key=\"state\">{}</td></tr>\
         <tr><th scope=\"row\">Purchased</th><td data-key=\"purchased\">{}</td></tr>\
         <tr><th scope=\"row\">Term</th><td>{} to {}</td></tr>\
         <tr><th scope=\"row\">Anniversary</th><td data-key=\"anniversary\">{}</td></tr>\
         <tr><th scope=\"row\">Renewal window</th><td>{} to {} (inclusive)</td></tr>\
         <tr><th scope=\"row\">Lapses on</th><td>{}</td></tr>\
         </tbody></table>",
        esc(m.state.as_str()),
        esc(&rfc3339(p.purchased_at)),
        p.term_start,
        d.anniversary,
        d.anniversary,
        d.renewal_opens,
        d.window_closes(),
        d.lapses,
    );
    if v.displayed.is_empty() {
        o.push_str("<p>The business profile displays no competency.</p>\n");
    } else {
        let list: Vec<String> = v
            .displayed
            .iter()
            .map(|d| format!("{} ({})", d.name, level_label(Some(d.level))))
            .collect();
        let _ = writeln!(
            o,
            "<p id=\"profile\"><b>The business profile displays {}:</b> {}.</p>",
            v.displayed.len(),
            esc(&list.join(", "))
        );
    }
    o.push_str("</section>\n");
}

fn competencies(o: &mut String, list: &[CompetencyView]) {
    o.push_str(
        "<section id=\"competencies\" aria-labelledby=\"h-competencies\">\n\
         <h2 id=\"h-competencies\">Competencies</h2>\n\
         <p class=\"sub\">Each level against the option closest to done (the first met one when \
         met), as <code>competencies progress</code> shows it.</p>\n",
    );
    if list.is_empty() {
        o.push_str("<p>The rulebook has no competency.</p>\n");
    }
    for c in list {
        let _ = write!(
            o,
            "<article class=\"competency\" id=\"competency-{}\" data-competency=\"{}\" data-level=\"{}\">\n\
             <h3>{} <span class=\"badge {}\">{}</span></h3>\n<p class=\"sub\">{}</p>\n",
            esc(&c.id),
            esc(&c.id),
            c.achieved.map_or("none", Level::as_str),
            esc(&c.name),
            if c.achieved.is_some() { "met" } else { "short" },
            level_label(c.achieved),
            esc(&c.area),
        );
        for l in &c.levels {
            level_table(o, c, l);
        }
        o.push_str("</article>\n");
    }
    o.push_str("</section>\n");
}

fn level_table(o: &mut String, c: &CompetencyView, l: &LevelView) {
    let _ = write!(
        o,
        "<h4>{} <span class=\"{}\">{}</span>: {}</h4>\n\
         <table class=\"stack progress\" data-competency=\"{}\" data-level=\"{}\" data-met=\"{}\">\
         <thead><tr><th scope=\"col\">Requirement</th><th scope=\"col\">Have</th>\
         <th scope=\"col\">Need</th><th scope=\"col\">Progress</th><th scope=\"col\">Who counts</th>\
         </tr></thead><tbody>",
        level_label(Some(l.level)),
        if l.met { "met" } else { "short" },
        if l.met { "✔ met" } else { "✘ not met" },
        esc(&l.option),
        esc(&c.id),
        l.level.as_str(),
        l.met,
    );
    for r in &l.requirements {
        requirement_row(o, r);
    }
    o.push_str("</tbody></table>\n");
}

fn requirement_row(o: &mut String, r: &RequirementView) {
    let frac = if r.need <= 0.0 {
        1.0
    } else {
        (r.have / r.need).clamp(0.0, 1.0)
    };
    // `+ 0.0` turns -0 (a have of -0.0) into 0.
    let pct = (frac * 100.0).round() + 0.0;
    let status = if r.met { "met" } else { "short" };
    let label = format!(
        "{}: {} of {} ({}%, {})",
        r.description,
        r.have_text,
        r.need_text,
        pct,
        if r.met { "met" } else { "not met" }
    );
    let who = if r.counted.is_empty() {
        "—".to_owned()
    } else {
        r.counted.join(", ")
    };
    let _ = write!(
        o,
        "<tr data-have=\"{}\" data-need=\"{}\" data-met=\"{}\"><td data-label=\"Requirement\">{}</td>\
         <td class=\"num have\" data-label=\"Have\">{}</td><td class=\"num need\" data-label=\"Need\">{}</td>\
         <td data-label=\"Progress\"><svg class=\"bar\" viewBox=\"0 0 160 14\" role=\"img\" aria-label=\"{}\">\
         <title>{}</title><rect width=\"160\" height=\"14\" rx=\"3\" fill=\"#e3e5e8\"/>\
         <rect width=\"{}\" height=\"14\" rx=\"3\" fill=\"{}\"/></svg> \
         <span class=\"{status}\">{}</span></td><td class=\"who\" data-label=\"Who counts\">{}</td></tr>",
        r.have,
        r.need,
        r.met,
        esc(&r.description),
        esc(&r.have_text),
        esc(&r.need_text),
        esc(&label),
        esc(&label),
        coord(frac * 160.0),
        if r.met { "#2e7d32" } else { "url(#dots-short)" },
        if r.met {
            "✔ met".to_owned()
        } else {
            format!("{pct}%")
        },
        esc(&who),
    );
}

fn alerts(o: &mut String, v: &View) {
    o.push_str(
        "<section id=\"alerts\" aria-labelledby=\"h-alerts\">\n<h2 id=\"h-alerts\">Open alerts</h2>\n",
    );
    if v.alerts.is_empty() {
        o.push_str("<p class=\"met\">No open alert: every competency the membership displays is still met.</p>\n</section>\n");
        return;
    }
    o.push_str(
        "<table class=\"stack\" id=\"alerts-table\"><thead><tr><th scope=\"col\">Raised</th>\
         <th scope=\"col\">Competency</th><th scope=\"col\">Level</th>\
         <th scope=\"col\">Requirement short</th><th scope=\"col\">Cause</th></tr></thead><tbody>",
    );
    for a in &v.alerts {
        let _ = write!(
            o,
            "<tr data-competency=\"{}\"><td data-label=\"Raised\">{}</td><th scope=\"row\">{}</th>\
             <td data-label=\"Level\">{}</td><td data-label=\"Requirement short\">{}</td>\
             <td data-label=\"Cause\" class=\"cause\">{}</td></tr>",
            esc(&a.competency),
            esc(&rfc3339(a.raised)),
            esc(&a.name),
            level_label(Some(a.level)),
            esc(&a.requirement),
            esc(a.cause.as_deref().unwrap_or("(unknown)")),
        );
    }
    o.push_str("</tbody></table>\n");
    if let Some(a) = v.alerts.first() {
        let _ = writeln!(o, "<p class=\"bad\">{}</p>", esc(&a.message));
    }
    o.push_str("</section>\n");
}

fn bus_factor(o: &mut String, v: &View) {
    o.push_str(
        "<section id=\"bus-factor\" aria-labelledby=\"h-bus-factor\">\n\
         <h2 id=\"h-bus-factor\">Bus factor</h2>\n\
         <p class=\"sub\">For each level met today, the people whose departure alone would break it \
         (as <code>competencies risk</code>); for each designation enrolled or qualified, those whose \
         departure alone would stop it qualifying (as <code>designations what-if --remove-user</code>).</p>\n",
    );
    if v.risks.is_empty() {
        o.push_str("<p>No level is met today, so no departure can break one.</p>\n");
        designation_risks(o, v);
        o.push_str("</section>\n");
        return;
    }
    o.push_str(
        "<table class=\"stack\" id=\"risk-table\"><thead><tr><th scope=\"col\">Competency</th>\
         <th scope=\"col\">Level</th><th scope=\"col\">Would break if one of these left</th></tr></thead><tbody>",
    );
    for r in &v.risks {
        let _ = write!(
            o,
            "<tr data-competency=\"{}\" data-level=\"{}\"><th scope=\"row\">{}</th><td data-label=\"Level\">{}</td>\
             <td data-label=\"Critical people\" class=\"critical {}\">{}</td></tr>",
            esc(&r.competency),
            r.level.as_str(),
            esc(&r.name),
            level_label(Some(r.level)),
            if r.critical.is_empty() { "met" } else { "bad" },
            if r.critical.is_empty() {
                "(no single departure would break it)".to_owned()
            } else {
                esc(&r.critical.join(", "))
            },
        );
    }
    o.push_str("</tbody></table>\n");
    designation_risks(o, v);
    o.push_str("</section>\n");
}

/// The designations enrolled or qualified now and whose departure alone would stop each
/// qualifying (as `designations what-if --remove-user`).
fn designation_risks(o: &mut String, v: &View) {
    if v.designation_risks.is_empty() {
        return;
    }
    o.push_str(
        "<table class=\"stack\" id=\"designation-risk-table\"><thead><tr>\
         <th scope=\"col\">Designation</th>\
         <th scope=\"col\">Would stop qualifying if one of these left</th></tr></thead><tbody>",
    );
    for r in &v.designation_risks {
        let _ = write!(
            o,
            "<tr data-designation=\"{}\"><th scope=\"row\">{}</th>\
             <td data-label=\"Critical people\" class=\"critical {}\">{}</td></tr>",
            esc(&r.id),
            esc(&r.name),
            if r.critical.is_empty() { "met" } else { "bad" },
            if r.critical.is_empty() {
                "(no single departure would stop it qualifying)".to_owned()
            } else {
                esc(&r.critical.join(", "))
            },
        );
    }
    o.push_str("</tbody></table>\n");
}

/// Cuts text for a chart label (the full text is in the table beside the chart).
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn coord_is_finite_and_short() {
        assert_eq!(coord(12.5), "12.5");
        assert_eq!(coord(3.0), "3");
        assert_eq!(coord(f64::NAN), "0");
    }

    #[test]
    fn truncate_keeps_short_text() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("abcdef", 4), "abc…");
    }
}
