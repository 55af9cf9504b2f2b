//! `rtpsframepay` / `rtpsframedepay` (the SFrame RTP payload format of
//! draft-ietf-avtcore-rtp-sframe): harness round trips with loss and reordering, and PLAYING
//! pipelines over UDP on 127.0.0.1 with real H.264 (x264enc ! … ! avdec_h264): a key rotation
//! while PLAYING, a wrong key, and interoperability with the Rust session API in both
//! directions (`ReceiveSession` reading the GStreamer sender's packets; `SendStream`'s packets
//! decoded by `udpsrc ! rtpsframedepay`), also with per-SSRC keys (draft §7) on either side. Each
//! test prints its figures (`--nocapture`).
// Keys are `K1` / `K2` in every test (fresh per test, see `keys`).
#![allow(non_snake_case)]

use std::net::UdpSocket;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use gst::prelude::*;
use gst_check::Harness;
use sframe_core::rtp::RtpPacket;
use sframe_core::rtp::session::{
    BoxedReceiveSession, Event, SendConfig, SendStream, SessionConfig,
};
use sframe_core::{CipherSuite, ReceiverConfig};

/// Two base keys (hex) no other test of this process uses: senders claim their key material
/// process-wide and a re-created sender resumes its counter, while cargo runs the tests
/// concurrently in one process.
fn keys() -> (&'static str, &'static str) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let k = |which: u32| -> &'static str {
        Box::leak(format!("{:02x}{which:02x}{n:08x}{:044x}", 0x72u32, 0x5f_u32).into_boxed_str())
    };
    (k(1), k(2))
}
const RX_CAPS: &str =
    "application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,sframe=(boolean)true";

fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        gst::init().expect("gst::init");
        gstsframe::plugin_register_static().expect("register the sframe plugin");
    });
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn bytes(s: &str) -> gst::glib::Bytes {
    gst::glib::Bytes::from_owned(hex(s))
}

fn launch(desc: &str) -> gst::Pipeline {
    gst::parse::launch(desc)
        .unwrap_or_else(|e| panic!("{desc}: {e}"))
        .downcast::<gst::Pipeline>()
        .unwrap()
}

/// Counts the buffers reaching the fakesink `name` (signal-handoffs=true).
fn count_handoffs(pipeline: &gst::Pipeline, name: &str) -> Arc<AtomicUsize> {
    let n = Arc::new(AtomicUsize::new(0));
    let c = n.clone();
    pipeline
        .by_name(name)
        .unwrap()
        .connect("handoff", false, move |_| {
            c.fetch_add(1, Ordering::SeqCst);
            None
        });
    n
}

/// Waits for EOS (or an error: panics) on `pipeline`'s bus.
fn wait_eos(pipeline: &gst::Pipeline) {
    let bus = pipeline.bus().unwrap();
    let msg = bus
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(60),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
        .expect("no EOS within 60 s");
    if let gst::MessageView::Error(e) = msg.view() {
        panic!("{}: {:?}", e.error(), e.debug());
    }
}

