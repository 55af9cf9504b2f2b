//! SFrame RTP sessions for JavaScript: thin shells over `sframe_core::rtp::session`
//! (draft-ietf-avtcore-rtp-sframe §5 packetization / depacketization, §7 per-SSRC keys, §8
//! ratcheting with them; RFC 9605 §4.4.4 frames waiting for their key).
//!
//! * `RtpSendStream` — one SSRC's sender: `sframe_core::rtp::session::SendStream`;
//! * `RtpReceiveSession` — RTP packets of any SSRC in, events out:
//!   `sframe_core::rtp::session::BoxedReceiveSession` with the capacities below.
//!
//! JavaScript uses them through `js/rtp-session.js` (`SFrameSendStream`,
//! `SFrameReceiveSession`). Everything here converts types and errors; the session logic
//! (keys, reassembly, waiting, bounds, counters) is the core's.

use js_sys::{Array, Object, Reflect, Uint8Array};
use sframe_core::ratchet::{Generation, RatchetLayout};
use sframe_core::rtp::Mode;
use sframe_core::rtp::session::{
    BoxedReceiveSession, Event, Failures, KidCounters, KidStats, SendConfig, SendStream,
    SessionConfig, StreamStats,
};
use sframe_core::{CipherSuite, ReceiverConfig};
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

use crate::convert::{bytes, key_id, suite};
use crate::error::{JsResult, core_error, range_error, type_error};
use crate::set;

/// Packets one stream's depacketizer holds (§5.2).
pub const SESSION_PACKETS: usize = 512;
/// Payload bytes one stream's depacketizer holds: the largest frame a session reassembles.
pub const SESSION_BYTES: usize = 512 * 1024;
/// Frames one stream keeps while they wait for their key (RFC 9605 §4.4.4).
pub const SESSION_WAIT_FRAMES: usize = 64;
/// Bytes of the frames one stream keeps waiting for their key.
pub const SESSION_WAIT_BYTES: usize = 512 * 1024;
/// KIDs a session's table holds (keys in use and removed KIDs remembered).
pub const SESSION_KIDS: usize = 16;
/// Most streams (SSRCs) a session may be made with: each costs about 1 MiB of wasm memory.
pub const MAX_SESSION_STREAMS: u32 = 64;

type Session = BoxedReceiveSession<
    SESSION_PACKETS,
    SESSION_BYTES,
    SESSION_WAIT_FRAMES,
    SESSION_WAIT_BYTES,
    SESSION_KIDS,
>;

fn get(options: &JsValue, name: &str) -> JsResult<JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(JsValue::UNDEFINED);
    }
    Reflect::get(options, &JsValue::from_str(name))
}

fn integer(v: &JsValue, name: &str, min: f64, max: f64) -> JsResult<f64> {
    v.as_f64()
        .filter(|n| n.fract() == 0.0 && *n >= min && *n <= max)
        .ok_or_else(|| range_error(&format!("{name} must be an integer in {min}..{max}")))
}

fn optional_integer(options: &JsValue, name: &str, min: f64, max: f64) -> JsResult<Option<f64>> {
    let v = get(options, name)?;
    if v.is_undefined() {
        return Ok(None);
    }
    integer(&v, name, min, max).map(Some)
}

fn optional_bool(options: &JsValue, name: &str) -> JsResult<Option<bool>> {
    let v = get(options, name)?;
    if v.is_undefined() {
        return Ok(None);
    }
    v.as_bool()
        .map(Some)
        .ok_or_else(|| type_error(&format!("{name} must be a boolean")))
}

fn required_suite(options: &JsValue) -> JsResult<CipherSuite> {
    let v = get(options, "cipherSuite")?;
    if v.is_undefined() {
        return Err(type_error("options.cipherSuite is required"));
    }
    suite(&v)
}

