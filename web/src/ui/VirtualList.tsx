import type { JSX } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';

/**
 * A vertical list that renders only the rows near the viewport, for chats with very long
 * histories. Rows have any height: they are measured once rendered (ResizeObserver) and
 * estimated before. It sticks to the bottom while the user is there, and keeps the row under
 * the user's eye in place when rows are added above (older history) or change height.
 */
export interface VirtualListProps<T> {
  items: readonly T[];
  getKey: (item: T) => string;
  estimate: (item: T) => number;
  render: (item: T) => JSX.Element;
  /** Rows that may anchor the scroll position (ones that move with their neighbours). */
  canAnchor?: (item: T) => boolean;
  /** Called when the user scrolls close to the top. */
  onNearTop?: () => void;
  /** Called when the user reaches or leaves the bottom. */
  onAtBottom?: (atBottom: boolean) => void;
  /** Incrementing this scrolls to the bottom and sticks there. */
  bottomSignal: number;
  label: string;
  class?: string;
}

const OVERSCAN_PX = 600;
const BOTTOM_SLACK_PX = 48;
const NEAR_TOP_PX = 1200;

/** The first index whose offset is above `y` (offsets ascending, length n+1). */
function indexAt(offsets: Float64Array, n: number, y: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((offsets[mid] as number) <= y) lo = mid;
    else hi = mid - 1;
  }
  return Math.min(lo, Math.max(0, n - 1));
}

function Measured(props: { k: string; observer: ResizeObserver | null; children: JSX.Element }) {
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    const ro = props.observer;
    if (!el || !ro) return;
    ro.observe(el);
    return () => ro.unobserve(el);
  }, [props.observer]);
  return (
    <div ref={ref} data-key={props.k} class="vrow">
      {props.children}
    </div>
  );
}

export function VirtualList<T>(props: VirtualListProps<T>) {
  const { items, getKey, estimate } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<string, number>());
  const [, remeasured] = useReducer((n: number) => n + 1, 0);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(800);
  const stick = useRef(true);
  const anchor = useRef<{ key: string; delta: number } | null>(null);
  const atBottom = useRef(true);
  const propsRef = useRef(props);
  propsRef.current = props;

  const keys = useMemo(() => items.map(getKey), [items, getKey]);
  const keyIndex = useMemo(() => {
    const m = new Map<string, number>();
    keys.forEach((k, i) => m.set(k, i));
    return m;
  }, [keys]);

  const n = items.length;
  const offsets = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const h = heights.current.get(keys[i] as string) ?? estimate(items[i] as T);
    offsets[i + 1] = (offsets[i] as number) + h;
  }
  const total = offsets[n] as number;
  const start = n ? indexAt(offsets, n, scrollTop - OVERSCAN_PX) : 0;
  const end = n ? indexAt(offsets, n, scrollTop + viewport + OVERSCAN_PX) + 1 : 0;

  const layout = useRef({ offsets, keyIndex, keys });
  layout.current = { offsets, keyIndex, keys };

  /** Remembers the first visible row that can anchor, and where it is relative to the top. */
  const rememberAnchor = (top: number) => {
    const { offsets: o, keys: k } = layout.current;
    const canAnchor = propsRef.current.canAnchor;
    let i = k.length ? indexAt(o, k.length, top) : 0;
    while (i < k.length - 1 && canAnchor && !canAnchor(propsRef.current.items[i] as T)) i++;
    anchor.current = i < k.length ? { key: k[i] as string, delta: (o[i] as number) - top } : null;
  };

  // Measure rendered rows.
  const observer = useMemo(
    () =>
      typeof ResizeObserver === 'undefined'
        ? null
        : new ResizeObserver((entries) => {
            let changed = false;
            for (const e of entries) {
              const el = e.target as HTMLElement;
              const key = el.dataset.key;
              if (!key || !el.isConnected) continue;
              const h = el.offsetHeight;
              if (h > 0 && heights.current.get(key) !== h) {
                heights.current.set(key, h);
                changed = true;
              }
            }
            if (changed) remeasured(0);
          }),
    [],
  );
  useEffect(() => () => observer?.disconnect(), [observer]);

  // Track the viewport size.
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    setViewport(el.clientHeight);
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => setViewport(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // After every layout: stay at the bottom, or keep the anchored row where it was.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (stick.current) {
      const bottom = Math.max(0, el.scrollHeight - el.clientHeight);
      if (Math.abs(el.scrollTop - bottom) > 1) el.scrollTop = bottom;
    } else if (anchor.current) {
      const i = keyIndex.get(anchor.current.key);
      if (i !== undefined) {
        const want = (offsets[i] as number) - anchor.current.delta;
        if (Math.abs(el.scrollTop - want) > 1) el.scrollTop = want;
      }
    }
    rememberAnchor(el.scrollTop);
    if (el.scrollTop !== scrollTop) setScrollTop(el.scrollTop);
    // Near the top without a scroll event (short content, or a page just arrived): load more.
    if (el.scrollTop < NEAR_TOP_PX && !stick.current) propsRef.current.onNearTop?.();
  });

  useEffect(() => {
    if (!props.bottomSignal) return;
    stick.current = true;
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
    remeasured(0);
  }, [props.bottomSignal]);

  const frame = useRef(0);
  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const top = el.scrollTop;
    const distance = el.scrollHeight - el.clientHeight - top;
    stick.current = distance <= BOTTOM_SLACK_PX;
    rememberAnchor(top);
    if (atBottom.current !== stick.current) {
      atBottom.current = stick.current;
      propsRef.current.onAtBottom?.(stick.current);
    }
    if (top < NEAR_TOP_PX) propsRef.current.onNearTop?.();
    if (!frame.current) {
      frame.current = requestAnimationFrame(() => {
        frame.current = 0;
        if (scroller.current) setScrollTop(scroller.current.scrollTop);
      });
    }
  };

  const rows: JSX.Element[] = [];
  for (let i = start; i < end; i++) {
    const item = items[i] as T;
    const key = keys[i] as string;
    rows.push(
      <Measured key={key} k={key} observer={observer}>
        {props.render(item)}
      </Measured>,
    );
  }

  return (
    <div ref={scroller} class={`vlist ${props.class ?? ''}`} onScroll={onScroll} role="log" aria-label={props.label} aria-live="polite" tabIndex={0}>
      <div class="vlist-inner" style={{ height: `${total}px` }}>
        <div class="vlist-window" style={{ transform: `translateY(${offsets[start] ?? 0}px)` }}>
          {rows}
        </div>
      </div>
    </div>
  );
}
