import { useApp } from './context';

/** Shows when the app is not live: offline, (re)connecting, or catching up. */
export function NetBanner() {
  const { store, t } = useApp();
  const net = store.net;
  if (net === 'online') return null;
  const text =
    net === 'syncing'
      ? t('common.syncing')
      : net === 'connecting' && !store.synced && navigator.onLine
        ? t('common.connecting')
        : t('common.offline');
  return (
    <div class={`net-banner ${net}`} role="status" data-net={net}>
      {text}
    </div>
  );
}
