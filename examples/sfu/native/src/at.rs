//! Reading untrusted JSON without panics: `v.at("data").at("id")` is `Null` when a field is
//! missing or `v` is not an object (serde_json's `v["data"]` does the same for reads, but the
//! crate denies `Index` altogether so that no write through `IndexMut` can panic either).

use serde_json::Value;

static NULL: Value = Value::Null;

pub trait At {
    fn at(&self, key: &str) -> &Value;
}

impl At for Value {
    fn at(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NULL)
    }
}
