//! SFrame RTP sessions (`sframe_core::rtp::session`): send streams → a simulated network with loss
//! and reordering → a receive session; keys that come late, roll over and are removed; the
//! §7 per-SSRC key vectors of `test-vectors/rtp-ssrc-keys.json` through the session; the
//! bounds under hostile input (property test); and the heap constructor on a small stack.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use serde::Deserialize;
use sframe_core::ratchet::{Generation, RatchetLayout};
use sframe_core::rtp::session::{
    BoxedReceiveSession, Event, InlineReceiveSession, KidStats, Pushed, ReceivedFrame, SendConfig,
    SendStream, SessionConfig, StreamSlot,
};
use sframe_core::rtp::{Mode, RtpHeader, RtpPacket, protect_frame};
use sframe_core::{CipherSuite, Error, FixedKeyStore, Key, ReceiverConfig, RustCrypto, Sender};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A viewer: 64 packets / 64 KiB in reassembly and 32 frames / 128 KiB waiting per stream,
/// 8 KIDs.
type Viewer = BoxedReceiveSession<64, 65_536, 32, 131_072, 8>;

const VIDEO: u32 = 0x7ea1_0001;
const AUDIO: u32 = 0x7ea1_0002;

/// xorshift64*: a seeded generator for the network simulation.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn suite(id: u16) -> CipherSuite {
    CipherSuite::from_id(id).unwrap()
}

fn config(suite: CipherSuite, per_ssrc: bool) -> SessionConfig {
    SessionConfig::new(ReceiverConfig::new(suite)).with_per_ssrc_keys(per_ssrc)
}

fn frame_bytes(ssrc: u32, kid: u64, counter: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u64 ^ counter.wrapping_mul(31) ^ kid.wrapping_mul(7) ^ u64::from(ssrc)) as u8
        })
        .collect()
}

/// One sent frame: its identity, plaintext and RTP packets.
struct Sent {
    ssrc: u32,
    kid: u64,
    counter: u64,
    plaintext: Vec<u8>,
    packets: Vec<Vec<u8>>,
}

fn send<B: sframe_core::Backend>(
    stream: &mut SendStream<B>,
    plaintext: Vec<u8>,
    timestamp: u32,
) -> Sent {
    let mut buf = vec![0u8; stream.max_packets_len(plaintext.len())];
    let packets = stream
        .send_frame(&plaintext, timestamp, true, &mut buf)
        .unwrap();
    let (kid, counter) = (packets.key_id(), packets.counter());
    Sent {
        ssrc: stream.ssrc(),
        kid,
        counter,
        plaintext,
        packets: packets.map(<[u8]>::to_vec).collect(),
    }
}

/// Polls until `None`; returns the events with the plaintext of each frame.
fn drain<T>(session: &mut T, out: &mut [u8], now: u64) -> Vec<(Event, Vec<u8>)>
where
    T: Poll,
{
    let mut events = Vec::new();
    while let Some(event) = session.poll_once(out, now) {
        let bytes = match event {
            Event::Frame(f) => out[..f.len].to_vec(),
            _ => Vec::new(),
        };
        events.push((event, bytes));
        assert!(events.len() < 100_000, "poll does not end");
    }
    events
}

/// `poll` of the session types used here.
trait Poll {
    fn poll_once(&mut self, out: &mut [u8], now: u64) -> Option<Event>;
}

impl<const P: usize, const B: usize, const WF: usize, const WB: usize, const K: usize> Poll
    for BoxedReceiveSession<P, B, WF, WB, K>
{
    fn poll_once(&mut self, out: &mut [u8], now: u64) -> Option<Event> {
        self.poll(out, now)
    }
}

impl<
    const N: usize,
    const P: usize,
    const B: usize,
    const WF: usize,
    const WB: usize,
    const K: usize,
    S: sframe_core::KeyStore,
> Poll for InlineReceiveSession<N, P, B, WF, WB, K, S>
{
    fn poll_once(&mut self, out: &mut [u8], now: u64) -> Option<Event> {
        self.poll(out, now)
    }
}

fn frames(events: &[(Event, Vec<u8>)]) -> Vec<(ReceivedFrame, Vec<u8>)> {
    events
        .iter()
        .filter_map(|(e, b)| match e {
            Event::Frame(f) => Some((*f, b.clone())),
            _ => None,
        })
        .collect()
}

