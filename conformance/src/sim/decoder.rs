//! A simulated decoder and buffer: holds what the engine appended and plays it at 1x.
//!
//! It starts (and resumes after a stall) once every input holds the rebuffer goal ahead of
//! the playhead, or the stream has ended; it stalls when any input runs dry. Frames are
//! counted at 25 per second.

use playhead::Micros;
use playhead::engine::{Buffered, PlayState, Playback};
use playhead::model::ContentType;

const TOLERANCE: i64 = 100_000;

/// The simulated player.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoder {
    /// Playhead.
    pub position: Micros,
    /// The viewer wants it to play.
    pub intent: bool,
    /// State.
    pub state: PlayState,
    /// Buffered ranges per input.
    pub buffers: Vec<(ContentType, Vec<(Micros, Micros)>)>,
    /// End of stream was signalled.
    pub eos: bool,
    /// Needed ahead to (re)start.
    pub rebuffer: Micros,
    /// Frames shown.
    pub frames: u64,
    /// Longest stall so far (after the first frame).
    pub longest_stall: Micros,
    /// Stalls after the first frame.
    pub stalls: u32,
    /// Total stall time after the first frame (a stall still going counts up to the
    /// last advance).
    pub stalled: Micros,
    /// Share of the frames the decoder drops from now on, percent (a scripted weak
    /// device).
    pub drop_percent: u32,
    /// Frames dropped so far.
    pub dropped: u64,
    stall_since: Option<Micros>,
    started: bool,
    played: Micros,
}

impl Decoder {
    /// A paused decoder at 0 that needs `rebuffer` to start.
    pub fn new(rebuffer: Micros) -> Decoder {
        Decoder {
            position: Micros(0),
            intent: false,
            state: PlayState::Paused,
            buffers: Vec::new(),
            eos: false,
            rebuffer,
            frames: 0,
            longest_stall: Micros(0),
            stalls: 0,
            stalled: Micros(0),
            drop_percent: 0,
            dropped: 0,
            stall_since: None,
            started: false,
            played: Micros(0),
        }
    }

    /// Adds a media segment.
    pub fn append(&mut self, content_type: ContentType, start: Micros, end: Micros) {
        let i = match self.buffers.iter().position(|(c, _)| *c == content_type) {
            Some(i) => i,
            None => {
                self.buffers.push((content_type, Vec::new()));
                self.buffers.len() - 1
            }
        };
        let ranges = &mut self.buffers[i].1;
        ranges.push((start, end));
        ranges.sort();
        let mut out: Vec<(Micros, Micros)> = Vec::new();
        for (s, e) in ranges.drain(..) {
            match out.last_mut() {
                Some(l) if s.0 <= l.1.0 + TOLERANCE => l.1 = l.1.max(e),
                _ => out.push((s, e)),
            }
        }
        // Keep the ranges near the playhead only (MSE eviction, roughly).
        let keep = self.position.0 - 120_000_000;
        out.retain(|(_, e)| e.0 > keep);
        *ranges = out;
    }

    /// Registers an input that will receive media (its init segment arrived).
    pub fn expect(&mut self, content_type: ContentType) {
        if !self.buffers.iter().any(|(c, _)| *c == content_type) {
            self.buffers.push((content_type, Vec::new()));
        }
    }

    /// Moves the playhead.
    pub fn seek(&mut self, position: Micros, t: Micros) {
        self.position = position;
        self.eos = false;
        if self.state == PlayState::Playing || self.state == PlayState::Ended {
            self.state = PlayState::Stalled;
        }
        let _ = t;
    }

    /// Media ahead of the playhead in the input with the least.
    pub fn ahead(&self) -> Micros {
        self.buffers
            .iter()
            .map(|(_, r)| {
                r.iter()
                    .find(|(a, b)| a.0 <= self.position.0 + TOLERANCE && self.position < *b)
                    .map_or(Micros(0), |(_, b)| Micros(b.0 - self.position.0))
            })
            .min()
            .unwrap_or(Micros(0))
    }

    /// When the playhead will run dry, if playing.
    pub fn next_event(&self, t: Micros) -> Option<Micros> {
        (self.state == PlayState::Playing).then(|| Micros(t.0 + self.ahead().0))
    }

    /// Plays from `t0` to `t1`; returns true when the state changed.
    pub fn advance(&mut self, t0: Micros, t1: Micros) -> bool {
        let before = self.state;
        if self.state == PlayState::Playing {
            let dt = (t1.0 - t0.0).min(self.ahead().0).max(0);
            self.position = Micros(self.position.0 + dt);
            self.played = Micros(self.played.0 + dt);
            let frames = (self.played.0 / 40_000) as u64;
            self.dropped += (frames - self.frames.min(frames)) * u64::from(self.drop_percent) / 100;
            self.frames = frames;
        } else if self.state == PlayState::Stalled && self.stall_since.is_some() {
            self.stalled = Micros(self.stalled.0 + (t1.0 - t0.0).max(0));
        }
        let ahead = self.ahead();
        match self.state {
            PlayState::Playing if ahead.0 <= 0 => {
                self.state = if self.eos {
                    PlayState::Ended
                } else {
                    PlayState::Stalled
                };
                if self.state == PlayState::Stalled && self.started {
                    self.stall_since = Some(t1);
                    self.stalls += 1;
                }
            }
            PlayState::Stalled | PlayState::Paused if self.intent => {
                let ready = !self.buffers.is_empty()
                    && (ahead >= self.rebuffer || (self.eos && ahead.0 > 0));
                if ready {
                    self.state = PlayState::Playing;
                    self.started = true;
                    if let Some(s) = self.stall_since.take() {
                        self.longest_stall = self.longest_stall.max(Micros(t1.0 - s.0));
                    }
                } else if self.state == PlayState::Paused {
                    self.state = PlayState::Stalled;
                }
            }
            PlayState::Playing if !self.intent => self.state = PlayState::Paused,
            _ => {}
        }
        self.state != before
    }

    /// The report for the engine.
    pub fn report(&self) -> Playback {
        Playback {
            position: self.position,
            state: self.state,
            buffered: self
                .buffers
                .iter()
                .map(|(c, r)| Buffered {
                    content_type: *c,
                    ranges: r.clone(),
                })
                .collect(),
            dropped_frames: self.dropped,
            decoded_frames: self.frames,
        }
    }
}
