//! The files a person hands the harness (an env.yaml, a saved plan, saved logs, commands.md, an
//! ADR, a JUnit report), opened so that no input can hang it or exhaust its memory:
//!
//! - only a **regular file** is read: a named pipe (FIFO), a device (`/dev/zero`), a socket or a
//!   folder is refused with a message naming what it is. The file is opened without blocking
//!   (`O_NONBLOCK`), so that opening a FIFO no writer holds returns at once instead of waiting
//!   forever for one; the flag is cleared once the file is known to be regular;
//! - [`read`] and [`read_to_string`] read at most `limit` bytes: a larger file is refused before
//!   anything is read (its size is known), and a file that grows while it is read is refused when
//!   it passes the limit. The memory a read takes is therefore at most `limit`;
//! - standard input (`-` where a command takes it) is the one exception to the first rule: a
//!   pipe is what it is for (`zcat FILE | vixens logs scan -`). [`read_stdin`] bounds it too.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileTypeExt as _;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};

/// One mebibyte, for limits.
pub const MIB: u64 = 1024 * 1024;

/// Why an input file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file cannot be opened or read (missing, no permission, an I/O error).
    #[error("cannot read {}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The path is not a regular file.
    #[error("{} is {what}, not a regular file: nothing is read from it", .path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is, in words (`a named pipe (FIFO)`, `a character device`, `a folder`).
        what: &'static str,
    },
    /// The file is larger than what this input may be.
    #[error("{} is {}, over the {} this harness reads of it: nothing is read from it", .path.display(), size_in_words(*.size), size_in_words(*.limit))]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes (at least `limit + 1` when it grew while being read).
        size: u64,
        /// The limit, in bytes.
        limit: u64,
    },
}

impl InputError {
    /// The error as an I/O error about the file, for callers whose errors already name it: a
    /// read error as it is; the others as `it is a named pipe (FIFO), not a regular file` and
    /// `it is 2.0 GiB, over the 256.0 MiB this harness reads of it`.
    #[must_use]
    pub fn into_io(self) -> std::io::Error {
        match self {
            Self::Io { source, .. } => source,
            Self::NotAFile { what, .. } => std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("it is {what}, not a regular file")),
            Self::TooLarge { size, limit, .. } => std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                format!("it is {}, over the {} this harness reads of it", size_in_words(size), size_in_words(limit)),
            ),
        }
    }

    /// The path the error is about.
    #[must_use]
    pub fn path(&self) -> &Path {
        match self {
            Self::Io { path, .. } | Self::NotAFile { path, .. } | Self::TooLarge { path, .. } => path,
        }
    }
}

/// Opens `path` for reading if it is a regular file, without ever blocking on a FIFO.
///
/// # Errors
/// [`InputError::NotAFile`] for anything but a regular file (symbolic links are followed);
/// [`InputError::Io`] when it cannot be opened.
pub fn open(path: &Path) -> Result<File, InputError> {
    let io = |source: std::io::Error| InputError::Io { path: path.to_owned(), source };
    let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC, Mode::empty()).map_err(|e| io(e.into()))?;
    let file = File::from(fd);
    let file_type = file.metadata().map_err(io)?.file_type();
    if !file_type.is_file() {
        let what = if file_type.is_fifo() {
            "a named pipe (FIFO)"
        } else if file_type.is_char_device() {
            "a character device"
        } else if file_type.is_block_device() {
            "a block device"
        } else if file_type.is_socket() {
            "a socket"
        } else if file_type.is_dir() {
            "a folder"
        } else {
            "not a file"
        };
        return Err(InputError::NotAFile { path: path.to_owned(), what });
    }
    let flags = rustix::fs::fcntl_getfl(&file).map_err(|e| io(e.into()))?;
    rustix::fs::fcntl_setfl(&file, flags - OFlags::NONBLOCK).map_err(|e| io(e.into()))?;
    Ok(file)
}

/// The bytes of the regular file `path`, at most `limit` of them.
///
/// # Errors
/// [`InputError::TooLarge`] for a file over `limit` bytes (checked before reading, and again
/// while reading a file that grows); otherwise as [`open`].
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    let file = open(path)?;
    let size = file.metadata().map_err(|source| InputError::Io { path: path.to_owned(), source })?.len();
    if size > limit {
        return Err(InputError::TooLarge { path: path.to_owned(), size, limit });
    }
    bounded(file, path, limit, usize::try_from(size).unwrap_or(0))
}

