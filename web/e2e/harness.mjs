// What the end-to-end tests share: a real `modu serve` and headless Chromium around each
// suite, and the steps that drive the web client in a page.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(WEB_DIR, 'dist');
export const SHOTS = join(WEB_DIR, 'test-output', 'screenshots');

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
/** Every test account's password. */
export const PASSWORD = 'correct horse battery';
/** How long a step may wait for the page, unless it says otherwise. */
export const TIMEOUT = 15_000;

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Builds web/dist if it is missing, so `npm run e2e` works on its own. */
export function ensureBuilt() {
  if (existsSync(join(DIST, 'index.html'))) return;
  const r = spawnSync('npm', ['run', 'build'], { cwd: WEB_DIR, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed');
}

/**
 * Runs `$MODU_BINARY serve` on a free port with a fresh data directory and waits for its
 * "listening on 127.0.0.1:<port>" line. `restart()` starts it again on the same port and data.
 */
export async function startServer({ port = 0, dataDir } = {}) {
  const binary = process.env.MODU_BINARY;
  if (!binary) throw new Error('set MODU_BINARY to the absolute path of the modu server binary');
  if (!existsSync(binary)) throw new Error(`MODU_BINARY does not exist: ${binary}`);
  const data = dataDir ?? mkdtempSync(join(tmpdir(), 'modu-e2e-'));
  const child = spawn(binary, ['serve', '--listen', `127.0.0.1:${port}`, '--data', data, '--web', DIST], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Never leave a server behind, whatever happens to the test process.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  let log = '';
  child.stderr.on('data', (d) => {
    log += d;
  });
  const actualPort = await new Promise((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`server did not say "listening on" within 30 s\n${out}\n${log}`)), 30_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`server exited with ${code} before listening\n${out}\n${log}`));
    });
  });
  child.stdout.resume();
  const server = {
    port: actualPort,
    url: `http://127.0.0.1:${actualPort}`,
    data,
    child,
    log: () => log,
    /** Stops the server (SIGKILL when `hard`, as a crash or cut would). */
    async stop(hard = false) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(hard ? 'SIGKILL' : 'SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
    async cleanup() {
      await server.stop();
      if (!dataDir) rmSync(data, { recursive: true, force: true });
    },
  };
  return server;
}

/**
 * Launches Debian's Chromium. Playwright gives it a fresh, empty profile directory (and adds
 * --headless itself); each test user gets its own isolated browser context.
 */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS.filter((a) => a !== '--headless'),
    timeout: 30_000,
  });
}

export function shotPath(name) {
  mkdirSync(SHOTS, { recursive: true });
  return join(SHOTS, `${name}.png`);
}

/**
 * Starts the server and the browser before the current suite's tests and stops both after
 * them. The returned object holds `server` (a test that restarts the server puts the new one
 * there) and `browser`, and opens pages of the web client with `newPage`.
 */
export function useServerAndBrowser() {
  const env = {
    server: undefined,
    browser: undefined,
    /** A page showing the web client, in a fresh browser context (its own storage). */
    async newPage({ viewport, locale, clipboard = false }) {
      const context = await env.browser.newContext({ viewport, locale, deviceScaleFactor: 1 });
      if (clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.server.url }).catch(() => undefined);
      const page = await context.newPage();
      page.setDefaultTimeout(TIMEOUT);
      page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
      await page.goto(env.server.url);
      return page;
    },
  };
  before(async () => {
    ensureBuilt();
    env.server = await startServer();
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close().catch(() => undefined);
    await env.server?.cleanup();
  });
  return env;
}

/**
 * Runs a test's steps; if they fail, saves a screenshot of every open page of `pages()` (by
 * name: `<prefix>-<name>.png`) before passing the failure on, to see what went wrong.
 */
export async function withScreenshotsOnFailure(prefix, pages, steps) {
  try {
    await steps();
  } catch (e) {
    for (const [who, page] of Object.entries(pages())) {
      if (!page || page.isClosed()) continue;
      await page.screenshot({ path: shotPath(`${prefix}-${who}`), timeout: 5000 }).catch(() => undefined);
    }
    throw e;
  }
}

/** Signs up a new account from the sign-in screen and waits for the main screen. */
export async function signUp(page, handle, name) {
  await page.locator('.auth-switch .link').click();
  await page.locator('input[name=handle]').fill(handle);
  await page.locator('input[name=display_name]').fill(name);
  await page.locator('input[name=password]').fill(PASSWORD);
  await page.locator('.auth-form button[type=submit]').click();
  await page.locator('.tabnav').waitFor();
}

const TAB = { friends: 0, chats: 1, open: 2, more: 3 };
/** Switches to a tab of the main screen: friends, chats, open or more. */
export async function tab(page, name) {
  await page.locator('.tab-btn').nth(TAB[name]).click();
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A delivered (not pending) message with exactly this text. */
export function msg(page, text) {
  return page.locator('.msg:not(.pending)').filter({ has: page.locator('.text', { hasText: new RegExp(`^${escapeRe(text)}$`) }) });
}

/** Sends a message in the open chat. */
export async function send(page, text) {
  const box = page.locator('.composer textarea');
  await box.fill(text);
  await box.press('Enter');
}

/** Waits until `fn` resolves truthy (a throw counts as not yet); fails naming `what`. */
export async function eventually(fn, what, timeout = TIMEOUT) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      if (await fn()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out: ${what}${last ? ` (${last.message})` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
