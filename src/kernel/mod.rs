//! Effects: network namespaces, rtnetlink, sysctls, processes inside namespaces.

pub mod plan;
