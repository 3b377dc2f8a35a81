//! The lab's in-memory object store: what etcd and the API server's watch cache are to a real
//! cluster.
//!
//! Objects are JSON values keyed by resource, namespace and name. Every write takes the next value
//! of one monotonically increasing resource version (as etcd's revision) and is kept in a bounded
//! history, so a watch can resume from any version still in the history; an older version is
//! [`StoreError::Gone`] (HTTP 410), after which clients relist.
//!
//! The store is cheap to clone: HTTP handlers, the simulators and fault injectors share one.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};
use tokio::sync::broadcast;

/// How many past events are kept for watches resuming from an older version. The API server's
/// watch cache keeps a comparable window (`--watch-cache-sizes`, default 100 per resource, raised
/// here so that a large lab's bootstrap never expires a watch that is keeping up).
pub const DEFAULT_HISTORY: usize = 50_000;

/// A resource type, as the API addresses it: group (`""` for core) and plural (`nodes`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceId {
    /// API group: `""` for the core group, `argoproj.io` for Applications.
    pub group: String,
    /// Plural resource name: `nodes`, `applications`.
    pub plural: String,
}

impl ResourceId {
    /// A resource id.
    #[must_use]
    pub fn new(group: &str, plural: &str) -> Self {
        Self { group: group.to_owned(), plural: plural.to_owned() }
    }
}

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Created.
    Added,
    /// Updated or patched.
    Modified,
    /// Deleted (the object is its last state).
    Deleted,
}

impl EventType {
    /// The watch wire name: `ADDED`, `MODIFIED`, `DELETED`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }
}

/// One change, as a watch delivers it.
#[derive(Debug, Clone)]
pub struct Event {
    /// What happened.
    pub kind: EventType,
    /// The resource type.
    pub resource: ResourceId,
    /// The object's namespace (`None` for cluster-scoped objects).
    pub namespace: Option<String>,
    /// The object after the change (for Deleted, its last state with the deletion's version).
    pub object: Value,
    /// The resource version this change got.
    pub resource_version: u64,
}

/// Why a store operation failed; each maps to the API status the real server returns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// 404.
    #[error("{resource} \"{name}\" not found")]
    NotFound {
        /// The plural resource.
        resource: String,
        /// The object's name.
        name: String,
    },
    /// 409 on create.
    #[error("{resource} \"{name}\" already exists")]
    AlreadyExists {
        /// The plural resource.
        resource: String,
        /// The object's name.
        name: String,
    },
    /// 409 on update with a stale `metadata.resourceVersion`.
    #[error(
        "Operation cannot be fulfilled on {resource} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
    )]
    Conflict {
        /// The plural resource.
        resource: String,
        /// The object's name.
        name: String,
    },
    /// 410: the requested version is older than the kept history.
    #[error("too old resource version: {requested} ({oldest})")]
    Gone {
        /// The version asked for.
        requested: u64,
        /// The oldest version a watch can still start from.
        oldest: u64,
    },
    /// 400/422: the object is not usable (no name, not an object).
    #[error("{0}")]
    Invalid(String),
}

type Key = (ResourceId, Option<String>, String);

struct Inner {
    objects: BTreeMap<Key, Value>,
    revision: u64,
    history: VecDeque<Arc<Event>>,
    capacity: usize,
    /// Versions up to this one have been dropped from the history.
    compacted: u64,
}

/// The shared, watch-capable object store.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Mutex<Inner>>,
    events: broadcast::Sender<Arc<Event>>,
}

/// A watch opened on the store: the kept events after the requested version, then live ones.
pub struct Watch {
    /// Events already in the history after the requested version, oldest first.
    pub backlog: Vec<Arc<Event>>,
    /// Live events. A lagging receiver has missed events: end the watch so the client
    /// resumes (and relists after a 410) rather than silently skipping changes.
    pub live: broadcast::Receiver<Arc<Event>>,
    /// The store's version when the watch opened: every change up to it is in the backlog (if it
    /// matches), every later one comes through `live`.
    pub revision: u64,
}

