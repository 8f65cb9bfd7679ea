import { useEffect, useState } from 'preact/hooks';
import { errorText, type Translate } from '../i18n';
import { errorCode } from '../protocol/errors';
import { ALL_PERMISSIONS, type Application, type AuditEntry, type Ban, type ChatSummary, type Member, type Permission, type Report } from '../protocol/types';
import { can, isStaff, memberCan, selfOf } from '../store/state';
import type { AppStore } from '../store/store';
import { Avatar } from './Avatar';
import { LeaveChatConfirm } from './ChatInfo';
import { useApp } from './context';
import { Confirm, Dialog } from './Dialog';
import { formatDateTime } from './format';
import { FormButtons } from './formParts';
import { IconLink } from './icons';
import { EditRoomForm } from './OpenCreate';
import { roomLink } from './openForm';
import { MemberCount, PolicyBadge, ReasonDialog, RoomCover, Tags } from './openView';

export type InfoSection = 'info' | 'members' | 'requests' | 'reports' | 'bans' | 'audit' | 'edit';

/** A person in a room, by member id: their room profile's name, or "a former member". */
function nameOf(store: AppStore, chat: ChatSummary, id: number | null | undefined, t: Translate): string {
  if (id === null || id === undefined) return t('open.audit.system');
  const p = store.memberProfile(chat, id);
  return p ? p.display_name || p.handle : t('open.formerMember', { id });
}

/** An open chat's info, members and (for staff, by permission) its management screens. */
export function OpenInfo({ chat, onClose, initial = 'info' }: { chat: ChatSummary; onClose: () => void; initial?: InfoSection }) {
  const { store, t } = useApp();
  const me = store.me?.user_id ?? -1;
  const [section, setSection] = useState<InfoSection>(initial);
  const staff = isStaff(chat, me);
  const pending = store.staffQueue.get(chat.chat_id)?.size ?? 0;
  const sections: [InfoSection, string][] = [
    ['info', t('open.info.info')],
    ['members', t('group.members', { n: chat.member_count })],
  ];
  if (can(chat, me, 'approve') && chat.open?.join_policy === 'approval') sections.push(['requests', pending ? `${t('open.info.requests')} ${pending}` : t('open.info.requests')]);
  if (can(chat, me, 'delete') || can(chat, me, 'kick') || can(chat, me, 'ban')) sections.push(['reports', t('open.info.reports')]);
  if (can(chat, me, 'ban')) sections.push(['bans', t('open.info.bans')]);
  if (staff) sections.push(['audit', t('open.info.audit')]);
  if (can(chat, me, 'edit')) sections.push(['edit', t('open.info.edit')]);
  const current = sections.some(([s]) => s === section) ? section : 'info';

  return (
    <Dialog title={chat.title || t('room.info')} onClose={onClose} wide>
      <div class="info-tabs" role="tablist" aria-label={t('room.info')}>
        {sections.map(([s, label]) => (
          <button key={s} role="tab" data-section={s} aria-selected={current === s} class={current === s ? 'on' : ''} onClick={() => setSection(s)}>
            {label}
          </button>
        ))}
      </div>
      <div class="dialog-body open-info" data-section={current}>
        {current === 'info' && <InfoPane chat={chat} onClose={onClose} />}
        {current === 'members' && <MembersPane chat={chat} />}
        {current === 'requests' && <RequestsPane chat={chat} />}
        {current === 'reports' && <ReportsPane chat={chat} />}
        {current === 'bans' && <BansPane chat={chat} />}
        {current === 'audit' && <AuditPane chat={chat} />}
        {current === 'edit' && chat.open && <EditRoomForm chatId={chat.chat_id} room={chat.open} onDone={() => setSection('info')} />}
      </div>
    </Dialog>
  );
}

