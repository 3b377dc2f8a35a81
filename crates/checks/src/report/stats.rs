//! p50/p95 per phase over the shown cycles.

use vixens_ops::evidence::CycleRecord;

/// The timing statistics of one phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseStats {
    /// The phase.
    pub phase: String,
    /// How many cycles ran it.
    pub samples: usize,
    /// Median duration in milliseconds.
    pub p50_ms: u64,
    /// 95th percentile duration in milliseconds.
    pub p95_ms: u64,
    /// The slowest run, in milliseconds.
    pub max_ms: u64,
    /// The phase's budget as the newest cycle recorded it.
    pub budget_ms: u64,
}

impl PhaseStats {
    /// The statistics of `phase` over `records` (cycles that did not run it are left out).
    pub fn of<'a>(phase: &str, records: impl Iterator<Item = &'a CycleRecord>) -> Self {
        let mut budget_ms = 0;
        let mut samples: Vec<u64> = Vec::new();
        for timing in records.flat_map(|r| r.phases.iter()).filter(|t| t.phase == phase) {
            samples.push(timing.ms);
            budget_ms = timing.budget_ms;
        }
        samples.sort_unstable();
        Self {
            phase: phase.to_owned(),
            samples: samples.len(),
            p50_ms: percentile(&samples, 50),
            p95_ms: percentile(&samples, 95),
            max_ms: samples.last().copied().unwrap_or(0),
            budget_ms,
        }
    }
}

/// The nearest-rank percentile `p` (1..=100) of `sorted`: the smallest value with at least
/// `p`% of the samples at or below it. 0 for no samples.
#[must_use]
pub fn percentile(sorted: &[u64], p: u32) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (u64::from(p) * sorted.len() as u64).div_ceil(100).max(1);
    sorted[(rank as usize - 1).min(sorted.len() - 1)]
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case(&[], 50, 0)]
    #[case(&[7], 95, 7)]
    #[case(&[1, 2, 3, 4, 5], 50, 3)]
    #[case(&[1, 2, 3, 4, 5], 95, 5)]
    #[case(&[1, 2, 3, 4], 50, 2)]
    #[case(&(1..=20).collect::<Vec<u64>>(), 95, 19)]
    #[case(&(1..=100).collect::<Vec<u64>>(), 95, 95)]
    fn percentiles_use_the_nearest_rank(#[case] sorted: &[u64], #[case] p: u32, #[case] expected: u64) {
        assert_eq!(percentile(sorted, p), expected);
    }
}
