//! Rate limits that hold across a fleet (docs/src/fleet-limits.md): every
//! `serve` process and every `keysmith verify` sharing a store admits from
//! budget leased from it, so that never more than a limit's answers are
//! VALID in any window of its duration, summed over all of them.
//!
//! - `ledger.rs`: the store's rule, which every backend applies in one
//!   transaction (`Store::lease`);
//! - `leases.rs`: a process's leases, admitted from in memory.

pub mod leases;
pub mod ledger;

#[cfg(test)]
mod fleet_tests;
