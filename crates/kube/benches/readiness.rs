//! Readiness benchmark: how long after the last system app becomes ready does the harness know?
//!
//! Compares, in the same run and against the same API, the watch-based wait
//! ([`vixens_kube::argocd::wait_converged`]) with a 5-second polling loop like the homelab's current
//! script (the Vixens homelab's bootstrap wait): list every Application, judge, sleep 5 s. The API is the test
//! list/watch stand-in over real HTTP on 127.0.0.1, holding a Vixens-sized tree (a root app,
//! 16 system apps, 30 other apps); in each trial the last system app is flipped to ready at a
//! random moment and the time until each waiter returns is measured.
//!
//! ```text
//! cargo bench -p vixens-kube --bench readiness --profile dev [-- --trials 30 --poll-trials 6]
//! ```
//! (`--profile dev` reuses the test build; the numbers are latencies, not CPU throughput.)

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use kube::api::ListParams;
use vixens_kube::argocd::{Application, Convergence, SystemAppRules, SystemApps, wait_converged};
use vixens_kube::wait::{Judge, Judgement, View, WaitConfig};
use vixens_kube::{Cluster, Endpoint};

#[allow(dead_code, reason = "the benchmark uses only part of the test stand-in")]
#[path = "../src/wait/stand_in.rs"]
mod stand_in;

const APPLICATIONS: &str = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications";
const SYSTEM_APPS: [&str; 16] = [
    "snapshot-controller",
    "priority-classes",
    "infisical-operator",
    "shared-namespaces",
    "cilium-lb",
    "synology-csi",
    "synology-csi-secrets",
    "nfs-storage",
    "cert-manager",
    "cert-manager-config",
    "cert-manager-webhook",
    "local-path-provisioner",
    "keda",
    "argocd",
    "metrics-server",
    "traefik",
];
const OTHER_APPS: usize = 30;
/// The homelab script's poll interval.
const POLL_INTERVAL: Duration = Duration::from_secs(5);
/// The issue's target.
const TARGET: Duration = Duration::from_millis(100);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: usize| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(default);
    let (watch_trials, poll_trials) = (arg("--trials", 30), arg("--poll-trials", 6));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(run(watch_trials, poll_trials));
}

async fn run(watch_trials: usize, poll_trials: usize) {
    let api = stand_in::StandIn::start(APPLICATIONS).await;
    for app in tree() {
        api.put(serde_json::to_value(app).expect("json"));
    }
    let cluster = cluster(api.url());
    let rules = rules();

    let mut watch = Vec::new();
    for _ in 0..watch_trials {
        watch.push(watch_trial(&api, &cluster, &rules).await);
    }
    let mut poll = Vec::new();
    for _ in 0..poll_trials {
        poll.push(poll_trial(&api, &cluster, &rules).await);
    }

    println!("readiness detection latency after the last of {} system apps became ready", SYSTEM_APPS.len());
    println!("({} Applications in the tree, list/watch over HTTP on 127.0.0.1)\n", 1 + SYSTEM_APPS.len() + OTHER_APPS);
    report("watch (vixens_kube::wait)", &mut watch);
    report("poll every 5 s (homelab script)", &mut poll);
    let worst = watch.iter().max().copied().unwrap_or_default();
    let verdict = if worst <= TARGET { "met" } else { "MISSED" };
    println!("\ntarget: readiness detected within {} ms: {verdict} (worst watch trial {})", TARGET.as_millis(), ms(worst));
}

/// One trial of the watch-based wait: start it, let it list, flip the last app, time the return.
async fn watch_trial(api: &stand_in::StandIn, cluster: &Cluster, rules: &SystemAppRules) -> Duration {
    api.put(last_app(false));
    let (listed_tx, listed_rx) = tokio::sync::oneshot::channel();
    let (cluster, rules) = (cluster.clone(), rules.clone());
    let waiter = tokio::spawn(async move {
        let mut listed = Some(listed_tx);
        let config = WaitConfig::default().timeout(Duration::from_secs(60));
        let result = wait_converged(&cluster, "argocd", &rules, &config, |event| {
            if matches!(event, vixens_kube::wait::WaitEvent::Listed { .. })
                && let Some(tx) = listed.take()
            {
                let _ = tx.send(());
            }
        })
        .await;
        let done = Instant::now();
        result.expect("the tree converges");
        done
    });
    listed_rx.await.expect("the wait lists the apps");
    tokio::time::sleep(random_below(Duration::from_millis(200))).await;
    let flipped = Instant::now();
    api.put(last_app(true));
    waiter.await.expect("waiter") - flipped
}

