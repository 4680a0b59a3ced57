//! `playhead-origin`: the test origin on loopback (see `playhead_conformance::server`).
//!
//! ```sh
//! cargo run -p playhead-conformance --bin playhead-origin -- --port 8000
//! cargo run -p playhead-conformance --bin playhead-origin -- --vod --rate 2000000 \
//!     --fault 'path=/360p/,from=10,until=20,kind=503'
//! # The protected presentations with a wrong key (the right key id, another key):
//! cargo run -p playhead-conformance --bin playhead-origin -- \
//!     --key 00112233445566778899aabbccddeeff:00000000000000000000000000000000
//! ```

use std::process::ExitCode;

use clap::Parser;
use playhead::Micros;
use playhead_conformance::server::{
    FORMATS, LiveSpec, OriginServer, PROTECTED, ServerConfig, prefix,
};
use playhead_conformance::sim::net::{Fault, FaultKind, Trace};

#[derive(Parser)]
#[command(
    name = "playhead-origin",
    about = "The Playhead test origin (loopback only)"
)]
struct Args {
    /// Services port (steering, time, ClearKey, control); CDN i listens on port + 1 + i.
    /// 0 picks free ports.
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Number of CDN ports.
    #[arg(long, default_value_t = 2)]
    cdns: usize,
    /// Serve VOD instead of live.
    #[arg(long)]
    vod: bool,
    /// DVR window, seconds.
    #[arg(long, default_value_t = 120)]
    dvr: u32,
    /// Live-to-VOD: the stream ends this many seconds after the start.
    #[arg(long)]
    end_after: Option<u32>,
    /// Shape every media byte to this many bit/s.
    #[arg(long)]
    rate: Option<u64>,
    /// Shape by a trace file: Pensieve text (`<seconds>\t<Mbit/s>` per line) or sabre JSON.
    #[arg(long)]
    trace: Option<std::path::PathBuf>,
    /// Latency before every answer, milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u32,
    /// A fault: `path=SUBSTRING,from=S,until=S,kind=503|refuse|blackhole|truncate|stall|freeze|delay:MS[,times=N]`.
    #[arg(long)]
    fault: Vec<String>,
    /// A key the ClearKey license server and the HLS key endpoint hand out, `KID_HEX:KEY_HEX`
    /// (32 hex digits each); repeatable. The keys given replace the asset's test key
    /// (00112233445566778899aabbccddeeff:0123456789abcdef0123456789abcdef): give its key id
    /// another key to serve a wrong key.
    #[arg(long)]
    key: Vec<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("playhead-origin: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    let trace = match (&args.trace, args.rate) {
        (Some(path), _) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            Some(Trace::parse(&text))
        }
        (None, Some(bps)) => Some(Trace::constant(bps)),
        (None, None) => None,
    };
    let cdn_count = args.cdns;
    let config = ServerConfig {
        cdns: args.cdns,
        port: args.port,
        live: (!args.vod).then(|| LiveSpec {
            dvr_window: Micros(i64::from(args.dvr) * 1_000_000),
            preroll: Micros(i64::from(args.dvr) * 1_000_000),
            end_after: args.end_after.map(|s| Micros(i64::from(s) * 1_000_000)),
        }),
        faults: args
            .fault
            .iter()
            .map(|f| parse_fault(f))
            .collect::<Result<_, _>>()?,
        trace,
        latency: Micros(i64::from(args.latency_ms) * 1000),
        clearkey: args
            .key
            .iter()
            .map(|k| parse_key(k))
            .collect::<Result<_, _>>()?,
        ..ServerConfig::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let server = OriginServer::start(config)
            .await
            .map_err(|e| e.to_string())?;
        for f in FORMATS {
            println!("{:<14} {}", prefix(f), server.url(f, 0));
        }
        for p in PROTECTED {
            println!("{:<14} {}", p.prefix(), server.url_protected(p, 0));
        }
        let cdns: Vec<String> = (0..cdn_count)
            .filter_map(|c| server.cdn_host(c))
            .map(|h| format!("http://{h}"))
            .collect();
        println!("{:<14} {}", "cdns", cdns.join(" "));
        println!("{:<14} {}", "clearkey", server.license_url());
        println!("{:<14} {}/{{kid}}", "keys", server.key_url());
        println!("{:<14} http://{}/", "index", server.services());
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("{:?}", server.stats());
        Ok(())
    })
}

/// `path=..,from=S,until=S,kind=..[,times=N]`.
pub fn parse_fault(spec: &str) -> Result<Fault, String> {
    let mut f = Fault {
        url_contains: String::new(),
        from: Micros::ZERO,
        until: Micros(i64::MAX),
        kind: FaultKind::Status(503),
        times: None,
    };
    let secs = |v: &str| {
        v.parse::<u32>()
            .map(|s| Micros(i64::from(s) * 1_000_000))
            .map_err(|_| format!("fault {spec:?}: {v:?} is not whole seconds"))
    };
    for kv in spec.split(',') {
        let (k, v) = kv
            .split_once('=')
            .ok_or(format!("fault {spec:?}: want key=value"))?;
        match k {
            "path" => f.url_contains = v.to_owned(),
            "from" => f.from = secs(v)?,
            "until" => f.until = secs(v)?,
            "times" => f.times = Some(v.parse().map_err(|_| format!("fault {spec:?}: times"))?),
            "kind" => {
                f.kind = match v {
                    "refuse" => FaultKind::Refuse,
                    "blackhole" => FaultKind::Blackhole,
                    "truncate" => FaultKind::Truncate,
                    "stall" => FaultKind::Stall,
                    "freeze" => FaultKind::Freeze,
                    _ => match v.strip_prefix("delay:") {
                        Some(ms) => FaultKind::Delay(Micros(
                            ms.parse::<i64>()
                                .map_err(|_| format!("fault {spec:?}: delay"))?
                                * 1000,
                        )),
                        None => FaultKind::Status(
                            v.parse()
                                .map_err(|_| format!("fault {spec:?}: unknown kind {v:?}"))?,
                        ),
                    },
                }
            }
            _ => return Err(format!("fault {spec:?}: unknown key {k:?}")),
        }
    }
    Ok(f)
}

fn parse_key(spec: &str) -> Result<([u8; 16], [u8; 16]), String> {
    let hex16 = |h: &str| -> Option<[u8; 16]> {
        if h.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(h.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(out)
    };
    let (kid, key) = spec
        .split_once(':')
        .ok_or(format!("key {spec:?}: want KID:KEY"))?;
    match (hex16(kid), hex16(key)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(format!("key {spec:?}: want 32 hex digits each")),
    }
}
