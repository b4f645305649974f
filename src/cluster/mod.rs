//! Pure: IPAM, scheduling, controllers and EndpointSlices over the parsed topology.

pub mod state;
