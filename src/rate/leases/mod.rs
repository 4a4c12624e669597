//! A process's side of fleet-wide rate limits (docs/src/fleet-limits.md):
//! admissions answered from memory, out of budget leased from the store.
//!
//! Each subject (a key's window, or an owner's) holds the leases the store
//! granted it (`ledger`). An admission takes one place of the oldest lease
//! with room, as a reservation the verdict then commits or cancels; a
//! cancelled place goes back to its lease while the lease is held. A
//! lease is used only until its deadline: the moment, by this process's
//! clock, that the store's `until` could at the earliest come, counted from
//! when the ask was sent. A lease that is used up, past its deadline, idle,
//! or of a limit that changed is closed: nothing more is taken from it,
//! and it is given back with the places it used (cancelled ones after the
//! close included: counted, never lost) and when, in up to `PIECES`
//! pieces, each of about a `PIECES`th of its count or of its time, so that
//! the store frees each part a window after it was used: at once when it
//! was granted near the limit, else with the subject's next ask.
//!
//! With no lease to take from, an admission is refused when the store said
//! there is nothing left until a moment still to come, and otherwise needs
//! a lease (`Admit::NeedsLease`): the caller asks the store, on a thread
//! that may wait for it, and tries again. Before that happens to a busy
//! subject, `asks` renews its lease ahead, sized to its recent rate.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::ledger::{Ask, Budget, LeaseAnswer, LeaseAsk, Piece, Returned};
use crate::model::RateLimit;

/// The longest a process leases for, whatever the window: what a process
/// that dies holds is counted at most this long plus a window.
pub const LONGEST_SPAN: Duration = Duration::from_secs(60);

/// A lease is given back in at most this many pieces: the finer, the
/// sooner its budget is back after a burst (a sixteenth of a 500-place
/// lease spanned 10 ms of a burst, a lag of 10 ms at every window's turn).
const PIECES: usize = 64;

/// The answer of `Leases::admit`.
#[derive(Debug, PartialEq, Eq)]
pub enum Admit {
    Admitted(Admission),
    /// Nothing left in any window reaching now, for this long at least.
    Refused(Duration),
    /// No lease with room: ask the store (`ask_now`), then admit again.
    NeedsLease,
}

/// A place reserved in one of a subject's leases, for one answer still
/// being decided: `commit` it when the answer is VALID, `cancel` it when it
/// is not. One dropped without either stays used.
#[must_use = "commit or cancel an admission once the answer is known"]
#[derive(Debug, PartialEq, Eq)]
pub struct Admission {
    subject: String,
    serial: u64,
    piece: usize,
}

#[derive(Default)]
pub struct Leases {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    subjects: HashMap<String, Subject>,
    next_serial: u64,
    /// Subjects an admission found running low or with leases to give
    /// back: `asks` looks at these at once.
    due: Vec<String>,
    /// When each subject next needs a look that no admission will flag (a
    /// lease past its deadline or idle, to give back; a subject to
    /// forget), soonest first. An entry is stale when its time is not
    /// the subject's `looks_at`. Ten thousand keys are too many to look
    /// at on every renewal tick: a scan of all every 250 ms was 4.7% of
    /// serve's CPU in cache misses (BENCHMARKS.md).
    looks: BinaryHeap<Reverse<(Instant, String)>>,
    /// When `looks` was last taken from: every `LOOK_AT_DUE_EVERY`, so
    /// that what they give back goes in a few large store calls, not a
    /// small one on every tick (each call is a durable commit).
    looked: Option<Instant>,
}

/// How often `asks` takes the looks whose time has come.
const LOOK_AT_DUE_EVERY: Duration = Duration::from_millis(250);

/// The least time between two looks at a subject its time brought up.
const LOOK_AGAIN_AFTER: Duration = Duration::from_millis(10);

struct Subject {
    rate: RateLimit,
    held: VecDeque<Held>,
    /// Closed leases to give back.
    closed: Vec<Returned>,
    /// One of `closed` was granted near the limit: other processes may be
    /// waiting for what it left, so it goes back at once. Those granted
    /// far from it go back with the subject's next ask (its renewal), or
    /// when nothing more is held: a store call saved, for budget nobody
    /// lacks (BENCHMARKS.md).
    give_back_soon: bool,
    refused_until: Option<Instant>,
    /// Admissions since `since`: the rate the next ask is sized to.
    admitted: u64,
    since: Instant,
    last_used: Instant,
    /// What the last grant gave: renewed ahead when less than half of it
    /// is left.
    last_grant: u32,
    /// An ask for it is on its way to the store.
    asking: bool,
    /// It is in `State::due`.
    due: bool,
    /// Its entry in `State::looks`.
    looks_at: Option<Instant>,
}