fn now(v: &JsValue) -> JsResult<u64> {
    if v.is_undefined() || v.is_null() {
        return Ok(0);
    }
    let n = v
        .as_f64()
        .filter(|n| n.is_finite() && *n >= 0.0)
        .ok_or_else(|| range_error("nowMs must be a non-negative number"))?;
    Ok(n as u64)
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::PerFrame => "per-frame",
        Mode::PerPacket => "per-packet",
    }
}

fn num(n: u64) -> JsValue {
    JsValue::from_f64(n as f64)
}

fn obj(fields: &[(&str, JsValue)]) -> JsResult<JsValue> {
    let out = Object::new();
    for (name, value) in fields {
        set(&out, name, value.clone())?;
    }
    Ok(out.into())
}

// ---------------------------------------------------------------------------------------------
// Send
// ---------------------------------------------------------------------------------------------

/// One SSRC's sending side (draft §5.1, §7, §8): wraps `sframe_core::rtp::session::SendStream`.
#[wasm_bindgen]
pub struct RtpSendStream {
    inner: SendStream,
    buf: Vec<u8>,
}

#[wasm_bindgen]
impl RtpSendStream {
    /// `new RtpSendStream({ cipherSuite, ssrc, payloadType, maxPayloadLength, mode?,
    /// perSsrcKeys?, firstSequence? })`. `mode`: `"per-frame"` (default) or `"per-packet"`.
    /// Throws `"invalid_config"` for a payload type over 127 or a `maxPayloadLength` that
    /// cannot hold a descriptor and a byte.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "import('../index.js').SFrameSendStreamOptions")]
        options: &JsValue,
    ) -> JsResult<RtpSendStream> {
        let suite = required_suite(options)?;
        let ssrc = integer(&get(options, "ssrc")?, "ssrc", 0.0, f64::from(u32::MAX))? as u32;
        let pt = integer(&get(options, "payloadType")?, "payloadType", 0.0, 255.0)? as u8;
        let max = integer(
            &get(options, "maxPayloadLength")?,
            "maxPayloadLength",
            0.0,
            65_535.0,
        )? as usize;
        let mut config = SendConfig::new(suite, ssrc, pt, max);
        match get(options, "mode")?.as_string().as_deref() {
            None | Some("per-frame") => {}
            Some("per-packet") => config = config.with_mode(Mode::PerPacket),
            Some(_) => return Err(type_error(r#"mode must be "per-frame" or "per-packet""#)),
        }
        if let Some(on) = optional_bool(options, "perSsrcKeys")? {
            config = config.with_per_ssrc_keys(on);
        }
        if let Some(seq) = optional_integer(options, "firstSequence", 0.0, 65_535.0)? {
            config = config.with_first_sequence(seq as u16);
        }
        Ok(RtpSendStream {
            inner: SendStream::new(config).map_err(core_error)?,
            buf: Vec::new(),
        })
    }

    /// Makes `keyId` with `baseKey` the current key (with per-SSRC keys, the stream's §7 key
    /// is derived from it first). Counter rules as `Sender.setKey`.
    #[wasm_bindgen(js_name = setKey)]
    pub fn set_key(
        &mut self,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
        #[wasm_bindgen(js_name = baseKey, unchecked_param_type = "ArrayBuffer | ArrayBufferView")]
        base_key: &JsValue,
    ) -> JsResult<()> {
        let kid = key_id(kid)?;
        let key = Zeroizing::new(bytes(base_key, "baseKey")?);
        self.inner.set_key(kid, &key).map_err(core_error)
    }

    /// Installs a key derived elsewhere (WebCrypto, from a base key that stays
    /// non-extractable): `sframeKey` (`Nk` bytes) and `sframeSalt` (12) of `keyId` (§4.4.2),
    /// derived from this stream's §7 key with per-SSRC keys. Counter rules as `setKey`.
    #[wasm_bindgen(js_name = setDerivedKey)]
    pub fn set_derived_key(
        &mut self,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
        #[wasm_bindgen(js_name = sframeKey, unchecked_param_type = "ArrayBuffer | ArrayBufferView")]
        sframe_key: &JsValue,
        #[wasm_bindgen(js_name = sframeSalt, unchecked_param_type = "ArrayBuffer | ArrayBufferView")]
        sframe_salt: &JsValue,
    ) -> JsResult<()> {
        let key = crate::derived_key(self.inner.config().suite, kid, sframe_key, sframe_salt)?;
        self.inner.set_derived_key(key).map_err(core_error)
    }

    /// Starts a §5.1 ratchet chain (`ratchetBits` low KID bits for the step) at `generation`,
    /// step 0, from `baseKey` (per SSRC if configured: draft §8); returns its KID.
    #[wasm_bindgen(js_name = setRatchetingKey)]
    pub fn set_ratcheting_key(
        &mut self,
        #[wasm_bindgen(js_name = ratchetBits)] ratchet_bits: u8,
        #[wasm_bindgen(unchecked_param_type = "bigint | number")] generation: &JsValue,
        #[wasm_bindgen(js_name = baseKey, unchecked_param_type = "ArrayBuffer | ArrayBufferView")]
        base_key: &JsValue,
    ) -> JsResult<u64> {
        let layout = RatchetLayout::new(ratchet_bits).map_err(core_error)?;
        let generation = Generation(key_id(generation)?);
        let key = Zeroizing::new(bytes(base_key, "baseKey")?);
        self.inner
            .set_ratcheting_key(layout, generation, &key)
            .map_err(core_error)
    }

    /// Ratchets the current chain one step (RFC 9605 §5.1); returns the new KID.
    pub fn ratchet(&mut self) -> JsResult<u64> {
        self.inner.ratchet().map_err(core_error)
    }

    /// Protects `media` (a frame; per-packet: one media RTP payload) and returns its RTP
    /// packets, in order: the configured payload type, SSRC and next sequence numbers,
    /// `timestamp`, and the marker bit on the last packet if `marker`.
    #[wasm_bindgen(js_name = sendFrame)]
    pub fn send_frame(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "ArrayBuffer | ArrayBufferView")] media: &JsValue,
        timestamp: u32,
        marker: bool,
    ) -> JsResult<Array> {
        let media = Zeroizing::new(bytes(media, "media")?);
        let need = self.inner.max_packets_len(media.len());
        if self.buf.len() < need {
            self.buf.resize(need, 0);
        }
        let packets = self
            .inner
            .send_frame(&media, timestamp, marker, &mut self.buf)
            .map_err(core_error)?;
        Ok(packets
            .map(|p| JsValue::from(Uint8Array::from(p)))
            .collect())
    }

    /// The current KID (`undefined` without a key).
    #[wasm_bindgen(getter, js_name = keyId)]
    pub fn key_id(&self) -> Option<u64> {
        self.inner.key_id()
    }

    /// The SSRC.
    #[wasm_bindgen(getter)]
    pub fn ssrc(&self) -> u32 {
        self.inner.ssrc()
    }

    /// The sequence number of the next packet.
    #[wasm_bindgen(getter, js_name = nextSequence)]
    pub fn next_sequence(&self) -> u16 {
        self.inner.next_sequence()
    }

    /// Per-packet SFrame overhead (§5.1.2): descriptor, largest SFrame header and tag.
    #[wasm_bindgen(getter)]
    pub fn overhead(&self) -> u32 {
        self.inner.per_packet_overhead() as u32
    }

    /// The largest media payload that, protected per packet, fits one RTP payload.
    #[wasm_bindgen(getter, js_name = maxMediaPayloadLength)]
    pub fn max_media_payload_length(&self) -> u32 {
        self.inner.max_media_payload_len() as u32
    }

    /// `{ frames, packets, mediaBytes, rtpBytes }`.
    #[wasm_bindgen(unchecked_return_type = "import('../index.js').SFrameSendStreamStats")]
    pub fn stats(&self) -> JsResult<JsValue> {
        let s = self.inner.stats();
        obj(&[
            ("frames", num(s.frames)),
            ("packets", num(s.packets)),
            ("mediaBytes", num(s.media_bytes)),
            ("rtpBytes", num(s.rtp_bytes)),
        ])
    }
}

