//! The documentation checks of the specification, which need no cluster and never compile a
//! Kubernetes client:
//!
//! - [`adr`]: the ADRs of `docs/adr/` (structure, status, consequences, references,
//!   supersession both ways, numbering, the index) and `vixens adr check-change`;
//! - [`commands`]: `docs/commands.md` parsed with exact lines, linted, its expected output
//!   matched, and its `Validated on:` records written;
//! - [`secrets`]: credentials committed in `docs/**` (the `secrets` rule of both lints, and
//!   `vixens docs secrets`), and the scrub of a command's output before it is matched or shown.
//!
//! Checks never print or exit: they return typed findings; `vixens` renders them.

pub mod adr;
pub mod commands;
pub mod secrets;
