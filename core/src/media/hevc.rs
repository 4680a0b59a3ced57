//! H.265 (HEVC): parameter sets (VPS, SPS and its profile_tier_level), the `hvcC` record
//! and the `hvc1` codecs string.
//!
//! One reader of the SPS (ITU-T H.265 7.3.2.2.1: profile, tier, level, sub-layers, chroma
//! format, bit depths, picture size inside the conformance window) and one writer of the
//! HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3.1) serve the MPEG-TS reader
//! ([`es`](super::es)) and the Smooth init synthesis ([`smooth`](super::smooth)); the
//! codecs string is also the one [`init`](super::init) gives an `hvcC`.

use super::bits::{Bits, push_u16_prefixed, rbsp};
use super::sample::{CodecConfig, CodecRecord};
use super::{MediaError, Result};
use crate::time::Timescale;

/// What the readers and writers need of an H.265 SPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sps {
    /// general_profile_space .. general_level_idc: the 12 bytes of profile_tier_level that
    /// the `hvcC` repeats.
    pub(crate) ptl: [u8; 12],
    /// sps_max_sub_layers_minus1 + 1 (1 to 7).
    pub(crate) max_sub_layers: u8,
    /// sps_temporal_id_nesting_flag.
    pub(crate) temporal_id_nesting: bool,
    /// sps_seq_parameter_set_id (0 to 15).
    pub(crate) id: u32,
    /// chroma_format_idc (0 to 3).
    pub(crate) chroma_format_idc: u8,
    /// bit_depth_luma_minus8 (0 to 7).
    pub(crate) bit_depth_luma_minus8: u8,
    /// bit_depth_chroma_minus8 (0 to 7).
    pub(crate) bit_depth_chroma_minus8: u8,
    /// Width inside the conformance window, in pixels (not zero).
    pub(crate) width: u32,
    /// Height inside the conformance window, in pixels (not zero).
    pub(crate) height: u32,
}

/// Reads a profile_tier_level(1, `max_sub_layers_minus1`) (ITU-T H.265 7.3.3): the 12
/// bytes of its general part; the sub-layer parts are skipped.
fn profile_tier_level(b: &mut Bits<'_>, max_sub_layers_minus1: usize) -> Result<[u8; 12]> {
    let mut ptl = [0u8; 12];
    for byte in &mut ptl {
        *byte = b.byte()?;
    }
    let mut present = [(false, false); 6];
    for p in present.iter_mut().take(max_sub_layers_minus1) {
        *p = (b.flag()?, b.flag()?);
    }
    if max_sub_layers_minus1 > 0 {
        b.skip(2 * (8 - max_sub_layers_minus1))?; // reserved_zero_2bits
    }
    for (profile, level) in present.iter().take(max_sub_layers_minus1) {
        if *profile {
            b.skip(88)?;
        }
        if *level {
            b.skip(8)?;
        }
    }
    Ok(ptl)
}

/// Reads an H.265 SPS NAL unit (2-byte header included, ITU-T H.265 7.3.2.2.1) up to the
/// bit depths. Values out of the ranges of 7.4.3.2.1 are errors.
pub(crate) fn parse_sps(nal: &[u8]) -> Result<Sps> {
    let rbsp = rbsp(nal);
    let mut b = Bits::new(&rbsp, "H.265 SPS");
    if b.bits(16)? >> 9 & 0x3f != 33 {
        return Err(b.bad("not an SPS NAL unit"));
    }
    b.skip(4)?; // sps_video_parameter_set_id
    let max_sub_layers_minus1 = b.bits(3)? as usize;
    if max_sub_layers_minus1 > 6 {
        return Err(b.bad("sps_max_sub_layers_minus1 above 6"));
    }
    let temporal_id_nesting = b.flag()?;
    let ptl = profile_tier_level(&mut b, max_sub_layers_minus1)?;
    let id = b.ue_max(15, "sps_seq_parameter_set_id above 15")?;
    let chroma_format = b.ue_max(3, "chroma_format_idc above 3")?;
    let separate_planes = chroma_format == 3 && b.flag()?;
    let width = u64::from(b.ue()?);
    let height = u64::from(b.ue()?);
    let mut window = [0u64; 4];
    if b.flag()? {
        for w in &mut window {
            *w = u64::from(b.ue()?);
        }
    }
    let depth_luma = b.ue_max(7, "bit_depth_luma above 15")?;
    let depth_chroma = b.ue_max(7, "bit_depth_chroma above 15")?;
    // Table 6-1.
    let (sub_width, sub_height) = match (chroma_format, separate_planes) {
        (1, _) => (2, 2),
        (2, _) => (2, 1),
        _ => (1, 1),
    };
    let width = width.checked_sub(sub_width * (window[0] + window[1]));
    let height = height.checked_sub(sub_height * (window[2] + window[3]));
    let size = |v: Option<u64>| v.and_then(|v| u32::try_from(v).ok()).filter(|v| *v > 0);
    let (Some(width), Some(height)) = (size(width), size(height)) else {
        return Err(b.bad("conformance window leaves no picture"));
    };
    // At most 6, 3, 7 and 7 (checked above).
    Ok(Sps {
        ptl,
        max_sub_layers: max_sub_layers_minus1 as u8 + 1,
        temporal_id_nesting,
        id,
        chroma_format_idc: chroma_format as u8,
        bit_depth_luma_minus8: depth_luma as u8,
        bit_depth_chroma_minus8: depth_chroma as u8,
        width,
        height,
    })
}

