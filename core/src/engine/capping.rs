//! Which tracks the device may play: the host's [`Capabilities`] applied to one track, and
//! the viewport cap applied to a whole ladder.

use crate::model::{SegmentIndex, SwitchingSet, Track, VideoRange};

use super::config::{Capabilities, HdcpLevel};

/// The track's media is encrypted: content protection on it or its set, or HLS keys.
pub(super) fn protected(set: &SwitchingSet, t: &Track) -> bool {
    !set.protection.is_empty()
        || !t.protection.is_empty()
        || matches!(&t.segments, SegmentIndex::List(l) if l.key_sets().iter().any(|k| !k.is_empty()))
}

/// Tracks of `set` that pass every limit concerning them alone (the viewport is a ladder
/// rule: see [`viewport_cap`]).
pub(super) fn playable_in(
    set: &SwitchingSet,
    caps: &Capabilities,
    banned: &[String],
) -> Vec<usize> {
    (0..set.tracks.len())
        .filter(|&i| {
            let t = &set.tracks[i];
            playable(t, caps, banned)
                && caps
                    .software_drm_max_height
                    .is_none_or(|m| !protected(set, t) || t.height.is_none_or(|h| h <= m))
        })
        .collect()
}

/// The track passes the limits that concern it alone, DRM aside (see [`playable_in`]).
pub(super) fn playable(t: &Track, caps: &Capabilities, banned: &[String]) -> bool {
    !banned.contains(&t.id)
        && caps
            .max_width
            .is_none_or(|m| t.width.is_none_or(|w| w <= m))
        && caps
            .max_height
            .is_none_or(|m| t.height.is_none_or(|h| h <= m))
        && caps.max_bandwidth.is_none_or(|m| t.bandwidth <= m)
        && caps.max_frame_rate.is_none_or(|m| {
            t.frame_rate.is_none_or(|f| {
                // f <= m, cross-multiplied (denominators are never zero).
                u64::from(f.num) * u64::from(m.den) <= u64::from(m.num) * u64::from(f.den)
            })
        })
        && (caps.codecs.is_empty()
            || t.codecs.as_deref().is_none_or(|cs| {
                cs.split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .all(|c| caps.codecs.iter().any(|p| codec_supported(c, p)))
            }))
        && (caps.video_ranges.is_empty()
            || caps
                .video_ranges
                .contains(&t.video_range.unwrap_or(VideoRange::Sdr)))
        && caps
            .hdcp
            .is_none_or(|have| hdcp_needed(t.hdcp_level.as_deref()) <= have)
}

/// HDCP a track's HLS `HDCP-LEVEL` asks for.
fn hdcp_needed(level: Option<&str>) -> HdcpLevel {
    match level.map(str::trim) {
        Some(l) if l.eq_ignore_ascii_case("TYPE-1") => HdcpLevel::Type1,
        Some(l) if l.eq_ignore_ascii_case("TYPE-0") => HdcpLevel::Type0,
        _ => HdcpLevel::None,
    }
}

/// The codec family, with the sample-entry aliases folded (`avc3` is `avc1`, `hev1` is
/// `hvc1`, `dvhe` is `dvh1`).
fn family(codec: &str) -> String {
    let f = codec.split('.').next().unwrap_or("").to_ascii_lowercase();
    match f.as_str() {
        "avc3" => "avc1".into(),
        "hev1" => "hvc1".into(),
        "dvhe" => "dvh1".into(),
        _ => f,
    }
}

/// (profile, level) of an RFC 6381 video codec string, when it names them.
fn profile_level(codec: &str) -> Option<(u32, u32)> {
    let mut parts = codec.split('.');
    let f = family(parts.next()?);
    match f.as_str() {
        // avc1.PPCCLL: profile_idc, constraint flags, level_idc (hex).
        "avc1" => {
            let p = parts.next()?;
            if p.len() != 6 {
                return None;
            }
            let profile = u32::from_str_radix(p.get(0..2)?, 16).ok()?;
            let level = u32::from_str_radix(p.get(4..6)?, 16).ok()?;
            Some((profile, level))
        }
        // hvc1.[A-C]?P.compat.[LH]level(.constraints): level is 30 x the level number.
        "hvc1" => {
            let p = parts.next()?;
            let profile = p
                .trim_start_matches(['A', 'B', 'C', 'a', 'b', 'c'])
                .parse()
                .ok()?;
            let _compat = parts.next()?;
            let l = parts.next()?;
            let level = l.strip_prefix(['L', 'H'])?.parse().ok()?;
            Some((profile, level))
        }
        // av01.P.LLT.DD and vp09.PP.LL.DD.
        "av01" => {
            let profile = parts.next()?.parse().ok()?;
            let l = parts.next()?;
            let level = l.get(0..2)?.parse().ok()?;
            Some((profile, level))
        }
        "vp09" => {
            let profile = parts.next()?.parse().ok()?;
            let level = parts.next()?.parse().ok()?;
            Some((profile, level))
        }
        _ => None,
    }
}

/// The track's codec `c` is covered by the capability entry `entry`: a bare family
/// (`avc1`), a family with a profile and highest level (`avc1.640028`), or any other
/// prefix (`mp4a.40`).
pub(super) fn codec_supported(c: &str, entry: &str) -> bool {
    let entry = entry.trim();
    if entry.is_empty() {
        return false;
    }
    if !entry.contains('.') {
        return family(c) == family(entry);
    }
    match (profile_level(c), profile_level(entry)) {
        (Some((cp, cl)), Some((ep, el))) => {
            // A decoder of a profile decodes the profiles below it (Main in High, Main in
            // Main 10), up to its level.
            family(c) == family(entry) && cp <= ep && cl <= el
        }
        (None, Some(_)) => {
            // A bare family on the track (`avc1`): the device decodes some of it.
            family(c) == family(entry) && !c.contains('.')
        }
        _ => c
            .to_ascii_lowercase()
            .starts_with(&entry.to_ascii_lowercase()),
    }
}

