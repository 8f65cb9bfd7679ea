import { render } from 'preact';
import { resolveLang, translator } from './i18n';
import { Connection } from './protocol/connection';
import type { DeviceInfo } from './protocol/types';
import { Cache } from './store/cache';
import { AppStore } from './store/store';
import { App } from './ui/App';
import { installNotifications } from './ui/notify';
import { Drafts, loadSettings } from './ui/settings';
import './ui/styles.css';

/** "Chrome on Linux" and the like, so the device list is readable. */
function describeDevice(): DeviceInfo {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS/.test(ua) ? 'macOS' : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : '';
  return { kind: 'web', name: os ? `${browser} on ${os}` : browser };
}

const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
const connection = new Connection({ url: `${proto}//${location.host}/v1/ws` });
const store = new AppStore({
  connection,
  storage: localStorage,
  openCache: (userId) => Cache.open(userId),
  device: describeDevice(),
  isVisible: () => document.visibilityState === 'visible',
});

// The browser knows about the network before the socket does.
window.addEventListener('offline', () => connection.interrupt());
window.addEventListener('online', () => connection.reconnectNow());
// Coming back to the tab: reconnect at once and mark the open chat read.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible') return;
  connection.reconnectNow();
  if (store.activeChat !== null) void store.markRead(store.activeChat);
});
window.addEventListener('pagehide', () => void store.flushCache());

const settings = loadSettings(localStorage);
const drafts = new Drafts(localStorage);
installNotifications(
  store,
  () => translator(resolveLang(loadSettings(localStorage).lang, navigator.languages ?? [navigator.language])),
  (chatId) => {
    location.hash = `#/chats/${chatId}`;
  },
);

void store.start().then(() => {
  render(<App store={store} initialSettings={settings} drafts={drafts} />, document.getElementById('app') as HTMLElement);
});

if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  window.addEventListener('load', () => {
    void navigator.serviceWorker.register('/sw.js').catch(() => undefined);
  });
}
