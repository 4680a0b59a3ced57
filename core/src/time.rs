//! Exact time: integer ticks with a timescale, microseconds, and the one-time conversions
//! from the decimal and ISO 8601 text that manifests carry.
//!
//! Nothing in Playhead holds time in a float. A manifest's decimal seconds (`#EXTINF:6.006`,
//! `PT1.5S`) are read digit by digit into integers; digits beyond the target precision are
//! rounded half-up, once, here at the edge.

use std::num::NonZeroU32;

/// Ticks per second of a media timeline (DASH `@timescale`, Smooth `TimeScale`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Timescale(NonZeroU32);

// The `unwrap`s below run at compile time on non-zero literals: they cannot fail at run time.
#[allow(clippy::unwrap_used)]
impl Timescale {
    /// One tick per microsecond: the timescale of HLS tracks and presentation-level times.
    pub const MICROS: Timescale = Timescale(NonZeroU32::new(1_000_000).unwrap());
    /// One tick per second (the DASH default when `@timescale` is absent).
    pub const SECONDS: Timescale = Timescale(NonZeroU32::new(1).unwrap());
    /// Smooth Streaming's default: 100 ns ticks.
    pub const HNS: Timescale = Timescale(NonZeroU32::new(10_000_000).unwrap());
    /// MPEG-TS system clock: 90 kHz (PTS, DTS, SCTE-35 times).
    pub const MPEG_TS: Timescale = Timescale(NonZeroU32::new(90_000).unwrap());

    /// A timescale, or `None` for zero (which no spec allows).
    pub fn new(ticks_per_second: u32) -> Option<Self> {
        NonZeroU32::new(ticks_per_second).map(Timescale)
    }

    /// Ticks per second.
    pub fn get(self) -> u32 {
        self.0.get()
    }
}

/// Rescales `ticks` from one timescale to another, rounding down; saturates instead of
/// overflowing.
pub fn rescale(ticks: u64, from: Timescale, to: Timescale) -> u64 {
    if from == to {
        return ticks;
    }
    let v = u128::from(ticks) * u128::from(to.get()) / u128::from(from.get());
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// Signed variant of [`rescale`], rounding toward negative infinity.
pub fn rescale_signed(ticks: i64, from: Timescale, to: Timescale) -> i64 {
    if from == to {
        return ticks;
    }
    let v = i128::from(ticks) * i128::from(to.get());
    let d = i128::from(from.get());
    let q = v.div_euclid(d);
    i64::try_from(q).unwrap_or(if q < 0 { i64::MIN } else { i64::MAX })
}

/// A span or offset of presentation time in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Micros(pub i64);

impl Micros {
    /// Zero.
    pub const ZERO: Micros = Micros(0);

    /// Milliseconds as hosts give them (`performance.now()`, `Date.now()`), rounded to
    /// the nearest microsecond; not finite: zero. Only bindings convert this way.
    pub fn from_millis_f64(ms: f64) -> Micros {
        if ms.is_finite() {
            // `as` saturates at the i64 range.
            Micros((ms * 1000.0).round() as i64)
        } else {
            Micros::ZERO
        }
    }

    /// Converts ticks of `timescale` to microseconds (rounding down).
    pub fn from_ticks(ticks: u64, timescale: Timescale) -> Micros {
        Micros(i64::try_from(rescale(ticks, timescale, Timescale::MICROS)).unwrap_or(i64::MAX))
    }

    /// Converts to ticks of `timescale` (rounding down, negative values clamp to zero).
    pub fn to_ticks(self, timescale: Timescale) -> u64 {
        rescale(
            u64::try_from(self.0).unwrap_or(0),
            Timescale::MICROS,
            timescale,
        )
    }

    /// Saturating addition.
    pub fn saturating_add(self, other: Micros) -> Micros {
        Micros(self.0.saturating_add(other.0))
    }
}

impl std::fmt::Display for Micros {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:06}s", a / 1_000_000, a % 1_000_000)
    }
}

/// A wall-clock instant: microseconds since 1970-01-01T00:00:00Z (UTC, leap seconds ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct UnixMicros(pub i64);

