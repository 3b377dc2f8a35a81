//! `talosctl health` progress, as the server-side checks print it on stderr (stdout stays empty;
//! multierror lines start with a tab, shown as spaces here):
//!
//! ```text
//! discovered nodes: ["10.5.0.2" "10.5.0.3"]
//! waiting for etcd to be healthy: ...
//! waiting for etcd to be healthy: OK
//! waiting for kubelet to be healthy: 1 error occurred:
//!     * 10.5.0.3: service "kubelet" not in expected state "Running": current state [Preparing] Running pre state
//! waiting for kubelet to be healthy: OK
//! ```
//!
//! There is no success banner: the run succeeded when talosctl exits 0 and the last check line
//! ends in `OK` or `SKIP`. The list of checks changes between Talos versions, so none is assumed.

/// Everything one `talosctl health` run reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthReport {
    /// The nodes the checks ran against (`discovered nodes: [...]`).
    pub discovered: Vec<String>,
    /// Each check with its last state, in the order they first appeared.
    pub checks: Vec<Check>,
    /// The check the run ended on (the last `waiting for` line), if any.
    pub last: Option<usize>,
    /// Lines that were not check progress (the final error talosctl printed before exiting 1).
    pub other: Vec<String>,
}

/// One check and the last state it reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What is waited for (`etcd to be healthy`).
    pub description: String,
    /// Its last state.
    pub state: CheckState,
}

/// The state of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckState {
    /// `...`: not evaluated yet.
    Pending,
    /// `OK`.
    Ok,
    /// `SKIP`: does not apply to this cluster.
    Skip,
    /// The last error, multi-line errors joined with newlines.
    Failing(String),
}

/// Why a health run is not a success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unhealthy {
    /// The check the run stopped on (`kubelet to be healthy`), when one was reported.
    pub check: Option<String>,
    /// Its last state or talosctl's final error, on one line.
    pub reason: String,
}

impl HealthReport {
    /// Parses talosctl's stderr.
    #[must_use]
    pub fn parse(stderr: &str) -> Self {
        let mut report = Self::default();
        // A check line whose state is a multierror takes the indented lines after it.
        let mut continuing: Option<usize> = None;
        for line in stderr.lines() {
            if let Some(index) = continuing
                && (line.starts_with('\t') || line.starts_with(' ') || line.is_empty())
            {
                if let CheckState::Failing(text) = &mut report.checks[index].state
                    && !line.trim().is_empty()
                {
                    text.push('\n');
                    text.push_str(line.trim());
                }
                continue;
            }
            continuing = None;
            if let Some(list) = line.strip_prefix("discovered nodes: ") {
                report.discovered = go_quoted_list(list);
            } else if let Some(progress) = line.strip_prefix("waiting for ") {
                let (description, state) = progress.split_once(": ").unwrap_or((progress, ""));
                let index = report.record(description, CheckState::parse(state));
                report.last = Some(index);
                continuing = matches!(report.checks[index].state, CheckState::Failing(_)).then_some(index);
            } else if !line.trim().is_empty() {
                report.other.push(line.to_owned());
            }
        }
        report
    }

    fn record(&mut self, description: &str, state: CheckState) -> usize {
        match self.checks.iter().position(|c| c.description == description) {
            Some(i) => {
                self.checks[i].state = state;
                i
            }
            None => {
                self.checks.push(Check { description: description.to_owned(), state });
                self.checks.len() - 1
            }
        }
    }

    /// The verdict for a run that exited with `code`: healthy only with exit 0 and a last check
    /// that ended `OK` or `SKIP`.
    ///
    /// # Errors
    /// [`Unhealthy`] naming the check the run stopped on and why.
    pub fn verdict(&self, code: i32) -> Result<(), Unhealthy> {
        let last = self.last.map(|i| &self.checks[i]);
        let finished = last.is_some_and(|c| matches!(c.state, CheckState::Ok | CheckState::Skip));
        if code == 0 && finished {
            return Ok(());
        }
        let stuck = last.filter(|c| !matches!(c.state, CheckState::Ok | CheckState::Skip));
        let mut reasons: Vec<String> = stuck.map(|c| c.state.describe()).into_iter().collect();
        reasons.extend(self.other.iter().cloned());
        if reasons.is_empty() {
            reasons.push(match (code, last) {
                (0, None) => "talosctl health exited 0 without reporting any check".to_owned(),
                (0, Some(_)) => "talosctl health exited 0 before its last check passed".to_owned(),
                (code, _) => format!("talosctl health exited with code {code}"),
            });
        }
        Err(Unhealthy { check: stuck.map(|c| c.description.clone()), reason: reasons.join("; ") })
    }
}

