//! HLS media playlists: loading the selected tracks' playlists, refreshing them on the
//! RFC 8216 schedule, aligning them with each other (program-date-time), and noticing their
//! end (live-to-VOD) or that they went stale.

use crate::model::{HlsPlaylistInfo, ManifestFormat, SegmentIndex, Track};
use crate::time::{Micros, UnixMicros};
use crate::{RefreshError, refresh_hls_media};

use super::event::{ErrorClass, Event, FatalError};
use super::fetch::{Job, Purpose, Route};
use super::io::RequestKind;
use super::locations::Locations;
use super::player::Player;
use super::session::Session;

/// An HLS media playlist the engine loads and refreshes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PlaylistState {
    pub(super) set: usize,
    pub(super) track: usize,
    pub(super) inflight: bool,
    pub(super) loaded: bool,
    /// Refreshed while a stream plays it (live).
    pub(super) next_refresh: Option<Micros>,
    pub(super) last_growth: Micros,
    /// Presentation time of the playlist's time 0 (alignment between playlists).
    pub(super) offset: Micros,
    pub(super) ended: bool,
}

/// How HLS playlists are aligned with the first one loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Anchor {
    /// Program-date-time of presentation time 0.
    pub(super) pdt_zero: Option<UnixMicros>,
}

pub(super) fn hls_info(track: &Track) -> Option<&HlsPlaylistInfo> {
    match &track.segments {
        SegmentIndex::List(l) => l.hls.as_deref(),
        _ => None,
    }
}

impl Player {
    /// Requests the media playlist of HLS track `set`/`track` (loading it, or a refresh).
    pub(super) fn request_playlist(&mut self, set: usize, track: usize) {
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let Some(url) = s.playlist_url(set, track) else {
            return;
        };
        let i = match s.playlist_index(set, track) {
            Some(i) => i,
            None => {
                s.playlists.push(PlaylistState {
                    set,
                    track,
                    inflight: false,
                    loaded: false,
                    next_refresh: None,
                    last_growth: self.now.mono,
                    offset: Micros(0),
                    ended: false,
                });
                s.playlists.len() - 1
            }
        };
        if s.playlists[i].inflight {
            return;
        }
        s.playlists[i].inflight = true;
        s.playlists[i].next_refresh = None;
        let kind = if s
            .pres
            .as_ref()
            .is_some_and(|p| p.format == ManifestFormat::HlsMedia)
        {
            RequestKind::Manifest
        } else {
            RequestKind::Playlist
        };
        self.issue(Job::new(
            kind,
            Purpose::Playlist { set, track },
            url,
            Route::Media,
        ));
    }

    pub(super) fn on_playlist(&mut self, set: usize, track: usize, body: &[u8]) {
        let now = self.now.mono;
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let Some(url) = s.playlist_url(set, track) else {
            return;
        };
        let opts = self.parse_options(url);
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let Some(i) = s.playlist_index(set, track) else {
            return;
        };
        s.playlists[i].inflight = false;
        let fresh = !s.playlists[i].loaded;
        let Some(t) = s.pres.as_mut().and_then(|p| {
            p.periods
                .first_mut()?
                .switching_sets
                .get_mut(set)?
                .tracks
                .get_mut(track)
        }) else {
            return;
        };
        if fresh {
            t.segments = SegmentIndex::Unloaded;
        }
        let mut result = refresh_hls_media(t, body, &opts);
        let mut reset = fresh;
        if let Err(RefreshError::Regressed { .. }) = result {
            // The media sequence went back (encoder restart): start this playlist over.
            t.segments = SegmentIndex::Unloaded;
            result = refresh_hls_media(t, body, &opts);
            reset = true;
        }
        match result {
            Ok(outcome) => {
                let grew = outcome.added > 0 || reset;
                self.after_playlist(set, track, reset, grew, outcome.ended);
            }
            Err(e) => {
                let fatal = fresh;
                if fatal {
                    self.fatal(FatalError {
                        class: ErrorClass::Manifest,
                        kind: Some(RequestKind::Playlist),
                        cause: e.to_string(),
                    });
                } else {
                    self.stats.error(ErrorClass::Manifest);
                    let target = self
                        .session
                        .as_ref()
                        .map_or(Micros(2_000_000), Session::target_duration);
                    if let Some(p) = self.session.as_mut().and_then(|s| s.playlists.get_mut(i)) {
                        p.next_refresh = Some(now.saturating_add(target));
                    }
                }
            }
        }
    }

