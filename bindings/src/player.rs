//! The player object, its error, and the host's log callback.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use playhead::engine::record::{self, RecordError};
use playhead::engine::{self, Config, Event, Input, InputError, Now, Output, TrackInfo};

use crate::types::Stats;

/// What went wrong, by what the host should do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum PlayerError {
    /// The call broke the calling contract (a response to a request never made, time going
    /// back): fix the host. The input was ignored; the player carries on.
    #[error("input refused ({kind}): {reason}")]
    InvalidInput {
        /// `unknown-request` or `time-went-back`.
        kind: String,
        /// What was wrong.
        reason: String,
    },
    /// Bytes handed over could not be read (a recording): nothing was changed.
    #[error("unreadable: {reason}")]
    Unreadable {
        /// Why.
        reason: String,
    },
    /// The engine failed inside (a bug, caught): this player refuses every later call;
    /// create a new one (and report the reason).
    #[error("internal failure: {reason}")]
    Internal {
        /// The panic message.
        reason: String,
    },
}

impl From<InputError> for PlayerError {
    fn from(e: InputError) -> Self {
        PlayerError::InvalidInput {
            kind: e.variant().to_owned(),
            reason: e.to_string(),
        }
    }
}

/// How much a log line matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, uniffi::Enum)]
pub enum LogLevel {
    /// Every output the engine gives (requests, media, CDM calls), one line each.
    Debug,
    /// Events (track switches, live window, retries, stalls).
    Info,
    /// Refused inputs (a host bug).
    Warn,
    /// Fatal errors, and engine failures.
    Error,
}

/// The host's own failure, reported from a callback.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum HostError {
    /// The callback failed (threw); the engine ignores it and carries on.
    #[error("host callback failed: {reason}")]
    Failed {
        /// The host's message.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for HostError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        HostError::Failed { reason: e.reason }
    }
}

/// Receives the player's log lines (Logcat, `os_log`, Python `logging`). Called on the
/// thread that called the player, after the player's lock is released. An exception
/// thrown here is caught and counted ([`Player::callback_failures`]), never propagated.
#[uniffi::export(foreign)]
pub trait LogSink: Send + Sync {
    /// One line.
    fn log(&self, level: LogLevel, message: String) -> Result<(), HostError>;
}

/// One recorded input with its time.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TimedInput {
    /// When it was fed.
    pub now: Now,
    /// The input.
    pub input: Input,
}

/// A session recording: the configuration and every input, in order. Feeding them to a
/// new player reproduces the session's outputs exactly.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Recording {
    /// The configuration the player was created with.
    pub config: Config,
    /// The inputs.
    pub inputs: Vec<TimedInput>,
}

/// Reads a recording made with the engine's recorder (the CLI's `--record`, the
/// conformance scenarios).
#[uniffi::export]
pub fn read_recording(bytes: Vec<u8>) -> Result<Recording, PlayerError> {
    let rec = record::read(&bytes).map_err(|e: RecordError| PlayerError::Unreadable {
        reason: e.to_string(),
    })?;
    Ok(Recording {
        config: rec.config,
        inputs: rec
            .inputs
            .into_iter()
            .map(|(now, input)| TimedInput { now, input })
            .collect(),
    })
}

struct Inner {
    engine: engine::Player,
    /// Set by a caught panic: the engine's state is unknown from then on.
    broken: Option<String>,
    callback_failures: u64,
}

/// The engine, for one presentation at a time. Feed every input with the time, then
/// drain [`Player::poll_output`] until it returns `Output.Timeout`.
#[derive(uniffi::Object)]
pub struct Player {
    inner: Mutex<Inner>,
    log: Option<Arc<dyn LogSink>>,
    level: LogLevel,
}

impl Player {
    /// Runs `f` on the engine under the lock, a panic caught and turned into
    /// [`PlayerError::Internal`]; then hands the log lines to the sink, unlocked.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut engine::Player, &mut Vec<(LogLevel, String)>) -> Result<T, PlayerError>,
    ) -> Result<T, PlayerError> {
        let mut lines = Vec::new();
        let result = {
            let mut guard = self.inner.lock().map_err(|_| PlayerError::Internal {
                reason: "the player's lock is poisoned".to_owned(),
            })?;
            let inner = &mut *guard;
            if let Some(reason) = &inner.broken {
                return Err(PlayerError::Internal {
                    reason: reason.clone(),
                });
            }
            match catch_unwind(AssertUnwindSafe(|| f(&mut inner.engine, &mut lines))) {
                Ok(result) => result,
                Err(payload) => {
                    let reason = panic_message(payload.as_ref());
                    lines.push((LogLevel::Error, format!("engine failure: {reason}")));
                    inner.broken = Some(reason.clone());
                    Err(PlayerError::Internal { reason })
                }
            }
        };
        self.emit(lines);
        result
    }

    fn emit(&self, lines: Vec<(LogLevel, String)>) {
        let Some(sink) = &self.log else { return };
        let mut failures = 0;
        for (level, line) in lines {
            if level >= self.level && sink.log(level, line).is_err() {
                failures += 1;
            }
        }
        if failures > 0 {
            if let Ok(mut inner) = self.inner.lock() {
                inner.callback_failures += failures;
            }
        }
    }
}

