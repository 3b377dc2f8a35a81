//! The log formats a Talos node writes, one function per format, as Talos v1.13 prints them:
//! machined's microsecond timestamp, zap's
//! development console with ANSI-coloured levels, etcd's JSON, containerd's logrus text,
//! kubelet's klog header and the kernel ring buffer's `"%s: %7s: [%s]: %s"`.

use std::fmt::Write as _;
use std::time::Duration;

use jiff::Timestamp;

/// A zap (and Talos console) log level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZapLevel {
    /// `INFO`, blue.
    Info,
    /// `WARN`, yellow.
    Warn,
    /// `ERROR`, red.
    Error,
}

impl ZapLevel {
    /// The level as `CapitalColorLevelEncoder` writes it: the name wrapped in its ANSI colour.
    fn coloured(self) -> &'static str {
        match self {
            Self::Info => "\x1b[34mINFO\x1b[0m",
            Self::Warn => "\x1b[33mWARN\x1b[0m",
            Self::Error => "\x1b[31mERROR\x1b[0m",
        }
    }
}

/// A kernel log priority, as go-kmsg names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// `alert`: XFS reports corruption at this priority.
    Alert,
    /// `err`: an error marker for log scanners.
    Err,
    /// `warning`: the level Talos `[talos]` lines get.
    Warning,
    /// `notice`.
    Notice,
    /// `info`.
    Info,
}

impl Priority {
    fn name(self) -> &'static str {
        match self {
            Self::Alert => "alert",
            Self::Err => "err",
            Self::Warning => "warning",
            Self::Notice => "notice",
            Self::Info => "info",
        }
    }
}

/// A kernel log facility, as go-kmsg names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Facility {
    /// `kern`: the kernel itself.
    Kern,
    /// `user`: where `[talos]` lines land (they are written without a `<N>` prefix).
    User,
    /// `daemon`: udevd and friends.
    Daemon,
}

impl Facility {
    fn name(self) -> &'static str {
        match self {
            Self::Kern => "kern",
            Self::User => "user",
            Self::Daemon => "daemon",
        }
    }
}

/// One record of the kernel ring buffer as the Talos `Dmesg` API formats it:
/// `kern:    info: [2026-08-21T10:00:00.412345678Z]: Linux version ...` (the priority
/// right-aligned to 7 characters, the time in RFC 3339 with trailing zeros trimmed). The
/// returned line has no newline; the API adds the one the kernel message ends with.
///
/// The message is escaped as `/dev/kmsg` prints it: bytes below 0x20, from 0x7f up, and the
/// backslash itself as `\xNN` (a JSON `\"` reads `\x5c"`, `µs` reads `\xc2\xb5s`).
#[must_use]
pub fn dmesg(facility: Facility, priority: Priority, at: Timestamp, message: &str) -> String {
    format!("{}: {:>7}: [{}]: {}", facility.name(), priority.name(), rfc3339_nano(at), kmsg_escape(message))
}

/// `/dev/kmsg`'s escaping of a message.
fn kmsg_escape(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for byte in message.bytes() {
        if !(0x20..0x7f).contains(&byte) || byte == b'\\' {
            let _ = write!(out, "\\x{byte:02x}");
        } else {
            out.push(char::from(byte));
        }
    }
    out
}

/// machined's own log line: the `timeStampWriter` time (`2006/01/02 15:04:05.000000`, UTC) then
/// the std logger's `[talos] ` prefix.
#[must_use]
pub fn machined(at: Timestamp, message: &str) -> String {
    format!("{} [talos] {message}", machined_time(at))
}

/// A zap development-console line (`controller-runtime`, `dns-resolve-cache`):
/// `2026-08-21T10:00:03.500Z \x1b[34mINFO\x1b[0m msg {"component": "..."}`.
#[must_use]
pub fn zap(at: Timestamp, level: ZapLevel, message: &str, fields: &[(&str, &str)]) -> String {
    format!("{} {} {}", zap_time(at), level.coloured(), zap_console_copy(message, fields))
}

/// The copy a zap entry leaves on the std logger (machined's log and dmesg), after the `[talos] `
/// prefix: the message and the fields, no time, no level.
#[must_use]
pub fn zap_console_copy(message: &str, fields: &[(&str, &str)]) -> String {
    if fields.is_empty() {
        return message.to_owned();
    }
    let fields: Vec<String> = fields.iter().map(|(k, v)| format!("{}: {}", json_string(k), json_string(v))).collect();
    format!("{message} {{{}}}", fields.join(", "))
}

