//! The bounded line reader: a fixed buffer rolls over the input, only complete lines are
//! searched, and a line longer than the cap is an error rather than a reason to grow without
//! bound (ripgrep's `LineBuffer`, simplified).
//!
//! Searching works on whole buffers: the keyword automaton and a `memchr` for the escape byte
//! jump from candidate to candidate, so clean lines cost no per-line work beyond counting
//! newlines. Each candidate line goes to [`Scanner::judge`].

use std::io::Read;

use aho_corasick::Input as Haystack;

use super::{Error, Input, Scanner, Sink, Summary};

/// Scans `reader` to its end, pushing findings to `sink`.
pub(super) fn scan<R: Read, S: Sink + ?Sized>(scanner: &Scanner, mut reader: R, input: &Input<'_>, sink: &mut S) -> Result<Summary, Error> {
    let limit = scanner.config.max_line_bytes;
    // Capacity never exceeds limit + 1, so a complete line in the buffer is within the limit.
    let mut buf = vec![0; scanner.config.buffer_bytes.min(limit + 1)];
    let mut state = State { summary: Summary::default(), buffer_offset: 0, stopped: false };
    let (mut start, mut end) = (0, 0);
    loop {
        if end == buf.len() {
            if start > 0 {
                buf.copy_within(start..end, 0);
                state.buffer_offset += start as u64;
                end -= start;
                start = 0;
            } else if buf.len() <= limit {
                buf.resize((buf.len() * 2).min(limit + 1), 0);
            } else {
                return Err(too_long(input, &buf[..end], state.buffer_offset, state.summary.lines + 1, limit));
            }
        }
        let n = match reader.read(&mut buf[end..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => return Err(Error::Read { input: input.name.to_owned(), source }),
        };
        if n == 0 {
            if start < end {
                // The last line has no newline.
                state.chunk(scanner, &buf, start, end, input, sink)?;
            }
            break;
        }
        end += n;
        if let Some(last) = memchr::memrchr(b'\n', &buf[start..end]) {
            let complete = start + last + 1;
            state.chunk(scanner, &buf, start, complete, input, sink)?;
            start = complete;
        }
        if state.stopped {
            break;
        }
    }
    Ok(state.summary)
}

struct State {
    summary: Summary,
    /// Absolute offset of `buf[0]`.
    buffer_offset: u64,
    stopped: bool,
}

impl State {
    /// Searches the complete lines `buf[from..to]`.
    fn chunk<S: Sink + ?Sized>(&mut self, scanner: &Scanner, buf: &[u8], from: usize, to: usize, input: &Input<'_>, sink: &mut S) -> Result<(), Error> {
        let chunk = &buf[from..to];
        let base_offset = self.buffer_offset + from as u64;
        let first_line = self.summary.lines + 1;
        // Line number of `chunk[counted]`.
        let (mut counted, mut line) = (0, first_line);
        let mut pos = 0;
        let mut next = Next::default();
        while !self.stopped {
            let Some(hit) = next.candidate(scanner, chunk, pos) else { break };
            let line_start = memchr::memrchr(b'\n', &chunk[..hit]).map_or(0, |i| i + 1);
            let line_end = memchr::memchr(b'\n', &chunk[hit..]).map_or(chunk.len(), |i| hit + i);
            line += memchr::memchr_iter(b'\n', &chunk[counted..line_start]).count() as u64;
            counted = line_start;
            let bytes = &chunk[line_start..line_end];
            let keep_going = scanner.judge(bytes, line, base_offset + line_start as u64, input, &mut self.summary, sink)?;
            self.stopped = !keep_going;
            pos = line_end + 1;
        }
        let newlines = memchr::memchr_iter(b'\n', chunk).count() as u64;
        // A final line without newline still counts as a line.
        self.summary.lines = first_line - 1 + newlines + u64::from(!chunk.ends_with(b"\n"));
        self.summary.bytes += chunk.len() as u64;
        Ok(())
    }
}

/// The next keyword and escape positions found so far, so that a stretch of text is searched
/// once even when candidate lines come close together.
#[derive(Default)]
struct Next {
    keyword: Option<usize>,
    escape: Option<usize>,
}

/// "Nothing further in this chunk".
const NONE: usize = usize::MAX;

impl Next {
    /// The position of the next byte at or after `pos` that makes its line a candidate.
    fn candidate(&mut self, scanner: &Scanner, chunk: &[u8], pos: usize) -> Option<usize> {
        if pos >= chunk.len() {
            return None;
        }
        if scanner.config.every_line_candidate {
            return Some(pos);
        }
        // `pos` is a line start: a klog severity there has no newline before it in the span searched.
        if chunk.len() > pos + 1 && matches!(chunk[pos], b'E' | b'F') && matches!(chunk[pos + 1], b'0' | b'1') {
            return Some(pos);
        }
        let keyword = match self.keyword.filter(|k| *k == NONE || *k >= pos) {
            Some(k) => k,
            None => {
                // A `\nE0` keyword belongs to the line after its newline.
                let found = scanner.keywords.find(Haystack::new(chunk).span(pos..chunk.len())).map_or(NONE, |m| m.start() + usize::from(chunk[m.start()] == b'\n'));
                *self.keyword.insert(found)
            }
        };
        let escape = match self.escape.filter(|e| *e == NONE || *e >= pos) {
            Some(e) => e,
            None => *self.escape.insert(memchr::memchr(0x1b, &chunk[pos..]).map_or(NONE, |i| pos + i)),
        };
        let first = keyword.min(escape);
        (first != NONE).then_some(first)
    }
}

fn too_long(input: &Input<'_>, partial: &[u8], offset: u64, line: u64, limit: usize) -> Error {
    let head = String::from_utf8_lossy(&partial[..partial.len().min(256)]);
    let node = crate::talosctl::lines::split_node(&head).0.unwrap_or("-").to_owned();
    Error::LineTooLong { input: input.name.to_owned(), node, line, offset, limit }
}
