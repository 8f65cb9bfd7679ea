import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { errorText } from '../i18n';
import { errorCode } from '../protocol/errors';
import type { ChatSummary, Message } from '../protocol/types';
import { can, isGroupLike, isStaff, localDay, type PendingMessage, unreadOf } from '../store/state';
import { Avatar } from './Avatar';
import { ChatAvatar, chatTitle, memberCountLabel, systemText } from './chatView';
import { ChatInfo } from './ChatInfo';
import { useApp, useMediaQuery } from './context';
import { Confirm } from './Dialog';
import { formatDay, formatTime } from './format';
import { IconAlert, IconBack, IconClock, IconClose, IconDown, IconFlag, IconMenu, IconPin, IconReply, IconRetry, IconSend, IconTrash } from './icons';
import { OpenInfo } from './OpenInfo';
import { ReasonDialog } from './openView';
import { VirtualList } from './VirtualList';

type Row =
  | { kind: 'top'; key: string }
  | { kind: 'day'; key: string; at: number }
  | { kind: 'msg'; key: string; msg: Message; first: boolean; last: boolean }
  | { kind: 'pending'; key: string; p: PendingMessage };

/** The delete-for-everyone window (the server's default); the server has the last word. */
const DELETE_WINDOW_MS = 5 * 60_000;
const minute = (ms: number) => Math.floor(ms / 60_000);

function buildRows(items: readonly Message[]): Row[] {
  const rows: Row[] = [{ kind: 'top', key: 'top' }];
  let day = -1;
  for (let i = 0; i < items.length; i++) {
    const m = items[i] as Message;
    const d = localDay(m.created_at);
    if (d !== day) {
      rows.push({ kind: 'day', key: `d${d}`, at: m.created_at });
      day = d;
    }
    const prev = items[i - 1];
    const next = items[i + 1];
    const same = (o: Message | undefined) =>
      !!o && o.kind !== 'system' && m.kind !== 'system' && o.sender_id === m.sender_id && minute(o.created_at) === minute(m.created_at);
    rows.push({ kind: 'msg', key: `m${m.seq}`, msg: m, first: !same(prev), last: !same(next) });
  }
  return rows;
}

const getKey = (r: Row) => r.key;
const canAnchor = (r: Row) => r.kind === 'msg' || r.kind === 'pending';
const estimate = (r: Row) => (r.kind === 'day' ? 44 : r.kind === 'top' ? 52 : r.kind === 'msg' && r.first ? 62 : 40);

