//! # sframe-wasm — RFC 9605 SFrame for JavaScript
//!
//! Thin [`wasm_bindgen`] shells over `sframe-core`: they convert JavaScript values to Rust
//! types and `sframe_core::Error`s to JavaScript `Error`s, and do nothing else. Every piece of
//! RFC 9605 logic (header §4.3, key derivation §4.4.2, encryption §4.4.3, replay §9) lives in
//! `sframe-core`.
//!
//! The JavaScript side sees:
//!
//! * `Sender` — `new Sender(cipherSuite)`, `setKey(keyId, baseKey)`,
//!   `setDerivedKey(keyId, sframeKey, sframeSalt)`, `protect(frame, metadata?)`;
//! * `Receiver` — `addKey`, `addDerivedKey`, `removeKey`, `hasKey`, `replayWindow` (a constructor option),
//!   `unprotect(frame, metadata?)`;
//! * `parseHeader(frame)` → `{ keyId, counter, headerLength }` (RFC 9605 §4.3, no key needed);
//! * `cipherSuiteInfo(suite)` → sizes and HKDF hash of a suite (§4.5);
//! * `cipherSuites()` → that information for every suite the core supports, in IANA order
//!   (RFC 9605 §8.1 values 1-5 and draft-barnes-sframe-iana-256's 6-8). The JavaScript
//!   package builds its suite tables from it instead of re-typing them;
//! * `errorCodes()` → every `sframe_core::Error::code()`, in `Error::number()` order (the
//!   `code` of a thrown `SFrameError` is one of them);
//! * `derivationInfo(which, keyId, cipherSuite)` → the §4.4.2 HKDF-Expand info
//!   (`sframe_core::key::derivation_info`) for key schedules run in WebCrypto;
//! * `hazmatProtectFrame(cipherSuite, keyId, counter, baseKey, frame, metadata?)` → one frame
//!   at an explicit counter, with no state (`sframe_core::hazmat::protect_frame`): for test
//!   vectors and interop only, never media (the same key, KID and counter twice reuse a nonce).
//! * `ErrorRuns` — `observe(errorType, keyId)`, `success()`: one error report per run of
//!   identical failures (`sframe_core::report`); `errorTypeOf(code)` → the W3C
//!   `SFrameTransformErrorEventType` of a receiver's error code (`FailureKind::of`).
//! * `KeyWaitBuffer` — `hold(keyId, tag, size, now)`, `release(keyId)`, `expire(now)`,
//!   `dropKeyId(keyId)`, `dropAll()`: frames whose KID has no key yet, held (by the caller's
//!   tag; the frame objects stay in JavaScript) until it arrives, within count, byte and age
//!   limits, oldest dropped first (`sframe_core::keywait`, RFC 9605 §4.4.4);
//!   `keyWaitCapacity()` → its fixed capacity in frames. `Receiver.hasKeyFor(keyId)` tells
//!   whether a frame of that KID finds a key (false: it would fail with `"unknown_key_id"`).
//! * `sdp*` — `a=sframe` SDP negotiation (`sframe_core::rtp::sdp`, draft-ietf-avtcore-rtp-sframe §6),
//!   and `ssrcBaseKeyBytes` / `ssrcKeyDerivation`, the §7 per-SSRC keys
//!   (`sframe_core::key::ssrc_base_key`): see `sdp.rs`. The package exports them as `sdp.*` and
//!   `ssrcBaseKey` (`js/sdp.js`, `js/ssrc-keys.js`).
//!
//! Key IDs and counters are `bigint`s (64-bit); a key ID may also be given as a
//! non-negative safe-integer `number`. Byte inputs may be a `Uint8Array`, any other
//! `ArrayBufferView` (its bytes) or an `ArrayBuffer`. Failures throw an `Error` whose `name`
//! is `"SFrameError"` and whose `code` is `sframe_core::Error::code()` (e.g.
//! `"authentication_failed"`); bad argument types throw `TypeError`/`RangeError` with code
//! `"invalid_argument"`.
//!
//! ## One Sender per key and KID
//!
//! `sframe-core` is built with `std`, so every `Sender` joins the key registry of the process —
//! here of the wasm instance: one worker or JS realm, whose `SFrameTransform`s all use this one
//! module. A `Sender` given key material (same key, KID and suite, whether as a base key or
//! as a derived key and salt) that another live `Sender` has used throws `"key_in_use"`: both
//! would count from 0 and repeat every nonce. `free()` releases the claims and leaves the keys'
//! counters to the instance: a new `Sender` given one of them resumes where it stood. Other
//! instances (workers, tabs) are not compared.
//!
//! ## No input may trap
//!
//! A wasm trap kills the whole worker, and with it the call's media. Nothing here can panic:
//! no `unwrap`, `expect` or indexing (enforced by the lints below), and every core call returns
//! a `Result`. The only remaining abort is an allocation failure (out of wasm memory).

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod convert;
mod error;
mod keywait;
mod report;
mod sdp;
// SFrame RTP sessions (sframe_core::rtp::session): RtpSendStream, RtpReceiveSession.
mod session;

