//! kubectl-like tables and -o wide|yaml|json, containerlab-like inspect table.
