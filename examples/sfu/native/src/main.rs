//! A native participant of the Janus videoroom demo (examples/sfu): not a browser, but str0m
//! (a Rust WebRTC stack) + sframe-core. It joins the same room through Janus's HTTP API,
//! publishes the VP8 frames of an IVF file (and Opus silence) encrypted with SFrame in the
//! browser package's codec layout, subscribes to every other publisher and decrypts them.
//!
//! ```text
//! sframe-sfu-native --server http://127.0.0.1:8090 --room 1234 --secret <room secret> \
//!                   --ivf test-vectors/tiny-vp8.ivf [--name native] [--participant N]
//!                   [--janus URL] [--bind 127.0.0.1] [--dump DIR] [--duration SECS]
//! ```
//!
//! `--server` is the demo page server (serve.mjs): its `/keys/` is the demo key service and
//! its `/janus` proxies Janus (or give Janus's own URL with `--janus`). stdin commands:
//! `report` prints a JSON line with everything measured; `quit` (or end of input) leaves the
//! room and prints a final report.

#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod at;
#[path = "../../../shared/ivf.rs"]
mod ivf;
mod janus;
mod keys;
mod layout;
mod peer;
mod report;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::media::{Direction, MediaKind};

use crate::at::At;
use crate::janus::Janus;
use crate::keys::SharedKeys;
use crate::peer::{Net, Publisher, Subscriber};
use crate::report::SharedStats;

const VIDEOROOM: &str = "janus.plugin.videoroom";

struct Args {
    server: String,
    janus: String,
    room: u64,
    secret: String,
    name: String,
    participant: Option<u32>,
    ivf: PathBuf,
    /// Our ICE host candidate's address (default: the address Janus uses, from /info).
    bind: Option<IpAddr>,
    dump: Option<PathBuf>,
    duration: Option<Duration>,
}

fn parse_args() -> Result<Args, String> {
    let mut m: BTreeMap<String, String> = BTreeMap::new();
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let key = k
            .strip_prefix("--")
            .ok_or_else(|| format!("unexpected argument {k}"))?;
        let v = it.next().ok_or_else(|| format!("--{key} needs a value"))?;
        m.insert(key.to_string(), v);
    }
    let get = |k: &str| m.get(k).cloned();
    let server = get("server").ok_or("--server URL is required")?;
    Ok(Args {
        janus: get("janus").unwrap_or_else(|| format!("{}/janus", server.trim_end_matches('/'))),
        room: get("room")
            .unwrap_or_else(|| "1234".into())
            .parse()
            .map_err(|_| "--room: a number")?,
        secret: get("secret")
            .ok_or("--secret is required (the room secret of the page's #fragment)")?,
        name: get("name").unwrap_or_else(|| "native".into()),
        participant: match get("participant") {
            Some(p) => Some(p.parse().map_err(|_| "--participant: a number")?),
            None => None,
        },
        ivf: get("ivf")
            .ok_or("--ivf FILE is required (VP8 in IVF)")?
            .into(),
        bind: match get("bind") {
            Some(b) => Some(b.parse().map_err(|_| "--bind: an IP address")?),
            None => None,
        },
        dump: get("dump").map(PathBuf::from),
        duration: match get("duration") {
            Some(d) => Some(
                d.parse()
                    .ok()
                    .and_then(|s| Duration::try_from_secs_f64(s).ok())
                    .ok_or("--duration: seconds (a non-negative number)")?,
            ),
            None => None,
        },
        server,
    })
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sframe-sfu-native: {e}");
            ExitCode::FAILURE
        }
    }
}

enum Command {
    Report,
    Quit,
}

fn stdin_commands() -> Receiver<Command> {
    let (tx, rx) = channel();
    let _ = thread::Builder::new().name("stdin".into()).spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let cmd = match line.as_deref().map(str::trim) {
                Ok("report") => Command::Report,
                Ok("quit") | Err(_) => Command::Quit,
                Ok(_) => continue,
            };
            let quit = matches!(cmd, Command::Quit);
            if tx.send(cmd).is_err() || quit {
                return;
            }
        }
        let _ = tx.send(Command::Quit);
    });
    rx
}

