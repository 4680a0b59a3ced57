//! Tests of the media playlist reader.
use crate::{ParseOptions, Strictness, parse};

fn opts() -> ParseOptions {
    ParseOptions {
        url: Some("https://cdn.example/live/v1/media.m3u8".into()),
        ..Default::default()
    }
}

#[test]
fn reads_segments_exactly() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:7\n#EXT-X-MEDIA-SEQUENCE:10\n#EXTINF:6.006,\na.ts\n#EXT-X-BYTERANGE:100@0\n#EXTINF:6.006,\nb.ts\n#EXT-X-BYTERANGE:50\n#EXTINF:1,\nb.ts\n#EXT-X-ENDLIST\n";
    let p = parse(text.as_bytes(), &opts()).unwrap().presentation;
    let t = p.tracks().next().unwrap();
    assert_eq!(t.segments.len(), 3);
    let s = t.segments.segment(2).unwrap();
    assert_eq!(s.number, 12);
    assert_eq!(s.start, 12_012_000);
    assert_eq!(
        s.byte_range,
        Some(crate::ByteRange {
            start: 100,
            length: Some(50)
        })
    );
    assert_eq!(p.duration, Some(crate::Micros(13_012_000)));
    assert!(p.live.is_none());
}

#[test]
fn refuses_bad_input_with_typed_errors() {
    for (text, class) in [
        (
            "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:-1,\na.ts\n",
            "invalid",
        ),
        (
            "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:INF,\na.ts\n",
            "invalid",
        ),
        (
            "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:1,\nfile:///etc/passwd\n",
            "unsafe-url",
        ),
        (
            "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:x\n",
            "invalid",
        ),
        (
            "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\n#EXTINF:1,\na.ts\n",
            "malformed",
        ),
    ] {
        let e = parse(text.as_bytes(), &opts()).unwrap_err();
        assert_eq!(e.class(), class, "{text:?}: {e}");
    }
}

#[test]
fn variables_apply_to_attribute_values() {
    let text = "#EXTM3U\n#EXT-X-DEFINE:NAME=\"iv\",VALUE=\"0x000102030405060708090a0b0c0d0e0f\"\n#EXT-X-DEFINE:NAME=\"k\",VALUE=\"https://keys.example/k\"\n#EXT-X-TARGETDURATION:6\n#EXT-X-KEY:METHOD=AES-128,URI=\"{$k}\",IV={$iv}\n#EXTINF:6,\na.ts\n";
    let p = parse(text.as_bytes(), &opts()).unwrap().presentation;
    let s = p.tracks().next().unwrap().segments.segment(0).unwrap();
    assert_eq!(s.keys[0].uri.as_deref(), Some("https://keys.example/k"));
    assert_eq!(s.keys[0].iv.map(|iv| iv[15]), Some(15));
}

#[test]
fn part_byte_ranges_continue() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PART-INF:PART-TARGET=1\n#EXT-X-PART:DURATION=1,URI=\"s100.mp4\",BYTERANGE=\"1000@0\"\n#EXT-X-PART:DURATION=1,URI=\"s100.mp4\",BYTERANGE=\"2000\"\n";
    let p = parse(text.as_bytes(), &opts()).unwrap().presentation;
    let crate::SegmentIndex::List(l) = &p.tracks().next().unwrap().segments else {
        panic!()
    };
    let parts = &l.hls.as_ref().unwrap().parts;
    assert_eq!(
        parts[1].byte_range,
        Some(crate::ByteRange {
            start: 1000,
            length: Some(2000)
        })
    );
}

#[test]
fn the_segment_in_progress_keeps_its_tags() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PART-INF:PART-TARGET=1\n#EXT-X-MEDIA-SEQUENCE:100\n#EXT-X-MAP:URI=\"init1.mp4\"\n#EXTINF:4,\ns100.mp4\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"ad-init.mp4\"\n#EXT-X-KEY:METHOD=AES-128,URI=\"k2\"\n#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:10:00Z\n#EXT-X-PART:DURATION=1,URI=\"ad101.p0.mp4\"\n";
    let p = parse(text.as_bytes(), &opts()).unwrap().presentation;
    let crate::SegmentIndex::List(l) = &p.tracks().next().unwrap().segments else {
        panic!()
    };
    let next = l.hls.as_ref().unwrap().next_segment.clone().unwrap();
    assert_eq!(next.number, 101);
    assert!(next.discontinuity);
    assert!(next.init.unwrap().url.ends_with("ad-init.mp4"));
    assert!(next.keys[0].uri.as_deref().unwrap().ends_with("k2"));
    assert!(next.program_date_time.is_some());
}

