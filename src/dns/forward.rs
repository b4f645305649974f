//! Questions for names outside the cluster zone, sent to the upstream
//! nameservers with hickory's own DNS client: every question over UDP goes out
//! from a fresh socket on a random source port with a random query ID, and a
//! reply counts only when its source, ID and question match
//! (hickory-net `UdpClientStream`); a truncated reply to a client that asked
//! over TCP is asked again over TCP (`TcpClientStream`).
//!
//! At most `max_pending` questions are out at once: a question that finds no
//! free slot gets SERVFAIL at once instead of queueing behind a silent
//! upstream (CoreDNS's `forward` has the same knob, `max_concurrent`).
//!
//! The sockets are opened on the runtime's worker threads, which never change
//! namespace: they live in the netns of the process that started the server —
//! for the supervisor, the host's — so the nameservers of the host's
//! resolv.conf (loopback stubs such as 127.0.0.53 included) are reachable
//! exactly as from the host, and nothing changes in the root netns.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use hickory_proto::op::{DnsRequest, DnsRequestOptions, Message, Query};
use hickory_server::net::runtime::TokioRuntimeProvider;
use hickory_server::net::runtime::iocompat::AsyncIoTokioAsStd;
use hickory_server::net::tcp::TcpClientStream;
use hickory_server::net::udp::UdpClientStream;
use hickory_server::net::xfer::{DnsHandle, DnsRequestSender, Protocol};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Our EDNS UDP size (RFC 9715 / DNS flag day 2020).
pub const EDNS_UDP_SIZE: u16 = 1232;

/// The shortest budget a TCP retry of a truncated reply gets.
const MIN_TCP_BUDGET: Duration = Duration::from_millis(500);

/// Upstreams are tried in order, the next one after `timeout / n`; a question
/// gets no reply after `timeout` in all, and the client then gets SERVFAIL.
pub struct Forwarder {
    upstreams: Vec<SocketAddr>,
    timeout: Duration,
    slots: Arc<Semaphore>,
    provider: TokioRuntimeProvider,
}

/// One of the forwarder's pending-question slots, held until the question is
/// answered or given up.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

impl Forwarder {
    pub fn new(upstreams: Vec<SocketAddr>, timeout: Duration, max_pending: usize) -> Arc<Forwarder> {
        Arc::new(Forwarder {
            upstreams,
            timeout,
            slots: Arc::new(Semaphore::new(max_pending)),
            provider: TokioRuntimeProvider::new(),
        })
    }

    pub fn upstreams(&self) -> &[SocketAddr] {
        &self.upstreams
    }

    /// A slot for one question, or None when there is no upstream or every
    /// slot is taken.
    pub fn reserve(&self) -> Option<Slot> {
        if self.upstreams.is_empty() {
            return None;
        }
        self.slots
            .clone()
            .try_acquire_owned()
            .ok()
            .map(|permit| Slot { _permit: permit })
    }

    fn request(query: &Query) -> DnsRequest {
        let mut options = DnsRequestOptions::default();
        options.use_edns = true;
        options.edns_payload_len = EDNS_UDP_SIZE;
        options.recursion_desired = true;
        DnsRequest::from_query(query.clone(), options)
    }

    /// The upstream reply to `query`, or None when no upstream answered in time.
    pub async fn forward(&self, _slot: &Slot, query: &Query, protocol: Protocol) -> Option<Message> {
        let deadline = Instant::now() + self.timeout;
        let step = self.timeout / self.upstreams.len().max(1) as u32;
        let mut answered = None;
        for (i, &upstream) in self.upstreams.iter().enumerate() {
            let until = if i + 1 == self.upstreams.len() {
                deadline
            } else {
                (Instant::now() + step).min(deadline)
            };
            let budget = until.saturating_duration_since(Instant::now());
            if budget.is_zero() {
                break;
            }
            let mut udp = UdpClientStream::builder(upstream, self.provider.clone())
                .with_timeout(Some(budget))
                .with_max_retries(1)
                .build();
            // The stream keeps nothing the question needs: the future it
            // returns owns its socket.
            if let Some(Ok(reply)) = udp.send_message(Self::request(query)).next().await {
                answered = Some((reply.into_message(), upstream));
                break;
            }
        }
        let (reply, upstream) = answered?;
        if reply.metadata.truncation && protocol == Protocol::Tcp {
            let budget = deadline.saturating_duration_since(Instant::now()).max(MIN_TCP_BUDGET);
            return self.forward_tcp(query, upstream, budget).await;
        }
        Some(reply)
    }

    async fn forward_tcp(&self, query: &Query, upstream: SocketAddr, budget: Duration) -> Option<Message> {
        let ask = async {
            let exchange = TcpClientStream::<AsyncIoTokioAsStd<tokio::net::TcpStream>>::exchange(
                upstream,
                None,
                budget,
                Some(1),
                self.provider.clone(),
            )
            .await
            .ok()?;
            let reply = exchange.send(Self::request(query)).next().await?.ok()?;
            Some(reply.into_message())
        };
        tokio::time::timeout(budget, ask).await.ok().flatten()
    }
}
