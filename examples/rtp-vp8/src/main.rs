//! `rtp-vp8`: real VP8 video as SFrame over RTP (draft-ietf-avtcore-rtp-sframe-02) on UDP.
//!
//! ```text
//! rtp-vp8 recv [--listen 127.0.0.1:0] [--out DIR] [--report FILE] [--key HEX]
//!              [--idle-ms 3000] [--timeout-s 60] [--playout-frames 8] [--no-decode]
//! rtp-vp8 send --to 127.0.0.1:PORT --input FILE.ivf|DIR [--mode frame|packet] [--seed N]
//!              [--loss 0.05] [--reorder 0.05] [--duplicate 0.02] [--mtu 1200]
//!              [--start-seq 65500] [--pace-us 300] [--report FILE] [--key HEX]
//! ```
//!
//! The sender reads encoded VP8 frames (IVF, or a `vp8enc ! multifilesink` directory),
//! SFrame-protects them per frame (T=0: the whole frame, then fragmented) or per packet (T=1:
//! each RFC 7741 VP8 payload), impairs its own packet stream (seeded loss, reordering,
//! duplication) and ends with an RTCP BYE. The receiver prints `listening on ADDR` first,
//! reassembles and decrypts, puts frames back in order, feeds GStreamer's `vp8dec` every frame
//! whose references it has, and prints its figures.

#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use sframe_core::CipherSuite;
use sframe_rtp_vp8::decoder::Decoder;
use sframe_rtp_vp8::netem::{self, Impairment, Rng};
use sframe_rtp_vp8::report::Report;
use sframe_rtp_vp8::rtp::{self, Header, SeqUnwrapper};
use sframe_rtp_vp8::sframe_rtp::{Depacketizer, Origin, Packetizer};
use sframe_rtp_vp8::{DEMO_KEY, FRAME_TICKS, KID, PAYLOAD_TYPE, SSRC, from_hex, media, vp8};

