//! Ages as kubectl prints them (`k8s.io/apimachinery/pkg/util/duration.HumanDuration`).
//! That is kubectl's own rounding rule, not a calendar, so it is written here.

use std::time::Duration;

use jiff::Timestamp;

const NANOS_PER_SEC: i128 = 1_000_000_000;

/// kubectl's AGE column: the time elapsed from `created` to `now`, formatted like
/// `duration.HumanDuration`.
pub fn age(created: Timestamp, now: Timestamp) -> String {
    human_duration_nanos(now.duration_since(created).as_nanos())
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
        return with_remainder(minutes, "m", seconds % 60, "s");
    } else if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = d / (3600 * NANOS_PER_SEC);
    if hours < 8 {
        return with_remainder(hours, "h", minutes % 60, "m");
    } else if hours < 48 {
        return format!("{hours}h");
    } else if hours < 24 * 8 {
        return with_remainder(hours / 24, "d", hours % 24, "h");
    } else if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    } else if hours < 24 * 365 * 8 {
        return with_remainder(hours / 24 / 365, "y", (hours / 24) % 365, "d");
    }
    format!("{}y", hours / 24 / 365)
}

/// `<whole><unit>`, then `<rest><rest_unit>` unless `rest` is 0 (`3m`, `3m20s`).
fn with_remainder(whole: i128, unit: &str, rest: i128, rest_unit: &str) -> String {
    if rest == 0 {
        format!("{whole}{unit}")
    } else {
        format!("{whole}{unit}{rest}{rest_unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Timestamp {
        "2026-11-23T11:19:25Z".parse().unwrap()
    }

    fn at(offset_secs: i64) -> Timestamp {
        t0() + jiff::SignedDuration::from_secs(offset_secs)
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
            assert_eq!(age(t0(), at(secs)), want, "{secs}s");
        }
    }

    #[test]
    fn sub_second_skew_is_truncated_like_go() {
        let now = |n: i64| t0() + jiff::SignedDuration::from_nanos(n);
        assert_eq!(age(t0(), now(1_999_999_999)), "1s");
        // 1.5s in the future: int(-1.5) == -1, still "now".
        assert_eq!(age(t0(), now(-1_500_000_000)), "0s");
        assert_eq!(age(t0(), now(-2_000_000_000)), "<invalid>");
    }

    #[test]
    fn human_duration_of_std_duration() {
        assert_eq!(human_duration(Duration::from_secs(3725)), "62m");
    }
}
