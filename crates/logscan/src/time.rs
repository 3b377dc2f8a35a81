//! Timestamps as Talos and its services print them, read without allocating: every format has a
//! fixed layout, so each is parsed digit by digit.
//!
//! | format | example | where |
//! |---|---|---|
//! | RFC 3339 | `2026-08-21T09:00:13.118204917Z` | dmesg, etcd, zap, logrus |
//! | Go `log` | `2026/08/21 09:00:13.118204`, `2026/08/21 09:00:13` | machined, apid, container-mode `[talos]` |
//! | klog | `0821 09:00:13.118204` (no year) | kubelet |
//! | epoch milliseconds | `1787302815400.225` | kubelet `--logging-format=json` |

use std::fmt;

/// A point in time: microseconds since the Unix epoch, UTC (machined's and klog's resolution).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(i64);

const MICROS: i64 = 1_000_000;
const DAY: i64 = 86_400;

impl Time {
    /// The time `micros` microseconds after the Unix epoch.
    #[must_use]
    pub const fn from_unix_micros(micros: i64) -> Self {
        Self(micros)
    }

    /// Microseconds since the Unix epoch.
    #[must_use]
    pub const fn unix_micros(self) -> i64 {
        self.0
    }

    /// `seconds` later.
    #[must_use]
    pub const fn plus_secs(self, seconds: i64) -> Self {
        Self(self.0 + seconds * MICROS)
    }

    /// `micros` microseconds later.
    #[must_use]
    pub const fn plus_micros(self, micros: i64) -> Self {
        Self(self.0 + micros)
    }

    /// Parses RFC 3339 (`2026-08-21T09:00:13.118Z`, `2026-08-21T11:00:13+02:00`); the fraction
    /// may have any number of digits.
    #[must_use]
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let (time, used) = rfc3339_prefix(text.as_bytes())?;
        (used == text.len()).then_some(time)
    }

    fn from_civil(civil: Civil) -> Option<Self> {
        let Civil { year, month, day, hour, minute, second, micros } = civil;
        let valid = (1..=12).contains(&month) && (1..=31).contains(&day) && hour < 24 && minute < 60 && second < 61;
        valid.then(|| Self((days_from_civil(year, month, day) * DAY + hour * 3600 + minute * 60 + second) * MICROS + micros))
    }

    /// klog's head without its severity: `0821 09:00:21.441907`.
    #[must_use]
    pub fn klog_head(self) -> String {
        let seconds = self.0.div_euclid(MICROS);
        let (_, month, day) = civil_from_days(seconds.div_euclid(DAY));
        let of_day = seconds.rem_euclid(DAY);
        format!("{month:02}{day:02} {:02}:{:02}:{:02}.{:06}", of_day / 3600, of_day / 60 % 60, of_day % 60, self.0.rem_euclid(MICROS))
    }

    /// The calendar year, for klog times that carry none.
    #[must_use]
    pub fn year(self) -> i64 {
        civil_from_days(self.0.div_euclid(DAY * MICROS)).0
    }
}

/// Calendar fields, UTC.
struct Civil {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    micros: i64,
}

/// RFC 3339 at the start of `b`: the time and the bytes it took.
pub(crate) fn rfc3339_prefix(b: &[u8]) -> Option<(Time, usize)> {
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (micros, mut at) = fraction(b, 19);
    let civil = Civil {
        year: digits(&b[0..4])?,
        month: digits(&b[5..7])?,
        day: digits(&b[8..10])?,
        hour: digits(&b[11..13])?,
        minute: digits(&b[14..16])?,
        second: digits(&b[17..19])?,
        micros: micros?,
    };
    let offset = match b.get(at) {
        Some(b'Z' | b'z') => {
            at += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) if b.len() >= at + 6 && b[at + 3] == b':' => {
            let minutes = digits(&b[at + 1..at + 3])? * 60 + digits(&b[at + 4..at + 6])?;
            at += 6;
            if *sign == b'+' { minutes } else { -minutes }
        }
        _ => return None,
    };
    Some((Time::from_civil(civil)?.plus_secs(-offset * 60), at))
}

/// Go's `log` date at the start of `b`: `2006/01/02 15:04:05` with an optional `.000000`.
pub(crate) fn go_log_prefix(b: &[u8]) -> Option<(Time, usize)> {
    if b.len() < 19 || b[4] != b'/' || b[7] != b'/' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (micros, at) = fraction(b, 19);
    let civil = Civil {
        year: digits(&b[0..4])?,
        month: digits(&b[5..7])?,
        day: digits(&b[8..10])?,
        hour: digits(&b[11..13])?,
        minute: digits(&b[14..16])?,
        second: digits(&b[17..19])?,
        micros: micros?,
    };
    Some((Time::from_civil(civil)?, at))
}

