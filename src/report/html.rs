//! HTML renderer: `report.html`, the weekly report a manager (課長, CISO)
//! reads without help.
//!
//! One self-contained file — inline CSS, charts as inline SVG drawn with
//! plotters' SVG backend, no script, no external font or image — so that it
//! opens from a file share or as a mail attachment. Japanese by default.
//! Every value from the store is HTML-escaped (a file named `<script>` is
//! text); the SVG backend escapes the text it writes. Each figure carries
//! its number in a `data-value` attribute and each list its length in
//! `data-total`, so that tests (and anyone) can check the page against the
//! store. Long lists show their first [`MAX_ROWS`] rows and say how many
//! more are in `report.xlsx` and `findings.csv`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::labels::{self, number, t};
use super::{FileItem, WeeklyReport};
use crate::finding::Kind;
use crate::records::{Flag, Lang};

/// Rows shown per list; the rest are in the XLSX and CSV.
pub const MAX_ROWS: usize = 1_000;

/// Fonts for Japanese text, in the SVG charts and the page: the first one
/// installed wins (IPAex and Noto on Linux, Yu Gothic and Meiryo on Windows,
/// Hiragino on macOS).
const FONTS: &str = "IPAexGothic, IPAGothic, Noto Sans CJK JP, Yu Gothic, YuGothic, Meiryo, Hiragino Sans, Hiragino Kaku Gothic ProN, sans-serif";

/// Why the page could not be made.
#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    #[error("drawing a chart: {0}")]
    Chart(String),
}

fn chart_error<E: std::fmt::Debug>(e: E) -> HtmlError {
    HtmlError::Chart(format!("{e:?}"))
}

/// Escapes text for HTML content and attribute values.
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

/// The colour of a kind, the same in every chart and legend.
fn kind_colour(kind: &str) -> RGBColor {
    const PALETTE: [RGBColor; 14] = [
        RGBColor(214, 39, 40),   // my_number: red, the one that matters most
        RGBColor(140, 86, 75),   // corporate_number
        RGBColor(227, 119, 194), // resident_code
        RGBColor(127, 127, 127), // basic_pension_number
        RGBColor(188, 189, 34),  // passport_number
        RGBColor(23, 190, 207),  // drivers_license_number
        RGBColor(148, 103, 189), // health_insurance_number
        RGBColor(255, 127, 14),  // credit_card
        RGBColor(44, 160, 44),   // bank_account
        RGBColor(31, 119, 180),  // phone_number
        RGBColor(174, 199, 232), // email_address
        RGBColor(152, 223, 138), // postal_address
        RGBColor(255, 187, 120), // birth_date
        RGBColor(197, 176, 213), // person_name
    ];
    Kind::ALL
        .iter()
        .position(|k| k.as_str() == kind)
        .and_then(|i| PALETTE.get(i).copied())
        .unwrap_or(RGBColor(90, 90, 90))
}

fn css_colour(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

const NEW_COLOUR: RGBColor = RGBColor(214, 39, 40);
const RESOLVED_COLOUR: RGBColor = RGBColor(44, 160, 44);
const BAR_COLOUR: RGBColor = RGBColor(31, 119, 180);

/// A y-axis top above `max` that leaves room and reads well.
fn nice_ceiling(max: i64) -> i64 {
    if max <= 0 {
        return 1;
    }
    let padded = max + max / 10 + 1;
    let magnitude = 10i64.pow((padded as f64).log10().floor() as u32);
    let step = (magnitude / 2).max(1);
    (padded + step - 1) / step * step
}

fn font(size_px: f64) -> FontDesc<'static> {
    // plotters writes font-size = size / 1.24.
    FontDesc::new(FontFamily::Name(FONTS), size_px * 1.24, FontStyle::Normal)
}

/// Short week labels for the x axis (`W48`).
fn week_short(label: &str) -> String {
    label
        .split_once('-')
        .map(|(_, w)| w.to_string())
        .unwrap_or_else(|| label.to_string())
}

/// The kinds in the trend, in the contract's order (unknown ones last).
fn trend_kinds(r: &WeeklyReport) -> Vec<String> {
    let mut kinds: Vec<String> = r
        .trend
        .iter()
        .flat_map(|p| {
            p.open_by_kind
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(k, _)| k.clone())
        })
        .collect();
    kinds.sort_by_key(|k| {
        (
            k.parse::<Kind>().ok().map_or(usize::MAX, |k| k as usize),
            k.clone(),
        )
    });
    kinds.dedup();
    kinds
}

