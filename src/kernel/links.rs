//! Links (bridges, veth pairs) of one namespace, over its rtnetlink socket.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use futures::TryStreamExt;
use rtnetlink::packet_route::link::{InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags};
use rtnetlink::{Handle, LinkBridge, LinkMessageBuilder, LinkUnspec, LinkVeth};

use super::netlink::io_error;

/// One link as dumped from a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    pub name: String,
    pub up: bool,
}

/// A veth pair whose local end is created in the socket's namespace (up),
/// and whose peer is created directly inside `peer_netns` (down).
pub struct VethPair<'a> {
    pub name: &'a str,
    pub mac: Option<[u8; 6]>,
    /// Index of the bridge (in the local namespace) to enslave the local end to.
    pub master: Option<u32>,
    pub peer_name: &'a str,
    pub peer_netns: BorrowedFd<'a>,
}

/// `ip link add NAME type bridge` + `up`.
pub async fn add_bridge(handle: &Handle, name: &str) -> io::Result<()> {
    handle
        .link()
        .add(LinkBridge::new(name).build())
        .execute()
        .await
        .map_err(io_error)
}

/// Creates the pair. A name still held by the veth of a pod whose namespace was just
/// deleted (the kernel destroys a dead namespace's devices later, in `cleanup_net`)
/// is taken over: that veth is deleted now and the pair created again.
pub async fn add_veth(handle: &Handle, pair: &VethPair<'_>) -> io::Result<()> {
    match add_veth_once(handle, pair).await {
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
            delete(handle, pair.name).await?;
            add_veth_once(handle, pair).await
        }
        result => result,
    }
}

async fn add_veth_once(handle: &Handle, pair: &VethPair<'_>) -> io::Result<()> {
    // The peer cannot be created up: the kernel opens it before the pair is
    // linked and veth_open() fails with ENOTCONN (drivers/net/veth.c). It is
    // brought up afterwards, with the other links of its namespace.
    let peer = LinkUnspec::new_with_name(pair.peer_name)
        .setns_by_fd(pair.peer_netns.as_raw_fd())
        .build();
    let mut local = LinkMessageBuilder::<LinkVeth>::new_with_info_kind(InfoKind::Veth)
        .name(pair.name)
        .up()
        .set_info_data(InfoData::Veth(InfoVeth::Peer(peer)));
    if let Some(mac) = pair.mac {
        local = local.address(mac.to_vec());
    }
    if let Some(master) = pair.master {
        local = local.controller(master);
    }
    handle.link().add(local.build()).execute().await.map_err(io_error)
}

/// The index of the named link (one round trip).
pub async fn index_of(handle: &Handle, name: &str) -> io::Result<u32> {
    let link = handle
        .link()
        .get()
        .match_name(name)
        .execute()
        .try_next()
        .await
        .map_err(io_error)?;
    link.map(|link| link.header.index)
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no link named {name}")))
}

/// Every link of the namespace, in one dump.
pub async fn dump(handle: &Handle) -> io::Result<Vec<Link>> {
    let messages: Vec<_> = handle.link().get().execute().try_collect().await.map_err(io_error)?;
    Ok(messages
        .into_iter()
        .map(|message| Link {
            index: message.header.index,
            up: message.header.flags.contains(LinkFlags::Up),
            name: message
                .attributes
                .iter()
                .find_map(|attribute| match attribute {
                    LinkAttribute::IfName(name) => Some(name.clone()),
                    _ => None,
                })
                .unwrap_or_default(),
        })
        .collect())
}

/// `ip link set dev INDEX up`.
pub async fn set_up(handle: &Handle, index: u32) -> io::Result<()> {
    handle
        .link()
        .change(LinkUnspec::new_with_index(index).up().build())
        .execute()
        .await
        .map_err(io_error)
}

/// `ip link del NAME`; a missing link is fine (deleting one end of a veth pair
/// deletes both).
pub async fn delete(handle: &Handle, name: &str) -> io::Result<()> {
    match index_of(handle, name).await {
        Ok(index) => handle.link().del(index).execute().await.map_err(io_error),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}
