//! HLS multivariant playlists: variants (with redundant copies and pathways), I-frame
//! variants, rendition groups, session data and keys, content steering.

use std::collections::HashMap;

use super::tags::key;
use super::{AttrList, Vars, check_header, int, lines, tag_value};
use crate::diag::Diag;
use crate::error::{Line, ParseError};
use crate::model::{
    ContentSteering, ContentType, HlsPlaylistRef, HlsTrackInfo, ManifestFormat, Period,
    Presentation, SegmentIndex, SessionData, SwitchingSet, TextKind, Track, VideoRange,
};
use crate::time::{FrameRate, Micros, Timescale, parse_signed_decimal_ticks};
use crate::url::{Allow, resolve};

const R_STREAM_INF: &str =
    "RFC 8216 §4.3.4.2: EXT-X-STREAM-INF needs BANDWIDTH and is followed by a URI line";
const R_MEDIA: &str = "RFC 8216 §4.3.4.1: EXT-X-MEDIA needs TYPE, GROUP-ID and NAME";
const R_MIXED: &str =
    "RFC 8216 §4.1: a playlist is either a media or a multivariant playlist, not both";
const R_RESOLUTION: &str = "RFC 8216 §4.2: RESOLUTION is a decimal-resolution <width>x<height>";

/// Parses a multivariant playlist: one period, a set for the variants, one for I-frame
/// variants, and one per rendition group.
pub(crate) fn parse(
    text: &str,
    base: &str,
    diag: &mut Diag,
    vars: &mut Vars,
) -> Result<Presentation, ParseError> {
    check_header(text, diag)?;
    let mut p = Presentation::new(
        ManifestFormat::HlsMultivariant,
        (!base.is_empty()).then(|| base.to_owned()),
    );
    let mut variants = SwitchingSet::new(ContentType::Video);
    variants.id = Some("variants".into());
    let mut iframes = SwitchingSet::new(ContentType::Video);
    iframes.id = Some("i-frames".into());
    iframes.trick_mode = true;
    let mut groups = Groups::default();
    // Redundant variants (same attributes but URI/PATHWAY-ID) become one track.
    let mut variant_keys: HashMap<String, usize> = HashMap::new();
    let mut pending: Option<(Line, Track, String)> = None;

    for (n, line) in lines(text) {
        if line.is_empty() {
            continue;
        }
        if !line.starts_with('#') {
            let Some((_, mut track, key)) = pending.take() else {
                diag.should(
                    n,
                    R_STREAM_INF,
                    format!(
                        "URI line {:?} without EXT-X-STREAM-INF: ignored",
                        clip(line)
                    ),
                )?;
                continue;
            };
            let uri = vars.substitute(line, n, diag)?;
            let url = resolve(base, &uri, Allow::Http).map_err(|r| diag.unsafe_url(n, &uri, &r))?;
            let mut playlist = track
                .hls
                .as_mut()
                .and_then(|h| h.playlists.pop())
                .unwrap_or_default();
            playlist.url = url;
            match variant_keys.get(&key) {
                Some(&i) => {
                    if let Some(h) = variants.tracks[i].hls.as_mut() {
                        h.playlists.push(playlist);
                    }
                }
                None => {
                    diag.add_track()?;
                    if let Some(h) = track.hls.as_mut() {
                        h.playlists.push(playlist);
                    }
                    variant_keys.insert(key, variants.tracks.len());
                    variants.tracks.push(track);
                }
            }
            continue;
        }
        if !line.starts_with("#EXT") {
            continue;
        }
        let (tag, substituted) = tag_value(line, vars, n, diag)?;
        let value: &str = &substituted;
        if pending.is_some() && tag != "EXT-X-STREAM-INF" {
            // Tags between EXT-X-STREAM-INF and its URI are tolerated (the field writes them).
        }
        match tag {
            "EXT-X-STREAM-INF" => {
                if let Some((l, _, _)) = pending.take() {
                    diag.shall(l, R_STREAM_INF, "EXT-X-STREAM-INF without a URI line")?;
                }
                let a = AttrList::parse(value, n, diag)?;
                let (mut track, key) = variant(&a, n, diag, variants.tracks.len())?;
                if let Some(uri) = a.get("URI") {
                    // Not in the RFC, but written by some packagers instead of a URI line.
                    diag.should(
                        n,
                        R_STREAM_INF,
                        "EXT-X-STREAM-INF with a URI attribute instead of a URI line",
                    )?;
                    let url =
                        resolve(base, uri, Allow::Http).map_err(|r| diag.unsafe_url(n, uri, &r))?;
                    if let Some(h) = track.hls.as_mut() {
                        if let Some(r) = h.playlists.last_mut() {
                            r.url = url;
                        }
                    }
                    diag.add_track()?;
                    variants.tracks.push(track);
                    continue;
                }
                pending = Some((n, track, key));
            }
            "EXT-X-I-FRAME-STREAM-INF" => {
                let a = AttrList::parse(value, n, diag)?;
                let (mut track, _) = variant(&a, n, diag, iframes.tracks.len())?;
                let Some(uri) = a.get("URI") else {
                    diag.shall(
                        n,
                        "RFC 8216 §4.3.4.3: EXT-X-I-FRAME-STREAM-INF needs URI",
                        "URI missing",
                    )?;
                    continue;
                };
                let url =
                    resolve(base, uri, Allow::Http).map_err(|r| diag.unsafe_url(n, uri, &r))?;
                if let Some(r) = track.hls.as_mut().and_then(|h| h.playlists.last_mut()) {
                    r.url = url;
                }
                track.id = format!("i{}", iframes.tracks.len());
                if let Some(id) = a.get("STABLE-VARIANT-ID") {
                    track.id = id.to_owned();
                }
                diag.add_track()?;
                iframes.tracks.push(track);
            }
            "EXT-X-MEDIA" => {
                let a = AttrList::parse(value, n, diag)?;
                rendition(&a, n, base, diag, &mut groups)?;
            }
            "EXT-X-SESSION-DATA" => {
                let a = AttrList::parse(value, n, diag)?;
                let Some(id) = a.get("DATA-ID") else {
                    diag.shall(
                        n,
                        "RFC 8216 §4.3.4.4: EXT-X-SESSION-DATA needs DATA-ID",
                        "DATA-ID missing",
                    )?;
                    continue;
                };
                let uri = match a.get("URI") {
                    Some(u) => {
                        Some(resolve(base, u, Allow::Http).map_err(|r| diag.unsafe_url(n, u, &r))?)
                    }
                    None => None,
                };
                p.session_data.push(SessionData {
                    data_id: id.to_owned(),
                    value: a.get("VALUE").map(str::to_owned),
                    uri,
                    language: a.get("LANGUAGE").map(str::to_owned),
                });
            }
            "EXT-X-SESSION-KEY" => {
                let a = AttrList::parse(value, n, diag)?;
                if let Some(k) = key(&a, base, n, diag)? {
                    p.session_keys.push(k);
                }
            }
            "EXT-X-CONTENT-STEERING" => {
                let a = AttrList::parse(value, n, diag)?;
                let Some(uri) = a.get("SERVER-URI") else {
                    diag.shall(
                        n,
                        "RFC 8216bis §4.4.6.6: EXT-X-CONTENT-STEERING needs SERVER-URI",
                        "SERVER-URI missing",
                    )?;
                    continue;
                };
                let server_url =
                    resolve(base, uri, Allow::Http).map_err(|r| diag.unsafe_url(n, uri, &r))?;
                p.steering = Some(ContentSteering {
                    server_url,
                    default_pathway: a.get("PATHWAY-ID").map(str::to_owned),
                    query_before_start: false,
                    proxy_server_url: None,
                });
            }
            "EXT-X-DEFINE" => {
                let a = AttrList::parse(value, n, diag)?;
                vars.define(&a, n, diag)?;
            }
            "EXT-X-START" => {
                let a = AttrList::parse(value, n, diag)?;
                if let Some(off) = a.get("TIME-OFFSET") {
                    p.start_offset = parse_signed_decimal_ticks(off, Timescale::MICROS)
                        .ok()
                        .map(Micros);
                }
            }
            "EXT-X-INDEPENDENT-SEGMENTS" => p.independent_segments = true,
            "EXT-X-VERSION" => p.profiles = int(value).map(|v| format!("hls-v{v}")),
            "EXTINF"
            | "EXT-X-TARGETDURATION"
            | "EXT-X-MEDIA-SEQUENCE"
            | "EXT-X-ENDLIST"
            | "EXT-X-PART" => {
                return Err(diag.invalid(
                    n,
                    R_MIXED,
                    format!("media playlist tag #{tag} in a multivariant playlist"),
                ));
            }
            _ => {}
        }
    }
    if let Some((l, _, _)) = pending {
        diag.shall(l, R_STREAM_INF, "EXT-X-STREAM-INF without a URI line")?;
    }
    // A variant set whose tracks are all audio-only is an audio set.
    if !variants.tracks.is_empty() && variants.tracks.iter().all(is_audio_only) {
        variants.content_type = ContentType::Audio;
    }
    infer_rendition_codecs(&variants, &mut groups.sets);
    let mut sets = Vec::new();
    if !variants.tracks.is_empty() {
        sets.push(variants);
    }
    sets.extend(groups.sets);
    if !iframes.tracks.is_empty() {
        sets.push(iframes);
    }
    p.variables = vars.named();
    p.periods.push(Period::new(Micros::ZERO, None, sets));
    Ok(p)
}

fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}

fn is_audio_only(t: &Track) -> bool {
    t.width.is_none()
        && t.codecs.as_deref().is_some_and(|c| {
            c.split(',')
                .all(|c| ContentType::of_codec(c) == ContentType::Audio)
        })
}

/// Gives renditions without CODECS the codec their group carries in every variant that
/// refers to it (EXT-X-MEDIA has no CODECS; the variant's CODECS lists its renditions').
fn infer_rendition_codecs(variants: &SwitchingSet, groups: &mut [SwitchingSet]) {
    for set in groups.iter_mut() {
        let kind = set.content_type;
        let mut found: Option<Option<String>> = None;
        for v in &variants.tracks {
            let Some(h) = &v.hls else { continue };
            let group = match kind {
                ContentType::Audio => &h.audio_group,
                ContentType::Video => &h.video_group,
                ContentType::Text if set.text_kind != Some(TextKind::ClosedCaptions) => {
                    &h.subtitles_group
                }
                _ => continue,
            };
            if group.as_deref() != set.id.as_deref() || set.id.is_none() {
                continue;
            }
            let codecs: Vec<&str> = v
                .codecs
                .as_deref()
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|c| ContentType::of_codec(c) == kind)
                .collect();
            let this = (codecs.len() == 1).then(|| codecs[0].to_owned());
            match &found {
                None => found = Some(this),
                Some(prev) if *prev != this => found = Some(None),
                Some(_) => {}
            }
        }
        if let Some(Some(codec)) = found {
            for t in set.tracks.iter_mut().filter(|t| t.codecs.is_none()) {
                t.codecs = Some(codec.clone());
            }
        }
    }
}

