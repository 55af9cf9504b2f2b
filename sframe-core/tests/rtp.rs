//! SFrame over RTP (draft-ietf-avtcore-rtp-sframe, `sframe_core::rtp`): descriptor, RTP
//! header codec, packetization, depacketization with loss / reordering / duplicates, the
//! decrypting pop, bounded memory, and the §7 per-SSRC key vectors of
//! `test-vectors/rtp-ssrc-keys.json`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;
use serde::Deserialize;
use sframe_core::hazmat::derive_key_and_salt;
use sframe_core::key::ssrc_base_key;
use sframe_core::rtp::{
    BoxedDepacketizer, DESCRIPTOR_LEN, Depacketizer, Descriptor, HeaderExtension, MAX_DROPOUT,
    Mode, Packetizer, Pushed, RtpHeader, RtpPacket, SEQUENCE_WINDOW, max_media_payload_len,
    per_packet_overhead, protect_frame,
};
use sframe_core::{CipherSuite, Error, Receiver, ReceiverConfig, Sender};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const SSRC: u32 = 0x5eed_0001;
const PT: u8 = 96;

/// A sender and a receiver of a base key no other sender of this process has used: senders
/// claim their keys process-wide (and a dropped sender's counter resumes in the next one),
/// and cargo runs these tests, and the proptest cases one after the other, in one process.
fn pair(suite: CipherSuite) -> Result<(Sender, Receiver), Error> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let key = format!(
        "rtp test base key #{}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut tx = Sender::new(suite);
    tx.set_key(9, key.as_bytes())?;
    // Frames may complete far out of counter order in these tests.
    let config = ReceiverConfig::new(suite).with_replay_window(sframe_core::MAX_REPLAY_WINDOW)?;
    let mut rx = Receiver::with_config(config);
    rx.add_key(9, key.as_bytes())?;
    Ok((tx, rx))
}

/// One sent frame: its plaintext and its RTP packets.
struct Sent {
    plaintext: Vec<u8>,
    timestamp: u32,
    packets: Vec<Vec<u8>>,
}

/// Protects and packetizes `frames`, sequence numbers from `seq`; timestamps 3000 apart.
fn send(
    tx: &mut Sender,
    frames: &[Vec<u8>],
    mode: Mode,
    max_payload: usize,
    mut seq: u16,
) -> Result<Vec<Sent>, Error> {
    let mut sent = Vec::new();
    for (i, plaintext) in frames.iter().enumerate() {
        let timestamp = 3000u32.wrapping_mul(i as u32);
        let mut header = RtpHeader::new(PT, seq, timestamp, SSRC);
        header.marker = true;
        let mut ct = vec![0u8; tx.max_output_len(plaintext.len())];
        let mut packets = Vec::new();
        for fragment in protect_frame(tx, b"", plaintext, mode, max_payload, &mut ct)? {
            header.sequence_number = seq;
            let mut buf = vec![0u8; 12 + fragment.payload_len()];
            let n = fragment.write_packet(&header, &mut buf)?;
            buf.truncate(n);
            packets.push(buf);
            seq = seq.wrapping_add(1);
        }
        sent.push(Sent {
            plaintext: plaintext.clone(),
            timestamp,
            packets,
        });
    }
    Ok(sent)
}

/// Pushes `wire` in order, popping decrypted frames after every packet.
fn receive<const P: usize, const B: usize>(
    dep: &mut Depacketizer<P, B>,
    rx: &mut Receiver,
    wire: &[Vec<u8>],
) -> Result<Vec<(u32, Vec<u8>)>, Error> {
    let mut out = vec![0u8; B];
    let mut got = Vec::new();
    for packet in wire {
        dep.push(packet)?;
        assert!(dep.len() <= P && dep.bytes_used() <= B);
        while let Some(frame) = dep.pop_decrypted(rx, b"", &mut out) {
            let frame = frame?;
            got.push((frame.timestamp, out[..frame.len].to_vec()));
        }
    }
    Ok(got)
}

// --- descriptor and RTP header ------------------------------------------------------------

#[test]
fn descriptor_layout_is_s_e_t_then_reserved() {
    let all = Descriptor {
        start: true,
        end: true,
        mode: Mode::PerPacket,
    };
    assert_eq!(all.to_byte(), 0xe0);
    assert_eq!(Descriptor::S | Descriptor::E | Descriptor::T, 0xe0);
    assert_eq!(Descriptor::RESERVED, 0x1f);
    // Reserved bits never change the meaning.
    for reserved in 0..=0x1f {
        assert_eq!(Descriptor::parse(0xe0 | reserved), all);
        assert_eq!(Descriptor::parse(reserved).to_byte(), 0);
    }
}

#[test]
fn rtp_header_round_trips_with_csrcs_extension_padding() -> TestResult {
    let csrc = [0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff];
    let ext = [1, 2, 3, 4, 5, 6, 7, 8];
    let header = RtpHeader {
        marker: true,
        payload_type: 127,
        sequence_number: 0xfffe,
        timestamp: 0xdead_beef,
        ssrc: 0x0102_0304,
        csrc: &csrc,
        extension: Some(HeaderExtension {
            profile: 0xbede,
            data: &ext,
        }),
    };
    let packet = RtpPacket {
        header,
        payload: &[0xc0, 1, 2, 3],
        padding: 4,
    };
    let mut buf = [0u8; 64];
    let n = packet.write(&mut buf)?;
    assert_eq!(n, packet.encoded_len());
    assert_eq!(n, 12 + 8 + 4 + 8 + 4 + 4);
    // Fixed header bits: V=2, P, X, CC=2; M and PT.
    assert_eq!(buf[0], 0x80 | 0x20 | 0x10 | 2);
    assert_eq!(buf[1], 0x80 | 127);
    assert_eq!(&buf[n - 4..n], &[0, 0, 0, 4]);
    assert_eq!(RtpPacket::parse(&buf[..n])?, packet);
    assert_eq!(header.csrcs().collect::<Vec<_>>(), [1, u32::MAX]);
    // Every truncation into the headers (and up to where the first payload byte would be the
    // padding count) is an error, not a panic; a later cut may look like valid padding.
    for len in 0..=33 {
        assert_eq!(
            RtpPacket::parse(&buf[..len]).map(|_| ()),
            Err(Error::MalformedFrame),
            "truncated to {len}"
        );
    }
    // A too small output buffer writes nothing useful and says so.
    assert_eq!(packet.write(&mut buf[..n - 1]), Err(Error::BufferTooSmall));
    Ok(())
}

