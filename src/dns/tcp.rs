//! DNS over TCP with a cap on open connections. hickory-server's listener
//! (0.26 `handle_tcp`) accepts without limit, and when accept fails with
//! EMFILE it retries at once, forever: idle connections up to the open-file
//! limit take TCP DNS down and keep a core busy. Here, hickory's framing
//! (`TcpStream`), idle timeout (`TimeoutStream`) and request handling
//! ([`Handler`] as a `RequestHandler`) serve each connection; a new connection
//! beyond `max_connections`, or an accept that finds no file descriptor left,
//! closes the connection idle the longest.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use hickory_proto::op::MessageType;
use hickory_server::net::runtime::TokioTime;
use hickory_server::net::runtime::iocompat::AsyncIoTokioAsStd;
use hickory_server::net::tcp::TcpStream;
use hickory_server::net::xfer::Protocol;
use hickory_server::server::{Request, RequestHandler, ResponseHandle, TimeoutStream};
use tokio::task::{AbortHandle, JoinSet};

use super::server::Handler;

pub struct TcpLimits {
    /// A connection with no query for this long is closed.
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

/// When a connection last had a query, in milliseconds since the listener started.
struct Connection {
    last_active: Arc<AtomicU64>,
    abort: AbortHandle,
}

/// Accepts and serves connections until the listener fails.
pub async fn serve(listener: tokio::net::TcpListener, handler: Handler, limits: TcpLimits) -> std::io::Error {
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    let mut open: HashMap<tokio::task::Id, Connection> = HashMap::new();
    loop {
        while let Some(done) = tasks.try_join_next_with_id() {
            let id = match done {
                Ok((id, ())) => id,
                Err(e) => e.id(),
            };
            open.remove(&id);
        }
        let (stream, src) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) if is_out_of_descriptors(&e) => {
                close_idlest(&mut open);
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
            Err(e) if is_per_connection(&e) => continue,
            Err(e) => return e,
        };
        if open.len() >= limits.max_connections {
            close_idlest(&mut open);
        }
        let last_active = Arc::new(AtomicU64::new(millis_since(started)));
        let abort = tasks.spawn(connection(
            stream,
            src,
            handler.clone(),
            limits.idle_timeout,
            (started, last_active.clone()),
        ));
        open.insert(abort.id(), Connection { last_active, abort });
    }
}

fn millis_since(started: Instant) -> u64 {
    started.elapsed().as_millis() as u64
}

fn close_idlest(open: &mut HashMap<tokio::task::Id, Connection>) {
    let idlest = open
        .iter()
        .min_by_key(|(_, c)| c.last_active.load(Ordering::Relaxed))
        .map(|(id, _)| *id);
    if let Some(connection) = idlest.and_then(|id| open.remove(&id)) {
        connection.abort.abort();
    }
}

/// accept(2) errors that say the process or system is out of file
/// descriptors or memory: they last until a descriptor is closed.
fn is_out_of_descriptors(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// accept(2) errors about the one connection being accepted (accept(2),
/// "Error handling": Linux passes already-pending network errors up).
fn is_per_connection(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(
            libc::ECONNABORTED
                | libc::EPROTO
                | libc::EPERM
                | libc::EINTR
                | libc::ENETDOWN
                | libc::ENOPROTOOPT
                | libc::EHOSTDOWN
                | libc::ENONET
                | libc::EHOSTUNREACH
                | libc::EOPNOTSUPP
                | libc::ENETUNREACH
                | libc::ETIMEDOUT
                | libc::EAGAIN
        )
    )
}

async fn connection(
    stream: tokio::net::TcpStream,
    src: SocketAddr,
    handler: Handler,
    idle_timeout: Duration,
    (started, last_active): (Instant, Arc<AtomicU64>),
) {
    let (frames, replies) = TcpStream::from_stream(AsyncIoTokioAsStd(stream), src);
    let mut frames = TimeoutStream::new(frames, idle_timeout);
    while let Some(Ok(message)) = frames.next().await {
        last_active.store(millis_since(started), Ordering::Relaxed);
        let (bytes, src) = message.into_parts();
        // A message that does not parse gets no reply (nor on the fast UDP
        // path); a response gets none either, as in hickory-server (reflection).
        let Ok(request) = Request::from_bytes(bytes, src, Protocol::Tcp) else {
            continue;
        };
        if request.metadata.message_type == MessageType::Response {
            continue;
        }
        let reply_to = ResponseHandle::new(src, replies.clone(), Protocol::Tcp);
        handler.handle_request::<_, TokioTime>(&request, reply_to).await;
    }
}
