//! Hardening: fidelity.
