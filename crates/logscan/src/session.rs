//! A scan of one cluster's logs: every input (a file, a `talosctl` stream) is judged line by line
//! as it streams, and the error lines are counted per node, source and cause; [`Session::finish`]
//! turns the counts into findings, one per cause.
//!
//! The bootstrap window runs from boot (the earliest time the inputs start with) until the
//! cluster was healthy (`healthy_at`), and never beyond boot + `bootstrap_limit` (20 minutes,
//! `talosctl health`'s own default wait): a cluster checked long after its boot does not explain
//! its later retries with its boot. Without `healthy_at` the window is that limit, and the report
//! says the window was assumed.
//!
//! Memory is bounded by the number of distinct (node, source, cause) groups, each a few counters
//! and two lines, never by the number of lines.

use std::collections::{BTreeMap, HashMap};

use crate::allow::AllowRule;
use crate::lines::split_node;
use crate::markers::{self, strip_ansi};
use crate::record::{self, Line, Shape, Stamp};
use crate::time::Time;
use crate::{Error, Finding, Input, Judged, Observer, Report, Scanner, Summary, Why, WindowReport};

/// Distinct groups kept before new causes of a node and source are counted together.
const MAX_GROUPS: usize = 4096;

/// Lines read at the start of an input to find the time it starts at.
const PROBE_LINES: u64 = 64;

/// One scan of a cluster's logs.
#[derive(Debug)]
pub struct Session<'s> {
    scanner: &'s Scanner,
    healthy_at: Option<Time>,
    boot: Option<Time>,
    /// The year of klog lines, which carry none: the boot's, else the current one.
    year: i64,
    aliases: HashMap<String, String>,
    pub(crate) inputs: Vec<InputState>,
    groups: BTreeMap<GroupKey, Group>,
    explained: BTreeMap<String, u64>,
    summary: Summary,
}

/// One input of [`Session::scan_parallel`]: where its lines come from, what it is, and who sees
/// its error lines as they are read.
#[derive(Debug)]
pub struct Job<'a, R, O> {
    /// The lines.
    pub reader: R,
    /// How findings name the input.
    pub input: Input<'a>,
    /// Sees the input's judged lines (on the thread that scans it).
    pub observer: O,
}

/// A job's progress.
enum Slot<'a, 's, R, O> {
    Waiting(Job<'a, R, O>, Session<'s>),
    Taken,
    Done(Session<'s>, Result<(), Error>, O),
}

/// An input of a [`Session`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputId(usize);

#[derive(Debug)]
pub(crate) struct InputState {
    name: String,
    source: String,
    shape: Shape,
    /// The node of an unlabelled input; `None` when every line carries its node label.
    node: Option<String>,
    pub(crate) lines: u64,
    pub(crate) bytes: u64,
    /// True once the time the input starts at is known (or was looked for long enough).
    pub(crate) probed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct GroupKey {
    node: String,
    source: String,
    cause: String,
}

#[derive(Debug)]
struct Group {
    why: Why,
    tallies: Vec<Tally>,
}

/// A group's lines in one input, inside the bootstrap window and after it.
#[derive(Debug)]
struct Tally {
    input: usize,
    label: String,
    inside: Span,
    after: Span,
}

#[derive(Debug, Default, Clone)]
struct Span {
    count: u64,
    first: Option<Seen>,
    last: Option<(u64, Option<Time>)>,
    /// The first line that starts a Go panic report (`panic: ...`), which a panic finding names.
    headline: Option<Seen>,
}

#[derive(Debug, Clone)]
struct Seen {
    line: u64,
    offset: u64,
    at: Option<Time>,
    text: String,
}

impl<'s> Session<'s> {
    pub(crate) fn new(scanner: &'s Scanner, healthy_at: Option<Time>) -> Self {
        let now = Time::from_unix_micros(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX)),
        );
        Self {
            scanner,
            healthy_at,
            boot: None,
            year: healthy_at.unwrap_or(now).year(),
            aliases: HashMap::new(),
            inputs: Vec::new(),
            groups: BTreeMap::new(),
            explained: BTreeMap::new(),
            summary: Summary::default(),
        }
    }

