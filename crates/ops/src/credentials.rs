//! The credentials of a cluster that is recreated: taken from the apply, and a read-only identity
//! minted from them.
//!
//! Every apply of a recreated cluster mints new secrets (a new Kubernetes CA and admin
//! credentials, a new Talos CA): terraform writes the new kubeconfig and talosconfig into its
//! own folder and names them in its outputs, and the copies anywhere else stop working. So after
//! every successful apply the harness reads the outputs env.yaml names
//! (`credentials.from-terraform-outputs`) and installs those files at env.yaml's `kubeconfig`
//! and `talosconfig` ([`install_from_outputs`]); and, once the API answers, mints the read-only
//! identity of `kubeconfig-readonly` with the admin one ([`mint_read_only`]).
//!
//! Installing is atomic (a temporary file in the same folder, renamed over the old one) and
//! private (0600), and keeps the copy it replaces beside it (`kubeconfig.previous`): a person
//! who still needs the old cluster's file finds it there. No error or message holds a file's
//! content.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use vixens_drivers::terraform::{self, Run, Terraform};
use vixens_kube::Cluster;
use vixens_kube::identity::{ClusterAccess, KubeconfigError, ReadOnlyIdentity, read_only_kubeconfig};

use crate::env::Environment;

/// The largest credentials file read: a kubeconfig or talosconfig is a few kilobytes.
const MAX_CREDENTIALS_BYTES: u64 = 1024 * 1024;

/// Why fresh credentials could not be installed or minted. Never holds a file's content.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `terraform output -json` failed.
    #[error("cannot read the outputs of the terraform root {}", root.display())]
    Outputs {
        /// The root module.
        root: PathBuf,
        /// Why (boxed: a terraform error carries its stderr).
        #[source]
        source: Box<terraform::Error>,
    },
    /// The output env.yaml names is not among the root's outputs, or is null.
    #[error(
        "the terraform root {} has no output `{output}`{why} (credentials.from-terraform-outputs.{key} in env.yaml); it has: {available}",
        root.display()
    )]
    MissingOutput {
        /// The output's name.
        output: String,
        /// `kubeconfig` or `talosconfig`.
        key: &'static str,
        /// The root module.
        root: PathBuf,
        /// ` with a value` when it exists but is null.
        why: &'static str,
        /// The root's outputs, by name.
        available: String,
    },
    /// The output is not a string (a path).
    #[error(
        "the output `{output}` of the terraform root {} is {found}, not the path of the {key} (credentials.from-terraform-outputs.{key} in env.yaml)",
        root.display()
    )]
    NotAPath {
        /// The output's name.
        output: String,
        /// `kubeconfig` or `talosconfig`.
        key: &'static str,
        /// The root module.
        root: PathBuf,
        /// Its type, as terraform describes it.
        found: String,
    },
    /// The file the output names cannot be read, or is not what it should be.
    #[error("the {key} {} named by the output `{output}` of the terraform root {} {why}", path.display(), root.display())]
    Unreadable {
        /// The output's name.
        output: String,
        /// `kubeconfig` or `talosconfig`.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// The root module.
        root: PathBuf,
        /// What is wrong (`cannot be read: No such file or directory`).
        why: String,
    },
    /// Writing the installed file failed.
    #[error("cannot install the {key} at {} (`{key}` in env.yaml)", path.display())]
    Install {
        /// The env.yaml key of the file.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The admin kubeconfig cannot be turned into a read-only one.
    #[error(transparent)]
    AdminKubeconfig(#[from] KubeconfigError),
    /// The API refused or failed a request of the minting.
    #[error("cannot mint the read-only identity `{account}` (credentials.readonly in env.yaml)")]
    Mint {
        /// `namespace/name` of the ServiceAccount.
        account: String,
        /// Why (boxed: a kube error is large).
        #[source]
        source: Box<vixens_kube::Error>,
    },
}

impl Error {
    /// What a failure blames: the terraform output, or the file.
    #[must_use]
    pub fn culprit(&self) -> String {
        match self {
            Self::Outputs { root, .. } => format!("terraform output in {}", root.display()),
            Self::MissingOutput { output, .. } | Self::NotAPath { output, .. } | Self::Unreadable { output, .. } => {
                format!("terraform output `{output}`")
            }
            Self::Install { path, .. } => path.display().to_string(),
            Self::AdminKubeconfig(KubeconfigError::Unreadable { path, .. } | KubeconfigError::NoCluster { path }) => path.display().to_string(),
            Self::Mint { account, .. } => format!("ServiceAccount {account}"),
        }
    }
}

/// What installing a file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    /// The file already had this content: nothing changed, the previous copy is untouched.
    Unchanged,
    /// The file was written; the copy it replaced, if any, is at `previous`.
    Replaced {
        /// Where the replaced copy is kept.
        previous: Option<PathBuf>,
    },
}

