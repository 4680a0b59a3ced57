//! Built-in device profiles: sourced [`Capabilities`] for common TVs, sticks and phones.
//!
//! The profiles live in `core/data/devices.profiles`, embedded at build time. The file is
//! a small line format documented at its top:
//!
//! ```text
//! [chromecast-3]
//! name = Google Chromecast, 3rd generation  # source: https://developers.google.com/cast/docs/media
//! max_height = 1080  # source: developers.google.com/cast/docs/media: 1080p/60fps
//! codecs = avc1.64002A, mp4a.40.2  # source: ...
//! ```
//!
//! Every value line must say where its value comes from (`# source: ...`); the parser
//! rejects one that does not, so an unsourced number cannot slip into the table. A key a
//! profile leaves out means "no limit known", exactly as in [`Capabilities`].
//!
//! ```
//! use playhead::engine::device_profile;
//!
//! let caps = device_profile("chromecast-3").unwrap();
//! assert_eq!(caps.max_height, Some(1080));
//! assert!(device_profile("no-such-device").is_none());
//! ```

use crate::model::VideoRange;
use crate::time::FrameRate;

use super::config::{Capabilities, HdcpLevel};

/// The embedded profile table.
const DEVICES: &str = include_str!("../../data/devices.profiles");

/// What introduces a value's source on a value line.
const SOURCE_MARK: &str = "# source:";

/// One named device profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceProfile {
    /// The section id (`tizen-2018`), lower-case letters, digits and `-`.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// The limits to hand the engine.
    pub capabilities: Capabilities,
    /// `(key, source)` for every value line, in file order (`name` included).
    pub sources: Vec<(String, String)>,
}

/// A profile text that does not follow the format; `line` counts from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// A key the format does not define.
    #[error("line {line}: unknown key `{key}`")]
    UnknownKey {
        /// Line number.
        line: usize,
        /// The key as written.
        key: String,
    },
    /// A value the key cannot take.
    #[error("line {line}: bad value `{value}` for `{key}`: {reason}")]
    BadValue {
        /// Line number.
        line: usize,
        /// The key.
        key: String,
        /// The value as written.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A value line without `# source: ...` (or with nothing after it).
    #[error("line {line}: value of `{key}` has no `# source:`")]
    MissingSource {
        /// Line number.
        line: usize,
        /// The key.
        key: String,
    },
    /// The same key twice in one profile.
    #[error("line {line}: `{key}` already set in this profile")]
    DuplicateKey {
        /// Line number of the second occurrence.
        line: usize,
        /// The key.
        key: String,
    },
    /// A value line before the first `[id]`.
    #[error("line {line}: value outside a `[profile]` section")]
    OutsideSection {
        /// Line number.
        line: usize,
    },
    /// Two sections with the same id.
    #[error("line {line}: profile `{id}` defined twice")]
    DuplicateProfile {
        /// Line number of the second header.
        line: usize,
        /// The id.
        id: String,
    },
    /// A `[...]` header whose id is empty or uses other characters than `a-z`, `0-9`, `-`.
    #[error("line {line}: bad section header `{header}`")]
    BadSection {
        /// Line number.
        line: usize,
        /// The header as written.
        header: String,
    },
    /// A line that is neither a comment, a header nor `key = value`.
    #[error("line {line}: expected `[id]`, `key = value  # source: ...` or a comment")]
    Malformed {
        /// Line number.
        line: usize,
    },
    /// A profile without a `name`.
    #[error("line {line}: profile `{id}` has no `name`")]
    MissingName {
        /// Line number of the profile's header.
        line: usize,
        /// The id.
        id: String,
    },
}

/// The built-in profiles, parsed from the embedded `devices.profiles`.
pub fn device_profiles() -> Result<Vec<DeviceProfile>, ProfileError> {
    parse_profiles(DEVICES)
}

/// The capabilities of one built-in profile; `None` for an unknown id (or, which the
/// tests rule out, an embedded table that does not parse).
pub fn device_profile(id: &str) -> Option<Capabilities> {
    device_profiles()
        .ok()?
        .into_iter()
        .find(|p| p.id == id)
        .map(|p| p.capabilities)
}

/// A profile being read: the finished part plus where its header was.
struct Open {
    header_line: usize,
    id: String,
    name: Option<String>,
    capabilities: Capabilities,
    sources: Vec<(String, String)>,
}

