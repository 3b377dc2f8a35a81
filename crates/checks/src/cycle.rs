//! One recreate cycle, as data flowing through (docs/architecture.md): safe destroy → terraform apply
//! → Kubernetes API reachable → `talosctl health` → every system app converged in Argo CD with
//! no manual intervention since the recreate → Talos logs since boot clean → phase timings
//! against the budgets → a verdict, with evidence.
//!
//! - [`Check`]: the recreate cycle and the read-only checks of the same scenario (system apps
//!   healthy, Argo CD bootstrapped without manual intervention, Talos logs clean), each a list
//!   of phases ([`vixens_ops::budget::Phase`]).
//! - [`run`]: the runner. Each phase has a name, a deadline from the environment's budgets and a
//!   measured duration; the first failure stops the check and names the phase and the culprit
//!   (the resource address, the node and log line, the app); the budgets are judged; a failed
//!   check keeps its [artifacts] (terraform transcript, `talosctl health` output,
//!   log excerpts, every Application, the events) in a folder named in the verdict. The runner
//!   never prints: it emits [`CycleEvent`]s.
//! - [`report`]: reporters of those events: terminal progress and the evidence ledger.
//! - [`Outcome`]: the verdict, readable as text and recorded as a ledger line.
//!
//! ```no_run
//! # fn demo(session: &vixens_ops::session::Session) {
//! use crate::cycle::{self, Check, Options, report::{Ledger, Terminal}, Reporters};
//! let env = session.env();
//! let mut terminal = Terminal::new(std::io::stderr());
//! let mut ledger = Ledger::for_env(env);
//! let mut reporters = Reporters::new().with(&mut terminal).with(&mut ledger);
//! let outcome = cycle::run(env, session.lease(), Check::RecreateCycle, &Options::default(), &mut reporters);
//! assert!(outcome.passed(), "{outcome}");
//! # }
//! ```

pub mod artifacts;
mod check;
mod event;
pub(crate) mod phases;
pub mod report;
mod runner;
mod verdict;

pub use check::Check;
pub use event::{CycleEvent, Reporter, Reporters};
pub use runner::{Options, cycle_id, run};
pub use verdict::Outcome;
pub use vixens_ops::phase::Progress;
