//! The test origin over real HTTP on loopback: the bundled asset as a live (or VOD) stream
//! in every format at once, on several "CDN" ports, with a content steering server, a time
//! server, a ClearKey license server and fault injection. Think DASH-IF livesim2 plus a
//! chaos proxy.
//!
//! Ports: the services port (steering `/steer`, time `/now`, ClearKey `/license/clearkey`,
//! HLS keys `/keys/{key id in 32 hex digits}`, control `/control/outage?cdn=N&seconds=S`, an
//! index at `/`), then one port per CDN. Every CDN serves each format under its own prefix
//! ([`prefix`]): `hls/master.m3u8`, `hls-ts/master.m3u8`, `dash/manifest.mpd`,
//! `dash-timeline/manifest.mpd`, `smooth/stream.ism/Manifest`.
//!
//! Protected presentations ([`Protected`], [`OriginServer::url_protected`]) have prefixes of
//! their own: `dash-cenc/manifest.mpd` and `dash-cbcs/manifest.mpd` (ClearKey, the audio and
//! the 144p video as Shaka Packager encrypted them), `hls-ts-aes/master.m3u8` and
//! `hls-fmp4-aes/master.m3u8` (whole-segment AES-128, encrypted on the fly). Both key
//! services answer from one key list, [`ServerConfig::clearkey`], which defaults to the
//! asset's test key ([`TEST_KID`], [`TEST_KEY`]): the license server hands out JWK sets, and
//! `GET /keys/{kid}` the 16 raw key bytes (`application/octet-stream`; 404 for a key id not
//! in the list, 400 for anything but 32 hex digits). Giving the test key id another key makes both hand out a wrong key, while
//! the media stays encrypted with the test key.
//!
//! Faults ([`Fault`], times from the server's start) match a substring of the full URL:
//! a status code, a refused connection (closed without an answer), a black hole (no answer
//! for an hour), a delay before the answer, a truncated body (half, then the connection
//! drops), a stall (half, then nothing), a frozen manifest. Media bytes are paced through
//! one shared link whose throughput follows a [`Trace`].

mod clearkey;
mod faults;
mod pace;
mod services;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use playhead::{Micros, UnixMicros};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::asset::{Asset, AssetError, SEGMENT};
use crate::sim::net::{Fault, Trace};
use crate::sim::origin::{
    CencScheme, LiveConfig, Origin, OriginFormat, Protection, Served, SteeringConfig, TEST_KEY,
    TEST_KID,
};

pub use clearkey::ClearKey;
use faults::Twist;
use pace::{ChannelBody, Link};

/// Every format the server speaks.
pub const FORMATS: [OriginFormat; 5] = [
    OriginFormat::HlsFmp4,
    OriginFormat::HlsTs,
    OriginFormat::DashTemplate,
    OriginFormat::DashTimeline,
    OriginFormat::Smooth,
];

/// The path prefix of a format on every CDN.
pub fn prefix(format: OriginFormat) -> &'static str {
    match format {
        OriginFormat::HlsFmp4 => "hls",
        OriginFormat::HlsTs => "hls-ts",
        OriginFormat::DashTemplate => "dash",
        OriginFormat::DashTimeline => "dash-timeline",
        OriginFormat::Smooth => "smooth",
    }
}

/// A protected presentation, served beside the clear [`FORMATS`] under its own prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protected {
    /// `dash-cenc`: DASH `$Number$` template, CENC `cenc` (AES-CTR), ClearKey.
    DashCenc,
    /// `dash-cbcs`: DASH `$Number$` template, CENC `cbcs` (AES-CBC pattern), ClearKey.
    DashCbcs,
    /// `hls-ts-aes`: HLS with MPEG-TS segments, whole-segment AES-128.
    HlsTsAes,
    /// `hls-fmp4-aes`: HLS with fMP4 segments, whole-segment AES-128.
    HlsFmp4Aes,
}

/// Every protected presentation the server offers.
pub const PROTECTED: [Protected; 4] = [
    Protected::DashCenc,
    Protected::DashCbcs,
    Protected::HlsTsAes,
    Protected::HlsFmp4Aes,
];

