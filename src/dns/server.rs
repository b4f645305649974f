//! The cluster DNS server: [`records`](super::records) answers behind
//! hickory-server's TCP/UDP machinery, a fast UDP path, and a forwarder for
//! names outside the cluster zone.
//!
//! - Sockets: the listening sockets are created inside the DNS pod's netns on
//!   a short-lived thread that `setns`'d there ([`bind_in_netns`]); a socket
//!   stays in the netns it was created in, so the server's threads never
//!   change namespace.
//! - UDP: by default one OS thread per `SO_REUSEPORT` socket answers in-zone
//!   questions straight from the zone (recv → answer → send, no task per
//!   query); questions for the forwarder go to the tokio runtime. With
//!   `fast_udp: false` hickory's `Server` handles UDP through [`Handler`].
//! - TCP: hickory's framing and [`Handler`], at most `max_tcp_connections`
//!   open at once (see [`tcp`](super::tcp)).
//! - Live updates: the zone sits behind an `ArcSwap`; [`SharedZone::update`]
//!   swaps in a new index atomically. Queries in flight finish on the index
//!   they started with; none is dropped.
//! - Forwarding: see [`Forwarder`]; at most `max_pending_forwards` questions
//!   wait for upstreams at once, the others get SERVFAIL at once.
//! - Rotation: every NOERROR reply, cached or not, has its A/AAAA records
//!   shuffled per query as CoreDNS's `loadbalance` does (see [`balance`](super::balance)).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use arc_swap::ArcSwap;
use hickory_proto::op::{
    Edns, Header, Message, MessageType, Metadata, OpCode, Query, ResponseCode, emit_message_parts,
};
use hickory_proto::rr::{DNSClass, Record, RecordType};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};
use hickory_server::net::runtime::Time;
use hickory_server::net::xfer::Protocol;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
use tokio::sync::oneshot;

use super::balance::{AddressRuns, round_robin};
pub use super::forward::{Forwarder, Slot};
use super::records::{Answer, Response, Zone, answer};
use super::tcp::{self, TcpLimits};
use crate::cluster::state::LabState;

/// Questions one server forwards at once at most; one more gets SERVFAIL.
/// Each holds a UDP socket until answered or timed out (1.5 s by default).
pub const MAX_PENDING_FORWARDS: usize = 512;
/// TCP connections one server keeps open at most; a new one closes the
/// connection idle the longest.
pub const MAX_TCP_CONNECTIONS: usize = 256;

/// UDP answers without EDNS (RFC 1035 4.2.1).
const PLAIN_UDP_SIZE: u16 = 512;

/// The zone the server answers from, swappable while it runs.
#[derive(Clone, Debug)]
pub struct SharedZone {
    inner: Arc<ArcSwap<Zone>>,
}

impl SharedZone {
    pub fn new(zone: Zone) -> SharedZone {
        SharedZone {
            inner: Arc::new(ArcSwap::from_pointee(zone)),
        }
    }

    pub fn from_state(state: &LabState, ttl: u32) -> SharedZone {
        SharedZone::new(Zone::from_state(state, ttl))
    }

    /// The current zone.
    pub fn load(&self) -> Arc<Zone> {
        self.inner.load_full()
    }

    /// Replaces the zone; queries answered from now on see it.
    pub fn store(&self, zone: Zone) {
        self.inner.store(Arc::new(zone));
    }

    /// Re-indexes the lab state with the same TTL and the next SOA serial.
    pub fn update(&self, state: &LabState) {
        let current = self.inner.load();
        let zone = Zone::from_state(state, current.ttl()).with_serial(current.serial().wrapping_add(1));
        self.store(zone);
    }
}

/// Listening sockets, already bound (inside the DNS pod's netns).
#[derive(Debug)]
pub struct Sockets {
    /// One or more `SO_REUSEPORT` sockets on the same address.
    pub udp: Vec<UdpSocket>,
    pub tcp: TcpListener,
}

