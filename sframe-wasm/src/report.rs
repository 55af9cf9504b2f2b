//! `ErrorRuns` and `errorTypeOf`: `sframe_core::report` (one error report per run of identical
//! failures, W3C WebRTC Encoded Transform error events and its issue #307) for JavaScript.
//! Conversion only: the run logic is the core's.

use js_sys::Object;
use sframe_core::report::{ErrorRun, FailureKind, Report};
use wasm_bindgen::prelude::*;

use crate::convert::key_id;
use crate::error::{JsResult, type_error};
use crate::set;

/// Folds a stream's failures into one report per run of identical failures (same
/// `errorType`, same key ID): wraps `sframe_core::report::ErrorRuns`.
#[wasm_bindgen]
#[derive(Default)]
pub struct ErrorRuns {
    inner: sframe_core::report::ErrorRuns,
}

#[wasm_bindgen]
impl ErrorRuns {
    /// `new ErrorRuns()`: no failure seen yet.
    #[wasm_bindgen(constructor)]
    pub fn new() -> ErrorRuns {
        ErrorRuns::default()
    }

    /// A frame failed with `errorType` (`"authentication"`, `"keyID"` or `"syntax"`) and
    /// `keyId` (a bigint or number; `null`/`undefined`: its header did not parse). Returns
    /// `{ errorType, keyID, previousRun }` when this failure starts a run — report it; its
    /// `previousRun` is the complete run before it (`{ errorType, keyID, count }`) or `null` —
    /// and `null` when it continues the run going on.
    #[wasm_bindgen(unchecked_return_type = "import('../index.js').ErrorRunReport | null")]
    pub fn observe(
        &mut self,
        #[wasm_bindgen(js_name = errorType, unchecked_param_type = "'authentication' | 'keyID' | 'syntax'")]
        error_type: &JsValue,
        #[wasm_bindgen(js_name = keyId, unchecked_param_type = "bigint | number | null | undefined")]
        kid: &JsValue,
    ) -> JsResult<JsValue> {
        let kind = error_type
            .as_string()
            .and_then(|name| FailureKind::from_name(&name))
            .ok_or_else(|| {
                type_error(r#"errorType must be "authentication", "keyID" or "syntax""#)
            })?;
        let kid = if kid.is_null() || kid.is_undefined() {
            None
        } else {
            Some(key_id(kid)?)
        };
        match self.inner.observe(kind, kid) {
            Some(report) => report_to_js(&report),
            None => Ok(JsValue::NULL),
        }
    }

    /// A frame succeeded: ends the run going on and returns it (`{ errorType, keyID, count }`),
    /// or `null` when the frame before succeeded too.
    #[wasm_bindgen(unchecked_return_type = "import('../index.js').SFrameErrorRun | null")]
    pub fn success(&mut self) -> JsResult<JsValue> {
        optional_run(self.inner.success())
    }

    /// The run going on (the last frame failed), or `null`.
    #[wasm_bindgen(
        getter,
        unchecked_return_type = "import('../index.js').SFrameErrorRun | null"
    )]
    pub fn current(&self) -> JsResult<JsValue> {
        optional_run(self.inner.current())
    }

    /// The run that ended last, or `null`.
    #[wasm_bindgen(getter, js_name = lastEnded, unchecked_return_type = "import('../index.js').SFrameErrorRun | null")]
    pub fn last_ended(&self) -> JsResult<JsValue> {
        optional_run(self.inner.last_ended())
    }

    /// Failures reported (each started a run).
    #[wasm_bindgen(getter)]
    pub fn reported(&self) -> f64 {
        self.inner.reported() as f64
    }

    /// Failures folded into a run without a report.
    #[wasm_bindgen(getter)]
    pub fn suppressed(&self) -> f64 {
        self.inner.suppressed() as f64
    }
}

/// The W3C `SFrameTransformErrorEventType` of a frame a receiver refused with the error of
/// this `code` (`sframe_core::report::FailureKind::of`): `"keyID"`, `"authentication"`,
/// `"syntax"`, or `null` for `"replay"` (an authentic frame seen before: no error event).
/// A code that is not `sframe-core`'s (e.g. the JS layer's `"frame_too_short"`) is `"syntax"`.
#[wasm_bindgen(js_name = errorTypeOf, unchecked_return_type = "'authentication' | 'keyID' | 'syntax' | null")]
pub fn error_type_of(code: &str) -> JsValue {
    let kind = match sframe_core::Error::ALL
        .into_iter()
        .find(|e| e.code() == code)
    {
        Some(e) => FailureKind::of(e),
        None => Some(FailureKind::Syntax),
    };
    kind.map_or(JsValue::NULL, |k| JsValue::from_str(k.name()))
}

fn report_to_js(report: &Report) -> JsResult<JsValue> {
    let out = Object::new();
    set(&out, "errorType", report.kind.name().into())?;
    set(
        &out,
        "keyID",
        report.key_id.map_or(JsValue::NULL, JsValue::from),
    )?;
    set(&out, "previousRun", optional_run(report.previous)?)?;
    Ok(out.into())
}

fn optional_run(run: Option<ErrorRun>) -> JsResult<JsValue> {
    let Some(run) = run else {
        return Ok(JsValue::NULL);
    };
    let out = Object::new();
    set(&out, "errorType", run.kind.name().into())?;
    set(
        &out,
        "keyID",
        run.key_id.map_or(JsValue::NULL, JsValue::from),
    )?;
    // A number, like the package's other counters (exact up to 2^53).
    set(&out, "count", (run.count as f64).into())?;
    Ok(out.into())
}
