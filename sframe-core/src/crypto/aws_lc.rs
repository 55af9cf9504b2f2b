//! aws-lc-rs backend (feature `aws-lc`): not implemented yet.
compile_error!("the aws-lc backend is not implemented yet");
