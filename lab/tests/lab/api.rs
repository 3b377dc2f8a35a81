//! The Kubernetes API through kube-rs, as the harness uses it: discovery, lists with selectors
//! and pages, writes with optimistic concurrency, and the errors the real server returns.

use k8s_openapi::api::core::v1::{Namespace, Node};
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams};
use kube::discovery::Discovery;
use serde_json::json;

use crate::Lab;

fn applications() -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application"), "applications")
}

/// A lab with namespace `team-a`, apps `a0`..`a4` labelled `tier` (`system` for the even ones).
async fn lab_with_apps() -> (Lab, Api<DynamicObject>) {
    let lab = Lab::up(&[]);
    let client = lab.client().await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "team-a"}})).unwrap()).await.unwrap();
    let apps: Api<DynamicObject> = Api::namespaced_with(client, "team-a", &applications());
    for i in 0..5 {
        let tier = if i % 2 == 0 { "system" } else { "apps" };
        let app = json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": format!("a{i}"), "labels": {"tier": tier, "index": i.to_string()}},
            "spec": {"project": "default"},
        });
        apps.create(&PostParams::default(), &serde_json::from_value(app).unwrap()).await.unwrap();
    }
    (lab, apps)
}

fn names(list: &kube::core::ObjectList<DynamicObject>) -> Vec<String> {
    list.items.iter().map(|o| o.metadata.name.clone().unwrap_or_default()).collect()
}

