//! Locations that serve the same content (the load list's CDNs, DASH `BaseURL`s, HLS
//! redundant variants and steering pathways), their order, and a penalty box.
//!
//! The model's URLs are all resolved against one location, the origin. A request to another
//! location swaps the origin's prefix for that location's: prefixes are what remains of the
//! equivalent URLs once their longest common path suffix is removed, so
//! `https://a.test/live/x.mpd` and `https://b.test/eu/live/x.mpd` give the prefixes
//! `https://a.test` and `https://b.test/eu`.

use crate::time::Micros;

/// Most locations kept (steering servers can clone pathways without end).
pub(crate) const MAX_LOCATIONS: usize = 32;

/// One location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Location {
    /// Name for events and steering (CDN name, `serviceLocation`, `PATHWAY-ID`).
    pub(crate) name: String,
    /// URL prefix that replaces the origin's.
    pub(crate) prefix: String,
    /// Query parameters to add (steering pathway clones).
    pub(crate) query: String,
    /// Lower is preferred (the load list's priority).
    pub(crate) priority: u32,
    /// Out of use until this monotonic time.
    pub(crate) penalized_until: Option<Micros>,
}

/// An ordered set of locations.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Locations {
    pub(crate) list: Vec<Location>,
    /// The location the model's URLs were resolved against.
    pub(crate) origin: usize,
    /// Where requests go now.
    pub(crate) active: usize,
    /// Steering order of names; empty: no steering.
    steering: Vec<String>,
}

/// Length of the longest common suffix of `urls` that starts at a `/` after the authority.
fn common_path_suffix(urls: &[&str]) -> usize {
    let Some(first) = urls.first() else {
        return 0;
    };
    let mut n = first.len();
    for u in &urls[1..] {
        let common = first
            .bytes()
            .rev()
            .zip(u.bytes().rev())
            .take_while(|(a, b)| a == b)
            .count();
        n = n.min(common);
    }
    // Move the cut forward to a '/' of the path (not into "https://").
    let start = first.len() - n;
    if !first.is_char_boundary(start) {
        return 0;
    }
    let path_start = first.find("://").map_or(0, |i| {
        i + 3 + first[i + 3..].find('/').unwrap_or(first.len() - i - 3)
    });
    let cut = first[start.max(path_start)..]
        .find('/')
        .map(|i| start.max(path_start) + i);
    cut.map_or(0, |c| first.len() - c)
}

/// Directory of a URL (through the last `/`, query dropped).
fn directory(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    url[..end].rfind('/').map_or(url, |i| &url[..=i])
}