/// Waits until `n` stops growing (the receiver drained what the network delivered).
fn settle(n: &AtomicUsize) {
    let mut last = usize::MAX;
    while n.load(Ordering::SeqCst) != last {
        last = n.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn stats(element: &gst::Element) -> gst::Structure {
    element.property::<gst::Structure>("sframe-stats")
}

fn failures(stats: &gst::Structure, code: &str) -> u64 {
    let f = stats.get::<gst::Structure>("failures").unwrap();
    f.get::<u64>(code).unwrap_or(0)
}

/// The receiver: `udpsrc port ! rtpjitterbuffer ! rtpsframedepay name=dep … ! h264parse !
/// avdec_h264 ! fakesink name=out`, PLAYING.
fn receiver(port: u16, depay_props: &str) -> (gst::Pipeline, Arc<AtomicUsize>) {
    let p = launch(&format!(
        "udpsrc port={port} caps=\"{RX_CAPS}\" ! rtpjitterbuffer latency=100 \
         ! rtpsframedepay name=dep {depay_props} ! h264parse ! avdec_h264 \
         ! fakesink name=out signal-handoffs=true sync=false"
    ));
    let n = count_handoffs(&p, "out");
    p.set_state(gst::State::Playing).unwrap();
    (p, n)
}

/// The sender: `videotestsrc num-buffers=frames is-live=true ! x264enc tune=zerolatency !
/// h264parse ! sframeenc name=enc … ! rtpsframepay ! udpsink port`.
fn sender(port: u16, frames: u32, enc_props: &str) -> gst::Pipeline {
    launch(&format!(
        "videotestsrc num-buffers={frames} is-live=true \
         ! video/x-raw,width=320,height=240,framerate=30/1 \
         ! x264enc tune=zerolatency key-int-max=30 ! h264parse \
         ! sframeenc name=enc {enc_props} ! rtpsframepay mtu=1200 \
         ! udpsink host=127.0.0.1 port={port}"
    ))
}

/// H.264 access units (byte-stream) from x264enc, for the Rust sender.
fn h264_frames(frames: u32) -> Vec<Vec<u8>> {
    let p = launch(&format!(
        "videotestsrc num-buffers={frames} ! video/x-raw,width=320,height=240,framerate=30/1 \
         ! x264enc tune=zerolatency key-int-max=30 ! h264parse \
         ! video/x-h264,stream-format=byte-stream,alignment=au \
         ! fakesink name=sink signal-handoffs=true"
    ));
    let out = Arc::new(Mutex::new(Vec::new()));
    let o = out.clone();
    p.by_name("sink")
        .unwrap()
        .connect("handoff", false, move |args| {
            let buf = args[1].get::<gst::Buffer>().unwrap();
            o.lock().unwrap().push(buf.map_readable().unwrap().to_vec());
            None
        });
    p.set_state(gst::State::Playing).unwrap();
    wait_eos(&p);
    p.set_state(gst::State::Null).unwrap();
    std::mem::take(&mut *out.lock().unwrap())
}

/// Pushes `frames` (SFrame frames from sframeenc) through `rtpsframepay` with `mtu`; returns
/// the RTP packets.
fn packetize(frames: &[Vec<u8>], mtu: u32) -> Vec<gst::Buffer> {
    let mut pay = Harness::new("rtpsframepay");
    pay.element().unwrap().set_property("mtu", mtu);
    pay.set_src_caps_str(
        "video/x-h264,stream-format=byte-stream,alignment=au,sframe=(boolean)true",
    );
    for (i, f) in frames.iter().enumerate() {
        let mut b = gst::Buffer::from_slice(f.clone());
        b.get_mut()
            .unwrap()
            .set_pts(gst::ClockTime::from_mseconds(33 * i as u64));
        pay.push(b).unwrap();
    }
    std::iter::from_fn(|| pay.try_pull()).collect()
}

fn sframe_frames(key: &str, plain: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut tx = sframe_core::Sender::new(CipherSuite::AesGcm128Sha256);
    tx.set_key(1, &hex(key)).unwrap();
    plain
        .iter()
        .map(|f| tx.protect_vec(b"", f).unwrap())
        .collect()
}

fn depay_harness(key: &str) -> Harness {
    let mut h = Harness::new("rtpsframedepay");
    let dep = h.element().unwrap();
    assert!(dep.emit_by_name::<bool>("add-key", &[&1u64, &bytes(key)]));
    h.set_src_caps_str(RX_CAPS);
    h
}

#[test]
fn payloader_fragments_by_mtu_with_descriptors_and_marker() {
    let (K1, _) = keys();
    init();
    let plain: Vec<Vec<u8>> = vec![vec![0xab; 3000], vec![0xcd; 10]];
    let packets = packetize(&sframe_frames(K1, &plain), 1000);
    // 3000 + 17 (header + tag: 1 + 16) = 3017 bytes: payloads of 988 - 1 bytes -> 4 packets;
    // the second frame, 27 bytes, one.
    let descriptors: Vec<(u8, bool)> = packets
        .iter()
        .map(|b| {
            let rtp = gst_rtp::RTPBuffer::from_buffer_readable(b).unwrap();
            assert!(b.size() <= 1000);
            (rtp.payload().unwrap()[0], rtp.is_marker())
        })
        .collect();
    assert_eq!(
        descriptors,
        [
            (0x80, false),
            (0x00, false),
            (0x00, false),
            (0x40, true),
            (0xc0, true)
        ]
    );
}

#[test]
fn depayloader_reassembles_reordered_packets_and_drops_incomplete_frames() {
    let (K1, _) = keys();
    init();
    let plain: Vec<Vec<u8>> = (0..6u8).map(|i| vec![i; 2500]).collect();
    let packets = packetize(&sframe_frames(K1, &plain), 1000);
    assert_eq!(packets.len(), 6 * 3);
    // Frame 2 loses its middle packet; each frame's packets arrive in reverse order.
    let mut h = depay_harness(K1);
    for frame in packets.chunks(3).enumerate() {
        for (j, p) in frame.1.iter().enumerate().rev() {
            if frame.0 == 2 && j == 1 {
                continue;
            }
            h.push(p.clone()).unwrap();
        }
    }
    let out: Vec<Vec<u8>> = std::iter::from_fn(|| h.try_pull())
        .map(|b| b.map_readable().unwrap().to_vec())
        .collect();
    let expected: Vec<Vec<u8>> = plain
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(_, f)| f.clone())
        .collect();
    assert!(
        out == expected,
        "{} frames out, of lengths {:?}",
        out.len(),
        out.iter().map(Vec::len).collect::<Vec<_>>()
    );
    let s = stats(&h.element().unwrap());
    assert_eq!(s.get::<u64>("frames-out").unwrap(), 5);
    assert_eq!(s.get::<u64>("dropped").unwrap(), 0);
}

#[test]
fn depayloader_pushes_nothing_unauthenticated() {
    let (K1, _) = keys();
    init();
    let plain: Vec<Vec<u8>> = (0..4u8).map(|i| vec![i; 100]).collect();
    let mut frames = sframe_frames(K1, &plain);
    let last = frames[1].len() - 1;
    frames[1][last] ^= 1; // a tag bit flipped
    let packets = packetize(&frames, 1200);
    let mut h = depay_harness(K1);
    for p in packets {
        h.push(p).unwrap();
    }
    let out: Vec<Vec<u8>> = std::iter::from_fn(|| h.try_pull())
        .map(|b| b.map_readable().unwrap().to_vec())
        .collect();
    assert!(
        out == [plain[0].clone(), plain[2].clone(), plain[3].clone()],
        "{} frames out",
        out.len()
    );
    let s = stats(&h.element().unwrap());
    assert_eq!(failures(&s, "authentication_failed"), 1);
}

#[test]
fn key_rotation_while_playing_loses_no_frame() {
    let (K1, K2) = keys();
    init();
    const FRAMES: u32 = 120;
    const ROTATE_AT: usize = 50;
    let (rx, decoded) = receiver(5320, &format!("key-id=1 key-hex={K1}"));
    let dep = rx.by_name("dep").unwrap();
    // Removes KID 1 once KID 2 authenticated a frame (the receiver-side signal that the
    // sender switched).
    let removed = Arc::new(AtomicUsize::new(0));
    {
        let (dep, removed) = (dep.clone(), removed.clone());
        rx.bus().unwrap().set_sync_handler(move |_, msg| {
            if let Some(s) = msg.structure()
                && s.name() == "sframe-key-authenticated"
                && s.get::<u64>("key-id") == Ok(2)
                && dep.emit_by_name::<bool>("remove-key", &[&1u64])
            {
                removed.fetch_add(1, Ordering::SeqCst);
            }
            gst::BusSyncReply::Pass
        });
    }
    std::thread::sleep(Duration::from_millis(500));
    let tx = sender(5320, FRAMES, &format!("key-id=1 key-hex={K1}"));
    let enc = tx.by_name("enc").unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    {
        let (enc, dep, seen) = (enc.clone(), dep.clone(), seen.clone());
        enc.static_pad("sink")
            .unwrap()
            .add_probe(gst::PadProbeType::BUFFER, move |_, _| {
                if seen.fetch_add(1, Ordering::SeqCst) == ROTATE_AT {
                    // The receiver first, then the sender.
                    assert!(dep.emit_by_name::<bool>("add-key", &[&2u64, &bytes(K2)]));
                    assert!(enc.emit_by_name::<bool>("set-key", &[&2u64, &bytes(K2)]));
                }
                gst::PadProbeReturn::Ok
            });
    }
    tx.set_state(gst::State::Playing).unwrap();
    wait_eos(&tx);
    tx.set_state(gst::State::Null).unwrap();
    settle(&decoded);
    let s = stats(&dep);
    rx.set_state(gst::State::Null).unwrap();
    let decoded = decoded.load(Ordering::SeqCst);
    let keys = s.get::<gst::Array>("keys").unwrap();
    println!(
        "figures: rotation while PLAYING: {FRAMES} frames sent (KID 1 for {ROTATE_AT}, then KID 2), \
         {} frames out of rtpsframedepay, {decoded} decoded, {} dropped; KID 1 removed: {}; keys {keys:?}",
        s.get::<u64>("frames-out").unwrap(),
        s.get::<u64>("dropped").unwrap(),
        removed.load(Ordering::SeqCst)
    );
    assert_eq!(decoded, FRAMES as usize, "a decoded gap at the rotation");
    assert_eq!(s.get::<u64>("dropped").unwrap(), 0);
    assert_eq!(removed.load(Ordering::SeqCst), 1);
    // Only KID 2 is left, and it decrypted the frames from the rotation on.
    assert_eq!(keys.len(), 1);
    let k2 = keys.as_slice()[0].get::<gst::Structure>().unwrap();
    assert_eq!(k2.get::<u64>("key-id").unwrap(), 2);
    assert_eq!(
        k2.get::<u64>("frames").unwrap(),
        (FRAMES as usize - ROTATE_AT) as u64
    );
}

#[test]
fn wrong_key_decodes_nothing_posts_one_message_and_keeps_playing() {
    let (K1, K2) = keys();
    init();
    const FRAMES: u32 = 60;
    const AFTER: u32 = 30;
    let (rx, decoded) = receiver(5322, &format!("key-id=1 key-hex={K2}"));
    let dep = rx.by_name("dep").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let tx = sender(5322, FRAMES, &format!("key-id=1 key-hex={K1}"));
    tx.set_state(gst::State::Playing).unwrap();
    wait_eos(&tx);
    tx.set_state(gst::State::Null).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let s = stats(&dep);
    let wrong_decoded = decoded.load(Ordering::SeqCst);
    // The receiver still works: a sender with a key it has is decoded.
    assert!(dep.emit_by_name::<bool>("add-key", &[&2u64, &bytes(K1)]));
    let tx = sender(5322, AFTER, &format!("key-id=2 key-hex={K1}"));
    tx.set_state(gst::State::Playing).unwrap();
    wait_eos(&tx);
    tx.set_state(gst::State::Null).unwrap();
    settle(&decoded);
    let bus = rx.bus().unwrap();
    let all: Vec<gst::Message> = std::iter::from_fn(|| bus.pop()).collect();
    rx.set_state(gst::State::Null).unwrap();
    let errors = all
        .iter()
        .filter(|m| m.type_() == gst::MessageType::Error)
        .count();
    let messages: Vec<gst::Structure> = all
        .iter()
        .filter_map(|m| m.structure())
        .filter(|s| s.name() == "sframe-decrypt-error")
        .map(|s| s.to_owned())
        .collect();
    let failed = failures(&s, "authentication_failed");
    let after = decoded.load(Ordering::SeqCst) - wrong_decoded;
    println!(
        "figures: wrong key: {FRAMES} frames sent, {} out of rtpsframedepay, {wrong_decoded} \
         decoded, {failed} failed authentication, {} bus message(s), {errors} errors; then \
         {AFTER} frames under a key it has: {after} decoded",
        s.get::<u64>("frames-out").unwrap(),
        messages.len()
    );
    assert_eq!(wrong_decoded, 0);
    assert_eq!(s.get::<u64>("frames-out").unwrap(), 0);
    assert_eq!(failed, FRAMES as u64);
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(
        messages[0].get::<&str>("kind").unwrap(),
        "authentication_failed"
    );
    assert_eq!(messages[0].get::<u64>("key-id").unwrap(), 1);
    assert_eq!(errors, 0);
    assert_eq!(after, AFTER as usize);
}

#[test]
fn interop_gstreamer_sender_rust_receive_session() {
    let (K1, _) = keys();
    init();
    const FRAMES: u32 = 60;
    let socket = UdpSocket::bind("127.0.0.1:5324").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let tx = sender(5324, FRAMES, &format!("key-id=1 key-hex={K1}"));
    tx.set_state(gst::State::Playing).unwrap();
    type Session = BoxedReceiveSession<256, 262_144, 4, 65_536, 4>;
    let config = SessionConfig::new(ReceiverConfig::new(CipherSuite::AesGcm128Sha256));
    let mut session = Session::with_capacity(config, 1);
    session.add_key(1, &hex(K1)).unwrap();
    let (mut packets, mut frames, mut start_codes) = (0, 0, 0);
    let mut out = vec![0u8; 262_144];
    let mut buf = [0u8; 2048];
    let t0 = Instant::now();
    while let Ok(n) = socket.recv(&mut buf) {
        packets += 1;
        let now = t0.elapsed().as_millis() as u64;
        session.push_packet(&buf[..n], now).unwrap();
        while let Some(event) = session.poll(&mut out, now) {
            match event {
                Event::Frame(f) => {
                    frames += 1;
                    // Each plaintext is an H.264 access unit in byte-stream form.
                    if out[..f.len].starts_with(&[0, 0, 0, 1]) {
                        start_codes += 1;
                    }
                }
                Event::KeyAuthenticated { .. } => {}
                other => panic!("{other:?}"),
            }
        }
    }
    wait_eos(&tx);
    tx.set_state(gst::State::Null).unwrap();
    println!(
        "figures: interop GStreamer -> ReceiveSession: {FRAMES} frames sent, {packets} packets, \
         {frames} frames decrypted, {start_codes} start with an Annex B start code"
    );
    assert_eq!(frames, FRAMES);
    assert_eq!(start_codes, FRAMES);
}

/// The RTP packets `sframeenc {enc_props} ! rtpsframepay ssrc={ssrc}` makes of `frames`
/// H.264 access units (not live: every packet, none lost).
fn gst_rtp_packets(frames: u32, enc_props: &str, ssrc: u32) -> Vec<Vec<u8>> {
    let p = launch(&format!(
        "videotestsrc num-buffers={frames} ! video/x-raw,width=320,height=240,framerate=30/1 \
         ! x264enc tune=zerolatency key-int-max=30 ! h264parse \
         ! sframeenc name=enc {enc_props} ! rtpsframepay mtu=1200 ssrc={ssrc} \
         ! fakesink name=sink sync=false signal-handoffs=true"
    ));
    let out = Arc::new(Mutex::new(Vec::new()));
    let o = out.clone();
    p.by_name("sink")
        .unwrap()
        .connect("handoff", false, move |args| {
            let buf = args[1].get::<gst::Buffer>().unwrap();
            o.lock().unwrap().push(buf.map_readable().unwrap().to_vec());
            None
        });
    p.set_state(gst::State::Playing).unwrap();
    wait_eos(&p);
    p.set_state(gst::State::Null).unwrap();
    std::mem::take(&mut *out.lock().unwrap())
}

/// Feeds `packets` to a `ReceiveSession` with per-SSRC keys (draft §7) holding base key
/// `base` under `kid`: (frames decrypted, frames failing authentication).
fn per_ssrc_session_reads(packets: &[Vec<u8>], kid: u64, base: &[u8]) -> (u32, u32) {
    type Session = BoxedReceiveSession<256, 262_144, 4, 65_536, 4>;
    let config = SessionConfig::new(ReceiverConfig::new(CipherSuite::AesGcm128Sha256))
        .with_per_ssrc_keys(true);
    let mut session = Session::with_capacity(config, 1);
    session.add_key(kid, base).unwrap();
    let (mut frames, mut failed) = (0, 0);
    let mut out = vec![0u8; 262_144];
    for (now, packet) in packets.iter().enumerate() {
        session.push_packet(packet, now as u64).unwrap();
        while let Some(event) = session.poll(&mut out, now as u64) {
            match event {
                Event::Frame(f) => {
                    assert!(out[..f.len].starts_with(&[0, 0, 0, 1]));
                    frames += 1;
                }
                Event::Failed {
                    error: sframe_core::Error::AuthenticationFailed,
                    ..
                } => failed += 1,
                Event::KeyAuthenticated { .. } => {}
                other => panic!("{other:?}"),
            }
        }
    }
    (frames, failed)
}

#[test]
fn interop_gstreamer_sender_per_ssrc_keys_rust_receive_session() {
    let (K1, _) = keys();
    init();
    const FRAMES: u32 = 30;
    let ssrc = 0x5f3a_0002;
    // Either order of the properties: a key given first is derived again for the SSRC.
    for props in [
        format!("per-ssrc=true ssrc={ssrc} key-id=4 key-hex={K1}"),
        format!("key-id=4 key-hex={K1} per-ssrc=true ssrc={ssrc}"),
    ] {
        let packets = gst_rtp_packets(FRAMES, &props, ssrc);
        assert!(packets.len() >= FRAMES as usize);
        for p in &packets {
            assert_eq!(RtpPacket::parse(p).unwrap().header.ssrc, ssrc);
        }
        let (frames, failed) = per_ssrc_session_reads(&packets, 4, &hex(K1));
        println!(
            "figures: interop sframeenc {props} -> ReceiveSession (per-SSRC keys): {FRAMES} \
             frames sent, {} packets, {frames} frames decrypted, {failed} failed",
            packets.len()
        );
        assert_eq!((frames, failed), (FRAMES, 0));
    }
}

#[test]
fn interop_gstreamer_sender_without_per_ssrc_fails_at_per_ssrc_receiver() {
    let (K1, _) = keys();
    init();
    const FRAMES: u32 = 10;
    let ssrc = 0x5f3a_0003;
    // The same base key and SSRC, but the sender installs the base key itself.
    let packets = gst_rtp_packets(
        FRAMES,
        &format!("per-ssrc=false ssrc={ssrc} key-id=4 key-hex={K1}"),
        ssrc,
    );
    let (frames, failed) = per_ssrc_session_reads(&packets, 4, &hex(K1));
    assert_eq!((frames, failed), (0, FRAMES));
}

#[test]
fn sframeenc_per_ssrc_without_ssrc_refuses_to_start() {
    let (K1, _) = keys();
    init();
    let p = launch(&format!(
        "videotestsrc num-buffers=1 ! sframeenc per-ssrc=true key-id=1 key-hex={K1} ! fakesink"
    ));
    assert!(p.set_state(gst::State::Playing).is_err());
    let msg = p
        .bus()
        .unwrap()
        .timed_pop_filtered(gst::ClockTime::from_seconds(5), &[gst::MessageType::Error])
        .expect("an error message");
    let gst::MessageView::Error(e) = msg.view() else {
        unreachable!()
    };
    assert!(e.error().to_string().contains("'ssrc'"), "{}", e.error());
    p.set_state(gst::State::Null).unwrap();
}

#[test]
fn interop_rust_send_stream_to_gstreamer_receiver_per_ssrc() {
    let (_, K2) = keys();
    init();
    const FRAMES: u32 = 60;
    let media = h264_frames(FRAMES);
    assert_eq!(media.len(), FRAMES as usize);
    let (rx, decoded) = receiver(5326, &format!("per-ssrc=true key-id=7 key-hex={K2}"));
    let dep = rx.by_name("dep").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let ssrc = 0x5f3a_0001;
    let config = SendConfig::new(CipherSuite::AesGcm128Sha256, ssrc, 96, 1200)
        .with_per_ssrc_keys(true)
        .with_first_sequence(0xfff0); // wraps around
    let mut stream = SendStream::new(config).unwrap();
    stream.set_key(7, &hex(K2)).unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut wire = vec![0u8; 65_536];
    for (i, frame) in media.iter().enumerate() {
        for packet in stream
            .send_frame(frame, 3000 * i as u32, true, &mut wire)
            .unwrap()
        {
            socket.send_to(packet, "127.0.0.1:5326").unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    settle(&decoded);
    let s = stats(&dep);
    rx.set_state(gst::State::Null).unwrap();
    let decoded = decoded.load(Ordering::SeqCst);
    println!(
        "figures: interop SendStream (per-SSRC keys) -> rtpsframedepay per-ssrc=true: {FRAMES} \
         frames sent, {} packets, {} frames out, {decoded} decoded",
        stream.stats().packets,
        s.get::<u64>("frames-out").unwrap()
    );
    assert_eq!(s.get::<u64>("frames-out").unwrap(), FRAMES as u64);
    assert_eq!(decoded, FRAMES as usize);
}

#[test]
fn gst_inspect_lists_both_rtp_elements_documented() {
    let (K1, _) = keys();
    init();
    for (name, props) in [
        ("rtpsframepay", &["mtu", "pt", "ssrc", "sframe-stats"][..]),
        (
            "rtpsframedepay",
            &[
                "cipher-suite",
                "per-ssrc",
                "key-id",
                "key",
                "key-hex",
                "max-wait",
                "sframe-stats",
            ][..],
        ),
    ] {
        let factory = gst::ElementFactory::find(name).unwrap();
        assert!(!factory.metadata("description").unwrap().is_empty());
        let e = factory.create().build().unwrap();
        for p in props {
            let spec = e
                .find_property(p)
                .unwrap_or_else(|| panic!("{name}: no {p}"));
            assert!(spec.blurb().is_some_and(|b| !b.is_empty()), "{name}.{p}");
        }
    }
    let dep = gst::ElementFactory::make("rtpsframedepay").build().unwrap();
    assert!(!dep.emit_by_name::<bool>("remove-key", &[&1u64]));
    assert!(dep.emit_by_name::<bool>("add-key", &[&1u64, &bytes(K1)]));
    assert!(!dep.emit_by_name::<bool>(
        "add-key",
        &[&2u64, &gst::glib::Bytes::from_static(b"short")]
    ));
    assert!(dep.emit_by_name::<bool>("remove-key", &[&1u64]));
}

#[test]
fn per_packet_frames_authenticate_but_are_not_pushed() {
    let (K1, _) = keys();
    use sframe_core::rtp::{Mode, RtpHeader, protect_frame};
    init();
    let mut tx = sframe_core::Sender::new(CipherSuite::AesGcm128Sha256);
    tx.set_key(1, &hex(K1)).unwrap();
    let mut h = depay_harness(K1);
    for (i, mode) in [Mode::PerPacket, Mode::PerFrame].into_iter().enumerate() {
        let mut ciphertext = [0u8; 256];
        let header = RtpHeader::new(96, i as u16, 3000 * i as u32, 0x1234);
        for fragment in protect_frame(&mut tx, b"", b"media", mode, 1200, &mut ciphertext).unwrap()
        {
            let mut packet = [0u8; 1500];
            let n = fragment.write_packet(&header, &mut packet).unwrap();
            h.push(gst::Buffer::from_slice(packet[..n].to_vec()))
                .unwrap();
        }
    }
    let out: Vec<Vec<u8>> = std::iter::from_fn(|| h.try_pull())
        .map(|b| b.map_readable().unwrap().to_vec())
        .collect();
    assert_eq!(out, [b"media".to_vec()]); // the per-frame one only
    let s = stats(&h.element().unwrap());
    assert_eq!(s.get::<u64>("per-packet-frames").unwrap(), 1);
    assert_eq!(s.get::<u64>("frames-out").unwrap(), 1);
}

#[test]
fn depayloader_properties_in_any_order_until_the_first_packet() {
    let (K1, _) = keys();
    init();
    // The key before the suite (gst-launch-1.0 sets properties as written).
    let mut h = Harness::new("rtpsframedepay");
    let dep = h.element().unwrap();
    dep.set_property("key-hex", K1);
    dep.set_property("key-id", 3u64);
    dep.set_property_from_str("cipher-suite", "AES_128_CTR_HMAC_SHA256_80");
    assert_eq!(
        dep.property_value("cipher-suite")
            .get::<gstsframe::Suite>()
            .unwrap(),
        gstsframe::Suite::AesCtr128HmacSha256_80
    );
    let suite = CipherSuite::AesCtr128HmacSha256_80;
    let config = SendConfig::new(suite, 9, 96, 1200);
    let mut stream = SendStream::new(config).unwrap();
    stream.set_key(3, &hex(K1)).unwrap();
    let mut wire = [0u8; 2048];
    h.set_src_caps_str(RX_CAPS);
    for p in stream.send_frame(b"frame", 0, true, &mut wire).unwrap() {
        h.push(gst::Buffer::from_slice(p.to_vec())).unwrap();
    }
    let out = h.pull().unwrap();
    assert_eq!(out.map_readable().unwrap().as_slice(), b"frame");
    // Fixed from the first packet on.
    dep.set_property_from_str("cipher-suite", "AES_128_GCM_SHA256_128");
    assert_eq!(
        dep.property_value("cipher-suite")
            .get::<gstsframe::Suite>()
            .unwrap(),
        gstsframe::Suite::AesCtr128HmacSha256_80
    );
}
