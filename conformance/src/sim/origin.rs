//! A simulated origin: HLS, DASH and Smooth Streaming manifests and media answers generated
//! on demand for a wall-clock time, deterministically and without I/O.
//!
//! Timing: segment `k` (from 0) lasts `d` = [`OriginConfig::segment_duration`]. Live, it spans
//! `[AST + k*d, AST + (k+1)*d)` and exists once its end has passed (`now` capped at
//! [`LiveConfig::end`]) while its end is later than `now - dvr_window`; VOD, segments
//! `0..ceil(vod_duration / d)` exist, all `d` long (the VOD length is rounded up to whole
//! segments). Media segments weigh `bandwidth * d / 8` bytes, init segments [`INIT_SIZE`].
//!
//! URLs (every CDN host alike, under `https://{host}/live/`; manifests use relative URLs):
//! - HLS: `master.m3u8`, `v/{id}/index.m3u8`, `a/index.m3u8`, `v/{id}/init.mp4`,
//!   `a/init.mp4` (fMP4 only), `v/{id}/{k}.m4s` / `.ts`, `a/{k}.m4s` / `.ts`.
//! - DASH: `manifest.mpd`, `v/{id}/init.mp4`, `a/init.mp4`; template `v/{id}/{k}.m4s`
//!   (`$Number$`), timeline `v/{id}/t{time}.m4s` (`$Time$`; video timescale 90000, audio
//!   48000); the audio representation is `audio`.
//! - Smooth: `stream.ism/Manifest`,
//!   `stream.ism/QualityLevels({bitrate})/Fragments(video|audio={time in 100 ns})`.
//! - [`TIME_URL`] answers the true `now`; [`STEERING_URL`] (any query) the steering manifest.
//!
//! Protection ([`OriginConfig::protection`], `None`: clear, and the manifests unchanged):
//! - [`Protection::Cenc`] (DASH only): every AdaptationSet carries the `mp4protection`
//!   descriptor (`cenc` or `cbcs`, `cenc:default_KID` [`TEST_KID`]) and a ClearKey one with
//!   `dashif:Laurl` = [`OriginConfig::license_url`] and the CommonSystem `cenc:pssh`
//!   ([`common_pssh`], the box Shaka Packager writes into the init segments).
//! - [`Protection::Aes128`] (HLS only): every media playlist carries
//!   `EXT-X-KEY:METHOD=AES-128,URI="{key_url}/{kid hex}"` after `EXT-X-MAP` (init segments
//!   stay clear) and before the first segment; it applies to every segment that follows,
//!   across discontinuities. HLS-TS gives no `IV`, so segment `k`'s IV is its media sequence
//!   number `k` (RFC 8216 §5.2); HLS-fMP4 gives `IV=0x...` = [`HLS_FMP4_IV`].
//!
//! Periods ([`OriginConfig::period_every`], rounded up to whole segments): DASH periods `p{n}`
//! whose `@presentationTimeOffset` is their own first media time, so media times and
//! `$Number$` continue across periods and media URLs do not depend on the period; HLS marks
//! each boundary with `EXT-X-DISCONTINUITY`; Smooth ignores them.
//!
//! End of a live stream (`now >= end`): HLS adds `EXT-X-ENDLIST`; DASH stays `dynamic`, drops
//! `@minimumUpdatePeriod` and gains `@mediaPresentationDuration` (the end of the last whole
//! segment, DASH-IF IOP style); Smooth turns `IsLive="FALSE"` with `Duration` = the span of the
//! fragments still listed (what an archived IIS presentation reports). The window stays the
//! one at `end`.
//!
//! Content steering: HLS lists every variant and the audio rendition once per host, with
//! absolute URIs and `PATHWAY-ID` = the host up to its first dot; `EXT-X-MEDIA` has no
//! `PATHWAY-ID`, so each pathway's variants reference their own audio group `aud-{pathway}`
//! (as pathway cloning does). DASH gets `ContentSteering` and one MPD `BaseURL` per host.

use std::fmt::Write as _;
use std::ops::Range;

use playhead::{Micros, UnixMicros};

/// Wall-clock time of VOD segment 0 (`EXT-X-PROGRAM-DATE-TIME`): 2026-01-01T00:00:00Z.
pub const VOD_EPOCH: UnixMicros = UnixMicros(1_767_225_600_000_000);
/// The content steering server.
pub const STEERING_URL: &str = "https://steering.test/steer";
/// The time server of DASH `UTCTiming` (`urn:mpeg:dash:utc:http-iso:2014`).
pub const TIME_URL: &str = "https://time.test/now";
/// Size in bytes of every initialization segment.
pub const INIT_SIZE: u64 = 1000;
/// The ClearKey license server of protected DASH presentations.
pub const LICENSE_URL: &str = "https://license.test/license/clearkey";
/// The HLS key server: the key of key id `K` is at `{KEY_URL}/{K in 32 hex digits}`.
pub const KEY_URL: &str = "https://keys.test/keys";
/// The key id of all protected test content (`media/enc`, HLS AES-128):
/// `00112233-4455-6677-8899-aabbccddeeff`.
pub const TEST_KID: [u8; 16] = 0x0011_2233_4455_6677_8899_aabb_ccdd_eeff_u128.to_be_bytes();
/// The key of [`TEST_KID`]: `0123456789abcdef0123456789abcdef` (test only).
pub const TEST_KEY: [u8; 16] = 0x0123_4567_89ab_cdef_0123_4567_89ab_cdef_u128.to_be_bytes();
/// The `IV` HLS-fMP4 AES-128 playlists give for every segment: any fixed 16 bytes do; these
/// are the ASCII of `playhead-hls-iv!` (`0x706c61796865...`).
pub const HLS_FMP4_IV: [u8; 16] = *b"playhead-hls-iv!";

const HLS_TYPE: &str = "application/vnd.apple.mpegurl";
const DASH_TYPE: &str = "application/dash+xml";
const SMOOTH_TYPE: &str = "application/vnd.ms-sstr+xml";
const HNS: i64 = 10_000_000;
/// SPS (High@3.1) and PPS from `conformance/vectors/smooth/vod-playready.ismc`.
const SPS_PPS: &str =
    "000000016764001FAC2CA5014016EC0440000003004000000C23C60C920000000168E9093525";

/// Manifest format and segment addressing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OriginFormat {
    /// HLS with fMP4 segments (`EXT-X-MAP`).
    HlsFmp4,
    /// HLS with MPEG-TS segments.
    HlsTs,
    /// DASH `SegmentTemplate@duration` with `$Number$`.
    DashTemplate,
    /// DASH `SegmentTemplate` + `SegmentTimeline` with `$Time$`.
    DashTimeline,
    /// Microsoft Smooth Streaming.
    Smooth,
}

/// A CENC protection scheme (ISO/IEC 23001-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CencScheme {
    /// `cenc`: AES-CTR, subsample encryption of video.
    Cenc,
    /// `cbcs`: AES-CBC with a 1:9 pattern and a constant IV.
    Cbcs,
}

impl CencScheme {
    /// The scheme's four-character code (`cenc`, `cbcs`), as `schm` and DASH `@value` write it.
    pub fn name(self) -> &'static str {
        match self {
            CencScheme::Cenc => "cenc",
            CencScheme::Cbcs => "cbcs",
        }
    }
}

/// How a presentation is protected (see the module docs for the signalling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protection {
    /// CENC-protected fMP4 from media/enc/{scheme}, signalled for ClearKey (DASH only).
    Cenc {
        /// `cenc` or `cbcs`.
        scheme: CencScheme,
    },
    /// HLS whole-segment AES-128 (HLS formats only).
    Aes128,
}