use convert::{bytes, derived, key_id, optional_bytes, suite};
use error::{JsResult, core_error};
use js_sys::{Object, Reflect};
use sframe_core::{Header, Key};
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

/// Protects frames under one key at a time (RFC 9605 §4.4): wraps `sframe_core::Sender`.
#[wasm_bindgen]
pub struct Sender {
    inner: sframe_core::Sender,
}

#[wasm_bindgen]
impl Sender {
    /// `new Sender(cipherSuite)`: `cipherSuite` is an IANA SFrame cipher suite value (1..8)
    /// or its name (`"AES_128_GCM_SHA256_128"`, …).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = cipherSuite, unchecked_param_type = "number | string")]
        cipher_suite: &JsValue,
    ) -> JsResult<Sender> {
        Ok(Sender {
            inner: sframe_core::Sender::new(suite(cipher_suite)?),
        })
    }

    /// Derives the key for `keyId` from `baseKey` (§4.4.2, at least 16 bytes) and makes it
    /// current. A new key starts at counter 0; re-setting the current one changes nothing;
    /// going back to a key this sender used — or a freed `Sender` of this wasm instance used —
    /// resumes its counter. A key another live `Sender` of this instance has used throws
    /// `"key_in_use"`. On error nothing changes.
    #[wasm_bindgen(js_name = setKey)]
    pub fn set_key(
        &mut self,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
        #[wasm_bindgen(js_name = baseKey, unchecked_param_type = "ArrayBuffer | ArrayBufferView")]
        base_key: &JsValue,
    ) -> JsResult<()> {
        let (kid, base_key) = kid_and_base_key(kid, base_key)?;
        self.inner.set_key(kid, &base_key).map_err(core_error)
    }

    /// Like `setKey`, starting at counter `nextCounter` (resume a persisted sender only, from
    /// a value persisted after its last frame: an already used counter would repeat a nonce).
    /// The counter of a key this sender knows only moves up.
    #[wasm_bindgen(js_name = setKeyWithCounter)]
    pub fn set_key_with_counter(
        &mut self,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
        #[wasm_bindgen(js_name = baseKey, unchecked_param_type = "ArrayBuffer | ArrayBufferView")]
        base_key: &JsValue,
        #[wasm_bindgen(js_name = nextCounter, unchecked_param_type = "bigint")] counter: &JsValue,
    ) -> JsResult<()> {
        let (kid, base_key) = kid_and_base_key(kid, base_key)?;
        let counter = convert::u64_bigint(counter, "nextCounter")?;
        self.inner
            .set_key_with_counter(kid, &base_key, sframe_core::Counter(counter))
            .map_err(core_error)
    }

    /// Installs a key derived elsewhere (e.g. WebCrypto HKDF, keeping the base key
    /// non-extractable): `sframeKey` is `Nk` bytes, `sframeSalt` `Nn` (12) bytes (§4.4.2).
    /// Counter rules and `"key_in_use"` as for `setKey` (the derived key is what is compared).
    #[wasm_bindgen(js_name = setDerivedKey)]
    pub fn set_derived_key(
        &mut self,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
        #[wasm_bindgen(js_name = sframeKey, unchecked_param_type = "ArrayBuffer | ArrayBufferView")]
        sframe_key: &JsValue,
        #[wasm_bindgen(js_name = sframeSalt, unchecked_param_type = "ArrayBuffer | ArrayBufferView")]
        sframe_salt: &JsValue,
    ) -> JsResult<()> {
        let key = derived_key(self.inner.suite(), kid, sframe_key, sframe_salt)?;
        self.inner.set_derived_key(key).map_err(core_error)
    }

    /// Installs a key whose AEAD runs outside wasm (a non-extractable WebCrypto AES key derived
    /// in the browser): only its `sframeSalt` (12 bytes, §4.4.2) comes here. Frames are then
    /// protected with `protectExternal` (`protect` throws `"external_key"`). The same material
    /// as a full key (`setKey`) is one key: counters continue, `"key_in_use"` applies.
    #[wasm_bindgen(js_name = setExternalKey)]
    pub fn set_external_key(
        &mut self,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
        #[wasm_bindgen(js_name = sframeSalt, unchecked_param_type = "ArrayBuffer | ArrayBufferView")]
        sframe_salt: &JsValue,
    ) -> JsResult<()> {
        let key = external_key(self.inner.suite(), kid, sframe_salt)?;
        self.inner.set_derived_key(key).map_err(core_error)
    }

    /// Uses the next counter for a frame encrypted outside wasm (WebCrypto AES-GCM) and returns
    /// `nonce (12 bytes) ‖ header`: encrypt with the current key under that nonce, AAD
    /// `header ‖ metadata`, and send `header ‖ ciphertext ‖ tag`. Same counters and limits as
    /// `protect`: a counter is never handed out twice.
    #[wasm_bindgen(js_name = protectExternal)]
    pub fn protect_external(&mut self) -> JsResult<Vec<u8>> {
        let seal = self.inner.protect_external().map_err(core_error)?;
        let mut out = Vec::with_capacity(seal.nonce().len() + seal.header().len());
        out.extend_from_slice(seal.nonce());
        out.extend_from_slice(seal.header());
        Ok(out)
    }

    /// Protects `frame`: returns `header ‖ ciphertext ‖ tag` (§4.4.3). `metadata` (optional)
    /// is authenticated, not sent; the receiver must pass the same bytes.
    pub fn protect(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "ArrayBuffer | ArrayBufferView")] frame: &JsValue,
        #[wasm_bindgen(unchecked_param_type = "ArrayBuffer | ArrayBufferView | undefined | null")]
        metadata: &JsValue,
    ) -> JsResult<Vec<u8>> {
        let frame = bytes(frame, "frame")?;
        let metadata = optional_bytes(metadata)?;
        self.inner
            .protect_vec(&metadata, &frame)
            .map_err(core_error)
    }

    /// The current key ID (`undefined` without a key).
    #[wasm_bindgen(getter, js_name = keyId)]
    pub fn key_id(&self) -> Option<u64> {
        self.inner.key_id()
    }

    /// The counter the next frame will carry (`undefined` without a key or once exhausted).
    #[wasm_bindgen(getter, js_name = nextCounter)]
    pub fn next_counter(&self) -> Option<u64> {
        self.inner.next_counter()
    }

    /// The cipher suite's name.
    #[wasm_bindgen(getter, js_name = cipherSuite)]
    pub fn cipher_suite(&self) -> String {
        self.inner.suite().name().into()
    }

    /// Largest output of protecting a `length`-byte frame (as `Receiver.maxOutputLength`).
    #[wasm_bindgen(js_name = maxOutputLength)]
    pub fn max_output_length(&self, length: u32) -> f64 {
        self.inner.max_output_len(length as usize) as f64
    }
}