const SUITE: CipherSuite = CipherSuite::AesGcm128Sha256;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("send") => Args::parse(args.get(1..).unwrap_or_default()).and_then(send),
        Some("recv") => Args::parse(args.get(1..).unwrap_or_default()).and_then(recv),
        _ => Err("usage: rtp-vp8 send|recv [options] (see the README)".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rtp-vp8: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--name value` options (and `--flag`s).
struct Args(HashMap<String, String>);

impl Args {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut map = HashMap::new();
        let mut it = args.iter().peekable();
        while let Some(a) = it.next() {
            let name = a
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument {a:?}"))?;
            let value = match it.peek() {
                Some(v) if !v.starts_with("--") => it.next().cloned().unwrap_or_default(),
                _ => String::new(),
            };
            map.insert(name.to_string(), value);
        }
        Ok(Args(map))
    }
    fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
    fn flag(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
    fn get<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.str(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("bad --{name} {v:?}")),
        }
    }
    fn key(&self) -> Result<Vec<u8>, String> {
        self.str("key").map_or(Ok(DEMO_KEY.to_vec()), from_hex)
    }
}

fn send(args: Args) -> Result<(), String> {
    let to = args.str("to").ok_or("send needs --to ADDR")?;
    let input = PathBuf::from(args.str("input").ok_or("send needs --input FILE|DIR")?);
    let origin = match args.str("mode").unwrap_or("frame") {
        "frame" => Origin::Raw,
        "packet" => Origin::Packetized,
        m => return Err(format!("--mode is frame or packet, not {m:?}")),
    };
    let seed: u64 = args.get("seed", 1)?;
    let imp = Impairment {
        loss: args.get("loss", 0.05)?,
        reorder: args.get("reorder", 0.05)?,
        duplicate: args.get("duplicate", 0.02)?,
    };
    let mtu: usize = args.get("mtu", 1200)?;
    let start_seq: u16 = args.get("start-seq", 65500)?;
    let pace = Duration::from_micros(args.get("pace-us", 300)?);
    let frames = media::load_frames(&input)?;

    // Packetize every frame: (frame index, RTP packet).
    let mut sframe = Packetizer::new(SUITE, KID, &args.key()?, SSRC)?;
    let budget = mtu.checked_sub(12).ok_or("--mtu too small")?;
    let mut packets: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut seq = start_seq;
    for (index, frame) in frames.iter().enumerate() {
        let mut media = Header {
            marker: true,
            payload_type: PAYLOAD_TYPE,
            sequence: seq,
            timestamp: (index as u32).wrapping_mul(FRAME_TICKS),
            ssrc: SSRC,
        };
        let out = match origin {
            // The whole frame protected, then fragmented; the frame's marker on its last packet.
            Origin::Raw => sframe.packetize(Origin::Raw, frame, budget, &media)?,
            // VP8 payloads sized so that each, protected, fits one packet.
            Origin::Packetized => {
                let vp8_budget = sframe.max_media_payload(budget);
                if vp8_budget < 2 {
                    return Err("--mtu too small".into());
                }
                let payloads = vp8::packetize(frame, vp8_budget);
                let last = payloads.len() - 1;
                let mut out = Vec::new();
                for (i, p) in payloads.iter().enumerate() {
                    media.marker = i == last;
                    media.sequence = seq.wrapping_add(out.len() as u16);
                    let mut one = sframe.packetize(Origin::Packetized, p, budget, &media)?;
                    if one.len() != 1 {
                        return Err("per-packet SFrame split a VP8 payload again".into());
                    }
                    out.append(&mut one);
                }
                out
            }
        };
        seq = seq.wrapping_add(out.len() as u16);
        packets.extend(out.into_iter().map(|p| (index, p)));
    }

    let fate = netem::apply(packets.len(), imp, &mut Rng::new(seed));
    let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    socket
        .connect(to)
        .map_err(|e| format!("connect {to}: {e}"))?;
    let mut wire_bytes = 0usize;
    for &i in &fate.schedule {
        let (_, p) = packets.get(i).ok_or("bad schedule")?;
        socket.send(p).map_err(|e| format!("send: {e}"))?;
        wire_bytes += p.len();
        std::thread::sleep(pace);
    }
    for _ in 0..3 {
        let _ = socket.send(&rtp::rtcp_bye(SSRC));
        std::thread::sleep(Duration::from_millis(20));
    }

    let mut lost_frames = BTreeSet::new();
    for (i, (index, _)) in packets.iter().enumerate() {
        if fate.dropped.get(i) == Some(&true) {
            lost_frames.insert(*index);
        }
    }
    let complete: Vec<usize> = (0..frames.len())
        .filter(|i| !lost_frames.contains(i))
        .collect();
    let keys: Vec<usize> = (0..frames.len())
        .filter(|&i| frames.get(i).is_some_and(|f| media::is_key_frame(f)))
        .collect();
    let dropped = fate.dropped.iter().filter(|d| **d).count();
    let mut r = Report::default();
    r.set(
        "mode",
        if origin == Origin::Raw {
            "per-frame"
        } else {
            "per-packet"
        },
    );
    r.set("seed", seed);
    r.set("frames_sent", frames.len());
    r.set("key_frames", keys.len());
    r.set("media_bytes", frames.iter().map(Vec::len).sum::<usize>());
    r.set("packets_sent", packets.len());
    r.set("packets_dropped", dropped);
    r.set("packets_reordered", fate.reordered);
    r.set("packets_duplicated", fate.duplicated);
    r.set("datagrams_sent", fate.schedule.len());
    r.set("wire_bytes", wire_bytes);
    r.set("frames_complete", complete.len());
    r.set("frames_lost", lost_frames.len());
    r.set_list("complete_list", &complete);
    r.set_list("key_frame_list", &keys);
    r.emit("sender", args.str("report").map(std::path::Path::new))
}

/// Puts delivered frames back in index order, declaring a frame lost once frames `depth`
/// further on have arrived, and passes each on to the decoder if it is decodable: a key
/// frame, or an inter frame right after a frame the decoder got (a VP8 inter frame needs the
/// previous frame; without picture IDs a receiver cannot tell what else it references).
struct Playout {
    pending: BTreeMap<u64, Vec<u8>>,
    next: u64,
    depth: u64,
    last_fed: Option<u64>,
    first_key: Option<u64>,
    decoder: Option<Decoder>,
    /// A second decoder that gets every delivered frame from the first key frame on, as a
    /// receiver that does not track references would: VP8 decodes inter frames whose
    /// reference was lost (into a damaged picture) without an error.
    decoder_all: Option<Decoder>,
    delivered: Vec<(u64, Vec<u8>)>,
    fed: Vec<u64>,
    skipped: Vec<u64>,
    late: u64,
    twice: u64,
}

impl Playout {
    fn deliver(&mut self, index: u64, frame: Vec<u8>) -> Result<(), String> {
        if index < self.next {
            self.late += 1;
            return Ok(());
        }
        if self.pending.contains_key(&index) {
            self.twice += 1;
            return Ok(());
        }
        self.pending.insert(index, frame);
        self.release(false)
    }

    fn release(&mut self, all: bool) -> Result<(), String> {
        while let Some((&first, _)) = self.pending.first_key_value() {
            let newest = self.pending.last_key_value().map_or(first, |(k, _)| *k);
            if first != self.next && !all && newest < self.next + self.depth {
                break;
            }
            if first != self.next {
                self.next += 1; // given up on
                continue;
            }
            let Some(frame) = self.pending.remove(&first) else {
                break;
            };
            self.next += 1;
            let decodable =
                media::is_key_frame(&frame) || (first > 0 && self.last_fed == Some(first - 1));
            if decodable {
                if let Some(d) = self.decoder.as_mut() {
                    d.push(first, &frame)?;
                }
                self.last_fed = Some(first);
                self.fed.push(first);
            } else {
                self.skipped.push(first);
            }
            if self.first_key.is_none() && media::is_key_frame(&frame) {
                self.first_key = Some(first);
            }
            if self.first_key.is_some()
                && let Some(d) = self.decoder_all.as_mut()
            {
                d.push(first, &frame)?;
            }
            self.delivered.push((first, frame));
        }
        Ok(())
    }
}

fn recv(args: Args) -> Result<(), String> {
    let listen = args.str("listen").unwrap_or("127.0.0.1:0");
    let out = PathBuf::from(args.str("out").unwrap_or("rtp-vp8-out"));
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let idle = Duration::from_millis(args.get("idle-ms", 3000)?);
    let deadline = Instant::now() + Duration::from_secs(args.get("timeout-s", 60)?);
    let socket = UdpSocket::bind(listen).map_err(|e| format!("bind {listen}: {e}"))?;
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .map_err(|e| e.to_string())?;
    let addr = socket.local_addr().map_err(|e| e.to_string())?;
    println!("listening on {addr}");
    let _ = std::io::stdout().flush();

    let (decoder, decoder_all) = if args.flag("no-decode") {
        (None, None)
    } else {
        (
            Some(Decoder::spawn(&out.join("decoded.yuv"))?),
            Some(Decoder::spawn(&out.join("decoded-all.yuv"))?),
        )
    };
    let mut sframe = Depacketizer::new(SUITE, KID, &args.key()?, SSRC)?;
    let mut vp8 = vp8::Depacketizer::new(FRAME_TICKS * 8);
    let mut play = Playout {
        pending: BTreeMap::new(),
        next: 0,
        depth: args.get("playout-frames", 8)?,
        last_fed: None,
        first_key: None,
        decoder,
        decoder_all,
        delivered: Vec::new(),
        fed: Vec::new(),
        skipped: Vec::new(),
        late: 0,
        twice: 0,
    };
    let mut seqs = SeqUnwrapper::default();
    let mut unique = BTreeSet::new();
    let (mut datagrams, mut not_rtp, mut per_frame, mut per_packet) = (0u64, 0u64, 0u64, 0u64);
    let mut last_packet: Option<Instant> = None;
    let mut bye = false;
    // A thread does nothing but read the socket, so the kernel's receive buffer never
    // overflows while the main thread decrypts and decodes (that would be loss the sender did
    // not choose).
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        loop {
            match socket.recv(&mut buf) {
                Ok(n) => {
                    if tx.send(buf.get(..n).unwrap_or_default().to_vec()).is_err() {
                        break;
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => break,
            }
        }
    });
    loop {
        if Instant::now() > deadline {
            return Err("timed out before the sender's BYE".into());
        }
        let packet = match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(p) => p,
            Err(_) => {
                // After a BYE: the socket drained. Before: give up after `idle`.
                if bye || last_packet.is_some_and(|t| t.elapsed() > idle) {
                    break;
                }
                continue;
            }
        };
        let packet = packet.as_slice();
        if rtp::is_rtcp_bye(packet) {
            bye = true;
            continue;
        }
        let Ok((header, _)) = Header::parse(packet) else {
            not_rtp += 1;
            continue;
        };
        if header.ssrc != SSRC || header.payload_type != PAYLOAD_TYPE {
            not_rtp += 1;
            continue;
        }
        datagrams += 1;
        last_packet = Some(Instant::now());
        unique.insert(seqs.unwrap(header.sequence));
        for d in sframe.push(packet) {
            let frame = match d.origin {
                Origin::Raw => {
                    per_frame += 1;
                    Some((d.timestamp, d.data))
                }
                Origin::Packetized => {
                    per_packet += 1;
                    vp8.push(d.first_seq, d.timestamp, d.marker, &d.data)
                }
            };
            if let Some((ts, data)) = frame {
                if ts % FRAME_TICKS != 0 {
                    not_rtp += 1;
                    continue;
                }
                play.deliver(u64::from(ts / FRAME_TICKS), data)?;
            }
        }
        // Fragments of frames the playout has moved past will never be used.
        sframe.give_up_before((play.next as u32).wrapping_mul(FRAME_TICKS));
    }
    sframe.finish();
    vp8.finish();
    play.release(true)?;

    let decoded = match play.decoder.take() {
        Some(d) => Some(d.finish(Duration::from_secs(30))?),
        None => None,
    };
    let decoded_all = match play.decoder_all.take() {
        Some(d) => Some((d.fed, d.finish(Duration::from_secs(30))?.0)),
        None => None,
    };
    let size = play
        .delivered
        .iter()
        .find_map(|(_, f)| media::key_frame_size(f))
        .unwrap_or((0, 0));
    let ivf: Vec<(u64, &[u8])> = play
        .delivered
        .iter()
        .map(|(i, f)| (*i, f.as_slice()))
        .collect();
    media::write_ivf(&out.join("delivered.ivf"), size.0, size.1, &ivf)?;

    let s = &sframe.stats;
    let mut r = Report::default();
    r.set("datagrams_received", datagrams);
    r.set("packets_received", unique.len());
    r.set("other_datagrams", not_rtp);
    r.set("bye", bye);
    r.set("sframe_frames_decrypted", s.delivered);
    r.set("sframe_per_frame", per_frame);
    r.set("sframe_per_packet", per_packet);
    r.set("sframe_auth_failed", s.auth_failed);
    r.set("sframe_replayed", s.replayed);
    r.set("sframe_duplicate_packets", s.duplicates);
    r.set("sframe_late_packets", s.late);
    r.set("sframe_malformed", s.malformed);
    r.set("sframe_packets_evicted", s.evicted);
    r.set("vp8_frames_evicted", vp8.evicted);
    r.set("frames_delivered", play.delivered.len());
    r.set("frames_late", play.late);
    r.set("frames_twice", play.twice);
    r.set("frames_fed_to_decoder", play.fed.len());
    r.set("frames_skipped_until_key_frame", play.skipped.len());
    match decoded {
        Some((n, picture)) => {
            r.set("frames_decoded", n);
            r.set("picture_bytes", picture);
        }
        None => r.set("frames_decoded", "not-run"),
    }
    if let Some((fed, n)) = decoded_all {
        r.set("all_frames_fed_to_decoder", fed);
        r.set("all_frames_decoded", n);
    }
    r.set_list("delivered_list", play.delivered.iter().map(|d| d.0));
    r.set_list("fed_list", &play.fed);
    r.emit("receiver", args.str("report").map(std::path::Path::new))
}
