//! Builds a [`NetPlan`] in the kernel. Each phase is finished in every
//! namespace before the next starts:
//!
//! 1. namespaces (+ their /etc/netns files), each with its rtnetlink socket;
//! 2. bridges and veth pairs (created up; a veth's peer is created directly
//!    inside its namespace);
//! 3. sysctls, addresses, then every link not yet up (`lo`);
//! 4. routes, in plan order within each namespace.
//!
//! Nothing is rolled back here: on error the caller runs `teardown`.
//! `LABCTL_INJECT_FAILURE=<phase>` (`namespaces`, `links`, `addresses`,
//! `routes`) fails right after that phase, for rollback tests.

use std::collections::HashMap;
use std::fs::File;
use std::future::Future;
use std::io;
use std::os::fd::AsFd;

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use futures::future::join_all;
use tokio::runtime::Handle as Runtime;

use super::error::NsError;
use super::links::{self, VethPair};
use super::netlink::{self, NetnsSocket};
use super::plan::{NetPlan, NsPlan};
use super::{addresses, netns, routes, sysctl, threads};

/// Namespaces worked on at once, each over its own socket.
const CONCURRENT_NAMESPACES: usize = 64;

/// Applies `plan` on a runtime of its own; for plain (non-async) callers.
pub fn apply(plan: &NetPlan) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_io()
        .build()
        .context("start tokio runtime")?;
    apply_on(runtime.handle(), plan)
}

/// Applies `plan` using `runtime` (multi-thread). Blocks: call it from a
/// plain thread (or `spawn_blocking`), not from inside an async task.
pub fn apply_on(runtime: &Runtime, plan: &NetPlan) -> Result<()> {
    raise_open_files_limit(2 * plan.namespaces.len() + 256);

    let namespaces = first_error(create_namespaces(runtime, plan))?;
    inject_failure_after("namespaces")?;

    let by_name: HashMap<&str, &File> = namespaces.iter().map(|ns| (ns.plan.name.as_str(), &ns.netns)).collect();
    first_error(runtime.block_on(for_each(&namespaces, |ns| create_links(ns, &by_name))))?;
    inject_failure_after("links")?;

    first_error(threads::map(&namespaces, threads::default_count(), write_sysctls))?;
    let link_indexes = first_error(runtime.block_on(for_each(&namespaces, configure_links)))?;
    inject_failure_after("addresses")?;

    let with_indexes: Vec<_> = namespaces.iter().zip(&link_indexes).collect();
    first_error(runtime.block_on(for_each(&with_indexes, |(ns, indexes)| add_routes(ns, indexes))))?;
    inject_failure_after("routes")?;
    Ok(())
}

/// A namespace of the plan, created, with its open handle and socket.
struct Namespace<'a> {
    plan: &'a NsPlan,
    netns: File,
    socket: NetnsSocket,
}

/// Phase 1, on a few threads: each new namespace is created by `unshare` on
/// the thread itself, which then opens the namespace's socket in passing.
fn create_namespaces<'a>(runtime: &Runtime, plan: &'a NetPlan) -> Vec<Result<Namespace<'a>>> {
    threads::map(&plan.namespaces, threads::default_count(), |ns| {
        let netns = if ns.existing {
            let file = netns::open(&ns.name)?;
            threads::enter_netns(&file).with_context(|| format!("netns {}", ns.name))?;
            file
        } else {
            netns::create_on_this_thread(&ns.name)?
        };
        let _context = runtime.enter();
        let socket = netlink::connect_here().with_context(|| format!("netns {}", ns.name))?;
        netns::write_etc_files(&ns.name, &ns.etc_files)?;
        Ok(Namespace {
            plan: ns,
            netns,
            socket: NetnsSocket::spawn(runtime, socket),
        })
    })
}

/// Phase 2: bridges first (veths may be enslaved to them), then every veth
/// pair at once.
async fn create_links(ns: &Namespace<'_>, by_name: &HashMap<&str, &File>) -> Result<()> {
    let name = &ns.plan.name;
    for bridge in &ns.plan.bridges {
        links::add_bridge(&ns.socket, bridge)
            .await
            .map_err(|err| NsError::new(name, format!("add bridge {bridge}"), err))?;
    }
    let mut bridge_indexes = HashMap::new();
    for master in ns.plan.veths.iter().filter_map(|veth| veth.master.as_deref()) {
        if !bridge_indexes.contains_key(master) {
            let index = links::index_of(&ns.socket, master)
                .await
                .map_err(|err| NsError::new(name, format!("find bridge {master}"), err))?;
            bridge_indexes.insert(master, index);
        }
    }
    let added = join_all(ns.plan.veths.iter().map(|veth| {
        let bridge_indexes = &bridge_indexes;
        async move {
            let action = format!(
                "add veth {} (peer {} in netns {})",
                veth.name, veth.peer_name, veth.peer_ns
            );
            let opened;
            let peer_netns = match by_name.get(veth.peer_ns.as_str()) {
                Some(file) => *file,
                None => {
                    opened = netns::open(&veth.peer_ns)
                        .map_err(|err| NsError::new(name, &action, io::Error::other(format!("{err:#}"))))?;
                    &opened
                }
            };
            let pair = VethPair {
                name: &veth.name,
                mac: veth.mac,
                master: veth.master.as_deref().map(|master| bridge_indexes[master]),
                peer_name: &veth.peer_name,
                peer_netns: peer_netns.as_fd(),
            };
            links::add_veth(&ns.socket, &pair)
                .await
                .map_err(|err| NsError::new(name, &action, err))
        }
    }))
    .await;
    Ok(added.into_iter().collect::<Result<(), NsError>>()?)
}

