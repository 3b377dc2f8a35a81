//! The app trees a lab can run: the default one, modelled on the homelab's dev environment, and
//! generated ones for scale tests.

use std::collections::BTreeMap;

use crate::spec::AppSpec;

/// The label the lab puts on its system apps (the homelab labels none; the lab does, so that
/// defining system apps by label selector can be tested too).
pub const TIER_LABEL: &str = "vixens.io/tier";

/// The highest sync wave of a system app in the default tree (the homelab's "wave <= 2" rule).
pub const SYSTEM_MAX_WAVE: i32 = 2;

/// The default tree: the system apps of the homelab's dev environment across waves -5 to 2, then
/// a few user apps in later waves, some with volumes on the NAS.
#[must_use]
pub fn default_apps() -> Vec<AppSpec> {
    let system = |name: &str, wave: i32, folder: &str, namespace: &str| app(name, wave, &format!("apps/{folder}/{name}"), namespace, &[]);
    let user = |name: &str, wave: i32, folder: &str, volumes: &[&str]| app(name, wave, &format!("apps/{folder}/{name}"), name, volumes);
    vec![
        system("priority-classes", -5, "_shared", "kube-system"),
        system("shared-namespaces", -5, "_shared", "default"),
        system("snapshot-controller", -5, "01-storage", "kube-system"),
        system("cilium-lb", -4, "00-infra", "kube-system"),
        system("infisical-operator", -3, "00-infra", "infisical-operator-system"),
        system("synology-csi-secrets", -3, "01-storage", "synology-csi"),
        system("synology-csi", -2, "01-storage", "synology-csi"),
        system("nfs-storage", -2, "01-storage", "nfs-storage"),
        system("local-path-provisioner", -1, "01-storage", "local-path-storage"),
        system("cert-manager", 0, "00-infra", "cert-manager"),
        system("cert-manager-webhook", 1, "00-infra", "cert-manager"),
        system("cert-manager-config", 2, "00-infra", "cert-manager"),
        system("traefik", 2, "00-infra", "traefik"),
        system("keda", 2, "00-infra", "keda"),
        system("argocd", 2, "00-infra", "argocd"),
        user("homepage", 4, "70-tools", &[]),
        user("mosquitto", 5, "10-home", &["mosquitto-data"]),
        user("vaultwarden", 6, "60-services", &["vaultwarden-data"]),
        user("homeassistant", 8, "10-home", &["homeassistant-config"]),
        user("jellyfin", 10, "20-media", &["jellyfin-config"]),
    ]
}

/// `count` generated apps for scale tests (`--app-count`): spread over waves -5 to 10, every
/// tenth one with a volume; those in waves up to 2 are system apps.
#[must_use]
pub fn generated_apps(count: usize) -> Vec<AppSpec> {
    (1..=count)
        .map(|i| {
            let name = format!("app-{i:04}");
            let wave = -5 + i32::try_from(i % 16).unwrap_or(0);
            let volumes = if i % 10 == 0 { vec![format!("{name}-data")] } else { Vec::new() };
            let volumes: Vec<&str> = volumes.iter().map(String::as_str).collect();
            app(&name, wave, &format!("apps/generated/{name}"), &format!("generated-{:02}", i % 50), &volumes)
        })
        .collect()
}

fn app(name: &str, sync_wave: i32, path: &str, namespace: &str, volumes: &[&str]) -> AppSpec {
    let tier = if sync_wave <= SYSTEM_MAX_WAVE { "system" } else { "apps" };
    AppSpec {
        name: name.to_owned(),
        sync_wave,
        path: path.to_owned(),
        destination_namespace: namespace.to_owned(),
        volumes: volumes.iter().map(|v| (*v).to_owned()).collect(),
        labels: BTreeMap::from([(TIER_LABEL.to_owned(), tier.to_owned())]),
        manifest: None,
        objects: Vec::new(),
        claims: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_tree_spans_waves_minus_5_to_10_with_the_homelab_system_apps() {
        let apps = default_apps();
        assert!(apps.len() >= 15);
        assert_eq!(apps.iter().map(|a| a.sync_wave).min(), Some(-5));
        assert_eq!(apps.iter().map(|a| a.sync_wave).max(), Some(10));
        let system: Vec<_> = apps.iter().filter(|a| a.sync_wave <= SYSTEM_MAX_WAVE).map(|a| a.name.as_str()).collect();
        for expected in [
            "snapshot-controller",
            "priority-classes",
            "infisical-operator",
            "shared-namespaces",
            "cilium-lb",
            "synology-csi",
            "nfs-storage",
            "cert-manager",
            "cert-manager-config",
            "cert-manager-webhook",
            "traefik",
            "local-path-provisioner",
            "keda",
            "argocd",
        ] {
            assert!(system.contains(&expected), "{expected} is a system app");
        }
        assert!(apps.iter().all(|a| (a.labels[TIER_LABEL] == "system") == (a.sync_wave <= SYSTEM_MAX_WAVE)));
    }

    #[test]
    fn generated_trees_have_unique_names_and_cover_every_wave() {
        let apps = generated_apps(1000);
        let names: std::collections::BTreeSet<_> = apps.iter().map(|a| &a.name).collect();
        assert_eq!(names.len(), 1000);
        let waves: std::collections::BTreeSet<_> = apps.iter().map(|a| a.sync_wave).collect();
        assert_eq!(waves.into_iter().collect::<Vec<_>>(), (-5..=10).collect::<Vec<_>>());
        assert_eq!(apps.iter().filter(|a| !a.volumes.is_empty()).count(), 100);
    }
}