export function ChatRoom({ chatId }: { chatId: number }) {
  const { store, t, lang, navigate, drafts, toast } = useApp();
  const wide = useMediaQuery('(min-width: 768px)');
  const chat = store.chats.get(chatId);
  const cm = store.messages.get(chatId);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [info, setInfo] = useState(false);
  const [atBottom, setAtBottom] = useState(true);
  const [bottomSignal, setBottomSignal] = useState(0);
  const [deleting, setDeleting] = useState<Message | null>(null);
  const [reporting, setReporting] = useState<Message | null>(null);
  const [noticeOpen, setNoticeOpen] = useState(false);
  const seenLast = useRef(0);

  const items = cm?.items;
  const rows = useMemo(() => buildRows(items ?? []), [items]);
  const pending = store.pendingFor(chatId);
  const allRows = useMemo(
    () => (pending.length ? [...rows, ...pending.map((p): Row => ({ kind: 'pending', key: `p${p.client_id}`, p }))] : rows),
    [rows, pending.map((p) => p.client_id + p.status).join()],
  );

  const newest = items?.[items.length - 1]?.seq ?? 0;
  if (atBottom) seenLast.current = newest;
  const showPill = !atBottom && newest > seenLast.current;

  // Staff who approve learn of waiting applications when they open the room.
  const approver = !!chat && chat.kind === 'open' && chat.open?.join_policy === 'approval' && can(chat, store.me?.user_id ?? -1, 'approve');
  useEffect(() => {
    if (approver && store.net === 'online') void store.roomApplications(chatId).catch(() => undefined);
  }, [approver, store.net, chatId]);

  const onNearTop = useCallback(() => {
    void store.loadOlder(chatId).catch(() => undefined);
  }, [store, chatId]);

  if (!chat) {
    return (
      <div class="room">
        <div class="room-empty">
          <p>{store.synced ? t('room.notFound') : t('room.loading')}</p>
          <button class="btn" onClick={() => navigate({ chat: null })}>
            {t('room.back')}
          </button>
        </div>
      </div>
    );
  }
  const title = chatTitle(chat, store);
  const group = isGroupLike(chat);
  const open = chat.kind === 'open';
  const me = store.me?.user_id ?? -1;
  const selfId = store.selfId(chatId);
  const staffDelete = open && can(chat, me, 'delete');
  const pendingApps = open && can(chat, me, 'approve') ? (store.staffQueue.get(chatId)?.size ?? 0) : 0;
  const notice = open ? chat.open?.notice : null;
  const count = memberCountLabel(chat);
  const send = (text: string) => {
    store.send(chatId, text, replyTo?.seq);
    setReplyTo(null);
    setBottomSignal((n) => n + 1);
  };

  const render = (r: Row) => {
    switch (r.kind) {
      case 'top':
        return (
          <div class="room-top">
            {store.loadingOlder.has(chatId) || (cm === undefined && store.net !== 'offline') ? (
              <span class="spinner" aria-label={t('room.loading')} />
            ) : cm && !store.hasOlder(chatId) ? (
              <span class="muted small">{t('room.beginning')}</span>
            ) : null}
          </div>
        );
      case 'day':
        return (
          <div class="day-sep" role="separator">
            <span>{formatDay(r.at, lang)}</span>
          </div>
        );
      case 'msg':
        return (
          <MessageRow
            chat={chat}
            row={r}
            group={group}
            selfId={selfId}
            staffDelete={staffDelete}
            onReply={() => setReplyTo(r.msg)}
            onDelete={() => setDeleting(r.msg)}
            onReport={() => setReporting(r.msg)}
            quoted={r.msg.reply_to ? items?.find((m) => m.seq === r.msg.reply_to) : undefined}
          />
        );
      case 'pending':
        return <PendingRow p={r.p} />;
    }
  };

  return (
    <div class="room" data-chat-id={chatId}>
      <header class="room-head">
        {!wide && (
          <button class="icon-btn" onClick={() => navigate({ chat: null })} aria-label={t('room.back')}>
            <IconBack />
          </button>
        )}
        <ChatAvatar chat={chat} store={store} size={36} />
        <h1 class="room-title">
          <span class="title-text">{title}</span>
          {count && <span class="member-count">{count}</span>}
        </h1>
        <button class="icon-btn info-btn" onClick={() => setInfo(true)} aria-label={t('room.info')} title={t('room.info')}>
          <IconMenu />
          {pendingApps > 0 && (
            <span class="badge tab-badge" aria-label={t('open.requests.waiting', { n: pendingApps })}>
              {pendingApps}
            </span>
          )}
        </button>
      </header>
      {notice?.text && (
        <button class={`notice-banner${noticeOpen ? ' open' : ''}`} onClick={() => setNoticeOpen(!noticeOpen)} aria-expanded={noticeOpen}>
          <IconPin />
          <span class="notice-body">
            <span class="sr-only">{t('open.notice')}: </span>
            {notice.text}
          </span>
        </button>
      )}
      <VirtualList
        items={allRows}
        getKey={getKey}
        estimate={estimate}
        canAnchor={canAnchor}
        render={render}
        onNearTop={onNearTop}
        onAtBottom={setAtBottom}
        bottomSignal={bottomSignal}
        label={title}
        class="messages"
      />
      {showPill && (
        <button class="new-pill" onClick={() => setBottomSignal((n) => n + 1)}>
          {t('room.newMessages')} <IconDown />
        </button>
      )}
      {!atBottom && !showPill && (
        <button class="to-bottom" onClick={() => setBottomSignal((n) => n + 1)} aria-label={t('room.toBottom')} title={t('room.toBottom')}>
          <IconDown />
        </button>
      )}
      <Composer key={chatId} chatId={chatId} replyTo={replyTo} onCancelReply={() => setReplyTo(null)} onSend={send} drafts={drafts} />
      {info && (open ? <OpenInfo chat={chat} onClose={() => setInfo(false)} /> : <ChatInfo chat={chat} onClose={() => setInfo(false)} />)}
      {reporting && (
        <ReasonDialog
          title={t('open.reportMessage')}
          okLabel={t('open.report')}
          required
          presets={[t('open.reason.spam'), t('open.reason.abuse'), t('open.reason.illegal')]}
          onCancel={() => setReporting(null)}
          onOk={async (reason) => {
            await store.report(chatId, { seq: reporting.seq }, reason);
            setReporting(null);
            toast(t('open.reported'));
          }}
        />
      )}
      {deleting && (
        <Confirm
          text={t('room.deleteConfirm')}
          okLabel={t('room.delete')}
          danger
          onCancel={() => setDeleting(null)}
          onOk={async () => {
            const m = deleting;
            setDeleting(null);
            try {
              await store.deleteMessage(chatId, m.seq);
            } catch (e) {
              toast(errorText(t, errorCode(e)));
            }
          }}
        />
      )}
    </div>
  );
}

