//! Hardening: dns.
