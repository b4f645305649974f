//! Rotation of address records per query, as CoreDNS's `loadbalance` plugin
//! does (it is in kind's and kubeadm's default Corefile; coredns
//! plugin/loadbalance/loadbalance.go, `randomShuffle` and `roundRobin`): in a
//! NOERROR reply, every section (answer, authority, additional) of two or more
//! records is reordered. A section of only A or only AAAA records is shuffled;
//! any other keeps CNAMEs first, then the other types in order, then the A/AAAA
//! records shuffled, then the MX records shuffled.
//!
//! [`round_robin`] does it to records before encoding; [`AddressRuns`] does it
//! to an already encoded reply (the fast UDP path's cache), moving whole
//! records' bytes.

use std::ops::Range;

use hickory_proto::rr::{Record, RecordType};
use rand::Rng;
use rand::seq::SliceRandom;

/// One section reordered as CoreDNS's `roundRobin` does.
pub fn round_robin<R: Rng + ?Sized>(records: Vec<Record>, rng: &mut R) -> Vec<Record> {
    if records.len() <= 1 {
        return records;
    }
    let first = records[0].record_type();
    if is_address(first) && records.iter().all(|r| r.record_type() == first) {
        let mut records = records;
        records.shuffle(rng);
        return records;
    }
    let (mut cname, mut address, mut mx, mut rest) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for record in records {
        match record.record_type() {
            RecordType::CNAME => cname.push(record),
            t if is_address(t) => address.push(record),
            RecordType::MX => mx.push(record),
            _ => rest.push(record),
        }
    }
    address.shuffle(rng);
    mx.shuffle(rng);
    cname.extend(rest);
    cname.extend(address);
    cname.extend(mx);
    cname
}

fn is_address(t: RecordType) -> bool {
    matches!(t, RecordType::A | RecordType::AAAA)
}

/// Where the address records of an encoded reply lie, so that a copy of it can
/// be rotated without decoding it. Each run is the contiguous A/AAAA records of
/// one section, in the order [`round_robin`] encoded them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressRuns(Vec<Run>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Run {
    span: Range<usize>,
    records: Vec<Range<usize>>,
}

/// One resource record of an encoded message.
struct Encoded {
    bytes: Range<usize>,
    record_type: u16,
    /// The owner name is a bare compression pointer (RFC 1035 4.1.4): no label
    /// of the record is written here, so no later pointer can point into it.
    owner_is_pointer: bool,
}

const TYPE_A: u16 = 1;
const TYPE_AAAA: u16 = 28;
const TYPE_MX: u16 = 15;

impl AddressRuns {
    /// The runs of `reply`, or None when it cannot be rotated in its encoded
    /// form: address records not contiguous or written with a full owner name
    /// (a later record may point into them), two or more MX records (their
    /// data holds names), or a message that does not parse.
    pub fn find(reply: &[u8]) -> Option<AddressRuns> {
        let count = |at: usize| Some(u16::from_be_bytes([*reply.get(at)?, *reply.get(at + 1)?]) as usize);
        let rcode = reply.get(3)? & 0x0f;
        let (questions, sections) = (count(4)?, [count(6)?, count(8)?, count(10)?]);
        if rcode != 0 {
            return Some(AddressRuns(Vec::new()));
        }
        let mut at = 12;
        for _ in 0..questions {
            at = skip_name(reply, at)?.0 + 4;
        }
        let mut runs = Vec::new();
        for records in sections {
            let mut section = Vec::with_capacity(records);
            for _ in 0..records {
                let (record, end) = read_record(reply, at)?;
                section.push(record);
                at = end;
            }
            if section.iter().filter(|r| r.record_type == TYPE_MX).count() > 1 {
                return None;
            }
            let addresses: Vec<usize> = (0..section.len())
                .filter(|&i| matches!(section[i].record_type, TYPE_A | TYPE_AAAA))
                .collect();
            if addresses.len() < 2 {
                continue;
            }
            let contiguous = addresses.windows(2).all(|w| w[1] == w[0] + 1);
            if !contiguous || addresses.iter().any(|&i| !section[i].owner_is_pointer) {
                return None;
            }
            let records: Vec<Range<usize>> = addresses.iter().map(|&i| section[i].bytes.clone()).collect();
            runs.push(Run {
                span: records[0].start..records[records.len() - 1].end,
                records,
            });
        }
        Some(AddressRuns(runs))
    }

