//! The SLA engine (SPEC §6). So far: the business calendar that every deadline
//! is computed in.

pub mod calendar;

pub use calendar::Calendar;