/// The text of the regular file `path`, at most `limit` bytes of it.
///
/// # Errors
/// As [`read`]; [`InputError::Io`] (`InvalidData`) when it is not UTF-8.
pub fn read_to_string(path: &Path, limit: u64) -> Result<String, InputError> {
    let bytes = read(path, limit)?;
    String::from_utf8(bytes).map_err(|e| InputError::Io {
        path: path.to_owned(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to()),
        ),
    })
}

/// Standard input, at most `limit` bytes of it (named `-` in messages).
///
/// # Errors
/// [`InputError::TooLarge`] past `limit`; [`InputError::Io`] when it cannot be read.
pub fn read_stdin(limit: u64) -> Result<Vec<u8>, InputError> {
    bounded(std::io::stdin().lock(), Path::new("-"), limit, 0)
}

/// Reads `reader` to its end, refusing it once it passes `limit` bytes.
fn bounded(reader: impl Read, path: &Path, limit: u64, expected: usize) -> Result<Vec<u8>, InputError> {
    let mut bytes = Vec::with_capacity(expected);
    reader.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(|source| InputError::Io { path: path.to_owned(), source })?;
    let read = bytes.len() as u64;
    if read > limit {
        return Err(InputError::TooLarge { path: path.to_owned(), size: read, limit });
    }
    Ok(bytes)
}

/// `1.5 GiB`, `12 MiB`, `300 bytes`.
fn size_in_words(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss, reason = "a size shown to one decimal")]
    let shown = |unit: u64| bytes as f64 / unit as f64;
    match bytes {
        b if b >= 1024 * MIB => format!("{:.1} GiB", shown(1024 * MIB)),
        b if b >= MIB => format!("{:.1} MiB", shown(MIB)),
        b if b >= 1024 => format!("{:.1} KiB", shown(1024)),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn a_regular_file_is_read_whole_within_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, "{}\n").unwrap();
        assert_eq!(read_to_string(&path, 3).unwrap(), "{}\n");
    }

    #[test]
    fn a_fifo_is_refused_at_once_instead_of_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("logs");
        rustix::fs::mknodat(rustix::fs::CWD, &fifo, rustix::fs::FileType::Fifo, Mode::from_raw_mode(0o600), 0).unwrap();
        let started = Instant::now();
        let err = read(&fifo, MIB).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5), "opening the FIFO blocked");
        assert_eq!(err.to_string(), format!("{} is a named pipe (FIFO), not a regular file: nothing is read from it", fifo.display()));
    }

    #[test]
    fn devices_and_folders_are_refused_naming_what_they_are() {
        let err = read(Path::new("/dev/zero"), MIB).unwrap_err();
        assert_eq!(err.to_string(), "/dev/zero is a character device, not a regular file: nothing is read from it");
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(read(dir.path(), MIB).unwrap_err(), InputError::NotAFile { what: "a folder", .. }));
    }

    #[test]
    fn a_file_over_the_limit_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.json");
        // Sparse: 2 GiB on paper, nothing on disk; reading it would take 2 GiB of memory.
        File::create(&path).unwrap().set_len(2 * 1024 * MIB).unwrap();
        let started = Instant::now();
        let err = read(&path, 256 * MIB).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2), "the file was read");
        assert_eq!(err.to_string(), format!("{} is 2.0 GiB, over the 256.0 MiB this harness reads of it: nothing is read from it", path.display()));
    }

    #[test]
    fn a_reader_that_never_ends_is_cut_at_the_limit() {
        let err = bounded(std::io::repeat(b'x'), Path::new("-"), 1024, 0).unwrap_err();
        assert!(matches!(err, InputError::TooLarge { size: 1025, limit: 1024, .. }), "{err:?}");
    }

    #[test]
    fn a_missing_file_names_itself() {
        let err = read(Path::new("/no/such/file.json"), MIB).unwrap_err();
        assert_eq!(err.to_string(), "cannot read /no/such/file.json");
        assert_eq!(err.path(), Path::new("/no/such/file.json"));
    }
}