fn key_events(events: &[(Event, Vec<u8>)]) -> Vec<(u64, u32, bool)> {
    events
        .iter()
        .filter_map(|(e, _)| match *e {
            Event::KeyAuthenticated { kid, ssrc, first } => Some((kid, ssrc, first)),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Send → network → receive
// ---------------------------------------------------------------------------------------------

/// Video and audio SSRCs of one sender share the session's base key and KID through their
/// per-SSRC keys; 5% of the packets are lost and the rest reordered (a seeded shuffle within
/// windows of 12). Every frame that lost no packet is delivered exactly once, intact; no other
/// frame is; per-packet and per-frame, suites 6 and 8.
#[test]
fn video_and_audio_over_a_lossy_reordering_network() -> TestResult {
    for (suite_id, mode) in [
        (6, Mode::PerFrame),
        (6, Mode::PerPacket),
        (8, Mode::PerFrame),
        (8, Mode::PerPacket),
    ] {
        let suite = suite(suite_id);
        let (kid, base) = (0x1234_5678_9abc, [0x42u8; 32]);
        let mut video = SendStream::new(
            SendConfig::new(suite, VIDEO, 99, 1000)
                .with_mode(mode)
                .with_per_ssrc_keys(true)
                .with_first_sequence(65_500), // wraps
        )?;
        let mut audio = SendStream::new(
            SendConfig::new(suite, AUDIO, 111, 1000)
                .with_mode(mode)
                .with_per_ssrc_keys(true),
        )?;
        video.set_key(kid, &base)?;
        audio.set_key(kid, &base)?; // same base key and KID: allowed, keys differ per SSRC
        let mut rng = Rng(0x5eed ^ u64::from(suite_id) ^ (mode == Mode::PerPacket) as u64);
        let mut sent = Vec::new();
        for i in 0..60u32 {
            let video_len = match mode {
                Mode::PerFrame => 200 + rng.below(5000) as usize,
                Mode::PerPacket => 1 + rng.below(video.max_media_payload_len() as u64) as usize,
            };
            let v = video.counter_plaintext(video_len);
            sent.push(send(&mut video, v, i * 3000));
            let a = audio.counter_plaintext(80 + rng.below(120) as usize);
            sent.push(send(&mut audio, a, i * 960));
        }
        if mode == Mode::PerPacket {
            assert!(sent.iter().all(|s| s.packets.len() == 1));
        } else {
            assert!(sent.iter().any(|s| s.packets.len() > 3));
        }
        // The network: loss, then reordering within windows.
        let mut wire: Vec<(usize, Vec<u8>)> = Vec::new();
        let mut complete = BTreeSet::new();
        for (i, s) in sent.iter().enumerate() {
            let mut all = true;
            for p in &s.packets {
                if rng.below(100) < 5 {
                    all = false;
                } else {
                    wire.push((i, p.clone()));
                }
            }
            if all {
                complete.insert(i);
            }
        }
        for chunk in wire.chunks_mut(12) {
            for k in (1..chunk.len()).rev() {
                chunk.swap(k, rng.below(k as u64 + 1) as usize);
            }
        }
        let mut viewer = Viewer::with_capacity(config(suite, true), 4);
        viewer.add_key(kid, &base)?;
        let mut out = vec![0u8; 65_536];
        let mut events = Vec::new();
        for (now, (_, packet)) in wire.iter().enumerate() {
            assert!(matches!(
                viewer.push_packet(packet, now as u64)?,
                Pushed::Packet(_)
            ));
            events.extend(drain(&mut viewer, &mut out, now as u64));
        }
        let got = frames(&events);
        let mut seen = BTreeSet::new();
        for (f, bytes) in &got {
            let i = sent
                .iter()
                .position(|s| s.ssrc == f.ssrc && s.kid == f.kid && s.counter == f.counter)
                .expect("a delivered frame was sent");
            assert!(seen.insert(i), "frame delivered twice");
            assert_eq!(bytes, &sent[i].plaintext);
            assert!(!f.from_buffer);
            assert_eq!(f.mode, mode);
            assert_eq!(f.payload_type, if f.ssrc == VIDEO { 99 } else { 111 });
        }
        assert_eq!(
            seen, complete,
            "suite {suite_id} {mode:?}: every complete frame"
        );
        assert!(complete.len() < sent.len(), "the network lost frames");
        // The key authenticated once on each SSRC, the first of them marked.
        let mut keys = key_events(&events);
        keys.sort();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys.iter().filter(|k| k.2).count(), 1);
        assert_eq!(
            keys.iter().map(|k| k.1).collect::<BTreeSet<_>>(),
            [VIDEO, AUDIO].into()
        );
        let video_stats = viewer.stream_stats(VIDEO).unwrap();
        let audio_stats = viewer.stream_stats(AUDIO).unwrap();
        assert_eq!(
            video_stats.frames_out + audio_stats.frames_out,
            complete.len() as u64
        );
        assert_eq!(
            video_stats.failures.total() + audio_stats.failures.total(),
            0
        );
        let kid_stats = viewer.kid_stats(kid).unwrap();
        assert_eq!(kid_stats.counters.frames, complete.len() as u64);
        assert_eq!(kid_stats.counters.frames_in, complete.len() as u64);
        assert_eq!(
            kid_stats.counters.bytes_in,
            video_stats.bytes_in + audio_stats.bytes_in
        );
        assert_eq!(kid_stats.streams_authenticated, 2);
    }
    Ok(())
}

/// Without per-SSRC keys on the sender, the receiver with them cannot decrypt (and vice
/// versa): the derivation is really applied on both sides.
#[test]
fn per_ssrc_keys_must_match_on_both_sides() -> TestResult {
    let suite = CipherSuite::AesCtr256HmacSha512_80;
    for (tx_per_ssrc, rx_per_ssrc) in [(true, false), (false, true), (true, true), (false, false)] {
        let mut tx = SendStream::new(
            SendConfig::new(suite, VIDEO, 96, 1200).with_per_ssrc_keys(tx_per_ssrc),
        )?;
        tx.set_key(5, &[9; 16])?;
        let s = send(&mut tx, vec![1; 100], 0);
        let mut rx = Viewer::with_capacity(config(suite, rx_per_ssrc), 1);
        rx.add_key(5, &[9; 16])?;
        rx.push_packet(&s.packets[0], 0)?;
        let events = drain(&mut rx, &mut [0u8; 200], 0);
        if tx_per_ssrc == rx_per_ssrc {
            assert_eq!(frames(&events).len(), 1);
        } else {
            assert!(matches!(
                events[0].0,
                Event::Failed {
                    error: Error::AuthenticationFailed,
                    kid: Some(5),
                    ..
                }
            ));
        }
    }
    Ok(())
}

/// Finding of the property test: the SSRC is not in SFrame's AAD, so without per-SSRC keys a
/// frame replayed under another SSRC (new sequence number) authenticates there: it comes out
/// once, under the SSRC the attacker chose (the shared replay window refuses the original
/// afterwards). With per-SSRC keys the relabelled copy fails authentication.
#[test]
fn relabelled_ssrc_is_caught_only_with_per_ssrc_keys() -> TestResult {
    let suite = CipherSuite::AesGcm128Sha256;
    for per_ssrc in [false, true] {
        let mut tx =
            SendStream::new(SendConfig::new(suite, AUDIO, 96, 1200).with_per_ssrc_keys(per_ssrc))?;
        tx.set_key(1, &[0x21; 16])?;
        let s = send(&mut tx, vec![9; 30], 0);
        let mut rx = Viewer::with_capacity(config(suite, per_ssrc), 2);
        rx.add_key(1, &[0x21; 16])?;
        let mut relabelled = s.packets[0].clone();
        relabelled[8..12].copy_from_slice(&VIDEO.to_be_bytes());
        rx.push_packet(&relabelled, 0)?;
        rx.push_packet(&s.packets[0], 0)?;
        let events: Vec<Event> = drain(&mut rx, &mut [0u8; 100], 0)
            .into_iter()
            .map(|e| e.0)
            .collect();
        let frames: Vec<u32> = events
            .iter()
            .filter_map(|e| match e {
                Event::Frame(f) => Some(f.ssrc),
                _ => None,
            })
            .collect();
        let failed: Vec<Error> = events
            .iter()
            .filter_map(|e| match e {
                Event::Failed { error, .. } => Some(*error),
                _ => None,
            })
            .collect();
        if per_ssrc {
            assert_eq!(frames, [AUDIO]);
            assert_eq!(failed, [Error::AuthenticationFailed]);
        } else {
            assert_eq!(frames, [VIDEO], "the attacker's label");
            assert_eq!(failed, [Error::Replay], "but only once");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Keys that come and go
// ---------------------------------------------------------------------------------------------

/// The receiver starts without the key: complete frames wait (reported), the key comes, and
/// they are decrypted in order, then the key-authenticated event fires once.
#[test]
fn frames_wait_for_a_late_key_and_come_out_in_order() -> TestResult {
    let suite = CipherSuite::AesCtr256HmacSha512_80;
    let mut tx = SendStream::new(SendConfig::new(suite, VIDEO, 96, 500).with_per_ssrc_keys(true))?;
    tx.set_key(7, &[7; 32])?;
    let sent: Vec<Sent> = (0..10u64)
        .map(|i| {
            send(
                &mut tx,
                frame_bytes(VIDEO, 7, i, 900 + i as usize),
                i as u32,
            )
        })
        .collect();
    let mut rx = Viewer::with_capacity(config(suite, true).with_max_wait(1000), 2);
    let mut out = vec![0u8; 65_536];
    let mut events = Vec::new();
    for s in &sent {
        for p in s.packets.iter().rev() {
            rx.push_packet(p, 10)?;
        }
        events.extend(drain(&mut rx, &mut out, 10));
    }
    assert_eq!(events.len(), 10);
    for (i, (e, _)) in events.iter().enumerate() {
        assert_eq!(
            *e,
            Event::AwaitingKey {
                ssrc: VIDEO,
                kid: 7,
                counter: i as u64
            }
        );
    }
    let stats = rx.stream_stats(VIDEO).unwrap();
    assert_eq!((stats.waiting, stats.waited, stats.frames_out), (10, 10, 0));
    assert_eq!(rx.stats().unknown_kids.waited, 10, "no entry for KID 7 yet");

    rx.add_key(7, &[7; 32])?;
    let events = drain(&mut rx, &mut out, 20);
    let got = frames(&events);
    assert_eq!(got.len(), 10);
    for (i, (f, bytes)) in got.iter().enumerate() {
        assert_eq!(f.counter, i as u64, "in order");
        assert!(f.from_buffer);
        assert_eq!(f.timestamp, i as u32);
        assert_eq!(bytes, &sent[i].plaintext);
    }
    assert_eq!(key_events(&events), [(7, VIDEO, true)]);
    // The event comes right after the first frame.
    assert!(matches!(events[1].0, Event::KeyAuthenticated { .. }));
    let stats = rx.stream_stats(VIDEO).unwrap();
    assert_eq!(
        (stats.waiting, stats.released, stats.frames_out),
        (0, 10, 10)
    );
    assert_eq!(rx.kid_stats(7).unwrap().counters.released, 10);
    // Later frames go straight through.
    let s = send(&mut tx, vec![3; 50], 99);
    rx.push_packet(&s.packets[0], 30)?;
    let events = drain(&mut rx, &mut out, 30);
    assert!(matches!(events[..], [(Event::Frame(f), _)] if !f.from_buffer && f.counter == 10));
    Ok(())
}

/// Midway the sender rolls to a new KID; the receiver gets the new key a little later; the
/// new key's event fires once; the old KID is removed, and its frames then fail (a delayed
/// one, and a new one) instead of waiting; it cannot be added again.
#[test]
fn key_rollover_then_the_old_key_is_removed() -> TestResult {
    let suite = CipherSuite::AesCtr256HmacSha512_32;
    let cfg = SendConfig::new(suite, AUDIO, 111, 1200).with_per_ssrc_keys(true);
    let mut tx = SendStream::new(cfg)?;
    let mut rx = Viewer::with_capacity(config(suite, true), 2);
    let mut out = vec![0u8; 4096];
    let (old, new) = ((1u64, [1u8; 16]), (2u64, [2u8; 16]));
    tx.set_key(old.0, &old.1)?;
    rx.add_key(old.0, &old.1)?;
    let mut delayed = Vec::new();
    let mut events = Vec::new();
    for i in 0..5 {
        let s = send(&mut tx, vec![i; 60], u32::from(i));
        if i == 4 {
            delayed = s.packets.clone(); // held back by the network
        } else {
            rx.push_packet(&s.packets[0], 0)?;
        }
        events.extend(drain(&mut rx, &mut out, 0));
    }
    assert_eq!(frames(&events).len(), 4);
    assert_eq!(key_events(&events), [(old.0, AUDIO, true)]);

    tx.set_key(new.0, &new.1)?; // the rollover
    let mut events = Vec::new();
    for i in 0..3 {
        let s = send(&mut tx, vec![10 + i; 60], 100 + u32::from(i));
        rx.push_packet(&s.packets[0], 1)?;
        events.extend(drain(&mut rx, &mut out, 1));
    }
    assert!(
        events
            .iter()
            .all(|(e, _)| matches!(e, Event::AwaitingKey { kid: 2, .. }))
    );
    rx.add_key(new.0, &new.1)?;
    for i in 3..6 {
        let s = send(&mut tx, vec![10 + i; 60], 100 + u32::from(i));
        rx.push_packet(&s.packets[0], 2)?;
        events.extend(drain(&mut rx, &mut out, 2));
    }
    let got = frames(&events);
    assert_eq!(
        got.iter()
            .map(|(f, _)| (f.kid, f.counter))
            .collect::<Vec<_>>(),
        (0..6).map(|c| (2, c)).collect::<Vec<_>>()
    );
    assert_eq!(key_events(&events), [(new.0, AUDIO, true)], "once");
    let new_stats = rx.kid_stats(new.0).unwrap();
    assert!(new_stats.authenticated && new_stats.streams_authenticated == 1);

    // Every peer switched: remove the old key.
    assert!(rx.remove_key(old.0));
    assert!(!rx.remove_key(old.0));
    rx.push_packet(&delayed[0], 3)?;
    let events = drain(&mut rx, &mut out, 3);
    assert_eq!(
        events[..].iter().map(|(e, _)| *e).collect::<Vec<_>>(),
        [Event::Failed {
            ssrc: AUDIO,
            kid: Some(old.0),
            error: Error::UnknownKeyId
        }]
    );
    tx.set_key(old.0, &old.1)?; // a peer that did not switch: its counter resumes
    let s = send(&mut tx, vec![0; 60], 200);
    assert_eq!(s.counter, 5);
    rx.push_packet(&s.packets[0], 4)?;
    let events = drain(&mut rx, &mut out, 4);
    assert!(matches!(
        events[..],
        [(
            Event::Failed {
                error: Error::UnknownKeyId,
                ..
            },
            _
        )]
    ));
    let old_stats = rx.kid_stats(old.0).unwrap();
    assert!(!old_stats.active);
    assert_eq!(old_stats.counters.failures.unknown_key, 2);
    assert_eq!(
        rx.stream_stats(AUDIO).unwrap().waiting,
        0,
        "nothing waits for it"
    );
    // A removed KID does not come back with fresh replay windows.
    assert_eq!(rx.add_key(old.0, &old.1), Err(Error::StaleEpoch));
    assert_eq!(rx.stats().keys_removed, 1);
    assert_eq!(rx.key_ids().collect::<Vec<_>>(), [new.0]);
    Ok(())
}

/// Frames waiting for a key that is removed are dropped and counted; frames that wait too
/// long expire; a full wait buffer drops its oldest frames.
#[test]
fn waiting_frames_expire_overflow_and_go_with_their_key() -> TestResult {
    let suite = CipherSuite::AesGcm128Sha256;
    // 4 frames wait per stream at most.
    type Small = BoxedReceiveSession<16, 8192, 4, 8192, 4>;
    let mut rx = Small::with_capacity(config(suite, false).with_max_wait(100), 2);
    let mut tx = SendStream::new(SendConfig::new(suite, VIDEO, 96, 1200))?;
    tx.set_key(3, &[3; 16])?;
    let mut out = [0u8; 8192];
    for i in 0..6u8 {
        let s = send(&mut tx, vec![i; 40], u32::from(i));
        rx.push_packet(&s.packets[0], 0)?;
        drain(&mut rx, &mut out, 0);
    }
    let stats = rx.stream_stats(VIDEO).unwrap();
    assert_eq!((stats.waiting, stats.dropped_overflow), (4, 2));
    assert_eq!(rx.stats().unknown_kids.dropped, 2);
    // Expiry at the next poll after max_wait.
    assert!(drain(&mut rx, &mut out, 100).is_empty());
    assert_eq!(rx.stream_stats(VIDEO).unwrap().waiting, 4);
    assert!(drain(&mut rx, &mut out, 101).is_empty());
    let stats = rx.stream_stats(VIDEO).unwrap();
    assert_eq!((stats.waiting, stats.dropped_expired), (0, 4));

    // Frames waiting under a table KID that is then removed.
    rx.add_key(9, &[9; 16])?;
    let mut other = SendStream::new(SendConfig::new(suite, AUDIO, 96, 1200))?;
    other.set_ratcheting_key(RatchetLayout::new(4)?, Generation(1), &[1; 16])?;
    rx.add_ratcheting_key(RatchetLayout::new(4)?, 16, &[1; 16])?;
    other.ratchet()?;
    other.ratchet()?;
    let s = send(&mut other, vec![5; 40], 0); // step 2: derived on the spot
    rx.push_packet(&s.packets[0], 200)?;
    let events = drain(&mut rx, &mut out, 200);
    assert!(matches!(events[0].0, Event::Frame(f) if f.kid == 18));
    assert_eq!(
        key_events(&events),
        [(16, AUDIO, true)],
        "reported under the KID as added"
    );
    assert_eq!(rx.kid_stats(16).unwrap().counters.frames, 1);
    // A step beyond the look-ahead waits, then goes with its key.
    for _ in 0..9 {
        other.ratchet()?;
    }
    let s = send(&mut other, vec![6; 40], 1);
    rx.push_packet(&s.packets[0], 201)?;
    assert!(matches!(
        drain(&mut rx, &mut out, 201)[0].0,
        Event::AwaitingKey { kid: 27, .. }
    ));
    assert_eq!(rx.kid_stats(16).unwrap().waiting, 1);
    assert!(rx.remove_key(16));
    let stats = rx.stream_stats(AUDIO).unwrap();
    assert_eq!((stats.waiting, stats.dropped_removed), (0, 1));
    assert_eq!(rx.kid_stats(16).unwrap().counters.dropped, 1);
    // Every step of the generation is gone; KID 9 stays.
    let s = send(&mut other, vec![7; 40], 2);
    rx.push_packet(&s.packets[0], 202)?;
    assert!(matches!(
        drain(&mut rx, &mut out, 202)[0].0,
        Event::Failed {
            error: Error::UnknownKeyId,
            ..
        }
    ));
    assert!(rx.has_key(9) && !rx.has_key(16));
    Ok(())
}

/// A ratcheting send stream with per-SSRC keys (§8): the derivation once, then steps; the
/// receive session follows the steps on each stream.
#[test]
fn per_ssrc_ratchet_streams() -> TestResult {
    let suite = CipherSuite::AesCtr256HmacSha512_80;
    let layout = RatchetLayout::new(4)?;
    let mut streams = [VIDEO, AUDIO].map(|ssrc| {
        SendStream::new(SendConfig::new(suite, ssrc, 96, 1200).with_per_ssrc_keys(true)).unwrap()
    });
    let base = [0x77u8; 64];
    let mut rx = Viewer::with_capacity(config(suite, true), 2);
    for s in &mut streams {
        assert_eq!(s.set_ratcheting_key(layout, Generation(5), &base)?, 5 << 4);
    }
    rx.add_ratcheting_key(layout, 5 << 4, &base)?;
    let mut out = vec![0u8; 4096];
    let mut delivered = 0;
    for step in 0..20u64 {
        for s in &mut streams {
            let sent = send(s, vec![step as u8; 100], step as u32);
            assert_eq!(sent.kid, layout.kid(Generation(5), step)?);
            rx.push_packet(&sent.packets[0], step)?;
            s.ratchet()?;
        }
        for (e, bytes) in drain(&mut rx, &mut out, step) {
            if let Event::Frame(_) = e {
                assert_eq!(bytes, vec![step as u8; 100]);
                delivered += 1;
            }
        }
    }
    assert_eq!(delivered, 40);
    // The per-SSRC chain is not the plain chain of the base key.
    let mut plain = Sender::new(suite);
    plain.set_ratcheting_key(layout, Generation(5), &base)?;
    let mut one = Viewer::with_capacity(config(suite, true), 1);
    one.add_ratcheting_key(layout, 5 << 4, &base)?;
    let (mut ct, mut wire) = ([0u8; 200], [0u8; 200]);
    let frag = protect_frame(&mut plain, b"", b"y", Mode::PerFrame, 1200, &mut ct)?
        .next()
        .unwrap();
    let n = frag.write_packet(&RtpHeader::new(96, 0, 0, VIDEO), &mut wire)?;
    one.push_packet(&wire[..n], 0)?;
    assert!(matches!(
        drain(&mut one, &mut out, 0)[0].0,
        Event::Failed {
            error: Error::AuthenticationFailed,
            ..
        }
    ));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// §7 vectors through the session
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct SsrcVectors {
    ssrc_keys: Vec<SsrcVector>,
}

#[derive(Deserialize)]
struct SsrcVector {
    cipher_suite: u16,
    ssrc: u32,
    base_key: String,
    kid: u64,
    sframe_key: String,
    sframe_salt: String,
}

/// A frame protected with the vector's `sframe_key` / `sframe_salt` (the RFC 9605 §4.4.2 keys
/// of the §7 per-SSRC key) decrypts in a receive session given only the session base key:
/// the session's per-SSRC derivation is the vectors'. And a send stream given the base key
/// produces what a receiver holding only the vector's keys decrypts.
#[test]
fn ssrc_key_vectors_through_the_session() -> TestResult {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../test-vectors/rtp-ssrc-keys.json"
    );
    let vectors: SsrcVectors = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    assert_eq!(vectors.ssrc_keys.len(), 64);
    for v in &vectors.ssrc_keys {
        let suite = CipherSuite::try_from(v.cipher_suite)?;
        let base = hex::decode(&v.base_key)?;
        let key = Key::from_parts(
            suite,
            v.kid,
            &hex::decode(&v.sframe_key)?,
            &hex::decode(&v.sframe_salt)?,
        )?;
        // Vector keys → session.
        let mut tx = Sender::new(suite);
        tx.set_derived_key(key)?;
        let mut ct = [0u8; 256];
        let mut wire = [0u8; 300];
        let plaintext = frame_bytes(v.ssrc, v.kid, 0, 64);
        let frag = protect_frame(&mut tx, b"", &plaintext, Mode::PerFrame, 1200, &mut ct)?
            .next()
            .unwrap();
        let mut header = RtpHeader::new(96, 7, 1, v.ssrc);
        header.marker = true;
        let n = frag.write_packet(&header, &mut wire)?;
        let mut rx: InlineReceiveSession<1, 4, 512, 1, 512, 2> =
            InlineReceiveSession::new(config(suite, true));
        rx.add_key(v.kid, &base)?;
        rx.push_packet(&wire[..n], 0)?;
        let events = drain(&mut rx, &mut [0u8; 512], 0);
        assert!(
            matches!(events[0].0, Event::Frame(f) if f.ssrc == v.ssrc && f.kid == v.kid),
            "suite {} ssrc {:#x}: {:?}",
            v.cipher_suite,
            v.ssrc,
            events[0].0
        );
        assert_eq!(events[0].1, plaintext);

        // Session base key → send stream → a receiver with the vector's keys.
        drop(tx); // frees the key's claim in the sender registry
        let mut stream =
            SendStream::new(SendConfig::new(suite, v.ssrc, 96, 1200).with_per_ssrc_keys(true))?;
        stream.set_key(v.kid, &base)?;
        let s = send(&mut stream, plaintext.clone(), 0);
        let mut vector_rx = sframe_core::Receiver::new(suite);
        vector_rx.add_derived_key(Key::from_parts(
            suite,
            v.kid,
            &hex::decode(&v.sframe_key)?,
            &hex::decode(&v.sframe_salt)?,
        )?)?;
        let payload = RtpPacket::parse(&s.packets[0])?.payload;
        assert_eq!(vector_rx.unprotect_vec(b"", &payload[1..])?, plaintext);

        // The vector's derived key as an external key's stream key, from a send stream given
        // the vector's derived key.
        drop(stream);
        let mut stream =
            SendStream::new(SendConfig::new(suite, v.ssrc, 96, 1200).with_per_ssrc_keys(true))?;
        let vector_key = || {
            Key::from_parts(
                suite,
                v.kid,
                &hex::decode(&v.sframe_key).unwrap(),
                &hex::decode(&v.sframe_salt).unwrap(),
            )
        };
        stream.set_derived_key(vector_key()?)?;
        let s = send(&mut stream, plaintext.clone(), 0);
        let mut rx: InlineReceiveSession<1, 4, 512, 1, 512, 2> =
            InlineReceiveSession::new(config(suite, true).with_max_wait(10));
        rx.add_external_key(v.kid)?;
        rx.push_packet(&s.packets[0], 0)?;
        let events = drain(&mut rx, &mut [0u8; 512], 0);
        assert!(matches!(events[..], [(Event::AwaitingKey { .. }, _)]));
        assert_eq!(
            rx.missing_stream_keys().collect::<Vec<_>>(),
            [(v.ssrc, v.kid)]
        );
        assert!(rx.add_stream_key(v.ssrc, vector_key()?)?);
        let events = drain(&mut rx, &mut [0u8; 512], 1);
        assert!(matches!(events[0].0, Event::Frame(f) if f.from_buffer && f.ssrc == v.ssrc));
        assert_eq!(events[0].1, plaintext);
    }
    Ok(())
}

/// The per-SSRC key of `base` for `ssrc`, then its §4.4.2 key: what an application holding
/// the base key outside the session derives.
fn stream_key(suite: CipherSuite, kid: u64, base: &[u8], ssrc: u32) -> Key {
    let mut ssrc_key = [0u8; 64];
    let n = sframe_core::rtp::ssrc_base_key(suite, base, ssrc, &mut ssrc_key).unwrap();
    Key::derive(suite, kid, &ssrc_key[..n]).unwrap()
}

/// A KID whose base key the application keeps: every stream (present or new) is listed until
/// its derived key is given, its frames wait meanwhile, and the KID follows the table's rules
/// (replacement, removal, stale).
#[test]
fn external_keys_are_installed_per_stream() -> TestResult {
    let suite = CipherSuite::AesGcm256Sha512;
    let base = [0x3c; 32];
    let mut video =
        SendStream::new(SendConfig::new(suite, VIDEO, 96, 1200).with_per_ssrc_keys(true))?;
    let mut audio =
        SendStream::new(SendConfig::new(suite, AUDIO, 97, 1200).with_per_ssrc_keys(true))?;
    video.set_key(7, &base)?;
    audio.set_key(7, &base)?;
    let mut rx = Viewer::with_capacity(config(suite, true).with_max_wait(1000), 4);
    let mut out = vec![0u8; 65_536];
    rx.add_external_key(7)?;
    assert!(rx.has_key(7));
    assert_eq!(rx.missing_stream_keys().count(), 0, "no stream yet");

    // A new stream: listed, its frames wait.
    let v0 = send(&mut video, vec![1; 100], 0);
    rx.push_packet(&v0.packets[0], 0)?;
    assert_eq!(rx.missing_stream_keys().collect::<Vec<_>>(), [(VIDEO, 7)]);
    let events = drain(&mut rx, &mut out, 0);
    assert!(matches!(
        events[..],
        [(
            Event::AwaitingKey {
                ssrc: VIDEO,
                kid: 7,
                ..
            },
            _
        )]
    ));
    assert_eq!(rx.stats().key_install_failures, 0);

    // Errors change nothing.
    assert_eq!(
        rx.add_stream_key(VIDEO, stream_key(suite, 8, &base, VIDEO)),
        Err(Error::UnknownKeyId),
        "not an external KID"
    );
    assert_eq!(
        rx.add_stream_key(0x99, stream_key(suite, 7, &base, 0x99)),
        Ok(false)
    );
    let mut plain = Viewer::with_capacity(config(suite, false), 1);
    assert_eq!(plain.add_external_key(7), Err(Error::InvalidConfig));
    assert_eq!(
        rx.add_stream_key(
            VIDEO,
            Key::derive(CipherSuite::AesGcm128Sha256, 7, &[1; 16])?
        ),
        Err(Error::SuiteMismatch)
    );
    assert_eq!(rx.missing_stream_keys().collect::<Vec<_>>(), [(VIDEO, 7)]);

    // The derived key releases the frame; later frames go straight through.
    assert!(rx.add_stream_key(VIDEO, stream_key(suite, 7, &base, VIDEO))?);
    assert_eq!(rx.missing_stream_keys().count(), 0);
    let events = drain(&mut rx, &mut out, 1);
    assert!(matches!(events[0].0, Event::Frame(f) if f.from_buffer && f.counter == 0));
    assert_eq!(events[0].1, v0.plaintext);
    assert_eq!(key_events(&events), [(7, VIDEO, true)]);
    let v1 = send(&mut video, vec![2; 100], 1);
    rx.push_packet(&v1.packets[0], 2)?;
    assert!(matches!(drain(&mut rx, &mut out, 2)[..], [(Event::Frame(f), _)] if !f.from_buffer));

    // A second stream needs its own key: VIDEO's fails its frame.
    let a0 = send(&mut audio, vec![3; 100], 0);
    rx.push_packet(&a0.packets[0], 3)?;
    assert_eq!(rx.missing_stream_keys().collect::<Vec<_>>(), [(AUDIO, 7)]);
    drain(&mut rx, &mut out, 3);
    assert!(rx.add_stream_key(AUDIO, stream_key(suite, 7, &base, VIDEO))?);
    let events = drain(&mut rx, &mut out, 4);
    assert!(matches!(
        events[..],
        [(
            Event::Failed {
                ssrc: AUDIO,
                error: Error::AuthenticationFailed,
                ..
            },
            _
        )]
    ));

    // Key bytes for the KID replace the external key (and install in every stream); the
    // external key's stream keys are then refused.
    rx.add_key(7, &base)?;
    assert_eq!(
        rx.add_stream_key(AUDIO, stream_key(suite, 7, &base, AUDIO)),
        Err(Error::UnknownKeyId)
    );
    let a1 = send(&mut audio, vec![4; 100], 1);
    rx.push_packet(&a1.packets[0], 5)?;
    assert!(matches!(drain(&mut rx, &mut out, 5)[0].0, Event::Frame(f) if f.ssrc == AUDIO));

    // An external key for a KID in use lists every stream again; each keeps the key it has
    // until given one, and the same material given again keeps its replay windows
    // (regression: dropping the keys there let replayed frames through once re-installed).
    rx.add_external_key(7)?;
    let mut missing = rx.missing_stream_keys().collect::<Vec<_>>();
    missing.sort_unstable();
    assert_eq!(missing, [(VIDEO, 7), (AUDIO, 7)]);
    let v2 = send(&mut video, vec![5; 100], 2);
    rx.push_packet(&v2.packets[0], 6)?;
    assert!(matches!(
        drain(&mut rx, &mut out, 6)[..],
        [(Event::Frame(f), _)] if f.counter == 2 && !f.from_buffer
    ));
    assert!(rx.add_stream_key(VIDEO, stream_key(suite, 7, &base, VIDEO))?);
    assert_eq!(rx.missing_stream_keys().collect::<Vec<_>>(), [(AUDIO, 7)]);
    let mut replayed = v2.packets[0].clone();
    replayed[2..4].copy_from_slice(&777u16.to_be_bytes()); // past the duplicate check
    rx.push_packet(&replayed, 7)?;
    assert!(matches!(
        drain(&mut rx, &mut out, 7)[..],
        [(
            Event::Failed {
                error: Error::Replay,
                ..
            },
            _
        )]
    ));

    // Removed: nothing listed, its stream keys refused, the KID stale.
    assert!(rx.remove_key(7));
    assert_eq!(rx.missing_stream_keys().count(), 0);
    assert_eq!(
        rx.add_stream_key(AUDIO, stream_key(suite, 7, &base, AUDIO)),
        Err(Error::UnknownKeyId)
    );
    assert_eq!(rx.add_external_key(7), Err(Error::StaleEpoch));
    let v3 = send(&mut video, vec![6; 100], 3);
    rx.push_packet(&v3.packets[0], 8)?;
    assert!(matches!(
        drain(&mut rx, &mut out, 8)[..],
        [(
            Event::Failed {
                error: Error::UnknownKeyId,
                ..
            },
            _
        )]
    ));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The send side
// ---------------------------------------------------------------------------------------------

#[test]
fn send_stream_headers_sequence_numbers_and_errors() -> TestResult {
    let suite = CipherSuite::AesGcm128Sha256;
    let mut tx = SendStream::new(
        SendConfig::new(suite, 0xabcd, 100, 300).with_first_sequence(u16::MAX - 1),
    )?;
    assert_eq!(
        tx.send_frame(b"x", 0, true, &mut [0u8; 100]).err(),
        Some(Error::NoKey)
    );
    tx.set_key(0x1_0000, &[4; 16])?; // a 3-byte KID, counter 0: a 4-byte header
    assert_eq!(tx.per_packet_overhead(), 1 + 17 + 16);
    assert_eq!(tx.max_media_payload_len(), 300 - 34);
    let media = vec![0x5a; 1000];
    // Too small a buffer: nothing used.
    let need = tx.max_packets_len(media.len());
    assert_eq!(
        tx.send_frame(&media, 0, true, &mut vec![0u8; need - 1])
            .err(),
        Some(Error::BufferTooSmall)
    );
    assert_eq!(
        (tx.sender().next_counter(), tx.next_sequence()),
        (Some(0), u16::MAX - 1)
    );
    let mut buf = vec![0u8; need];
    let packets = tx.send_frame(&media, 0xdead_beef, true, &mut buf)?;
    assert_eq!((packets.key_id(), packets.counter()), (0x1_0000, 0));
    assert_eq!(packets.first_sequence(), u16::MAX - 1);
    let total = packets.as_bytes().len();
    let all: Vec<&[u8]> = packets.collect();
    // 1000 + 4 header + 16 tag = 1020 bytes in chunks of 299.
    assert_eq!(all.len(), 4);
    assert_eq!(total, 4 * 13 + 1020);
    let mut frame = Vec::new();
    for (i, p) in all.iter().enumerate() {
        assert!(p.len() <= 12 + 300);
        let parsed = RtpPacket::parse(p)?;
        assert_eq!(
            parsed.header.sequence_number,
            (u16::MAX - 1).wrapping_add(i as u16)
        );
        assert_eq!(
            (parsed.header.ssrc, parsed.header.payload_type),
            (0xabcd, 100)
        );
        assert_eq!(parsed.header.timestamp, 0xdead_beef);
        assert_eq!(parsed.header.marker, i == 3);
        let d = parsed.payload[0];
        assert_eq!(d, [0x80, 0x00, 0x00, 0x40][i]);
        frame.extend_from_slice(&parsed.payload[1..]);
    }
    let mut rx = sframe_core::Receiver::new(suite);
    rx.add_key(0x1_0000, &[4; 16])?;
    assert_eq!(rx.unprotect_vec(b"", &frame)?, media);
    assert_eq!(tx.next_sequence(), 2);
    let stats = tx.stats();
    assert_eq!(
        (stats.frames, stats.packets, stats.media_bytes),
        (1, 4, 1000)
    );
    assert_eq!(stats.rtp_bytes, total as u64);

    // No marker asked: none set. A header with CSRCs and an extension is copied.
    let mut header = RtpHeader::new(101, 0, 5, 0);
    header.csrc = &[0, 0, 0, 7];
    header.extension = Some(sframe_core::rtp::HeaderExtension {
        profile: 0xbede,
        data: &[1, 2, 3, 4],
    });
    let need = tx.max_packets_len_with(500, header.encoded_len());
    let mut buf = vec![0u8; need];
    let packets: Vec<Vec<u8>> = tx
        .send_frame_with(&media[..500], &header, &mut buf)?
        .map(<[u8]>::to_vec)
        .collect();
    assert_eq!(packets.len(), 2);
    for p in &packets {
        let parsed = RtpPacket::parse(p)?;
        assert_eq!(parsed.header.csrc, &[0, 0, 0, 7]);
        assert_eq!(parsed.header.ssrc, 0xabcd, "the stream's SSRC");
        assert_eq!(parsed.header.payload_type, 101);
        assert!(!parsed.header.marker);
    }
    header.payload_type = 200;
    assert_eq!(
        tx.send_frame_with(b"x", &header, &mut buf).err(),
        Some(Error::InvalidConfig)
    );
    assert_eq!(tx.sender().next_counter(), Some(2), "nothing used");
    assert_eq!(
        SendStream::new(SendConfig::new(suite, 1, 128, 300))
            .err()
            .map(|_| ()),
        Some(())
    );
    assert!(SendStream::new(SendConfig::new(suite, 1, 96, 1)).is_err());
    Ok(())
}

/// Two streams with one base key and KID: refused without per-SSRC keys (the same key would
/// repeat nonces), fine with them.
#[test]
fn streams_share_a_key_only_through_per_ssrc_keys() -> TestResult {
    let suite = CipherSuite::AesCtr256HmacSha512_80;
    let mut a = SendStream::new(SendConfig::new(suite, 1, 96, 1200))?;
    let mut b = SendStream::new(SendConfig::new(suite, 2, 96, 1200))?;
    a.set_key(4, &[4; 16])?;
    assert_eq!(b.set_key(4, &[4; 16]), Err(Error::KeyInUse));
    let mut c = SendStream::new(SendConfig::new(suite, 1, 96, 1200).with_per_ssrc_keys(true))?;
    let mut d = SendStream::new(SendConfig::new(suite, 2, 96, 1200).with_per_ssrc_keys(true))?;
    c.set_key(4, &[4; 16])?;
    d.set_key(4, &[4; 16])?;
    // But the same SSRC twice is the same key.
    let mut e = SendStream::new(SendConfig::new(suite, 2, 96, 1200).with_per_ssrc_keys(true))?;
    assert_eq!(e.set_key(4, &[4; 16]), Err(Error::KeyInUse));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Hostile input: streams
// ---------------------------------------------------------------------------------------------

fn junk(ssrc: u32, seq: u16, payload: &[u8]) -> Vec<u8> {
    let packet = RtpPacket {
        header: RtpHeader::new(96, seq, 0, ssrc),
        payload,
        padding: 0,
    };
    let mut buf = vec![0u8; packet.encoded_len()];
    packet.write(&mut buf).unwrap();
    buf
}

/// Injected packets under made-up SSRCs evict only streams that never authenticated; with
/// every slot held by an authenticated stream they are refused and counted.
#[test]
fn junk_ssrcs_never_push_out_authenticated_streams() -> TestResult {
    let suite = CipherSuite::AesGcm128Sha256;
    let mut rx = Viewer::with_capacity(config(suite, true), 3);
    rx.add_key(1, &[0x85; 16])?;
    let mut out = vec![0u8; 65_536];
    let mut tx = SendStream::new(SendConfig::new(suite, VIDEO, 96, 1200).with_per_ssrc_keys(true))?;
    tx.set_key(1, &[0x85; 16])?;
    let s = send(&mut tx, vec![1; 10], 0);
    rx.push_packet(&s.packets[0], 0)?;
    assert_eq!(frames(&drain(&mut rx, &mut out, 0)).len(), 1);
    // A legit stream whose key has not come: waiting.
    let mut late =
        SendStream::new(SendConfig::new(suite, AUDIO, 96, 1200).with_per_ssrc_keys(true))?;
    late.set_key(2, &[0x86; 16])?;
    let s = send(&mut late, vec![2; 10], 0);
    rx.push_packet(&s.packets[0], 1)?;
    drain(&mut rx, &mut out, 1);
    assert_eq!(rx.stats().streams, 2);
    // Junk from 100 SSRCs, each a complete "frame".
    for i in 0..100u32 {
        let r = rx.push_packet(
            &junk(0xbad0_0000 + i, 0, &[0xc0, 0x11, 0x22, 0x33]),
            10 + u64::from(i),
        )?;
        assert_eq!(r, Pushed::Packet(sframe_core::rtp::Pushed::FrameReady));
        drain(&mut rx, &mut out, 10 + u64::from(i));
    }
    let ssrcs: BTreeSet<u32> = rx.ssrcs().collect();
    assert!(ssrcs.contains(&VIDEO), "the authenticated stream stays");
    assert!(
        !ssrcs.contains(&AUDIO),
        "a stream that never authenticated can be pushed out"
    );
    assert_eq!(rx.stats().streams, 3);
    assert!(rx.stats().streams_evicted >= 99);
    // Now authenticate a second stream; with two authenticated, one slot churns.
    let mut third =
        SendStream::new(SendConfig::new(suite, 0x3333, 96, 1200).with_per_ssrc_keys(true))?;
    third.set_key(1, &[0x85; 16])?;
    let s = send(&mut third, vec![3; 10], 0);
    rx.push_packet(&s.packets[0], 500)?;
    assert_eq!(frames(&drain(&mut rx, &mut out, 500)).len(), 1);
    let mut fourth =
        SendStream::new(SendConfig::new(suite, 0x4444, 96, 1200).with_per_ssrc_keys(true))?;
    fourth.set_key(1, &[0x85; 16])?;
    let s = send(&mut fourth, vec![4; 10], 0);
    rx.push_packet(&s.packets[0], 501)?;
    assert_eq!(frames(&drain(&mut rx, &mut out, 501)).len(), 1);
    // All three slots authenticated: junk is refused.
    let before = rx.stats().ssrcs_refused;
    assert_eq!(
        rx.push_packet(&junk(0xbad1_0000, 0, &[0xc0, 1]), 600)?,
        Pushed::StreamRefused
    );
    assert_eq!(rx.stats().ssrcs_refused, before + 1);
    assert_eq!(
        rx.ssrcs().collect::<BTreeSet<_>>(),
        [VIDEO, 0x3333, 0x4444].into()
    );
    // The application frees a slot.
    assert!(rx.remove_stream(0x4444));
    assert!(matches!(
        rx.push_packet(&junk(0xbad1_0000, 0, &[0xc0, 1]), 601)?,
        Pushed::Packet(_)
    ));
    // Junk KIDs never get an entry in the KID table.
    assert_eq!(rx.kids_stats().count(), 1);
    assert!(rx.stats().unknown_kids.waited > 0);
    // Malformed input changes nothing.
    let streams = rx.stats().streams;
    assert_eq!(
        rx.push_packet(&[0x80, 0x60], 700),
        Err(Error::MalformedFrame)
    );
    assert_eq!(
        rx.push_packet(&junk(0xbad2_0000, 0, &[]), 700),
        Err(Error::MalformedFrame)
    );
    assert_eq!(
        rx.push_packet(&junk(0xbad2_0000, 0, &vec![0xc0; 70_000]), 700),
        Err(Error::BufferTooSmall)
    );
    assert_eq!(rx.stats().streams, streams);
    assert_eq!(rx.stats().packets_malformed, 3);
    Ok(())
}

/// The KID table is bounded: a new key takes the entry of the KID removed longest ago, and a
/// full table of keys in use refuses another.
#[test]
fn the_kid_table_is_bounded() -> TestResult {
    let suite = CipherSuite::AesGcm128Sha256;
    let mut rx: Box<InlineReceiveSession<1, 4, 256, 1, 256, 2>> =
        Box::new(InlineReceiveSession::new(config(suite, false)));
    rx.add_key(1, &[1; 16])?;
    rx.add_key(2, &[2; 16])?;
    assert_eq!(rx.add_key(3, &[3; 16]), Err(Error::KeyStoreFull));
    rx.add_key(2, &[2; 16])?; // again: fine
    assert!(rx.remove_key(1));
    assert!(rx.remove_key(2));
    rx.add_key(3, &[3; 16])?; // takes KID 1's entry (removed first)
    assert_eq!(
        rx.add_key(2, &[2; 16]),
        Err(Error::StaleEpoch),
        "still remembered"
    );
    rx.add_key(4, &[4; 16])?; // takes KID 2's entry
    assert_eq!(rx.add_key(5, &[5; 16]), Err(Error::KeyStoreFull));
    let kids: Vec<KidStats> = rx.kids_stats().collect();
    assert_eq!(
        kids.iter().map(|k| (k.kid, k.active)).collect::<Vec<_>>(),
        [(3, true), (4, true)]
    );
    assert_eq!(rx.add_key(6, &[6; 15]), Err(Error::InvalidKey));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Property test: arbitrary packets and key changes
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Op {
    /// A legit frame on stream 0 or 1 under KID 1..=3.
    Send {
        stream: usize,
        kid: u64,
        len: usize,
    },
    /// Deliver up to `n` queued legit packets, picking from the queue at `pick`.
    Deliver {
        n: usize,
        pick: usize,
    },
    /// An RTP packet with arbitrary SSRC, sequence number and payload.
    Junk {
        ssrc: u32,
        seq: u16,
        payload: Vec<u8>,
    },
    /// A legit packet sent again, with another sequence number (past the depacketizer's
    /// duplicate check) and maybe under another SSRC.
    Replay {
        index: usize,
        seq_shift: u16,
        ssrc: Option<u32>,
    },
    AddKey(u64),
    /// The key of a KID derived outside: `add_external_key` with per-SSRC keys (the stream
    /// keys come with [`Op::InstallStreamKeys`]), else `add_derived_key`.
    AddExternalKey(u64),
    /// The application derives and installs every stream key the session lists as missing.
    InstallStreamKeys,
    RemoveKey(u64),
    Poll,
    Tick(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let ssrc = prop_oneof![Just(VIDEO), Just(AUDIO), 0u32..4, any::<u32>()];
    prop_oneof![
        4 => (0usize..2, 1u64..=3, 1usize..2500).prop_map(|(stream, kid, len)| Op::Send { stream, kid, len }),
        5 => (1usize..8, any::<usize>()).prop_map(|(n, pick)| Op::Deliver { n, pick }),
        3 => (ssrc, any::<u16>(), prop::collection::vec(any::<u8>(), 0..300))
            .prop_map(|(ssrc, seq, payload)| Op::Junk { ssrc, seq, payload }),
        3 => (any::<usize>(), 1u16..2000, prop::option::of(prop_oneof![Just(VIDEO), Just(AUDIO), any::<u32>()]))
            .prop_map(|(index, seq_shift, ssrc)| Op::Replay { index, seq_shift, ssrc }),
        2 => (1u64..=3).prop_map(Op::AddKey),
        1 => (1u64..=3).prop_map(Op::AddExternalKey),
        2 => Just(Op::InstallStreamKeys),
        1 => (1u64..=3).prop_map(Op::RemoveKey),
        3 => Just(Op::Poll),
        1 => (0u64..500).prop_map(Op::Tick),
    ]
}

const P_PACKETS: usize = 8;
const P_BYTES: usize = 4096;
const P_WAIT_FRAMES: usize = 4;
const P_WAIT_BYTES: usize = 6000;
/// 8 KIDs: room for the 6 KIDs used (3 per stream without per-SSRC keys), so a removed KID
/// is remembered for the whole run.
type PropSession = BoxedReceiveSession<P_PACKETS, P_BYTES, P_WAIT_FRAMES, P_WAIT_BYTES, 8>;

fn base_key(kid: u64) -> [u8; 32] {
    [kid as u8 ^ 0xa5; 32]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Whatever packets arrive (junk, legit ones reordered and replayed under other sequence
    /// numbers and SSRCs) and whatever keys come and go: the buffers stay within their
    /// bounds, no frame comes out twice, and every frame that comes out was sent, intact (and,
    /// with per-SSRC keys, on its own SSRC).
    #[test]
    fn hostile_packets_and_key_changes(
        per_ssrc in any::<bool>(),
        per_packet in any::<bool>(),
        ops in prop::collection::vec(op(), 1..120),
    ) {
        let suite = CipherSuite::AesCtr128HmacSha256_80;
        let mode = if per_packet { Mode::PerPacket } else { Mode::PerFrame };
        let mut streams = [VIDEO, AUDIO].map(|ssrc| {
            SendStream::with_backend(
                RustCrypto,
                SendConfig::new(suite, ssrc, 96, 700).with_mode(mode).with_per_ssrc_keys(per_ssrc),
            )
            .unwrap()
        });
        // Without per-SSRC keys each stream needs its own KIDs (the nonce rule).
        let kid_of = |stream: usize, kid: u64| if per_ssrc { kid } else { kid + 10 * stream as u64 };
        let capacity = 3;
        let mut rx = PropSession::with_capacity(config(suite, per_ssrc).with_max_wait(300), capacity);
        let mut legit: BTreeMap<(u32, u64, u64), Vec<u8>> = BTreeMap::new();
        let mut queue: Vec<Vec<u8>> = Vec::new();
        let mut history: Vec<Vec<u8>> = Vec::new();
        let mut delivered = BTreeSet::new();
        let mut removed = BTreeSet::new();
        let mut out = vec![0u8; P_BYTES];
        let mut now = 0u64;
        for op in ops {
            match op {
                Op::Send { stream, kid, len } => {
                    let s = &mut streams[stream];
                    let kid = kid_of(stream, kid);
                    s.set_key(kid, &base_key(kid)).unwrap();
                    let len = if per_packet { len.min(s.max_media_payload_len()) } else { len };
                    let counter = s.sender().next_counter().unwrap();
                    let plaintext = frame_bytes(s.ssrc(), kid, counter, len);
                    let sent = send(s, plaintext.clone(), now as u32);
                    legit.insert((sent.ssrc, kid, counter), plaintext);
                    history.extend(sent.packets.iter().cloned());
                    queue.extend(sent.packets);
                }
                Op::Deliver { n, pick } => {
                    for _ in 0..n {
                        if queue.is_empty() {
                            break;
                        }
                        let p = queue.remove(pick % queue.len());
                        let _ = rx.push_packet(&p, now);
                    }
                }
                Op::Junk { ssrc, seq, payload } => {
                    let _ = rx.push_packet(&junk(ssrc, seq, &payload), now);
                }
                Op::Replay { index, seq_shift, ssrc } => {
                    if !history.is_empty() {
                        let mut p = history[index % history.len()].clone();
                        let seq = u16::from_be_bytes([p[2], p[3]]).wrapping_add(seq_shift);
                        p[2..4].copy_from_slice(&seq.to_be_bytes());
                        if let Some(ssrc) = ssrc {
                            p[8..12].copy_from_slice(&ssrc.to_be_bytes());
                        }
                        let _ = rx.push_packet(&p, now);
                    }
                }
                Op::AddKey(kid) => {
                    for stream in 0..if per_ssrc { 1 } else { 2 } {
                        let kid = kid_of(stream, kid);
                        let r = rx.add_key(kid, &base_key(kid));
                        if removed.contains(&kid) {
                            prop_assert_eq!(r, Err(Error::StaleEpoch));
                        } else {
                            prop_assert_eq!(r, Ok(()));
                        }
                    }
                }
                Op::AddExternalKey(kid) => {
                    for stream in 0..if per_ssrc { 1 } else { 2 } {
                        let kid = kid_of(stream, kid);
                        let r = if per_ssrc {
                            rx.add_external_key(kid)
                        } else {
                            rx.add_derived_key(Key::derive(suite, kid, &base_key(kid)).unwrap())
                        };
                        if removed.contains(&kid) {
                            prop_assert_eq!(r, Err(Error::StaleEpoch));
                        } else {
                            prop_assert_eq!(r, Ok(()));
                        }
                    }
                }
                Op::InstallStreamKeys => {
                    let missing: Vec<(u32, u64)> = rx.missing_stream_keys().collect();
                    prop_assert!(missing.len() <= capacity * 8);
                    for (ssrc, kid) in missing {
                        prop_assert!(per_ssrc && !removed.contains(&kid));
                        let key = stream_key(suite, kid, &base_key(kid), ssrc);
                        prop_assert_eq!(rx.add_stream_key(ssrc, key), Ok(true));
                    }
                    prop_assert_eq!(rx.missing_stream_keys().count(), 0);
                }
                Op::RemoveKey(kid) => {
                    for stream in 0..if per_ssrc { 1 } else { 2 } {
                        let kid = kid_of(stream, kid);
                        if rx.remove_key(kid) {
                            removed.insert(kid);
                        }
                    }
                }
                Op::Poll => {}
                Op::Tick(dt) => now += dt,
            }
            // Drain, checking every frame.
            let mut polls = 0;
            while let Some(event) = rx.poll(&mut out, now) {
                polls += 1;
                prop_assert!(polls < 10_000);
                if let Event::Frame(f) = event {
                    // With per-SSRC keys the SSRC is authenticated too; without, nothing binds
                    // a frame to its SSRC (documented): the frame is identified by KID and
                    // counter (distinct KIDs per stream).
                    let sent = legit
                        .iter()
                        .find(|((ssrc, kid, ctr), _)| {
                            (!per_ssrc || *ssrc == f.ssrc) && *kid == f.kid && *ctr == f.counter
                        })
                        .map(|(id, bytes)| (*id, bytes));
                    prop_assert!(sent.is_some(), "unauthenticated frame {:?}", f);
                    let (id, bytes) = sent.unwrap();
                    prop_assert_eq!(&out[..f.len], &bytes[..]);
                    prop_assert!(delivered.insert(id), "delivered twice: {:?}", f);
                }
            }
            // The bounds.
            let stats = rx.stats();
            prop_assert!(stats.streams <= capacity);
            prop_assert_eq!(stats.capacity, capacity);
            prop_assert!(stats.keys_active + stats.keys_removed <= 8);
            prop_assert!(rx.kids_stats().count() <= 8);
            for s in rx.streams_stats() {
                prop_assert!(s.stored_packets <= P_PACKETS);
                prop_assert!(s.stored_bytes <= P_BYTES);
                prop_assert!(s.waiting <= P_WAIT_FRAMES);
                prop_assert!(s.waiting_bytes <= P_WAIT_BYTES);
            }
            // Removed KIDs have nothing waiting.
            for k in rx.kids_stats().filter(|k| !k.active) {
                prop_assert_eq!(k.waiting, 0);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------------

/// The heap constructor never holds the session's slots on the stack: a session whose slots
/// take several times a small thread's stack is made, and used, on that thread (in debug
/// builds too, where nothing is optimized into place).
#[test]
fn heap_session_on_a_small_stack() -> TestResult {
    type Big = BoxedReceiveSession<64, 65_536, 16, 65_536, 8, FixedKeyStore<8, RustCrypto>>;
    const STREAMS: usize = 16;
    const STACK: usize = 1024 * 1024;
    let slot =
        std::mem::size_of::<StreamSlot<64, 65_536, 16, 65_536, FixedKeyStore<8, RustCrypto>>>();
    assert!(
        slot * STREAMS > 2 * STACK,
        "the slots ({} bytes) would not fit",
        slot * STREAMS
    );
    let handle = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            let suite = CipherSuite::AesCtr256HmacSha512_80;
            let mut rx = Big::with_capacity(config(suite, true), STREAMS);
            assert_eq!(rx.capacity(), STREAMS);
            rx.add_key(1, &[1; 32]).unwrap();
            let mut tx = SendStream::with_backend(
                RustCrypto,
                SendConfig::new(suite, VIDEO, 96, 1200).with_per_ssrc_keys(true),
            )
            .unwrap();
            tx.set_key(1, &[1; 32]).unwrap();
            let mut out = vec![0u8; 65_536];
            let mut buf = vec![0u8; 8192];
            let mut delivered = 0;
            for i in 0..(STREAMS as u32 + 4) {
                // Junk streams come and go through the slots (each slot is reset when reused).
                rx.push_packet(&junk(0xbad0_0000 + i, 0, &[0xc0, 1, 2]), u64::from(i))
                    .unwrap();
                for p in tx.send_frame(&[i as u8; 3000], i, true, &mut buf).unwrap() {
                    rx.push_packet(p, u64::from(i)).unwrap();
                }
                while let Some(e) = rx.poll(&mut out, u64::from(i)) {
                    if let Event::Frame(f) = e {
                        assert!(out[..f.len].iter().all(|&b| b == i as u8));
                        delivered += 1;
                    }
                }
            }
            delivered
        })?;
    assert_eq!(handle.join().map_err(|_| "thread panicked")?, STREAMS + 4);
    Ok(())
}

/// The inline session is a `const fn` away from a `static` (no_std).
#[test]
fn inline_session_in_a_static() {
    use std::sync::Mutex;
    type Tiny = InlineReceiveSession<2, 8, 2048, 2, 2048, 4, FixedKeyStore<4, RustCrypto>>;
    static SESSION: Mutex<Tiny> = Mutex::new(InlineReceiveSession::new(SessionConfig::new(
        ReceiverConfig::new(CipherSuite::AesGcm128Sha256),
    )));
    let mut rx = SESSION.lock().unwrap();
    rx.add_key(1, &[0x63; 16]).unwrap();
    let mut tx = SendStream::with_backend(
        RustCrypto,
        SendConfig::new(CipherSuite::AesGcm128Sha256, 5, 96, 1200),
    )
    .unwrap();
    tx.set_key(1, &[0x63; 16]).unwrap();
    let s = {
        let mut buf = [0u8; 256];
        tx.send_frame(b"hello", 0, true, &mut buf)
            .unwrap()
            .map(<[u8]>::to_vec)
            .collect::<Vec<_>>()
    };
    rx.push_packet(&s[0], 0).unwrap();
    let mut out = [0u8; 2048];
    assert!(matches!(rx.poll(&mut out, 0), Some(Event::Frame(f)) if &out[..f.len] == b"hello"));
}

/// `counter_plaintext`: a frame whose bytes name its stream and counter.
trait Plaintext {
    fn counter_plaintext(&self, len: usize) -> Vec<u8>;
}

impl Plaintext for SendStream {
    fn counter_plaintext(&self, len: usize) -> Vec<u8> {
        let kid = self.key_id().unwrap_or(0);
        let counter = self.sender().next_counter().unwrap_or(0);
        frame_bytes(self.ssrc(), kid, counter, len)
    }
}

/// Finding 4 (slots through the stack), for the session: a heap session with the C ABI's
/// capacities (1024 packets / 1 MiB in reassembly, 64 frames / 1 MiB waiting, 16 KIDs: 2 MiB
/// of buffers per slot) is made and used on a 128 KiB thread, in debug builds too: every
/// slot's buffers are allocated in place, and a slot reused for a new SSRC (an evicted
/// stream) or after `remove_stream` is reset in place.
#[test]
fn finding4_boxed_session_with_c_abi_capacities_on_a_128_kib_stack() -> TestResult {
    type CSession = BoxedReceiveSession<1024, 1_048_576, 64, 1_048_576, 16>;
    const STREAMS: usize = 4;
    let handle = std::thread::Builder::new().stack_size(128 * 1024).spawn(
        || -> Result<(usize, u64), Error> {
            let suite = CipherSuite::AesCtr256HmacSha512_80;
            let mut rx = CSession::with_capacity(config(suite, true), STREAMS);
            assert_eq!(rx.capacity(), STREAMS);
            let mut tx =
                SendStream::new(SendConfig::new(suite, VIDEO, 96, 1200).with_per_ssrc_keys(true))?;
            tx.set_key(0x4f, &[0x4f; 32])?;
            let mut out = vec![0u8; 1 << 20];
            let mut buf = vec![0u8; 8192];
            // Junk SSRCs fill every slot, then evict one another (each eviction resets a slot).
            for i in 0..(2 * STREAMS as u32) {
                rx.push_packet(&junk(0xbad0_0000 + i, 0, &[0xc0, 1, 2]), u64::from(i))?;
                while rx.poll(&mut out, u64::from(i)).is_some() {}
            }
            rx.remove_stream(0xbad0_0000 + 2 * STREAMS as u32 - 1);
            // A real stream takes a reused slot; its frame waits for the key, then comes out.
            let mut delivered = 0;
            for i in 0..3u32 {
                let now = 100 + u64::from(i);
                for p in tx.send_frame(&[i as u8 + 1; 3000], i, true, &mut buf)? {
                    rx.push_packet(p, now)?;
                }
                if i == 1 {
                    rx.add_key(0x4f, &[0x4f; 32])?;
                }
                while let Some(e) = rx.poll(&mut out, now) {
                    if let Event::Frame(f) = e {
                        let byte = f.counter as u8 + 1;
                        assert!(f.len == 3000 && out[..f.len].iter().all(|&b| b == byte));
                        delivered += 1;
                    }
                }
            }
            Ok((delivered, rx.stats().streams_evicted))
        },
    )?;
    let (delivered, evicted) = handle.join().map_err(|_| "thread panicked")??;
    assert_eq!(delivered, 3);
    assert_eq!(evicted, STREAMS as u64);
    Ok(())
}

/// A key derived outside, in a session without per-SSRC keys: every stream uses it; the KID
/// follows the table's rules; per-SSRC sessions refuse it.
#[test]
fn derived_keys_in_a_session_without_per_ssrc_keys() -> TestResult {
    let suite = CipherSuite::AesCtr128HmacSha256_80;
    let base = [0x61; 16];
    let mut tx = SendStream::new(SendConfig::new(suite, VIDEO, 96, 1200))?;
    tx.set_key(4, &base)?;
    let mut rx = Viewer::with_capacity(config(suite, false).with_max_wait(1000), 2);
    let mut out = vec![0u8; 65_536];
    let s0 = send(&mut tx, vec![8; 300], 0);
    rx.push_packet(&s0.packets[0], 0)?;
    assert!(matches!(
        drain(&mut rx, &mut out, 0)[..],
        [(Event::AwaitingKey { .. }, _)]
    ));
    rx.add_derived_key(Key::derive(suite, 4, &base)?)?;
    assert!(rx.has_key(4));
    let events = drain(&mut rx, &mut out, 1);
    assert!(matches!(events[0].0, Event::Frame(f) if f.from_buffer));
    assert_eq!(events[0].1, s0.plaintext);
    // The same key again changes nothing; frames go on.
    rx.add_derived_key(Key::derive(suite, 4, &base)?)?;
    let s1 = send(&mut tx, vec![9; 300], 1);
    rx.push_packet(&s1.packets[0], 2)?;
    assert!(matches!(
        drain(&mut rx, &mut out, 2)[..],
        [(Event::Frame(f), _)] if !f.from_buffer && f.counter == 1
    ));
    assert_eq!(
        rx.add_derived_key(Key::derive(CipherSuite::AesGcm128Sha256, 5, &base)?),
        Err(Error::SuiteMismatch)
    );
    assert!(!rx.has_key(5), "nothing changed");
    assert!(rx.remove_key(4));
    assert_eq!(
        rx.add_derived_key(Key::derive(suite, 4, &base)?),
        Err(Error::StaleEpoch)
    );
    let mut per_ssrc = Viewer::with_capacity(config(suite, true), 1);
    assert_eq!(
        per_ssrc.add_derived_key(Key::derive(suite, 4, &base)?),
        Err(Error::InvalidConfig)
    );
    Ok(())
}