/// Unprotects frames of any number of senders, keys found by KID (RFC 9605 §4.4, §9):
/// wraps `sframe_core::Receiver`.
#[wasm_bindgen]
pub struct Receiver {
    inner: sframe_core::Receiver,
}

#[wasm_bindgen]
impl Receiver {
    /// `new Receiver(cipherSuite, options?)` (an IANA SFrame cipher suite value 1..8 or its
    /// name). `options.replayWindow`: counter values (0 = off, at most 1024, default 512),
    /// validated here (`invalid_config`); settings are fixed for the receiver's life.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = cipherSuite, unchecked_param_type = "number | string")]
        cipher_suite: &JsValue,
        #[wasm_bindgen(unchecked_param_type = "import('../index.js').ReceiverOptions | undefined")]
        options: &JsValue,
    ) -> JsResult<Receiver> {
        let mut config = sframe_core::ReceiverConfig::new(suite(cipher_suite)?);
        if !options.is_undefined() && !options.is_null() {
            let window = Reflect::get(options, &JsValue::from_str("replayWindow"))?;
            if !window.is_undefined() {
                let size = window
                    .as_f64()
                    .filter(|w| w.fract() == 0.0 && *w >= 0.0 && *w <= f64::from(u32::MAX))
                    .ok_or_else(|| {
                        error::type_error("replayWindow must be a non-negative integer")
                    })?;
                config = config.with_replay_window(size as u32).map_err(core_error)?;
            }
        }
        Ok(Receiver {
            inner: sframe_core::Receiver::with_config(config),
        })
    }

    /// Derives and installs the key for `keyId` (§4.4.2); replaces an existing one. The same
    /// key again changes nothing (its replay window and failure count are kept).
    #[wasm_bindgen(js_name = addKey)]
    pub fn add_key(
        &mut self,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
        #[wasm_bindgen(js_name = baseKey, unchecked_param_type = "ArrayBuffer | ArrayBufferView")]
        base_key: &JsValue,
    ) -> JsResult<()> {
        let (kid, base_key) = kid_and_base_key(kid, base_key)?;
        self.inner.add_key(kid, &base_key).map_err(core_error)
    }

    /// Installs a key derived elsewhere (`sframeKey`: `Nk` bytes, `sframeSalt`: 12 bytes);
    /// the same key again changes nothing.
    #[wasm_bindgen(js_name = addDerivedKey)]
    pub fn add_derived_key(
        &mut self,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
        #[wasm_bindgen(js_name = sframeKey, unchecked_param_type = "ArrayBuffer | ArrayBufferView")]
        sframe_key: &JsValue,
        #[wasm_bindgen(js_name = sframeSalt, unchecked_param_type = "ArrayBuffer | ArrayBufferView")]
        sframe_salt: &JsValue,
    ) -> JsResult<()> {
        let key = derived_key(self.inner.suite(), kid, sframe_key, sframe_salt)?;
        self.inner.add_derived_key(key).map_err(core_error)
    }

    /// Installs a key whose AEAD runs outside wasm (its `sframeSalt` only, as
    /// `Sender.setExternalKey`): frames under it open with `unprotectExternal` +
    /// `commitExternal` / `rejectExternal` (`unprotect` throws `"external_key"`).
    #[wasm_bindgen(js_name = addExternalKey)]
    pub fn add_external_key(
        &mut self,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
        #[wasm_bindgen(js_name = sframeSalt, unchecked_param_type = "ArrayBuffer | ArrayBufferView")]
        sframe_salt: &JsValue,
    ) -> JsResult<()> {
        let key = external_key(self.inner.suite(), kid, sframe_salt)?;
        self.inner.add_derived_key(key).map_err(core_error)
    }

    /// First half of unprotecting `frame` with an AEAD outside wasm: parses the header, finds
    /// the installed key of its KID, checks the forgery limit and the replay window, and
    /// returns the `Opening` (KID, header length, tag length, nonce). Changes nothing. Decrypt
    /// `frame[headerLength..]` with AAD `frame[..headerLength] ‖ metadata`, then call
    /// `commitExternal` (tag verified) or `rejectExternal`. Throws like `unprotect`; a KID the
    /// receiver would derive itself (ratchet, MLS) throws `"unknown_key_id"` here: use
    /// `unprotect` for it. The forgery limit counts a failure at `rejectExternal`: with `k`
    /// openings of one key outstanding at a time, up to limit + k − 1 forged frames are
    /// verified (sframe-core's `Receiver::unprotect_external`); finish each frame before
    /// opening the next, as `SFrameTransform` does, or bound `k`.
    #[wasm_bindgen(js_name = unprotectExternal)]
    pub fn unprotect_external(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ArrayBuffer | ArrayBufferView")] frame: &JsValue,
    ) -> JsResult<Opening> {
        let frame = bytes(frame, "frame")?;
        Ok(Opening {
            inner: self.inner.unprotect_external(&frame).map_err(core_error)?,
        })
    }

    /// After the tag verified: records the frame (throws `"replay"` if a copy was committed
    /// meanwhile, `"unknown_key_id"` if its key was removed or replaced).
    #[wasm_bindgen(js_name = commitExternal)]
    pub fn commit_external(&mut self, opening: &Opening) -> JsResult<()> {
        self.inner
            .commit_external(&opening.inner)
            .map_err(core_error)
    }

    /// After the tag failed: counts one authentication failure; nothing else changes.
    #[wasm_bindgen(js_name = rejectExternal)]
    pub fn reject_external(&mut self, opening: &Opening) {
        self.inner.reject_external(&opening.inner);
    }

    /// Removes (and zeroizes) the key for `keyId`; returns whether there was one.
    #[wasm_bindgen(js_name = removeKey)]
    pub fn remove_key(
        &mut self,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
    ) -> JsResult<bool> {
        Ok(self.inner.remove_key(key_id(kid)?))
    }

    /// The usage counters of the key for `keyId` (`sframe_core::Receiver::usage`):
    /// `{ frames, authenticationFailures, highestCounter }` — frames it opened, frames that
    /// failed authentication under it, the highest counter it authenticated (a bigint, `null`
    /// before the first) — or `null` when no key is installed for `keyId`. Counts are numbers.
    #[wasm_bindgen(unchecked_return_type = "import('../index.js').ReceiverKeyUsage | null")]
    pub fn usage(
        &self,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
    ) -> JsResult<JsValue> {
        let kid = key_id(kid)?;
        let Some(usage) = self.inner.usage(kid) else {
            return Ok(JsValue::NULL);
        };
        let out = Object::new();
        set(&out, "frames", (usage.frames as f64).into())?;
        set(
            &out,
            "authenticationFailures",
            (usage.auth_failures as f64).into(),
        )?;
        let highest = self.inner.highest_counter(kid);
        set(
            &out,
            "highestCounter",
            highest.map_or(JsValue::NULL, JsValue::from),
        )?;
        Ok(out.into())
    }

    /// Whether a key for `keyId` is installed.
    #[wasm_bindgen(js_name = hasKey)]
    pub fn has_key(
        &self,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
    ) -> JsResult<bool> {
        Ok(self.inner.has_key(key_id(kid)?))
    }

    /// Whether a frame under `keyId` finds a key, without decrypting anything
    /// (`sframe_core::Receiver::has_key_for`): `false` means `unprotect` of the frame would
    /// throw `"unknown_key_id"` and change nothing — the frame can wait for its key
    /// (`KeyWaitBuffer`).
    #[wasm_bindgen(js_name = hasKeyFor)]
    pub fn has_key_for(
        &self,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
    ) -> JsResult<bool> {
        Ok(self.inner.has_key_for(key_id(kid)?))
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        self.inner.clear();
    }

    /// Number of installed keys.
    #[wasm_bindgen(getter, js_name = keyCount)]
    pub fn key_count(&self) -> u32 {
        u32::try_from(self.inner.key_count()).unwrap_or(u32::MAX)
    }

    /// The replay window in force, in counter values.
    #[wasm_bindgen(getter, js_name = replayWindow)]
    pub fn replay_window(&self) -> u32 {
        self.inner.config().replay_window()
    }

    /// Largest output of unprotecting a `length`-byte frame (as `Sender.maxOutputLength`).
    #[wasm_bindgen(js_name = maxOutputLength)]
    pub fn max_output_length(&self, length: u32) -> f64 {
        self.inner.max_output_len(length as usize) as f64
    }

    /// Unprotects an SFrame frame and returns the plaintext. `metadata` must be the bytes the
    /// sender authenticated. Throws `unknown_key_id`, `authentication_failed`,
    /// `malformed_frame`, `replay`, … (see `code`).
    pub fn unprotect(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "ArrayBuffer | ArrayBufferView")] frame: &JsValue,
        #[wasm_bindgen(unchecked_param_type = "ArrayBuffer | ArrayBufferView | undefined | null")]
        metadata: &JsValue,
    ) -> JsResult<Vec<u8>> {
        let mut frame = bytes(frame, "frame")?;
        let metadata = optional_bytes(metadata)?;
        let plaintext = self
            .inner
            .unprotect_in_place(&metadata, &mut frame)
            .map_err(core_error)?;
        Ok(plaintext.to_vec())
    }

    /// The cipher suite's name.
    #[wasm_bindgen(getter, js_name = cipherSuite)]
    pub fn cipher_suite(&self) -> String {
        self.inner.suite().name().into()
    }
}

