//! The `sframeenc` / `sframedec` elements with real H.264 from `videotestsrc ! x264enc`
//! (gst-check harnesses and a PLAYING pipeline), and the installed plugin through
//! `gst-inspect-1.0`. Needs GStreamer's base, good (fakesink probes), ugly (x264enc), bad
//! (h264parse) plugins and gstreamer1.0-libav (avdec_h264): stage 90 installs them.
// Keys are `K1` / `K2` in every test (fresh per test, see `keys`).
#![allow(non_snake_case)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use gst::prelude::*;
use gst_check::Harness;
use gstsframe::Suite;
use sframe_core::{CipherSuite, Sender};

/// Two base keys (hex) no other test of this process uses: senders claim their key material
/// process-wide and a re-created sender resumes its counter, while cargo runs the tests
/// concurrently in one process.
fn keys() -> (&'static str, &'static str) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let k = |which: u32| -> &'static str {
        Box::leak(format!("{:02x}{which:02x}{n:08x}{:044x}", 0xe1u32, 0x5f_u32).into_boxed_str())
    };
    (k(1), k(2))
}
const FRAMES: u32 = 60;

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

/// What must survive protection: data, timestamps, duration, flags.
#[derive(Debug, Clone, PartialEq)]
struct Frame {
    data: Vec<u8>,
    pts: Option<gst::ClockTime>,
    dts: Option<gst::ClockTime>,
    duration: Option<gst::ClockTime>,
    flags: gst::BufferFlags,
}

impl Frame {
    fn of(buf: &gst::BufferRef) -> Frame {
        Frame {
            data: buf.map_readable().unwrap().to_vec(),
            pts: buf.pts(),
            dts: buf.dts(),
            duration: buf.duration(),
            flags: buf.flags(),
        }
    }
}

/// `FRAMES` frames of H.264 (320x240, a key frame every 10, B-frames so DTS != PTS), as
/// `h264parse` outputs them: access units.
fn h264_stream() -> (gst::Caps, Vec<gst::Buffer>) {
    static STREAM: Mutex<Option<(gst::Caps, Vec<gst::Buffer>)>> = Mutex::new(None);
    let mut cached = STREAM.lock().unwrap();
    if let Some(s) = cached.as_ref() {
        return s.clone();
    }
    let pipeline = gst::parse::launch(&format!(
        "videotestsrc num-buffers={FRAMES} pattern=ball \
         ! video/x-raw,width=320,height=240,framerate=30/1 \
         ! x264enc key-int-max=10 bframes=2 speed-preset=ultrafast \
         ! h264parse ! video/x-h264,stream-format=byte-stream,alignment=au \
         ! fakesink name=sink"
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let sink = pipeline.by_name("sink").unwrap();
    let buffers = Arc::new(Mutex::new(Vec::new()));
    let caps = Arc::new(Mutex::new(None));
    let (b, c) = (buffers.clone(), caps.clone());
    sink.static_pad("sink")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
            if let Some(buf) = info.buffer() {
                b.lock().unwrap().push(buf.copy());
                *c.lock().unwrap() = pad.current_caps();
            }
            gst::PadProbeReturn::Ok
        });
    run_to_eos(&pipeline);
    let caps = caps.lock().unwrap().clone().unwrap();
    let stream = (caps, buffers.lock().unwrap().clone());
    assert_eq!(stream.1.len(), FRAMES as usize);
    assert!(
        stream.1.iter().any(|b| b.dts() != b.pts()),
        "B-frames: some DTS differ from PTS"
    );
    *cached = Some(stream.clone());
    stream
}

fn run_to_eos(pipeline: &gst::Pipeline) {
    pipeline.set_state(gst::State::Playing).unwrap();
    let msg = pipeline
        .bus()
        .unwrap()
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(60),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
        .expect("EOS within 60 s");
    pipeline.set_state(gst::State::Null).unwrap();
    if let gst::MessageView::Error(e) = msg.view() {
        panic!("pipeline error: {} ({:?})", e.error(), e.debug());
    }
}

