//! `GET /metrics`: counters kept with atomics, shown in the Prometheus text
//! format. Nothing here holds a key: labels are codes, never input.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::verify::Code;

const CODES: [Code; 9] = [
    Code::Valid,
    Code::Malformed,
    Code::NotFound,
    Code::Disabled,
    Code::Expired,
    Code::WrongService,
    Code::InsufficientScope,
    Code::UsageExceeded,
    Code::RateLimited,
];

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0,
];

#[derive(Default)]
pub struct Metrics {
    verifications: [AtomicU64; CODES.len()],
    latency: [AtomicU64; BUCKETS.len() + 1],
    latency_sum_micros: AtomicU64,
    pub pending_uses: AtomicU64,
    pub flushed_uses: AtomicU64,
    pub store_errors: AtomicU64,
    pub refused_connections: AtomicU64,
    pub open_connections: AtomicU64,
    pub access_log_dropped: AtomicU64,
    pub lease_calls: AtomicU64,
    pub lease_waits: AtomicU64,
}

impl Metrics {
    pub fn verified(&self, code: Code) {
        let i = CODES.iter().position(|c| *c == code).unwrap_or(0);
        self.verifications[i].fetch_add(1, Relaxed);
    }

    /// One verification request's time, from arrival to answer.
    pub fn took(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let i = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        self.latency[i].fetch_add(1, Relaxed);
        self.latency_sum_micros
            .fetch_add(elapsed.as_micros() as u64, Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::with_capacity(2048);
        let _ = self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) -> std::fmt::Result {
        writeln!(
            out,
            "# HELP keysmith_verifications_total Keys verified, by outcome."
        )?;
        writeln!(out, "# TYPE keysmith_verifications_total counter")?;
        for (code, n) in CODES.iter().zip(&self.verifications) {
            writeln!(
                out,
                "keysmith_verifications_total{{code=\"{}\"}} {}",
                code.as_str(),
                n.load(Relaxed)
            )?;
        }
        writeln!(
            out,
            "# HELP keysmith_request_duration_seconds Time from a verification request's arrival to its answer."
        )?;
        writeln!(out, "# TYPE keysmith_request_duration_seconds histogram")?;
        let mut cumulative = 0;
        for (i, n) in self.latency.iter().enumerate() {
            cumulative += n.load(Relaxed);
            match BUCKETS.get(i) {
                Some(b) => writeln!(
                    out,
                    "keysmith_request_duration_seconds_bucket{{le=\"{b}\"}} {cumulative}"
                )?,
                None => writeln!(
                    out,
                    "keysmith_request_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
                )?,
            }
        }
        writeln!(
            out,
            "keysmith_request_duration_seconds_sum {}",
            self.latency_sum_micros.load(Relaxed) as f64 / 1e6
        )?;
        writeln!(out, "keysmith_request_duration_seconds_count {cumulative}")?;
        let plain = [
            (
                "keysmith_pending_uses",
                "gauge",
                "Uses counted and not yet written to the store.",
                &self.pending_uses,
            ),
            (
                "keysmith_flushed_uses_total",
                "counter",
                "Uses written to the store.",
                &self.flushed_uses,
            ),
            (
                "keysmith_store_errors_total",
                "counter",
                "Store operations that failed.",
                &self.store_errors,
            ),
            (
                "keysmith_refused_connections_total",
                "counter",
                "Connections closed at once: the limit of open connections was reached.",
                &self.refused_connections,
            ),
            (
                "keysmith_open_connections",
                "gauge",
                "Connections open now.",
                &self.open_connections,
            ),
            (
                "keysmith_rate_lease_calls_total",
                "counter",
                "Store transactions leasing or giving back rate-limit budget (docs/src/fleet-limits.md).",
                &self.lease_calls,
            ),
            (
                "keysmith_rate_lease_waits_total",
                "counter",
                "Requests that waited for a store transaction leasing rate-limit budget: none of their leases had room.",
                &self.lease_waits,
            ),
            (
                "keysmith_access_log_dropped_total",
                "counter",
                "Access log lines dropped: the writer was too far behind.",
                &self.access_log_dropped,
            ),
        ];
        for (name, kind, help, value) in plain {
            writeln!(out, "# HELP {name} {help}")?;
            writeln!(out, "# TYPE {name} {kind}")?;
            writeln!(out, "{name} {}", value.load(Relaxed))?;
        }
        Ok(())
    }
}
