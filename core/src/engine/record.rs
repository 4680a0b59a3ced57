//! Recording a session's inputs and replaying them.
//!
//! The engine is a pure function of its configuration and its timed inputs, so a file
//! holding both reproduces every decision of a field session: what was fetched, from
//! where, at which quality, and why it stalled. Format: the magic `PHREC` + version byte,
//! then the [`Config`] and one record per input, each in
//! [postcard](https://docs.rs/postcard) (compact varint binary): a tag byte and the
//! `(Now, Input)`. Media bodies the host kept are recorded by size only; a body the engine
//! read (a live playlist, refreshed every few seconds) is stored as a delta against one of
//! the last [`RING`] bodies when that is smaller (tag `1 + slot`), so a two-hour session with
//! a two-hour DVR playlist stays small.

use super::config::Config;
use super::io::{Body, Input, Now, Output};
use super::player::{InputError, Player};

const MAGIC: &[u8; 6] = b"PHREC\x02";

/// Bodies kept as delta bases.
pub const RING: usize = 4;
const BLOCK: usize = 16;

/// `new` as copy and literal operations against `old`: varints
/// `(literal length, literal bytes, copy start, copy length)` until the last literal.
fn delta(old: &[u8], new: &[u8]) -> Vec<u8> {
    use std::collections::HashMap;
    let mut index: HashMap<&[u8], usize> = HashMap::new();
    for (k, block) in old.chunks_exact(BLOCK).enumerate() {
        index.entry(block).or_insert(k * BLOCK);
    }
    let mut out = Vec::new();
    let mut lit_start = 0;
    let mut i = 0;
    while i + BLOCK <= new.len() {
        let Some(&at) = index.get(&new[i..i + BLOCK]) else {
            i += 1;
            continue;
        };
        // Extend the match both ways.
        let (mut a, mut b) = (at, i);
        while a > 0 && b > lit_start && old[a - 1] == new[b - 1] {
            a -= 1;
            b -= 1;
        }
        let mut len = i - b + BLOCK;
        while a + len < old.len() && b + len < new.len() && old[a + len] == new[b + len] {
            len += 1;
        }
        put(&mut out, (b - lit_start) as u64);
        out.extend_from_slice(&new[lit_start..b]);
        put(&mut out, a as u64);
        put(&mut out, len as u64);
        i = b + len;
        lit_start = i;
    }
    put(&mut out, (new.len() - lit_start) as u64);
    out.extend_from_slice(&new[lit_start..]);
    out
}

fn put(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7F) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn get(input: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = input.split_first()?;
        *input = rest;
        v |= u64::from(b & 0x7F) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// Largest body a delta may rebuild.
const MAX_BODY: usize = 64 << 20;

/// Rebuilds a body from `ops` against `old`; `None` when the operations do not fit or the
/// body would exceed [`MAX_BODY`].
fn undelta(old: &[u8], mut ops: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        if out.len() > MAX_BODY {
            return None;
        }
        let lit = usize::try_from(get(&mut ops)?).ok()?;
        out.extend_from_slice(ops.get(..lit)?);
        ops = ops.get(lit..)?;
        if ops.is_empty() {
            return Some(out);
        }
        let at = usize::try_from(get(&mut ops)?).ok()?;
        let len = usize::try_from(get(&mut ops)?).ok()?;
        out.extend_from_slice(old.get(at..at.checked_add(len)?)?);
    }
}

/// Why a recording could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// Not a recording, or another version.
    #[error("not a Playhead recording (bad magic or version)")]
    Magic,
    /// A record could not be decoded.
    #[error("record {index} is corrupt: {detail}")]
    Corrupt {
        /// 0 is the configuration.
        index: usize,
        /// Decoder message.
        detail: String,
    },
    /// Replaying an input was refused by the engine.
    #[error("replay: input {index} refused: {error}")]
    Refused {
        /// Input index.
        index: usize,
        /// The engine's error.
        error: InputError,
    },
}

/// Appends records to a growing buffer.
#[derive(Debug, Clone)]
pub struct Recorder {
    buf: Vec<u8>,
    inputs: usize,
    ring: Vec<Vec<u8>>,
}

impl Recorder {
    /// Starts a recording of a player created with `config`.
    pub fn new(config: &Config) -> Recorder {
        let mut buf = MAGIC.to_vec();
        // Serializing plain data into a Vec cannot fail.
        if let Ok(b) = postcard::to_extend(config, std::mem::take(&mut buf)) {
            buf = b;
        }
        Recorder {
            buf,
            inputs: 0,
            ring: Vec::new(),
        }
    }