/// Why a time value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Not a decimal number of the form `123` or `123.456`.
    #[error("not a decimal number: {0:?}")]
    NotDecimal(String),
    /// A negative value where only non-negative ones are allowed.
    #[error("negative value: {0:?}")]
    Negative(String),
    /// The value does not fit the integer range.
    #[error("value out of range: {0:?}")]
    OutOfRange(String),
    /// Not an ISO 8601 / xs:duration value.
    #[error("not an xs:duration: {0:?}")]
    NotDuration(String),
    /// Not an ISO 8601 / xs:dateTime value.
    #[error("not an ISO 8601 date-time: {0:?}")]
    NotDateTime(String),
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Reads a non-negative decimal (`6`, `6.006`, `.5`, `6.`) as ticks of `timescale`,
/// rounding half-up past the timescale's precision. Exponents, `inf` and `nan` are refused.
pub fn parse_decimal_ticks(text: &str, timescale: Timescale) -> Result<u64, TimeError> {
    let t = text.trim();
    let body = t.strip_prefix('+').unwrap_or(t);
    if body.starts_with('-') {
        return Err(TimeError::Negative(clip(t)));
    }
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, f),
        None => (body, ""),
    };
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(TimeError::NotDecimal(clip(t)));
    }
    let scale = u128::from(timescale.get());
    let mut whole: u128 = 0;
    for b in int.bytes() {
        whole = whole * 10 + u128::from(b - b'0');
        if whole > u128::from(u64::MAX) {
            return Err(TimeError::OutOfRange(clip(t)));
        }
    }
    // Fraction: keep at most 20 digits, far beyond any timescale's precision; with a u32
    // timescale, `num * scale * 2` then stays below 2^128.
    let mut num: u128 = 0;
    let mut den: u128 = 1;
    for b in frac.bytes().take(20) {
        num = num * 10 + u128::from(b - b'0');
        den *= 10;
    }
    let frac_ticks = (num * scale * 2 + den) / (den * 2);
    let total = whole * scale + frac_ticks;
    u64::try_from(total).map_err(|_| TimeError::OutOfRange(clip(t)))
}

/// Reads a signed decimal as ticks of `timescale` (see [`parse_decimal_ticks`]).
pub fn parse_signed_decimal_ticks(text: &str, timescale: Timescale) -> Result<i64, TimeError> {
    let t = text.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let v = parse_decimal_ticks(body, timescale)?;
    let v = i64::try_from(v).map_err(|_| TimeError::OutOfRange(clip(t)))?;
    Ok(if neg { -v } else { v })
}