    /// Shuffles the address records of `reply` (the message these runs were
    /// found in, or a copy of it) in place; `scratch` is reused between calls.
    pub fn shuffle<R: Rng + ?Sized>(&mut self, reply: &mut [u8], rng: &mut R, scratch: &mut Vec<u8>) {
        for run in &mut self.0 {
            scratch.clear();
            scratch.extend_from_slice(&reply[run.span.clone()]);
            // The record ranges are relative to the original layout, which the
            // copy in `scratch` keeps; their order is what gets shuffled.
            run.records.shuffle(rng);
            let mut at = run.span.start;
            for record in &run.records {
                let len = record.len();
                let from = record.start - run.span.start;
                reply[at..at + len].copy_from_slice(&scratch[from..from + len]);
                at += len;
            }
        }
    }
}

/// The end of the name at `at` and whether it is a bare pointer.
fn skip_name(message: &[u8], mut at: usize) -> Option<(usize, bool)> {
    let start = at;
    loop {
        let len = *message.get(at)?;
        match len {
            0 => return Some((at + 1, false)),
            l if l & 0xc0 == 0xc0 => {
                message.get(at + 1)?;
                return Some((at + 2, at == start));
            }
            l if l & 0xc0 == 0 => at += 1 + l as usize,
            _ => return None, // extended label types (RFC 6891 section 5)
        }
    }
}