function InfoPane({ chat, onClose }: { chat: ChatSummary; onClose: () => void }) {
  const { store, t, lang, toast } = useApp();
  const room = chat.open;
  const me = store.me?.user_id ?? -1;
  const self = chat.members.find((m) => m.user_id === selfOf(chat, me));
  const [notice, setNotice] = useState(room?.notice?.text ?? '');
  const [editingNotice, setEditingNotice] = useState(false);
  const [leaving, setLeaving] = useState(false);
  const fail = (e: unknown) => toast(errorText(t, errorCode(e)));
  const link = room ? roomLink(location.origin, room.code) : '';
  return (
    <>
      {room && (
        <div class="room-hero">
          <RoomCover room={room} size={64} />
          <div class="room-hero-main">
            <h3 class="room-hero-title">{room.title}</h3>
            <span class="room-card-meta">
              <MemberCount room={room} />
              <PolicyBadge policy={room.join_policy} />
              {!room.listed && <span class="policy-badge">{t('open.create.linkOnly')}</span>}
            </span>
            <Tags tags={room.tags} />
          </div>
        </div>
      )}
      {room?.description && <p class="room-desc">{room.description}</p>}
      {room && (
        <div class="share">
          <span class="muted small">{t('open.code')}</span>
          <code class="room-code" data-code={room.code}>
            {room.code}
          </code>
          <button
            class="btn small"
            onClick={() => {
              void navigator.clipboard?.writeText(link).then(
                () => toast(t('open.linkCopied')),
                () => toast(link),
              );
            }}
          >
            <IconLink /> {t('open.copyLink')}
          </button>
        </div>
      )}
      {room && room.slow_mode_seconds > 0 && <p class="muted small">{t('open.slow.info', { n: room.slow_mode_seconds })}</p>}
      <section class="notice-edit">
        <h4 class="sub-title">{t('open.notice')}</h4>
        {editingNotice ? (
          <form
            onSubmit={async (e) => {
              e.preventDefault();
              try {
                await store.setNotice(chat.chat_id, notice.trim());
                setEditingNotice(false);
              } catch (err) {
                fail(err);
              }
            }}
          >
            <textarea name="notice" rows={3} value={notice} maxLength={1000} onInput={(e) => setNotice(e.currentTarget.value)} autofocus />
            <FormButtons submitLabel={notice.trim() ? t('profile.save') : t('open.noticeClear')} onCancel={() => setEditingNotice(false)} />
          </form>
        ) : (
          <>
            <p class="notice-text">
              {room?.notice?.text || <span class="muted">{t('open.noNotice')}</span>}
              {room?.notice && (
                <span class="muted small">
                  {' '}
                  · {nameOf(store, chat, room.notice.by, t)} · {formatDateTime(room.notice.at, lang)}
                </span>
              )}
            </p>
            {can(chat, me, 'notice') && (
              <button class="btn small" onClick={() => setEditingNotice(true)}>
                {t('open.noticeEdit')}
              </button>
            )}
          </>
        )}
      </section>
      {self && (
        <section>
          <h4 class="sub-title">{t('open.myRoomProfile')}</h4>
          <div class="row member-row">
            <Avatar profile={self.profile} size={36} />
            <span class="row-main">
              <span class="row-title">
                {self.profile.display_name}
                {self.real && <span class="me-chip">{t('open.profile.real')}</span>}
              </span>
            </span>
            <RoleChip m={self} />
          </div>
        </section>
      )}
      <div class="info-actions">
        <button class="btn danger" onClick={() => setLeaving(true)}>
          {t('group.leave')}
        </button>
      </div>
      {leaving && (
        <LeaveChatConfirm
          chatId={chat.chat_id}
          text={self?.role === 'owner' ? t('open.leaveOwner') : t('group.leaveConfirm')}
          onCancel={() => setLeaving(false)}
          onLeft={onClose}
        />
      )}
    </>
  );
}

function RoleChip({ m }: { m: Member }) {
  const { t } = useApp();
  if (m.role === 'member') return null;
  return <span class={`role-chip ${m.role}`}>{m.role === 'owner' ? t('open.role.owner') : t('open.role.admin')}</span>;
}

function permLabel(t: Translate, p: Permission): string {
  return t(`open.perm.${p}`);
}

