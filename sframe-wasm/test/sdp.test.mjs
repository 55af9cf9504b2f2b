// The `sdp` namespace (js/sdp.js, src/sdp.rs): a=sframe negotiation (draft-ietf-avtcore-rtp-sframe
// §6) on real Chromium 156 and Firefox ESR 153 SDP (test-vectors/sdp/): add/remove are
// byte-identical, the browsers' answers give the outcomes the draft asks for, a full
// offer/answer round, policy functions, SFrameSdpError codes and details, argument errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sdp } from '../js/index.js';
import { sdpErrorCodes } from '../pkg/sframe_wasm.js';

const fixture = (name) =>
  readFileSync(new URL(`../../test-vectors/sdp/${name}.sdp`, import.meta.url), 'utf8');
const CHROMIUM_OFFER = fixture('chromium-offer');
const CHROMIUM_ANSWER = fixture('chromium-answer');
const CHROMIUM_OFFER_2VIDEO = fixture('chromium-offer-2video');
const CHROMIUM_OFFER_SFRAME = fixture('chromium-offer-sframe');
const CHROMIUM_ANSWER_SFRAME = fixture('chromium-answer-sframe');
const FIREFOX_OFFER = fixture('firefox-offer');
const FIREFOX_ANSWER = fixture('firefox-answer');
const FIREFOX_OFFER_2VIDEO = fixture('firefox-offer-2video');
const FIREFOX_OFFER_SFRAME = fixture('firefox-offer-sframe');
const FIREFOX_ANSWER_SFRAME = fixture('firefox-answer-sframe');
const PLAIN = {
  CHROMIUM_OFFER,
  CHROMIUM_ANSWER,
  CHROMIUM_OFFER_2VIDEO,
  FIREFOX_OFFER,
  FIREFOX_ANSWER,
  FIREFOX_OFFER_2VIDEO,
};
const LINE = 'a=sframe\r\n';

/** The `outcome` (and `reason`) of each outcome. */
const kinds = (list) => list.map((o) => (o.reason ? `${o.outcome}:${o.reason}` : o.outcome));

/** Runs `f`, expects an SFrameSdpError, returns it. */
function sdpError(f) {
  try {
    f();
  } catch (e) {
    assert.equal(e.name, 'SFrameSdpError', String(e));
    assert.ok(e instanceof Error);
    return e;
  }
  assert.fail('no SFrameSdpError thrown');
}

test('add then remove a=sframe is byte-identical in every section of every browser fixture', () => {
  for (const [name, text] of Object.entries(PLAIN)) {
    const sections = sdp.sections(text);
    assert.equal(sections.length, name.includes('2VIDEO') ? 3 : 2, name);
    for (const s of sections) {
      assert.equal(s.rtp && !s.stopped && s.bundled && !s.hasSframe, true, `${name} ${s.index}`);
      for (const which of [s.index, s.mid]) {
        const withIt = sdp.addSframe(text, which);
        assert.equal(withIt.length, text.length + LINE.length);
        assert.ok(sdp.hasSframe(withIt, which));
        assert.equal(sdp.hasSframe(text, which), false);
        // Right after the m= and c= lines.
        const lines = withIt.split('\r\n');
        const at = lines.indexOf('a=sframe');
        assert.match(lines[at - 2], /^m=/);
        assert.match(lines[at - 1], /^c=/);
        assert.equal(sdp.addSframe(withIt, which), withIt, 'idempotent');
        assert.equal(sdp.removeSframe(withIt, which), text, `${name} ${which}`);
      }
    }
    const every = sdp.prepareOffer(text, 'required');
    assert.equal(every.split(LINE).length - 1, sections.length);
    assert.equal(sdp.stripSframe(every), text);
  }
  // The edited offers captured in the browsers are what prepareOffer makes.
  for (const edited of [CHROMIUM_OFFER_SFRAME, FIREFOX_OFFER_SFRAME]) {
    const original = sdp.stripSframe(edited);
    assert.ok(!original.includes('sframe'));
    assert.equal(sdp.prepareOffer(original, 'preferred'), edited);
    assert.equal(sdp.prepareOffer(edited, 'off'), original);
  }
});

test("sections(): Firefox's bundle-only video is live, with its facts", () => {
  const [audio, video] = sdp.sections(FIREFOX_OFFER);
  assert.deepEqual(video, {
    index: 1,
    mid: '1',
    media: 'video',
    port: 0,
    proto: 'UDP/TLS/RTP/SAVPF',
    rtp: true,
    stopped: false,
    bundled: true,
    bundleOnly: true,
    hasSframe: false,
  });
  assert.equal(audio.media, 'audio');
  assert.equal(audio.mid, '0');
});