/// One file taken from the apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledFile {
    /// `kubeconfig` or `talosconfig`.
    pub key: &'static str,
    /// Where it is now.
    pub path: PathBuf,
    /// What changed.
    pub installed: Installed,
}

/// Where the copy a new file replaces is kept: beside it, `.previous` added to its name.
#[must_use]
pub fn previous_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".previous");
    path.with_file_name(name)
}

/// Writes `content` at `path`, private (0600) and atomically (a temporary file in the same
/// folder renamed over it), keeping the copy it replaces at [`previous_path`]. The same content
/// again changes nothing, so that the previous copy stays the previous cluster's. The folder is
/// made private (0700) when it does not exist.
///
/// # Errors
/// The folder, the temporary file or the rename failed; `path` is then unchanged.
pub fn install(path: &Path, content: &[u8]) -> std::io::Result<Installed> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let old = match fs::read(path) {
        Ok(old) => Some(old),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if old.as_deref() == Some(content) {
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
        return Ok(Installed::Unchanged);
    }
    let previous = match old {
        Some(old) => {
            let previous = previous_path(path);
            write_atomic(&previous, &old)?;
            Some(previous)
        }
        None => None,
    };
    write_atomic(path, content)?;
    Ok(Installed::Replaced { previous })
}

/// `content` at `path` through a 0600 temporary file of the same folder, synced, then renamed.
fn write_atomic(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(path.file_name().unwrap_or_default());
    let mut file = tempfile::Builder::new().prefix(&prefix).suffix(".tmp").permissions(fs::Permissions::from_mode(0o600)).tempfile_in(dir)?;
    file.write_all(content)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Reads the outputs `env.credentials.from-terraform-outputs` names with `tf` and installs each
/// file at its env.yaml path. Nothing to do (an empty list) when env.yaml names no output.
///
/// # Errors
/// `terraform output` failed, an output is missing, null or not a string, its file cannot be
/// read or is not a kubeconfig, or installing failed. Every file is read before any is
/// installed, so a failure installs nothing.
pub fn install_from_outputs(env: &Environment, tf: &Terraform, run: Run<'_>) -> Result<Vec<InstalledFile>, Error> {
    let Some(credentials) = &env.credentials else { return Ok(Vec::new()) };
    let wanted: Vec<(&'static str, &str, &Path)> = [
        ("kubeconfig", credentials.kubeconfig_output.as_deref(), env.kubeconfig.as_path()),
        ("talosconfig", credentials.talosconfig_output.as_deref(), env.talosconfig.as_path()),
    ]
    .into_iter()
    .filter_map(|(key, output, path)| Some((key, output?, path)))
    .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let root = tf.root().to_owned();
    let outputs = tf.output(run).map_err(|source| Error::Outputs { root: root.clone(), source: Box::new(source) })?;
    let mut files = Vec::new();
    for (key, output, path) in wanted {
        let source = output_path(&outputs, output, key, &root)?;
        files.push((key, read_credentials(&source, output, key, &root)?, path));
    }
    files
        .into_iter()
        .map(|(key, content, path)| {
            let installed = install(path, &content).map_err(|source| Error::Install { key, path: path.to_owned(), source })?;
            tracing::debug!(file = key, path = %path.display(), "installed the credentials of the apply");
            Ok(InstalledFile { key, path: path.to_owned(), installed })
        })
        .collect()
}

/// The path in output `name`, relative paths taken from the root (where terraform ran:
/// `${path.module}/kubeconfig-dev` is `./kubeconfig-dev` in a root module).
fn output_path(
    outputs: &std::collections::BTreeMap<String, terraform::OutputValue>,
    name: &str,
    key: &'static str,
    root: &Path,
) -> Result<PathBuf, Error> {
    let missing = |why: &'static str| Error::MissingOutput {
        output: name.to_owned(),
        key,
        root: root.to_owned(),
        why,
        available: if outputs.is_empty() { "no output (was it applied?)".to_owned() } else { outputs.keys().cloned().collect::<Vec<_>>().join(", ") },
    };
    let value = outputs.get(name).ok_or_else(|| missing(""))?;
    match &value.value {
        serde_json::Value::Null => Err(missing(" with a value")),
        serde_json::Value::String(path) if !path.is_empty() => Ok(root.join(path)),
        _ => Err(Error::NotAPath { output: name.to_owned(), key, root: root.to_owned(), found: value.output_type.to_string() }),
    }
}

