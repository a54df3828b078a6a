//! The one place that reads the wall clock. Everything else takes a [`Clock`], so the
//! SLA engine and tests can run at any instant they choose, and loops that wait for
//! a due time wait on the same clock they read it from.

use std::future::Future;
use std::pin::Pin;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;

/// A wait for a time on a [`Clock`].
pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// A source of "now".
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;

    /// Completes once `now()` has reached `at` (at once if it has).
    ///
    /// By default a timer for the distance from `now()`: the runtime's timers are
    /// monotonic, so a step of the wall clock (suspend, NTP) makes it early or
    /// late by that step. Callers that care wake up again on their own.
    fn sleep_until(&self, at: Timestamp) -> Sleep<'_> {
        let left = at.duration_since(self.now());
        let left = std::time::Duration::try_from(left).unwrap_or_default();
        Box::pin(tokio::time::sleep(left))
    }
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[expect(
        clippy::disallowed_methods,
        reason = "the single sanctioned wall-clock read"
    )]
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until told to move; for tests and `--now`. Waiting
/// on it ends when [`FixedClock::advance`] reaches the time waited for, never by
/// itself.
#[derive(Debug)]
pub struct FixedClock(watch::Sender<Timestamp>);

impl FixedClock {
    pub fn new(at: Timestamp) -> Self {
        Self(watch::Sender::new(at))
    }

    pub fn advance(&self, by: SignedDuration) {
        self.0
            .send_modify(|now| *now = now.saturating_add(by).unwrap_or(*now));
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.0.borrow()
    }

    fn sleep_until(&self, at: Timestamp) -> Sleep<'_> {
        let mut moved = self.0.subscribe();
        Box::pin(async move {
            // The sender lives as long as `self`, which this future borrows.
            let _ = moved.wait_for(|now| *now >= at).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("time")
    }

    #[tokio::test]
    async fn a_wait_on_the_fixed_clock_ends_when_it_is_advanced_to_the_time() {
        let clock = FixedClock::new(at("2026-11-23T12:00:00Z"));
        let mut wait = clock.sleep_until(at("2026-11-23T12:10:00Z"));
        // Not yet: real time passing does not move this clock.
        assert!(
            tokio::time::timeout(Duration::from_millis(20), &mut wait)
                .await
                .is_err()
        );
        clock.advance(SignedDuration::from_mins(9));
        assert!(
            tokio::time::timeout(Duration::from_millis(20), &mut wait)
                .await
                .is_err()
        );
        clock.advance(SignedDuration::from_mins(1));
        tokio::time::timeout(Duration::from_secs(5), wait)
            .await
            .expect("woken at the time");
    }

    #[tokio::test]
    async fn a_wait_for_a_past_time_ends_at_once() {
        let clock = FixedClock::new(at("2026-11-23T12:00:00Z"));
        tokio::time::timeout(
            Duration::from_secs(5),
            clock.sleep_until(at("2026-11-23T11:00:00Z")),
        )
        .await
        .expect("past");
        tokio::time::timeout(
            Duration::from_secs(5),
            SystemClock.sleep_until(at("2000-01-01T00:00:00Z")),
        )
        .await
        .expect("past");
    }
}
