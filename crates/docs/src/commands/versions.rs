//! The versions of the tools an entry runs, for its validation record
//! (`with kubectl v1.34.1, talosctl v1.13.9`).
//!
//! Only tools this project knows how to ask are recorded: shell utilities (`grep`, `head`)
//! add nothing to a record. Each tool is asked once per run, with the same PATH the entries
//! get, so the record names the binary that actually ran.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::sync::Mutex;
use std::time::Duration;

use vixens_drivers::process::Command;

/// A version query should be instant; a tool that hangs on it is recorded as unknown.
const PROBE_TIMEOUT: Duration = Duration::from_secs(15);

/// Reads a tool's answer (its name, its output) into `tool version`.
type ReadVersion = fn(&str, &str) -> Option<String>;

/// Known tools: how to ask each for its version, and how to read the answer.
const TOOLS: &[(&str, &[&str], ReadVersion)] = &[
    ("vixens", &["--version"], first_line),
    ("vixens-lab", &["--version"], first_line),
    ("kubectl", &["version", "--client"], kubectl),
    ("talosctl", &["version", "--client"], talosctl),
    ("terraform", &["version"], first_line),
    ("tofu", &["version"], first_line),
    ("argocd", &["version", "--client", "--short"], first_line),
];

/// Asks tools for their versions, once each.
#[derive(Debug)]
pub struct Versions {
    path: OsString,
    known: Mutex<BTreeMap<String, String>>,
}

impl Versions {
    /// Asks tools found on `path` (a PATH value).
    #[must_use]
    pub fn new(path: OsString) -> Self {
        Self { path, known: Mutex::new(BTreeMap::new()) }
    }

    /// `kubectl v1.34.1`, or `kubectl (version unknown)` when the tool cannot tell.
    pub fn of(&self, tool: &str) -> String {
        let mut known = self.known.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        known.entry(tool.to_owned()).or_insert_with(|| self.probe(tool)).clone()
    }

    /// The versions of the known tools `commands` run, sorted by tool name.
    pub fn for_commands<'a>(&self, commands: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let tools: BTreeSet<&str> = commands.into_iter().flat_map(programs).collect();
        tools.into_iter().map(|t| self.of(t)).collect()
    }

    fn probe(&self, tool: &str) -> String {
        let unknown = || format!("{tool} (version unknown)");
        let Some((_, args, read)) = TOOLS.iter().find(|(name, ..)| *name == tool) else { return unknown() };
        let run = Command::new(tool).args(*args).env("PATH", &self.path).timeout(PROBE_TIMEOUT).run();
        match run {
            Ok(done) if done.success() => read(tool, &format!("{}{}", done.stdout, done.stderr)).unwrap_or_else(unknown),
            _ => unknown(),
        }
    }
}

/// The known tools a shell command runs: the first word of each simple command, past
/// variable assignments and wrappers such as `sudo` or `env`.
#[must_use]
pub fn programs(command: &str) -> Vec<&str> {
    command
        .split(['|', ';', '&', '\n', '(', ')', '`', '{', '}'])
        .filter_map(|segment| {
            segment
                .split_whitespace()
                .find(|word| !word.contains('=') && !matches!(*word, "sudo" | "env" | "time" | "exec" | "command" | "!" | "$" | "\\"))
        })
        .map(|word| word.rsplit('/').next().unwrap_or(word))
        .filter(|word| TOOLS.iter().any(|(name, ..)| name == word))
        .collect()
}

fn first_line(tool: &str, output: &str) -> Option<String> {
    let line = output.lines().map(str::trim).find(|l| !l.is_empty())?;
    // `Terraform v1.11.4` → `terraform v1.11.4`; `vixens 0.1.0` stays as it is.
    let version = line.split_whitespace().find(|w| w.trim_start_matches('v').starts_with(|c: char| c.is_ascii_digit()))?;
    Some(format!("{tool} {version}"))
}

fn kubectl(tool: &str, output: &str) -> Option<String> {
    let version = output.lines().find_map(|l| l.trim().strip_prefix("Client Version:"))?;
    Some(format!("{tool} {}", version.trim()))
}

fn talosctl(tool: &str, output: &str) -> Option<String> {
    let version = output.lines().find_map(|l| l.trim().strip_prefix("Tag:"))?;
    Some(format!("{tool} {}", version.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_known_tools_a_pipeline_runs() {
        assert_eq!(programs("KUBECONFIG=x kubectl get apps | grep -c Healthy"), ["kubectl"]);
        assert_eq!(programs("talosctl -n \"$NODE\" dmesg | head -3 && sudo /usr/bin/terraform version"), ["talosctl", "terraform"]);
        assert_eq!(programs("echo $(vixens --version); vixens-lab down"), ["vixens", "vixens-lab"]);
        assert!(programs("grep -v x file").is_empty());
    }

    #[test]
    fn reads_each_tools_version_output() {
        assert_eq!(first_line("terraform", "Terraform v1.11.4\non linux_amd64\n").as_deref(), Some("terraform v1.11.4"));
        assert_eq!(first_line("vixens", "vixens 0.1.0\n").as_deref(), Some("vixens 0.1.0"));
        assert_eq!(kubectl("kubectl", "Client Version: v1.34.1\nKustomize Version: v5.7.1\n").as_deref(), Some("kubectl v1.34.1"));
        assert_eq!(talosctl("talosctl", "Client:\n\tTag:         v1.13.9\n\tSHA:         1a2b3c4d\n").as_deref(), Some("talosctl v1.13.9"));
    }

    #[test]
    fn a_tool_that_cannot_answer_is_recorded_as_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let versions = Versions::new(dir.path().as_os_str().to_owned());
        assert_eq!(versions.of("kubectl"), "kubectl (version unknown)");
    }

    #[test]
    fn asks_a_tool_found_on_the_given_path() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("talosctl");
        std::fs::write(&tool, "#!/bin/sh\nprintf 'Client:\\n\\tTag:         v9.9.9\\n'\n").unwrap();
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut path = dir.path().as_os_str().to_owned();
        path.push(":/usr/bin:/bin");
        let versions = Versions::new(path);
        assert_eq!(versions.for_commands(["talosctl health | tail -1", "grep x"]), ["talosctl v9.9.9"]);
    }
}