/// An etcd JSON log line: `{"level":"warn","ts":"...","caller":"...","msg":"...",...}`, keys in
/// zap's order. `fields` values are JSON already.
#[must_use]
pub fn etcd(at: Timestamp, level: &str, caller: &str, message: &str, fields: &[(&str, serde_json::Value)]) -> String {
    let mut line = format!(
        "{{\"level\":{},\"ts\":\"{}\",\"caller\":{},\"msg\":{}",
        json_string(level),
        micro_rfc3339(at),
        json_string(caller),
        json_string(message)
    );
    for (key, value) in fields {
        let _ = write!(line, ",{}:{}", json_string(key), value);
    }
    line.push('}');
    line
}

/// A containerd (logrus text formatter) line: `time="..." level=info msg="..." key=value`.
/// Values are quoted when logrus would quote them.
#[must_use]
pub fn logrus(at: Timestamp, level: &str, message: &str, fields: &[(&str, &str)]) -> String {
    let mut line = format!("time=\"{}\" level={level} msg={}", rfc3339_nano(at), logrus_value(message));
    for (key, value) in fields {
        let _ = write!(line, " {key}={}", logrus_value(value));
    }
    line
}

/// A kubelet (klog) line: `I0821 10:00:00.123456    1234 file.go:12] message`, the thread id
/// right-aligned to 7 characters.
#[must_use]
pub fn klog(severity: char, at: Timestamp, pid: u32, source: &str, message: &str) -> String {
    let time = at.to_zoned_datetime(jiff::tz::TimeZone::UTC);
    format!(
        "{severity}{:02}{:02} {:02}:{:02}:{:02}.{:06} {pid:>7} {source}] {message}",
        time.month(),
        time.day(),
        time.hour(),
        time.minute(),
        time.second(),
        time.subsec_nanosecond() / 1000
    )
}

/// `2006/01/02 15:04:05.000000` in UTC.
#[must_use]
pub fn machined_time(at: Timestamp) -> String {
    let time = at.to_zoned_datetime(jiff::tz::TimeZone::UTC);
    format!("{} {}.{:06}", time.strftime("%Y/%m/%d"), time.strftime("%H:%M:%S"), time.subsec_nanosecond() / 1000)
}

/// zap's ISO 8601 with milliseconds: `2026-08-21T10:00:03.500Z`.
fn zap_time(at: Timestamp) -> String {
    let time = at.to_zoned_datetime(jiff::tz::TimeZone::UTC);
    format!("{}.{:03}Z", time.strftime("%Y-%m-%dT%H:%M:%S"), time.subsec_nanosecond() / 1_000_000)
}

/// RFC 3339 with microseconds: `2026-08-21T10:00:03.500000Z`.
fn micro_rfc3339(at: Timestamp) -> String {
    let time = at.to_zoned_datetime(jiff::tz::TimeZone::UTC);
    format!("{}.{:06}Z", time.strftime("%Y-%m-%dT%H:%M:%S"), time.subsec_nanosecond() / 1000)
}

/// Go's `time.RFC3339Nano` in UTC: nanoseconds with trailing zeros trimmed, `Z`.
#[must_use]
pub fn rfc3339_nano(at: Timestamp) -> String {
    let time = at.to_zoned_datetime(jiff::tz::TimeZone::UTC);
    let nanos = time.subsec_nanosecond();
    let base = time.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    if nanos == 0 {
        return format!("{base}Z");
    }
    let fraction = format!("{nanos:09}");
    format!("{base}.{}Z", fraction.trim_end_matches('0'))
}

/// RFC 3339 to the second, as Kubernetes and Argo CD write timestamps.
#[must_use]
pub fn rfc3339_seconds(at: Timestamp) -> String {
    at.to_zoned_datetime(jiff::tz::TimeZone::UTC).strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// logrus quotes a value unless every character is a letter, digit or one of `-._/@^+`.
fn logrus_value(value: &str) -> String {
    let plain = !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || "-._/@^+".contains(c));
    if plain { value.to_owned() } else { json_string(value) }
}

/// Go's `time.Duration.String()`: `1h2m3s`, `1.5s`, `250ms`, `120.3µs`, `0s`.
#[must_use]
pub fn go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    if nanos < 1_000 {
        return format!("{nanos}ns");
    }
    if nanos < 1_000_000 {
        return format!("{}µs", fraction(nanos, 1_000));
    }
    if nanos < 1_000_000_000 {
        return format!("{}ms", fraction(nanos, 1_000_000));
    }
    let seconds = nanos / 1_000_000_000;
    let sub = nanos % 1_000_000_000;
    let (h, m, s) = (seconds / 3600, (seconds / 60) % 60, seconds % 60);
    let secs = fraction(u128::from(u64::try_from(s).unwrap_or(0)) * 1_000_000_000 + sub, 1_000_000_000);
    match (h, m) {
        (0, 0) => format!("{secs}s"),
        (0, m) => format!("{m}m{secs}s"),
        (h, m) => format!("{h}h{m}m{secs}s"),
    }
}

