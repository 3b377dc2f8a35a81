//! The app tree read from a GitOps repository shaped like Vixens (`vixens-lab up --gitops-repo
//! DIR --overlay ENV`), the way Argo CD reads it:
//!
//! - the apps are the Application files listed in `argocd/overlays/ENV/kustomization.yaml` (a
//!   `*.yaml.disabled` file beside them is not an app);
//! - the root app-of-apps is `argocd/bootstrap/root-app-ENV.yaml`, as terraform applies it;
//! - each app's sync wave is its `argocd.argoproj.io/sync-wave` annotation, 0 when absent;
//! - what an app deploys is its Git source path rendered as kustomize does: `resources` followed
//!   into folders and files, the overlay's `namespace` set on every namespaced object, its
//!   `labels` added. Patches change no object the lab looks at (names, namespaces, claims), so
//!   they are not applied. A Helm source renders nothing here (the chart is not in the repository);
//! - the PersistentVolumeClaims are the rendered ones, plus those an operator makes: a
//!   CloudNativePG `Cluster` gets `<cluster>-<n>` for each instance, of its `spec.storage` class.
//!
//! Errors name the file and, for YAML, the line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::spec::{AppSpec, ClaimSpec};

/// The provisioner of the Synology CSI driver's StorageClasses: their claims are iSCSI LUNs.
pub const SYNOLOGY_PROVISIONER: &str = "csi.san.synology.com";

/// Kinds that are cluster-scoped: kustomize's `namespace` leaves them alone.
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "StorageClass",
    "CSIDriver",
    "VolumeSnapshotClass",
    "PriorityClass",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "ClusterIssuer",
    "CiliumLoadBalancerIPPool",
    "CiliumL2AnnouncementPolicy",
];

/// A GitOps repository that cannot be read as one.
#[derive(Debug, thiserror::Error)]
pub enum GitopsError {
    /// A file cannot be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file is not the YAML it should be, or lacks what Argo CD needs.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line for YAML errors.
        message: String,
    },
}

/// The tree of one overlay.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    /// The root app-of-apps, as `argocd/bootstrap/root-app-<overlay>.yaml` writes it.
    pub root: Value,
    /// Its children, in the order the overlay lists them.
    pub apps: Vec<AppSpec>,
}