/// Open findings by kind at the end of each week: stacked bars.
fn trend_chart(r: &WeeklyReport, kinds: &[String]) -> Result<String, HtmlError> {
    let n = r.trend.len() as i32;
    let max = r
        .trend
        .iter()
        .map(|p| p.open_by_kind.values().sum::<i64>())
        .max()
        .unwrap_or(0);
    let labels: Vec<String> = r.trend.iter().map(|p| week_short(&p.week)).collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 320)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(72)
            .build_cartesian_2d((0..n - 1).into_segmented(), 0i64..nice_ceiling(max))
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(labels.len())
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_label_formatter(&|v| number(*v))
            .label_style(font(12.0))
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()
            .map_err(chart_error)?;
        for (i, p) in r.trend.iter().enumerate() {
            let mut base = 0i64;
            for k in kinds {
                let v = p.open_by_kind.get(k).copied().unwrap_or(0);
                if v == 0 {
                    continue;
                }
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i as i32), base),
                        (SegmentValue::Exact(i as i32 + 1), base + v),
                    ],
                    kind_colour(k).filled(),
                );
                bar.set_margin(0, 0, 14, 14);
                chart
                    .draw_series(std::iter::once(bar))
                    .map_err(chart_error)?;
                base += v;
            }
        }
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// New and resolved findings per week: two lines with markers.
fn flow_chart(r: &WeeklyReport) -> Result<String, HtmlError> {
    let n = r.trend.len() as i32;
    let max = r
        .trend
        .iter()
        .map(|p| p.new_findings.max(p.resolved_findings))
        .max()
        .unwrap_or(0);
    let labels: Vec<String> = r.trend.iter().map(|p| week_short(&p.week)).collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 280)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(72)
            .build_cartesian_2d((0..n - 1).into_segmented(), 0i64..nice_ceiling(max))
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(labels.len())
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_label_formatter(&|v| number(*v))
            .label_style(font(12.0))
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()
            .map_err(chart_error)?;
        for (colour, values) in [
            (
                NEW_COLOUR,
                r.trend.iter().map(|p| p.new_findings).collect::<Vec<_>>(),
            ),
            (
                RESOLVED_COLOUR,
                r.trend.iter().map(|p| p.resolved_findings).collect(),
            ),
        ] {
            let points: Vec<(SegmentValue<i32>, i64)> = values
                .iter()
                .enumerate()
                .map(|(i, v)| (SegmentValue::CenterOf(i as i32), *v))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(3)))
                .map_err(chart_error)?;
            chart
                .draw_series(
                    points
                        .into_iter()
                        .map(|p| Circle::new(p, 4, colour.filled())),
                )
                .map_err(chart_error)?;
        }
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// Roots shown in the bar chart at most (all are in the table below it).
const MAX_ROOT_BARS: usize = 20;

/// Files with My Number per root: horizontal bars, largest on top.
fn roots_chart(by_root: &[(&String, i64)]) -> Result<String, HtmlError> {
    let bars: Vec<(&String, i64)> = by_root.iter().take(MAX_ROOT_BARS).copied().collect();
    let n = bars.len() as i32;
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0);
    let label_chars = bars
        .iter()
        .map(|b| super::xlsx::display_width(b.0).min(28))
        .max()
        .unwrap_or(4);
    // A wide character is about one font size (13 px) wide; a narrow one half.
    let label_area = (label_chars as u32 * 7 + 24).clamp(80, 260);
    let shortened: Vec<String> = bars.iter().map(|b| shorten(b.0, 28)).collect();
    let height = 50 + 30 * n.max(1) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, height)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(26)
            .y_label_area_size(label_area)
            .build_cartesian_2d(0i64..nice_ceiling(max), (0..n - 1).into_segmented())
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(bars.len())
            .y_label_formatter(&|v| match v {
                // Largest on top: segment 0 is at the bottom.
                SegmentValue::CenterOf(i) => shortened
                    .get((n - 1 - *i) as usize)
                    .cloned()
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .x_label_formatter(&|v| number(*v))
            .label_style(font(13.0))
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()
            .map_err(chart_error)?;
        for (i, (_, v)) in bars.iter().enumerate() {
            let y = n - 1 - i as i32;
            let mut bar = Rectangle::new(
                [
                    (0, SegmentValue::Exact(y)),
                    (*v, SegmentValue::Exact(y + 1)),
                ],
                BAR_COLOUR.filled(),
            );
            bar.set_margin(5, 5, 0, 0);
            chart
                .draw_series(std::iter::once(bar))
                .map_err(chart_error)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!(" {}", number(*v)),
                    (*v, SegmentValue::CenterOf(y)),
                    TextStyle::from(font(13.0)).pos(Pos::new(HPos::Left, VPos::Center)),
                )))
                .map_err(chart_error)?;
        }
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// At most `max` display columns of `s`, with an ellipsis when cut.
fn shorten(s: &str, max: usize) -> String {
    if super::xlsx::display_width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if w + cw > max - 1 {
            break;
        }
        w += cw;
        out.push(c);
    }
    out.push('…');
    out
}

const CSS: &str = r#"
:root { --ink:#1f2933; --muted:#5f6b7a; --line:#d9dee5; --bad:#b42318; --good:#1e7b34; --head:#eef2f6; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1100px; padding: 24px 28px 48px; color: var(--ink);
  font-family: "IPAexGothic", "IPAGothic", "Noto Sans CJK JP", "Yu Gothic", "YuGothic", "Meiryo",
  "Hiragino Sans", "Hiragino Kaku Gothic ProN", sans-serif; font-size: 15px; line-height: 1.6; }
svg text { font-family: "IPAexGothic", "IPAGothic", "Noto Sans CJK JP", "Yu Gothic", "YuGothic",
  "Meiryo", "Hiragino Sans", "Hiragino Kaku Gothic ProN", sans-serif; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 2px; padding-bottom: 4px; border-bottom: 2px solid var(--ink); }
