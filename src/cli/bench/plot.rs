//! `bench --plot FILE.svg`: tokens/s per test as a horizontal bar chart with ±1 sd
//! whiskers, drawn with plotters' SVG backend (no font files or system libraries: the
//! SVG names a generic sans-serif font and the viewer renders the text).

use std::path::Path;

use anyhow::Context;
use plotters::prelude::*;

use super::report::{params_label, Row};

fn label(r: &Row) -> String {
    let cold = if r.cold { ", cold" } else { "" };
    format!("{} · {} t{cold}", r.test, r.n_threads)
}

/// Writes the chart of `rows` to `path`.
pub fn write_svg(path: &Path, rows: &[Row]) -> anyhow::Result<()> {
    anyhow::ensure!(!rows.is_empty(), "--plot: no results to plot");
    draw(path, rows)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("--plot: writing {}", path.display()))
}

fn draw(path: &Path, rows: &[Row]) -> Result<(), Box<dyn std::error::Error>> {
    let n = rows.len();
    let height = 140 + 34 * n as u32;
    let root = SVGBackend::new(path, (960, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let top = rows
        .iter()
        .map(|r| r.avg_ts + r.stddev_ts)
        .fold(0.0f64, f64::max);
    let x_max = (top * 1.18).max(1e-6);
    let first = &rows[0];
    let caption = format!(
        "bitmoe bench: {} ({} params{}) on {}",
        first.model_type,
        params_label(first.model_n_params),
        if first.synthetic { ", synthetic" } else { "" },
        first.cpu_info
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 17))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(190)
        // An integer range is inclusive of its end in plotters: 0..n-1 gives n bands.
        .build_cartesian_2d(0.0..x_max, (0..n - 1).into_segmented())?;
    // The first test at the top, as in the table.
    let slot = |i: usize| n - 1 - i;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) if *i < n => label(&rows[slot(*i)]),
            _ => String::new(),
        })
        .x_desc("tokens/s (mean ± sd)")
        .draw()?;
    let bar_color = |r: &Row| match (r.n_prompt, r.n_gen) {
        (_, 0) => RGBColor(66, 133, 244),
        (0, _) => RGBColor(52, 168, 83),
        _ => RGBColor(251, 188, 5),
    };
    chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
        let mut bar = Rectangle::new(
            [
                (0.0, SegmentValue::Exact(slot(i))),
                (r.avg_ts, SegmentValue::Exact(slot(i) + 1)),
            ],
            bar_color(r).filled(),
        );
        bar.set_margin(5, 5, 0, 0);
        bar
    }))?;
    chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
        PathElement::new(
            vec![
                (
                    (r.avg_ts - r.stddev_ts).max(0.0),
                    SegmentValue::CenterOf(slot(i)),
                ),
                (r.avg_ts + r.stddev_ts, SegmentValue::CenterOf(slot(i))),
            ],
            BLACK.stroke_width(2),
        )
    }))?;
    chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
        Text::new(
            format!("{:.2}", r.avg_ts),
            (
                r.avg_ts + r.stddev_ts + x_max * 0.01,
                SegmentValue::CenterOf(slot(i)),
            ),
            ("sans-serif", 13),
        )
    }))?;
    root.present()?;
    Ok(())
}
