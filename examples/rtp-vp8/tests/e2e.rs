//! End to end: GStreamer's `vp8enc` encodes a test clip; the `rtp-vp8` sender and receiver
//! run as two processes on 127.0.0.1; the receiver's frames go to GStreamer's `vp8dec`.
//! Needs `gst-launch-1.0` with plugins-good (scripts/stages/57-rtp-media.sh installs it).
//!
//! What is asserted, per mode, and why:
//! * the impairment happened (packets dropped, reordered, duplicated) and nothing else was
//!   lost: the receiver got exactly the packets the sender did not drop;
//! * the receiver delivered exactly the frames none of whose packets were dropped, each
//!   once, byte-identical to the encoder's output, and no SFrame decryption failed (a frame
//!   with a packet missing never reaches the decryptor, so no partial frame can come out);
//! * decoding: a frame goes to the "strict" decoder when its references are there (a key
//!   frame, or the frame right after one it got: VP8 inter frames predict from the previous
//!   frame, and without picture IDs nothing says the golden frame was not refreshed in a
//!   lost one). The test recomputes that list from the sender's figures, checks vp8dec
//!   decoded all of them, and that each decoded picture equals, bit for bit, the picture
//!   the same decoder makes from the lossless stream. A second decoder gets every delivered
//!   frame from the first key frame on: vp8dec decodes each (it cannot see a reference is
//!   missing; such pictures are damaged, so only their count is checked).
//! * with a wrong key nothing is delivered and every complete frame fails authentication.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sframe_rtp_vp8::decoder::Decoder;
use sframe_rtp_vp8::{media, report};

const BIN: &str = env!("CARGO_BIN_EXE_sframe-rtp-vp8");
const FRAMES: usize = 150;

fn work_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rtp-vp8")
}

struct Source {
    dir: PathBuf,
    frames: Vec<Vec<u8>>,
    /// The lossless decode, one I420 picture per frame.
    reference: Vec<u8>,
    picture: usize,
}

/// Encodes the clip once (320x240, 30 fps, a key frame every 15 frames, ~800 kbit/s: 2-5 kB
/// frames, so most take several RTP packets) and decodes it losslessly for reference. vp8enc's
/// "good" deadline with a fixed cpu-used gives the same bytes every run (its realtime deadline
/// adapts to the machine's speed), so the figures repeat.
fn source() -> &'static Source {
    static SOURCE: OnceLock<Source> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let dir = work_dir().join("clip");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let location = format!("location={}/%05d.vp8", dir.display());
        let status = Command::new("gst-launch-1.0")
            .args(["-q", "videotestsrc", &format!("num-buffers={FRAMES}")])
            .args(["pattern=smpte", "horizontal-speed=4", "!"])
            .args(["video/x-raw,width=320,height=240,framerate=30/1", "!"])
            .args([
                "vp8enc",
                "keyframe-max-dist=15",
                "target-bitrate=800000",
                "cpu-used=4",
            ])
            .args(["!", "multifilesink", &location])
            .status()
            .expect("gst-launch-1.0 (Debian: gstreamer1.0-tools, gstreamer1.0-plugins-good)");
        assert!(status.success(), "vp8enc pipeline failed");
        let frames = media::load_frames(&dir).unwrap();
        assert_eq!(frames.len(), FRAMES);
        let yuv = work_dir().join("reference.yuv");
        let mut d = Decoder::spawn(&yuv).unwrap();
        for (i, f) in frames.iter().enumerate() {
            d.push(i as u64, f).unwrap();
        }
        let (n, picture) = d.finish(Duration::from_secs(60)).unwrap();
        assert_eq!(n as usize, FRAMES, "the lossless stream decodes whole");
        Source {
            dir,
            frames,
            reference: std::fs::read(&yuv).unwrap(),
            picture,
        }
    })
}

/// Waits for `child` at most `timeout`, killing it then; returns its stdout.
fn wait(mut child: Child, timeout: Duration, what: &str) -> String {
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let t0 = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = reader.join().unwrap();
            assert!(status.success(), "{what} failed ({status}):\n{out}");
            return out;
        }
        if t0.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process killed (and reaped) when dropped, so a failing test leaves no receiver
/// behind.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

struct Run {
    sender: BTreeMap<String, String>,
    receiver: BTreeMap<String, String>,
    out: PathBuf,
}

