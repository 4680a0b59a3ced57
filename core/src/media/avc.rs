//! H.264 (AVC): the sequence parameter set, the `avcC` record and the `avc1` codecs string.
//!
//! One reader of the SPS (ITU-T H.264 7.3.2.1.1: profile, level, chroma format, bit depths,
//! cropped picture size and the VUI frame rate) and one writer of the
//! AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1) serve the MPEG-TS reader
//! ([`es`](super::es)), the fMP4 writer ([`mux`](super::mux)) and the Smooth init synthesis
//! ([`smooth`](super::smooth)).

use super::bits::{Bits, push_u16_prefixed, rbsp};
use super::reader::Reader;
use super::sample::{CodecConfig, CodecRecord};
use super::{MediaError, Result};
use crate::time::Timescale;

/// What the readers and writers need of an H.264 SPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sps {
    /// profile_idc.
    pub(crate) profile: u8,
    /// The constraint_set flags byte (profile_compatibility in `avcC`).
    pub(crate) compatibility: u8,
    /// level_idc.
    pub(crate) level: u8,
    /// seq_parameter_set_id (0 to 31).
    pub(crate) id: u32,
    /// chroma_format_idc (1 when the profile's SPS has no such field).
    pub(crate) chroma_format_idc: u8,
    /// bit_depth_luma_minus8 (0 to 6).
    pub(crate) bit_depth_luma_minus8: u8,
    /// bit_depth_chroma_minus8 (0 to 6).
    pub(crate) bit_depth_chroma_minus8: u8,
    /// Cropped width in pixels (not zero).
    pub(crate) width: u32,
    /// Cropped height in pixels (not zero).
    pub(crate) height: u32,
    /// 90 kHz ticks per frame from the VUI timing info, when given.
    pub(crate) frame_duration: Option<u32>,
}

/// Whether an SPS of `profile` carries chroma_format_idc, the bit depths and the scaling
/// matrices (ITU-T H.264 7.3.2.1.1).
pub(crate) fn sps_has_format(profile: u8) -> bool {
    matches!(
        profile,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    )
}

/// Whether an `avcC` of `profile` ends with chroma_format, the bit depths and the SPS
/// extensions (ISO/IEC 14496-15 5.3.3.1.2: AVCProfileIndication 100, 110, 122 or 144).
pub(crate) fn record_has_format(profile: u8) -> bool {
    matches!(profile, 100 | 110 | 122 | 144)
}

