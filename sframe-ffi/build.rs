//! Gives the shared library a versioned SONAME on Linux, `libsframe.so.<SOVERSION>`, so
//! programs record the ABI they were linked against (their `NEEDED` entry) rather than the
//! unversioned development symlink; `install.sh` installs `libsframe.so.<crate version>` with
//! the `libsframe.so.<SOVERSION>` and `libsframe.so` symlinks.

/// The C ABI's major version, independent of the crate version (`install.sh` reads it from
/// this line): bump it whenever a change to `include/sframe.h` breaks programs linked against
/// an earlier library (a removed or changed function, struct or enum value).
const SOVERSION: &str = "0";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // CARGO_CFG_TARGET_OS is the target's, not the host's (cross builds). `rustc-cdylib-link-arg`
    // reaches only the cdylib, never the staticlib, the rlib or the tests.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsframe.so.{SOVERSION}");
    }
}
