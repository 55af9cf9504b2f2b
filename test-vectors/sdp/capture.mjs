// Captures the SDP fixtures of this folder from the machine's Debian browsers (see README.md).
// Run from the repository root after `(cd sframe-wasm && npm ci)`:
//   node test-vectors/sdp/capture.mjs
// Needs no network: both peer connections live in one page and no ICE candidate is gathered
// (createOffer / createAnswer output is taken before any candidate exists).
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, label } from '../../sframe-wasm/e2e/browsers.mjs';

const here = dirname(fileURLToPath(import.meta.url));

// In the page: an audio track (WebAudio oscillator) and video tracks (canvas captureStream):
// real tracks without getUserMedia, which an about:blank page may not have. `videos` video
// tracks, one transceiver each; bundlePolicy max-bundle as real calls use. The offerer's
// offer, then a second peer connection's answer to it. With `sframe`, the offer given to the
// answerer has a=sframe in every media section, right after the m= and c= lines (where
// sframe_core::rtp::sdp::add_sframe puts it), and that edited offer is returned.
async function offerAnswer(page, videos, sframe = false) {
  return page.evaluate(async (videos, sframe) => {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    const dest = ctx.createMediaStreamDestination();
    osc.connect(dest);
    osc.start();
    const stream = new MediaStream(dest.stream.getAudioTracks());
    for (let i = 0; i < videos; i++) {
      const canvas = document.createElement('canvas');
      canvas.width = 320;
      canvas.height = 240;
      canvas.getContext('2d').fillRect(0, 0, 10, 10);
      stream.addTrack(canvas.captureStream(15).getVideoTracks()[0]);
    }
    const config = { bundlePolicy: 'max-bundle' };
    const offerer = new RTCPeerConnection(config);
    for (const track of stream.getTracks()) offerer.addTrack(track, stream);
    const local = await offerer.createOffer();
    await offerer.setLocalDescription(local);
    const offer = sframe
      ? local.sdp.replace(/(m=[^\r\n]*\r\nc=[^\r\n]*\r\n)/g, '$1a=sframe\r\n')
      : local.sdp;
    const answerer = new RTCPeerConnection(config);
    await answerer.setRemoteDescription({ type: 'offer', sdp: offer });
    const answer = await answerer.createAnswer();
    offerer.close();
    answerer.close();
    return { offer, answer: answer.sdp };
  }, videos, sframe);
}

for (const name of ['chromium', 'firefox']) {
  const browser = await launch(name);
  try {
    const page = await browser.newPage();
    await page.goto('about:blank');
    const who = await label(name, browser);
    const version = await browser.version();
    const { offer, answer } = await offerAnswer(page, 1);
    writeFileSync(join(here, `${name}-offer.sdp`), offer);
    writeFileSync(join(here, `${name}-answer.sdp`), answer);
    const two = await offerAnswer(page, 2);
    writeFileSync(join(here, `${name}-offer-2video.sdp`), two.offer);
    const withSframe = await offerAnswer(page, 1, true);
    writeFileSync(join(here, `${name}-offer-sframe.sdp`), withSframe.offer);
    writeFileSync(join(here, `${name}-answer-sframe.sdp`), withSframe.answer);
    console.log(`${who} (${version}): ${name}-{offer,answer,offer-2video,offer-sframe,answer-sframe}.sdp`);
  } finally {
    await browser.close();
  }
}
