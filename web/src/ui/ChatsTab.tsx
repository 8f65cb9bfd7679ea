import { useState } from 'preact/hooks';
import { errorText } from '../i18n';
import { errorCode } from '../protocol/errors';
import type { ChatSummary } from '../protocol/types';
import { ChatAvatar, chatTitle, memberCountLabel, previewText } from './chatView';
import { useApp } from './context';
import { FriendPicker } from './FriendPicker';
import { formatListTime } from './format';
import { IconNewChat, IconSearch } from './icons';

export function ChatsTab() {
  const { store, t, navigate, route } = useApp();
  const [creating, setCreating] = useState(false);
  const [query, setQuery] = useState('');
  const q = query.trim().toLowerCase();
  const chats = store.sortedChats.filter((c) => !q || chatTitle(c, store).toLowerCase().includes(q));

  return (
    <div class="tab-page">
      <header class="pane-head">
        <h1>{t('tab.chats')}</h1>
        <button class="icon-btn" onClick={() => setCreating(true)} aria-label={t('chats.new')} title={t('chats.new')}>
          <IconNewChat />
        </button>
      </header>
      <div class="search">
        <IconSearch />
        <input type="search" placeholder={t('chats.search')} aria-label={t('chats.search')} value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
      </div>
      <div class="scroll">
        {chats.length === 0 && <p class="empty">{t('chats.empty')}</p>}
        <ul class="list chat-list" aria-label={t('tab.chats')}>
          {chats.map((c) => (
            <li key={c.chat_id}>
              <ChatRow chat={c} active={route.chat === c.chat_id} onOpen={() => navigate({ tab: 'chats', chat: c.chat_id })} />
            </li>
          ))}
        </ul>
      </div>
      {creating && (
        <FriendPicker
          title={t('chats.new')}
          withTitle
          confirmLabel={t('group.create')}
          onClose={() => setCreating(false)}
          onConfirm={async (ids, title) => {
            try {
              const id = await store.createGroup(title, ids);
              setCreating(false);
              navigate({ tab: 'chats', chat: id });
            } catch (e) {
              throw new Error(errorText(t, errorCode(e)));
            }
          }}
        />
      )}
    </div>
  );
}

function ChatRow({ chat, active, onOpen }: { chat: ChatSummary; active: boolean; onOpen: () => void }) {
  const { store, t, lang } = useApp();
  const title = chatTitle(chat, store);
  const count = memberCountLabel(chat);
  const unread = chat.unread_count;
  const badge = unread > 999 ? '999+' : String(unread);
  return (
    <button
      class={`row chat-row${active ? ' active' : ''}`}
      onClick={onOpen}
      aria-current={active ? 'true' : undefined}
      data-chat-id={chat.chat_id}
      aria-label={`${title}${unread ? `, ${t('chats.unreadLabel', { n: badge })}` : ''}`}
    >
      <ChatAvatar chat={chat} store={store} />
      <span class="row-main">
        <span class="row-title">
          <span class="title-text">{title}</span>
          {count && <span class="member-count">{count}</span>}
          {chat.kind === 'memo' && <span class="me-chip">{t('chats.memo')}</span>}
          {chat.kind === 'open' && <span class="me-chip open-chip">{t('open.chip')}</span>}
        </span>
        <span class="row-sub preview">{previewText(chat.last_message, store, t, chat)}</span>
      </span>
      <span class="row-meta">
        <time class="row-time">{chat.last_message ? formatListTime(chat.last_activity_at, Date.now(), lang, t) : ''}</time>
        {unread > 0 && <span class="badge" aria-hidden="true">{badge}</span>}
      </span>
    </button>
  );
}
