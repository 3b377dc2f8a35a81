//! The bounded line reader: a fixed buffer rolls over the input, only complete lines are
//! searched, and a line longer than the cap is an error rather than a reason to grow without
//! bound (ripgrep's `LineBuffer`, simplified).
//!
//! Searching works on whole buffers: the keyword automaton and a `memchr` for the escape byte
//! jump from candidate to candidate, so clean lines cost no per-line work beyond counting
//! newlines. Each candidate line goes to [`Scanner::judge`].

use std::io::Read;

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
    fn chunk<S: Sink + ?Sized>(
        &mut self,
        scanner: &Scanner,
        buf: &[u8],
        from: usize,
        to: usize,
        input: &Input<'_>,
        sink: &mut S,
    ) -> Result<(), Error> {
        let chunk = &buf[from..to];
        let base_offset = self.buffer_offset + from as u64;
        // Line number of `chunk[counted]`.
        let (mut counted, mut line) = (0, self.summary.lines + 1);
        let mut candidates = Candidates::new(scanner, chunk);
        while !self.stopped {
            let Some(hit) = candidates.next() else { break };
            let line_start = memchr::memrchr(b'\n', &chunk[..hit]).map_or(0, |i| i + 1);
            let line_end = memchr::memchr(b'\n', &chunk[hit..]).map_or(chunk.len(), |i| hit + i);
            line += memchr::memchr_iter(b'\n', &chunk[counted..line_start]).count() as u64;
            counted = line_start;
            let bytes = &chunk[line_start..line_end];
            self.stopped = !scanner.judge(bytes, line, base_offset + line_start as u64, input, &mut self.summary, sink)?;
            candidates.skip_to(line_end + 1);
        }
        // The line at `counted` and every newline after it; a final line without one still counts.
        let rest = memchr::memchr_iter(b'\n', &chunk[counted..]).count() as u64;
        self.summary.lines = line - 1 + rest + u64::from(!chunk.ends_with(b"\n"));
        self.summary.bytes += chunk.len() as u64;
        Ok(())
    }
}

/// Candidate positions in a chunk, in order: one pass of the keyword automaton and one of
/// `memchr` for escapes over the whole chunk, never restarted.
struct Candidates<'c> {
    chunk: &'c [u8],
    every_line: bool,
    /// The next line start to consider.
    pos: usize,
    keywords: std::iter::Peekable<aho_corasick::FindIter<'c, 'c>>,
    escapes: std::iter::Peekable<memchr::Memchr<'c>>,
}

impl<'c> Candidates<'c> {
    fn new(scanner: &'c Scanner, chunk: &'c [u8]) -> Self {
        Self {
            chunk,
            every_line: scanner.config.every_line_candidate,
            pos: 0,
            keywords: scanner.keywords.find_iter(chunk).peekable(),
            escapes: memchr::memchr_iter(0x1b, chunk).peekable(),
        }
    }

    /// The position of a byte at or after the current line start that makes its line a candidate.
    fn next(&mut self) -> Option<usize> {
        let chunk = self.chunk;
        if self.pos >= chunk.len() {
            return None;
        }
        // Line starts after a newline are found through the `\nE0`-style keywords; the chunk's
        // first line has no newline before it.
        let klog_head = self.pos == 0 && chunk.len() > 1 && matches!(chunk[0], b'E' | b'F') && matches!(chunk[1], b'0' | b'1');
        if self.every_line || klog_head {
            return Some(self.pos);
        }
        // A `\nE0` keyword belongs to the line after its newline.
        let keyword = self.keywords.peek().map(|m| m.start() + usize::from(chunk[m.start()] == b'\n'));
        let escape = self.escapes.peek().copied();
        match (keyword, escape) {
            (Some(k), Some(e)) => Some(k.min(e)),
            (k, e) => k.or(e),
        }
    }

    /// Moves past a judged line: `pos` is the next line's start.
    fn skip_to(&mut self, pos: usize) {
        self.pos = pos;
        let chunk = self.chunk;
        while self.keywords.next_if(|m| m.start() + usize::from(chunk[m.start()] == b'\n') < pos).is_some() {}
        while self.escapes.next_if(|e| *e < pos).is_some() {}
    }
}

fn too_long(input: &Input<'_>, partial: &[u8], offset: u64, line: u64, limit: usize) -> Error {
    let head = String::from_utf8_lossy(&partial[..partial.len().min(256)]);
    let node = crate::lines::split_node(&head).0.unwrap_or("-").to_owned();
    Error::LineTooLong { input: input.name.to_owned(), node, line, offset, limit }
}
