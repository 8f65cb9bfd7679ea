import { useState } from 'preact/hooks';
import type { Profile } from '../protocol/types';

const PALETTE = ['#F7A8A8', '#F7C98B', '#A8D8A8', '#8EC5F2', '#B9A8F2', '#F2A8D8', '#9ED9D3', '#D9C59E'];

/** Only http(s) and data:image pictures are shown; anything else falls back to initials. */
function safeUrl(url: string): string | null {
  return /^(https?:\/\/|data:image\/)/i.test(url) ? url : null;
}

export function initials(name: string): string {
  const s = name.trim();
  if (!s) return '?';
  const first = Array.from(s)[0] as string;
  return first.toUpperCase();
}

export function Avatar({ profile, size = 44, label }: { profile: Profile | undefined; size?: number; label?: string }) {
  const [broken, setBroken] = useState(false);
  const url = profile && !broken ? safeUrl(profile.avatar) : null;
  const color = PALETTE[(profile?.user_id ?? 0) % PALETTE.length];
  const style = { width: `${size}px`, height: `${size}px`, fontSize: `${Math.round(size * 0.42)}px` };
  const alt = label ?? profile?.display_name ?? '';
  if (url) {
    return <img class="avatar" src={url} alt={alt} style={style} onError={() => setBroken(true)} loading="lazy" />;
  }
  return (
    <span class="avatar avatar-initial" style={{ ...style, background: color }} role="img" aria-label={alt}>
      {initials(profile?.display_name || profile?.handle || '')}
    </span>
  );
}

/** Up to four member pictures in one square, for group chats. */
export function GroupAvatar({ profiles, size = 48, label }: { profiles: Profile[]; size?: number; label: string }) {
  const shown = profiles.slice(0, 4);
  if (shown.length <= 1) return <Avatar profile={shown[0]} size={size} label={label} />;
  const cell = shown.length === 2 ? Math.round(size * 0.62) : Math.round(size * 0.5);
  return (
    <span class={`group-avatar n${shown.length}`} style={{ width: `${size}px`, height: `${size}px` }} role="img" aria-label={label}>
      {shown.map((p) => (
        <Avatar key={p.user_id} profile={p} size={cell} label="" />
      ))}
    </span>
  );
}
