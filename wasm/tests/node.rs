//! The binding in Node (`wasm-pack test --node wasm`): inputs go in as JavaScript values,
//! outputs come out as the documented objects, and misuse is an `Error` with `name` and
//! `variant`.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use js_sys::{Array, JSON, Reflect};
use playhead_wasm::Player;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

fn json(text: &str) -> JsValue {
    JSON::parse(text).unwrap()
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &key.into()).unwrap()
}

fn tag(v: &JsValue) -> String {
    if let Some(s) = v.as_string() {
        return s;
    }
    let o: &js_sys::Object = v.unchecked_ref();
    js_sys::Object::keys(o).get(0).as_string().unwrap()
}

const MPD: &str = r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT8S" minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:isoff-live:2011">
  <Period>
    <AdaptationSet contentType="video" mimeType="video/mp4" codecs="avc1.42c01e">
      <SegmentTemplate timescale="1000" duration="2000" initialization="v/$RepresentationID$/init.mp4" media="v/$RepresentationID$/$Number$.m4s" startNumber="1"/>
      <Representation id="low" bandwidth="300000" width="640" height="360"/>
      <Representation id="high" bandwidth="3000000" width="1920" height="1080"/>
    </AdaptationSet>
  </Period>
</MPD>"#;

/// Loads the MPD above and returns the player and the outputs after the manifest.
fn loaded() -> (Player, Array) {
    let mut p = Player::new(json(r#"{"sink": {"segments": {"mpeg_ts": true}}}"#)).unwrap();
    let load = json(
        r#"{"Load": {"sources": [{"url": "https://cdn.example/a.mpd", "cdn": null, "priority": 0}], "start": null}}"#,
    );
    p.command(0.0, 1.7e12, load).unwrap();
    let out = p.poll().unwrap();
    let request = get(&out.get(0), "Request");
    assert_eq!(get(&request, "kind").as_string().unwrap(), "manifest");
    assert_eq!(get(&request, "delivery").as_string().unwrap(), "engine");
    let id = get(&request, "id").as_f64().unwrap();
    let headers = json("[]");
    p.response(
        5.0,
        1.7e12,
        id,
        200,
        headers,
        Some(MPD.as_bytes().to_vec()),
        0.0,
        4.0,
        None,
    )
    .unwrap();
    let out = p.poll().unwrap();
    (p, out)
}

#[wasm_bindgen_test]
fn a_manifest_becomes_tracks_events_and_segment_requests() {
    let (p, out) = loaded();
    let tags: Vec<String> = out.iter().map(|o| tag(&o)).collect();
    assert_eq!(tags.last().unwrap(), "Timeout");
    assert!(tags.iter().any(|t| t == "Request"), "{tags:?}");
    let events: Vec<String> = out
        .iter()
        .filter(|o| tag(o) == "Event")
        .map(|o| get(&get(&o, "Event"), "event").as_string().unwrap())
        .collect();
    assert!(events.contains(&"loaded".to_owned()), "{events:?}");
    assert!(events.contains(&"track-selected".to_owned()), "{events:?}");
    let tracks = Array::from(&p.tracks().unwrap());
    assert_eq!(tracks.length(), 2);
    assert_eq!(get(&tracks.get(1), "id").as_string().unwrap(), "high");
    assert_eq!(get(&tracks.get(1), "height").as_f64().unwrap(), 1080.0);
    assert_eq!(
        get(&tracks.get(0), "content_type").as_string().unwrap(),
        "video"
    );
}

#[wasm_bindgen_test]
fn a_held_init_segment_comes_back_as_media_to_append() {
    let (mut p, out) = loaded();
    let init = out
        .iter()
        .map(|o| get(&o, "Request"))
        .find(|r| {
            !r.is_undefined() && get(r, "kind").as_string().as_deref() == Some("init-segment")
        })
        .unwrap_or_else(|| {
            let all: Vec<String> = out
                .iter()
                .map(|o| JSON::stringify(&o).unwrap().into())
                .collect();
            panic!("no init request: {all:?}")
        });
    assert_eq!(get(&init, "delivery").as_string().unwrap(), "host");
    let id = get(&init, "id").as_f64().unwrap();
    p.response(30.0, 1.7e12, id, 200, json("[]"), None, 700.0, 25.0, None)
        .unwrap();
    let out = p.poll().unwrap();
    let media = out
        .iter()
        .map(|o| get(&o, "Media"))
        .find(|m| !m.is_undefined())
        .expect("media to append");
    assert_eq!(get(&media, "payload").as_string().unwrap(), "held");
    assert_eq!(get(&media, "request").as_f64().unwrap(), id);
    assert_eq!(get(&media, "init"), JsValue::TRUE);
    assert_eq!(get(&media, "content_type").as_string().unwrap(), "video");
}

#[wasm_bindgen_test]
fn misuse_is_an_error_with_name_and_variant() {
    let (mut p, _) = loaded();
    let e = p.timeout(1.0, 1.7e12).unwrap_err();
    assert_eq!(get(&e, "name").as_string().unwrap(), "PlayheadInputError");
    assert_eq!(get(&e, "variant").as_string().unwrap(), "time-went-back");
    let e = p
        .failed(50.0, 1.7e12, 9999.0, "network", "x".into())
        .unwrap_err();
    assert_eq!(get(&e, "variant").as_string().unwrap(), "unknown-request");
    let e = p.command(60.0, 1.7e12, json(r#"{"Jump": 1}"#)).unwrap_err();
    assert_eq!(
        get(&e, "name").as_string().unwrap(),
        "PlayheadArgumentError"
    );
    assert_eq!(get(&e, "variant").as_string().unwrap(), "bad-argument");
    let e = p
        .cdm_key_statuses(61.0, 1.7e12, 0, vec![1, 2, 3], vec!["usable".into()])
        .unwrap_err();
    assert_eq!(get(&e, "variant").as_string().unwrap(), "bad-argument");
    // The player still works after each refusal.
    p.command(70.0, 1.7e12, json(r#""Play""#)).unwrap();
    assert!(p.poll().unwrap().length() >= 1);
}

#[wasm_bindgen_test]
fn bad_config_is_refused_and_stats_are_an_object() {
    let e = Player::new(json(r#"{"seed": "not a number"}"#))
        .err()
        .unwrap();
    assert_eq!(get(&e, "variant").as_string().unwrap(), "bad-argument");
    let (p, _) = loaded();
    let stats = p.stats().unwrap();
    assert_eq!(get(&stats, "stall_count").as_f64().unwrap(), 0.0);
}
