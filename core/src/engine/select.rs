//! Choosing tracks: the initial choice by preferences, capabilities and the throughput
//! estimate, the adaptive video choice before each segment, and language changes.

use crate::model::{ContentType, ManifestFormat, SegmentIndex};
use crate::time::Micros;

use super::capping::playable_in;
use super::event::{ErrorClass, Event, FatalError, SwitchReason};
use super::fetch::Purpose;
use super::io::Output;
use super::player::Player;
use super::stats::Switch;
use super::streams::{Stream, kind_of};

fn lang_matches(lang: Option<&str>, want: &str) -> bool {
    lang.is_some_and(|l| {
        l.eq_ignore_ascii_case(want)
            || l.to_ascii_lowercase()
                .starts_with(&format!("{}-", want.to_ascii_lowercase()))
    })
}

impl Player {
    /// Chooses the tracks to start with and creates the streams; false after a fatal error.
    pub(super) fn select_initial(&mut self) -> bool {
        let caps = self.caps.clone();
        let banned = self.drm_banned().to_vec();
        let prefs = self.prefs.clone();
        let Some(s) = self.session.as_ref() else {
            return false;
        };
        let Some(p) = s.pres.as_ref() else {
            return false;
        };
        let Some(period) = p.periods.first() else {
            self.fatal(FatalError {
                class: ErrorClass::NoPlayableTracks,
                kind: None,
                cause: "the presentation has no period".into(),
            });
            return false;
        };
        let usable = |i: usize| {
            let set = &period.switching_sets[i];
            !set.trick_mode && !playable_in(set, &caps, &banned).is_empty()
        };
        let video = (0..period.switching_sets.len()).find(|&i| {
            kind_of(period.switching_sets[i].content_type) == ContentType::Video && usable(i)
        });
        let mut streams = Vec::new();
        let mut selected = Vec::new();
        let mut audio_group = None;
        if let Some(v) = video {
            let set = &period.switching_sets[v];
            let allowed = self.allowed(set);
            let manual = prefs
                .video_track
                .as_ref()
                .and_then(|id| set.tracks.iter().position(|t| t.id == *id))
                .filter(|t| allowed.contains(t));
            let t = manual
                .or_else(|| {
                    let st = Stream::new(ContentType::Video, 0, v, allowed.first().copied()?);
                    self.abr_choose(&st, &allowed, Micros(0), self.config.buffer.ahead)
                })
                .unwrap_or(0);
            audio_group = set.tracks[t]
                .hls
                .as_ref()
                .and_then(|h| h.audio_group.clone());
            streams.push(Stream::new(ContentType::Video, 0, v, t));
            selected.push((
                ContentType::Video,
                set.tracks[t].id.clone(),
                set.tracks[t].bandwidth,
            ));
        }
        let hls = matches!(p.format, ManifestFormat::HlsMultivariant);
        let audio_sets: Vec<usize> = (0..period.switching_sets.len())
            .filter(|&i| {
                let set = &period.switching_sets[i];
                set.content_type == ContentType::Audio
                    && usable(i)
                    && (!hls || (audio_group.is_some() && set.id == audio_group))
                    && set
                        .tracks
                        .iter()
                        .any(|t| t.hls.as_ref().is_none_or(|h| !h.embedded))
            })
            .collect();
        let pick_audio = audio_sets
            .iter()
            .copied()
            .find(|&i| {
                let set = &period.switching_sets[i];
                prefs.audio_language.as_deref().is_some_and(|l| {
                    lang_matches(set.language.as_deref(), l)
                        || set
                            .tracks
                            .iter()
                            .any(|t| lang_matches(t.language.as_deref(), l))
                })
            })
            .or_else(|| {
                audio_sets
                    .iter()
                    .copied()
                    .find(|&i| period.switching_sets[i].default)
            })
            .or_else(|| audio_sets.first().copied());
        if let Some(a) = pick_audio {
            let set = &period.switching_sets[a];
            let t = set
                .tracks
                .iter()
                .position(|t| {
                    prefs
                        .audio_language
                        .as_deref()
                        .is_some_and(|l| lang_matches(t.language.as_deref(), l))
                })
                .or_else(|| {
                    set.tracks
                        .iter()
                        .position(|t| t.hls.as_ref().is_some_and(|h| h.default))
                })
                .unwrap_or(0);
            streams.push(Stream::new(ContentType::Audio, 0, a, t));
            selected.push((
                ContentType::Audio,
                set.tracks[t].id.clone(),
                set.tracks[t].bandwidth,
            ));
        }
        if let Some(lang) = prefs.text_language.as_deref() {
            let text = (0..period.switching_sets.len()).find(|&i| {
                let set = &period.switching_sets[i];
                set.content_type == ContentType::Text
                    && lang_matches(set.language.as_deref(), lang)
                    && set
                        .tracks
                        .iter()
                        .any(|t| t.hls.as_ref().is_none_or(|h| !h.embedded))
            });
            if let Some(x) = text {
                let set = &period.switching_sets[x];
                streams.push(Stream::new(ContentType::Text, 0, x, 0));
                selected.push((
                    ContentType::Text,
                    set.tracks[0].id.clone(),
                    set.tracks[0].bandwidth,
                ));
            }
        }
        if streams.is_empty() {
            self.fatal(FatalError {
                class: ErrorClass::NoPlayableTracks,
                kind: None,
                cause: "no video or audio track the device can play".into(),
            });
            return false;
        }
        let playlists: Vec<(usize, usize)> = streams
            .iter()
            .filter(|st| {
                st.track_in(p)
                    .is_some_and(|t| matches!(t.segments, SegmentIndex::Unloaded))
            })
            .map(|st| (st.set, st.track))
            .collect();
        if let Some(s) = self.session.as_mut() {
            s.streams = streams;
        }
        for (content_type, to, bandwidth) in selected {
            self.switched(content_type, None, to, bandwidth, SwitchReason::Initial);
        }
        for (set, track) in playlists {
            self.request_playlist(set, track);
        }
        true
    }

