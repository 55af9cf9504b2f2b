//! One str0m `Rtc` per Janus PeerConnection, each driven by its own thread over its own UDP
//! socket (str0m is sans-IO: we feed it packets and timeouts and send what it outputs).
//!
//! * The publisher sends the VP8 frames of an IVF file (looped, real libvpx output) and Opus
//!   silence frames, each SFrame-protected with the browser package's codec layout under its
//!   own KID (`Sender::set_mls_key` with the track as the KID's context field).
//! * Each subscriber receives one remote feed and decrypts it (`Receiver::add_mls_epoch`),
//!   counting frames, errors by code, KIDs, and checking the decrypted codec headers.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sframe_core::mls::{DEFAULT_MLS_EPOCHS_KEPT, MlsKidLayout};
use sframe_core::{CipherSuite, Header, Receiver, ReceiverConfig, Sender};
use str0m::format::Codec as RtcCodec;
use str0m::media::{Frequency, MediaData, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};

use crate::ivf::{Ivf, IvfWriter};
use crate::keys::{self, SharedKeys};
use crate::layout::{self, Codec};
use crate::report::{self, SharedStats, TrackIn};

pub const SUITE: CipherSuite = CipherSuite::AesGcm128Sha256;
/// The KID scheme of sframe-wasm/README.md: E = 4 epoch bits, S = 6 participant bits, the
/// track (audio 0, video 1) in the context field.
pub const EPOCH_BITS: u8 = 4;
pub const PARTICIPANT_BITS: u8 = 6;
pub const AUDIO: u64 = 0;
pub const VIDEO: u64 = 1;
/// The most common Opus packet: one 20 ms CELT frame of silence (TOC 0xf8, code 0).
pub const OPUS_SILENCE: [u8; 3] = [0xf8, 0xff, 0xfe];
const AUDIO_FRAME: Duration = Duration::from_millis(20);
const POLL: Duration = Duration::from_millis(20);

pub fn track_layout(track: u64) -> Result<MlsKidLayout, String> {
    MlsKidLayout::new(EPOCH_BITS, PARTICIPANT_BITS)
        .and_then(|l| l.with_context(track))
        .map_err(|e| format!("KID layout: {}", e.code()))
}

/// An `Rtc` and its socket.
pub struct Net {
    pub rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    buf: Vec<u8>,
}

impl Net {
    pub fn new(ip: IpAddr) -> Result<Net, String> {
        let socket =
            UdpSocket::bind(SocketAddr::new(ip, 0)).map_err(|e| format!("udp bind: {e}"))?;
        let local = socket.local_addr().map_err(|e| e.to_string())?;
        let mut rtc = Rtc::builder().build(Instant::now());
        let c = Candidate::host(local, "udp").map_err(|e| format!("candidate: {e}"))?;
        rtc.add_local_candidate(c);
        Ok(Net {
            rtc,
            socket,
            local,
            buf: vec![0; 2000],
        })
    }

    /// Drains str0m's output until its next timeout: sends packets, collects events.
    pub fn drain(&mut self, events: &mut Vec<Event>) -> Result<Instant, String> {
        loop {
            match self.rtc.poll_output().map_err(|e| format!("rtc: {e}"))? {
                Output::Timeout(t) => return Ok(t),
                Output::Transmit(t) => {
                    if let Err(e) = self.socket.send_to(&t.contents, t.destination) {
                        eprintln!("native: send to {}: {e}", t.destination);
                    }
                }
                Output::Event(e) => events.push(e),
            }
        }
    }

