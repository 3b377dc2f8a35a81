//! What an environment builds for the tools: the one place that turns env.yaml into a terraform
//! driver, a talosctl driver, a Kubernetes client and a redactor, so that every run of a tool on
//! an environment is configured the same way (the apply, the destroy, a session's teardown).

use std::path::Path;

use vixens_drivers::redact::Redactor;
use vixens_drivers::talosctl::Talosctl;
use vixens_drivers::terraform::Terraform;
use vixens_kube::{Access, Cluster, Error as KubeError};

use super::{Environment, InventoryCheck, missing_read_only_identity};

impl Environment {
    /// The terraform driver of this environment: its root, variables, backend and data dir,
    /// `provisioning.env` for an environment the harness provisions, its tools-path first on PATH,
    /// `redactor`'s secrets kept out of its output, and every command appended to `transcript`.
    #[must_use]
    pub fn terraform_driver(&self, redactor: &Redactor, transcript: Option<&Path>) -> Terraform {
        let mut config = self.terraform.clone();
        if let Some(provisioning) = &self.provisioning {
            config.env.extend(provisioning.env.clone());
        }
        let tf = Terraform::new(&config).tools_path(&self.tools_path).redactor(redactor);
        match transcript {
            Some(path) => tf.transcript(path),
            None => tf,
        }
    }

    /// The talosctl driver of this environment: its talosconfig, its tools-path first on PATH
    /// (where the lab's stand-in is), `redactor`'s secrets kept out of its output.
    #[must_use]
    pub fn talosctl_driver(&self, redactor: &Redactor) -> Talosctl {
        Talosctl::new(&self.talosconfig).tools_path(&self.tools_path).redactor(redactor)
    }

    /// A client of this environment's Kubernetes API with the given identity: the read-only
    /// kubeconfig for read-only checks when env.yaml names one. A protected environment is never
    /// read as admin.
    ///
    /// # Errors
    /// [`KubeError::NoReadOnlyIdentity`] for a protected environment without a read-only
    /// kubeconfig; otherwise what [`Cluster::open`] says.
    pub async fn cluster(&self, access: Access) -> Result<Cluster, KubeError> {
        if let (Access::ReadOnly, Some(message)) = (access, missing_read_only_identity(self)) {
            return Err(KubeError::NoReadOnlyIdentity(message));
        }
        match (access, &self.kubeconfig_readonly) {
            (Access::ReadOnly, Some(readonly)) => Cluster::open(readonly, "kubeconfig-readonly").await,
            (Access::Admin | Access::ReadOnly, _) => Cluster::open(&self.kubeconfig, "kubeconfig").await,
        }
    }

    /// Registers every secret of this environment with `redactor`: its kubeconfigs' and
    /// talosconfig's credentials (read afresh: a recreate writes new ones), the values of its
    /// terraform environment (`terraform.env` and `provisioning.env`: environment variables are
    /// where credentials go; values that are not secrets go in `terraform.vars`), the secret
    /// keys of its inventory checks, and the user information of their endpoints, even one
    /// written without a scheme (`user:password@nas:9000`), which no URL rule would recognise.
    /// Credentials written in a URL are redacted by every [`Redactor`] anyway.
    pub fn register_secrets(&self, redactor: &mut Redactor) {
        redactor.add_config_file(&self.kubeconfig);
        if let Some(readonly) = &self.kubeconfig_readonly {
            redactor.add_config_file(readonly);
        }
        redactor.add_config_file(&self.talosconfig);
        let provisioning = self.provisioning.iter().flat_map(|p| &p.env);
        for (name, value) in self.terraform.env.iter().chain(provisioning) {
            redactor.add(name, value);
        }
        for check in &self.protected.inventory {
            if let InventoryCheck::S3Bucket { endpoint, credentials, .. } = check {
                if let Some(credentials) = credentials {
                    redactor.add("secret-key", &credentials.secret_key);
                }
                if let Some(userinfo) = endpoint_userinfo(endpoint) {
                    redactor.add("endpoint-credentials", userinfo);
                }
            }
        }
    }

    /// A redactor knowing every secret of this environment ([`Environment::register_secrets`]).
    #[must_use]
    pub fn redactor(&self) -> Redactor {
        let mut redactor = Redactor::new();
        self.register_secrets(&mut redactor);
        redactor
    }

    /// The node at `address` as messages name it: `lab-controlplane-2 (10.5.0.3)`, or the
    /// address alone when env.yaml does not list it.
    #[must_use]
    pub fn node_label(&self, address: &str) -> String {
        self.nodes
            .iter()
            .find(|n| n.address == address || n.name == address)
            .map_or_else(|| address.to_owned(), |n| format!("{} ({})", n.name, n.address))
    }
}

