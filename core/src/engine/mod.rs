//! The sans-IO playback engine.
//!
//! The engine decides what to fetch, when, from which location and at which quality, and
//! what to hand the host's decoder. It owns **no sockets, no clocks, no threads and no
//! async**: the host performs the requests it asks for, tells it the time, and reports its
//! player's state. The same engine therefore runs in a browser, on a phone, in the CLI and
//! in a deterministic simulation that replays hours of playback in milliseconds.
//!
//! # Calling contract
//! 1. Create a [`Player`] with a [`Config`].
//! 2. Feed every input with the current time: [`Player::handle_input`]`(now, input)`.
//! 3. After each input, drain [`Player::poll_output`] until it returns
//!    [`Output::Timeout`]; perform the requests, append the media, show the events.
//! 4. When the timeout passes, feed [`Input::Timeout`].
//!
//! ```
//! use playhead::engine::{Command, Config, Input, Now, Output, Player, Source};
//! use playhead::{Micros, UnixMicros};
//!
//! let mut player = Player::new(Config::default());
//! let now = Now { mono: Micros(0), wall: UnixMicros(1_700_000_000_000_000) };
//! let load = Command::Load {
//!     sources: vec![Source { url: "https://cdn.example/live/master.m3u8".into(), cdn: None, priority: 0 }],
//!     start: None,
//! };
//! player.handle_input(now, Input::Command(load)).unwrap();
//! let mut requests = Vec::new();
//! loop {
//!     match player.poll_output() {
//!         Output::Request(r) => requests.push(r),
//!         Output::Timeout(_) => break,
//!         _ => {}
//!     }
//! }
//! assert_eq!(requests[0].url, "https://cdn.example/live/master.m3u8");
//! ```
//!
//! Media bytes need not pass through the engine: a media request says
//! [`Delivery::Host`], the host keeps the body, answers with [`Body::Held`] and appends
//! the bytes when [`Output::Media`] names the request.

mod abr;
mod capping;
mod clock;
mod config;
mod cues;
mod drm;
mod event;
mod fetch;
mod io;
mod locations;
mod player;
mod playlists;
mod profiles;
#[cfg(feature = "record")]
pub mod record;
mod retry;
mod select;
mod session;
mod sink;
mod stats;
mod steering;
mod streams;
mod timeline;

pub use config::{
    AbrConfig, BufferGoals, Capabilities, Config, DroppedFrames, HdcpLevel, Preferences,
    RetryPolicies, RetryPolicy, Size,
};
pub use cues::{Cue, CueKind, CueSource};
pub use event::{ErrorClass, Event, FatalError, LiveWindow, LocationReason, SwitchReason};
pub use io::{
    Body, Buffered, CdmEvent, CdmRequest, Command, Delivery, DrmSessionId, FailureClass, Input,
    KeyStatusEntry, Media, Method, Now, Output, PlayState, Playback, Request, RequestId,
    RequestKind, Response, SeekTarget, Source, TimestampOffset, TrackInfo,
};
pub use player::{InputError, Player};
pub use profiles::{DeviceProfile, ProfileError, device_profile, device_profiles, parse_profiles};
pub use sink::{Payload, SinkMode};
pub use stats::{Stats, Switch};