#[test]
fn malformed_rtp_is_an_error() {
    let ok = [0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x80];
    assert!(RtpPacket::parse(&ok).is_ok());
    let cases: [(&str, Vec<u8>); 5] = [
        ("version 1", {
            let mut p = ok.to_vec();
            p[0] = 0x40;
            p
        }),
        ("CSRC count beyond the packet", {
            let mut p = ok.to_vec();
            p[0] = 0x81;
            p
        }),
        ("extension header missing", {
            let mut p = ok.to_vec();
            p[0] = 0x90;
            p
        }),
        ("padding count 0", {
            let mut p = ok.to_vec();
            p[0] = 0xa0;
            p.push(0);
            p
        }),
        ("padding longer than the payload", {
            let mut p = ok.to_vec();
            p[0] = 0xa0;
            p.push(3);
            p
        }),
    ];
    for (what, packet) in cases {
        assert_eq!(
            RtpPacket::parse(&packet).map(|_| ()),
            Err(Error::MalformedFrame),
            "{what}"
        );
    }
    // Fields that cannot be encoded.
    let mut out = [0u8; 128];
    let mut h = RtpHeader::new(128, 0, 0, 0);
    let p = |h| RtpPacket {
        header: h,
        payload: b"x",
        padding: 0,
    };
    assert_eq!(p(h).write(&mut out), Err(Error::InvalidConfig));
    h.payload_type = 0;
    h.csrc = &[1, 2, 3];
    assert_eq!(p(h).write(&mut out), Err(Error::InvalidConfig));
    h.csrc = &[0; 64];
    assert_eq!(p(h).write(&mut out), Err(Error::InvalidConfig));
    h.csrc = &[];
    h.extension = Some(HeaderExtension {
        profile: 1,
        data: &[1, 2],
    });
    assert_eq!(p(h).write(&mut out), Err(Error::InvalidConfig));
}

// --- packetization ------------------------------------------------------------------------

#[test]
fn fragments_fill_the_payload_and_only_the_last_has_e_and_marker() -> TestResult {
    let frame: Vec<u8> = (0..=255).collect();
    let mut header = RtpHeader::new(PT, 10, 0, SSRC);
    header.marker = true;
    let fragments: Vec<_> = Packetizer::new(&frame, Mode::PerFrame, 101)?.collect();
    assert_eq!(fragments.len(), 3);
    assert_eq!(
        fragments.iter().map(|f| f.data.len()).collect::<Vec<_>>(),
        [100, 100, 56]
    );
    assert_eq!(
        fragments
            .iter()
            .flat_map(|f| f.data)
            .copied()
            .collect::<Vec<_>>(),
        frame
    );
    for (i, f) in fragments.iter().enumerate() {
        assert_eq!(f.descriptor.start, i == 0);
        assert_eq!(f.descriptor.end, i == 2);
        assert_eq!(f.descriptor.mode, Mode::PerFrame);
        let mut buf = [0u8; 128];
        let n = f.write_packet(&header, &mut buf)?;
        let parsed = RtpPacket::parse(&buf[..n])?;
        assert_eq!(parsed.header.marker, i == 2, "marker only on the E packet");
        assert_eq!(parsed.payload[0], f.descriptor.to_byte());
        assert_eq!(&parsed.payload[DESCRIPTOR_LEN..], f.data);
        assert!(parsed.payload.len() <= 101);
        let mut payload = [0u8; 101];
        assert_eq!(f.write_payload(&mut payload)?, f.payload_len());
    }
    // Without the marker on the frame, no packet has it.
    header.marker = false;
    let last = Packetizer::new(&frame, Mode::PerFrame, 101)?
        .last()
        .ok_or("no fragment")?;
    let mut buf = [0u8; 128];
    let n = last.write_packet(&header, &mut buf)?;
    assert!(!RtpPacket::parse(&buf[..n])?.header.marker);
    // Unusable sizes.
    assert_eq!(
        Packetizer::new(&frame, Mode::PerFrame, 1).map(|_| ()),
        Err(Error::InvalidConfig)
    );
    assert_eq!(
        Packetizer::new(&[], Mode::PerFrame, 100).map(|_| ()),
        Err(Error::MalformedFrame)
    );
    Ok(())
}

#[test]
fn per_packet_overhead_keeps_one_media_packet_one_sframe_packet() -> TestResult {
    for suite in CipherSuite::ALL {
        // Worst-case header: 8-byte KID and 8-byte CTR (17 bytes).
        let mut tx = Sender::new(suite);
        tx.set_key_with_counter(u64::MAX, &[1; 16], sframe_core::Counter(1 << 60))?;
        for max_payload in [per_packet_overhead(suite) + 1, 200, 1200] {
            let media = vec![7u8; max_media_payload_len(suite, max_payload)];
            let mut buf = vec![0u8; tx.max_output_len(media.len())];
            let fragments: Vec<_> =
                protect_frame(&mut tx, b"", &media, Mode::PerPacket, max_payload, &mut buf)?
                    .collect();
            assert_eq!(fragments.len(), 1, "{suite} {max_payload}");
            assert_eq!(fragments[0].descriptor.to_byte(), 0xe0);
            assert!(fragments[0].payload_len() <= max_payload);
        }
    }
    Ok(())
}

