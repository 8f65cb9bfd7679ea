/** How a chat is named and pictured, and how message texts read in previews. */
import type { Translate } from '../i18n';
import type { ChatSummary, Message, Profile } from '../protocol/types';
import { isGroupLike, peerOf } from '../store/state';
import type { AppStore } from '../store/store';
import { Avatar, GroupAvatar } from './Avatar';
import { RoomCover } from './openView';

export function chatTitle(chat: ChatSummary, store: AppStore): string {
  const me = store.me?.user_id ?? -1;
  if (chat.kind === 'memo') return store.me?.display_name || store.me?.handle || '';
  if (chat.kind === 'direct') {
    const p = peerOf(chat, me);
    return p ? p.display_name || p.handle : '';
  }
  if (chat.kind === 'open') return chat.title || chat.open?.title || '';
  if (chat.title) return chat.title;
  return chat.members
    .filter((m) => m.user_id !== me)
    .map((m) => m.profile.display_name || m.profile.handle)
    .join(', ');
}

export function ChatAvatar({ chat, store, size = 48 }: { chat: ChatSummary; store: AppStore; size?: number }) {
  const me = store.me?.user_id ?? -1;
  const label = chatTitle(chat, store);
  if (chat.kind === 'memo') return <Avatar profile={store.me ?? undefined} size={size} label={label} />;
  if (chat.kind === 'direct') return <Avatar profile={peerOf(chat, me)} size={size} label={label} />;
  if (chat.kind === 'open') return <RoomCover room={chat.open} title={label} size={size} />;
  const others: Profile[] = chat.members.filter((m) => m.user_id !== me).map((m) => m.profile);
  return <GroupAvatar profiles={others} size={size} label={label} />;
}

export function memberCountLabel(chat: ChatSummary): string | null {
  return isGroupLike(chat) ? String(chat.member_count) : null;
}

interface SystemText {
  type?: string;
  by?: number;
  users?: number[];
  user?: number;
  title?: string;
  role?: string;
  text?: string;
}

/** Renders a system message's machine-readable summary as a sentence. */
export function systemText(msg: Message, store: AppStore, t: Translate, chat?: ChatSummary): string {
  let s: SystemText;
  try {
    s = JSON.parse(msg.text) as SystemText;
  } catch {
    return msg.text || t('sys.other');
  }
  const name = (id: number | undefined) => {
    if (id === undefined) return '';
    // Open chats name people by member id: look them up in that room only.
    const p = store.memberProfile(chat ?? store.chats.get(msg.chat_id), id);
    return p ? p.display_name || p.handle : t('open.someone');
  };
  const users = (s.users ?? (s.user !== undefined ? [s.user] : [])).map(name).join(', ');
  switch (s.type) {
    case 'invite':
      return t('sys.invite', { by: name(s.by), users });
    case 'join':
      return t('sys.join', { users: users || name(s.by) });
    case 'leave':
      return t('sys.leave', { users: users || name(s.by) });
    case 'rename':
      return t('sys.rename', { by: name(s.by), title: s.title ?? '' });
    case 'create':
      return t('sys.create', { by: name(s.by) });
    case 'kick':
      return t('sys.kick', { by: name(s.by), users });
    case 'ban':
      return t('sys.ban', { by: name(s.by), users });
    case 'role':
      return s.role === 'admin' ? t('sys.roleAdmin', { by: name(s.by), users }) : t('sys.roleMember', { by: name(s.by), users });
    case 'transfer':
      return t('sys.transfer', { by: name(s.by), users });
    case 'notice':
      return s.text ? t('sys.notice', { by: name(s.by) }) : t('sys.noticeCleared', { by: name(s.by) });
    default:
      return t('sys.other');
  }
}

export function previewText(msg: Message | null | undefined, store: AppStore, t: Translate, chat?: ChatSummary): string {
  if (!msg) return t('chats.noMessages');
  if (msg.deleted) return t('chats.deleted');
  if (msg.hidden) return t('open.hidden');
  if (msg.kind === 'system') return systemText(msg, store, t, chat);
  return msg.text;
}