// ---------------------------------------------------------------------------------------------
// Receive
// ---------------------------------------------------------------------------------------------

/// RTP packets of any number of SSRCs in, decrypted frames and events out (draft §5.2, §7;
/// RFC 9605 §4.4.4): wraps `sframe_core::rtp::session::BoxedReceiveSession`.
#[wasm_bindgen]
pub struct RtpReceiveSession {
    inner: Box<Session>,
    out: Vec<u8>,
}

#[wasm_bindgen]
impl RtpReceiveSession {
    /// `new RtpReceiveSession({ cipherSuite, perSsrcKeys?, maxStreams?, maxWaitMs?,
    /// replayWindow? })`: `maxStreams` stream slots (default 4, at most 64), frames waiting
    /// for a key at most `maxWaitMs` (default: until pushed out by newer ones).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "import('../index.js').SFrameReceiveSessionOptions")]
        options: &JsValue,
    ) -> JsResult<RtpReceiveSession> {
        let mut receiver = ReceiverConfig::new(required_suite(options)?);
        if let Some(w) = optional_integer(options, "replayWindow", 0.0, f64::from(u32::MAX))? {
            receiver = receiver.with_replay_window(w as u32).map_err(core_error)?;
        }
        let mut config = SessionConfig::new(receiver);
        if let Some(on) = optional_bool(options, "perSsrcKeys")? {
            config = config.with_per_ssrc_keys(on);
        }
        if let Some(ms) = optional_integer(options, "maxWaitMs", 0.0, 9_007_199_254_740_991.0)? {
            config = config.with_max_wait(ms as u64);
        }
        let streams = optional_integer(options, "maxStreams", 1.0, f64::from(MAX_SESSION_STREAMS))?
            .unwrap_or(4.0) as usize;
        Ok(RtpReceiveSession {
            inner: Box::new(Session::with_capacity(config, streams)),
            out: vec![0u8; SESSION_BYTES],
        })
    }

    /// Adds the key `baseKey` for `keyId` (per SSRC if configured). Throws `"stale_epoch"`
    /// for a KID removed and still remembered, `"key_store_full"`, `"invalid_key"`.
    #[wasm_bindgen(js_name = addKey)]
    pub fn add_key(
        &mut self,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
        #[wasm_bindgen(js_name = baseKey, unchecked_param_type = "ArrayBuffer | ArrayBufferView")]
        base_key: &JsValue,
    ) -> JsResult<()> {
        let kid = key_id(kid)?;
        let key = Zeroizing::new(bytes(base_key, "baseKey")?);
        self.inner.add_key(kid, &key).map_err(core_error)
    }

    /// Adds `keyId` with a base key JavaScript keeps (a non-extractable CryptoKey): per-SSRC
    /// sessions only; each stream's key comes with `addStreamKey` (`missingStreamKeys` lists
    /// the streams that need one). Throws `"invalid_config"` without per-SSRC keys, else as
    /// `addKey`.
    #[wasm_bindgen(js_name = addExternalKey)]
    pub fn add_external_key(
        &mut self,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
    ) -> JsResult<()> {
        let kid = key_id(kid)?;
        self.inner.add_external_key(kid).map_err(core_error)
    }

    /// Adds `keyId`'s key derived elsewhere (WebCrypto): `sframeKey` and `sframeSalt`
    /// (§4.4.2). Sessions without per-SSRC keys (else `"invalid_config"`); errors as `addKey`.
    #[wasm_bindgen(js_name = addDerivedKey)]
    pub fn add_derived_key(
        &mut self,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
        #[wasm_bindgen(js_name = sframeKey, unchecked_param_type = "ArrayBuffer | ArrayBufferView")]
        sframe_key: &JsValue,
        #[wasm_bindgen(js_name = sframeSalt, unchecked_param_type = "ArrayBuffer | ArrayBufferView")]
        sframe_salt: &JsValue,
    ) -> JsResult<()> {
        let suite = self.inner.config().receiver().suite();
        let key = crate::derived_key(suite, kid, sframe_key, sframe_salt)?;
        self.inner.add_derived_key(key).map_err(core_error)
    }

    /// The streams without their key of an external KID: `[{ ssrc, keyId }]`.
    #[wasm_bindgen(js_name = missingStreamKeys, unchecked_return_type = "{ ssrc: number, keyId: bigint }[]")]
    pub fn missing_stream_keys(&self) -> JsResult<Array> {
        let list = Array::new();
        for (ssrc, kid) in self.inner.missing_stream_keys() {
            list.push(&obj(&[("ssrc", ssrc.into()), ("keyId", kid.into())])?);
        }
        Ok(list)
    }

    /// Whether `missingStreamKeys()` would list anything: a check cheap enough for every
    /// packet (no list built).
    #[wasm_bindgen(js_name = hasMissingStreamKeys)]
    pub fn has_missing_stream_keys(&self) -> bool {
        self.inner.missing_stream_keys().next().is_some()
    }

    /// Installs stream `ssrc`'s key of an external KID: `sframeKey` and `sframeSalt` derived
    /// (§4.4.2) from that stream's §7 key. Returns `false` if the stream is gone. Throws
    /// `"unknown_key_id"` if `keyId` is no longer an external key in use.
    #[wasm_bindgen(js_name = addStreamKey)]
    pub fn add_stream_key(
        &mut self,
        ssrc: u32,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
        #[wasm_bindgen(js_name = sframeKey, unchecked_param_type = "ArrayBuffer | ArrayBufferView")]
        sframe_key: &JsValue,
        #[wasm_bindgen(js_name = sframeSalt, unchecked_param_type = "ArrayBuffer | ArrayBufferView")]
        sframe_salt: &JsValue,
    ) -> JsResult<bool> {
        let suite = self.inner.config().receiver().suite();
        let key = crate::derived_key(suite, kid, sframe_key, sframe_salt)?;
        self.inner.add_stream_key(ssrc, key).map_err(core_error)
    }

    /// Adds a ratcheting sender's key: `keyId` as built with `ratchetBits` step bits.
    #[wasm_bindgen(js_name = addRatchetingKey)]
    pub fn add_ratcheting_key(
        &mut self,
        #[wasm_bindgen(js_name = ratchetBits)] ratchet_bits: u8,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
        #[wasm_bindgen(js_name = baseKey, unchecked_param_type = "ArrayBuffer | ArrayBufferView")]
        base_key: &JsValue,
    ) -> JsResult<()> {
        let layout = RatchetLayout::new(ratchet_bits).map_err(core_error)?;
        let kid = key_id(kid)?;
        let key = Zeroizing::new(bytes(base_key, "baseKey")?);
        self.inner
            .add_ratcheting_key(layout, kid, &key)
            .map_err(core_error)
    }

    /// Removes the key of `keyId` from every stream; its frames then fail. Returns whether it
    /// was in use.
    #[wasm_bindgen(js_name = removeKey)]
    pub fn remove_key(
        &mut self,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
    ) -> JsResult<bool> {
        Ok(self.inner.remove_key(key_id(kid)?))
    }

    /// Whether a key added as `keyId` is in use.
    #[wasm_bindgen(js_name = hasKey)]
    pub fn has_key(
        &self,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
    ) -> JsResult<bool> {
        Ok(self.inner.has_key(key_id(kid)?))
    }

    /// Removes the stream `ssrc` (e.g. after RTCP BYE); returns whether there was one.
    #[wasm_bindgen(js_name = removeStream)]
    pub fn remove_stream(&mut self, ssrc: u32) -> bool {
        self.inner.remove_stream(ssrc)
    }

    /// Takes one RTP packet at `nowMs`. Returns what became of it: `"buffered"`,
    /// `"frame-ready"`, `"duplicate"`, `"late"`, `"too-far-ahead"`, `"stream-refused"`.
    /// Throws `"malformed_frame"` for bytes that are not an SFrame RTP packet.
    #[wasm_bindgen(js_name = pushPacket)]
    pub fn push_packet(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "ArrayBuffer | ArrayBufferView")] packet: &JsValue,
        #[wasm_bindgen(js_name = nowMs, unchecked_param_type = "number | undefined")]
        now_ms: &JsValue,
    ) -> JsResult<String> {
        use sframe_core::rtp::Pushed as P;
        use sframe_core::rtp::session::Pushed;
        let packet = bytes(packet, "packet")?;
        let pushed = self
            .inner
            .push_packet(&packet, now(now_ms)?)
            .map_err(core_error)?;
        Ok(match pushed {
            Pushed::Packet(P::Buffered) => "buffered",
            Pushed::Packet(P::FrameReady) => "frame-ready",
            Pushed::Packet(P::Duplicate) => "duplicate",
            Pushed::Packet(P::Late) => "late",
            Pushed::Packet(P::TooFarAhead) => "too-far-ahead",
            Pushed::StreamRefused => "stream-refused",
        }
        .into())
    }

    /// The next event at `nowMs`, or `null`: `{ type: "frame", ssrc, payloadType, timestamp,
    /// marker, mode, firstSequence, keyId, counter, fromBuffer, data }`, `{ type:
    /// "keyauthenticated", keyId, ssrc, first }`, `{ type: "awaitingkey", ssrc, keyId,
    /// counter }` or `{ type: "failed", ssrc, keyId (or null), code }`.
    #[wasm_bindgen(unchecked_return_type = "import('../index.js').SFrameSessionEvent | null")]
    pub fn poll(
        &mut self,
        #[wasm_bindgen(js_name = nowMs, unchecked_param_type = "number | undefined")]
        now_ms: &JsValue,
    ) -> JsResult<JsValue> {
        let Some(event) = self.inner.poll(&mut self.out, now(now_ms)?) else {
            return Ok(JsValue::NULL);
        };
        match event {
            Event::Frame(f) => {
                let data = self
                    .out
                    .get(..f.len)
                    .ok_or_else(|| range_error("frame length"))?;
                obj(&[
                    ("type", "frame".into()),
                    ("ssrc", f.ssrc.into()),
                    ("payloadType", f.payload_type.into()),
                    ("timestamp", f.timestamp.into()),
                    ("marker", f.marker.into()),
                    ("mode", mode_name(f.mode).into()),
                    ("firstSequence", f.first_sequence.into()),
                    ("keyId", f.kid.into()),
                    ("counter", f.counter.into()),
                    ("fromBuffer", f.from_buffer.into()),
                    ("data", Uint8Array::from(data).into()),
                ])
            }
            Event::KeyAuthenticated { kid, ssrc, first } => obj(&[
                ("type", "keyauthenticated".into()),
                ("keyId", kid.into()),
                ("ssrc", ssrc.into()),
                ("first", first.into()),
            ]),
            Event::AwaitingKey { ssrc, kid, counter } => obj(&[
                ("type", "awaitingkey".into()),
                ("ssrc", ssrc.into()),
                ("keyId", kid.into()),
                ("counter", counter.into()),
            ]),
            Event::Failed { ssrc, kid, error } => obj(&[
                ("type", "failed".into()),
                ("ssrc", ssrc.into()),
                ("keyId", kid.map_or(JsValue::NULL, JsValue::from)),
                ("code", error.code().into()),
            ]),
        }
    }

    /// `{ session, streams, keys }`: the session's counters, every stream's, every KID's.
    #[wasm_bindgen(unchecked_return_type = "import('../index.js').SFrameReceiveSessionStats")]
    pub fn stats(&self) -> JsResult<JsValue> {
        let s = self.inner.stats();
        let session = obj(&[
            ("streams", num(s.streams as u64)),
            ("capacity", num(s.capacity as u64)),
            ("keysActive", num(s.keys_active as u64)),
            ("keysRemoved", num(s.keys_removed as u64)),
            ("ssrcsRefused", num(s.ssrcs_refused)),
            ("streamsEvicted", num(s.streams_evicted)),
            ("packetsMalformed", num(s.packets_malformed)),
            ("keyInstallFailures", num(s.key_install_failures)),
            ("unknownKids", kid_counters(&s.unknown_kids)?),
        ])?;
        let streams: Array = self
            .inner
            .streams_stats()
            .map(|st| stream_stats(&st))
            .collect::<JsResult<Array>>()?;
        let keys: Array = self
            .inner
            .kids_stats()
            .map(|k| kid_stats(&k))
            .collect::<JsResult<Array>>()?;
        obj(&[
            ("session", session),
            ("streams", streams.into()),
            ("keys", keys.into()),
        ])
    }

    /// The largest frame a stream reassembles, in bytes.
    #[wasm_bindgen(getter, js_name = maxFrameLength)]
    pub fn max_frame_length(&self) -> u32 {
        SESSION_BYTES as u32
    }
}

