//! What every layer of the harness says when something is wrong.
//!
//! - [`error_chain`]: an error and its causes on one line, each cause said once;
//! - [`error_causes`]: the same, one cause per line, for messages that stand alone;
//! - [`input`]: a file a person hands the harness, opened only if it is a regular file and read
//!   only up to a limit, so that no input hangs the harness or exhausts its memory.

pub mod input;

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

/// An error and its causes, one `caused by:` line per cause, each said once: what a failed
/// command or test prints when there is room for more than one line.
#[must_use]
pub fn error_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str("\n  caused by: ");
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

    #[test]
    fn error_causes_put_each_cause_on_its_own_line_once() {
        assert_eq!(
            super::error_causes(&Outer(std::io::Error::other("invalid certificate"))),
            "cannot build a client\n  caused by: invalid certificate"
        );
        assert_eq!(super::error_causes(&Repeats(std::io::Error::other("invalid certificate"))), "cannot build a client: invalid certificate");
    }
}
