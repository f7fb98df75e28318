//! Small server-rendered SVG charts for the statistics page: a horizontal bar chart with a
//! title, both axis labels, a value beside every bar, and the same numbers again as text for
//! screen readers (`<title>` / `<desc>` and one `<title>` per bar).
//!
//! The markup comes from an askama template, so every label is escaped; the chart uses SVG
//! attributes only — no `style=` and no script — because the Content-Security-Policy blocks
//! inline styles and scripts. Horizontal bars keep long Chinese labels (学院, 国家/地区)
//! readable without rotating them.

use askama::Template;

/// One bar: a category and its count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub label: String,
    pub value: i64,
}

/// A horizontal bar chart, described by its data; [`BarChart::render`] draws it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarChart {
    /// Makes the ids of the `<title>`/`<desc>` elements unique on the page (`chart-college`).
    pub id: String,
    pub title: String,
    /// The label of the category axis (学院, 国家/地区 …).
    pub category_label: String,
    /// The label of the value axis (申请数).
    pub value_label: String,
    /// Shown instead of bars when there are none (暂无数据).
    pub empty_text: String,
    /// Draw the title above the chart. A page that already heads the chart with the same
    /// words turns this off; the title stays the chart's accessible name either way.
    pub show_title: bool,
    pub bars: Vec<Bar>,
}

/// The drawing's width in SVG units; the chart scales to its container.
pub const WIDTH: f64 = 520.0;
const FONT: f64 = 13.0;
/// Where the bars start: below the title (when drawn) and the category-axis label.
const PLOT_TOP_TITLED: f64 = 52.0;
const PLOT_TOP_UNTITLED: f64 = 26.0;
const BAR_HEIGHT: f64 = 20.0;
const BAR_GAP: f64 = 10.0;
const LABEL_MIN: f64 = 60.0;
const LABEL_MAX: f64 = 170.0;
/// Room right of the longest bar for its value.
const VALUE_ROOM: f64 = 48.0;
const LEFT_PAD: f64 = 10.0;
const BAR_FILL: &str = "#1f4e8c";

/// One bar as drawn.
struct BarView {
    /// The label as shown (shortened with "…" when too long).
    label: String,
    /// The label and value for the bar's tooltip and screen readers.
    full: String,
    value: i64,
    y: String,
    text_y: String,
    width: String,
    value_x: String,
}

/// One value-axis tick.
struct TickView {
    x: String,
    label: String,
}

#[derive(Template)]
#[template(path = "reports/bar_chart.html")]
struct ChartView<'a> {
    id: &'a str,
    title: &'a str,
    desc: String,
    category_label: &'a str,
    value_label: &'a str,
    empty_text: &'a str,
    width: String,
    height: String,
    plot_left: String,
    plot_right: String,
    plot_top: String,
    plot_bottom: String,
    label_x: String,
    value_label_x: String,
    value_label_y: String,
    bar_height: String,
    bar_fill: &'static str,
    bars: Vec<BarView>,
    ticks: Vec<TickView>,
    show_title: bool,
}

/// A coordinate as written into the SVG: at most one decimal, no trailing ".0".
fn num(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// The width `text` takes at `FONT` size, estimated: CJK and other wide characters take a
/// full em, the rest about 0.6 of one.
fn text_width(text: &str) -> f64 {
    text.chars()
        .map(|c| if is_wide(c) { FONT } else { FONT * 0.6 })
        .sum()
}

fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6)
}

