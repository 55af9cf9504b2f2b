//! `KeyWaitBuffer`: `sframe_core::keywait` (RFC 9605 §4.4.4 — frames whose KID has no key yet,
//! held until it arrives; W3C WebRTC Encoded Transform issues #289 / #306) for JavaScript.
//! Conversion only: the bounds, the order and the drop rules are the core's.
//!
//! The frames stay in JavaScript (an `RTCEncodedVideoFrame` cannot enter wasm memory, and its
//! bytes need not): the buffer is the core's tag-only instantiation
//! (`KeyWaitBuffer::hold_external`, `BYTES = 0`), and the caller keeps each frame in a `Map` by
//! the tag it gave. Every call that drops frames returns them, so the caller frees exactly
//! those objects.

use js_sys::{Array, Object};
use sframe_core::keywait::{self, DropReason, Held, KeyWaitLimits, Waiting};
use wasm_bindgen::prelude::*;

use crate::convert::key_id;
use crate::error::{JsResult, core_error, type_error};
use crate::set;

/// Most frames a `KeyWaitBuffer` can hold (`maxFrames` is at most this): its fixed capacity.
pub const KEY_WAIT_CAPACITY: usize = 256;

/// Largest integer a JavaScript `number` holds exactly (2^53 - 1).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// Frames waiting for their key, bounded (`sframe_core::keywait::KeyWaitBuffer`, tag-only).
#[wasm_bindgen]
pub struct KeyWaitBuffer {
    inner: Box<keywait::KeyWaitBuffer<KEY_WAIT_CAPACITY, 0>>,
}

#[wasm_bindgen]
impl KeyWaitBuffer {
    /// `new KeyWaitBuffer(maxFrames, maxBytes, maxAge)`: at most `maxFrames` frames
    /// (1..=`keyWaitCapacity()`, else `"invalid_config"`), `maxBytes` bytes (the sizes given
    /// to `hold`), each waiting at most `maxAge` (in the unit of the `now` values given, e.g.
    /// milliseconds). Non-negative integer numbers, else `TypeError`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = maxFrames)] max_frames: f64,
        #[wasm_bindgen(js_name = maxBytes)] max_bytes: f64,
        #[wasm_bindgen(js_name = maxAge)] max_age: f64,
    ) -> JsResult<KeyWaitBuffer> {
        let limits = KeyWaitLimits {
            max_frames: count(max_frames, "maxFrames")? as usize,
            max_bytes: count(max_bytes, "maxBytes")? as usize,
            max_age: count(max_age, "maxAge")?,
        };
        Ok(KeyWaitBuffer {
            inner: Box::new(keywait::KeyWaitBuffer::new(limits).map_err(core_error)?),
        })
    }

    /// Holds the frame the caller keeps under `tag` (a non-negative safe integer) until the
    /// key for `keyId` arrives; `size` is its byte length, `now` the current time. Returns the
    /// frames dropped to make room or for their age — and this one, reason `"tooBig"`, if it
    /// is larger than `maxBytes`: `[{ tag, keyId, reason, size, arrival }]`, oldest first.
    #[wasm_bindgen(unchecked_return_type = "import('../index.js').KeyWaitFrame[]")]
    pub fn hold(
        &mut self,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
        tag: f64,
        size: f64,
        now: f64,
    ) -> JsResult<Array> {
        let waiting = Waiting {
            kid: key_id(kid)?,
            tag: count(tag, "tag")?,
            stream: 0,
        };
        let size = count(size, "size")? as usize;
        let now = time(now)?;
        let mut dropped = Vec::new();
        self.inner
            .hold_external(waiting, size, now, |h, why| dropped.push((h, why)));
        frames(&dropped)
    }

    /// Releases the oldest frame waiting for `keyId` — `{ tag, keyId, reason: "released",
    /// size, arrival }` — or returns `null` when none waits. Call `expire` first, so that no
    /// frame older than `maxAge` is delivered.
    #[wasm_bindgen(unchecked_return_type = "import('../index.js').KeyWaitFrame | null")]
    pub fn release(
        &mut self,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
    ) -> JsResult<JsValue> {
        match self
            .inner
            .release(key_id(kid)?, &mut [])
            .map_err(core_error)?
        {
            Some(held) => Ok(frame(&held, "released")?.into()),
            None => Ok(JsValue::NULL),
        }
    }

    /// Drops the frames that waited longer than `maxAge` at `now` (reason `"expired"`).
    #[wasm_bindgen(unchecked_return_type = "import('../index.js').KeyWaitFrame[]")]
    pub fn expire(&mut self, now: f64) -> JsResult<Array> {
        let now = time(now)?;
        let mut dropped = Vec::new();
        self.inner.expire(now, |h, why| dropped.push((h, why)));
        frames(&dropped)
    }

    /// Drops every frame waiting for `keyId` (reason `"removed"`): its key will not come.
    #[wasm_bindgen(js_name = dropKeyId, unchecked_return_type = "import('../index.js').KeyWaitFrame[]")]
    pub fn drop_key_id(
        &mut self,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
    ) -> JsResult<Array> {
        let kid = key_id(kid)?;
        let mut dropped = Vec::new();
        self.inner.drop_kid(kid, |h, why| dropped.push((h, why)));
        frames(&dropped)
    }

    /// Drops every waiting frame (reason `"removed"`), e.g. when the stream ends.
    #[wasm_bindgen(js_name = dropAll, unchecked_return_type = "import('../index.js').KeyWaitFrame[]")]
    pub fn drop_all(&mut self) -> JsResult<Array> {
        let mut dropped = Vec::new();
        self.inner
            .drop_where(|_| true, |h, why| dropped.push((h, why)));
        frames(&dropped)
    }

    /// Number of frames waiting for `keyId`.
    #[wasm_bindgen(js_name = waitingFor)]
    pub fn waiting_for(
        &self,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number")] kid: &JsValue,
    ) -> JsResult<u32> {
        Ok(u32::try_from(self.inner.waiting_for(key_id(kid)?)).unwrap_or(u32::MAX))
    }

    /// Number of frames waiting.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> u32 {
        u32::try_from(self.inner.len()).unwrap_or(u32::MAX)
    }

    /// Bytes waiting (the sum of their sizes).
    #[wasm_bindgen(getter, js_name = waitingBytes)]
    pub fn waiting_bytes(&self) -> f64 {
        self.inner.waiting_bytes() as f64
    }

    /// The limits in force: `{ maxFrames, maxBytes, maxAge }`.
    #[wasm_bindgen(getter, unchecked_return_type = "import('../index.js').KeyWaitLimits")]
    pub fn limits(&self) -> JsResult<JsValue> {
        let l = self.inner.limits();
        let out = Object::new();
        set(&out, "maxFrames", (l.max_frames as f64).into())?;
        set(&out, "maxBytes", (l.max_bytes as f64).into())?;
        set(&out, "maxAge", (l.max_age as f64).into())?;
        Ok(out.into())
    }

    /// The core's counters (`sframe_core::keywait::KeyWaitStats`): `{ held, released,
    /// droppedOverflow, droppedExpired, droppedTooBig, droppedRemoved, waiting, waitingBytes }`.
    #[wasm_bindgen(getter, unchecked_return_type = "import('../index.js').KeyWaitStats")]
    pub fn stats(&self) -> JsResult<JsValue> {
        let s = self.inner.stats();
        let out = Object::new();
        for (name, value) in [
            ("held", s.held),
            ("released", s.released),
            ("droppedOverflow", s.dropped_overflow),
            ("droppedExpired", s.dropped_age),
            ("droppedTooBig", s.dropped_too_big),
            ("droppedRemoved", s.dropped_removed),
            ("waiting", s.waiting),
            ("waitingBytes", s.waiting_bytes),
        ] {
            set(&out, name, (value as f64).into())?;
        }
        Ok(out.into())
    }
}