/// The viewport cap (hls.js `capLevelToPlayerSize`): of `sizes` (width, height), the
/// smallest that covers the viewport; tracks larger than it are not needed. `None` when no
/// track covers it (then every size is allowed).
pub(super) fn viewport_cap(
    sizes: impl Iterator<Item = (u32, u32)>,
    viewport: (u32, u32),
) -> Option<(u32, u32)> {
    sizes
        .filter(|&(w, h)| w >= viewport.0 && h >= viewport.1)
        .min_by_key(|&(w, h)| (u64::from(w) * u64::from(h), h))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{ContentProtection, ContentType};
    use crate::time::FrameRate;

    #[test]
    fn codec_entries_name_families_or_profile_and_highest_level() {
        assert!(codec_supported("avc1.4d401f", "avc1"));
        assert!(codec_supported("avc3.4d401f", "avc1"));
        assert!(!codec_supported("hvc1.1.6.L93.B0", "avc1"));
        // High 4.0 decodes Main 3.1 and High 4.0, not High 5.1.
        assert!(codec_supported("avc1.4d401f", "avc1.640028"));
        assert!(codec_supported("avc1.640028", "avc1.640028"));
        assert!(!codec_supported("avc1.640033", "avc1.640028"));
        // HEVC Main 10 up to 5.1 (L153): Main 4.1 yes, level 6.1 (L183) no.
        assert!(codec_supported("hev1.1.6.L123.B0", "hvc1.2.4.L153"));
        assert!(!codec_supported("hvc1.2.4.L183.B0", "hvc1.2.4.L153"));
        assert!(codec_supported("mp4a.40.2", "mp4a"));
        assert!(codec_supported("mp4a.40.2", "mp4a.40"));
        assert!(!codec_supported("ec-3", "mp4a"));
        assert!(codec_supported("opus", "Opus"));
        assert!(codec_supported("mp4a.6b", "mp4a.6B"));
        assert!(codec_supported("avc1.64001F", "avc1.64002a"));
    }

    #[test]
    fn each_limit_removes_the_tracks_beyond_it() {
        let mut base = Track::new("v".into(), SegmentIndex::Unloaded);
        base.bandwidth = 5_000_000;
        base.width = Some(1920);
        base.height = Some(1080);
        base.frame_rate = FrameRate::parse("60");
        base.codecs = Some("hvc1.2.4.L123.B0".into());
        base.video_range = Some(VideoRange::Pq);
        base.hdcp_level = Some("TYPE-1".into());
        let all = Capabilities::default();
        assert!(playable(&base, &all, &[]));
        assert!(!playable(&base, &all, &["v".into()]));
        let limits = [
            Capabilities {
                max_width: Some(1280),
                ..all.clone()
            },
            Capabilities {
                max_height: Some(720),
                ..all.clone()
            },
            Capabilities {
                max_bandwidth: Some(4_000_000),
                ..all.clone()
            },
            Capabilities {
                max_frame_rate: FrameRate::parse("30000/1001"),
                ..all.clone()
            },
            Capabilities {
                codecs: vec!["avc1".into()],
                ..all.clone()
            },
            Capabilities {
                video_ranges: vec![VideoRange::Sdr, VideoRange::Hlg],
                ..all.clone()
            },
            Capabilities {
                hdcp: Some(HdcpLevel::Type0),
                ..all.clone()
            },
        ];
        for caps in &limits {
            assert!(!playable(&base, caps, &[]), "{caps:?}");
        }
        // Each limit set at the track's own value keeps it.
        let at = Capabilities {
            max_width: Some(1920),
            max_height: Some(1080),
            max_bandwidth: Some(5_000_000),
            max_frame_rate: FrameRate::parse("60"),
            codecs: vec!["hvc1.2.4.L123".into()],
            video_ranges: vec![VideoRange::Pq],
            hdcp: Some(HdcpLevel::Type1),
            viewport: None,
            software_drm_max_height: Some(720),
        };
        assert!(playable(&base, &at, &[]));
        // Software DRM: only protected tracks taller than the limit go.
        let mut set = SwitchingSet::new(ContentType::Video);
        set.tracks = vec![base.clone()];
        assert_eq!(playable_in(&set, &at, &[]), vec![0]);
        set.protection = vec![ContentProtection::new(
            "urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed",
        )];
        assert!(playable_in(&set, &at, &[]).is_empty());
        let hardware = Capabilities {
            software_drm_max_height: None,
            ..at
        };
        assert_eq!(playable_in(&set, &hardware, &[]), vec![0]);
    }

    #[test]
    fn the_viewport_keeps_the_smallest_track_that_covers_it() {
        let sizes = [(640, 360), (1280, 720), (1920, 1080), (3840, 2160)];
        assert_eq!(
            viewport_cap(sizes.iter().copied(), (1000, 560)),
            Some((1280, 720))
        );
        assert_eq!(
            viewport_cap(sizes.iter().copied(), (1280, 720)),
            Some((1280, 720))
        );
        assert_eq!(viewport_cap(sizes.iter().copied(), (5000, 3000)), None);
    }
}