    /// Records one input (call it with exactly what is passed to `handle_input`).
    pub fn record(&mut self, now: Now, input: &Input) {
        let mut tag = 0u8;
        let mut delta_input = None;
        if let Input::Response(r) = input {
            if let Body::Bytes(body) = &r.body {
                let best = self
                    .ring
                    .iter()
                    .enumerate()
                    .map(|(k, old)| (k, delta(old, body)))
                    .min_by_key(|(_, d)| d.len());
                if let Some((k, d)) = best.filter(|(_, d)| d.len() < body.len()) {
                    tag = 1 + k as u8;
                    let mut r = r.clone();
                    r.body = Body::Bytes(d);
                    delta_input = Some(Input::Response(r));
                }
                if self.ring.len() == RING {
                    self.ring.remove(0);
                }
                self.ring.push(body.clone());
            }
        }
        let input = delta_input.as_ref().unwrap_or(input);
        if let Ok(b) = postcard::to_extend(&(tag, now, input), std::mem::take(&mut self.buf)) {
            self.buf = b;
            self.inputs += 1;
        }
    }

    /// Inputs recorded so far.
    pub fn len(&self) -> usize {
        self.inputs
    }

    /// True before the first input.
    pub fn is_empty(&self) -> bool {
        self.inputs == 0
    }

    /// The bytes so far.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The finished file.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// A decoded recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// The configuration the player was created with.
    pub config: Config,
    /// The inputs with their times.
    pub inputs: Vec<(Now, Input)>,
}

/// Decodes a recording.
pub fn read(bytes: &[u8]) -> Result<Recording, RecordError> {
    let mut rest = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or(RecordError::Magic)?;
    let corrupt = |index: usize, e: postcard::Error| RecordError::Corrupt {
        index,
        detail: e.to_string(),
    };
    let (config, r) = postcard::take_from_bytes::<Config>(rest).map_err(|e| corrupt(0, e))?;
    rest = r;
    let mut inputs = Vec::new();
    let mut ring: Vec<Vec<u8>> = Vec::new();
    while !rest.is_empty() {
        let index = inputs.len() + 1;
        let ((tag, now, mut input), r) =
            postcard::take_from_bytes::<(u8, Now, Input)>(rest).map_err(|e| corrupt(index, e))?;
        rest = r;
        if let Input::Response(resp) = &mut input {
            if let Body::Bytes(body) = &mut resp.body {
                if tag > 0 {
                    let bad = || RecordError::Corrupt {
                        index,
                        detail: "bad body delta".into(),
                    };
                    let old = ring.get(usize::from(tag - 1)).ok_or_else(bad)?;
                    *body = undelta(old, body).ok_or_else(bad)?;
                }
                if ring.len() == RING {
                    ring.remove(0);
                }
                ring.push(body.clone());
            }
        }
        inputs.push((now, input));
    }

    Ok(Recording { config, inputs })
}

/// Replays a recording through a new player; `sink` sees every output, in order, with the
/// time of the input that produced it.
pub fn replay(
    recording: &Recording,
    mut sink: impl FnMut(Now, &Output),
) -> Result<Player, RecordError> {
    let mut player = Player::new(recording.config.clone());
    for (index, (now, input)) in recording.inputs.iter().enumerate() {
        player
            .handle_input(*now, input.clone())
            .map_err(|error| RecordError::Refused { index, error })?;
        loop {
            let o = player.poll_output();
            sink(*now, &o);
            if matches!(o, Output::Timeout(_)) {
                break;
            }
        }
    }
    Ok(player)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_round_trip_and_shrink_sliding_playlists() {
        let list = |from: u32| {
            let mut s = format!("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:{from}\n");
            for k in from..from + 500 {
                s.push_str(&format!("#EXTINF:2.000,\nseg/{k}.m4s\n"));
            }
            s.into_bytes()
        };
        let (a, b) = (list(100), list(101));
        let d = delta(&a, &b);
        assert!(d.len() < 100, "{} bytes", d.len());
        assert_eq!(undelta(&a, &d).unwrap(), b);
        let cases: [(&[u8], &[u8]); 3] = [
            (b"", b"abc"),
            (b"abc", b""),
            (b"0123456789abcdefXYZ", b"Q0123456789abcdefXYZQ"),
        ];
        for (old, new) in cases {
            assert_eq!(undelta(old, &delta(old, new)).unwrap(), new);
        }
        assert_eq!(undelta(b"abc", &[0, 5, 10]), None, "copy past the end");
    }
}
