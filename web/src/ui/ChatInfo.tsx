import { useState } from 'preact/hooks';
import { errorText } from '../i18n';
import { errorCode } from '../protocol/errors';
import type { ChatId, ChatSummary } from '../protocol/types';
import { isGroupLike } from '../store/state';
import { Avatar } from './Avatar';
import { chatTitle } from './chatView';
import { useApp } from './context';
import { Confirm, Dialog } from './Dialog';
import { FormButtons } from './formParts';
import { FriendPicker } from './FriendPicker';

/** Members, invite, rename and leave. */
export function ChatInfo({ chat, onClose }: { chat: ChatSummary; onClose: () => void }) {
  const { store, t, toast } = useApp();
  const [mode, setMode] = useState<'info' | 'invite' | 'leave'>('info');
  const [title, setTitle] = useState(chat.title);
  const [renaming, setRenaming] = useState(false);
  const group = isGroupLike(chat);
  const fail = (e: unknown) => toast(errorText(t, errorCode(e)));

  if (mode === 'invite') {
    return (
      <FriendPicker
        title={t('group.invite')}
        confirmLabel={t('group.invite')}
        exclude={new Set(chat.members.map((m) => m.user_id))}
        onClose={() => setMode('info')}
        onConfirm={async (ids) => {
          try {
            await store.invite(chat.chat_id, ids);
            setMode('info');
          } catch (e) {
            throw new Error(errorText(t, errorCode(e)));
          }
        }}
      />
    );
  }
  if (mode === 'leave') {
    return (
      <LeaveChatConfirm chatId={chat.chat_id} text={t('group.leaveConfirm')} onCancel={() => setMode('info')} onLeft={onClose} />
    );
  }
  const members = [...chat.members].sort((a, b) =>
    a.user_id === store.me?.user_id ? -1 : b.user_id === store.me?.user_id ? 1 : a.profile.display_name.localeCompare(b.profile.display_name),
  );
  return (
    <Dialog title={t('room.info')} onClose={onClose}>
      <div class="dialog-body">
        {group &&
          (renaming ? (
            <form
              class="rename"
              onSubmit={async (e) => {
                e.preventDefault();
                const dialog = (e.currentTarget as HTMLElement).closest<HTMLElement>('[role=dialog]');
                try {
                  await store.rename(chat.chat_id, title.trim());
                  setRenaming(false);
                  dialog?.focus();
                } catch (err) {
                  fail(err);
                }
              }}
            >
              <label class="field">
                <span>{t('group.rename')}</span>
                <input name="chat-title" value={title} onInput={(e) => setTitle(e.currentTarget.value)} maxLength={64} autofocus required />
              </label>
              <FormButtons submitLabel={t('profile.save')} onCancel={() => setRenaming(false)} />
            </form>
          ) : (
            <h3 class="info-title">{chatTitle(chat, store)}</h3>
          ))}
        <h4 class="section-title">{t('group.members', { n: chat.member_count })}</h4>
        <ul class="list members">
          {members.map((m) => (
            <li key={m.user_id} class="row member-row">
              <Avatar profile={m.profile} size={36} />
              <span class="row-main">
                <span class="row-title">
                  {m.profile.display_name || m.profile.handle}
                  {m.user_id === store.me?.user_id && <span class="me-chip">{t('room.you')}</span>}
                </span>
              </span>
              {group && m.role !== 'member' && <span class="role">{m.role === 'owner' ? t('group.owner') : t('group.admin')}</span>}
            </li>
          ))}
        </ul>
        {group && (
          <div class="info-actions">
            <button class="btn" onClick={() => setMode('invite')}>
              {t('group.invite')}
            </button>
            {!renaming && (
              <button class="btn" onClick={() => setRenaming(true)}>
                {t('group.rename')}
              </button>
            )}
            <button class="btn danger" onClick={() => setMode('leave')}>
              {t('group.leave')}
            </button>
          </div>
        )}
      </div>
    </Dialog>
  );
}

/**
 * Asks before leaving a chat. Once left, calls `onLeft` (to close the info that asked) and
 * closes the chat; a failure is shown as a toast and ends the question as Cancel would.
 */
export function LeaveChatConfirm(props: { chatId: ChatId; text: string; onCancel: () => void; onLeft: () => void }) {
  const { store, t, navigate, toast } = useApp();
  return (
    <Confirm
      text={props.text}
      okLabel={t('group.leave')}
      danger
      onCancel={props.onCancel}
      onOk={async () => {
        try {
          await store.leave(props.chatId);
          props.onLeft();
          navigate({ chat: null });
        } catch (e) {
          toast(errorText(t, errorCode(e)));
          props.onCancel();
        }
      }}
    />
  );
}
