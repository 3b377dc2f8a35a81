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

/// The served resource types: core Namespaces, Nodes, Pods, Events, and Argo CD Applications
/// (as the upstream CRD declares them: namespaced, short names `app`/`apps`, no subresources).
pub const KINDS: &[Kind] = &[
    Kind {
        group: "",
        version: "v1",
        kind: "Namespace",
        plural: "namespaces",
        singular: "namespace",
        namespaced: false,
        short_names: &["ns"],
        categories: &[],
    },
    Kind { group: "", version: "v1", kind: "Node", plural: "nodes", singular: "node", namespaced: false, short_names: &["no"], categories: &[] },
    Kind { group: "", version: "v1", kind: "Pod", plural: "pods", singular: "pod", namespaced: true, short_names: &["po"], categories: &["all"] },
    Kind { group: "", version: "v1", kind: "Event", plural: "events", singular: "event", namespaced: true, short_names: &["ev"], categories: &[] },
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

impl Kind {
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
