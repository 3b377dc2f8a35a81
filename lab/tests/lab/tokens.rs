//! A read-only identity as a harness makes one: with the admin kubeconfig, a ServiceAccount, a
//! ClusterRole allowed get/list/watch and its ClusterRoleBinding; a short-lived token from the
//! TokenRequest API; then reads that work, writes refused 403 with a real Status, expired tokens
//! refused 401, through kube-rs and through the real kubectl.

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, PostParams};
use serde_json::json;

use crate::Lab;

fn applications() -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application"), "applications")
}

/// The read-only identity, made with the admin kubeconfig as a harness makes it.
async fn make_reader(client: &kube::Client) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "vixens-harness"}})).unwrap()).await.unwrap();
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), "vixens-harness");
    accounts.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "reader"}})).unwrap()).await.unwrap();
    let role = json!({"metadata": {"name": "vixens-read"}, "rules": [{"apiGroups": ["", "argoproj.io"], "resources": ["*"], "verbs": ["get", "list", "watch"]}]});
    Api::<ClusterRole>::all(client.clone()).create(&PostParams::default(), &serde_json::from_value(role).unwrap()).await.unwrap();
    let binding = json!({
        "metadata": {"name": "vixens-read"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "vixens-read"},
        "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": "vixens-harness"}],
    });
    Api::<ClusterRoleBinding>::all(client.clone()).create(&PostParams::default(), &serde_json::from_value(binding).unwrap()).await.unwrap();
}

/// A token of `reader` valid for `seconds`.
async fn token(client: &kube::Client, seconds: i64) -> TokenRequest {
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), "vixens-harness");
    let request = TokenRequest { spec: Some(TokenRequestSpec { expiration_seconds: Some(seconds), ..Default::default() }), ..Default::default() };
    accounts.create_token_request("reader", &PostParams::default(), &request).await.unwrap()
}

/// A kubeconfig of the lab with `token` instead of the admin one.
fn token_kubeconfig(lab: &Lab, token: &str) -> String {
    let admin = std::fs::read_to_string(lab.path("kubeconfig")).unwrap();
    let mine = admin
        .lines()
        .map(|l| if l.trim_start().starts_with("token: ") { format!("    token: {token}") } else { l.to_owned() })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(lab.path("kubeconfig-token"), mine + "\n").unwrap();
    "kubeconfig-token".to_owned()
}