#[test]
fn key_methods_in_the_field() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-KEY:METHOD=SAMPLE-AES-CENC,URI=\"data:text/plain;base64,AAAA\",KEYFORMAT=\"urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed\"\n#EXT-X-KEY:METHOD=FUTURE-CIPHER,URI=\"k\",KEYFORMAT=\"x\"\n#EXTINF:6,\na.mp4\n";
    let parsed = parse(text.as_bytes(), &opts()).unwrap();
    let s = parsed
        .presentation
        .tracks()
        .next()
        .unwrap()
        .segments
        .segment(0)
        .unwrap();
    assert!(
        s.keys
            .iter()
            .any(|k| k.method == crate::KeyMethod::SampleAesCtr)
    );
    assert!(
        s.keys
            .iter()
            .any(|k| k.method == crate::KeyMethod::Other("FUTURE-CIPHER".into()))
    );
    assert_eq!(parsed.warnings.len(), 1);
}

#[test]
fn dateranges_of_one_id_are_one_range() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00Z\n\
        #EXT-X-DATERANGE:ID=\"ad1\",CLASS=\"x\",START-DATE=\"2024-01-01T00:00:00Z\",PLANNED-DURATION=30,SCTE35-OUT=0xFC30\n#EXTINF:6,\na.ts\n\
        #EXT-X-DATERANGE:ID=\"ad1\",DURATION=29.5,SCTE35-IN=0xFC31\n#EXTINF:6,\nb.ts\n\
        #EXT-X-DATERANGE:ID=\"orphan\",DURATION=20\n";
    let parsed = parse(
        text.as_bytes(),
        &ParseOptions {
            strictness: Strictness::Permissive,
            ..opts()
        },
    )
    .unwrap();
    let crate::SegmentIndex::List(l) = &parsed.presentation.tracks().next().unwrap().segments
    else {
        panic!()
    };
    let ranges = &l.hls.as_ref().unwrap().date_ranges;
    assert_eq!(ranges.len(), 1);
    let r = &ranges[0];
    assert_eq!(
        (r.class.as_deref(), r.duration),
        (Some("x"), Some(crate::Micros(29_500_000)))
    );
    assert!(r.scte35_out.is_some() && r.scte35_in.is_some());
    assert_eq!(
        parsed.warnings.len(),
        1,
        "the orphan without START-DATE is reported"
    );
}

#[test]
fn an_init_section_after_a_key_is_encrypted_with_it() {
    let clear = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MAP:URI=\"i.mp4\"\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\",IV=0x01\n#EXTINF:6,\na.mp4\n";
    let enc = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\",IV=0x01\n#EXT-X-MAP:URI=\"i.mp4\"\n#EXTINF:6,\na.mp4\n";
    let init = |t: &str| {
        parse(t.as_bytes(), &opts())
            .unwrap()
            .presentation
            .tracks()
            .next()
            .unwrap()
            .segments
            .segment(0)
            .unwrap()
            .init
            .unwrap()
    };
    assert!(init(clear).keys.is_empty());
    assert_eq!(init(enc).keys.len(), 1);
}

#[test]
fn imported_variables_come_from_the_options() {
    let text = "#EXTM3U\n#EXT-X-DEFINE:IMPORT=\"auth\"\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\nseg1.ts?{$auth}\n";
    let with = ParseOptions {
        variables: vec![crate::NameValue {
            name: "auth".into(),
            value: "t=1".into(),
        }],
        ..opts()
    };
    let p = parse(text.as_bytes(), &with).unwrap().presentation;
    assert!(
        p.tracks()
            .next()
            .unwrap()
            .segments
            .segment(0)
            .unwrap()
            .url
            .ends_with("seg1.ts?t=1")
    );
    assert_eq!(
        parse(text.as_bytes(), &opts()).unwrap_err().class(),
        "invalid"
    );
    let undefined = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\nseg1.ts?{$x}\n";
    assert_eq!(
        parse(undefined.as_bytes(), &opts()).unwrap().warnings.len(),
        1
    );
}