#[derive(Debug)]
pub struct ServerConfig {
    pub sockets: Sockets,
    /// Nameservers for names outside the cluster zone, tried in order.
    /// Default: [`resolv_conf_nameservers`] of `/etc/resolv.conf`.
    pub upstreams: Vec<SocketAddr>,
    /// Time budget of one forwarded question, all upstreams included; when it
    /// runs out the client gets SERVFAIL.
    pub upstream_timeout: Duration,
    /// A TCP connection with no query for this long is closed.
    pub tcp_idle_timeout: Duration,
    /// See [`MAX_TCP_CONNECTIONS`].
    pub max_tcp_connections: usize,
    /// See [`MAX_PENDING_FORWARDS`].
    pub max_pending_forwards: usize,
    /// Answer UDP on dedicated threads (one per socket) instead of hickory's
    /// task-per-query loop.
    pub fast_udp: bool,
    /// Worker threads of the tokio runtime built by [`run`] / [`ServerHandle::spawn`].
    pub worker_threads: usize,
}

impl ServerConfig {
    pub fn new(sockets: Sockets) -> ServerConfig {
        ServerConfig {
            sockets,
            upstreams: resolv_conf_nameservers(&std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default()),
            upstream_timeout: Duration::from_millis(1500),
            tcp_idle_timeout: Duration::from_secs(10),
            max_tcp_connections: MAX_TCP_CONNECTIONS,
            max_pending_forwards: MAX_PENDING_FORWARDS,
            fast_udp: true,
            worker_threads: 2,
        }
    }
}

/// `nameserver` lines of a resolv.conf, port 53, in order. Loopback stubs
/// (127.0.0.53) are kept: the forwarder's sockets live in the host's netns,
/// where they listen.
pub fn resolv_conf_nameservers(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver")).then_some(())?;
            let addr = words.next()?;
            let ip: std::net::IpAddr = addr.split('%').next()?.parse().ok()?;
            Some(SocketAddr::new(ip, 53))
        })
        .collect()
}

/// Binds one UDP socket and one TCP listener on `addr` inside the named
/// netns (`/run/netns/<netns>`).
pub fn bind_in_netns(netns: &str, addr: SocketAddr) -> io::Result<(UdpSocket, TcpListener)> {
    let mut sockets = bind_sockets_in_netns(netns, addr, 1)?;
    Ok((sockets.udp.remove(0), sockets.tcp))
}