#[test]
fn protect_frame_checks_the_size_before_using_a_counter() -> TestResult {
    let (mut tx, _) = pair(CipherSuite::AesGcm128Sha256)?;
    let mut buf = [0u8; 64];
    assert_eq!(
        protect_frame(&mut tx, b"", b"x", Mode::PerFrame, 1, &mut buf).map(|_| ()),
        Err(Error::InvalidConfig)
    );
    assert_eq!(tx.next_counter(), Some(0));
    Ok(())
}

// --- depacketization ----------------------------------------------------------------------

fn payload_packet(seq: u16, descriptor: u8, data: &[u8]) -> Vec<u8> {
    let mut payload = vec![descriptor];
    payload.extend_from_slice(data);
    let packet = RtpPacket {
        header: RtpHeader::new(PT, seq, 1, SSRC),
        payload: &payload,
        padding: 0,
    };
    let mut buf = vec![0u8; packet.encoded_len()];
    let n = packet.write(&mut buf).map_or(0, |n| n);
    buf.truncate(n);
    buf
}

#[test]
fn the_smallest_consecutive_run_from_s_to_e_is_the_frame() -> TestResult {
    let mut dep = Depacketizer::<16, 1024>::new();
    let mut out = [0u8; 1024];
    // 10 = S, 11, 12 = S, 13 = E: the smallest S..E list is 12..=13.
    for (seq, d, data) in [(10, 0x80, &b"a"[..]), (11, 0x00, b"b"), (13, 0x40, b"d")] {
        assert_eq!(dep.push(&payload_packet(seq, d, data))?, Pushed::Buffered);
    }
    assert!(dep.pop_frame(&mut out).is_none());
    assert_eq!(
        dep.push(&payload_packet(12, 0x80, b"c"))?,
        Pushed::FrameReady
    );
    let frame = dep.pop_frame(&mut out).ok_or("no frame")??;
    assert_eq!(
        (&out[..frame.len], frame.first_sequence, frame.packets),
        (&b"cd"[..], 12, 2)
    );
    assert!(dep.pop_frame(&mut out).is_none(), "10..=11 has no E");
    assert_eq!(dep.len(), 2);
    // A packet with E before any S closes nothing.
    assert_eq!(dep.push(&payload_packet(9, 0x40, b"z"))?, Pushed::Buffered);
    assert!(dep.pop_frame(&mut out).is_none());
    Ok(())
}

#[test]
fn runs_wrap_around_the_sequence_space() -> TestResult {
    let mut dep = Depacketizer::<8, 256>::new();
    let mut out = [0u8; 256];
    dep.push(&payload_packet(0, 0x40, b"3"))?;
    dep.push(&payload_packet(65534, 0x80, b"1"))?;
    assert_eq!(
        dep.push(&payload_packet(65535, 0x00, b"2"))?,
        Pushed::FrameReady
    );
    let frame = dep.pop_frame(&mut out).ok_or("no frame")??;
    assert_eq!(
        (&out[..frame.len], frame.first_sequence),
        (&b"123"[..], 65534)
    );
    Ok(())
}

#[test]
fn payload_type_or_t_mismatch_drops_the_list() -> TestResult {
    let mut dep = Depacketizer::<8, 256>::new();
    let mut out = [0u8; 256];
    dep.push(&payload_packet(1, 0x80, b"a"))?;
    dep.push(&payload_packet(2, 0x40 | Descriptor::T, b"b"))?;
    assert!(dep.pop_frame(&mut out).is_none(), "T differs: dropped");
    assert_eq!(dep.stats().dropped_frames, 1);
    assert!(dep.is_empty());
    let other_pt = RtpHeader::new(97, 3, 1, SSRC);
    dep.push_payload(&other_pt, &[0x80, b'c'])?;
    dep.push(&payload_packet(4, 0x40, b"d"))?;
    assert!(dep.pop_frame(&mut out).is_none(), "PT differs: dropped");
    assert_eq!(dep.stats().dropped_frames, 2);
    // Both lists' packets are consumed: sending them again does nothing.
    assert_eq!(dep.push(&payload_packet(4, 0x40, b"d"))?, Pushed::Duplicate);
    Ok(())
}

#[test]
fn a_frame_is_never_yielded_twice() -> TestResult {
    let (mut tx, mut rx) = pair(CipherSuite::AesCtr128HmacSha256_80)?;
    let sent = send(&mut tx, &[vec![5u8; 500]], Mode::PerFrame, 200, 100)?;
    let wire: Vec<_> = sent[0].packets.clone();
    let mut dep = Depacketizer::<16, 4096>::new();
    let got = receive(&mut dep, &mut rx, &wire)?;
    assert_eq!(got.len(), 1);
    // Every packet again, in any order: all duplicates.
    for packet in wire.iter().rev() {
        assert_eq!(dep.push(packet)?, Pushed::Duplicate);
    }
    assert!(dep.is_empty());
    assert_eq!(dep.stats().duplicates, wire.len() as u64);
    Ok(())
}

