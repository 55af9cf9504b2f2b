//! SFrame over RTP (draft-ietf-avtcore-rtp-sframe §5.2): arbitrary packet sequences into a
//! fixed-capacity `rtp::Depacketizer` with decryption by a real `Receiver`. Mixes the packets
//! of frames protected under the receiver's key (in any order, repeated, bit-flipped) with
//! arbitrary bytes. Must hold: no panic; the depacketizer never exceeds its capacity (fixed by
//! its type: 16 packets, 4096 bytes); every delivered plaintext is one the harness protected,
//! and none is delivered twice.
#![no_main]

use std::collections::BTreeSet;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sframe_core::rtp::{Depacketizer, Mode, RtpHeader, protect_frame};
use sframe_core::{CipherSuite, Receiver, Sender};

const SSRC: u32 = 0x0bad_cafe;
const KEY: [u8; 16] = [0x42; 16];
const PACKETS: usize = 16;
const BYTES: usize = 4096;

#[derive(Arbitrary, Debug)]
enum Op {
    /// Push the `i`-th genuine packet (modulo their number).
    Genuine(u16),
    /// Push the `i`-th genuine packet with one byte XORed.
    Flipped { i: u16, at: u16, xor: u8 },
    /// Push the `i`-th genuine packet with another sequence number.
    Renumbered { i: u16, seq: u16 },
    /// Push arbitrary bytes.
    Raw(Vec<u8>),
    /// Pop decrypted frames until none is ready.
    Pop,
    /// Evict packets before a timestamp.
    Evict(u32),
}

#[derive(Arbitrary, Debug)]
struct Input {
    suite: u8,
    per_packet: bool,
    max_payload: u16,
    first_seq: u16,
    frame_lens: Vec<u16>,
    ops: Vec<Op>,
}

fuzz_target!(|input: Input| {
    let suite = CipherSuite::ALL[usize::from(input.suite) % CipherSuite::ALL.len()];
    let mode = if input.per_packet {
        Mode::PerPacket
    } else {
        Mode::PerFrame
    };
    let max_payload = usize::from(input.max_payload % 1500).max(2);

    // Genuine frames: plaintext i starts with i, so plaintexts are distinct.
    let mut tx = Sender::new(suite);
    tx.set_key(5, &KEY).expect("key");
    let mut plaintexts = Vec::new();
    let mut packets: Vec<Vec<u8>> = Vec::new();
    let mut seq = input.first_seq;
    for (i, &len) in input.frame_lens.iter().take(8).enumerate() {
        let mut pt = vec![i as u8; usize::from(len % 3000) + 1];
        pt[0] = i as u8;
        let mut ct = vec![0u8; tx.max_output_len(pt.len())];
        let mut header = RtpHeader::new(96, 0, 3000 * i as u32, SSRC);
        header.marker = true;
        for f in protect_frame(&mut tx, b"", &pt, mode, max_payload, &mut ct).expect("protect") {
            header.sequence_number = seq;
            let mut buf = vec![0u8; 12 + f.payload_len()];
            let n = f.write_packet(&header, &mut buf).expect("write");
            assert_eq!(n, buf.len());
            packets.push(buf);
            seq = seq.wrapping_add(1);
        }
        plaintexts.push(pt);
    }

    let mut rx = Receiver::new(suite);
    rx.add_key(5, &KEY).expect("key");
    let mut dep = Box::new(Depacketizer::<PACKETS, BYTES>::new());
    let mut out = vec![0u8; BYTES];
    let mut delivered = BTreeSet::new();
    let pick = |i: u16| packets.get(usize::from(i) % packets.len().max(1)).cloned();

    for op in input.ops.iter().take(256) {
        let packet = match op {
            Op::Genuine(i) => pick(*i),
            Op::Flipped { i, at, xor } => pick(*i).map(|mut p| {
                let at = usize::from(*at) % p.len();
                p[at] ^= xor;
                p
            }),
            Op::Renumbered { i, seq } => pick(*i).map(|mut p| {
                p[2..4].copy_from_slice(&seq.to_be_bytes());
                p
            }),
            Op::Raw(bytes) => Some(bytes.clone()),
            Op::Pop => {
                while let Some(r) = dep.pop_decrypted(&mut rx, b"", &mut out) {
                    if let Ok(frame) = r {
                        let pt = &out[..frame.len];
                        let i = plaintexts
                            .iter()
                            .position(|p| p == pt)
                            .expect("a delivered frame is one the harness protected");
                        assert!(delivered.insert(i), "frame {i} delivered twice");
                    }
                }
                None
            }
            Op::Evict(ts) => {
                dep.evict_before_timestamp(*ts);
                None
            }
        };
        if let Some(p) = packet {
            let _ = dep.push(&p);
        }
        assert!(dep.len() <= PACKETS, "packet capacity exceeded");
        assert!(dep.bytes_used() <= BYTES, "byte capacity exceeded");
    }
});