/// Reads an H.264 SPS NAL unit (header byte included, ITU-T H.264 7.3.2.1.1) up to the
/// VUI timing info. Values out of the ranges of 7.4.2.1.1 are errors; a VUI that does not
/// parse only loses the frame rate.
pub(crate) fn parse_sps(nal: &[u8]) -> Result<Sps> {
    let rbsp = rbsp(nal);
    let mut b = Bits::new(&rbsp, "H.264 SPS");
    if b.byte()? & 0x1f != 7 {
        return Err(b.bad("not an SPS NAL unit"));
    }
    let (profile, compatibility, level) = (b.byte()?, b.byte()?, b.byte()?);
    let id = b.ue_max(31, "seq_parameter_set_id above 31")?;
    let (mut chroma_format, mut separate_planes) = (1, false);
    let (mut depth_luma, mut depth_chroma) = (0, 0);
    if sps_has_format(profile) {
        chroma_format = b.ue_max(3, "chroma_format_idc above 3")?;
        if chroma_format == 3 {
            separate_planes = b.flag()?;
        }
        depth_luma = b.ue_max(6, "bit_depth_luma above 14")?;
        depth_chroma = b.ue_max(6, "bit_depth_chroma above 14")?;
        b.skip(1)?; // qpprime_y_zero_transform_bypass_flag
        if b.flag()? {
            // seq_scaling_matrix_present_flag
            for i in 0..if chroma_format == 3 { 12 } else { 8 } {
                if b.flag()? {
                    skip_scaling_list(&mut b, if i < 6 { 16 } else { 64 })?;
                }
            }
        }
    }
    b.ue_max(12, "log2_max_frame_num_minus4 above 12")?;
    match b.ue()? {
        0 => {
            b.ue_max(12, "log2_max_pic_order_cnt_lsb_minus4 above 12")?;
        }
        1 => {
            b.skip(1)?; // delta_pic_order_always_zero_flag
            b.se()?; // offset_for_non_ref_pic
            b.se()?; // offset_for_top_to_bottom_field
            let n = b.ue_max(255, "num_ref_frames_in_pic_order_cnt_cycle above 255")?;
            for _ in 0..n {
                b.se()?;
            }
        }
        2 => {}
        _ => return Err(b.bad("pic_order_cnt_type above 2")),
    }
    b.ue()?; // max_num_ref_frames
    b.skip(1)?; // gaps_in_frame_num_value_allowed_flag
    let width_mbs = u64::from(b.ue()?) + 1;
    let height_map_units = u64::from(b.ue()?) + 1;
    let frame_mbs_only = b.flag()?;
    if !frame_mbs_only {
        b.skip(1)?; // mb_adaptive_frame_field_flag
    }
    b.skip(1)?; // direct_8x8_inference_flag
    let mut crop = [0u64; 4];
    if b.flag()? {
        for c in &mut crop {
            *c = u64::from(b.ue()?);
        }
    }
    let frame_duration = if b.flag().unwrap_or(false) {
        vui_frame_duration(&mut b).ok().flatten()
    } else {
        None
    };
    // Table 6-1 and 7.4.2.1.1: crop units (SubWidthC and SubHeightC of ChromaArrayType).
    let field_factor = if frame_mbs_only { 1 } else { 2 };
    let (unit_x, unit_y) = match (chroma_format, separate_planes) {
        (0, _) | (3, true) => (1, field_factor),
        (1, _) => (2, 2 * field_factor),
        (2, _) => (2, field_factor),
        _ => (1, field_factor),
    };
    let width = (width_mbs * 16).checked_sub(unit_x * (crop[0] + crop[1]));
    let height = (field_factor * height_map_units * 16).checked_sub(unit_y * (crop[2] + crop[3]));
    let size = |v: Option<u64>| v.and_then(|v| u32::try_from(v).ok()).filter(|v| *v > 0);
    let (Some(width), Some(height)) = (size(width), size(height)) else {
        return Err(b.bad("frame cropping leaves no picture"));
    };
    // The three are at most 3, 6 and 6 (ue_max above).
    Ok(Sps {
        profile,
        compatibility,
        level,
        id,
        chroma_format_idc: chroma_format as u8,
        bit_depth_luma_minus8: depth_luma as u8,
        bit_depth_chroma_minus8: depth_chroma as u8,
        width,
        height,
        frame_duration,
    })
}

/// Skips a scaling_list() of `size` coefficients (H.264 7.3.2.1.1.1).
fn skip_scaling_list(b: &mut Bits<'_>, size: usize) -> Result<()> {
    let (mut last, mut next) = (8i64, 8i64);
    for _ in 0..size {
        if next != 0 {
            next = (last + i64::from(b.se()?)).rem_euclid(256);
        }
        if next != 0 {
            last = next;
        }
    }
    Ok(())
}

/// The frame duration in 90 kHz ticks from the VUI's timing info (H.264 E.1.1), if given.
fn vui_frame_duration(b: &mut Bits<'_>) -> Result<Option<u32>> {
    if b.flag()? && b.byte()? == 255 {
        b.skip(32)?; // sar_width, sar_height
    }
    if b.flag()? {
        b.skip(1)?; // overscan_appropriate_flag
    }
    if b.flag()? {
        b.skip(4)?; // video_format, video_full_range_flag
        if b.flag()? {
            b.skip(24)?; // colour description
        }
    }
    if b.flag()? {
        b.ue()?;
        b.ue()?;
    }
    if !b.flag()? {
        return Ok(None);
    }
    let (units, scale) = (u64::from(b.bits(32)?), u64::from(b.bits(32)?));
    if units == 0 || scale == 0 {
        return Ok(None);
    }
    // A frame is two ticks (E.2.1: field-based time_scale).
    let d = 90_000 * 2 * units / scale;
    Ok(u32::try_from(d).ok().filter(|d| *d > 0))
}

