//! Waiting for a set of Kubernetes objects to converge: the driver behind "every system app
//! becomes healthy by itself".
//!
//! Conditions decide, the driver waits (as kube-runtime's `wait` module is split). A [`Judge`] looks at the local view of
//! every watched object and says done, still waiting (with what), or impossible; it is a pure
//! function of the view. [`until`] feeds it from a kube-runtime `watcher` stream and owns
//! everything about time:
//! - a **deadline** (the phase budget): on expiry, [`Error::TimedOut`] lists everything still
//!   waiting with its state;
//! - a **grace window** for objects the judge marks failing (an Argo CD app that is Degraded):
//!   past it, [`Error::FailedFor`] names the object at once instead of waiting for the deadline;
//! - **progress** at a steady interval, as [`WaitEvent`]s delivered to a callback: the driver
//!   never prints;
//! - **watch recovery**: watcher errors are items of the stream, never the end of the wait. A
//!   410 Gone relists, an API restart re-watches after backoff ([`watch`] applies kube-runtime's
//!   default backoff), and the view is replaced atomically when a relist completes. Only refused
//!   credentials (401/403) end the wait early, since no retry fixes them.
//!
//! Readiness is judged on every change, so it is seen as soon as the watch delivers the last
//! change (see the "Readiness" section of docs/performance.md), not at the next poll.

use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Write as _};
use std::pin::pin;
use std::time::Duration;

use futures::stream::FusedStream;
use futures::{Stream, StreamExt};
use kube::Resource;
use kube::runtime::watcher::{self, watcher};
use kube::runtime::{WatchStreamExt, utils::StreamBackoff, watcher::DefaultBackoff};
use serde::de::DeserializeOwned;
use tokio::time::{Instant, MissedTickBehavior, sleep_until};

use crate::Endpoint;

/// How a wait runs. Built like kube-runtime's `watcher::Config`: `Default`, then chained setters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitConfig {
    /// The whole wait fails after this long. Take it from the phase budget.
    pub timeout: Duration,
    /// An object the judge marks failing may stay so this long before the wait fails on it.
    pub failing_grace: Duration,
    /// How often a [`WaitEvent::Progress`] is sent.
    pub progress_interval: Duration,
}

impl Default for WaitConfig {
    /// - `timeout`: 30 minutes, the homelab script's hard timeout for the GitOps phase and the
    ///   specification's budget for a whole cycle;
    /// - `failing_grace`: 3 minutes, one full Argo CD retry backoff (5 s doubling, at most
    ///   3 min, the Vixens apps' retry policy): a Degraded app that stays so longer is not coming back;
    /// - `progress_interval`: 5 seconds, the cadence of the homelab script's poll and of
    ///   `talosctl health`, so progress is at least as frequent as operators see today.
    fn default() -> Self {
        Self { timeout: Duration::from_secs(30 * 60), failing_grace: Duration::from_secs(3 * 60), progress_interval: Duration::from_secs(5) }
    }
}

impl WaitConfig {
    /// Sets the deadline of the whole wait.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets how long an object may stay failing.
    #[must_use]
    pub fn failing_grace(mut self, grace: Duration) -> Self {
        self.failing_grace = grace;
        self
    }

    /// Sets how often progress is reported. Zero is taken as one millisecond.
    #[must_use]
    pub fn progress_interval(mut self, interval: Duration) -> Self {
        self.progress_interval = interval.max(Duration::from_millis(1));
        self
    }
}

/// Why a wait ended without its objects converging. Only [`Error::TimedOut`] may be worth
/// running again as is; the others name something that must be fixed first.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The deadline passed first.
    #[error("timed out after {} {}", humantime::format_duration(*after), timed_out_detail(progress.as_ref(), last_watch_error.as_deref()))]
    TimedOut {
        /// The configured timeout.
        after: Duration,
        /// The last judgement (`None` if the objects were never listed).
        progress: Option<Progress>,
        /// The last watch error, if the watch was failing.
        last_watch_error: Option<String>,
    },
    /// An object stayed failing beyond the grace window.
    #[error("{} has been {} for {}, beyond its {} grace: {}", item.name, item.state, humantime::format_duration(*failing_for), humantime::format_duration(*grace), item.reason)]
    FailedFor {
        /// The object, its state and why.
        item: Waiting,
        /// How long it has been failing.
        failing_for: Duration,
        /// The configured grace.
        grace: Duration,
    },
    /// The judge found that waiting cannot succeed (an object that must exist never will).
    #[error("{reason}")]
    Unsatisfiable {
        /// What cannot happen, in words.
        reason: String,
    },
    /// The identity may not list or watch the objects.
    #[error("cannot watch: access denied")]
    Access(#[source] crate::Error),
}