/// Phase 3a, on a thread inside the namespace (see `sysctl`).
fn write_sysctls(ns: &Namespace<'_>) -> Result<()> {
    if ns.plan.sysctls.is_empty() {
        return Ok(());
    }
    threads::enter_netns(&ns.netns).with_context(|| format!("netns {}", ns.plan.name))?;
    for (key, value) in &ns.plan.sysctls {
        sysctl::write_here(key, value)
            .map_err(|err| NsError::new(&ns.plan.name, format!("sysctl {key}={value}"), err))?;
    }
    Ok(())
}

/// Phase 3b: one dump of the namespace's links gives every index needed
/// from here on; then addresses, then every link that is still down.
async fn configure_links(ns: &Namespace<'_>) -> Result<HashMap<String, u32>> {
    let name = &ns.plan.name;
    let links = links::dump(&ns.socket)
        .await
        .map_err(|err| NsError::new(name, "dump links", err))?;
    let indexes: HashMap<String, u32> = links.iter().map(|link| (link.name.clone(), link.index)).collect();
    let added = join_all(ns.plan.addresses.iter().map(|(dev, address)| {
        let indexes = &indexes;
        async move {
            let action = format!("add address {address} dev {dev}");
            let index = index_in(indexes, dev).map_err(|err| NsError::new(name, &action, err))?;
            addresses::add_address(&ns.socket, index, *address)
                .await
                .map_err(|err| NsError::new(name, &action, err))
        }
    }))
    .await;
    added.into_iter().collect::<Result<(), NsError>>()?;
    let raised = join_all(links.iter().filter(|link| !link.up).map(|link| async move {
        links::set_up(&ns.socket, link.index)
            .await
            .map_err(|err| NsError::new(name, format!("set link {} up", link.name), err))
    }))
    .await;
    raised.into_iter().collect::<Result<(), NsError>>()?;
    Ok(indexes)
}

/// Phase 4: one at a time, since a route may need the one before it
/// (`default via 169.254.1.1` needs `169.254.1.1 dev eth0 scope link`).
async fn add_routes(ns: &Namespace<'_>, indexes: &HashMap<String, u32>) -> Result<()> {
    let name = &ns.plan.name;
    for route in &ns.plan.routes {
        let action = format!("add route {}", routes::describe(route));
        let dev_index = match &route.dev {
            Some(dev) => Some(index_in(indexes, dev).map_err(|err| NsError::new(name, &action, err))?),
            None => None,
        };
        routes::add_route(&ns.socket, route, dev_index)
            .await
            .map_err(|err| NsError::new(name, &action, err))?;
    }
    Ok(())
}

fn index_in(indexes: &HashMap<String, u32>, dev: &str) -> io::Result<u32> {
    indexes
        .get(dev)
        .copied()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no link named {dev}")))
}

/// Runs `work` for every item, a bounded number at a time; results in item order.
async fn for_each<'a, T, R, F, Fut>(items: &'a [T], work: F) -> Vec<R>
where
    F: Fn(&'a T) -> Fut,
    Fut: Future<Output = R>,
{
    let mut results: Vec<(usize, R)> = futures::stream::iter(items.iter().enumerate())
        .map(|(index, item)| {
            let done = work(item);
            async move { (index, done.await) }
        })
        .buffer_unordered(CONCURRENT_NAMESPACES)
        .collect()
        .await;
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// The first error in plan order; the others are dropped (teardown follows).
fn first_error<T>(results: Vec<Result<T>>) -> Result<Vec<T>> {
    results.into_iter().collect()
}

fn inject_failure_after(phase: &str) -> Result<()> {
    if std::env::var("LABCTL_INJECT_FAILURE").is_ok_and(|injected| injected == phase) {
        bail!("injected failure after phase {phase}");
    }
    Ok(())
}

/// Each namespace holds two descriptors during apply (its handle and its
/// netlink socket): lift the soft limit towards the hard one if needed.
fn raise_open_files_limit(needed: usize) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscalls on a stack value.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && (limit.rlim_cur as usize) < needed {
            limit.rlim_cur = limit.rlim_max.min(needed as libc::rlim_t);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
