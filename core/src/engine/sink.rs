//! Hands fetched media to the host's decoder in the form it asked for ([`SinkMode`]):
//! container bytes for MSE (MPEG-TS remuxed to fMP4 when the decoder lacks `video/mp2t`,
//! Smooth fragments given a synthesized init segment and a `tfdt`), or access units for
//! MediaCodec and VideoToolbox.

use crate::media::es::TsReader;
use crate::media::mux;
use crate::media::smooth::{self, SmoothTrack};
use crate::media::{self, CodecConfig, CodecRecord, Handler, InitInfo, MediaError, Samples};
use crate::model::{ManifestFormat, Track};
use crate::time::{Micros, Timescale};

use super::cues::{CueSource, FoundCue};

/// How the host's decoder takes media; chosen by the host in
/// [`Config::sink`](super::Config::sink).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum SinkMode {
    /// Container bytes for a byte-stream decoder (MSE `SourceBuffer.appendBuffer`). fMP4 and,
    /// when `mpeg_ts` is true, MPEG-TS go through as fetched, held by the host; MPEG-TS is
    /// remuxed to fMP4 when `mpeg_ts` is false; Smooth fragments get a synthesized init
    /// segment and a `tfdt`.
    Segments {
        /// The decoder takes MPEG-TS (`MediaSource.isTypeSupported('video/mp2t; ...')`).
        mpeg_ts: bool,
    },
    /// Access units with their codec configuration and encryption (Android MediaCodec,
    /// Apple VideoToolbox / AVSampleBufferDisplayLayer). Every media body goes through the
    /// core.
    Samples,
    /// Bodies exactly as fetched, never read by the core (Smooth fragments keep lacking an
    /// init segment and `tfdt`): for hosts with a demuxer of their own, and simulations
    /// whose bodies are not real media.
    AsFetched,
}

impl Default for SinkMode {
    /// [`SinkMode::Segments`] with MPEG-TS passed through.
    fn default() -> Self {
        SinkMode::Segments { mpeg_ts: true }
    }
}

/// What to append, in the form the [`SinkMode`] asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Payload {
    /// The response body the host holds, as fetched.
    Held,
    /// These bytes: a remuxed or rewritten segment, or a synthesized init segment.
    Bytes(Vec<u8>),
    /// Access units ([`SinkMode::Samples`]). For an init segment: the configurations only.
    Samples(Samples),
}

/// Whether the engine must read a body itself (ask for [`super::Delivery::Engine`]).
pub(super) fn needs_bytes(mode: SinkMode, format: ManifestFormat, has_init: bool) -> bool {
    match mode {
        SinkMode::AsFetched => false,
        SinkMode::Samples => true,
        SinkMode::Segments { mpeg_ts } => {
            format == ManifestFormat::Smooth
                || (!mpeg_ts && format == ManifestFormat::HlsMultivariant && !has_init)
        }
    }
}

/// One decoder input's conversion state.
#[derive(Debug, Clone, Default)]
pub(super) struct StreamSink {
    /// The fMP4 init segment in effect (sample mode), or the synthesized Smooth one.
    init: Option<InitInfo>,
    /// MPEG-TS timestamp unwrapping and codec configuration across segments.
    ts: TsReader,
    /// Configurations of the last init segment made for remuxed MPEG-TS.
    remuxed: Vec<CodecConfig>,
    /// `mfhd` sequence number of remuxed fragments.
    sequence: u32,
    /// HLS: the timestamp offset of the current timeline (presentation start of its first
    /// segment minus that segment's first media time), once the engine has read a segment.
    pub(super) align: Option<Micros>,
    /// The earliest presentation time in media time of the last segment read.
    pub(super) first_pts: Option<Micros>,
    /// Cues found in the last segment read (`emsg`, ID3).
    pub(super) found: Vec<FoundCue>,
}

/// One thing to append.
pub(super) struct Piece {
    pub(super) init: bool,
    pub(super) payload: Payload,
}

