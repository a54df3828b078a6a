//! The SLA engine (SPEC §6): the business calendar, each report's deadlines
//! computed from its events, and the tick that sends reminders, escalations
//! and the digest through the outbox.

pub mod calendar;
pub mod deadlines;

pub use calendar::{Calendar, Unit};
pub use deadlines::{Deadline, Kind, Policy, Status, Timeline};
