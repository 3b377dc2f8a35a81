//! The per-cycle artifact folder: `<evidence.artifacts>/<cycle id>/`, named in every failure
//! message. While a check runs, its tools write there (the terraform transcript, the
//! `talosctl health` output); when it fails, the runner adds what explains the failure (every
//! Application as YAML, the Kubernetes events, the flagged Talos log lines with the lines before
//! them). A passing check's folder is removed: the ledger is its evidence.
//!
//! Everything written through [`ArtifactDir::write`] is redacted first.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};

use vixens_drivers::redact::Redactor;
use vixens_kube::Cluster;

/// Files the phases write while they run.
pub mod files {
    /// Every terraform command of the check with its output.
    pub const TERRAFORM: &str = "terraform.log";
    /// `talosctl health` output.
    pub const TALOS_HEALTH: &str = "talos-health.log";
    /// Flagged (and allowed) Talos log lines, each with the lines before it.
    pub const TALOS_LOGS: &str = "talos-logs.txt";
    /// Every Argo CD Application of the environment, as the API served them after the failure.
    pub const APPLICATIONS: &str = "applications.yaml";
    /// Kubernetes events, oldest first.
    pub const EVENTS: &str = "events.txt";
    /// The documented commands' failure: the command, its output, the expected output.
    pub const COMMANDS: &str = "commands.txt";
}

/// One check's artifact folder.
#[derive(Debug)]
pub struct ArtifactDir {
    path: PathBuf,
    redactor: Redactor,
}

impl ArtifactDir {
    /// Creates `<root>/<cycle_id>/`.
    ///
    /// # Errors
    /// When the folder cannot be created.
    pub fn create(root: &Path, cycle_id: &str, redactor: &Redactor) -> std::io::Result<Self> {
        let path = std::path::absolute(root.join(cycle_id))?;
        std::fs::create_dir_all(&path)?;
        Ok(Self { path, redactor: redactor.clone() })
    }

    /// The folder.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path of the artifact `name` (for tools that write it themselves).
    #[must_use]
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Uses `redactor` from now on (secrets learnt after the folder was made: a recreated
    /// cluster's new kubeconfig).
    pub fn set_redactor(&mut self, redactor: &Redactor) {
        self.redactor = redactor.clone();
    }

    /// Writes `text`, redacted, as the artifact `name`.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write(&self, name: &str, text: &str) -> std::io::Result<PathBuf> {
        let path = self.file(name);
        std::fs::write(&path, self.redactor.redact(text))?;
        Ok(path)
    }

    /// Keeps the folder (the check failed) and returns its path.
    #[must_use]
    pub fn keep(self) -> PathBuf {
        self.path
    }

    /// Removes the folder (the check passed). A folder that cannot be removed is only logged:
    /// the check's verdict does not depend on it.
    pub fn discard(self) {
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            tracing::warn!(path = %self.path.display(), "cannot remove the artifacts of a passing check: {e}");
        }
    }
}

/// Writes every Application of `namespace` ([`files::APPLICATIONS`], complete objects as the
/// API serves them) and every event ([`files::EVENTS`]) into `dir`, within `timeout`. Best
/// effort: what cannot be fetched is noted in the file instead.
pub async fn collect_cluster(cluster: &Cluster, namespace: &str, dir: &ArtifactDir, timeout: Duration) {
    let applications = Api::<DynamicObject>::namespaced_with(cluster.client().clone(), namespace, &application_resource());
    let text = match tokio::time::timeout(timeout, applications.list(&ListParams::default())).await {
        Ok(Ok(list)) => list
            .items
            .iter()
            .map(|app| serde_saphyr::to_string(app).unwrap_or_else(|e| format!("# cannot render: {e}\n")))
            .collect::<Vec<_>>()
            .join("---\n"),
        Ok(Err(e)) => format!("# cannot list Applications in {namespace}: {e}\n"),
        Err(_) => format!("# listing Applications in {namespace} took longer than {}\n", humantime::format_duration(timeout)),
    };
    if let Err(e) = dir.write(files::APPLICATIONS, &text) {
        tracing::warn!("cannot write {}: {e}", files::APPLICATIONS);
    }
    let events = Api::<Event>::all(cluster.client().clone());
    let text = match tokio::time::timeout(timeout, events.list(&ListParams::default())).await {
        Ok(Ok(list)) => render_events(list.items),
        Ok(Err(e)) => format!("# cannot list events: {e}\n"),
        Err(_) => format!("# listing events took longer than {}\n", humantime::format_duration(timeout)),
    };
    if let Err(e) = dir.write(files::EVENTS, &text) {
        tracing::warn!("cannot write {}: {e}", files::EVENTS);
    }
}

/// `argoproj.io/v1alpha1` `applications`, untyped so that nothing the API serves is lost.
fn application_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application"), "applications")
}

/// One line per event, oldest first: `TIME TYPE REASON KIND/NAME (NAMESPACE): MESSAGE`.
fn render_events(mut events: Vec<Event>) -> String {
    let time = |e: &Event| {
        e.last_timestamp
            .as_ref()
            .or(e.first_timestamp.as_ref())
            .map(|t| t.0.to_string())
            .or_else(|| e.event_time.as_ref().map(|t| t.0.to_string()))
            .unwrap_or_default()
    };
    events.sort_by_key(|e| time(e));
    let mut text = String::new();
    for event in &events {
        let object = &event.involved_object;
        let _ = writeln!(
            text,
            "{} {} {} {}/{} ({}): {}",
            time(event),
            event.type_.as_deref().unwrap_or("-"),
            event.reason.as_deref().unwrap_or("-"),
            object.kind.as_deref().unwrap_or("-"),
            object.name.as_deref().unwrap_or("-"),
            object.namespace.as_deref().unwrap_or("-"),
            event.message.as_deref().unwrap_or("").trim(),
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_are_redacted_and_kept_only_when_asked() {
        let root = tempfile::tempdir().unwrap();
        let mut redactor = Redactor::new();
        redactor.add("token", "s3cr3t-t0ken-value");
        let dir = ArtifactDir::create(root.path(), "20261126T070102.123Z-42", &redactor).unwrap();
        dir.write(files::EVENTS, "Authorization: Bearer s3cr3t-t0ken-value").unwrap();
        let kept = dir.keep();
        assert_eq!(kept, root.path().join("20261126T070102.123Z-42"));
        assert_eq!(std::fs::read_to_string(kept.join(files::EVENTS)).unwrap(), "Authorization: Bearer [REDACTED:token]");

        let passing = ArtifactDir::create(root.path(), "20261126T070103.000Z-42", &redactor).unwrap();
        let path = passing.path().to_owned();
        passing.discard();
        assert!(!path.exists());
    }
}