function MembersPane({ chat }: { chat: ChatSummary }) {
  const { store, t } = useApp();
  const me = store.me?.user_id ?? -1;
  const selfId = selfOf(chat, me);
  const [open, setOpen] = useState<number | null>(null);
  const order = { owner: 0, admin: 1, member: 2 };
  const members = [...chat.members].sort(
    (a, b) => (a.user_id === selfId ? -1 : b.user_id === selfId ? 1 : 0) || order[a.role] - order[b.role] || a.profile.display_name.localeCompare(b.profile.display_name),
  );
  return (
    <ul class="list members open-members">
      {members.map((m) => (
        <li key={m.user_id} data-member-id={m.user_id} data-name={m.profile.display_name}>
          <button class="row member-row" onClick={() => setOpen(open === m.user_id ? null : m.user_id)} aria-expanded={open === m.user_id}>
            <Avatar profile={m.profile} size={36} />
            <span class="row-main">
              <span class="row-title">
                <span class="title-text">{m.profile.display_name || m.profile.handle}</span>
                {m.user_id === selfId && <span class="me-chip">{t('room.you')}</span>}
                {m.real && <span class="me-chip">{t('open.profile.real')}</span>}
              </span>
              {m.role === 'admin' && (
                <span class="row-sub perms">{(m.permissions ?? ALL_PERMISSIONS).map((p) => permLabel(t, p)).join(' · ')}</span>
              )}
            </span>
            <RoleChip m={m} />
          </button>
          {open === m.user_id && <MemberManage chat={chat} m={m} />}
        </li>
      ))}
    </ul>
  );
}

/** What I may do to one member: roles and permissions, transfer, kick, ban, report. */
function MemberManage({ chat, m }: { chat: ChatSummary; m: Member }) {
  const { store, t, toast } = useApp();
  const me = store.me?.user_id ?? -1;
  const self = chat.members.find((x) => x.user_id === selfOf(chat, me));
  const isSelf = m.user_id === self?.user_id;
  const owner = self?.role === 'owner';
  const [role, setRole] = useState<'admin' | 'member'>(m.role === 'admin' ? 'admin' : 'member');
  const [perms, setPerms] = useState<Permission[]>(m.permissions ?? [...ALL_PERMISSIONS]);
  const [ask, setAsk] = useState<'kick' | 'ban' | 'report' | 'transfer' | null>(null);
  const fail = (e: unknown) => toast(errorText(t, errorCode(e)));
  if (isSelf) return null;
  const above = m.role === 'owner' || (m.role === 'admin' && !owner);
  const mayKick = memberCan(self, 'kick') && !above;
  const mayBan = memberCan(self, 'ban') && !above;
  const name = m.profile.display_name;
  return (
    <div class="member-manage">
      {owner && m.role !== 'owner' && (
        <div class="role-edit">
          <div class="segmented" role="radiogroup" aria-label={t('open.role.title')}>
            {(['member', 'admin'] as const).map((r) => (
              <button key={r} type="button" role="radio" data-role={r} aria-checked={role === r} class={role === r ? 'on' : ''} onClick={() => setRole(r)}>
                {r === 'admin' ? t('open.role.admin') : t('open.role.member')}
              </button>
            ))}
          </div>
          {role === 'admin' && (
            <div class="perm-grid" role="group" aria-label={t('open.perm.title')}>
              {ALL_PERMISSIONS.map((p) => (
                <label key={p} class="inline-check">
                  <input
                    type="checkbox"
                    name={`perm-${p}`}
                    checked={perms.includes(p)}
                    onChange={(e) => setPerms(e.currentTarget.checked ? [...perms, p] : perms.filter((x) => x !== p))}
                  />
                  {permLabel(t, p)}
                </label>
              ))}
            </div>
          )}
          <button
            class="btn small primary save-role"
            onClick={async () => {
              try {
                await store.setRole(chat.chat_id, m.user_id, role, role === 'admin' ? ALL_PERMISSIONS.filter((p) => perms.includes(p)) : undefined);
                toast(t('open.saved'));
              } catch (e) {
                fail(e);
              }
            }}
          >
            {t('open.role.save')}
          </button>
        </div>
      )}
      <div class="info-actions">
        {owner && m.role !== 'owner' && (
          <button class="btn small" onClick={() => setAsk('transfer')}>
            {t('open.transfer')}
          </button>
        )}
        {mayKick && (
          <button class="btn small kick" onClick={() => setAsk('kick')}>
            {t('open.kick')}
          </button>
        )}
        {mayBan && (
          <button class="btn small danger ban" onClick={() => setAsk('ban')}>
            {t('open.ban')}
          </button>
        )}
        <button class="btn small" onClick={() => setAsk('report')}>
          {t('open.report')}
        </button>
      </div>
      {ask === 'transfer' && (
        <Confirm
          text={t('open.transferConfirm', { name })}
          okLabel={t('open.transfer')}
          danger
          onCancel={() => setAsk(null)}
          onOk={async () => {
            setAsk(null);
            try {
              await store.transferOwnership(chat.chat_id, m.user_id);
            } catch (e) {
              fail(e);
            }
          }}
        />
      )}
      {(ask === 'kick' || ask === 'ban' || ask === 'report') && (
        <ReasonDialog
          title={ask === 'kick' ? t('open.kickTitle', { name }) : ask === 'ban' ? t('open.banTitle', { name }) : t('open.reportTitle', { name })}
          okLabel={ask === 'kick' ? t('open.kick') : ask === 'ban' ? t('open.ban') : t('open.report')}
          danger={ask !== 'report'}
          required={ask === 'report'}
          presets={ask === 'report' ? [t('open.reason.spam'), t('open.reason.abuse'), t('open.reason.illegal')] : undefined}
          onCancel={() => setAsk(null)}
          onOk={async (reason) => {
            if (ask === 'kick') await store.kick(chat.chat_id, m.user_id, reason || undefined);
            else if (ask === 'ban') await store.ban(chat.chat_id, m.user_id, reason || undefined);
            else await store.report(chat.chat_id, { member_id: m.user_id }, reason);
            toast(ask === 'report' ? t('open.reported') : ask === 'kick' ? t('open.kicked', { name }) : t('open.banned', { name }));
            setAsk(null);
          }}
        />
      )}
    </div>
  );
}