    /// Waits for one packet until `deadline` and feeds it (or the timeout) to str0m.
    /// Packets str0m cannot classify are dropped.
    pub fn wait(&mut self, deadline: Instant) -> Result<(), String> {
        let now = Instant::now();
        let wait = deadline.saturating_duration_since(now);
        if wait.is_zero() {
            return self.timeout();
        }
        self.socket
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))))
            .map_err(|e| e.to_string())?;
        self.buf.resize(2000, 0);
        match self.socket.recv_from(&mut self.buf) {
            Ok((n, source)) => {
                let Some(bytes) = self.buf.get(..n) else {
                    return Ok(());
                };
                let Ok(contents) = bytes.try_into() else {
                    return Ok(()); // not STUN, DTLS, RTP or RTCP
                };
                let input = Input::Receive(
                    Instant::now(),
                    Receive {
                        proto: Protocol::Udp,
                        source,
                        destination: self.local,
                        contents,
                    },
                );
                self.rtc
                    .handle_input(input)
                    .map_err(|e| format!("rtc: {e}"))
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                self.timeout()
            }
            Err(e) => Err(format!("udp: {e}")),
        }
    }

    fn timeout(&mut self) -> Result<(), String> {
        self.rtc
            .handle_input(Input::Timeout(Instant::now()))
            .map_err(|e| format!("rtc: {e}"))
    }
}

pub struct Publisher {
    pub net: Net,
    pub audio_mid: Mid,
    pub video_mid: Mid,
    pub ivf: Arc<Ivf>,
    pub participant: u32,
    pub keys: SharedKeys,
    pub stats: SharedStats,
    pub stop: Arc<AtomicBool>,
}

struct OutTrack {
    kind: u64,
    mid: Mid,
    codec: RtcCodec,
    sender: Sender,
    next: Instant,
    rtp: u64,
}

impl Publisher {
    pub fn run(mut self) {
        if let Err(e) = self.run_inner() {
            eprintln!("native: publisher: {e}");
            report::lock(&self.stats)
                .errors
                .push(format!("publisher: {e}"));
        }
    }

    fn run_inner(&mut self) -> Result<(), String> {
        let video_frame = self.ivf.frame_interval();
        let video_ticks = (video_frame.as_secs_f64() * 90_000.0).round() as u64;
        let now = Instant::now();
        let mut tracks = [
            OutTrack {
                kind: AUDIO,
                mid: self.audio_mid,
                codec: RtcCodec::Opus,
                sender: Sender::new(SUITE),
                next: now,
                rtp: 0,
            },
            OutTrack {
                kind: VIDEO,
                mid: self.video_mid,
                codec: RtcCodec::Vp8,
                sender: Sender::new(SUITE),
                next: now,
                rtp: 0,
            },
        ];
        let mut send_epoch = None;
        let mut connected = false;
        let mut frame_index = 0usize;
        let mut events = Vec::new();
        let mut timeout = self.net.drain(&mut events)?;
        while !self.stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            // Keys: switch both encrypters to the epoch in force (one KID per track).
            let sending = keys::lock(&self.keys).sending(now);
            if let Some((epoch, secret)) = sending
                && send_epoch != Some(epoch)
            {
                for t in &mut tracks {
                    let layout = track_layout(t.kind)?;
                    if let Err(e) =
                        t.sender
                            .set_mls_key(&layout, secret.as_ref(), epoch, self.participant)
                    {
                        eprintln!("native: set_mls_key: {}", e.code());
                    }
                }
                send_epoch = Some(epoch);
            }
            for t in &mut tracks {
                if !connected || now < t.next {
                    continue;
                }
                let frame: &[u8] = if t.kind == VIDEO {
                    let n = self.ivf.frames.len().max(1);
                    self.ivf
                        .frames
                        .get(frame_index % n)
                        .map_or(&[], |f| f.as_slice())
                } else {
                    &OPUS_SILENCE
                };
                let codec = if t.kind == VIDEO {
                    Codec::Vp8
                } else {
                    Codec::Opus
                };
                let (step, ticks, clock) = if t.kind == VIDEO {
                    (video_frame, video_ticks, Frequency::NINETY_KHZ)
                } else {
                    (AUDIO_FRAME, 960, Frequency::FORTY_EIGHT_KHZ)
                };
                let kid_ctr = (t.sender.key_id(), t.sender.next_counter());
                match layout::protect(codec, &mut t.sender, frame) {
                    Ok(protected) => {
                        let pt = self.net.rtc.writer(t.mid).and_then(|w| {
                            w.payload_params()
                                .find(|p| p.spec().codec == t.codec)
                                .map(|p| p.pt())
                        });
                        if let (Some(pt), Some(w)) = (pt, self.net.rtc.writer(t.mid)) {
                            w.write(pt, now, MediaTime::new(t.rtp, clock), protected)
                                .map_err(|e| format!("write: {e}"))?;
                            let mut s = report::lock(&self.stats);
                            let out = if t.kind == VIDEO {
                                &mut s.video
                            } else {
                                &mut s.audio
                            };
                            if let (Some(kid), Some(ctr)) = kid_ctr {
                                out.record(kid, ctr);
                            }
                        }
                        timeout = self.net.drain(&mut events)?;
                    }
                    Err(e) => {
                        let mut s = report::lock(&self.stats);
                        let out = if t.kind == VIDEO {
                            &mut s.video
                        } else {
                            &mut s.audio
                        };
                        *out.refused.entry(e.0).or_default() += 1;
                    }
                }
                if t.kind == VIDEO {
                    frame_index += 1;
                }
                t.rtp += ticks;
                t.next += step;
                if t.next + Duration::from_secs(1) < now {
                    t.next = now; // fell far behind (machine busy): do not burst
                }
            }
            for e in events.drain(..) {
                match e {
                    Event::Connected => {
                        connected = true;
                        report::lock(&self.stats).connected = true;
                        eprintln!("native: publisher connected");
                    }
                    Event::KeyframeRequest(_) => report::lock(&self.stats).keyframe_requests += 1,
                    Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                        return Err("ICE disconnected".into());
                    }
                    _ => {}
                }
            }
            let next_media = tracks.iter().map(|t| t.next).min().unwrap_or(now + POLL);
            let deadline =
                timeout
                    .min(now + POLL)
                    .min(if connected { next_media } else { now + POLL });
            self.net.wait(deadline)?;
            timeout = self.net.drain(&mut events)?;
        }
        Ok(())
    }
}