impl StreamSink {
    /// A new timeline (HLS discontinuity, period change, seek): timestamps may restart.
    pub(super) fn new_timeline(&mut self) {
        self.ts.reset();
        self.align = None;
    }

    /// A fetched init segment.
    pub(super) fn init(&mut self, mode: SinkMode, body: Vec<u8>) -> Result<Payload, MediaError> {
        match mode {
            SinkMode::Samples => {
                let info = media::parse_init(&body)?;
                let configs = info.tracks.iter().map(|t| t.config.clone()).collect();
                self.init = Some(info);
                Ok(Payload::Samples(Samples {
                    configs,
                    units: Vec::new(),
                }))
            }
            _ => Ok(held_or(body)),
        }
    }

    /// A fetched media segment. `smooth` is the track and the segment's decode time in its
    /// ticks for Smooth Streaming; `init_changed` says the Smooth track changed, so its
    /// synthesized init segment goes first.
    pub(super) fn segment(
        &mut self,
        mode: SinkMode,
        body: Vec<u8>,
        smooth: Option<(&Track, u64, bool)>,
    ) -> Result<Vec<Piece>, MediaError> {
        let mut out = Vec::new();
        self.first_pts = None;
        self.found.clear();
        if !matches!(mode, SinkMode::AsFetched) && body.first() != Some(&0x47) {
            // Cues are extras: a broken emsg does not cost the segment.
            let emsgs = media::emsg::emsg_boxes(&body).unwrap_or_default();
            self.found.extend(emsgs.into_iter().map(FoundCue::emsg));
        }
        if let (Some((track, _, true)), SinkMode::Segments { .. } | SinkMode::Samples) =
            (smooth, mode)
        {
            let bytes = smooth::init_segment(&smooth_track(track)?)?;
            let info = media::parse_init(&bytes)?;
            let payload = if mode == SinkMode::Samples {
                Payload::Samples(Samples {
                    configs: info.tracks.iter().map(|t| t.config.clone()).collect(),
                    units: Vec::new(),
                })
            } else {
                Payload::Bytes(bytes)
            };
            self.init = Some(info);
            out.push(Piece {
                init: true,
                payload,
            });
        }
        let is_ts = body.first() == Some(&0x47);
        let payload = match (mode, smooth) {
            (SinkMode::AsFetched, _) => held_or(body),
            (_, Some((_, start, _))) => {
                let time = smooth::fragment_time(&body)?.unwrap_or(start);
                let fragment = smooth::rewrite_fragment(&body, SMOOTH_TRACK_ID, time)?;
                if mode == SinkMode::Samples {
                    Payload::Samples(self.fmp4_samples(&fragment)?)
                } else {
                    Payload::Bytes(fragment)
                }
            }
            (SinkMode::Samples, None) if is_ts => Payload::Samples(self.read_ts(&body)?),
            (SinkMode::Samples, None) => Payload::Samples(self.fmp4_samples(&body)?),
            (SinkMode::Segments { mpeg_ts: false }, None) if is_ts => {
                let (init, fragment) = self.remux(&body)?;
                out.extend(init.map(|bytes| Piece {
                    init: true,
                    payload: Payload::Bytes(bytes),
                }));
                Payload::Bytes(fragment)
            }
            (SinkMode::Segments { .. }, None) => held_or(body),
        };
        out.push(Piece {
            init: false,
            payload,
        });
        Ok(out)
    }