#[test]
fn tampered_or_replayed_frames_are_not_delivered() -> TestResult {
    let (mut tx, mut rx) = pair(CipherSuite::AesGcm128Sha256)?;
    let sent = send(
        &mut tx,
        &[vec![1u8; 300], vec![2u8; 300]],
        Mode::PerFrame,
        120,
        7,
    )?;
    let mut dep = Depacketizer::<16, 4096>::new();
    let mut out = [0u8; 4096];
    // Frame 0 with one ciphertext bit flipped in its middle packet.
    for (i, packet) in sent[0].packets.iter().enumerate() {
        let mut p = packet.clone();
        if i == 1 {
            let last = p.len() - 1;
            p[last] ^= 1;
        }
        dep.push(&p)?;
    }
    let r = dep
        .pop_decrypted(&mut rx, b"", &mut out)
        .ok_or("no frame")?;
    assert_eq!(r.map(|_| ()), Err(Error::AuthenticationFailed));
    assert!(
        out.windows(300).all(|w| w != [1u8; 300]),
        "no plaintext left in the output"
    );
    // Frame 1 is fine.
    let got = receive(&mut dep, &mut rx, &sent[1].packets)?;
    assert_eq!(got, [(sent[1].timestamp, sent[1].plaintext.clone())]);
    // The same SFrame frame re-sent under new sequence numbers: the receiver's replay check.
    let mut dep2 = Depacketizer::<16, 4096>::new();
    let mut replayed = Vec::new();
    for (i, packet) in sent[1].packets.iter().enumerate() {
        let mut p = packet.clone();
        p[2..4].copy_from_slice(&(500 + i as u16).to_be_bytes());
        replayed.push(p);
    }
    assert_eq!(
        receive(&mut dep2, &mut rx, &replayed).map(|_| ()),
        Err(Error::Replay)
    );
    Ok(())
}

#[test]
fn memory_is_bounded_and_oldest_packets_are_evicted() -> TestResult {
    let (mut tx, mut rx) = pair(CipherSuite::AesGcm128Sha256)?;
    let frames: Vec<Vec<u8>> = (0..20).map(|i| vec![i as u8; 250]).collect();
    let sent = send(&mut tx, &frames, Mode::PerFrame, 100, 65_500)?;
    // Each frame is 3 packets (250 + 17 bytes); room for 4 packets and 600 bytes.
    let mut dep = Depacketizer::<4, 600>::new();
    // Every frame loses its E packet until the last, which arrives whole.
    let mut wire = Vec::new();
    for s in &sent[..19] {
        wire.extend(s.packets[..2].iter().cloned());
    }
    wire.extend(sent[19].packets.iter().cloned());
    let got = receive(&mut dep, &mut rx, &wire)?;
    assert_eq!(got, [(sent[19].timestamp, sent[19].plaintext.clone())]);
    assert!(dep.stats().evicted >= 36, "{:?}", dep.stats());
    // A payload larger than the byte capacity is refused, nothing stored.
    let big = payload_packet(1, 0xc0, &[0; 601]);
    assert_eq!(dep.push(&big), Err(Error::BufferTooSmall));
    // A frame larger than the byte capacity never completes, and nothing panics.
    let mut dep = Depacketizer::<4, 600>::new();
    let sent = send(&mut tx, &[vec![9u8; 1000]], Mode::PerFrame, 300, 0)?;
    assert!(receive(&mut dep, &mut rx, &sent[0].packets)?.is_empty());
    Ok(())
}

#[test]
fn late_packets_and_other_ssrcs_are_refused() -> TestResult {
    let mut dep = Depacketizer::<8, 256>::with_ssrc(SSRC);
    dep.push(&payload_packet(5000, 0x80, b"x"))?;
    let late = 5000u16.wrapping_sub(SEQUENCE_WINDOW as u16);
    assert_eq!(dep.push(&payload_packet(late, 0x40, b"y"))?, Pushed::Late);
    assert_eq!(
        dep.push(&payload_packet(late + 1, 0x40, b"y"))?,
        Pushed::Buffered
    );
    let other = RtpHeader::new(PT, 5001, 0, SSRC + 1);
    assert_eq!(dep.push_payload(&other, &[0x40]), Err(Error::InvalidConfig));
    assert_eq!(dep.push_payload(&other, &[]), Err(Error::MalformedFrame));
    // A jump of more than the window evicts everything stored.
    dep.push(&payload_packet(
        5000 + SEQUENCE_WINDOW as u16 + 2,
        0x80,
        b"z",
    ))?;
    assert_eq!(dep.len(), 1);
    // An output buffer too small: the frame is dropped with an error, not kept forever.
    let mut dep = Depacketizer::<8, 256>::new();
    dep.push(&payload_packet(1, 0xc0, b"0123456789"))?;
    let mut small = [0u8; 4];
    assert_eq!(
        dep.pop_frame(&mut small).map(|r| r.map(|_| ())),
        Some(Err(Error::BufferTooSmall))
    );
    assert!(dep.pop_frame(&mut small).is_none());
    Ok(())
}

#[test]
fn evict_before_timestamp_drops_stale_partial_frames() -> TestResult {
    let mut dep = Depacketizer::<8, 256>::new();
    for (seq, ts) in [(1u16, 100u32), (2, 100), (5, 4000)] {
        let h = RtpHeader::new(PT, seq, ts, SSRC);
        dep.push_payload(&h, &[0x80, 0])?;
    }
    assert_eq!(dep.evict_before_timestamp(3000), 2);
    assert_eq!(dep.len(), 1);
    // Modulo 2^32: 4000 is after u32::MAX - 10.
    assert_eq!(dep.evict_before_timestamp(u32::MAX - 10), 0);
    Ok(())
}

// --- finding 3 (Security 2): sequence numbers steered by injected packets -----------------

/// A receiver without replay protection: what the depacketizer lets through is decrypted.
fn pair_without_replay_window(suite: CipherSuite) -> Result<(Sender, Receiver), Error> {
    let mut tx = Sender::new(suite);
    tx.set_key(9, &[0x33; 16])?;
    let mut rx = Receiver::with_config(ReceiverConfig::new(suite).with_replay_window(0)?);
    rx.add_key(9, &[0x33; 16])?;
    Ok((tx, rx))
}