fn api_error(err: kube::Error) -> Box<kube::core::Status> {
    match err {
        kube::Error::Api(status) => status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_token_request_returns_a_token_and_its_expiry_as_the_real_api_does() {
    let lab = Lab::up(&[]);
    let admin = lab.client().await;
    make_reader(&admin).await;
    let before = jiff::Timestamp::now();
    let response = token(&admin, 600).await;
    let status = response.status.expect("a status");
    assert_eq!(status.token.as_deref().unwrap_or_default().split('.').count(), 3, "a JWT");
    let expires = jiff::Timestamp::from_second(status.expiration_timestamp.expect("an expiry").0.as_second()).unwrap();
    let lifetime = expires.duration_since(before).as_secs();
    assert!((599..=601).contains(&lifetime), "expires in 10 minutes: {lifetime}s");
    let accounts: Api<ServiceAccount> = Api::namespaced(admin.clone(), "vixens-harness");
    let short = TokenRequest { spec: Some(TokenRequestSpec { expiration_seconds: Some(60), ..Default::default() }), ..Default::default() };
    let err = api_error(accounts.create_token_request("reader", &PostParams::default(), &short).await.unwrap_err());
    assert_eq!((err.code, err.reason.as_str()), (422, "Invalid"));
    assert_eq!(
        err.message,
        "TokenRequest.authentication.k8s.io \"reader\" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes"
    );
    let err = api_error(accounts.create_token_request("nobody", &PostParams::default(), &TokenRequest::default()).await.unwrap_err());
    assert_eq!((err.code, err.message.as_str()), (404, "serviceaccounts \"nobody\" not found"));
}

#[tokio::test]
async fn a_read_only_token_lists_applications_and_is_refused_a_delete_with_a_real_status() {
    let lab = Lab::up(&[]);
    let admin = lab.client().await;
    make_reader(&admin).await;
    let token = token(&admin, 600).await.status.unwrap().token.unwrap();
    let reader = lab.client_from(&token_kubeconfig(&lab, &token)).await;
    let apps: Api<DynamicObject> = Api::namespaced_with(reader, "argocd", &applications());
    let started = std::time::Instant::now();
    while apps.list(&ListParams::default()).await.unwrap().items.is_empty() {
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "no Application appeared");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let err = api_error(apps.delete("vixens-app-of-apps", &DeleteParams::default()).await.unwrap_err());
    assert_eq!((err.code, err.reason.as_str(), err.status), (403, "Forbidden", Some(kube::core::response::StatusSummary::Failure)));
    assert_eq!(
        err.message,
        "applications.argoproj.io \"vixens-app-of-apps\" is forbidden: User \"system:serviceaccount:vixens-harness:reader\" cannot delete resource \"applications\" in API group \"argoproj.io\" in the namespace \"argocd\""
    );
    let details = err.details.expect("details");
    assert_eq!((details.name.as_str(), details.group.as_str(), details.kind.as_str()), ("vixens-app-of-apps", "argoproj.io", "applications"));
}

#[test]
fn kubectl_with_a_read_only_token_gets_and_lists_and_is_refused_a_delete() {
    let lab = Lab::up(&[]);
    let kubeconfig = {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let admin = lab.client().await;
            make_reader(&admin).await;
            token_kubeconfig(&lab, &token(&admin, 600).await.status.unwrap().token.unwrap())
        })
    };
    crate::wait_converged(&lab, &[]);
    let list = lab.kubectl_as(&kubeconfig, &["-n", "argocd", "get", "applications", "--no-headers"]);
    assert!(list.status.success() && String::from_utf8_lossy(&list.stdout).lines().count() > 15, "{list:?}");
    let get = lab.kubectl_as(&kubeconfig, &["-n", "argocd", "get", "application", "traefik", "-o", "jsonpath={.status.sync.status}"]);
    assert_eq!(String::from_utf8_lossy(&get.stdout), "Synced");
    let delete = lab.kubectl_as(&kubeconfig, &["-n", "argocd", "delete", "application", "traefik"]);
    assert_eq!(delete.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&delete.stderr),
        "Error from server (Forbidden): applications.argoproj.io \"traefik\" is forbidden: User \"system:serviceaccount:vixens-harness:reader\" cannot delete resource \"applications\" in API group \"argoproj.io\" in the namespace \"argocd\"\n"
    );
    let still = lab.kubectl(&["-n", "argocd", "get", "application", "traefik", "-o", "name"]);
    assert_eq!(String::from_utf8_lossy(&still.stdout), "application.argoproj.io/traefik\n", "nothing was deleted");
}

#[tokio::test]
async fn an_expired_token_and_a_token_of_a_deleted_service_account_are_refused_401() {
    let lab = Lab::up_with_faults(&[], "token-ttl=2");
    let admin = lab.client().await;
    make_reader(&admin).await;
    let response = token(&admin, 3600).await;
    let token = response.status.unwrap().token.unwrap();
    assert_eq!(response.spec.unwrap().expiration_seconds, Some(2), "the lab's maximum expiration caps it");
    let reader = lab.client_from(&token_kubeconfig(&lab, &token)).await;
    let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(reader.clone());
    nodes.list(&ListParams::default()).await.expect("valid for now");
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let err = api_error(nodes.list(&ListParams::default()).await.unwrap_err());
    assert_eq!((err.code, err.reason.as_str(), err.message.as_str()), (401, "Unauthorized", "Unauthorized"));

    let fresh = self::token(&admin, 3600).await.status.unwrap().token.unwrap();
    let accounts: Api<ServiceAccount> = Api::namespaced(admin.clone(), "vixens-harness");
    accounts.delete("reader", &DeleteParams::default()).await.unwrap();
    let reader = lab.client_from(&token_kubeconfig(&lab, &fresh)).await;
    let err = api_error(Api::<k8s_openapi::api::core::v1::Node>::all(reader).list(&ListParams::default()).await.unwrap_err());
    assert_eq!(err.code, 401);
}

#[tokio::test]
async fn kubectl_create_token_mints_a_token_the_api_accepts() {
    let lab = Lab::up(&[]);
    make_reader(&lab.client().await).await;
    let out = lab.kubectl(&["-n", "vixens-harness", "create", "token", "reader", "--duration=10m"]);
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(out.status.success() && token.split('.').count() == 3, "{out:?}");
    let kubeconfig = token_kubeconfig(&lab, &token);
    let nodes = lab.kubectl_as(&kubeconfig, &["get", "nodes", "-o", "name"]);
    assert!(nodes.status.success(), "{nodes:?}");
    let short = lab.kubectl(&["-n", "vixens-harness", "create", "token", "reader", "--duration=1m"]);
    assert!(String::from_utf8_lossy(&short.stderr).contains("may not specify a duration less than 10 minutes"), "{short:?}");
}
