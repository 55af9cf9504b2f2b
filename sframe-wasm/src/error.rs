//! `sframe_core::Error` → JavaScript `Error` with a stable `code` (the error-mapping half of
//! the binding).

use js_sys::{Reflect, TypeError};
use wasm_bindgen::JsValue;

/// What every exported function returns: an `Err` becomes a thrown JavaScript exception.
pub type JsResult<T> = Result<T, JsValue>;

/// Code of argument errors raised by the binding itself (not by `sframe-core`).
pub const INVALID_ARGUMENT: &str = "invalid_argument";

/// `Error { name: "SFrameError", message, code }` with `code = e.code()`, e.g.
/// `"authentication_failed"`.
pub fn core_error(e: sframe_core::Error) -> JsValue {
    let err = js_sys::Error::new(e.message());
    err.set_name("SFrameError");
    with_code(err.into(), e.code())
}

/// `TypeError` with code `"invalid_argument"`.
pub fn type_error(message: &str) -> JsValue {
    with_code(TypeError::new(message).into(), INVALID_ARGUMENT)
}

/// `RangeError` with code `"invalid_argument"`.
pub fn range_error(message: &str) -> JsValue {
    with_code(js_sys::RangeError::new(message).into(), INVALID_ARGUMENT)
}

fn with_code(err: JsValue, code: &str) -> JsValue {
    // Setting a property on a fresh Error object cannot fail; if it somehow did, the error
    // is still thrown, just without `code`.
    let _ = Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str(code));
    err
}