/// The content of a credentials file, refused when it cannot be read, is empty, or (for a
/// kubeconfig) does not parse as one.
fn read_credentials(path: &Path, output: &str, key: &'static str, root: &Path) -> Result<Vec<u8>, Error> {
    let unreadable = |why: String| Error::Unreadable { output: output.to_owned(), key, path: path.to_owned(), root: root.to_owned(), why };
    let text = vixens_diagnostic::input::read_to_string(path, MAX_CREDENTIALS_BYTES).map_err(|e| match e {
        vixens_diagnostic::input::InputError::Io { source, .. } => unreadable(format!("cannot be read: {source}")),
        other => unreadable(format!("cannot be read: {other}")),
    })?;
    if text.trim().is_empty() {
        return Err(unreadable("is empty".to_owned()));
    }
    if key == "kubeconfig" && kube::config::Kubeconfig::from_yaml(&text).is_err() {
        return Err(unreadable("is not a kubeconfig".to_owned()));
    }
    Ok(text.into_bytes())
}

/// A read-only kubeconfig just written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintedReadOnly {
    /// Where (env.yaml's `kubeconfig-readonly`).
    pub path: PathBuf,
    /// `system:serviceaccount:NAMESPACE:NAME`.
    pub user: String,
    /// When its token expires.
    pub expires: Timestamp,
}

