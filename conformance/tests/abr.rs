//! Device capping and rendition bans in simulated time: each capability limit keeps the
//! ABR below it, and each ban (dropped frames, an output-restricted key, capabilities
//! lowered at run time, a manual choice) both takes effect and is lifted; a segment that
//! would arrive after the buffer runs out is abandoned for a lower rung.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use playhead::Micros;
use playhead::drm::{DrmConfig, KeyStatus, KeySystemSupport};
use playhead::engine::{
    Capabilities, Command, Event, HdcpLevel, Output, Preferences, Size, Source, SwitchReason,
};
use playhead::model::{ContentType, KeySystem, Kid, VideoRange};
use playhead::time::FrameRate;
use playhead_conformance::sim::net::Trace;
use playhead_conformance::sim::origin::{Origin, OriginConfig, OriginFormat};
use playhead_conformance::sim::{Sim, SimConfig};

const S: i64 = 1_000_000;
const SD_KID: &str = "11111111-1111-1111-1111-111111111111";
const HD_KID: &str = "22222222-2222-2222-2222-222222222222";

/// (id, width, height, fps, codecs, bandwidth, HDR, HLS HDCP-LEVEL).
type Rendition = (
    &'static str,
    u32,
    u32,
    u32,
    &'static str,
    u64,
    bool,
    &'static str,
);
/// Documents served at exact URLs, and media sizes by URL.
type Served = (Vec<(String, Vec<u8>)>, HashMap<String, u64>);

/// The ladder of every test, from 360p AVC Main to 2160p60 HEVC Main 10 PQ.
const LADDER: [Rendition; 4] = [
    ("v360", 640, 360, 30, "avc1.4d401e", 800_000, false, "NONE"),
    (
        "v720",
        1280,
        720,
        30,
        "avc1.64001f",
        2_000_000,
        false,
        "TYPE-0",
    ),
    (
        "v1080",
        1920,
        1080,
        60,
        "avc1.640028",
        4_500_000,
        false,
        "TYPE-1",
    ),
    (
        "v2160",
        3840,
        2160,
        60,
        "hvc1.2.4.L153.B0",
        12_000_000,
        true,
        "TYPE-1",
    ),
];
const SEGMENTS: u64 = 60;

/// A 120 s DASH presentation of [`LADDER`] with 2 s segments and audio; with `protected`,
/// the SD renditions use one ClearKey key and the HD ones another.
fn dash(protected: bool) -> (String, HashMap<String, u64>) {
    let mut mpd = String::from(
        "<?xml version=\"1.0\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" xmlns:cenc=\"urn:mpeg:cenc:2013\" xmlns:dashif=\"https://dashif.org/CPS\" type=\"static\" profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" minBufferTime=\"PT2S\" mediaPresentationDuration=\"PT120S\">\n<Period id=\"0\">\n<AdaptationSet contentType=\"video\" mimeType=\"video/mp4\">\n<SegmentTemplate timescale=\"1000\" duration=\"2000\" startNumber=\"0\" media=\"$RepresentationID$/$Number$.m4s\"/>\n",
    );
    let mut sizes = HashMap::new();
    for (id, w, h, fps, codecs, bw, hdr, _) in LADDER {
        mpd.push_str(&format!(
            "<Representation id=\"{id}\" width=\"{w}\" height=\"{h}\" frameRate=\"{fps}\" codecs=\"{codecs}\" bandwidth=\"{bw}\">\n"
        ));
        if hdr {
            mpd.push_str("<SupplementalProperty schemeIdUri=\"urn:mpeg:mpegB:cicp:TransferCharacteristics\" value=\"16\"/>\n");
        }
        if protected {
            let kid = if h >= 1080 { HD_KID } else { SD_KID };
            mpd.push_str(&format!(
                "<ContentProtection schemeIdUri=\"urn:mpeg:dash:mp4protection:2011\" value=\"cenc\" cenc:default_KID=\"{kid}\"/>\n<ContentProtection schemeIdUri=\"urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e\"><dashif:Laurl>https://license.test/clearkey</dashif:Laurl></ContentProtection>\n"
            ));
        }
        mpd.push_str("</Representation>\n");
        for k in 0..SEGMENTS {
            sizes.insert(format!("https://abr.test/{id}/{k}.m4s"), bw / 4);
        }
    }
    mpd.push_str("</AdaptationSet>\n<AdaptationSet contentType=\"audio\" mimeType=\"audio/mp4\" lang=\"en\">\n<SegmentTemplate timescale=\"1000\" duration=\"2000\" startNumber=\"0\" media=\"a/$Number$.m4s\"/>\n<Representation id=\"a\" codecs=\"mp4a.40.2\" bandwidth=\"128000\"/>\n</AdaptationSet>\n</Period>\n</MPD>\n");
    for k in 0..SEGMENTS {
        sizes.insert(format!("https://abr.test/a/{k}.m4s"), 32_000);
    }
    (mpd, sizes)
}