/// Finding 3 (a): three injected packets, each 21,000 ahead of the previous one, used to walk
/// the newest sequence number around the 16-bit circle to just before an already delivered
/// frame, whose packets (replayed as captured, or duplicated by the network) were then taken as
/// new and decrypted a second time.
#[test]
fn finding3_three_packet_walk_around_does_not_deliver_a_frame_twice() -> TestResult {
    let (mut tx, mut rx) = pair_without_replay_window(CipherSuite::AesGcm128Sha256)?;
    let sent = send(&mut tx, &[vec![7u8; 300]], Mode::PerFrame, 120, 100)?;
    assert_eq!(sent[0].packets.len(), 3, "sequence numbers 100..=102");
    let mut dep = Depacketizer::<16, 4096>::new();
    let first = receive(&mut dep, &mut rx, &sent[0].packets)?;
    assert_eq!(first, [(sent[0].timestamp, sent[0].plaintext.clone())]);
    for k in 1..=3u16 {
        let seq = 102u16.wrapping_add(21_000u16.wrapping_mul(k));
        dep.push(&payload_packet(seq, 0x00, b"junk"))?;
    }
    let again = receive(&mut dep, &mut rx, &sent[0].packets)?;
    assert!(again.is_empty(), "the frame was delivered again: {again:?}");
    Ok(())
}

/// Finding 3 (a), with the injected packets sent in pairs (each pair re-synchronises the
/// sequence validation to where it points): the frame's sequence numbers stay consumed.
#[test]
fn finding3_walk_around_in_resynchronising_pairs_does_not_deliver_a_frame_twice() -> TestResult {
    let (mut tx, mut rx) = pair_without_replay_window(CipherSuite::AesGcm128Sha256)?;
    let sent = send(&mut tx, &[vec![7u8; 300]], Mode::PerFrame, 120, 100)?;
    let mut dep = Depacketizer::<16, 4096>::new();
    assert_eq!(receive(&mut dep, &mut rx, &sent[0].packets)?.len(), 1);
    // Pairs landing ever closer behind the frame, the last one right before it.
    for start in [20_000u16, 40_000, 60_000, 65_000, 98] {
        for seq in [start, start.wrapping_add(1)] {
            dep.push(&payload_packet(seq, 0x00, b"junk"))?;
        }
        let again = receive(&mut dep, &mut rx, &sent[0].packets)?;
        assert!(again.is_empty(), "after a pair at {start}: delivered again");
    }
    Ok(())
}

/// Finding 3 (b): one injected packet 32,000 ahead used to turn the next ~31,000 legitimate
/// packets into late ones, so nothing was delivered.
#[test]
fn finding3_one_packet_32000_ahead_does_not_stall_the_stream() -> TestResult {
    let (mut tx, mut rx) = pair(CipherSuite::AesGcm128Sha256)?;
    let frames: Vec<Vec<u8>> = (0..200u32).map(|i| i.to_be_bytes().to_vec()).collect();
    let sent = send(&mut tx, &frames, Mode::PerPacket, 100, 1000)?;
    let mut dep = Depacketizer::<16, 4096>::new();
    let mut got = receive(&mut dep, &mut rx, &sent[0].packets)?;
    dep.push(&payload_packet(1000u16.wrapping_add(32_000), 0x00, b"junk"))?;
    for s in &sent[1..] {
        got.extend(receive(&mut dep, &mut rx, &s.packets)?);
    }
    let want: Vec<_> = sent
        .iter()
        .map(|s| (s.timestamp, s.plaintext.clone()))
        .collect();
    assert_eq!(got.len(), want.len(), "frames delivered");
    assert_eq!(got, want);
    Ok(())
}

/// The RFC 3550 A.1 bounds, at their edges: reordering below SEQUENCE_WINDOW, jumps below
/// MAX_DROPOUT, anything else refused unless the next packet follows it.
#[test]
fn sequence_validation_bounds_are_the_documented_ones() -> TestResult {
    let window = SEQUENCE_WINDOW as u16;
    let dropout = MAX_DROPOUT as u16;
    let mut dep = Depacketizer::<16, 1024>::new();
    assert_eq!(
        dep.push(&payload_packet(10_000, 0x80, b"a"))?,
        Pushed::Buffered
    );
    assert_eq!(
        dep.push(&payload_packet(10_000 - window, 0x00, b"x"))?,
        Pushed::Late
    );
    assert_eq!(
        dep.push(&payload_packet(10_000 + dropout, 0x00, b"x"))?,
        Pushed::TooFarAhead
    );
    assert_eq!(
        dep.push(&payload_packet(10_001 - window, 0x00, b"b"))?,
        Pushed::Buffered
    );
    assert_eq!(dep.stats().late, 1);
    assert_eq!(dep.stats().too_far_ahead, 1);
    assert_eq!(dep.len(), 2, "the refused packets were not stored");
    // The largest jump taken in sequence: the newest moves, the window with it.
    assert_eq!(
        dep.push(&payload_packet(9_999 + dropout, 0x00, b"c"))?,
        Pushed::Buffered
    );
    assert_eq!(dep.len(), 1, "the older packets fell out of the window");
    assert_eq!(dep.stats().resyncs, 0);

    // Two out-of-range packets that do not follow each other change nothing.
    let far = 40_000u16;
    assert_eq!(
        dep.push(&payload_packet(far, 0x80, b"d"))?,
        Pushed::TooFarAhead
    );
    assert_eq!(
        dep.push(&payload_packet(far + 2, 0x80, b"d"))?,
        Pushed::TooFarAhead
    );
    assert_eq!((dep.stats().resyncs, dep.len()), (0, 1));
    // The next in sequence re-synchronises: it is stored, everything before is dropped.
    assert_eq!(
        dep.push(&payload_packet(far + 3, 0xc0, b"e"))?,
        Pushed::FrameReady
    );
    assert_eq!((dep.stats().resyncs, dep.len()), (1, 1));
    let mut out = [0u8; 1024];
    let frame = dep.pop_frame(&mut out).ok_or("no frame")??;
    assert_eq!(
        (frame.first_sequence, &out[..frame.len]),
        (far + 3, &b"e"[..])
    );
    // Backwards too (a restart onto lower numbers): two late packets in sequence.
    let back = far - 5000;
    assert_eq!(dep.push(&payload_packet(back, 0x80, b"f"))?, Pushed::Late);
    assert_eq!(
        dep.push(&payload_packet(back + 1, 0x40, b"g"))?,
        Pushed::Buffered
    );
    assert_eq!(dep.stats().resyncs, 2);
    // The re-synchronised stream goes on in sequence; its first packet was not kept, and
    // completes its frame when it comes again.
    assert_eq!(
        dep.push(&payload_packet(back + 2, 0xc0, b"h"))?,
        Pushed::FrameReady
    );
    let frame = dep.pop_frame(&mut out).ok_or("no frame")??;
    assert_eq!(&out[..frame.len], b"h");
    assert_eq!(
        dep.push(&payload_packet(back, 0x80, b"f"))?,
        Pushed::FrameReady
    );
    let frame = dep.pop_frame(&mut out).ok_or("no frame")??;
    assert_eq!(
        (frame.first_sequence, &out[..frame.len]),
        (back, &b"fg"[..])
    );
    Ok(())
}

