//! The one tokio runtime of a process: every entry point (the `vixens` binary, a suite's test
//! process, a benchmark) drives its async work (the Kubernetes API, the S3 inventory) through
//! [`block_on`], instead of each module building a runtime of its own.
//!
//! It is a current-thread runtime: the tasks a future spawns (kube-rs's connections) run on the
//! thread that blocks on it, so a caller can silence their logs for the duration of a call with a
//! thread-local tracing subscriber.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};

/// Runs `future` to completion on this process's runtime, built on first use.
///
/// # Panics
/// When called from inside an async context (a future already running on a runtime): call the
/// async function directly there. Also if the runtime cannot be built (no file descriptors left).
pub fn block_on<F: Future>(future: F) -> F::Output {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| Builder::new_current_thread().enable_all().build().expect("a single-threaded tokio runtime can be built")).block_on(future)
}