impl CheckState {
    fn parse(state: &str) -> Self {
        match state.trim() {
            "..." => Self::Pending,
            "OK" => Self::Ok,
            "SKIP" => Self::Skip,
            other => Self::Failing(other.to_owned()),
        }
    }

    /// The state on one line, for messages.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Pending => "not evaluated yet".to_owned(),
            Self::Ok => "OK".to_owned(),
            Self::Skip => "SKIP".to_owned(),
            Self::Failing(text) => text.lines().collect::<Vec<_>>().join(" "),
        }
    }
}

impl std::fmt::Display for Unhealthy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.check {
            Some(check) => write!(f, "waiting for {check}: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

/// The strings of a Go `%q` slice: `["a" "b"]`.
fn go_quoted_list(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut chars = text.trim().trim_start_matches('[').trim_end_matches(']').chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut item = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => item.extend(chars.next()),
                '"' => break,
                c => item.push(c),
            }
        }
        items.push(item);
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::talosctl::fixtures::{HEALTH_PASSED, HEALTH_TIMED_OUT};

    #[test]
    fn a_run_ending_ok_with_exit_0_is_healthy() {
        let report = HealthReport::parse(HEALTH_PASSED);
        assert_eq!(report.discovered, ["10.5.0.2", "10.5.0.3"]);
        let names: Vec<&str> = report.checks.iter().map(|c| c.description.as_str()).collect();
        assert_eq!(names, ["etcd to be healthy", "kubelet to be healthy", "kube-proxy to report ready", "all k8s nodes to report schedulable"]);
        assert_eq!(report.checks[2].state, CheckState::Skip);
        assert!(report.other.is_empty(), "{:?}", report.other);
        assert_eq!(report.verdict(0), Ok(()));
    }

    #[test]
    fn a_run_ending_on_skip_is_healthy() {
        let report = HealthReport::parse("waiting for etcd to be healthy: OK\nwaiting for coredns to report ready: SKIP\n");
        assert_eq!(report.verdict(0), Ok(()));
    }

    #[test]
    fn a_timeout_names_the_check_and_its_multi_line_error() {
        let report = HealthReport::parse(HEALTH_TIMED_OUT);
        let err = report.verdict(1).unwrap_err();
        assert_eq!(err.check.as_deref(), Some("all k8s nodes to report ready"));
        assert_eq!(
            err.to_string(),
            "waiting for all k8s nodes to report ready: 2 errors occurred: * node \"talos-default-worker-1\" is not ready * node \"talos-default-worker-2\" is not ready; rpc error: code = DeadlineExceeded desc = context deadline exceeded"
        );
    }

    #[test]
    fn exit_1_fails_even_when_the_last_check_said_ok() {
        let report = HealthReport::parse("waiting for etcd to be healthy: OK\n");
        assert_eq!(report.verdict(1).unwrap_err().to_string(), "talosctl health exited with code 1");
    }

    #[test]
    fn exit_0_with_a_pending_last_check_is_not_healthy() {
        let err = HealthReport::parse("waiting for etcd to be healthy: ...\n").verdict(0).unwrap_err();
        assert_eq!(err.to_string(), "waiting for etcd to be healthy: not evaluated yet");
    }

    #[test]
    fn exit_0_with_no_checks_at_all_is_not_healthy() {
        let err = HealthReport::parse("").verdict(0).unwrap_err();
        assert_eq!(err.to_string(), "talosctl health exited 0 without reporting any check");
    }

    #[test]
    fn a_connection_error_before_any_check_is_the_reason() {
        let err = HealthReport::parse("error constructing client: failed to dial 10.5.0.2:50000\n").verdict(1).unwrap_err();
        assert_eq!((err.check, err.reason.as_str()), (None, "error constructing client: failed to dial 10.5.0.2:50000"));
    }

    #[test]
    fn the_check_count_is_whatever_talosctl_printed() {
        let many: String = (0..23).map(|i| format!("waiting for check {i}: OK\n")).collect();
        let report = HealthReport::parse(&many);
        assert_eq!(report.checks.len(), 23);
        assert_eq!(report.verdict(0), Ok(()));
    }
}