#[test]
fn line_endings() {
    for sep in ["\n", "\r\n", "\r"] {
        let text = [
            "#EXTM3U",
            "#EXT-X-TARGETDURATION:6",
            "#EXTINF:6,",
            "a.ts",
            "#EXTINF:6,",
            "b.ts",
            "#EXT-X-ENDLIST",
        ]
        .join(sep);
        let p = parse(text.as_bytes(), &opts()).unwrap().presentation;
        assert_eq!(p.segment_count(), 2, "{sep:?}");
    }
}

#[test]
fn strictness_levels() {
    let text = b"#EXTM3U\n#EXTINF:10,\na.ts\n#EXT-X-ENDLIST\n"; // no TARGETDURATION
    assert!(parse(text, &opts()).is_ok());
    let strict = ParseOptions {
        strictness: Strictness::Strict,
        ..opts()
    };
    assert!(parse(text, &strict).is_err());
    let headless = b"#EXT-X-TARGETDURATION:10\n#EXTINF:10,\na.ts\n";
    assert!(parse(headless, &opts()).is_err());
    let permissive = ParseOptions {
        strictness: Strictness::Permissive,
        ..opts()
    };
    let parsed = parse(headless, &permissive).unwrap();
    assert_eq!(parsed.warnings.len(), 1);
}

#[test]
fn hostile_numbers_and_byte_range_continuity() {
    let max = u64::MAX;
    for text in [
        format!(
            "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n#EXT-X-BYTERANGE:{max}@{max}\na.ts\n#EXTINF:4,\n#EXT-X-BYTERANGE:5\na.ts\n"
        ),
        format!(
            "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:{max}\n#EXT-X-SKIP:SKIPPED-SEGMENTS=2\n#EXTINF:4,\na.ts\n"
        ),
        format!(
            "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:{max}\n#EXTINF:4,\na.ts\n#EXT-X-PART:DURATION=1,URI=\"p.ts\"\n"
        ),
    ] {
        let _ = parse(text.as_bytes(), &opts());
    }
    let other = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n#EXT-X-BYTERANGE:100@0\na.ts\n#EXTINF:4,\n#EXT-X-BYTERANGE:100\nb.ts\n";
    assert_eq!(
        parse(other.as_bytes(), &opts()).unwrap_err().class(),
        "invalid"
    );
}

#[test]
fn parts_after_a_skip_belong_to_the_right_segment() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PART-INF:PART-TARGET=1\n#EXT-X-MEDIA-SEQUENCE:10\n#EXT-X-SKIP:SKIPPED-SEGMENTS=3\n#EXTINF:4,\ns13.ts\n#EXT-X-PART:DURATION=1,URI=\"s14.p0.ts\"\n";
    let p = parse(text.as_bytes(), &opts()).unwrap().presentation;
    let crate::SegmentIndex::List(l) = &p.tracks().next().unwrap().segments else {
        panic!()
    };
    assert_eq!(l.hls.as_ref().unwrap().parts[0].segment_number, 14);
}

#[test]
fn keys_apply_per_keyformat() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n\
        #EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://10000000-1000-1000-1000-100000000001\",KEYFORMAT=\"com.apple.streamingkeydelivery\"\n\
        #EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI=\"data:text/plain;base64,AAAA\",KEYFORMAT=\"urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed\"\n\
        #EXTINF:6,\na.mp4\n#EXT-X-KEY:METHOD=NONE\n#EXTINF:6,\nb.mp4\n";
    let p = parse(text.as_bytes(), &opts()).unwrap().presentation;
    let t = p.tracks().next().unwrap();
    let s0 = t.segments.segment(0).unwrap();
    assert_eq!(s0.keys.len(), 2);
    let fp = s0
        .keys
        .iter()
        .find(|k| k.system == crate::KeySystem::FairPlay)
        .unwrap();
    assert_eq!(
        fp.kid.map(|k| k.to_string()).as_deref(),
        Some("10000000-1000-1000-1000-100000000001")
    );
    assert!(t.segments.segment(1).unwrap().keys.is_empty());
    assert!(p.live.is_some());
}
