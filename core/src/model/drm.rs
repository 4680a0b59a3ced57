//! DRM signalling as the manifest carries it: key systems, default KIDs, PSSH and PlayReady
//! header bytes, HLS keys. The license flow itself belongs to the DRM module.

use super::Bytes;

/// A DRM key system, identified by its DASH/CENC system id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum KeySystem {
    /// Widevine: edef8ba9-79d6-4ace-a3c8-27dcd51d21ed.
    Widevine,
    /// PlayReady: 9a04f079-9840-4286-ab92-e65be0885f95.
    PlayReady,
    /// FairPlay: 94ce86fb-07ff-4f43-adb8-93d2fa968ca2.
    FairPlay,
    /// W3C ClearKey: e2719d58-a985-b3c9-781a-b030af78d30e.
    ClearKey,
    /// W3C common PSSH: 1077efec-c0b2-4d02-ace3-3c1e52e2fb4b.
    CommonPssh,
    /// `urn:mpeg:dash:mp4protection:2011`: the scheme signal, not a key system.
    Mp4Protection,
    /// HLS `KEYFORMAT="identity"` (AES-128 with a key from the URI).
    Identity,
    /// Anything else: the scheme URI or KEYFORMAT as written (lowercased).
    Other(String),
}

impl std::fmt::Display for KeySystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeySystem::Widevine => "widevine",
            KeySystem::PlayReady => "playready",
            KeySystem::FairPlay => "fairplay",
            KeySystem::ClearKey => "clearkey",
            KeySystem::CommonPssh => "common-pssh",
            KeySystem::Mp4Protection => "mp4protection",
            KeySystem::Identity => "identity",
            KeySystem::Other(s) => s,
        })
    }
}

impl KeySystem {
    /// The EME key system name (`com.widevine.alpha`, `com.microsoft.playready`,
    /// `com.apple.fps`, `org.w3.clearkey`), for the systems a CDM implements.
    pub fn eme_name(&self) -> Option<&'static str> {
        Some(match self {
            KeySystem::Widevine => "com.widevine.alpha",
            KeySystem::PlayReady => "com.microsoft.playready",
            KeySystem::FairPlay => "com.apple.fps",
            KeySystem::ClearKey => "org.w3.clearkey",
            _ => return None,
        })
    }

    /// The system id as a lowercase UUID, when the system has one.
    pub fn system_id(&self) -> Option<&'static str> {
        Some(match self {
            KeySystem::Widevine => "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed",
            KeySystem::PlayReady => "9a04f079-9840-4286-ab92-e65be0885f95",
            KeySystem::FairPlay => "94ce86fb-07ff-4f43-adb8-93d2fa968ca2",
            KeySystem::ClearKey => "e2719d58-a985-b3c9-781a-b030af78d30e",
            KeySystem::CommonPssh => "1077efec-c0b2-4d02-ace3-3c1e52e2fb4b",
            _ => return None,
        })
    }

    /// Identifies a system from a DASH `@schemeIdUri` (`urn:uuid:...`) or an HLS `KEYFORMAT`.
    pub fn from_scheme(scheme: &str) -> KeySystem {
        let s = scheme.trim().to_ascii_lowercase();
        let uuid = s.strip_prefix("urn:uuid:").unwrap_or(&s);
        match uuid {
            "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed" | "com.widevine.alpha" => KeySystem::Widevine,
            "9a04f079-9840-4286-ab92-e65be0885f95"
            | "79f0049a-4098-8642-ab92-e65be0885f95"
            | "com.microsoft.playready" => KeySystem::PlayReady,
            "94ce86fb-07ff-4f43-adb8-93d2fa968ca2"
            | "com.apple.streamingkeydelivery"
            | "com.apple.fps"
            | "com.apple.fps.1_0" => KeySystem::FairPlay,
            "e2719d58-a985-b3c9-781a-b030af78d30e" | "org.w3.clearkey" => KeySystem::ClearKey,
            "1077efec-c0b2-4d02-ace3-3c1e52e2fb4b" => KeySystem::CommonPssh,
            "urn:mpeg:dash:mp4protection:2011" => KeySystem::Mp4Protection,
            "identity" => KeySystem::Identity,
            _ => KeySystem::Other(s),
        }
    }
}

