//! Cluster DNS: the Kubernetes DNS specification 1.1.0 over the lab state
//! ([`records`], pure) served by hickory-server ([`server`]).

pub mod balance;
pub mod forward;
pub mod records;
pub mod server;
mod tcp;

pub use records::{Answer, DEFAULT_TTL, Response, Zone, answer};
pub use server::{
    Forwarder, Handler, MAX_PENDING_FORWARDS, MAX_TCP_CONNECTIONS, ServerConfig, ServerHandle, SharedZone, Sockets,
    bind_in_netns, bind_sockets, bind_sockets_in_netns, run, serve, serve_until,
};