/// One video rendition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendition {
    /// Identifier used in URLs (no `/`).
    pub id: String,
    /// Bit/s (without audio).
    pub bandwidth: u64,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// RFC 6381 codec string (`avc1.64001f`).
    pub codecs: String,
    /// Smooth `CodecPrivateData`: SPS and PPS in Annex B, hex.
    pub codec_private: String,
}

/// Which track a media URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaTrack {
    /// Index into [`OriginConfig::video`].
    Video(usize),
    /// The audio track.
    Audio,
}

/// The media behind a URL: its track, and the segment number (`None`: the init segment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MediaRef {
    /// Track.
    pub track: MediaTrack,
    /// Segment number `k` (live: counted from `availability_start`); `None`: init segment.
    pub segment: Option<i64>,
}

/// Live timing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveConfig {
    /// Segment 0 starts here.
    pub availability_start: UnixMicros,
    /// Segments whose end is older than `now - dvr_window` are gone. `Micros(i64::MAX)`:
    /// nothing is ever removed, and HLS says so with `EXT-X-PLAYLIST-TYPE:EVENT`.
    pub dvr_window: Micros,
    /// Live-to-VOD: the stream stops growing here.
    pub end: Option<UnixMicros>,
}

/// Content steering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SteeringConfig {
    /// `TTL` of the steering manifest, seconds.
    pub ttl_s: u32,
    /// Pathway priority in effect from each time on (before the first: the hosts in order).
    pub schedule: Vec<(UnixMicros, Vec<String>)>,
}

/// What the origin serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginConfig {
    /// Manifest format.
    pub format: OriginFormat,
    /// Video renditions.
    pub video: Vec<Rendition>,
    /// The one AAC audio track, bit/s.
    pub audio_bandwidth: u64,
    /// Duration of every segment.
    pub segment_duration: Micros,
    /// VOD length (ignored when live).
    pub vod_duration: Micros,
    /// Live timing; `None` for VOD.
    pub live: Option<LiveConfig>,
    /// CDN host names (`host` or `host:port`); every URL is `{scheme}://{host}/{prefix}/...`.
    pub hosts: Vec<String>,
    /// `https` in simulations, `http` on the loopback server.
    pub scheme: String,
    /// The first path segment of every CDN URL (`live`).
    pub prefix: String,
    /// The content steering server ([`STEERING_URL`]).
    pub steering_url: String,
    /// The `UTCTiming` time server ([`TIME_URL`]).
    pub time_url: String,
    /// Video media timescale (DASH `$Time$` and `@timescale`).
    pub video_timescale: i64,
    /// Audio media timescale.
    pub audio_timescale: i64,
    /// RFC 6381 codec string of the audio track.
    pub audio_codecs: String,
    /// Smooth `CodecPrivateData` of the audio track (the AudioSpecificConfig, hex).
    pub audio_private: String,
    /// DASH periods / HLS discontinuities every so long.
    pub period_every: Option<Micros>,
    /// Content steering at [`OriginConfig::steering_url`].
    pub steering: Option<SteeringConfig>,
    /// DASH `UTCTiming` pointing at [`OriginConfig::time_url`].
    pub utc_timing: bool,
    /// Encryption and its signalling; `None`: clear.
    pub protection: Option<Protection>,
    /// The ClearKey license server DASH `dashif:Laurl` names ([`LICENSE_URL`]).
    pub license_url: String,
    /// The HLS key server ([`KEY_URL`]): keys at `{key_url}/{key id in 32 hex digits}`.
    pub key_url: String,
}

/// An answer of [`Origin::serve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Served {
    /// A manifest or other text document.
    Text {
        /// MIME type.
        content_type: &'static str,
        /// UTF-8 body.
        body: Vec<u8>,
    },
    /// A media or init segment of `size` bytes (simulated).
    Media {
        /// Bytes.
        size: u64,
        /// What it is.
        media: MediaRef,
    },
    /// 404.
    NotFound,
}

impl OriginConfig {
    /// 360p/720p/1080p at 400k/1.2M/3M, 128k audio, 2 s segments, 60 s VOD on two CDNs.
    pub fn example(format: OriginFormat) -> OriginConfig {
        let r = |id: &str, bandwidth, width, height| Rendition {
            id: id.into(),
            bandwidth,
            width,
            height,
            codecs: "avc1.64001f".into(),
            codec_private: SPS_PPS.into(),
        };
        OriginConfig {
            format,
            video: vec![
                r("360p", 400_000, 640, 360),
                r("720p", 1_200_000, 1280, 720),
                r("1080p", 3_000_000, 1920, 1080),
            ],
            audio_bandwidth: 128_000,
            segment_duration: Micros(2_000_000),
            vod_duration: Micros(60_000_000),
            live: None,
            hosts: vec!["cdn-a.test".into(), "cdn-b.test".into()],
            scheme: "https".into(),
            prefix: "live".into(),
            steering_url: STEERING_URL.into(),
            time_url: TIME_URL.into(),
            video_timescale: 90_000,
            audio_timescale: 48_000,
            audio_codecs: "mp4a.40.2".into(),
            audio_private: "1190".into(),
            period_every: None,
            steering: None,
            utc_timing: false,
            protection: None,
            license_url: LICENSE_URL.into(),
            key_url: KEY_URL.into(),
        }
    }
}

/// The pathway / service location name of a host: the host up to its first dot, or for an
/// IPv4 address with a port (`127.0.0.1:8001`), `cdn` and the port (`cdn8001`).
pub fn pathway(host: &str) -> std::borrow::Cow<'_, str> {
    if let Some((ip, port)) = host.rsplit_once(':')
        && ip.parse::<std::net::Ipv4Addr>().is_ok()
    {
        return format!("cdn{port}").into();
    }
    host.split('.').next().unwrap_or(host).into()
}

/// The W3C common PSSH box (version 1, system id `1077efec-c0b2-4d02-ace3-3c1e52e2fb4b`,
/// no data) naming `kid`: what Shaka Packager's `--protection_systems CommonSystem` writes.
pub fn common_pssh(kid: [u8; 16]) -> Vec<u8> {
    const SYSTEM: [u8; 16] = 0x1077_efec_c0b2_4d02_ace3_3c1e_52e2_fb4b_u128.to_be_bytes();
    let mut b = Vec::with_capacity(52);
    b.extend_from_slice(&52u32.to_be_bytes());
    b.extend_from_slice(b"pssh");
    b.extend_from_slice(&[1, 0, 0, 0]);
    b.extend_from_slice(&SYSTEM);
    b.extend_from_slice(&1u32.to_be_bytes());
    b.extend_from_slice(&kid);
    b.extend_from_slice(&0u32.to_be_bytes());
    b
}

/// Lowercase hex.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The simulated origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    config: OriginConfig,
}

impl Origin {
    /// An origin serving `config`.
    pub fn new(config: OriginConfig) -> Origin {
        Origin { config }
    }

    /// Its configuration.
    pub fn config(&self) -> &OriginConfig {
        &self.config
    }

    /// The manifest on the `host`-th CDN host.
    pub fn manifest_url(&self, host: usize) -> String {
        let host = self.config.hosts.get(host).map_or("", String::as_str);
        let file = match self.config.format {
            OriginFormat::HlsFmp4 | OriginFormat::HlsTs => "master.m3u8",
            OriginFormat::DashTemplate | OriginFormat::DashTimeline => "manifest.mpd",
            OriginFormat::Smooth => "stream.ism/Manifest",
        };
        format!(
            "{}://{host}/{}/{file}",
            self.config.scheme, self.config.prefix
        )
    }

    /// Numbers of the segments that exist (and are listed) at `now`.
    pub fn window(&self, now: UnixMicros) -> Range<u64> {
        let (a, b) = self.span(now);
        u64::try_from(a).unwrap_or(0)..u64::try_from(b).unwrap_or(0)
    }

