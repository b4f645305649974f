//! Wall-clock time as Kubernetes records it: `metav1.Time` keeps whole seconds and
//! writes RFC 3339 in UTC (`2026-11-23T11:19:25Z`), which is how `jiff::Timestamp`
//! displays and serialises a whole-second instant.

use jiff::Timestamp;

/// Now, truncated to the second (a creation timestamp).
pub fn now() -> Timestamp {
    Timestamp::from_second(Timestamp::now().as_second()).expect("now is within jiff's range")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_has_whole_seconds_and_prints_rfc3339_utc() {
        let t = now();
        assert_eq!(t.subsec_nanosecond(), 0);
        let text = t.to_string();
        assert_eq!(text.len(), "2026-11-23T11:19:25Z".len(), "{text}");
        assert!(text.ends_with('Z'), "{text}");
        let known = Timestamp::from_second(1_795_432_765).unwrap();
        assert_eq!(known.to_string(), "2026-11-23T11:19:25Z");
        assert_eq!(serde_json::to_string(&known).unwrap(), "\"2026-11-23T11:19:25Z\"");
    }
}