    pub(super) fn switched(
        &mut self,
        content_type: ContentType,
        from: Option<String>,
        to: String,
        bandwidth: u64,
        reason: SwitchReason,
    ) {
        if content_type == ContentType::Video {
            self.stats.switch(Switch {
                at: self.now.mono,
                to: to.clone(),
                bandwidth,
                reason,
            });
        }
        self.event(Event::TrackSelected {
            content_type,
            from,
            to,
            bandwidth,
            reason,
        });
    }

    /// Preferences or capabilities changed: choose again.
    pub(super) fn reselect(&mut self) {
        let started = self.session.as_ref().is_some_and(|s| !s.streams.is_empty());
        if !started {
            return;
        }
        // Video follows on its next segment (see `choose_video`); audio is re-chosen by
        // restarting it from the playhead when the language changed. (Text streams are
        // chosen at load.)
        let position = self.position();
        let prefs = self.prefs.clone();
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let Some(p) = s.pres.as_ref() else {
            return;
        };
        let mut changes = Vec::new();
        for (i, st) in s.streams.iter().enumerate() {
            if st.content_type != ContentType::Audio {
                continue;
            }
            let Some(lang) = prefs.audio_language.as_deref() else {
                continue;
            };
            let Some(period) = p.periods.get(st.period) else {
                continue;
            };
            let Some(set) = period.switching_sets.get(st.set) else {
                continue;
            };
            let current = st
                .track_in(p)
                .and_then(|t| t.language.clone().or(set.language.clone()));
            if lang_matches(current.as_deref(), lang) {
                continue;
            }
            if let Some(t) = set
                .tracks
                .iter()
                .position(|t| lang_matches(t.language.as_deref(), lang))
            {
                changes.push((i, st.set, t));
            } else if let Some(si) = (0..period.switching_sets.len()).find(|&k| {
                let x = &period.switching_sets[k];
                x.content_type == ContentType::Audio
                    && !x.tracks.is_empty()
                    && lang_matches(x.language.as_deref(), lang)
            }) {
                changes.push((i, si, 0));
            }
        }
        for (i, set, track) in changes {
            let (from, to, bw, hls) = {
                let Some(s) = self.session.as_mut() else {
                    return;
                };
                let Some(p) = s.pres.as_ref() else {
                    return;
                };
                let Some(st) = s.streams.get(i) else {
                    return;
                };
                let from = st.track_in(p).map(|t| t.id.clone());
                let Some(t) = p
                    .periods
                    .get(st.period)
                    .and_then(|x| x.switching_sets.get(set)?.tracks.get(track))
                else {
                    continue;
                };
                (
                    from,
                    t.id.clone(),
                    t.bandwidth,
                    matches!(t.segments, SegmentIndex::Unloaded),
                )
            };
            let cancel = {
                let Some(s) = self.session.as_mut() else {
                    return;
                };
                let st = &mut s.streams[i];
                st.set = set;
                st.track = track;
                st.next = position;
                st.init = None;
                st.eos = false;
                st.inflight.take()
            };
            if let Some(id) = cancel {
                if self.pending.remove(&id).is_some() {
                    self.out.push_back(Output::Cancel(id));
                    self.estimator.abort(self.now.mono, id.0);
                }
            }
            // A retry waiting for its backoff belongs to the old track.
            self.delayed.retain(|(_, job)| match &job.purpose {
                Purpose::Segment { stream, .. } | Purpose::Init { stream, .. } => *stream != i,
                _ => true,
            });
            self.switched(ContentType::Audio, from, to, bw, SwitchReason::Manual);
            if hls {
                self.request_playlist(set, track);
            }
        }
    }