/// One page of a list (see [`Store::list_page`]).
#[derive(Debug)]
pub struct Page {
    /// The objects, sorted by namespace and name.
    pub items: Vec<Value>,
    /// The store's version at the time of the list.
    pub revision: u64,
    /// The (namespace, name) of the last item when more items follow: the next page starts
    /// after it.
    pub next: Option<(Option<String>, String)>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new(DEFAULT_HISTORY)
    }
}

impl Store {
    /// An empty store keeping `history` past events for watches.
    #[must_use]
    pub fn new(history: usize) -> Self {
        let (events, _) = broadcast::channel(history.max(16));
        let inner = Inner {
            objects: BTreeMap::new(),
            // Start above zero: "0" means "any version" to clients.
            revision: 1,
            history: VecDeque::new(),
            capacity: history.max(1),
            compacted: 1,
        };
        Self { inner: Arc::new(Mutex::new(inner)), events }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking writer leaves the map consistent (every write is one insert), so a
        // poisoned lock is still safe to use.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The latest resource version.
    #[must_use]
    pub fn revision(&self) -> u64 {
        self.lock().revision
    }

    /// Creates `object` (its `metadata.name` and, for namespaced resources, `namespace` set).
    ///
    /// # Errors
    /// [`StoreError::AlreadyExists`], or [`StoreError::Invalid`] without a name.
    pub fn create(&self, resource: &ResourceId, namespace: Option<&str>, object: Value) -> Result<Value, StoreError> {
        let mut inner = self.lock();
        let name = object_name(&object)?;
        let key = (resource.clone(), namespace.map(str::to_owned), name.clone());
        if inner.objects.contains_key(&key) {
            return Err(StoreError::AlreadyExists { resource: resource.plural.clone(), name });
        }
        let uid = random_uid();
        let mut object = object;
        let meta = metadata_mut(&mut object)?;
        meta.insert("uid".into(), json!(uid));
        meta.insert("creationTimestamp".into(), json!(now_rfc3339()));
        if let Some(ns) = namespace {
            meta.insert("namespace".into(), json!(ns));
        }
        Ok(self.commit(&mut inner, key, object, EventType::Added))
    }

    /// Replaces an existing object. If the new object carries a `metadata.resourceVersion`, it must
    /// be the current one (optimistic concurrency, as the real API server).
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Conflict`], [`StoreError::Invalid`].
    pub fn replace(&self, resource: &ResourceId, namespace: Option<&str>, name: &str, object: Value) -> Result<Value, StoreError> {
        let mut inner = self.lock();
        let key = (resource.clone(), namespace.map(str::to_owned), name.to_owned());
        let current = inner.objects.get(&key).ok_or_else(|| not_found(resource, name))?;
        check_precondition(current, &object, resource, name)?;
        let preserved = preserved_metadata(current);
        let mut object = object;
        let meta = metadata_mut(&mut object)?;
        for (k, v) in preserved {
            meta.insert(k, v);
        }
        Ok(self.commit(&mut inner, key, object, EventType::Modified))
    }

    /// Applies a JSON merge patch (RFC 7386) to an existing object. A patch carrying a
    /// `metadata.resourceVersion` applies only to that version, as on the real API server.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Conflict`], [`StoreError::Invalid`] if the result is
    /// not an object.
    pub fn merge_patch(&self, resource: &ResourceId, namespace: Option<&str>, name: &str, patch: &Value) -> Result<Value, StoreError> {
        let mut inner = self.lock();
        let key = (resource.clone(), namespace.map(str::to_owned), name.to_owned());
        let current = inner.objects.get(&key).ok_or_else(|| not_found(resource, name))?;
        check_precondition(current, patch, resource, name)?;
        let preserved = preserved_metadata(current);
        let mut object = current.clone();
        merge(&mut object, patch);
        let meta = metadata_mut(&mut object)?;
        for (k, v) in preserved {
            meta.insert(k, v);
        }
        Ok(self.commit(&mut inner, key, object, EventType::Modified))
    }