pub struct Subscriber {
    pub net: Net,
    pub feed: u64,
    pub keys: SharedKeys,
    pub stats: SharedStats,
    pub stop: Arc<AtomicBool>,
    pub dump: Option<PathBuf>,
}

struct InTrack {
    receiver: Receiver,
}

/// The decrypted VP8 of a feed as an IVF file a decoder can play: after a gap (frames lost
/// on the way or not decrypted) it resumes at the next key frame.
struct Dump {
    writer: IvfWriter,
    wait_key: bool,
}

impl Subscriber {
    pub fn run(mut self) {
        let result = self.run_inner();
        let mut s = report::lock(&self.stats);
        if let Err(e) = result {
            eprintln!("native: feed {}: {e}", self.feed);
            s.errors.push(format!("feed {}: {e}", self.feed));
        }
        s.feeds.entry(self.feed).or_default().ended = true;
    }

    fn run_inner(&mut self) -> Result<(), String> {
        let mut tracks = Vec::new();
        for kind in [AUDIO, VIDEO] {
            let config = ReceiverConfig::new(SUITE)
                .with_mls(track_layout(kind)?, DEFAULT_MLS_EPOCHS_KEPT)
                .map_err(|e| e.to_string())?;
            let receiver = Receiver::with_config(config);
            tracks.push(InTrack { receiver });
        }
        let mut applied: BTreeSet<u64> = BTreeSet::new();
        let mut dump = match &self.dump {
            Some(dir) => Some(Dump {
                writer: IvfWriter::create(&dir.join(format!("feed-{}.ivf", self.feed)), 0, 0)
                    .map_err(|e| format!("dump: {e}"))?,
                wait_key: true,
            }),
            None => None,
        };
        let mut events = Vec::new();
        let mut timeout = self.net.drain(&mut events)?;
        while !self.stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            // Keys: the epochs in force, each added once; retired ones removed.
            let kept = keys::lock(&self.keys).kept(now);
            let kept_ids: BTreeSet<u64> = kept.iter().map(|(e, _)| *e).collect();
            for (epoch, secret) in &kept {
                if applied.insert(*epoch) {
                    for t in &mut tracks {
                        if let Err(e) = t.receiver.add_mls_epoch(*epoch, secret.as_ref()) {
                            eprintln!("native: add_mls_epoch: {}", e.code());
                        }
                    }
                }
            }
            for old in applied.difference(&kept_ids).copied().collect::<Vec<_>>() {
                applied.remove(&old);
                for t in &mut tracks {
                    t.receiver.remove_mls_epoch(old);
                }
            }
            for e in events.drain(..) {
                match e {
                    Event::Connected => {
                        report::lock(&self.stats)
                            .feeds
                            .entry(self.feed)
                            .or_default()
                            .connected = true;
                        eprintln!("native: feed {} connected", self.feed);
                    }
                    Event::MediaData(d) => self.on_media(&d, &mut tracks, dump.as_mut()),
                    Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                        return Err("ICE disconnected".into());
                    }
                    _ => {}
                }
            }
            self.net.wait(timeout.min(now + POLL))?;
            timeout = self.net.drain(&mut events)?;
        }
        if let Some(d) = dump {
            d.writer.finish().map_err(|e| format!("dump: {e}"))?;
        }
        Ok(())
    }

    fn on_media(&self, d: &MediaData, tracks: &mut [InTrack], mut dump: Option<&mut Dump>) {
        let (codec, index) = match d.params.spec().codec {
            RtcCodec::Vp8 => (Codec::Vp8, 1),
            RtcCodec::Opus => (Codec::Opus, 0),
            _ => return,
        };
        let Some(track) = tracks.get_mut(index) else {
            return;
        };
        let data: &[u8] = &d.data;
        let kid = layout::split_protected(codec, data)
            .ok()
            .and_then(|(_, sframe)| Header::parse(sframe).ok())
            .map(|(h, _)| h.key_id());
        let result = layout::unprotect(codec, &mut track.receiver, data);
        if codec == Codec::Vp8
            && (!d.contiguous || result.is_err())
            && let Some(w) = dump.as_deref_mut()
        {
            w.wait_key = true;
        }
        let mut s = report::lock(&self.stats);
        let feed = s.feeds.entry(self.feed).or_default();
        let t: &mut TrackIn = if codec == Codec::Vp8 {
            &mut feed.video
        } else {
            &mut feed.audio
        };
        t.frames += 1;
        if let Some(k) = kid {
            *t.wire_kids.entry(k).or_default() += 1;
        }
        match result {
            Ok(frame) => {
                t.decrypted += 1;
                if let Some(k) = kid {
                    *t.kids.entry(k).or_default() += 1;
                }
                match codec {
                    Codec::Vp8 => match layout::check_vp8(&frame) {
                        Ok(info) => {
                            t.valid += 1;
                            if info.key_frame {
                                t.key_frames += 1;
                                t.width = info.width;
                                t.height = info.height;
                            }
                            if let Some(w) = dump {
                                w.wait_key &= !info.key_frame;
                                if !w.wait_key
                                    && let Err(e) = w.writer.write(d.time.numer(), &frame)
                                {
                                    eprintln!("native: dump: {e}");
                                }
                            }
                        }
                        Err(_) => {
                            t.invalid += 1;
                            if let Some(w) = dump {
                                w.wait_key = true;
                            }
                        }
                    },
                    Codec::Opus => match layout::check_opus(&frame) {
                        Ok(()) => t.valid += 1,
                        Err(_) => t.invalid += 1,
                    },
                }
            }
            Err(e) => *t.errors.entry(e.0).or_default() += 1,
        }
    }
}
