//! An SVG chart of sessions over time: one panel per session, the video bitrate (and the
//! throughput estimate, dashed) on the left axis, the buffer ahead on the right axis, and
//! labelled vertical marks for what happened (seek, CDN failure). Plain SVG, no dependency.

use std::fmt::Write as _;

use crate::host::Sample;

/// One panel.
pub(crate) struct Panel<'a> {
    /// Title.
    pub(crate) title: &'a str,
    /// Samples in time order.
    pub(crate) samples: &'a [Sample],
    /// (seconds, label) marks.
    pub(crate) marks: &'a [(f64, String)],
}

const W: f64 = 900.0;
const PANEL_H: f64 = 170.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 60.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 28.0;

/// The SVG document.
pub(crate) fn svg(title: &str, panels: &[Panel<'_>]) -> String {
    let h = 40.0 + PANEL_H * panels.len() as f64;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{LEFT}\" y=\"22\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
        esc(title)
    );
    let t_max = panels
        .iter()
        .flat_map(|p| p.samples.iter().map(|x| x.t))
        .fold(1.0f64, f64::max);
    let bps_max = panels
        .iter()
        .flat_map(|p| {
            p.samples
                .iter()
                .map(|x| x.bitrate.max(x.estimate.min(x.bitrate * 4)))
        })
        .max()
        .unwrap_or(1)
        .max(1) as f64
        * 1.1;
    let buf_max = panels
        .iter()
        .flat_map(|p| p.samples.iter().map(|x| x.buffer))
        .fold(1.0f64, f64::max)
        * 1.1;
    for (i, p) in panels.iter().enumerate() {
        let y0 = 40.0 + PANEL_H * i as f64;
        let (pw, ph) = (W - LEFT - RIGHT, PANEL_H - TOP - BOTTOM);
        let x = |t: f64| LEFT + t / t_max * pw;
        let yb = |v: f64| y0 + TOP + ph - (v / bps_max).min(1.0) * ph;
        let yf = |v: f64| y0 + TOP + ph - (v / buf_max).min(1.0) * ph;
        let _ = writeln!(
            s,
            "<text x=\"{LEFT}\" y=\"{}\" font-weight=\"bold\">{}</text>\n<rect x=\"{LEFT}\" y=\"{}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#999\"/>",
            y0 + TOP - 8.0,
            esc(p.title),
            y0 + TOP
        );
        // Axes labels.
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#1f77b4\">{:.0} kbit/s</text>\n<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#1f77b4\">0</text>\n<text x=\"{}\" y=\"{}\" fill=\"#2ca02c\">{:.0} s</text>\n<text x=\"{}\" y=\"{}\" fill=\"#2ca02c\">0</text>",
            LEFT - 4.0,
            y0 + TOP + 10.0,
            bps_max / 1000.0,
            LEFT - 4.0,
            y0 + TOP + ph,
            LEFT + pw + 4.0,
            y0 + TOP + 10.0,
            buf_max,
            LEFT + pw + 4.0,
            y0 + TOP + ph
        );
        for k in 0..=((t_max / 5.0) as usize) {
            let t = k as f64 * 5.0;
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#666\">{t:.0}s</text>",
                x(t),
                y0 + TOP + ph + 14.0
            );
        }
        for (t, label) in p.marks {
            let _ = writeln!(
                s,
                "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#d62728\" stroke-dasharray=\"3,3\"/>\n<text x=\"{3:.1}\" y=\"{4}\" fill=\"#d62728\">{5}</text>",
                x(*t),
                y0 + TOP,
                y0 + TOP + ph,
                x(*t) + 3.0,
                y0 + TOP + 12.0,
                esc(label)
            );
        }
        let line = |f: &dyn Fn(&Sample) -> (f64, f64)| -> String {
            p.samples
                .iter()
                .map(|smp| {
                    let (a, b) = f(smp);
                    format!("{a:.1},{b:.1}")
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        let _ = writeln!(
            s,
            "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"{}\"/>",
            line(&|smp| (x(smp.t), yb(smp.bitrate as f64)))
        );
        let _ = writeln!(
            s,
            "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-opacity=\"0.5\" stroke-dasharray=\"4,3\" points=\"{}\"/>",
            line(&|smp| (x(smp.t), yb(smp.estimate as f64)))
        );
        let _ = writeln!(
            s,
            "<polyline fill=\"none\" stroke=\"#2ca02c\" stroke-width=\"2\" points=\"{}\"/>",
            line(&|smp| (x(smp.t), yf(smp.buffer)))
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{LEFT}\" y=\"{}\" fill=\"#666\">blue: video bitrate (dashed: throughput estimate), green: buffer ahead; red: events</text>\n</svg>",
        h - 6.0
    );
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