    /// Names the node a label stands for, so that the lines of one node are one node's whatever
    /// label they carry (`192.168.111.12` in a talosctl capture, `vixens-dev-cp2` in a bundle).
    pub fn alias(&mut self, label: &str, node: &str) {
        self.aliases.insert(label.to_owned(), node.to_owned());
    }

    /// Sets the boot time (read from the inputs beforehand, see [`crate::first_time`]), so that
    /// the window is the same whatever order the inputs come in.
    pub fn boot_at(&mut self, boot: Time) {
        self.set_boot(boot);
    }

    fn set_boot(&mut self, at: Time) {
        if self.boot.is_none_or(|b| at < b) {
            self.boot = Some(at);
            self.year = at.year();
        }
    }

    /// Adds an input whose lines will be pushed with [`Session::push`].
    pub fn open(&mut self, input: &Input<'_>) -> InputId {
        self.inputs.push(InputState {
            name: input.name.to_owned(),
            source: input.source.to_owned(),
            shape: Shape::of(input.source),
            node: input.node.map(str::to_owned),
            lines: 0,
            bytes: 0,
            probed: false,
        });
        InputId(self.inputs.len() - 1)
    }

    /// Scans everything `reader` yields as a new input.
    ///
    /// # Errors
    /// [`Error::Read`], [`Error::LineTooLong`] (the scan stops at that line) and
    /// [`Error::Observer`].
    pub fn scan_reader(&mut self, reader: impl std::io::Read, input: &Input<'_>, observer: &mut dyn Observer) -> Result<InputId, Error> {
        let id = self.open(input);
        crate::search::scan(self, id, id.0, reader, observer)?;
        Ok(id)
    }

    /// Lines and bytes read from `input` so far.
    #[must_use]
    pub fn read(&self, input: InputId) -> (u64, u64) {
        let state = &self.inputs[input.0];
        (state.lines, state.bytes)
    }