struct Held {
    id: i64,
    serial: u64,
    count: u32,
    used: u32,
    deadline: Instant,
    /// How long it was granted for (the store may grant less than asked).
    lasts: Duration,
    /// Granted near the limit (`Grant::near_limit`).
    near_limit: bool,
    /// The store's clock at the grant, and when the ask was sent: a moment
    /// of this process is at the latest `granted_now` plus the time since
    /// `sent` on the store's clock.
    granted_now: i64,
    sent: Instant,
    /// Its admissions so far, in pieces, oldest first.
    made: Vec<Made>,
}

/// A piece of a lease's admissions.
struct Made {
    /// Admissions in it, cancelled ones taken off.
    kept: u32,
    /// Admissions in it, cancelled ones included: when it is full.
    taken: u32,
    first: Instant,
    last: Instant,
}

impl Held {
    /// Takes one place at `now`; the piece it went to.
    fn take(&mut self, now: Instant) -> usize {
        self.used += 1;
        let per_piece = (self.count / PIECES as u32).max(1);
        let full = |m: &Made| {
            m.taken >= per_piece
                || now.saturating_duration_since(m.first) >= self.lasts / PIECES as u32
        };
        if self
            .made
            .last()
            .is_none_or(|m| full(m) && self.made.len() < PIECES)
        {
            self.made.push(Made {
                kept: 0,
                taken: 0,
                first: now,
                last: now,
            });
        }
        let last = self.made.len() - 1;
        let m = &mut self.made[last];
        m.kept += 1;
        m.taken += 1;
        m.last = now;
        last
    }

    /// What it admitted, for the store: each piece until its last
    /// admission, reckoned on the store's clock (rounded up: never sooner).
    fn returned(&self) -> Returned {
        let until = |at: Instant| {
            let micros = at.saturating_duration_since(self.sent).as_micros();
            self.granted_now + i64::try_from(micros.div_ceil(1000)).unwrap_or(i64::MAX / 2)
        };
        Returned {
            id: self.id,
            pieces: self
                .made
                .iter()
                .filter(|m| m.kept > 0)
                .map(|m| Piece {
                    count: m.kept,
                    until: until(m.last),
                })
                .collect(),
        }
    }
}

impl Subject {
    fn new(rate: RateLimit, now: Instant) -> Subject {
        Subject {
            rate,
            held: VecDeque::new(),
            closed: Vec::new(),
            give_back_soon: false,
            refused_until: None,
            admitted: 0,
            since: now,
            last_used: now,
            last_grant: 0,
            asking: false,
            due: false,
            looks_at: None,
        }
    }

    /// When it next needs a look no admission flags: as its first lease
    /// held passes its deadline or it has been idle long enough to give
    /// back (`look`); with nothing held, when it is to be forgotten.
    fn next_look(&self) -> Instant {
        let first_deadline = self.held.iter().map(|h| h.deadline).min();
        match first_deadline {
            Some(deadline) => deadline.min(self.last_used + self.span() / 4),
            None => self.last_used + self.span(),
        }
    }

    fn close_all(&mut self) {
        for h in self.held.drain(..) {
            self.give_back_soon |= h.near_limit;
            self.closed.push(h.returned());
        }
    }

    /// Closes the leases used up or past their deadline.
    fn close_spent(&mut self, now: Instant) {
        let (closed, soon) = (&mut self.closed, &mut self.give_back_soon);
        self.held.retain(|h| {
            let spent = h.used >= h.count || h.deadline <= now;
            if spent {
                *soon |= h.near_limit;
                closed.push(h.returned());
            }
            !spent
        });
    }

    /// Whether what it closed goes back now, in a call of its own, rather
    /// than with its next ask (`give_back_soon`).
    fn gives_back_now(&self) -> bool {
        !self.closed.is_empty() && (self.give_back_soon || self.held.is_empty())
    }

    fn room(&self) -> u64 {
        self.held.iter().map(|h| u64::from(h.count - h.used)).sum()
    }

    fn budget(&self) -> Budget {
        budget(self.rate)
    }

    /// How long a lease is asked for: a window, at most `LONGEST_SPAN`.
    fn span(&self) -> Duration {
        Duration::from_secs(u64::from(self.rate.per_seconds.max(1))).min(LONGEST_SPAN)
    }

    /// How many to ask for: what the recent rate uses in a span (at least
    /// one); with no rate seen yet, a sixteenth of the limit.
    fn want(&self, now: Instant) -> u32 {
        let limit = self.rate.limit.max(1);
        if self.admitted == 0 {
            return (limit / 16).max(1);
        }
        let elapsed = now
            .saturating_duration_since(self.since)
            .max(Duration::from_millis(10));
        let per_span = self.admitted as f64 * self.span().as_secs_f64() / elapsed.as_secs_f64();
        (per_span.ceil() as u64).clamp(1, u64::from(limit)) as u32
    }

