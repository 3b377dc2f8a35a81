//! `vixens commands init`: a starter `docs/commands.md` for a GitOps homelab (Talos, Argo CD,
//! Terraform), in the executable format, with the five commands every such homelab runs:
//! Talos health, the nodes, the Argo CD applications, a node's logs and the Terraform plan.
//!
//! Its entries carry no `Validated on:` lines: the lint reports each one until it has passed on
//! two environments (`vixens commands run ENV --record`), which is the point: a document nobody
//! ran proves nothing.

use std::path::{Path, PathBuf};

use super::DOC_PATH;

/// The starter document.
pub const STARTER: &str = r#"# Daily operations

The commands this homelab's operators run every day, each with when to use it, an example and
what it prints. This document is executable: `vixens commands run ENV` runs every entry on an
environment and compares its output with what is written here, and `vixens commands lint` checks
that every entry has its context, an example and its expected output, and that it passed, as
written now, on at least two environments.

How to read an example: `$ ` starts a command and `> ` continues it; `? N` is the exit status
when it is not 0; the lines after are what the terminal shows (stdout and stderr together). In
expected output, `[..]` stands for any text within a line, a line of `...` for any number of
lines, and a name in brackets for a placeholder defined below. Commands run in the repository's
root, with the environment's `KUBECONFIG` and `TALOSCONFIG`, and its values as variables
(`$ENV`, `$NODE`).

Each entry is a starting point written by `vixens commands init`: adapt it to this cluster, then
run it on two environments with `vixens commands run ENV --record`, which writes its
`Validated on:` lines.

## Placeholders

- `[NODE]` per environment: the first control-plane node, as `talosctl -n` takes it.

## Cluster

### Check Talos health

Context: after a recreate, or before any change to the cluster. Needs the talosconfig
(`TALOSCONFIG`); the checks run on the first node of its context. talosctl prints everything on
stderr and no success banner: the last check ending in `OK` and exit status 0 mean healthy.

Converges: within 5m, every 5s

```console
$ talosctl health
discovered nodes: [..]
...
waiting for all k8s nodes to report schedulable: OK
```

### List the nodes

Context: after a recreate or an upgrade, to see that every node joined and is Ready. Needs the
kubeconfig (`KUBECONFIG`) with read access to nodes.

Converges: within 5m, every 5s

```console
$ kubectl get nodes
NAME[..]STATUS[..]ROLES[..]AGE[..]VERSION
...
```

## Applications

### List the Argo CD applications

Context: after a recreate, to see every application's sync and health: the root application is
Healthy before its children are, so each child must say `Synced` and `Healthy` itself. Needs
read access to the `argocd` namespace.

Converges: within 30m, every 10s

```console
$ kubectl -n argocd get applications
NAME[..]SYNC STATUS[..]HEALTH STATUS
...
```

## Logs

### Read a node's kubelet log

Context: when a node misbehaves, before reading anything else. Needs the talosconfig; each line
starts with the node it comes from.

```console
$ talosctl -n "$NODE" logs kubelet --tail 2
[NODE]: [..]
[NODE]: [..]
```

## Infrastructure

### Plan the infrastructure

Context: before any apply, to see what it would change; exit status 2 means something would.
Needs the environment's Terraform backend credentials; reads the state, writes nothing.

```console
$ terraform -chdir="terraform/environments/$ENV" plan -detailed-exitcode -input=false -no-color
...
No changes. Your infrastructure matches the configuration.
...
```
"#;

/// Why the starter document was not written.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// A document is already there.
    #[error("{} already exists: edit it, or pass --force to replace it with the starter", .0.display())]
    Exists(PathBuf),
    /// Writing failed.
    #[error("cannot write {}", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Writes the starter document to `repo`'s `docs/commands.md` (replacing one only when
/// `force`), and returns its path.
///
/// # Errors
/// [`InitError::Exists`] when a document is there and `force` is false; [`InitError::Write`]
/// when the folder or the file cannot be written.
pub fn init(repo: &Path, force: bool) -> Result<PathBuf, InitError> {
    let path = repo.join(DOC_PATH);
    if path.exists() && !force {
        return Err(InitError::Exists(path));
    }
    let write = |source| InitError::Write { path: path.clone(), source };
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder).map_err(write)?;
    }
    std::fs::write(&path, STARTER).map_err(write)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::super::document::Rule;
    use super::super::{lint, parse};
    use super::*;

    #[test]
    fn the_starter_parses_and_each_entry_only_waits_for_its_validation() {
        let doc = parse::parse(Path::new(DOC_PATH), STARTER);
        let ids: Vec<&str> = doc.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(
            ids,
            ["check-talos-health", "list-the-nodes", "list-the-argo-cd-applications", "read-a-nodes-kubelet-log", "plan-the-infrastructure"]
        );
        let problems = lint::lint(&doc);
        assert_eq!(problems.len(), 5, "{problems:#?}");
        assert!(problems.iter().all(|p| p.rule == Rule::UnderValidated), "{problems:#?}");
        assert!(problems[0].message.contains("run `vixens commands run ENV --record`"), "{}", problems[0].message);
    }

    #[test]
    fn init_writes_the_starter_and_never_replaces_a_document_unasked() {
        let repo = tempfile::tempdir().unwrap();
        let path = init(repo.path(), false).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), STARTER);
        std::fs::write(&path, "# mine\n").unwrap();
        let err = init(repo.path(), false).unwrap_err();
        assert!(err.to_string().ends_with("docs/commands.md already exists: edit it, or pass --force to replace it with the starter"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");
        init(repo.path(), true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), STARTER);
    }
}