    /// Deletes an object and returns its last state.
    ///
    /// # Errors
    /// [`StoreError::NotFound`].
    pub fn delete(&self, resource: &ResourceId, namespace: Option<&str>, name: &str) -> Result<Value, StoreError> {
        let mut inner = self.lock();
        let key = (resource.clone(), namespace.map(str::to_owned), name.to_owned());
        let object = inner.objects.remove(&key).ok_or_else(|| not_found(resource, name))?;
        Ok(self.record(&mut inner, key, object, EventType::Deleted))
    }

    /// Creates the object, or merges it into the existing one: how the simulators write.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] when `object` has no `metadata.name`.
    pub fn upsert(&self, resource: &ResourceId, namespace: Option<&str>, object: Value) -> Result<Value, StoreError> {
        let name = object_name(&object)?;
        let mut object = object;
        if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            // The simulators write what they mean, never against a version.
            meta.remove("resourceVersion");
        }
        match self.merge_patch(resource, namespace, &name, &object) {
            Err(StoreError::NotFound { .. }) => self.create(resource, namespace, object),
            other => other,
        }
    }

    /// One object.
    #[must_use]
    pub fn get(&self, resource: &ResourceId, namespace: Option<&str>, name: &str) -> Option<Value> {
        let key = (resource.clone(), namespace.map(str::to_owned), name.to_owned());
        self.lock().objects.get(&key).cloned()
    }

    /// Every object of `resource` (in `namespace`, or in all namespaces when `None`), sorted by
    /// namespace and name, with the store's version at the time of the list.
    #[must_use]
    pub fn list(&self, resource: &ResourceId, namespace: Option<&str>) -> (Vec<Value>, u64) {
        let page = self.list_page(resource, namespace, None, 0, |_| true);
        (page.items, page.revision)
    }

    /// Up to `limit` objects (0 = all) of `resource` in `namespace` (all when `None`) that `keep`
    /// selects, sorted by namespace and name, starting after the key `after`; all read at one
    /// version. `next` is set when more selected objects follow.
    pub fn list_page(
        &self,
        resource: &ResourceId,
        namespace: Option<&str>,
        after: Option<&(Option<String>, String)>,
        limit: usize,
        keep: impl Fn(&Value) -> bool,
    ) -> Page {
        use std::ops::Bound;
        let inner = self.lock();
        let start = match (after, namespace) {
            (Some((ns, name)), _) => Bound::Excluded((resource.clone(), ns.clone(), name.clone())),
            (None, ns) => Bound::Included((resource.clone(), ns.map(str::to_owned), String::new())),
        };
        let selected = inner
            .objects
            .range((start, Bound::Unbounded))
            .take_while(|((r, ns, _), _)| r == resource && (namespace.is_none() || ns.as_deref() == namespace))
            .filter(|(_, v)| keep(v));
        let (mut items, mut last, mut more) = (Vec::new(), None, false);
        for ((_, ns, name), v) in selected {
            if limit > 0 && items.len() == limit {
                more = true;
                break;
            }
            items.push(v.clone());
            last = Some((ns.clone(), name.clone()));
        }
        let next = if more { last } else { None };
        Page { items, revision: inner.revision, next }
    }

    /// True when a watch or list continuation from `version` is no longer possible (410).
    #[must_use]
    pub fn is_expired(&self, version: u64) -> bool {
        version < self.lock().compacted
    }

    /// Opens a watch on `resource` from version `since` (exclusive).
    ///
    /// # Errors
    /// [`StoreError::Gone`] when `since` is older than the kept history.
    pub fn watch(&self, resource: &ResourceId, namespace: Option<&str>, since: u64) -> Result<Watch, StoreError> {
        let inner = self.lock();
        if since < inner.compacted {
            return Err(StoreError::Gone { requested: since, oldest: inner.compacted });
        }
        let backlog = inner.history.iter().filter(|e| e.resource_version > since && matches(e, resource, namespace)).cloned().collect();
        // Subscribing under the lock: no event can fall between the backlog and the live feed.
        let live = self.events.subscribe();
        Ok(Watch { backlog, live, revision: inner.revision })
    }

    fn commit(&self, inner: &mut Inner, key: Key, object: Value, kind: EventType) -> Value {
        let object = self.record(inner, key.clone(), object, kind);
        inner.objects.insert(key, object.clone());
        object
    }

    fn record(&self, inner: &mut Inner, key: Key, mut object: Value, kind: EventType) -> Value {
        inner.revision += 1;
        let revision = inner.revision;
        if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("resourceVersion".into(), json!(revision.to_string()));
        }
        let (resource, namespace, _) = key;
        let event = Arc::new(Event { kind, resource, namespace, object: object.clone(), resource_version: revision });
        inner.history.push_back(Arc::clone(&event));
        while inner.history.len() > inner.capacity {
            if let Some(old) = inner.history.pop_front() {
                inner.compacted = old.resource_version;
            }
        }
        // No receiver is fine: nobody is watching.
        let _ = self.events.send(event);
        object
    }
}

