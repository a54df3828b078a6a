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
use serde::Serialize;

use crate::config::{DEFAULT_WORKING_HOURS, PolicyDuration, Sla};

/// Default business hours of a business day, in program time.
pub const DAY_START: Time = DEFAULT_WORKING_HOURS.0;
pub const DAY_END: Time = DEFAULT_WORKING_HOURS.1;

const DAY_SECONDS: i64 = 86_400;

/// Longest run of non-business days searched before giving up; a calendar
/// with no business day at all never ends the loop otherwise.
const MAX_CLOSED_RUN: u32 = 366;

/// How a deadline's time is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unit {
    /// Whole business days (the wall clock of each business day).
    BusinessDays,
    /// The working hours of business days.
    BusinessHours,
    /// Elapsed time.
    Calendar,
}

impl Unit {
    pub fn of(duration: &PolicyDuration) -> Self {
        match duration {
            PolicyDuration::BusinessDays(_) => Self::BusinessDays,
            PolicyDuration::BusinessHours(_) => Self::BusinessHours,
            PolicyDuration::Calendar(_) => Self::Calendar,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Calendar {
    tz: TimeZone,
    weekdays: Vec<Weekday>,
    holidays: Vec<Date>,
    day_start: Time,
    day_end: Time,
}

/// Seconds since midnight of a wall-clock time.
fn seconds_of(time: Time) -> i64 {
    if time == Time::MAX {
        return DAY_SECONDS;
    }
    i64::from(time.hour()) * 3600 + i64::from(time.minute()) * 60 + i64::from(time.second())
}

fn time_of(seconds: i64) -> Time {
    if seconds >= DAY_SECONDS {
        return Time::MAX;
    }
    let s = seconds.max(0);
    Time::new((s / 3600) as i8, (s / 60 % 60) as i8, (s % 60) as i8, 0).unwrap_or(Time::MAX)
}

impl Calendar {
    pub fn new(tz: TimeZone, weekdays: Vec<Weekday>, holidays: Vec<Date>) -> Self {
        Self::with_hours(tz, weekdays, holidays, (DAY_START, DAY_END))
    }

    pub fn with_hours(
        tz: TimeZone,
        weekdays: Vec<Weekday>,
        mut holidays: Vec<Date>,
        (day_start, day_end): (Time, Time),
    ) -> Self {
        holidays.sort();
        holidays.dedup();
        Self {
            tz,
            weekdays,
            holidays,
            day_start,
            day_end,
        }
    }

    pub fn from_config(sla: &Sla, tz: TimeZone) -> Self {
        Self::with_hours(
            tz,
            sla.business_days.clone(),
            sla.holidays.clone(),
            sla.working_hours,
        )
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
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

    /// The instant of a wall-clock time; a time skipped by a DST change
    /// resolves to the instant after the gap.
    fn at(&self, date: Date, time: Time) -> Timestamp {
        let (date, time) = if time == Time::MAX {
            (date.tomorrow().unwrap_or(date), Time::midnight())
        } else {
            (date, time)
        };
        date.to_datetime(time)
            .to_zoned_datetime(self.tz.clone())
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::MAX)
    }

    pub fn zoned(&self, t: Timestamp) -> ZonedDateTime {
        t.to_zoned_datetime(self.tz.clone())
    }

    /// The counted part of a business day, in seconds since midnight.
    fn window(&self, unit: Unit) -> (i64, i64) {
        match unit {
            Unit::BusinessHours => (seconds_of(self.day_start), seconds_of(self.day_end)),
            Unit::BusinessDays | Unit::Calendar => (0, DAY_SECONDS),
        }
    }

    /// Counted seconds between `a` and `b` (zero unless `a < b`): wall-clock
    /// seconds inside the unit's window of business days, or elapsed seconds.
    pub fn between(&self, a: Timestamp, b: Timestamp, unit: Unit) -> i64 {
        if b <= a {
            return 0;
        }
        if unit == Unit::Calendar {
            return b.as_second() - a.as_second();
        }
        let (open, close) = self.window(unit);
        let clamp = |s: i64| s.clamp(open, close);
        let (za, zb) = (self.zoned(a), self.zoned(b));
        let (da, db) = (za.date(), zb.date());
        let (sa, sb) = (clamp(seconds_of(za.time())), clamp(seconds_of(zb.time())));
        if da == db {
            return if self.is_business_day(da) { sb - sa } else { 0 };
        }
        let mut total = if self.is_business_day(da) {
            close - sa
        } else {
            0
        };
        let mut d = da.tomorrow().unwrap_or(db);
        while d < db {
            if self.is_business_day(d) {
                total += close - open;
            }
            d = d.tomorrow().unwrap_or(db);
        }
        if self.is_business_day(db) {
            total += sb - open;
        }
        total
    }

    /// `start` plus `seconds` counted as [`between`](Self::between) counts them.
    /// Adding whole days lands at the start of the next business day rather
    /// than at the midnight that ends one; adding hours may end at closing time.
    pub fn advance(&self, start: Timestamp, seconds: i64, unit: Unit) -> Timestamp {
        if seconds <= 0 {
            return start;
        }
        if unit == Unit::Calendar {
            return start
                .checked_add(jiff::SignedDuration::from_secs(seconds))
                .unwrap_or(Timestamp::MAX);
        }
        let (open, close) = self.window(unit);
        let local = self.zoned(start);
        let (mut date, mut at) = (local.date(), seconds_of(local.time()));
        if !self.is_business_day(date) || at >= close {
            date = self.next_business_day(date);
            at = open;
        } else if at < open {
            at = open;
        }
        let mut left = seconds;
        loop {
            let today = close - at;
            let lands_today = match unit {
                Unit::BusinessHours => left <= today,
                _ => left < today,
            };
            if lands_today {
                return self.at(date, time_of(at + left));
            }
            left -= today;
            let next = self.next_business_day(date);
            if next == date {
                return Timestamp::MAX;
            }
            date = next;
            at = open;
        }
    }

    /// `start` plus `days` business days.
    pub fn add_business_days(&self, start: Timestamp, days: u32) -> Timestamp {
        self.advance(start, i64::from(days) * DAY_SECONDS, Unit::BusinessDays)
    }

    /// `start` plus `hours` working hours of business days.
    pub fn add_business_hours(&self, start: Timestamp, hours: u32) -> Timestamp {
        self.advance(start, i64::from(hours) * 3600, Unit::BusinessHours)
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

    /// Whether `due` is no more than `lead` ahead of `now` (in the lead's own
    /// unit): the time to remind.
    pub fn within(&self, now: Timestamp, due: Timestamp, lead: &PolicyDuration) -> bool {
        self.add(now, lead) >= due
    }
}

#[cfg(test)]
mod tests;