/// Binds `udp_sockets` `SO_REUSEPORT` UDP sockets and one TCP listener on
/// `addr` inside the named netns, from a short-lived thread that entered it.
pub fn bind_sockets_in_netns(netns: &str, addr: SocketAddr, udp_sockets: usize) -> io::Result<Sockets> {
    let handle = std::fs::File::open(format!("/run/netns/{netns}"))
        .map_err(|e| io::Error::new(e.kind(), format!("open netns {netns}: {e}")))?;
    std::thread::spawn(move || {
        nix::sched::setns(handle.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
        bind_sockets(addr, udp_sockets)
    })
    .join()
    .map_err(|_| io::Error::other("bind thread panicked"))?
}

/// Binds in the calling thread's netns.
pub fn bind_sockets(addr: SocketAddr, udp_sockets: usize) -> io::Result<Sockets> {
    use socket2::{Domain, Socket, Type};
    let domain = Domain::for_address(addr);
    let mut udp: Vec<UdpSocket> = Vec::new();
    let mut addr = addr;
    for _ in 0..udp_sockets.max(1) {
        let socket = Socket::new(domain, Type::DGRAM, None)?;
        socket.set_reuse_port(true)?;
        socket.set_recv_buffer_size(4 << 20).ok();
        socket.bind(&addr.into())?;
        let socket = UdpSocket::from(socket);
        // Port 0: the others (and TCP) take the port the first one got.
        addr = socket.local_addr()?;
        udp.push(socket);
    }
    let tcp = Socket::new(domain, Type::STREAM, None)?;
    tcp.set_reuse_address(true)?;
    tcp.bind(&addr.into())?;
    tcp.listen(1024)?;
    Ok(Sockets {
        udp,
        tcp: TcpListener::from(tcp),
    })
}

/// Serves until the future returned by `shutdown` completes.
pub async fn serve_until(
    config: ServerConfig,
    zone: SharedZone,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let forwarder = Forwarder::new(
        config.upstreams.clone(),
        config.upstream_timeout,
        config.max_pending_forwards,
    );
    let handler = Handler {
        zone: zone.clone(),
        forwarder,
    };
    let mut udp_server = hickory_server::Server::new(handler.clone());
    let runtime = tokio::runtime::Handle::current();
    let mut fast_threads = Vec::new();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    for socket in config.sockets.udp {
        if config.fast_udp {
            socket.set_read_timeout(Some(Duration::from_millis(200)))?;
            let fast = FastUdp::new(handler.clone());
            let (runtime, stop) = (runtime.clone(), stop.clone());
            fast_threads.push(
                std::thread::Builder::new()
                    .name("dns-udp".into())
                    .spawn(move || fast.run(socket, runtime, stop))?,
            );
        } else {
            socket.set_nonblocking(true)?;
            udp_server.register_socket(tokio::net::UdpSocket::from_std(socket)?);
        }
    }
    config.sockets.tcp.set_nonblocking(true)?;
    let limits = TcpLimits {
        idle_timeout: config.tcp_idle_timeout,
        max_connections: config.max_tcp_connections,
    };
    let mut tcp_server = tokio::spawn(tcp::serve(
        tokio::net::TcpListener::from_std(config.sockets.tcp)?,
        handler,
        limits,
    ));
    let result = tokio::select! {
        result = udp_server.block_until_done(), if !config.fast_udp => result.context("DNS server stopped"),
        failed = &mut tcp_server => match failed {
            Ok(error) => Err(error).context("DNS over TCP stopped"),
            Err(panic) => Err(panic).context("DNS over TCP stopped"),
        },
        () = shutdown => {
            if !config.fast_udp {
                udp_server.shutdown_gracefully().await.context("DNS server shutdown")?;
            }
            Ok(())
        }
    };
    stop.store(true, Ordering::Relaxed);
    tcp_server.abort();
    for thread in fast_threads {
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
    result
}

/// Serves forever (until a socket fails).
pub async fn serve(config: ServerConfig, zone: SharedZone) -> anyhow::Result<()> {
    serve_until(config, zone, std::future::pending()).await
}

/// Blocking: builds a multi-thread runtime and serves forever (the supervisor).
pub fn run(config: ServerConfig, zone: SharedZone) -> anyhow::Result<()> {
    runtime(config.worker_threads)?.block_on(serve(config, zone))
}

fn runtime(workers: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .thread_name("dns-worker")
        .enable_all()
        .build()
        .context("build the DNS runtime")
}

/// A server running on its own threads.
pub struct ServerHandle {
    zone: SharedZone,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
}

impl ServerHandle {
    pub fn spawn(config: ServerConfig, zone: SharedZone) -> anyhow::Result<ServerHandle> {
        let rt = runtime(config.worker_threads)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let served = zone.clone();
        let thread = std::thread::Builder::new().name("dns-server".into()).spawn(move || {
            rt.block_on(serve_until(config, served, async {
                let _ = stopped.await;
            }))
        })?;
        Ok(ServerHandle {
            zone,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn zone(&self) -> &SharedZone {
        &self.zone
    }

    /// Re-indexes the lab state (see [`SharedZone::update`]).
    pub fn update(&self, state: &LabState) {
        self.zone.update(state);
    }

    pub fn shutdown(mut self) -> anyhow::Result<()> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .map_err(|_| anyhow::anyhow!("DNS server thread panicked"))?,
            None => Ok(()),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}

/// hickory-server glue: answers from the shared zone, forwards the rest.
#[derive(Clone)]
pub struct Handler {
    zone: SharedZone,
    forwarder: Arc<Forwarder>,
}

/// What the zone alone makes of a question.
enum Local {
    Answered(Resolved),
    NeedsUpstream(Upstream),
}

/// A reply that needs an upstream: the question to forward, and what the zone
/// already answered (an ExternalName's CNAME, whose target is chased upstream).
struct Upstream {
    question: Query,
    partial: Option<Resolved>,
}

impl Upstream {
    /// The reply when no upstream can be asked: the zone's part, or SERVFAIL.
    fn unanswered(self) -> Resolved {
        self.partial.unwrap_or_else(|| Resolved::error(ResponseCode::ServFail))
    }
}

impl Handler {
    pub fn new(zone: SharedZone, forwarder: Arc<Forwarder>) -> Handler {
        Handler { zone, forwarder }
    }

    pub fn zone(&self) -> &SharedZone {
        &self.zone
    }

    /// The reply to `query` from the zone alone, or what to ask upstream.
    fn resolve_locally(&self, zone: &Zone, query: &Query) -> Local {
        match answer(zone, query) {
            Answer::Authoritative(response) => {
                let mut resolved = Resolved::authoritative(response);
                match resolved.chase.take() {
                    None => Local::Answered(resolved),
                    Some(target) => Local::NeedsUpstream(Upstream {
                        question: Query::query(target, query.query_type()),
                        partial: Some(resolved),
                    }),
                }
            }
            Answer::Forward => Local::NeedsUpstream(Upstream {
                question: query.clone(),
                partial: None,
            }),
        }
    }

    /// Asks upstream, in a slot reserved for it.
    async fn resolve_upstream(&self, upstream: Upstream, slot: Slot, protocol: Protocol) -> Resolved {
        let reply = self.forwarder.forward(&slot, &upstream.question, protocol).await;
        match (upstream.partial, reply) {
            (Some(mut resolved), Some(reply)) => {
                resolved.answers.extend(reply.answers);
                resolved
            }
            (Some(resolved), None) => resolved,
            (None, Some(reply)) => Resolved {
                rcode: reply.metadata.response_code,
                authoritative: false,
                recursion_available: reply.metadata.recursion_available,
                truncated: reply.metadata.truncation,
                answers: reply.answers,
                authority: reply.authorities,
                additional: reply.additionals,
                chase: None,
            },
            (None, None) => Resolved::error(ResponseCode::ServFail),
        }
    }

    /// The records of the reply to `query` (header bits, sections), forwarding
    /// or chasing out-of-zone CNAME targets upstream as needed, rotated.
    async fn resolve(&self, query: &Query, protocol: Protocol) -> Resolved {
        let zone = self.zone.load();
        let resolved = match self.resolve_locally(&zone, query) {
            Local::Answered(resolved) => resolved,
            Local::NeedsUpstream(upstream) => match self.forwarder.reserve() {
                Some(slot) => self.resolve_upstream(upstream, slot, protocol).await,
                None => upstream.unanswered(),
            },
        };
        resolved.balanced(query.query_type())
    }
}

/// A reply's contents before encoding.
struct Resolved {
    rcode: ResponseCode,
    authoritative: bool,
    recursion_available: bool,
    truncated: bool,
    answers: Vec<Record>,
    authority: Vec<Record>,
    additional: Vec<Record>,
    chase: Option<hickory_proto::rr::Name>,
}

impl Resolved {
    fn authoritative(response: Response) -> Resolved {
        Resolved {
            rcode: response.rcode,
            authoritative: true,
            // CoreDNS's kubernetes answers carry `qr aa rd`, no `ra`.
            recursion_available: false,
            truncated: false,
            answers: response.answers,
            authority: response.authority,
            additional: response.additional,
            chase: response.chase,
        }
    }

    fn error(rcode: ResponseCode) -> Resolved {
        Resolved {
            rcode,
            authoritative: false,
            recursion_available: false,
            truncated: false,
            answers: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
            chase: None,
        }
    }

    /// Rotated as CoreDNS's `loadbalance` does: NOERROR replies only, zone
    /// transfers never (plugin/loadbalance/loadbalance.go `WriteMsg`).
    fn balanced(mut self, query_type: RecordType) -> Resolved {
        if self.rcode != ResponseCode::NoError || matches!(query_type, RecordType::AXFR | RecordType::IXFR) {
            return self;
        }
        let rng = &mut rand::rng();
        self.answers = round_robin(self.answers, rng);
        self.authority = round_robin(self.authority, rng);
        self.additional = round_robin(self.additional, rng);
        self
    }

    fn metadata(&self, request: &Metadata) -> Metadata {
        let mut metadata = Metadata::response_from_request(request);
        metadata.authoritative = self.authoritative;
        metadata.recursion_available = self.recursion_available;
        metadata.truncation = self.truncated;
        metadata.response_code = self.rcode;
        metadata
    }
}

/// The EDNS of a reply to a request that carried one (RFC 6891 6.1.1: a
/// responder MUST include an OPT record): the client's UDP size echoed (at
/// least 512), version 0, no options. hickory's encoder truncates UDP replies
/// to the size in the reply's OPT record, so echoing it makes TC follow what
/// the client advertised.
fn reply_edns(request: Option<&Edns>) -> Option<Edns> {
    request.map(|_| {
        let mut edns = Edns::new();
        edns.set_max_payload(udp_limit(request)).set_version(0);
        edns
    })
}

/// What a reply over UDP may weigh: 512 without EDNS, else the client's
/// advertised size (at least 512).
fn udp_limit(request: Option<&Edns>) -> u16 {
    request.map_or(PLAIN_UDP_SIZE, |e| e.max_payload().max(PLAIN_UDP_SIZE))
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let edns = reply_edns(request.edns.as_ref());
        let resolved =
            if request.metadata.op_code != OpCode::Query || request.metadata.message_type != MessageType::Query {
                Resolved::error(ResponseCode::NotImp)
            } else if request.queries.queries().len() != 1 {
                Resolved::error(ResponseCode::FormErr)
            } else {
                let query = request.queries.queries()[0].original();
                if query.query_class() != DNSClass::IN {
                    Resolved::error(ResponseCode::NotImp)
                } else {
                    self.resolve(query, request.protocol()).await
                }
            };
        let metadata = resolved.metadata(&request.metadata);
        let mut builder = MessageResponseBuilder::new(&request.queries, None);
        if let Some(e) = edns.as_ref() {
            builder.edns(e);
        }
        let response = builder.build(
            metadata,
            resolved.answers.iter(),
            resolved.authority.iter(),
            std::iter::empty(),
            resolved.additional.iter(),
        );
        match response_handle.send_response(response).await {
            Ok(info) => info,
            Err(error) => {
                tracing_free_log(&format!("DNS: sending a response failed: {error}"));
                let mut metadata = Metadata::response_from_request(&request.metadata);
                metadata.response_code = ResponseCode::ServFail;
                ResponseInfo::from(Header {
                    metadata,
                    counts: Default::default(),
                })
            }
        }
    }
}

fn tracing_free_log(message: &str) {
    eprintln!("{message}");
}

/// Encodes a reply within `limit` bytes, setting TC when records had to be
/// left out (hickory's `emit_message_parts`).
fn encode_reply(
    metadata: &Metadata,
    query: &Query,
    resolved: &Resolved,
    edns: Option<&Edns>,
    limit: u16,
) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(512);
    let mut encoder = BinEncoder::new(&mut bytes);
    encoder.set_max_size(limit);
    emit_message_parts(
        metadata,
        &mut std::iter::once(query),
        &mut resolved.answers.iter(),
        &mut resolved.authority.iter(),
        &mut resolved.additional.iter(),
        edns,
        None,
        &mut encoder,
    )
    .map_err(io::Error::other)?;
    Ok(bytes)
}

/// Encoded answers kept per fast-UDP thread: a repeated question costs a copy,
/// a patched ID and a shuffle of its address records instead of building and
/// encoding the records again.
const ANSWER_CACHE_ENTRIES: usize = 4096;

/// What makes two requests get byte-identical replies but for the ID: the zone
/// version, the question as written (only all-lowercase names are cached, so the
/// question echoed in the reply is exactly the request's — answers reuse the
/// question's case), the RD and CD flags echoed in the header, and everything
/// after the question as sent (the EDNS record, echoed and used for truncation).
#[derive(PartialEq, Eq, Hash)]
struct CacheKey {
    serial: u32,
    question_and_rest: Vec<u8>,
    flags: u8,
}

fn cache_key(request: &[u8], serial: u32) -> Option<CacheKey> {
    let mut at = 12;
    loop {
        let label = *request.get(at)? as usize;
        if label == 0 {
            break;
        }
        if label > 63 {
            return None; // a compression pointer or an extended label: not cached
        }
        at += 1 + label;
    }
    let name = request.get(12..at)?;
    if name.iter().any(u8::is_ascii_uppercase) {
        return None;
    }
    // QTYPE and QCLASS follow the name's terminating zero; the additional
    // section (EDNS) follows them.
    if request.len() < at + 5 {
        return None;
    }
    Some(CacheKey {
        serial,
        question_and_rest: request[12..].to_vec(),
        flags: (request[2] & 0x01) | (request[3] & 0x10),
    })
}

struct CachedReply {
    bytes: Vec<u8>,
    runs: AddressRuns,
}

/// What the fast UDP path does with one datagram.
enum Step {
    /// Not a query (or not even a message): no reply.
    Ignore,
    Reply(Vec<u8>),
    /// Needs an upstream: finished on the runtime, in the slot it holds.
    Forward(Box<Forwarded>),
}

struct Forwarded {
    request: Metadata,
    query: Query,
    upstream: Upstream,
    slot: Slot,
    edns: Option<Edns>,
    limit: u16,
}

/// The fast UDP path: one blocking socket per thread; in-zone questions are
/// answered on this thread, others handed to the runtime.
struct FastUdp {
    handler: Handler,
    cache: HashMap<CacheKey, CachedReply>,
    scratch: Vec<u8>,
}

impl FastUdp {
    fn new(handler: Handler) -> FastUdp {
        FastUdp {
            handler,
            cache: HashMap::new(),
            scratch: Vec::new(),
        }
    }

    fn run(mut self, socket: UdpSocket, runtime: tokio::runtime::Handle, stop: Arc<std::sync::atomic::AtomicBool>) {
        let socket = Arc::new(socket);
        let mut buf = vec![0u8; 4096];
        while !stop.load(Ordering::Relaxed) {
            let (len, src) = match socket.recv_from(&mut buf) {
                Ok(received) => received,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                    ) =>
                {
                    continue;
                }
                Err(e) => {
                    tracing_free_log(&format!("DNS: UDP receive failed: {e}"));
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            };
            match self.step(&buf[..len]) {
                Step::Ignore => {}
                Step::Reply(bytes) => {
                    let _ = socket.send_to(&bytes, src);
                }
                Step::Forward(forwarded) => {
                    let (socket, handler) = (socket.clone(), self.handler.clone());
                    runtime.spawn(async move {
                        if let Some(bytes) = handler.finish(*forwarded).await {
                            let _ = socket.send_to(&bytes, src);
                        }
                    });
                }
            }
        }
    }

    /// The reply to one datagram, or the work left for the runtime.
    fn step(&mut self, packet: &[u8]) -> Step {
        let Ok(request) = Message::from_vec(packet) else {
            return Step::Ignore;
        };
        if request.metadata.message_type != MessageType::Query {
            return Step::Ignore;
        }
        let edns = reply_edns(request.edns.as_ref());
        let limit = udp_limit(request.edns.as_ref());
        let query = match (request.metadata.op_code, request.queries.as_slice()) {
            (OpCode::Query, [query]) if query.query_class() == DNSClass::IN => query.clone(),
            _ => {
                let metadata = Resolved::error(ResponseCode::NotImp).metadata(&request.metadata);
                let mut bytes = Vec::with_capacity(64);
                let mut encoder = BinEncoder::new(&mut bytes);
                let header = Header {
                    metadata,
                    counts: Default::default(),
                };
                return match header.emit(&mut encoder) {
                    Ok(()) => Step::Reply(bytes),
                    Err(_) => Step::Ignore,
                };
            }
        };
        let zone = self.handler.zone.load();
        let key = cache_key(packet, zone.serial());
        if let Some(cached) = key.as_ref().and_then(|k| self.cache.get_mut(k)) {
            let mut reply = cached.bytes.clone();
            reply[..2].copy_from_slice(&packet[..2]);
            cached.runs.shuffle(&mut reply, &mut rand::rng(), &mut self.scratch);
            return Step::Reply(reply);
        }
        let (resolved, cacheable) = match self.handler.resolve_locally(&zone, &query) {
            Local::Answered(resolved) => (resolved, true),
            Local::NeedsUpstream(upstream) => match self.handler.forwarder.reserve() {
                Some(slot) => {
                    return Step::Forward(Box::new(Forwarded {
                        request: request.metadata,
                        query,
                        upstream,
                        slot,
                        edns,
                        limit,
                    }));
                }
                // Depends on the slots free now: never cached.
                None => (upstream.unanswered(), false),
            },
        };
        let resolved = resolved.balanced(query.query_type());
        let metadata = resolved.metadata(&request.metadata);
        let Ok(bytes) = encode_reply(&metadata, &query, &resolved, edns.as_ref(), limit) else {
            return Step::Ignore;
        };
        if cacheable
            && let Some(key) = key
            && let Some(runs) = AddressRuns::find(&bytes)
        {
            if self.cache.len() >= ANSWER_CACHE_ENTRIES
                || self.cache.keys().next().is_some_and(|k| k.serial != key.serial)
            {
                self.cache.clear();
            }
            self.cache.insert(
                key,
                CachedReply {
                    bytes: bytes.clone(),
                    runs,
                },
            );
        }
        Step::Reply(bytes)
    }
}

impl Handler {
    /// The encoded reply to a question the fast UDP path handed over.
    async fn finish(&self, forwarded: Forwarded) -> Option<Vec<u8>> {
        let Forwarded {
            request,
            query,
            upstream,
            slot,
            edns,
            limit,
        } = forwarded;
        let resolved = self
            .resolve_upstream(upstream, slot, Protocol::Udp)
            .await
            .balanced(query.query_type());
        let metadata = resolved.metadata(&request);
        encode_reply(&metadata, &query, &resolved, edns.as_ref(), limit).ok()
    }
}

#[cfg(test)]
#[path = "server_fuzz_tests.rs"]
mod fuzz;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_nameservers_keep_order_and_stubs() {
        let text = "# comment\nsearch example.com\nnameserver 10.255.255.53\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\noptions ndots:1\n";
        let servers = resolv_conf_nameservers(text);
        assert_eq!(
            servers,
            vec![
                "10.255.255.53:53".parse().unwrap(),
                "127.0.0.53:53".parse().unwrap(),
                "[fe80::1]:53".parse().unwrap(),
            ]
        );
    }

    #[test]
    fn reuseport_sockets_share_one_port() {
        let sockets = bind_sockets("127.0.0.1:0".parse().unwrap(), 3).unwrap();
        let port = sockets.udp[0].local_addr().unwrap().port();
        assert!(sockets.udp.iter().all(|s| s.local_addr().unwrap().port() == port));
        assert_eq!(sockets.tcp.local_addr().unwrap().port(), port);
    }

    #[test]
    fn only_lowercase_questions_are_cached_and_ids_do_not_matter() {
        // id 0x1234, RD set, one question: "ab.c" A IN
        let request = |id: u8, name: &[u8]| {
            let mut r = vec![0x12, id, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
            r.extend_from_slice(name);
            r.extend_from_slice(&[0, 1, 0, 1]);
            r
        };
        let a = cache_key(&request(1, b"\x02ab\x01c\x00"), 7).unwrap();
        let b = cache_key(&request(2, b"\x02ab\x01c\x00"), 7).unwrap();
        assert!(a == b, "the ID is not part of the key");
        assert!(
            cache_key(&request(1, b"\x02ab\x01c\x00"), 8).unwrap() != a,
            "a new zone serial misses"
        );
        assert!(
            cache_key(&request(1, b"\x02aB\x01c\x00"), 7).is_none(),
            "mixed case is never cached"
        );
        assert!(cache_key(&request(1, b"\x02ab"), 7).is_none(), "truncated question");
    }

    #[test]
    fn udp_limit_follows_edns() {
        assert_eq!(udp_limit(None), 512);
        let mut edns = Edns::new();
        edns.set_max_payload(4096);
        assert_eq!(udp_limit(Some(&edns)), 4096);
        edns.set_max_payload(100);
        assert_eq!(udp_limit(Some(&edns)), 512);
    }
}