    /// Whether the leases held will run out before long: under half of the
    /// last grant left, or under a quarter of the time the newest was
    /// granted for (once renewed, the older ones' time does not matter).
    /// A quarter of a lease is seconds for most windows, a store call is
    /// milliseconds: renewed at half, 10,000 keys far from their limits
    /// were renewed half again as often (BENCHMARKS.md, stop 37).
    fn running_low(&self, now: Instant) -> bool {
        2 * self.room() < u64::from(self.last_grant)
            || self
                .held
                .back()
                .is_some_and(|h| h.deadline.saturating_duration_since(now) < h.lasts / 4)
    }
}

/// Makes sure `looks` holds an entry for `subject` no later than its
/// next look, and not before `not_before`.
fn schedule(
    looks: &mut BinaryHeap<Reverse<(Instant, String)>>,
    subject: &str,
    s: &mut Subject,
    not_before: Instant,
) {
    let at = s.next_look().max(not_before);
    if s.looks_at.is_none_or(|scheduled| at < scheduled) {
        s.looks_at = Some(at);
        looks.push(Reverse((at, subject.to_owned())));
    }
}

/// A rate limit in the ledger's terms.
pub fn budget(rate: RateLimit) -> Budget {
    Budget {
        limit: rate.limit,
        window_ms: i64::from(rate.per_seconds.max(1)) * 1000,
    }
}

impl Leases {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reserves one place for `subject` under `rate` at `now`.
    pub fn admit(&self, subject: &str, rate: RateLimit, now: Instant) -> Admit {
        let mut state = self.state();
        let State {
            subjects,
            due,
            looks,
            ..
        } = &mut *state;
        let s = match subjects.get_mut(subject) {
            Some(s) => s,
            None => {
                let s = subjects
                    .entry(subject.to_owned())
                    .or_insert_with(|| Subject::new(rate, now));
                schedule(looks, subject, s, now);
                s
            }
        };
        if s.rate != rate {
            // Leases of another limit are not this one's.
            s.close_all();
            s.refused_until = None;
            s.rate = rate;
            s.last_grant = 0;
        }
        s.close_spent(now);
        if let Some(h) = s.held.iter_mut().find(|h| h.used < h.count) {
            let piece = h.take(now);
            let serial = h.serial;
            s.admitted += 1;
            s.last_used = now;
            if !s.due && !s.asking && (s.gives_back_now() || s.running_low(now)) {
                s.due = true;
                due.push(subject.to_owned());
            }
            return Admit::Admitted(Admission {
                subject: subject.to_owned(),
                serial,
                piece,
            });
        }
        if !s.due && !s.asking && s.gives_back_now() {
            s.due = true;
            due.push(subject.to_owned());
        }
        match s.refused_until {
            Some(until) if until > now => Admit::Refused(until - now),
            _ => Admit::NeedsLease,
        }
    }

    /// The answer the admission was made for is VALID: its place stays used.
    pub fn commit(&self, admission: Admission) {
        drop(admission);
    }

    /// The answer the admission was made for is not VALID after all: its
    /// place is free again, if its lease is still held.
    pub fn cancel(&self, admission: Admission) {
        let mut state = self.state();
        if let Some(s) = state.subjects.get_mut(&admission.subject)
            && let Some(h) = s.held.iter_mut().find(|h| h.serial == admission.serial)
        {
            h.used -= 1;
            h.made[admission.piece].kept -= 1;
            s.admitted = s.admitted.saturating_sub(1);
        }
    }

    /// The ask for `subject` when an admission needs a lease now, with
    /// what it gives back; `None` while another ask for it is on its way
    /// (then wait a moment, and admit again).
    pub fn ask_now(&self, subject: &str, now: Instant) -> Option<LeaseAsk> {
        let mut state = self.state();
        let s = state.subjects.get_mut(subject)?;
        if s.asking {
            return None;
        }
        // A request waits for this lease: the subject is in use, and its
        // lease must not be given back for idleness before the request
        // takes its place.
        s.last_used = now;
        s.close_spent(now);
        Some(Self::ask(subject, s, now))
    }

    fn ask(subject: &str, s: &mut Subject, now: Instant) -> LeaseAsk {
        s.asking = true;
        let ask = LeaseAsk {
            subject: subject.to_owned(),
            budget: s.budget(),
            ask: Ask {
                want: s.want(now),
                span_ms: s.span().as_millis() as i64,
            },
            returns: std::mem::take(&mut s.closed),
        };
        s.give_back_soon = false;
        s.admitted = 0;
        s.since = now;
        ask
    }

