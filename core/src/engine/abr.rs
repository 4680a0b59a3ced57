//! The engine's side of adaptive bitrate: the ladder the device may play now, the
//! observation handed to the policy, and the renditions banned for dropping frames.

use std::collections::VecDeque;

use crate::abr::{Observation, Rung};
use crate::model::{ContentType, SwitchingSet};
use crate::time::Micros;

use super::capping::{playable_in, viewport_cap};
use super::player::Player;
use super::streams::Stream;
use super::timeline::{self, Locate};

/// Segments whose sizes are looked up for the policy.
const LOOKAHEAD: u64 = 8;

/// Dropped-frame accounting.
#[derive(Debug, Default)]
pub(super) struct FrameWatch {
    /// (time, dropped, decoded) reports within the window, oldest first.
    reports: VecDeque<(Micros, u64, u64)>,
    /// Renditions banned until a time.
    pub(super) bans: Vec<(String, Micros)>,
    /// (start, end, track id) of the video segments fetched lately, to know which
    /// rendition is on screen.
    pub(super) spans: VecDeque<(Micros, Micros, String)>,
}

const SPANS_KEPT: usize = 64;

impl FrameWatch {
    /// A video segment of `track` covering `[start, end)` was fetched.
    pub(super) fn fetched(&mut self, start: Micros, end: Micros, track: &str) {
        self.spans.retain(|(s, e, _)| *e <= start || *s >= end);
        if self.spans.len() >= SPANS_KEPT {
            self.spans.pop_front();
        }
        self.spans.push_back((start, end, track.to_owned()));
    }

    fn on_screen(&self, position: Micros) -> Option<&str> {
        self.spans
            .iter()
            .find(|(s, e, _)| *s <= position && position < *e)
            .map(|(_, _, t)| t.as_str())
    }
}

impl Player {
    /// Tracks the device may play now: DRM restrictions and dropped-frame bans, then the
    /// capabilities, then the viewport.
    pub(super) fn allowed(&self, set: &SwitchingSet) -> Vec<usize> {
        let tracks = &set.tracks;
        let now = self.now.mono;
        let mut banned = self.drm_banned().to_vec();
        banned.extend(
            self.frames
                .bans
                .iter()
                .filter(|(_, until)| *until > now)
                .map(|(id, _)| id.clone()),
        );
        let ok = playable_in(set, &self.caps, &banned);
        let Some(v) = self.caps.viewport else {
            return ok;
        };
        let sizes = ok
            .iter()
            .filter_map(|&i| Some((tracks[i].width?, tracks[i].height?)));
        match viewport_cap(sizes, (v.width, v.height)) {
            Some((w, h)) => ok
                .into_iter()
                .filter(|&i| {
                    tracks[i].width.is_none_or(|x| x <= w)
                        && tracks[i].height.is_none_or(|x| x <= h)
                })
                .collect(),
            None => ok,
        }
    }

    /// The policy's choice among `allowed` tracks of the video set of stream `st`, for the
    /// segment at `st.next`: a track index in the set.
    pub(super) fn abr_choose(
        &self,
        st: &Stream,
        allowed: &[usize],
        buffer: Micros,
        goal: Micros,
    ) -> Option<usize> {
        let s = self.session.as_ref()?;
        let p = s.pres.as_ref()?;
        let set = p.periods.get(st.period)?.switching_sets.get(st.set)?;
        let mut order: Vec<usize> = allowed.to_vec();
        crate::order::sort_by_key(&mut order, |&i| {
            crate::order::pair(set.tracks[i].bandwidth, i as u64)
        });
        if order.is_empty() {
            return None;
        }
        let wall = self.corrected_wall();
        let mut duration = Micros(0);
        let mut remaining = None;
        let ladder: Vec<Rung> = order
            .iter()
            .map(|&i| {
                let t = &set.tracks[i];
                let mut sizes = Vec::new();
                if let Some(pl) = s.placement(st.period, st.set, i, wall) {
                    let last = s.final_listing(st.period, st.set, i);
                    if let Locate::Segment { index, start, end } =
                        timeline::locate(&t.segments, &pl, st.next, last)
                    {
                        if i == st.track || duration.0 == 0 {
                            duration = Micros(end.0 - start.0);
                        }
                        if last && !s.is_live() {
                            remaining = Some(t.segments.len().saturating_sub(index));
                        }
                        for k in index..index.saturating_add(LOOKAHEAD) {
                            match t.segments.segment(k).and_then(|x| x.byte_range?.length) {
                                Some(n) => sizes.push(n),
                                None => break,
                            }
                        }
                    }
                }
                Rung {
                    bandwidth: t.bandwidth,
                    sizes,
                }
            })
            .collect();
        let samples = self.estimator.samples();
        let obs = Observation {
            ladder: &ladder,
            current: order.iter().position(|&i| i == st.track),
            buffer,
            buffer_goal: goal,
            segment_duration: if duration.0 > 0 {
                duration
            } else {
                Micros(4_000_000)
            },
            samples: &samples,
            estimate: self.estimator.estimate(self.now.mono),
            latency: self.estimator.latency(),
            live: s.is_live(),
            remaining,
            starting: !self.host.first_frame,
        };
        let k = self.policy.choose(&obs).min(order.len() - 1);
        Some(order[k])
    }

    /// A playback report: ban the rendition on screen if it drops too many frames.
    pub(super) fn watch_frames(&mut self, position: Micros, dropped: u64, decoded: u64) {
        let rule = self.config.abr.dropped_frames;
        let now = self.now.mono;
        self.frames.bans.retain(|(_, until)| *until > now);
        if rule.percent == 0 {
            return;
        }
        let w = &mut self.frames.reports;
        // Counters went back: a new load or a host reset.
        if w.back()
            .is_some_and(|&(_, d, f)| dropped < d || decoded < f)
        {
            w.clear();
        }
        w.push_back((now, dropped, decoded));
        while w.len() > 1
            && w.get(1)
                .is_some_and(|&(t, _, _)| now.0 - t.0 >= rule.window.0)
        {
            w.pop_front();
        }
        let Some(&(t0, d0, f0)) = w.front() else {
            return;
        };
        let (drops, frames) = (dropped - d0, decoded - f0);
        if now.0 - t0.0 < rule.window.0 || frames < rule.min_frames {
            return;
        }
        if drops * 100 <= u64::from(rule.percent) * frames {
            return;
        }
        let Some(track) = self.frames.on_screen(position).map(str::to_owned) else {
            return;
        };
        let video = self.session.as_ref().and_then(|s| {
            let p = s.pres.as_ref()?;
            let st = s
                .streams
                .iter()
                .find(|st| st.content_type == ContentType::Video)?;
            let set = p.periods.get(st.period)?.switching_sets.get(st.set)?;
            Some(set.clone())
        });
        // Never ban the last rendition left: dropping frames beats showing none.
        let left = video.map_or(0, |set| {
            self.allowed(&set)
                .iter()
                .filter(|&&i| set.tracks[i].id != track)
                .count()
        });
        if left == 0 {
            return;
        }
        self.frames.bans.push((track, now.saturating_add(rule.ban)));
        self.frames.reports.clear();
    }
}
