//! Business time in the program's time zone: which days count (weekdays minus
//! holidays) and how a policy duration moves a point in time.
//!
//! Adding business days keeps the wall-clock time; a start outside business
//! days counts from the beginning of the next business day, so adding is
//! monotonic and `a + x + y == a + (x + y)`. Business hours count inside the
//! working day [`DAY_START`, `DAY_END`). Calendar durations ("90 days") add
//! civil days, so a deadline keeps its wall-clock time across DST changes.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};

use crate::config::{PolicyDuration, Sla};

/// When a business day's working hours begin and end, in program time.
pub const DAY_START: Time = Time::constant(9, 0, 0, 0);
pub const DAY_END: Time = Time::constant(17, 0, 0, 0);

/// Longest run of non-business days searched before giving up; a calendar
/// with no business day at all never ends the loop otherwise.
const MAX_CLOSED_RUN: u32 = 366;

#[derive(Debug, Clone)]
pub struct Calendar {
    tz: TimeZone,
    weekdays: Vec<Weekday>,
    holidays: Vec<Date>,
}

impl Calendar {
    pub fn new(tz: TimeZone, weekdays: Vec<Weekday>, mut holidays: Vec<Date>) -> Self {
        holidays.sort();
        holidays.dedup();
        Self {
            tz,
            weekdays,
            holidays,
        }
    }

    pub fn from_config(sla: &Sla, tz: TimeZone) -> Self {
        Self::new(tz, sla.business_days.clone(), sla.holidays.clone())
    }

    pub fn is_business_day(&self, date: Date) -> bool {
        self.weekdays.contains(&date.weekday()) && self.holidays.binary_search(&date).is_err()
    }

    /// The first business day after `date`; `date` itself if the calendar has
    /// no business day within a year (a configuration without any).
    fn next_business_day(&self, date: Date) -> Date {
        let mut d = date;
        for _ in 0..MAX_CLOSED_RUN {
            d = d.tomorrow().unwrap_or(d);
            if self.is_business_day(d) {
                return d;
            }
        }
        date
    }

    fn at(&self, date: Date, time: Time) -> Timestamp {
        date.to_datetime(time)
            .to_zoned_datetime(self.tz.clone())
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::MAX)
    }

    fn zoned(&self, t: Timestamp) -> ZonedDateTime {
        t.to_zoned_datetime(self.tz.clone())
    }

    /// `start` plus `days` business days.
    pub fn add_business_days(&self, start: Timestamp, days: u32) -> Timestamp {
        if days == 0 {
            return start;
        }
        let local = self.zoned(start);
        let (mut date, time) = if self.is_business_day(local.date()) {
            (local.date(), local.time())
        } else {
            (self.next_business_day(local.date()), Time::midnight())
        };
        for _ in 0..days {
            date = self.next_business_day(date);
        }
        self.at(date, time)
    }

    /// `start` plus `hours` working hours of business days.
    pub fn add_business_hours(&self, start: Timestamp, hours: u32) -> Timestamp {
        if hours == 0 {
            return start;
        }
        let local = self.zoned(start);
        let (mut date, mut time) = (local.date(), local.time());
        if !self.is_business_day(date) || time >= DAY_END {
            date = self.next_business_day(date);
            time = DAY_START;
        } else if time < DAY_START {
            time = DAY_START;
        }
        let mut left = jiff::SignedDuration::from_hours(i64::from(hours));
        loop {
            let today = DAY_END.duration_since(time);
            if left <= today {
                let end = time.checked_add(left).unwrap_or(DAY_END);
                return self.at(date, end);
            }
            left -= today;
            date = self.next_business_day(date);
            time = DAY_START;
        }
    }

    /// `start` plus a policy duration.
    pub fn add(&self, start: Timestamp, duration: &PolicyDuration) -> Timestamp {
        match duration {
            PolicyDuration::BusinessDays(n) => self.add_business_days(start, *n),
            PolicyDuration::BusinessHours(n) => self.add_business_hours(start, *n),
            PolicyDuration::Calendar(span) => self
                .zoned(start)
                .checked_add(*span)
                .map(|z| z.timestamp())
                .unwrap_or(Timestamp::MAX),
        }
    }
}

#[cfg(test)]
mod tests;
