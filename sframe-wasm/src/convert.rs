//! JavaScript values → Rust types (the type-conversion half of the binding). Anything
//! unexpected becomes a `TypeError`/`RangeError`, never a trap.

use js_sys::{ArrayBuffer, Reflect, Uint8Array};
use sframe_core::CipherSuite;
use sframe_core::key::Derived;
use wasm_bindgen::convert::TryFromJsValue;
use wasm_bindgen::{JsCast, JsValue};

use crate::error::{JsResult, core_error, range_error, type_error};

/// Largest integer a JavaScript `number` holds exactly (2^53 - 1).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A cipher suite given as its IANA value (1..8: RFC 9605 §8.1 and draft-barnes-sframe-iana-256)
/// or registry name (§4.5).
pub fn suite(v: &JsValue) -> JsResult<CipherSuite> {
    if let Some(name) = v.as_string() {
        return CipherSuite::from_name(&name).map_err(core_error);
    }
    if let Some(n) = v.as_f64() {
        if n.fract() == 0.0 && (0.0..=f64::from(u16::MAX)).contains(&n) {
            return CipherSuite::from_id(n as u16).map_err(core_error);
        }
        return Err(core_error(sframe_core::Error::UnsupportedCipherSuite));
    }
    Err(type_error(
        "cipherSuite must be a number (1..8) or a cipher suite name",
    ))
}

/// Which §4.4.2 output: `"key"` (`sframe_key`) or `"salt"` (`sframe_salt`).
pub fn derived(v: &JsValue) -> JsResult<Derived> {
    match v.as_string().as_deref() {
        Some("key") => Ok(Derived::Key),
        Some("salt") => Ok(Derived::Salt),
        _ => Err(type_error(r#"which must be "key" or "salt""#)),
    }
}

/// A key ID (`CryptoKeyID`): a `bigint` in 0..2^64-1 or a `number` in 0..2^53-1.
pub fn key_id(v: &JsValue) -> JsResult<u64> {
    if v.is_bigint() {
        return u64::try_from_js_value_ref(v)
            .ok_or_else(|| range_error("keyId must be in 0..2^64-1"));
    }
    if let Some(n) = v.as_f64() {
        if n.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER).contains(&n) {
            return Ok(n as u64);
        }
        return Err(range_error(
            "keyId must be an integer in 0..2^53-1 (use a bigint for larger values)",
        ));
    }
    Err(type_error("keyId must be a bigint or a number"))
}

/// An RTP SSRC: an integer `number` in 0..2^32-1 (not coerced: -1 or 1.5 is an error).
pub fn ssrc(v: &JsValue) -> JsResult<u32> {
    match v.as_f64() {
        Some(n) if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) => Ok(n as u32),
        Some(_) => Err(range_error("ssrc must be an integer in 0..2^32-1")),
        None => Err(type_error("ssrc must be a number")),
    }
}

/// A `bigint` in 0..2^64-1 (counters).
pub fn u64_bigint(v: &JsValue, what: &str) -> JsResult<u64> {
    if !v.is_bigint() {
        return Err(type_error(&format!("{what} must be a bigint")));
    }
    u64::try_from_js_value_ref(v)
        .ok_or_else(|| range_error(&format!("{what} must be in 0..2^64-1")))
}

/// The bytes of a `Uint8Array`, any other `ArrayBufferView` or an `ArrayBuffer`, copied into
/// wasm memory.
pub fn bytes(v: &JsValue, what: &str) -> JsResult<Vec<u8>> {
    if let Some(u8s) = v.dyn_ref::<Uint8Array>() {
        return Ok(u8s.to_vec());
    }
    if v.is_instance_of::<ArrayBuffer>() {
        return Ok(Uint8Array::new(v).to_vec());
    }
    if ArrayBuffer::is_view(v) {
        let buffer = Reflect::get(v, &JsValue::from_str("buffer"))?;
        let offset = Reflect::get(v, &JsValue::from_str("byteOffset"))?.as_f64();
        let length = Reflect::get(v, &JsValue::from_str("byteLength"))?.as_f64();
        if let (Some(offset), Some(length)) = (offset, length) {
            return Ok(Uint8Array::new_with_byte_offset_and_length(
                &buffer,
                offset as u32,
                length as u32,
            )
            .to_vec());
        }
    }
    Err(type_error(&format!(
        "{what} must be a Uint8Array, an ArrayBufferView or an ArrayBuffer"
    )))
}

/// Like [`bytes`], with `undefined`/`null` meaning no bytes (optional metadata).
pub fn optional_bytes(v: &JsValue) -> JsResult<Vec<u8>> {
    if v.is_undefined() || v.is_null() {
        Ok(Vec::new())
    } else {
        bytes(v, "metadata")
    }
}
