//! rtnetlink sockets that live inside a given network namespace.
//!
//! A netlink socket belongs to the namespace of the thread that created it,
//! for its whole life (netlink(7)), so it is opened on a short-lived std
//! thread that entered the namespace; it can then be used from any thread.
//! setns(2) is never called on a tokio worker.

use std::fs::File;
use std::io;
use std::ops::Deref;
use std::os::fd::{AsFd, BorrowedFd};

use anyhow::{Context, Result};
use rtnetlink::packet_route::RouteNetlinkMessage;
use tokio::runtime::Handle as Runtime;
use tokio::task::JoinHandle;

use super::threads::enter_netns;

pub type Connection = rtnetlink::proto::Connection<RouteNetlinkMessage>;

/// An rtnetlink handle whose socket lives in one namespace. The socket's
/// connection task is stopped when this is dropped.
pub struct NetnsSocket {
    handle: rtnetlink::Handle,
    connection: JoinHandle<()>,
}

impl NetnsSocket {
    /// Drives `connection` on `runtime` for as long as the result lives.
    pub fn spawn(runtime: &Runtime, (connection, handle): (Connection, rtnetlink::Handle)) -> Self {
        NetnsSocket {
            handle,
            connection: runtime.spawn(connection),
        }
    }
}

impl Deref for NetnsSocket {
    type Target = rtnetlink::Handle;
    fn deref(&self) -> &rtnetlink::Handle {
        &self.handle
    }
}

impl Drop for NetnsSocket {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

/// Opens an rtnetlink socket in the calling thread's network namespace.
/// The caller must be inside `runtime`'s context (`Runtime::enter`).
pub fn connect_here() -> Result<(Connection, rtnetlink::Handle)> {
    let (connection, handle, _unsolicited) = rtnetlink::new_connection().context("open rtnetlink socket")?;
    Ok((connection, handle))
}

/// Opens an rtnetlink socket inside `netns` from a short-lived thread; spawn
/// the returned connection on `runtime` (or use [`NetnsSocket::spawn`]).
pub fn connect_in(netns: BorrowedFd<'_>, runtime: &Runtime) -> Result<(Connection, rtnetlink::Handle)> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| enter_and_connect(netns, runtime))
            .join()
            .map_err(|_| anyhow::anyhow!("netlink connect thread panicked"))?
    })
}

/// A running socket in the named namespace, for async callers.
pub async fn socket_in(netns_name: &str) -> Result<NetnsSocket> {
    let netns = super::netns::open(netns_name)?;
    let runtime = Runtime::current();
    let (done, result) = tokio::sync::oneshot::channel();
    let thread_runtime = runtime.clone();
    // A plain thread: it may setns, and the worker polling this never blocks.
    std::thread::spawn(move || {
        let _ = done.send(enter_and_connect(netns.as_fd(), &thread_runtime));
    });
    let pair = result
        .await
        .context("netlink connect thread died")?
        .with_context(|| format!("netns {netns_name}"))?;
    Ok(NetnsSocket::spawn(&runtime, pair))
}

/// A running socket in the namespace behind `netns`, for plain threads.
pub fn socket_in_file(netns: &File, runtime: &Runtime) -> Result<NetnsSocket> {
    Ok(NetnsSocket::spawn(runtime, connect_in(netns.as_fd(), runtime)?))
}

/// Only on a dedicated thread: it stays in `netns`.
fn enter_and_connect(netns: BorrowedFd<'_>, runtime: &Runtime) -> Result<(Connection, rtnetlink::Handle)> {
    enter_netns(netns)?;
    let _context = runtime.enter();
    connect_here()
}

/// The errno behind an rtnetlink error, so that messages read like the
/// kernel's (`File exists (os error 17)`).
pub fn io_error(err: rtnetlink::Error) -> io::Error {
    match err {
        rtnetlink::Error::NetlinkError(message) => message.to_io(),
        other => io::Error::other(other.to_string()),
    }
}
