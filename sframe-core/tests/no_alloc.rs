//! Proves the per-frame paths allocate nothing: a counting global allocator records every
//! allocation made by this thread while a frame is protected or unprotected.

mod common;

use common::allocations;
use sframe_core::{Backend, CipherSuite, FixedKeyStore, KeyStore, Receiver, RustCrypto, Sender};

#[test]
fn the_counter_sees_allocations() {
    // Guards against a test that cannot fail: the allocator must notice a Vec.
    let (n, v) = allocations(|| vec![1u8; 100]);
    assert!(n >= 1, "counting allocator saw no allocation");
    drop(v);
}

fn exercise<S: KeyStore>(suite: CipherSuite, rx: &mut Receiver<S>, kids: &[u64]) {
    let metadata = [0x9du8; 300];
    for &kid in kids {
        rx.add_key(kid, &[kid as u8; 16]).unwrap();
    }
    for &kid in kids {
        let mut tx = Sender::<S::Backend>::with_backend(Default::default(), suite);
        tx.set_key(kid, &[kid as u8; 16]).unwrap();
        let plaintext = [0x42u8; 1200];
        let mut out = [0u8; 1200 + 64];
        let mut in_place = [0u8; 1200 + 64];
        in_place[..1200].copy_from_slice(&plaintext);
        let mut plain_out = [0u8; 1200];

        let (n, ()) = allocations(|| {
            let len = tx.protect(&metadata, &plaintext, &mut out).unwrap().len();
            let pt = rx.unprotect_in_place(&metadata, &mut out[..len]).unwrap();
            assert_eq!(pt, &plaintext[..]);

            let len = tx.protect_in_place(b"", &mut in_place, 1200).unwrap().len();
            let frame = in_place;
            let pt = rx.unprotect(b"", &frame[..len], &mut plain_out).unwrap();
            assert_eq!(pt, &plaintext[..]);

            // Failures must not allocate either (no formatted errors).
            let mut bad = frame;
            bad[len - 1] ^= 1;
            assert!(rx.unprotect_in_place(b"", &mut bad[..len]).is_err());
            let mut replayed = frame;
            assert_eq!(
                rx.unprotect_in_place(b"", &mut replayed[..len])
                    .map(|p| p.len()),
                Err(sframe_core::Error::Replay)
            );
        });
        assert_eq!(
            n, 0,
            "suite {suite}, kid {kid}: {n} allocation(s) on the per-frame path"
        );
    }
}

/// Every backend compiled in, each named explicitly.
#[test]
fn per_frame_paths_do_not_allocate() {
    per_frame::<RustCrypto>();
    #[cfg(feature = "aws-lc")]
    per_frame::<sframe_core::AwsLc>();
}

fn per_frame<B: Backend>() {
    for suite in CipherSuite::ALL {
        // A full fixed-capacity store.
        let mut fixed = Receiver::<FixedKeyStore<8, B>>::with_store(suite);
        let kids: Vec<u64> = (0..8).map(|i| i * 1000 + 3).collect();
        exercise(suite, &mut fixed, &kids);
        assert_eq!(
            fixed.add_key(99_999, &[1; 16]).unwrap_err(),
            sframe_core::Error::KeyStoreFull
        );

        // The growable store with many keys.
        let mut growable = Receiver::with_backend(B::default(), suite);
        for kid in 10_000..10_200u64 {
            growable.add_key(kid, &[7; 16]).unwrap();
        }
        exercise(suite, &mut growable, &[5, 10_050, u64::MAX]);
    }
}

/// SFrame over RTP (`sframe_core::rtp`): protecting and packetizing a frame into caller
/// buffers, pushing the packets out of order into a fixed-capacity depacketizer, and popping
/// the decrypted frame allocate nothing, for every suite and backend (after one warm-up round:
/// see below); so do a failed (tampered) frame and duplicates.
#[test]
fn rtp_paths_do_not_allocate() {
    rtp_path::<RustCrypto>();
    #[cfg(feature = "aws-lc")]
    rtp_path::<sframe_core::AwsLc>();
}