/// The same ladder as HLS (TS segments, `HDCP-LEVEL` on every variant).
fn hls() -> Served {
    let mut master = String::from("#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    let mut docs = Vec::new();
    let mut sizes = HashMap::new();
    for (id, w, h, fps, codecs, bw, _, hdcp) in LADDER {
        master.push_str(&format!(
            "#EXT-X-STREAM-INF:BANDWIDTH={bw},RESOLUTION={w}x{h},FRAME-RATE={fps}.000,CODECS=\"{codecs},mp4a.40.2\",HDCP-LEVEL={hdcp}\n{id}.m3u8\n"
        ));
        let mut media = String::from(
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n",
        );
        for k in 0..SEGMENTS {
            media.push_str(&format!("#EXTINF:2.000,\n{id}/{k}.ts\n"));
            sizes.insert(format!("https://abr.test/{id}/{k}.ts"), bw / 4);
        }
        media.push_str("#EXT-X-ENDLIST\n");
        docs.push((format!("https://abr.test/{id}.m3u8"), media.into_bytes()));
    }
    docs.push(("https://abr.test/master.m3u8".into(), master.into_bytes()));
    (docs, sizes)
}

/// A simulation of `url` over a 40 Mbit/s link, loaded and playing at 0.
fn sim(
    url: &str,
    docs: Vec<(String, Vec<u8>)>,
    sizes: HashMap<String, u64>,
    config: SimConfig,
) -> Sim {
    let config = SimConfig {
        trace: Trace::constant(40_000_000),
        documents: docs,
        media_sizes: sizes,
        ..config
    };
    let mut sim = Sim::new(
        Origin::new(OriginConfig::example(OriginFormat::DashTemplate)),
        config,
    );
    sim.keep_outputs();
    sim.at(
        Micros(0),
        Command::Load {
            sources: vec![Source {
                url: url.into(),
                cdn: None,
                priority: 0,
            }],
            start: None,
        },
    );
    sim.at(Micros(0), Command::Play);
    sim
}

fn dash_sim(caps: Capabilities) -> Sim {
    let (mpd, sizes) = dash(false);
    let mut s = sim(
        "https://abr.test/video.mpd",
        vec![("https://abr.test/video.mpd".into(), mpd.into_bytes())],
        sizes,
        SimConfig::default(),
    );
    s.at(Micros(0), Command::SetCapabilities(caps));
    s
}

/// Video renditions fetched in `[from, to)` of simulated time, in order, deduplicated.
fn fetched(sim: &Sim, from: i64, to: i64) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for (t, o) in &sim.outputs {
        if let Output::Media(m) = o {
            if m.content_type == ContentType::Video
                && !m.init
                && t.0 >= from * S
                && t.0 < to * S
                && v.last() != Some(&m.track)
            {
                v.push(m.track.clone());
            }
        }
    }
    v
}

/// Video switches as (time s, to, reason).
fn switches(sim: &Sim) -> Vec<(i64, String, SwitchReason)> {
    sim.outputs
        .iter()
        .filter_map(|(t, o)| match o {
            Output::Event(Event::TrackSelected {
                content_type: ContentType::Video,
                to,
                reason,
                ..
            }) => Some((t.0 / S, to.clone(), *reason)),
            _ => None,
        })
        .collect()
}

fn rank(id: &str) -> usize {
    LADDER.iter().position(|l| l.0 == id).unwrap()
}

