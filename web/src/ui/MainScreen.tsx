import { useEffect } from 'preact/hooks';
import { ChatRoom } from './ChatRoom';
import { ChatsTab } from './ChatsTab';
import { type Tab, useApp, useMediaQuery } from './context';
import { FriendsTab } from './FriendsTab';
import { IconChat, IconMore, IconOpen, IconPerson } from './icons';
import { Logo } from './Logo';
import { MoreTab } from './MoreTab';
import { OpenTab } from './OpenTab';
import { NetBanner } from './NetBanner';

const TABS: { tab: Tab; icon: typeof IconPerson }[] = [
  { tab: 'friends', icon: IconPerson },
  { tab: 'chats', icon: IconChat },
  { tab: 'open', icon: IconOpen },
  { tab: 'more', icon: IconMore },
];

function TabNav({ kind }: { kind: 'rail' | 'bar' }) {
  const { t, route, navigate, store } = useApp();
  const unread = store.totalUnread;
  return (
    <nav class={`tabnav ${kind}`} aria-label="Modu">
      {kind === 'rail' && <Logo size={40} />}
      {TABS.map(({ tab, icon: Icon }) => {
        const label = t(`tab.${tab}`);
        const badge = tab === 'chats' && unread > 0 ? (unread > 999 ? '999+' : String(unread)) : null;
        return (
          <button
            key={tab}
            class={`tab-btn${route.tab === tab ? ' active' : ''}`}
            aria-current={route.tab === tab ? 'page' : undefined}
            aria-label={badge ? `${label}, ${t('chats.unreadLabel', { n: badge })}` : label}
            title={label}
            onClick={() => navigate(kind === 'bar' ? { tab, chat: null } : { tab })}
          >
            <Icon />
            {kind === 'bar' && <span class="tab-label">{label}</span>}
            {badge && <span class="badge tab-badge" aria-hidden="true">{badge}</span>}
          </button>
        );
      })}
    </nav>
  );
}

export function MainScreen() {
  const { route, t, navigate, store } = useApp();
  const wide = useMediaQuery('(min-width: 768px)');

  // Esc closes the open chat.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && route.chat !== null && !document.querySelector('.backdrop')) navigate({ chat: null });
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [route.chat, navigate]);

  const list =
    route.tab === 'friends' ? <FriendsTab /> : route.tab === 'more' ? <MoreTab /> : route.tab === 'open' ? <OpenTab /> : <ChatsTab />;

  if (!wide) {
    return (
      <div class="app narrow">
        <NetBanner />
        {route.chat !== null ? (
          <ChatRoom key={route.chat} chatId={route.chat} />
        ) : (
          <>
            <main class="pane list-pane">{list}</main>
            <TabNav kind="bar" />
          </>
        )}
      </div>
    );
  }
  return (
    <div class="app wide">
      <TabNav kind="rail" />
      <main class="pane list-pane">
        <NetBanner />
        {list}
      </main>
      <section class="pane room-pane">
        {route.chat !== null ? (
          <ChatRoom key={route.chat} chatId={route.chat} />
        ) : (
          <div class="room-empty">
            <Logo size={96} />
            <p>{store.synced || store.chats.size ? t('room.select') : t('room.loading')}</p>
          </div>
        )}
      </section>
    </div>
  );
}
