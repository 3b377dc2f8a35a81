//! The driver on paused time, fed by a channel standing in for the watcher stream: a
//! 30-minute deadline fails in milliseconds, and each scenario asserts the exact instant.

use std::sync::{Arc, Mutex};

use futures::channel::mpsc;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::core::Status;

use super::*;

type Event = watcher::Result<watcher::Event<ConfigMap>>;

/// Ready when every expected ConfigMap exists with `state: ready`; `failing` marks it failing;
/// `impossible` makes the wait unsatisfiable.
struct Expect(&'static [&'static str]);

impl Judge<ConfigMap> for Expect {
    type Done = usize;

    fn judge(&self, view: &View<ConfigMap>) -> Judgement<usize> {
        let mut waiting = Vec::new();
        for name in self.0 {
            let state = view
                .iter()
                .find(|cm| cm.metadata.name.as_deref() == Some(name))
                .and_then(|cm| cm.data.as_ref()?.get("state").cloned())
                .unwrap_or_else(|| "Missing".into());
            match state.as_str() {
                "ready" => {}
                "impossible" => return Judgement::Unsatisfiable(format!("{name} can never be ready")),
                _ => waiting.push(Waiting { name: (*name).to_owned(), failing: state == "failing", reason: format!("state is {state}"), state }),
            }
        }
        if waiting.is_empty() {
            return Judgement::Done(view.len());
        }
        Judgement::Waiting(Progress { noun: "config maps", ready: self.0.len() - waiting.len(), total: self.0.len(), waiting })
    }
}

fn cm(name: &str, state: &str) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(name.into());
    cm.metadata.namespace = Some("argocd".into());
    cm.data = Some([("state".to_owned(), state.to_owned())].into());
    cm
}

fn listed(objects: Vec<ConfigMap>) -> Vec<Event> {
    let mut events = vec![Ok(watcher::Event::Init)];
    events.extend(objects.into_iter().map(|o| Ok(watcher::Event::InitApply(o))));
    events.push(Ok(watcher::Event::InitDone));
    events
}

fn endpoint() -> Endpoint {
    Endpoint { server: "https://127.0.0.1:6443/".into(), identity: "lab-readonly".into(), kubeconfig: "/lab/kubeconfig".into() }
}

fn config() -> WaitConfig {
    WaitConfig::default().timeout(Duration::from_secs(30 * 60)).failing_grace(Duration::from_secs(180)).progress_interval(Duration::from_secs(5))
}

/// A scripted watch: `send(at, events)` delivers events at `at` after the start.
struct Script {
    tx: mpsc::UnboundedSender<Event>,
}

impl Script {
    fn start() -> (Self, mpsc::UnboundedReceiver<Event>) {
        let (tx, rx) = mpsc::unbounded();
        (Self { tx }, rx)
    }

    fn at(&self, after: Duration, events: Vec<Event>) {
        let tx = self.tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            for event in events {
                let _ = tx.unbounded_send(event);
            }
        });
    }
}

