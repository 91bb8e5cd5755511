//! The page's inline CSS and the SVG patterns its charts share.

use maud::{Markup, html};

pub(super) const CSS: &str = r#"
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

/// The SVG patterns the charts share (hatching for "breaks a level" and "short"), referred
/// to as `url(#hatch-bad)` and `url(#dots-short)`.
pub(super) fn defs() -> Markup {
    html! {
        svg width="0" height="0" style="position:absolute" aria-hidden="true" focusable="false" {
            defs {
                pattern #hatch-bad width="8" height="8" patternUnits="userSpaceOnUse"
                    patternTransform="rotate(45)" {
                    rect width="8" height="8" fill="#b3261e" {}
                    rect width="3" height="8" fill="#f2b8b5" {}
                }
                pattern #dots-short width="6" height="6" patternUnits="userSpaceOnUse" {
                    rect width="6" height="6" fill="#b26a00" {}
                    circle cx="3" cy="3" r="1.2" fill="#ffe0b2" {}
                }
            }
        }
    }
}