/// A consumed sequence number is refused wherever the sequence validation was moved, also as
/// the packet that would re-synchronise.
#[test]
fn consumed_sequence_numbers_are_refused_after_any_resynchronisation() -> TestResult {
    let mut dep = Depacketizer::<16, 1024>::new();
    let mut out = [0u8; 1024];
    dep.push(&payload_packet(5, 0xc0, b"a"))?;
    assert!(dep.pop_frame(&mut out).is_some());
    for start in [30_000u16, 60_000, 3] {
        dep.push(&payload_packet(start, 0x00, b"x"))?;
        dep.push(&payload_packet(start + 1, 0x00, b"x"))?;
        assert_eq!(dep.push(&payload_packet(5, 0xc0, b"a"))?, Pushed::Duplicate);
    }
    // Far from 5 again; 4 (new) and 5 (consumed) in sequence: 5 cannot re-synchronise, but
    // the run goes on and 6 does.
    dep.push(&payload_packet(20_000, 0x00, b"x"))?;
    dep.push(&payload_packet(20_001, 0x00, b"x"))?;
    let resyncs = dep.stats().resyncs;
    assert_eq!(resyncs, 4);
    assert_eq!(dep.push(&payload_packet(4, 0x00, b"x"))?, Pushed::Late);
    assert_eq!(dep.push(&payload_packet(5, 0xc0, b"a"))?, Pushed::Duplicate);
    assert_eq!(dep.stats().resyncs, resyncs);
    assert_eq!(
        dep.push(&payload_packet(6, 0xc0, b"b"))?,
        Pushed::FrameReady
    );
    assert_eq!(dep.stats().resyncs, resyncs + 1);
    Ok(())
}

/// What an attacker on the path injects after a legitimate packet.
#[derive(Debug, Clone)]
enum Injected {
    /// Any packet; its sequence number is `offset` from the newest legitimate one sent.
    Junk {
        offset: u16,
        timestamp: u32,
        descriptor: u8,
        payload_type: u8,
        data: Vec<u8>,
    },
    /// A legitimate packet sent before (index modulo their number), again with its own
    /// sequence number: replayed as captured, or duplicated by the network.
    Replay(usize),
}

fn injected() -> impl Strategy<Value = Injected> {
    let w = SEQUENCE_WINDOW as i32;
    let d = MAX_DROPOUT as i32;
    let offset = prop_oneof![
        any::<u16>().prop_map(i32::from),
        -w - 8..w + 8,
        d - 8..d + 8,
        -d - 8..-d + 8,
        30_000i32..35_536,
    ]
    .prop_map(|o| o as u16);
    prop_oneof![
        3 => (offset, any::<u32>(), any::<u8>(), 96u8..98, prop::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(offset, timestamp, descriptor, payload_type, data)| Injected::Junk {
                offset, timestamp, descriptor, payload_type, data,
            }),
        2 => any::<usize>().prop_map(Injected::Replay),
    ]
}

#[derive(Debug, Clone)]
struct Attack {
    first_seq: u16,
    /// Sizes of the frames sent while the attacker injects.
    attacked: Vec<usize>,
    /// Sizes of the frames sent after it stopped.
    tail: Vec<usize>,
    /// After the k-th legitimate packet of the attacked frames, injections[k] (cycled).
    injections: Vec<Vec<Injected>>,
}

fn attack() -> impl Strategy<Value = Attack> {
    (
        prop_oneof![any::<u16>(), 65_500u16..=65_535],
        prop::collection::vec(1usize..300, 1..12),
        prop::collection::vec(1usize..300, 2..8),
        prop::collection::vec(prop::collection::vec(injected(), 0..4), 1..40),
    )
        .prop_map(|(first_seq, attacked, tail, injections)| Attack {
            first_seq,
            attacked,
            tail,
            injections,
        })
}

/// The SFrame ciphertext a list of packets carries: their payloads without descriptors.
fn ciphertext(packets: &[Vec<u8>]) -> Result<Vec<u8>, Error> {
    let mut ct = Vec::new();
    for p in packets {
        ct.extend_from_slice(&RtpPacket::parse(p)?.payload[DESCRIPTOR_LEN..]);
    }
    Ok(ct)
}