fn timed_out_detail(progress: Option<&Progress>, last_watch_error: Option<&str>) -> String {
    let detail = match progress {
        Some(p) => format!("with {}/{} {} ready; not ready:{}", p.ready, p.total, p.noun, p.details()),
        None => "before the objects could be listed".to_owned(),
    };
    match last_watch_error {
        Some(error) => format!("{detail}\nlast watch error: {error}"),
        None => detail,
    }
}

/// What a judge sees: every watched object, as of the last complete list plus later changes.
#[derive(Debug, Clone)]
pub struct View<K> {
    objects: BTreeMap<(String, String), K>,
}

impl<K> Default for View<K> {
    fn default() -> Self {
        Self { objects: BTreeMap::new() }
    }
}

impl<K: Resource> View<K> {
    /// A view holding `objects` (for judges' tests).
    #[must_use]
    pub fn of(objects: impl IntoIterator<Item = K>) -> Self {
        let mut view = Self::default();
        for object in objects {
            view.apply(object);
        }
        view
    }

    /// Every object, ordered by namespace and name.
    pub fn iter(&self) -> impl Iterator<Item = &K> {
        self.objects.values()
    }

    /// How many objects there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// True when there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    fn apply(&mut self, object: K) {
        self.objects.insert(key(&object), object);
    }

    fn delete(&mut self, object: &K) {
        self.objects.remove(&key(object));
    }
}

fn key<K: Resource>(object: &K) -> (String, String) {
    (object.meta().namespace.clone().unwrap_or_default(), object.meta().name.clone().unwrap_or_default())
}

/// Decides, from a [`View`], whether the wait is over. A pure function of the view: time,
/// grace windows and retries belong to [`until`].
pub trait Judge<K> {
    /// What a successful wait returns.
    type Done;

    /// Done, still waiting (and on what), or impossible.
    fn judge(&self, view: &View<K>) -> Judgement<Self::Done>;
}

/// A judge's answer.
#[derive(Debug, Clone)]
pub enum Judgement<T> {
    /// Everything converged.
    Done(T),
    /// Not yet.
    Waiting(Progress),
    /// It never will: the wait fails now with this reason.
    Unsatisfiable(String),
}

/// How far a wait is: "12/16 system apps ready; waiting on traefik (Progressing), keda (OutOfSync)".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// What is counted, plural (`system apps`).
    pub noun: &'static str,
    /// How many are ready.
    pub ready: usize,
    /// How many there are.
    pub total: usize,
    /// What is still waiting, in the order the judge found it (it may include prerequisites
    /// that are not counted in `total`, such as the root app).
    pub waiting: Vec<Waiting>,
}

/// One thing still waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// Its name (`traefik`).
    pub name: String,
    /// A word or two (`Progressing`, `OutOfSync`).
    pub state: String,
    /// Why it is not ready, in a sentence.
    pub reason: String,
    /// True when it looks failed rather than slow (Degraded): it fails the wait once it has
    /// stayed so for [`WaitConfig::failing_grace`].
    pub failing: bool,
}

/// How many waiting names a progress line shows before "and N more".
const PROGRESS_NAMES: usize = 8;

