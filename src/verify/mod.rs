//! `labctl verify`: the checks a lab must pass, derived from its objects, and their runner.
//!
//! - [`derive`]: pure — LabState → the list of [`Check`]s (what to run where, what to expect).
//! - [`run`]: effects — runs each check's commands inside the lab's pods and nodes.
//! - [`report`]: pure — the text, JSON and JUnit renderings of the results.

pub mod derive;
pub mod report;
pub mod run;

pub use derive::{Check, Expect, Place, Step, derive};
pub use report::{CheckResult, junit, summary_json, text_line};
