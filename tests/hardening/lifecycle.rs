//! Hardening: lifecycle.