/// Builds a variant track (segments unloaded) and its redundancy key.
fn variant(
    a: &AttrList<'_>,
    n: Line,
    diag: &mut Diag,
    ordinal: usize,
) -> Result<(Track, String), ParseError> {
    let bandwidth = match a.get("BANDWIDTH").and_then(int) {
        Some(b) => b,
        None => {
            diag.shall(
                n,
                R_STREAM_INF,
                "BANDWIDTH missing or not a decimal-integer",
            )?;
            0
        }
    };
    let mut t = Track::new(
        a.get("STABLE-VARIANT-ID")
            .map_or_else(|| format!("v{ordinal}"), str::to_owned),
        SegmentIndex::Unloaded,
    );
    t.bandwidth = bandwidth;
    t.average_bandwidth = a.get("AVERAGE-BANDWIDTH").and_then(int);
    t.codecs = a.get("CODECS").map(str::to_owned);
    if let Some(r) = a.get("RESOLUTION") {
        match r
            .split_once(['x', 'X'])
            .and_then(|(w, h)| Some((int(w)?, int(h)?)))
        {
            Some((w, h)) => {
                t.width = u32::try_from(w).ok();
                t.height = u32::try_from(h).ok();
            }
            None => diag.shall(n, R_RESOLUTION, format!("RESOLUTION {r:?}"))?,
        }
    }
    t.frame_rate = a.get("FRAME-RATE").and_then(FrameRate::parse);
    t.video_range = a.get("VIDEO-RANGE").and_then(|v| match v {
        "SDR" => Some(VideoRange::Sdr),
        "PQ" => Some(VideoRange::Pq),
        "HLG" => Some(VideoRange::Hlg),
        _ => None,
    });
    t.hdcp_level = a.get("HDCP-LEVEL").map(str::to_owned);
    let group = |k: &str| -> Result<Option<String>, ParseError> { Ok(a.get(k).map(str::to_owned)) };
    t.hls = Some(HlsTrackInfo {
        playlists: vec![HlsPlaylistRef {
            url: String::new(),
            pathway_id: a.get("PATHWAY-ID").map(str::to_owned),
            audio_group: group("AUDIO")?,
            video_group: group("VIDEO")?,
            subtitles_group: group("SUBTITLES")?,
            closed_captions: group("CLOSED-CAPTIONS")?,
        }],
        audio_group: group("AUDIO")?,
        video_group: group("VIDEO")?,
        subtitles_group: group("SUBTITLES")?,
        closed_captions: group("CLOSED-CAPTIONS")?,
        instream_id: None,
        score: a.get("SCORE").map(str::to_owned),
        allowed_cpc: a.get("ALLOWED-CPC").map(str::to_owned),
        video_layout: a.get("REQ-VIDEO-LAYOUT").map(str::to_owned),
        characteristics: None,
        embedded: false,
        default: false,
        autoselect: false,
        forced: false,
    });
    // Copies of one stream (redundant or per pathway) share what describes the stream;
    // their URI, PATHWAY-ID and rendition groups are kept per copy.
    let mut key = String::with_capacity(128);
    for name in [
        "BANDWIDTH",
        "AVERAGE-BANDWIDTH",
        "RESOLUTION",
        "FRAME-RATE",
        "CODECS",
        "VIDEO-RANGE",
        "HDCP-LEVEL",
        "STABLE-VARIANT-ID",
        "REQ-VIDEO-LAYOUT",
    ] {
        key.push_str(a.get(name).unwrap_or(""));
        key.push('\n');
    }
    Ok((t, key))
}

