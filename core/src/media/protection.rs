//! Common encryption boxes (ISO/IEC 23001-7): `pssh` (licence request data), `sinf` /
//! `schm` / `tenc` (how a track is encrypted), and the per-sample IVs and subsample maps of
//! `senc` or of `saiz` / `saio` auxiliary information.

use super::bmff::{Mp4Box, boxes};
use super::reader::Reader;
use super::sample::{SampleEncryption, Subsample, TrackProtection};
use super::{MediaError, Result};

/// A protection system specific header (`pssh`, ISO/IEC 23001-7 8.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pssh {
    /// SystemID: the DRM system (Widevine `edef8ba9-79d6-4ace-a3c8-27dcd51d21ed`, PlayReady
    /// `9a04f079-9840-4286-ab92-e65be0885f95`, W3C Common `1077efec-c0b2-4d02-ace3-3c1e52e2fb4b`).
    pub system_id: [u8; 16],
    /// The KIDs of a version 1 box (empty for version 0).
    pub key_ids: Vec<[u8; 16]>,
    /// The system's own data (a Widevine protobuf, a PlayReady header object, ...).
    pub data: Vec<u8>,
}

/// `senc` flag: every sample has a subsample map (ISO/IEC 23001-7 7.2.2).
const SENC_USE_SUBSAMPLES: u32 = 0x2;
/// `senc` flag of PIFF 1.1 (override of the track's algorithm, IV size and KID).
const SENC_PIFF_OVERRIDE: u32 = 0x1;
/// `saiz` / `saio` flag: aux_info_type and aux_info_type_parameter are present.
const AUX_INFO_TYPE_PRESENT: u32 = 0x1;
/// Bytes of one subsample entry: BytesOfClearData (16) and BytesOfProtectedData (32).
const SUBSAMPLE_LEN: usize = 6;
/// The most samples one `senc` may describe when its entries carry no bytes at all
/// (IV size 0 and no subsample maps), so that a count cannot ask for unbounded work.
const MAX_EMPTY_ENTRIES: usize = 1 << 20;

/// Reads a `pssh` box, version 0 or 1.
pub fn parse_pssh(pssh: &Mp4Box<'_>) -> Result<Pssh> {
    if &pssh.fourcc != b"pssh" {
        return Err(pssh.bad("not a pssh box"));
    }
    let (version, _, body) = pssh.full_header()?;
    if version > 1 {
        return Err(MediaError::Unsupported {
            what: format!("pssh version {version} (ISO/IEC 23001-7 8.1.2 defines 0 and 1)"),
        });
    }
    let mut r = Reader::new(body, "pssh");
    let system_id = r.array()?;
    let mut key_ids = Vec::new();
    if version == 1 {
        let count = usize::try_from(r.u32()?).unwrap_or(usize::MAX);
        if count.saturating_mul(16) > r.remaining() {
            return Err(pssh.bad("KID_count exceeds the box (ISO/IEC 23001-7 8.1.2)"));
        }
        key_ids.reserve(count);
        for _ in 0..count {
            key_ids.push(r.array()?);
        }
    }
    let size = usize::try_from(r.u32()?).unwrap_or(usize::MAX);
    if size > r.remaining() {
        return Err(pssh.bad("DataSize exceeds the box (ISO/IEC 23001-7 8.1.2)"));
    }
    let data = r.bytes(size)?.to_vec();
    Ok(Pssh {
        system_id,
        key_ids,
        data,
    })
}

