//! Decodes the audio a session fetched with symphonia's AAC decoder: proof that the bytes
//! the engine asked for and handed to the decoder are real media, whatever the container.
//!
//! Access units come from the core's media readers: `trun` samples of fMP4 (the
//! AudioSpecificConfig from `esds`), ADTS frames in MPEG-TS PES, and for Smooth Streaming
//! (no init segment) `trun` samples with the manifest's `CodecPrivateData`.

use playhead::Timescale;
use playhead::media::{self, InitInfo, SampleEntry, TrackInfo, TrexDefaults};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_AAC, CodecParameters, Decoder as _, DecoderOptions};
use symphonia::core::formats::Packet;

use crate::host::AudioCapture;

/// What came out of the decoder.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Decoded {
    /// Container the access units came from.
    pub container: &'static str,
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

/// Decodes every access unit of `capture`. `smooth_config` is the track's
/// AudioSpecificConfig when the segments have no init segment (Smooth Streaming).
pub(crate) fn decode(
    capture: &AudioCapture,
    smooth_config: Option<&[u8]>,
) -> Result<Decoded, String> {
    let (container, asc, units) = access_units(capture, smooth_config)?;
    if units.is_empty() {
        return Err("no audio access units".into());
    }
    let mut params = CodecParameters::new();
    params
        .for_codec(CODEC_TYPE_AAC)
        .with_extra_data(asc.into_boxed_slice());
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
        container,
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

type Units = (&'static str, Vec<u8>, Vec<Vec<u8>>);

fn access_units(capture: &AudioCapture, smooth_config: Option<&[u8]>) -> Result<Units, String> {
    let first = capture.segments.first().ok_or("no audio segments")?;
    if first.first() == Some(&0x47) {
        let mut asc = Vec::new();
        let mut units = Vec::new();
        for seg in &capture.segments {
            for pes in media::demux(seg).map_err(|e| format!("MPEG-TS: {e}"))? {
                if pes.stream_type != 0x0f {
                    continue;
                }
                for f in media::adts_frames(&pes.data).map_err(|e| format!("ADTS: {e}"))? {
                    asc = f.audio_specific_config.to_vec();
                    units.push(pes.data[f.payload].to_vec());
                }
            }
        }
        return Ok(("MPEG-TS", asc, units));
    }
    let (container, init) = if capture.init.is_empty() {
        let asc = smooth_config.ok_or("fragments without an init segment or CodecPrivateData")?;
        ("Smooth", smooth_init(first, asc)?)
    } else {
        let init = media::parse_init(&capture.init).map_err(|e| format!("init segment: {e}"))?;
        ("fMP4", init)
    };
    let asc = init
        .tracks
        .iter()
        .find_map(|t| match &t.sample_entry {
            SampleEntry::Mp4a {
                audio_specific_config,
                ..
            } => Some(audio_specific_config.clone()),
            _ => None,
        })
        .ok_or("no AAC track in the init segment")?;
    let mut units = Vec::new();
    for seg in &capture.segments {
        for run in media::parse_fragment(seg, &init).map_err(|e| format!("{container}: {e}"))? {
            units.extend(run.samples.iter().map(|s| seg[s.data.clone()].to_vec()));
        }
    }
    Ok((container, asc, units))
}

/// What a Smooth client knows before the first fragment: the track id from the fragment's
/// `tfhd`, the 100 ns timescale and the manifest's AudioSpecificConfig.
fn smooth_init(fragment: &[u8], asc: &[u8]) -> Result<InitInfo, String> {
    let tfhd = media::find(fragment, &[*b"moof", *b"traf", *b"tfhd"])
        .map_err(|e| format!("Smooth fragment: {e}"))?
        .ok_or("Smooth fragment without tfhd")?;
    let id = tfhd.body.get(4..8).ok_or("short tfhd")?;
    Ok(InitInfo {
        tracks: vec![TrackInfo {
            track_id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
            timescale: Timescale::new(10_000_000).ok_or("timescale")?,
            handler: media::Handler::Audio,
            sample_entry: SampleEntry::Mp4a {
                channels: 2,
                sample_rate: 48_000,
                object_type_indication: 0x40,
                audio_specific_config: asc.to_vec(),
            },
            encrypted: false,
            defaults: TrexDefaults {
                duration: 0,
                size: 0,
                flags: 0,
            },
        }],
    })
}
