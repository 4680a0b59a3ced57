//! Recording a session's inputs and replaying them.
//!
//! The engine is a pure function of its configuration and its timed inputs, so a file
//! holding both reproduces every decision of a field session: what was fetched, from
//! where, at which quality, and why it stalled. Format: the magic `PHREC` + version byte,
//! then the [`Config`] and one `(Now, Input)` record after another, each in
//! [postcard](https://docs.rs/postcard) (compact varint binary). Media bodies the host kept
//! are recorded by size only, so a two-hour session stays small.

use super::config::Config;
use super::io::{Input, Now, Output};
use super::player::{InputError, Player};

const MAGIC: &[u8; 6] = b"PHREC\x01";

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
}

impl Recorder {
    /// Starts a recording of a player created with `config`.
    pub fn new(config: &Config) -> Recorder {
        let mut buf = MAGIC.to_vec();
        // Serializing plain data into a Vec cannot fail.
        if let Ok(b) = postcard::to_extend(config, std::mem::take(&mut buf)) {
            buf = b;
        }
        Recorder { buf, inputs: 0 }
    }

    /// Records one input (call it with exactly what is passed to `handle_input`).
    pub fn record(&mut self, now: Now, input: &Input) {
        if let Ok(b) = postcard::to_extend(&(now, input), std::mem::take(&mut self.buf)) {
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
    while !rest.is_empty() {
        let (record, r) = postcard::take_from_bytes::<(Now, Input)>(rest)
            .map_err(|e| corrupt(inputs.len() + 1, e))?;
        inputs.push(record);
        rest = r;
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