impl Progress {
    /// One line per waiting object: `\n  traefik: Progressing: health is Progressing: ...`.
    #[must_use]
    pub fn details(&self) -> String {
        self.waiting.iter().fold(String::new(), |mut text, w| {
            let _ = write!(text, "\n  {}: {}: {}", w.name, w.state, w.reason);
            text
        })
    }
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} {} ready", self.ready, self.total, self.noun)?;
        if self.waiting.is_empty() {
            return Ok(());
        }
        let shown: Vec<String> = self.waiting.iter().take(PROGRESS_NAMES).map(|w| format!("{} ({})", w.name, w.state)).collect();
        write!(f, "; waiting on {}", shown.join(", "))?;
        match self.waiting.len().saturating_sub(PROGRESS_NAMES) {
            0 => Ok(()),
            more => write!(f, " and {more} more"),
        }
    }
}

/// What a wait reports while it runs. Consumers match every variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitEvent {
    /// A complete list of the watched objects arrived: the first one, or a relist after the
    /// watch lost its place (410 Gone).
    Listed {
        /// How many objects.
        objects: usize,
        /// True for a relist.
        relist: bool,
    },
    /// At each progress interval once listed.
    Progress {
        /// Time since the wait started.
        elapsed: Duration,
        /// What is ready and what is still waiting.
        progress: Progress,
    },
    /// At each progress interval while no list has arrived yet.
    NotListedYet {
        /// Time since the wait started.
        elapsed: Duration,
        /// The last watch error, if any.
        last_error: Option<String>,
    },
    /// The watch failed; it resumes after backoff and the wait goes on.
    WatchInterrupted {
        /// What failed.
        error: String,
    },
}

/// The watch stream [`until`] expects for `api`: a kube-runtime `watcher` with the default
/// watcher config (list then watch, page size 500, bookmarks) and the default backoff
/// (800 ms doubling to 30 s with jitter, reset after 120 s), so a dead API is not spun against.
#[must_use]
pub fn watch<K>(api: kube::Api<K>) -> StreamBackoff<impl Stream<Item = watcher::Result<watcher::Event<K>>> + Send, DefaultBackoff>
where
    K: Resource + Clone + DeserializeOwned + fmt::Debug + Send + 'static,
{
    watcher(api, watcher::Config::default()).default_backoff()
}

/// Watches until `judge` says done, or fails; see the module documentation.
///
/// `endpoint` names the server and identity when access is denied; `on_event` receives
/// progress as it happens.
///
/// # Errors
/// [`Error::TimedOut`] at `config.timeout`; [`Error::FailedFor`] when a failing object outlasts
/// `config.failing_grace`; [`Error::Unsatisfiable`] when the judge says so; [`Error::Access`]
/// on 401/403.
pub async fn until<K, J, S>(
    events: S,
    endpoint: &Endpoint,
    judge: &J,
    config: &WaitConfig,
    mut on_event: impl FnMut(WaitEvent),
) -> Result<J::Done, Error>
where
    K: Resource,
    J: Judge<K>,
    S: Stream<Item = watcher::Result<watcher::Event<K>>>,
{
    let start = Instant::now();
    let deadline = start + config.timeout;
    let mut events = pin!(events.fuse());
    let mut mirror = Mirror::default();
    let mut failing = FailingClock::default();
    let mut last: Option<Progress> = None;
    let mut last_error: Option<String> = None;
    let mut ticks = tokio::time::interval_at(start + config.progress_interval, config.progress_interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);

    loop {
        let grace_expiry = failing.next_expiry(config.failing_grace);
        let changed = tokio::select! {
            event = events.next(), if !events.is_terminated() => match event {
                Some(Ok(event)) => match mirror.apply(event) {
                    Change::Listed { objects, relist } => {
                        on_event(WaitEvent::Listed { objects, relist });
                        true
                    }
                    Change::Object => mirror.listed,
                    Change::Buffered => false,
                },
                Some(Err(error)) => {
                    if let Some(denied) = denied(endpoint, &error) {
                        return Err(Error::Access(denied));
                    }
                    let error = error.to_string();
                    on_event(WaitEvent::WatchInterrupted { error: error.clone() });
                    last_error = Some(error);
                    false
                }
                // A watcher never ends; a finite stream (a test) leaves the view as it is.
                None => false,
            },
            () = sleep_until(deadline) => {
                return Err(Error::TimedOut { after: config.timeout, progress: last, last_watch_error: last_error });
            }
            () = sleep_until(grace_expiry.unwrap_or(deadline)), if grace_expiry.is_some() => true,
            _ = ticks.tick() => {
                let elapsed = start.elapsed();
                on_event(match &last {
                    Some(progress) => WaitEvent::Progress { elapsed, progress: progress.clone() },
                    None => WaitEvent::NotListedYet { elapsed, last_error: last_error.clone() },
                });
                false
            }
        };
        if !changed {
            continue;
        }
        match judge.judge(&mirror.view) {
            Judgement::Done(done) => return Ok(done),
            Judgement::Unsatisfiable(reason) => return Err(Error::Unsatisfiable { reason }),
            Judgement::Waiting(progress) => {
                let now = Instant::now();
                failing.observe(&progress.waiting, now);
                if let Some((item, since)) = failing.expired(&progress.waiting, config.failing_grace, now) {
                    // Whole milliseconds: "3s 2ms" reads well, nanoseconds do not.
                    let failing_for = Duration::from_millis(u64::try_from((now - since).as_millis()).unwrap_or(u64::MAX));
                    return Err(Error::FailedFor { item: item.clone(), failing_for, grace: config.failing_grace });
                }
                last = Some(progress);
            }
        }
    }
}