#[test]
fn every_capability_limit_keeps_the_abr_below_it() {
    let all = Capabilities::default();
    let cases: Vec<(&str, Capabilities, &str)> = vec![
        ("none", all.clone(), "v2160"),
        (
            "max height",
            Capabilities {
                max_height: Some(1080),
                ..all.clone()
            },
            "v1080",
        ),
        (
            "max width",
            Capabilities {
                max_width: Some(1280),
                ..all.clone()
            },
            "v720",
        ),
        (
            "max bitrate",
            Capabilities {
                max_bandwidth: Some(3_000_000),
                ..all.clone()
            },
            "v720",
        ),
        (
            "max frame rate",
            Capabilities {
                max_frame_rate: FrameRate::parse("30"),
                ..all.clone()
            },
            "v720",
        ),
        (
            "codec families",
            Capabilities {
                codecs: vec!["avc1".into(), "mp4a".into()],
                ..all.clone()
            },
            "v1080",
        ),
        (
            "codec profile and level",
            Capabilities {
                codecs: vec!["avc1.64001f".into(), "mp4a".into()],
                ..all.clone()
            },
            "v720",
        ),
        (
            "dynamic range",
            Capabilities {
                video_ranges: vec![VideoRange::Sdr, VideoRange::Hlg],
                ..all.clone()
            },
            "v1080",
        ),
        (
            "viewport",
            Capabilities {
                viewport: Some(Size {
                    width: 1000,
                    height: 500,
                }),
                ..all.clone()
            },
            "v720",
        ),
    ];
    for (name, caps, top) in cases {
        let mut sim = dash_sim(caps);
        sim.run_until(Micros(40 * S));
        let got = fetched(&sim, 0, 40);
        assert_eq!(got.last().map(String::as_str), Some(top), "{name}: {got:?}");
        assert!(
            got.iter().all(|t| rank(t) <= rank(top)),
            "{name}: fetched above {top}: {got:?}"
        );
        assert_eq!(sim.decoder.stalls, 0, "{name}");
    }
}

#[test]
fn hdcp_keeps_the_variants_the_output_cannot_protect_out() {
    // HLS names tracks by variant index: v0 (360p) .. v3 (2160p).
    for (hdcp, top) in [
        (None, 3),
        (Some(HdcpLevel::Type1), 3),
        (Some(HdcpLevel::Type0), 1),
        (Some(HdcpLevel::None), 0),
    ] {
        let (docs, sizes) = hls();
        let mut s = sim(
            "https://abr.test/master.m3u8",
            docs,
            sizes,
            SimConfig::default(),
        );
        s.at(
            Micros(0),
            Command::SetCapabilities(Capabilities {
                hdcp,
                ..Capabilities::default()
            }),
        );
        s.run_until(Micros(40 * S));
        let got: Vec<usize> = fetched(&s, 0, 40)
            .iter()
            .map(|t| t[1..].parse().unwrap())
            .collect();
        assert_eq!(got.last(), Some(&top), "{hdcp:?}: {got:?}");
        assert!(got.iter().all(|&t| t <= top), "{hdcp:?}: {got:?}");
    }
}

fn protected_sim(caps: Capabilities, config: SimConfig) -> Sim {
    let (mpd, sizes) = dash(true);
    let mut config = config;
    config.engine.drm = DrmConfig {
        systems: vec![KeySystemSupport::new(KeySystem::ClearKey)],
        ..DrmConfig::default()
    };
    config.license.keys = vec![
        (Kid::parse(SD_KID).unwrap(), *b"sd sixteen bytes"),
        (Kid::parse(HD_KID).unwrap(), *b"hd sixteen bytes"),
    ];
    let mut s = sim(
        "https://abr.test/video.mpd",
        vec![("https://abr.test/video.mpd".into(), mpd.into_bytes())],
        sizes,
        config,
    );
    s.at(Micros(0), Command::SetCapabilities(caps));
    s
}

#[test]
fn software_drm_keeps_protected_video_at_sd() {
    for (limit, top) in [(None, "v2160"), (Some(720), "v720"), (Some(480), "v360")] {
        let mut s = protected_sim(
            Capabilities {
                software_drm_max_height: limit,
                ..Capabilities::default()
            },
            SimConfig::default(),
        );
        s.run_until(Micros(40 * S));
        let got = fetched(&s, 0, 40);
        assert_eq!(
            got.last().map(String::as_str),
            Some(top),
            "{limit:?}: {got:?}"
        );
        assert!(
            got.iter().all(|t| rank(t) <= rank(top)),
            "{limit:?}: {got:?}"
        );
    }
}

