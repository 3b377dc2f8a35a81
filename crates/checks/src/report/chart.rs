//! The SVG chart: one stacked bar per cycle, one segment per phase, with axes, a legend and the
//! recreate budget as a dashed line. Inline SVG only: the page needs no script and no network.

use std::fmt::Write as _;

use super::markup::escape;
use super::{Report, Row};
use crate::promote::millis;
use vixens_ops::evidence::Verdict;

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 380.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = WIDTH - 24.0;
const TOP: f64 = 64.0;
const BOTTOM: f64 = HEIGHT - 56.0;
const MAX_BAR_WIDTH: f64 = 56.0;

/// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
const PALETTE: [&str; 8] = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"];

/// A failed cycle's mark.
const FAILED: &str = "#C62828";

/// The colour of the `i`th phase.
pub(super) fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// The chart of `report`'s cycles as an `<svg>` element.
pub(super) fn render(report: &Report) -> String {
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="chart-title" font-family="system-ui, sans-serif" font-size="12">"#
    );
    let _ = write!(
        svg,
        r#"<title id="chart-title">Phase durations of the last {} cycles of {}</title>"#,
        report.cycles.len(),
        escape(&report.environment)
    );
    if report.cycles.is_empty() {
        let _ =
            write!(svg, r##"<text x="{}" y="{}" text-anchor="middle" fill="#555">No cycles recorded yet.</text></svg>"##, WIDTH / 2.0, HEIGHT / 2.0);
        return svg;
    }
    let scale = Scale::for_report(report);
    legend(&mut svg, &report.phases);
    axes(&mut svg, &scale);
    let slot = (RIGHT - LEFT) / report.cycles.len() as f64;
    for (i, row) in report.cycles.iter().enumerate() {
        bar(&mut svg, report, &scale, row, LEFT + slot * i as f64, slot);
    }
    budget(&mut svg, report, &scale);
    svg.push_str("</svg>");
    svg
}

/// The y axis: its unit, its top and its tick step, all in that unit.
struct Scale {
    unit_ms: f64,
    unit: &'static str,
    top: f64,
    step: f64,
}

impl Scale {
    fn for_report(report: &Report) -> Self {
        let tallest = report.cycles.iter().map(|c| stack_ms(c).max(c.record.total_ms)).max().unwrap_or(0);
        // The budget line is drawn when it does not squash the bars into a sliver.
        let budget_fits = report.budget_ms as f64 <= tallest as f64 * 1.5;
        let highest = if budget_fits { tallest.max(report.budget_ms) } else { tallest }.max(1);
        let (unit_ms, unit) = if highest < 120_000 { (1_000.0, "seconds") } else { (60_000.0, "minutes") };
        let step = nice_step(highest as f64 * 1.05 / unit_ms / 5.0);
        let top = (highest as f64 * 1.05 / unit_ms / step).ceil() * step;
        Self { unit_ms, unit, top, step }
    }

    /// The y coordinate of `ms`.
    fn y(&self, ms: f64) -> f64 {
        BOTTOM - (ms / self.unit_ms / self.top) * (BOTTOM - TOP)
    }
}

/// The smallest 1, 2 or 5 × 10ⁿ at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let raw = raw.max(f64::MIN_POSITIVE);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * magnitude).find(|s| *s >= raw * 0.999_999).unwrap_or(10.0 * magnitude)
}

fn stack_ms(row: &Row) -> u64 {
    row.record.phases.iter().map(|p| p.ms).sum()
}