function MessageRow(props: {
  chat: ChatSummary;
  row: Extract<Row, { kind: 'msg' }>;
  group: boolean;
  /** The id that stands for me in this chat (my member id in an open chat). */
  selfId: number;
  /** Staff of an open chat with `delete`: may delete anyone's message, at any age. */
  staffDelete: boolean;
  quoted: Message | undefined;
  onReply: () => void;
  onDelete: () => void;
  onReport: () => void;
}) {
  const { store, t, lang } = useApp();
  const { msg, first, last } = props.row;
  const [open, setOpen] = useState(false);
  if (msg.kind === 'system') {
    return (
      <div class="sys-msg" data-seq={msg.seq}>
        <span>{systemText(msg, store, t, props.chat)}</span>
      </div>
    );
  }
  const mine = msg.sender_id === props.selfId;
  const sender = store.memberProfile(props.chat, msg.sender_id);
  const unread = unreadOf(props.chat, msg);
  const showPeer = !mine && props.chat.kind !== 'memo';
  const openChat = props.chat.kind === 'open';
  const hidden = !!msg.hidden && !msg.deleted;
  const canDelete = !msg.deleted && ((mine && Date.now() - msg.created_at < DELETE_WINDOW_MS) || props.staffDelete);
  const canReport = openChat && !mine && !msg.deleted && !hidden;
  const quotedSender = props.quoted ? store.memberProfile(props.chat, props.quoted.sender_id) : undefined;
  return (
    <div
      class={`msg ${mine ? 'mine' : 'theirs'}${first ? ' first' : ''}${open ? ' open' : ''}${hidden ? ' hidden' : ''}`}
      data-seq={msg.seq}
      data-sender-id={msg.sender_id}
      data-client-id={msg.client_id}
    >
      {showPeer && <div class="msg-avatar">{first && <Avatar profile={sender} size={38} />}</div>}
      <div class="msg-body">
        {showPeer && first && props.group !== false && <div class="msg-sender">{sender?.display_name || sender?.handle || ''}</div>}
        <div class="msg-line">
          <div class={`bubble${msg.deleted || hidden ? ' deleted' : ''}${first ? ' tail' : ''}`} onClick={() => setOpen(!open)}>
            {msg.reply_to && !msg.deleted && !hidden && (
              <div class="quote">
                <span class="quote-name">{t('room.replyTo', { name: quotedSender?.display_name ?? '…' })}</span>
                <span class="quote-text">
                  {props.quoted ? (props.quoted.deleted ? t('chats.deleted') : props.quoted.hidden ? t('open.hidden') : props.quoted.text) : '…'}
                </span>
              </div>
            )}
            <span class="text">{msg.deleted ? t('chats.deleted') : hidden ? t('open.hidden') : msg.text}</span>
          </div>
          <div class="msg-meta">
            {unread > 0 && (
              <span class="unread" title={t('room.unreadBy', { n: unread })} aria-label={t('room.unreadBy', { n: unread })}>
                {unread}
              </span>
            )}
            {last && <time class="msg-time">{formatTime(msg.created_at, lang)}</time>}
          </div>
          {!msg.deleted && (
            <div class="msg-actions">
              {!hidden && (
                <button class="icon-btn small" onClick={props.onReply} aria-label={t('room.reply')} title={t('room.reply')}>
                  <IconReply />
                </button>
              )}
              {canReport && (
                <button class="icon-btn small report-btn" onClick={props.onReport} aria-label={t('open.report')} title={t('open.report')}>
                  <IconFlag />
                </button>
              )}
              {canDelete && (
                <button class="icon-btn small delete-btn" onClick={props.onDelete} aria-label={t('room.delete')} title={t('room.delete')}>
                  <IconTrash />
                </button>
              )}
            </div>
          )}
        </div>
      </div>
    </div>
  );
}

