//! Readers of HLS tag values shared by media and multivariant playlists: byte ranges,
//! keys (with their IVs and the key ids their URIs reveal) and date ranges.

use super::{AttrList, hex, int};
use crate::diag::Diag;
use crate::error::{Line, ParseError};
use crate::model::{ByteRange, Bytes, DateRange, HlsKey, KeyMethod, KeySystem, Kid, NameValue};
use crate::time::{Micros, Timescale, parse_datetime, parse_decimal_ticks};
use crate::url::{Allow, resolve};

pub(crate) const R_BYTERANGE: &str = "RFC 8216 §4.3.2.2: EXT-X-BYTERANGE is <n>[@<o>]; without @o the previous sub-range of the same resource MUST precede";
const R_KEY: &str = "RFC 8216 §4.3.2.4: EXT-X-KEY needs METHOD, and URI unless METHOD=NONE";
const R_DATERANGE: &str = "RFC 8216 §4.3.2.7: EXT-X-DATERANGE needs ID and START-DATE";

/// `<n>[@<o>]`; without `@o` the range continues the previous one of the same resource.
pub(crate) fn byte_range(
    value: &str,
    n: Line,
    diag: &mut Diag,
    last: Option<&(String, u64)>,
) -> Result<ByteRange, ParseError> {
    let (len, off) = match value.trim().split_once('@') {
        Some((l, o)) => (l, Some(o)),
        None => (value.trim(), None),
    };
    let length = int(len).ok_or_else(|| diag.invalid(n, R_BYTERANGE, format!("length {len:?}")))?;
    let start = match off {
        Some(o) => int(o).ok_or_else(|| diag.invalid(n, R_BYTERANGE, format!("offset {o:?}")))?,
        None => match last {
            Some((_, end)) => *end,
            None => {
                diag.shall(
                    n,
                    R_BYTERANGE,
                    "byte range without offset and no previous range",
                )?;
                0
            }
        },
    };
    Ok(ByteRange {
        start,
        length: Some(length),
    })
}

/// Reads an `EXT-X-KEY` / `EXT-X-SESSION-KEY` attribute list.
pub(crate) fn key(
    a: &AttrList<'_>,
    base: &str,
    n: Line,
    diag: &mut Diag,
) -> Result<Option<HlsKey>, ParseError> {
    let method = match a.get("METHOD") {
        Some("NONE") => KeyMethod::None,
        Some("AES-128") => KeyMethod::Aes128,
        Some("SAMPLE-AES") => KeyMethod::SampleAes,
        // Legacy names of cenc sample encryption, still written for Widevine and PlayReady.
        Some("SAMPLE-AES-CTR" | "SAMPLE-AES-CENC" | "ISO-23001-7") => KeyMethod::SampleAesCtr,
        Some("AES-256") => KeyMethod::Aes256,
        Some("AES-256-CTR") => KeyMethod::Aes256Ctr,
        Some(other) => {
            diag.should(
                n,
                R_KEY,
                format!("unknown METHOD={other}: kept for the host to judge"),
            )?;
            KeyMethod::Other(other.to_owned())
        }
        None => {
            diag.shall(n, R_KEY, "METHOD missing")?;
            return Ok(None);
        }
    };
    let uri = match a.get("URI") {
        Some(u) => Some(resolve(base, u, Allow::KeyUri).map_err(|r| diag.unsafe_url(n, u, &r))?),
        None if method != KeyMethod::None => {
            diag.shall(n, R_KEY, "URI missing")?;
            None
        }
        None => None,
    };
    let iv = match a.get("IV") {
        Some(v) => iv(v, n, diag)?,
        None => None,
    };
    let keyformat = a.get("KEYFORMAT").map(str::to_owned);
    let system = KeySystem::from_scheme(keyformat.as_deref().unwrap_or("identity"));
    let kid = uri.as_deref().and_then(|u| kid_from_uri(u, &system));
    Ok(Some(HlsKey {
        method,
        uri,
        iv,
        system,
        keyformat,
        keyformat_versions: a.get("KEYFORMATVERSIONS").map(str::to_owned),
        kid,
    }))
}

