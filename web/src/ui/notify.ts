/** Unread counts in the tab title and favicon, and browser notifications while hidden. */
import type { Translate } from '../i18n';
import type { AppStore } from '../store/store';
import { chatTitle, previewText } from './chatView';

export type NotifyState = NotificationPermission | 'unsupported';

export function notificationState(): NotifyState {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

export async function requestNotifications(): Promise<NotifyState> {
  if (typeof Notification === 'undefined') return 'unsupported';
  return Notification.requestPermission();
}

/** Draws the app mark with a red count badge. */
function faviconWithBadge(count: number): string {
  const c = document.createElement('canvas');
  c.width = c.height = 64;
  const g = c.getContext('2d');
  if (!g) return '/icon.svg';
  g.fillStyle = '#FEE500';
  g.beginPath();
  g.roundRect(0, 0, 64, 64, 16);
  g.fill();
  g.fillStyle = '#3A1D1D';
  g.beginPath();
  g.ellipse(32, 30, 19, 15, 0, 0, Math.PI * 2);
  g.fill();
  if (count > 0) {
    const text = count > 99 ? '99+' : String(count);
    g.fillStyle = '#E5242B';
    g.beginPath();
    g.roundRect(64 - 14 - text.length * 9, 0, 14 + text.length * 9, 30, 15);
    g.fill();
    g.fillStyle = '#fff';
    g.font = 'bold 24px system-ui, sans-serif';
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    g.fillText(text, 64 - 7, 16);
  }
  return c.toDataURL('image/png');
}

export function installNotifications(store: AppStore, t: () => Translate, openChat: (chatId: number) => void): void {
  let last = -1;
  const link = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
  const update = () => {
    const n = store.session ? store.totalUnread : 0;
    if (n === last) return;
    last = n;
    const name = t()('appName');
    document.title = n > 0 ? `(${n > 999 ? '999+' : n}) ${name}` : name;
    if (link) link.href = n > 0 ? faviconWithBadge(n) : '/icon.svg';
  };
  store.subscribe(update);
  update();

  store.onIncoming((msg, chat) => {
    if (!document.hidden || notificationState() !== 'granted') return;
    const sender = store.memberProfile(chat, msg.sender_id);
    const title = chatTitle(chat, store);
    const body = previewText(msg, store, t(), chat);
    const n = new Notification(title, {
      body: chat.kind === 'direct' || !sender ? body : `${sender.display_name}: ${body}`,
      tag: `chat-${chat.chat_id}`,
      icon: '/icon-192.png',
    });
    n.onclick = () => {
      window.focus();
      openChat(chat.chat_id);
      n.close();
    };
  });
}
