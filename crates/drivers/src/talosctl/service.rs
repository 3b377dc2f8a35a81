//! `talosctl service` output: the table of every service, and the key/value block of one service.
//!
//! ```text
//! NODE       SERVICE    STATE     HEALTH   LAST CHANGE   LAST EVENT
//! 10.5.0.2   apid       Running   OK       2h3m4s ago    Health check successful
//! ```
//!
//! The table is a Go tabwriter (padding 3): every cell starts at its header's column, and cells
//! (`2h3m4s ago`, event messages) may contain single spaces, so rows are cut at the header's
//! column offsets rather than split on whitespace.

/// One row of the service table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRow {
    /// The node that answered.
    pub node: String,
    /// The service id (`apid`, `etcd`, `kubelet`).
    pub id: String,
    /// Its state.
    pub state: ServiceState,
    /// Its health.
    pub health: ServiceHealth,
    /// How long ago the state last changed, as printed (`2h3m4s ago`).
    pub last_change: String,
    /// The last event's message (`<none>` when there is none).
    pub last_event: String,
}

/// One service on one node, from `talosctl service <id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceDetail {
    /// The node that answered.
    pub node: String,
    /// The service id.
    pub id: String,
    /// Its state.
    pub state: ServiceState,
    /// Its health.
    pub health: ServiceHealth,
    /// The last health check message, when there is one.
    pub last_health_message: Option<String>,
    /// Its events, newest first.
    pub events: Vec<ServiceEvent>,
}

/// One service event: `[Running]: Health check successful (2h3m4s ago)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEvent {
    /// The state the service entered.
    pub state: ServiceState,
    /// The event message.
    pub message: String,
    /// How long ago, as printed (`2h3m4s`).
    pub ago: String,
}

/// A Talos service state (`internal/app/machined/pkg/system/events/events.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ServiceState {
    Initialized,
    Starting,
    Preparing,
    Waiting,
    Running,
    Stopping,
    Finished,
    Failed,
    Skipped,
    Unknown,
}

/// A service's health column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceHealth {
    /// `OK`.
    Ok,
    /// `Fail`.
    Fail,
    /// `?`: no health check, or not run yet.
    Unknown,
}

/// A line of `talosctl service` output this parser does not understand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}: {text:?}")]
pub struct ParseError {
    /// 1-based line of stdout.
    pub line: usize,
    /// The line.
    pub text: String,
    /// What is wrong with it.
    pub problem: String,
}

const COLUMNS: [&str; 6] = ["NODE", "SERVICE", "STATE", "HEALTH", "LAST CHANGE", "LAST EVENT"];

/// Parses the service table. Empty output (no node answered) is an empty list.
///
/// # Errors
/// [`ParseError`] naming the first line that is not a table row with known values.
pub fn parse_table(stdout: &str) -> Result<Vec<ServiceRow>, ParseError> {
    let mut lines = stdout.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else { return Ok(Vec::new()) };
    let starts: Vec<usize> = COLUMNS.iter().map(|c| header.find(c)).collect::<Option<_>>().ok_or_else(|| ParseError {
        line: 1,
        text: header.to_owned(),
        problem: format!("expected the header {}", COLUMNS.join(" ")),
    })?;
    lines
        .map(|(i, text)| {
            let fail = |problem: String| ParseError { line: i + 1, text: text.to_owned(), problem };
            let cell = |c: usize| {
                let end = starts.get(c + 1).copied().unwrap_or(text.len()).min(text.len());
                text.get(starts[c].min(end)..end).unwrap_or("").trim().to_owned()
            };
            let row = ServiceRow {
                node: cell(0),
                id: cell(1),
                state: ServiceState::parse(&cell(2)).ok_or_else(|| fail(format!("unknown state {:?}", cell(2))))?,
                health: ServiceHealth::parse(&cell(3)).ok_or_else(|| fail(format!("unknown health {:?}", cell(3))))?,
                last_change: cell(4),
                last_event: cell(5),
            };
            if row.node.is_empty() || row.id.is_empty() {
                return Err(fail("a row needs a node and a service".into()));
            }
            Ok(row)
        })
        .collect()
}

/// Parses the single-service form, one block per node.
///
/// # Errors
/// [`ParseError`] naming the first line that is not part of a service block.
pub fn parse_detail(stdout: &str) -> Result<Vec<ServiceDetail>, ParseError> {
    let mut details: Vec<ServiceDetail> = Vec::new();
    for (i, text) in stdout.lines().enumerate() {
        if text.trim().is_empty() {
            continue;
        }
        let fail = |problem: &str| ParseError { line: i + 1, text: text.to_owned(), problem: problem.to_owned() };
        let (key, value) = detail_key(text);
        if key == "NODE" {
            details.push(ServiceDetail {
                node: value.to_owned(),
                id: String::new(),
                state: ServiceState::Unknown,
                health: ServiceHealth::Unknown,
                last_health_message: None,
                events: Vec::new(),
            });
            continue;
        }
        let detail = details.last_mut().ok_or_else(|| fail("expected a NODE line first"))?;
        match key {
            "ID" => detail.id = value.to_owned(),
            "STATE" => detail.state = ServiceState::parse(value).ok_or_else(|| fail("unknown state"))?,
            "HEALTH" => detail.health = ServiceHealth::parse(value).ok_or_else(|| fail("unknown health"))?,
            "LAST HEALTH MESSAGE" => detail.last_health_message = Some(value.to_owned()),
            "EVENTS" | "" => detail.events.push(ServiceEvent::parse(value).ok_or_else(|| fail("expected `[State]: message (duration ago)`"))?),
            _ => return Err(fail("unknown key")),
        }
    }
    Ok(details)
}

