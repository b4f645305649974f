//! Errors that name the namespace and the object, as in
//! `netns lab.default.redis-0: add route 0.0.0.0/0 via 169.254.1.1: File exists (os error 17)`.

use std::fmt;
use std::io;

#[derive(Debug)]
pub struct NsError {
    pub netns: String,
    /// What was being done, e.g. `add veth cali1234`.
    pub action: String,
    pub error: io::Error,
}

impl NsError {
    pub fn new(netns: &str, action: impl Into<String>, error: impl Into<io::Error>) -> Self {
        NsError {
            netns: netns.to_owned(),
            action: action.into(),
            error: error.into(),
        }
    }
}

impl fmt::Display for NsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "netns {}: {}: {}", self.netns, self.action, self.error)
    }
}

// The io::Error is part of the message, not a `source()`, so that `{:#}`
// does not print it twice.
impl std::error::Error for NsError {}
