//! Knowing when an nf_tables transaction of another process has committed, by
//! listening to the NFNLGRP_NFTABLES multicast group of a netns: the kernel ends
//! every committed transaction with an NFT_MSG_NEWGEN message that carries the
//! committing process's pid (`nf_tables_gen_notify`, net/netfilter/nf_tables_api.c;
//! `nft monitor` prints it as "# new generation N by process PID").
//!
//! Why it matters: an `iptables-restore` whose transaction deleted rules does not
//! exit when its commit is done. Closing its netlink socket waits for the freeing
//! of the deleted objects, which first waits for an RCU grace period
//! (`nft_rcv_nl_event` → `nf_tables_trans_destroy_flush_work`): 3–15 ms here, the
//! larger part of a small lab's rule update. The rules are live at NEWGEN.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use anyhow::{Context, Result};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_NETFILTER};

use super::netns;
use super::threads::enter_netns;

const NFNLGRP_NFTABLES: u32 = libc::NFNLGRP_NFTABLES as u32;
const NFNL_SUBSYS_NFTABLES: u16 = libc::NFNL_SUBSYS_NFTABLES as u16;
const NFT_MSG_NEWGEN: u16 = libc::NFT_MSG_NEWGEN as u16;
/// include/uapi/linux/netfilter/nf_tables.h, enum nft_gen_attributes (not in libc).
const NFTA_GEN_PROC_PID: u16 = 2;

const NLMSG_HDRLEN: usize = 16;
const NFGENMSG_LEN: usize = 4;
const NLA_HDRLEN: usize = 4;

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// The committing pids of the NEWGEN messages in one netlink datagram, in order.
/// Anything else (the per-object notifications of the same transactions) is skipped.
pub fn newgen_pids(datagram: &[u8]) -> Vec<u32> {
    let mut pids = Vec::new();
    let mut rest = datagram;
    while rest.len() >= NLMSG_HDRLEN {
        let len = u32::from_ne_bytes(rest[0..4].try_into().expect("4 bytes")) as usize;
        if len < NLMSG_HDRLEN || len > rest.len() {
            break;
        }
        let kind = u16::from_ne_bytes([rest[4], rest[5]]);
        if kind == (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN
            && let Some(pid) = gen_pid(&rest[NLMSG_HDRLEN..len])
        {
            pids.push(pid);
        }
        rest = &rest[align4(len).min(rest.len())..];
    }
    pids
}

/// NFTA_GEN_PROC_PID of a NEWGEN payload (nfgenmsg, then attributes); the
/// kernel writes it big-endian (nla_put_be32).
fn gen_pid(payload: &[u8]) -> Option<u32> {
    let mut attrs = payload.get(NFGENMSG_LEN..)?;
    while attrs.len() >= NLA_HDRLEN {
        let len = u16::from_ne_bytes([attrs[0], attrs[1]]) as usize;
        let kind = u16::from_ne_bytes([attrs[2], attrs[3]]) & 0x3fff;
        if len < NLA_HDRLEN || len > attrs.len() {
            return None;
        }
        if kind == NFTA_GEN_PROC_PID && len == NLA_HDRLEN + 4 {
            return Some(u32::from_be_bytes(attrs[4..8].try_into().ok()?));
        }
        attrs = &attrs[align4(len).min(attrs.len())..];
    }
    None
}

/// A subscription to the nf_tables notifications of one netns.
pub struct CommitWatch {
    socket: Socket,
}

impl CommitWatch {
    /// Subscribes inside `netns_name`; the socket is made on a short-lived thread
    /// that entered the netns, and stays in it.
    pub fn open(netns_name: &str) -> Result<CommitWatch> {
        let fd = netns::open(netns_name)?;
        let socket = std::thread::scope(|scope| {
            scope
                .spawn(|| -> Result<Socket> {
                    enter_netns(&fd)?;
                    let mut socket = Socket::new(NETLINK_NETFILTER).context("open nfnetlink socket")?;
                    socket.bind(&SocketAddr::new(0, 0)).context("bind nfnetlink socket")?;
                    socket
                        .add_membership(NFNLGRP_NFTABLES)
                        .context("join NFNLGRP_NFTABLES")?;
                    socket.set_non_blocking(true).context("non-blocking nfnetlink socket")?;
                    Ok(socket)
                })
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("nfnetlink socket thread panicked")))
        })
        .with_context(|| format!("netns {netns_name}: watch nf_tables commits"))?;
        Ok(CommitWatch { socket })
    }

    /// Reads what has arrived and returns how many transactions `pid` committed in
    /// it. Notifications dropped for a full receive buffer (ENOBUFS) count as none:
    /// the caller then learns of the commit when the process exits.
    pub fn commits_by(&self, pid: u32) -> Result<usize> {
        let mut count = 0;
        let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
        loop {
            buf.clear();
            match self.socket.recv(&mut buf, 0) {
                Ok(_) => count += newgen_pids(&buf).iter().filter(|&&p| p == pid).count(),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(count),
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => continue,
                Err(e) => return Err(e).context("read nf_tables notifications"),
            }
        }
    }
}

impl AsFd for CommitWatch {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut a = ((NLA_HDRLEN + value.len()) as u16).to_ne_bytes().to_vec();
        a.extend(kind.to_ne_bytes());
        a.extend(value);
        a.resize(align4(a.len()), 0);
        a
    }

    fn message(kind: u16, attrs: &[Vec<u8>]) -> Vec<u8> {
        let payload: Vec<u8> = [vec![2, 0, 0, 0]].iter().chain(attrs).flatten().copied().collect();
        let mut m = ((NLMSG_HDRLEN + payload.len()) as u32).to_ne_bytes().to_vec();
        m.extend(kind.to_ne_bytes());
        m.extend([0u8; 10]);
        m.extend(payload);
        m
    }

    const NEWGEN: u16 = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN;

    #[test]
    fn newgen_pid_is_read_big_endian_among_other_notifications() {
        let newrule = message((NFNL_SUBSYS_NFTABLES << 8) | 6, &[attr(1, b"nat\0")]);
        let gen_a = message(
            NEWGEN,
            &[
                attr(1, &5u32.to_be_bytes()),
                attr(2, &2313u32.to_be_bytes()),
                attr(3, b"iptables-restor\0"),
            ],
        );
        let gen_b = message(NEWGEN, &[attr(2, &77u32.to_be_bytes())]);
        let datagram: Vec<u8> = [newrule, gen_a, gen_b].concat();
        assert_eq!(newgen_pids(&datagram), vec![2313, 77]);
    }

    #[test]
    fn truncated_or_foreign_messages_yield_nothing() {
        let gen_a = message(NEWGEN, &[attr(2, &9u32.to_be_bytes())]);
        assert_eq!(newgen_pids(&gen_a[..gen_a.len() - 2]), Vec::<u32>::new());
        assert_eq!(
            newgen_pids(&message(NEWGEN, &[attr(1, &1u32.to_be_bytes())])),
            Vec::<u32>::new()
        );
        assert_eq!(
            newgen_pids(&message(0x0a06, &[attr(2, &9u32.to_be_bytes())])),
            Vec::<u32>::new()
        );
        assert_eq!(newgen_pids(&[]), Vec::<u32>::new());
    }
}