fn rtp_path<B: Backend>() {
    use sframe_core::rtp::{Depacketizer, Mode, RtpHeader, protect_frame};
    for suite in CipherSuite::ALL {
        let mut tx = Sender::with_backend(B::default(), suite);
        tx.set_key(4, &[4; 16]).unwrap();
        let mut rx = Receiver::<FixedKeyStore<2, B>>::with_store(suite);
        rx.add_key(4, &[4; 16]).unwrap();
        let mut dep = Box::new(Depacketizer::<16, 8192>::new());
        let plaintext = [0x61u8; 3000];
        let mut ct = [0u8; 3100];
        let mut packets = [[0u8; 1300]; 4];
        let mut lens = [0usize; 4];
        let mut out = [0u8; 8192];
        let mut round = || {
            for (tamper, mode) in [
                (false, Mode::PerFrame),
                (true, Mode::PerFrame),
                (false, Mode::PerPacket),
            ] {
                let mut header = RtpHeader::new(96, 0, 0, 7);
                header.marker = true;
                let mut count = 0;
                let frags = protect_frame(&mut tx, b"", &plaintext, mode, 1200, &mut ct).unwrap();
                for (i, f) in frags.enumerate() {
                    header.sequence_number =
                        (i as u16).wrapping_add(dep.stats().packets as u16 * 2);
                    lens[i] = f.write_packet(&header, &mut packets[i]).unwrap();
                    count = i + 1;
                }
                if tamper {
                    packets[1][lens[1] - 1] ^= 1;
                }
                for i in (0..count).rev() {
                    dep.push(&packets[i][..lens[i]]).unwrap();
                    dep.push(&packets[i][..lens[i]]).unwrap(); // duplicate
                }
                let r = dep.pop_decrypted(&mut rx, b"", &mut out).unwrap();
                match r {
                    Ok(frame) => {
                        assert!(!tamper);
                        assert_eq!(&out[..frame.len], &plaintext[..]);
                    }
                    Err(e) => assert!(tamper, "{e:?}"),
                }
            }
        };
        // Warm-up: aws-lc's AES-GCM open keeps a per-thread buffer for frames over 2 KiB,
        // allocated on first use (crypto/aws_lc.rs); later frames reuse it.
        round();
        let (n, ()) = allocations(&mut round);
        assert_eq!(
            n,
            0,
            "suite {suite}, {}: {n} allocation(s) on the RTP path",
            B::NAME
        );
    }
}

/// Frames that wait for their key (`sframe_core::keywait`): holding frames (with the oldest
/// dropped to make room), expiring, releasing into a buffer and straight into
/// `Receiver::unprotect`, dropping a KID, and asking `Receiver::has_key_for` allocate nothing.
#[test]
fn key_wait_paths_do_not_allocate() {
    use sframe_core::keywait::{KeyWaitBuffer, KeyWaitLimits, Waiting};
    let suite = CipherSuite::AesGcm128Sha256;
    let mut tx = Sender::with_backend(RustCrypto, suite);
    tx.set_key(8, &[8; 16]).unwrap();
    let mut rx = Receiver::<FixedKeyStore<2, RustCrypto>>::with_store(suite);
    let limits = KeyWaitLimits {
        max_frames: 8,
        max_bytes: 4 * 1024,
        max_age: 100,
    };
    let mut waiting = Box::new(KeyWaitBuffer::<8, 4096>::new(limits).unwrap());
    let mut frames = [[0u8; 700]; 12];
    let mut lens = [0usize; 12];
    for (i, frame) in frames.iter_mut().enumerate() {
        lens[i] = tx.protect(b"", &[i as u8; 600], frame).unwrap().len();
    }
    let mut out = [0u8; 700];
    let mut plain = [0u8; 700];

    let (held, ()) = allocations(|| {
        let mut dropped = 0;
        for (i, frame) in frames.iter().enumerate() {
            let frame = &frame[..lens[i]];
            assert!(!rx.has_key_for(8));
            let w = Waiting {
                kid: 8,
                tag: i as u64,
                stream: 1,
            };
            // 12 frames of ~630 bytes in 4 KiB: the oldest are dropped.
            assert!(waiting.hold(w, frame, i as u64, |_, _| dropped += 1));
            let other = Waiting {
                kid: 9,
                tag: 100 + i as u64,
                stream: 2,
            };
            waiting.hold_external(other, 10, i as u64, |_, _| dropped += 1);
        }
        assert!(dropped > 0);
        assert!(waiting.expire(20, |_, _| {}) == 0);
    });
    assert_eq!(held, 0, "{held} allocation(s) holding frames");

    rx.add_key(8, &[8; 16]).unwrap(); // the key arrives
    let (n, ()) = allocations(|| {
        assert!(rx.has_key_for(8));
        let held = waiting.release(8, &mut out).unwrap().unwrap();
        let pt = rx.unprotect_in_place(b"", &mut out[..held.len]).unwrap();
        assert_eq!(pt[0], held.tag as u8);
        while let Some(r) = waiting.release_with(8, |h, frame| {
            let pt = rx.unprotect(b"", frame, &mut plain).unwrap();
            pt[0] == h.tag as u8
        }) {
            assert!(r);
        }
        assert!(waiting.drop_kid(9, |_, _| {}) > 0);
        assert!(waiting.is_empty());
    });
    assert_eq!(n, 0, "{n} allocation(s) releasing frames");
}

/// SFrame RTP sessions (`sframe_core::rtp::session`): a send stream protecting and packetizing a
/// frame into one caller buffer, and a receive session with per-SSRC keys taking its packets
/// out of order and duplicated, delivering frames, holding frames whose key has not come and
/// releasing them once it has, and failing a tampered frame, allocate nothing — for every
/// suite and backend, after the streams and keys are set up and one warm-up round.
#[test]
fn session_paths_do_not_allocate() {
    session_path::<RustCrypto>();
    #[cfg(feature = "aws-lc")]
    session_path::<sframe_core::AwsLc>();
}