/// The vps_video_parameter_set_id of a VPS NAL unit: the 4 bits after the 2-byte header.
pub(crate) fn vps_id(nal: &[u8]) -> Result<u32> {
    let b = nal
        .get(2)
        .ok_or(MediaError::Truncated { what: "H.265 VPS" })?;
    Ok(u32::from(b >> 4))
}

/// The pps_pic_parameter_set_id of a PPS NAL unit: the first ue(v) after the 2-byte header.
pub(crate) fn pps_id(nal: &[u8]) -> Result<u32> {
    let rbsp = rbsp(nal.get(2..).unwrap_or_default());
    Bits::new(&rbsp, "H.265 PPS").ue_max(63, "pic_parameter_set_id out of range")
}

/// The RFC 6381 codecs parameter of H.265 (ISO/IEC 14496-15 E.3) from the general part of
/// profile_tier_level (as `hvcC` repeats it): `hvc1.1.6.L93.B0` is profile space 0, Main
/// profile, compatibility flags 0x6 (bit reversed), Main tier, level 3.1, constraint byte
/// 0xB0. Trailing zero constraint bytes are left out.
pub(crate) fn codec_string(fourcc: &[u8; 4], ptl: &[u8; 12]) -> String {
    let [first, c0, c1, c2, c3, constraints @ .., level] = *ptl;
    let space = ["", "A", "B", "C"]
        .get(usize::from(first >> 6))
        .unwrap_or(&"");
    let tier = if first & 0x20 != 0 { 'H' } else { 'L' };
    let compat = u32::from_be_bytes([c0, c1, c2, c3]).reverse_bits();
    let mut s = format!(
        "{}.{space}{}.{compat:X}.{tier}{level}",
        fourcc.escape_ascii(),
        first & 0x1f
    );
    let keep = constraints
        .iter()
        .rposition(|b| *b != 0)
        .map_or(0, |i| i + 1);
    for b in constraints.iter().take(keep) {
        s.push_str(&format!(".{b:X}"));
    }
    s
}

