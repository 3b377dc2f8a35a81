//! The resource types the lab's API serves, as discovery describes them.

use crate::store::ResourceId;

/// One served resource type.
#[derive(Debug, PartialEq, Eq)]
pub struct Kind {
    /// API group (`""` for core).
    pub group: &'static str,
    /// The only served version.
    pub version: &'static str,
    /// `Node`.
    pub kind: &'static str,
    /// `nodes`.
    pub plural: &'static str,
    /// `node`.
    pub singular: &'static str,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// `kubectl get no`.
    pub short_names: &'static [&'static str],
    /// `kubectl get all` and friends.
    pub categories: &'static [&'static str],
}

/// Every verb the lab serves, for every resource (discovery's `verbs`).
pub const VERBS: &[&str] = &["create", "delete", "get", "list", "patch", "update", "watch"];

/// The served resource types: core Namespaces, Nodes, Pods, Events, ServiceAccounts,
/// PersistentVolumes and their claims; StorageClasses; RBAC roles and bindings; and Argo CD
/// Applications (as the upstream CRD declares them: namespaced, short names `app`/`apps`, no
/// subresources). Namespaces come first.
pub const KINDS: &[Kind] = &[
    core("Namespace", "namespace", "namespaces", false, &["ns"], &[]),
    core("Node", "node", "nodes", false, &["no"], &[]),
    core("Pod", "pod", "pods", true, &["po"], &["all"]),
    core("Event", "event", "events", true, &["ev"], &[]),
    core("ServiceAccount", "serviceaccount", "serviceaccounts", true, &["sa"], &[]),
    core("PersistentVolume", "persistentvolume", "persistentvolumes", false, &["pv"], &[]),
    core("PersistentVolumeClaim", "persistentvolumeclaim", "persistentvolumeclaims", true, &["pvc"], &[]),
    Kind {
        group: "storage.k8s.io",
        version: "v1",
        kind: "StorageClass",
        plural: "storageclasses",
        singular: "storageclass",
        namespaced: false,
        short_names: &["sc"],
        categories: &[],
    },
    rbac("ClusterRole", "clusterrole", "clusterroles", false),
    rbac("ClusterRoleBinding", "clusterrolebinding", "clusterrolebindings", false),
    rbac("Role", "role", "roles", true),
    rbac("RoleBinding", "rolebinding", "rolebindings", true),
    Kind {
        group: "argoproj.io",
        version: "v1alpha1",
        kind: "Application",
        plural: "applications",
        singular: "application",
        namespaced: true,
        short_names: &["app", "apps"],
        categories: &[],
    },
];

/// A subresource served under a kind: discovery lists it as `<plural>/<name>`.
#[derive(Debug, PartialEq, Eq)]
pub struct Subresource {
    /// The plural of the kind it belongs to (`serviceaccounts`).
    pub parent: &'static str,
    /// Its name (`token`).
    pub name: &'static str,
    /// The group of the object it takes and returns (`authentication.k8s.io`).
    pub group: &'static str,
    /// Its version (`v1`).
    pub version: &'static str,
    /// Its kind (`TokenRequest`).
    pub kind: &'static str,
    /// Its verbs (`create`).
    pub verbs: &'static [&'static str],
}

/// The served subresources: the TokenRequest API (`POST .../serviceaccounts/NAME/token`).
pub const SUBRESOURCES: &[Subresource] = &[Subresource {
    parent: "serviceaccounts",
    name: "token",
    group: "authentication.k8s.io",
    version: "v1",
    kind: "TokenRequest",
    verbs: &["create"],
}];

const fn core(
    kind: &'static str,
    singular: &'static str,
    plural: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
) -> Kind {
    Kind { group: "", version: "v1", kind, plural, singular, namespaced, short_names, categories }
}

const fn rbac(kind: &'static str, singular: &'static str, plural: &'static str, namespaced: bool) -> Kind {
    Kind { group: "rbac.authorization.k8s.io", version: "v1", kind, plural, singular, namespaced, short_names: &[], categories: &[] }
}

impl Kind {
    /// The served type named `kind` in `group` (for RBAC rules and owner references).
    #[must_use]
    pub fn by_kind(group: &str, kind: &str) -> Option<&'static Self> {
        KINDS.iter().find(|k| k.group == group && k.kind == kind)
    }

    /// The served type at `group`/`version`/`plural`.
    #[must_use]
    pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static Self> {
        KINDS.iter().find(|k| k.group == group && k.version == version && k.plural == plural)
    }

    /// The store's key for this type.
    #[must_use]
    pub fn id(&self) -> ResourceId {
        ResourceId::new(self.group, self.plural)
    }

    /// `v1` or `argoproj.io/v1alpha1`.
    #[must_use]
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.to_owned() } else { format!("{}/{}", self.group, self.version) }
    }

    /// The name errors use: `pods`, `applications.argoproj.io`.
    #[must_use]
    pub fn qualified(&self) -> String {
        if self.group.is_empty() { self.plural.to_owned() } else { format!("{}.{}", self.plural, self.group) }
    }

    /// The groups served besides core, each with its one version.
    pub fn groups() -> impl Iterator<Item = (&'static str, &'static str)> {
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for k in KINDS.iter().filter(|k| !k.group.is_empty()) {
            if !seen.contains(&(k.group, k.version)) {
                seen.push((k.group, k.version));
            }
        }
        seen.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_come_first_and_every_subresource_has_a_parent() {
        assert_eq!(KINDS[0].plural, "namespaces");
        for sub in SUBRESOURCES {
            assert!(KINDS.iter().any(|k| k.plural == sub.parent), "{}", sub.parent);
        }
        assert_eq!(Kind::by_kind("rbac.authorization.k8s.io", "ClusterRole").map(|k| k.plural), Some("clusterroles"));
    }
}