/// The pic_parameter_set_id of a PPS NAL unit: the first ue(v) after the header byte.
pub(crate) fn pps_id(nal: &[u8]) -> Result<u32> {
    let rbsp = rbsp(nal.get(1..).unwrap_or_default());
    Bits::new(&rbsp, "H.264 PPS").ue_max(255, "pic_parameter_set_id out of range")
}

/// The first SPS of an `avcC` body, `None` when it has none or ends early.
pub(crate) fn first_record_sps(avcc: &[u8]) -> Option<&[u8]> {
    let mut r = Reader::new(avcc, "avcC");
    r.skip(5).ok()?;
    if r.u8().ok()? & 0x1f == 0 {
        return None;
    }
    let n = r.u16().ok()?;
    r.bytes(n.into()).ok()
}

/// The RFC 6381 codecs parameter of H.264 (ISO/IEC 14496-15 E.2): `avc1.64001f` is
/// `fourcc`, profile_idc, the constraint flags and level_idc in hex.
pub(crate) fn codec_string(fourcc: &[u8; 4], profile: u8, compatibility: u8, level: u8) -> String {
    format!(
        "{}.{profile:02x}{compatibility:02x}{level:02x}",
        fourcc.escape_ascii()
    )
}

/// An AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1) with 4-byte NAL lengths and
/// the [`CodecConfig`] around it: profile, compatibility and level from the first SPS, and
/// its picture size. `sps` and `pps` are NAL units (header included, no start code).
///
/// For AVCProfileIndication 100, 110, 122 and 144 the record ends with the first SPS's
/// chroma format and bit depths and no SPS extensions (5.3.3.1.2); an SPS that does not
/// parse is an error.
pub fn codec_config<S: AsRef<[u8]>>(
    track_id: u32,
    timescale: Timescale,
    sps: &[S],
    pps: &[S],
) -> Result<CodecConfig> {
    let first = sps
        .first()
        .ok_or(MediaError::Missing { what: "H.264 SPS" })?;
    if pps.is_empty() {
        return Err(MediaError::Missing { what: "H.264 PPS" });
    }
    let info = parse_sps(first.as_ref())?;
    let sps_count = u8::try_from(sps.len()).ok().filter(|n| *n < 32);
    let sps_count = sps_count.ok_or(MediaError::Limit {
        what: "31 SPS in an avcC",
    })?;
    let pps_count = u8::try_from(pps.len()).map_err(|_| MediaError::Limit {
        what: "255 PPS in an avcC",
    })?;
    let mut r = vec![1, info.profile, info.compatibility, info.level, 0xff];
    r.push(0xe0 | sps_count);
    for nal in sps {
        push_u16_prefixed(&mut r, nal.as_ref())?;
    }
    r.push(pps_count);
    for nal in pps {
        push_u16_prefixed(&mut r, nal.as_ref())?;
    }
    if record_has_format(info.profile) {
        r.extend_from_slice(&[
            0xfc | info.chroma_format_idc,
            0xf8 | info.bit_depth_luma_minus8,
            0xf8 | info.bit_depth_chroma_minus8,
            0, // numOfSequenceParameterSetExt
        ]);
    }
    let codec = codec_string(b"avc1", info.profile, info.compatibility, info.level);
    Ok(CodecConfig::video(
        track_id,
        timescale,
        codec,
        CodecRecord::Avc(r),
        (info.width, info.height),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::testing::{flipped, hex};

    fn ninety_khz() -> Timescale {
        Timescale::new(90_000).unwrap()
    }

    /// SPS of x264 encodes: sizes and frame durations as ffprobe prints them.
    const SPS: [(&str, u32, u32, u32); 5] = [
        // 1920x1080 High 4:2:0, cropped from 1088, 25 fps
        (
            "67640028acd940780227e5c044000003000400000300c83c60c658",
            1920,
            1080,
            3600,
        ),
        // 720x576 interlaced (frame_mbs_only_flag 0)
        (
            "6764001eacd940b424d8088000000300800000190f8a14cb",
            720,
            576,
            3600,
        ),
        // 720x572 interlaced 29.97 fps: crop units of 4 lines
        (
            "6764001facd940b424fd6022000007d20001d4c03e2c5b2c",
            720,
            572,
            3003,
        ),
        // 350x200 High 4:4:4 with scaling matrices (cqm=jvt)
        (
            "67f4000d919b282c37dc4e0220000003002000000641e28532c0",
            350,
            200,
            3600,
        ),
        // 350x198 High 4:2:2 10-bit
        (
            "677a000db6cd94161bea2f011000000300100000030320f1429960",
            350,
            198,
            3600,
        ),
    ];

    #[test]
    fn sps_sizes_and_records() {
        for (sps, width, height, duration) in SPS {
            let got = parse_sps(&hex(sps)).unwrap();
            assert_eq!(
                (got.width, got.height, got.frame_duration),
                (width, height, Some(duration)),
                "{sps}"
            );
        }
        // High 4:4:4 Predictive: its SPS has the format fields, its avcC does not.
        let high444 = parse_sps(&hex(SPS[3].0)).unwrap();
        assert_eq!((high444.profile, high444.chroma_format_idc), (244, 3));
        let pps = hex("68ebe3cb22c0");
        let d = hex(SPS[3].0);
        let config = codec_config(1, ninety_khz(), &[&d[..]], &[&pps[..]]).unwrap();
        let CodecRecord::Avc(record) = &config.record else {
            panic!()
        };
        assert_eq!(record.len(), 6 + 2 + d.len() + 1 + 2 + pps.len());
        assert_eq!(config.codec.as_deref(), Some("avc1.f4000d"));

        let d = hex(SPS[4].0);
        let config = codec_config(1, ninety_khz(), &[&d[..]], &[&pps[..]]).unwrap();
        let CodecRecord::Avc(record) = &config.record else {
            panic!()
        };
        // High 4:2:2: chroma_format 2, bit depths 10, no SPS extensions.
        assert_eq!(record[..6], [1, 0x7a, 0, 0x0d, 0xff, 0xe1]);
        assert_eq!(record[record.len() - 4..], [0xfe, 0xfa, 0xfa, 0]);
        assert_eq!(config.codec.as_deref(), Some("avc1.7a000d"));
        assert_eq!((config.width, config.height), (Some(350), Some(198)));
        assert_eq!(first_record_sps(record), Some(&d[..]));

        // Every truncation is a typed error, but for the VUI, which is optional to this
        // reader (then only the frame rate is lost). Bit flips are errors or parse.
        for (sps, width, height, duration) in SPS {
            let sps = hex(sps);
            for n in 0..sps.len() - 1 {
                if let Ok(got) = parse_sps(&sps[..n]) {
                    assert_eq!((got.width, got.height), (width, height));
                    assert!(
                        matches!(got.frame_duration, Some(d) if d == duration)
                            || got.frame_duration.is_none()
                    );
                }
            }
            for bad in flipped(&sps, sps.len(), 500) {
                let _ = parse_sps(&bad);
            }
        }
    }

    #[test]
    fn profiles_with_format_fields() {
        // The SPS rule (H.264 7.3.2.1.1) and the avcC rule (ISO/IEC 14496-15 5.3.3.1.2)
        // differ: 244 and the SVC/MVC profiles have the fields in the SPS only, 144 (the
        // withdrawn High 4:4:4) in the avcC only.
        for p in [100, 110, 122] {
            assert!(sps_has_format(p) && record_has_format(p), "{p}");
        }
        for p in [244, 44, 83, 86, 118, 128, 138, 139, 134, 135] {
            assert!(sps_has_format(p) && !record_has_format(p), "{p}");
        }
        assert!(!sps_has_format(144) && record_has_format(144));
        for p in [66, 77, 88] {
            assert!(!sps_has_format(p) && !record_has_format(p), "{p}");
        }
    }

    #[test]
    fn parameter_set_ids_and_strings() {
        assert_eq!(pps_id(&hex("68ebe3cb22c0")), Ok(0));
        assert_eq!(pps_id(&[0x68, 0x10]), Ok(7)); // 0001 000 -> ue 7
        assert!(pps_id(&[0x68]).is_err());
        assert_eq!(codec_string(b"avc3", 0x64, 0, 0x1f), "avc3.64001f");
        assert_eq!(first_record_sps(&[1, 0x64, 0, 0x1f, 0xff, 0xe0]), None);
        assert_eq!(
            first_record_sps(&[1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 9]),
            None
        );
    }
}