/// One trial of the polling loop, with the flip at a random moment of its 5-second cycle.
async fn poll_trial(api: &stand_in::StandIn, cluster: &Cluster, rules: &SystemAppRules) -> Duration {
    api.put(last_app(false));
    let (cluster, rules) = (cluster.clone(), rules.clone());
    let poller = tokio::spawn(async move {
        let apps = cluster.namespaced::<Application>("argocd");
        loop {
            let list = apps.list(&ListParams::default()).await.expect("list applications");
            if let Judgement::Done(_) = Convergence::new(&rules, "argocd").judge(&View::of(list.items)) {
                return Instant::now();
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    });
    tokio::time::sleep(Duration::from_millis(100) + random_below(POLL_INTERVAL)).await;
    let flipped = Instant::now();
    api.put(last_app(true));
    poller.await.expect("poller") - flipped
}

fn report(name: &str, samples: &mut [Duration]) {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{name:<34} n={:<3} min {:>9}  median {:>9}  p95 {:>9}  max {:>9}",
        samples.len(),
        ms(pick(0.0)),
        ms(pick(0.5)),
        ms(pick(0.95)),
        ms(pick(1.0))
    );
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn random_below(max: Duration) -> Duration {
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
    max.mul_f64((random % 10_000) as f64 / 10_000.0)
}

fn cluster(url: &str) -> Cluster {
    let config = kube::Config::new(url.parse().expect("url"));
    let endpoint = Endpoint { server: url.to_owned(), identity: "bench".into(), kubeconfig: "/dev/null".into() };
    Cluster::new(kube::Client::try_from(config).expect("client"), endpoint)
}

fn rules() -> SystemAppRules {
    SystemAppRules::new("vixens-app-of-apps", &SystemApps { max_sync_wave: Some(2), ..SystemApps::default() }).expect("rules")
}

fn fixture(name: &str) -> Application {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/<crate> is two folders below the workspace")
        .join("tests/fixtures/argocd")
        .join(name);
    serde_saphyr::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("fixture parses")
}

fn app(base: &str, name: &str, wave: i32) -> Application {
    let mut app = fixture(base);
    app.metadata.name = Some(name.to_owned());
    app.metadata.annotations = Some([(vixens_kube::argocd::SYNC_WAVE_ANNOTATION.to_owned(), wave.to_string())].into());
    app
}

/// The last system app (traefik), Progressing mid-sync or converged.
fn last_app(ready: bool) -> serde_json::Value {
    let base = if ready { "converged.yaml" } else { "sync-running.yaml" };
    serde_json::to_value(app(base, "traefik", 2)).expect("json")
}

/// A Vixens-sized tree: the root listing every child, 15 ready system apps (traefik is put per
/// trial), and 30 workload apps in wave 10 that are not system apps.
fn tree() -> Vec<Application> {
    let others: Vec<String> = (1..=OTHER_APPS).map(|i| format!("workload-{i:02}")).collect();
    let mut root = fixture("root.yaml");
    let status = root.status.as_mut().expect("root status");
    status.resources = SYSTEM_APPS
        .iter()
        .copied()
        .chain(others.iter().map(String::as_str))
        .map(|name| vixens_kube::argocd::ResourceStatus {
            group: Some("argoproj.io".into()),
            kind: Some("Application".into()),
            name: Some(name.to_owned()),
            namespace: Some("argocd".into()),
            status: Some(vixens_kube::argocd::SyncCode::Synced),
            health: None,
        })
        .collect();
    let mut apps = vec![root];
    let waves = (-5..=2).cycle();
    apps.extend(SYSTEM_APPS.iter().zip(waves).filter(|(name, _)| **name != "traefik").map(|(name, wave)| app("converged.yaml", name, wave)));
    apps.extend(others.iter().map(|name| app("sync-running.yaml", name, 10)));
    apps
}