fn api_error(err: kube::Error) -> Box<kube::core::Status> {
    match err {
        kube::Error::Api(status) => status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn discovery_finds_core_resources_and_argo_cd_applications() {
    let lab = Lab::up(&[]);
    let discovery = Discovery::new(lab.client().await).run().await.unwrap();
    let (app, caps) = discovery.resolve_gvk(&GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application")).expect("Applications are served");
    assert_eq!(app.plural, "applications");
    assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
    for kind in ["Node", "Namespace", "Pod", "Event"] {
        assert!(discovery.resolve_gvk(&GroupVersionKind::gvk("", "v1", kind)).is_some(), "{kind} is served");
    }
    let version = lab.client().await.apiserver_version().await.unwrap();
    assert_eq!(version.git_version, vixens_lab::api::KUBERNETES_VERSION);
}

#[tokio::test]
async fn label_selectors_filter_lists_with_equality_sets_and_existence() {
    let (_lab, apps) = lab_with_apps().await;
    for (selector, expected) in [
        ("tier=system", vec!["a0", "a2", "a4"]),
        ("tier!=system", vec!["a1", "a3"]),
        ("index in (1,4)", vec!["a1", "a4"]),
        ("tier=system,index notin (0)", vec!["a2", "a4"]),
        ("tier", vec!["a0", "a1", "a2", "a3", "a4"]),
        ("!tier", vec![]),
    ] {
        let list = apps.list(&ListParams::default().labels(selector)).await.unwrap();
        assert_eq!(names(&list), expected, "{selector}");
    }
}

#[tokio::test]
async fn a_list_in_pages_returns_every_object_once_at_one_resource_version() {
    let (_lab, apps) = lab_with_apps().await;
    let (mut seen, mut token, mut versions) = (Vec::new(), None::<String>, Vec::new());
    loop {
        let mut params = ListParams::default().limit(2);
        if let Some(t) = &token {
            params = params.continue_token(t);
        }
        let page = apps.list(&params).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(names(&page));
        versions.push(page.metadata.resource_version.clone().expect("a list has a resourceVersion"));
        token = page.metadata.continue_.filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["a0", "a1", "a2", "a3", "a4"]);
    assert_eq!(versions.len(), 3);
    assert!(versions.windows(2).all(|w| w[0] == w[1]), "every page reports the first page's version: {versions:?}");
}

#[tokio::test]
async fn an_update_from_a_stale_version_conflicts() {
    let (_lab, apps) = lab_with_apps().await;
    let stale = apps.get("a0").await.unwrap();
    let mut fresh = stale.clone();
    fresh.data["spec"]["project"] = json!("platform");
    let updated = apps.replace("a0", &PostParams::default(), &fresh).await.unwrap();
    let version = |o: &DynamicObject| o.metadata.resource_version.as_deref().and_then(|v| v.parse::<u64>().ok());
    assert!(version(&updated) > version(&stale));
    let err = api_error(apps.replace("a0", &PostParams::default(), &stale).await.unwrap_err());
    assert_eq!((err.code, err.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        err.message,
        "Operation cannot be fulfilled on applications.argoproj.io \"a0\": the object has been modified; please apply your changes to the latest version and try again"
    );
}

#[tokio::test]
async fn status_is_written_with_a_plain_merge_patch_as_upstream_has_no_status_subresource() {
    let (_lab, apps) = lab_with_apps().await;
    let patch = json!({"status": {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}}});
    let app = apps.patch("a1", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
    assert_eq!(app.data["status"]["health"]["status"], "Healthy");
    let app = apps.patch("a1", &PatchParams::default(), &Patch::Merge(json!({"status": {"health": null}}))).await.unwrap();
    assert_eq!(app.data["status"], json!({"sync": {"status": "Synced"}}), "null deletes, the rest stays");
    assert_eq!(app.data["spec"]["project"], "default");
}

#[tokio::test]
async fn a_deleted_object_is_not_found_with_a_status_naming_it() {
    let (_lab, apps) = lab_with_apps().await;
    apps.delete("a3", &DeleteParams::default()).await.unwrap();
    let err = api_error(apps.get("a3").await.unwrap_err());
    assert_eq!((err.code, err.reason.as_str()), (404, "NotFound"));
    assert_eq!(err.message, "applications.argoproj.io \"a3\" not found");
    let err = api_error(apps.create(&PostParams::default(), &apps.get("a0").await.unwrap()).await.unwrap_err());
    assert_eq!((err.code, err.reason.as_str(), err.message.as_str()), (409, "AlreadyExists", "applications.argoproj.io \"a0\" already exists"));
}

#[tokio::test]
async fn the_read_only_token_reads_but_every_write_is_forbidden() {
    let (lab, _) = lab_with_apps().await;
    let readonly: Api<DynamicObject> = Api::namespaced_with(lab.client_from("kubeconfig-readonly").await, "team-a", &applications());
    assert_eq!(readonly.list(&ListParams::default()).await.unwrap().items.len(), 5);
    let err = api_error(readonly.patch("a0", &PatchParams::default(), &Patch::Merge(json!({"spec": {"project": "x"}}))).await.unwrap_err());
    assert_eq!((err.code, err.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        err.message,
        "applications.argoproj.io \"a0\" is forbidden: User \"lab-readonly\" cannot patch resource \"applications\" in API group \"argoproj.io\" in the namespace \"team-a\""
    );
    let nodes: Api<Node> = Api::all(lab.client_from("kubeconfig-readonly").await);
    let node = serde_json::from_value(json!({"metadata": {"name": "intruder"}})).unwrap();
    assert_eq!(api_error(nodes.create(&PostParams::default(), &node).await.unwrap_err()).code, 403);
    assert!(readonly.get("a0").await.is_ok(), "nothing was changed");
}

#[tokio::test]
async fn a_request_without_a_token_is_unauthorized() {
    let lab = Lab::up(&[]);
    let ca = std::fs::read(lab.path("ca.crt")).unwrap();
    let der = rustls_pemfile::certs(&mut ca.as_slice()).map(|c| c.unwrap().to_vec()).collect();
    let mut config = kube::Config::new(lab.info["api_url"].as_str().unwrap().parse().unwrap());
    config.root_cert = Some(der);
    let anonymous: Api<Node> = Api::all(kube::Client::try_from(config).unwrap());
    let err = api_error(anonymous.list(&ListParams::default()).await.unwrap_err());
    assert_eq!((err.code, err.reason.as_str(), err.message.as_str()), (401, "Unauthorized", "Unauthorized"));
}

#[tokio::test]
async fn version_is_public_but_a_wrong_token_is_unauthorized_even_there() {
    let lab = Lab::up(&[]);
    let ca = std::fs::read(lab.path("ca.crt")).unwrap();
    let der: Vec<Vec<u8>> = rustls_pemfile::certs(&mut ca.as_slice()).map(|c| c.unwrap().to_vec()).collect();
    let mut config = kube::Config::new(lab.info["api_url"].as_str().unwrap().parse().unwrap());
    config.root_cert = Some(der);
    let anonymous = kube::Client::try_from(config.clone()).unwrap();
    assert!(anonymous.apiserver_version().await.is_ok(), "anonymous /version");
    config.auth_info.token = Some("not-the-token".to_owned().into());
    let stale = kube::Client::try_from(config).unwrap();
    assert_eq!(api_error(stale.apiserver_version().await.unwrap_err()).code, 401);
}

#[tokio::test]
async fn create_fills_generated_names_and_refuses_a_missing_namespace() {
    let (lab, apps) = lab_with_apps().await;
    let generated = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"generateName": "preview-"}});
    let created = apps.create(&PostParams::default(), &serde_json::from_value(generated).unwrap()).await.unwrap();
    let name = created.metadata.name.unwrap();
    assert!(name.starts_with("preview-") && name.len() == "preview-".len() + 5, "{name}");
    assert!(created.metadata.uid.is_some() && created.metadata.creation_timestamp.is_some());

    let elsewhere: Api<DynamicObject> = Api::namespaced_with(lab.client().await, "nowhere", &applications());
    let app = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "x"}});
    let err = api_error(elsewhere.create(&PostParams::default(), &serde_json::from_value(app).unwrap()).await.unwrap_err());
    assert_eq!((err.code, err.message.as_str()), (404, "namespaces \"nowhere\" not found"));
}