impl Open {
    fn finish(self) -> Result<DeviceProfile, ProfileError> {
        let Some(name) = self.name else {
            return Err(ProfileError::MissingName {
                line: self.header_line,
                id: self.id,
            });
        };
        Ok(DeviceProfile {
            id: self.id,
            name,
            capabilities: self.capabilities,
            sources: self.sources,
        })
    }
}

/// Parses profile text in the `devices.profiles` format (see the module docs).
pub fn parse_profiles(text: &str) -> Result<Vec<DeviceProfile>, ProfileError> {
    let mut done: Vec<DeviceProfile> = Vec::new();
    let mut open: Option<Open> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix('[') {
            let id = section_id(rest).ok_or_else(|| ProfileError::BadSection {
                line,
                header: trimmed.to_string(),
            })?;
            if let Some(profile) = open.take() {
                done.push(profile.finish()?);
            }
            if done.iter().any(|p| p.id == id) {
                return Err(ProfileError::DuplicateProfile {
                    line,
                    id: id.to_string(),
                });
            }
            open = Some(Open {
                header_line: line,
                id: id.to_string(),
                name: None,
                capabilities: Capabilities::default(),
                sources: Vec::new(),
            });
            continue;
        }
        let Some((key, rest)) = trimmed.split_once('=') else {
            return Err(ProfileError::Malformed { line });
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(ProfileError::Malformed { line });
        }
        let Some(profile) = open.as_mut() else {
            return Err(ProfileError::OutsideSection { line });
        };
        let (value, source) = split_source(rest).ok_or_else(|| ProfileError::MissingSource {
            line,
            key: key.to_string(),
        })?;
        if value.contains('#') {
            return Err(bad(line, key, value, "a value cannot contain `#`"));
        }
        if profile.sources.iter().any(|(k, _)| k == key) {
            return Err(ProfileError::DuplicateKey {
                line,
                key: key.to_string(),
            });
        }
        apply(profile, line, key, value)?;
        profile.sources.push((key.to_string(), source.to_string()));
    }
    if let Some(profile) = open.take() {
        done.push(profile.finish()?);
    }
    Ok(done)
}

/// The id of a header whose text after `[` is `rest`; `None` when malformed.
fn section_id(rest: &str) -> Option<&str> {
    let id = rest.strip_suffix(']')?;
    let valid = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    valid.then_some(id)
}

/// Splits the text after `=` into the value and its source, both trimmed; `None` when
/// the source mark is missing or nothing follows it.
fn split_source(rest: &str) -> Option<(&str, &str)> {
    let at = rest.find(SOURCE_MARK)?;
    let value = rest[..at].trim();
    let source = rest[at + SOURCE_MARK.len()..].trim();
    (!source.is_empty()).then_some((value, source))
}

fn bad(line: usize, key: &str, value: &str, reason: &'static str) -> ProfileError {
    ProfileError::BadValue {
        line,
        key: key.to_string(),
        value: value.to_string(),
        reason,
    }
}

/// Sets `key` on the profile from `value`, or says why it cannot.
fn apply(profile: &mut Open, line: usize, key: &str, value: &str) -> Result<(), ProfileError> {
    let caps = &mut profile.capabilities;
    match key {
        "name" => {
            if value.is_empty() {
                return Err(bad(line, key, value, "a name cannot be empty"));
            }
            profile.name = Some(value.to_string());
        }
        "max_width" => caps.max_width = Some(positive_u32(line, key, value)?),
        "max_height" => caps.max_height = Some(positive_u32(line, key, value)?),
        "software_drm_max_height" => {
            caps.software_drm_max_height = Some(positive_u32(line, key, value)?);
        }
        "max_bandwidth" => {
            let n = digits(value)
                .and_then(|d| d.parse::<u64>().ok())
                .filter(|&n| n > 0)
                .ok_or_else(|| bad(line, key, value, "expected a positive whole number"))?;
            caps.max_bandwidth = Some(n);
        }
        "max_frame_rate" => {
            let rate = FrameRate::parse(value)
                .filter(|r| r.num > 0)
                .ok_or_else(|| bad(line, key, value, "expected `60`, `30000/1001` or `29.97`"))?;
            caps.max_frame_rate = Some(rate);
        }
        "codecs" => caps.codecs = codec_list(line, key, value)?,
        "video_ranges" => {
            let mut ranges = Vec::new();
            for item in list(line, key, value)? {
                let range = match item {
                    "sdr" => VideoRange::Sdr,
                    "pq" => VideoRange::Pq,
                    "hlg" => VideoRange::Hlg,
                    _ => return Err(bad(line, key, value, "ranges are `sdr`, `pq` and `hlg`")),
                };
                if ranges.contains(&range) {
                    return Err(bad(line, key, value, "a range is listed twice"));
                }
                ranges.push(range);
            }
            caps.video_ranges = ranges;
        }
        "hdcp" => {
            caps.hdcp = Some(match value {
                "none" => HdcpLevel::None,
                "type-0" => HdcpLevel::Type0,
                "type-1" => HdcpLevel::Type1,
                _ => {
                    return Err(bad(
                        line,
                        key,
                        value,
                        "expected `none`, `type-0` or `type-1`",
                    ));
                }
            });
        }
        _ => {
            return Err(ProfileError::UnknownKey {
                line,
                key: key.to_string(),
            });
        }
    }
    Ok(())
}