/// `value / unit` printed with the fractional digits Go keeps (trailing zeros trimmed).
fn fraction(value: u128, unit: u128) -> String {
    let whole = value / unit;
    let rest = value % unit;
    if rest == 0 {
        return whole.to_string();
    }
    let digits = unit.to_string().len() - 1;
    let rest = format!("{rest:0digits$}");
    format!("{whole}.{}", rest.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn dmesg_right_aligns_the_priority_and_trims_the_time() {
        let t = at("2026-08-21T10:00:00.412345678Z");
        assert_eq!(dmesg(Facility::Kern, Priority::Info, t, "Linux version"), "kern:    info: [2026-08-21T10:00:00.412345678Z]: Linux version");
        let t = at("2026-08-21T10:00:05.12Z");
        assert_eq!(dmesg(Facility::User, Priority::Warning, t, "[talos] x"), "user: warning: [2026-08-21T10:00:05.12Z]: [talos] x");
        assert_eq!(dmesg(Facility::Kern, Priority::Err, t, "I/O"), "kern:     err: [2026-08-21T10:00:05.12Z]: I/O");
        assert_eq!(
            dmesg(Facility::User, Priority::Warning, t, "[talos] done, 118µs {\"error\": \"pods \\\"x\\\"\"}\t"),
            "user: warning: [2026-08-21T10:00:05.12Z]: [talos] done, 118\\xc2\\xb5s {\"error\": \"pods \\x5c\"x\\x5c\"\"}\\x09",
            "escaped as /dev/kmsg prints it"
        );
        assert_eq!(rfc3339_nano(at("2026-08-21T10:00:05Z")), "2026-08-21T10:00:05Z");
    }

    #[test]
    fn machined_lines_carry_microseconds_and_the_talos_prefix() {
        let t = at("2026-08-21T10:00:01.123456789Z");
        assert_eq!(
            machined(t, "task startAllServices (1/1): done, 2.1s"),
            "2026/08/21 10:00:01.123456 [talos] task startAllServices (1/1): done, 2.1s"
        );
    }

    #[test]
    fn zap_lines_colour_their_level_and_space_their_fields() {
        let t = at("2026-08-21T10:00:09.5Z");
        let fields = [("component", "controller-runtime"), ("controller", "k8s.ManifestApplyController"), ("error", "refused")];
        assert_eq!(
            zap(t, ZapLevel::Error, "controller failed", &fields),
            "2026-08-21T10:00:09.500Z \x1b[31mERROR\x1b[0m controller failed {\"component\": \"controller-runtime\", \"controller\": \"k8s.ManifestApplyController\", \"error\": \"refused\"}"
        );
    }

    #[test]
    fn etcd_logrus_and_klog_keep_their_own_formats() {
        let t = at("2026-08-21T10:00:00.123456Z");
        assert_eq!(
            etcd(t, "warn", "rafthttp/probing_status.go:68", "prober detected unhealthy status", &[("rtt", serde_json::json!("0s"))]),
            r#"{"level":"warn","ts":"2026-08-21T10:00:00.123456Z","caller":"rafthttp/probing_status.go:68","msg":"prober detected unhealthy status","rtt":"0s"}"#
        );
        assert_eq!(
            logrus(t, "warn", "failed to load plugin", &[("error", "devmapper not configured"), ("type", "io.containerd.snapshotter.v1")]),
            r#"time="2026-08-21T10:00:00.123456Z" level=warn msg="failed to load plugin" error="devmapper not configured" type=io.containerd.snapshotter.v1"#
        );
        assert_eq!(klog('E', t, 1234, "file.go:12", "boom"), "E0821 10:00:00.123456    1234 file.go:12] boom");
    }

    #[test]
    fn durations_print_like_go() {
        assert_eq!(go_duration(Duration::ZERO), "0s");
        assert_eq!(go_duration(Duration::from_nanos(120_300)), "120.3µs");
        assert_eq!(go_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(go_duration(Duration::from_millis(2100)), "2.1s");
        assert_eq!(go_duration(Duration::from_secs(60)), "1m0s");
        assert_eq!(go_duration(Duration::from_secs(7384)), "2h3m4s");
    }
}