/// Reads an `xs:duration` (`PT1H2M3.5S`, `P1DT2H`, `-PT5S`) as signed microseconds.
/// Years and months have no fixed length; like Shaka and dash.js, a year counts 365 days and
/// a month 30 (DASH-IF livesim writes `minimumUpdatePeriod="P100Y"` for "never").
pub fn parse_xs_duration(text: &str) -> Result<Micros, TimeError> {
    let t = text.trim();
    let bad = || TimeError::NotDuration(clip(t));
    let (neg, rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let rest = rest.strip_prefix('P').ok_or_else(bad)?;
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: i128 = 0;
    let mut in_time = false;
    let mut number_start = 0usize;
    let bytes = rest.as_bytes();
    let mut seen_any = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'T' => {
                if in_time || number_start != i {
                    return Err(bad());
                }
                in_time = true;
                number_start = i + 1;
            }
            b'0'..=b'9' | b'.' => {}
            b'Y' | b'M' | b'W' | b'D' | b'H' | b'S' => {
                let num = &rest[number_start..i];
                if num.is_empty() {
                    return Err(bad());
                }
                let unit_us: u64 = match (b, in_time) {
                    (b'Y', false) => 365 * 86_400_000_000,
                    (b'M', false) => 30 * 86_400_000_000,
                    (b'D', false) => 86_400_000_000,
                    (b'W', false) => 7 * 86_400_000_000,
                    (b'H', true) => 3_600_000_000,
                    (b'M', true) => 60_000_000,
                    (b'S', true) => 1_000_000,
                    _ => return Err(bad()),
                };
                // Value in units, exact: parse as ticks of 1e6 then scale by unit/1e6.
                let v = parse_decimal_ticks(num, Timescale::MICROS).map_err(|_| bad())?;
                total += i128::from(v) * i128::from(unit_us) / 1_000_000;
                number_start = i + 1;
                seen_any = true;
            }
            _ => return Err(bad()),
        }
    }
    if !seen_any || number_start != bytes.len() {
        return Err(bad());
    }
    let total = if neg { -total } else { total };
    i64::try_from(total)
        .map(Micros)
        .map_err(|_| TimeError::OutOfRange(clip(t)))
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(s: &str, n: usize) -> Option<u32> {
    if s.len() != n || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Reads an ISO 8601 date-time (`2024-05-01T12:00:00.123Z`, `+02:00` offsets, a space for
/// `T`, and no zone meaning UTC as DASH requires) as microseconds since the Unix epoch.
pub fn parse_datetime(text: &str) -> Result<UnixMicros, TimeError> {
    let t = text.trim();
    match fast_datetime(t.as_bytes()) {
        Some(micros) => Ok(UnixMicros(micros)),
        None => parse_datetime_general(t),
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The form nearly every playlist and MPD writes, `YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)`,
/// read byte by byte: a DVR playlist has one per segment, and the general reader's string
/// splitting cost more than half of a 10,800-segment parse. `None` (anything else, or
/// anything out of range) leaves the text to [`parse_datetime_general`], which agrees
/// wherever this answers (a test compares them).
fn fast_datetime(t: &[u8]) -> Option<i64> {
    fn num(b: &[u8]) -> Option<u32> {
        b.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    }
    if t.len() < 20
        || t[4] != b'-'
        || t[7] != b'-'
        || t[10] != b'T'
        || t[13] != b':'
        || t[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(&t[0..4])?, num(&t[5..7])?, num(&t[8..10])?);
    let (h, mi, sec) = (num(&t[11..13])?, num(&t[14..16])?, num(&t[17..19])?);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let mut rest = &t[19..];
    let mut micros = days_from_civil(i64::from(year), month, day) * 86_400_000_000
        + i64::from(h) * 3_600_000_000
        + i64::from(mi) * 60_000_000
        + i64::from(sec) * 1_000_000;
    if let Some(r) = rest.strip_prefix(b".") {
        let n = r.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 6 {
            return None;
        }
        micros += i64::from(num(&r[..n])?) * 10i64.pow(6 - n as u32);
        rest = &r[n..];
    }
    match rest {
        b"Z" => Some(micros),
        [sign @ (b'+' | b'-'), zone @ ..] if zone.len() == 5 && zone[2] == b':' => {
            let offset = i64::from(num(&zone[..2])?) * 3_600_000_000
                + i64::from(num(&zone[3..])?) * 60_000_000;
            Some(if *sign == b'+' {
                micros - offset
            } else {
                micros + offset
            })
        }
        _ => None,
    }
}

/// Every form [`parse_datetime`] reads.
fn parse_datetime_general(t: &str) -> Result<UnixMicros, TimeError> {
    let bad = || TimeError::NotDateTime(clip(t));
    // Every form is ASCII; checking first makes all the slicing below safe.
    if t.len() < 10 || !t.is_ascii() {
        return Err(bad());
    }
    let (date, rest) = t.split_at(10);
    let year = digits(&date[0..4], 4).ok_or_else(bad)?;
    let month = digits(&date[5..7], 2).ok_or_else(bad)?;
    let day = digits(&date[8..10], 2).ok_or_else(bad)?;
    if &date[4..5] != "-"
        || &date[7..8] != "-"
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
    {
        return Err(bad());
    }
    if day > days_in_month(year, month) {
        return Err(bad());
    }
    let mut micros: i64 = days_from_civil(i64::from(year), month, day) * 86_400_000_000;
    if rest.is_empty() {
        return Ok(UnixMicros(micros));
    }
    let rest = rest
        .strip_prefix('T')
        .or_else(|| rest.strip_prefix('t'))
        .or_else(|| rest.strip_prefix(' '))
        .ok_or_else(bad)?;
    // Split the zone designator off.
    let zone_at = rest
        .find(['Z', 'z', '+'])
        .or_else(|| rest.get(1..).and_then(|r| r.find('-').map(|i| i + 1)))
        .unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let mut parts = clock.splitn(3, ':');
    let h = parts.next().and_then(|s| digits(s, 2)).ok_or_else(bad)?;
    let mi = parts.next().and_then(|s| digits(s, 2)).ok_or_else(bad)?;
    let sec = match parts.next() {
        Some(s) => parse_decimal_ticks(s, Timescale::MICROS).map_err(|_| bad())?,
        None => 0,
    };
    if h > 24 || mi > 59 || sec >= 61_000_000 || (h == 24 && (mi != 0 || sec != 0)) {
        return Err(bad());
    }
    micros += i64::from(h) * 3_600_000_000 + i64::from(mi) * 60_000_000;
    micros += i64::try_from(sec).map_err(|_| bad())?;
    match zone {
        "" | "Z" | "z" => {}
        z => {
            let sign = if z.starts_with('-') { 1 } else { -1 };
            let body = &z[1..];
            let (zh, zm) = match body.split_once(':') {
                Some((a, b)) => (digits(a, 2), digits(b, 2)),
                None if body.len() == 4 => (digits(&body[..2], 2), digits(&body[2..], 2)),
                None => (digits(body, 2), Some(0)),
            };
            let (zh, zm) = (zh.ok_or_else(bad)?, zm.ok_or_else(bad)?);
            micros += sign * (i64::from(zh) * 3_600_000_000 + i64::from(zm) * 60_000_000);
        }
    }
    Ok(UnixMicros(micros))
}

/// A frame rate as an exact ratio (`30000/1001`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FrameRate {
    /// Frames per `den` seconds.
    pub num: u32,
    /// Seconds (never zero).
    pub den: u32,
}

impl FrameRate {
    /// Reads `30`, `30000/1001` (DASH) or `29.970` (HLS, kept exact as 29970/1000).
    pub fn parse(text: &str) -> Option<FrameRate> {
        let t = text.trim();
        if let Some((n, d)) = t.split_once('/') {
            let num = n.trim().parse().ok()?;
            let den: u32 = d.trim().parse().ok()?;
            return (den != 0).then_some(FrameRate { num, den });
        }
        let ticks = parse_decimal_ticks(t, Timescale::new(1000)?).ok()?;
        let num = u32::try_from(ticks).ok()?;
        if num % 1000 == 0 {
            Some(FrameRate {
                num: num / 1000,
                den: 1,
            })
        } else {
            Some(FrameRate { num, den: 1000 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_date_time_reader_agrees_with_the_general_one() {
        let seeds = [
            "2026-11-21T12:00:02.000Z",
            "2024-02-29T23:59:59.999999Z",
            "2023-02-29T10:00:00Z",
            "1970-01-01T00:00:00+05:30",
            "2000-12-31T24:00:00-08:00",
            "2016-12-31T23:59:60.5Z",
            "2024-05-01T12:00:00.1234567Z",
            "1999-06-15T07:08:09.25-00:45",
        ];
        let swaps = b"09-:.TZz+ 5";
        let mut fast = 0;
        for seed in seeds {
            let mut cases = vec![seed.to_owned()];
            for i in 0..seed.len() {
                for &c in swaps {
                    let mut b = seed.as_bytes().to_vec();
                    b[i] = c;
                    cases.push(String::from_utf8(b).unwrap());
                }
                cases.push(format!("{}{}", &seed[..i], &seed[i + 1..]));
            }
            for case in cases {
                let general = parse_datetime_general(case.trim());
                assert_eq!(parse_datetime(&case), general, "{case}");
                if general.is_ok() && fast_datetime(case.trim().as_bytes()).is_some() {
                    fast += 1;
                }
            }
        }
        // The fast path answered for many of the valid ones, not just a few.
        assert!(fast > 100, "fast path answered {fast} times");
    }

    #[test]
    fn decimal_is_exact() {
        assert_eq!(
            parse_decimal_ticks("6.006", Timescale::MICROS),
            Ok(6_006_000)
        );
        assert_eq!(
            parse_decimal_ticks("0.1", Timescale::new(90_000).unwrap()),
            Ok(9_000)
        );
        assert_eq!(parse_decimal_ticks("10", Timescale::MICROS), Ok(10_000_000));
        assert_eq!(parse_decimal_ticks(".5", Timescale::MICROS), Ok(500_000));
        // Rounded half-up, once.
        assert_eq!(
            parse_decimal_ticks("1.0000005", Timescale::MICROS),
            Ok(1_000_001)
        );
        assert_eq!(
            parse_decimal_ticks("1.00000049", Timescale::MICROS),
            Ok(1_000_000)
        );
        for bad in ["", ".", "1e3", "inf", "NaN", "1.2.3", "0x10", "-1"] {
            assert!(
                parse_decimal_ticks(bad, Timescale::MICROS).is_err(),
                "{bad}"
            );
        }
        assert!(parse_decimal_ticks("99999999999999999999999", Timescale::MICROS).is_err());
        let nines = format!("0.{}", "9".repeat(40));
        assert_eq!(
            parse_decimal_ticks(&nines, Timescale::new(u32::MAX).unwrap()),
            Ok(u64::from(u32::MAX))
        );
    }

    #[test]
    fn xs_duration() {
        assert_eq!(parse_xs_duration("PT1H2M3.5S"), Ok(Micros(3_723_500_000)));
        assert_eq!(parse_xs_duration("P1DT1S"), Ok(Micros(86_401_000_000)));
        assert_eq!(parse_xs_duration("PT0S"), Ok(Micros(0)));
        assert_eq!(parse_xs_duration("-PT5S"), Ok(Micros(-5_000_000)));
        assert_eq!(parse_xs_duration("PT634.566S"), Ok(Micros(634_566_000)));
        assert_eq!(
            parse_xs_duration("P0Y0M0DT0H2M17.000S"),
            Ok(Micros(137_000_000))
        );
        assert_eq!(
            parse_xs_duration("P1Y2M"),
            Ok(Micros((365 + 60) * 86_400_000_000))
        );
        assert!(parse_xs_duration("P100Y").is_ok());
        for bad in ["", "P", "PT", "1S", "PT1X", "P1H", "PT1D", "PTS", "PT1.5"] {
            assert!(parse_xs_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn datetime() {
        assert_eq!(parse_datetime("1970-01-01T00:00:00Z"), Ok(UnixMicros(0)));
        assert_eq!(
            parse_datetime("2024-02-29T12:34:56.789Z"),
            Ok(UnixMicros(1_709_210_096_789_000))
        );
        assert_eq!(
            parse_datetime("2024-02-29T14:34:56.789+02:00"),
            parse_datetime("2024-02-29T12:34:56.789Z")
        );
        assert_eq!(
            parse_datetime("2024-02-29T10:34:56.789-0200"),
            parse_datetime("2024-02-29T12:34:56.789Z")
        );
        assert_eq!(
            parse_datetime("2024-02-29T12:34:56"),
            parse_datetime("2024-02-29T12:34:56Z")
        );
        for bad in [
            "",
            "2024",
            "2024-13-01T00:00:00Z",
            "2024-01-01T25:00:00Z",
            "x024-01-01",
            "2016\u{fffd}14T17:00:17",
            "2023-02-29T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-01-01T24:30:00Z",
            "2016-01-01T00:00+0\u{e9}",
        ] {
            assert!(parse_datetime(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rescaling_rounds_down_and_saturates() {
        let ts90 = Timescale::new(90_000).unwrap();
        assert_eq!(rescale(90_000, ts90, Timescale::MICROS), 1_000_000);
        assert_eq!(rescale(1, Timescale::MICROS, ts90), 0);
        assert_eq!(
            rescale(u64::MAX, Timescale::SECONDS, Timescale::MICROS),
            u64::MAX
        );
        assert_eq!(
            rescale_signed(-1, Timescale::MICROS, Timescale::SECONDS),
            -1
        );
    }

    #[test]
    fn frame_rates() {
        assert_eq!(
            FrameRate::parse("30000/1001"),
            Some(FrameRate {
                num: 30000,
                den: 1001
            })
        );
        assert_eq!(FrameRate::parse("25"), Some(FrameRate { num: 25, den: 1 }));
        assert_eq!(
            FrameRate::parse("29.970"),
            Some(FrameRate {
                num: 29970,
                den: 1000
            })
        );
        assert_eq!(FrameRate::parse("1/0"), None);
    }
}