impl Protected {
    /// Its manifest format and segment addressing.
    pub fn format(self) -> OriginFormat {
        match self {
            Protected::DashCenc | Protected::DashCbcs => OriginFormat::DashTemplate,
            Protected::HlsTsAes => OriginFormat::HlsTs,
            Protected::HlsFmp4Aes => OriginFormat::HlsFmp4,
        }
    }

    /// How it is protected.
    pub fn protection(self) -> Protection {
        match self {
            Protected::DashCenc => Protection::Cenc {
                scheme: CencScheme::Cenc,
            },
            Protected::DashCbcs => Protection::Cenc {
                scheme: CencScheme::Cbcs,
            },
            Protected::HlsTsAes | Protected::HlsFmp4Aes => Protection::Aes128,
        }
    }

    /// Its path prefix on every CDN.
    pub fn prefix(self) -> &'static str {
        match self {
            Protected::DashCenc => "dash-cenc",
            Protected::DashCbcs => "dash-cbcs",
            Protected::HlsTsAes => "hls-ts-aes",
            Protected::HlsFmp4Aes => "hls-fmp4-aes",
        }
    }
}

/// Live timing of the served stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSpec {
    /// How far back the DVR window reaches.
    pub dvr_window: Micros,
    /// How much of the stream already exists when the server starts.
    pub preroll: Micros,
    /// Live-to-VOD: the stream ends this long after the server starts.
    pub end_after: Option<Micros>,
}

/// What the server does.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The asset folder ([`crate::asset::media_dir`]).
    pub media: PathBuf,
    /// CDN ports.
    pub cdns: usize,
    /// 0: any free ports; otherwise services on `port`, CDN `i` on `port + 1 + i`.
    pub port: u16,
    /// `None`: VOD.
    pub live: Option<LiveSpec>,
    /// Injected faults (`from`/`until` counted from the start).
    pub faults: Vec<Fault>,
    /// Throughput of the one link every media byte goes through (`None`: unshaped).
    pub trace: Option<Trace>,
    /// Added before every answer.
    pub latency: Micros,
    /// Content steering (HLS and DASH name the steering server).
    pub steering: bool,
    /// Keys (key id, key) the ClearKey license server and the HLS key endpoint hand out.
    /// Empty: the asset's test key alone ([`TEST_KID`], [`TEST_KEY`]).
    pub clearkey: Vec<([u8; 16], [u8; 16])>,
}

impl Default for ServerConfig {
    /// Live with a 2-minute DVR window (all of it already there), two CDNs, no faults.
    fn default() -> ServerConfig {
        ServerConfig {
            media: crate::asset::media_dir(),
            cdns: 2,
            port: 0,
            live: Some(LiveSpec {
                dvr_window: Micros(120_000_000),
                preroll: Micros(120_000_000),
                end_after: None,
            }),
            faults: Vec::new(),
            trace: None,
            latency: Micros::ZERO,
            steering: true,
            clearkey: Vec::new(),
        }
    }
}

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The asset.
    #[error(transparent)]
    Asset(#[from] AssetError),
    /// Binding a port.
    #[error("bind 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port asked for.
        port: u16,
        /// The error.
        source: std::io::Error,
    },
    /// Starting the runtime of [`OriginServer::background`].
    #[error("runtime: {0}")]
    Runtime(std::io::Error),
}

/// Counters since the start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ServerStats {
    /// Requests answered or refused.
    pub requests: u64,
    /// Body bytes sent.
    pub bytes: u64,
    /// Faults injected (including runtime outages).
    pub faults: u64,
    /// Answers with status 400 and above.
    pub errors: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    bytes: AtomicU64,
    faults: AtomicU64,
    errors: AtomicU64,
}

struct State {
    asset: Asset,
    /// One per [`FORMATS`] entry.
    origins: Vec<Origin>,
    /// One per [`PROTECTED`] entry.
    protected: Vec<Origin>,
    services: SocketAddr,
    cdns: Vec<SocketAddr>,
    started: Instant,
    started_wall: UnixMicros,
    faults: Mutex<Vec<Fault>>,
    /// Runtime outages: (CDN, until).
    outages: Mutex<Vec<(usize, Instant)>>,
    link: Option<Link>,
    latency: Duration,
    clearkey: ClearKey,
    counters: Counters,
}

