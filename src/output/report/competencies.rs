//! The competencies section: each competency's levels and their requirements, each with a
//! progress bar whose label says the same in words.

use maud::{Markup, html};

use super::{coord, level_label};
use crate::domain::report::{CompetencyView, LevelView, RequirementView};
use crate::rules::Level;

/// Width of a requirement's progress bar in SVG units.
const BAR: f64 = 160.0;

pub(super) fn section(list: &[CompetencyView]) -> Markup {
    html! {
        section #competencies aria-labelledby="h-competencies" {
            h2 #h-competencies { "Competencies" }
            p.sub {
                "Each level against the option closest to done (the first met one when met), as "
                code { "competencies progress" } " shows it."
            }
            @if list.is_empty() {
                p { "The rulebook has no competency." }
            }
            @for c in list {
                article.competency id=(format!("competency-{}", c.id)) data-competency=(c.id)
                    data-level=(c.achieved.map_or("none", Level::as_str)) {
                    h3 {
                        (c.name) " "
                        span.badge.(if c.achieved.is_some() { "met" } else { "short" }) {
                            (level_label(c.achieved))
                        }
                    }
                    p.sub { (c.area) }
                    @for l in &c.levels { (level_table(c, l)) }
                }
            }
        }
    }
}

fn level_table(c: &CompetencyView, l: &LevelView) -> Markup {
    html! {
        h4 {
            (level_label(Some(l.level))) " "
            span class=(if l.met { "met" } else { "short" }) {
                (if l.met { "✔ met" } else { "✘ not met" })
            }
            ": " (l.option)
        }
        table.stack.progress data-competency=(c.id) data-level=(l.level.as_str())
            data-met=(l.met.to_string()) {
            thead { tr {
                th scope="col" { "Requirement" }
                th scope="col" { "Have" }
                th scope="col" { "Need" }
                th scope="col" { "Progress" }
                th scope="col" { "Who counts" }
            } }
            tbody {
                @for r in &l.requirements { (requirement_row(r)) }
            }
        }
    }
}

fn requirement_row(r: &RequirementView) -> Markup {
    let status = if r.met { "met" } else { "short" };
    let label = format!(
        "{}: {} of {} ({}%, {})",
        r.description,
        r.have_text,
        r.need_text,
        r.percent,
        if r.met { "met" } else { "not met" }
    );
    html! {
        tr data-have=(coord(r.have)) data-need=(coord(r.need)) data-met=(r.met.to_string())
            // People waiting out the progress delay: when they count (the Have cell says
            // how many).
            data-pending-until=[r.pending_until.map(crate::rules::engine::pending::instant)] {
            td data-label="Requirement" { (r.description) }
            td.num.have data-label="Have" { (r.have_text) }
            td.num.need data-label="Need" { (r.need_text) }
            td data-label="Progress" {
                svg.bar viewBox="0 0 160 14" role="img" aria-label=(label) {
                    title { (label) }
                    rect width="160" height="14" rx="3" fill="#e3e5e8" {}
                    rect width=(coord(r.fraction * BAR)) height="14" rx="3"
                        fill=(if r.met { "#2e7d32" } else { "url(#dots-short)" }) {}
                }
                " "
                span class=(status) {
                    @if r.met { "✔ met" } @else { (r.percent) "%" }
                }
            }
            td.who data-label="Who counts" {
                @if r.counted.is_empty() { "—" } @else { (r.counted.join(", ")) }
            }
        }
    }
}