/// The fixed capacity of a `KeyWaitBuffer` in frames: the largest `maxFrames`.
#[wasm_bindgen(js_name = keyWaitCapacity)]
pub fn key_wait_capacity() -> u32 {
    KEY_WAIT_CAPACITY as u32
}

/// A count, size or tag: a non-negative integer `number` up to 2^53 - 1.
fn count(v: f64, what: &str) -> JsResult<u64> {
    if v.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER).contains(&v) {
        Ok(v as u64)
    } else {
        Err(type_error(&format!(
            "{what} must be a non-negative integer (at most 2^53-1)"
        )))
    }
}

/// A time (`performance.now()` milliseconds): finite and non-negative; fractions dropped.
fn time(v: f64) -> JsResult<u64> {
    if v.is_finite() && (0.0..=MAX_SAFE_INTEGER).contains(&v) {
        Ok(v.floor() as u64)
    } else {
        Err(type_error("now must be a finite non-negative number"))
    }
}

fn reason(why: DropReason) -> &'static str {
    match why {
        DropReason::Overflow => "overflow",
        DropReason::Expired => "expired",
        DropReason::TooBig => "tooBig",
        DropReason::Removed => "removed",
    }
}

fn frame(held: &Held, why: &str) -> JsResult<Object> {
    let out = Object::new();
    set(&out, "tag", (held.tag as f64).into())?;
    set(&out, "keyId", held.kid.into())?;
    set(&out, "reason", why.into())?;
    set(&out, "size", (held.len as f64).into())?;
    set(&out, "arrival", (held.arrival as f64).into())?;
    Ok(out)
}

fn frames(dropped: &[(Held, DropReason)]) -> JsResult<Array> {
    let out = Array::new();
    for (held, why) in dropped {
        out.push(&frame(held, reason(*why))?.into());
    }
    Ok(out)
}
