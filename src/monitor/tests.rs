use jiff::SignedDuration;

use super::{DiskSpace, human};

#[test]
fn free_space_is_a_whole_percent_rounded_down_and_never_over_a_hundred() {
    let disk = |available, total| DiskSpace { available, total }.free_percent();
    assert_eq!(disk(99, 1000), 9);
    assert_eq!(disk(100, 1000), 10);
    assert_eq!(disk(1000, 1000), 100);
    // Reported sizes are not trusted to be consistent.
    assert_eq!(disk(2000, 1000), 100);
    assert_eq!(disk(u64::MAX, u64::MAX), 100);
    assert_eq!(disk(5, 0), 0);
}

#[test]
fn spans_are_said_in_the_largest_unit_that_fits_twice() {
    assert_eq!(human(SignedDuration::from_mins(40)), "40 minutes");
    assert_eq!(human(SignedDuration::from_mins(119)), "119 minutes");
    assert_eq!(human(SignedDuration::from_hours(2)), "2 hours");
    assert_eq!(human(SignedDuration::from_hours(47)), "47 hours");
    assert_eq!(human(SignedDuration::from_hours(72)), "3 days");
    assert_eq!(human(SignedDuration::from_secs(-5)), "0 minutes");
}
