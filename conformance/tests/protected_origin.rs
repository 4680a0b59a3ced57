//! The loopback origin's protected presentations over real HTTP: DASH ClearKey (`cenc`,
//! `cbcs`) serves Shaka Packager's encrypted segments and signals them; HLS AES-128 (TS,
//! fMP4) serves segments that decrypt, with the key from the key endpoint and the IV the
//! playlist implies, to exactly what the clear prefix serves; a wrong `--key` is what the
//! key services hand out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpStream;

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, KeyIvInit};
use playhead::media;
use playhead::{
    KeyMethod, KeySystem, Kid, ParseOptions, Presentation, SegmentIndex, Strictness, Track,
};
use playhead_conformance::asset::media_dir;
use playhead_conformance::server::{OriginServer, PROTECTED, Protected, ServerConfig};
use playhead_conformance::sim::origin::{HLS_FMP4_IV, TEST_KEY, TEST_KID};

/// One HTTP/1.1 GET over a fresh connection: (status, content type, body).
fn get(url: &str) -> (u16, String, Vec<u8>) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = TcpStream::connect(host).unwrap();
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..end].to_vec()).unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_owned())
        })
        .unwrap_or_default();
    (status, content_type, raw[end + 4..].to_vec())
}

/// A 200 body.
fn body(url: &str) -> Vec<u8> {
    let (status, _, body) = get(url);
    assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&body));
    body
}

/// Fetches and parses a manifest strictly with the core's parser (no warnings).
fn manifest(url: &str) -> Presentation {
    let text = body(url);
    let opts = ParseOptions {
        url: Some(url.into()),
        strictness: Strictness::Strict,
        ..Default::default()
    };
    let parsed = playhead::parse(&text, &opts)
        .unwrap_or_else(|e| panic!("{url}: {e}\n{}", String::from_utf8_lossy(&text)));
    assert!(parsed.warnings.is_empty(), "{url}: {:?}", parsed.warnings);
    parsed.presentation
}

fn vod() -> OriginServer {
    OriginServer::background(ServerConfig {
        live: None,
        cdns: 1,
        ..ServerConfig::default()
    })
    .unwrap()
}

/// A stored file of `conformance/media` without its `sidx` (as the origin serves it).
fn stored_segment(rel: &str) -> Vec<u8> {
    let raw = std::fs::read(media_dir().join(rel)).unwrap();
    let mut out = Vec::new();
    for b in media::boxes(&raw) {
        let b = b.unwrap();
        if &b.fourcc != b"sidx" {
            out.extend_from_slice(&raw[b.start..b.body_start() + b.body.len()]);
        }
    }
    out
}

/// URL of segment `k` of a DASH `$Number$` track.
fn template_url(t: &Track, k: u64) -> String {
    let SegmentIndex::Template(tpl) = &t.segments else {
        panic!("{}: not a template", t.id);
    };
    tpl.media
        .expand(k, tpl.presentation_time_offset + k * tpl.duration)
}

#[test]
fn dash_clearkey_presentations_serve_and_signal_the_encrypted_asset() {
    let o = vod();
    for (kind, scheme) in [(Protected::DashCenc, "cenc"), (Protected::DashCbcs, "cbcs")] {
        let url = o.url_protected(kind, 0);
        assert!(
            url.contains(&format!("/dash-{scheme}/manifest.mpd")),
            "{url}"
        );
        let p = manifest(&url);
        let sets = &p.periods[0].switching_sets;
        assert_eq!(sets.len(), 2);
        for set in sets {
            let ck = set
                .protection
                .iter()
                .find(|c| c.system == KeySystem::ClearKey)
                .unwrap();
            assert_eq!(ck.license_url.as_deref(), Some(o.license_url().as_str()));
            assert_eq!(ck.default_kids, [Kid(TEST_KID)]);
            let mp4 = set
                .protection
                .iter()
                .find(|c| c.system == KeySystem::Mp4Protection)
                .unwrap();
            assert_eq!(mp4.value.as_deref(), Some(scheme));
        }
        let tracks: Vec<&Track> = p.tracks().collect();
        let ids: Vec<&str> = tracks.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["144p", "audio"], "only what is encrypted");
        for t in tracks {
            let dir = if t.id == "audio" { "a" } else { "144p" };
            let init_url = t.segments.init().unwrap().url.clone();
            let init = body(&init_url);
            assert_eq!(
                init,
                std::fs::read(media_dir().join(format!("enc/{scheme}/{dir}/init.mp4"))).unwrap()
            );
            let info = media::parse_init(&init).unwrap();
            let prot = info.tracks[0].config.protection.as_ref().unwrap();
            assert_eq!(&prot.scheme, scheme.as_bytes());
            assert_eq!(prot.default_kid, TEST_KID);
            assert_eq!(t.segments.len(), 8);
            for k in [0u64, 7] {
                let seg_url = template_url(t, k);
                assert_eq!(seg_url, t.segments.segment(k).unwrap().url);
                let (status, content_type, seg) = get(&seg_url);
                assert_eq!(status, 200, "{seg_url}");
                let want_type = if t.id == "audio" {
                    "audio/mp4"
                } else {
                    "video/mp4"
                };
                assert_eq!(content_type, want_type);
                assert!(
                    media::find(&seg, &[*b"moof", *b"traf", *b"senc"])
                        .unwrap()
                        .is_some()
                );
                assert_eq!(
                    seg,
                    stored_segment(&format!("enc/{scheme}/{dir}/{k}.m4s")),
                    "{seg_url}"
                );
                let samples = media::fragment_samples(&seg, &info).unwrap();
                assert!(samples.units.iter().all(|u| u.encryption.is_some()));
            }
            // The clear renditions the ladder lacks are not served.
            let other = template_url(t, 0).replace("/144p/", "/360p/");
            if t.id != "audio" {
                assert_eq!(get(&other).0, 404, "{other}");
            }
        }
    }
}

