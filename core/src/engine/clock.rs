//! Clock synchronisation: the server's time (DASH `UTCTiming`) corrects the host's wall
//! clock for live availability.

use crate::time::{Micros, UnixMicros};

use super::event::Event;
use super::player::Player;

impl Player {
    pub(super) fn on_time_sync(&mut self, body: &[u8], headers: &[crate::model::NameValue]) {
        let server = std::str::from_utf8(body)
            .ok()
            .and_then(|t| crate::time::parse_datetime(t.trim()).ok())
            .or_else(|| {
                headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("date"))
                    .and_then(|h| parse_http_date(&h.value))
            });
        if let Some(server) = server {
            // The server read its clock somewhere in the round trip. Take the latest moment,
            // the arrival: the corrected clock may then lag the server's by up to one round
            // trip, which costs a few milliseconds of latency, but it is never ahead, which
            // would ask for segments that do not exist yet (seen on a loaded host, where a
            // request leaves late and the midpoint guess runs ahead by half the queueing).
            let local = self.now.wall.0;
            let offset = Micros(server.0.saturating_sub(local));
            self.clock_offset = offset;
            self.event(Event::ClockSynced { offset });
        }
        if let Some(s) = self.session.as_mut() {
            s.clock_pending = false;
        }
        self.try_start();
    }

    /// The wall clock corrected by clock sync.
    pub(super) fn corrected_wall(&self) -> UnixMicros {
        UnixMicros(self.now.wall.0.saturating_add(self.clock_offset.0))
    }
}

/// Reads an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 §5.6.7 IMF-fixdate).
pub(super) fn parse_http_date(text: &str) -> Option<UnixMicros> {
    let mut it = text.split_whitespace().skip(1);
    let day = it.next()?;
    let month = it.next()?;
    let year = it.next()?;
    let time = it.next()?;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = MONTHS.iter().position(|x| *x == month)? + 1;
    let iso = format!("{year}-{m:02}-{day:0>2}T{time}Z");
    crate::time::parse_datetime(&iso).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            crate::time::parse_datetime("1994-11-06T08:49:37Z").ok()
        );
        assert_eq!(parse_http_date("garbage"), None);
    }
}
