import { useState } from 'preact/hooks';
import { errorText } from '../i18n';
import { errorCode } from '../protocol/errors';
import type { Profile } from '../protocol/types';
import { Avatar } from './Avatar';
import { useApp } from './context';
import { Dialog } from './Dialog';
import { FormButtons, FormError } from './formParts';
import { IconChat, IconClose, IconEdit } from './icons';

/** A person's profile card, with "1:1 Chat" (or, for me, "Chat with myself" and edit). */
export function ProfileDialog({ profile, onClose }: { profile: Profile; onClose: () => void }) {
  const { store, t, navigate, toast } = useApp();
  const [editing, setEditing] = useState(false);
  const mine = profile.user_id === store.me?.user_id;
  const startChat = async () => {
    try {
      const id = await store.openDirect(profile.user_id);
      onClose();
      navigate({ tab: 'chats', chat: id });
    } catch (e) {
      toast(errorText(t, errorCode(e)));
    }
  };
  const removeFriend = async () => {
    try {
      await store.removeFriend(profile.user_id);
      onClose();
    } catch (e) {
      toast(errorText(t, errorCode(e)));
    }
  };
  const isFriend = store.friends.has(profile.user_id);
  if (editing) return <EditProfileDialog onClose={() => setEditing(false)} />;
  return (
    <Dialog title={profile.display_name || profile.handle} onClose={onClose}>
      <div class="profile-card">
        <Avatar profile={profile} size={96} />
        <h3 class="profile-name">{profile.display_name || profile.handle}</h3>
        <p class="profile-handle">@{profile.handle}</p>
        {profile.status_message && <p class="profile-status">{profile.status_message}</p>}
        <div class="profile-actions">
          <button class="action" onClick={startChat} autofocus>
            <IconChat />
            <span>{mine ? t('profile.memo') : t('profile.chat')}</span>
          </button>
          {mine && (
            <button class="action" onClick={() => setEditing(true)}>
              <IconEdit />
              <span>{t('profile.edit')}</span>
            </button>
          )}
          {!mine && isFriend && (
            <button class="action" onClick={removeFriend}>
              <IconClose />
              <span>{t('profile.remove')}</span>
            </button>
          )}
        </div>
      </div>
    </Dialog>
  );
}

export function EditProfileDialog({ onClose }: { onClose: () => void }) {
  const { store, t } = useApp();
  const me = store.me;
  const [name, setName] = useState(me?.display_name ?? '');
  const [status, setStatus] = useState(me?.status_message ?? '');
  const [avatar, setAvatar] = useState(me?.avatar ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      await store.updateMyProfile({ display_name: name.trim(), status_message: status.trim(), avatar: avatar.trim() });
      onClose();
    } catch (err) {
      setError(errorText(t, errorCode(err)));
      setBusy(false);
    }
  };
  return (
    <Dialog title={t('profile.edit')} onClose={onClose}>
      <form class="dialog-body" onSubmit={submit}>
        <div class="center">
          <Avatar profile={me ? { ...me, display_name: name, avatar } : undefined} size={80} />
        </div>
        <label class="field">
          <span>{t('auth.displayName')}</span>
          <input name="display_name" value={name} onInput={(e) => setName(e.currentTarget.value)} maxLength={64} required autofocus />
        </label>
        <label class="field">
          <span>{t('profile.status')}</span>
          <input name="status_message" value={status} onInput={(e) => setStatus(e.currentTarget.value)} maxLength={140} />
        </label>
        <label class="field">
          <span>{t('profile.avatar')}</span>
          <input name="avatar" type="url" value={avatar} onInput={(e) => setAvatar(e.currentTarget.value)} placeholder="https://" />
        </label>
        <FormError error={error} />
        <FormButtons submitLabel={t('profile.save')} onCancel={onClose} disabled={busy} />
      </form>
    </Dialog>
  );
}