    /// After a playlist was (re)loaded: align it, time its refresh, notice its end or staleness.
    pub(super) fn after_playlist(
        &mut self,
        set: usize,
        track: usize,
        reset: bool,
        grew: bool,
        ended: bool,
    ) {
        let now = self.now.mono;
        let stale_after = i64::from(self.config.stale_after_targets);
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let Some(i) = s.playlist_index(set, track) else {
            return;
        };
        let Some(t) = s.pres.as_ref().and_then(|p| {
            p.periods
                .first()?
                .switching_sets
                .get(set)?
                .tracks
                .get(track)
        }) else {
            return;
        };
        let info_ended = hls_info(t).is_some_and(|h| h.ended);
        let target = hls_info(t)
            .map_or(Micros(2_000_000), |h| h.target_duration)
            .max(Micros(100_000));
        if reset {
            let first = t.segments.segment(0);
            let start = first
                .as_ref()
                .map_or(Micros(0), |f| Micros::from_ticks(f.start, f.timescale));
            let pdt = first.as_ref().and_then(|f| f.program_date_time);
            s.playlists[i].offset = match (s.anchor, pdt) {
                (Some(Anchor { pdt_zero: Some(z) }), Some(p)) => {
                    Micros(p.0.saturating_sub(z.0).saturating_sub(start.0))
                }
                (Some(_), _) => Micros(0),
                (None, _) => {
                    s.anchor = Some(Anchor {
                        pdt_zero: pdt.map(|p| UnixMicros(p.0.saturating_sub(start.0))),
                    });
                    Micros(0)
                }
            };
        }
        let p = &mut s.playlists[i];
        p.loaded = true;
        if grew {
            p.last_growth = now;
        }
        let was_ended = p.ended;
        p.ended = info_ended || ended;
        let used = s
            .streams
            .iter()
            .any(|st| st.set == set && st.track == track);
        p.next_refresh = if p.ended || !used {
            None
        } else if grew {
            Some(now.saturating_add(target))
        } else {
            Some(now.saturating_add(Micros(target.0 / 2)))
        };
        let stale = !p.ended
            && used
            && now.0.saturating_sub(p.last_growth.0) > target.0.saturating_mul(stale_after);
        if stale {
            p.last_growth = now;
        }
        if p.ended && !was_ended && !reset {
            let all_ended = s.streams.iter().all(|st| {
                s.playlists
                    .iter()
                    .any(|q| q.set == st.set && q.track == st.track && q.ended)
            });
            if all_ended && !s.ended {
                s.ended = true;
                let duration = t.segments.time_span().map_or(Micros(0), |(a, b)| {
                    Micros::from_ticks(b.saturating_sub(a), t.segments.timescale())
                });
                self.event(Event::LiveEnded { duration });
            }
        }
        if stale {
            self.stale(Route::Media);
        }
        self.try_start();
    }
}

impl Session {
    /// The HLS track `set`/`track` (HLS has one period).
    pub(super) fn hls_track(&self, set: usize, track: usize) -> Option<&Track> {
        self.pres
            .as_ref()?
            .periods
            .first()?
            .switching_sets
            .get(set)?
            .tracks
            .get(track)
    }

    /// Its media playlist URL at the origin location.
    fn playlist_url(&self, set: usize, track: usize) -> Option<String> {
        canonical_playlist(self.hls_track(set, track)?, &self.media_locs)
    }

    pub(super) fn playlist_index(&self, set: usize, track: usize) -> Option<usize> {
        self.playlists
            .iter()
            .position(|p| p.set == set && p.track == track)
    }
}

/// The URL of `t`'s media playlist at the origin location (its copy on the origin pathway).
fn canonical_playlist(t: &Track, locs: &Locations) -> Option<String> {
    let refs = t.hls.as_ref().map_or(&[][..], |h| &h.playlists[..]);
    let origin = locs.name(locs.origin);
    refs.iter()
        .find(|r| r.pathway_id.as_deref() == Some(origin))
        .or_else(|| refs.first())
        .map(|r| r.url.clone())
        .or_else(|| match &t.segments {
            SegmentIndex::List(l) => Some(l.base().to_owned()),
            _ => None,
        })
}
