/** Inline icons (stroke style), sized by CSS. */
import type { JSX } from 'preact';

type P = { class?: string };

const svg = (children: JSX.Element | JSX.Element[], p: P) => (
  <svg class={p.class ?? 'icon'} viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
    {children}
  </svg>
);

export const IconPerson = (p: P) => svg([<circle cx="12" cy="8" r="4" />, <path d="M4 21c0-4 3.6-7 8-7s8 3 8 7" />], p);
export const IconChat = (p: P) => svg(<path d="M12 3C6.5 3 2 6.6 2 11c0 2.8 1.8 5.3 4.6 6.7L5.5 21l4.2-2.3c.7.1 1.5.2 2.3.2 5.5 0 10-3.6 10-8S17.5 3 12 3z" />, p);
export const IconMore = (p: P) => svg([<circle cx="5" cy="12" r="1.5" />, <circle cx="12" cy="12" r="1.5" />, <circle cx="19" cy="12" r="1.5" />], p);
export const IconAddPerson = (p: P) => svg([<circle cx="10" cy="8" r="4" />, <path d="M2 21c0-4 3.6-7 8-7 1.4 0 2.7.3 3.8.8" />, <path d="M19 14v6M16 17h6" />], p);
export const IconNewChat = (p: P) => svg([<path d="M12 3C6.5 3 2 6.6 2 11c0 2.8 1.8 5.3 4.6 6.7L5.5 21l4.2-2.3c.7.1 1.5.2 2.3.2 5.5 0 10-3.6 10-8" />, <path d="M19 2v6M16 5h6" />], p);
export const IconBack = (p: P) => svg(<path d="M15 5l-7 7 7 7" />, p);
export const IconMenu = (p: P) => svg(<path d="M4 6h16M4 12h16M4 18h16" />, p);
export const IconSend = (p: P) => svg(<path d="M4 12l16-8-6 16-2.5-6.5L4 12z" />, p);
export const IconClose = (p: P) => svg(<path d="M6 6l12 12M18 6L6 18" />, p);
export const IconReply = (p: P) => svg(<path d="M9 7L4 12l5 5M4 12h11a5 5 0 015 5v1" />, p);
export const IconTrash = (p: P) => svg([<path d="M4 7h16M10 11v6M14 11v6" />, <path d="M6 7l1 13h10l1-13M9 7V4h6v3" />], p);
export const IconDown = (p: P) => svg(<path d="M6 9l6 6 6-6" />, p);
export const IconClock = (p: P) => svg([<circle cx="12" cy="12" r="9" />, <path d="M12 7v5l3 2" />], p);
export const IconAlert = (p: P) => svg([<circle cx="12" cy="12" r="9" />, <path d="M12 7v6M12 16.5v.5" />], p);
export const IconRetry = (p: P) => svg([<path d="M20 12a8 8 0 11-2.3-5.6" />, <path d="M20 4v5h-5" />], p);
export const IconSearch = (p: P) => svg([<circle cx="11" cy="11" r="7" />, <path d="M20 20l-4-4" />], p);
export const IconCheck = (p: P) => svg(<path d="M5 12l5 5 9-10" />, p);
export const IconDevice = (p: P) => svg([<rect x="3" y="4" width="18" height="12" rx="2" />, <path d="M8 20h8M12 16v4" />], p);
export const IconPhone = (p: P) => svg([<rect x="7" y="2" width="10" height="20" rx="2" />, <path d="M11 18h2" />], p);
export const IconEdit = (p: P) => svg(<path d="M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4" />, p);
export const IconOpen = (p: P) => svg([<circle cx="12" cy="12" r="9" />, <path d="M3 12h18M12 3c2.5 2.7 3.8 5.7 3.8 9s-1.3 6.3-3.8 9c-2.5-2.7-3.8-5.7-3.8-9S9.5 5.7 12 3z" />], { class: p.class ?? 'icon icon-open' });
export const IconFlag = (p: P) => svg([<path d="M5 21V4" />, <path d="M5 4h11l-2 4 2 4H5" />], p);
export const IconPin = (p: P) => svg([<path d="M9 4h6l-1 6 4 3v1H6v-1l4-3-1-6z" />, <path d="M12 14v7" />], p);
export const IconShield = (p: P) => svg(<path d="M12 3l8 3v6c0 4.5-3.4 8.2-8 9-4.6-.8-8-4.5-8-9V6l8-3z" />, p);
export const IconLink = (p: P) => svg([<path d="M10 14a4 4 0 005.7 0l3-3a4 4 0 00-5.7-5.7l-1 1" />, <path d="M14 10a4 4 0 00-5.7 0l-3 3a4 4 0 005.7 5.7l1-1" />], p);
export const IconLock = (p: P) => svg([<rect x="5" y="11" width="14" height="10" rx="2" />, <path d="M8 11V8a4 4 0 018 0v3" />], p);
export const IconUsers = (p: P) => svg([<circle cx="9" cy="8" r="3.5" />, <path d="M2.5 20c0-3.6 2.9-6 6.5-6s6.5 2.4 6.5 6" />, <path d="M16 4.5a3.5 3.5 0 010 7M18 14c2.2.6 3.5 2.8 3.5 6" />], p);
