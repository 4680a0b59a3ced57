//! Deterministic reference manifests for the parse benchmark: no randomness, no files.
//!
//! | name | what |
//! |---|---|
//! | a | HLS media playlist, 6 h live DVR: 10,800 x 2 s segments, PDT on each |
//! | b | the same with 10 segments |
//! | c | HLS multivariant: 12 video variants, 4 audio and 6 subtitle renditions |
//! | d | DASH dynamic MPD, 6 h DVR, SegmentTimeline with every `<S>` written out (8 x 10,800) |
//! | e | the same as (d) with `S@r` |
//! | f | static MPD, 50 Periods x 5 Representations, SegmentTemplate@duration |

// `pub` so that other bench targets can share the generator with `mod manifests;`.
#![allow(unreachable_pub)]

use std::fmt::Write;

/// Segments in a 6 h DVR window of 2 s segments.
pub const DVR_SEGMENTS: u64 = 10_800;

/// First media sequence number of the HLS playlists.
const FIRST_SEQUENCE: u64 = 1_700_000_000;

/// 2026-11-21T12:00:00Z in Unix seconds.
const START_UNIX: i64 = 1_795_262_400;

/// All six manifests, by name.
pub fn all() -> Vec<(&'static str, String)> {
    vec![
        ("a", hls_media(DVR_SEGMENTS)),
        ("b", hls_media(10)),
        ("c", hls_multivariant()),
        ("d", dash_dynamic(false)),
        ("e", dash_dynamic(true)),
        ("f", dash_multi_period()),
    ]
}

/// One-line description of a manifest, by name.
pub fn describe(name: &str) -> &'static str {
    match name {
        "a" => "HLS media, 6 h DVR, 10,800 segs + PDT",
        "b" => "HLS media, 10 segs + PDT",
        "c" => "HLS multivariant, 12 var + 4 aud + 6 sub",
        "d" => "DASH dynamic, 8 x 10,800 <S> written out",
        "e" => "DASH dynamic, 8 x 10,800 segs with S@r",
        "f" => "DASH static, 50 periods x 5 reps",
        _ => "?",
    }
}

/// Expected total segment count (over all tracks) of a manifest, by name.
pub fn expected_segments(name: &str) -> u64 {
    match name {
        "a" => DVR_SEGMENTS,
        "b" => 10,
        "c" => 0, // variants and renditions are unloaded until their playlists are fetched
        "d" | "e" => DVR_SEGMENTS * 8,
        "f" => 50 * 5 * 30,
        _ => 0,
    }
}

