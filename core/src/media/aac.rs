//! AAC: the AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1), built from an ADTS header or a
//! manifest and read for its object type, sampling rate and channels.
//!
//! The MPEG-TS reader ([`ts`](super::ts) for ADTS), the fMP4 reader and writer
//! ([`init`](super::init), [`mux`](super::mux)) and the Smooth init synthesis
//! ([`smooth`](super::smooth)) all use these.

use super::bits::Bits;

/// The sampling frequencies by sampling_frequency_index (ISO/IEC 14496-3 1.6.3.4); 13 and
/// 14 are reserved, 15 is an explicit 24-bit rate.
pub(crate) const RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// The sampling_frequency_index of `rate`, when it has one.
pub(crate) fn rate_index(rate: u32) -> Option<u8> {
    RATES
        .iter()
        .position(|&r| r == rate)
        .and_then(|i| u8::try_from(i).ok())
}

/// The channel count of a channelConfiguration (Table 1.19): 1 to 6 are that many, 7 is
/// eight (7.1); 0 (a program_config_element) and the reserved values have none.
pub(crate) fn channel_count(configuration: u32) -> Option<u32> {
    match configuration {
        n @ 1..=6 => Some(n),
        7 => Some(8),
        _ => None,
    }
}

/// The channelConfiguration of `channels`, the inverse of [`channel_count`].
pub(crate) fn channel_configuration(channels: u32) -> Option<u8> {
    match channels {
        1..=6 => u8::try_from(channels).ok(),
        8 => Some(7),
        _ => None,
    }
}

/// A 2-byte AudioSpecificConfig: audioObjectType (below 31), samplingFrequencyIndex,
/// channelConfiguration, and a GASpecificConfig of zeros (1024-sample frames, no core
/// coder, no extension). What an ADTS header says and AAC-LC from a manifest.
pub(crate) fn asc(object_type: u8, rate_index: u8, channel_configuration: u8) -> [u8; 2] {
    let (object_type, index, channels) = (
        object_type & 0x1f,
        rate_index & 0xf,
        channel_configuration & 0xf,
    );
    [
        object_type << 3 | index >> 1,
        (index & 1) << 7 | channels << 3,
    ]
}

/// A 4-byte AudioSpecificConfig of HE-AAC with explicit hierarchical SBR signalling
/// (1.6.5.2): object type 5 (SBR), the core rate's index, the channels, the SBR rate's
/// index, then object type 2 (AAC-LC) and a GASpecificConfig of zeros, as dash.js builds it.
pub(crate) fn he_asc(rate_index: u8, sbr_rate_index: u8, channel_configuration: u8) -> [u8; 4] {
    let v = 5 << 27
        | u32::from(rate_index & 0xf) << 23
        | u32::from(channel_configuration & 0xf) << 19
        | u32::from(sbr_rate_index & 0xf) << 15
        | 2 << 10;
    v.to_be_bytes()
}

/// Channel count and sample rate an AudioSpecificConfig gives, when it gives them plainly
/// (no escaped object type, channel configuration 1 to 7).
pub(crate) fn params(asc: &[u8]) -> (Option<u32>, Option<u32>) {
    let mut b = Bits::new(asc, "AudioSpecificConfig");
    let Ok(aot) = b.bits(5) else {
        return (None, None);
    };
    if aot == 31 {
        return (None, None);
    }
    let rate = match b.bits(4) {
        Ok(15) => b.bits(24).ok(),
        Ok(i) => RATES.get(i as usize).copied(),
        Err(_) => None,
    };
    let channels = b.bits(4).ok().and_then(channel_count);
    (channels, rate)
}

/// The audioObjectType of an AudioSpecificConfig, its escape (31, then 6 bits + 32)
/// included.
pub(crate) fn object_type(asc: &[u8]) -> Option<u8> {
    let aot = asc.first()? >> 3;
    if aot != 31 {
        return Some(aot);
    }
    let next = u16::from_be_bytes([*asc.first()?, *asc.get(1)?]);
    Some(32 + ((next >> 5) & 0x3f) as u8)
}

/// The RFC 6381 codecs parameter of an AudioSpecificConfig: `mp4a.40.` and its object type.
pub(crate) fn codec_string(asc: &[u8]) -> Option<String> {
    object_type(asc).map(|aot| format!("mp4a.40.{aot}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_built_and_read() {
        // AAC-LC 48 kHz stereo, as the test media's ADTS headers and esds say.
        assert_eq!(rate_index(48000), Some(3));
        assert_eq!(asc(2, 3, 2), [0x11, 0x90]);
        assert_eq!(params(&[0x11, 0x90]), (Some(2), Some(48000)));
        assert_eq!(codec_string(&[0x11, 0x90]).as_deref(), Some("mp4a.40.2"));
        // HE-AAC: 24 kHz core, 48 kHz SBR.
        assert_eq!(he_asc(6, 3, 2), [0x2b, 0x11, 0x88, 0x00]);
        assert_eq!(params(&he_asc(6, 3, 2)), (Some(2), Some(24000)));
        assert_eq!(object_type(&he_asc(6, 3, 2)), Some(5));
        // An explicit rate, 7.1, and the escaped object type 42 (USAC).
        assert_eq!(
            params(&[0x17, 0x80, 0x17, 0x70, 0x38]),
            (Some(8), Some(12_000))
        );
        assert_eq!(object_type(&[0xf9, 0x40]), Some(42));
        assert_eq!(params(&[0xf9, 0x40]), (None, None));
        assert_eq!(object_type(&[0xf9]), None);
        assert_eq!((object_type(&[]), params(&[])), (None, (None, None)));
        for (count, configuration) in [(1, 1), (6, 6), (8, 7)] {
            assert_eq!(channel_configuration(count), Some(configuration));
            assert_eq!(channel_count(configuration.into()), Some(count));
        }
        assert_eq!((channel_configuration(7), channel_count(0)), (None, None));
        assert_eq!(rate_index(1234), None);
    }
}