/// True when `event` belongs to a watch on `resource` in `namespace` (all namespaces if `None`).
#[must_use]
pub fn matches(event: &Event, resource: &ResourceId, namespace: Option<&str>) -> bool {
    &event.resource == resource && (namespace.is_none() || event.namespace.as_deref() == namespace)
}

/// A write carrying a `metadata.resourceVersion` applies only to that version.
fn check_precondition(current: &Value, write: &Value, resource: &ResourceId, name: &str) -> Result<(), StoreError> {
    match write.pointer("/metadata/resourceVersion").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        Some(expected) if Some(expected) != current.pointer("/metadata/resourceVersion").and_then(Value::as_str) => {
            Err(StoreError::Conflict { resource: resource.plural.clone(), name: name.to_owned() })
        }
        _ => Ok(()),
    }
}

fn not_found(resource: &ResourceId, name: &str) -> StoreError {
    StoreError::NotFound { resource: resource.plural.clone(), name: name.to_owned() }
}

fn object_name(object: &Value) -> Result<String, StoreError> {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| StoreError::Invalid("metadata.name: Required value: name is required".into()))
}

fn metadata_mut(object: &mut Value) -> Result<&mut serde_json::Map<String, Value>, StoreError> {
    let map = object.as_object_mut().ok_or_else(|| StoreError::Invalid("the object is not a JSON object".into()))?;
    map.entry("metadata").or_insert_with(|| json!({})).as_object_mut().ok_or_else(|| StoreError::Invalid("metadata is not an object".into()))
}

/// Metadata the server owns: a client's update never changes it.
fn preserved_metadata(current: &Value) -> Vec<(String, Value)> {
    ["uid", "creationTimestamp", "namespace", "name"]
        .iter()
        .filter_map(|k| current.pointer(&format!("/metadata/{k}")).map(|v| ((*k).to_owned(), v.clone())))
        .collect()
}

