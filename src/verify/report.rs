//! How `labctl verify` shows its results: one line per check, JSON, JUnit XML. Pure.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    pub name: String,
    pub group: String,
    pub passed: bool,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub seconds: f64,
}

/// `PASS  <name>` or `FAIL  <name>: <why>` (the reason on one line).
pub fn text_line(r: &CheckResult) -> String {
    if r.passed {
        format!("PASS  {}", r.name)
    } else {
        let reason = r.reason.as_deref().unwrap_or("failed");
        format!("FAIL  {}: {}", r.name, one_line(reason))
    }
}

/// `N passed, M failed`.
pub fn summary(results: &[CheckResult]) -> String {
    let passed = results.iter().filter(|r| r.passed).count();
    format!("{passed} passed, {} failed", results.len() - passed)
}

fn one_line(text: &str) -> String {
    let joined: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let line = joined.join(" | ");
    const MAX: usize = 400;
    if line.chars().count() > MAX {
        format!("{}…", line.chars().take(MAX).collect::<String>())
    } else {
        line
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    lab: &'a str,
    passed: usize,
    failed: usize,
    checks: &'a [CheckResult],
}

pub fn summary_json(lab: &str, results: &[CheckResult]) -> String {
    let passed = results.iter().filter(|r| r.passed).count();
    let report = JsonReport {
        lab,
        passed,
        failed: results.len() - passed,
        checks: results,
    };
    serde_json::to_string_pretty(&report).expect("serialisable")
}

/// JUnit XML as CI systems read it: one suite per lab, one test case per check, classname
/// `<lab>.<group>`.
pub fn junit(lab: &str, results: &[CheckResult]) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut suite = TestSuite::new(lab);
    for r in results {
        let status = if r.passed {
            TestCaseStatus::success()
        } else {
            let reason = r.reason.as_deref().unwrap_or("failed");
            let mut failure = TestCaseStatus::non_success(NonSuccessKind::Failure);
            failure.set_message(one_line(reason)).set_description(reason);
            failure
        };
        let mut case = TestCase::new(r.name.as_str(), status);
        case.set_classname(format!("{lab}.{}", r.group))
            .set_time(std::time::Duration::from_secs_f64(r.seconds));
        suite.add_test_case(case);
    }
    let total: f64 = results.iter().map(|r| r.seconds).sum();
    suite.set_time(std::time::Duration::from_secs_f64(total));
    let mut report = Report::new("labctl verify");
    report
        .set_time(std::time::Duration::from_secs_f64(total))
        .add_test_suite(suite);
    report.to_string().expect("JUnit XML of plain strings")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &str, passed: bool, reason: Option<&str>) -> CheckResult {
        CheckResult {
            name: name.into(),
            group: "dns".into(),
            passed,
            reason: reason.map(String::from),
            seconds: 0.25,
        }
    }

    #[test]
    fn text_lines_and_summary() {
        let results = [
            result("dns A a → VIP", true, None),
            result("dns A b", false, Some("expected\n  10.0.0.1\ngot nothing")),
        ];
        assert_eq!(text_line(&results[0]), "PASS  dns A a → VIP");
        assert_eq!(
            text_line(&results[1]),
            "FAIL  dns A b: expected | 10.0.0.1 | got nothing"
        );
        assert_eq!(summary(&results), "1 passed, 1 failed");
    }

    #[test]
    fn junit_escapes_and_counts() {
        let results = [
            result("ok <1>", true, None),
            result("ping \"x\" & y", false, Some("100% <loss>\nof 2")),
        ];
        let xml = junit("lab&1", &results);
        for part in [
            r#"<testsuites name="labctl verify" tests="2" skipped="0" failures="1" errors="0" time="0.500">"#,
            r#"<testsuite name="lab&amp;1" tests="2" skipped="0" errors="0" failures="1" time="0.500">"#,
            r#"<testcase name="ok &lt;1&gt;" classname="lab&amp;1.dns" time="0.250"/>"#,
            r#"<testcase name="ping &quot;x&quot; &amp; y" classname="lab&amp;1.dns" time="0.250">"#,
            r#"<failure message="100% &lt;loss&gt; | of 2">100% &lt;loss&gt;"#,
        ] {
            assert!(xml.contains(part), "{part} not in\n{xml}");
        }
    }

    #[test]
    fn json_has_counts_and_reasons() {
        let results = [result("a", true, None), result("b", false, Some("why"))];
        let v: serde_json::Value = serde_json::from_str(&summary_json("lab", &results)).unwrap();
        assert_eq!(v["passed"], 1);
        assert_eq!(v["failed"], 1);
        assert_eq!(v["checks"][1]["reason"], "why");
        assert!(v["checks"][0].get("reason").is_none());
    }
}