/// Reads the sequence number of a packet.
fn sequence_number(packet: &[u8]) -> Result<u16, Error> {
    Ok(RtpPacket::parse(packet)?.header.sequence_number)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Finding 3: an attacker injects arbitrary packets (any sequence number, timestamp,
    /// descriptor bits, payload type, payload) and replays legitimate packets between the
    /// legitimate ones, against a receiver without replay protection. No legitimate frame comes
    /// out twice (as ciphertext or as plaintext), nothing but legitimate frames decrypts, and
    /// once the injections stop, every later frame is delivered except the first (whose first
    /// packet may be the one that re-synchronises) and those whose sequence numbers an
    /// injected packet carried: the documented bounds, with storage to spare.
    #[test]
    fn injected_packets_neither_replay_frames_nor_stall_the_stream(a in attack()) {
        let fail = |e: Error| TestCaseError::fail(e.to_string());
        let (mut tx, mut rx) = pair_without_replay_window(CipherSuite::AesGcm128Sha256).map_err(fail)?;
        let frames: Vec<Vec<u8>> = a.attacked.iter().chain(&a.tail).enumerate()
            .map(|(i, &n)| (0..n).map(|j| (i * 37 + j * 11) as u8).chain([i as u8]).collect())
            .collect();
        let sent = send(&mut tx, &frames, Mode::PerFrame, 100, a.first_seq).map_err(fail)?;
        let legit: BTreeMap<Vec<u8>, usize> = sent.iter().enumerate()
            .map(|(i, s)| Ok((ciphertext(&s.packets)?, i)))
            .collect::<Result<_, Error>>().map_err(fail)?;
        prop_assert_eq!(legit.len(), sent.len());

        let mut dep = BoxedDepacketizer::with_capacity(512, 1 << 16).map_err(fail)?;
        let mut out = vec![0u8; 1 << 16];
        let mut emitted = BTreeMap::<usize, usize>::new();
        let mut delivered = BTreeMap::<usize, usize>::new();
        let mut push = |dep: &mut BoxedDepacketizer, packet: &[u8]| -> Result<(), TestCaseError> {
            if dep.push(packet).map_err(fail)? != Pushed::FrameReady {
                return Ok(());
            }
            while let Some(frame) = dep.pop_frame(&mut out) {
                let Ok(frame) = frame else { continue };
                let ct = &out[..frame.len];
                if let Some(&i) = legit.get(ct) {
                    *emitted.entry(i).or_default() += 1;
                    prop_assert!(emitted[&i] == 1, "frame {} emitted twice", i);
                }
                if let Ok(pt) = rx.unprotect_vec(b"", ct) {
                    let i = frames.iter().position(|f| *f == pt);
                    prop_assert!(i.is_some(), "an injected frame decrypted");
                    let i = i.unwrap_or_default();
                    *delivered.entry(i).or_default() += 1;
                    prop_assert!(delivered[&i] == 1, "frame {} delivered twice", i);
                }
            }
            Ok(())
        };

        // The attacked part: injections after every legitimate packet.
        let mut so_far: Vec<Vec<u8>> = Vec::new();
        let mut injected_seqs = std::collections::BTreeSet::new();
        let mut k = 0;
        for s in &sent[..a.attacked.len()] {
            for p in &s.packets {
                push(&mut dep, p)?;
                so_far.push(p.clone());
                let newest = sequence_number(p).map_err(fail)?;
                for inj in &a.injections[k % a.injections.len()] {
                    let packet = match inj {
                        Injected::Junk { offset, timestamp, descriptor, payload_type, data } => {
                            let seq = newest.wrapping_add(*offset);
                            injected_seqs.insert(seq);
                            let mut payload = vec![*descriptor];
                            payload.extend_from_slice(data);
                            let packet = RtpPacket {
                                header: RtpHeader::new(*payload_type, seq, *timestamp, SSRC),
                                payload: &payload,
                                padding: 0,
                            };
                            let mut buf = vec![0u8; packet.encoded_len()];
                            let n = packet.write(&mut buf).map_err(fail)?;
                            buf.truncate(n);
                            buf
                        }
                        Injected::Replay(i) => so_far[i % so_far.len()].clone(),
                    };
                    push(&mut dep, &packet)?;
                }
                k += 1;
            }
        }
        // The injections stop: the rest of the stream, in order.
        for s in &sent[a.attacked.len()..] {
            for p in &s.packets {
                push(&mut dep, p)?;
            }
        }
        for (j, s) in sent.iter().enumerate().skip(a.attacked.len() + 1) {
            let seqs = s.packets.iter().map(|p| sequence_number(p)).collect::<Result<Vec<_>, _>>().map_err(fail)?;
            if seqs.iter().any(|q| injected_seqs.contains(q)) {
                continue;
            }
            prop_assert!(delivered.contains_key(&j), "frame {} ({:?}) not delivered after the injections stopped", j, seqs);
        }
    }
}

// --- property tests -----------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Scenario {
    sizes: Vec<usize>,
    mode: Mode,
    max_payload: usize,
    first_seq: u16,
    /// Per packet: 0 = dropped, 1 = once, 2 = twice.
    copies: Vec<u8>,
    shuffle_seed: u64,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        prop::collection::vec(0usize..2500, 1..10),
        prop_oneof![Just(Mode::PerFrame), Just(Mode::PerPacket)],
        40usize..1300,
        prop_oneof![any::<u16>(), 65_520u16..=65_535],
        prop::collection::vec(
            prop_oneof![1 => Just(0u8), 6 => Just(1u8), 1 => Just(2u8)],
            200,
        ),
        any::<u64>(),
    )
        .prop_map(
            |(sizes, mode, max_payload, first_seq, copies, shuffle_seed)| Scenario {
                sizes,
                mode,
                max_payload,
                first_seq,
                copies,
                shuffle_seed,
            },
        )
}

