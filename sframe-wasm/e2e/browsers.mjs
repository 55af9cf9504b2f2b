// The two real browsers of the e2e tests, driven by puppeteer-core (never a downloaded
// browser): Debian's Chromium over CDP and Debian's Firefox ESR over WebDriver BiDi (Playwright
// cannot drive a stock Firefox; puppeteer's BiDi client can). One launch function and one page
// API for both, so every case runs the same code in each browser.
//
// ICE on loopback. The CI stage runs the tests in a network namespace that has nothing but
// `lo`, so every ICE candidate is 127.0.0.1 / ::1 and no packet leaves the machine; both
// browsers need telling that loopback is fine:
// - Chromium: --allow-loopback-in-peer-connection (it skips loopback networks otherwise);
//   --use-fake-ui-for-media-stream grants the page camera + microphone, and only a page with
//   that grant gets every interface (and its real addresses instead of mDNS names).
// - Firefox: media.peerconnection.ice.loopback; and, as in Chromium, a page gathers on every
//   interface only if it holds a camera/microphone permission (else only the default route's
//   address, and a namespace without a default route yields no candidate at all):
//   permissions.default.{camera,microphone} = 1 is that grant. Fake devices (no prompt) and
//   autoplay (the demo's audio and <video>) are prefs too.
import puppeteer from 'puppeteer-core';

/** The browsers to test: E2E_BROWSERS=firefox (or chromium) narrows it. */
export const BROWSERS = (process.env.E2E_BROWSERS ?? 'chromium,firefox').split(',').filter(Boolean);

export const EXECUTABLES = {
  chromium: process.env.CHROMIUM ?? '/usr/bin/chromium',
  firefox: process.env.FIREFOX ?? '/usr/bin/firefox-esr',
};

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-dev-shm-usage',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
// puppeteer adds its own defaults to these, among them --disable-background-timer-throttling,
// --disable-renderer-backgrounding and --disable-backgrounding-occluded-windows: pages that are
// not in front keep sending and decoding media at full rate, which tests with several
// participants in one browser (examples/sfu/e2e.test.mjs) rely on.

const FIREFOX_PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'permissions.default.camera': 1,
  'permissions.default.microphone': 1,
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  'media.autoplay.block-webaudio': false,
  // No OpenH264 plugin download (there is no network; H.264 is reported as unavailable).
  'media.gmp-manager.updateEnabled': false,
};

/** Launches one of BROWSERS, headless. */
export async function launch(name) {
  if (name === 'chromium') {
    return puppeteer.launch({
      executablePath: EXECUTABLES.chromium,
      headless: true,
      args: CHROMIUM_ARGS,
    });
  }
  if (name === 'firefox') {
    return puppeteer.launch({
      browser: 'firefox',
      executablePath: EXECUTABLES.firefox,
      headless: true,
      extraPrefsFirefox: FIREFOX_PREFS,
    });
  }
  throw new Error(`unknown browser ${name}`);
}

/** Display name: "Chromium 156", "Firefox 153". */
export async function label(name, browser) {
  const v = await browser.version(); // "HeadlessChrome/156.0…" or "firefox/153.8.0"
  const major = /\/(\d+)/.exec(v)?.[1] ?? '?';
  return `${name === 'chromium' ? 'Chromium' : 'Firefox'} ${major}`;
}

/**
 * A new page at url. pageErrors collects uncaught page errors and console errors; `global`
 * (e.g. "demo") is awaited until window[global].ready resolves.
 */
export async function openPage(browser, url, global) {
  const page = await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e?.message ?? e)));
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
  await page.goto(url);
  if (global) {
    await page.waitForFunction((g) => window[g] !== undefined, {}, global);
    await page.evaluate((g) => window[g].ready, global);
  }
  return { page, pageErrors };
}

/** Video codec MIME subtypes (upper case) that the browser can both send and receive. */
export async function videoCodecs(page) {
  return page.evaluate(() => {
    const names = (caps) => new Set(caps.codecs.map((c) => c.mimeType.split('/')[1].toUpperCase()));
    const send = names(RTCRtpSender.getCapabilities('video'));
    const recv = names(RTCRtpReceiver.getCapabilities('video'));
    return [...send].filter((c) => recv.has(c) && !['RTX', 'RED', 'ULPFEC', 'FLEXFEC-03'].includes(c));
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value; throws after timeoutMs with the last value. */
export async function until(what, fn, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}
