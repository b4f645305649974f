//! IPv4 addresses of one namespace, over its rtnetlink socket.

use std::io;
use std::net::IpAddr;

use ipnet::Ipv4Net;
use rtnetlink::Handle;

use super::netlink::io_error;

/// `ip address add ADDRESS/PREFIX dev INDEX` (with the broadcast address,
/// as rtnetlink's builder and `brd +` do).
pub async fn add_address(handle: &Handle, index: u32, address: Ipv4Net) -> io::Result<()> {
    handle
        .address()
        .add(index, IpAddr::V4(address.addr()), address.prefix_len())
        .execute()
        .await
        .map_err(io_error)
}