type Body = BoxBody<Bytes, std::io::Error>;

/// A running origin. Dropping it stops the servers.
pub struct OriginServer {
    state: Arc<State>,
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl OriginServer {
    /// Starts the server on the current tokio runtime.
    pub async fn start(config: ServerConfig) -> Result<OriginServer, ServerError> {
        let asset = Asset::load(&config.media)?;
        let bind = |port: u16| async move {
            TcpListener::bind(("127.0.0.1", port))
                .await
                .map_err(|source| ServerError::Bind { port, source })
        };
        let services = bind(config.port).await?;
        let mut cdns = Vec::new();
        for i in 0..config.cdns.max(1) {
            let port = if config.port == 0 {
                0
            } else {
                config.port.saturating_add(1).saturating_add(i as u16)
            };
            cdns.push(bind(port).await?);
        }
        let addr = |l: &TcpListener| {
            l.local_addr()
                .map_err(|source| ServerError::Bind { port: 0, source })
        };
        let services_addr = addr(&services)?;
        let cdn_addrs = cdns.iter().map(addr).collect::<Result<Vec<_>, _>>()?;
        let started_wall = wall_now();
        let serve = |c| serve_config(c, &config, services_addr, &cdn_addrs, started_wall);
        let origins = FORMATS
            .iter()
            .map(|&f| {
                let mut c = asset.origin_config(f);
                c.prefix = prefix(f).into();
                Origin::new(serve(c))
            })
            .collect();
        let protected = PROTECTED
            .iter()
            .map(|&p| {
                let mut c = asset.protected_config(p.format(), p.protection());
                c.prefix = p.prefix().into();
                Origin::new(serve(c))
            })
            .collect();
        let keys = if config.clearkey.is_empty() {
            vec![(TEST_KID, TEST_KEY)]
        } else {
            config.clearkey.clone()
        };
        let state = Arc::new(State {
            asset,
            origins,
            protected,
            services: services_addr,
            cdns: cdn_addrs,
            started: Instant::now(),
            started_wall,
            faults: Mutex::new(config.faults),
            outages: Mutex::new(Vec::new()),
            link: config.trace.map(Link::new),
            latency: Duration::from_micros(config.latency.0.max(0).unsigned_abs()),
            clearkey: ClearKey::new(keys),
            counters: Counters::default(),
        });
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(accept(services, None, state.clone(), stopped.clone()));
        for (i, l) in cdns.into_iter().enumerate() {
            tokio::spawn(accept(l, Some(i), state.clone(), stopped.clone()));
        }
        Ok(OriginServer {
            state,
            stop,
            thread: None,
        })
    }

    /// Starts the server on a runtime of its own, in a background thread.
    pub fn background(config: ServerConfig) -> Result<OriginServer, ServerError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(ServerError::Runtime)?;
        let mut server = rt.block_on(OriginServer::start(config))?;
        let mut stopped = server.stop.subscribe();
        server.thread = Some(std::thread::spawn(move || {
            rt.block_on(async move {
                let _ = stopped.wait_for(|s| *s).await;
            });
        }));
        Ok(server)
    }

    /// The manifest URL of `format` on CDN `cdn`.
    pub fn url(&self, format: OriginFormat, cdn: usize) -> String {
        self.state.origin(format).manifest_url(cdn)
    }

    /// The manifest URL of the protected presentation `kind` on CDN `cdn`.
    pub fn url_protected(&self, kind: Protected, cdn: usize) -> String {
        self.state.protected_origin(kind).manifest_url(cdn)
    }

    /// `127.0.0.1:port` of CDN `cdn`.
    pub fn cdn_host(&self, cdn: usize) -> Option<String> {
        self.state.cdns.get(cdn).map(ToString::to_string)
    }

    /// The services address (steering, time, license, control).
    pub fn services(&self) -> SocketAddr {
        self.state.services
    }

