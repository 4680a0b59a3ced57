//! The CLI host against the loopback test origin: `play` and `probe` over real HTTP for
//! every format, `probe` failing with the right reason on each injected fault, `load`, and
//! the demo end to end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use playhead::Micros;
use playhead_conformance::server::{
    FORMATS as ALL, OriginServer, PROTECTED, Protected, ServerConfig,
};
use playhead_conformance::sim::net::{Fault, FaultKind};
use playhead_conformance::sim::origin::OriginFormat;

fn origin(faults: Vec<Fault>) -> OriginServer {
    OriginServer::background(ServerConfig {
        faults,
        ..ServerConfig::default()
    })
    .unwrap()
}

/// Runs `playhead args...`; (exit code, stdout parsed as JSON).
fn playhead(args: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_playhead"))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), json)
}

fn fault(path: &str, kind: FaultKind) -> Fault {
    Fault {
        url_contains: path.into(),
        from: Micros::ZERO,
        until: Micros(i64::MAX),
        kind,
        times: None,
    }
}

#[test]
fn play_and_probe_succeed_on_every_healthy_format() {
    let o = origin(Vec::new());
    std::thread::scope(|s| {
        for f in ALL {
            let o = &o;
            s.spawn(move || {
                let url = o.url(f, 0);
                let (code, v) = playhead(&["probe", "--json", "--duration", "6", &url]);
                assert_eq!(code, 0, "{f:?}: {v}");
                assert_eq!(v["ok"], true);
                assert!(v["played_s"].as_f64().unwrap() > 4.0, "{f:?}: {v}");
                assert_eq!(v["failures"], 0, "{f:?}: {v}");
                let (code, v) = playhead(&["play", "--json", "--duration", "4", &url]);
                assert_eq!(code, 0, "{f:?}: {v}");
                assert!(v["bytes"].as_u64().unwrap() > 100_000, "{f:?}: {v}");
            });
        }
    });
}

/// (fault, probe duration, extra probe args, expected reason).
fn expect_reason(faults: Vec<Fault>, format: OriginFormat, args: &[&str], reason: &str) {
    let o = origin(faults);
    let url = o.url(format, 0);
    let mut all = vec!["probe", "--json", "--duration", "14"];
    all.extend_from_slice(args);
    all.push(&url);
    let (code, v) = playhead(&all);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["reason"], reason, "{v}");
    assert!(!v["detail"].as_str().unwrap().is_empty());
}

#[test]
fn probe_reports_a_manifest_error() {
    expect_reason(
        vec![fault("master.m3u8", FaultKind::Status(404))],
        OriginFormat::HlsFmp4,
        &[],
        "manifest",
    );
}

#[test]
fn probe_reports_segment_failures() {
    expect_reason(
        vec![fault(".m4s", FaultKind::Status(503))],
        OriginFormat::DashTemplate,
        &[],
        "segments",
    );
}

#[test]
fn probe_reports_truncated_segments() {
    expect_reason(
        vec![fault("Fragments(video", FaultKind::Truncate)],
        OriginFormat::Smooth,
        &[],
        "segments",
    );
}

#[test]
fn probe_reports_a_stall() {
    // Every media segment answers 2.6 s late (under the engine's 2.88 s timeout): 1.92 s of
    // media per 2.6 s cannot keep up once the first buffer is spent.
    let slow = fault(".ts", FaultKind::Delay(Micros(2_600_000)));
    expect_reason(
        vec![slow],
        OriginFormat::HlsTs,
        &["--max-stall", "0.5"],
        "stall",
    );
}

#[test]
fn probe_reports_a_stale_live_playlist() {
    expect_reason(
        vec![fault("/index.m3u8", FaultKind::Freeze)],
        OriginFormat::HlsFmp4,
        &[],
        "stale-live",
    );
}