test("checkAnswer: Chromium's a=sframe answer is negotiated; Firefox's is stopped under required", () => {
  const chromium = sdp.checkAnswer(CHROMIUM_OFFER_SFRAME, CHROMIUM_ANSWER_SFRAME, 'required');
  assert.deepEqual(chromium, [
    { index: 0, mid: '0', outcome: 'negotiated' },
    { index: 1, mid: '1', outcome: 'negotiated' },
  ]);
  const firefox = sdp.checkAnswer(FIREFOX_OFFER_SFRAME, FIREFOX_ANSWER_SFRAME, 'required');
  assert.deepEqual(firefox, [
    { index: 0, mid: '0', outcome: 'stopped', reason: 'peer-lacks-sframe' },
    { index: 1, mid: '1', outcome: 'stopped', reason: 'peer-lacks-sframe' },
  ]);
  assert.deepEqual(kinds(sdp.checkAnswer(FIREFOX_OFFER_SFRAME, FIREFOX_ANSWER_SFRAME, 'preferred')), [
    'clear',
    'clear',
  ]);
  // Required never falls back to clear; an answer adding a=sframe is rejected.
  assert.deepEqual(kinds(sdp.checkAnswer(CHROMIUM_OFFER, CHROMIUM_ANSWER, 'required')), [
    'stopped:sframe-not-offered',
    'stopped:sframe-not-offered',
  ]);
  assert.deepEqual(kinds(sdp.checkAnswer(CHROMIUM_OFFER, CHROMIUM_ANSWER_SFRAME, 'off')), [
    'rejected:answer-added-sframe',
    'rejected:answer-added-sframe',
  ]);
});

test('a full round: prepareOffer, answerForOffer + applyAnswer, checkAnswer', () => {
  const offer = sdp.prepareOffer(CHROMIUM_OFFER, 'required');
  const plan = sdp.answerForOffer(offer, 'preferred');
  assert.deepEqual(kinds(plan), ['negotiated', 'negotiated']);
  const answer = sdp.applyAnswer(CHROMIUM_ANSWER, plan);
  assert.equal(sdp.stripSframe(answer), CHROMIUM_ANSWER);
  assert.deepEqual(kinds(sdp.checkAnswer(offer, answer, 'required')), ['negotiated', 'negotiated']);
  // Outcomes built by hand (no index or mid) work too.
  assert.equal(sdp.applyAnswer(CHROMIUM_ANSWER, [{ outcome: 'negotiated' }, { outcome: 'negotiated' }]), answer);
  // A required answerer to a plain offer: both stopped, port 0, out of the BUNDLE group.
  const stop = sdp.answerForOffer(FIREFOX_OFFER, 'required');
  assert.deepEqual(kinds(stop), ['stopped:peer-lacks-sframe', 'stopped:peer-lacks-sframe']);
  const stopped = sdp.applyAnswer(FIREFOX_ANSWER, stop);
  assert.match(stopped, /\r\nm=audio 0 /);
  assert.match(stopped, /\r\na=group:BUNDLE\r\n/);
  assert.deepEqual(kinds(sdp.checkAnswer(FIREFOX_OFFER, stopped, 'preferred')), [
    'stopped:rejected-by-answerer',
    'stopped:rejected-by-answerer',
  ]);
});

test('a policy function is asked per live RTP section, with its facts', () => {
  const asked = [];
  const offer = sdp.prepareOffer(CHROMIUM_OFFER, (s) => {
    asked.push([s.index, s.mid, s.media]);
    return s.media === 'audio' ? 'required' : 'off';
  });
  assert.deepEqual(asked, [
    [0, '0', 'audio'],
    [1, '1', 'video'],
  ]);
  assert.equal(offer, sdp.addSframe(CHROMIUM_OFFER, 0));
  const plan = sdp.answerForOffer(offer, (s) => (s.hasSframe ? 'preferred' : 'required'));
  assert.deepEqual(kinds(plan), ['negotiated', 'stopped:peer-lacks-sframe']);
  // What the function throws is thrown; a value that is no policy is a TypeError.
  const boom = new Error('boom');
  assert.throws(() => sdp.prepareOffer(CHROMIUM_OFFER, () => { throw boom; }), (e) => e === boom);
  assert.throws(() => sdp.checkAnswer(CHROMIUM_OFFER, CHROMIUM_ANSWER, () => 'maybe'), TypeError);
  let calls = 0;
  assert.throws(() =>
    sdp.answerForOffer(CHROMIUM_OFFER, () => {
      calls += 1;
      throw boom;
    }),
  );
  assert.equal(calls, 1, 'not asked again after it threw');
});