h3 { font-size: 16px; margin: 18px 0 4px; }
p.note { margin: 4px 0 12px; color: var(--muted); font-size: 14px; }
.meta { color: var(--muted); margin: 0; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin-top: 12px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; background: #fff; }
.card .label { font-size: 13px; color: var(--muted); }
.card .value { font-size: 28px; font-weight: bold; line-height: 1.3; }
.card .delta { font-size: 13px; color: var(--muted); }
.card .delta.bad { color: var(--bad); font-weight: bold; }
.card .delta.good { color: var(--good); font-weight: bold; }
.card.alert { border-color: var(--bad); border-width: 2px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 4px; font-size: 13.5px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: bold; white-space: nowrap; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.path { word-break: break-all; }
/* Figure tables of two to four columns: as wide as their content, so that
   a count stands next to its label. */
table[data-list="files_by_flag"], table[data-list="open_by_kind"],
table[data-list="unreadable_by_reason"], table[data-list="my_number_files_by_root"] { width: auto; min-width: 50%; }
td.nowrap { white-space: nowrap; }
tr:nth-child(even) td { background: #fafbfc; }
.more { color: var(--muted); font-size: 13px; margin: 2px 0 0; }
.empty { color: var(--muted); font-style: italic; margin: 6px 0; }
figure { margin: 8px 0; }
figure svg { width: 100%; height: auto; display: block; }
.legend { list-style: none; padding: 0; margin: 4px 0 0; display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 13px; }
.legend .swatch { display: inline-block; width: 12px; height: 12px; margin-right: 5px; vertical-align: -1px; border-radius: 2px; }
.reasons { margin: 0; padding-left: 18px; }
nav.contents { margin: 14px 0 0; padding: 8px 12px; background: var(--head); border-radius: 6px; font-size: 13.5px; }
nav.contents .label { font-weight: bold; margin-right: 10px; }
nav.contents ul { display: inline; list-style: none; margin: 0; padding: 0; }
nav.contents li { display: inline-block; margin: 2px 14px 2px 0; white-space: nowrap; }
nav.contents a { color: #1d4f91; text-decoration: none; }
nav.contents .count { color: var(--muted); }
nav.contents .count.some { color: var(--bad); font-weight: bold; }
footer { margin-top: 40px; border-top: 1px solid var(--line); padding-top: 8px; color: var(--muted); font-size: 13px; }
@media print { body { max-width: none; padding: 0; } nav.contents { display: none; } h2 { break-after: avoid; } tr { break-inside: avoid; } }
"#;

/// A summary figure: this week, last week, and whether a rise is bad news.
struct Figure<'a> {
    key: &'a str,
    label: &'a str,
    value: i64,
    previous: i64,
    /// A rise is bad (open findings), good (resolved), or neither.
    rise_is_bad: Option<bool>,
}

fn card(out: &mut String, f: &Figure<'_>, lang: Lang) {
    let d = f.value - f.previous;
    let class = match (f.rise_is_bad, d.signum()) {
        (Some(true), 1) | (Some(false), -1) => "bad",
        (Some(true), -1) | (Some(false), 1) => "good",
        _ => "",
    };
    let alert = if f.key == "my_number_files" && f.value > 0 {
        " alert"
    } else {
        ""
    };
    let _ = write!(
        out,
        r#"<div class="card{alert}" data-figure="{}" data-value="{}" data-previous="{}"><div class="label">{}</div><div class="value">{}</div><div class="delta {class}">{} {}{}{} {}{}</div></div>"#,
        esc(f.key),
        f.value,
        f.previous,
        esc(f.label),
        number(f.value),
        t(lang, "前週比", "vs last week"),
        labels::delta(f.value, f.previous),
        t(lang, "（", " ("),
        t(lang, "前週", "last week"),
        number(f.previous),
        t(lang, "）", ")"),
    );
}

fn section(out: &mut String, id: &str, title: &str, note: &str) {
    let _ = write!(
        out,
        r#"<section id="{}"><h2>{}</h2><p class="note">{}</p>"#,
        esc(id),
        esc(title),
        esc(note)
    );
}

/// The page's contents: a link to each section, with the length of each
/// list, so that a reader sees at once which lists need attention and
/// jumps past the long ones.
fn contents(out: &mut String, r: &WeeklyReport, lang: Lang) {
    let unreadable: i64 = r.unreadable_by_reason.values().sum();
    let entries: [(&str, &str, Option<i64>); 11] = [
        ("summary", t(lang, "概要", "Summary"), None),
        (
            "trend",
            t(lang, "未対応の推移", "Open findings over 12 weeks"),
            None,
        ),
        ("flow", t(lang, "新規と解消", "New and resolved"), None),
        (
            "my_number_roots",
            t(lang, "マイナンバー（課別）", "My Number by root"),
            None,
        ),
        (
            "new_high",
            t(
                lang,
                "今週の確度「高」の検出",
                "New high-confidence findings",
            ),
            Some(r.new_high.len() as i64),
        ),
        (
            "outside_area",
            Flag::MyNumberOutsideArea.label(lang),
            Some(r.outside_area.len() as i64),
        ),
        (
            "retention_expired",
            t(lang, "保存期間満了", "Retention expired"),
            Some(r.retention_expired.len() as i64),
        ),
        (
            "outbound",
            Flag::OutboundLeakCandidate.label(lang),
            Some(r.outbound.len() as i64),
        ),
        (
            "breach_hints",
            Flag::BreachReportHint.label(lang),
            Some(r.breach_hints.len() as i64),
        ),
        (
            "unreadable",
            t(lang, "読めなかったファイル", "Unreadable files"),
            Some(unreadable),
        ),
        (
            "review",
            t(lang, "レビュー", "Review activity"),
            Some(r.review.len() as i64),
        ),
    ];
    let _ = write!(
        out,
        r#"<nav class="contents"><span class="label">{}</span><ul>"#,
        t(lang, "目次", "Contents")
    );
    for (id, label, n) in entries {
        let _ = match n {
            Some(n) => write!(
                out,
                r##"<li><a href="#{id}">{}</a><span class="count{}">{}</span></li>"##,
                esc(label),
                // Review activity is good news; every other list is work to do.
                if n > 0 && id != "review" { " some" } else { "" },
                match lang {
                    Lang::Ja => format!("（{}）", number(n)),
                    Lang::En => format!(" ({})", number(n)),
                }
            ),
            None => write!(out, r##"<li><a href="#{id}">{}</a></li>"##, esc(label)),
        };
    }
    out.push_str("</ul></nav>");
}

/// A cell: escaped text, a number, a path, or pre-escaped HTML.
enum Td {
    Text(String),
    Num(i64),
    Path(String),
    NoWrap(String),
    Html(String),
}

/// A list: its first [`MAX_ROWS`] rows, and where the rest are.
fn table<T>(
    out: &mut String,
    list: &str,
    headers: &[(&str, bool)],
    items: &[T],
    more_in: &str,
    lang: Lang,
    row: impl Fn(&T) -> Vec<Td>,
) {
    if items.is_empty() {
        let _ = write!(
            out,
            r#"<table data-list="{}" data-total="0" hidden></table><p class="empty">{}</p>"#,
            esc(list),
            t(lang, "該当はありません。", "None.")
        );
        return;
    }
    let shown = items.len().min(MAX_ROWS);
    let _ = write!(
        out,
        r#"<table data-list="{}" data-total="{}" data-shown="{shown}"><thead><tr>"#,
        esc(list),
        items.len()
    );
    for (h, num) in headers {
        let _ = write!(
            out,
            "<th{}>{}</th>",
            if *num { r#" class="num""# } else { "" },
            esc(h)
        );
    }
    out.push_str("</tr></thead><tbody>");
    for item in &items[..shown] {
        out.push_str("<tr>");
        for c in row(item) {
            let _ = match c {
                Td::Text(s) => write!(out, "<td>{}</td>", esc(&s)),
                Td::Num(n) => write!(out, r#"<td class="num">{}</td>"#, number(n)),
                Td::Path(s) => write!(out, r#"<td class="path">{}</td>"#, esc(&s)),
                Td::NoWrap(s) => write!(out, r#"<td class="nowrap">{}</td>"#, esc(&s)),
                Td::Html(s) => write!(out, "<td>{s}</td>"),
            };
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    if items.len() > shown {
        let _ = match lang {
            Lang::Ja => write!(
                out,
                r#"<p class="more">最初の {} 件を表示しています。ほか {} 件は {}にあります。</p>"#,
                number(shown as i64),
                number((items.len() - shown) as i64),
                esc(more_in)
            ),
            Lang::En => write!(
                out,
                r#"<p class="more">The first {} are shown; {} more are in {}.</p>"#,
                number(shown as i64),
                number((items.len() - shown) as i64),
                esc(more_in)
            ),
        };
    }
}

fn kinds_text(counts: &BTreeMap<String, u32>, lang: Lang) -> String {
    counts
        .iter()
        .map(|(k, n)| format!("{} {}", labels::kind(k, lang), n))
        .collect::<Vec<_>>()
        .join(t(lang, "、", ", "))
}

fn reasons_html(item: &FileItem, flag: Flag) -> String {
    let lines: Vec<String> = item
        .reasons_for(flag)
        .map(|l| format!("<li>{}</li>", esc(l)))
        .collect();
    format!(r#"<ul class="reasons">{}</ul>"#, lines.concat())
}

/// `label（n）`, or `label (n)` in English.
fn paren(label: String, n: i64, lang: Lang) -> String {
    match lang {
        Lang::Ja => format!("{label}（{}）", number(n)),
        Lang::En => format!("{label} ({})", number(n)),
    }
}

fn legend(out: &mut String, entries: &[(String, RGBColor)]) {
    out.push_str(r#"<ul class="legend">"#);
    for (label, c) in entries {
        let _ = write!(
            out,
            r#"<li><span class="swatch" style="background:{}"></span>{}</li>"#,
            css_colour(*c),
            esc(label)
        );
    }
    out.push_str("</ul>");
}

/// Renders `report.html`.
pub fn render(r: &WeeklyReport, lang: Lang) -> Result<String, HtmlError> {
    let mut o = String::with_capacity(256 * 1024);
    let title = match lang {
        Lang::Ja => format!("個人情報・マイナンバー 週次報告 {}", r.week),
        Lang::En => format!("Personal data and My Number: weekly report {}", r.week),
    };
    let _ = write!(
        o,
        r#"<!DOCTYPE html><html lang="{}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="generator" content="mamori {}"><title>{}</title><style>{CSS}</style></head><body>"#,
        t(lang, "ja", "en"),
        env!("CARGO_PKG_VERSION"),
        esc(&title)
    );
    let _ = write!(o, "<header><h1>{}</h1>", esc(&title));
    let _ = match lang {
        Lang::Ja => write!(
            o,
            r#"<p class="meta">対象週: {}（{} 〜 {}）・保存期間等の判定日: {}・作成: {}</p>"#,
            esc(&r.week),
            r.week_start,
            r.week_end,
            r.as_of,
            esc(&labels::time_jst(&r.generated_at))
        ),
        Lang::En => write!(
            o,
            r#"<p class="meta">Week {} ({} to {}) · records rules applied as of {} · generated {} (Japan time)</p>"#,
            esc(&r.week),
            r.week_start,
            r.week_end,
            r.as_of,
            esc(&labels::time_jst(&r.generated_at))
        ),
    };
    o.push_str("</header>");
    contents(&mut o, r, lang);

    // Summary figures.
    // A report of the week under way counts up to the time it was made.
    let in_progress = r
        .week_end
        .checked_add(jiff::Span::new().days(1))
        .map(super::day_start_utc)
        .is_ok_and(|end| r.generated_at < end);
    section(
        &mut o,
        "summary",
        t(lang, "概要", "Summary"),
        match (in_progress, lang) {
            (false, Lang::Ja) => "週の終わり（日曜日 24 時）時点の数字と、前の週との比較です。「誤検出」と判断された検出は数えていません。",
            (true, Lang::Ja) => "この週はまだ終わっていないため、作成時点の数字です。前の週の終わりと比べています。「誤検出」と判断された検出は数えていません。",
            (false, Lang::En) => "Figures at the end of the week (Sunday midnight, Japan time), compared with the week before. Findings decided to be false positives are not counted.",
            (true, Lang::En) => "The week is not over: figures as of the time of this report, compared with the end of the week before. Findings decided to be false positives are not counted.",
        },
    );
    let (a, b) = (&r.totals, &r.previous);
    let figures = [
        Figure {
            key: "open_findings",
            label: t(lang, "未対応の検出", "Open findings"),
            value: a.open_findings,
            previous: b.open_findings,
            rise_is_bad: Some(true),
        },
        Figure {
            key: "open_files",
            label: t(lang, "検出のあるファイル", "Files with open findings"),
            value: a.open_files,
            previous: b.open_files,
            rise_is_bad: Some(true),
        },
        Figure {
            key: "my_number_files",
            label: t(lang, "マイナンバーを含むファイル", "Files with My Number"),
            value: a.my_number_files,
            previous: b.my_number_files,
            rise_is_bad: Some(true),
        },
        Figure {
            key: "unreadable_files",
            label: t(lang, "読めなかったファイル", "Files that could not be read"),
            value: a.unreadable_files,
            previous: b.unreadable_files,
            rise_is_bad: Some(true),
        },
        Figure {
            key: "new_findings",
            label: t(lang, "今週の新規検出", "New findings this week"),
            value: a.new_findings,
            previous: b.new_findings,
            rise_is_bad: None,
        },
        Figure {
            key: "resolved_findings",
            label: t(lang, "今週解消した検出", "Resolved this week"),
            value: a.resolved_findings,
            previous: b.resolved_findings,
            rise_is_bad: Some(false),
        },
        Figure {
            key: "decisions",
            label: t(lang, "今週のレビュー判断", "Review decisions this week"),
            value: a.decisions,
            previous: b.decisions,
            rise_is_bad: None,
        },
        Figure {
            key: "files_tracked",
            label: t(lang, "監視中のファイル", "Files tracked"),
            value: a.files_tracked,
            previous: b.files_tracked,
            rise_is_bad: None,
        },
    ];
    o.push_str(r#"<div class="cards">"#);
    for f in &figures {
        card(&mut o, f, lang);
    }
    o.push_str("</div>");

    let _ = write!(
        o,
        "<h3>{}</h3><p class=\"note\">{}</p>",
        t(lang, "確認が必要なファイル（文書管理の規則による）", "Files needing attention (records rules)"),
        esc(&match lang {
            Lang::Ja => format!("{} 時点で各規則に当てはまるファイルの数です。1 つのファイルが複数に当てはまることがあります。", r.as_of),
            Lang::En => format!("Files each rule applies to as of {}. A file can appear under several.", r.as_of),
        })
    );
    let flags: Vec<Flag> = Flag::ALL.to_vec();
    table(
        &mut o,
        "files_by_flag",
        &[
            (t(lang, "区分", "Flag"), false),
            (t(lang, "ファイル数", "Files"), true),
        ],
        &flags,
        "",
        lang,
        |f| {
            vec![
                Td::Text(f.label(lang).to_string()),
                Td::Num(r.files_by_flag.get(f.as_str()).copied().unwrap_or(0)),
            ]
        },
    );

    let _ = write!(
        o,
        "<h3>{}</h3><p class=\"note\">{}</p>",
        t(lang, "未対応の検出（種類別）", "Open findings by kind"),
        t(
            lang,
            "週の終わり時点で未対応の検出を、情報の種類ごとに数えたものです。",
            "Findings open at the end of the week, by kind of information."
        ),
    );
    let mut kinds: Vec<String> = r
        .open_by_kind
        .keys()
        .chain(r.previous_open_by_kind.keys())
        .cloned()
        .collect();
    kinds.sort_by_key(|k| {
        (
            k.parse::<Kind>().ok().map_or(usize::MAX, |k| k as usize),
            k.clone(),
        )
    });
    kinds.dedup();
    table(
        &mut o,
        "open_by_kind",
        &[
            (t(lang, "種類", "Kind"), false),
            (t(lang, "今週", "This week"), true),
            (t(lang, "前週", "Last week"), true),
            (t(lang, "増減", "Change"), true),
        ],
        &kinds,
        "",
        lang,
        |k| {
            let (x, y) = (
                r.open_by_kind.get(k).copied().unwrap_or(0),
                r.previous_open_by_kind.get(k).copied().unwrap_or(0),
            );
            vec![
                Td::Text(labels::kind(k, lang)),
                Td::Num(x),
                Td::Num(y),
                Td::NoWrap(labels::delta(x, y)),
            ]
        },
    );
    o.push_str("</section>");

    // Charts.
    section(
        &mut o,
        "trend",
        t(lang, "未対応の検出の推移（12 週）", "Open findings over 12 weeks"),
        t(
            lang,
            "各週の終わりに未対応だった検出の件数を、種類ごとに色分けして積み上げています。右端が今週です。",
            "Findings open at the end of each week, stacked by kind. The rightmost bar is this week.",
        ),
    );
    let tk = trend_kinds(r);
    if tk.is_empty() {
        let _ = write!(
            o,
            r#"<p class="empty">{}</p>"#,
            t(
                lang,
                "この 12 週間に未対応の検出はありません。",
                "No open findings in these 12 weeks."
            )
        );
    } else {
        let _ = write!(
            o,
            r#"<figure data-chart="trend">{}</figure>"#,
            trend_chart(r, &tk)?
        );
        let entries: Vec<(String, RGBColor)> = tk
            .iter()
            .map(|k| {
                (
                    paren(
                        labels::kind(k, lang),
                        r.open_by_kind.get(k).copied().unwrap_or(0),
                        lang,
                    ),
                    kind_colour(k),
                )
            })
            .collect();
        legend(&mut o, &entries);
    }
    o.push_str("</section>");

    section(
        &mut o,
        "flow",
        t(lang, "新規と解消（週ごと）", "New and resolved per week"),
        t(
            lang,
            "赤: その週に初めて見つかった検出。緑: その週に解消した検出（ファイルから消えた、またはファイルが削除された）。緑が赤を上回る週は未対応が減っています。",
            "Red: findings first seen that week. Green: findings resolved that week (gone from the file, or the file deleted). Where green is above red, open findings went down.",
        ),
    );
    if r.trend
        .iter()
        .all(|p| p.new_findings == 0 && p.resolved_findings == 0)
    {
        let _ = write!(
            o,
            r#"<p class="empty">{}</p>"#,
            t(
                lang,
                "この 12 週間に新規も解消もありません。",
                "Nothing new or resolved in these 12 weeks."
            )
        );
    } else {
        let _ = write!(
            o,
            r#"<figure data-chart="flow">{}</figure>"#,
            flow_chart(r)?
        );
        legend(
            &mut o,
            &[
                (
                    paren(
                        t(lang, "新規", "new").to_string(),
                        r.totals.new_findings,
                        lang,
                    ),
                    NEW_COLOUR,
                ),
                (
                    paren(
                        t(lang, "解消", "resolved").to_string(),
                        r.totals.resolved_findings,
                        lang,
                    ),
                    RESOLVED_COLOUR,
                ),
            ],
        );
    }
    o.push_str("</section>");

    section(
        &mut o,
        "my_number_roots",
        t(lang, "マイナンバーを含むファイル（課別）", "Files with My Number by root"),
        t(
            lang,
            "週の終わりに未対応の個人番号（確度「中」以上）を含むファイルの数を、共有フォルダ（課）ごとに示します。",
            "Files holding an open My Number finding (medium confidence or above) at the end of the week, per share (section).",
        ),
    );
    let mut by_root: Vec<(&String, i64)> = r
        .my_number_files_by_root
        .iter()
        .map(|(k, v)| (k, *v))
        .collect();
    by_root.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(y.0)));
    if by_root.is_empty() {
        let _ = write!(
            o,
            r#"<p class="empty">{}</p>"#,
            t(
                lang,
                "マイナンバーを含むファイルはありません。",
                "No file holds a My Number."
            )
        );
    } else {
        let _ = write!(
            o,
            r#"<figure data-chart="my_number_roots">{}</figure>"#,
            roots_chart(&by_root)?
        );
        if by_root.len() > MAX_ROOT_BARS {
            let _ = write!(
                o,
                r#"<p class="more">{}</p>"#,
                esc(&match lang {
                    Lang::Ja => format!("グラフは上位 {MAX_ROOT_BARS} 課です。すべての課は下の表にあります。"),
                    Lang::En => format!("The chart shows the top {MAX_ROOT_BARS}; every root is in the table below."),
                })
            );
        }
        table(
            &mut o,
            "my_number_files_by_root",
            &[
                (t(lang, "課（ルート）", "Root"), false),
                (t(lang, "ファイル数", "Files"), true),
            ],
            &by_root,
            "report.xlsx",
            lang,
            |(root, n)| vec![Td::Text(root.to_string()), Td::Num(*n)],
        );
    }
    o.push_str("</section>");

    // Lists.
    let xlsx = |sheet_ja: &str, sheet_en: &str| match lang {
        Lang::Ja => format!("report.xlsx の「{sheet_ja}」シート"),
        Lang::En => format!("the \"{sheet_en}\" sheet of report.xlsx"),
    };
    section(
        &mut o,
        "new_high",
        t(lang, "今週見つかった確度「高」の検出", "New high-confidence findings this week"),
        t(
            lang,
            "今週初めて見つかり、まだ残っている、確度「高」の検出です。値は一部を伏せて表示しています。",
            "Found for the first time this week, still present, with high confidence. Values are shown masked.",
        ),
    );
    table(
        &mut o,
        "new_high",
        &[
            (t(lang, "検出日時", "Found"), false),
            (t(lang, "種類", "Kind"), false),
            (t(lang, "値（伏せ字）", "Value (masked)"), false),
            (t(lang, "課", "Root"), false),
            (t(lang, "ファイル", "File"), false),
            (t(lang, "位置", "Where"), false),
            (t(lang, "状態", "State"), false),
        ],
        &r.new_high,
        &format!(
            "{}{}findings.csv",
            xlsx("新規", "New"),
            t(lang, "と ", " and ")
        ),
        lang,
        |f| {
            let location = labels::location(&f.location, lang);
            let place = match &f.member {
                Some(m) => format!("{m} {location}"),
                None => location,
            };
            vec![
                Td::NoWrap(labels::time_jst(&f.first_seen)),
                Td::Text(labels::kind(&f.kind, lang)),
                Td::NoWrap(f.masked.clone()),
                Td::NoWrap(f.root.clone()),
                Td::Path(f.path.clone()),
                Td::Path(place),
                Td::NoWrap(labels::state(&f.state, lang)),
            ]
        },
    );
    o.push_str("</section>");

    section(
        &mut o,
        "outside_area",
        Flag::MyNumberOutsideArea.label(lang),
        t(
            lang,
            "個人番号が、特定個人情報の保管場所として登録された場所の外にあるファイルです（番号法第20条）。移動または削除を検討してください。",
            "Files holding a My Number outside every registered My Number area (My Number Act, art. 20). Move or delete them.",
        ),
    );
    table(
        &mut o,
        "outside_area",
        &[
            (t(lang, "課", "Root"), false),
            (t(lang, "ファイル", "File"), false),
            (t(lang, "個人番号", "My Numbers"), true),
            (t(lang, "理由", "Why"), false),
        ],
        &r.outside_area,
        &xlsx("マイナンバー所在", "My Number"),
        lang,
        |i| {
            vec![
                Td::NoWrap(i.root.clone()),
                Td::Path(i.path.clone()),
                Td::Num(i64::from(
                    i.finding_counts.get("my_number").copied().unwrap_or(0),
                )),
                Td::Html(reasons_html(i, Flag::MyNumberOutsideArea)),
            ]
        },
    );
    o.push_str("</section>");

    section(
        &mut o,
        "retention_expired",
        t(lang, "保存期間満了（廃棄候補・移管候補）", "Retention expired (to dispose of or transfer)"),
        t(
            lang,
            "保存期間が満了したファイルです。満了時の措置に従い、廃棄または移管の手続きを検討してください。保存期間延長中のものは延長期限まで保存します。mamori はファイルを削除・移動しません。",
            "Files whose retention period has ended: dispose of or transfer them as their rule says. Files on hold are kept until the hold ends. mamori never deletes or moves files.",
        ),
    );
    table(
        &mut o,
        "retention_expired",
        &[
            (t(lang, "課", "Root"), false),
            (t(lang, "ファイル", "File"), false),
            (t(lang, "分類", "Class"), false),
            (t(lang, "保存期間", "Retention"), false),
            (t(lang, "起算日", "Start"), false),
            (t(lang, "満了日", "End"), false),
            (t(lang, "判定", "Disposition"), false),
        ],
        &r.retention_expired,
        &xlsx("保存期間満了", "Retention expired"),
        lang,
        |i| {
            let d = |d: Option<jiff::civil::Date>| d.map(|d| d.to_string()).unwrap_or_default();
            let mut disposition = super::csv::disposition(i, lang);
            if let Some(reason) = &i.hold_reason {
                disposition.push_str(&format!(" {reason}"));
            }
            vec![
                Td::NoWrap(i.root.clone()),
                Td::Path(i.path.clone()),
                Td::Text(i.retention_class.clone().unwrap_or_default()),
                Td::NoWrap(i.retention.clone().unwrap_or_default()),
                Td::NoWrap(d(i.retention_start)),
                Td::NoWrap(d(i.retention_end)),
                Td::Text(disposition),
            ]
        },
    );
    o.push_str("</section>");

    section(
        &mut o,
        "outbound",
        Flag::OutboundLeakCandidate.label(lang),
        t(
            lang,
            "庁外の宛先に送られたメールに個人情報が含まれていたものです。誤送信でないか確認してください。",
            "Messages sent to outside recipients that carry personal data. Check that they were meant to be sent.",
        ),
    );
    table(
        &mut o,
        "outbound",
        &[
            (t(lang, "課", "Root"), false),
            (t(lang, "ファイル", "File"), false),
            (t(lang, "含まれる個人情報", "Personal data"), false),
            (t(lang, "理由", "Why"), false),
        ],
        &r.outbound,
        &xlsx("外部送信", "Outbound"),
        lang,
        |i| {
            vec![
                Td::NoWrap(i.root.clone()),
                Td::Path(i.path.clone()),
                Td::Text(kinds_text(&i.finding_counts, lang)),
                Td::Html(reasons_html(i, Flag::OutboundLeakCandidate)),
            ]
        },
    );
    o.push_str("</section>");

    section(
        &mut o,
        "breach_hints",
        Flag::BreachReportHint.label(lang),
        t(
            lang,
            "漏えい等が起きた場合に個人情報保護委員会への報告が必要になりうるファイルです（要配慮個人情報、多数の本人、外部へ送られた個人番号）。取扱いに特に注意してください。",
            "Files whose leak might have to be reported to the Personal Information Protection Commission (sensitive data, many persons, a My Number sent outside). Handle them with particular care.",
        ),
    );
    table(
        &mut o,
        "breach_hints",
        &[
            (t(lang, "課", "Root"), false),
            (t(lang, "ファイル", "File"), false),
            (t(lang, "理由", "Why"), false),
        ],
        &r.breach_hints,
        &xlsx("漏えい等報告の確認", "Breach report check"),
        lang,
        |i| {
            vec![
                Td::NoWrap(i.root.clone()),
                Td::Path(i.path.clone()),
                Td::Html(reasons_html(i, Flag::BreachReportHint)),
            ]
        },
    );
    o.push_str("</section>");

    section(
        &mut o,
        "unreadable",
        t(lang, "読めなかったファイル", "Files that could not be read"),
        t(
            lang,
            "暗号化・破損・画像のみなどの理由で中身を確認できなかったファイルです。個人情報が含まれていないとは言えません。必要に応じて担当課で確認してください。",
            "Files whose content could not be checked (encrypted, damaged, image only …). They may still hold personal data: have the section check them if needed.",
        ),
    );
    let reasons: Vec<(&String, &i64)> = r.unreadable_by_reason.iter().collect();
    table(
        &mut o,
        "unreadable_by_reason",
        &[
            (t(lang, "理由", "Reason"), false),
            (t(lang, "ファイル数", "Files"), true),
        ],
        &reasons,
        "",
        lang,
        |(k, n)| vec![Td::Text(labels::unreadable(k, lang)), Td::Num(**n)],
    );
    if !r.unreadable.is_empty() {
        table(
            &mut o,
            "unreadable",
            &[
                (t(lang, "課", "Root"), false),
                (t(lang, "ファイル", "File"), false),
                (t(lang, "理由", "Reason"), false),
                (t(lang, "形式", "Format"), false),
            ],
            &r.unreadable,
            &xlsx("読めなかったファイル", "Unreadable"),
            lang,
            |u| {
                vec![
                    Td::NoWrap(u.root.clone()),
                    Td::Path(u.path.clone()),
                    Td::Text(labels::unreadable(&u.reason, lang)),
                    Td::Text(u.format.clone().unwrap_or_default()),
                ]
            },
        );
    }
    o.push_str("</section>");

    section(
        &mut o,
        "review",
        t(lang, "レビューの実施状況", "Review activity"),
        t(
            lang,
            "今週、文書管理担当者が検出について記録した判断です（1 行が 1 回の操作）。",
            "Decisions records officers recorded on findings this week (one line per action).",
        ),
    );
    table(
        &mut o,
        "review",
        &[
            (t(lang, "日時", "When"), false),
            (t(lang, "担当者", "Reviewer"), false),
            (t(lang, "判断", "Decision"), false),
            (t(lang, "件数", "Findings"), true),
        ],
        &r.review,
        &xlsx("レビュー履歴", "Review"),
        lang,
        |v| {
            vec![
                Td::NoWrap(labels::time_jst(&v.at)),
                Td::Text(v.reviewer.clone()),
                Td::Text(labels::state(&v.decision, lang)),
                Td::Num(v.findings),
            ]
        },
    );
    o.push_str("</section>");

    let _ = write!(
        o,
        "<footer>{}</footer></body></html>",
        t(
            lang,
            "mamori が検出結果の記録（データベース）から作成しました。ファイルの再走査はしていません。同じフォルダの report.xlsx（一覧表）、findings.csv（未対応の検出すべて）、report.json（機械処理用）に同じ数字があります。値はすべて一部を伏せて表示しており、完全な個人番号等は記録されていません。",
            "Made by mamori from its findings store, without rescanning. report.xlsx (lists), findings.csv (every open finding) and report.json (for programs) in the same folder hold the same figures. Values are masked; no full identifier is stored.",
        )
    );
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_in_text_and_attributes() {
        assert_eq!(
            esc(r#"<script>alert("1")</script> & 'x'"#),
            "&lt;script&gt;alert(&quot;1&quot;)&lt;/script&gt; &amp; &#39;x&#39;"
        );
    }

    #[test]
    fn axis_tops_are_round_and_above_the_data() {
        assert_eq!(nice_ceiling(0), 1);
        for max in [1, 7, 10, 99, 123, 1_000, 54_321, 999_999] {
            let top = nice_ceiling(max);
            assert!(top > max, "{max} → {top}");
            assert!(top <= max * 2 + 2, "{max} → {top}");
        }
        assert_eq!(nice_ceiling(123), 150);
    }

    #[test]
    fn long_labels_are_shortened_by_display_width() {
        assert_eq!(shorten("総務課", 28), "総務課");
        let s = shorten(&"課".repeat(40), 28);
        assert!(super::super::xlsx::display_width(&s) <= 28, "{s}");
        assert!(s.ends_with('…'));
    }
}