/// The `user:password` of an endpoint (`scheme://user:password@host/...`, the scheme optional).
fn endpoint_userinfo(endpoint: &str) -> Option<&str> {
    let after_scheme = endpoint.split_once("://").map_or(endpoint, |(_, rest)| rest);
    let authority = after_scheme.split(['/', '?', '#']).next().unwrap_or_default();
    authority.rsplit_once('@').map(|(userinfo, _)| userinfo).filter(|u| !u.is_empty())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;

    const TOKEN: &str = "s3cr3t-b34r3r-t0k3n-value";

    fn kubeconfig(dir: &Path, server: &str) -> PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: lab\n\
             clusters:\n- name: lab\n  cluster:\n    server: {server}\n\
             contexts:\n- name: lab\n  context:\n    cluster: lab\n    user: lab-admin\n\
             users:\n- name: lab-admin\n  user:\n    token: {TOKEN}\n"
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    #[tokio::test]
    async fn the_read_only_identity_is_used_for_read_only_suites_when_set() {
        let dir = tempfile::tempdir().unwrap();
        let admin = kubeconfig(dir.path(), "http://127.0.0.1:1");
        let readonly_dir = dir.path().join("ro");
        std::fs::create_dir(&readonly_dir).unwrap();
        let readonly = kubeconfig(&readonly_dir, "http://127.0.0.1:2");
        let env_file = dir.path().join("env.yaml");
        std::fs::write(
            &env_file,
            format!(
                "name: t\nkind: disposable\ninfra-repo: .\nterraform: {{root: .}}\nkubeconfig: {}\n\
                 kubeconfig-readonly: {}\ntalosconfig: x\nnodes: []\nargocd: {{system-apps: {{max-sync-wave: 2}}}}\n",
                admin.display(),
                readonly.display()
            ),
        )
        .unwrap();
        let env = Environment::load_with(&env_file, &BTreeMap::<String, String>::new()).unwrap();
        let ro = env.cluster(Access::ReadOnly).await.unwrap();
        assert_eq!(ro.endpoint().server, "http://127.0.0.1:2/");
        let rw = env.cluster(Access::Admin).await.unwrap();
        assert_eq!(rw.endpoint().server, "http://127.0.0.1:1/");
    }

    #[tokio::test]
    async fn a_protected_environment_without_a_read_only_identity_is_never_read_as_admin() {
        let dir = tempfile::tempdir().unwrap();
        let admin = kubeconfig(dir.path(), "http://127.0.0.1:1");
        let env_file = dir.path().join("env.yaml");
        let yaml = format!(
            "name: prod\nkind: protected\ninfra-repo: .\nterraform: {{root: .}}\nkubeconfig: {}\ntalosconfig: x\nnodes: []\nargocd: {{system-apps: {{max-sync-wave: 2}}}}\n",
            admin.display()
        );
        std::fs::write(&env_file, yaml).unwrap();
        let env = Environment::load_with(&env_file, &BTreeMap::<String, String>::new()).unwrap();
        let Err(err) = env.cluster(Access::ReadOnly).await else { panic!("read as admin") };
        assert_eq!(
            err.to_string(),
            format!(
                "`prod` is protected and its env.yaml ({}) sets no `kubeconfig-readonly`: its checks run only with a read-only identity, a kubeconfig allowed only get, list and watch",
                env_file.display()
            )
        );
    }

    #[test]
    fn an_environments_secrets_include_its_inventory_keys_and_terraform_env() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = "name: t\nkind: disposable\ninfra-repo: .\nterraform:\n  root: .\n  env: {TF_VAR_token: terraform-token-value}\n\
                    kubeconfig: kubeconfig\ntalosconfig: talosconfig\nnodes: []\nargocd: {system-apps: {max-sync-wave: 2}}\n\
                    protected:\n  inventory:\n    - {kind: s3-bucket, name: b, endpoint: http://nas:9000, bucket: b, access-key: AKID, secret-key: minio-secret-value}\n";
        std::fs::write(dir.path().join("env.yaml"), yaml).unwrap();
        let env = Environment::load_with(dir.path().join("env.yaml"), &std::collections::BTreeMap::<String, String>::new()).unwrap();
        let r = env.redactor();
        assert_eq!(r.redact("minio-secret-value terraform-token-value"), "[REDACTED:secret-key] [REDACTED:TF_VAR_token]");
    }

    #[test]
    fn credentials_in_an_endpoint_are_secrets_even_without_a_scheme() {
        for (endpoint, userinfo) in [
            ("http://minio-admin:hunter2-s3cr3t@nas:9000", Some("minio-admin:hunter2-s3cr3t")),
            ("minio-admin:hunter2-s3cr3t@nas:9000/x@y", Some("minio-admin:hunter2-s3cr3t")),
            ("http://nas:9000/a@b", None),
            ("nas:9000", None),
        ] {
            assert_eq!(endpoint_userinfo(endpoint), userinfo, "{endpoint}");
        }
        let dir = tempfile::tempdir().unwrap();
        let yaml = "name: t\nkind: disposable\ninfra-repo: .\nterraform:\n  root: .\nkubeconfig: kubeconfig\ntalosconfig: talosconfig\nnodes: []\n\
                    argocd: {system-apps: {max-sync-wave: 2}}\nprotected:\n  inventory:\n    - {kind: s3-bucket, name: b, endpoint: \"minio-admin:hunter2-s3cr3t@nas:9000\", bucket: b}\n";
        std::fs::write(dir.path().join("env.yaml"), yaml).unwrap();
        let env = Environment::load_with(dir.path().join("env.yaml"), &std::collections::BTreeMap::<String, String>::new()).unwrap();
        assert_eq!(
            env.redactor().redact(r#"endpoint "minio-admin:hunter2-s3cr3t@nas:9000" is not an http:// URL"#),
            r#"endpoint "[REDACTED:endpoint-credentials]@nas:9000" is not an http:// URL"#
        );
    }
}
