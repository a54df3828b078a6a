//! Looking up the program's time zone.

use std::path::PathBuf;

use jiff::tz::TimeZone;

/// The IANA time zone `name`, read straight from its file in the system's
/// zoneinfo directory when it is there under that exact name: jiff's lookup by
/// name lists the whole directory first (some 600 files), a large share of what
/// a short `run --once` costs. Any other spelling, or no such file, goes to
/// jiff's lookup.
pub(super) fn time_zone(name: &str) -> Result<TimeZone, jiff::Error> {
    let plain = name.split('/').all(|part| {
        !part.is_empty()
            && part != "."
            && part != ".."
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
    });
    if plain {
        let dirs = std::env::var_os("TZDIR")
            .map(PathBuf::from)
            .into_iter()
            .chain(["/usr/share/zoneinfo", "/etc/zoneinfo"].map(PathBuf::from));
        for dir in dirs {
            if let Ok(data) = std::fs::read(dir.join(name))
                && let Ok(zone) = TimeZone::tzif(name, &data)
            {
                return Ok(zone);
            }
        }
    }
    TimeZone::get(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_zone_read_from_its_file_is_the_one_jiffs_lookup_finds() {
        let at: jiff::Timestamp = "2026-07-01T12:00:00Z".parse().expect("timestamp");
        for name in [
            "Europe/Berlin",
            "UTC",
            "America/Argentina/Buenos_Aires",
            "europe/berlin",
        ] {
            let ours = time_zone(name).expect(name);
            let jiffs = TimeZone::get(name).expect(name);
            assert_eq!(ours.iana_name(), jiffs.iana_name(), "{name}");
            assert_eq!(ours.to_offset(at), jiffs.to_offset(at), "{name}");
        }
        for bad in ["../zoneinfo/UTC", "/etc/passwd", "Mars/Olympus", ""] {
            assert!(time_zone(bad).is_err(), "{bad}");
        }
    }
}
