import { useEffect, useState } from 'preact/hooks';
import { errorText, type LangSetting } from '../i18n';
import { errorCode } from '../protocol/errors';
import type { Device } from '../protocol/types';
import { Avatar } from './Avatar';
import { useApp } from './context';
import { Confirm } from './Dialog';
import { formatDateTime } from './format';
import { IconDevice, IconPhone } from './icons';
import { notificationState, requestNotifications } from './notify';
import { NicknameDialog } from './openView';
import { EditProfileDialog } from './ProfileDialog';
import type { ThemeSetting } from './settings';

export function MoreTab() {
  const { store, t, settings, setSettings } = useApp();
  const [editing, setEditing] = useState(false);
  const [loggingOut, setLoggingOut] = useState(false);
  const [notify, setNotify] = useState(notificationState());
  const me = store.me;
  return (
    <div class="tab-page">
      <header class="pane-head">
        <h1>{t('tab.more')}</h1>
      </header>
      <div class="scroll more">
        {me && (
          <section class="card me-card">
            <Avatar profile={me} size={64} />
            <div class="row-main">
              <span class="row-title">{me.display_name || me.handle}</span>
              <span class="row-sub">@{me.handle}</span>
              {me.status_message && <span class="row-sub">{me.status_message}</span>}
            </div>
            <button class="btn" onClick={() => setEditing(true)}>
              {t('profile.edit')}
            </button>
          </section>
        )}

        <OpenProfileCard />

        <section class="card">
          <h2 class="card-title">{t('more.language')}</h2>
          <div class="segmented" role="radiogroup" aria-label={t('more.language')}>
            {(['auto', 'ko', 'en'] as LangSetting[]).map((l) => (
              <button
                key={l}
                role="radio"
                aria-checked={settings.lang === l}
                class={settings.lang === l ? 'on' : ''}
                onClick={() => setSettings({ ...settings, lang: l })}
              >
                {l === 'auto' ? t('more.langAuto') : l === 'ko' ? '한국어' : 'English'}
              </button>
            ))}
          </div>
          <h2 class="card-title">{t('more.theme')}</h2>
          <div class="segmented" role="radiogroup" aria-label={t('more.theme')}>
            {(['system', 'light', 'dark'] as ThemeSetting[]).map((th) => (
              <button
                key={th}
                role="radio"
                aria-checked={settings.theme === th}
                class={settings.theme === th ? 'on' : ''}
                onClick={() => setSettings({ ...settings, theme: th })}
              >
                {th === 'system' ? t('more.themeSystem') : th === 'light' ? t('more.themeLight') : t('more.themeDark')}
              </button>
            ))}
          </div>
          <h2 class="card-title">{t('more.notifications')}</h2>
          {notify === 'default' ? (
            <button class="btn" onClick={async () => setNotify(await requestNotifications())}>
              {t('more.notifyEnable')}
            </button>
          ) : (
            <p class="muted">
              {notify === 'granted' ? t('more.notifyOn') : notify === 'denied' ? t('more.notifyBlocked') : t('more.notifyUnsupported')}
            </p>
          )}
        </section>

        <Devices />

        <section class="card">
          <button class="btn danger block" onClick={() => setLoggingOut(true)}>
            {t('more.logout')}
          </button>
          <p class="muted center small">{t('more.about', { version: __APP_VERSION__ })}</p>
        </section>
      </div>
      {editing && <EditProfileDialog onClose={() => setEditing(false)} />}
      {loggingOut && (
        <Confirm
          text={t('more.logoutConfirm')}
          okLabel={t('more.logout')}
          danger
          onCancel={() => setLoggingOut(false)}
          onOk={() => {
            setLoggingOut(false);
            void store.logout();
          }}
        />
      )}
    </div>
  );
}

/** My saved nickname profile for open chats (오픈프로필). */
function OpenProfileCard() {
  const { store, t } = useApp();
  const [editing, setEditing] = useState(false);
  const saved = store.savedNickname;
  const online = store.net === 'online';
  useEffect(() => {
    if (online && saved === undefined) void store.loadSavedNickname().catch(() => undefined);
  }, [online]);
  return (
    <section class="card open-profile-card" aria-labelledby="open-profile-title">
      <h2 class="card-title" id="open-profile-title">
        {t('open.profile.savedTitle')}
      </h2>
      <div class="open-profile-row">
        <Avatar profile={{ user_id: 0, handle: '', display_name: saved?.nickname ?? '', status_message: '', avatar: saved?.avatar ?? '' }} size={40} />
        <div class="row-main">
          <span class="row-title saved-nickname">{saved?.nickname ?? t('open.profile.none')}</span>
          <span class="row-sub">{t('open.profile.savedHint')}</span>
        </div>
        <button class="btn small edit-nickname" onClick={() => setEditing(true)} disabled={!online}>
          {saved ? t('open.profile.change') : t('open.profile.set')}
        </button>
      </div>
      {editing && <NicknameDialog onClose={() => setEditing(false)} />}
    </section>
  );
}

function Devices() {
  const { store, t, lang, toast } = useApp();
  const [devices, setDevices] = useState<Device[] | null>(null);
  const [revoking, setRevoking] = useState<Device | null>(null);
  const online = store.net === 'online';
  const load = () =>
    store
      .listDevices()
      .then(setDevices)
      .catch(() => undefined);
  useEffect(() => {
    if (online) void load();
  }, [online]);
  return (
    <section class="card" aria-labelledby="devices-title">
      <h2 class="card-title" id="devices-title">
        {t('more.devices')}
      </h2>
      {devices === null && <p class="muted">{t('room.loading')}</p>}
      <ul class="device-list">
        {devices?.map((d) => (
          <li key={d.device_id} class="device" data-device-id={d.device_id}>
            {d.kind === 'phone' || d.kind === 'tablet' ? <IconPhone /> : <IconDevice />}
            <div class="row-main">
              <span class="row-title">
                {d.name || d.kind}
                {d.current && <span class="me-chip">{t('more.thisDevice')}</span>}
              </span>
              <span class="row-sub">{t('more.lastSeen', { time: formatDateTime(d.last_seen_at, lang) })}</span>
            </div>
            {!d.current && (
              <button class="btn small" onClick={() => setRevoking(d)}>
                {t('more.revoke')}
              </button>
            )}
          </li>
        ))}
      </ul>
      {revoking && (
        <Confirm
          text={t('more.revokeConfirm')}
          okLabel={t('more.revoke')}
          danger
          onCancel={() => setRevoking(null)}
          onOk={async () => {
            const d = revoking;
            setRevoking(null);
            try {
              await store.revokeDevice(d.device_id);
              await load();
            } catch (e) {
              toast(errorText(t, errorCode(e)));
            }
          }}
        />
      )}
    </section>
  );
}