/// Splits a detail line into its key (empty on an event continuation line) and value.
fn detail_key(text: &str) -> (&str, &str) {
    const KEYS: [&str; 6] = ["LAST HEALTH MESSAGE", "HEALTH", "EVENTS", "STATE", "NODE", "ID"];
    for key in KEYS {
        if let Some(rest) = text.strip_prefix(key)
            && (rest.is_empty() || rest.starts_with([' ', '\t']))
        {
            return (key, rest.trim());
        }
    }
    if text.starts_with([' ', '\t']) { ("", text.trim()) } else { ("?", text.trim()) }
}

impl ServiceEvent {
    fn parse(text: &str) -> Option<Self> {
        let (state, rest) = text.strip_prefix('[')?.split_once("]: ")?;
        let (message, ago) = rest.strip_suffix(" ago)")?.rsplit_once(" (")?;
        Some(Self { state: ServiceState::parse(state)?, message: message.to_owned(), ago: ago.to_owned() })
    }
}

impl ServiceState {
    /// Parses a state name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "Initialized" => Self::Initialized,
            "Starting" => Self::Starting,
            "Preparing" => Self::Preparing,
            "Waiting" => Self::Waiting,
            "Running" => Self::Running,
            "Stopping" => Self::Stopping,
            "Finished" => Self::Finished,
            "Failed" => Self::Failed,
            "Skipped" => Self::Skipped,
            "Unknown" => Self::Unknown,
            _ => return None,
        })
    }
}

impl ServiceHealth {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "OK" => Self::Ok,
            "Fail" => Self::Fail,
            "?" => Self::Unknown,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::talosctl::fixtures::{SERVICE_DETAIL, SERVICE_TABLE};

    #[test]
    fn reads_every_row_with_cells_that_contain_spaces() {
        let rows = parse_table(SERVICE_TABLE).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(
            rows[2],
            ServiceRow {
                node: "10.5.0.3".into(),
                id: "ext-iscsid".into(),
                state: ServiceState::Failed,
                health: ServiceHealth::Fail,
                last_change: "12s ago".into(),
                last_event: "Error running Containerd(ext-iscsid), going to restart forever: exit 1".into(),
            }
        );
        assert_eq!((rows[1].health, rows[3].last_event.as_str()), (ServiceHealth::Unknown, "<none>"));
    }

    #[test]
    fn an_unknown_state_is_refused_with_its_line() {
        let bad = SERVICE_TABLE.replace("Failed    Fail", "Exploded  Fail");
        let err = parse_table(&bad).unwrap_err();
        assert_eq!(err.line, 4);
        assert!(err.to_string().starts_with("line 4: unknown state \"Exploded\""), "{err}");
    }

    #[test]
    fn a_missing_header_is_refused() {
        let err = parse_table("10.5.0.2   apid   Running   OK   1s ago   x\n").unwrap_err();
        assert!(err.to_string().starts_with("line 1: expected the header NODE SERVICE STATE HEALTH LAST CHANGE LAST EVENT"), "{err}");
    }

    #[test]
    fn no_output_is_no_rows() {
        assert_eq!(parse_table("").unwrap(), []);
    }

    #[test]
    fn reads_one_block_per_node_with_events_newest_first() {
        let details = parse_detail(SERVICE_DETAIL).unwrap();
        assert_eq!(details.len(), 2);
        let first = &details[0];
        assert_eq!(
            (first.node.as_str(), first.id.as_str(), first.state, first.health),
            ("10.5.0.2", "etcd", ServiceState::Running, ServiceHealth::Fail)
        );
        assert_eq!(first.last_health_message.as_deref(), Some("context deadline exceeded"));
        assert_eq!(
            first.events,
            [
                ServiceEvent { state: ServiceState::Running, message: "Health check failed: context deadline exceeded".into(), ago: "12s".into() },
                ServiceEvent { state: ServiceState::Preparing, message: "Running pre state".into(), ago: "2m3s".into() },
            ]
        );
        assert_eq!((details[1].health, details[1].last_health_message.as_deref()), (ServiceHealth::Ok, None));
    }

    #[test]
    fn a_detail_line_out_of_place_is_refused() {
        let err = parse_detail("ID   etcd\n").unwrap_err();
        assert_eq!(err.to_string(), "line 1: expected a NODE line first: \"ID   etcd\"");
        let err = parse_detail("NODE   10.5.0.2\nEVENTS   Running pre state\n").unwrap_err();
        assert_eq!(err.line, 2);
    }
}
