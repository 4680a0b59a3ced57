//! DRM transcripts: each key system's licence flow on real init data from the corpus, every
//! licence failure class, renewal, key rotation and output-restricted keys, in simulated
//! time with the simulated CDM and licence server (`playhead_conformance::sim::cdm`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use playhead::Micros;
use playhead::drm::{DrmConfig, KeyStatus, KeySystemSupport, LicenseServer, Wrapping};
use playhead::engine::{Command, Config, SinkMode, Source};
use playhead::media::protection::Pssh;
use playhead::model::{KeySystem, Kid};
use playhead_conformance::sim::cdm::{CdmScript, SimLicenseServer};
use playhead_conformance::sim::net::{Fault, FaultKind};
use playhead_conformance::sim::origin::{Origin, OriginConfig, OriginFormat};
use playhead_conformance::sim::{Sim, SimConfig};

const MULTI_DRM_KID: &str = "121a0fca-0f1b-475b-8910-297fa8e0a07e";
const KEY: [u8; 16] = *b"sixteen byte key";

fn corpus(path: &str) -> Vec<u8> {
    let full = format!("{}/../../shared/corpus/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn systems(list: &[KeySystem]) -> DrmConfig {
    DrmConfig {
        systems: list.iter().cloned().map(KeySystemSupport::new).collect(),
        ..DrmConfig::default()
    }
}

/// Plays `doc` served at `url` for `seconds` and returns the DRM lines of the transcript
/// (time stamps removed).
fn run(
    url: &str,
    doc: Vec<u8>,
    mut config: SimConfig,
    drm: DrmConfig,
    seconds: i64,
) -> Vec<String> {
    config.engine = Config {
        sink: SinkMode::AsFetched,
        drm,
        ..config.engine
    };
    config.documents.push((url.to_owned(), doc));
    if config.license.keys.is_empty() {
        config.license.keys = vec![(Kid::parse(MULTI_DRM_KID).unwrap(), KEY)];
    }
    let mut sim = Sim::new(
        Origin::new(OriginConfig::example(OriginFormat::DashTemplate)),
        config,
    );
    let load = Command::Load {
        sources: vec![Source {
            url: url.to_owned(),
            cdn: None,
            priority: 0,
        }],
        start: None,
    };
    sim.at(Micros(0), load);
    sim.at(Micros(0), Command::Play);
    sim.run_until(Micros(seconds * 1_000_000));
    let lines: Vec<String> = sim
        .transcript()
        .iter()
        .map(|l| {
            l.trim_start()
                .split_once(' ')
                .map_or("", |(_, r)| r)
                .to_owned()
        })
        .filter(|l| {
            [
                "cdm",
                "license",
                "key",
                "certificate",
                "error",
                "retry",
                "track-selected video",
            ]
            .iter()
            .any(|w| l.contains(w))
        })
        .collect();
    let all = sim.transcript().join("\n");
    // Key material never reaches the transcript (outputs, events, errors, CDM events).
    for secret in [
        hex(&KEY),
        playhead::base64::encode_url(&KEY),
        playhead::base64::encode(&KEY),
        String::from_utf8_lossy(&KEY).into_owned(),
    ] {
        assert!(
            !all.contains(&secret),
            "key material in the transcript:\n{all}"
        );
    }
    lines
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn check(got: &[String], want: &[&str]) {
    let got: Vec<&str> = got.iter().map(String::as_str).collect();
    assert_eq!(got, want, "\ngot:\n{}\n", got.join("\n"));
}

fn multi_drm(config: SimConfig, drm: DrmConfig, seconds: i64) -> Vec<String> {
    run(
        "https://corpus.test/multi-drm.mpd",
        corpus("Eyevinn_dash-mpd/multi-drm.mpd"),
        config,
        drm,
        seconds,
    )
}

fn clearkey() -> DrmConfig {
    systems(&[KeySystem::ClearKey])
}

/// The ClearKey licence URL of `multi-drm.mpd` (`dashif:Laurl`).
const CLEARKEY_URL: &str = "clearkey.source.org";

fn license_fault(kind: FaultKind) -> SimConfig {
    SimConfig {
        faults: vec![Fault {
            url_contains: CLEARKEY_URL.into(),
            from: Micros(0),
            until: Micros(i64::MAX),
            kind,
            times: None,
        }],
        ..SimConfig::default()
    }
}

#[test]
fn clearkey_dash_requests_kids_and_gets_a_jwk_set() {
    let got = multi_drm(SimConfig::default(), clearkey(), 3);
    check(
        &got,
        &[
            "event track-selected video - -> video/avc1 (741161 bit/s, initial)",
            "event key-system-selected clearkey",
            "cdm create-session s0 clearkey temporary keyids (35 bytes)",
            "host-cdm Message(s0, license-request, 54 bytes)",
            "request #3 license https://clearkey.source.org/",
            "cdm update s0 (103 bytes)",
            "host-cdm KeyStatuses(s0, [121a0fca-0f1b-475b-8910-297fa8e0a07e usable])",
            "event key-status 121a0fca-0f1b-475b-8910-297fa8e0a07e usable",
        ],
    );
}

#[test]
fn widevine_dash_sends_the_manifest_pssh_to_the_configured_server() {
    let mut drm = systems(&[KeySystem::FairPlay, KeySystem::Widevine]);
    drm.servers.push(LicenseServer::new(
        KeySystem::Widevine,
        "https://wv.test/license",
    ));
    check(
        &multi_drm(SimConfig::default(), drm, 3),
        &[
            "event track-selected video - -> video/avc1 (741161 bit/s, initial)",
            "event key-system-selected widevine",
            "cdm create-session s0 widevine temporary cenc (76 bytes)",
            "host-cdm Message(s0, license-request, 55 bytes)",
            "request #3 license https://wv.test/license",
            "cdm update s0 (44 bytes)",
            "host-cdm KeyStatuses(s0, [121a0fca-0f1b-475b-8910-297fa8e0a07e usable])",
            "event key-status 121a0fca-0f1b-475b-8910-297fa8e0a07e usable",
        ],
    );
}

#[test]
fn playready_smooth_finds_the_la_url_in_the_protection_header() {
    let got = run(
        "https://corpus.test/pr.ism/Manifest",
        corpus("shaka-project_shaka-player/mss-playready__Manifest"),
        SimConfig::default(),
        systems(&[KeySystem::PlayReady]),
        3,
    );
    check(
        &got,
        &[
            "event track-selected video - -> video-7 (230000 bit/s, initial)",
            "event key-system-selected playready",
            "cdm create-session s0 playready temporary cenc (940 bytes)",
            "host-cdm Message(s0, license-request, 56 bytes)",
            "request #4 license http://playready.directtaps.net/pr/svc/rightsmanager.asmx",
            "cdm update s0 (44 bytes)",
            "host-cdm KeyStatuses(s0, [09e36702-8f33-436c-a5dd-60ffe6671e70 usable])",
            "event key-status 09e36702-8f33-436c-a5dd-60ffe6671e70 usable",
        ],
    );
}

#[test]
fn fairplay_hls_fetches_the_certificate_then_sends_the_spc_with_the_content_id() {
    let mut drm = systems(&[KeySystem::FairPlay]);
    drm.servers.push(LicenseServer {
        certificate_url: Some("https://corpus.test/fps.cer".into()),
        wrapping: Wrapping::FairPlayForm,
        ..LicenseServer::new(KeySystem::FairPlay, "https://fps.test/ckc")
    });
    let mut config = SimConfig::default();
    config
        .documents
        .push(("https://corpus.test/fps.cer".into(), b"CERT".to_vec()));
    let got = run(
        "https://corpus.test/video-swapped.m3u8",
        corpus("shaka-project_shaka-player/video-swapped.m3u8"),
        config,
        drm,
        3,
    );
    check(
        &got,
        &[
            "event track-selected video - -> 0 (0 bit/s, initial)",
            "event key-system-selected fairplay",
            "request #2 certificate https://corpus.test/fps.cer",
            "cdm set-server-certificate fairplay (4 bytes)",
            "cdm create-session s0 fairplay temporary skd (42 bytes)",
            "host-cdm Message(s0, license-request, 55 bytes)",
            "request #4 license https://fps.test/ckc",
            "cdm update s0 (44 bytes)",
            "host-cdm KeyStatuses(s0, [b99ed9e5-c641-49d1-bfa8-43692b686ddb usable])",
            "event key-status b99ed9e5-c641-49d1-bfa8-43692b686ddb usable",
        ],
    );
}

#[test]
fn a_license_server_refusal_is_not_retried() {
    check(
        &multi_drm(license_fault(FaultKind::Status(403)), clearkey(), 3),
        &[
            "event track-selected video - -> video/avc1 (741161 bit/s, initial)",
            "event key-system-selected clearkey",
            "cdm create-session s0 clearkey temporary keyids (35 bytes)",
            "host-cdm Message(s0, license-request, 54 bytes)",
            "request #3 license https://clearkey.source.org/",
            "cdm close s0",
            "event error drm error on license: licence server refused the request: HTTP 403",
        ],
    );
}

#[test]
fn license_server_errors_are_retried_with_backoff_then_fail() {
    check(
        &multi_drm(license_fault(FaultKind::Status(503)), clearkey(), 60),
        &[
            "event track-selected video - -> video/avc1 (741161 bit/s, initial)",
            "event key-system-selected clearkey",
            "cdm create-session s0 clearkey temporary keyids (35 bytes)",
            "host-cdm Message(s0, license-request, 54 bytes)",
            "request #3 license https://clearkey.source.org/",
            "event retry license attempt 1 in 0.844: HTTP 503",
            "request #7 license https://clearkey.source.org/",
            "event retry license attempt 2 in 1.810: HTTP 503",
            "request #8 license https://clearkey.source.org/",
            "event retry license attempt 3 in 4.086: HTTP 503",
            "request #9 license https://clearkey.source.org/",
            "cdm close s0",
            "event error drm error on license: licence server failed: HTTP 503 after 4 attempts",
        ],
    );
}

#[test]
fn license_timeouts_are_retried_then_fail() {
    check(
        &multi_drm(license_fault(FaultKind::Blackhole), clearkey(), 120),
        &[
            "event track-selected video - -> video/avc1 (741161 bit/s, initial)",
            "event key-system-selected clearkey",
            "cdm create-session s0 clearkey temporary keyids (35 bytes)",
            "host-cdm Message(s0, license-request, 54 bytes)",
            "request #3 license https://clearkey.source.org/",
            "event retry license attempt 1 in 0.844: timeout",
            "request #7 license https://clearkey.source.org/",
            "event retry license attempt 2 in 1.810: timeout",
            "request #8 license https://clearkey.source.org/",
            "event retry license attempt 3 in 4.086: timeout",
            "request #9 license https://clearkey.source.org/",
            "cdm close s0",
            "event error drm error on license: licence server did not answer in time (4 attempts)",
        ],
    );
}

#[test]
fn a_malformed_license_fails_without_quoting_it() {
    let config = SimConfig {
        license: SimLicenseServer {
            keys: Vec::new(),
            malformed: true,
        },
        ..SimConfig::default()
    };
    check(
        &multi_drm(config, clearkey(), 3),
        &[
            "event track-selected video - -> video/avc1 (741161 bit/s, initial)",
            "event key-system-selected clearkey",
            "cdm create-session s0 clearkey temporary keyids (35 bytes)",
            "host-cdm Message(s0, license-request, 54 bytes)",
            "request #3 license https://clearkey.source.org/",
            "cdm close s0",
            "event error drm error on license: malformed licence response: not JSON",
        ],
    );
    // With a JSON envelope, a missing field is malformed too (Widevine behind a proxy).
    let mut drm = systems(&[KeySystem::Widevine]);
    drm.servers.push(LicenseServer {
        wrapping: Wrapping::Json {
            request_field: "challenge".into(),
            response_field: "license".into(),
        },
        ..LicenseServer::new(KeySystem::Widevine, "https://wv.test/license")
    });
    check(
        &multi_drm(SimConfig::default(), drm, 3),
        &[
            "event track-selected video - -> video/avc1 (741161 bit/s, initial)",
            "event key-system-selected widevine",
            "cdm create-session s0 widevine temporary cenc (76 bytes)",
            "host-cdm Message(s0, license-request, 55 bytes)",
            "request #3 license https://wv.test/license",
            "cdm close s0",
            "event error drm error on license: malformed licence response: the licence field is missing",
        ],
    );
}

#[test]
fn no_supported_key_system_is_a_drm_error_naming_both_sides() {
    check(
        &multi_drm(SimConfig::default(), systems(&[KeySystem::FairPlay]), 3),
        &[
            "event track-selected video - -> video/avc1 (741161 bit/s, initial)",
            "event error drm error: no supported key system: the content offers clearkey, playready, widevine, the device supports fairplay",
        ],
    );
}

#[test]
fn the_cdm_asks_for_renewals_and_they_reach_the_server() {
    let config = SimConfig {
        cdm: CdmScript {
            renew_at: vec![Micros(10_000_000), Micros(20_000_000)],
            status_at: Vec::new(),
        },
        ..SimConfig::default()
    };
    check(
        &multi_drm(config, clearkey(), 25),
        &[
            "event track-selected video - -> video/avc1 (741161 bit/s, initial)",
            "event key-system-selected clearkey",
            "cdm create-session s0 clearkey temporary keyids (35 bytes)",
            "host-cdm Message(s0, license-request, 54 bytes)",
            "request #3 license https://clearkey.source.org/",
            "cdm update s0 (103 bytes)",
            "host-cdm KeyStatuses(s0, [121a0fca-0f1b-475b-8910-297fa8e0a07e usable])",
            "event key-status 121a0fca-0f1b-475b-8910-297fa8e0a07e usable",
            "host-cdm Message(s0, license-renewal, 54 bytes)",
            "request #7 license https://clearkey.source.org/",
            "cdm update s0 (103 bytes)",
            "host-cdm KeyStatuses(s0, [121a0fca-0f1b-475b-8910-297fa8e0a07e usable])",
            "event license-renewed s0",
            "event key-status 121a0fca-0f1b-475b-8910-297fa8e0a07e usable",
            "host-cdm Message(s0, license-renewal, 54 bytes)",
            "request #8 license https://clearkey.source.org/",
            "cdm update s0 (103 bytes)",
            "host-cdm KeyStatuses(s0, [121a0fca-0f1b-475b-8910-297fa8e0a07e usable])",
            "event license-renewed s0",
            "event key-status 121a0fca-0f1b-475b-8910-297fa8e0a07e usable",
        ],
    );
}

#[test]
fn an_expired_key_ends_playback_with_a_drm_error() {
    let config = SimConfig {
        cdm: CdmScript {
            renew_at: Vec::new(),
            status_at: vec![(
                Micros(8_000_000),
                Kid::parse(MULTI_DRM_KID).unwrap(),
                KeyStatus::Expired,
            )],
        },
        ..SimConfig::default()
    };
    check(
        &multi_drm(config, clearkey(), 10),
        &[
            "event track-selected video - -> video/avc1 (741161 bit/s, initial)",
            "event key-system-selected clearkey",
            "cdm create-session s0 clearkey temporary keyids (35 bytes)",
            "host-cdm Message(s0, license-request, 54 bytes)",
            "request #3 license https://clearkey.source.org/",
            "cdm update s0 (103 bytes)",
            "host-cdm KeyStatuses(s0, [121a0fca-0f1b-475b-8910-297fa8e0a07e usable])",
            "event key-status 121a0fca-0f1b-475b-8910-297fa8e0a07e usable",
            "host-cdm KeyStatuses(s0, [121a0fca-0f1b-475b-8910-297fa8e0a07e expired])",
            "cdm close s0",
            "event error drm error: key 121a0fca-0f1b-475b-8910-297fa8e0a07e is expired",
        ],
    );
}

fn pssh(system: KeySystem, kid: Kid) -> String {
    let id = Kid::parse(system.system_id().unwrap()).unwrap().0;
    let b = Pssh {
        system_id: id,
        key_ids: vec![kid.0],
        data: Vec::new(),
    }
    .to_box();
    format!("data:text/plain;base64,{}", playhead::base64::encode(&b))
}

#[test]
fn a_rotated_hls_key_opens_a_second_session() {
    let (a, b) = (
        Kid::parse("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").unwrap(),
        Kid::parse("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb").unwrap(),
    );
    let key = |k| {
        format!(
            "#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI=\"{}\",KEYFORMAT=\"urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed\"\n",
            pssh(KeySystem::Widevine, k)
        )
    };
    let mut doc = String::from(
        "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI=\"init.mp4\"\n",
    );
    doc += &key(a);
    for i in 0..3 {
        doc += &format!("#EXTINF:4,\na{i}.mp4\n");
    }
    doc += &key(b);
    for i in 0..3 {
        doc += &format!("#EXTINF:4,\nb{i}.mp4\n");
    }
    doc += "#EXT-X-ENDLIST\n";
    let mut drm = systems(&[KeySystem::Widevine]);
    drm.servers.push(LicenseServer::new(
        KeySystem::Widevine,
        "https://wv.test/license",
    ));
    let got = run(
        "https://corpus.test/rotating.m3u8",
        doc.into_bytes(),
        SimConfig::default(),
        drm,
        5,
    );
    check(
        &got,
        &[
            "event track-selected video - -> 0 (0 bit/s, initial)",
            "event key-system-selected widevine",
            "cdm create-session s0 widevine temporary cenc (52 bytes)",
            "cdm create-session s1 widevine temporary cenc (52 bytes)",
            "host-cdm Message(s0, license-request, 55 bytes)",
            "request #3 license https://wv.test/license",
            "host-cdm Message(s1, license-request, 55 bytes)",
            "request #4 license https://wv.test/license",
            "cdm update s0 (44 bytes)",
            "host-cdm KeyStatuses(s0, [aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa usable])",
            "event key-status aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa usable",
            "cdm update s1 (44 bytes)",
            "host-cdm KeyStatuses(s1, [bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb usable])",
            "event key-status bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb usable",
        ],
    );
}

/// A ladder whose HD representation has a key of its own (DASH-IF: separate keys per
/// resolution class).
fn two_key_ladder() -> Vec<u8> {
    let cp = |kid: &str| {
        format!(
            r#"<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID="{kid}"/><ContentProtection schemeIdUri="urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e" value="ClearKey1.0"><dashif:Laurl>https://ck.test/license</dashif:Laurl></ContentProtection>"#
        )
    };
    format!(
        r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:cenc="urn:mpeg:cenc:2013" xmlns:dashif="https://dashif.org/CPS" type="static" mediaPresentationDuration="PT60S" minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:isoff-live:2011">
 <Period>
  <AdaptationSet contentType="video" mimeType="video/mp4" codecs="avc1.64001f">
   <SegmentTemplate timescale="1000" duration="2000" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/$Number$.m4s"/>
   <Representation id="sd" bandwidth="500000" width="640" height="360">{}</Representation>
   <Representation id="hd" bandwidth="3000000" width="1920" height="1080">{}</Representation>
  </AdaptationSet>
 </Period>
</MPD>"#,
        cp("11111111-1111-1111-1111-111111111111"),
        cp("22222222-2222-2222-2222-222222222222")
    )
    .into_bytes()
}

#[test]
fn an_output_restricted_key_bans_the_tracks_it_protects() {
    let (sd, hd) = (
        Kid::parse("11111111111111111111111111111111").unwrap(),
        Kid::parse("22222222222222222222222222222222").unwrap(),
    );
    let config = SimConfig {
        license: SimLicenseServer {
            keys: vec![(sd, [1; 16]), (hd, [2; 16])],
            malformed: false,
        },
        cdm: CdmScript {
            renew_at: Vec::new(),
            status_at: vec![(Micros(10_000_000), hd, KeyStatus::OutputRestricted)],
        },
        ..SimConfig::default()
    };
    let got = run(
        "https://corpus.test/ladder.mpd",
        two_key_ladder(),
        config.clone(),
        clearkey(),
        20,
    );
    check(
        &got,
        &[
            "event track-selected video - -> sd (500000 bit/s, initial)",
            "event key-system-selected clearkey",
            "cdm create-session s0 clearkey temporary keyids (35 bytes)",
            "cdm create-session s1 clearkey temporary keyids (35 bytes)",
            "host-cdm Message(s0, license-request, 54 bytes)",
            "request #3 license https://ck.test/license",
            "host-cdm Message(s1, license-request, 54 bytes)",
            "request #4 license https://ck.test/license",
            "cdm update s0 (103 bytes)",
            "host-cdm KeyStatuses(s0, [11111111-1111-1111-1111-111111111111 usable])",
            "event key-status 11111111-1111-1111-1111-111111111111 usable",
            "cdm update s1 (103 bytes)",
            "host-cdm KeyStatuses(s1, [22222222-2222-2222-2222-222222222222 usable])",
            "event key-status 22222222-2222-2222-2222-222222222222 usable",
            "event track-selected video sd -> hd (3000000 bit/s, abr-up)",
            "host-cdm KeyStatuses(s1, [22222222-2222-2222-2222-222222222222 output-restricted])",
            "event key-status 22222222-2222-2222-2222-222222222222 output-restricted",
            "event track-selected video hd -> sd (500000 bit/s, capabilities)",
        ],
    );
    // Both keys restricted: no video can be shown.
    let mut both = config;
    both.cdm
        .status_at
        .push((Micros(12_000_000), sd, KeyStatus::OutputRestricted));
    let got = run(
        "https://corpus.test/ladder.mpd",
        two_key_ladder(),
        both,
        clearkey(),
        20,
    );
    check(
        &got,
        &[
            "event track-selected video - -> sd (500000 bit/s, initial)",
            "event key-system-selected clearkey",
            "cdm create-session s0 clearkey temporary keyids (35 bytes)",
            "cdm create-session s1 clearkey temporary keyids (35 bytes)",
            "host-cdm Message(s0, license-request, 54 bytes)",
            "request #3 license https://ck.test/license",
            "host-cdm Message(s1, license-request, 54 bytes)",
            "request #4 license https://ck.test/license",
            "cdm update s0 (103 bytes)",
            "host-cdm KeyStatuses(s0, [11111111-1111-1111-1111-111111111111 usable])",
            "event key-status 11111111-1111-1111-1111-111111111111 usable",
            "cdm update s1 (103 bytes)",
            "host-cdm KeyStatuses(s1, [22222222-2222-2222-2222-222222222222 usable])",
            "event key-status 22222222-2222-2222-2222-222222222222 usable",
            "event track-selected video sd -> hd (3000000 bit/s, abr-up)",
            "host-cdm KeyStatuses(s1, [22222222-2222-2222-2222-222222222222 output-restricted])",
            "event key-status 22222222-2222-2222-2222-222222222222 output-restricted",
            "event track-selected video hd -> sd (500000 bit/s, capabilities)",
            "host-cdm KeyStatuses(s0, [11111111-1111-1111-1111-111111111111 output-restricted])",
            "event key-status 11111111-1111-1111-1111-111111111111 output-restricted",
            "cdm close s0",
            "cdm close s1",
            "event error drm error: key 22222222-2222-2222-2222-222222222222 is output-restricted",
        ],
    );
}
