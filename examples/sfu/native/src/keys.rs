//! Client of the DEMO key service (`examples/sfu/keyservice.mjs`) — membership and epochs,
//! not a real key exchange. The service gives members, per epoch, a random nonce; the epoch's
//! SFrame base key is derived here from the room secret, exactly as the page does:
//!
//! ```text
//! epoch_secret(e) = HKDF-SHA256(ikm = room secret, salt = nonce(e), info = "sframe-sfu-demo epoch <e>", 16 bytes)
//! ```
//!
//! That secret plays the role of RFC 9605 §5.2's `MLS-Exporter("SFrame 1.0 Base Key", "", 16)`:
//! the participant hands it to `Sender::set_mls_key` and `Receiver::add_mls_epoch` — with a
//! real MLS group, the exporter output goes to the same two calls.

use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use hkdf::Hkdf;
use serde_json::{Value, json};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::at::At;

/// Encrypters switch to a new epoch this long after receiving it (members add it first).
pub const SWITCH_DELAY: Duration = Duration::from_millis(1000);
/// Decrypters keep an older epoch this long after a newer one arrived (frames in flight).
pub const RETIRE_DELAY: Duration = Duration::from_millis(4000);
/// Bytes of an epoch secret: `Nk` of AES-128-GCM.
pub const SECRET_LEN: usize = 16;

pub type Secret = Zeroizing<[u8; SECRET_LEN]>;

pub fn derive_epoch_secret(room_secret: &[u8], nonce: &[u8], epoch: u64) -> Result<Secret, String> {
    let info = format!("sframe-sfu-demo epoch {epoch}");
    let mut okm = Zeroizing::new([0u8; SECRET_LEN]);
    Hkdf::<Sha256>::new(Some(nonce), room_secret)
        .expand(info.as_bytes(), okm.as_mut())
        .map_err(|_| "HKDF output length".to_string())?;
    Ok(okm)
}

struct Epoch {
    epoch: u64,
    secret: Secret,
    received: Instant,
}

/// What every media thread reads: the epochs received, when, and whether we were removed.
#[derive(Default)]
pub struct KeyState {
    epochs: Vec<Epoch>,
    pub removed: bool,
    /// We left on our own (the service then refuses our polls: not a removal).
    pub left: bool,
    pub members: Vec<u32>,
}

impl KeyState {
    pub fn latest(&self) -> Option<u64> {
        self.epochs.last().map(|e| e.epoch)
    }

    /// Epochs decrypters keep at `now`: the latest, and older ones until RETIRE_DELAY after
    /// the next one arrived.
    pub fn kept(&self, now: Instant) -> Vec<(u64, Secret)> {
        let mut out = Vec::new();
        for (i, e) in self.epochs.iter().enumerate() {
            let keep = match self.epochs.get(i + 1) {
                None => true,
                Some(next) => now.saturating_duration_since(next.received) < RETIRE_DELAY,
            };
            if keep {
                out.push((e.epoch, e.secret.clone()));
            }
        }
        out
    }

    /// The epoch encrypters use at `now`: the latest one once SWITCH_DELAY has passed, else
    /// the one before it.
    pub fn sending(&self, now: Instant) -> Option<(u64, Secret)> {
        self.epochs
            .iter()
            .rev()
            .find(|e| now.saturating_duration_since(e.received) >= SWITCH_DELAY)
            .map(|e| (e.epoch, e.secret.clone()))
    }

    fn push(&mut self, epoch: u64, secret: Secret, received: Instant) {
        self.epochs.push(Epoch {
            epoch,
            secret,
            received,
        });
        // Old epochs are long retired: keep the list short.
        if self.epochs.len() > 8 {
            self.epochs.remove(0);
        }
    }
}

pub type SharedKeys = Arc<Mutex<KeyState>>;

pub fn lock(keys: &SharedKeys) -> std::sync::MutexGuard<'_, KeyState> {
    keys.lock().unwrap_or_else(PoisonError::into_inner)
}

pub struct Membership {
    pub participant: u32,
    token: String,
    base: String,
}

fn body_json(
    resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<(u16, Value), String> {
    match resp {
        Ok(mut r) => {
            let status = r.status().as_u16();
            let v: Value = r
                .body_mut()
                .read_json()
                .map_err(|e| format!("key service: {e}"))?;
            Ok((status, v))
        }
        Err(e) => Err(format!("key service: {e}")),
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(40)))
        .build()
        .into()
}