    /// The ClearKey license URL.
    pub fn license_url(&self) -> String {
        format!("http://{}/license/clearkey", self.state.services)
    }

    /// The HLS key endpoint: the key of key id `K` is at `{key_url}/{K in 32 hex digits}`.
    pub fn key_url(&self) -> String {
        format!("http://{}/keys", self.state.services)
    }

    /// Makes CDN `cdn` refuse every connection for `span`, from now.
    pub fn fail_cdn(&self, cdn: usize, span: Duration) {
        self.state.fail_cdn(cdn, span);
    }

    /// Counters since the start.
    pub fn stats(&self) -> ServerStats {
        self.state.stats()
    }

    /// The wall-clock time the server started.
    pub fn started_wall(&self) -> UnixMicros {
        self.state.started_wall
    }
}

impl Drop for OriginServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `c` (an asset's configuration, its prefix set) as this server serves it: its hosts,
/// services and live timing.
fn serve_config(
    mut c: crate::sim::origin::OriginConfig,
    config: &ServerConfig,
    services: SocketAddr,
    cdns: &[SocketAddr],
    started: UnixMicros,
) -> crate::sim::origin::OriginConfig {
    c.hosts = cdns.iter().map(ToString::to_string).collect();
    c.scheme = "http".into();
    c.steering_url = format!("http://{services}/steer");
    c.time_url = format!("http://{services}/now");
    c.license_url = format!("http://{services}/license/clearkey");
    c.key_url = format!("http://{services}/keys");
    c.utc_timing = true;
    c.steering = config.steering.then(|| SteeringConfig {
        ttl_s: 5,
        schedule: Vec::new(),
    });
    c.live = config.live.as_ref().map(|l| {
        // Segment boundaries on whole multiples of the segment duration since the epoch.
        let first = started.0 - l.preroll.0.max(0);
        let ast = first - first.rem_euclid(SEGMENT.0);
        LiveConfig {
            availability_start: UnixMicros(ast),
            dvr_window: l.dvr_window,
            end: l.end_after.map(|e| UnixMicros(started.0 + e.0.max(0))),
        }
    });
    c
}

fn wall_now() -> UnixMicros {
    let d = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    UnixMicros(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

async fn accept(
    listener: TcpListener,
    cdn: Option<usize>,
    state: Arc<State>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let conn = tokio::select! {
            c = listener.accept() => c,
            _ = stop.wait_for(|s| *s) => return,
        };
        let Ok((stream, _)) = conn else { continue };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let state = state.clone();
                async move { state.handle(cdn, req).await }
            });
            let conn = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = conn => {}
                _ = stop.wait_for(|s| *s) => {}
            }
        });
    }
}

impl State {
    fn origin(&self, format: OriginFormat) -> &Origin {
        let i = FORMATS.iter().position(|f| *f == format).unwrap_or(0);
        &self.origins[i]
    }

    fn protected_origin(&self, kind: Protected) -> &Origin {
        let i = PROTECTED.iter().position(|p| *p == kind).unwrap_or(0);
        &self.protected[i]
    }

    fn stats(&self) -> ServerStats {
        let c = &self.counters;
        ServerStats {
            requests: c.requests.load(Ordering::Relaxed),
            bytes: c.bytes.load(Ordering::Relaxed),
            faults: c.faults.load(Ordering::Relaxed),
            errors: c.errors.load(Ordering::Relaxed),
        }
    }

