import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Connection, type SocketLike } from './connection';
import { ConnectionError, ProtocolError } from './errors';
import { parseFrames } from './frames';
import type { ServerEvent } from './types';

class ManualSocket implements SocketLike {
  readyState = 0;
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  sent: { id: number; op: string; args: unknown }[] = [];
  closed = false;
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    this.closed = true;
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  recv(...frames: unknown[]): void {
    this.onmessage?.({ data: frames.map((f) => JSON.stringify(f)).join('\n') });
  }
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
}

describe('parseFrames', () => {
  it('splits batched frames and skips blank and broken lines', () => {
    const frames = parseFrames('{"id":1,"ok":true,"result":{}}\n\nnot json\n{"event":"hello","data":{}}\n');
    expect(frames).toHaveLength(2);
    expect(frames[1]).toMatchObject({ event: 'hello' });
  });
});

describe('Connection', () => {
  let sockets: ManualSocket[];
  let conn: Connection;

  beforeEach(() => {
    vi.useFakeTimers();
    sockets = [];
    conn = new Connection({
      url: 'ws://x/v1/ws',
      createSocket: () => {
        const s = new ManualSocket();
        sockets.push(s);
        return s;
      },
      random: () => 0.5,
      requestTimeoutMs: 1000,
      heartbeatMs: 5000,
    });
  });

  afterEach(() => {
    conn.stop();
    vi.useRealTimers();
  });

  it('matches responses to requests in any order, inside one batched message', async () => {
    conn.start();
    sockets[0]!.open();
    const a = conn.request('ping', {});
    const b = conn.request('chats.get', { chat_id: 5 });
    const [ra, rb] = sockets[0]!.sent;
    sockets[0]!.recv(
      { id: rb!.id, ok: false, error: { code: 'chat_not_found', message: 'no such chat' } },
      { id: ra!.id, ok: true, result: {} },
    );
    await expect(a).resolves.toEqual({});
    const err = await b.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe('chat_not_found');
  });

  it('hands events to listeners', () => {
    const seen: ServerEvent[] = [];
    conn.onEvent((e) => seen.push(e));
    conn.start();
    sockets[0]!.open();
    sockets[0]!.recv({ event: 'chat.read', pos: 9, data: { chat_id: 1, reads: [{ user_id: 2, read_seq: 3 }] } });
    expect(seen).toEqual([{ event: 'chat.read', pos: 9, data: { chat_id: 1, reads: [{ user_id: 2, read_seq: 3 }] } }]);
  });

  it('rejects requests when offline and when the socket drops', async () => {
    await expect(conn.request('ping', {})).rejects.toBeInstanceOf(ConnectionError);
    conn.start();
    sockets[0]!.open();
    const p = conn.request('ping', {});
    sockets[0]!.drop();
    await expect(p).rejects.toMatchObject({ code: 'disconnected' });
  });

  it('times out requests without an answer', async () => {
    conn.start();
    sockets[0]!.open();
    const p = conn.request('ping', {});
    vi.advanceTimersByTime(1001);
    await expect(p).rejects.toMatchObject({ code: 'timeout' });
  });

  it('reconnects with growing delays and resets the backoff', () => {
    conn.start();
    sockets[0]!.drop();
    // attempt 0: 500 ms base, jitter 0.5 => 375 ms
    vi.advanceTimersByTime(374);
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(2);
    sockets[1]!.drop();
    vi.advanceTimersByTime(749);
    expect(sockets).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(3);
    sockets[2]!.open();
    conn.resetBackoff();
    sockets[2]!.drop();
    vi.advanceTimersByTime(375);
    expect(sockets).toHaveLength(4);
  });

  it('spreads its return over five seconds when the server goes away, then backs off as usual', () => {
    let r = 0.9;
    const spread: ManualSocket[] = [];
    const c = new Connection({
      url: 'ws://x/v1/ws',
      createSocket: () => {
        const s = new ManualSocket();
        spread.push(s);
        return s;
      },
      random: () => r,
    });
    c.start();
    spread[0]!.open();
    spread[0]!.drop(1001); // the server is restarting: 0.9 of the 5 s spread
    vi.advanceTimersByTime(4499);
    expect(spread).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(spread).toHaveLength(2);
    r = 0.5;
    spread[1]!.drop(); // not back yet: the usual backoff, second attempt (1 s base) => 750 ms
    vi.advanceTimersByTime(749);
    expect(spread).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(spread).toHaveLength(3);
    c.stop();
  });

  it('reconnects at once when asked, and closes a link whose ping goes unanswered', async () => {
    conn.start();
    sockets[0]!.drop();
    conn.reconnectNow();
    expect(sockets).toHaveLength(2);
    sockets[1]!.open();
    vi.advanceTimersByTime(5000);
    expect(sockets[1]!.sent.map((f) => f.op)).toEqual(['ping']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sockets[1]!.closed).toBe(true);
    expect(conn.state).toBe('waiting');
  });
});
