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

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML as CI systems read it: one suite per lab, one test case per check, classname
/// `<lab>.<group>`.
pub fn junit(lab: &str, results: &[CheckResult]) -> String {
    let failed = results.iter().filter(|r| !r.passed).count();
    let total: f64 = results.iter().map(|r| r.seconds).sum();
    let lab_x = xml_escape(lab);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"labctl verify\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" time=\"{total:.3}\">\n",
        results.len()
    ));
    out.push_str(&format!(
        "  <testsuite name=\"{lab_x}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\" time=\"{total:.3}\">\n",
        results.len()
    ));
    for r in results {
        let head = format!(
            "    <testcase classname=\"{lab_x}.{}\" name=\"{}\" time=\"{:.3}\"",
            xml_escape(&r.group),
            xml_escape(&r.name),
            r.seconds
        );
        if r.passed {
            out.push_str(&head);
            out.push_str("/>\n");
        } else {
            let reason = r.reason.as_deref().unwrap_or("failed");
            out.push_str(&head);
            out.push_str(">\n");
            out.push_str(&format!(
                "      <failure message=\"{}\">{}</failure>\n",
                xml_escape(&one_line(reason)),
                xml_escape(reason)
            ));
            out.push_str("    </testcase>\n");
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
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
            result("ping \"x\" & y", false, Some("100% <loss>")),
        ];
        let xml = junit("lab&1", &results);
        let expected = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<testsuites name=\"labctl verify\" tests=\"2\" failures=\"1\" errors=\"0\" time=\"0.500\">
  <testsuite name=\"lab&amp;1\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\" time=\"0.500\">
    <testcase classname=\"lab&amp;1.dns\" name=\"ok &lt;1&gt;\" time=\"0.250\"/>
    <testcase classname=\"lab&amp;1.dns\" name=\"ping &quot;x&quot; &amp; y\" time=\"0.250\">
      <failure message=\"100% &lt;loss&gt;\">100% &lt;loss&gt;</failure>
    </testcase>
  </testsuite>
</testsuites>
";
        assert_eq!(xml, expected);
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
