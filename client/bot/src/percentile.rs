//! The nearest-rank percentile the reports give (latency p50, p95).

/// The value `p` (0–1) of the way through `values` once sorted; None if empty.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some(sorted[((sorted.len() - 1) as f64 * p).round() as usize])
}
