//! The talosconfig, read as talosctl reads it: `--talosconfig`, else `$TALOSCONFIG`, else
//! `~/.talos/config`; the context from `--context` or the file's `context`; endpoints and nodes
//! overridden by `-e` and `-n`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;
use serde::Deserialize;

use super::{Failure, Global};

#[derive(Deserialize)]
struct File {
    context: Option<String>,
    #[serde(default)]
    contexts: BTreeMap<String, ContextFile>,
}

#[derive(Deserialize)]
struct ContextFile {
    #[serde(default)]
    endpoints: Vec<String>,
    #[serde(default)]
    nodes: Vec<String>,
    #[serde(default)]
    ca: String,
    #[serde(default)]
    key: String,
}

/// What a command needs from the talosconfig and the flags.
pub(super) struct Target {
    /// Where apid listens (`127.0.0.1:PORT`).
    pub endpoints: Vec<String>,
    /// The nodes to act on, as given (`-n` wins over the context's nodes).
    pub nodes: Vec<String>,
    /// The CA that signed apid's certificate, PEM.
    pub ca_pem: Vec<u8>,
    /// The credential presented to apid.
    pub token: String,
}

fn config_path(global: &Global) -> PathBuf {
    if let Some(path) = &global.talosconfig {
        return path.clone();
    }
    if let Some(path) = std::env::var_os("TALOSCONFIG").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    home.join(".talos/config")
}

/// Loads the talosconfig and resolves the context, endpoints and nodes.
pub(super) fn load(global: &Global) -> Result<Target, Failure> {
    let path = config_path(global);
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Failure::Message(format!("failed to open config file {shown:?}: open {shown}: {}", go_io_error(&e))))?;
    let file: File = serde_saphyr::from_str(&text)
        .map_err(|e| Failure::Message(format!("failed to open config file {shown:?}: {}", e.to_string().lines().next().unwrap_or_default())))?;
    let name = global.context.clone().or(file.context).unwrap_or_default();
    let Some(context) = file.contexts.get(&name) else {
        return Err(Failure::Message(format!("error constructing client: context {name:?} not found")));
    };
    let decode = |field: &str, value: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .map_err(|e| Failure::Message(format!("error constructing client: failed to decode {field} in context {name:?}: {e}")))
    };
    let ca_pem = decode("ca", &context.ca)?;
    let token = String::from_utf8(decode("key", &context.key)?)
        .map_err(|_| Failure::Message(format!("error constructing client: key of context {name:?} is not text")))?;
    let endpoints = if global.endpoints.is_empty() { context.endpoints.clone() } else { global.endpoints.clone() };
    if endpoints.is_empty() {
        return Err(Failure::Message("error constructing client: failed to determine endpoints".into()));
    }
    let nodes = if global.nodes.is_empty() { context.nodes.clone() } else { global.nodes.clone() };
    Ok(Target {
        endpoints,
        nodes: nodes.into_iter().map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()).collect(),
        ca_pem,
        token: token.trim().to_owned(),
    })
}

impl Target {
    /// The nodes, or talosctl's error when none is set (commands that act on nodes need one).
    pub fn require_nodes(&self) -> Result<&[String], Failure> {
        if self.nodes.is_empty() {
            Err(Failure::Message(
                "nodes are not set for the command: please use `--nodes` flag or configuration file to set the nodes to run the command against"
                    .into(),
            ))
        } else {
            Ok(&self.nodes)
        }
    }
}

/// Go's text for common I/O errors (`no such file or directory`).
fn go_io_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}