    /// VOD, or a live stream whose end has come.
    pub fn ended(&self, now: UnixMicros) -> bool {
        self.config
            .live
            .as_ref()
            .is_none_or(|l| l.end.is_some_and(|e| now >= e))
    }

    /// Bytes of a media segment of a track of `bandwidth` bit/s.
    pub fn segment_size(&self, bandwidth: u64) -> u64 {
        let d = u128::from(self.d().unsigned_abs());
        u64::try_from(u128::from(bandwidth) * d / 8_000_000).unwrap_or(u64::MAX)
    }

    /// Answers a GET of `url` at wall-clock time `now`.
    pub fn serve(&self, url: &str, now: UnixMicros) -> Served {
        let c = &self.config;
        let bare = url.split(['?', '#']).next().unwrap_or("");
        if bare == c.time_url {
            return text("text/plain", iso(now));
        }
        if bare == c.steering_url {
            return c.steering.as_ref().map_or(Served::NotFound, |s| {
                text("application/json", self.steering_manifest(s, now))
            });
        }
        let Some(rest) = bare
            .strip_prefix(c.scheme.as_str())
            .and_then(|r| r.strip_prefix("://"))
        else {
            return Served::NotFound;
        };
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let answer = if c.hosts.iter().any(|h| h == host) {
            self.serve_cdn(path, now)
        } else {
            None
        };
        answer.unwrap_or(Served::NotFound)
    }

    fn d(&self) -> i64 {
        self.config.segment_duration.0.max(1)
    }

    /// Segments per period, when there are periods.
    fn spp(&self) -> Option<i64> {
        let d = self.d();
        self.config
            .period_every
            .map(|p| (p.0.max(1).saturating_add(d - 1) / d).max(1))
    }

    /// Segment duration in ticks of `timescale`.
    fn ticks(&self, timescale: i64) -> i64 {
        clamp(i128::from(self.d()) * i128::from(timescale) / 1_000_000).max(1)
    }

    /// `[first, end)` segment numbers at `now`.
    fn span(&self, now: UnixMicros) -> (i64, i64) {
        let d = i128::from(self.d());
        match &self.config.live {
            None => {
                let v = i128::from(self.config.vod_duration.0.max(0));
                (0, clamp((v + d - 1) / d))
            }
            Some(l) => {
                let eff = l.end.map_or(now.0, |e| now.0.min(e.0));
                let since = i128::from(eff) - i128::from(l.availability_start.0);
                let end = since.div_euclid(d).max(0);
                let first = (since - i128::from(l.dvr_window.0))
                    .div_euclid(d)
                    .clamp(0, end);
                (clamp(first), clamp(end))
            }
        }
    }

    fn has(&self, k: i64, now: UnixMicros) -> bool {
        let (a, b) = self.span(now);
        a <= k && k < b
    }

    /// Wall-clock start of segment `k`.
    fn wall(&self, k: i64) -> UnixMicros {
        let origin = self
            .config
            .live
            .as_ref()
            .map_or(VOD_EPOCH, |l| l.availability_start);
        UnixMicros(origin.0.saturating_add(k.saturating_mul(self.d())))
    }

    fn is_hls(&self) -> bool {
        matches!(
            self.config.format,
            OriginFormat::HlsFmp4 | OriginFormat::HlsTs
        )
    }

    fn serve_cdn(&self, path: &str, now: UnixMicros) -> Option<Served> {
        let p = path
            .strip_prefix(self.config.prefix.as_str())?
            .strip_prefix('/')?;
        let c = &self.config;
        match c.format {
            OriginFormat::HlsFmp4 | OriginFormat::HlsTs if p == "master.m3u8" => {
                return Some(text(HLS_TYPE, self.hls_multivariant()));
            }
            OriginFormat::DashTemplate | OriginFormat::DashTimeline if p == "manifest.mpd" => {
                return Some(text(DASH_TYPE, self.dash(now)));
            }
            OriginFormat::Smooth if p == "stream.ism/Manifest" => {
                return Some(text(SMOOTH_TYPE, self.smooth(now)));
            }
            OriginFormat::Smooth => return self.serve_fragment(p, now),
            _ => {}
        }
        let (bandwidth, file, timescale, track) = if let Some(f) = p.strip_prefix("a/") {
            (c.audio_bandwidth, f, c.audio_timescale, MediaTrack::Audio)
        } else {
            let (id, f) = p.strip_prefix("v/")?.split_once('/')?;
            let i = c.video.iter().position(|r| r.id == id)?;
            (
                c.video[i].bandwidth,
                f,
                c.video_timescale,
                MediaTrack::Video(i),
            )
        };
        if self.is_hls() && file == "index.m3u8" {
            return Some(text(HLS_TYPE, self.hls_media(now)));
        }
        if file == "init.mp4" && c.format != OriginFormat::HlsTs {
            return Some(Served::Media {
                size: INIT_SIZE,
                media: MediaRef {
                    track,
                    segment: None,
                },
            });
        }
        let k = match c.format {
            OriginFormat::HlsTs => num(file.strip_suffix(".ts")?)?,
            OriginFormat::DashTimeline => {
                let t = num(file.strip_prefix('t')?.strip_suffix(".m4s")?)?;
                let dt = self.ticks(timescale);
                (t % dt == 0).then_some(t / dt)?
            }
            _ => num(file.strip_suffix(".m4s")?)?,
        };
        self.has(k, now).then(|| Served::Media {
            size: self.segment_size(bandwidth),
            media: MediaRef {
                track,
                segment: Some(k),
            },
        })
    }

    fn serve_fragment(&self, p: &str, now: UnixMicros) -> Option<Served> {
        let rest = p.strip_prefix("stream.ism/QualityLevels(")?;
        let (bitrate, rest) = rest.split_once(")/Fragments(")?;
        let (name, t) = rest.strip_suffix(')')?.split_once('=')?;
        let bitrate = u64::try_from(num(bitrate)?).ok()?;
        let t = num(t)?;
        let c = &self.config;
        let track = match name {
            "video" => MediaTrack::Video(c.video.iter().position(|r| r.bandwidth == bitrate)?),
            "audio" if c.audio_bandwidth == bitrate => MediaTrack::Audio,
            _ => return None,
        };
        let dt = self.ticks(HNS);
        let k = (t % dt == 0).then_some(t / dt)?;
        self.has(k, now).then(|| Served::Media {
            size: self.segment_size(bitrate),
            media: MediaRef {
                track,
                segment: Some(k),
            },
        })
    }

    fn hls_version(&self) -> u32 {
        if self.config.format == OriginFormat::HlsTs {
            3
        } else {
            6
        }
    }

