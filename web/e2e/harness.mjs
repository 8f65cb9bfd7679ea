// Starts a real `modu serve` and headless Chromium for the end-to-end tests.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(WEB_DIR, 'dist');
export const SHOTS = join(WEB_DIR, 'test-output', 'screenshots');

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
