//! The app tree as the GitOps repository declares it (env.yaml `argocd.gitops`): the
//! Applications of one overlay, read as Argo CD would create them, so that system-app names are
//! checked at load and `vixens doctor` resolves the system apps without a cluster.
//!
//! The repository is shaped like Vixens: `argocd/overlays/<overlay>/kustomization.yaml` lists the
//! Application manifests (`resources:`), one Application per file. Which apps exist is what the
//! kustomization lists, not what the folder holds (a `.disabled` file is not an app).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use vixens_kube::argocd::Application;

/// One overlay of a GitOps repository, with its Applications.
#[derive(Debug, Clone)]
pub struct GitopsTree {
    /// The repository.
    pub repo: PathBuf,
    /// The overlay (`dev`, `prod`, `lab`).
    pub overlay: String,
    /// Its Applications, in the kustomization's order.
    pub apps: Vec<Application>,
}

#[derive(Deserialize)]
struct Kustomization {
    #[serde(default)]
    resources: Vec<String>,
}

impl GitopsTree {
    /// The folder of the overlay: `<repo>/argocd/overlays/<overlay>`.
    #[must_use]
    pub fn overlay_dir(repo: &Path, overlay: &str) -> PathBuf {
        repo.join("argocd").join("overlays").join(overlay)
    }

    /// Reads the Applications of `overlay` in `repo`.
    ///
    /// # Errors
    /// What could not be read or parsed, naming the file.
    pub fn read(repo: &Path, overlay: &str) -> Result<Self, String> {
        let dir = Self::overlay_dir(repo, overlay);
        let file = dir.join("kustomization.yaml");
        let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let kustomization: Kustomization = serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        let mut apps = Vec::new();
        for resource in &kustomization.resources {
            let path = dir.join(resource);
            let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {} (listed in {}): {e}", path.display(), file.display()))?;
            let app: Application = serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            apps.push(app);
        }
        Ok(Self { repo: repo.to_owned(), overlay: overlay.to_owned(), apps })
    }

    /// The names of its Applications.
    pub fn names(&self) -> impl Iterator<Item = &str> + Clone {
        self.apps.iter().map(Application::name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/gitops/vixens")
    }

    #[test]
    fn the_lab_overlay_of_the_vixens_fixture_has_its_34_applications() {
        let tree = GitopsTree::read(&fixture(), "lab").unwrap();
        assert_eq!(tree.apps.len(), 34);
        assert!(tree.names().any(|n| n == "cert-manager-webhook-gandi"));
        let traefik = tree.apps.iter().find(|a| a.name() == "traefik").unwrap();
        assert_eq!(traefik.source_paths(), ["apps/00-infra/traefik/values/common.yaml", "apps/00-infra/traefik/values/dev.yaml"]);
    }

    #[test]
    fn a_missing_overlay_is_named() {
        let err = GitopsTree::read(&fixture(), "staging").unwrap_err();
        assert!(err.starts_with("cannot read ") && err.contains("argocd/overlays/staging/kustomization.yaml"), "{err}");
    }
}