    /// MPEG-TS to fMP4: an init segment when the tracks' configuration changed, and one
    /// fragment with every audio and video track (timed metadata is not carried).
    fn remux(&mut self, body: &[u8]) -> Result<(Option<Vec<u8>>, Vec<u8>), MediaError> {
        let samples = self.read_ts(body)?;
        let configs: Vec<CodecConfig> = samples
            .configs
            .into_iter()
            .filter(|c| matches!(c.handler, Handler::Video | Handler::Audio))
            .collect();
        let init = if configs == self.remuxed {
            None
        } else {
            let bytes = mux::init_segment(&configs)?;
            self.remuxed = configs;
            Some(bytes)
        };
        let mut units = samples.units;
        units.retain(|u| self.remuxed.iter().any(|c| c.track_id == u.track_id));
        // Stable: decode order within each track is kept.
        crate::order::sort_by_key(&mut units, |u| u128::from(u.track_id));
        let mut tracks = Vec::new();
        let mut rest = &units[..];
        while let Some(first) = rest.first() {
            let n = rest
                .iter()
                .position(|u| u.track_id != first.track_id)
                .unwrap_or(rest.len());
            let (run, tail) = rest.split_at(n);
            tracks.push(mux::TrackFragment {
                track_id: first.track_id,
                units: run,
            });
            rest = tail;
        }
        self.sequence = self.sequence.wrapping_add(1);
        Ok((init, mux::media_segment(self.sequence, &tracks)?))
    }

    fn fmp4_samples(&mut self, body: &[u8]) -> Result<Samples, MediaError> {
        let init = self.init.as_ref().ok_or(MediaError::Missing {
            what: "an init segment before the media segment",
        })?;
        let samples = media::fragment_samples(body, init)?;
        self.first_pts = first_pts(&samples);
        Ok(samples)
    }

    /// An MPEG-TS segment's samples; its ID3 tags are cues too.
    fn read_ts(&mut self, body: &[u8]) -> Result<Samples, MediaError> {
        let samples = self.ts.read(body)?;
        self.first_pts = first_pts(&samples);
        for u in &samples.units {
            let id3 = samples
                .configs
                .iter()
                .any(|c| c.track_id == u.track_id && c.record == CodecRecord::Id3);
            if let (true, Ok(ticks)) = (id3, u64::try_from(u.pts)) {
                self.found.push(FoundCue {
                    source: CueSource::Id3,
                    scheme: "ID3".into(),
                    id: format!("{}:{ticks}", u.track_id),
                    ticks,
                    timescale: Timescale::MPEG_TS,
                    relative: false,
                    duration: None,
                    data: u.data.clone(),
                });
            }
        }
        Ok(samples)
    }
}

/// Track id of synthesized Smooth init segments and rewritten fragments.
const SMOOTH_TRACK_ID: u32 = 1;

/// A body the host gave the engine although it could have kept it is handed back as bytes.
fn held_or(body: Vec<u8>) -> Payload {
    if body.is_empty() {
        Payload::Held
    } else {
        Payload::Bytes(body)
    }
}

/// What Smooth init synthesis needs from the model's track.
fn smooth_track(t: &Track) -> Result<SmoothTrack<'_>, MediaError> {
    // The Smooth reader keeps the RFC 6381 codecs it derived from FourCC and
    // CodecPrivateData; init synthesis takes those as well as FourCCs.
    let fourcc = t.codecs.as_deref().ok_or(MediaError::Missing {
        what: "the codecs of a Smooth track",
    })?;
    Ok(SmoothTrack {
        track_id: SMOOTH_TRACK_ID,
        timescale: t.segments.timescale(),
        fourcc,
        codec_private_data: t.codec_private_data.as_deref().unwrap_or_default(),
        width: t.width,
        height: t.height,
        sample_rate: t.audio_sampling_rate,
        channels: t
            .audio_channels
            .as_deref()
            .and_then(|c| c.split('/').next()?.parse().ok()),
        protection: None,
    })
}

