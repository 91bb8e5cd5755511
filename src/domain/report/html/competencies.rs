//! The competencies section: each competency's levels and their requirements.

use super::*;

pub(super) fn competencies(o: &mut String, list: &[CompetencyView]) {
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

pub(super) fn level_table(o: &mut String, c: &CompetencyView, l: &LevelView) {
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

pub(super) fn requirement_row(o: &mut String, r: &RequirementView) {
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
        "<tr data-have=\"{}\" data-need=\"{}\" data-met=\"{}\"{}><td data-label=\"Requirement\">{}</td>\
         <td class=\"num have\" data-label=\"Have\">{}</td><td class=\"num need\" data-label=\"Need\">{}</td>\
         <td data-label=\"Progress\"><svg class=\"bar\" viewBox=\"0 0 160 14\" role=\"img\" aria-label=\"{}\">\
         <title>{}</title><rect width=\"160\" height=\"14\" rx=\"3\" fill=\"#e3e5e8\"/>\
         <rect width=\"{}\" height=\"14\" rx=\"3\" fill=\"{}\"/></svg> \
         <span class=\"{status}\">{}</span></td><td class=\"who\" data-label=\"Who counts\">{}</td></tr>",
        super::coord(r.have),
        super::coord(r.need),
        r.met,
        // People waiting out the progress delay: when they count (the Have cell says how many).
        r.pending_until.map_or(String::new(), |t| format!(
            " data-pending-until=\"{}\"",
            crate::rules::engine::pending::instant(t)
        )),
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