/// `value` when it is one or more ASCII digits.
fn digits(value: &str) -> Option<&str> {
    (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit())).then_some(value)
}

fn positive_u32(line: usize, key: &str, value: &str) -> Result<u32, ProfileError> {
    digits(value)
        .and_then(|d| d.parse::<u32>().ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| bad(line, key, value, "expected a positive whole number"))
}

/// The comma-separated items of `value`, trimmed; none may be empty.
fn list<'a>(line: usize, key: &str, value: &'a str) -> Result<Vec<&'a str>, ProfileError> {
    let items: Vec<&str> = value.split(',').map(str::trim).collect();
    if items.iter().any(|i| i.is_empty()) {
        return Err(bad(line, key, value, "empty item in the list"));
    }
    Ok(items)
}

fn codec_list(line: usize, key: &str, value: &str) -> Result<Vec<String>, ProfileError> {
    let mut codecs: Vec<String> = Vec::new();
    for item in list(line, key, value)? {
        let valid = item
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_');
        if !valid {
            return Err(bad(
                line,
                key,
                value,
                "a codec is letters, digits, `.`, `-` and `_` (RFC 6381)",
            ));
        }
        if codecs.iter().any(|c| c == item) {
            return Err(bad(line, key, value, "a codec is listed twice"));
        }
        codecs.push(item.to_string());
    }
    Ok(codecs)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn profiles() -> Vec<DeviceProfile> {
        device_profiles().expect("the embedded devices.profiles parses")
    }

    fn err(text: &str) -> ProfileError {
        parse_profiles(text).expect_err("the text is rejected")
    }

    #[test]
    fn embedded_file_parses() {
        let all = profiles();
        assert!(all.len() >= 15, "{} profiles", all.len());
        for id in [
            "tizen-2017",
            "tizen-2018",
            "tizen-2019",
            "tizen-2020",
            "tizen-2021",
            "tizen-2023",
            "webos-2019",
            "webos-2022",
            "webos-2023",
            "chromecast-2",
            "chromecast-3",
            "chromecast-ultra",
            "chromecast-google-tv",
            "android-tv",
            "android-tv-4k",
            "android-phone",
            "iphone",
            "apple-tv-hd",
            "apple-tv-4k",
        ] {
            assert!(device_profile(id).is_some(), "{id}");
        }
    }

    #[test]
    fn every_profile_has_name_height_and_codecs() {
        for p in profiles() {
            assert!(!p.name.is_empty(), "{}", p.id);
            assert!(p.capabilities.max_height.is_some(), "{}: max_height", p.id);
            assert!(!p.capabilities.codecs.is_empty(), "{}: codecs", p.id);
            // Profiles describe the device, never the app's player size.
            assert_eq!(p.capabilities.viewport, None, "{}", p.id);
        }
    }

    #[test]
    fn every_value_has_a_source() {
        for p in profiles() {
            assert!(p.sources.iter().any(|(k, _)| k == "name"), "{}", p.id);
            for (key, source) in &p.sources {
                assert!(source.len() >= 10, "{}.{key}: source `{source}`", p.id);
            }
            let c = &p.capabilities;
            let set = [
                ("max_width", c.max_width.is_some()),
                ("max_height", c.max_height.is_some()),
                ("max_bandwidth", c.max_bandwidth.is_some()),
                ("max_frame_rate", c.max_frame_rate.is_some()),
                ("codecs", !c.codecs.is_empty()),
                ("video_ranges", !c.video_ranges.is_empty()),
                ("hdcp", c.hdcp.is_some()),
                (
                    "software_drm_max_height",
                    c.software_drm_max_height.is_some(),
                ),
            ];
            for (key, is_set) in set {
                let sourced = p.sources.iter().any(|(k, _)| k == key);
                assert_eq!(is_set, sourced, "{}.{key}", p.id);
            }
        }
    }

    #[test]
    fn values_are_plausible() {
        for p in profiles() {
            let c = &p.capabilities;
            // Nothing here allows more than 8K, 120 fps or 200 Mbit/s.
            assert!(c.max_width.is_none_or(|w| w <= 7680), "{}", p.id);
            assert!(c.max_height.is_none_or(|h| h <= 4320), "{}", p.id);
            assert!(
                c.max_frame_rate
                    .is_none_or(|r| u64::from(r.num) <= 120 * u64::from(r.den)),
                "{}",
                p.id
            );
            assert!(c.max_bandwidth.is_none_or(|b| b <= 200_000_000), "{}", p.id);
            // Software DRM limits sit below the decoder's own limit.
            if let (Some(drm), Some(h)) = (c.software_drm_max_height, c.max_height) {
                assert!(drm <= h, "{}", p.id);
            }
            // A profile listing ranges always includes SDR.
            assert!(
                c.video_ranges.is_empty() || c.video_ranges.contains(&VideoRange::Sdr),
                "{}",
                p.id
            );
            // Tracks need audio too: every profile names an AAC entry.
            assert!(
                c.codecs.iter().any(|codec| codec.starts_with("mp4a")),
                "{}",
                p.id
            );
        }
    }

    #[test]
    fn documented_maxima_hold() {
        // Samsung's 2016-2020 UHD tables: 4096x2160, H.264 at 60 Mbit/s, 60 fps.
        for id in ["tizen-2017", "tizen-2018", "tizen-2019", "tizen-2020"] {
            let c = device_profile(id).unwrap();
            assert!(c.max_width.unwrap() <= 4096, "{id}");
            assert!(c.max_height.unwrap() <= 2160, "{id}");
            assert!(c.max_bandwidth.unwrap() <= 60_000_000, "{id}");
            assert_eq!(
                c.max_frame_rate,
                Some(FrameRate { num: 60, den: 1 }),
                "{id}"
            );
        }
        // 2017 cannot name audio that 2016 or 2018 lacks (AC-4 and Opus came in 2018).
        let c2017 = device_profile("tizen-2017").unwrap();
        assert!(!c2017.codecs.iter().any(|c| c == "ac-4" || c == "Opus"));
        // Google's Cast page: the 2nd generation stops at H.264 High 4.1 and 1080p.
        let cc2 = device_profile("chromecast-2").unwrap();
        assert_eq!(cc2.max_height, Some(1080));
        assert!(cc2.codecs.iter().any(|c| c == "avc1.640029"));
        assert!(!cc2.codecs.iter().any(|c| c.starts_with("hvc1")));
        // Chromecast Ultra: the lower of the page's two H.264 levels (4.2, not 5.2).
        let ultra = device_profile("chromecast-ultra").unwrap();
        assert!(ultra.codecs.iter().any(|c| c == "avc1.64002A"));
        assert!(!ultra.codecs.iter().any(|c| c == "avc1.640034"));
        // Apple's HLS authoring spec: H.264 at most High 4.2, HEVC at most Level 5.0.
        let iphone = device_profile("iphone").unwrap();
        assert!(iphone.codecs.iter().any(|c| c == "avc1.64002A"));
        assert!(iphone.codecs.iter().all(|c| !c.ends_with("L153")));
        // The HD Apple TV has HDMI 1.4: no HDCP 2.2.
        assert_eq!(
            device_profile("apple-tv-hd").unwrap().hdcp,
            Some(HdcpLevel::Type0)
        );
        // Software DRM only on the Android baselines.
        for p in profiles() {
            let expect = matches!(p.id.as_str(), "android-tv" | "android-phone");
            assert_eq!(
                p.capabilities.software_drm_max_height.is_some(),
                expect,
                "{}",
                p.id
            );
        }
    }

    #[test]
    fn parses_every_key() {
        let text = "\
# a comment

[test-1]
name = Test device  # source: made up for the test
max_width = 1920  # source: a
max_height = 1080  # source: b
max_bandwidth = 8000000  # source: c
max_frame_rate = 30000/1001  # source: d
codecs = avc1.640028, mp4a  # source: e
video_ranges = sdr, hlg  # source: f
hdcp = type-1  # source: g
software_drm_max_height = 540  # source: h, with # inside is fine
[test-2]
name = Second  # source: x
";
        let all = parse_profiles(text).unwrap();
        assert_eq!(all.len(), 2);
        let p = &all[0];
        assert_eq!(p.id, "test-1");
        assert_eq!(p.name, "Test device");
        let c = &p.capabilities;
        assert_eq!(c.max_width, Some(1920));
        assert_eq!(c.max_height, Some(1080));
        assert_eq!(c.max_bandwidth, Some(8_000_000));
        assert_eq!(
            c.max_frame_rate,
            Some(FrameRate {
                num: 30000,
                den: 1001
            })
        );
        assert_eq!(c.codecs, ["avc1.640028", "mp4a"]);
        assert_eq!(c.video_ranges, [VideoRange::Sdr, VideoRange::Hlg]);
        assert_eq!(c.hdcp, Some(HdcpLevel::Type1));
        assert_eq!(c.software_drm_max_height, Some(540));
        assert_eq!(c.viewport, None);
        assert_eq!(p.sources.len(), 9);
        assert_eq!(
            p.sources[8],
            (
                "software_drm_max_height".to_string(),
                "h, with # inside is fine".to_string()
            )
        );
        assert_eq!(all[1].capabilities, Capabilities::default());
        assert_eq!(parse_profiles("").unwrap(), []);
    }

    #[test]
    fn each_error_has_its_line() {
        assert_eq!(
            err("[a]\nname = A  # source: s\ncolour = red  # source: s\n"),
            ProfileError::UnknownKey {
                line: 3,
                key: "colour".into()
            }
        );
        assert!(matches!(
            err("[a]\nname = A  # source: s\nmax_height = tall  # source: s\n"),
            ProfileError::BadValue { line: 3, ref key, .. } if key == "max_height"
        ));
        assert_eq!(
            err("[a]\nname = A\n"),
            ProfileError::MissingSource {
                line: 2,
                key: "name".into()
            }
        );
        assert_eq!(
            err("[a]\nname = A  # source:   \n"),
            ProfileError::MissingSource {
                line: 2,
                key: "name".into()
            }
        );
        assert_eq!(
            err("[a]\nname = A  # source: s\nname = B  # source: s\n"),
            ProfileError::DuplicateKey {
                line: 3,
                key: "name".into()
            }
        );
        assert_eq!(
            err("# header\nname = A  # source: s\n"),
            ProfileError::OutsideSection { line: 2 }
        );
        assert_eq!(
            err("[a]\nname = A  # source: s\n\n[a]\nname = B  # source: s\n"),
            ProfileError::DuplicateProfile {
                line: 4,
                id: "a".into()
            }
        );
        assert_eq!(
            err("[Not Valid]\n"),
            ProfileError::BadSection {
                line: 1,
                header: "[Not Valid]".into()
            }
        );
        assert_eq!(
            err("[a]\nname = A  # source: s\njust words\n"),
            ProfileError::Malformed { line: 3 }
        );
        assert_eq!(
            err("[a]\nmax_height = 720  # source: s\n[b]\nname = B  # source: s\n"),
            ProfileError::MissingName {
                line: 1,
                id: "a".into()
            }
        );
        // The message names the line.
        assert!(err("[a]\nname = A\n").to_string().starts_with("line 2:"));
    }

    #[test]
    fn bad_values_are_rejected() {
        for (key, value) in [
            ("max_width", "0"),
            ("max_width", "-5"),
            ("max_width", "1920.5"),
            ("max_height", "99999999999"),
            ("max_bandwidth", "1e6"),
            ("max_bandwidth", "0"),
            ("max_frame_rate", "0"),
            ("max_frame_rate", "60/0"),
            ("max_frame_rate", "fast"),
            ("codecs", ""),
            ("codecs", "avc1,,mp4a"),
            ("codecs", "avc1 high"),
            ("codecs", "mp4a, mp4a"),
            ("video_ranges", "hdr10"),
            ("video_ranges", "sdr, sdr"),
            ("hdcp", "2.2"),
            ("name", ""),
            ("software_drm_max_height", "sd"),
        ] {
            let text = format!("[a]\n{key} = {value}  # source: s\n");
            assert!(
                matches!(
                    parse_profiles(&text),
                    Err(ProfileError::BadValue { line: 2, .. })
                ),
                "{key} = {value}"
            );
        }
    }
}
