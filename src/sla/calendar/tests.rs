use jiff::civil::date;
use proptest::prelude::*;

use jiff::ToSpan;

use super::*;

fn berlin() -> Calendar {
    use Weekday::*;
    Calendar::new(
        TimeZone::get("Europe/Berlin").expect("tzdata"),
        vec![Monday, Tuesday, Wednesday, Thursday, Friday],
        vec![
            date(2026, 12, 24),
            date(2026, 12, 25),
            date(2026, 12, 31),
            date(2027, 1, 1),
        ],
    )
}

fn at(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn local(cal: &Calendar, t: Timestamp) -> String {
    cal.zoned(t).strftime("%Y-%m-%d %H:%M %Z").to_string()
}

#[test]
fn business_days_skip_weekends_and_holiday_runs() {
    let cal = berlin();
    // Fri 18 Dec + 5: Mon 21, Tue 22, Wed 23, (24, 25 holidays, weekend) Mon 28, Tue 29.
    let t = at("2026-12-18T10:00:00+01:00");
    assert_eq!(
        local(&cal, cal.add_business_days(t, 5)),
        "2026-12-29 10:00 CET"
    );
    // Across the year end: Wed 30 Dec + 1 skips 31 Dec and 1 Jan.
    let t = at("2026-12-30T15:30:00+01:00");
    assert_eq!(
        local(&cal, cal.add_business_days(t, 1)),
        "2027-01-04 15:30 CET"
    );
    // From a Saturday, counting starts with Monday.
    let t = at("2026-11-28T11:00:00+01:00");
    assert_eq!(
        local(&cal, cal.add_business_days(t, 1)),
        "2026-12-01 00:00 CET"
    );
}

#[test]
fn wall_clock_time_survives_dst_changes() {
    let cal = berlin();
    // Fri 27 Mar 2026 10:00 CET + 1 business day = Mon 30 Mar 10:00 CEST.
    let t = at("2026-03-27T10:00:00+01:00");
    assert_eq!(
        local(&cal, cal.add_business_days(t, 1)),
        "2026-03-30 10:00 CEST"
    );
    let ninety = PolicyDuration::Calendar(90.days());
    let t = at("2026-01-15T12:00:00+01:00");
    assert_eq!(local(&cal, cal.add(t, &ninety)), "2026-04-15 12:00 CEST");
}

#[test]
fn business_hours_stay_inside_working_days() {
    let cal = berlin();
    // Fri 16:00 + 2 h: one hour on Friday, one on Monday from 09:00.
    let t = at("2026-11-27T16:00:00+01:00");
    assert_eq!(
        local(&cal, cal.add_business_hours(t, 2)),
        "2026-11-30 10:00 CET"
    );
    // Before the day starts, counting begins at 09:00; after it ends, the next day.
    let t = at("2026-11-26T07:00:00+01:00");
    assert_eq!(
        local(&cal, cal.add_business_hours(t, 8)),
        "2026-11-26 17:00 CET"
    );
    let t = at("2026-11-26T18:00:00+01:00");
    assert_eq!(
        local(&cal, cal.add_business_hours(t, 1)),
        "2026-11-27 10:00 CET"
    );
}

#[test]
fn a_calendar_without_business_days_does_not_hang() {
    let cal = Calendar::new(TimeZone::UTC, vec![], vec![]);
    let t = at("2026-11-23T10:00:00Z");
    let _ = cal.add_business_days(t, 3);
    let _ = cal.add_business_hours(t, 3);
}

fn instant() -> impl Strategy<Value = Timestamp> {
    // 2025-01-01 to 2029-01-01, so DST changes, year ends and the holidays fall inside.
    (1_735_689_600i64..1_861_920_000i64).prop_map(|s| Timestamp::from_second(s).expect("in range"))
}

proptest! {
    #[test]
    fn adding_business_days_obeys_the_laws(a in instant(), b in instant(), x in 0u32..40, y in 0u32..40) {
        let cal = berlin();
        let ax = cal.add_business_days(a, x);
        if x > 0 {
            prop_assert!(cal.is_business_day(cal.zoned(ax).date()), "{}", local(&cal, ax));
        }
        prop_assert_eq!(cal.add_business_days(ax, y), cal.add_business_days(a, x + y));
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(cal.add_business_days(lo, x) <= cal.add_business_days(hi, x));
        prop_assert!(ax >= a);
    }

    #[test]
    fn adding_business_hours_obeys_the_laws(a in instant(), b in instant(), x in 0u32..60, y in 0u32..60) {
        let cal = berlin();
        let ax = cal.add_business_hours(a, x);
        if x > 0 {
            let z = cal.zoned(ax);
            prop_assert!(cal.is_business_day(z.date()), "{}", local(&cal, ax));
            prop_assert!(z.time() > DAY_START && z.time() <= DAY_END, "{}", local(&cal, ax));
        }
        prop_assert_eq!(cal.add_business_hours(ax, y), cal.add_business_hours(a, x + y));
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(cal.add_business_hours(lo, x) <= cal.add_business_hours(hi, x));
    }
}

#[test]
fn a_dst_change_at_midnight_resolves_to_the_first_valid_time() {
    // In Santiago, clocks jump from Saturday 24:00 to Sunday 01:00 on 6 Sep
    // 2026: a count that begins at Sunday's midnight begins at 01:00.
    let cal = Calendar::new(
        TimeZone::get("America/Santiago").expect("tzdata"),
        vec![Weekday::Sunday],
        vec![],
    );
    let saturday = at("2026-09-05T12:00:00-04:00");
    let sunday = cal.advance(saturday, 1, Unit::BusinessDays);
    assert_eq!(local(&cal, sunday), "2026-09-06 01:00 -03");
    assert_eq!(
        local(&cal, cal.add_business_days(saturday, 1)),
        "2026-09-13 00:00 -03"
    );
    assert!(cal.add_business_days(saturday, 1) > sunday);
}

#[test]
fn between_counts_what_advance_adds() {
    let cal = berlin();
    // Fri 16:00 to Mon 10:00: 2 working hours, or 8 h + 10 h of business days.
    let (fri, mon) = (
        at("2026-11-27T16:00:00+01:00"),
        at("2026-11-30T10:00:00+01:00"),
    );
    assert_eq!(cal.between(fri, mon, Unit::BusinessHours), 2 * 3600);
    assert_eq!(cal.between(fri, mon, Unit::BusinessDays), 18 * 3600);
    assert_eq!(cal.advance(fri, 18 * 3600, Unit::BusinessDays), mon);
    assert_eq!(cal.between(mon, fri, Unit::BusinessDays), 0);
    // Working hours from the config.
    let short = Calendar::with_hours(
        TimeZone::get("Europe/Berlin").expect("tzdata"),
        vec![Weekday::Monday, Weekday::Friday],
        vec![],
        (Time::constant(8, 0, 0, 0), Time::constant(12, 0, 0, 0)),
    );
    assert_eq!(
        local(&short, short.add_business_hours(fri, 5)),
        "2026-12-04 09:00 CET"
    );
}

proptest! {
    #[test]
    fn advancing_by_what_lies_between_comes_back(
        a in 0i64..(4 * 365 * 86_400),
        s in 0i64..(60 * 86_400),
        hours in proptest::bool::ANY,
    ) {
        let cal = berlin();
        let unit = if hours { Unit::BusinessHours } else { Unit::BusinessDays };
        let start = at("2025-01-01T00:00:00Z") + jiff::SignedDuration::from_secs(a);
        let end = cal.advance(start, s, unit);
        prop_assert_eq!(cal.between(start, end, unit), s);
        // And between is additive over a point in the middle.
        let mid = cal.advance(start, s / 2, unit);
        prop_assert_eq!(
            cal.between(start, mid, unit) + cal.between(mid, end, unit),
            cal.between(start, end, unit)
        );
    }
}