function RequestsPane({ chat }: { chat: ChatSummary }) {
  const { store, t, lang, toast } = useApp();
  const [loaded, setLoaded] = useState(false);
  const [rejecting, setRejecting] = useState<Application | null>(null);
  const online = store.net === 'online';
  useEffect(() => {
    if (!online) return;
    store
      .roomApplications(chat.chat_id)
      .then(() => setLoaded(true))
      .catch((e: unknown) => toast(errorText(t, errorCode(e))));
  }, [online]);
  const apps = [...(store.staffQueue.get(chat.chat_id)?.values() ?? [])].sort((a, b) => a.created_at - b.created_at);
  const form = chat.open?.form ?? [];
  const label = (key: string) => form.find((f) => f.key === key)?.label ?? key;
  const decide = async (a: Application, approve: boolean, reason?: string) => {
    try {
      await store.decideApplication(chat.chat_id, a.application_id, approve, reason);
      toast(approve ? t('open.approved', { name: a.profile.display_name }) : t('open.rejected', { name: a.profile.display_name }));
    } catch (e) {
      toast(errorText(t, errorCode(e)));
    }
  };
  return (
    <>
      {!loaded && apps.length === 0 && (
        <div class="center">
          <span class="spinner" aria-label={t('room.loading')} />
        </div>
      )}
      {loaded && apps.length === 0 && <p class="empty">{t('open.requests.none')}</p>}
      <ul class="staff-cards requests">
        {apps.map((a) => (
          <li key={a.application_id} class="staff-card" data-application-id={a.application_id} data-name={a.profile.display_name}>
            <div class="staff-card-head">
              <Avatar profile={a.profile} size={36} />
              <span class="row-main">
                <span class="row-title">{a.profile.display_name}</span>
                <span class="row-sub">
                  {t('open.app.sentAt', { time: formatDateTime(a.created_at, lang) })} · {t('open.app.expiresAt', { time: formatDateTime(a.expires_at, lang) })}
                </span>
              </span>
            </div>
            {a.answers && Object.keys(a.answers).length > 0 && (
              <dl class="answers-view">
                {Object.entries(a.answers).map(([k, v]) => (
                  <div key={k}>
                    <dt>{label(k)}</dt>
                    <dd>{v}</dd>
                  </div>
                ))}
              </dl>
            )}
            <div class="info-actions">
              <button class="btn small primary approve" onClick={() => void decide(a, true)}>
                {t('open.approve')}
              </button>
              <button class="btn small reject" onClick={() => setRejecting(a)}>
                {t('open.reject')}
              </button>
            </div>
          </li>
        ))}
      </ul>
      {rejecting && (
        <ReasonDialog
          title={t('open.rejectTitle', { name: rejecting.profile.display_name })}
          okLabel={t('open.reject')}
          danger
          onCancel={() => setRejecting(null)}
          onOk={async (reason) => {
            const a = rejecting;
            setRejecting(null);
            await decide(a, false, reason || undefined);
          }}
        />
      )}
    </>
  );
}