/// Rendition groups in playlist order, indexed by (TYPE, GROUP-ID).
#[derive(Default)]
struct Groups {
    sets: Vec<SwitchingSet>,
    index: HashMap<(String, String), usize>,
}

/// Adds an `EXT-X-MEDIA` rendition to its group's switching set.
fn rendition(
    a: &AttrList<'_>,
    n: Line,
    base: &str,
    diag: &mut Diag,
    groups: &mut Groups,
) -> Result<(), ParseError> {
    let (Some(kind), Some(group_id), Some(name)) =
        (a.get("TYPE"), a.get("GROUP-ID"), a.get("NAME"))
    else {
        diag.shall(n, R_MEDIA, "TYPE, GROUP-ID or NAME missing")?;
        return Ok(());
    };
    let (content_type, text_kind) = match kind {
        "AUDIO" => (ContentType::Audio, None),
        "VIDEO" => (ContentType::Video, None),
        // The group is a set of subtitles; which rendition is forced is on the track.
        "SUBTITLES" => (ContentType::Text, Some(TextKind::Subtitles)),
        "CLOSED-CAPTIONS" => (ContentType::Text, Some(TextKind::ClosedCaptions)),
        other => {
            diag.shall(n, R_MEDIA, format!("TYPE {other:?}"))?;
            return Ok(());
        }
    };
    let url = match a.get("URI") {
        Some(_) if text_kind == Some(TextKind::ClosedCaptions) => {
            diag.shall(
                n,
                "RFC 8216 §4.3.4.1: CLOSED-CAPTIONS renditions MUST NOT have a URI",
                "URI present",
            )?;
            None
        }
        Some(u) => Some(resolve(base, u, Allow::Http).map_err(|r| diag.unsafe_url(n, u, &r))?),
        None => None,
    };
    // One set per (TYPE, GROUP-ID), found by map: hostile playlists may hold thousands.
    let key = (kind.to_owned(), group_id.to_owned());
    let set_index = match groups.index.get(&key) {
        Some(&i) => i,
        None => {
            diag.add_set()?;
            let mut s = SwitchingSet::new(content_type);
            s.id = Some(group_id.to_owned());
            s.text_kind = text_kind;
            groups.sets.push(s);
            groups.index.insert(key, groups.sets.len() - 1);
            groups.sets.len() - 1
        }
    };
    let set = &mut groups.sets[set_index];
    let mut t = Track::new(
        a.get("STABLE-RENDITION-ID").map_or_else(
            || format!("{}:{}:{}", kind.to_ascii_lowercase(), group_id, name),
            str::to_owned,
        ),
        SegmentIndex::Unloaded,
    );
    t.language = a.get("LANGUAGE").map(str::to_owned);
    t.label = Some(name.to_owned());
    t.audio_channels = a.get("CHANNELS").map(str::to_owned);
    t.hls = Some(HlsTrackInfo {
        playlists: url
            .map(|url| HlsPlaylistRef {
                url,
                ..Default::default()
            })
            .into_iter()
            .collect(),
        audio_group: None,
        video_group: None,
        subtitles_group: None,
        closed_captions: None,
        instream_id: a.get("INSTREAM-ID").map(str::to_owned),
        score: None,
        allowed_cpc: None,
        video_layout: None,
        characteristics: a.get("CHARACTERISTICS").map(str::to_owned),
        embedded: a.get("URI").is_none(),
        default: a.yes("DEFAULT"),
        autoselect: a.yes("AUTOSELECT"),
        forced: a.yes("FORCED"),
    });
    if a.yes("DEFAULT") {
        set.default = true;
        if !set.roles.iter().any(|r| r == "main") {
            set.roles.push("main".into());
        }
    }
    set.autoselect |= a.yes("AUTOSELECT");
    if set.language.is_none() {
        set.language = t.language.clone();
    }
    if !set.labels.iter().any(|l| l == name) {
        set.labels.push(name.to_owned());
    }
    if let Some(c) = a.get("CHARACTERISTICS") {
        for ch in c.split(',') {
            let role = match ch.trim() {
                "public.accessibility.describes-video" => "description",
                "public.accessibility.transcribes-spoken-dialog" => "caption",
                "public.accessibility.describes-music-and-sound" => "caption",
                "public.easy-to-read" => "easyreader",
                _ => continue,
            };
            if !set.roles.iter().any(|r| r == role) {
                set.roles.push(role.into());
            }
        }
    }
    diag.add_track()?;
    set.tracks.push(t);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{ContentType, ParseOptions, parse};

    #[test]
    fn copies_per_pathway_are_one_track_with_their_own_groups() {
        let text = r#"#EXTM3U
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud-a",NAME="en",LANGUAGE="en",URI="a/en.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud-b",NAME="en",LANGUAGE="en",URI="https://b.example/en.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.4d401e,mp4a.40.2",AUDIO="aud-a",PATHWAY-ID="A"
v/360.m3u8
#EXT-X-STREAM-INF:CODECS="avc1.4d401e,mp4a.40.2",AUDIO="aud-b",RESOLUTION=640x360,PATHWAY-ID="B",BANDWIDTH=800000
https://b.example/v/360.m3u8
"#;
        let opts = ParseOptions {
            url: Some("https://a.example/m.m3u8".into()),
            ..Default::default()
        };
        let p = parse(text.as_bytes(), &opts).unwrap().presentation;
        let variants = &p.periods[0].switching_sets[0];
        assert_eq!(
            variants.tracks.len(),
            1,
            "attribute order and group names do not split a stream"
        );
        let refs = &variants.tracks[0].hls.as_ref().unwrap().playlists;
        assert_eq!(refs.len(), 2);
        assert_eq!(
            (
                refs[1].pathway_id.as_deref(),
                refs[1].audio_group.as_deref()
            ),
            (Some("B"), Some("aud-b"))
        );
    }

    #[test]
    fn variants_groups_and_redundancy() {
        let text = r#"#EXTM3U
#EXT-X-CONTENT-STEERING:SERVER-URI="/steer",PATHWAY-ID="cdn-a"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="a/en.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="Deutsch",LANGUAGE="de",URI="a/de.m3u8"
#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="CC1",INSTREAM-ID="CC1"
#EXT-X-STREAM-INF:BANDWIDTH=1280000,CODECS="avc1.4d401f,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=29.970,AUDIO="aac",CLOSED-CAPTIONS="cc",PATHWAY-ID="cdn-a"
https://a.example/v/360.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=1280000,CODECS="avc1.4d401f,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=29.970,AUDIO="aac",CLOSED-CAPTIONS="cc",PATHWAY-ID="cdn-b"
https://b.example/v/360.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=4000000,CODECS="avc1.640028,mp4a.40.2",RESOLUTION=1920x1080,VIDEO-RANGE=PQ,AUDIO="aac"
v/1080.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=200000,URI="v/iframe.m3u8"
"#;
        let opts = ParseOptions {
            url: Some("https://a.example/master.m3u8".into()),
            ..Default::default()
        };
        let p = parse(text.as_bytes(), &opts).unwrap().presentation;
        let sets = &p.periods[0].switching_sets;
        assert_eq!(sets.len(), 4);
        assert_eq!(sets[0].tracks.len(), 2, "redundant variant merged");
        let v0 = sets[0].tracks[0].hls.as_ref().unwrap();
        assert_eq!(v0.playlists.len(), 2);
        assert_eq!(v0.playlists[1].pathway_id.as_deref(), Some("cdn-b"));
        assert_eq!(
            sets[0].tracks[1].hls.as_ref().unwrap().playlists[0].url,
            "https://a.example/v/1080.m3u8"
        );
        assert_eq!(sets[1].content_type, ContentType::Audio);
        assert_eq!(sets[1].tracks.len(), 2);
        // EXT-X-MEDIA has no CODECS: inferred from the variants that use the group.
        assert_eq!(sets[1].tracks[0].codecs.as_deref(), Some("mp4a.40.2"));
        assert!(sets[2].tracks[0].hls.as_ref().unwrap().embedded);
        assert!(sets[3].trick_mode);
        let en = sets[1].tracks[0].hls.as_ref().unwrap();
        let de = sets[1].tracks[1].hls.as_ref().unwrap();
        assert!(
            en.default && en.autoselect && !de.default,
            "DEFAULT is per rendition"
        );
        assert_eq!(
            p.steering.as_ref().unwrap().server_url,
            "https://a.example/steer"
        );
    }
}
