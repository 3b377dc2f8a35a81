//! The bounded line reader: a fixed buffer rolls over the input, only complete lines are
//! searched, and a line longer than the cap is an error rather than a reason to grow without
//! bound (ripgrep's `LineBuffer`, simplified).
//!
//! Searching works on whole buffers: the keyword prefilter jumps from candidate to candidate, so clean lines cost no per-line work beyond counting
//! newlines. Each candidate line goes to [`Session::judge`]. Until the time an input starts at is
//! known, every line is a candidate.

use std::io::Read;

use crate::prefilter::klog_error_head;
use crate::session::{InputId, Session};
use crate::{Error, Observer};

/// Scans `reader` to its end as input `id` of `session`.
pub(crate) fn scan<R: Read>(session: &mut Session<'_>, id: InputId, index: usize, mut reader: R, observer: &mut dyn Observer) -> Result<(), Error> {
    let limit = session.scanner().config.max_line_bytes;
    // Capacity never exceeds limit + 1, so a complete line in the buffer is within the limit.
    let mut buf = vec![0; session.scanner().config.buffer_bytes.min(limit + 1)];
    let mut state = State { buffer_offset: 0, stopped: false };
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
                let lines = session.inputs[index].lines;
                return Err(too_long(session.input_name(id), &buf[..end], state.buffer_offset, lines + 1, limit));
            }
        }
        let n = match reader.read(&mut buf[end..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => return Err(Error::Read { input: session.input_name(id).to_owned(), source }),
        };
        if n == 0 {
            if start < end {
                // The last line has no newline.
                state.chunk(session, index, &buf, start, end, observer)?;
            }
            break;
        }
        end += n;
        if let Some(last) = memchr::memrchr(b'\n', &buf[start..end]) {
            let complete = start + last + 1;
            state.chunk(session, index, &buf, start, complete, observer)?;
            start = complete;
        }
        if state.stopped {
            break;
        }
    }
    Ok(())
}

struct State {
    /// Absolute offset of `buf[0]`.
    buffer_offset: u64,
    stopped: bool,
}

impl State {
    /// Searches the complete lines `buf[from..to]`.
    fn chunk(
        &mut self,
        session: &mut Session<'_>,
        index: usize,
        buf: &[u8],
        from: usize,
        to: usize,
        observer: &mut dyn Observer,
    ) -> Result<(), Error> {
        let chunk = &buf[from..to];
        let base_offset = self.buffer_offset + from as u64;
        let first_line = session.inputs[index].lines + 1;
        // Line number of `chunk[counted]`.
        let (mut counted, mut line) = (0, first_line);
        let scanner = session.scanner();
        let mut candidates = Candidates::new(scanner, chunk);
        while !self.stopped {
            candidates.every_line = scanner.every_line_candidate || !session.inputs[index].probed;
            let Some(hit) = candidates.next() else { break };
            let line_start = memchr::memrchr(b'\n', &chunk[..hit]).map_or(0, |i| i + 1);
            let line_end = memchr::memchr(b'\n', &chunk[hit..]).map_or(chunk.len(), |i| hit + i);
            line += memchr::memchr_iter(b'\n', &chunk[counted..line_start]).count() as u64;
            counted = line_start;
            let bytes = &chunk[line_start..line_end];
            self.stopped = !session.judge(index, bytes, line, base_offset + line_start as u64, observer)?;
            candidates.skip_to(line_end + 1);
        }
        // The line at `counted` and every newline after it; a final line without one still counts.
        let rest = memchr::memchr_iter(b'\n', &chunk[counted..]).count() as u64;
        let lines = line - first_line + rest + u64::from(!chunk.ends_with(b"\n"));
        session.count_read(index, lines, chunk.len() as u64);
        Ok(())
    }
}

/// Candidate positions in a chunk, in order: one pass of each prefilter searcher (keywords, klog
/// heads) over the whole chunk, never restarted.
struct Candidates<'c> {
    chunk: &'c [u8],
    every_line: bool,
    /// The next line start to consider.
    pos: usize,
    keywords: std::iter::Peekable<aho_corasick::packed::FindIter<'c, 'c>>,
    heads: std::iter::Peekable<aho_corasick::packed::FindIter<'c, 'c>>,
}

impl<'c> Candidates<'c> {
    fn new(scanner: &'c crate::Scanner, chunk: &'c [u8]) -> Self {
        Self {
            chunk,
            every_line: false,
            pos: 0,
            keywords: scanner.prefilter.words(chunk).peekable(),
            heads: scanner.prefilter.heads(chunk).peekable(),
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
        if self.every_line || (self.pos == 0 && klog_error_head(chunk)) {
            return Some(self.pos);
        }
        let keyword = self.keywords.peek().map(|m| m.start());
        // A `\nE0` head belongs to the line after its newline.
        let head = self.heads.peek().map(|m| m.start() + usize::from(chunk[m.start()] == b'\n'));
        match (keyword, head) {
            (Some(k), Some(h)) => Some(k.min(h)),
            (k, h) => k.or(h),
        }
    }

    /// Moves past a judged line: `pos` is the next line's start.
    fn skip_to(&mut self, pos: usize) {
        self.pos = pos;
        let chunk = self.chunk;
        while self.keywords.next_if(|m| m.start() < pos).is_some() {}
        while self.heads.next_if(|m| m.start() + usize::from(chunk[m.start()] == b'\n') < pos).is_some() {}
    }
}

fn too_long(input: &str, partial: &[u8], offset: u64, line: u64, limit: usize) -> Error {
    let head = String::from_utf8_lossy(&partial[..partial.len().min(256)]);
    let node = crate::lines::split_node(&head).0.unwrap_or("-").to_owned();
    Error::LineTooLong { input: input.to_owned(), node, line, offset, limit }
}