fn session_path<B: Backend>() {
    use sframe_core::ReceiverConfig;
    use sframe_core::rtp::session::{
        Event, InlineReceiveSession, SendConfig, SendStream, SessionConfig,
    };
    type Session<B> = InlineReceiveSession<2, 16, 8192, 4, 16_384, 4, FixedKeyStore<4, B>>;
    for suite in CipherSuite::ALL {
        let stream = |ssrc| {
            let config = SendConfig::new(suite, ssrc, 96, 1200).with_per_ssrc_keys(true);
            SendStream::with_backend(B::default(), config).unwrap()
        };
        let (mut video, mut audio) = (stream(0x1111), stream(0x2222));
        video.set_key(1, &[1; 32]).unwrap();
        let config = SessionConfig::new(ReceiverConfig::new(suite)).with_per_ssrc_keys(true);
        let mut rx: Box<Session<B>> = Box::new(InlineReceiveSession::new(config));
        rx.add_key(1, &[1; 32]).unwrap();
        let plaintext = [0x61u8; 3000];
        let mut wire = [0u8; 4096];
        let mut out = [0u8; 8192];

        // One frame out of order and duplicated, then a tampered one.
        let mut round = |now: u64| {
            for tamper in [false, true] {
                let packets = video
                    .send_frame(&plaintext, now as u32, true, &mut wire)
                    .unwrap();
                let mut all: [&[u8]; 8] = [&[]; 8];
                let count = packets.len();
                for (i, p) in packets.enumerate() {
                    all[i] = p;
                }
                let mut tampered = [0u8; 1300];
                for p in all[..count].iter().rev() {
                    let p = if tamper {
                        tampered[..p.len()].copy_from_slice(p);
                        tampered[p.len() - 1] ^= 1;
                        &tampered[..p.len()]
                    } else {
                        p
                    };
                    rx.push_packet(p, now).unwrap();
                    rx.push_packet(p, now).unwrap();
                }
                let mut frames = 0;
                while let Some(e) = rx.poll(&mut out, now) {
                    match e {
                        Event::Frame(f) => {
                            assert!(!tamper);
                            assert_eq!(&out[..f.len], &plaintext[..]);
                            frames += 1;
                        }
                        Event::Failed { error, .. } => {
                            assert!(tamper);
                            assert_eq!(error, sframe_core::Error::AuthenticationFailed);
                        }
                        Event::KeyAuthenticated { .. } => {}
                        Event::AwaitingKey { .. } => panic!("the key is there"),
                    }
                }
                assert_eq!(frames, usize::from(!tamper));
            }
        };
        // Warm-up: aws-lc's per-thread buffer for AES-GCM frames over 2 KiB (see
        // rtp_path); the first frame also reports KeyAuthenticated.
        round(0);
        let (n, ()) = allocations(|| round(1));
        assert_eq!(
            n,
            0,
            "suite {suite}, {}: {n} allocation(s) per frame",
            B::NAME
        );

        // Frames waiting for their key: the audio stream's KID comes late.
        audio.set_key(2, &[2; 32]).unwrap();
        let wait_round = |rx: &mut Session<B>,
                          audio: &mut SendStream<B>,
                          out: &mut [u8],
                          wire: &mut [u8],
                          kid: u64,
                          now: u64| {
            for _ in 0..3 {
                for p in audio
                    .send_frame(&plaintext[..500], now as u32, true, wire)
                    .unwrap()
                {
                    rx.push_packet(p, now).unwrap();
                }
                let event = rx.poll(out, now);
                assert!(matches!(event, Some(Event::AwaitingKey { kid: k, .. }) if k == kid));
                assert!(rx.poll(out, now).is_none());
            }
        };
        wait_round(&mut rx, &mut audio, &mut out, &mut wire, 2, 10); // makes the audio stream
        rx.add_key(2, &[2; 32]).unwrap();
        while rx.poll(&mut out, 11).is_some() {}
        assert!(rx.remove_key(2));
        audio.set_key(3, &[3; 32]).unwrap();
        let (n, ()) = allocations(|| wait_round(&mut rx, &mut audio, &mut out, &mut wire, 3, 12));
        assert_eq!(
            n,
            0,
            "suite {suite}, {}: {n} allocation(s) holding frames",
            B::NAME
        );
        rx.add_key(3, &[3; 32]).unwrap();
        let (n, released) = allocations(|| {
            let mut released = 0;
            while let Some(e) = rx.poll(&mut out, 13) {
                if let Event::Frame(f) = e {
                    assert!(f.from_buffer && out[..f.len] == plaintext[..500]);
                    released += 1;
                }
            }
            released
        });
        assert_eq!(released, 3);
        assert_eq!(
            n,
            0,
            "suite {suite}, {}: {n} allocation(s) releasing frames",
            B::NAME
        );
    }
}