/// With `env`'s admin kubeconfig, makes sure the read-only identity of `credentials.readonly`
/// exists, asks for a token and writes `kubeconfig-readonly` (0600, atomically). `None` when
/// env.yaml asks for no read-only identity.
///
/// # Errors
/// The admin kubeconfig is unusable, the API refused a request, or writing failed.
pub async fn mint_read_only(env: &Environment) -> Result<Option<MintedReadOnly>, Error> {
    let (Some(config), Some(path)) = (env.credentials.as_ref().and_then(|c| c.readonly.as_ref()), env.kubeconfig_readonly.as_ref()) else {
        return Ok(None);
    };
    let identity = ReadOnlyIdentity { namespace: &config.namespace, name: &config.service_account, token_ttl: config.token_ttl };
    let account = format!("{}/{}", config.namespace, config.service_account);
    let mint_error = |source| Error::Mint { account: account.clone(), source: Box::new(source) };
    let cluster = Cluster::open(&env.kubeconfig, "kubeconfig").await.map_err(mint_error)?;
    let token = cluster.mint_read_only(&identity).await.map_err(mint_error)?;
    let admin = ClusterAccess::read(&env.kubeconfig)?;
    let text = read_only_kubeconfig(&admin, &env.name, &identity, &token);
    install(path, text.as_bytes()).map_err(|source| Error::Install { key: "kubeconfig-readonly", path: path.clone(), source })?;
    let user = format!("system:serviceaccount:{}:{}", config.namespace, config.service_account);
    tracing::debug!(path = %path.display(), %user, expires = %token.expires, "minted the read-only identity");
    Ok(Some(MintedReadOnly { path: path.clone(), user, expires: token.expires }))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn an_installed_file_is_private_and_the_copy_it_replaces_is_kept_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets/kubeconfig");
        assert_eq!(install(&path, b"first").unwrap(), Installed::Replaced { previous: None });
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700, "a folder it makes is private too");
        let previous = dir.path().join("secrets/kubeconfig.previous");
        assert_eq!(install(&path, b"second").unwrap(), Installed::Replaced { previous: Some(previous.clone()) });
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert_eq!(fs::read(&previous).unwrap(), b"first");
        assert_eq!(mode(&previous), 0o600);
    }

    #[test]
    fn installing_the_same_content_again_keeps_the_previous_clusters_copy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("talosconfig");
        install(&path, b"old cluster").unwrap();
        install(&path, b"new cluster").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(install(&path, b"new cluster").unwrap(), Installed::Unchanged);
        assert_eq!(fs::read(previous_path(&path)).unwrap(), b"old cluster");
        assert_eq!(mode(&path), 0o600, "a file made readable by others is made private again");
    }

    #[test]
    fn installing_replaces_by_rename_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeconfig");
        install(&path, b"first").unwrap();
        // A reader holding the old file keeps reading the old content: the new one is another
        // inode, renamed over it, never the old file truncated and rewritten.
        let held = fs::File::open(&path).unwrap();
        install(&path, b"second").unwrap();
        assert_eq!(std::io::read_to_string(held).unwrap(), "first");
        let names: Vec<String> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        let mut names = names;
        names.sort();
        assert_eq!(names, ["kubeconfig", "kubeconfig.previous"]);
    }

    #[test]
    fn a_failed_install_leaves_the_file_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeconfig");
        install(&path, b"working").unwrap();
        // The previous copy cannot be written (a folder is in its place), even as root.
        fs::create_dir(previous_path(&path)).unwrap();
        assert!(install(&path, b"new").is_err());
        assert_eq!(fs::read(&path).unwrap(), b"working");
    }

    fn outputs(entries: &[(&str, serde_json::Value)]) -> BTreeMap<String, terraform::OutputValue> {
        entries
            .iter()
            .map(|(name, value)| {
                let output_type = if value.is_string() { serde_json::json!("string") } else { serde_json::json!(["object", {}]) };
                ((*name).to_owned(), terraform::OutputValue { sensitive: false, output_type, value: value.clone() })
            })
            .collect()
    }

    #[test]
    fn a_missing_output_is_named_with_its_root_and_the_outputs_it_has() {
        let root = Path::new("/infra/terraform/environments/dev");
        let outputs = outputs(&[("cluster_endpoint", serde_json::json!("https://10.0.0.1:6443")), ("talosconfig_path", serde_json::json!("x"))]);
        let error = output_path(&outputs, "kubeconfig_path", "kubeconfig", root).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the terraform root /infra/terraform/environments/dev has no output `kubeconfig_path` \
             (credentials.from-terraform-outputs.kubeconfig in env.yaml); it has: cluster_endpoint, talosconfig_path"
        );
        assert_eq!(error.culprit(), "terraform output `kubeconfig_path`");
        let none = output_path(&BTreeMap::new(), "kubeconfig_path", "kubeconfig", root).unwrap_err();
        assert!(none.to_string().ends_with("it has: no output (was it applied?)"), "{none}");
    }

    #[test]
    fn a_null_or_non_string_output_is_refused_and_a_relative_path_is_the_roots() {
        let root = Path::new("/infra/terraform/environments/dev");
        let outputs = outputs(&[
            ("kubeconfig_path", serde_json::Value::Null),
            ("talosconfig_path", serde_json::json!({"a": 1})),
            ("relative", serde_json::json!("./kubeconfig-dev")),
        ]);
        let null = output_path(&outputs, "kubeconfig_path", "kubeconfig", root).unwrap_err();
        assert!(null.to_string().contains("has no output `kubeconfig_path` with a value"), "{null}");
        let object = output_path(&outputs, "talosconfig_path", "talosconfig", root).unwrap_err();
        assert_eq!(
            object.to_string(),
            "the output `talosconfig_path` of the terraform root /infra/terraform/environments/dev is [\"object\",{}], \
             not the path of the talosconfig (credentials.from-terraform-outputs.talosconfig in env.yaml)"
        );
        assert_eq!(output_path(&outputs, "relative", "kubeconfig", root).unwrap(), root.join("./kubeconfig-dev"));
    }

    #[test]
    fn an_unreadable_or_wrong_file_is_refused_without_quoting_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let gone = read_credentials(&root.join("kubeconfig-dev"), "kubeconfig_path", "kubeconfig", root).unwrap_err();
        assert_eq!(
            gone.to_string(),
            format!(
                "the kubeconfig {}/kubeconfig-dev named by the output `kubeconfig_path` of the terraform root {} cannot be read: No such file or directory (os error 2)",
                root.display(),
                root.display()
            )
        );
        let garbage = root.join("garbage");
        fs::write(&garbage, "token: s3cr3t-value\n- [").unwrap();
        let wrong = read_credentials(&garbage, "kubeconfig_path", "kubeconfig", root).unwrap_err();
        assert!(wrong.to_string().ends_with("is not a kubeconfig"), "{wrong}");
        assert!(!format!("{wrong:?}").contains("s3cr3t"), "the content stays out of the error");
        let empty = root.join("empty");
        fs::write(&empty, "\n").unwrap();
        assert!(read_credentials(&empty, "talosconfig_path", "talosconfig", root).unwrap_err().to_string().ends_with("is empty"));
    }
}