    fn hls_multivariant(&self) -> String {
        let c = &self.config;
        let mut s = format!(
            "#EXTM3U\n#EXT-X-VERSION:{}\n#EXT-X-INDEPENDENT-SEGMENTS\n",
            self.hls_version()
        );
        // (URI prefix, audio group, pathway) of each copy of the ladder.
        let copies: Vec<(String, String, Option<std::borrow::Cow<'_, str>>)> = match &c.steering {
            None => vec![(String::new(), "aud".into(), None)],
            Some(_) => {
                let first = c.hosts.first().map(|h| pathway(h)).unwrap_or_default();
                let _ = writeln!(
                    s,
                    "#EXT-X-CONTENT-STEERING:SERVER-URI=\"{}\",PATHWAY-ID=\"{first}\"",
                    c.steering_url
                );
                c.hosts
                    .iter()
                    .map(|h| {
                        let p = pathway(h);
                        let base = format!("{}://{h}/{}/", c.scheme, c.prefix);
                        (base, format!("aud-{p}"), Some(p))
                    })
                    .collect()
            }
        };
        for (prefix, group, _) in &copies {
            let _ = writeln!(
                s,
                "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"{group}\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"{prefix}a/index.m3u8\""
            );
        }
        for (prefix, group, pathway) in &copies {
            for r in &c.video {
                let _ = write!(
                    s,
                    "#EXT-X-STREAM-INF:BANDWIDTH={},CODECS=\"{},{}\",RESOLUTION={}x{},AUDIO=\"{group}\"",
                    r.bandwidth.saturating_add(c.audio_bandwidth),
                    r.codecs,
                    c.audio_codecs,
                    r.width,
                    r.height
                );
                if let Some(p) = pathway {
                    let _ = write!(s, ",PATHWAY-ID=\"{p}\",STABLE-VARIANT-ID=\"{}\"", r.id);
                }
                let _ = writeln!(s, "\n{prefix}v/{}/index.m3u8", r.id);
            }
        }
        s
    }

    fn hls_media(&self, now: UnixMicros) -> String {
        let (first, end) = self.span(now);
        let d = self.d();
        let ts = self.config.format == OriginFormat::HlsTs;
        let mut s = format!(
            "#EXTM3U\n#EXT-X-VERSION:{}\n#EXT-X-TARGETDURATION:{}\n#EXT-X-MEDIA-SEQUENCE:{first}\n",
            self.hls_version(),
            d.saturating_add(999_999) / 1_000_000
        );
        let spp = self.spp();
        if let Some(p) = spp {
            let before = if first > 0 { (first - 1) / p } else { 0 };
            let _ = writeln!(s, "#EXT-X-DISCONTINUITY-SEQUENCE:{before}");
        }
        match &self.config.live {
            None => s.push_str("#EXT-X-PLAYLIST-TYPE:VOD\n"),
            Some(l) if l.dvr_window.0 == i64::MAX => s.push_str("#EXT-X-PLAYLIST-TYPE:EVENT\n"),
            Some(_) => {}
        }
        if !ts {
            s.push_str("#EXT-X-MAP:URI=\"init.mp4\"\n");
        }
        if self.config.protection == Some(Protection::Aes128) {
            // After EXT-X-MAP: the init segment stays clear. Without IV (TS) the media
            // sequence number is the IV.
            let _ = write!(
                s,
                "#EXT-X-KEY:METHOD=AES-128,URI=\"{}/{}\"",
                self.config.key_url,
                hex_lower(&TEST_KID)
            );
            if !ts {
                let _ = write!(s, ",IV=0x{}", hex_lower(&HLS_FMP4_IV));
            }
            s.push('\n');
        }
        let (extinf, ext) = (dec(d), if ts { "ts" } else { "m4s" });
        for k in first..end {
            if spp.is_some_and(|p| k > 0 && k % p == 0) {
                s.push_str("#EXT-X-DISCONTINUITY\n");
            }
            let _ = write!(
                s,
                "#EXT-X-PROGRAM-DATE-TIME:{}\n#EXTINF:{extinf},\n{k}.{ext}\n",
                iso(self.wall(k))
            );
        }
        if self.ended(now) {
            s.push_str("#EXT-X-ENDLIST\n");
        }
        s
    }