/// The key, IV and URL of media segment `i` of an HLS media playlist.
fn hls_segment(p: &Presentation, i: u64) -> (String, u64, Option<String>, Option<[u8; 16]>) {
    let t = p.tracks().next().unwrap();
    let seg = t.segments.segment(i).unwrap();
    assert_eq!(seg.keys.len(), 1, "{}", seg.url);
    let key = &seg.keys[0];
    assert_eq!(key.method, KeyMethod::Aes128);
    if let Some(init) = &seg.init {
        assert!(init.keys.is_empty(), "init segments are clear");
    }
    (seg.url.clone(), seg.number, key.uri.clone(), key.iv)
}

fn decrypt(key: &[u8], iv: [u8; 16], data: &[u8]) -> Vec<u8> {
    let key: [u8; 16] = key.try_into().unwrap();
    cbc::Decryptor::<aes::Aes128>::new(&key.into(), &iv.into())
        .decrypt_padded_vec::<Pkcs7>(data)
        .unwrap()
}

/// Every media playlist of an AES-128 presentation: segments `picks` decrypt to the clear
/// prefix's bytes of the same URL (fetched right after: the same segment, live or VOD).
fn check_hls_aes(o: &OriginServer, kind: Protected, clear_prefix: &str, picks: &[i64]) {
    let master_url = o.url_protected(kind, 0);
    let master = manifest(&master_url);
    let playlists: Vec<String> = master
        .tracks()
        .filter_map(|t| t.hls.as_ref())
        .flat_map(|h| h.playlists.iter().map(|r| r.url.clone()))
        .collect();
    assert_eq!(playlists.len(), 4, "3 variants and the audio");
    let clear_url = |url: &str| url.replace(&format!("/{}/", kind.prefix()), clear_prefix);
    for pl in &playlists {
        let p = manifest(pl);
        let n = p.tracks().next().unwrap().segments.len();
        assert!(n > 0);
        for &pick in picks {
            // Negative: counted from the end.
            let i = if pick < 0 { n as i64 + pick } else { pick } as u64;
            let (url, number, uri, iv) = hls_segment(&p, i);
            let uri = uri.unwrap();
            assert_eq!(
                uri,
                format!("{}/00112233445566778899aabbccddeeff", o.key_url())
            );
            let (status, content_type, key) = get(&uri);
            assert_eq!(
                (status, content_type.as_str()),
                (200, "application/octet-stream")
            );
            assert_eq!(key, TEST_KEY);
            let iv = match kind {
                // No IV: the media sequence number, 128-bit big-endian (RFC 8216 §5.2).
                Protected::HlsTsAes => {
                    assert_eq!(iv, None);
                    u128::from(number).to_be_bytes()
                }
                _ => {
                    assert_eq!(iv, Some(HLS_FMP4_IV));
                    HLS_FMP4_IV
                }
            };
            let enc = body(&url);
            let clear = body(&clear_url(&url));
            assert_eq!(enc.len(), (clear.len() / 16 + 1) * 16, "PKCS#7 padding");
            assert_eq!(decrypt(&key, iv, &enc), clear, "{url}");
            assert_ne!(enc[..clear.len()], clear[..]);
        }
        if kind == Protected::HlsFmp4Aes {
            let init = p
                .tracks()
                .next()
                .unwrap()
                .segments
                .init()
                .unwrap()
                .url
                .clone();
            assert_eq!(
                body(&init),
                body(&clear_url(&init)),
                "the init segment is clear"
            );
        }
    }
}

#[test]
fn hls_aes128_segments_decrypt_to_the_clear_ones() {
    let o = vod();
    check_hls_aes(&o, Protected::HlsTsAes, "/hls-ts/", &[0, 3, -1]);
    check_hls_aes(&o, Protected::HlsFmp4Aes, "/hls/", &[0, 5]);
}

