//! Output helpers shared by the commands: Go's `text/tabwriter` as talosctl configures it,
//! go-multierror's text, `WARNING:` lines and "ago" durations.

use std::fmt::Write as _;
use std::time::Duration;

use jiff::Timestamp;

use crate::talos::logfmt::go_duration;

/// `tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)`: every cell but the last of a line is padded to its
/// column's width plus 3 spaces; the last cell is written as is.
#[must_use]
pub fn tabwrite(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; columns];
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(row.len().saturating_sub(1)) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                out.push_str(cell);
            } else {
                let _ = write!(out, "{cell:<width$}", width = widths[i] + 3);
            }
        }
        out.push('\n');
    }
    out
}

/// hashicorp/go-multierror's `Error()`: `1 error occurred:\n\t* <e>\n\n`.
#[must_use]
pub fn multierror(errors: &[String]) -> String {
    let mut text = if errors.len() == 1 { "1 error occurred:".to_owned() } else { format!("{} errors occurred:", errors.len()) };
    for e in errors {
        let _ = write!(text, "\n\t* {e}");
    }
    text.push_str("\n\n");
    text
}

/// `cli.Warning("%s", err)`: the partial failure of a multi-node call, on stderr.
pub fn warn(errors: &[String]) {
    if !errors.is_empty() {
        eprintln!("WARNING: {}", multierror(errors));
    }
}

/// `time.Since(ts).Round(time.Second).String()` for an RFC 3339 time.
#[must_use]
pub fn ago(ts: &str) -> String {
    let elapsed = ts.parse::<Timestamp>().ok().map_or(Duration::ZERO, |t| {
        let nanos = (Timestamp::now().as_nanosecond() - t.as_nanosecond()).max(0);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    });
    go_duration(Duration::from_secs((elapsed.as_millis() + 500).div_euclid(1000).try_into().unwrap_or(u64::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabwriter_pads_all_but_the_last_cell() {
        let rows = vec![
            vec!["NODE".into(), "SERVICE".into(), "LAST EVENT".into()],
            vec!["10.5.0.2".into(), "apid".into(), "Health check successful".into()],
        ];
        assert_eq!(tabwrite(&rows), "NODE       SERVICE   LAST EVENT\n10.5.0.2   apid      Health check successful\n");
    }

    #[test]
    fn multierror_reads_like_go() {
        assert_eq!(multierror(&["a".into()]), "1 error occurred:\n\t* a\n\n");
        assert_eq!(multierror(&["a".into(), "b".into()]), "2 errors occurred:\n\t* a\n\t* b\n\n");
    }
}
