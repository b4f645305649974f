//! A bounded fuzz of the message path, run with the unit tests (so in CI):
//! random bytes, mutated valid queries and valid queries go through what the
//! server does with a UDP datagram — the fast path's [`FastUdp::step`] and
//! hickory's request parsing into [`Handler`] — and through the encoded-reply
//! rotation. Nothing may panic, and every datagram that parses as a query gets
//! a reply with its ID that parses in turn. `LABCTL_DNS_FUZZ_SEED` and
//! `LABCTL_DNS_FUZZ_ROUNDS` replay or lengthen a run.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::StreamExt;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use hickory_server::net::BufDnsStreamHandle;
use hickory_server::net::runtime::TokioTime;
use hickory_server::server::{Request, RequestHandler, ResponseHandle};
use rand::rngs::StdRng;
use rand::{Rng, RngExt, SeedableRng};

use super::*;
use crate::dns::records::DEFAULT_TTL;
use crate::fixture::{self, add, external_name};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn zone() -> SharedZone {
    let mut lab = fixture::seed_lab();
    add(
        &mut lab,
        external_name("default", "search", "www.example.com"),
        vec![],
        &[],
    );
    fixture::big_headless(&mut lab, "big", 60, true);
    SharedZone::from_state(&lab, DEFAULT_TTL)
}

/// Valid queries the mutations start from: cluster names of every kind, case
/// mixed, with and without EDNS, names outside the zone.
fn valid_queries() -> Vec<Vec<u8>> {
    let questions = [
        ("nginx-headless.default.svc.cluster.local.", RecordType::A),
        ("NGINX-Headless.default.svc.cluster.local.", RecordType::A),
        ("nginx-clusterip.default.svc.cluster.local.", RecordType::AAAA),
        ("_redis._tcp.redis-headless.default.svc.cluster.local.", RecordType::SRV),
        ("redis-0.redis-headless.default.svc.cluster.local.", RecordType::A),
        ("big.default.svc.cluster.local.", RecordType::A),
        ("_http._tcp.big.default.svc.cluster.local.", RecordType::SRV),
        ("search.default.svc.cluster.local.", RecordType::A),
        ("67.204.96.10.in-addr.arpa.", RecordType::PTR),
        ("1.0.168.192.in-addr.arpa.", RecordType::PTR),
        ("dns-version.cluster.local.", RecordType::TXT),
        ("nope.default.svc.cluster.local.", RecordType::A),
        ("cluster.local.", RecordType::SOA),
        ("www.example.com.", RecordType::A),
        ("default.svc.cluster.local.", RecordType::ANY),
    ];
    let mut out = Vec::new();
    for (name, qtype) in questions {
        for edns in [None, Some(512), Some(1232), Some(4096)] {
            let mut message = Message::new(0, MessageType::Query, OpCode::Query);
            message.metadata.recursion_desired = true;
            message.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
            if let Some(size) = edns {
                let mut e = Edns::new();
                e.set_max_payload(size);
                message.set_edns(e);
            }
            out.push(message.to_vec().unwrap());
        }
    }
    out
}

fn mutate(rng: &mut StdRng, packet: &mut Vec<u8>) {
    for _ in 0..rng.random_range(1..=4) {
        match rng.random_range(0..5) {
            0 if !packet.is_empty() => {
                let at = rng.random_range(0..packet.len());
                packet[at] ^= 1 << rng.random_range(0..8);
            }
            1 if !packet.is_empty() => {
                let at = rng.random_range(0..packet.len());
                packet[at] = rng.random();
            }
            2 => packet.truncate(rng.random_range(0..=packet.len())),
            3 => {
                let at = rng.random_range(0..=packet.len());
                packet.insert(at, rng.random());
            }
            // The section counts (bytes 4..12): the parser's favourite lies.
            _ if packet.len() >= 12 => {
                let at = rng.random_range(4..12);
                packet[at] = rng.random();
            }
            _ => {}
        }
    }
}

fn random_packet(rng: &mut StdRng) -> Vec<u8> {
    let mut packet = vec![0u8; rng.random_range(0..600)];
    rng.fill_bytes(&mut packet);
    if packet.len() > 2 && rng.random_bool(0.5) {
        packet[2] &= 0x7f; // QR = query, so that more get past the first check
    }
    packet
}

/// What a datagram should get: Some(id) when it parses as a query.
fn expects_reply(packet: &[u8]) -> Option<u16> {
    let message = Message::from_vec(packet).ok()?;
    (message.metadata.message_type == MessageType::Query).then_some(message.metadata.id)
}

#[test]
fn fuzzed_datagrams_never_panic_and_every_query_gets_its_id_back() {
    let seed = env_or("LABCTL_DNS_FUZZ_SEED", 0x00d1_5ea5e);
    let rounds = env_or("LABCTL_DNS_FUZZ_ROUNDS", 60_000);
    let mut rng = StdRng::seed_from_u64(seed);
    // No upstream: out-of-zone questions get SERVFAIL at once, and nothing
    // leaves the machine.
    let handler = Handler::new(zone(), Forwarder::new(vec![], Duration::from_millis(100), 4));
    let mut fast = FastUdp::new(handler.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let src: SocketAddr = "192.168.1.2:5353".parse().unwrap();
    let valid = valid_queries();
    let started = Instant::now();
    let mut answered = 0usize;
    for round in 0..rounds {
        let mut packet = valid[rng.random_range(0..valid.len())].clone();
        match round % 3 {
            0 => packet = random_packet(&mut rng),
            1 => mutate(&mut rng, &mut packet),
            _ => {}
        }
        if packet.len() >= 2 {
            let id: u16 = rng.random();
            packet[..2].copy_from_slice(&id.to_be_bytes());
        }
        let expected = expects_reply(&packet);
        let context = || format!("seed {seed:#x} round {round}: {packet:02x?}");

        // The fast UDP path.
        match fast.step(&packet) {
            Step::Reply(reply) => {
                let id = expected.unwrap_or_else(|| panic!("a reply to a non-query, {}", context()));
                let reply =
                    Message::from_vec(&reply).unwrap_or_else(|e| panic!("reply does not parse ({e}), {}", context()));
                assert_eq!(reply.metadata.id, id, "{}", context());
                assert_eq!(reply.metadata.message_type, MessageType::Response, "{}", context());
                answered += 1;
            }
            Step::Ignore => assert!(expected.is_none(), "a query got no reply, {}", context()),
            Step::Forward(_) => panic!("forwarded without an upstream, {}", context()),
        }

        // hickory's parsing and the RequestHandler (TCP, and UDP with fast_udp off).
        let Ok(request) = Request::from_bytes(packet.clone(), src, Protocol::Udp) else {
            continue;
        };
        if request.metadata.message_type != MessageType::Query {
            continue;
        }
        let (replies, mut sent) = BufDnsStreamHandle::new(src);
        let reply = runtime.block_on(async {
            handler
                .handle_request::<_, TokioTime>(&request, ResponseHandle::new(src, replies, Protocol::Udp))
                .await;
            sent.next().await
        });
        let reply = reply.unwrap_or_else(|| panic!("the handler sent nothing, {}", context()));
        let reply = Message::from_vec(reply.bytes()).unwrap_or_else(|e| panic!("handler reply ({e}), {}", context()));
        assert_eq!(reply.metadata.id, request.metadata.id, "{}", context());
    }
    assert!(
        answered > rounds as usize / 3,
        "only {answered} of {rounds} datagrams answered"
    );
    eprintln!("{rounds} datagrams in {:?}", started.elapsed());
}
