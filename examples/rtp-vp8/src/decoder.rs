//! A real VP8 decoder: GStreamer's `vp8dec` (libvpx) in a `gst-launch-1.0` subprocess. Frames
//! go in as plain RFC 7741 RTP packets, RFC 4571-framed on its stdin
//! (`fdsrc ! rtpstreamdepay ! rtpvp8depay ! vp8dec`), so GStreamer's own VP8 depayloader
//! checks the frame boundaries too; decoded I420 pictures go to a file, and the number of
//! decoded frames is its size over the picture size. (Debian 12's GStreamer has `ivfparse`
//! only in plugins-bad; rtpstreamdepay and rtpvp8depay are in plugins-good.)

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use crate::rtp::{Header, frame_4571};
use crate::{FRAME_TICKS, PAYLOAD_TYPE, SSRC, media, vp8};

pub struct Decoder {
    child: Child,
    stdin: Option<ChildStdin>,
    output: PathBuf,
    seq: u16,
    size: Option<(u16, u16)>,
    /// Frames written to the decoder.
    pub fed: u64,
}

impl Decoder {
    /// Starts `gst-launch-1.0`, decoding into the I420 file `output`.
    pub fn spawn(output: &Path) -> Result<Self, String> {
        let _ = std::fs::remove_file(output);
        let caps = format!(
            "application/x-rtp-stream,media=video,clock-rate={},encoding-name=VP8,payload={PAYLOAD_TYPE}",
            crate::CLOCK_RATE
        );
        let location = format!("location={}", output.display());
        let mut child = Command::new("gst-launch-1.0")
            .args([
                "-q",
                "fdsrc",
                "fd=0",
                "!",
                &caps,
                "!",
                "rtpstreamdepay",
                "!",
            ])
            .args([
                "rtpvp8depay",
                "!",
                "vp8dec",
                "!",
                "video/x-raw,format=I420",
                "!",
            ])
            .args(["filesink", &location])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                format!("cannot start gst-launch-1.0 (GStreamer tools installed?): {e}")
            })?;
        let stdin = child.stdin.take();
        Ok(Decoder {
            child,
            stdin,
            output: output.to_path_buf(),
            seq: 0,
            size: None,
            fed: 0,
        })
    }

    /// Feeds frame number `index` (its RTP timestamp is `index * FRAME_TICKS`).
    pub fn push(&mut self, index: u64, frame: &[u8]) -> Result<(), String> {
        if self.size.is_none() {
            self.size = media::key_frame_size(frame);
        }
        let payloads = vp8::packetize(frame, 1200);
        let mut bytes = Vec::with_capacity(frame.len() + 32 * payloads.len());
        let last = payloads.len() - 1;
        for (i, p) in payloads.iter().enumerate() {
            let h = Header {
                marker: i == last,
                payload_type: PAYLOAD_TYPE,
                sequence: self.seq,
                timestamp: (index as u32).wrapping_mul(FRAME_TICKS),
                ssrc: SSRC,
            };
            self.seq = self.seq.wrapping_add(1);
            frame_4571(&h.packet(p), &mut bytes);
        }
        let stdin = self.stdin.as_mut().ok_or("decoder already finished")?;
        stdin
            .write_all(&bytes)
            .map_err(|e| format!("writing to gst-launch-1.0: {e}"))?;
        self.fed += 1;
        Ok(())
    }

    /// Ends the stream, waits for GStreamer (at most `timeout`) and returns the number of
    /// decoded pictures and the picture size in bytes.
    pub fn finish(mut self, timeout: Duration) -> Result<(u64, usize), String> {
        drop(self.stdin.take());
        let t0 = Instant::now();
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(s)) => break s,
                Ok(None) if t0.elapsed() < timeout => std::thread::sleep(Duration::from_millis(20)),
                Ok(None) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return Err("gst-launch-1.0 did not finish in time".into());
                }
                Err(e) => return Err(format!("waiting for gst-launch-1.0: {e}")),
            }
        };
        if !status.success() {
            return Err(format!("gst-launch-1.0 failed: {status}"));
        }
        let Some((w, h)) = self.size else {
            return Ok((0, 0));
        };
        let picture = media::i420_size(w, h);
        let len = std::fs::metadata(&self.output)
            .map(|m| m.len())
            .unwrap_or(0) as usize;
        if !len.is_multiple_of(picture) {
            return Err(format!(
                "decoded output {len} bytes is not whole {w}x{h} pictures"
            ));
        }
        Ok(((len / picture) as u64, picture))
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // Only reached with the child still running when finish() was not called.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