    async fn handle(
        self: Arc<Self>,
        cdn: Option<usize>,
        req: Request<Incoming>,
    ) -> Result<Response<Body>, std::io::Error> {
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let host = cdn.map_or(self.services, |c| self.cdns[c]);
        let path = req
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let url = format!("http://{host}{path}");
        let twist = self.twist(cdn, &url);
        if !matches!(twist, Twist::None) {
            self.counters.faults.fetch_add(1, Ordering::Relaxed);
        }
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        let mut wall = wall_now();
        match twist {
            Twist::Refuse => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "injected: refused",
                ));
            }
            Twist::Blackhole => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return Err(std::io::Error::other("injected: black hole"));
            }
            Twist::Status(s) => return Ok(self.status(s, "injected fault")),
            Twist::Delay(d) => tokio::time::sleep(d).await,
            Twist::Freeze(at) => wall = at,
            Twist::None | Twist::Truncate | Twist::Stall => {}
        }
        if req.method() == Method::OPTIONS {
            return Ok(self.reply(StatusCode::NO_CONTENT, "text/plain", Bytes::new()));
        }
        let answer = match cdn {
            None => self.service(req, &path).await,
            Some(_) => self.cdn(&url, wall),
        };
        let (status, content_type, body, media) = match answer {
            Answer::Status(s, why) => return Ok(self.status(s, why)),
            Answer::Body {
                content_type,
                body,
                media,
            } => (StatusCode::OK, content_type, body, media),
        };
        if !media || (self.link.is_none() && matches!(twist, Twist::None)) {
            return Ok(self.reply(status, content_type, body));
        }
        // Paced, truncated or stalled: stream it.
        let full = body.len();
        let (cut, end) = match twist {
            Twist::Truncate => (full / 2, pace::End::Drop),
            Twist::Stall => (full / 2, pace::End::Hang),
            _ => (full, pace::End::Done),
        };
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let state = self.clone();
        tokio::spawn(async move {
            pace::send(
                body.slice(..cut),
                end,
                state.link.as_ref(),
                state.started,
                &tx,
                &state.counters.bytes,
            )
            .await;
        });
        let mut resp = Response::new(ChannelBody::new(rx).boxed());
        *resp.status_mut() = status;
        headers(&mut resp, content_type, Some(full));
        Ok(resp)
    }

    fn cdn(&self, url: &str, wall: UnixMicros) -> Answer {
        let path = url.splitn(4, '/').nth(3).unwrap_or("");
        let first = path.split('/').next().unwrap_or("");
        let (origin, protection) = if let Some(f) = FORMATS.iter().find(|f| prefix(**f) == first) {
            (self.origin(*f), None)
        } else if let Some(p) = PROTECTED.iter().find(|p| p.prefix() == first) {
            (self.protected_origin(*p), Some(p.protection()))
        } else {
            return Answer::Status(404, "no such stream");
        };
        let format = origin.config().format;
        match origin.serve(url, wall) {
            Served::Text { content_type, body } => Answer::Body {
                content_type,
                body: Bytes::from(body),
                media: false,
            },
            Served::Media { media, .. } => match self.asset.body_with(format, protection, media) {
                Some(b) => Answer::Body {
                    content_type: match (format, media.track) {
                        (OriginFormat::HlsTs, _) => "video/mp2t",
                        (_, crate::sim::origin::MediaTrack::Audio) => "audio/mp4",
                        _ => "video/mp4",
                    },
                    body: Bytes::from(b),
                    media: true,
                },
                None => Answer::Status(404, "no such segment"),
            },
            Served::NotFound => Answer::Status(404, "not found"),
        }
    }

    fn status(&self, status: u16, why: &'static str) -> Response<Body> {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        self.reply(code, "text/plain", Bytes::from(format!("{why}\n")))
    }

    fn reply(&self, status: StatusCode, content_type: &str, body: Bytes) -> Response<Body> {
        if status.as_u16() >= 400 {
            self.counters.errors.fetch_add(1, Ordering::Relaxed);
        }
        self.counters
            .bytes
            .fetch_add(body.len() as u64, Ordering::Relaxed);
        let len = body.len();
        let mut resp = Response::new(Full::new(body).map_err(|e: Infallible| match e {}).boxed());
        *resp.status_mut() = status;
        headers(&mut resp, content_type, Some(len));
        resp
    }
}

enum Answer {
    Status(u16, &'static str),
    Body {
        content_type: &'static str,
        body: Bytes,
        media: bool,
    },
}

impl Answer {
    fn text(content_type: &'static str, body: String) -> Answer {
        Answer::Body {
            content_type,
            body: Bytes::from(body),
            media: false,
        }
    }
}

fn headers(resp: &mut Response<Body>, content_type: &str, len: Option<usize>) {
    use hyper::header::{self, HeaderValue};
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Some(n) = len {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(n));
    }
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Date"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
}