/// Checks the date formatting the playlists rely on (bench targets have no test harness).
pub fn self_check() {
    assert_eq!(iso8601_ms(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(iso8601_ms(START_UNIX * 1000), "2026-11-21T12:00:00.000Z");
    assert_eq!(iso8601_ms(951_782_400_123), "2000-02-29T00:00:00.123Z");
    assert_eq!(iso8601_ms(1_798_761_599_999), "2026-12-31T23:59:59.999Z");
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for Unix milliseconds (proleptic Gregorian, UTC).
fn iso8601_ms(unix_ms: i64) -> String {
    let secs = unix_ms.div_euclid(1000);
    let ms = unix_ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// (a), (b): a live HLS media playlist of `n` 2 s fMP4 segments, PDT on every segment.
fn hls_media(n: u64) -> String {
    let mut s = String::with_capacity(usize::try_from(n).unwrap_or(0) * 90 + 256);
    s.push_str("#EXTM3U\n");
    s.push_str("#EXT-X-VERSION:7\n");
    s.push_str("#EXT-X-INDEPENDENT-SEGMENTS\n");
    s.push_str("#EXT-X-TARGETDURATION:2\n");
    let _ = writeln!(s, "#EXT-X-MEDIA-SEQUENCE:{FIRST_SEQUENCE}");
    s.push_str("#EXT-X-MAP:URI=\"init.mp4\"\n");
    for i in 0..n {
        let unix_ms = START_UNIX * 1000 + i64::try_from(i).unwrap_or(0) * 2000;
        let _ = writeln!(s, "#EXT-X-PROGRAM-DATE-TIME:{}", iso8601_ms(unix_ms));
        s.push_str("#EXTINF:2.000,\n");
        let _ = writeln!(s, "v1080/seg{}.m4s", FIRST_SEQUENCE + i);
    }
    // Live: no EXT-X-ENDLIST.
    s
}

/// (c): a multivariant playlist with a realistic AVC ladder, 4 audio and 6 subtitle renditions.
fn hls_multivariant() -> String {
    // (width, height, peak bandwidth, codecs profile-level, frame rate)
    const LADDER: [(u32, u32, u64, &str, &str); 12] = [
        (416, 234, 265_000, "avc1.42c00d", "15.000"),
        (480, 270, 400_000, "avc1.42c015", "25.000"),
        (640, 360, 730_000, "avc1.4d401e", "25.000"),
        (640, 360, 1_100_000, "avc1.4d401e", "29.970"),
        (768, 432, 1_600_000, "avc1.4d401e", "29.970"),
        (960, 540, 2_000_000, "avc1.4d401f", "29.970"),
        (1024, 576, 2_600_000, "avc1.4d401f", "29.970"),
        (1280, 720, 3_400_000, "avc1.640020", "29.970"),
        (1280, 720, 4_500_000, "avc1.640020", "59.940"),
        (1600, 900, 5_800_000, "avc1.640028", "59.940"),
        (1920, 1080, 7_800_000, "avc1.640028", "29.970"),
        (1920, 1080, 9_500_000, "avc1.640028", "59.940"),
    ];
    const AUDIO: [(&str, &str); 4] = [
        ("en", "English"),
        ("es", "Español"),
        ("fr", "Français"),
        ("de", "Deutsch"),
    ];
    const SUBS: [(&str, &str); 6] = [
        ("en", "English"),
        ("es", "Español"),
        ("fr", "Français"),
        ("de", "Deutsch"),
        ("pt-BR", "Português (Brasil)"),
        ("ja", "日本語"),
    ];
    let mut s = String::with_capacity(8 << 10);
    s.push_str("#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n\n");
    for (i, (lang, name)) in AUDIO.iter().enumerate() {
        let default = if i == 0 { "YES" } else { "NO" };
        let _ = writeln!(
            s,
            "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aac\",LANGUAGE=\"{lang}\",NAME=\"{name}\",\
             DEFAULT={default},AUTOSELECT=YES,CHANNELS=\"2\",URI=\"audio/{lang}/aac_128k.m3u8\""
        );
    }
    s.push('\n');
    for (i, (lang, name)) in SUBS.iter().enumerate() {
        let default = if i == 0 { "YES" } else { "NO" };
        let _ = writeln!(
            s,
            "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",LANGUAGE=\"{lang}\",NAME=\"{name}\",\
             DEFAULT={default},AUTOSELECT=YES,FORCED=NO,URI=\"subs/{lang}/webvtt.m3u8\""
        );
    }
    s.push('\n');
    for (w, h, bw, codec, fps) in LADDER {
        let avg = bw * 4 / 5;
        let _ = writeln!(
            s,
            "#EXT-X-STREAM-INF:BANDWIDTH={bw},AVERAGE-BANDWIDTH={avg},CODECS=\"{codec},mp4a.40.2\",\
             RESOLUTION={w}x{h},FRAME-RATE={fps},AUDIO=\"aac\",SUBTITLES=\"subs\",CLOSED-CAPTIONS=NONE"
        );
        let _ = writeln!(s, "video/{h}p_{}k.m3u8", bw / 1000);
    }
    s
}

/// Appends a `<SegmentTimeline>` of `n` segments whose durations cycle through `durations`,
/// every `<S>` written out with `@t` and `@d`.
fn timeline_written_out(s: &mut String, indent: &str, n: u64, durations: &[u64]) {
    let _ = writeln!(s, "{indent}<SegmentTimeline>");
    let mut t = 0u64;
    for i in 0..n {
        let d = durations[usize::try_from(i).unwrap_or(0) % durations.len()];
        let _ = writeln!(s, "{indent}  <S t=\"{t}\" d=\"{d}\"/>");
        t += d;
    }
    let _ = writeln!(s, "{indent}</SegmentTimeline>");
}

/// (d) (`with_r == false`) and (e): a dynamic MPD with a 6 h DVR window, one video set
/// (6 representations, 90 kHz, 2 s) and one audio set (2 representations, 48 kHz AAC).
fn dash_dynamic(with_r: bool) -> String {
    const VIDEO: [(&str, u64, u32, u32, &str); 6] = [
        ("v234", 300_000, 416, 234, "avc1.42c00d"),
        ("v360", 800_000, 640, 360, "avc1.4d401e"),
        ("v540", 1_800_000, 960, 540, "avc1.4d401f"),
        ("v720", 3_300_000, 1280, 720, "avc1.640020"),
        ("v1080", 6_000_000, 1920, 1080, "avc1.640028"),
        ("v1080h", 8_500_000, 1920, 1080, "avc1.640028"),
    ];
    const AUDIO: [(&str, u64); 2] = [("a64", 64_000), ("a128", 128_000)];
    let mut s = String::with_capacity(if with_r { 8 << 10 } else { 1 << 20 });
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    s.push_str(
        "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"dynamic\" \
         profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" \
         availabilityStartTime=\"2026-11-21T12:00:00Z\" publishTime=\"2026-11-21T18:00:00Z\" \
         minimumUpdatePeriod=\"PT2S\" timeShiftBufferDepth=\"PT6H\" \
         suggestedPresentationDelay=\"PT6S\" minBufferTime=\"PT4S\">\n",
    );
    s.push_str("  <Period id=\"p0\" start=\"PT0S\">\n");
    // Video.
    s.push_str(
        "    <AdaptationSet id=\"1\" contentType=\"video\" mimeType=\"video/mp4\" \
         segmentAlignment=\"true\" startWithSAP=\"1\" maxWidth=\"1920\" maxHeight=\"1080\" \
         frameRate=\"30\" par=\"16:9\">\n",
    );
    s.push_str(
        "      <SegmentTemplate timescale=\"90000\" \
         initialization=\"video/$RepresentationID$/init.mp4\" \
         media=\"video/$RepresentationID$/$Time$.m4s\">\n",
    );
    if with_r {
        let _ = writeln!(
            s,
            "        <SegmentTimeline>\n          <S t=\"0\" d=\"180000\" r=\"{}\"/>\n        </SegmentTimeline>",
            DVR_SEGMENTS - 1
        );
    } else {
        timeline_written_out(&mut s, "        ", DVR_SEGMENTS, &[180_000]);
    }
    s.push_str("      </SegmentTemplate>\n");
    for (id, bw, w, h, codecs) in VIDEO {
        let _ = writeln!(
            s,
            "      <Representation id=\"{id}\" bandwidth=\"{bw}\" width=\"{w}\" height=\"{h}\" \
             sar=\"1:1\" codecs=\"{codecs}\"/>"
        );
    }
    s.push_str("    </AdaptationSet>\n");
    // Audio.
    s.push_str(
        "    <AdaptationSet id=\"2\" contentType=\"audio\" mimeType=\"audio/mp4\" lang=\"en\" \
         segmentAlignment=\"true\" startWithSAP=\"1\">\n",
    );
    s.push_str(
        "      <Role schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"main\"/>\n\
         \x20     <SegmentTemplate timescale=\"48000\" \
         initialization=\"audio/$RepresentationID$/init.mp4\" \
         media=\"audio/$RepresentationID$/$Time$.m4s\">\n",
    );
    if with_r {
        let _ = writeln!(
            s,
            "        <SegmentTimeline>\n          <S t=\"0\" d=\"96000\" r=\"{}\"/>\n        </SegmentTimeline>",
            DVR_SEGMENTS - 1
        );
    } else {
        // AAC frames are 1024 samples: 94 and 93 frames alternate around 2 s.
        timeline_written_out(&mut s, "        ", DVR_SEGMENTS, &[96_256, 95_232]);
    }
    s.push_str("      </SegmentTemplate>\n");
    for (id, bw) in AUDIO {
        let _ = writeln!(
            s,
            "      <Representation id=\"{id}\" bandwidth=\"{bw}\" codecs=\"mp4a.40.2\" \
             audioSamplingRate=\"48000\">\n\
             \x20       <AudioChannelConfiguration \
             schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"2\"/>\n\
             \x20     </Representation>"
        );
    }
    s.push_str("    </AdaptationSet>\n");
    s.push_str("  </Period>\n</MPD>\n");
    s
}

/// (f): a static MPD of 50 one-minute Periods, each with 4 video and 1 audio representation
/// addressed by SegmentTemplate@duration (2 s: 30 segments per representation per period).
fn dash_multi_period() -> String {
    const VIDEO: [(&str, u64, u32, u32, &str); 4] = [
        ("v360", 800_000, 640, 360, "avc1.4d401e"),
        ("v540", 1_800_000, 960, 540, "avc1.4d401f"),
        ("v720", 3_300_000, 1280, 720, "avc1.640020"),
        ("v1080", 6_000_000, 1920, 1080, "avc1.640028"),
    ];
    let mut s = String::with_capacity(96 << 10);
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    s.push_str(
        "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\" \
         profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" \
         mediaPresentationDuration=\"PT50M\" minBufferTime=\"PT4S\">\n",
    );
    for p in 0..50u32 {
        let _ = writeln!(
            s,
            "  <Period id=\"p{p}\" start=\"PT{}S\" duration=\"PT60S\">",
            p * 60
        );
        s.push_str(
            "    <AdaptationSet id=\"1\" contentType=\"video\" mimeType=\"video/mp4\" \
             segmentAlignment=\"true\" startWithSAP=\"1\">\n",
        );
        let _ = writeln!(
            s,
            "      <SegmentTemplate timescale=\"90000\" duration=\"180000\" startNumber=\"1\" \
             initialization=\"p{p}/video/$RepresentationID$/init.mp4\" \
             media=\"p{p}/video/$RepresentationID$/$Number%05d$.m4s\"/>"
        );
        for (id, bw, w, h, codecs) in VIDEO {
            let _ = writeln!(
                s,
                "      <Representation id=\"{id}\" bandwidth=\"{bw}\" width=\"{w}\" height=\"{h}\" \
                 frameRate=\"30\" sar=\"1:1\" codecs=\"{codecs}\"/>"
            );
        }
        s.push_str("    </AdaptationSet>\n");
        s.push_str(
            "    <AdaptationSet id=\"2\" contentType=\"audio\" mimeType=\"audio/mp4\" lang=\"en\" \
             segmentAlignment=\"true\" startWithSAP=\"1\">\n",
        );
        let _ = writeln!(
            s,
            "      <SegmentTemplate timescale=\"48000\" duration=\"96000\" startNumber=\"1\" \
             initialization=\"p{p}/audio/$RepresentationID$/init.mp4\" \
             media=\"p{p}/audio/$RepresentationID$/$Number%05d$.m4s\"/>"
        );
        s.push_str(
            "      <Representation id=\"a128\" bandwidth=\"128000\" codecs=\"mp4a.40.2\" \
             audioSamplingRate=\"48000\"/>\n",
        );
        s.push_str("    </AdaptationSet>\n");
        s.push_str("  </Period>\n");
    }
    s.push_str("</MPD>\n");
    s
}