    fn dash(&self, now: UnixMicros) -> String {
        let c = &self.config;
        let d = self.d();
        let (first, end) = self.span(now);
        let mut s = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" profiles=\"urn:mpeg:dash:profile:isoff-live:2011\"",
        );
        let protection = self.dash_protection();
        if protection.is_some() {
            s.push_str(
                " xmlns:cenc=\"urn:mpeg:cenc:2013\" xmlns:dashif=\"https://dashif.org/CPS\"",
            );
        }
        let total = dur(end.saturating_mul(d));
        match &c.live {
            Some(l) => {
                let _ = write!(
                    s,
                    " type=\"dynamic\" availabilityStartTime=\"{}\" publishTime=\"{}\"",
                    iso(l.availability_start),
                    iso(now)
                );
                if self.ended(now) {
                    let _ = write!(s, " mediaPresentationDuration=\"{total}\"");
                } else {
                    let _ = write!(s, " minimumUpdatePeriod=\"{}\"", dur(d));
                }
                let _ = write!(
                    s,
                    " timeShiftBufferDepth=\"{}\" suggestedPresentationDelay=\"{}\"",
                    dur(l.dvr_window.0),
                    dur(d.saturating_mul(3))
                );
            }
            None => {
                let _ = write!(s, " type=\"static\" mediaPresentationDuration=\"{total}\"");
            }
        }
        let _ = writeln!(
            s,
            " minBufferTime=\"{}\" maxSegmentDuration=\"{}\">",
            dur(d.saturating_mul(2)),
            dur(d)
        );
        if c.steering.is_some() {
            let first_host = c.hosts.first().map(|h| pathway(h)).unwrap_or_default();
            let _ = writeln!(
                s,
                "<ContentSteering defaultServiceLocation=\"{}\" queryBeforeStart=\"false\">{}</ContentSteering>",
                esc(&first_host),
                esc(&c.steering_url)
            );
            for h in &c.hosts {
                let _ = writeln!(
                    s,
                    "<BaseURL serviceLocation=\"{}\">{}://{}/{}/</BaseURL>",
                    esc(&pathway(h)),
                    esc(&c.scheme),
                    esc(h),
                    esc(&c.prefix)
                );
            }
        }
        let sppm = self.spp().unwrap_or(i64::MAX);
        let periods = if first < end {
            first / sppm..=(end - 1) / sppm
        } else {
            end / sppm..=end / sppm
        };
        let (max_w, max_h) = max_size(&c.video);
        for p in periods {
            let p0 = p.saturating_mul(sppm);
            let (s0, s1) = (first.max(p0), end.min(p0.saturating_add(sppm)));
            let _ = writeln!(
                s,
                "<Period id=\"p{p}\" start=\"{}\">\n<AdaptationSet id=\"1\" contentType=\"video\" mimeType=\"video/mp4\" segmentAlignment=\"true\" startWithSAP=\"1\" maxWidth=\"{max_w}\" maxHeight=\"{max_h}\">",
                dur(p0.saturating_mul(d))
            );
            s.push_str(protection.as_deref().unwrap_or(""));
            self.dash_template(
                &mut s,
                c.video_timescale,
                "v/$RepresentationID$/",
                p0,
                s0,
                s1,
            );
            for r in &c.video {
                let _ = writeln!(
                    s,
                    "<Representation id=\"{}\" codecs=\"{}\" bandwidth=\"{}\" width=\"{}\" height=\"{}\"/>",
                    esc(&r.id),
                    esc(&r.codecs),
                    r.bandwidth,
                    r.width,
                    r.height
                );
            }
            s.push_str("</AdaptationSet>\n<AdaptationSet id=\"2\" contentType=\"audio\" mimeType=\"audio/mp4\" lang=\"en\" segmentAlignment=\"true\" startWithSAP=\"1\">\n<AudioChannelConfiguration schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"2\"/>\n");
            s.push_str(protection.as_deref().unwrap_or(""));
            self.dash_template(&mut s, c.audio_timescale, "a/", p0, s0, s1);
            let _ = writeln!(
                s,
                "<Representation id=\"audio\" codecs=\"{}\" bandwidth=\"{}\" audioSamplingRate=\"48000\"/>\n</AdaptationSet>\n</Period>",
                esc(&c.audio_codecs),
                c.audio_bandwidth
            );
        }
        if c.utc_timing {
            let _ = writeln!(
                s,
                "<UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:http-iso:2014\" value=\"{}\"/>",
                esc(&c.time_url)
            );
        }
        s.push_str("</MPD>\n");
        s
    }

    /// The `ContentProtection` elements of every AdaptationSet, for [`Protection::Cenc`].
    fn dash_protection(&self) -> Option<String> {
        let Some(Protection::Cenc { scheme }) = self.config.protection else {
            return None;
        };
        let kid = playhead::Kid(TEST_KID);
        Some(format!(
            "<ContentProtection schemeIdUri=\"urn:mpeg:dash:mp4protection:2011\" value=\"{}\" cenc:default_KID=\"{kid}\"/>\n<ContentProtection schemeIdUri=\"urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e\" value=\"ClearKey1.0\" cenc:default_KID=\"{kid}\">\n<dashif:Laurl>{}</dashif:Laurl>\n<cenc:pssh>{}</cenc:pssh>\n</ContentProtection>\n",
            scheme.name(),
            esc(&self.config.license_url),
            playhead::base64::encode(&common_pssh(TEST_KID))
        ))
    }

    /// A `SegmentTemplate` for the period starting at segment `p0`, listing `[s0, s1)` when
    /// it has a timeline.
    fn dash_template(&self, s: &mut String, ts: i64, dir: &str, p0: i64, s0: i64, s1: i64) {
        let dt = self.ticks(ts);
        let pto = p0.saturating_mul(dt);
        if self.config.format == OriginFormat::DashTemplate {
            let _ = writeln!(
                s,
                "<SegmentTemplate timescale=\"{ts}\" presentationTimeOffset=\"{pto}\" startNumber=\"{p0}\" duration=\"{dt}\" media=\"{dir}$Number$.m4s\" initialization=\"{dir}init.mp4\"/>"
            );
            return;
        }
        let _ = write!(
            s,
            "<SegmentTemplate timescale=\"{ts}\" presentationTimeOffset=\"{pto}\" startNumber=\"{s0}\" media=\"{dir}t$Time$.m4s\" initialization=\"{dir}init.mp4\">\n<SegmentTimeline>"
        );
        if s1 > s0 {
            let _ = write!(s, "<S t=\"{}\" d=\"{dt}\"", s0.saturating_mul(dt));
            if s1 - s0 > 1 {
                let _ = write!(s, " r=\"{}\"", s1 - s0 - 1);
            }
            s.push_str("/>");
        }
        s.push_str("</SegmentTimeline>\n</SegmentTemplate>\n");
    }

    fn smooth(&self, now: UnixMicros) -> String {
        let c = &self.config;
        let (first, end) = self.span(now);
        let dt = self.ticks(HNS);
        let count = end - first;
        let mut s = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SmoothStreamingMedia MajorVersion=\"2\" MinorVersion=\"2\" TimeScale=\"10000000\"",
        );
        match c.live.as_ref().filter(|_| !self.ended(now)) {
            Some(l) => {
                let _ = write!(
                    s,
                    " Duration=\"0\" IsLive=\"TRUE\" LookAheadFragmentCount=\"0\" DVRWindowLength=\"{}\"",
                    l.dvr_window.0.max(0).saturating_mul(10)
                );
            }
            None if c.live.is_some() => {
                let _ = write!(
                    s,
                    " Duration=\"{}\" IsLive=\"FALSE\"",
                    count.saturating_mul(dt)
                );
            }
            None => {
                let _ = write!(s, " Duration=\"{}\"", count.saturating_mul(dt));
            }
        }
        s.push_str(">\n");
        let mut chunks = String::new();
        if count > 0 {
            let _ = write!(chunks, "<c t=\"{}\" d=\"{dt}\"", first.saturating_mul(dt));
            if count > 1 {
                let _ = write!(chunks, " r=\"{count}\"");
            }
            chunks.push_str("/>\n");
        }
        let (max_w, max_h) = max_size(&c.video);
        let _ = writeln!(
            s,
            "<StreamIndex Type=\"video\" Name=\"video\" Chunks=\"{count}\" QualityLevels=\"{}\" Url=\"QualityLevels({{bitrate}})/Fragments(video={{start time}})\" MaxWidth=\"{max_w}\" MaxHeight=\"{max_h}\" DisplayWidth=\"{max_w}\" DisplayHeight=\"{max_h}\">",
            c.video.len()
        );
        for (i, r) in c.video.iter().enumerate() {
            let _ = writeln!(
                s,
                "<QualityLevel Index=\"{i}\" Bitrate=\"{}\" FourCC=\"H264\" MaxWidth=\"{}\" MaxHeight=\"{}\" CodecPrivateData=\"{}\"/>",
                r.bandwidth, r.width, r.height, r.codec_private
            );
        }
        let _ = write!(
            s,
            "{chunks}</StreamIndex>\n<StreamIndex Type=\"audio\" Name=\"audio\" Language=\"en\" Chunks=\"{count}\" QualityLevels=\"1\" Url=\"QualityLevels({{bitrate}})/Fragments(audio={{start time}})\">\n<QualityLevel Index=\"0\" Bitrate=\"{}\" FourCC=\"AACL\" SamplingRate=\"48000\" Channels=\"2\" BitsPerSample=\"16\" PacketSize=\"4\" AudioTag=\"255\" CodecPrivateData=\"{}\"/>\n{chunks}</StreamIndex>\n</SmoothStreamingMedia>\n",
            c.audio_bandwidth, c.audio_private
        );
        s
    }

    fn steering_manifest(&self, st: &SteeringConfig, now: UnixMicros) -> String {
        let mut best: Option<&(UnixMicros, Vec<String>)> = None;
        for e in &st.schedule {
            if e.0 <= now && best.is_none_or(|b| e.0 >= b.0) {
                best = Some(e);
            }
        }
        let list: Vec<String> = match best {
            Some(e) => e.1.iter().map(|p| format!("\"{}\"", json_esc(p))).collect(),
            None => self
                .config
                .hosts
                .iter()
                .map(|h| format!("\"{}\"", json_esc(&pathway(h))))
                .collect(),
        };
        format!(
            "{{\"VERSION\":1,\"TTL\":{},\"RELOAD-URI\":\"{}\",\"PATHWAY-PRIORITY\":[{}]}}",
            st.ttl_s,
            json_esc(&self.config.steering_url),
            list.join(",")
        )
    }
}

fn text(content_type: &'static str, body: String) -> Served {
    Served::Text {
        content_type,
        body: body.into_bytes(),
    }
}