/// Runs the wait, returning its result, when it ended and every event it reported.
async fn run(judge: &Expect, config: &WaitConfig, rx: mpsc::UnboundedReceiver<Event>) -> (Result<usize, Error>, Duration, Vec<WaitEvent>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let start = Instant::now();
    let result = until(rx, &endpoint(), judge, config, move |e| sink.lock().unwrap().push(e)).await;
    let events = events.lock().unwrap().clone();
    (result, start.elapsed(), events)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[tokio::test(start_paused = true)]
async fn the_wait_ends_the_moment_the_last_object_becomes_ready() {
    let (script, rx) = Script::start();
    script.at(secs(0), listed(vec![cm("traefik", "Progressing"), cm("keda", "ready")]));
    script.at(secs(73), vec![Ok(watcher::Event::Apply(cm("traefik", "ready")))]);
    let (result, elapsed, _) = run(&Expect(&["traefik", "keda"]), &config(), rx).await;
    assert_eq!(result.unwrap(), 2);
    assert_eq!(elapsed, secs(73));
}

#[tokio::test(start_paused = true)]
async fn progress_names_what_is_still_waiting_at_a_steady_interval() {
    let (script, rx) = Script::start();
    script.at(secs(1), listed(vec![cm("traefik", "Progressing"), cm("keda", "OutOfSync"), cm("argocd", "ready")]));
    script.at(secs(7), vec![Ok(watcher::Event::Apply(cm("keda", "ready")))]);
    script.at(secs(12), vec![Ok(watcher::Event::Apply(cm("traefik", "ready")))]);
    let (result, elapsed, events) = run(&Expect(&["argocd", "traefik", "keda"]), &config(), rx).await;
    assert!(result.is_ok());
    assert_eq!(elapsed, secs(12));
    let lines: Vec<String> = events
        .iter()
        .map(|e| match e {
            WaitEvent::Listed { objects, relist } => format!("listed {objects} (relist: {relist})"),
            WaitEvent::Progress { elapsed, progress } => format!("{}s {progress}", elapsed.as_secs()),
            WaitEvent::NotListedYet { elapsed, last_error } => format!("{}s not listed ({last_error:?})", elapsed.as_secs()),
            WaitEvent::WatchInterrupted { error } => format!("interrupted: {error}"),
        })
        .collect();
    assert_eq!(
        lines,
        [
            "listed 3 (relist: false)",
            "5s 1/3 config maps ready; waiting on traefik (Progressing), keda (OutOfSync)",
            "10s 2/3 config maps ready; waiting on traefik (Progressing)",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn before_the_first_list_progress_says_so_with_the_last_watch_error() {
    let (script, rx) = Script::start();
    let refused = watcher::Error::InitialListFailed(kube::Error::Api(Box::new(Status::failure("connection refused", "").with_code(503))));
    script.at(secs(1), vec![Err(refused)]);
    script.at(secs(6), listed(vec![cm("traefik", "ready")]));
    let (result, _, events) = run(&Expect(&["traefik"]), &config(), rx).await;
    assert!(result.is_ok());
    assert!(matches!(&events[0], WaitEvent::WatchInterrupted { error } if error.contains("failed to perform initial object list")));
    assert!(matches!(&events[1], WaitEvent::NotListedYet { elapsed, last_error: Some(_) } if *elapsed == secs(5)));
}

#[tokio::test(start_paused = true)]
async fn a_timeout_lists_every_object_not_ready_with_its_state() {
    let (script, rx) = Script::start();
    script.at(secs(0), listed(vec![cm("traefik", "Progressing"), cm("keda", "OutOfSync"), cm("argocd", "ready")]));
    let config = config().timeout(secs(20 * 60));
    let (result, elapsed, _) = run(&Expect(&["argocd", "traefik", "keda", "cilium-lb"]), &config, rx).await;
    assert_eq!(elapsed, secs(20 * 60));
    assert_eq!(
        result.unwrap_err().to_string(),
        "timed out after 20m with 1/4 config maps ready; not ready:\n  \
         traefik: Progressing: state is Progressing\n  \
         keda: OutOfSync: state is OutOfSync\n  \
         cilium-lb: Missing: state is Missing"
    );
}

#[tokio::test(start_paused = true)]
async fn a_timeout_before_any_list_says_the_objects_were_never_listed() {
    let (script, rx) = Script::start();
    let gone = watcher::Error::WatchStartFailed(kube::Error::Api(Box::new(Status::failure("service unavailable", "").with_code(503))));
    script.at(secs(1), vec![Err(gone)]);
    let (result, _, _) = run(&Expect(&["traefik"]), &config().timeout(secs(60)), rx).await;
    let text = result.unwrap_err().to_string();
    assert!(text.starts_with("timed out after 1m before the objects could be listed\nlast watch error: failed to start watching"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn a_failing_object_fails_the_wait_once_its_grace_runs_out_naming_it() {
    let (script, rx) = Script::start();
    script.at(secs(0), listed(vec![cm("traefik", "Progressing"), cm("keda", "ready")]));
    script.at(secs(40), vec![Ok(watcher::Event::Apply(cm("traefik", "failing")))]);
    let (result, elapsed, _) = run(&Expect(&["traefik", "keda"]), &config(), rx).await;
    assert_eq!(elapsed, secs(40 + 180), "fails when the grace ends, not at the 30 min deadline");
    assert_eq!(result.unwrap_err().to_string(), "traefik has been failing for 3m, beyond its 3m grace: state is failing");
}

#[tokio::test(start_paused = true)]
async fn a_failing_object_that_recovers_within_its_grace_does_not_fail_the_wait() {
    let (script, rx) = Script::start();
    script.at(secs(0), listed(vec![cm("traefik", "failing")]));
    script.at(secs(170), vec![Ok(watcher::Event::Apply(cm("traefik", "Progressing")))]);
    script.at(secs(200), vec![Ok(watcher::Event::Apply(cm("traefik", "failing")))]);
    script.at(secs(300), vec![Ok(watcher::Event::Apply(cm("traefik", "ready")))]);
    let (result, elapsed, _) = run(&Expect(&["traefik"]), &config(), rx).await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(elapsed, secs(300), "the grace restarts when the object fails again");
}

#[tokio::test(start_paused = true)]
async fn watch_errors_and_a_410_relist_never_end_the_wait() {
    let (script, rx) = Script::start();
    script.at(secs(0), listed(vec![cm("traefik", "Progressing"), cm("stale", "ready")]));
    let expired = watcher::Error::WatchError(Box::new(Status::failure("too old resource version", "Expired").with_code(410)));
    let dropped = watcher::Error::WatchFailed(kube::Error::Api(Box::new(Status::failure("connection reset", "").with_code(500))));
    script.at(secs(10), vec![Err(dropped), Err(expired)]);
    // The relist: `stale` was deleted during the outage, traefik became ready.
    script.at(secs(20), listed(vec![cm("traefik", "ready")]));
    let (result, elapsed, events) = run(&Expect(&["traefik"]), &config(), rx).await;
    assert_eq!(result.unwrap(), 1, "the relisted view replaced the old one");
    assert_eq!(elapsed, secs(20));
    let interruptions = events.iter().filter(|e| matches!(e, WaitEvent::WatchInterrupted { .. })).count();
    assert_eq!(interruptions, 2);
    assert!(events.contains(&WaitEvent::Listed { objects: 1, relist: true }));
}

#[tokio::test(start_paused = true)]
async fn a_relist_in_progress_does_not_judge_a_half_listed_view() {
    let (script, rx) = Script::start();
    script.at(secs(0), listed(vec![cm("traefik", "ready"), cm("keda", "Progressing")]));
    // A relist starts; until InitDone the old view stands, even though only traefik came back.
    script.at(secs(5), vec![Ok(watcher::Event::Init), Ok(watcher::Event::InitApply(cm("traefik", "ready")))]);
    script.at(secs(9), vec![Ok(watcher::Event::InitApply(cm("keda", "ready"))), Ok(watcher::Event::InitDone)]);
    let (result, elapsed, _) = run(&Expect(&["traefik", "keda"]), &config(), rx).await;
    assert_eq!(result.unwrap(), 2);
    assert_eq!(elapsed, secs(9));
}

#[tokio::test(start_paused = true)]
async fn a_deleted_object_is_waited_for_again() {
    let (script, rx) = Script::start();
    script.at(secs(0), listed(vec![cm("traefik", "Progressing")]));
    script.at(secs(3), vec![Ok(watcher::Event::Delete(cm("traefik", "Progressing")))]);
    let (result, _, _) = run(&Expect(&["traefik"]), &config().timeout(secs(10)), rx).await;
    assert!(result.unwrap_err().to_string().contains("traefik: Missing"));
}

#[tokio::test(start_paused = true)]
async fn refused_credentials_end_the_wait_at_once_naming_the_identity() {
    let (script, rx) = Script::start();
    let forbidden = Status::failure("applications.argoproj.io is forbidden: User \"lab-readonly\" cannot list resource", "Forbidden").with_code(403);
    script.at(secs(2), vec![Err(watcher::Error::InitialListFailed(kube::Error::Api(Box::new(forbidden))))]);
    let (result, elapsed, _) = run(&Expect(&["traefik"]), &config(), rx).await;
    assert_eq!(elapsed, secs(2));
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Access(crate::Error::Forbidden { .. })), "{err:?}");
    let cause = std::error::Error::source(&err).unwrap().to_string();
    assert!(cause.starts_with("user `lab-readonly` from /lab/kubeconfig is not allowed this"), "{cause}");
}

#[tokio::test(start_paused = true)]
async fn an_unsatisfiable_judgement_fails_at_once_with_its_reason() {
    let (script, rx) = Script::start();
    script.at(secs(4), listed(vec![cm("traefik", "impossible")]));
    let (result, elapsed, _) = run(&Expect(&["traefik"]), &config(), rx).await;
    assert_eq!(elapsed, secs(4));
    assert_eq!(result.unwrap_err().to_string(), "traefik can never be ready");
}

#[test]
fn a_long_progress_line_names_the_first_eight_and_counts_the_rest() {
    let waiting = (1..=11).map(|i| Waiting { name: format!("app{i}"), state: "Progressing".into(), reason: String::new(), failing: false }).collect();
    let progress = Progress { noun: "system apps", ready: 5, total: 16, waiting };
    let line = progress.to_string();
    assert!(line.starts_with("5/16 system apps ready; waiting on app1 (Progressing), app2 (Progressing)"), "{line}");
    assert!(line.ends_with("app8 (Progressing) and 3 more"), "{line}");
}

#[test]
fn wait_config_defaults_cite_their_sources_and_setters_chain() {
    let config = WaitConfig::default();
    assert_eq!(config.timeout, secs(30 * 60));
    assert_eq!(config.failing_grace, secs(180));
    assert_eq!(config.progress_interval, secs(5));
    let config = config.timeout(secs(60)).failing_grace(secs(1)).progress_interval(Duration::ZERO);
    assert_eq!((config.timeout, config.failing_grace, config.progress_interval), (secs(60), secs(1), Duration::from_millis(1)));
}

/// The real kube-runtime watcher, over HTTP, against the list/watch stand-in.
mod over_http {
    use super::*;
    use crate::Cluster;
    use crate::argocd::fixtures::{fixture, named};
    use crate::argocd::{Application, SystemAppRules, SystemApps, wait_converged};
    use crate::wait::stand_in::StandIn;

    const APPLICATIONS: &str = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications";

    fn json(app: &Application) -> serde_json::Value {
        serde_json::to_value(app).unwrap()
    }

    async fn lab() -> (StandIn, Cluster) {
        let api = StandIn::start(APPLICATIONS).await;
        api.put(json(&fixture("root.yaml")));
        api.put(json(&named(fixture("converged.yaml"), "cert-manager", -1)));
        api.put(json(&fixture("sync-running.yaml")));
        let config = kube::Config::new(api.url().parse().unwrap());
        let endpoint = Endpoint { server: api.url().to_owned(), identity: "test".into(), kubeconfig: "/dev/null".into() };
        let cluster = Cluster::new(kube::Client::try_from(config).unwrap(), endpoint);
        (api, cluster)
    }

    fn rules() -> SystemAppRules {
        SystemAppRules::new("vixens-app-of-apps", &SystemApps { max_sync_wave: Some(2), ..SystemApps::default() }).unwrap()
    }

    async fn wait(cluster: &Cluster) -> (Result<Vec<String>, Error>, Vec<WaitEvent>) {
        let mut events = Vec::new();
        let config = WaitConfig::default().timeout(Duration::from_secs(20)).progress_interval(Duration::from_millis(250));
        let result = wait_converged(cluster, "argocd", &rules(), &config, |e| events.push(e)).await;
        let names = result.map(|c| c.system_apps.iter().map(|a| a.name().to_owned()).collect());
        (names, events)
    }

    fn later(after: Duration, change: impl FnOnce() + Send + 'static) {
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            change();
        });
    }

    #[tokio::test]
    async fn the_wait_converges_over_http_when_the_last_app_becomes_ready() {
        let (api, cluster) = lab().await;
        let api = Arc::new(api);
        let flip = api.clone();
        later(Duration::from_millis(300), move || flip.put(json(&fixture("converged.yaml"))));
        let (result, events) = wait(&cluster).await;
        assert_eq!(result.unwrap(), ["cert-manager", "traefik"]);
        assert!(events.contains(&WaitEvent::Listed { objects: 3, relist: false }), "{events:?}");
    }

    #[tokio::test]
    async fn an_api_restart_during_the_wait_does_not_fail_it() {
        let (api, cluster) = lab().await;
        let api = Arc::new(api);
        let (restart, flip) = (api.clone(), api.clone());
        later(Duration::from_millis(200), move || restart.restart(Duration::from_secs(1)));
        later(Duration::from_millis(600), move || flip.put(json(&fixture("converged.yaml"))));
        let (result, events) = wait(&cluster).await;
        assert_eq!(result.unwrap(), ["cert-manager", "traefik"]);
        assert!(events.iter().any(|e| matches!(e, WaitEvent::WatchInterrupted { .. })), "the outage was seen and survived: {events:?}");
    }

    #[tokio::test]
    async fn a_410_gone_makes_the_watcher_relist_and_the_wait_goes_on() {
        let (api, cluster) = lab().await;
        let api = Arc::new(api);
        let (compact, flip) = (api.clone(), api.clone());
        later(Duration::from_millis(200), move || compact.compact());
        later(Duration::from_millis(400), move || flip.put(json(&fixture("converged.yaml"))));
        let (result, events) = wait(&cluster).await;
        assert_eq!(result.unwrap(), ["cert-manager", "traefik"]);
        assert!(
            events.iter().any(|e| matches!(e, WaitEvent::WatchInterrupted { error } if error.contains("Expired") || error.contains("410"))),
            "{events:?}"
        );
        assert!(events.iter().any(|e| matches!(e, WaitEvent::Listed { relist: true, .. })), "{events:?}");
    }
}