/// RFC 7386 JSON merge patch: objects merge recursively, `null` deletes, anything else replaces.
pub fn merge(target: &mut Value, patch: &Value) {
    let Some(patch_map) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    let target_map = target.as_object_mut().expect("made an object above");
    for (k, v) in patch_map {
        if v.is_null() {
            target_map.remove(k);
        } else {
            merge(target_map.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// A random UUID (version 4), as the API server gives every object: a recreated object never
/// reuses the uid of the one before it.
#[must_use]
pub fn random_uid() -> String {
    let mut bytes = [0u8; 16];
    // Reading the kernel CSPRNG does not fail on Linux once it is seeded.
    if let Ok(mut file) = std::fs::File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut file, &mut bytes);
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// The current UTC time in RFC 3339 with second precision, as Kubernetes writes timestamps.
#[must_use]
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now().round(jiff::Unit::Second).map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes() -> ResourceId {
        ResourceId::new("", "nodes")
    }

    fn rv(v: &Value) -> u64 {
        v["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap()
    }

    #[test]
    fn every_write_gets_a_higher_version() {
        let store = Store::default();
        let a = store.create(&nodes(), None, json!({"metadata": {"name": "a"}})).unwrap();
        let b = store.merge_patch(&nodes(), None, "a", &json!({"status": {"ready": true}})).unwrap();
        assert!(rv(&b) > rv(&a));
        assert_eq!(b["metadata"]["uid"], a["metadata"]["uid"]);
        assert_eq!(b["status"]["ready"], true);
    }

    #[test]
    fn a_stale_update_conflicts() {
        let store = Store::default();
        let a = store.create(&nodes(), None, json!({"metadata": {"name": "a"}})).unwrap();
        store.merge_patch(&nodes(), None, "a", &json!({"spec": {"x": 1}})).unwrap();
        let err = store.replace(&nodes(), None, "a", a).unwrap_err();
        assert!(matches!(err, StoreError::Conflict { .. }));
    }

    #[test]
    fn a_watch_replays_from_a_version_and_expired_versions_are_gone() {
        let store = Store::new(2);
        let first = store.create(&nodes(), None, json!({"metadata": {"name": "a"}})).unwrap();
        store.create(&nodes(), None, json!({"metadata": {"name": "b"}})).unwrap();
        store.create(&nodes(), None, json!({"metadata": {"name": "c"}})).unwrap();
        let err = store.watch(&nodes(), None, rv(&first) - 1).err().unwrap();
        assert!(matches!(err, StoreError::Gone { .. }));
        let watch = store.watch(&nodes(), None, rv(&first)).unwrap();
        let names: Vec<_> = watch.backlog.iter().map(|e| e.object["metadata"]["name"].as_str().unwrap().to_owned()).collect();
        assert_eq!(names, ["b", "c"]);
    }

    #[test]
    fn live_events_follow_the_backlog() {
        let store = Store::default();
        let mut watch = store.watch(&nodes(), None, store.revision()).unwrap();
        store.create(&nodes(), None, json!({"metadata": {"name": "a"}})).unwrap();
        store.delete(&nodes(), None, "a").unwrap();
        assert_eq!(watch.live.try_recv().unwrap().kind, EventType::Added);
        assert_eq!(watch.live.try_recv().unwrap().kind, EventType::Deleted);
    }

    #[test]
    fn a_merge_patch_with_a_stale_version_conflicts() {
        let store = Store::default();
        let a = store.create(&nodes(), None, json!({"metadata": {"name": "a"}})).unwrap();
        store.merge_patch(&nodes(), None, "a", &json!({"spec": {"x": 1}})).unwrap();
        let stale = json!({"metadata": {"resourceVersion": a["metadata"]["resourceVersion"]}, "spec": {"x": 2}});
        assert!(matches!(store.merge_patch(&nodes(), None, "a", &stale), Err(StoreError::Conflict { .. })));
        assert!(store.upsert(&nodes(), None, json!({"metadata": {"name": "a", "resourceVersion": "1"}})).is_ok(), "upsert never conflicts");
    }

    #[test]
    fn pages_cover_the_selected_objects_once_in_order() {
        let store = Store::default();
        let pods = ResourceId::new("", "pods");
        for (ns, name) in [("b", "x"), ("a", "y"), ("a", "x"), ("c", "z")] {
            store.create(&pods, Some(ns), json!({"metadata": {"name": name}})).unwrap();
        }
        store.create(&nodes(), None, json!({"metadata": {"name": "n"}})).unwrap();
        let keep = |o: &Value| o["metadata"]["name"] != "z";
        let first = store.list_page(&pods, None, None, 2, keep);
        let second = store.list_page(&pods, None, first.next.as_ref(), 2, keep);
        let names = |p: &Page| {
            p.items
                .iter()
                .map(|o| format!("{}/{}", o["metadata"]["namespace"].as_str().unwrap(), o["metadata"]["name"].as_str().unwrap()))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&first), ["a/x", "a/y"]);
        assert_eq!(names(&second), ["b/x"]);
        assert!(second.next.is_none(), "the filtered-out last object makes no extra page");
        assert_eq!(store.list(&pods, Some("a")).0.len(), 2);
    }

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut doc = json!({"a": {"b": 1, "c": 2}, "d": [1]});
        merge(&mut doc, &json!({"a": {"b": null, "e": 3}, "d": [2]}));
        assert_eq!(doc, json!({"a": {"c": 2, "e": 3}, "d": [2]}));
    }
}