#[test]
fn an_output_restricted_key_bans_hd_until_it_is_usable_again() {
    let hd = Kid::parse(HD_KID).unwrap();
    let mut config = SimConfig::default();
    config.cdm.status_at = vec![
        (Micros(20 * S), hd, KeyStatus::OutputRestricted),
        (Micros(50 * S), hd, KeyStatus::Usable),
    ];
    let mut s = protected_sim(Capabilities::default(), config);
    s.run_until(Micros(90 * S));
    assert_eq!(
        fetched(&s, 10, 20).last().map(String::as_str),
        Some("v2160")
    );
    let banned = fetched(&s, 22, 50);
    assert!(
        banned.iter().all(|t| rank(t) <= rank("v720")),
        "HD fetched while restricted: {banned:?}"
    );
    let sw = switches(&s);
    assert!(
        sw.iter().any(|(t, to, r)| (20..24).contains(t)
            && to == "v720"
            && *r == SwitchReason::Capabilities),
        "{sw:?}"
    );
    assert_eq!(
        fetched(&s, 50, 90).last().map(String::as_str),
        Some("v2160"),
        "{sw:?}"
    );
}

#[test]
fn dropped_frames_ban_the_rendition_for_30_s_then_it_comes_back() {
    let mut s = dash_sim(Capabilities::default());
    s.run_until(Micros(10 * S));
    assert_eq!(fetched(&s, 0, 10).last().map(String::as_str), Some("v2160"));
    // The device cannot keep up with 2160p60: a third of the frames dropped.
    s.decoder.drop_percent = 30;
    s.run_until(Micros(14 * S));
    s.decoder.drop_percent = 0;
    s.run_until(Micros(100 * S));
    let sw = switches(&s);
    let ban = sw
        .iter()
        .find(|(_, _, r)| *r == SwitchReason::DroppedFrames)
        .unwrap_or_else(|| panic!("no dropped-frames switch: {sw:?}"));
    // Measured over 2 s, so banned between 12 and 14 s.
    assert!((12..=14).contains(&ban.0), "{sw:?}");
    assert_eq!(ban.1, "v1080", "{sw:?}");
    let during = fetched(&s, ban.0 + 1, ban.0 + 29);
    assert!(!during.contains(&"v2160".to_owned()), "{during:?}");
    // The ban lifts after 30 s and the ABR goes back up.
    let back = sw
        .iter()
        .find(|(t, to, r)| *t > ban.0 && to == "v2160" && *r == SwitchReason::AbrUp)
        .unwrap_or_else(|| panic!("not back to 2160p: {sw:?}"));
    assert!(back.0 >= ban.0 + 30 && back.0 <= ban.0 + 33, "{sw:?}");
}

#[test]
fn dropped_frames_never_ban_the_last_rendition_left() {
    let mut s = dash_sim(Capabilities {
        max_height: Some(360),
        ..Capabilities::default()
    });
    s.decoder.drop_percent = 50;
    s.run_until(Micros(30 * S));
    assert_eq!(fetched(&s, 0, 30), vec!["v360".to_owned()]);
    assert!(s.player.stats().dropped_frames > 0);
}

#[test]
fn capabilities_lowered_then_restored_at_run_time() {
    let mut s = dash_sim(Capabilities::default());
    let low = Capabilities {
        max_height: Some(720),
        ..Capabilities::default()
    };
    s.at(Micros(15 * S), Command::SetCapabilities(low));
    s.at(
        Micros(40 * S),
        Command::SetCapabilities(Capabilities::default()),
    );
    s.run_until(Micros(70 * S));
    let sw = switches(&s);
    assert!(
        sw.iter().any(|(t, to, r)| (15..18).contains(t)
            && to == "v720"
            && *r == SwitchReason::Capabilities),
        "{sw:?}"
    );
    let capped = fetched(&s, 17, 40);
    assert!(capped.iter().all(|t| rank(t) <= rank("v720")), "{capped:?}");
    assert_eq!(
        fetched(&s, 40, 70).last().map(String::as_str),
        Some("v2160"),
        "{sw:?}"
    );
}

