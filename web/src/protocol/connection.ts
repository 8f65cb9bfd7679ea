import { ConnectionError, ProtocolError } from './errors';
import { isEventFrame, parseFrames } from './frames';
import type { OpArgs, OpName, OpResult, ServerEvent } from './types';

/** The part of the browser WebSocket the connection uses (so tests can pass a fake). */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string) => SocketLike;

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'waiting';

export interface ConnectionOptions {
  url: string;
  createSocket?: SocketFactory;
  /** How long a request may wait for its response. */
  requestTimeoutMs?: number;
  /** Send a `ping` after this much silence to notice dead connections. */
  heartbeatMs?: number;
  /** First and largest reconnect delays; the delay doubles in between, with jitter. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /**
   * When the server closes with 1001 (going away: it is shutting down or restarting), every
   * client it served comes back at once. Each one then waits a uniformly random time below
   * this, so that the herd reaches the restarted server spread over it.
   */
  restartSpreadMs?: number;
  random?: () => number;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

const OPEN = 1;
/** The WebSocket close code a server sends when it shuts down or restarts. */
const GOING_AWAY = 1001;

/**
 * One logical connection to `modu serve`: it keeps a WebSocket open, reconnecting with
 * exponential backoff, matches responses to requests and hands events to listeners.
 */
export class Connection {
  private readonly opts: Required<ConnectionOptions>;
  private socket: SocketLike | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setTimeout> | null = null;
  private running = false;
  private _state: ConnectionState = 'idle';

  private readonly eventListeners = new Set<(ev: ServerEvent) => void>();
  private readonly openListeners = new Set<() => void>();
  private readonly closeListeners = new Set<() => void>();
  private readonly stateListeners = new Set<(s: ConnectionState) => void>();

  constructor(options: ConnectionOptions) {
    this.opts = {
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      requestTimeoutMs: 15_000,
      heartbeatMs: 25_000,
      backoffMinMs: 500,
      backoffMaxMs: 30_000,
      restartSpreadMs: 5_000,
      random: Math.random,
      ...options,
    };
  }

  get state(): ConnectionState {
    return this._state;
  }

  onEvent(fn: (ev: ServerEvent) => void): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  onOpen(fn: () => void): () => void {
    this.openListeners.add(fn);
    return () => this.openListeners.delete(fn);
  }

  onClose(fn: () => void): () => void {
    this.closeListeners.add(fn);
    return () => this.closeListeners.delete(fn);
  }

  onState(fn: (s: ConnectionState) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  /** Starts connecting and keeps the connection up until `stop()`. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  stop(): void {
    this.running = false;
    this.clearReconnect();
    this.dropSocket();
    this.setState('idle');
  }

  /** Skips the backoff wait (for example when the browser says it is online again). */
  reconnectNow(): void {
    if (!this.running || this._state === 'open' || this._state === 'connecting') return;
    this.attempt = 0;
    this.clearReconnect();
    this.connect();
  }

  /** Closes the current socket (for example when the browser goes offline); reconnects later. */
  interrupt(): void {
    if (!this.socket) return;
    this.dropSocket();
    this.scheduleReconnect();
  }

  request<O extends OpName>(op: O, args: OpArgs<O>, timeoutMs?: number): Promise<OpResult<O>> {
    const socket = this.socket;
    if (!socket || this._state !== 'open') return Promise.reject(new ConnectionError('offline'));
    const id = this.nextId++;
    return new Promise<OpResult<O>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ConnectionError('timeout'));
      }, timeoutMs ?? this.opts.requestTimeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      try {
        socket.send(JSON.stringify({ id, op, args }));
      } catch {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new ConnectionError('disconnected'));
      }
    });
  }

  private connect(): void {
    this.setState('connecting');
    let socket: SocketLike;
    try {
      socket = this.opts.createSocket(this.opts.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.setState('open');
      this.armHeartbeat();
      for (const fn of this.openListeners) fn();
    };
    socket.onmessage = (ev) => {
      if (this.socket !== socket || typeof ev.data !== 'string') return;
      this.armHeartbeat();
      this.handleMessage(ev.data);
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.dropSocket();
      this.scheduleReconnect(ev.code === GOING_AWAY ? this.opts.restartSpreadMs : 0);
    };
    socket.onerror = () => {
      // onclose follows and does the work.
    };
  }

  private handleMessage(data: string): void {
    for (const frame of parseFrames(data)) {
      if (isEventFrame(frame)) {
        for (const fn of this.eventListeners) fn(frame);
        continue;
      }
      if (typeof frame.id !== 'number') continue;
      const p = this.pending.get(frame.id);
      if (!p) continue;
      this.pending.delete(frame.id);
      clearTimeout(p.timer);
      if (frame.ok) p.resolve(frame.result ?? {});
      else p.reject(new ProtocolError(frame.error));
    }
  }

  /** Forgets the socket, fails its requests and tells listeners. */
  private dropSocket(): void {
    const socket = this.socket;
    if (!socket) return;
    this.socket = null;
    this.clearHeartbeat();
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    try {
      socket.close();
    } catch {
      // already closed
    }
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(new ConnectionError('disconnected'));
    }
    if (this._state === 'open') for (const fn of this.closeListeners) fn();
    this.setState('waiting');
  }

  /** `spreadMs` > 0: the server went away for everyone; wait a random time below it instead. */
  private scheduleReconnect(spreadMs = 0): void {
    if (!this.running) return;
    this.clearReconnect();
    this.setState('waiting');
    const base = Math.min(this.opts.backoffMaxMs, this.opts.backoffMinMs * 2 ** this.attempt);
    const delay = spreadMs > 0 ? spreadMs * this.opts.random() : base / 2 + (base / 2) * this.opts.random();
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  /** Called once the session is usable, so the next drop starts from the shortest delay. */
  resetBackoff(): void {
    this.attempt = 0;
  }

  private clearReconnect(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private armHeartbeat(): void {
    this.clearHeartbeat();
    this.heartbeatTimer = setTimeout(() => {
      if (!this.socket || this.socket.readyState !== OPEN) return;
      // Any frame re-arms the timer; a ping that times out means the link is dead.
      this.request('ping', {}, Math.min(10_000, this.opts.requestTimeoutMs)).catch((e: unknown) => {
        if (e instanceof ConnectionError && e.code === 'timeout') this.interrupt();
      });
    }, this.opts.heartbeatMs);
  }

  private clearHeartbeat(): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private setState(s: ConnectionState): void {
    if (this._state === s) return;
    this._state = s;
    for (const fn of this.stateListeners) fn(s);
  }
}
