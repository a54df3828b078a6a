//! Bar charts as inline SVG: no script, no font, no external asset. Labels
//! are the caller's own text (months, numbers) and are escaped anyway.

use std::fmt::Write as _;

/// One bar: its label under the axis and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 40.0;
const TOP: f64 = 28.0;

/// An accessible bar chart: `title` names it for screen readers, each bar
/// carries its value as a tooltip and as text above it.
pub fn bar_chart(id: &str, title: &str, unit: &str, bars: &[Bar], class: &str) -> String {
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="{id}-title"><title id="{id}-title">{}</title>"#,
        escape(title)
    );
    let plot_h = HEIGHT - BOTTOM - TOP;
    let axis_y = HEIGHT - BOTTOM;
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{LEFT}" y1="{axis_y}" x2="{}" y2="{axis_y}"/>"#,
        WIDTH - 8.0
    );
    if bars.is_empty() {
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">No data yet</text></svg>"#,
            WIDTH / 2.0,
            HEIGHT / 2.0
        );
        return svg;
    }
    let max = bars
        .iter()
        .map(|b| b.value)
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let _ = write!(
        svg,
        r#"<text x="4" y="{}">{}</text>"#,
        TOP - 10.0,
        escape(unit)
    );
    let slot = (WIDTH - LEFT - 8.0) / bars.len() as f64;
    let bar_w = (slot * 0.7).max(1.0);
    for (i, bar) in bars.iter().enumerate() {
        let value = if bar.value.is_finite() {
            bar.value.max(0.0)
        } else {
            0.0
        };
        let h = (value / max * plot_h).max(0.5);
        let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
        let y = axis_y - h;
        let cx = x + bar_w / 2.0;
        let _ = write!(
            svg,
            r#"<rect class="{class}" x="{x:.1}" y="{y:.1}" width="{bar_w:.1}" height="{h:.1}"><title>{}: {}</title></rect>"#,
            escape(&bar.label),
            number(value)
        );
        let _ = write!(
            svg,
            r#"<text x="{cx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            y - 4.0,
            number(value)
        );
        let _ = write!(
            svg,
            r#"<text x="{cx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            axis_y + 16.0,
            escape(&bar.label)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One decimal below ten, whole numbers above.
fn number(value: f64) -> String {
    if value < 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    }
}

/// XML text and attribute escaping.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_has_one_bar_per_value_and_no_script() {
        let svg = bar_chart(
            "ack",
            "Time to acknowledge <b>",
            "hours",
            &[
                Bar {
                    label: "2026-10".into(),
                    value: 2.0,
                },
                Bar {
                    label: "2026-11".into(),
                    value: 30.0,
                },
            ],
            "bar",
        );
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("Time to acknowledge &lt;b&gt;"));
        assert!(!svg.contains("<script") && !svg.contains("href"));
    }

    #[test]
    fn an_empty_chart_says_so() {
        assert!(bar_chart("x", "t", "days", &[], "bar").contains("No data yet"));
    }
}
