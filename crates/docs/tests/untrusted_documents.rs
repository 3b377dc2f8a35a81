//! `docs/commands.md` and the ADRs are user input, and their Markdown may be built to hurt:
//! nesting thousands deep, a line of megabytes, a document of nothing but delimiters. Each is
//! read into a document and problems in bounded time, never a panic or a stack overflow. (The
//! property tests beside the parsers cover arbitrary bytes and Markdown of any shape.)

use std::path::Path;
use std::time::{Duration, Instant};

use vixens_docs::adr::record::Record;
use vixens_docs::adr::vocabulary::Vocabulary;
use vixens_docs::commands::lint::lint;
use vixens_docs::commands::parse::parse;

/// Texts that push a Markdown reader to its limits, each under the 4 MiB the harness reads of
/// an ADR or a commands document.
fn hostile() -> Vec<(&'static str, String)> {
    vec![
        ("block quotes 20 000 deep", format!("{}text\n", "> ".repeat(20_000))),
        ("lists 5 000 deep", (0..5_000).map(|i| format!("{}- item\n", "  ".repeat(i))).collect()),
        ("brackets 100 000 deep", format!("### A\n\n{}x{}\n", "[".repeat(100_000), "]".repeat(100_000))),
        ("emphasis 50 000 deep", format!("{}x{}\n", "*_".repeat(50_000), "_*".repeat(50_000))),
        ("one line of 2 MiB", format!("### A\n\nContext: {}\n", "a".repeat(2 << 20))),
        ("unclosed fences", "```console\n$ x\n".repeat(20_000)),
        ("headings only", "### A\n".repeat(50_000)),
        ("backticks", "`".repeat(200_000)),
    ]
}

#[test]
fn hostile_commands_documents_are_read_in_bounded_time() {
    for (what, text) in hostile() {
        let started = Instant::now();
        let doc = parse(Path::new("docs/commands.md"), &text);
        let _ = lint(&doc);
        assert!(started.elapsed() < Duration::from_secs(20), "{what}: {:?}", started.elapsed());
    }
}

#[test]
fn hostile_adrs_are_read_in_bounded_time() {
    for (what, text) in hostile() {
        let started = Instant::now();
        let _ = Record::read("docs/adr/001-hostile.md", text.as_bytes(), &Vocabulary::default());
        assert!(started.elapsed() < Duration::from_secs(20), "{what}: {:?}", started.elapsed());
    }
}