function ReportsPane({ chat }: { chat: ChatSummary }) {
  const { store, t, lang, toast } = useApp();
  const me = store.me?.user_id ?? -1;
  const [state, setState] = useState<'open' | 'resolved'>('open');
  const [reports, setReports] = useState<Report[] | null>(null);
  const load = () =>
    store
      .reports(chat.chat_id, state)
      .then(setReports)
      .catch((e: unknown) => toast(errorText(t, errorCode(e))));
  useEffect(() => {
    setReports(null);
    void load();
  }, [state, store.net]);
  const resolve = async (r: Report, action: 'dismiss' | 'restore' | 'delete') => {
    try {
      await store.resolveReport(chat.chat_id, r.report_id, action);
      toast(t(`open.resolved.${action}`));
      await load();
    } catch (e) {
      toast(errorText(t, errorCode(e)));
    }
  };
  const mayDelete = can(chat, me, 'delete');
  return (
    <>
      <div class="segmented" role="radiogroup" aria-label={t('open.info.reports')}>
        {(['open', 'resolved'] as const).map((s) => (
          <button key={s} role="radio" aria-checked={state === s} class={state === s ? 'on' : ''} onClick={() => setState(s)}>
            {s === 'open' ? t('open.reports.open') : t('open.reports.resolved')}
          </button>
        ))}
      </div>
      {reports === null && (
        <div class="center">
          <span class="spinner" aria-label={t('room.loading')} />
        </div>
      )}
      {reports?.length === 0 && <p class="empty">{t('open.reports.none')}</p>}
      <ul class="staff-cards reports">
        {reports?.map((r) => {
          const hidden = !!(r.message_hidden ?? r.message?.hidden);
          return (
            <li key={r.report_id} class="staff-card" data-report-id={r.report_id} data-hidden={hidden ? 'true' : undefined}>
              <div class="staff-card-head">
                <span class="row-main">
                  <span class="row-title">
                    {t('open.reports.about', { name: nameOf(store, chat, r.target, t) })}
                    {hidden && <span class="state-chip hidden">{t('open.reports.hiddenChip')}</span>}
                  </span>
                  <span class="row-sub">
                    {t('open.reports.by', { name: nameOf(store, chat, r.reporter, t) })} · {formatDateTime(r.created_at, lang)}
                  </span>
                </span>
                <span class="total-chip" title={t('open.reports.totalHint')}>
                  {t('open.reports.total', { n: r.target_reports_total })}
                </span>
              </div>
              <p class="report-reason">{r.reason}</p>
              {r.seq > 0 && (
                <blockquote class="reported-text">{r.message ? (r.message.deleted ? t('chats.deleted') : r.message.text) : `#${r.seq}`}</blockquote>
              )}
              {r.state === 'open' && (
                <div class="info-actions">
                  <button class="btn small dismiss" onClick={() => void resolve(r, 'dismiss')}>
                    {t('open.resolve.dismiss')}
                  </button>
                  {r.seq > 0 && mayDelete && hidden && (
                    <button class="btn small restore" onClick={() => void resolve(r, 'restore')}>
                      {t('open.resolve.restore')}
                    </button>
                  )}
                  {r.seq > 0 && mayDelete && !r.message?.deleted && (
                    <button class="btn small danger delete" onClick={() => void resolve(r, 'delete')}>
                      {t('open.resolve.delete')}
                    </button>
                  )}
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </>
  );
}

function BansPane({ chat }: { chat: ChatSummary }) {
  const { store, t, lang, toast } = useApp();
  const [bans, setBans] = useState<Ban[] | null>(null);
  const [unbanning, setUnbanning] = useState<Ban | null>(null);
  const load = () =>
    store
      .bans(chat.chat_id)
      .then(setBans)
      .catch((e: unknown) => toast(errorText(t, errorCode(e))));
  useEffect(() => {
    void load();
  }, [store.net]);
  return (
    <>
      {bans === null && (
        <div class="center">
          <span class="spinner" aria-label={t('room.loading')} />
        </div>
      )}
      {bans?.length === 0 && <p class="empty">{t('open.bans.none')}</p>}
      <ul class="list bans">
        {bans?.map((b) => (
          <li key={b.ban_id} class="row member-row ban-row" data-ban-id={b.ban_id} data-name={b.profile?.display_name ?? ''}>
            <Avatar profile={b.profile ?? undefined} size={36} />
            <span class="row-main">
              <span class="row-title">{b.profile?.display_name || t('open.formerMember', { id: b.member_id })}</span>
              <span class="row-sub">
                {b.reason ? `${b.reason} · ` : ''}
                {t('open.bans.by', { name: nameOf(store, chat, b.by, t) })} · {formatDateTime(b.at, lang)}
              </span>
            </span>
            <button class="btn small unban" onClick={() => setUnbanning(b)}>
              {t('open.unban')}
            </button>
          </li>
        ))}
      </ul>
      {unbanning && (
        <Confirm
          text={t('open.unbanConfirm', { name: unbanning.profile?.display_name ?? '' })}
          okLabel={t('open.unban')}
          onCancel={() => setUnbanning(null)}
          onOk={async () => {
            const b = unbanning;
            setUnbanning(null);
            try {
              await store.unban(chat.chat_id, b.ban_id);
              await load();
            } catch (e) {
              toast(errorText(t, errorCode(e)));
            }
          }}
        />
      )}
    </>
  );
}

function auditText(store: AppStore, chat: ChatSummary, e: AuditEntry, t: Translate): string {
  const actor = e.actor === null ? t('open.audit.system') : nameOf(store, chat, e.actor, t);
  const target = e.target === null ? '' : nameOf(store, chat, e.target, t);
  const known = ['create', 'edit', 'approve', 'reject', 'kick', 'ban', 'unban', 'delete_message', 'notice', 'set_role', 'transfer', 'resolve_report', 'hide_message'];
  const key = known.includes(e.action) ? e.action : 'other';
  return t(`open.audit.${key}` as 'open.audit.other', { actor, target, action: e.action });
}

function auditDetail(e: AuditEntry, t: Translate): string {
  const d = e.detail ?? {};
  const parts: string[] = [];
  if (typeof d.reason === 'string' && d.reason) parts.push(t('open.app.reason', { reason: d.reason }));
  if (typeof d.role === 'string') parts.push(d.role === 'admin' ? t('open.role.admin') : t('open.role.member'));
  if (Array.isArray(d.permissions)) parts.push(d.permissions.map((p) => (typeof p === 'string' ? t(`open.perm.${p}` as 'open.perm.ban') : '')).join(', '));
  if (typeof d.action === 'string') parts.push(d.action);
  if (typeof d.seq === 'number') parts.push(`#${d.seq}`);
  if (typeof d.text === 'string' && d.text) parts.push(`“${d.text}”`);
  return parts.join(' · ');
}

function AuditPane({ chat }: { chat: ChatSummary }) {
  const { store, t, lang, toast } = useApp();
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [more, setMore] = useState(false);
  const load = async (before?: number) => {
    try {
      const res = await store.audit(chat.chat_id, before);
      setEntries((cur) => (before && cur ? [...cur, ...res.entries] : res.entries));
      setMore(res.has_more);
    } catch (e) {
      toast(errorText(t, errorCode(e)));
    }
  };
  useEffect(() => {
    void load();
  }, [store.net]);
  return (
    <>
      {entries === null && (
        <div class="center">
          <span class="spinner" aria-label={t('room.loading')} />
        </div>
      )}
      {entries?.length === 0 && <p class="empty">{t('open.audit.none')}</p>}
      <ol class="audit">
        {entries?.map((e) => {
          const detail = auditDetail(e, t);
          return (
            <li key={e.entry_id} class="audit-entry" data-action={e.action}>
              <time>{formatDateTime(e.at, lang)}</time>
              <span class="audit-text">{auditText(store, chat, e, t)}</span>
              {detail && <span class="muted small">{detail}</span>}
            </li>
          );
        })}
      </ol>
      {more && entries && (
        <div class="center">
          <button class="btn small" onClick={() => void load(entries[entries.length - 1]?.entry_id)}>
            {t('open.more')}
          </button>
        </div>
      )}
    </>
  );
}