/// One frame between `Receiver.unprotectExternal` and `commitExternal` / `rejectExternal`.
#[wasm_bindgen]
pub struct Opening {
    inner: sframe_core::ExternalOpen,
}

#[wasm_bindgen]
impl Opening {
    /// The frame's key ID.
    #[wasm_bindgen(getter, js_name = keyId)]
    pub fn key_id(&self) -> u64 {
        self.inner.key_id()
    }

    /// Header length: AAD = `frame[..headerLength] ‖ metadata`; `frame[headerLength..]` is
    /// ciphertext ‖ tag.
    #[wasm_bindgen(getter, js_name = headerLength)]
    pub fn header_length(&self) -> u32 {
        u32::try_from(self.inner.header_len()).unwrap_or(u32::MAX)
    }

    /// Tag length in bytes (`Nt`).
    #[wasm_bindgen(getter, js_name = tagLength)]
    pub fn tag_length(&self) -> u32 {
        u32::try_from(self.inner.tag_len()).unwrap_or(u32::MAX)
    }

    /// The 12-byte AEAD nonce.
    #[wasm_bindgen(getter)]
    pub fn nonce(&self) -> Vec<u8> {
        self.inner.nonce().to_vec()
    }
}

fn external_key(
    suite: sframe_core::CipherSuite,
    kid: &JsValue,
    sframe_salt: &JsValue,
) -> JsResult<Key> {
    let kid = key_id(kid)?;
    let salt = bytes(sframe_salt, "sframeSalt")?;
    Key::external(sframe_core::DefaultBackend::default(), suite, kid, &salt).map_err(core_error)
}