fn denied(endpoint: &Endpoint, error: &watcher::Error) -> Option<crate::Error> {
    match error {
        watcher::Error::InitialListFailed(e) | watcher::Error::WatchStartFailed(e) | watcher::Error::WatchFailed(e) => endpoint.denied(e),
        watcher::Error::WatchError(status) => endpoint.denied(&kube::Error::Api(status.clone())),
        watcher::Error::NoResourceVersion => None,
    }
}

/// The local copy of the watched objects, replaced atomically when a (re)list completes, as a
/// reflector store does.
struct Mirror<K> {
    view: View<K>,
    relisting: Option<View<K>>,
    listed: bool,
}

impl<K> Default for Mirror<K> {
    fn default() -> Self {
        Self { view: View::default(), relisting: None, listed: false }
    }
}

enum Change {
    /// A complete list replaced the view.
    Listed { objects: usize, relist: bool },
    /// One object changed in the view.
    Object,
    /// A list is in progress; the view is unchanged.
    Buffered,
}

impl<K: Resource> Mirror<K> {
    fn apply(&mut self, event: watcher::Event<K>) -> Change {
        match event {
            watcher::Event::Init => {
                self.relisting = Some(View::default());
                Change::Buffered
            }
            watcher::Event::InitApply(object) => {
                self.relisting.get_or_insert_with(View::default).apply(object);
                Change::Buffered
            }
            watcher::Event::InitDone => {
                self.view = self.relisting.take().unwrap_or_default();
                let relist = std::mem::replace(&mut self.listed, true);
                Change::Listed { objects: self.view.len(), relist }
            }
            watcher::Event::Apply(object) => {
                self.view.apply(object);
                Change::Object
            }
            watcher::Event::Delete(object) => {
                self.view.delete(&object);
                Change::Object
            }
        }
    }
}

/// Since when each failing object has been failing.
#[derive(Default)]
struct FailingClock {
    since: HashMap<String, Instant>,
}

impl FailingClock {
    fn observe(&mut self, waiting: &[Waiting], now: Instant) {
        self.since.retain(|name, _| waiting.iter().any(|w| w.failing && &w.name == name));
        for item in waiting.iter().filter(|w| w.failing) {
            self.since.entry(item.name.clone()).or_insert(now);
        }
    }

    fn next_expiry(&self, grace: Duration) -> Option<Instant> {
        self.since.values().min().map(|since| *since + grace)
    }

    fn expired<'a>(&self, waiting: &'a [Waiting], grace: Duration, now: Instant) -> Option<(&'a Waiting, Instant)> {
        waiting.iter().find_map(|item| {
            let since = *self.since.get(&item.name)?;
            (now >= since + grace).then_some((item, since))
        })
    }
}

#[cfg(test)]
pub(crate) mod stand_in;
#[cfg(test)]
mod tests;
