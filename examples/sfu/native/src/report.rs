//! What the participant measured, printed as one JSON line per `report` command.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::{Value, json};

#[derive(Default)]
pub struct TrackIn {
    /// Frames handed over by str0m (depacketized).
    pub frames: u64,
    pub decrypted: u64,
    /// Decrypted frames whose codec header checks out (VP8 frame tag / key-frame start code,
    /// Opus framing) and those where it does not.
    pub valid: u64,
    pub invalid: u64,
    pub key_frames: u64,
    pub width: u16,
    pub height: u16,
    /// Frames that did not decrypt, by sframe-core error code.
    pub errors: BTreeMap<&'static str, u64>,
    /// Decrypted frames by KID, and SFrame headers seen on the wire by KID.
    pub kids: BTreeMap<u64, u64>,
    pub wire_kids: BTreeMap<u64, u64>,
}

impl TrackIn {
    fn json(&self) -> Value {
        json!({
            "frames": self.frames,
            "decrypted": self.decrypted,
            "valid": self.valid,
            "invalid": self.invalid,
            "keyFrames": self.key_frames,
            "width": self.width,
            "height": self.height,
            "errors": self.errors,
            "kids": self.kids.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "wireKids": self.wire_kids.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
        })
    }
}

#[derive(Default)]
pub struct Feed {
    pub connected: bool,
    pub ended: bool,
    pub video: TrackIn,
    pub audio: TrackIn,
}

#[derive(Default)]
pub struct TrackOut {
    pub sent: u64,
    pub refused: BTreeMap<&'static str, u64>,
    pub kids: BTreeMap<u64, u64>,
    /// Every (KID, CTR) this sender put on the wire, to prove none repeats.
    pub seen: BTreeSet<(u64, u64)>,
    pub duplicates: u64,
}

impl TrackOut {
    pub fn record(&mut self, kid: u64, ctr: u64) {
        self.sent += 1;
        *self.kids.entry(kid).or_default() += 1;
        if !self.seen.insert((kid, ctr)) {
            self.duplicates += 1;
        }
    }

    fn json(&self) -> Value {
        json!({
            "sent": self.sent,
            "refused": self.refused,
            "kids": self.kids.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "distinct": self.seen.len(),
            "duplicates": self.duplicates,
        })
    }
}

#[derive(Default)]
pub struct Stats {
    pub participant: u32,
    pub connected: bool,
    pub keyframe_requests: u64,
    pub video: TrackOut,
    pub audio: TrackOut,
    pub feeds: BTreeMap<u64, Feed>,
    pub errors: Vec<String>,
}

pub type SharedStats = Arc<Mutex<Stats>>;

pub fn lock(s: &SharedStats) -> MutexGuard<'_, Stats> {
    s.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Stats {
    pub fn json(&self, epoch: Option<u64>, removed: bool) -> Value {
        json!({
            "participant": self.participant,
            "epoch": epoch,
            "removed": removed,
            "publisher": {
                "connected": self.connected,
                "keyframeRequests": self.keyframe_requests,
                "video": self.video.json(),
                "audio": self.audio.json(),
            },
            "feeds": self.feeds.iter().map(|(id, f)| (id.to_string(), json!({
                "connected": f.connected,
                "ended": f.ended,
                "video": f.video.json(),
                "audio": f.audio.json(),
            }))).collect::<BTreeMap<_, _>>(),
            "errors": self.errors,
        })
    }
}