/// Pushes `buffers` (after `caps`) into `h`, then EOS; returns every buffer that came out.
fn push_all(h: &mut Harness, caps: &gst::Caps, buffers: &[gst::Buffer]) -> Vec<gst::Buffer> {
    h.set_src_caps(caps.clone());
    let mut out = Vec::new();
    for buf in buffers {
        h.push(buf.clone()).unwrap();
        while let Some(b) = h.try_pull() {
            out.push(b);
        }
    }
    assert!(h.push_event(gst::event::Eos::new()));
    while let Some(b) = h.try_pull() {
        out.push(b);
    }
    out
}

fn element_messages(bus: &gst::Bus, name: &str) -> Vec<gst::Structure> {
    std::iter::from_fn(|| bus.pop_filtered(&[gst::MessageType::Element]))
        .filter_map(|m| m.structure().map(|s| s.to_owned()))
        .filter(|s| s.name() == name)
        .collect()
}

fn stats(element: &gst::Element) -> gst::Structure {
    element.property::<gst::Structure>("stats")
}

fn failures(stats: &gst::Structure, code: &str) -> u64 {
    let failures = stats.get::<gst::Structure>("failures").unwrap();
    failures.get_optional::<u64>(code).unwrap().unwrap_or(0)
}

fn bytes(s: &str) -> gst::glib::Bytes {
    gst::glib::Bytes::from_owned(hex(s))
}

#[test]
fn round_trip_h264_decodes_every_frame_as_without_sframe() {
    let (K1, _) = keys();
    init();
    let (caps, stream) = h264_stream();
    let decoded = |launch: &str| -> Vec<Vec<u8>> {
        let mut h = Harness::new_parse(launch);
        push_all(&mut h, &caps, &stream)
            .iter()
            .map(|b| b.map_readable().unwrap().to_vec())
            .collect()
    };
    let plain = decoded("avdec_h264");
    let protected = decoded(&format!(
        "sframeenc key-id=1 key-hex={K1} ! sframedec key-id=1 key-hex={K1} ! avdec_h264"
    ));
    println!(
        "H.264: {} frames in, {} decoded without SFrame, {} decoded through sframeenc ! sframedec",
        stream.len(),
        plain.len(),
        protected.len()
    );
    assert_eq!(plain.len(), FRAMES as usize);
    assert_eq!(protected.len(), plain.len());
    assert!(protected == plain, "the decoded pictures are identical");
}

#[test]
fn frames_are_protected_and_keep_timestamps_flags_and_caps() {
    let (K1, _) = keys();
    init();
    let (caps, stream) = h264_stream();
    let mut enc = Harness::new_parse(&format!("sframeenc key-id=7 key-hex={K1}"));
    let protected = push_all(&mut enc, &caps, &stream);
    assert_eq!(protected.len(), stream.len());
    let protected_caps = enc.sinkpad().unwrap().current_caps().unwrap();
    let s = protected_caps.structure(0).unwrap();
    assert_eq!(s.get::<bool>("sframe"), Ok(true));
    assert_eq!(protected_caps.size(), 1);
    let mut others = s.to_owned();
    others.remove_field("sframe");
    assert_eq!(
        others,
        caps.structure(0).unwrap().to_owned(),
        "other fields unchanged"
    );
    let mut keyframes = 0;
    for (i, (plain, prot)) in stream.iter().zip(&protected).enumerate() {
        let (a, b) = (Frame::of(plain), Frame::of(prot));
        assert_eq!(
            (a.pts, a.dts, a.duration),
            (b.pts, b.dts, b.duration),
            "frame {i}"
        );
        assert_eq!(a.flags, b.flags, "frame {i}");
        keyframes += usize::from(!a.flags.contains(gst::BufferFlags::DELTA_UNIT));
        let info = sframe_core::inspect(&b.data).unwrap();
        assert_eq!((info.key_id, info.counter), (7, i as u64));
        // AES_128_GCM_SHA256_128: header, ciphertext as long as the frame, 16-byte tag.
        assert_eq!(info.payload_len, a.data.len() + 16);
        assert_eq!(b.data.len(), info.header_len + info.payload_len);
        assert!(
            !b.data
                .windows(a.data.len().min(32))
                .any(|w| a.data.starts_with(w))
        );
    }
    assert!(
        keyframes >= 2 && keyframes < stream.len(),
        "{keyframes} key frames"
    );

    // The decrypter restores data, timing, flags and caps, in place: the output is the input
    // buffer's memory past the SFrame header (no copy).
    let mut dec = Harness::new_parse(&format!("sframedec key-id=7 key-hex={K1}"));
    dec.set_src_caps(protected_caps.clone());
    for (i, prot) in protected.into_iter().enumerate() {
        let header_len = sframe_core::inspect(&prot.map_readable().unwrap())
            .unwrap()
            .header_len;
        let at = prot.map_readable().unwrap().as_ptr() as usize + header_len;
        dec.push(prot).unwrap();
        let out = dec.pull().unwrap();
        assert_eq!(Frame::of(&out), Frame::of(&stream[i]), "frame {i}");
        assert_eq!(
            out.map_readable().unwrap().as_ptr() as usize,
            at,
            "frame {i}"
        );
    }
    assert_eq!(dec.sinkpad().unwrap().current_caps().unwrap(), caps);
    let st = stats(&dec.find_element("sframedec").unwrap());
    assert_eq!(st.get::<u64>("frames-out"), Ok(FRAMES as u64));
    assert_eq!(st.get::<u64>("dropped"), Ok(0));
}

