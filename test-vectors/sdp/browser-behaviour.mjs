// What the machine's browsers do with a=sframe (quoted in sframe-core/src/sdp.rs, "Browsers").
// Run from the repository root after `(cd sframe-wasm && npm ci)`:
//   node test-vectors/sdp/browser-behaviour.mjs
// Prints, per browser: a remote offer with a=sframe accepted and whether the answer echoes it;
// a remote answer that adds a=sframe accepted or rejected; a local description with an added
// a=sframe accepted or rejected. No network: both peer connections are in one page.
import { launch, label } from '../../sframe-wasm/e2e/browsers.mjs';
for (const name of ['chromium', 'firefox']) {
  const browser = await launch(name);
  const page = await browser.newPage();
  await page.goto('about:blank');
  const r = await page.evaluate(async () => {
    const out = {};
    const add = (sdp) => sdp.replace(/(m=[^\r\n]*\r\nc=[^\r\n]*\r\n)/g, '$1a=sframe\r\n');
    const mk = async () => { const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' }); pc.addTransceiver('audio'); pc.addTransceiver('video'); return pc; };
    // 1. remote offer with a=sframe: accepted? does the answer carry a=sframe?
    { const o = await mk(); const offer = await o.createOffer(); await o.setLocalDescription(offer);
      const a = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
      try { await a.setRemoteDescription({ type: 'offer', sdp: add(offer.sdp) }); const ans = await a.createAnswer();
        out.offerWithSframe = 'accepted; answer has a=sframe: ' + ans.sdp.includes('a=sframe');
        // 2. answer with a=sframe the offer lacked
        try { await o.setRemoteDescription({ type: 'answer', sdp: add(ans.sdp) }); out.answerAddsSframe = 'accepted'; } catch (e) { out.answerAddsSframe = 'rejected: ' + e.message; }
      } catch (e) { out.offerWithSframe = 'rejected: ' + e.message; }
    }
    // 3. local munging: setLocalDescription with a=sframe added
    { const o = await mk(); const offer = await o.createOffer();
      try { await o.setLocalDescription({ type: 'offer', sdp: add(offer.sdp) }); out.localMunge = 'accepted; localDescription has a=sframe: ' + o.localDescription.sdp.includes('a=sframe'); } catch (e) { out.localMunge = 'rejected: ' + e.message; } }
    return out;
  });
  console.log(await label(name, browser), JSON.stringify(r, null, 1));
  await browser.close();
}