/// A 128-bit IV. Shorter hex values are left-padded with zeros, as hls.js and Shaka read
/// them (a warning); odd digit counts and longer values are refused.
fn iv(v: &str, n: Line, diag: &mut Diag) -> Result<Option<[u8; 16]>, ParseError> {
    const R_IV: &str = "RFC 8216 §4.3.2.4: IV is a 128-bit hexadecimal-sequence";
    let digits = v
        .strip_prefix("0x")
        .or_else(|| v.strip_prefix("0X"))
        .unwrap_or("");
    if digits.is_empty() || digits.len() > 32 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        diag.shall(n, R_IV, format!("IV {v:?}"))?;
        return Ok(None);
    }
    if digits.len() < 32 {
        diag.should(
            n,
            R_IV,
            format!(
                "IV {v:?} has {} hex digits; left-padded with zeros",
                digits.len()
            ),
        )?;
    }
    let padded = format!("0x{digits:0>32}");
    Ok(hex(&padded).and_then(|b| <[u8; 16]>::try_from(b).ok()))
}

/// A key id that the key URI itself reveals: a FairPlay `skd://` id that is a UUID or 32 hex
/// digits, or the KID of a v1 PSSH box in a Widevine `data:` URI.
fn kid_from_uri(uri: &str, system: &KeySystem) -> Option<Kid> {
    if let Some(rest) = uri.strip_prefix("skd://") {
        return Kid::parse(rest.split(['?', '/']).next().unwrap_or(""));
    }
    if *system == KeySystem::Widevine {
        let data = uri.strip_prefix("data:")?;
        let (_, b64) = data.split_once(";base64,")?;
        let pssh = crate::base64::decode(b64)?;
        // PSSH v1: size(4) 'pssh'(4) version(1) flags(3) system(16) kid_count(4) kids...
        if pssh.get(4..8) == Some(b"pssh") && pssh.get(8) == Some(&1) {
            let count = u32::from_be_bytes(pssh.get(28..32)?.try_into().ok()?);
            if count >= 1 {
                return Some(Kid(pssh.get(32..48)?.try_into().ok()?));
            }
        }
    }
    None
}

/// Reads an `EXT-X-DATERANGE`; `earlier` is the range already held under the same ID, whose
/// START-DATE a later tag may omit (RFC 8216bis §4.4.5.1).
pub(crate) fn date_range(
    a: &AttrList<'_>,
    earlier: Option<&DateRange>,
    n: Line,
    diag: &mut Diag,
) -> Result<Option<DateRange>, ParseError> {
    let Some(id) = a.get("ID") else {
        diag.shall(n, R_DATERANGE, "EXT-X-DATERANGE without ID")?;
        return Ok(None);
    };
    let start_date = match (a.get("START-DATE").map(parse_datetime), earlier) {
        (Some(Ok(t)), _) => t,
        (Some(Err(e)), _) => {
            diag.shall(n, R_DATERANGE, e.to_string())?;
            return Ok(None);
        }
        (None, Some(e)) => e.start_date,
        (None, None) => {
            diag.shall(
                n,
                R_DATERANGE,
                format!("EXT-X-DATERANGE {id:?} without START-DATE and no earlier tag of that ID"),
            )?;
            return Ok(None);
        }
    };
    let secs = |k: &str| {
        a.get(k)
            .and_then(|v| parse_decimal_ticks(v, Timescale::MICROS).ok())
            .map(|v| Micros(v as i64))
    };
    let bytes = |k: &str| a.get(k).and_then(hex).map(Bytes::from);
    Ok(Some(DateRange {
        id: id.to_owned(),
        class: a.get("CLASS").map(str::to_owned),
        start_date,
        end_date: a.get("END-DATE").and_then(|v| parse_datetime(v).ok()),
        duration: secs("DURATION"),
        planned_duration: secs("PLANNED-DURATION"),
        end_on_next: a.yes("END-ON-NEXT"),
        scte35_cmd: bytes("SCTE35-CMD"),
        scte35_out: bytes("SCTE35-OUT"),
        scte35_in: bytes("SCTE35-IN"),
        client_attributes: a
            .attrs
            .iter()
            .filter(|x| x.name.starts_with("X-"))
            .map(|x| NameValue {
                name: x.name.to_owned(),
                value: x.value.to_owned(),
            })
            .collect(),
    }))
}