    pub(crate) fn scanner(&self) -> &'s Scanner {
        self.scanner
    }

    pub(crate) fn input_name(&self, input: InputId) -> &str {
        &self.inputs[input.0].name
    }

    /// Counts lines the reader went through (judged or not).
    pub(crate) fn count_read(&mut self, index: usize, lines: u64, bytes: u64) {
        self.inputs[index].lines += lines;
        self.inputs[index].bytes += bytes;
        self.summary.lines += lines;
        self.summary.bytes += bytes;
    }

    /// Judges one line of `input` (without its newline). Returns the observer's wish to go on.
    ///
    /// # Errors
    /// [`Error::LineTooLong`] and [`Error::Observer`].
    pub fn push(&mut self, input: InputId, line: &str, observer: &mut dyn Observer) -> Result<bool, Error> {
        let state = &mut self.inputs[input.0];
        let (offset, number) = (state.bytes, state.lines + 1);
        state.lines = number;
        state.bytes += line.len() as u64 + 1;
        self.summary.lines += 1;
        self.summary.bytes += line.len() as u64 + 1;
        let limit = self.scanner.config.max_line_bytes;
        if line.len() > limit {
            let mut head = line.len().min(256);
            while !line.is_char_boundary(head) {
                head -= 1;
            }
            let node = split_node(&line[..head]).0.unwrap_or("-").to_owned();
            return Err(Error::LineTooLong { input: self.inputs[input.0].name.clone(), node, line: number, offset, limit });
        }
        let probing = !self.inputs[input.0].probed;
        if !(probing || self.scanner.every_line_candidate || self.scanner.prefilter.is_candidate(line.as_bytes())) {
            return Ok(true);
        }
        self.judge(input.0, line.as_bytes(), number, offset, observer)
    }

    /// The time the bootstrap window ends at, if any is known.
    fn window_end(&self) -> Option<Time> {
        let limit = self.boot.map(|b| b.plus_secs(self.scanner.config.bootstrap_limit_secs));
        match (self.healthy_at, limit) {
            (Some(healthy), Some(limit)) => Some(healthy.min(limit)),
            (healthy, limit) => healthy.or(limit),
        }
    }

    fn in_window(&self, stamp: Stamp) -> bool {
        match stamp {
            Stamp::At(at) => self.window_end().is_some_and(|end| at <= end),
            Stamp::Uptime(micros) => match self.boot {
                Some(boot) => self.in_window(Stamp::At(boot.plus_micros(micros))),
                None => self.healthy_at.is_none() && micros <= self.scanner.config.bootstrap_limit_secs * 1_000_000,
            },
            // A line without a time cannot be shown to be inside the window.
            Stamp::Unknown => false,
        }
    }

    /// Judges one line of input `index`; `bytes` is the line without its newline.
    pub(crate) fn judge(&mut self, index: usize, bytes: &[u8], line: u64, offset: u64, observer: &mut dyn Observer) -> Result<bool, Error> {
        // Valid UTF-8 (nearly always) is borrowed; lossy conversion is the slow path.
        let raw = std::str::from_utf8(bytes).map_or_else(|_| String::from_utf8_lossy(bytes), std::borrow::Cow::Borrowed);
        let raw = raw.trim_end_matches('\r');
        let (shape, unlabelled, probed) = {
            let input = &self.inputs[index];
            (input.shape, input.node.is_some(), input.probed)
        };
        let (split_label, text) = if unlabelled {
            (None, raw)
        } else {
            let (label, text) = split_node(raw);
            (Some(label.unwrap_or("-")), text)
        };
        let text = strip_ansi(text);
        let Line::Record(record) = record::parse(&text, shape, Some(self.year)) else { return Ok(true) };
        if !probed {
            if let Stamp::At(at) = record.stamp {
                self.set_boot(at);
            }
            self.inputs[index].probed = matches!(record.stamp, Stamp::At(_)) || line >= PROBE_LINES;
        }
        let input = &self.inputs[index];
        let label = split_label.unwrap_or_else(|| input.node.as_deref().unwrap_or("-"));
        let source = record.source.unwrap_or(input.source.as_str());
        let scanner = self.scanner;
        let (why, cause) = if let Some((failure, cause)) = scanner.failures.classify(&record, source) {
            (Why::Failure(failure), cause)
        } else if let Some((marker, cause)) = markers::classify(&record, source) {
            (Why::Marker(marker), cause)
        } else {
            return Ok(true);
        };
        let in_window = self.in_window(record.stamp);
        let explained_by = match why {
            // The shared list explains boot noise, never a known failure; an environment may.
            Why::Failure(_) => scanner.env.first_match(&record.text, in_window),
            Why::Marker(marker) => scanner
                .shared_for(marker)
                .and_then(|shared| shared.first_match(&record.text, in_window))
                .or_else(|| scanner.env.first_match(&record.text, in_window)),
        };
        self.summary.errors += 1;
        let judged = Judged { input: &input.name, node: label, source, line, offset, text: &text, cause: &cause, why, in_window, explained_by };
        let go_on = observer.judged(&judged).map_err(|source| Error::Observer { input: input.name.clone(), source })?;
        if let Some(rule) = explained_by {
            self.summary.explained += 1;
            *self.explained.entry(rule_name(rule)).or_default() += 1;
            return Ok(go_on);
        }
        let at = match record.stamp {
            Stamp::At(at) => Some(at),
            Stamp::Uptime(micros) => self.boot.map(|b| b.plus_micros(micros)),
            Stamp::Unknown => None,
        };
        let seen = Seen { line, offset, at, text: text.clone().into_owned() };
        let node = self.aliases.get(label).cloned().unwrap_or_else(|| label.to_owned());
        let label = label.to_owned();
        let source = source.to_owned();
        self.count(GroupKey { node, source, cause }, why, index, &label, seen, in_window, record.stack_start);
        Ok(go_on)
    }

    #[allow(clippy::too_many_arguments, reason = "one error line's facts, counted once")]
    fn count(&mut self, mut key: GroupKey, why: Why, input: usize, label: &str, seen: Seen, in_window: bool, headline: bool) {
        if self.groups.len() >= MAX_GROUPS && !self.groups.contains_key(&key) {
            key.cause = format!("{}-other-causes", key.source);
        }
        let group = self.groups.entry(key).or_insert_with(|| Group { why, tallies: Vec::new() });
        let tally = match group.tallies.iter().position(|t| t.input == input) {
            Some(i) => &mut group.tallies[i],
            None => {
                group.tallies.push(Tally { input, label: label.to_owned(), inside: Span::default(), after: Span::default() });
                group.tallies.last_mut().expect("just pushed")
            }
        };
        let span = if in_window { &mut tally.inside } else { &mut tally.after };
        span.count += 1;
        span.last = Some((seen.line, seen.at));
        if headline && span.headline.is_none() {
            span.headline = Some(seen.clone());
        }
        if span.first.is_none() {
            span.first = Some(seen);
        }
    }

    /// Scans each job's reader as a new input, up to `threads` of them at once, each in a
    /// session of its own that starts from this one (its boot, bootstrap window and aliases),
    /// then adds them to this session in the order given: findings come out in file and line
    /// order, as they would from scanning the inputs in turn. Set [`Session::boot_at`] first for
    /// a window that does not depend on which input shows the boot. Memory is one read buffer
    /// per thread. Returns each job's input (or why its scan stopped) and its observer, in order.
    pub fn scan_parallel<R, O>(&mut self, jobs: Vec<Job<'_, R, O>>, threads: usize) -> Vec<(Result<InputId, Error>, O)>
    where
        R: std::io::Read + Send,
        O: Observer + Send,
    {
        let slots: Vec<_> = jobs.into_iter().map(|job| std::sync::Mutex::new(Slot::Waiting(job, self.fork()))).collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let work = || {
            while let Some(slot) = slots.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
                let mut slot = slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if let Slot::Waiting(mut job, mut session) = std::mem::replace(&mut *slot, Slot::Taken) {
                    let scanned = session.scan_reader(job.reader, &job.input, &mut job.observer).map(drop);
                    *slot = Slot::Done(session, scanned, job.observer);
                }
            }
        };
        match threads.min(slots.len()) {
            0 | 1 => work(),
            n => std::thread::scope(|scope| {
                for _ in 1..n {
                    scope.spawn(work);
                }
                work();
            }),
        }
        slots
            .into_iter()
            .filter_map(|slot| match slot.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner) {
                Slot::Done(session, scanned, observer) => {
                    let id = InputId(self.inputs.len());
                    self.absorb(session);
                    Some((scanned.map(|()| id), observer))
                }
                Slot::Waiting(..) | Slot::Taken => None,
            })
            .collect()
    }

    /// An empty session judging as this one does: same window, boot, year and aliases.
    fn fork(&self) -> Session<'s> {
        Session { aliases: self.aliases.clone(), year: self.year, boot: self.boot, ..Session::new(self.scanner, self.healthy_at) }
    }

    /// Adds everything `other` scanned (another thread's inputs) to this session.
    pub fn absorb(&mut self, other: Session<'_>) {
        let base = self.inputs.len();
        self.inputs.extend(other.inputs);
        if let Some(boot) = other.boot {
            self.set_boot(boot);
        }
        for (key, group) in other.groups {
            let mine = self.groups.entry(key).or_insert_with(|| Group { why: group.why, tallies: Vec::new() });
            mine.tallies.extend(group.tallies.into_iter().map(|t| Tally { input: t.input + base, ..t }));
        }
        for (rule, count) in other.explained {
            *self.explained.entry(rule).or_default() += count;
        }
        self.summary.lines += other.summary.lines;
        self.summary.bytes += other.summary.bytes;
        self.summary.errors += other.summary.errors;
        self.summary.explained += other.summary.explained;
    }

    /// The findings: one per node, source and cause, named at the first line of the group in
    /// its canonical input (the source's own log, then machined's, then dmesg; labelled captures
    /// before unlabelled copies), with the count and the last line there, and the other inputs
    /// the same records were seen in. A threshold failure seen no more than the tolerated number
    /// of times inside the window is tolerated there; only its lines after the window count.
    #[must_use]
    pub fn finish(self) -> Report {
        let retries = self.scanner.config.bootstrap_retries;
        let window = WindowReport { boot: self.boot, healthy_at: self.healthy_at, end: self.window_end(), assumed: self.healthy_at.is_none() };
        let mut findings = Vec::new();
        let mut tolerated = 0;
        for (key, group) in self.groups {
            let rank = |t: &Tally| {
                let input = &self.inputs[t.input];
                let own = match input.source.as_str() {
                    s if s == key.source => 0,
                    "machined" => 1,
                    "dmesg" => 2,
                    _ => 9,
                };
                (input.node.is_some(), own, input.name.clone())
            };
            let Some(canonical) = group.tallies.iter().min_by_key(|t| rank(t)) else { continue };
            let threshold = matches!(group.why, Why::Failure(f) if f.policy == crate::failures::Policy::Threshold);
            let tolerate = threshold && canonical.inside.count <= retries;
            if tolerate {
                tolerated += group.tallies.iter().map(|t| t.inside.count).sum::<u64>();
            }
            let span = |t: &Tally| if tolerate { t.after.clone() } else { merge(&t.inside, &t.after) };
            let main = span(canonical);
            let (Some(first), Some((last_line, last_at))) = (main.first.clone(), main.last) else { continue };
            let named = if key.cause == "panic" { main.headline.clone().unwrap_or_else(|| first.clone()) } else { first.clone() };
            let also_in = group
                .tallies
                .iter()
                .filter(|t| t.input != canonical.input)
                .map(|t| (self.inputs[t.input].name.clone(), span(t).count))
                .filter(|(_, count)| *count > 0)
                .collect();
            findings.push(Finding {
                node: key.node,
                label: canonical.label.clone(),
                source: key.source,
                cause: key.cause,
                why: group.why,
                input: self.inputs[canonical.input].name.clone(),
                line: named.line,
                offset: named.offset,
                text: named.text,
                count: main.count,
                first_line: first.line,
                last_line,
                first_at: first.at,
                last_at,
                also_in,
            });
        }
        findings.sort_by(|a, b| (&a.input, a.line).cmp(&(&b.input, b.line)));
        Report { findings, explained: self.explained, tolerated, window, summary: self.summary }
    }
}

/// One span of the lines of `a` and `b` (the same input, inside and after the window).
fn merge(a: &Span, b: &Span) -> Span {
    let earlier = |x: &Option<Seen>, y: &Option<Seen>| match (x, y) {
        (Some(x), Some(y)) => Some(if x.line <= y.line { x.clone() } else { y.clone() }),
        (x, y) => x.clone().or_else(|| y.clone()),
    };
    let last = match (a.last, b.last) {
        (Some(x), Some(y)) => Some(if x.0 >= y.0 { x } else { y }),
        (x, y) => x.or(y),
    };
    Span { count: a.count + b.count, first: earlier(&a.first, &b.first), last, headline: earlier(&a.headline, &b.headline) }
}

/// How reports name a rule: `A05` for the shared list, `env.yaml:42` for an environment's.
fn rule_name(rule: &AllowRule) -> String {
    match &rule.origin {
        crate::Origin::Shared(id) => (*id).to_owned(),
        origin @ crate::Origin::File { .. } => origin.to_string(),
    }
}