struct Participant {
    bind: IpAddr,
    args: Args,
    janus: Janus,
    me: u32,
    keys: SharedKeys,
    stats: SharedStats,
    ivf: Arc<ivf::Ivf>,
    feeds: BTreeMap<u64, (u64, Arc<AtomicBool>, JoinHandle<()>)>,
    threads: Vec<(Arc<AtomicBool>, JoinHandle<()>)>,
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let bytes = std::fs::read(&args.ivf).map_err(|e| format!("{}: {e}", args.ivf.display()))?;
    let ivf = ivf::parse(&bytes)?;
    if &ivf.fourcc != b"VP80" {
        return Err("the IVF file is not VP8".into());
    }
    for (i, f) in ivf.frames.iter().enumerate() {
        layout::check_vp8(f).map_err(|e| format!("IVF frame {i}: {e}"))?;
    }
    if let Some(d) = &args.dump {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let commands = stdin_commands();
    let keys: SharedKeys = Arc::new(Mutex::new(keys::KeyState::default()));
    let membership = keys::join(
        &args.server,
        args.room,
        &args.name,
        args.participant,
        args.secret.as_bytes().to_vec(),
        keys.clone(),
    )?;
    let me = membership.participant;
    eprintln!("native: participant {me} in room {}", args.room);
    let stats: SharedStats = Arc::new(Mutex::new(report::Stats {
        participant: me,
        ..Default::default()
    }));
    let janus = Janus::connect(&args.janus)?;
    // Janus (libnice) gathers no loopback candidates and its sockets cannot answer
    // 127.0.0.1, so our candidate is on the address Janus reports as its own.
    let bind = match args.bind {
        Some(ip) => ip,
        None => janus.local_ip().unwrap_or(IpAddr::from([127, 0, 0, 1])),
    };
    eprintln!("native: ICE host candidate on {bind}");
    let mut p = Participant {
        bind,
        args,
        janus,
        me,
        keys,
        stats,
        ivf: Arc::new(ivf),
        feeds: BTreeMap::new(),
        threads: Vec::new(),
    };
    let result = p.call(&commands);
    membership.leave(&p.keys);
    p.shutdown();
    println!("{}", p.report());
    result
}

impl Participant {
    fn report(&self) -> Value {
        let (epoch, removed) = {
            let k = keys::lock(&self.keys);
            (k.latest(), k.removed)
        };
        report::lock(&self.stats).json(epoch, removed)
    }

    fn call(&mut self, commands: &Receiver<Command>) -> Result<(), String> {
        let handle = self.janus.attach(VIDEOROOM)?;
        let joined = self.janus.request(
            handle,
            json!({ "request": "join", "ptype": "publisher", "room": self.args.room,
                    "id": self.me, "display": self.args.name }),
            None,
        )?;
        eprintln!(
            "native: joined room {} on Janus as feed {}",
            self.args.room, self.me
        );
        self.publish(handle)?;
        self.on_publishers(&joined.data);
        let end = self.args.duration.map(|d| Instant::now() + d);
        loop {
            match commands.try_recv() {
                Ok(Command::Report) => println!("{}", self.report()),
                Ok(Command::Quit) | Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    return Ok(());
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => {}
            }
            if end.is_some_and(|e| Instant::now() >= e) {
                return Ok(());
            }
            if let Some(ev) = self.janus.next_event(Duration::from_millis(100)) {
                self.on_event(&ev);
            }
        }
    }

    fn publish(&mut self, handle: u64) -> Result<(), String> {
        let mut net = Net::new(self.bind)?;
        let mut api = net.rtc.sdp_api();
        let stream = Some(format!("native-{}", self.me));
        let audio_mid = api.add_media(
            MediaKind::Audio,
            Direction::SendOnly,
            stream.clone(),
            Some("audio".into()),
            None,
        );
        let video_mid = api.add_media(
            MediaKind::Video,
            Direction::SendOnly,
            stream,
            Some("video".into()),
            None,
        );
        let (offer, pending) = api.apply().ok_or("no SDP changes")?;
        net.drain(&mut Vec::new())?;
        let reply = self.janus.request(
            handle,
            json!({ "request": "publish", "audio": true, "video": true, "display": self.args.name }),
            Some(json!({ "type": "offer", "sdp": offer.to_sdp_string(), "e2ee": true })),
        )?;
        let sdp = reply
            .jsep
            .as_ref()
            .and_then(|j| j.at("sdp").as_str())
            .ok_or("publish: no SDP answer")?;
        let answer = SdpAnswer::from_sdp_string(sdp).map_err(|e| format!("SDP answer: {e}"))?;
        net.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .map_err(|e| format!("accept answer: {e}"))?;
        net.drain(&mut Vec::new())?;
        let stop = Arc::new(AtomicBool::new(false));
        let publisher = Publisher {
            net,
            audio_mid,
            video_mid,
            ivf: self.ivf.clone(),
            participant: self.me,
            keys: self.keys.clone(),
            stats: self.stats.clone(),
            stop: stop.clone(),
        };
        let t = thread::Builder::new()
            .name("publisher".into())
            .spawn(move || publisher.run())
            .map_err(|e| e.to_string())?;
        self.threads.push((stop, t));
        eprintln!(
            "native: publishing VP8 {}x{} ({} frames looped) + Opus, SFrame-encrypted",
            self.ivf.width,
            self.ivf.height,
            self.ivf.frames.len()
        );
        Ok(())
    }