/// Joins the room's key group; then polls for epochs in a thread, updating `keys`.
pub fn join(
    server: &str,
    room: u64,
    name: &str,
    participant: Option<u32>,
    room_secret: Vec<u8>,
    keys: SharedKeys,
) -> Result<Membership, String> {
    let base = format!("{}/keys/{room}", server.trim_end_matches('/'));
    let body = json!({ "name": name, "participant": participant });
    let (status, v) = body_json(agent().post(&format!("{base}/join")).send_json(&body))?;
    if status != 200 {
        return Err(format!("key service refused the join ({status}): {v}"));
    }
    let participant = v
        .at("participant")
        .as_u64()
        .and_then(|p| u32::try_from(p).ok())
        .filter(|&p| p < 64)
        .ok_or("key service: no participant number")?;
    let token = v
        .at("token")
        .as_str()
        .ok_or("key service: no token")?
        .to_string();
    let m = Membership {
        participant,
        token,
        base,
    };
    let (base, token) = (m.base.clone(), m.token.clone());
    thread::Builder::new()
        .name("keys".into())
        .spawn(move || poll(&base, participant, &token, &room_secret, &keys))
        .map_err(|e| e.to_string())?;
    Ok(m)
}

fn poll(base: &str, participant: u32, token: &str, room_secret: &[u8], keys: &SharedKeys) {
    let agent = agent();
    let mut since = 0u64;
    loop {
        let url = format!("{base}/poll?participant={participant}&token={token}&since={since}");
        let (status, v) = match body_json(agent.get(&url).call()) {
            Ok(x) => x,
            Err(e) => {
                eprintln!("native: {e}");
                thread::sleep(Duration::from_secs(1));
                continue;
            }
        };
        if status == 403 {
            let mut k = lock(keys);
            if !k.left {
                eprintln!("native: removed from the key group: no more keys");
                k.removed = true;
            }
            return;
        }
        let (Some(epoch), Some(nonce)) = (v.at("epoch").as_u64(), v.at("nonce").as_str()) else {
            continue;
        };
        if epoch <= since {
            continue;
        }
        let Some(nonce) = hex(nonce) else {
            eprintln!("native: key service sent a bad nonce");
            continue;
        };
        match derive_epoch_secret(room_secret, &nonce, epoch) {
            Ok(secret) => {
                let mut k = lock(keys);
                k.members = v
                    .at("members")
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|m| m.at("participant").as_u64())
                            .filter_map(|p| u32::try_from(p).ok())
                            .collect()
                    })
                    .unwrap_or_default();
                k.push(epoch, secret, Instant::now());
                eprintln!("native: epoch {epoch}, members {:?}", k.members);
            }
            Err(e) => eprintln!("native: {e}"),
        }
        since = epoch;
    }
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

impl Membership {
    /// Leaves the key group (the others rotate without us).
    pub fn leave(&self, keys: &SharedKeys) {
        lock(keys).left = true;
        let body = json!({ "participant": self.participant, "token": self.token });
        let _ = agent()
            .post(&format!("{}/leave", self.base))
            .send_json(&body);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn epoch_secret_matches_webcrypto() {
        // Same inputs as examples/sfu/keys.js (crypto.subtle HKDF SHA-256, 128 bits); the
        // expected value was computed with Node's WebCrypto:
        //   deriveBits({name:'HKDF',hash:'SHA-256',salt:<00..0f>,info:'sframe-sfu-demo epoch 3'}, 'room secret', 128)
        let nonce: Vec<u8> = (0u8..16).collect();
        let s = derive_epoch_secret(b"room secret", &nonce, 3).unwrap();
        assert_eq!(hex_of(s.as_ref()), EXPECTED_EPOCH_3);
    }

    fn hex_of(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    const EXPECTED_EPOCH_3: &str = "283d5443fc4d97711c891f6b3a5c2919";

    #[test]
    fn switches_after_delay_and_retires_after_delay() {
        let mut k = KeyState::default();
        let t0 = Instant::now();
        k.push(1, Zeroizing::new([1; 16]), t0);
        assert!(k.sending(t0).is_none());
        assert_eq!(k.sending(t0 + SWITCH_DELAY).map(|x| x.0), Some(1));
        let t1 = t0 + Duration::from_secs(10);
        k.push(2, Zeroizing::new([2; 16]), t1);
        assert_eq!(k.sending(t1).map(|x| x.0), Some(1));
        assert_eq!(k.sending(t1 + SWITCH_DELAY).map(|x| x.0), Some(2));
        let kept: Vec<u64> = k.kept(t1).iter().map(|x| x.0).collect();
        assert_eq!(kept, vec![1, 2]);
        let kept: Vec<u64> = k.kept(t1 + RETIRE_DELAY).iter().map(|x| x.0).collect();
        assert_eq!(kept, vec![2]);
    }

    #[test]
    fn hex_nonce() {
        assert_eq!(hex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(hex("0"), None);
        assert_eq!(hex("zz"), None);
    }
}