fn run(name: &str, input: &Path, send_args: &[&str], recv_args: &[&str]) -> Run {
    let out = work_dir().join(name);
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let (sreport, rreport) = (out.join("sender.txt"), out.join("receiver.txt"));

    let mut receiver = Reaped(
        Command::new(BIN)
            .args([
                "recv",
                "--listen",
                "127.0.0.1:0",
                "--timeout-s",
                "60",
                "--idle-ms",
                "5000",
            ])
            .arg("--out")
            .arg(&out)
            .arg("--report")
            .arg(&rreport)
            .args(recv_args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // First line: "listening on ADDR".
    let mut lines = BufReader::new(receiver.0.stdout.take().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut first = String::new();
        let _ = lines.read_line(&mut first);
        let _ = tx.send((first, lines));
    });
    let Ok((first, lines)) = rx.recv_timeout(Duration::from_secs(20)) else {
        panic!("receiver did not start listening");
    };
    let addr = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    let receiver_out = std::thread::spawn(move || {
        let mut s = String::new();
        let mut lines = lines;
        let _ = lines.read_to_string(&mut s);
        s
    });

    let sender = Command::new(BIN)
        .args(["send", "--to", &addr])
        .arg("--input")
        .arg(input)
        .arg("--report")
        .arg(&sreport)
        .args(send_args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let sender_out = wait(sender, Duration::from_secs(60), "sender");
    // The receiver ends on the sender's RTCP BYE (or 5 s without packets).
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = receiver.0.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > Duration::from_secs(60) {
            panic!("receiver did not finish"); // killed by Reaped
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let receiver_out = receiver_out.join().unwrap();
    println!("--- {name}\n{sender_out}{receiver_out}");
    assert!(status.success(), "receiver failed ({status})");
    Run {
        sender: report::parse(&std::fs::read_to_string(&sreport).unwrap()),
        receiver: report::parse(&std::fs::read_to_string(&rreport).unwrap()),
        out,
    }
}

fn num(m: &BTreeMap<String, String>, k: &str) -> u64 {
    m.get(k)
        .unwrap_or_else(|| panic!("no {k}"))
        .parse()
        .unwrap()
}

fn check(name: &str, mode: &str, seed: &str) {
    let src = source();
    let r = run(name, &src.dir, &["--mode", mode, "--seed", seed], &[]);
    let (s, v) = (&r.sender, &r.receiver);

    // The impairment happened, and only it.
    assert_eq!(num(s, "frames_sent"), FRAMES as u64);
    assert!(num(s, "packets_dropped") > 0 && num(s, "packets_reordered") > 0);
    assert!(num(s, "packets_duplicated") > 0);
    assert_eq!(
        num(v, "packets_received"),
        num(s, "packets_sent") - num(s, "packets_dropped"),
        "packets lost besides those the sender dropped"
    );
    assert_eq!(v.get("bye").map(String::as_str), Some("true"));

    // Exactly the complete frames, each once, byte for byte; nothing failed to decrypt.
    let complete = report::list(&s["complete_list"]);
    let delivered = report::list(&v["delivered_list"]);
    assert!(
        complete.len() < FRAMES,
        "some frames must have lost a packet"
    );
    assert_eq!(
        delivered, complete,
        "delivered frames != frames whose packets all arrived"
    );
    assert_eq!(num(v, "frames_late") + num(v, "frames_twice"), 0);
    assert_eq!(num(v, "sframe_auth_failed"), 0);
    assert_eq!(num(v, "sframe_malformed"), 0);
    let ivf = media::parse_ivf(&std::fs::read(r.out.join("delivered.ivf")).unwrap()).unwrap();
    assert_eq!(ivf.len(), delivered.len());
    for (frame, &i) in ivf.iter().zip(&delivered) {
        assert!(
            frame == &src.frames[i as usize],
            "frame {i} differs from the encoder's"
        );
    }
    // Every duplicated packet was recognised as such by the depacketizer.
    assert_eq!(
        num(v, "sframe_duplicate_packets"),
        num(s, "packets_duplicated")
    );
    match mode {
        // One SFrame frame per video frame.
        "frame" => assert_eq!(num(v, "sframe_per_frame"), delivered.len() as u64),
        // One SFrame frame per RTP packet.
        _ => assert_eq!(num(v, "sframe_per_packet"), num(v, "packets_received")),
    }

    // Strict decoding: the frames whose references arrived, recomputed here.
    let keys = report::list(&s["key_frame_list"]);
    let mut expected_fed = Vec::new();
    for &i in &complete {
        if keys.contains(&i) || (i > 0 && expected_fed.last() == Some(&(i - 1))) {
            expected_fed.push(i);
        }
    }
    assert_eq!(report::list(&v["fed_list"]), expected_fed);
    assert_eq!(num(v, "frames_decoded"), expected_fed.len() as u64);
    assert_eq!(num(v, "picture_bytes") as usize, src.picture);
    let decoded = std::fs::read(r.out.join("decoded.yuv")).unwrap();
    for (k, &i) in expected_fed.iter().enumerate() {
        let p = src.picture;
        assert!(
            decoded[k * p..(k + 1) * p] == src.reference[i as usize * p..(i as usize + 1) * p],
            "decoded picture of frame {i} differs from the lossless decode"
        );
    }
    // Every delivered frame from the first key frame on decodes.
    let first_key = delivered.iter().position(|i| keys.contains(i)).unwrap();
    let all = (delivered.len() - first_key) as u64;
    assert_eq!(num(v, "all_frames_fed_to_decoder"), all);
    assert_eq!(num(v, "all_frames_decoded"), all);

    println!(
        "summary {name}: frames sent {}, RTP packets sent {} (dropped {}, reordered {}, \
         duplicated {}); frames delivered {} (dropped for loss {}), all byte-identical; \
         decoded {} strict (bit-exact) / {} from the first key frame on",
        num(s, "frames_sent"),
        num(s, "packets_sent"),
        num(s, "packets_dropped"),
        num(s, "packets_reordered"),
        num(s, "packets_duplicated"),
        delivered.len(),
        num(s, "frames_lost"),
        num(v, "frames_decoded"),
        num(v, "all_frames_decoded"),
    );
}

#[test]
fn per_frame_sframe_with_loss_and_reordering() {
    check("per-frame", "frame", "1");
}

#[test]
fn per_packet_sframe_with_loss_and_reordering() {
    check("per-packet", "packet", "2");
}

#[test]
fn wrong_key_delivers_nothing() {
    let r = run(
        "wrong-key",
        &source().dir,
        &["--mode", "frame", "--seed", "3", "--duplicate", "0"],
        &["--key", "000102030405060708090a0b0c0d0e0f", "--no-decode"],
    );
    assert_eq!(num(&r.receiver, "frames_delivered"), 0);
    assert_eq!(
        num(&r.receiver, "sframe_auth_failed"),
        num(&r.sender, "frames_complete"),
        "every complete frame is tried once and refused"
    );
}

/// The IVF input (test-vectors/tiny-vp8.ivf, written by vpxenc: 64x48, 30 frames of 30-600
/// bytes) with a 60-byte MTU, so that even these small frames are fragmented, per frame.
#[test]
fn tiny_ivf_with_small_mtu() {
    let ivf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/tiny-vp8.ivf");
    let frames = media::load_frames(&ivf).unwrap();
    let r = run(
        "tiny-ivf",
        &ivf,
        &[
            "--mode", "frame", "--seed", "7", "--mtu", "60", "--loss", "0.03",
        ],
        &[],
    );
    let (s, v) = (&r.sender, &r.receiver);
    assert!(
        num(s, "packets_sent") > 2 * frames.len() as u64,
        "frames are fragmented"
    );
    assert_eq!(
        num(v, "packets_received"),
        num(s, "packets_sent") - num(s, "packets_dropped")
    );
    let delivered = report::list(&v["delivered_list"]);
    assert_eq!(delivered, report::list(&s["complete_list"]));
    let got = media::parse_ivf(&std::fs::read(r.out.join("delivered.ivf")).unwrap()).unwrap();
    for (frame, &i) in got.iter().zip(&delivered) {
        assert!(frame == &frames[i as usize], "frame {i} differs");
    }
    assert_eq!(num(v, "sframe_auth_failed") + num(v, "sframe_malformed"), 0);
    assert!(delivered.len() < frames.len() && num(v, "frames_fed_to_decoder") > 0);
    assert_eq!(num(v, "frames_decoded"), num(v, "frames_fed_to_decoder"));
    assert_eq!(num(v, "picture_bytes"), 64 * 48 * 3 / 2);
}
