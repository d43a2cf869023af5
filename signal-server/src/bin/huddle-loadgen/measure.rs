//! What the load generator reads off the server process (from /proc, Linux)
//! and the table row it prints for one run.

use anyhow::{Context, Result};

/// Resident memory of a process in KiB.
pub fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("VmRSS value")?
        .parse()?)
}

/// User + system CPU time of a process, in seconds.
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after_name = &stat[stat.rfind(')').context("stat format")? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    // USER_HZ, the unit of /proc/PID/stat times: 100 on every Linux this runs on.
    Ok(ticks as f64 / 100.0)
}

/// One run's figures.
pub struct Outcome {
    pub server: &'static str,
    pub clients: usize,
    pub rooms: usize,
    pub sent: u64,
    pub delivered: u64,
    pub expected: u64,
    pub seconds: f64,
    pub cpu_seconds: f64,
    /// Fan-out latencies in microseconds, sorted.
    pub latencies_us: Vec<u32>,
    pub rss_idle_kib: u64,
    pub kib_per_connection: f64,
    /// RSS samples during the chat phase (the soak), KiB.
    pub rss_samples_kib: Vec<u64>,
}

impl Outcome {
    fn percentile_ms(&self, p: f64) -> f64 {
        let all = &self.latencies_us;
        if all.is_empty() {
            return f64::NAN;
        }
        all[((all.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0
    }

    pub fn header() -> &'static str {
        "| server | clients | rooms | chat msgs sent | delivered (of expected) | delivered/s | CPU µs per delivered msg | p50 ms | p95 ms | p99 ms | server CPU | RSS idle MiB | KiB per idle connection |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|"
    }

    pub fn row(&self) -> String {
        format!(
            "| {} | {} | {} | {} | {} ({}) | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {:.0} % | {:.1} | {:.1} |",
            self.server,
            self.clients,
            self.rooms,
            self.sent,
            self.delivered,
            self.expected,
            self.delivered as f64 / self.seconds,
            self.cpu_seconds * 1e6 / self.delivered.max(1) as f64,
            self.percentile_ms(0.50),
            self.percentile_ms(0.95),
            self.percentile_ms(0.99),
            self.cpu_seconds / self.seconds * 100.0,
            self.rss_idle_kib as f64 / 1024.0,
            self.kib_per_connection,
        )
    }
}
