//! Executable checks for the Vixens operations specification.
//!
//! The specification asks for three things, and each has its modules here:
//! 1. **ADRs** in `docs/adr/`: [`adr`].
//! 2. **Destroy/recreate cycles** before promotion: [`destroy`] (the one safe destroy path),
//!    [`cycle`] (one recreate cycle, phase by phase), [`argocd`] and [`wait`] (convergence),
//!    [`logscan`] (Talos logs), [`budget`], [`evidence`], [`lease`].
//! 3. **Documented commands** in `docs/commands.md`: [`commands`].
//!
//! Around them: [`env`](mod@env) loads and validates `environments/<env>/env.yaml`; [`terraform`],
//! [`talosctl`] and [`kube`] drive the real tools; [`process`] runs every child process under a
//! deadline; [`redact`] keeps secrets out of every output; [`suites`] turns all of it into the
//! nextest suites each environment package instantiates; [`promote`] and [`report`] give release
//! managers one verdict; [`doctor`] is the preflight.
//!
//! Checks never print or exit: they return typed verdicts and errors. Output belongs to the
//! reporters and to the `vixens` binary.

pub mod adr;
pub mod argocd;
pub mod budget;
pub mod commands;
pub mod cycle;
pub mod destroy;
pub mod doctor;
pub mod env;
pub mod evidence;
pub mod kube;
pub mod lease;
pub mod logscan;
pub mod process;
pub mod promote;
pub mod provision;
pub mod redact;
pub mod report;
pub mod suites;
pub mod talosctl;
pub mod terraform;
pub mod testkit;
pub mod wait;

/// An error and its causes on one line (`cannot read x.log: No such file or directory`), each
/// cause said once: each layer's message says only its own part, so the chain is what a person
/// reads.
#[must_use]
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    #[error("cannot build a client")]
    struct Outer(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("cannot build a client: {0}")]
    struct Repeats(#[source] std::io::Error);

    #[test]
    fn an_error_chain_reads_outer_to_inner_on_one_line_each_cause_once() {
        assert_eq!(super::error_chain(&Outer(std::io::Error::other("invalid certificate"))), "cannot build a client: invalid certificate");
        assert_eq!(super::error_chain(&Repeats(std::io::Error::other("invalid certificate"))), "cannot build a client: invalid certificate");
    }
}