#[test]
fn live_protected_presentations_loop_with_shifted_times() {
    // The default: live, 2 minutes of stream already there (segments 8 and later are loops).
    let o = OriginServer::background(ServerConfig {
        cdns: 1,
        ..ServerConfig::default()
    })
    .unwrap();
    // Not the oldest listed segment: it leaves the window within one segment duration of
    // the server's start (the window is all the preroll), which a loaded machine can miss.
    check_hls_aes(&o, Protected::HlsTsAes, "/hls-ts/", &[2, -1]);
    check_hls_aes(&o, Protected::HlsFmp4Aes, "/hls/", &[-1]);
    // The newest segment number, from a live playlist.
    let master = manifest(&o.url_protected(Protected::HlsFmp4Aes, 0));
    let pl = manifest(
        &master
            .tracks()
            .next()
            .unwrap()
            .hls
            .as_ref()
            .unwrap()
            .playlists[0]
            .url,
    );
    let t = pl.tracks().next().unwrap();
    let k = t.segments.segment(t.segments.len() - 3).unwrap().number;
    assert!(k >= 8, "a looped segment: {k}");
    let p = manifest(&o.url_protected(Protected::DashCbcs, 0));
    assert!(p.is_live());
    for t in p.tracks() {
        let seg = body(&template_url(t, k));
        let info = media::parse_init(&body(&t.segments.init().unwrap().url)).unwrap();
        let runs = media::parse_fragment(&seg, &info).unwrap();
        let ticks = u64::from(runs[0].timescale.get()) * 192 / 100;
        assert_eq!(runs[0].base_media_decode_time, Some(k * ticks), "{}", t.id);
        let dir = if t.id == "audio" { "a" } else { "144p" };
        let stored = stored_segment(&format!("enc/cbcs/{dir}/{}.m4s", k % 8));
        let stored_samples = media::fragment_samples(&stored, &info).unwrap();
        let served = media::fragment_samples(&seg, &info).unwrap();
        for (a, b) in served.units.iter().zip(&stored_samples.units) {
            assert_eq!(a.dts - b.dts, ((k / 8) * 8 * ticks) as i64);
            assert_eq!((&a.data, &a.encryption), (&b.data, &b.encryption));
        }
    }
}

#[test]
fn key_services_answer_the_configured_keys() {
    let kid_hex = "00112233445566778899aabbccddeeff";
    let license = |o: &OriginServer| {
        let host = o.services().to_string();
        let req = r#"{"kids":["ABEiM0RVZneImaq7zN3u_w"],"type":"temporary"}"#;
        let mut s = TcpStream::connect(&host).unwrap();
        write!(
            s,
            "POST /license/clearkey HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{req}",
            req.len()
        )
        .unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        let json = raw.split("\r\n\r\n").nth(1).unwrap().to_owned();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["keys"][0]["k"].as_str().unwrap().to_owned()
    };
    // No keys configured: the asset's test key, from both services.
    let o = vod();
    assert_eq!(body(&format!("{}/{kid_hex}", o.key_url())), TEST_KEY);
    assert_eq!(
        body(&format!("{}/{}", o.key_url(), kid_hex.to_uppercase())),
        TEST_KEY
    );
    // base64url of 0123456789abcdef0123456789abcdef.
    assert_eq!(license(&o), "ASNFZ4mrze8BI0VniavN7w");
    assert_eq!(get(&format!("{}/{}", o.key_url(), "ff".repeat(16))).0, 404);
    assert_eq!(get(&format!("{}/nothex", o.key_url())).0, 400);
    let index = String::from_utf8(body(&format!("http://{}/", o.services()))).unwrap();
    for p in PROTECTED {
        assert!(index.contains(&o.url_protected(p, 0)), "{index}");
    }
    assert!(index.contains("/keys/"), "{index}");
    drop(o);

    // A wrong key: the test key id with another key. The media stay encrypted with the test
    // key, so a player decrypts garbage (AES-128) or fails (ClearKey).
    let wrong = [0x5au8; 16];
    let o = OriginServer::background(ServerConfig {
        live: None,
        cdns: 1,
        clearkey: vec![(TEST_KID, wrong)],
        ..ServerConfig::default()
    })
    .unwrap();
    assert_eq!(body(&format!("{}/{kid_hex}", o.key_url())), wrong);
    assert_eq!(license(&o), "WlpaWlpaWlpaWlpaWlpaWg");
    let p = manifest(&o.url_protected(Protected::HlsTsAes, 0));
    let pl = manifest(&p.tracks().next().unwrap().hls.as_ref().unwrap().playlists[0].url);
    let (url, number, _, _) = hls_segment(&pl, 0);
    let enc = body(&url);
    let iv = u128::from(number).to_be_bytes();
    let plain = decrypt(&TEST_KEY, iv, &enc);
    assert_eq!(plain[0], 0x47, "the test key decrypts it to MPEG-TS");
    let key: [u8; 16] = wrong;
    let garbage = cbc::Decryptor::<aes::Aes128>::new(&key.into(), &iv.into())
        .decrypt_padded_vec::<Pkcs7>(&enc);
    assert!(garbage.is_err() || garbage.is_ok_and(|g| g != plain));
}