/// Key ID and base key bytes (wiped from wasm memory when dropped).
fn kid_and_base_key(kid: &JsValue, base_key: &JsValue) -> JsResult<(u64, Zeroizing<Vec<u8>>)> {
    Ok((key_id(kid)?, Zeroizing::new(bytes(base_key, "baseKey")?)))
}

/// A `Key` from derived bytes (`sframeKey`, `sframeSalt`), the copies wiped.
pub(crate) fn derived_key(
    suite: sframe_core::CipherSuite,
    kid: &JsValue,
    sframe_key: &JsValue,
    sframe_salt: &JsValue,
) -> JsResult<Key> {
    let kid = key_id(kid)?;
    // Key material copied into wasm memory is wiped once the derived `Key` owns it.
    let key = Zeroizing::new(bytes(sframe_key, "sframeKey")?);
    let salt = Zeroizing::new(bytes(sframe_salt, "sframeSalt")?);
    Key::from_parts(suite, kid, &key, &salt).map_err(core_error)
}

/// Parses the SFrame header at the start of `frame` (RFC 9605 §4.3; no key needed, as an SFU
/// does): `{ keyId: bigint, counter: bigint, headerLength: number }`.
#[wasm_bindgen(js_name = parseHeader, unchecked_return_type = "import('../index.js').SFrameHeader")]
pub fn parse_header(
    #[wasm_bindgen(unchecked_param_type = "ArrayBuffer | ArrayBufferView")] frame: &JsValue,
) -> JsResult<JsValue> {
    let frame = bytes(frame, "frame")?;
    let (header, len) = Header::parse(&frame).map_err(core_error)?;
    let out = Object::new();
    set(&out, "keyId", header.key_id().into())?;
    set(&out, "counter", header.counter().into())?;
    set(&out, "headerLength", (len as u32).into())?;
    Ok(out.into())
}