fn failures(f: &Failures) -> JsResult<JsValue> {
    obj(&[
        ("authentication", num(f.authentication)),
        ("replay", num(f.replay)),
        ("unknownKey", num(f.unknown_key)),
        ("malformed", num(f.malformed)),
        ("usageLimit", num(f.usage_limit)),
        ("other", num(f.other)),
        ("total", num(f.total())),
    ])
}

fn kid_counters(c: &KidCounters) -> JsResult<JsValue> {
    obj(&[
        ("framesIn", num(c.frames_in)),
        ("bytesIn", num(c.bytes_in)),
        ("frames", num(c.frames)),
        ("bytes", num(c.bytes)),
        ("failures", failures(&c.failures)?),
        ("waited", num(c.waited)),
        ("released", num(c.released)),
        ("dropped", num(c.dropped)),
    ])
}

fn kid_stats(k: &KidStats) -> JsResult<JsValue> {
    obj(&[
        ("keyId", k.kid.into()),
        ("active", k.active.into()),
        (
            "ratchetBits",
            k.ratchet
                .map_or(JsValue::NULL, |l| JsValue::from(l.ratchet_bits())),
        ),
        ("authenticated", k.authenticated.into()),
        ("streamsAuthenticated", k.streams_authenticated.into()),
        ("waiting", num(k.waiting as u64)),
        ("counters", kid_counters(&k.counters)?),
    ])
}

