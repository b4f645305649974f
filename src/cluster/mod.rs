//! Pure: IPAM, scheduling, controllers and EndpointSlices over the parsed topology.

pub mod apply;
pub mod controllers;
pub mod endpoints;
pub mod images;
pub mod ipam;
pub mod labels;
pub mod live;
pub mod names;
pub mod netplan;
pub mod podfiles;
pub mod resolve;
pub mod scheduler;
pub mod state;
pub mod status;
pub mod system;

pub use resolve::resolve;
pub use state::LabState;