/// Reads overlay `overlay` of the repository at `repo`.
///
/// # Errors
/// A missing or unreadable file, YAML that does not parse, an Application without a name or a
/// destination namespace, or two apps of one name.
pub fn load(repo: &Path, overlay: &str) -> Result<Tree, GitopsError> {
    let root_file = repo.join("argocd/bootstrap").join(format!("root-app-{overlay}.yaml"));
    let root = single(&root_file)?;
    let overlay_dir = repo.join("argocd/overlays").join(overlay);
    let listed = kustomization(&overlay_dir)?;
    let mut apps = Vec::new();
    for entry in listed.resources {
        let file = overlay_dir.join(&entry);
        for manifest in documents(&file)? {
            apps.push(child(repo, &file, manifest)?);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(twice) = apps.iter().find(|a| !seen.insert(a.name.clone())) {
        return Err(invalid(&overlay_dir.join("kustomization.yaml"), format!("app `{}` is listed twice", twice.name)));
    }
    mark_iscsi_volumes(&mut apps);
    Ok(Tree { root, apps })
}

/// One child Application, with what its source renders to.
fn child(repo: &Path, file: &Path, manifest: Value) -> Result<AppSpec, GitopsError> {
    let text = |pointer: &str| manifest.pointer(pointer).and_then(Value::as_str).map(str::to_owned);
    let name = text("/metadata/name").ok_or_else(|| invalid(file, "an Application without metadata.name".into()))?;
    let namespace =
        text("/spec/destination/namespace").ok_or_else(|| invalid(file, format!("Application `{name}` has no spec.destination.namespace")))?;
    let sync_wave = text("/metadata/annotations/argocd.argoproj.io~1sync-wave").and_then(|w| w.trim().parse().ok()).unwrap_or(0);
    let path = git_path(&manifest);
    let objects = match &path {
        Some(path) => render(&repo.join(path))?,
        None => Vec::new(),
    };
    let claims = claims(&objects, &namespace);
    Ok(AppSpec {
        name,
        sync_wave,
        path: path.unwrap_or_default(),
        destination_namespace: namespace,
        volumes: Vec::new(),
        labels: BTreeMap::new(),
        manifest: Some(manifest),
        objects,
        claims,
    })
}

/// The Git path of an app's manifests: `spec.source.path`, or the path of the source of a
/// multi-source app that has one. A Helm chart has none.
fn git_path(manifest: &Value) -> Option<String> {
    let path_of = |source: &Value| source.get("chart").is_none().then(|| source["path"].as_str().map(str::to_owned)).flatten();
    manifest.pointer("/spec/source").and_then(path_of).or_else(|| manifest.pointer("/spec/sources")?.as_array()?.iter().find_map(path_of))
}

/// `volumes` of every app: its claims of a class whose provisioner is the Synology CSI driver,
/// as the repository's StorageClasses say.
fn mark_iscsi_volumes(apps: &mut [AppSpec]) {
    let iscsi_classes: Vec<String> = apps
        .iter()
        .flat_map(|a| &a.objects)
        .filter(|o| o["kind"] == "StorageClass" && o["provisioner"] == SYNOLOGY_PROVISIONER)
        .filter_map(|o| o.pointer("/metadata/name").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let default_class = apps
        .iter()
        .flat_map(|a| &a.objects)
        .find(|o| {
            o["kind"] == "StorageClass"
                && o.pointer("/metadata/annotations/storageclass.kubernetes.io~1is-default-class") == Some(&Value::from("true"))
        })
        .and_then(|o| o.pointer("/metadata/name").and_then(Value::as_str).map(str::to_owned));
    for app in apps {
        for claim in &mut app.claims {
            if claim.storage_class.is_empty() {
                claim.storage_class = default_class.clone().unwrap_or_default();
            }
        }
        app.volumes = app.claims.iter().filter(|c| iscsi_classes.contains(&c.storage_class)).map(|c| c.name.clone()).collect();
    }
}

/// The claims among `objects`, and those their operators make.
fn claims(objects: &[Value], namespace: &str) -> Vec<ClaimSpec> {
    let text = |o: &Value, p: &str| o.pointer(p).and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut claims = Vec::new();
    for object in objects {
        let ns = Some(text(object, "/metadata/namespace")).filter(|n| !n.is_empty()).unwrap_or_else(|| namespace.to_owned());
        match object["kind"].as_str() {
            Some("PersistentVolumeClaim") => claims.push(ClaimSpec {
                name: text(object, "/metadata/name"),
                namespace: ns,
                storage_class: text(object, "/spec/storageClassName"),
                size: text(object, "/spec/resources/requests/storage"),
                access_modes: object
                    .pointer("/spec/accessModes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                volume_name: Some(text(object, "/spec/volumeName")).filter(|v| !v.is_empty()),
            }),
            // The CloudNativePG operator names each instance's claim `<cluster>-<n>`.
            Some("Cluster") if text(object, "/apiVersion").starts_with("postgresql.cnpg.io/") => {
                let instances = object.pointer("/spec/instances").and_then(Value::as_u64).unwrap_or(1);
                for n in 1..=instances {
                    claims.push(ClaimSpec {
                        name: format!("{}-{n}", text(object, "/metadata/name")),
                        namespace: ns.clone(),
                        storage_class: text(object, "/spec/storage/storageClass"),
                        size: text(object, "/spec/storage/size"),
                        access_modes: vec!["ReadWriteOnce".to_owned()],
                        volume_name: None,
                    });
                }
            }
            _ => {}
        }
    }
    claims
}

/// What `kustomization.yaml` says, of what the lab uses.
struct Kustomization {
    resources: Vec<String>,
    namespace: Option<String>,
    labels: BTreeMap<String, String>,
}

fn kustomization(dir: &Path) -> Result<Kustomization, GitopsError> {
    let file = dir.join("kustomization.yaml");
    let doc = single(&file)?;
    let resources = doc["resources"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect();
    let namespace = doc["namespace"].as_str().map(str::to_owned);
    let mut labels = BTreeMap::new();
    for entry in doc["labels"].as_array().into_iter().flatten() {
        for (k, v) in entry["pairs"].as_object().into_iter().flatten() {
            labels.insert(k.clone(), v.as_str().unwrap_or_default().to_owned());
        }
    }
    Ok(Kustomization { resources, namespace, labels })
}

/// The objects a kustomize folder renders to.
fn render(dir: &Path) -> Result<Vec<Value>, GitopsError> {
    let kustomization = kustomization(dir)?;
    let mut objects = Vec::new();
    for entry in &kustomization.resources {
        let path = dir.join(entry);
        if path.is_dir() {
            objects.extend(render(&path)?);
        } else {
            objects.extend(documents(&path)?);
        }
    }
    for object in &mut objects {
        let kind = object["kind"].as_str().unwrap_or_default().to_owned();
        if let (Some(ns), false) = (&kustomization.namespace, CLUSTER_SCOPED.contains(&kind.as_str())) {
            object["metadata"]["namespace"] = Value::from(ns.clone());
        }
        for (k, v) in &kustomization.labels {
            object["metadata"]["labels"][k] = Value::from(v.clone());
        }
    }
    Ok(objects)
}

/// Every YAML document of a file (empty ones dropped).
fn documents(file: &Path) -> Result<Vec<Value>, GitopsError> {
    let text = std::fs::read_to_string(file).map_err(|source| GitopsError::Read { path: file.to_owned(), source })?;
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).map_err(|e| invalid(file, e.to_string()))?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// The one document of a file.
fn single(file: &Path) -> Result<Value, GitopsError> {
    let mut docs = documents(file)?;
    match docs.len() {
        1 => Ok(docs.remove(0)),
        n => Err(invalid(file, format!("expected one YAML document, found {n}"))),
    }
}

fn invalid(file: &Path, message: String) -> GitopsError {
    GitopsError::Invalid { path: file.to_owned(), message }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/gitops/vixens")
    }

    fn expected(overlay: &str) -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../tests/fixtures/gitops/expected/{overlay}.json"));
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn every_overlay_lists_the_apps_and_waves_the_expected_facts_name() {
        for overlay in ["dev", "prod", "lab"] {
            let tree = load(&fixture(), overlay).unwrap();
            let expected = expected(overlay);
            assert_eq!(tree.apps.len(), expected["childCount"].as_u64().unwrap() as usize, "{overlay}");
            assert_eq!(tree.root["metadata"]["name"], "vixens-app-of-apps");
            for app in expected["apps"].as_array().unwrap() {
                let name = app["name"].as_str().unwrap();
                let found = tree.apps.iter().find(|a| a.name == name).unwrap_or_else(|| panic!("{overlay}: {name}"));
                assert_eq!(i64::from(found.sync_wave), app["effectiveWave"].as_i64().unwrap(), "{overlay}: {name}");
            }
        }
    }

    #[test]
    fn an_app_without_a_wave_annotation_is_wave_zero_and_keeps_no_annotation() {
        let tree = load(&fixture(), "lab").unwrap();
        let nfs = tree.apps.iter().find(|a| a.name == "nfs-storage").unwrap();
        assert_eq!(nfs.sync_wave, 0);
        assert!(nfs.manifest.as_ref().unwrap().pointer("/metadata/annotations/argocd.argoproj.io~1sync-wave").is_none());
        assert!(tree.apps.iter().any(|a| a.name == "cert-manager-webhook-gandi"), "real names");
    }

    #[test]
    fn claims_come_from_the_rendered_overlays_and_the_cnpg_operator() {
        let tree = load(&fixture(), "lab").unwrap();
        let vaultwarden = tree.apps.iter().find(|a| a.name == "vaultwarden").unwrap();
        assert_eq!(vaultwarden.volumes, ["vaultwarden-data"]);
        assert_eq!(vaultwarden.claims[0].namespace, "services");
        assert_eq!(vaultwarden.claims[0].storage_class, "synelia-iscsi-retain");
        let postgres = tree.apps.iter().find(|a| a.name == "postgresql-shared").unwrap();
        assert_eq!(postgres.volumes, ["postgresql-shared-1"]);
        let jellyfin = tree.apps.iter().find(|a| a.name == "jellyfin").unwrap();
        assert_eq!(jellyfin.volumes, ["jellyfin-config"], "local-path and NFS claims are not LUNs");
        assert_eq!(jellyfin.claims.len(), 3);
        let iscsi: usize = tree.apps.iter().map(|a| a.volumes.len()).sum();
        assert_eq!(iscsi, 11, "7 Retain and 4 Delete LUNs in the lab overlay");
    }

    #[test]
    fn a_helm_app_renders_nothing_and_a_missing_overlay_names_its_file() {
        let tree = load(&fixture(), "lab").unwrap();
        let traefik = tree.apps.iter().find(|a| a.name == "traefik").unwrap();
        assert!(traefik.objects.is_empty() && traefik.path.is_empty());
        let err = load(&fixture(), "staging").unwrap_err().to_string();
        assert!(err.starts_with("cannot read ") && err.contains("root-app-staging.yaml"), "{err}");
    }

    #[test]
    fn bad_yaml_names_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("argocd/bootstrap")).unwrap();
        std::fs::create_dir_all(dir.path().join("argocd/overlays/x/apps")).unwrap();
        std::fs::write(dir.path().join("argocd/bootstrap/root-app-x.yaml"), "metadata: {name: root}\n").unwrap();
        std::fs::write(dir.path().join("argocd/overlays/x/kustomization.yaml"), "resources: [apps/a.yaml]\n").unwrap();
        std::fs::write(dir.path().join("argocd/overlays/x/apps/a.yaml"), "metadata:\n  name: a\nspec: [\n").unwrap();
        let err = load(dir.path(), "x").unwrap_err().to_string();
        assert!(err.contains("apps/a.yaml: ") && err.contains("line"), "{err}");
    }
}