test("§6's BUNDLE rule: the conflict's payload type, and rejected plans", () => {
  const oneVideo = (s) => (s.index === 2 ? 'off' : 'required');
  const conflict = { payloadType: 39, sframeSection: 1, clearSection: 2 };
  const e = sdpError(() => sdp.prepareOffer(CHROMIUM_OFFER_2VIDEO, oneVideo));
  assert.equal(e.code, 'bundle_payload_type_reuse');
  assert.deepEqual(e.conflict, conflict);
  assert.equal(sdpError(() => sdp.prepareOffer(FIREFOX_OFFER_2VIDEO, oneVideo)).conflict.payloadType, 99);
  // An offer breaking it: the answerer's plan rejects both sections, applying it throws.
  const bad = sdp.addSframe(CHROMIUM_OFFER_2VIDEO, 1);
  const plan = sdp.answerForOffer(bad, 'preferred');
  assert.deepEqual(plan[1], { index: 1, mid: '1', outcome: 'rejected', reason: 'bundle-payload-type-reuse', conflict });
  const r = sdpError(() => sdp.applyAnswer(CHROMIUM_OFFER_2VIDEO, plan));
  assert.equal(r.code, 'rejected');
  assert.equal(r.index, 1);
  assert.equal(r.reason, 'bundle-payload-type-reuse');
  assert.deepEqual(r.conflict, conflict);
});

test('SFrameSdpError: every code is sframe-core\'s, with line / index / counts', () => {
  const codes = sdpErrorCodes();
  const dts = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8');
  const union = dts.match(/export type SdpErrorCode =([^;]*);/)[1];
  assert.deepEqual([...union.matchAll(/'([^']*)'/g)].map((m) => m[1]), codes);
  const cases = [
    ['', 'not_sdp', {}],
    ['v=0\r\ns=-\r\nbogus\r\n', 'malformed_line', { line: 3 }],
    ['v=0\r\nm=audio x RTP/AVP 0\r\n', 'malformed_media_line', { line: 2 }],
    ['v=0\r\na=sframe\r\n', 'session_level_sframe', { line: 2 }],
    ['v=0\r\nm=audio 9 RTP/AVP 0\r\na=sframe:1\r\n', 'sframe_with_value', { line: 3 }],
    ['v=0\r\nm=audio 9 RTP/AVP 0\r\na=mid:a\r\nm=video 9 RTP/AVP 96\r\na=mid:a\r\n', 'duplicate_mid', { line: 5 }],
    ['v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n', 'not_rtp', { index: 0 }],
    ['v=0\r\nm=audio 9 RTP/AVP 0\r\n', 'no_such_section', {}, 1],
  ];
  const seen = new Set();
  for (const [text, code, where, section = 0] of cases) {
    const e = sdpError(() => sdp.addSframe(text, section));
    assert.equal(e.code, code, text);
    for (const [k, v] of Object.entries(where)) assert.equal(e[k], v, `${code}.${k}`);
    assert.ok(e.message.length > 0);
    seen.add(code);
  }
  assert.equal(sdpError(() => sdp.hasSframe(FIREFOX_OFFER, 'nope')).code, 'no_such_section');
  const m = sdpError(() => sdp.checkAnswer(CHROMIUM_OFFER_2VIDEO, CHROMIUM_ANSWER, 'required'));
  assert.deepEqual([m.code, m.expected, m.found], ['section_count_mismatch', 3, 2]);
  seen.add(m.code).add('bundle_payload_type_reuse').add('rejected'); // previous test
  assert.deepEqual([...seen].sort(), [...codes].sort());
});

test('argument errors are TypeErrors', () => {
  for (const f of [
    () => sdp.addSframe(42, 0),
    () => sdp.addSframe(CHROMIUM_OFFER, -1),
    () => sdp.addSframe(CHROMIUM_OFFER, 0.5),
    () => sdp.addSframe(CHROMIUM_OFFER, null),
    () => sdp.prepareOffer(CHROMIUM_OFFER, 'REQUIRED'),
    () => sdp.prepareOffer(CHROMIUM_OFFER, undefined),
    () => sdp.answerForOffer(CHROMIUM_OFFER, {}),
    () => sdp.applyAnswer(CHROMIUM_ANSWER, 'negotiated'),
    () => sdp.applyAnswer(CHROMIUM_ANSWER, [{ outcome: 'negotiated' }, { outcome: 'stopped' }]),
    () => sdp.applyAnswer(CHROMIUM_ANSWER, [{ outcome: 'negotiated' }, { outcome: 'rejected', reason: 'bundle-payload-type-reuse' }]),
    () => sdp.applyAnswer(CHROMIUM_ANSWER, [{ outcome: 'negotiated' }, null]),
  ]) {
    assert.throws(f, (e) => e instanceof TypeError && e.code === 'invalid_argument', String(f));
  }
  // Fewer outcomes than sections is the core's error.
  const e = sdpError(() => sdp.applyAnswer(CHROMIUM_ANSWER, [{ outcome: 'clear' }]));
  assert.deepEqual([e.code, e.expected, e.found], ['section_count_mismatch', 1, 2]);
});
