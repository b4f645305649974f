//! Every file under `tests/bad_input/` is a topology with exactly one mistake. Its first
//! line says where the error must be reported and what it must say:
//!
//! ```text
//! # expect: 7:15 selector does not match template labels
//! ```
//!
//! so adding a case is adding a file.

use std::path::{Path, PathBuf};

const CASES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bad_input");
const EXPECT: &str = "# expect: ";

/// What one bad file must produce.
#[derive(Debug)]
struct Case {
    file: PathBuf,
    line: usize,
    col: usize,
    message: String,
}

fn cases() -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(CASES_DIR)
        .expect("tests/bad_input exists")
        .map(|entry| entry.expect("readable directory").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    files.into_iter().map(|file| read_case(&file)).collect()
}

/// Reads the `# expect: LINE:COL MESSAGE` first line of `file`.
fn read_case(file: &Path) -> Case {
    let text = std::fs::read_to_string(file).expect("readable case file");
    let first_line = text.lines().next().unwrap_or_default();
    let expectation = first_line
        .strip_prefix(EXPECT)
        .unwrap_or_else(|| panic!("{}: the first line must be `{EXPECT}LINE:COL MESSAGE`", file.display()));
    let (place, message) = expectation.split_once(' ').expect("a place then a message");
    let (line, col) = place.split_once(':').expect("LINE:COL");
    Case {
        file: file.to_path_buf(),
        line: line.parse().expect("a line number"),
        col: col.parse().expect("a column number"),
        message: message.trim().to_string(),
    }
}

/// Why `case` is not met, if it is not.
fn check(case: &Case) -> Option<String> {
    let errors = match labctl::spec::load(&case.file) {
        Ok(_) => return Some("accepted".to_string()),
        Err(errors) => errors,
    };
    let shown = errors.to_string();
    if errors.0.len() != 1 {
        return Some(format!("expected one error, got {}:\n{shown}", errors.0.len()));
    }
    let expected_start = format!("{}:{}:{}: error: ", case.file.display(), case.line, case.col);
    let (first_line, rest) = shown.split_once('\n').unwrap_or((&shown, ""));
    let met = first_line.starts_with(&expected_start)
        && first_line.contains(&case.message)
        && rest.trim_start().starts_with("hint: ");
    (!met).then(|| {
        format!(
            "expected `{expected_start}...{}` and a hint, got:\n{shown}",
            case.message
        )
    })
}

#[test]
fn every_bad_file_is_refused_with_its_error() {
    let cases = cases();
    assert!(cases.len() >= 18, "only {} cases in {CASES_DIR}", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| check(case).map(|why| format!("{}: {why}", case.file.display())))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
