//! The services port: steering (outage-aware: CDNs that are down go last), time, ClearKey
//! licences, the outage control and an index of the streams.

use std::time::Duration;

use http_body_util::BodyExt;
use hyper::Request;
use hyper::body::Incoming;

use super::{Answer, FORMATS, State, prefix, wall_now};

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
            _ => Answer::Status(404, "not found"),
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
        s.push_str(&format!(
            "\nclearkey: http://{0}/license/clearkey\nsteering: http://{0}/steer\ntime:     http://{0}/now\noutage:   http://{0}/control/outage?cdn=0&seconds=10\n",
            self.services
        ));
        s
    }
}