impl Locations {
    /// Locations from equivalent URLs `(name, url, priority)`; the first is the origin.
    pub(crate) fn from_urls(entries: &[(String, String, u32)]) -> Locations {
        let urls: Vec<&str> = entries.iter().map(|(_, u, _)| u.as_str()).collect();
        let suffix = if urls.len() > 1 {
            common_path_suffix(&urls)
        } else {
            0
        };
        let list = entries
            .iter()
            .map(|(name, url, priority)| Location {
                name: name.clone(),
                prefix: match url.get(..url.len().saturating_sub(suffix)) {
                    Some(p) if suffix > 0 => p.to_owned(),
                    _ => directory(url).to_owned(),
                },
                query: String::new(),
                priority: *priority,
                penalized_until: None,
            })
            .collect();
        Locations {
            list,
            origin: 0,
            active: 0,
            steering: Vec::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    pub(crate) fn name(&self, i: usize) -> &str {
        self.list.get(i).map_or("", |l| l.name.as_str())
    }

    /// `url` (resolved against the origin) as served by location `i`.
    pub(crate) fn url_for(&self, url: &str, i: usize) -> String {
        let (Some(origin), Some(loc)) = (self.list.get(self.origin), self.list.get(i)) else {
            return url.to_owned();
        };
        let mut out = match url.strip_prefix(origin.prefix.as_str()) {
            Some(rest)
                if origin.prefix.ends_with('/') || rest.is_empty() || rest.starts_with('/') =>
            {
                format!("{}{rest}", loc.prefix)
            }
            _ => url.to_owned(),
        };
        if !loc.query.is_empty() {
            out.push(if out.contains('?') { '&' } else { '?' });
            out.push_str(&loc.query);
        }
        out
    }

    fn rank(&self, i: usize) -> (usize, u32, usize) {
        let steer = if self.steering.is_empty() {
            0
        } else {
            self.steering
                .iter()
                .position(|n| *n == self.list[i].name)
                .unwrap_or(usize::MAX)
        };
        (steer, self.list[i].priority, i)
    }

    fn usable(&self, i: usize, now: Micros) -> bool {
        self.list[i].penalized_until.is_none_or(|t| t <= now)
    }

    /// The best location now: the best-ranked one out of the penalty box; if all are boxed,
    /// the one released first.
    pub(crate) fn best(&self, now: Micros) -> usize {
        let ranked = (0..self.list.len())
            .filter(|&i| {
                self.steering.is_empty()
                    || self.steering.contains(&self.list[i].name)
                    || self
                        .steering
                        .iter()
                        .all(|n| !self.list.iter().any(|l| l.name == *n))
            })
            .filter(|&i| self.usable(i, now))
            .min_by_key(|&i| self.rank(i));
        ranked.unwrap_or_else(|| {
            (0..self.list.len())
                .min_by_key(|&i| (self.list[i].penalized_until, self.rank(i)))
                .unwrap_or(0)
        })
    }

    /// True when some location other than `i` is out of the penalty box.
    pub(crate) fn has_alternative(&self, i: usize, now: Micros) -> bool {
        (0..self.list.len()).any(|j| j != i && self.usable(j, now))
    }

    pub(crate) fn penalize(&mut self, i: usize, until: Micros) {
        if let Some(l) = self.list.get_mut(i) {
            l.penalized_until = Some(until);
        }
    }

    /// Applies a steering order (`PATHWAY-PRIORITY`); unknown names are ignored.
    pub(crate) fn steer(&mut self, order: Vec<String>) {
        self.steering = order;
    }

    /// Adds a steering pathway clone of `base` with another host and query parameters (at
    /// most [`MAX_LOCATIONS`] locations in all).
    pub(crate) fn clone_pathway(&mut self, base: &str, id: &str, host: Option<&str>, query: &str) {
        if self.list.len() >= MAX_LOCATIONS || self.list.iter().any(|l| l.name == id) {
            return;
        }
        let Some(b) = self.list.iter().find(|l| l.name == base).cloned() else {
            return;
        };
        let prefix = match host {
            Some(h) => replace_host(&b.prefix, h),
            None => b.prefix.clone(),
        };
        self.list.push(Location {
            name: id.to_owned(),
            prefix,
            query: query.to_owned(),
            priority: b.priority,
            penalized_until: None,
        });
    }
}

fn replace_host(prefix: &str, host: &str) -> String {
    let Some(i) = prefix.find("://") else {
        return prefix.to_owned();
    };
    let rest = &prefix[i + 3..];
    let path = rest.find('/').map_or("", |j| &rest[j..]);
    format!("{}://{host}{path}", &prefix[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locs(urls: &[&str]) -> Locations {
        let e: Vec<_> = urls
            .iter()
            .enumerate()
            .map(|(i, u)| (format!("l{i}"), (*u).to_owned(), i as u32))
            .collect();
        Locations::from_urls(&e)
    }

    #[test]
    fn prefixes_come_from_the_common_path_suffix() {
        let l = locs(&["https://a.test/live/x.mpd", "https://b.test/eu/live/x.mpd"]);
        assert_eq!(l.list[0].prefix, "https://a.test");
        assert_eq!(l.list[1].prefix, "https://b.test/eu");
        assert_eq!(
            l.url_for("https://a.test/live/v/1.m4s", 1),
            "https://b.test/eu/live/v/1.m4s"
        );
        // A URL outside the origin's prefix is left alone.
        assert_eq!(l.url_for("https://c.test/x", 1), "https://c.test/x");
        // One location: its directory.
        let one = locs(&["https://a.test/live/x.m3u8?tok=1"]);
        assert_eq!(one.list[0].prefix, "https://a.test/live/");
        // Nothing in common but the file name: still cut at a path boundary.
        let l = locs(&["https://a.test/p/x.mpd", "https://b.test/q/x.mpd"]);
        assert_eq!(
            l.url_for("https://a.test/p/s/1.m4s", 1),
            "https://b.test/q/s/1.m4s"
        );
    }

    #[test]
    fn penalty_box_and_steering_order() {
        let mut l = locs(&[
            "https://a.test/m.mpd",
            "https://b.test/m.mpd",
            "https://c.test/m.mpd",
        ]);
        assert_eq!(l.best(Micros(0)), 0);
        l.penalize(0, Micros(100));
        assert_eq!(l.best(Micros(50)), 1);
        assert_eq!(l.best(Micros(100)), 0);
        l.penalize(1, Micros(80));
        l.penalize(2, Micros(90));
        assert_eq!(l.best(Micros(10)), 1, "all boxed: the first released");
        l.steer(vec!["l2".into(), "l0".into()]);
        assert_eq!(l.best(Micros(200)), 2);
        l.clone_pathway("l0", "l9", Some("z.test"), "p=1");
        assert_eq!(
            l.url_for("https://a.test/m/s.m4s", 3),
            "https://z.test/m/s.m4s?p=1"
        );
    }
}