/// HAZMAT, NOT FOR SENDING MEDIA: `hazmatProtectFrame(cipherSuite, keyId, counter, baseKey,
/// frame, metadata?)` → `header ‖ ciphertext ‖ tag`, the frame at an explicit base key, KID
/// and counter (`sframe_core::hazmat::protect_frame`, §4.4.2 + §4.4.3), with no state: no
/// counter is remembered and no `Sender` learns of the key. For test vectors and interop
/// harnesses, which must make the same (key, KID, counter) frame again. Two calls with the
/// same key, KID and counter on two plaintexts reuse a nonce: media goes through `Sender`.
#[wasm_bindgen(js_name = hazmatProtectFrame)]
pub fn hazmat_protect_frame(
    #[wasm_bindgen(js_name = cipherSuite, unchecked_param_type = "number | string")]
    cipher_suite: &JsValue,
    #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "bigint")] counter: &JsValue,
    #[wasm_bindgen(js_name = baseKey, unchecked_param_type = "ArrayBuffer | ArrayBufferView")]
    base_key: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "ArrayBuffer | ArrayBufferView")] frame: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "ArrayBuffer | ArrayBufferView | undefined | null")]
    metadata: &JsValue,
) -> JsResult<Vec<u8>> {
    let suite = suite(cipher_suite)?;
    let (kid, base_key) = kid_and_base_key(kid, base_key)?;
    let counter = convert::u64_bigint(counter, "counter")?;
    let frame = bytes(frame, "frame")?;
    let metadata = optional_bytes(metadata)?;
    let mut out = vec![0u8; frame.len().saturating_add(suite.max_overhead())];
    let n = sframe_core::hazmat::protect_frame(
        suite,
        kid,
        sframe_core::Counter(counter),
        &base_key,
        &metadata,
        &frame,
        &mut out,
    )
    .map_err(core_error)?;
    out.truncate(n);
    Ok(out)
}