#[uniffi::export]
impl Player {
    /// A player with `config`; `log` receives lines at `level` and above.
    #[uniffi::constructor]
    pub fn new(config: Config, log: Option<Arc<dyn LogSink>>, level: LogLevel) -> Self {
        Player {
            inner: Mutex::new(Inner {
                engine: engine::Player::new(config),
                broken: None,
                callback_failures: 0,
            }),
            log,
            level,
        }
    }

    /// Feeds one input at `now`.
    pub fn handle_input(&self, now: Now, input: Input) -> Result<(), PlayerError> {
        self.with(|engine, log| {
            engine.handle_input(now, input).map_err(|e| {
                log.push((LogLevel::Warn, format!("input refused: {e}")));
                PlayerError::from(e)
            })
        })
    }

    /// The next output; `Output.Timeout` when there is nothing more until the next input.
    pub fn poll_output(&self) -> Result<Output, PlayerError> {
        let level = self.level;
        self.with(|engine, log| {
            let output = engine.poll_output();
            if level == LogLevel::Debug || matches!(output, Output::Event(_)) {
                if let Some(line) = output.describe() {
                    let at = match &output {
                        Output::Event(Event::Error(_)) => LogLevel::Error,
                        Output::Event(_) => LogLevel::Info,
                        _ => LogLevel::Debug,
                    };
                    log.push((at, line));
                }
            }
            Ok(output)
        })
    }

    /// Statistics since load.
    pub fn stats(&self) -> Result<Stats, PlayerError> {
        self.with(|engine, _| Ok(Stats::from(engine.stats())))
    }

    /// The loaded presentation's tracks (empty before the manifest arrives).
    pub fn tracks(&self) -> Result<Vec<TrackInfo>, PlayerError> {
        self.with(|engine, _| Ok(engine.tracks()))
    }

    /// How many times the log callback failed (threw).
    pub fn callback_failures(&self) -> u64 {
        self.inner.lock().map_or(0, |inner| inner.callback_failures)
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    struct Lines(Mutex<Vec<String>>);
    impl LogSink for Lines {
        fn log(&self, level: LogLevel, message: String) -> Result<(), HostError> {
            self.0.lock().unwrap().push(format!("{level:?} {message}"));
            Ok(())
        }
    }

    #[test]
    fn a_panic_inside_becomes_an_internal_error_and_the_player_stays_refusing() {
        let lines = Arc::new(Lines(Mutex::new(Vec::new())));
        let player = Player::new(Config::default(), Some(lines.clone()), LogLevel::Debug);
        let r: Result<(), _> = player.with(|_, _| panic!("boom"));
        assert_eq!(
            r,
            Err(PlayerError::Internal {
                reason: "boom".into()
            })
        );
        // Later calls are refused, not run on an engine in an unknown state.
        assert!(matches!(player.stats(), Err(PlayerError::Internal { .. })));
        assert_eq!(
            lines.0.lock().unwrap().as_slice(),
            ["Error engine failure: boom"]
        );
    }

    #[test]
    fn refused_inputs_are_typed_and_logged() {
        let lines = Arc::new(Lines(Mutex::new(Vec::new())));
        let player = Player::new(Config::default(), Some(lines.clone()), LogLevel::Warn);
        let now = Now {
            mono: playhead::Micros(0),
            wall: playhead::UnixMicros(0),
        };
        let e = player.handle_input(now, Input::Timeout).and_then(|()| {
            player.handle_input(
                now,
                Input::Failed {
                    id: engine::RequestId(9),
                    class: engine::FailureClass::Network,
                    detail: String::new(),
                },
            )
        });
        assert!(
            matches!(&e, Err(PlayerError::InvalidInput { kind, .. }) if kind == "unknown-request"),
            "{e:?}"
        );
        assert_eq!(
            lines.0.lock().unwrap().as_slice(),
            ["Warn input refused: no request #9 was ever made"]
        );
        assert!(player.poll_output().is_ok());
    }
}