/// A deterministic Fisher-Yates shuffle (splitmix64).
fn shuffle<T>(v: &mut [T], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        v.swap(i, (z % (i as u64 + 1)) as usize);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Packetize → drop / duplicate / shuffle → depacketize and decrypt: exactly the frames
    /// all of whose packets arrived, each once, in both modes.
    #[test]
    fn delivers_exactly_the_complete_frames_once(s in scenario()) {
        let suite = CipherSuite::AesGcm128Sha256;
        let (mut tx, mut rx) = pair(suite).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let frames: Vec<Vec<u8>> = s.sizes.iter().enumerate()
            .map(|(i, &n)| (0..n).map(|j| (i * 31 + j) as u8).collect())
            .collect();
        // Per-packet: each media payload sized to give one packet, as §5.1.2 intends.
        let frames: Vec<Vec<u8>> = match s.mode {
            Mode::PerFrame => frames,
            Mode::PerPacket => frames.into_iter().map(|mut f| {
                f.truncate(max_media_payload_len(suite, s.max_payload));
                f
            }).collect(),
        };
        let sent = send(&mut tx, &frames, s.mode, s.max_payload, s.first_seq)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut wire = Vec::new();
        let mut expected = BTreeMap::new();
        let mut k = 0;
        for f in &sent {
            if s.mode == Mode::PerPacket {
                prop_assert_eq!(f.packets.len(), 1);
            }
            let mut complete = true;
            for p in &f.packets {
                let copies = s.copies.get(k % s.copies.len()).copied().unwrap_or(1);
                k += 1;
                complete &= copies > 0;
                for _ in 0..copies {
                    wire.push(p.clone());
                }
            }
            if complete {
                expected.insert(f.timestamp, f.plaintext.clone());
            }
        }
        shuffle(&mut wire, s.shuffle_seed);
        let mut dep = Box::new(Depacketizer::<512, 65536>::new());
        let got = receive(&mut dep, &mut rx, &wire)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut seen = BTreeMap::new();
        for (ts, pt) in got {
            prop_assert!(seen.insert(ts, pt).is_none(), "frame {} delivered twice", ts);
        }
        prop_assert_eq!(seen, expected);
        prop_assert!(dep.len() <= 512);
    }

    /// Arbitrary bytes and arbitrary RTP packets in a small depacketizer: errors, never a
    /// panic; capacity respected; nothing but authenticated frames out.
    #[test]
    fn arbitrary_packets_never_break_the_bounds(
        packets in prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..64),
                (any::<u16>().prop_map(|s| s % 64), any::<u8>(), prop::collection::vec(any::<u8>(), 0..200))
                    .prop_map(|(seq, d, data)| payload_packet(seq, d, &data)),
            ],
            0..200,
        )
    ) {
        let (_, mut rx) = pair(CipherSuite::AesGcm128Sha256)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut dep = Depacketizer::<8, 512>::new();
        let mut out = [0u8; 512];
        for p in &packets {
            let _ = dep.push(p);
            prop_assert!(dep.len() <= 8 && dep.bytes_used() <= 512);
            while let Some(r) = dep.pop_decrypted(&mut rx, b"", &mut out) {
                prop_assert!(r.is_err(), "a frame nobody protected authenticated");
            }
        }
    }
}

// --- per-SSRC keys (§7) -------------------------------------------------------------------

#[derive(Deserialize)]
struct SsrcVectors {
    ssrc_keys: Vec<SsrcVector>,
}

#[derive(Deserialize)]
struct SsrcVector {
    cipher_suite: u16,
    ssrc: u32,
    base_key: String,
    info: String,
    ssrc_key: String,
    kid: u64,
    sframe_key: String,
    sframe_salt: String,
}

#[test]
fn ssrc_keys_match_the_independent_vectors() -> TestResult {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../test-vectors/rtp-ssrc-keys.json"
    );
    let vectors: SsrcVectors = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    assert!(vectors.ssrc_keys.len() >= 8);
    let mut suites = std::collections::BTreeSet::new();
    for v in &vectors.ssrc_keys {
        let suite = CipherSuite::try_from(v.cipher_suite)?;
        suites.insert(v.cipher_suite);
        assert_eq!(hex::decode(&v.info)?, sframe_core::key::SSRC_KEY_LABEL);
        let mut out = [0u8; 64];
        let n = ssrc_base_key(suite, &hex::decode(&v.base_key)?, v.ssrc, &mut out)?;
        assert_eq!(
            hex::encode(&out[..n]),
            v.ssrc_key,
            "suite {suite} ssrc {}",
            v.ssrc
        );
        // The per-SSRC key is the stream's base key for §4.4.2.
        let (key, salt) = derive_key_and_salt(suite, v.kid, &out[..n])?;
        assert_eq!(hex::encode(&key[..suite.key_len()]), v.sframe_key);
        assert_eq!(hex::encode(&salt[..]), v.sframe_salt);
    }
    assert_eq!(suites.len(), CipherSuite::ALL.len(), "every suite covered");
    println!("rtp-ssrc-keys.json: {} vectors OK", vectors.ssrc_keys.len());
    Ok(())
}

#[test]
fn ssrc_keys_differ_per_ssrc_and_check_their_inputs() -> TestResult {
    let suite = CipherSuite::AesCtr256HmacSha512_80;
    let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
    assert_eq!(ssrc_base_key(suite, &[1; 16], 1, &mut a)?, 64);
    assert_eq!(ssrc_base_key(suite, &[1; 16], 2, &mut b)?, 64);
    assert_ne!(a, b);
    assert_eq!(
        ssrc_base_key(suite, &[1; 15], 1, &mut a),
        Err(Error::InvalidKey)
    );
    assert_eq!(
        ssrc_base_key(suite, &[1; 16], 1, &mut a[..63]),
        Err(Error::BufferTooSmall)
    );
    Ok(())
}