/// An HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3.1) with 4-byte NAL lengths,
/// complete arrays of VPS, SPS and PPS, and the [`CodecConfig`] around it: profile, tier,
/// level and picture size from the first SPS. The record leaves min_spatial_segmentation,
/// parallelismType and the frame rate fields at 0 (unknown).
pub fn codec_config<S: AsRef<[u8]>>(
    track_id: u32,
    timescale: Timescale,
    vps: &[S],
    sps: &[S],
    pps: &[S],
) -> Result<CodecConfig> {
    let first = sps
        .first()
        .ok_or(MediaError::Missing { what: "H.265 SPS" })?;
    if vps.is_empty() {
        return Err(MediaError::Missing { what: "H.265 VPS" });
    }
    if pps.is_empty() {
        return Err(MediaError::Missing { what: "H.265 PPS" });
    }
    let info = parse_sps(first.as_ref())?;
    let mut r = vec![1];
    r.extend_from_slice(&info.ptl);
    r.extend_from_slice(&[
        0xf0, // reserved, min_spatial_segmentation_idc 0
        0x00,
        0xfc, // reserved, parallelismType 0
        0xfc | info.chroma_format_idc,
        0xf8 | info.bit_depth_luma_minus8,
        0xf8 | info.bit_depth_chroma_minus8,
        0, // avgFrameRate
        0,
        // constantFrameRate 0, numTemporalLayers, temporalIdNested, lengthSizeMinusOne 3
        (info.max_sub_layers << 3) | (u8::from(info.temporal_id_nesting) << 2) | 3,
        3, // numOfArrays
    ]);
    for (nal_type, list) in [(32, vps), (33, sps), (34, pps)] {
        r.push(0x80 | nal_type); // array_completeness 1
        let n = u16::try_from(list.len()).map_err(|_| MediaError::Limit {
            what: "65535 parameter sets in an hvcC array",
        })?;
        r.extend_from_slice(&n.to_be_bytes());
        for nal in list {
            push_u16_prefixed(&mut r, nal.as_ref())?;
        }
    }
    Ok(CodecConfig::video(
        track_id,
        timescale,
        codec_string(b"hvc1", &info.ptl),
        CodecRecord::Hevc(r),
        (info.width, info.height),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::testing::{flipped, hex};

    /// SPS of x265 encodes: sizes as ffprobe prints them, codecs as ffmpeg's hvcC gives.
    const SPS: [(&str, u32, u32, &str); 2] = [
        // 350x198 Main 4:2:2 10 (Rext), level 2
        (
            "4201010408000003009d0800000300003cb00b080c9d5b65959a4932bc05a02000000300200000030321",
            350,
            198,
            "hvc1.4.10.L60.9D.8",
        ),
        // 1920x1080 Main, high tier, level 5.1
        (
            "420101216000000300900000030000030099a003c08010e596566924caf0168080000003008000001904",
            1920,
            1080,
            "hvc1.1.6.H153.90",
        ),
    ];

    #[test]
    fn sps_sizes_and_codecs() {
        for (sps, width, height, codec) in SPS {
            let got = parse_sps(&hex(sps)).unwrap();
            assert_eq!((got.width, got.height), (width, height), "{sps}");
            assert_eq!(codec_string(b"hvc1", &got.ptl), codec);
        }
        let rext = parse_sps(&hex(SPS[0].0)).unwrap();
        assert_eq!(
            (
                rext.chroma_format_idc,
                rext.bit_depth_luma_minus8,
                rext.bit_depth_chroma_minus8
            ),
            (2, 2, 2)
        );
        // Bit flips are errors or parse; every cut before the bit depths is an error.
        for (sps, ..) in SPS {
            let sps = hex(sps);
            for bad in flipped(&sps, sps.len(), 500) {
                let _ = parse_sps(&bad);
            }
            for n in 0..20 {
                assert!(parse_sps(&sps[..n]).is_err());
            }
        }
        // Not an SPS; too many sub-layers (sps_max_sub_layers_minus1 7).
        assert!(parse_sps(&hex("4001")).is_err());
        let mut seven = hex(SPS[1].0);
        seven[2] |= 0x0e;
        assert_eq!(
            parse_sps(&seven),
            Err(MediaError::BadStream {
                codec: "H.265 SPS",
                reason: "sps_max_sub_layers_minus1 above 6"
            })
        );
    }

    #[test]
    fn codec_strings_follow_iso_14496_15_annex_e() {
        // Main profile, compatibility flags 0x60000000 (reversed: 0x6), Main tier, level
        // 93 (3.1), constraint byte 0xB0.
        let mut ptl = [0x01, 0x60, 0, 0, 0, 0xb0, 0, 0, 0, 0, 0, 93];
        assert_eq!(codec_string(b"hvc1", &ptl), "hvc1.1.6.L93.B0");
        ptl[0] = 0x22; // High tier, Main 10
        ptl[1] = 0x20;
        assert_eq!(codec_string(b"hev1", &ptl), "hev1.2.4.H93.B0");
        ptl[0] = 0x42; // profile space 1
        ptl[5] = 0;
        assert_eq!(codec_string(b"hvc1", &ptl), "hvc1.A2.4.L93");
    }

    #[test]
    fn parameter_set_ids() {
        assert_eq!(vps_id(&[0x40, 0x01, 0x5c]), Ok(5));
        assert!(vps_id(&[0x40, 0x01]).is_err());
        assert_eq!(pps_id(&hex("4401c172b46240")), Ok(0));
        assert_eq!(pps_id(&[0x44, 0x01, 0x10]), Ok(7));
        assert!(pps_id(&[0x44, 0x01]).is_err());
    }
}
