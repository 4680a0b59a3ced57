//! Decodes the audio a session played with symphonia's AAC decoder: proof that the access
//! units the engine's sample sink handed over are real media, whatever the container
//! (fMP4, MPEG-TS, Smooth Streaming).

use playhead::media::CodecRecord;
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_AAC, CodecParameters, Decoder as _, DecoderOptions};
use symphonia::core::formats::Packet;

use crate::host::AudioCapture;

/// What came out of the decoder.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Decoded {
    /// RFC 6381 codec of the track.
    pub codec: String,
    /// AAC frames decoded.
    pub frames: u64,
    /// PCM samples per channel.
    pub samples: u64,
    /// Hz.
    pub sample_rate: u32,
    /// Channels.
    pub channels: usize,
    /// Seconds of audio.
    pub seconds: f64,
    /// Root mean square level of channel 0 (0..1).
    pub rms: f64,
    /// Share of channel 0's energy at 440 Hz, the test asset's tone (Goertzel over 0.1 s
    /// blocks): near 1 for the bundled asset, near 0 for noise or silence.
    pub tone_440: f64,
}

/// Decodes every access unit of `capture` with the AudioSpecificConfig of its track.
pub(crate) fn decode(capture: &AudioCapture) -> Result<Decoded, String> {
    let config = capture
        .config
        .as_ref()
        .ok_or("no audio track configuration")?;
    let codec = config.codec.clone().unwrap_or_default();
    let CodecRecord::Aac(asc) = &config.record else {
        return Err(format!("audio codec '{codec}' is not AAC"));
    };
    let units = &capture.units;
    if units.is_empty() {
        return Err("no audio access units".into());
    }
    let mut params = CodecParameters::new();
    params
        .for_codec(CODEC_TYPE_AAC)
        .with_extra_data(asc.clone().into_boxed_slice());
    let mut decoder =
        symphonia::default::codecs::AacDecoder::try_new(&params, &DecoderOptions::default())
            .map_err(|e| format!("AAC decoder: {e}"))?;
    let (mut samples, mut sample_rate, mut channels) = (0u64, 0u32, 0usize);
    let mut sum_sq = 0f64;
    let mut tone = Goertzel::default();
    let mut buf: Option<SampleBuffer<f32>> = None;
    for (i, unit) in units.iter().enumerate() {
        let packet = Packet::new_from_slice(0, i as u64 * 1024, 1024, unit);
        let decoded = decoder
            .decode(&packet)
            .map_err(|e| format!("AAC frame {i}: {e}"))?;
        let spec = *decoded.spec();
        sample_rate = spec.rate;
        channels = spec.channels.count();
        let b = buf.get_or_insert_with(|| SampleBuffer::new(decoded.capacity() as u64, spec));
        b.copy_interleaved_ref(decoded);
        for frame in b.samples().chunks(channels.max(1)) {
            let x = f64::from(frame[0]);
            sum_sq += x * x;
            tone.push(x, sample_rate);
            samples += 1;
        }
    }
    let seconds = samples as f64 / f64::from(sample_rate.max(1));
    Ok(Decoded {
        codec,
        frames: units.len() as u64,
        samples,
        sample_rate,
        channels,
        seconds,
        rms: (sum_sq / samples.max(1) as f64).sqrt(),
        tone_440: tone.energy / sum_sq.max(f64::MIN_POSITIVE),
    })
}

/// Energy at 440 Hz, block by block.
#[derive(Default)]
struct Goertzel {
    s1: f64,
    s2: f64,
    n: usize,
    energy: f64,
}

impl Goertzel {
    const HZ: f64 = 440.0;

    fn push(&mut self, x: f64, rate: u32) {
        let block = (rate / 10).max(1) as usize; // 0.1 s: a whole number of 440 Hz cycles
        let coeff = 2.0 * (2.0 * std::f64::consts::PI * Self::HZ / f64::from(rate.max(1))).cos();
        let s0 = x + coeff * self.s1 - self.s2;
        self.s2 = self.s1;
        self.s1 = s0;
        self.n += 1;
        if self.n == block {
            let power = self.s1 * self.s1 + self.s2 * self.s2 - coeff * self.s1 * self.s2;
            // |X|^2 * 2 / N is the energy of a sinusoid at the bin frequency.
            self.energy += 2.0 * power / block as f64;
            (self.s1, self.s2, self.n) = (0.0, 0.0, 0);
        }
    }
}