/// Every `pssh` of a buffer that starts at a box boundary: those at the top level and
/// those inside `moov` and `moof` (ISO/IEC 23001-7 8.1.1), in file order.
pub fn parse_pssh_boxes(data: &[u8]) -> Result<Vec<Pssh>> {
    let mut out = Vec::new();
    for b in boxes(data) {
        let b = b?;
        match &b.fourcc {
            b"pssh" => out.push(parse_pssh(&b)?),
            b"moov" | b"moof" => {
                for child in b.children().of_type(b"pssh") {
                    out.push(parse_pssh(&child?)?);
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

impl Pssh {
    /// The box bytes: version 1 when there are KIDs, else version 0. Data longer than a
    /// 32-bit DataSize can hold is cut to fit (no licence system writes such a thing).
    pub fn to_box(&self) -> Vec<u8> {
        let kids_len = match self.key_ids.len() {
            0 => 0,
            n => n.saturating_mul(16).saturating_add(4),
        };
        let limit = (u32::MAX as usize).saturating_sub(kids_len.saturating_add(32));
        let data = self.data.get(..limit).unwrap_or(&self.data);
        let version = u8::from(kids_len > 0);
        let size = 8 + 4 + 16 + kids_len + 4 + data.len();
        let mut out = Vec::with_capacity(size);
        // Both casts fit: the data was cut above, and a KID list long enough to overflow
        // could not have been held in memory.
        out.extend((size as u32).to_be_bytes());
        out.extend(b"pssh");
        out.extend([version, 0, 0, 0]);
        out.extend(self.system_id);
        if version == 1 {
            out.extend((self.key_ids.len() as u32).to_be_bytes());
            for kid in &self.key_ids {
                out.extend(kid);
            }
        }
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(data);
        out
    }
}

/// Reads a protection scheme information box (`sinf`, ISO/IEC 14496-12 8.12.1): the scheme
/// from `schm` and the track defaults from `schi/tenc` (ISO/IEC 23001-7 8.2).
///
/// A `tenc` with default_isProtected 0 (a track whose samples are clear unless a sample group
/// says otherwise) is returned as read.
pub fn parse_sinf(sinf: &Mp4Box<'_>) -> Result<TrackProtection> {
    let schm = sinf
        .child(b"schm")?
        .ok_or(MediaError::Missing { what: "sinf/schm" })?;
    let (_, _, body) = schm.full_header()?;
    let scheme = Reader::new(body, "schm").array()?;
    let tenc = match sinf.child(b"schi")? {
        Some(schi) => schi.child(b"tenc")?,
        None => None,
    };
    let tenc = tenc.ok_or(MediaError::Missing {
        what: "sinf/schi/tenc",
    })?;
    let (version, _, body) = tenc.full_header()?;
    let mut r = Reader::new(body, "tenc");
    r.skip(1)?; // reserved
    let pattern = r.u8()?; // reserved in version 0
    let (crypt_byte_block, skip_byte_block) = if version == 0 {
        (0, 0)
    } else {
        (pattern >> 4, pattern & 0x0f)
    };
    let is_protected = r.u8()?;
    let default_iv_size = r.u8()?;
    if ![0, 8, 16].contains(&default_iv_size) {
        return Err(tenc.bad("default_Per_Sample_IV_Size not 0, 8 or 16 (ISO/IEC 23001-7 9.1)"));
    }
    let default_kid = r.array()?;
    let default_constant_iv = if is_protected == 1 && default_iv_size == 0 {
        let size = r.u8()?;
        if size != 8 && size != 16 {
            return Err(tenc.bad("default_constant_IV_size not 8 or 16 (ISO/IEC 23001-7 8.2.2)"));
        }
        Some(r.bytes(usize::from(size))?.to_vec())
    } else {
        None
    };
    Ok(TrackProtection {
        scheme,
        default_kid,
        default_iv_size,
        default_constant_iv,
        crypt_byte_block,
        skip_byte_block,
    })
}

/// Reads a sample encryption box (`senc`, ISO/IEC 23001-7 7.2): one entry per sample, each
/// an IV of `iv_size` bytes (the track's default_Per_Sample_IV_Size; 0 gives empty IVs) and,
/// with flag 0x2, a subsample map.
pub fn parse_senc(senc: &Mp4Box<'_>, iv_size: u8) -> Result<Vec<SampleEncryption>> {
    let (_, flags, body) = senc.full_header()?;
    if flags & SENC_PIFF_OVERRIDE != 0 {
        return Err(MediaError::Unsupported {
            what: "senc with the PIFF override flag 0x1".into(),
        });
    }
    let subsamples = flags & SENC_USE_SUBSAMPLES != 0;
    let mut r = Reader::new(body, "senc");
    let count = usize::try_from(r.u32()?).unwrap_or(usize::MAX);
    // Bound the work by the input: each entry holds at least its IV and subsample count.
    let least = usize::from(iv_size) + if subsamples { 2 } else { 0 };
    if least == 0 && count > MAX_EMPTY_ENTRIES {
        return Err(MediaError::Limit {
            what: "senc sample_count",
        });
    }
    if count.saturating_mul(least) > r.remaining() {
        return Err(senc.bad("sample_count exceeds the box (ISO/IEC 23001-7 7.2.2)"));
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let iv = r.bytes(usize::from(iv_size))?.to_vec();
        let subsamples = if subsamples {
            read_subsamples(&mut r)?
        } else {
            Vec::new()
        };
        out.push(SampleEncryption { iv, subsamples });
    }
    Ok(out)
}

/// A subsample_count and its entries, checked against the bytes left.
fn read_subsamples(r: &mut Reader<'_>) -> Result<Vec<Subsample>> {
    let n = usize::from(r.u16()?);
    if n * SUBSAMPLE_LEN > r.remaining() {
        return Err(MediaError::Truncated {
            what: "subsample map",
        });
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let clear = u32::from(r.u16()?);
        let protected = r.u32()?;
        out.push(Subsample { clear, protected });
    }
    Ok(out)
}

/// Sample auxiliary information sizes (`saiz`, ISO/IEC 14496-12 8.7.8).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Saiz {
    /// default_sample_info_size: the size of every sample's information, or 0 when
    /// [`sizes`](Saiz::sizes) gives them one by one.
    pub default_size: u8,
    /// Per-sample sizes (empty when `default_size` is not 0).
    pub sizes: Vec<u8>,
    /// sample_count.
    pub sample_count: u32,
}

impl Saiz {
    /// The size of sample `i`'s information, when the box gives one.
    fn size(&self, i: usize) -> Option<u8> {
        match self.default_size {
            0 => self.sizes.get(i).copied(),
            n => Some(n),
        }
    }
}

/// Reads a `saiz` box.
pub fn parse_saiz(b: &Mp4Box<'_>) -> Result<Saiz> {
    let (_, flags, body) = b.full_header()?;
    let mut r = Reader::new(body, "saiz");
    if flags & AUX_INFO_TYPE_PRESENT != 0 {
        r.skip(8)?; // aux_info_type, aux_info_type_parameter
    }
    let default_size = r.u8()?;
    let sample_count = r.u32()?;
    let sizes = if default_size == 0 {
        let n = usize::try_from(sample_count).unwrap_or(usize::MAX);
        if n > r.remaining() {
            return Err(b.bad("sample_count exceeds the box (ISO/IEC 14496-12 8.7.8.2)"));
        }
        r.bytes(n)?.to_vec()
    } else {
        Vec::new()
    };
    Ok(Saiz {
        default_size,
        sizes,
        sample_count,
    })
}

/// Reads a `saio` box (ISO/IEC 14496-12 8.7.9): the offsets of the auxiliary information,
/// 32-bit in version 0 and 64-bit in version 1. For fragments they are relative to the
/// `moof` (or the `tfhd` base_data_offset), and usually there is one.
pub fn parse_saio(b: &Mp4Box<'_>) -> Result<Vec<u64>> {
    let (version, flags, body) = b.full_header()?;
    let mut r = Reader::new(body, "saio");
    if flags & AUX_INFO_TYPE_PRESENT != 0 {
        r.skip(8)?;
    }
    let count = usize::try_from(r.u32()?).unwrap_or(usize::MAX);
    let width = if version == 0 { 4 } else { 8 };
    if count.saturating_mul(width) > r.remaining() {
        return Err(b.bad("entry_count exceeds the box (ISO/IEC 14496-12 8.7.9.2)"));
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        out.push(r.u32_or_u64(version != 0)?);
    }
    Ok(out)
}

/// Reads the `cenc` sample auxiliary information that `saiz` sizes, from `offset` in `data`
/// (where `saio` points, resolved by the caller): per sample the IV of `iv_size` bytes,
/// then, when its size is larger than the IV, a subsample count and map (ISO/IEC 23001-7
/// 7.1). A sample whose size is 0 has no information and gets an empty entry.
pub fn parse_aux_info(
    data: &[u8],
    offset: usize,
    saiz: &Saiz,
    iv_size: u8,
) -> Result<Vec<SampleEncryption>> {
    let rest = data.get(offset..).ok_or(MediaError::Truncated {
        what: "sample auxiliary information",
    })?;
    let count = usize::try_from(saiz.sample_count).unwrap_or(usize::MAX);
    // Bound the work: every sample's information must be in the buffer.
    let least = if saiz.default_size == 0 {
        if count > saiz.sizes.len() {
            return Err(MediaError::BadBox {
                fourcc: *b"saiz",
                reason: "fewer sample_info_size entries than sample_count",
            });
        }
        saiz.sizes.iter().take(count).map(|&s| usize::from(s)).sum()
    } else {
        count.saturating_mul(usize::from(saiz.default_size))
    };
    if least > rest.len() {
        return Err(MediaError::Truncated {
            what: "sample auxiliary information",
        });
    }
    let mut r = Reader::new(rest, "sample auxiliary information");
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let size = usize::from(saiz.size(i).unwrap_or(0));
        let info = r.bytes(size)?;
        if size == 0 {
            out.push(SampleEncryption {
                iv: Vec::new(),
                subsamples: Vec::new(),
            });
            continue;
        }
        let mut s = Reader::new(info, "sample auxiliary information");
        let iv = s.bytes(usize::from(iv_size))?.to_vec();
        let subsamples = if s.remaining() > 0 {
            read_subsamples(&mut s)?
        } else {
            Vec::new()
        };
        out.push(SampleEncryption { iv, subsamples });
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::media::testing::flipped;

    const WIDEVINE: [u8; 16] = [
        0xed, 0xef, 0x8b, 0xa9, 0x79, 0xd6, 0x4a, 0xce, 0xa3, 0xc8, 0x27, 0xdc, 0xd5, 0x1d, 0x21,
        0xed,
    ];
    const COMMON: [u8; 16] = [
        0x10, 0x77, 0xef, 0xec, 0xc0, 0xb2, 0x4d, 0x02, 0xac, 0xe3, 0x3c, 0x1e, 0x52, 0xe2, 0xfb,
        0x4b,
    ];

    /// A box of type `fourcc` around `body`.
    fn mp4(fourcc: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend(fourcc);
        out.extend(body);
        out
    }

    /// The single box of `data`.
    fn one(data: &[u8]) -> Mp4Box<'_> {
        boxes(data).next().unwrap().unwrap()
    }

    #[test]
    fn widevine_pssh_from_dash_manifests() {
        // androidx/media sample_mpd_dashif_license_url (<cenc:pssh> of the Widevine
        // ContentProtection): version 0, data = protobuf { algorithm: 1, key_id: 16 bytes }.
        let b64 = "AAAANHBzc2gAAAAA7e+LqXnWSs6jyCfc1R0h7QAAABQIARIQnrQFDeRLSAKTLifXUIPiZg==";
        let bytes = crate::base64::decode(b64).unwrap();
        let pssh = parse_pssh(&one(&bytes)).unwrap();
        assert_eq!(pssh.system_id, WIDEVINE);
        assert!(pssh.key_ids.is_empty());
        assert_eq!(pssh.data.len(), 20);
        assert_eq!(&pssh.data[..4], [0x08, 0x01, 0x12, 0x10]);
        assert_eq!(pssh.to_box(), bytes);

        // shaka-player dash-clearkey/dash.mpd: the Widevine data lists the track's
        // cenc:default_KID 4060a865-8878-4267-9cbf-91ae5bae1e72 three times.
        let b64 = "AAAAXHBzc2gAAAAA7e+LqXnWSs6jyCfc1R0h7QAAADwSEEBgqGWIeEJnnL+RrluuHnISEEBgqGWIeEJnnL+RrluuHnISEEBgqGWIeEJnnL+RrluuHnJI49yVmwY=";
        let bytes = crate::base64::decode(b64).unwrap();
        let pssh = parse_pssh(&one(&bytes)).unwrap();
        assert_eq!(pssh.system_id, WIDEVINE);
        let kid = [
            0x40, 0x60, 0xa8, 0x65, 0x88, 0x78, 0x42, 0x67, 0x9c, 0xbf, 0x91, 0xae, 0x5b, 0xae,
            0x1e, 0x72,
        ];
        let found = pssh.data.windows(16).filter(|w| *w == kid).count();
        assert_eq!(found, 3);
        assert_eq!(pssh.to_box(), bytes);
    }

    #[test]
    fn version_1_round_trip_and_nesting() {
        let pssh = Pssh {
            system_id: COMMON,
            key_ids: vec![[1; 16], [2; 16]],
            data: Vec::new(),
        };
        let bytes = pssh.to_box();
        // ISO/IEC 23001-7 8.1.2: size, 'pssh', version 1, SystemID, KID_count, KIDs, DataSize.
        assert_eq!(bytes.len(), 12 + 16 + 4 + 32 + 4);
        assert_eq!(
            &bytes[..12],
            [0, 0, 0, 68, b'p', b's', b's', b'h', 1, 0, 0, 0]
        );
        assert_eq!(&bytes[28..32], [0, 0, 0, 2]);
        assert_eq!(parse_pssh(&one(&bytes)).unwrap(), pssh);
        let v0 = Pssh {
            system_id: WIDEVINE,
            key_ids: Vec::new(),
            data: vec![9, 8, 7],
        };
        assert_eq!(v0.to_box()[8], 0);
        assert_eq!(parse_pssh(&one(&v0.to_box())).unwrap(), v0);

        // In a file: one at the top, one in moov (after a trak), one in moof.
        let mut file = mp4(b"ftyp", b"isom");
        file.extend(v0.to_box());
        let mut moov = mp4(b"trak", &[]);
        moov.extend(pssh.to_box());
        file.extend(mp4(b"moov", &moov));
        file.extend(mp4(b"moof", &v0.to_box()));
        file.extend(mp4(b"mdat", &v0.to_box())); // bytes in mdat are not boxes
        let all = parse_pssh_boxes(&file).unwrap();
        assert_eq!(all, [v0.clone(), pssh.clone(), v0.clone()]);
        assert_eq!(parse_pssh_boxes(&[]).unwrap(), []);
    }

    #[test]
    fn malformed_pssh() {
        let good = Pssh {
            system_id: COMMON,
            key_ids: vec![[3; 16]],
            data: vec![1, 2, 3],
        }
        .to_box();
        let mut many = good.clone();
        many[31] = 9; // KID_count 9, one present
        assert!(matches!(
            parse_pssh(&one(&many)),
            Err(MediaError::BadBox { .. })
        ));
        let mut long = good.clone();
        long[51] = 200; // DataSize past the end
        assert!(matches!(
            parse_pssh(&one(&long)),
            Err(MediaError::BadBox { .. })
        ));
        let mut v2 = good.clone();
        v2[8] = 2;
        assert!(matches!(
            parse_pssh(&one(&v2)),
            Err(MediaError::Unsupported { .. })
        ));
        for n in 0..good.len() {
            assert!(parse_pssh_boxes(&good[..n]).is_err() || n == 0);
        }
        for d in flipped(&good, good.len(), 2000) {
            if let Some(Ok(b)) = boxes(&d).next() {
                // What parses writes back to the same.
                if let Ok(pssh) = parse_pssh(&b) {
                    assert_eq!(parse_pssh(&one(&pssh.to_box())).unwrap(), pssh);
                }
            }
        }
    }

    /// A `sinf` for scheme `scheme` with a `tenc` of `version` and the given fields.
    fn sinf(scheme: &[u8; 4], tenc_version: u8, tenc_fields: &[u8]) -> Vec<u8> {
        let mut body = mp4(b"frma", b"avc1");
        let mut schm = vec![0, 0, 0, 0];
        schm.extend(scheme);
        schm.extend([0, 1, 0, 0]); // scheme_version 1.0
        body.extend(mp4(b"schm", &schm));
        let mut tenc = vec![tenc_version, 0, 0, 0];
        tenc.extend(tenc_fields);
        body.extend(mp4(b"schi", &mp4(b"tenc", &tenc)));
        mp4(b"sinf", &body)
    }

    #[test]
    fn cenc_and_cbcs_track_defaults() {
        // cenc, tenc version 0: reserved, reserved, isProtected 1, IV size 8, KID.
        let mut fields = vec![0, 0, 1, 8];
        fields.extend([0xab; 16]);
        let data = sinf(b"cenc", 0, &fields);
        let got = parse_sinf(&one(&data)).unwrap();
        assert_eq!(
            got,
            TrackProtection {
                scheme: *b"cenc",
                default_kid: [0xab; 16],
                default_iv_size: 8,
                default_constant_iv: None,
                crypt_byte_block: 0,
                skip_byte_block: 0,
            }
        );
        // cbcs, tenc version 1: pattern 1:9, IV size 0, then a 16-byte constant IV.
        let mut fields = vec![0, 0x19, 1, 0];
        fields.extend([0xcd; 16]);
        fields.push(16);
        fields.extend(0..16u8);
        let data = sinf(b"cbcs", 1, &fields);
        let got = parse_sinf(&one(&data)).unwrap();
        assert_eq!((got.scheme, got.default_iv_size), (*b"cbcs", 0));
        assert_eq!((got.crypt_byte_block, got.skip_byte_block), (1, 9));
        assert_eq!(got.default_constant_iv, Some((0..16).collect()));
        // Every cut of the tenc is an error; flips never panic.
        for n in 0..fields.len() {
            let cut = sinf(b"cbcs", 1, &fields[..n]);
            assert!(parse_sinf(&one(&cut)).is_err(), "{n} bytes");
        }
        for d in flipped(&data, data.len(), 3000) {
            if let Some(Ok(b)) = boxes(&d).next() {
                let _ = parse_sinf(&b);
            }
        }
    }

    #[test]
    fn sinf_errors() {
        let mut fields = vec![0, 0, 1, 7]; // IV size 7
        fields.extend([0; 16]);
        let data = sinf(b"cenc", 0, &fields);
        assert!(matches!(
            parse_sinf(&one(&data)),
            Err(MediaError::BadBox { .. })
        ));
        let no_schm = mp4(b"sinf", &mp4(b"schi", &[]));
        assert_eq!(
            parse_sinf(&one(&no_schm)),
            Err(MediaError::Missing { what: "sinf/schm" })
        );
        let mut schm = vec![0; 4];
        schm.extend(b"cenc\0\x01\0\0");
        let no_tenc = mp4(b"sinf", &mp4(b"schm", &schm));
        assert_eq!(
            parse_sinf(&one(&no_tenc)),
            Err(MediaError::Missing {
                what: "sinf/schi/tenc"
            })
        );
    }

    /// A `senc` with two samples: 8-byte IVs, and with flag 0x2 subsample maps.
    fn senc(subsamples: bool) -> Vec<u8> {
        mp4(b"senc", &senc_body(subsamples))
    }

    fn senc_body(subsamples: bool) -> Vec<u8> {
        let mut body = vec![0, 0, 0, if subsamples { 2 } else { 0 }, 0, 0, 0, 2];
        body.extend([1; 8]);
        if subsamples {
            body.extend([0, 2, 0, 5, 0, 0, 0, 0x10, 0x01, 0x00, 0, 0, 0x02, 0x00]);
        }
        body.extend([2; 8]);
        if subsamples {
            body.extend([0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        }
        body
    }

    #[test]
    fn senc_with_and_without_subsamples() {
        let plain = senc(false);
        let got = parse_senc(&one(&plain), 8).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].iv.as_slice(), got[1].iv.as_slice()),
            (&[1; 8][..], &[2; 8][..])
        );
        assert!(got.iter().all(|s| s.subsamples.is_empty()));

        let maps = senc(true);
        let got = parse_senc(&one(&maps), 8).unwrap();
        let first = [
            Subsample {
                clear: 5,
                protected: 16,
            },
            Subsample {
                clear: 256,
                protected: 512,
            },
        ];
        assert_eq!(got[0].subsamples, first);
        let last = Subsample {
            clear: 0xffff,
            protected: u32::MAX,
        };
        assert_eq!(got[1].subsamples, [last]);

        // IV size 0 (cbcs with a constant IV): subsample maps only.
        let cbcs = mp4(b"senc", &[0, 0, 0, 2, 0, 0, 0, 1, 0, 1, 0, 32, 0, 0, 0, 64]);
        let got = parse_senc(&one(&cbcs), 0).unwrap();
        assert_eq!(got.len(), 1);
        assert!(got[0].iv.is_empty());
        assert_eq!(
            got[0].subsamples,
            [Subsample {
                clear: 32,
                protected: 64
            }]
        );
    }

    #[test]
    fn senc_counts_are_bounded() {
        // 2^32-1 samples of 8 bytes in a 16-byte box.
        let huge = mp4(b"senc", &[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
        assert!(matches!(
            parse_senc(&one(&huge), 8),
            Err(MediaError::BadBox { .. })
        ));
        // Entries of no bytes at all: a count above the limit is refused.
        let empty = mp4(b"senc", &[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert!(matches!(
            parse_senc(&one(&empty), 0),
            Err(MediaError::Limit { .. })
        ));
        let few = mp4(b"senc", &[0, 0, 0, 0, 0, 0, 0, 3]);
        assert_eq!(parse_senc(&one(&few), 0).unwrap().len(), 3);
        // A subsample count past the end.
        let short = mp4(b"senc", &[0, 0, 0, 2, 0, 0, 0, 1, 0xff, 0xff, 0, 0]);
        assert!(parse_senc(&one(&short), 0).is_err());
        let piff = mp4(b"senc", &[0, 0, 0, 1, 0, 0, 0, 0]);
        assert!(matches!(
            parse_senc(&one(&piff), 8),
            Err(MediaError::Unsupported { .. })
        ));
        for subsamples in [true, false] {
            let body = senc_body(subsamples);
            for n in 0..body.len() {
                let cut = mp4(b"senc", &body[..n]);
                assert!(parse_senc(&one(&cut), 8).is_err(), "{n} bytes");
            }
            let data = senc(subsamples);
            for d in flipped(&data, data.len(), 2000) {
                if let Some(Ok(b)) = boxes(&d).next() {
                    let _ = (parse_senc(&b, 8), parse_senc(&b, 16), parse_senc(&b, 0));
                }
            }
        }
    }

    #[test]
    fn saiz_saio_and_aux_info() {
        // saiz: default size 0, three samples of 8, 22 and 0 bytes.
        let saiz_box = mp4(b"saiz", &[0, 0, 0, 0, 0, 0, 0, 0, 3, 8, 22, 0]);
        let saiz = parse_saiz(&one(&saiz_box)).unwrap();
        assert_eq!(
            saiz,
            Saiz {
                default_size: 0,
                sizes: vec![8, 22, 0],
                sample_count: 3
            }
        );
        // With aux_info_type 'cenc' and a default size.
        let typed = mp4(
            b"saiz",
            &[
                0, 0, 0, 1, b'c', b'e', b'n', b'c', 0, 0, 0, 0, 16, 0, 0, 0, 9,
            ],
        );
        let got = parse_saiz(&one(&typed)).unwrap();
        assert_eq!((got.default_size, got.sample_count), (16, 9));
        assert!(got.sizes.is_empty());

        let saio0 = mp4(b"saio", &[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0x01, 0x10]);
        assert_eq!(parse_saio(&one(&saio0)).unwrap(), [0x110]);
        let mut body = vec![1, 0, 0, 1, b'c', b'e', b'n', b'c', 0, 0, 0, 0, 0, 0, 0, 2];
        body.extend(0x1_0000_0000u64.to_be_bytes());
        body.extend(7u64.to_be_bytes());
        let saio1 = mp4(b"saio", &body);
        assert_eq!(parse_saio(&one(&saio1)).unwrap(), [0x1_0000_0000, 7]);
        let huge = mp4(b"saio", &[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert!(parse_saio(&one(&huge)).is_err());
        let huge = mp4(b"saiz", &[0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert!(parse_saiz(&one(&huge)).is_err());

        // The information itself, 4 bytes into a buffer: IV; IV + two subsamples; nothing.
        let mut data = vec![0xee; 4];
        data.extend([1; 8]);
        data.extend([2; 8]);
        data.extend([0, 2, 0, 1, 0, 0, 0, 2, 0, 3, 0, 0, 0, 4]);
        let got = parse_aux_info(&data, 4, &saiz, 8).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(
            (got[0].iv.clone(), got[0].subsamples.len()),
            (vec![1; 8], 0)
        );
        assert_eq!(got[1].iv, [2; 8]);
        let maps = [
            Subsample {
                clear: 1,
                protected: 2,
            },
            Subsample {
                clear: 3,
                protected: 4,
            },
        ];
        assert_eq!(got[1].subsamples, maps);
        assert!(got[2].iv.is_empty() && got[2].subsamples.is_empty());
        for n in 0..data.len() {
            assert!(parse_aux_info(&data[..n], 4, &saiz, 8).is_err(), "{n}");
        }
        assert!(parse_aux_info(&data, 5, &saiz, 8).is_err());
        assert!(parse_aux_info(&data, 99, &saiz, 8).is_err());
        // A subsample count that overruns its sample's information.
        let mut bad = data.clone();
        bad[21] = 3;
        assert!(parse_aux_info(&bad, 4, &saiz, 8).is_err());
        // Sizes missing from a hand-made Saiz, and a default size that asks for too much.
        let liar = Saiz {
            default_size: 0,
            sizes: vec![8],
            sample_count: u32::MAX,
        };
        assert!(parse_aux_info(&data, 4, &liar, 8).is_err());
        let greedy = Saiz {
            default_size: 255,
            sizes: Vec::new(),
            sample_count: u32::MAX,
        };
        assert!(parse_aux_info(&data, 4, &greedy, 8).is_err());
        for d in flipped(&data, data.len(), 2000) {
            let _ = parse_aux_info(&d, 4, &saiz, 8);
            let _ = parse_aux_info(&d, 4, &saiz, 0);
        }
        for b in [saiz_box, typed, saio0, saio1] {
            for d in flipped(&b, b.len(), 500) {
                if let Some(Ok(b)) = boxes(&d).next() {
                    let _ = (parse_saiz(&b), parse_saio(&b));
                }
            }
        }
    }
}
