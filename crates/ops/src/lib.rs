//! Operations on one environment, below the checks that judge them:
//!
//! - [`env`]: env.yaml resolved into an [`env::Environment`] (variables expanded, paths, budgets,
//!   the allow-list and the system-app rules compiled), which builds every driver the tools need;
//! - [`budget`] and [`phase`]: the phases of an operation, their budgets and how they report;
//! - [`runtime`]: the one tokio runtime of the process;
//! - [`destroy`]: the one safe destroy path (confirmation, verified state backup, the guard on the
//!   destroy plan, the protected inventory before and after);
//! - [`credentials`]: the credentials of each apply installed where env.yaml says, and the
//!   read-only identity minted from them;
//! - [`provision`]: terraform apply, and an on-demand lab brought up whole; [`probe`]: does the
//!   Kubernetes API answer;
//! - [`lease`] and [`session`]: an environment leased to one test run, and nothing the harness
//!   starts outliving it;
//! - [`evidence`]: the ledger every cycle appends to;
//! - [`instance`]: a private instance of a lab, for tests that destroy what they bring up;
//! - [`binaries`]: the harness's own binaries, built once per test run.

pub mod binaries;
pub mod budget;
pub mod credentials;
pub mod destroy;
pub mod env;
pub mod evidence;
pub mod instance;
pub mod lease;
pub mod phase;
pub mod probe;
pub mod provision;
pub mod runtime;
pub mod session;
