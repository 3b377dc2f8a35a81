//! The `system-apps` line of `vixens doctor`: `argocd.system-apps` resolved into the apps it
//! selects, each with why, so that an operator sees what the Argo CD phase will wait for.

use vixens_kube::Cluster;
use vixens_kube::argocd::{Application, SystemAppRules};
use vixens_ops::env::{Environment, GitopsTree};

use super::{Check, Status};

/// The resolved system apps of `env`: from its GitOps tree, else from the cluster when
/// `api_ok`, else the rules alone (a warning: nothing resolved them).
pub(super) fn check(env: &Environment, api_ok: bool) -> Check {
    let rules = &env.argocd.system_apps;
    if let Some(tree) = &env.argocd.gitops {
        let source = format!("the Applications of {}", GitopsTree::overlay_dir(&tree.repo, &tree.overlay).display());
        return resolved(rules, &tree.apps, &source);
    }
    if api_ok {
        match applications(env) {
            Ok(apps) => return resolved(rules, &apps, &format!("the Applications in namespace {}", env.argocd.namespace)),
            Err(why) => return warn(rules, &format!("the Applications could not be listed: {why}")),
        }
    }
    warn(rules, "no GitOps tree (argocd.gitops) and no cluster to resolve them against")
}

fn resolved(rules: &SystemAppRules, apps: &[Application], source: &str) -> Check {
    let unknown = rules.unknown_names(apps.iter().map(Application::name));
    let mut selected: Vec<String> = apps.iter().filter_map(|app| rules.matches(app).map(|why| format!("{} ({why})", app.name()))).collect();
    selected.sort();
    let mut detail = format!("{} of {} by {rules}:", selected.len(), source);
    for line in &selected {
        detail.push_str(&format!("\n        {line}"));
    }
    for name in &unknown {
        detail.push_str(&format!("\n        {name}"));
    }
    let (status, remedy) = match (unknown.is_empty(), selected.is_empty()) {
        (true, false) => (Status::Ok, None),
        (false, _) => (Status::Fail, Some("correct argocd.system-apps.names: each must be an Application's exact name".to_owned())),
        (true, true) => (Status::Fail, Some("argocd.system-apps selects no Application: the Argo CD phase would have nothing to prove".to_owned())),
    };
    Check { name: "system-apps", status, detail, remedy }
}

fn warn(rules: &SystemAppRules, why: &str) -> Check {
    Check {
        name: "system-apps",
        status: Status::Warn,
        detail: format!("{rules}, not resolved: {why}"),
        remedy: Some("set argocd.gitops (repo, overlay) in env.yaml, or bring the cluster up, to see which apps these rules select".to_owned()),
    }
}

fn applications(env: &Environment) -> Result<Vec<Application>, String> {
    vixens_ops::runtime::block_on(async {
        let cluster = Cluster::open(&env.kubeconfig, "kubeconfig").await.map_err(|e| vixens_diagnostic::error_chain(&e))?;
        let list = cluster.namespaced::<Application>(&env.argocd.namespace).list(&Default::default()).await;
        list.map(|l| l.items).map_err(|e| vixens_diagnostic::error_chain(&cluster.endpoint().classify(e)))
    })
}
