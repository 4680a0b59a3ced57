//! The services port: steering (outage-aware: CDNs that are down go last), time, ClearKey
//! licences, HLS AES-128 keys (`/keys/{key id in 32 hex digits}`: the 16 raw key bytes), the
//! outage control and an index of the streams.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::Request;
use hyper::body::Incoming;

use super::{Answer, FORMATS, PROTECTED, State, prefix, wall_now};

impl State {
    pub(super) async fn service(&self, req: Request<Incoming>, path: &str) -> Answer {
        let (route, query) = path.split_once('?').unwrap_or((path, ""));
        match route {
            "/now" => Answer::text("text/plain", crate::sim::origin::iso(wall_now())),
            "/steer" => Answer::text("application/json", self.steering()),
            "/license/clearkey" => {
                let Ok(body) = req.into_body().collect().await else {
                    return Answer::Status(400, "unreadable request body");
                };
                match self.clearkey.answer(&body.to_bytes()) {
                    Ok(json) => Answer::text("application/json", json),
                    Err((status, why)) => Answer::Status(status, why),
                }
            }
            "/control/outage" => {
                let arg = |name: &str| {
                    query
                        .split('&')
                        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                        .and_then(|v| v.parse::<u64>().ok())
                };
                match (arg("cdn"), arg("seconds")) {
                    (Some(c), Some(s)) if (c as usize) < self.cdns.len() => {
                        self.fail_cdn(c as usize, Duration::from_secs(s.min(3600)));
                        Answer::text("text/plain", format!("cdn {c} down for {s} s\n"))
                    }
                    _ => Answer::Status(400, "want ?cdn=N&seconds=S"),
                }
            }
            "/" => Answer::text("text/plain", self.index()),
            _ => match route.strip_prefix("/keys/") {
                Some(kid) => self.key(kid),
                None => Answer::Status(404, "not found"),
            },
        }
    }

    /// `GET /keys/{kid}`: the raw key of a key id in the key list.
    fn key(&self, kid: &str) -> Answer {
        let Some(kid) = hex16(kid) else {
            return Answer::Status(400, "want /keys/{key id in 32 hex digits}");
        };
        match self.clearkey.key(&kid) {
            Some(key) => Answer::Body {
                content_type: "application/octet-stream",
                body: Bytes::copy_from_slice(&key),
                media: false,
            },
            None => Answer::Status(404, "no such key"),
        }
    }

    /// The steering manifest: every CDN, those in an outage last.
    fn steering(&self) -> String {
        let mut order: Vec<(bool, String)> = self
            .cdns
            .iter()
            .enumerate()
            .map(|(i, a)| {
                (
                    self.down(i),
                    crate::sim::origin::pathway(&a.to_string()).into_owned(),
                )
            })
            .collect();
        order.sort_by_key(|(down, _)| *down);
        let list: Vec<String> = order.into_iter().map(|(_, p)| format!("\"{p}\"")).collect();
        format!(
            "{{\"VERSION\":1,\"TTL\":5,\"RELOAD-URI\":\"http://{}/steer\",\"PATHWAY-PRIORITY\":[{}]}}",
            self.services,
            list.join(",")
        )
    }

    fn index(&self) -> String {
        let mut s = String::from("playhead test origin\n\n");
        for f in FORMATS {
            for c in 0..self.cdns.len() {
                s.push_str(&format!(
                    "{:<14} cdn {c}: {}\n",
                    prefix(f),
                    self.origin(f).manifest_url(c)
                ));
            }
        }
        for p in PROTECTED {
            for c in 0..self.cdns.len() {
                s.push_str(&format!(
                    "{:<14} cdn {c}: {}\n",
                    p.prefix(),
                    self.protected_origin(p).manifest_url(c)
                ));
            }
        }
        s.push_str(&format!(
            "\nclearkey: http://{0}/license/clearkey\nkeys:     http://{0}/keys/{{key id in 32 hex digits}} (16 raw bytes; test key id {1})\nsteering: http://{0}/steer\ntime:     http://{0}/now\noutage:   http://{0}/control/outage?cdn=0&seconds=10\n",
            self.services,
            crate::sim::origin::hex_lower(&crate::sim::origin::TEST_KID)
        ));
        s
    }
}

/// 32 hex digits (either case) as 16 bytes.
fn hex16(h: &str) -> Option<[u8; 16]> {
    if h.len() != 32 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(h.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}