fn legend(svg: &mut String, phases: &[String]) {
    let mut x = LEFT;
    for (i, phase) in phases.iter().enumerate() {
        let _ = write!(svg, r#"<rect x="{x}" y="16" width="14" height="14" rx="2" fill="{}"/>"#, colour(i));
        let _ = write!(svg, r#"<text x="{}" y="27">{}</text>"#, x + 20.0, escape(phase));
        x += 32.0 + 6.8 * phase.chars().count() as f64;
    }
    let _ = write!(
        svg,
        r##"<line x1="{x}" y1="23" x2="{}" y2="23" stroke="{FAILED}" stroke-width="2" stroke-dasharray="6 4"/><text x="{}" y="27">recreate budget</text>"##,
        x + 24.0,
        x + 30.0
    );
}

fn axes(svg: &mut String, scale: &Scale) {
    let ticks = (scale.top / scale.step).round() as usize;
    for i in 0..=ticks {
        let value = scale.step * i as f64;
        let y = scale.y(value * scale.unit_ms);
        let _ = write!(svg, r##"<line x1="{LEFT}" y1="{y:.1}" x2="{RIGHT}" y2="{y:.1}" stroke="#E0E0E0"/>"##);
        let _ = write!(svg, r#"<text x="{}" y="{:.1}" text-anchor="end">{}</text>"#, LEFT - 8.0, y + 4.0, tick_label(value));
    }
    let _ = write!(svg, r##"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{BOTTOM}" stroke="#333"/>"##);
    let _ = write!(svg, r##"<line x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}" stroke="#333"/>"##);
    let middle = (TOP + BOTTOM) / 2.0;
    let _ = write!(svg, r#"<text x="18" y="{middle}" text-anchor="middle" transform="rotate(-90 18 {middle})">duration ({})</text>"#, scale.unit);
    let _ = write!(svg, r#"<text x="{}" y="{}" text-anchor="middle">cycle (number in the ledger)</text>"#, (LEFT + RIGHT) / 2.0, HEIGHT - 10.0);
}

fn tick_label(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 { format!("{value:.0}") } else { format!("{value:.1}") }
}

fn bar(svg: &mut String, report: &Report, scale: &Scale, row: &Row, slot_x: f64, slot: f64) {
    let width = (slot * 0.6).min(MAX_BAR_WIDTH);
    let x = slot_x + (slot - width) / 2.0;
    let centre = slot_x + slot / 2.0;
    let mut below = 0u64;
    for timing in &row.record.phases {
        let i = report.phases.iter().position(|p| p == &timing.phase).unwrap_or(0);
        let (y0, y1) = (scale.y(below as f64), scale.y((below + timing.ms) as f64));
        let _ = write!(
            svg,
            r#"<rect x="{x:.1}" y="{y1:.1}" width="{width:.1}" height="{:.1}" fill="{}"><title>cycle {} · {}: {}</title></rect>"#,
            (y0 - y1).max(0.0),
            colour(i),
            row.number,
            escape(&timing.phase),
            millis(timing.ms)
        );
        below += timing.ms;
    }
    let failed = row.record.verdict == Verdict::Failed;
    let top = scale.y(stack_ms(row).max(row.record.total_ms) as f64);
    if failed {
        let _ = write!(
            svg,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="{FAILED}" stroke-width="2"/>"#,
            x - 2.0,
            top - 2.0,
            width + 4.0,
            BOTTOM - top + 2.0
        );
    }
    if report.cycles.len() <= 20 {
        let _ =
            write!(svg, r#"<text x="{centre:.1}" y="{:.1}" text-anchor="middle" font-size="11">{}</text>"#, top - 6.0, millis(row.record.total_ms));
    }
    let (colour, mark) = if failed { (FAILED, " ✗") } else { ("#333", "") };
    let _ = write!(svg, r#"<text x="{centre:.1}" y="{}" text-anchor="middle" fill="{colour}">#{}{mark}</text>"#, BOTTOM + 18.0, row.number);
}

fn budget(svg: &mut String, report: &Report, scale: &Scale) {
    let label = format!("budget {}", millis(report.budget_ms));
    if report.budget_ms as f64 / scale.unit_ms <= scale.top {
        let y = scale.y(report.budget_ms as f64);
        let _ = write!(svg, r#"<line x1="{LEFT}" y1="{y:.1}" x2="{RIGHT}" y2="{y:.1}" stroke="{FAILED}" stroke-width="2" stroke-dasharray="6 4"/>"#);
        let _ = write!(svg, r#"<text x="{RIGHT}" y="{:.1}" text-anchor="end" fill="{FAILED}">{label}</text>"#, y - 6.0);
    } else {
        let _ = write!(svg, r#"<text x="{RIGHT}" y="{}" text-anchor="end" fill="{FAILED}">{label}: above the chart</text>"#, TOP - 12.0);
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case(0.3, 0.5)]
    #[case(1.0, 1.0)]
    #[case(1.2, 2.0)]
    #[case(3.0, 5.0)]
    #[case(6.3, 10.0)]
    #[case(42.0, 50.0)]
    fn ticks_step_by_one_two_or_five(#[case] raw: f64, #[case] expected: f64) {
        assert!((nice_step(raw) - expected).abs() < 1e-9, "{raw} → {}", nice_step(raw));
    }
}