    /// The asks to make ahead of need: renewals of busy subjects running
    /// low, and closed leases to give back (idle ones closed here: unused
    /// for a quarter of their span, they hold budget other processes could
    /// use). Subjects with nothing held, nothing to give back and no use
    /// for a span are forgotten. Looks at the subjects admissions flagged,
    /// and, every `LOOK_AT_DUE_EVERY`, at those whose time for a look
    /// (`Subject::next_look`) has come.
    pub fn asks(&self, now: Instant) -> Vec<LeaseAsk> {
        let mut state = self.state();
        let State {
            subjects,
            due,
            looks,
            looked,
            ..
        } = &mut *state;
        let mut asks = Vec::new();
        for subject in due.drain(..) {
            if let Some(s) = subjects.get_mut(&subject) {
                Self::look(&subject, s, now, &mut asks);
            }
        }
        if looked.is_some_and(|at| now.saturating_duration_since(at) < LOOK_AT_DUE_EVERY) {
            return asks;
        }
        *looked = Some(now);
        while let Some(Reverse((at, _))) = looks.peek()
            && *at <= now
        {
            let Some(Reverse((at, subject))) = looks.pop() else {
                break;
            };
            let Some(s) = subjects.get_mut(&subject) else {
                continue;
            };
            if s.looks_at != Some(at) {
                continue; // stale: the subject has a sooner entry, or had one
            }
            s.looks_at = None;
            if Self::look(&subject, s, now, &mut asks) {
                // Not again on this tick: a lease past its deadline whose
                // ask is on its way waits for the answer.
                schedule(looks, &subject, s, now + LOOK_AGAIN_AFTER);
            } else {
                subjects.remove(&subject);
            }
        }
        asks
    }

    /// `asks` for one subject; whether to keep it.
    fn look(subject: &str, s: &mut Subject, now: Instant, asks: &mut Vec<LeaseAsk>) -> bool {
        s.due = false;
        if s.asking {
            return true;
        }
        s.close_spent(now);
        let idle = now.saturating_duration_since(s.last_used);
        if idle >= s.span() / 4 {
            s.close_all();
        }
        if !s.held.is_empty() && s.running_low(now) {
            asks.push(Self::ask(subject, s, now));
        } else if s.gives_back_now() {
            let mut give_back = Self::ask(subject, s, now);
            give_back.ask.want = 0;
            asks.push(give_back);
        }
        s.asking || !s.held.is_empty() || idle < s.span()
    }

    /// Takes in the store's answers to `asks` (sent at `sent`, answered at
    /// `received`), or its failure: then nothing was granted, and what was
    /// given back stays counted by the store (at worst until its leases'
    /// ends and a window).
    pub fn answered(
        &self,
        asks: &[LeaseAsk],
        answers: Option<&[LeaseAnswer]>,
        sent: Instant,
        received: Instant,
    ) {
        let mut state = self.state();
        let State {
            subjects,
            next_serial,
            due,
            looks,
            ..
        } = &mut *state;
        for (i, ask) in asks.iter().enumerate() {
            let Some(s) = subjects.get_mut(&ask.subject) else {
                continue;
            };
            s.asking = false;
            let Some(answer) = answers.and_then(|a| a.get(i)) else {
                continue;
            };
            let grant = answer.grant;
            if ask.budget != s.budget() {
                // The limit changed while asking: give it straight back.
                if let Some(id) = answer.id {
                    s.closed.push(Returned {
                        id,
                        pieces: Vec::new(),
                    });
                    s.give_back_soon = true;
                    if !s.due {
                        s.due = true;
                        due.push(ask.subject.clone());
                    }
                }
                continue;
            }
            match answer.id {
                Some(id) if grant.count > 0 => {
                    let lasts = Duration::from_millis((grant.until - grant.now).max(0) as u64);
                    *next_serial += 1;
                    s.held.push_back(Held {
                        id,
                        serial: *next_serial,
                        count: grant.count,
                        used: 0,
                        deadline: sent + lasts,
                        lasts,
                        near_limit: grant.near_limit,
                        granted_now: grant.now,
                        sent,
                        made: Vec::new(),
                    });
                    s.last_grant = grant.count;
                    s.refused_until = None;
                    schedule(looks, &ask.subject, s, received);
                }
                _ if ask.ask.want > 0 => {
                    let wait = Duration::from_millis(grant.retry_after_ms.max(1) as u64);
                    s.refused_until = Some(received + wait);
                }
                _ => {}
            }
        }
    }

    /// Everything held, closed, to give back at a graceful stop.
    pub fn give_back_all(&self) -> Vec<LeaseAsk> {
        let mut state = self.state();
        let mut asks = Vec::new();
        for (subject, s) in &mut state.subjects {
            s.close_all();
            if !s.closed.is_empty() {
                asks.push(LeaseAsk {
                    subject: subject.clone(),
                    budget: s.budget(),
                    ask: Ask {
                        want: 0,
                        span_ms: 0,
                    },
                    returns: std::mem::take(&mut s.closed),
                });
            }
        }
        asks
    }
}

#[cfg(test)]
mod tests;
