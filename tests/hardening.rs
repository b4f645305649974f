//! Regression tests of issue 10's hardening: each reproduces a defect found by
//! trying the labs as users (and attackers) would, and now passes.

mod common;

#[path = "hardening/dns.rs"]
mod dns;
#[path = "hardening/fidelity.rs"]
mod fidelity;
#[path = "hardening/lifecycle.rs"]
mod lifecycle;
#[path = "hardening/topology.rs"]
mod topology;
