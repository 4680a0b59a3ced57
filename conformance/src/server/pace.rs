//! Pacing: media bytes leave through one shared link whose throughput follows a trace, in
//! chunks, each reserving its slot on the link (first come, first served), so parallel
//! transfers share it roughly fairly.

use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::{Body, Frame};
use playhead::Micros;
use tokio::sync::mpsc;

use crate::sim::net::Trace;

/// Bytes per reservation on the link.
const CHUNK: usize = 16 * 1024;

/// The shared link.
pub(super) struct Link {
    trace: Trace,
    /// When the link is next free.
    free_at: Mutex<Option<Instant>>,
}

impl Link {
    pub(super) fn new(trace: Trace) -> Link {
        Link {
            trace,
            free_at: Mutex::new(None),
        }
    }

    /// Reserves the link for `bytes`; returns when to send them.
    fn reserve(&self, bytes: usize, started: Instant) -> Instant {
        let now = Instant::now();
        let Ok(mut free) = self.free_at.lock() else {
            return now;
        };
        let at = free.map_or(now, |f| f.max(now));
        let since = Micros(i64::try_from(at.duration_since(started).as_micros()).unwrap_or(0));
        let (bps, _) = self.trace.at(since);
        let us = (bytes as u64 * 8 * 1_000_000) / bps.max(1);
        *free = Some(at + Duration::from_micros(us));
        at
    }
}

/// How a streamed body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    /// Complete.
    Done,
    /// The connection drops (a truncated body).
    Drop,
    /// Nothing more is sent, for an hour.
    Hang,
}

/// Streams `body` through `link` into `tx`, then ends as told.
pub(super) async fn send(
    body: Bytes,
    end: End,
    link: Option<&Link>,
    started: Instant,
    tx: &mpsc::Sender<Result<Bytes, std::io::Error>>,
    sent: &AtomicU64,
) {
    let mut off = 0;
    while off < body.len() {
        let n = CHUNK.min(body.len() - off);
        if let Some(link) = link {
            tokio::time::sleep_until(link.reserve(n, started).into()).await;
        }
        if tx.send(Ok(body.slice(off..off + n))).await.is_err() {
            return; // the client went away
        }
        sent.fetch_add(n as u64, Ordering::Relaxed);
        off += n;
    }
    match end {
        End::Done => {}
        End::Drop => {
            let _ = tx
                .send(Err(std::io::Error::other("injected: truncated")))
                .await;
        }
        End::Hang => {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
                _ = tx.closed() => {}
            }
        }
    }
}

/// A response body fed by a channel.
pub(super) struct ChannelBody {
    rx: mpsc::Receiver<Result<Bytes, std::io::Error>>,
}

impl ChannelBody {
    pub(super) fn new(rx: mpsc::Receiver<Result<Bytes, std::io::Error>>) -> ChannelBody {
        ChannelBody { rx }
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.rx.poll_recv(cx).map(|o| o.map(|r| r.map(Frame::data)))
    }
}
