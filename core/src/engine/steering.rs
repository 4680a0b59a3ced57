//! Content steering (HLS `EXT-X-CONTENT-STEERING`, RFC 8216bis §7.2; DASH-IF Content
//! Steering): requesting the steering manifest on its TTL and applying it (the pathway
//! order, pathway clones).

use crate::json::{self, Json};
use crate::model::ManifestFormat;
use crate::time::Micros;

use super::event::{ErrorClass, Event, LocationReason};
use super::fetch::{Job, Purpose, Route};
use super::io::RequestKind;
use super::player::Player;

/// A pathway clone (`PATHWAY-CLONES`): a new pathway made from another by replacing the host
/// and adding query parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathwayClone {
    pub(crate) base_id: String,
    pub(crate) id: String,
    pub(crate) host: Option<String>,
    /// `name=value&...`, escaped.
    pub(crate) query: String,
}

/// A steering manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SteeringManifest {
    pub(crate) ttl: Micros,
    pub(crate) reload_uri: Option<String>,
    pub(crate) priority: Vec<String>,
    pub(crate) clones: Vec<PathwayClone>,
}

/// Why a steering manifest was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SteeringError {
    #[error(transparent)]
    Json(#[from] json::JsonError),
    #[error("steering manifest: {0}")]
    Invalid(&'static str),
}

fn escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reads a steering manifest. `VERSION` must be 1; `TTL` defaults to 300 s.
pub(crate) fn parse(bytes: &[u8]) -> Result<SteeringManifest, SteeringError> {
    if bytes.len() > 1 << 20 {
        return Err(SteeringError::Invalid("larger than 1 MiB"));
    }
    let j = json::parse(bytes)?;
    if !matches!(j, Json::Object(_)) {
        return Err(SteeringError::Invalid("not an object"));
    }
    if j.get("VERSION").and_then(Json::as_u64) != Some(1) {
        return Err(SteeringError::Invalid("VERSION is not 1"));
    }
    let ttl_s = j
        .get("TTL")
        .and_then(Json::as_u64)
        .unwrap_or(300)
        .clamp(1, 86_400);
    let names = |key: &str| -> Vec<String> {
        j.get(key)
            .map(|v| {
                v.as_array()
                    .iter()
                    .filter_map(Json::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut priority = names("PATHWAY-PRIORITY");
    if priority.is_empty() {
        priority = names("SERVICE-LOCATION-PRIORITY");
    }
    let clones = j
        .get("PATHWAY-CLONES")
        .map(|c| {
            c.as_array()
                .iter()
                .filter_map(|c| {
                    let base_id = c.get("BASE-ID")?.as_str()?.to_owned();
                    let id = c.get("ID")?.as_str()?.to_owned();
                    let repl = c.get("URI-REPLACEMENT");
                    let host = repl
                        .and_then(|r| r.get("HOST"))
                        .and_then(Json::as_str)
                        .map(str::to_owned);
                    let query = match repl.and_then(|r| r.get("PARAMS")) {
                        Some(Json::Object(m)) => m
                            .iter()
                            .filter_map(|(k, v)| {
                                Some(format!("{}={}", escape(k), escape(v.as_str()?)))
                            })
                            .collect::<Vec<_>>()
                            .join("&"),
                        _ => String::new(),
                    };
                    Some(PathwayClone {
                        base_id,
                        id,
                        host,
                        query,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(SteeringManifest {
        ttl: Micros(ttl_s as i64 * 1_000_000),
        reload_uri: j
            .get("RELOAD-URI")
            .and_then(Json::as_str)
            .map(str::to_owned),
        priority,
        clones,
    })
}

impl Player {
    pub(super) fn on_steering(&mut self, body: &[u8]) {
        let now = self.now.mono;
        let Some(s) = self.session.as_mut() else {
            return;
        };
        match parse(body) {
            Ok(m) => {
                for c in &m.clones {
                    s.media_locs
                        .clone_pathway(&c.base_id, &c.id, c.host.as_deref(), &c.query);
                }
                s.media_locs.steer(m.priority.clone());
                if s.media_locs.best(now) != s.media_locs.active {
                    s.change_reason = Some(LocationReason::Steering);
                }
                s.steering_at = Some(now.saturating_add(m.ttl));
                if let (Some(r), Some(base)) = (m.reload_uri.as_ref(), s.steering_url.as_ref()) {
                    s.steering_url = Some(crate::url::resolve_lenient(base, r));
                }
                self.event(Event::Steered {
                    priority: m.priority,
                });
            }
            Err(_) => {
                self.stats.error(ErrorClass::Manifest);
                s.steering_failed(now);
            }
        }
    }

    pub(super) fn request_steering(&mut self) {
        let bw = self.estimator.estimate(self.now.mono);
        let Some(s) = self.session.as_mut() else {
            return;
        };
        s.steering_at = None;
        let Some(url) = s.steering_url.clone() else {
            return;
        };
        let dash = s
            .pres
            .as_ref()
            .is_some_and(|p| p.format == ManifestFormat::Dash);
        let tag = if dash { "_DASH" } else { "_HLS" };
        let pathway = s.media_locs.name(s.media_locs.active).to_owned();
        let sep = if url.contains('?') { '&' } else { '?' };
        let url = format!("{url}{sep}{tag}_pathway={pathway}&{tag}_throughput={bw}");
        self.issue(Job::new(
            RequestKind::Steering,
            Purpose::Steering,
            url,
            Route::Direct,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_priority_ttl_and_clones() {
        let m = parse(br#"{"VERSION":1,"TTL":60,"RELOAD-URI":"next?x=1","PATHWAY-PRIORITY":["b","a"],
            "PATHWAY-CLONES":[{"BASE-ID":"a","ID":"c","URI-REPLACEMENT":{"HOST":"c.test","PARAMS":{"tok":"a b"}}}]}"#).unwrap();
        assert_eq!(m.ttl, Micros(60_000_000));
        assert_eq!(m.priority, ["b", "a"]);
        assert_eq!(m.reload_uri.as_deref(), Some("next?x=1"));
        assert_eq!(m.clones[0].host.as_deref(), Some("c.test"));
        assert_eq!(m.clones[0].query, "tok=a%20b");
        let dash = parse(br#"{"VERSION":1,"SERVICE-LOCATION-PRIORITY":["x"]}"#).unwrap();
        assert_eq!(
            (dash.priority, dash.ttl),
            (vec!["x".to_owned()], Micros(300_000_000))
        );
        assert!(parse(br#"{"VERSION":2}"#).is_err());
        assert!(parse(b"[]").is_err());
    }
}
