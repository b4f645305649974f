//! Ages as kubectl prints them (`k8s.io/apimachinery/pkg/util/duration.HumanDuration`)
//! and a small RFC 3339 parser (no chrono).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const NANOS_PER_SEC: i128 = 1_000_000_000;

/// kubectl's AGE column: the time elapsed from `created_rfc3339` to `now`, formatted like
/// `duration.HumanDuration`. A timestamp that does not parse prints `<unknown>`, as kubectl
/// does for a zero timestamp.
pub fn age(created_rfc3339: &str, now: SystemTime) -> String {
    let Some(created) = parse_rfc3339_nanos(created_rfc3339) else {
        return "<unknown>".to_string();
    };
    let now = match now.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    };
    human_duration_nanos(now - created)
}

/// `duration.HumanDuration` for a non-negative duration.
pub fn human_duration(d: Duration) -> String {
    human_duration_nanos(d.as_nanos() as i128)
}

/// `duration.HumanDuration` over a signed number of nanoseconds. Go's integer divisions
/// truncate toward zero, and so do Rust's.
fn human_duration_nanos(d: i128) -> String {
    // Up to 2 seconds (excluded) in the future counts as "now": clocks drift.
    let seconds = d / NANOS_PER_SEC;
    if seconds < -1 {
        return "<invalid>".to_string();
    } else if seconds < 0 {
        return "0s".to_string();
    } else if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = d / (60 * NANOS_PER_SEC);
    if minutes < 10 {
        let s = seconds % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    } else if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = d / (3600 * NANOS_PER_SEC);
    if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        return format!("{hours}h{m}m");
    } else if hours < 48 {
        return format!("{hours}h");
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        return format!("{}d{h}h", hours / 24);
    } else if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    } else if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        return format!("{}y{dy}d", hours / 24 / 365);
    }
    format!("{}y", hours / 24 / 365)
}

/// Parses an RFC 3339 timestamp (`2026-11-23T11:19:25Z`, optionally with fractional
/// seconds and a `±hh:mm` offset) into nanoseconds since the Unix epoch.
pub(crate) fn parse_rfc3339_nanos(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(range)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let year = num(0..4)?;
    let month = num(5..7)?;
    let day = num(8..10)?;
    let hour = num(11..13)?;
    let minute = num(14..16)?;
    let second = num(17..19)?;
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &s[19..];
    let mut nanos: i128 = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let mut scaled = 0i128;
        for (i, c) in frac[..digits].bytes().enumerate() {
            if i < 9 {
                scaled = scaled * 10 + i128::from(c - b'0');
            }
        }
        for _ in digits..9 {
            scaled *= 10;
        }
        nanos = scaled;
        rest = &frac[digits..];
    }
    let offset_secs: i64 = match rest {
        "Z" | "z" => 0,
        _ => {
            let ob = rest.as_bytes();
            if ob.len() != 6 || ob[3] != b':' {
                return None;
            }
            let sign = match ob[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let oh: i64 = rest[1..3].parse().ok()?;
            let om: i64 = rest[4..6].parse().ok()?;
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    Some(i128::from(secs) * NANOS_PER_SEC + nanos)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: &str = "2026-11-23T11:19:25Z";

    fn at(offset_secs: i64) -> SystemTime {
        let base = parse_rfc3339_nanos(T0).unwrap();
        let t = base + i128::from(offset_secs) * NANOS_PER_SEC;
        UNIX_EPOCH + Duration::from_nanos(t as u64)
    }

    #[test]
    fn parses_rfc3339_utc() {
        assert_eq!(parse_rfc3339_nanos("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_nanos("2026-11-23T11:19:25Z"),
            Some(1_795_432_765 * NANOS_PER_SEC)
        );
        // Leap day, fractional seconds, offsets.
        assert_eq!(
            parse_rfc3339_nanos("2024-02-29T00:00:00.5Z"),
            Some(1_709_164_800 * NANOS_PER_SEC + 500_000_000)
        );
        assert_eq!(
            parse_rfc3339_nanos("2026-11-23T12:19:25+01:00"),
            parse_rfc3339_nanos(T0)
        );
        for bad in [
            "",
            "2026-11-23",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-11-23T11:19:25",
            "2026-11-23T11:19:25+0100",
            "2026-11-23T11:19:25.Z",
            "20a6-11-23T11:19:25Z",
        ] {
            assert_eq!(parse_rfc3339_nanos(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn age_follows_kubectl_human_duration() {
        let cases: &[(i64, &str)] = &[
            (-5, "<invalid>"),
            (-2, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (5, "5s"),
            (59, "59s"),
            (119, "119s"),
            (120, "2m"),
            (125, "2m5s"),
            (300, "5m"),
            (599, "9m59s"),
            (600, "10m"),
            (601, "10m"),
            (3 * 3600 - 1, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 59, "3h"),
            (3 * 3600 + 60, "3h1m"),
            (8 * 3600 - 1, "7h59m"),
            (8 * 3600, "8h"),
            (48 * 3600 - 1, "47h"),
            (48 * 3600, "2d"),
            (49 * 3600, "2d1h"),
            (8 * 86_400 - 1, "7d23h"),
            (8 * 86_400, "8d"),
            (730 * 86_400 - 1, "729d"),
            (730 * 86_400, "2y"),
            (731 * 86_400, "2y1d"),
            (8 * 365 * 86_400, "8y"),
            (9 * 365 * 86_400 + 86_400, "9y"),
        ];
        for &(secs, want) in cases {
            assert_eq!(age(T0, at(secs)), want, "{secs}s");
        }
    }

    #[test]
    fn sub_second_skew_is_truncated_like_go() {
        let created = parse_rfc3339_nanos(T0).unwrap();
        let now = |n: i128| UNIX_EPOCH + Duration::from_nanos((created + n) as u64);
        assert_eq!(age(T0, now(1_999_999_999)), "1s");
        // 1.5s in the future: int(-1.5) == -1, still "now".
        assert_eq!(age(T0, now(-1_500_000_000)), "0s");
        assert_eq!(age(T0, now(-2_000_000_000)), "<invalid>");
    }

    #[test]
    fn unparsable_timestamp_is_unknown() {
        assert_eq!(age("yesterday", SystemTime::now()), "<unknown>");
    }

    #[test]
    fn human_duration_of_std_duration() {
        assert_eq!(human_duration(Duration::from_secs(3725)), "62m");
    }
}