#[test]
fn wrong_key_outputs_nothing_and_posts_one_message_per_run() {
    let (K1, K2) = keys();
    init();
    let (caps, stream) = h264_stream();
    // No EOS: this sender protects more frames below.
    let mut enc = Harness::new_parse(&format!("sframeenc key-id=1 key-hex={K1}"));
    enc.set_src_caps(caps);
    let mut protect = |buf: &gst::Buffer| enc.push_and_pull(buf.clone()).unwrap();
    let protected: Vec<gst::Buffer> = stream.iter().map(&mut protect).collect();
    let fresh = protect(&stream[0]);
    let protected_caps = enc.sinkpad().unwrap().current_caps().unwrap();

    let mut dec = Harness::new_parse(&format!("sframedec key-id=1 key-hex={K2}"));
    let element = dec.find_element("sframedec").unwrap();
    let bus = gst::Bus::new();
    dec.element().unwrap().set_bus(Some(&bus));
    dec.set_src_caps(protected_caps);
    let mut pass = |frames: &[gst::Buffer]| -> usize {
        for f in frames {
            dec.push(f.clone()).unwrap();
        }
        std::iter::from_fn(|| dec.try_pull()).count()
    };

    // A run of 60 authentication failures: nothing out, one message.
    assert_eq!(pass(&protected), 0);
    let msgs = element_messages(&bus, "sframe-decrypt-error");
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert_eq!(msgs[0].get::<&str>("kind"), Ok("authentication_failed"));
    assert_eq!(msgs[0].get::<u64>("key-id"), Ok(1));
    assert_eq!(msgs[0].get::<u64>("counter"), Ok(0));
    let st = stats(&element);
    assert_eq!(failures(&st, "authentication_failed"), FRAMES as u64);
    assert_eq!(st.get::<u64>("frames-out"), Ok(0));

    // The right key for KID 1: every frame comes out, no message.
    assert!(element.emit_by_name::<bool>("add-key", &[&1u64, &bytes(K1)]));
    assert_eq!(pass(&protected), FRAMES as usize);
    assert!(element_messages(&bus, "sframe-decrypt-error").is_empty());

    // Replays (one run), a success, replays again (a new run: the success ended the first),
    // then an authentic frame under a KID the receiver has no key for.
    assert_eq!(pass(&protected[..5]), 0);
    assert_eq!(pass(&[fresh]), 1);
    assert_eq!(pass(&protected[..3]), 0);
    let mut other = Sender::new(CipherSuite::AesGcm128Sha256);
    other.set_key(9, &hex(K1)).unwrap();
    let unknown = gst::Buffer::from_mut_slice(other.protect_vec(b"", b"frame").unwrap());
    assert_eq!(pass(&[unknown]), 0);
    let kinds: Vec<(String, u64)> = element_messages(&bus, "sframe-decrypt-error")
        .iter()
        .map(|s| {
            (
                s.get::<String>("kind").unwrap(),
                s.get::<u64>("key-id").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("replay".to_string(), 1),
            ("replay".to_string(), 1),
            ("unknown_key_id".to_string(), 9)
        ]
    );
    let st = stats(&element);
    assert_eq!(failures(&st, "replay"), 8);
    assert_eq!(failures(&st, "unknown_key_id"), 1);
    assert_eq!(st.get::<u64>("frames-out"), Ok(FRAMES as u64 + 1));
}

#[test]
fn encrypter_without_key_drops_frames_and_says_so_once() {
    init();
    let (caps, stream) = h264_stream();
    let mut enc = Harness::new("sframeenc");
    let element = enc.element().unwrap();
    let bus = gst::Bus::new();
    element.set_bus(Some(&bus));
    assert!(push_all(&mut enc, &caps, &stream[..10]).is_empty());
    let msgs = element_messages(&bus, "sframe-encrypt-error");
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert_eq!(msgs[0].get::<&str>("kind"), Ok("no_key"));
    assert_eq!(failures(&stats(&element), "no_key"), 10);
}

#[test]
fn decrypter_refuses_caps_that_do_not_say_sframe() {
    let (K1, _) = keys();
    init();
    let (caps, stream) = h264_stream();
    let mut dec = Harness::new_parse(&format!("sframedec key-id=1 key-hex={K1}"));
    dec.set_src_caps(caps);
    assert_eq!(
        dec.push(stream[0].clone()),
        Err(gst::FlowError::NotNegotiated)
    );
    // Nor does the encrypter protect twice.
    let mut enc = Harness::new_parse(&format!("sframeenc key-id=1 key-hex={K1}"));
    enc.set_src_caps_str("video/x-h264, sframe=(boolean)true");
    assert_eq!(
        enc.push(stream[0].clone()),
        Err(gst::FlowError::NotNegotiated)
    );
}

#[test]
fn properties_in_any_order_and_suite_fixed_after_first_frame() {
    let (_, K2) = keys();
    init();
    let (caps, stream) = h264_stream();
    // gst-launch sets properties in the order written: a key before its key-id (and before
    // the suite) must end up under that KID (and suite), on both sides.
    for (enc_props, dec_props, kid, tag) in [
        (
            format!("key-hex={K2} key-id=3"),
            format!("key-hex={K2} key-id=3"),
            3,
            16,
        ),
        (
            format!("key-hex={K2} key-id=4 cipher-suite=AES_128_CTR_HMAC_SHA256_80"),
            format!("key-hex={K2} key-id=4 cipher-suite=1"),
            4,
            10,
        ),
    ] {
        let mut enc = Harness::new_parse(&format!("sframeenc {enc_props}"));
        let protected = push_all(&mut enc, &caps, &stream[..5]);
        assert_eq!(protected.len(), 5, "{enc_props}");
        let info = sframe_core::inspect(&protected[0].map_readable().unwrap()).unwrap();
        assert_eq!(info.key_id, kid, "{enc_props}");
        assert_eq!(info.payload_len, stream[0].size() + tag, "{enc_props}");
        let mut dec = Harness::new_parse(&format!("sframedec {dec_props}"));
        let protected_caps = enc.sinkpad().unwrap().current_caps().unwrap();
        assert_eq!(
            push_all(&mut dec, &protected_caps, &protected).len(),
            5,
            "{dec_props}"
        );
        let dec_stats = stats(&dec.find_element("sframedec").unwrap());
        let keys = dec_stats.get::<gst::Array>("keys").unwrap();
        assert_eq!(
            keys.len(),
            1,
            "the key moved to KID {kid}, not copied: {dec_stats}"
        );

        let element = enc.find_element("sframeenc").unwrap();
        let before = element
            .property_value("cipher-suite")
            .get::<Suite>()
            .unwrap();
        element.set_property_from_str("cipher-suite", "AES_256_GCM_SHA512_128");
        assert_eq!(
            element.property_value("cipher-suite").get::<Suite>(),
            Ok(before),
            "fixed once a frame was protected"
        );
    }
}

#[test]
fn key_change_while_playing_loses_no_frame() {
    let (K1, K2) = keys();
    init();
    let frames = 90u64;
    let pipeline = gst::parse::launch(&format!(
        "videotestsrc is-live=true num-buffers={frames} pattern=ball \
         ! video/x-raw,width=320,height=240,framerate=60/1 \
         ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! h264parse \
         ! sframeenc name=enc key-id=1 key-hex={K1} \
         ! sframedec name=dec key-id=1 key-hex={K1} \
         ! avdec_h264 ! fakesink name=sink sync=false"
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let enc = pipeline.by_name("enc").unwrap();
    let dec = pipeline.by_name("dec").unwrap();
    let kids = Arc::new(Mutex::new(Vec::new()));
    let k = kids.clone();
    enc.static_pad("src")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(buf) = info.buffer() {
                let info = sframe_core::inspect(&buf.map_readable().unwrap()).unwrap();
                k.lock().unwrap().push(info.key_id);
            }
            gst::PadProbeReturn::Ok
        });
    let decoded = Arc::new(AtomicU64::new(0));
    let d = decoded.clone();
    pipeline
        .by_name("sink")
        .unwrap()
        .static_pad("sink")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            d.fetch_add(1, Ordering::SeqCst);
            gst::PadProbeReturn::Ok
        });
    let wait_for = |n: u64| {
        let t = Instant::now();
        while decoded.load(Ordering::SeqCst) < n {
            assert!(t.elapsed() < Duration::from_secs(30), "stalled before {n}");
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    pipeline.set_state(gst::State::Playing).unwrap();
    wait_for(20);
    // The receiver learns the new key first, then the sender switches to it.
    assert!(dec.emit_by_name::<bool>("add-key", &[&2u64, &bytes(K2)]));
    assert!(enc.emit_by_name::<bool>("set-key", &[&2u64, &bytes(K2)]));
    let switched_at = decoded.load(Ordering::SeqCst);
    wait_for(switched_at + 10);
    // Every KID 1 frame is through: the old key goes.
    assert!(dec.emit_by_name::<bool>("remove-key", &[&1u64]));
    assert!(!dec.emit_by_name::<bool>("remove-key", &[&1u64]));
    run_to_eos(&pipeline);

    let kids = kids.lock().unwrap().clone();
    let first_2 = kids.iter().position(|&k| k == 2).unwrap();
    assert!(first_2 >= 20, "switched at frame {first_2}");
    assert!(kids[..first_2].iter().all(|&k| k == 1));
    assert!(kids[first_2..].iter().all(|&k| k == 2));
    let st = stats(&dec);
    println!(
        "key change while playing: {} frames protected (KID 1 then 2 from frame {first_2}), {} decrypted, {} decoded, dropped {}",
        kids.len(),
        st.get::<u64>("frames-out").unwrap(),
        decoded.load(Ordering::SeqCst),
        st.get::<u64>("dropped").unwrap()
    );
    assert_eq!(kids.len() as u64, frames);
    assert_eq!(st.get::<u64>("frames-out"), Ok(frames));
    assert_eq!(st.get::<u64>("dropped"), Ok(0));
    assert_eq!(decoded.load(Ordering::SeqCst), frames);
    let keys = st.get::<gst::Array>("keys").unwrap();
    let keys: Vec<(u64, u64)> = keys
        .iter()
        .map(|v| {
            let s = v.get::<gst::Structure>().unwrap();
            (s.get("key-id").unwrap(), s.get("frames").unwrap())
        })
        .collect();
    assert_eq!(keys, [(2, frames - first_2 as u64)], "KID 1 removed");
    let enc_stats = stats(&enc);
    assert_eq!(enc_stats.get::<u64>("key-id"), Ok(2));
    assert_eq!(enc_stats.get::<u64>("frames-out"), Ok(frames));
}

/// The built plugin (the cdylib next to this test's binary) as GStreamer loads it.
#[test]
fn per_ssrc_keys_round_trip_only_with_the_same_ssrc() {
    let (K1, _) = keys();
    init();
    let (caps, stream) = h264_stream();
    let ssrc = 0x5f3a_0010u32;
    let mut enc = Harness::new_parse(&format!(
        "sframeenc per-ssrc=true ssrc={ssrc} key-id=2 key-hex={K1}"
    ));
    let protected = push_all(&mut enc, &caps, &stream[..5]);
    assert_eq!(protected.len(), 5);
    let protected_caps = enc.sinkpad().unwrap().current_caps().unwrap();
    // Receivers given the same base key: only the one deriving for the same SSRC reads.
    for (dec_props, by_signal, out) in [
        (
            format!("per-ssrc=true ssrc={ssrc} key-id=2 key-hex={K1}"),
            false,
            5,
        ),
        (
            format!("key-id=2 key-hex={K1} ssrc={ssrc} per-ssrc=true"),
            false,
            5,
        ),
        (format!("per-ssrc=true ssrc={ssrc}"), true, 5),
        (format!("key-id=2 key-hex={K1}"), false, 0),
        (
            format!("per-ssrc=true ssrc={} key-id=2 key-hex={K1}", ssrc + 1),
            false,
            0,
        ),
    ] {
        let mut dec = Harness::new_parse(&format!("sframedec {dec_props}"));
        let element = dec.find_element("sframedec").unwrap();
        if by_signal {
            assert!(element.emit_by_name::<bool>("add-key", &[&2u64, &bytes(K1)]));
        }
        let n = push_all(&mut dec, &protected_caps, &protected).len();
        assert_eq!(n, out, "{dec_props}");
        if out == 0 {
            assert_eq!(failures(&stats(&element), "authentication_failed"), 5);
        }
    }
    // add-key before the SSRC is known cannot derive: refused.
    let dec = gst::ElementFactory::make("sframedec")
        .property("per-ssrc", true)
        .build()
        .unwrap();
    assert!(!dec.emit_by_name::<bool>("add-key", &[&2u64, &bytes(K1)]));
}

#[test]
fn gst_inspect_shows_documented_properties_signals_and_pads() {
    if std::process::Command::new("gst-inspect-1.0")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: gst-inspect-1.0 not installed (stage 90 installs it)");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    let so = [deps, deps.parent().unwrap()]
        .iter()
        .map(|d| d.join("libgstsframe.so"))
        .find(|p| p.exists())
        .expect("libgstsframe.so next to the test binary");
    // A private plugin dir and registry: only this build is scanned.
    let dir = std::env::temp_dir().join(format!("gst-sframe-inspect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&so, dir.join("libgstsframe.so")).unwrap();
    let inspect = |what: &str| {
        let out = std::process::Command::new("gst-inspect-1.0")
            .arg(what)
            .env("GST_PLUGIN_PATH", &dir)
            .env("GST_REGISTRY", dir.join("registry.bin"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let plugin = inspect("sframe");
    assert!(plugin.contains("sframeenc: SFrame encrypter"), "{plugin}");
    assert!(plugin.contains("sframedec: SFrame decrypter"), "{plugin}");
    let enc = inspect("sframeenc");
    let dec = inspect("sframedec");
    for (text, wanted) in [
        (
            &enc,
            &[
                "cipher-suite",
                "AES_128_GCM_SHA256_128",
                "key-id",
                "key-hex",
                "per-ssrc",
                "ssrc",
                "draft-ietf-avtcore-rtp-sframe §7",
                "stats",
                "\"set-key\"",
                "SINK template: 'sink'",
                "SRC template: 'src'",
            ][..],
        ),
        (
            &dec,
            &[
                "cipher-suite",
                "key-id",
                "key-hex",
                "per-ssrc",
                "ssrc",
                "draft-ietf-avtcore-rtp-sframe §7",
                "stats",
                "\"add-key\"",
                "\"remove-key\"",
                "sframe-decrypt-error",
            ][..],
        ),
    ] {
        for w in wanted {
            assert!(text.contains(w), "{w} missing from:\n{text}");
        }
    }
    // Keys are write-only: listed, never readable.
    let key_hex = enc.split("key-hex").nth(1).unwrap();
    assert!(key_hex.contains("Write only"), "{key_hex}");
    std::fs::remove_dir_all(&dir).unwrap();
}