    /// Adaptive choice for the video stream before its next segment.
    pub(super) fn choose_video(&mut self, i: usize, position: Micros) {
        if self.prefs.video_track.is_some()
            && self.session.as_ref().is_some_and(|s| {
                s.pres
                    .as_ref()
                    .zip(s.streams.get(i))
                    .and_then(|(p, st)| st.track_in(p))
                    .map(|t| &t.id)
                    == self.prefs.video_track.as_ref()
            })
        {
            return;
        }
        let manual = self.prefs.video_track.clone();
        let Some(s) = self.session.as_ref() else {
            return;
        };
        let (Some(p), Some(st)) = (s.pres.as_ref(), s.streams.get(i)) else {
            return;
        };
        let buffer = self.buffer_ahead(st, position);
        let Some(set) = p
            .periods
            .get(st.period)
            .and_then(|x| x.switching_sets.get(st.set))
        else {
            return;
        };
        let allowed = self.allowed(set);
        let choice = match manual
            .as_ref()
            .and_then(|id| set.tracks.iter().position(|t| t.id == *id))
            .filter(|t| allowed.contains(t))
        {
            Some(t) => Some((t, SwitchReason::Manual)),
            None => {
                // Near the live edge the buffer cannot exceed the live delay.
                let goal = match s.window.filter(|_| s.is_live()) {
                    Some(w) => self.config.buffer.ahead.min(w.delay),
                    None => self.config.buffer.ahead,
                };
                let current = allowed.contains(&st.track);
                let banned_for_frames = self.frames.bans.iter().any(|(id, until)| {
                    *until > self.now.mono && set.tracks.get(st.track).is_some_and(|t| t.id == *id)
                });
                self.abr_choose(st, &allowed, buffer, goal).map(|t| {
                    let up = set.tracks[t].bandwidth
                        > set.tracks.get(st.track).map_or(0, |x| x.bandwidth);
                    let reason = if banned_for_frames {
                        SwitchReason::DroppedFrames
                    } else if !current {
                        SwitchReason::Capabilities
                    } else if up {
                        SwitchReason::AbrUp
                    } else {
                        SwitchReason::AbrDown
                    };
                    (t, reason)
                })
            }
        };
        let Some((t, reason)) = choice else {
            return;
        };
        if t == st.track {
            return;
        }
        let from = set.tracks.get(st.track).map(|x| x.id.clone());
        let to = set.tracks[t].id.clone();
        let bw = set.tracks[t].bandwidth;
        let set_index = st.set;
        let hls = set.tracks[t].hls.is_some();
        let live = s.is_live();
        if let Some(s) = self.session.as_mut() {
            let st = &mut s.streams[i];
            st.track = t;
            // Re-load a playlist that is not being refreshed: it is out of date.
            if hls {
                if let Some(pl) = s
                    .playlists
                    .iter_mut()
                    .find(|pl| pl.set == set_index && pl.track == t)
                {
                    if live && pl.next_refresh.is_none() && !pl.inflight && !pl.ended {
                        pl.loaded = false;
                    }
                }
            }
        }
        self.switched(ContentType::Video, from, to, bw, reason);
    }
}