/// A 16-byte key id (printed as a UUID).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Kid(pub [u8; 16]);

impl Kid {
    /// Reads `01234567-89ab-cdef-0123-456789abcdef` or 32 hex digits (optionally `0x`).
    pub fn parse(text: &str) -> Option<Kid> {
        let t = text.trim();
        let t = t
            .strip_prefix("0x")
            .or_else(|| t.strip_prefix("0X"))
            .unwrap_or(t);
        let digits: String = t.chars().filter(|c| *c != '-').collect();
        let bytes = crate::text::hex_decode(&digits)?;
        <[u8; 16]>::try_from(bytes).ok().map(Kid)
    }

    /// From a PlayReady little-endian GUID (the first three fields byte-swapped).
    pub fn from_guid_le(b: [u8; 16]) -> Kid {
        let mut o = b;
        o[0..4].reverse();
        o[4..6].reverse();
        o[6..8].reverse();
        Kid(o)
    }
}

impl std::fmt::Display for Kid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for Kid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kid({self})")
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Kid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Kid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Kid, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Kid::parse(&text).ok_or_else(|| serde::de::Error::custom("not a key id"))
    }
}

/// A DASH `ContentProtection` (or Smooth `ProtectionHeader`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ContentProtection {
    /// The key system.
    pub system: KeySystem,
    /// `@schemeIdUri` as written.
    pub scheme_id_uri: String,
    /// `@value` (`cenc`, `cbcs`, a version).
    pub value: Option<String>,
    /// `cenc:default_KID`s.
    pub default_kids: Vec<Kid>,
    /// `cenc:pssh` box bytes (base64 decoded).
    pub pssh: Option<Bytes>,
    /// PlayReady header object bytes (`mspr:pro` or Smooth `ProtectionHeader`).
    pub playready_header: Option<Bytes>,
    /// License server URL from the manifest (`dashif:Laurl`, `ms:laurl`, `clearkey:Laurl`).
    pub license_url: Option<String>,
    /// `@robustness` (DASH-IF).
    pub robustness: Option<String>,
    /// `@ref` / `@refId` linking (DASH 5th edition), as written.
    pub ref_id: Option<String>,
}

impl ContentProtection {
    /// A descriptor with only the scheme filled in.
    pub fn new(scheme_id_uri: &str) -> Self {
        ContentProtection {
            system: KeySystem::from_scheme(scheme_id_uri),
            scheme_id_uri: scheme_id_uri.to_owned(),
            value: None,
            default_kids: Vec::new(),
            pssh: None,
            playready_header: None,
            license_url: None,
            robustness: None,
            ref_id: None,
        }
    }
}

/// `EXT-X-KEY` / `EXT-X-SESSION-KEY` method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum KeyMethod {
    /// `NONE`: segments that follow are clear.
    None,
    /// `AES-128`: whole-segment AES-128-CBC.
    Aes128,
    /// `SAMPLE-AES`: sample encryption (cbcs for fMP4).
    SampleAes,
    /// `SAMPLE-AES-CTR`: cenc sample encryption.
    SampleAesCtr,
    /// `AES-256`: whole-segment AES-256-CBC (newer HLS revisions).
    Aes256,
    /// `AES-256-CTR`: whole-segment AES-256-CTR (newer HLS revisions).
    Aes256Ctr,
    /// A method Playhead does not know, as written: kept so the host's CDM can decide.
    Other(String),
}