fn stream_stats(s: &StreamStats) -> JsResult<JsValue> {
    let p = &s.packets;
    let packets = obj(&[
        ("packets", num(p.packets)),
        ("duplicates", num(p.duplicates)),
        ("late", num(p.late)),
        ("evicted", num(p.evicted)),
        ("frames", num(p.frames)),
        ("droppedFrames", num(p.dropped_frames)),
        ("tooFarAhead", num(p.too_far_ahead)),
        ("resyncs", num(p.resyncs)),
    ])?;
    obj(&[
        ("ssrc", s.ssrc.into()),
        ("authenticated", s.authenticated.into()),
        ("packets", packets),
        ("storedPackets", num(s.stored_packets as u64)),
        ("storedBytes", num(s.stored_bytes as u64)),
        ("framesIn", num(s.frames_in)),
        ("bytesIn", num(s.bytes_in)),
        ("framesOut", num(s.frames_out)),
        ("bytesOut", num(s.bytes_out)),
        ("failures", failures(&s.failures)?),
        ("waited", num(s.waited)),
        ("released", num(s.released)),
        ("droppedOverflow", num(s.dropped_overflow)),
        ("droppedExpired", num(s.dropped_expired)),
        ("droppedTooBig", num(s.dropped_too_big)),
        ("droppedRemoved", num(s.dropped_removed)),
        ("waiting", num(s.waiting as u64)),
        ("waitingBytes", num(s.waiting_bytes as u64)),
        ("keys", num(s.keys as u64)),
    ])
}
