// End-to-end: a room of more than 100 members, where chat.read carries the messages' unread
// counts instead of every member's pointer (docs/protocol.md, "Read counts"). The web client
// must show those counts even when it holds every member. Run with `npm run e2e`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PHONE, msg, shotPath, signUp, tab, useServerAndBrowser, withScreenshotsOnFailure } from './harness.mjs';

const env = useServerAndBrowser();
const run = Date.now().toString(36);

describe('a room of 102 members in the web client', () => {
  it('shows the "1" fall as members read', async () => {
    const page = await env.newPage({ viewport: PHONE });
    await withScreenshotsOnFailure('big-room', () => ({ page }), async () => {
      await signUp(page, `minji_${run}`, '민지');
      // 101 other members talk to the server over its WebSocket protocol, from the page.
      const created = await page.evaluate(async (run) => {
        const open = () =>
          new Promise((resolve, reject) => {
            const ws = new WebSocket(`ws://${location.host}/v1/ws`);
            let id = 0;
            const waiting = new Map();
            ws.onmessage = (e) => {
              for (const line of String(e.data).split('\n')) {
                const f = JSON.parse(line);
                if (f.id && waiting.has(f.id)) {
                  waiting.get(f.id)(f);
                  waiting.delete(f.id);
                }
              }
            };
            const call = (op, args) =>
              new Promise((r) => {
                const n = ++id;
                waiting.set(n, r);
                ws.send(JSON.stringify({ id: n, op, args }));
              });
            ws.onopen = () => resolve({ call });
            ws.onerror = () => reject(new Error('websocket failed'));
          });
        const members = [];
        for (let i = 0; i < 101; i++) {
          const c = await open();
          const r = await c.call('auth.register', {
            handle: `member${i}_${run}`,
            password: 'correct horse battery',
            device: { kind: 'pc', name: 'e2e' },
          });
          if (!r.ok) throw new Error(JSON.stringify(r.error));
          c.userId = r.result.profile.user_id;
          members.push(c);
        }
        const me = await members[0].call('profile.get', { handle: `minji_${run}` });
        const ids = [me.result.profile.user_id, ...members.slice(1).map((c) => c.userId)];
        const chat = (await members[0].call('chats.create_group', { title: '큰 방', user_ids: ids })).result.chat;
        const sent = await members[0].call('messages.send', { chat_id: chat.chat_id, client_id: 'big-1', text: '다들 읽어 주세요' });
        window.__bigRoom = { members, chatId: chat.chat_id, seq: sent.result.message.seq };
        return { members: chat.member_count, unread: sent.result.message.unread };
      }, run);
      assert.deepEqual(created, { members: 102, unread: 101 });

      await tab(page, 'chats');
      await page.locator('[data-chat-id]').first().click();
      const count = msg(page, '다들 읽어 주세요').locator('.unread');
      // Minji read it by opening the room: 100 left.
      await page.waitForFunction(() => document.querySelector('.msg .unread')?.textContent?.trim() === '100');
      await page.evaluate(async () => {
        const { members, chatId, seq } = window.__bigRoom;
        await Promise.all(members.slice(1, 51).map((c) => c.call('messages.read', { chat_id: chatId, seq })));
      });
      await page.waitForFunction(() => document.querySelector('.msg .unread')?.textContent?.trim() === '50');
      assert.equal((await count.textContent())?.trim(), '50');
      await page.screenshot({ path: shotPath('phone-big-room') });
    });
  });
});
