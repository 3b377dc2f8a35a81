//! `talosctl version`: a `Client:` block, then `Server:` with one block per node, each line indented
//! by a tab (shown as spaces here) and each value at tab + 13 columns.
//!
//! ```text
//! Client:
//!     Tag:         v1.13.9
//!     SHA:         1a2b3c4d
//!     Built:       
//!     Go version:  go1.25.5
//!     OS/Arch:     linux/amd64
//! Server:
//!     NODE:        10.5.0.2
//!     Tag:         v1.13.9
//!     ...
//!     Enabled:     RBAC
//! ```

use super::service::ParseError;

/// The versions `talosctl version` reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionReport {
    /// The client's version (`--short` prints only its tag).
    pub client: Option<VersionInfo>,
    /// One entry per node that answered.
    pub servers: Vec<ServerVersion>,
}

/// One node's version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerVersion {
    /// The node.
    pub node: String,
    /// Its version.
    pub version: VersionInfo,
}

/// The fields of one version block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionInfo {
    /// `v1.13.9`.
    pub tag: String,
    /// The git SHA.
    pub sha: String,
    /// Build time (normally empty).
    pub built: String,
    /// `go1.25.5`.
    pub go_version: String,
    /// `linux/amd64`.
    pub os_arch: String,
    /// Enabled features (`RBAC`), servers only.
    pub enabled: Option<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Section {
    Start,
    Client,
    Server,
}

/// Parses the long form (and `--short`, whose client block is one `Talos vX` line).
///
/// # Errors
/// [`ParseError`] naming the first line that fits no block.
pub fn parse(stdout: &str) -> Result<VersionReport, ParseError> {
    let mut report = VersionReport::default();
    let mut section = Section::Start;
    for (i, text) in stdout.lines().enumerate() {
        let fail = |problem: &str| ParseError { line: i + 1, text: text.to_owned(), problem: problem.to_owned() };
        match text.trim_end() {
            "" => continue,
            "Client:" => {
                section = Section::Client;
                report.client = Some(VersionInfo::default());
                continue;
            }
            "Server:" => {
                section = Section::Server;
                continue;
            }
            short if section == Section::Start && short.starts_with("Talos v") => {
                let tag = short.trim_start_matches("Talos ").to_owned();
                report.client = Some(VersionInfo { tag, ..VersionInfo::default() });
                continue;
            }
            _ => {}
        }
        let (label, value) = text.trim_start().split_once(':').ok_or_else(|| fail("expected `Label: value`"))?;
        let value = value.trim().to_owned();
        let info = match (section, label) {
            (Section::Server, "NODE") => {
                report.servers.push(ServerVersion { node: value, version: VersionInfo::default() });
                continue;
            }
            (Section::Server, _) => &mut report.servers.last_mut().ok_or_else(|| fail("expected a NODE line first"))?.version,
            (Section::Client, _) => report.client.as_mut().ok_or_else(|| fail("expected `Client:` first"))?,
            (Section::Start, _) => return Err(fail("expected `Client:` or `Server:`")),
        };
        match label {
            "Tag" => info.tag = value,
            "SHA" => info.sha = value,
            "Built" => info.built = value,
            "Go version" => info.go_version = value,
            "OS/Arch" => info.os_arch = value,
            "Enabled" => info.enabled = Some(value),
            _ => return Err(fail("unknown label")),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::talosctl::fixtures::VERSION_LONG;

    #[test]
    fn reads_the_client_and_every_node() {
        let report = parse(VERSION_LONG).unwrap();
        let client = report.client.unwrap();
        assert_eq!((client.tag.as_str(), client.go_version.as_str(), client.built.as_str()), ("v1.13.9", "go1.25.5", ""));
        let nodes: Vec<(&str, &str)> = report.servers.iter().map(|s| (s.node.as_str(), s.version.tag.as_str())).collect();
        assert_eq!(nodes, [("10.5.0.2", "v1.13.9"), ("10.5.0.3", "v1.13.8")]);
        assert_eq!(report.servers[0].version.enabled.as_deref(), Some("RBAC"));
    }

    #[test]
    fn reads_the_short_client_line() {
        let short = VERSION_LONG.replace(
            "Client:\n\tTag:         v1.13.9\n\tSHA:         1a2b3c4d\n\tBuilt:       \n\tGo version:  go1.25.5\n\tOS/Arch:     linux/amd64\n",
            "Talos v1.13.9\n",
        );
        let report = parse(&short).unwrap();
        assert_eq!(report.client.unwrap().tag, "v1.13.9");
        assert_eq!(report.servers.len(), 2);
    }

    #[test]
    fn an_unknown_label_is_refused_with_its_line() {
        let err = parse("Client:\n\tFlavour:     vanilla\n").unwrap_err();
        assert_eq!(err.to_string(), "line 2: unknown label: \"\\tFlavour:     vanilla\"");
    }
}