#[test]
fn manual_selection_holds_and_abr_comes_back_on() {
    let mut s = dash_sim(Capabilities::default());
    s.at(
        Micros(10 * S),
        Command::SetPreferences(Preferences {
            video_track: Some("v360".into()),
            ..Preferences::default()
        }),
    );
    s.at(
        Micros(40 * S),
        Command::SetPreferences(Preferences::default()),
    );
    s.run_until(Micros(70 * S));
    let sw = switches(&s);
    assert!(
        sw.iter()
            .any(|(t, to, r)| (10..13).contains(t) && to == "v360" && *r == SwitchReason::Manual),
        "{sw:?}"
    );
    assert_eq!(fetched(&s, 13, 40), vec!["v360".to_owned()], "{sw:?}");
    // ABR back on: it climbs again on the fast link.
    assert_eq!(
        fetched(&s, 40, 70).last().map(String::as_str),
        Some("v2160"),
        "{sw:?}"
    );
    // A manual choice the device cannot play is not honoured.
    let mut s = dash_sim(Capabilities {
        max_height: Some(720),
        ..Capabilities::default()
    });
    s.at(
        Micros(5 * S),
        Command::SetPreferences(Preferences {
            video_track: Some("v2160".into()),
            ..Preferences::default()
        }),
    );
    s.run_until(Micros(30 * S));
    assert!(fetched(&s, 0, 30).iter().all(|t| rank(t) <= rank("v720")));
}

#[test]
fn built_in_device_profiles_cap_the_ladder() {
    // Chromecast (2nd generation) decodes H.264 up to 1080p: the HEVC 2160p rendition goes.
    let caps = playhead::engine::device_profile("chromecast-2").expect("profile");
    let mut s = dash_sim(caps);
    s.run_until(Micros(30 * S));
    let got = fetched(&s, 0, 30);
    assert!(got.iter().all(|t| rank(t) <= rank("v1080")), "{got:?}");
    assert!(!got.is_empty());
}

/// The DASH ladder on a link that falls from 40 Mbit/s to 1 Mbit/s at 5 s, with the
/// engine's abandonment on or off.
fn collapsing_link(abandon: bool, pinned: Option<&str>) -> Sim {
    let (mpd, sizes) = dash(false);
    let mut config = SimConfig::default();
    config.engine.abr.abandon = abandon;
    let mut s = sim(
        "https://abr.test/video.mpd",
        vec![("https://abr.test/video.mpd".into(), mpd.into_bytes())],
        sizes,
        config,
    );
    if let Some(track) = pinned {
        s.at(
            Micros(0),
            Command::SetPreferences(Preferences {
                video_track: Some(track.into()),
                ..Preferences::default()
            }),
        );
    }
    s.net.trace = Trace::steps(vec![
        (Micros(5 * S), 40_000_000),
        (Micros(3_600 * S), 1_000_000),
    ]);
    s.run_until(Micros(60 * S));
    s
}

#[test]
fn a_segment_that_would_arrive_after_the_buffer_runs_out_is_abandoned() {
    let abandoned = |s: &Sim| {
        s.outputs
            .iter()
            .filter(|(_, o)| {
                matches!(o, Output::Event(Event::Retry { cause, .. }) if cause.starts_with("abandoned"))
            })
            .count()
    };
    // Without it, the 3 MB top-rung segment in flight when the link falls takes 19 s at
    // 1 Mbit/s, and playback, 11 s ahead, stalls for 7.8 s.
    let off = collapsing_link(false, None);
    assert_eq!(abandoned(&off), 0);
    assert!(
        off.decoder.longest_stall > Micros(5 * S),
        "{:?}",
        off.decoder.longest_stall
    );
    // With it, the segment is dropped while the buffer still covers the lowest rung's
    // download, and fetched again at that rung: no stall.
    let on = collapsing_link(true, None);
    assert!(abandoned(&on) >= 1);
    // Judged on the body's last one to two seconds, the segment goes 2 s after the link
    // falls (judged on its whole transfer, whose fast start kept the average up, 5 s after).
    let first = on.outputs.iter().find_map(|(t, o)| match o {
        Output::Event(Event::Retry { cause, .. }) if cause.starts_with("abandoned") => Some(*t),
        _ => None,
    });
    assert!(first.is_some_and(|t| t <= Micros(8 * S)), "{first:?}");
    assert!(
        on.decoder.longest_stall < Micros(S),
        "{:?}",
        on.decoder.longest_stall
    );
    let after: Vec<String> = fetched(&on, 5, 60);
    assert!(after.iter().any(|t| rank(t) == 0), "{after:?}");
    // A rendition the viewer fixed is never abandoned: the same track would be fetched
    // again from its first byte.
    let pinned = collapsing_link(true, Some("v2160"));
    assert_eq!(abandoned(&pinned), 0);
    assert_eq!(fetched(&pinned, 1, 60), ["v2160"]);
}