/// klog's `mmdd hh:mm:ss.uuuuuu` at the start of `b` (after the severity letter), in `year`.
pub(crate) fn klog_prefix(b: &[u8], year: i64) -> Option<Time> {
    if b.len() < 20 || b[4] != b' ' || b[7] != b':' || b[10] != b':' || b[13] != b'.' {
        return None;
    }
    Time::from_civil(Civil {
        year,
        month: digits(&b[0..2])?,
        day: digits(&b[2..4])?,
        hour: digits(&b[5..7])?,
        minute: digits(&b[8..10])?,
        second: digits(&b[11..13])?,
        micros: digits(&b[14..20])?,
    })
}

/// Epoch milliseconds with a fraction (`1787302815400.225`), component-base's JSON `ts`.
pub(crate) fn epoch_millis(text: &str) -> Option<Time> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let millis: i64 = whole.parse().ok()?;
    let micros =
        frac.bytes().take(3).chain(std::iter::repeat(b'0')).take(3).try_fold(0, |n, d| d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0')))?;
    Some(Time(millis * 1000 + micros))
}

/// An optional `.ddd...` fraction at `b[at..]`, as microseconds (digits past six are dropped).
fn fraction(b: &[u8], at: usize) -> (Option<i64>, usize) {
    if b.get(at) != Some(&b'.') {
        return (Some(0), at);
    }
    let count = b[at + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if count == 0 {
        return (None, at);
    }
    let micros = b[at + 1..at + 1 + count].iter().take(6).fold(0, |n, d| n * 10 + i64::from(d - b'0')) * 10_i64.pow(6 - count.min(6) as u32);
    (Some(micros), at + 1 + count)
}

fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0, |n, d| d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0')))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day since 1970-01-01 (`civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

impl fmt::Display for Time {
    /// RFC 3339 in UTC, to the microsecond when there is a fraction: `2026-08-21T09:03:10Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.0.div_euclid(MICROS);
        let micros = self.0.rem_euclid(MICROS);
        let (year, month, day) = civil_from_days(seconds.div_euclid(DAY));
        let of_day = seconds.rem_euclid(DAY);
        write!(f, "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}", of_day / 3600, of_day / 60 % 60, of_day % 60)?;
        if micros != 0 {
            write!(f, ".{micros:06}")?;
        }
        f.write_str("Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc(s: &str) -> Time {
        Time::parse_rfc3339(s).unwrap_or_else(|| panic!("{s}"))
    }

    #[test]
    fn every_timestamp_format_reads_the_same_instant() {
        let at = rfc("2026-08-21T09:00:13.118204Z");
        assert_eq!(rfc("2026-08-21T09:00:13.118204917Z"), at, "nanoseconds are cut to microseconds");
        assert_eq!(rfc("2026-08-21T11:00:13.118204+02:00"), at);
        assert_eq!(go_log_prefix(b"2026/08/21 09:00:13.118204 [talos] x"), Some((at, 26)));
        assert_eq!(go_log_prefix(b"2026/08/21 09:00:13 iscsid-wrapper"), Some((rfc("2026-08-21T09:00:13Z"), 19)));
        assert_eq!(klog_prefix(b"0821 09:00:13.118204    1734 run.go:72]", 2026), Some(at));
        assert_eq!(epoch_millis("1787302815400.225"), Some(Time(1_787_302_815_400_225)));
        assert_eq!(rfc("2026-08-21T09:00:00.000562148Z").to_string(), "2026-08-21T09:00:00.000562Z");
        assert_eq!(rfc("2026-08-21T09:03:10Z").to_string(), "2026-08-21T09:03:10Z");
        assert_eq!(rfc("1969-12-31T23:59:59Z").unix_micros(), -MICROS);
        assert_eq!(at.year(), 2026);
    }

    #[test]
    fn malformed_times_are_none() {
        for bad in ["2026-08-21", "2026-13-21T09:00:13Z", "2026-08-21T09:00:13", "2026-08-21T09:00:13.Z", "x026-08-21T09:00:13Z"] {
            assert_eq!(Time::parse_rfc3339(bad), None, "{bad}");
        }
        assert_eq!(go_log_prefix(b"2026/08/21 9:00:13"), None);
        assert_eq!(klog_prefix(b"0821 09:00:13", 2026), None);
    }
}