function PendingRow({ p }: { p: PendingMessage }) {
  const { store, t } = useApp();
  const failed = p.status === 'failed';
  const slow = failed && p.error === 'slow_mode';
  const label = slow ? t('error.slow_mode') : failed ? t('room.failed') : p.status === 'sending' ? t('room.sending') : t('room.queued');
  return (
    <div class={`msg mine pending ${p.status}`} data-client-id={p.client_id} data-status={p.status}>
      <div class="msg-body">
        <div class="msg-line">
          <div class="bubble">
            <span class="text">{p.text}</span>
          </div>
          <div class="msg-meta">
            <span class="pending-icon" title={label} aria-label={label}>
              {failed ? <IconAlert /> : <IconClock />}
            </span>
          </div>
          {slow && (
            <span class="pending-note" role="status">
              {t('open.slow.failed')}
            </span>
          )}
          {failed && (
            <div class="pending-actions">
              <button class="icon-btn small" onClick={() => store.retry(p.client_id)} aria-label={t('room.retry')} title={t('room.retry')}>
                <IconRetry />
              </button>
              <button class="icon-btn small" onClick={() => store.discard(p.client_id)} aria-label={t('room.discard')} title={t('room.discard')}>
                <IconClose />
              </button>
            </div>
          )}
        </div>
      </div>
    </div>
  );
}

function Composer(props: {
  chatId: number;
  replyTo: Message | null;
  onCancelReply: () => void;
  onSend: (text: string) => void;
  drafts: { get: (id: number) => string; set: (id: number, s: string) => void };
}) {
  const { store, t } = useApp();
  const [text, setText] = useState(() => props.drafts.get(props.chatId));
  const ref = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    ref.current?.focus();
  }, [props.replyTo]);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 160)}px`;
  }, [text]);

  const submit = () => {
    const body = text.trim();
    if (!body) return;
    props.onSend(body);
    setText('');
    props.drafts.set(props.chatId, '');
  };
  const chat = store.chats.get(props.chatId);
  const replyName = props.replyTo ? store.memberProfile(chat, props.replyTo.sender_id)?.display_name ?? '' : '';
  return (
    <div class="composer-wrap">
      <SlowModeHint chatId={props.chatId} />
      {props.replyTo && (
        <div class="reply-bar">
          <IconReply />
          <div class="reply-main">
            <span class="quote-name">{t('room.replyTo', { name: replyName })}</span>
            <span class="quote-text">{props.replyTo.text}</span>
          </div>
          <button class="icon-btn small" onClick={props.onCancelReply} aria-label={t('room.cancelReply')}>
            <IconClose />
          </button>
        </div>
      )}
      <form
        class="composer"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <textarea
          ref={ref}
          rows={1}
          value={text}
          aria-label={t('room.placeholder')}
          placeholder={t('room.placeholder')}
          onInput={(e) => {
            setText(e.currentTarget.value);
            props.drafts.set(props.chatId, e.currentTarget.value);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Escape' && props.replyTo) {
              e.stopPropagation();
              props.onCancelReply();
              return;
            }
            // Enter sends; Shift+Enter is a new line; never while an IME is composing (Korean).
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
              e.preventDefault();
              submit();
            }
          }}
        />
        <button class="send-btn" type="submit" disabled={!text.trim()} aria-label={t('room.send')} title={t('room.send')}>
          <IconSend />
        </button>
      </form>
    </div>
  );
}

/** Slow mode: how often members may send, and a countdown after a send. */
function SlowModeHint({ chatId }: { chatId: number }) {
  const { store, t } = useApp();
  const chat = store.chats.get(chatId);
  const secs = chat?.open?.slow_mode_seconds ?? 0;
  const until = store.slowUntil.get(chatId) ?? 0;
  const [, tick] = useState(0);
  useEffect(() => {
    if (until <= Date.now()) return;
    const timer = setInterval(() => {
      tick((n) => n + 1);
      if (Date.now() > until) clearInterval(timer);
    }, 1000);
    return () => clearInterval(timer);
  }, [until]);
  const now = Date.now();
  // Staff are not limited.
  if (!chat || secs <= 0 || isStaff(chat, store.me?.user_id ?? -1)) return null;
  const left = Math.ceil((until - now) / 1000);
  return (
    <div class={`slow-hint${left > 0 ? ' waiting' : ''}`} role="status">
      <IconClock />
      {left > 0 ? t('open.slow.wait', { n: left }) : t('open.slow.info', { n: secs })}
    </div>
  );
}