fn clamp(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// A non-negative decimal integer without sign or spaces.
fn num(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn max_size(video: &[Rendition]) -> (u32, u32) {
    (
        video.iter().map(|r| r.width).max().unwrap_or(0),
        video.iter().map(|r| r.height).max().unwrap_or(0),
    )
}

/// Microseconds as decimal seconds, without trailing zeros (`2`, `2.5`, `1.001`).
fn dec(us: i64) -> String {
    let sign = if us < 0 { "-" } else { "" };
    let a = us.unsigned_abs();
    let (whole, frac) = (a / 1_000_000, a % 1_000_000);
    if frac == 0 {
        return format!("{sign}{whole}");
    }
    let f = format!("{frac:06}");
    format!("{sign}{whole}.{}", f.trim_end_matches('0'))
}

/// An xs:duration in seconds.
fn dur(us: i64) -> String {
    format!("PT{}S", dec(us.max(0)))
}

/// ISO 8601 UTC with milliseconds: `2026-11-21T12:00:00.000Z`.
pub fn iso(t: UnixMicros) -> String {
    let secs = t.0.div_euclid(1_000_000);
    let ms = t.0.rem_euclid(1_000_000) / 1000;
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// (year, month, day) of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn json_esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use playhead::{ParseOptions, Presentation, SegmentIndex, Track, parse};

    /// 2026-11-21T12:00:00Z.
    const AST: i64 = 1_795_262_400_000_000;
    const S: i64 = 1_000_000;
    /// 100.5 s after AST: segments 0..50 exist, the 30 s window holds 35..50.
    const NOW: UnixMicros = UnixMicros(AST + 100 * S + S / 2);

    const ALL: [OriginFormat; 5] = [
        OriginFormat::HlsFmp4,
        OriginFormat::HlsTs,
        OriginFormat::DashTemplate,
        OriginFormat::DashTimeline,
        OriginFormat::Smooth,
    ];

    fn live(format: OriginFormat, end: Option<i64>) -> Origin {
        let mut c = OriginConfig::example(format);
        c.live = Some(LiveConfig {
            availability_start: UnixMicros(AST),
            dvr_window: Micros(30 * S),
            end: end.map(|e| UnixMicros(AST + e * S)),
        });
        Origin::new(c)
    }

    fn fetch(o: &Origin, url: &str, now: UnixMicros) -> (String, Presentation) {
        let Served::Text { body, .. } = o.serve(url, now) else {
            panic!("{url}: not a document");
        };
        let opts = ParseOptions {
            url: Some(url.into()),
            strictness: playhead::Strictness::Strict,
            ..Default::default()
        };
        let p = parse(&body, &opts)
            .unwrap_or_else(|e| panic!("{url}: {e}\n{}", String::from_utf8_lossy(&body)));
        assert!(p.warnings.is_empty(), "{url}: {:?}", p.warnings);
        (String::from_utf8(body).unwrap(), p.presentation)
    }

    fn is_media(o: &Origin, url: &str, now: UnixMicros) -> bool {
        matches!(o.serve(url, now), Served::Media { .. })
    }

    /// Each listed segment of `t` is served (as is its init); returns (count, first, next URL).
    fn check_listed(o: &Origin, t: &Track, now: UnixMicros) -> (u64, u64, String) {
        let n = t.segments.len();
        for i in 0..n {
            let seg = t.segments.segment(i).unwrap();
            assert!(is_media(o, &seg.url, now), "{} at {now:?}", seg.url);
        }
        if let Some(init) = t.segments.init() {
            assert!(matches!(
                o.serve(&init.url, now),
                Served::Media {
                    size: INIT_SIZE,
                    media: MediaRef { segment: None, .. }
                }
            ));
        }
        let first = t.segments.segment(0).map_or(0, |s| s.number);
        let last = t.segments.segment(n - 1).unwrap();
        let next = match &t.segments {
            SegmentIndex::Timeline(tl) => tl.media.expand(0, last.start + last.duration),
            _ => last.url.replace(
                &format!("/{}.", last.number),
                &format!("/{}.", last.number + 1),
            ),
        };
        (n, first, next)
    }

    /// HLS: every media playlist of the multivariant, parsed and checked.
    fn hls_playlists(o: &Origin, now: UnixMicros, host: usize) -> Vec<(String, Presentation)> {
        let (_, p) = fetch(o, &o.manifest_url(host), now);
        let urls: Vec<String> = p
            .tracks()
            .filter_map(|t| t.hls.as_ref())
            .flat_map(|h| h.playlists.iter().map(|r| r.url.clone()))
            .collect();
        assert_eq!(urls.len(), 4, "3 variants + audio");
        urls.iter().map(|u| fetch(o, u, now)).collect()
    }

    #[test]
    fn vod_parses_and_serves_every_segment() {
        for f in ALL {
            let o = Origin::new(OriginConfig::example(f));
            let now = UnixMicros(0);
            let tracks: Vec<Track> = if o.is_hls() {
                hls_playlists(&o, now, 1)
                    .into_iter()
                    .map(|(text, p)| {
                        assert!(text.contains("#EXT-X-ENDLIST"));
                        assert_eq!(p.duration, Some(Micros(60 * S)));
                        p.tracks().next().unwrap().clone()
                    })
                    .collect()
            } else {
                let (_, p) = fetch(&o, &o.manifest_url(1), now);
                assert_eq!(p.duration, Some(Micros(60 * S)), "{f:?}");
                assert!(!p.is_live());
                p.tracks().cloned().collect()
            };
            assert_eq!(tracks.len(), 4, "{f:?}");
            for t in &tracks {
                let (n, first, next) = check_listed(&o, t, now);
                assert_eq!((n, first), (30, 0), "{f:?} {}", t.id);
                assert_eq!(o.serve(&next, now), Served::NotFound, "{next}");
                let url = t.segments.segment(0).unwrap().url;
                assert!(url.starts_with("https://cdn-b.test/live/"), "{url}");
                assert_eq!(url.ends_with(".ts"), f == OriginFormat::HlsTs, "{url}");
            }
        }
    }

    #[test]
    fn live_window_follows_the_clock() {
        for f in ALL {
            let o = live(f, None);
            assert_eq!(o.window(NOW), 35..50);
            let mut tracks: Vec<Track> = Vec::new();
            if o.is_hls() {
                for (text, p) in hls_playlists(&o, NOW, 0) {
                    assert!(p.is_live() && !text.contains("ENDLIST"));
                    let t = p.tracks().next().unwrap().clone();
                    let pdt = t.segments.segment(0).unwrap().program_date_time;
                    assert_eq!(pdt, Some(UnixMicros(AST + 70 * S)));
                    tracks.push(t);
                }
            } else {
                let (_, p) = fetch(&o, &o.manifest_url(0), NOW);
                assert!(p.is_live(), "{f:?}");
                assert_eq!(
                    p.live.as_ref().unwrap().time_shift_depth,
                    Some(Micros(30 * S))
                );
                tracks.extend(p.tracks().cloned());
            }
            assert_eq!(tracks.len(), 4, "{f:?}");
            for t in &tracks {
                if let SegmentIndex::Template(tpl) = &t.segments {
                    // Open-ended: the count follows the wall clock.
                    assert_eq!(tpl.count, None);
                    let d = tpl.duration;
                    let url = |k: u64| tpl.media.expand(k, tpl.presentation_time_offset + k * d);
                    for k in 35..50 {
                        assert!(is_media(&o, &url(k), NOW), "{}", url(k));
                    }
                    assert_eq!(o.serve(&url(34), NOW), Served::NotFound);
                    assert_eq!(o.serve(&url(50), NOW), Served::NotFound);
                    continue;
                }
                let (n, _, next) = check_listed(&o, t, NOW);
                assert_eq!(n, 15, "{f:?} {}", t.id);
                assert_eq!(o.serve(&next, NOW), Served::NotFound, "{next}");
                assert!(is_media(&o, &next, UnixMicros(NOW.0 + 2 * S)), "{next}");
            }
        }
    }

    #[test]
    fn live_end_closes_every_format() {
        for f in ALL {
            let o = live(f, Some(60));
            assert!(o.ended(NOW));
            assert_eq!(o.window(NOW), 15..30);
            if o.is_hls() {
                for (text, p) in hls_playlists(&o, NOW, 0) {
                    assert!(text.contains("#EXT-X-ENDLIST"));
                    assert_eq!(p.tracks().next().unwrap().segments.len(), 15);
                }
                continue;
            }
            let (text, p) = fetch(&o, &o.manifest_url(0), NOW);
            match f {
                OriginFormat::Smooth => {
                    assert!(!p.is_live() && text.contains("IsLive=\"FALSE\""));
                    assert_eq!(p.duration, Some(Micros(30 * S)));
                }
                _ => {
                    assert_eq!(p.duration, Some(Micros(60 * S)), "{f:?}");
                    assert_eq!(p.live.as_ref().unwrap().update_period, None);
                }
            }
            for t in p.tracks() {
                if f == OriginFormat::DashTemplate {
                    // The whole period is counted; timeShiftBufferDepth still applies.
                    assert_eq!(t.segments.len(), 30);
                    for i in 14..30 {
                        let url = t.segments.segment(i).unwrap().url;
                        assert_eq!(is_media(&o, &url, NOW), i >= 15, "{url}");
                    }
                    continue;
                }
                let (n, _, next) = check_listed(&o, t, NOW);
                assert_eq!(n, 15, "{f:?}");
                assert_eq!(
                    o.serve(&next, UnixMicros(NOW.0 + 100 * S)),
                    Served::NotFound
                );
            }
        }
    }

    #[test]
    fn periods_and_discontinuities() {
        let with_periods = |f| {
            let mut o = live(f, None);
            o.config.period_every = Some(Micros(20 * S));
            o
        };
        let o = with_periods(OriginFormat::DashTimeline);
        let (_, p) = fetch(&o, &o.manifest_url(0), NOW);
        let starts: Vec<Micros> = p.periods.iter().map(|p| p.start).collect();
        assert_eq!(starts, [Micros(60 * S), Micros(80 * S)]);
        let counts: Vec<u64> = p
            .periods
            .iter()
            .map(|p| p.switching_sets[0].tracks[0].segments.len())
            .collect();
        assert_eq!(counts, [5, 10]);
        for t in p.tracks() {
            check_listed(&o, t, NOW);
        }
        let mut vod = OriginConfig::example(OriginFormat::DashTemplate);
        vod.period_every = Some(Micros(20 * S));
        let o = Origin::new(vod);
        let (_, p) = fetch(&o, &o.manifest_url(0), NOW);
        assert_eq!(p.periods.len(), 3);
        let t = &p.periods[1].switching_sets[0].tracks[0];
        assert_eq!(t.segments.segment(0).unwrap().start, 10 * 180_000);
        for t in p.tracks() {
            assert_eq!(check_listed(&o, t, NOW).0, 10);
        }
        let o = with_periods(OriginFormat::HlsFmp4);
        let (text, p) = hls_playlists(&o, NOW, 0).remove(0);
        assert!(text.contains("#EXT-X-DISCONTINUITY-SEQUENCE:3\n"), "{text}");
        let t = p.tracks().next().unwrap();
        let disc: Vec<u64> = (0..t.segments.len())
            .filter(|&i| t.segments.segment(i).unwrap().discontinuity)
            .collect();
        assert_eq!(disc, [5]);
    }

    #[test]
    fn steering_time_and_utc_timing() {
        let steering = SteeringConfig {
            ttl_s: 10,
            schedule: vec![
                (UnixMicros(AST), vec!["cdn-a".into(), "cdn-b".into()]),
                (
                    UnixMicros(AST + 50 * S),
                    vec!["cdn-b".into(), "cdn-a".into()],
                ),
            ],
        };
        let mut o = live(OriginFormat::HlsFmp4, None);
        o.config.steering = Some(steering.clone());
        let (_, p) = fetch(&o, &o.manifest_url(0), NOW);
        let st = p.steering.as_ref().unwrap();
        assert_eq!(
            (st.server_url.as_str(), st.default_pathway.as_deref()),
            (STEERING_URL, Some("cdn-a"))
        );
        let v = p.tracks().find(|t| t.width == Some(1280)).unwrap();
        let refs = &v.hls.as_ref().unwrap().playlists;
        let ids: Vec<_> = refs.iter().map(|r| r.pathway_id.as_deref()).collect();
        assert_eq!(ids, [Some("cdn-a"), Some("cdn-b")]);
        assert_eq!(refs[1].audio_group.as_deref(), Some("aud-cdn-b"));
        let (_, m) = fetch(&o, &refs[1].url, NOW);
        let seg = m.tracks().next().unwrap().segments.segment(0).unwrap();
        assert!(seg.url.starts_with("https://cdn-b.test/live/v/720p/"));
        assert!(is_media(&o, &seg.url, NOW));

        let steer = |now: i64| {
            let Served::Text { body, .. } = o.serve(
                "https://steering.test/steer?_HLS_pathway=cdn-a",
                UnixMicros(now),
            ) else {
                panic!("no steering manifest");
            };
            serde_json::from_slice::<serde_json::Value>(&body).unwrap()
        };
        assert_eq!(steer(AST + 10 * S)["PATHWAY-PRIORITY"][0], "cdn-a");
        assert_eq!(steer(AST + 60 * S)["PATHWAY-PRIORITY"][0], "cdn-b");
        assert_eq!(steer(AST - S)["PATHWAY-PRIORITY"][0], "cdn-a");
        assert_eq!(steer(AST)["TTL"], 10);

        let mut o = live(OriginFormat::DashTimeline, None);
        o.config.steering = Some(steering);
        o.config.utc_timing = true;
        let (_, p) = fetch(&o, &o.manifest_url(1), NOW);
        assert_eq!(
            p.steering.as_ref().unwrap().default_pathway.as_deref(),
            Some("cdn-a")
        );
        let locs: Vec<_> = p
            .base_urls
            .iter()
            .map(|b| b.service_location.as_deref())
            .collect();
        assert_eq!(locs, [Some("cdn-a"), Some("cdn-b")]);
        let timing = &p.live.as_ref().unwrap().utc_timing;
        assert_eq!(timing.len(), 1);
        assert_eq!(timing[0].value, TIME_URL);
        let Served::Text { body, .. } = o.serve(TIME_URL, NOW) else {
            panic!("no time");
        };
        assert_eq!(body, b"2026-11-21T12:01:40.500Z");
        let t = p.tracks().next().unwrap();
        assert!(
            t.segments
                .segment(0)
                .unwrap()
                .url
                .starts_with("https://cdn-a.test/live/")
        );
    }

    #[test]
    fn dash_cenc_is_signalled_for_clearkey() {
        use playhead::{KeySystem, Kid};
        for format in [OriginFormat::DashTemplate, OriginFormat::DashTimeline] {
            for scheme in [CencScheme::Cenc, CencScheme::Cbcs] {
                for vod in [true, false] {
                    let mut o = live(format, None);
                    if vod {
                        o.config.live = None;
                    }
                    o.config.period_every = Some(Micros(20 * S));
                    o.config.protection = Some(Protection::Cenc { scheme });
                    let (text, p) = fetch(&o, &o.manifest_url(0), NOW);
                    assert!(text.contains("xmlns:cenc=\"urn:mpeg:cenc:2013\""));
                    let mut sets = 0;
                    for set in p.periods.iter().flat_map(|p| &p.switching_sets) {
                        sets += 1;
                        let cp = &set.protection;
                        assert_eq!(cp.len(), 2, "{format:?} {scheme:?}");
                        assert_eq!(cp[0].system, KeySystem::Mp4Protection);
                        assert_eq!(cp[0].value.as_deref(), Some(scheme.name()));
                        assert_eq!(cp[0].default_kids, [Kid(TEST_KID)]);
                        assert_eq!(cp[1].system, KeySystem::ClearKey);
                        assert_eq!(cp[1].default_kids, [Kid(TEST_KID)]);
                        assert_eq!(cp[1].license_url.as_deref(), Some(LICENSE_URL));
                        assert_eq!(
                            cp[1].pssh.as_ref().map(|b| b.0.to_vec()),
                            Some(common_pssh(TEST_KID))
                        );
                    }
                    // Video and audio in each of the periods.
                    assert_eq!(sets, 2 * p.periods.len(), "{format:?}");
                    assert!(p.periods.len() > 1);
                    // (A live $Number$ template is open-ended: nothing to walk.)
                    if vod || format == OriginFormat::DashTimeline {
                        for t in p.tracks() {
                            check_listed(&o, t, NOW);
                        }
                    }
                }
            }
        }
        // Clear, or a protection DASH does not carry: no descriptor, no namespace.
        for protection in [None, Some(Protection::Aes128)] {
            let mut o = live(OriginFormat::DashTemplate, None);
            o.config.protection = protection;
            let (text, p) = fetch(&o, &o.manifest_url(0), NOW);
            assert!(!text.contains("cenc") && !text.contains("ContentProtection"));
            assert!(
                p.periods[0]
                    .switching_sets
                    .iter()
                    .all(|s| s.protection.is_empty())
            );
        }
    }

    #[test]
    fn hls_aes128_keys_cover_every_segment_but_not_the_init() {
        use playhead::{KeyMethod, KeySystem};
        let uri = format!("{KEY_URL}/00112233445566778899aabbccddeeff");
        for format in [OriginFormat::HlsTs, OriginFormat::HlsFmp4] {
            for vod in [true, false] {
                let mut o = live(format, None);
                if vod {
                    o.config.live = None;
                }
                // Discontinuities: the key still applies after each.
                o.config.period_every = Some(Micros(10 * S));
                o.config.protection = Some(Protection::Aes128);
                let playlists = hls_playlists(&o, NOW, 0);
                for (text, p) in &playlists {
                    assert_eq!(text.matches("#EXT-X-KEY:").count(), 1, "{text}");
                    let key_at = text.find("#EXT-X-KEY:").unwrap();
                    assert!(key_at < text.find("#EXTINF").unwrap());
                    if format == OriginFormat::HlsFmp4 {
                        assert!(text.find("#EXT-X-MAP").unwrap() < key_at, "{text}");
                    }
                    let t = p.tracks().next().unwrap();
                    let n = t.segments.len();
                    let mut disc = 0;
                    for i in 0..n {
                        let seg = t.segments.segment(i).unwrap();
                        disc += usize::from(seg.discontinuity);
                        assert_eq!(seg.keys.len(), 1, "{}", seg.url);
                        let k = &seg.keys[0];
                        assert_eq!(k.method, KeyMethod::Aes128);
                        assert_eq!(k.system, KeySystem::Identity);
                        assert_eq!(k.uri.as_deref(), Some(uri.as_str()));
                        match format {
                            // No IV: the media sequence number is, and it is the segment's
                            // number in its URL.
                            OriginFormat::HlsTs => {
                                assert_eq!(k.iv, None);
                                assert!(seg.url.ends_with(&format!("/{}.ts", seg.number)));
                            }
                            _ => assert_eq!(k.iv, Some(HLS_FMP4_IV)),
                        }
                        if let Some(init) = &seg.init {
                            assert!(init.keys.is_empty(), "the init segment is clear");
                        }
                    }
                    assert!(disc >= 1, "{text}");
                    if !vod {
                        assert_eq!(t.segments.segment(0).unwrap().number, 35);
                    }
                }
            }
        }
        // Clear, or a protection HLS does not carry: no key.
        let cenc = Some(Protection::Cenc {
            scheme: CencScheme::Cenc,
        });
        for protection in [None, cenc] {
            let mut o = live(OriginFormat::HlsFmp4, None);
            o.config.protection = protection;
            for (text, _) in hls_playlists(&o, NOW, 0) {
                assert!(!text.contains("EXT-X-KEY"));
            }
        }
    }

    #[test]
    fn the_common_pssh_box_parses() {
        let b = common_pssh(TEST_KID);
        let pssh = playhead::media::find(&b, &[*b"pssh"]).unwrap().unwrap();
        let (version, _, body) = pssh.full_header().unwrap();
        assert_eq!((version, b.len()), (1, 52));
        assert_eq!(
            playhead::Kid(body[..16].try_into().unwrap()).to_string(),
            "1077efec-c0b2-4d02-ace3-3c1e52e2fb4b"
        );
        assert_eq!(body[20..36], TEST_KID);
        assert_eq!(hex_lower(&TEST_KEY), "0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn iso_matches_the_core_parser() {
        assert_eq!(iso(VOD_EPOCH), "2026-01-01T00:00:00.000Z");
        assert_eq!(iso(UnixMicros(AST)), "2026-11-21T12:00:00.000Z");
        for t in [
            0,
            951_782_400_123_456,
            -86_400_000_000,
            4_107_542_399_999_999,
            AST,
        ] {
            let back = playhead::time::parse_datetime(&iso(UnixMicros(t))).unwrap();
            assert_eq!(back.0, t - t.rem_euclid(1000), "{t}");
        }
    }

    #[test]
    fn bad_urls_are_not_found_and_never_panic() {
        let s = i64::MAX.to_string();
        for f in ALL {
            let o = live(f, None);
            let mut urls = vec![
                String::new(),
                "https://".into(),
                "http://cdn-a.test/live/master.m3u8".into(),
                "https://other.test/live/master.m3u8".into(),
                "https://cdn-a.test/live/v/nope/1.m4s".into(),
                format!("https://cdn-a.test/live/v/360p/{s}.m4s"),
                format!("https://cdn-a.test/live/v/360p/t{s}.m4s"),
                format!(
                    "https://cdn-a.test/live/stream.ism/QualityLevels(400000)/Fragments(video={s})"
                ),
                "https://cdn-a.test/live/stream.ism/QualityLevels(1)/Fragments(video=0)".into(),
                "https://steering.test/steer".into(),
            ];
            let good = [
                o.manifest_url(0),
                "https://cdn-a.test/live/v/360p/40.m4s".into(),
                "https://cdn-a.test/live/a/t1920000.m4s".into(),
                "https://cdn-a.test/live/stream.ism/QualityLevels(128000)/Fragments(audio=800000000)".into(),
            ];
            for g in &good {
                urls.extend(g.char_indices().map(|(i, _)| g[..i].to_owned()));
            }
            for u in &urls {
                for now in [i64::MIN, -1, 0, AST, NOW.0, i64::MAX] {
                    let a = o.serve(u, UnixMicros(now));
                    assert_eq!(a, o.serve(u, UnixMicros(now)), "deterministic");
                    if u.is_empty() || u.starts_with("http:") || u.contains("other") {
                        assert_eq!(a, Served::NotFound);
                    }
                }
            }
            let mut weird = OriginConfig::example(f);
            weird.segment_duration = Micros(0);
            weird.period_every = Some(Micros(-5));
            weird.vod_duration = Micros(10);
            weird.live = None;
            let w = Origin::new(weird);
            for u in urls.iter().chain(&good) {
                w.serve(u, UnixMicros(0));
            }
            assert!(matches!(
                w.serve(&w.manifest_url(0), UnixMicros(0)),
                Served::Text { .. }
            ));
            assert_eq!(w.serve(&w.manifest_url(9), UnixMicros(0)), Served::NotFound);
        }
    }

    #[test]
    fn sizes_follow_bandwidth() {
        let o = Origin::new(OriginConfig::example(OriginFormat::HlsFmp4));
        assert_eq!(o.segment_size(400_000), 100_000);
        assert_eq!(
            o.serve("https://cdn-b.test/live/v/1080p/29.m4s", UnixMicros(0)),
            Served::Media {
                size: 750_000,
                media: MediaRef {
                    track: MediaTrack::Video(2),
                    segment: Some(29)
                }
            }
        );
        assert_eq!(
            o.serve("https://cdn-b.test/live/a/0.m4s", UnixMicros(0)),
            Served::Media {
                size: 32_000,
                media: MediaRef {
                    track: MediaTrack::Audio,
                    segment: Some(0)
                }
            }
        );
        assert_eq!(
            o.serve("https://cdn-b.test/live/a/30.m4s", UnixMicros(0)),
            Served::NotFound
        );
    }
}