    fn on_publishers(&mut self, data: &Value) {
        for p in data.at("publishers").as_array().into_iter().flatten() {
            if let Some(id) = p.at("id").as_u64()
                && let Err(e) = self.subscribe(id)
            {
                eprintln!("native: subscribe to {id}: {e}");
                report::lock(&self.stats)
                    .errors
                    .push(format!("subscribe to {id}: {e}"));
            }
        }
    }

    fn on_event(&mut self, ev: &Value) {
        let data = &ev.at("plugindata").at("data");
        if data.is_object() {
            self.on_publishers(data);
            for key in ["unpublished", "leaving"] {
                if let Some(id) = data[key].as_u64() {
                    self.unsubscribe(id);
                }
            }
        }
    }

    fn subscribe(&mut self, feed: u64) -> Result<(), String> {
        if feed == u64::from(self.me) || self.feeds.contains_key(&feed) {
            return Ok(());
        }
        let handle = self.janus.attach(VIDEOROOM)?;
        let reply = self.janus.request(
            handle,
            json!({ "request": "join", "ptype": "subscriber", "room": self.args.room,
                    "streams": [{ "feed": feed }] }),
            None,
        )?;
        let sdp = reply
            .jsep
            .as_ref()
            .and_then(|j| j.at("sdp").as_str())
            .ok_or("subscribe: no SDP offer")?;
        let offer = SdpOffer::from_sdp_string(sdp).map_err(|e| format!("SDP offer: {e}"))?;
        let mut net = Net::new(self.bind)?;
        let answer = net
            .rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| format!("accept offer: {e}"))?;
        net.drain(&mut Vec::new())?;
        self.janus.request(
            handle,
            json!({ "request": "start", "room": self.args.room }),
            Some(json!({ "type": "answer", "sdp": answer.to_sdp_string(), "e2ee": true })),
        )?;
        let stop = Arc::new(AtomicBool::new(false));
        let sub = Subscriber {
            net,
            feed,
            keys: self.keys.clone(),
            stats: self.stats.clone(),
            stop: stop.clone(),
            dump: self.args.dump.clone(),
        };
        report::lock(&self.stats).feeds.entry(feed).or_default();
        let t = thread::Builder::new()
            .name(format!("feed-{feed}"))
            .spawn(move || sub.run())
            .map_err(|e| e.to_string())?;
        self.feeds.insert(feed, (handle, stop, t));
        eprintln!("native: subscribed to feed {feed}");
        Ok(())
    }

    fn unsubscribe(&mut self, feed: u64) {
        if let Some((handle, stop, t)) = self.feeds.remove(&feed) {
            stop.store(true, Ordering::Relaxed);
            let _ = t.join();
            self.janus.detach(handle);
            eprintln!("native: feed {feed} left");
        }
    }

    fn shutdown(&mut self) {
        for (_, (_, stop, _)) in self.feeds.iter() {
            stop.store(true, Ordering::Relaxed);
        }
        for (stop, _) in &self.threads {
            stop.store(true, Ordering::Relaxed);
        }
        for (_, (_, _, t)) in std::mem::take(&mut self.feeds) {
            let _ = t.join();
        }
        for (_, t) in std::mem::take(&mut self.threads) {
            let _ = t.join();
        }
        self.janus.destroy();
    }
}