/// `text` cut to fit `room`, with "…" when cut.
fn fit(text: &str, room: f64) -> String {
    if text_width(text) <= room {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = FONT; // the ellipsis
    for c in text.chars() {
        let w = if is_wide(c) { FONT } else { FONT * 0.6 };
        if used + w > room {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// A "nice" tick step (1, 2 or 5 times a power of ten, never below 1) giving at most about
/// `target` intervals up to `max`.
pub fn tick_step(max: i64, target: i64) -> i64 {
    let max = max.max(1);
    let rough = (max as f64 / target.max(1) as f64).max(1.0);
    let mut magnitude = 1_i64;
    while (magnitude as f64) * 10.0 <= rough {
        magnitude *= 10;
    }
    [1, 2, 5, 10]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| *step as f64 >= rough)
        .unwrap_or(10 * magnitude)
}

impl BarChart {
    /// The largest value (0 without bars).
    fn max(&self) -> i64 {
        self.bars.iter().map(|b| b.value.max(0)).max().unwrap_or(0)
    }

    /// The value axis: its end (the first tick at or above the largest value, at least 1 so
    /// that an all-zero chart still has an axis) and the step between ticks.
    fn axis(&self) -> (i64, i64) {
        let step = tick_step(self.max(), 5);
        let max = self.max().max(1);
        let end = max.div_euclid(step) * step + if max % step == 0 { 0 } else { step };
        (end, step)
    }

    /// The end of the value axis.
    pub fn axis_end(&self) -> i64 {
        self.axis().0
    }

    /// The SVG markup (an inline `<svg>` element, escaped, without style attributes).
    pub fn render(&self) -> String {
        let longest = self
            .bars
            .iter()
            .map(|b| text_width(&b.label))
            .fold(0.0_f64, f64::max);
        let label_room = longest.clamp(LABEL_MIN, LABEL_MAX);
        let plot_left = LEFT_PAD + label_room + 8.0;
        let plot_right = WIDTH - VALUE_ROOM;
        let plot_width = plot_right - plot_left;
        let plot_top = if self.show_title {
            PLOT_TOP_TITLED
        } else {
            PLOT_TOP_UNTITLED
        };
        let rows = self.bars.len().max(1) as f64;
        let plot_bottom = plot_top + rows * (BAR_HEIGHT + BAR_GAP) + BAR_GAP;
        let height = plot_bottom + 44.0;
        let (end, step) = self.axis();
        let scale = |v: i64| plot_width * v.max(0) as f64 / end as f64;

        let bars = self
            .bars
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let y = plot_top + BAR_GAP + i as f64 * (BAR_HEIGHT + BAR_GAP);
                let width = scale(b.value);
                BarView {
                    label: fit(&b.label, label_room),
                    full: format!("{}: {}", b.label, b.value),
                    value: b.value,
                    y: num(y),
                    text_y: num(y + BAR_HEIGHT / 2.0 + FONT * 0.35),
                    width: num(width),
                    value_x: num(plot_left + width + 4.0),
                }
            })
            .collect();
        let ticks = (0..=end / step)
            .map(|k| TickView {
                x: num(plot_left + scale(k * step)),
                label: (k * step).to_string(),
            })
            .collect();
        let desc = self
            .bars
            .iter()
            .map(|b| format!("{}: {}", b.label, b.value))
            .collect::<Vec<_>>()
            .join("; ");
        let view = ChartView {
            id: &self.id,
            title: &self.title,
            desc: if desc.is_empty() {
                self.empty_text.clone()
            } else {
                desc
            },
            category_label: &self.category_label,
            value_label: &self.value_label,
            empty_text: &self.empty_text,
            width: num(WIDTH),
            height: num(height),
            plot_left: num(plot_left),
            plot_right: num(plot_right),
            plot_top: num(plot_top),
            plot_bottom: num(plot_bottom),
            label_x: num(plot_left - 8.0),
            value_label_x: num(plot_left + plot_width / 2.0),
            value_label_y: num(plot_bottom + 38.0),
            bar_height: num(BAR_HEIGHT),
            bar_fill: BAR_FILL,
            bars,
            ticks,
            show_title: self.show_title,
        };
        // The template has no fallible parts beyond writing to a String.
        view.render().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(bars: &[(&str, i64)]) -> BarChart {
        BarChart {
            id: "chart-test".into(),
            title: "按学院统计".into(),
            category_label: "学院".into(),
            value_label: "申请数".into(),
            empty_text: "暂无数据".into(),
            show_title: true,
            bars: bars
                .iter()
                .map(|(l, v)| Bar {
                    label: (*l).into(),
                    value: *v,
                })
                .collect(),
        }
    }

    /// The `width` attribute of every bar rectangle, in order.
    fn bar_widths(svg: &str) -> Vec<f64> {
        svg.split("<rect class=\"bar\"")
            .skip(1)
            .map(|rest| {
                let at = rest.find("width=\"").expect("a width") + 7;
                let end = rest[at..].find('"').expect("closing quote");
                rest[at..at + end].parse().expect("a number")
            })
            .collect()
    }

    #[test]
    fn labels_and_titles_are_escaped() {
        let mut c = chart(&[("<script>alert(1)</script>", 3), ("A & B \"quoted\"", 1)]);
        c.title = "<b>title</b>".into();
        let svg = c.render();
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(!svg.contains("<b>"), "{svg}");
        assert!(svg.contains("&#60;script&#62;alert(1)"), "{svg}");
        assert!(svg.contains("A &#38; B &#34;quoted&#34;"), "{svg}");
        assert!(!svg.contains("\"quoted\""), "{svg}");
    }

    #[test]
    fn the_chart_uses_no_style_attribute_and_no_script() {
        let svg = chart(&[("外国语学院", 3), ("信息科学与工程学院", 5)]).render();
        assert!(!svg.contains("style="));
        assert!(!svg.to_lowercase().contains("<script"));
        assert!(!svg.contains("onload") && !svg.contains("onclick"));
    }

    #[test]
    fn the_chart_is_labelled_for_screen_readers() {
        let svg = chart(&[("外国语学院", 3)]).render();
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("aria-labelledby=\"chart-test-title chart-test-desc\""));
        assert!(svg.contains("<title id=\"chart-test-title\">按学院统计</title>"));
        assert!(svg.contains("外国语学院: 3"));
        // Both axis labels are drawn.
        assert!(svg.contains(">学院</text>") && svg.contains(">申请数</text>"));
    }

    #[test]
    fn bar_lengths_are_proportional_to_the_values() {
        let svg = chart(&[("甲", 10), ("乙", 5), ("丙", 2), ("丁", 7)]).render();
        let w = bar_widths(&svg);
        assert_eq!(w.len(), 4);
        for (i, v) in [10.0, 5.0, 2.0, 7.0].iter().enumerate() {
            let expected = w[0] * v / 10.0;
            assert!(
                (w[i] - expected).abs() <= 0.11,
                "bar {i}: {} vs {expected}",
                w[i]
            );
        }
        assert!(svg.contains(">10</text>") && svg.contains(">7</text>"));
    }

    #[test]
    fn a_single_value_draws_one_bar_reaching_the_axis_end_when_it_is_a_tick() {
        let c = chart(&[("英国", 5)]);
        assert_eq!(c.axis_end(), 5);
        let svg = c.render();
        let w = bar_widths(&svg);
        assert_eq!(w.len(), 1);
        let plot_width = WIDTH - VALUE_ROOM - (LEFT_PAD + LABEL_MIN + 8.0);
        assert!((w[0] - plot_width).abs() < 0.11, "{w:?} vs {plot_width}");
    }

    #[test]
    fn zero_values_draw_empty_bars_and_still_show_their_value() {
        let c = chart(&[("英国", 0), ("日本", 0)]);
        assert_eq!(c.axis_end(), 1);
        let svg = c.render();
        assert_eq!(bar_widths(&svg), vec![0.0, 0.0]);
        assert_eq!(
            svg.matches(">0</text>").count(),
            3,
            "two values and the axis origin"
        );
    }

    #[test]
    fn a_chart_without_bars_says_there_is_no_data() {
        let svg = chart(&[]).render();
        assert!(bar_widths(&svg).is_empty());
        assert!(svg.contains("暂无数据"));
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn the_visible_title_can_be_left_to_the_page_but_still_names_the_chart() {
        let mut c = chart(&[("英国", 2)]);
        c.show_title = false;
        let svg = c.render();
        assert_eq!(svg.matches("按学院统计").count(), 1, "{svg}");
        assert!(svg.contains("<title id=\"chart-test-title\">按学院统计</title>"));
    }

    #[test]
    fn long_labels_are_shortened_but_kept_whole_in_the_bar_title() {
        let long = "一个名字非常非常非常非常非常非常非常长的合作院校";
        let svg = chart(&[(long, 1)]).render();
        assert!(svg.contains('…'));
        assert!(svg.contains(&format!("<title>{long}: 1</title>")));
    }

    #[test]
    fn tick_steps_are_round_numbers() {
        assert_eq!(tick_step(0, 5), 1);
        assert_eq!(tick_step(4, 5), 1);
        assert_eq!(tick_step(9, 5), 2);
        assert_eq!(tick_step(23, 5), 5);
        assert_eq!(tick_step(48, 5), 10);
        assert_eq!(tick_step(1234, 5), 500);
        assert_eq!(chart(&[("a", 23)]).axis_end(), 25);
        assert_eq!(chart(&[("a", 100)]).axis_end(), 100);
    }
}