/// The earliest presentation time of a segment's audio and video samples, in microseconds.
fn first_pts(samples: &Samples) -> Option<Micros> {
    samples
        .units
        .iter()
        .filter_map(|u| {
            let c = samples.configs.iter().find(|c| c.track_id == u.track_id)?;
            if !matches!(c.handler, Handler::Video | Handler::Audio) {
                return None;
            }
            let us = i128::from(u.pts) * 1_000_000 / i128::from(c.timescale.get());
            i64::try_from(us).ok().map(Micros)
        })
        .min()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::media::testing::media;
    use crate::media::{AccessUnit, fragment_samples, parse_init};

    /// What must survive a change of container.
    fn essence(u: &AccessUnit) -> (i64, i64, u32, bool, &[u8]) {
        (u.dts, u.pts, u.duration, u.keyframe, &u.data)
    }

    #[test]
    fn mpeg_ts_is_remuxed_to_fmp4_that_reads_back_as_the_same_samples() {
        for dir in ["v/270p", "a"] {
            let mut sink = StreamSink::default();
            let mut reader = TsReader::new();
            let mut init = None;
            for n in 0..8 {
                let ts = media(&format!("{dir}/{n}.ts"));
                let mode = SinkMode::Segments { mpeg_ts: false };
                let pieces = sink.segment(mode, ts.clone(), None).unwrap();
                // The init segment comes once, before the first fragment.
                assert_eq!(pieces.len(), if n == 0 { 2 } else { 1 }, "{dir}/{n}");
                let mut fragment = Vec::new();
                for p in pieces {
                    let Payload::Bytes(bytes) = p.payload else {
                        panic!("{dir}/{n}: not bytes")
                    };
                    if p.init {
                        init = Some(parse_init(&bytes).unwrap());
                    } else {
                        fragment = bytes;
                    }
                }
                let init = init.as_ref().unwrap();
                let got = fragment_samples(&fragment, init).unwrap();
                let want = reader.read(&ts).unwrap();
                assert_eq!(got.configs, want.configs, "{dir}/{n}");
                assert_eq!(got.units.len(), want.units.len(), "{dir}/{n}");
                for (g, w) in got.units.iter().zip(&want.units) {
                    assert_eq!(essence(g), essence(w), "{dir}/{n}");
                }
            }
        }
    }

    #[test]
    fn passthrough_modes_hand_back_what_they_were_given() {
        let mut sink = StreamSink::default();
        for mode in [SinkMode::AsFetched, SinkMode::Segments { mpeg_ts: true }] {
            let ts = media("a/0.ts");
            let pieces = sink.segment(mode, ts.clone(), None).unwrap();
            assert!(
                matches!(&pieces[..], [Piece { init: false, payload: Payload::Bytes(b) }] if *b == ts)
            );
            let held = sink.segment(mode, Vec::new(), None).unwrap();
            assert!(matches!(
                &held[..],
                [Piece {
                    payload: Payload::Held,
                    ..
                }]
            ));
        }
    }

    #[test]
    fn the_sample_sink_reads_init_then_fragments() {
        let mut sink = StreamSink::default();
        let err = sink.segment(SinkMode::Samples, media("a/0.m4s"), None);
        assert!(matches!(err, Err(MediaError::Missing { .. })));
        let Payload::Samples(init) = sink.init(SinkMode::Samples, media("a/init.mp4")).unwrap()
        else {
            panic!()
        };
        assert_eq!(init.configs[0].codec.as_deref(), Some("mp4a.40.2"));
        assert!(init.units.is_empty());
        let pieces = sink
            .segment(SinkMode::Samples, media("a/1.m4s"), None)
            .unwrap();
        let [
            Piece {
                init: false,
                payload: Payload::Samples(s),
            },
        ] = &pieces[..]
        else {
            panic!()
        };
        assert_eq!(s.units.len(), 90);
        assert_eq!(sink.first_pts, Some(Micros(1_920_000)));
    }

    #[test]
    fn needs_bytes_follows_the_mode() {
        use ManifestFormat::{Dash, HlsMultivariant, Smooth};
        let no_ts = SinkMode::Segments { mpeg_ts: false };
        let ts = SinkMode::Segments { mpeg_ts: true };
        assert!(needs_bytes(SinkMode::Samples, Dash, true));
        assert!(!needs_bytes(SinkMode::AsFetched, Smooth, false));
        assert!(needs_bytes(ts, Smooth, false));
        assert!(!needs_bytes(ts, HlsMultivariant, false));
        assert!(needs_bytes(no_ts, HlsMultivariant, false));
        assert!(!needs_bytes(no_ts, HlsMultivariant, true));
        assert!(!needs_bytes(no_ts, Dash, false));
    }
}