fn read_record(message: &[u8], at: usize) -> Option<(Encoded, usize)> {
    let (fixed, owner_is_pointer) = skip_name(message, at)?;
    let field = |offset: usize| Some(u16::from_be_bytes([*message.get(offset)?, *message.get(offset + 1)?]));
    let record_type = field(fixed)?;
    let rdata_len = field(fixed + 8)? as usize;
    let end = fixed + 10 + rdata_len;
    if end > message.len() {
        return None;
    }
    Some((
        Encoded {
            bytes: at..end,
            record_type,
            owner_is_pointer,
        },
        end,
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::net::{Ipv4Addr, Ipv6Addr};

    use hickory_proto::op::{Message, MessageType, OpCode, Query};
    use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, SRV};
    use hickory_proto::rr::{Name, RData};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn name(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    fn a(owner: &str, last: u8) -> Record {
        Record::from_rdata(name(owner), 30, RData::A(A(Ipv4Addr::new(10, 0, 0, last))))
    }

    fn aaaa(owner: &str, last: u16) -> Record {
        Record::from_rdata(
            name(owner),
            30,
            RData::AAAA(AAAA(Ipv6Addr::new(0xfd, 0, 0, 0, 0, 0, 0, last))),
        )
    }

    fn cname(owner: &str, target: &str) -> Record {
        Record::from_rdata(name(owner), 30, RData::CNAME(CNAME(name(target))))
    }

    fn srv(owner: &str, target: &str) -> Record {
        Record::from_rdata(name(owner), 30, RData::SRV(SRV::new(0, 50, 80, name(target))))
    }

    fn mx(owner: &str, preference: u16) -> Record {
        Record::from_rdata(name(owner), 30, RData::MX(MX::new(preference, name("mail.example."))))
    }

    fn orders(mut shuffle: impl FnMut(&mut StdRng) -> Vec<String>) -> BTreeSet<Vec<String>> {
        let mut rng = StdRng::seed_from_u64(7);
        (0..200).map(|_| shuffle(&mut rng)).collect()
    }

    fn shown(records: &[Record]) -> Vec<String> {
        records.iter().map(|r| r.data.to_string()).collect()
    }

    #[test]
    fn addresses_alone_take_every_order() {
        let records: Vec<Record> = (1..=3).map(|i| a("web.", i)).collect();
        let seen = orders(|rng| shown(&round_robin(records.clone(), rng)));
        assert_eq!(seen.len(), 6, "all 3! orders of three records: {seen:?}");
        let one = vec![a("web.", 1)];
        assert_eq!(round_robin(one.clone(), &mut StdRng::seed_from_u64(1)), one);
    }

    #[test]
    fn mixed_sections_keep_cname_first_and_other_types_in_place() {
        let records = vec![
            a("x.", 1),
            mx("x.", 20),
            cname("alias.", "x."),
            srv("_s._tcp.x.", "b."),
            aaaa("x.", 1),
            srv("_s._tcp.x.", "a."),
            mx("x.", 10),
        ];
        let seen = orders(|rng| shown(&round_robin(records.clone(), rng)));
        for order in &seen {
            assert_eq!(order[0], "x.", "CNAME first: {order:?}");
            assert_eq!(order[1..3], ["0 50 80 b.", "0 50 80 a."], "others in order: {order:?}");
            let addresses: BTreeSet<&str> = order[3..5].iter().map(String::as_str).collect();
            assert_eq!(addresses, BTreeSet::from(["10.0.0.1", "fd::1"]));
            assert!(
                order[5..].iter().all(|m| m.ends_with("mail.example.")),
                "MX last: {order:?}"
            );
        }
        assert_eq!(seen.len(), 4, "2 address orders × 2 MX orders: {seen:?}");
    }

    fn encoded(answers: Vec<Record>, additionals: Vec<Record>) -> Vec<u8> {
        let mut message = Message::new(9, MessageType::Response, OpCode::Query);
        message.add_query(Query::query(name("web.default.svc.cluster.local."), RecordType::A));
        message.answers = answers;
        message.additionals = additionals;
        message.to_vec().unwrap()
    }

    #[test]
    fn encoded_replies_rotate_like_decoded_ones() {
        let owner = "web.default.svc.cluster.local.";
        let answers = vec![a(owner, 1), aaaa(owner, 2), a(owner, 3)];
        let additionals = vec![srv("_s._tcp.x.", "b."), a(owner, 4), a(owner, 5)];
        let original = encoded(answers.clone(), additionals.clone());
        let mut runs = AddressRuns::find(&original).expect("rotatable");
        let mut rng = StdRng::seed_from_u64(3);
        let mut scratch = Vec::new();
        let mut seen = BTreeSet::new();
        for _ in 0..200 {
            let mut reply = original.clone();
            runs.shuffle(&mut reply, &mut rng, &mut scratch);
            let message = Message::from_vec(&reply).expect("still a valid message");
            assert_eq!(message.metadata.id, 9);
            let mut got = shown(&message.answers);
            got.sort();
            let mut want = shown(&answers);
            want.sort();
            assert_eq!(got, want);
            assert_eq!(shown(&message.additionals[..1]), ["0 50 80 b."]);
            seen.insert((shown(&message.answers), shown(&message.additionals)));
        }
        assert_eq!(seen.len(), 12, "3! answer orders × 2 additional orders");
    }

    #[test]
    fn encoded_replies_that_cannot_rotate_in_place_are_refused() {
        // Two MX records: their data holds names.
        assert!(AddressRuns::find(&encoded(vec![mx("x.", 1), mx("x.", 2)], vec![])).is_none());
        // Addresses split by another type.
        let owner = "web.default.svc.cluster.local.";
        let split = encoded(vec![a(owner, 1), srv(owner, "y."), a(owner, 2)], vec![]);
        assert!(AddressRuns::find(&split).is_none());
        // Garbage and truncated messages.
        assert!(AddressRuns::find(&[0; 5]).is_none());
        let whole = encoded(vec![a(owner, 1), a(owner, 2)], vec![]);
        assert!(AddressRuns::find(&whole[..whole.len() - 1]).is_none());
        // A single address, or an error reply: nothing to do.
        let runs = AddressRuns::find(&encoded(vec![a("x.", 1)], vec![])).unwrap();
        assert_eq!(runs, AddressRuns(Vec::new()));
    }
}
