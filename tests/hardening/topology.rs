//! Hardening: topology.