#[test]
fn load_runs_many_sessions_and_reports() {
    let o = origin(Vec::new());
    let url = o.url(OriginFormat::DashTimeline, 0);
    let (code, v) = playhead(&[
        "load",
        "--json",
        "--sessions",
        "50",
        "--duration",
        "5",
        "--ramp",
        "1",
        &url,
    ]);
    assert_eq!(code, 0, "{v}");
    let s = &v["summary"];
    assert_eq!(s["failed_sessions"], 0, "{v}");
    assert!(s["requests"].as_u64().unwrap() >= 50 * 4, "{v}");
    assert!(s["startup_ms"]["p50"].as_f64().unwrap() > 0.0, "{v}");
    // The origin saw them (less the few cut short when the sessions stopped).
    assert!(
        o.stats().requests * 10 >= s["requests"].as_u64().unwrap() * 9,
        "{v}"
    );
    // Loopback only unless told otherwise.
    let out = Command::new(env!("CARGO_BIN_EXE_playhead"))
        .args(["load", "--sessions", "1", "https://cdn.example/live.m3u8"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_demo_runs_end_to_end() {
    let dir = std::env::temp_dir().join(format!("playhead-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let chart = dir.join("demo.svg");
    let out = Command::new(env!("CARGO_BIN_EXE_playhead"))
        .args(["demo", "--chart", chart.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("demo: OK"), "{stdout}");
    for name in [
        "HLS fMP4",
        "HLS TS",
        "DASH template",
        "DASH timeline",
        "Smooth",
    ] {
        let audio = stdout
            .lines()
            .find(|l| l.starts_with(name) && l.contains("AAC frames"))
            .unwrap_or_else(|| panic!("no audio line for {name}: {stdout}"));
        assert!(audio.contains("48000 Hz x2"), "{audio}");
    }
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("polyline") && svg.contains("failover"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_origin_hands_out_clearkey_licenses_over_http() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kid = [0x11u8; 16];
    let key = [0x22u8; 16];
    let o = OriginServer::background(ServerConfig {
        clearkey: vec![(kid, key)],
        ..ServerConfig::default()
    })
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let post = |body: &'static str| {
        let req = client.post(o.license_url()).body(body).send();
        rt.block_on(async { req.await.unwrap() })
    };
    // base64url of 16 x 0x11 and 16 x 0x22.
    let resp = post(r#"{"kids":["EREREREREREREREREREREQ"],"type":"temporary"}"#);
    assert_eq!(resp.status(), 200);
    let v: serde_json::Value = serde_json::from_str(&rt.block_on(resp.text()).unwrap()).unwrap();
    assert_eq!(v["keys"][0]["k"], "IiIiIiIiIiIiIiIiIiIiIg");
    assert_eq!(v["keys"][0]["kty"], "oct");
    assert_eq!(post(r#"{"kids":["AAAAAAAAAAAAAAAAAAAAAA"]}"#).status(), 403);
    assert_eq!(post("not json").status(), 400);
}

/// One line of `conformance/media/ffprobe.csv` or of `playhead play --samples`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Packet {
    dts: i64,
    pts: i64,
    keyframe: bool,
    size: usize,
}

/// What ffprobe read from each committed segment (recorded by `conformance/media/probe.sh`):
/// file name (`v/270p/3.ts`) to packets in decode order.
fn ffprobe_record() -> std::collections::HashMap<String, Vec<Packet>> {
    let path = playhead_conformance::asset::media_dir().join("ffprobe.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out: std::collections::HashMap<String, Vec<Packet>> = Default::default();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        out.entry(f[0].to_owned()).or_default().push(Packet {
            pts: f[1].parse().unwrap(),
            dts: f[2].parse().unwrap(),
            keyframe: f[4] == "1",
            size: f[5].parse().unwrap(),
        });
    }
    out
}

/// The asset's folder for a codec string: every rendition has its own profile and level.
fn asset_dir(codec: &str) -> &'static str {
    match codec {
        "avc1.64000c" => "v/144p",
        "avc1.640015" => "v/270p",
        "avc1.64001e" => "v/360p",
        c if c.starts_with("mp4a.40.2") => "a",
        c => panic!("unexpected codec {c}"),
    }
}

#[test]
fn the_sample_sink_matches_ffprobe_and_its_audio_decodes_in_every_format() {
    let record = ffprobe_record();
    let o = OriginServer::background(ServerConfig {
        live: None,
        ..ServerConfig::default()
    })
    .unwrap();
    let dir = std::env::temp_dir().join(format!("playhead-samples-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::thread::scope(|s| {
        for f in ALL {
            let (o, dir, record) = (&o, &dir, &record);
            s.spawn(move || {
                let url = o.url(f, 0);
                let csv = dir.join(format!("{f:?}.csv"));
                let (code, v) = playhead(&[
                    "play",
                    "--json",
                    "--duration",
                    "30",
                    "--samples",
                    csv.to_str().unwrap(),
                    &url,
                ]);
                assert_eq!(code, 0, "{f:?}: {v}");
                // The whole VOD played, and its audio decoded: 8 segments of 90 AAC frames.
                let audio = &v["audio"];
                assert_eq!(audio["frames"], 720, "{f:?}: {audio}");
                assert!(audio["tone_440"].as_f64().unwrap() > 0.5, "{f:?}: {audio}");
                compare_with_ffprobe(f, &std::fs::read_to_string(&csv).unwrap(), record);
            });
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every segment the sink handed over has ffprobe's packets: same count, decode and
/// presentation times, keyframes, and (for ISO BMFF, where both count the same bytes) sizes.
fn compare_with_ffprobe(
    f: OriginFormat,
    csv: &str,
    record: &std::collections::HashMap<String, Vec<Packet>>,
) {
    let ts = f == OriginFormat::HlsTs;
    // segment -> (timescale, packets)
    let mut got: std::collections::BTreeMap<String, (i64, Vec<Packet>)> = Default::default();
    for line in csv.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        let index = c[2].parse::<i64>().unwrap() / 1_920_000;
        let file = format!(
            "{}/{index}.{}",
            asset_dir(c[3]),
            if ts { "ts" } else { "m4s" }
        );
        let e = got
            .entry(file)
            .or_insert((c[4].parse().unwrap(), Vec::new()));
        e.1.push(Packet {
            dts: c[5].parse().unwrap(),
            pts: c[6].parse().unwrap(),
            keyframe: c[8] == "1",
            size: c[9].parse().unwrap(),
        });
    }
    let segments = got.keys().filter(|k| k.starts_with("a/")).count();
    assert_eq!(segments, 8, "{f:?}: audio segments {:?}", got.keys());
    for (file, (timescale, packets)) in &got {
        let want = &record[file];
        assert_eq!(packets.len(), want.len(), "{f:?} {file}: packet count");
        // ffprobe counts in the track's timescale (90 kHz for TS); Smooth states times in
        // 100 ns units, which cannot hold 1024/48000 s exactly: within one tick.
        let theirs = if file.starts_with("a/") {
            48_000
        } else {
            12_800
        };
        let scale = |t: i64| {
            if ts {
                t
            } else {
                ((i128::from(t) * theirs + i128::from(*timescale) / 2) / i128::from(*timescale))
                    as i64
            }
        };
        for (i, (g, w)) in packets.iter().zip(want).enumerate() {
            let at = format!("{f:?} {file} packet {i}: {g:?} vs ffprobe {w:?}");
            assert!((scale(g.dts) - w.dts).abs() <= 1, "{at}");
            assert!((scale(g.pts) - w.pts).abs() <= 1, "{at}");
            assert_eq!(g.keyframe, w.keyframe, "{at}");
            if !ts {
                assert_eq!(g.size, w.size, "{at}");
            }
        }
    }
}

/// `playhead play --json` on every protected presentation of `o`.
fn play_protected(o: &OriginServer) -> Vec<(Protected, i32, serde_json::Value)> {
    std::thread::scope(|s| {
        let runs: Vec<_> = PROTECTED
            .into_iter()
            .map(|p| {
                s.spawn(move || {
                    let url = o.url_protected(p, 0);
                    let (code, v) = playhead(&["play", "--json", "--duration", "30", &url]);
                    (p, code, v)
                })
            })
            .collect();
        runs.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn clearkey_dash_and_aes128_hls_decode_real_audio_and_a_wrong_key_is_a_drm_error() {
    // The right key: the software ClearKey CDM gets it from the licence server (DASH cenc,
    // cbcs), the core fetches the AES-128 key and decrypts (HLS TS, fMP4).
    let o = OriginServer::background(ServerConfig {
        live: None,
        ..ServerConfig::default()
    })
    .unwrap();
    for (p, code, v) in play_protected(&o) {
        assert_eq!(code, 0, "{p:?}: {v}");
        let audio = &v["audio"];
        assert_eq!(audio["frames"], 720, "{p:?}: {audio}");
        assert!(audio["tone_440"].as_f64().unwrap() > 0.5, "{p:?}: {audio}");
        let decrypted = v["drm"]["decrypted_units"].as_u64().unwrap();
        match p {
            // The host decrypted every AAC frame with the licence's key.
            Protected::DashCenc | Protected::DashCbcs => assert_eq!(decrypted, 720, "{p:?}"),
            // The core decrypted whole segments: the host saw clear samples.
            Protected::HlsTsAes | Protected::HlsFmp4Aes => assert_eq!(decrypted, 0, "{p:?}"),
        }
    }
    drop(o);
    // Same key id, another key: every presentation fails with a DRM error, and the key
    // never shows in what the CLI prints.
    let wrong = [0xa5; 16];
    let o = OriginServer::background(ServerConfig {
        live: None,
        clearkey: vec![(
            0x0011_2233_4455_6677_8899_aabb_ccdd_eeff_u128.to_be_bytes(),
            wrong,
        )],
        ..ServerConfig::default()
    })
    .unwrap();
    for (p, code, v) in play_protected(&o) {
        assert_ne!(code, 0, "{p:?}: {v}");
        assert_eq!(v["reason"], "drm", "{p:?}: {v}");
        let detail = v["detail"].as_str().unwrap();
        assert!(detail.contains("wrong key?"), "{p:?}: {detail}");
        let text = v.to_string();
        assert!(
            !text.contains("a5a5a5a5") && !text.contains("paWlpaWl"),
            "{p:?}"
        );
    }
}