/// Sizes of a cipher suite (RFC 9605 §4.5): `{ id, name, keyLength, encKeyLength,
/// nonceLength, tagLength, hash, hashLength, maxOverhead, ctrHmac }`. `hash` is the WebCrypto
/// name of its HKDF (and HMAC) hash, `sframe_core::CipherSuite::hash_name()`, and `hashLength`
/// its output size `Nh` in bytes (`hash_len()`); `encKeyLength` is `Nka`, the AES key's share
/// of `keyLength`.
#[wasm_bindgen(js_name = cipherSuiteInfo, unchecked_return_type = "import('../index.js').CipherSuiteInfo")]
pub fn cipher_suite_info(
    #[wasm_bindgen(js_name = cipherSuite, unchecked_param_type = "number | string")]
    cipher_suite: &JsValue,
) -> JsResult<JsValue> {
    suite_info(suite(cipher_suite)?)
}

/// `cipherSuiteInfo` of every suite `sframe-core` supports (`CipherSuite::ALL`), in IANA order.
#[wasm_bindgen(js_name = cipherSuites, unchecked_return_type = "import('../index.js').CipherSuiteInfo[]")]
pub fn cipher_suites() -> JsResult<js_sys::Array> {
    let out = js_sys::Array::new();
    for s in sframe_core::CipherSuite::ALL {
        out.push(&suite_info(s)?);
    }
    Ok(out)
}

/// Every error code `sframe-core` has (`Error::code()` of `Error::ALL`), in `Error::number()`
/// order: the `code` of an `SFrameError` is one of these.
#[wasm_bindgen(js_name = errorCodes, unchecked_return_type = "import('../index.js').SFrameErrorCode[]")]
pub fn error_codes() -> js_sys::Array {
    sframe_core::Error::ALL
        .iter()
        .map(|e| JsValue::from_str(e.code()))
        .collect()
}

/// The HKDF-Expand info of RFC 9605 §4.4.2 for `which` (`"key"`: `sframe_key`, `"salt"`:
/// `sframe_salt`) of the key for `keyId` under `cipherSuite`:
/// `label ‖ BE64(KID) ‖ BE16(suite)`, built by `sframe_core::key::derivation_info` — for
/// deriving in WebCrypto (HKDF with the suite's `hash` and an empty salt).
#[wasm_bindgen(js_name = derivationInfo)]
pub fn derivation_info(
    #[wasm_bindgen(unchecked_param_type = "'key' | 'salt'")] which: &JsValue,
    #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
    #[wasm_bindgen(js_name = cipherSuite, unchecked_param_type = "number | string")]
    cipher_suite: &JsValue,
) -> JsResult<Vec<u8>> {
    let which = derived(which)?;
    let info = sframe_core::key::derivation_info(which, key_id(kid)?, suite(cipher_suite)?);
    Ok(info.as_bytes().to_vec())
}

fn suite_info(s: sframe_core::CipherSuite) -> JsResult<JsValue> {
    let out = Object::new();
    set(&out, "id", s.id().into())?;
    set(&out, "name", s.name().into())?;
    set(&out, "keyLength", (s.key_len() as u32).into())?;
    set(&out, "encKeyLength", (s.enc_key_len() as u32).into())?;
    set(&out, "nonceLength", (s.nonce_len() as u32).into())?;
    set(&out, "tagLength", (s.tag_len() as u32).into())?;
    set(&out, "hash", s.hash_name().into())?;
    set(&out, "hashLength", (s.hash_len() as u32).into())?;
    set(&out, "maxOverhead", (s.max_overhead() as u32).into())?;
    set(&out, "ctrHmac", s.is_ctr_hmac().into())?;
    Ok(out.into())
}

pub(crate) fn set(obj: &Object, name: &str, value: JsValue) -> JsResult<()> {
    Reflect::set(obj, &JsValue::from_str(name), &value).map(|_| ())
}