/// An HLS key (`EXT-X-KEY`, `EXT-X-SESSION-KEY`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct HlsKey {
    /// `METHOD`.
    pub method: KeyMethod,
    /// `URI` resolved (http(s), `data:` or `skd://` as the spec allows for keys).
    pub uri: Option<String>,
    /// `IV` (16 bytes).
    pub iv: Option<[u8; 16]>,
    /// Key system from `KEYFORMAT` (identity when absent).
    pub system: KeySystem,
    /// `KEYFORMAT` as written.
    pub keyformat: Option<String>,
    /// `KEYFORMATVERSIONS`.
    pub keyformat_versions: Option<String>,
    /// Key id, when the URI or init data reveals one (Widevine/PlayReady `data:` PSSH, `skd://`).
    pub kid: Option<Kid>,
}

/// Key ids in a PlayReady header object (the `KID` elements of its WRM header record,
/// base64 little-endian GUIDs, converted to big-endian key ids).
pub fn playready_kids(pro: &[u8]) -> Vec<Kid> {
    let mut kids = Vec::new();
    for xml in playready_records(pro) {
        // <KID>base64</KID> (v4.0) or <KID ... VALUE="base64"> (v4.1+).
        let mut rest = xml.as_str();
        while let Some(i) = rest.find("<KID") {
            rest = &rest[i + 4..];
            let Some(end) = rest.find('>') else { break };
            let (attrs, after) = (&rest[..end], &rest[end + 1..]);
            let b64 = match attrs.find("VALUE=\"") {
                Some(v) => attrs[v + 7..].split('"').next().unwrap_or(""),
                None => after.split('<').next().unwrap_or(""),
            };
            if let Some(b) =
                crate::base64::decode(b64.trim()).and_then(|b| <[u8; 16]>::try_from(b).ok())
            {
                kids.push(Kid::from_guid_le(b));
            }
        }
    }
    kids
}

/// The licence acquisition URL (`LA_URL`) of a PlayReady header object.
pub fn playready_la_url(pro: &[u8]) -> Option<String> {
    playready_records(pro).into_iter().find_map(|xml| {
        let start = xml.find("<LA_URL>")? + "<LA_URL>".len();
        let len = xml[start..].find("</LA_URL>")?;
        let url = xml[start..start + len].trim().replace("&amp;", "&");
        (!url.is_empty()).then_some(url)
    })
}

/// The WRM header XML of every rights-management record (type 1) of a PlayReady header
/// object: a little-endian length, a record count, then (type, length, UTF-16LE data).
fn playready_records(pro: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let Some(count) = pro.get(4..6).map(|b| u16::from_le_bytes([b[0], b[1]])) else {
        return out;
    };
    let mut at = 6usize;
    for _ in 0..count {
        let Some(h) = pro.get(at..at + 4) else { break };
        let (kind, len) = (
            u16::from_le_bytes([h[0], h[1]]),
            usize::from(u16::from_le_bytes([h[2], h[3]])),
        );
        let Some(data) = pro.get(at + 4..at + 4 + len) else {
            break;
        };
        at += 4 + len;
        if kind != 1 {
            continue;
        }
        let units = data
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]));
        out.push(
            char::decode_utf16(units)
                .map(|c| c.unwrap_or('\u{fffd}'))
                .collect(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kid_forms_and_playready_guid() {
        let k = Kid::parse("10000000-1000-1000-1000-100000000001").unwrap();
        assert_eq!(k.to_string(), "10000000-1000-1000-1000-100000000001");
        assert_eq!(
            Kid::parse("0x100000001000100010001000000000001").map(|k| k.0[0]),
            None
        );
        let le = [
            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 9, 10, 11, 12, 13, 14, 15, 16,
        ];
        assert_eq!(
            Kid::from_guid_le(le).to_string(),
            "04030201-0605-0807-090a-0b0c0d0e0f10"
        );
    }

    #[test]
    fn systems_from_schemes() {
        assert_eq!(
            KeySystem::from_scheme("urn:uuid:EDEF8BA9-79D6-4ACE-A3C8-27DCD51D21ED"),
            KeySystem::Widevine
        );
        assert_eq!(
            KeySystem::from_scheme("com.apple.streamingkeydelivery"),
            KeySystem::FairPlay
        );
        assert_eq!(KeySystem::Widevine.system_id().map(str::len), Some(36));
    }
}
