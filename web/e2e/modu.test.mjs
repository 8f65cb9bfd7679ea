// End-to-end: two people (one on a desktop browser, one on a phone-sized one) and a second
// device, against a real `modu serve`. Run with `MODU_BINARY=/abs/path/modu npm run e2e`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DESKTOP,
  PASSWORD,
  PHONE,
  eventually,
  msg,
  send,
  shotPath,
  signUp,
  startServer,
  tab,
  useServerAndBrowser,
  withScreenshotsOnFailure,
} from './harness.mjs';

const run = `${Date.now().toString(36)}`;
const ALICE = `alice_${run}`;
const BOB = `bob_${run}`;

/** Pages: alice on a desktop, bob on a phone, alice's second device. */
let alice;
let bob;
let alice2;
let directId;
let groupId;

async function logIn(page, handle) {
  await page.locator('input[name=handle]').fill(handle);
  await page.locator('input[name=password]').fill(PASSWORD);
  await page.locator('.auth-form button[type=submit]').click();
  await page.locator('.tabnav').waitFor();
}

/** On failure, saves what every page showed, to see what went wrong. */
function withFailureShots(name, steps) {
  return withScreenshotsOnFailure(`FAILED-${name}`, () => ({ alice, bob, alice2 }), steps);
}

/**
 * Sends messages `bulk from` … `bulk to-1` into the memo chat of the page's user over a
 * separate raw protocol connection (as another tab would), paced under the rate limit.
 */
function memoSend(page, from, to) {
  return page.evaluate(
    async ([from, to]) => {
      const { token } = JSON.parse(localStorage.getItem('modu.session'));
      const ws = new WebSocket(`ws://${location.host}/v1/ws`);
      let next = 1;
      const waiting = new Map();
      ws.onmessage = (ev) => {
        for (const line of String(ev.data).split('\n')) {
          if (!line) continue;
          const f = JSON.parse(line);
          if (f.id != null && waiting.has(f.id)) {
            waiting.get(f.id)(f);
            waiting.delete(f.id);
          }
        }
      };
      await new Promise((r) => (ws.onopen = r));
      const call = (op, args) =>
        new Promise((resolve, reject) => {
          const id = next++;
          waiting.set(id, (f) => (f.ok ? resolve(f.result) : reject(new Error(f.error.code))));
          ws.send(JSON.stringify({ id, op, args }));
        });
      await call('auth.resume', { token });
      const { chat } = await call('chats.memo', {});
      for (let i = from; i < to; i += 20) {
        const batch = [];
        for (let j = i; j < Math.min(to, i + 20); j++) {
          batch.push(call('messages.send', { chat_id: chat.chat_id, client_id: `bulk-${j}`, text: `bulk ${j}` }));
        }
        await Promise.all(batch);
        await new Promise((r) => setTimeout(r, 450)); // stay under the rate limit
      }
      ws.close();
      return chat.chat_id;
    },
    [from, to],
  );
}

async function shot(page, name) {
  await page.waitForTimeout(250);
  await page.screenshot({ path: shotPath(name) });
}

describe('Modu web client against modu serve', () => {
  const env = useServerAndBrowser();

  it('signs up two people who add each other as friends', () =>
    withFailureShots('signs-up-two-people-who-add-each-other-a', async () => {
    alice = await env.newPage({ viewport: DESKTOP, locale: 'en-US' });
    bob = await env.newPage({ viewport: PHONE, locale: 'ko-KR' });
    await shot(bob, 'phone-login');
    await signUp(alice, ALICE, 'Alice Kim');
    await signUp(bob, BOB, '박보검');

    await tab(alice, 'friends');
    await alice.locator('.pane-head .icon-btn').click();
    await alice.locator('input[name=friend-handle]').fill(BOB);
    await alice.locator('.dialog button[type=submit]').click();
    await alice.locator(`.profile-row[data-handle="${BOB}"]`).waitFor();

    await tab(bob, 'friends');
    await bob.locator('.pane-head .icon-btn').click();
    await bob.locator('input[name=friend-handle]').fill(ALICE);
    await bob.locator('.dialog button[type=submit]').click();
    await bob.locator(`.profile-row[data-handle="${ALICE}"]`).waitFor();

    await shot(alice, 'desktop-friends');
    await shot(bob, 'phone-friends');
  }));

  it('chats 1:1, and the "1" disappears when the other reads', () =>
    withFailureShots('chats-1-1-and-the-1-disappears-when-the-', async () => {
    await alice.locator(`.profile-row[data-handle="${BOB}"]`).click();
    await alice.locator('.profile-actions .action').first().click();
    await alice.locator('.room').waitFor();
    directId = Number(await alice.locator('.room').getAttribute('data-chat-id'));
    await send(alice, 'Hi Bob 👋');
    const first = msg(alice, 'Hi Bob 👋');
    await first.waitFor();
    assert.equal(await first.locator('.unread').innerText(), '1');

    await tab(bob, 'chats');
    const row = bob.locator(`.chat-row[data-chat-id="${directId}"]`);
    await row.locator('.badge', { hasText: '1' }).waitFor();
    await shot(bob, 'phone-chats');
    await row.click();
    await msg(bob, 'Hi Bob 👋').waitFor();
    await first.locator('.unread').waitFor({ state: 'detached' });

    await send(bob, '반가워요! 주말에 시간 돼요?');
    await msg(alice, '반가워요! 주말에 시간 돼요?').waitFor();
    await send(alice, 'Yes!\nLet us plan something.');
    await msg(bob, 'Yes!\nLet us plan something.').waitFor();
    await shot(alice, 'desktop-room');
    await shot(bob, 'phone-room');
  }));

  it('shows the same chats and read state live on a second device', () =>
    withFailureShots('shows-the-same-chats-and-read-state-live', async () => {
    alice2 = await env.newPage({ viewport: DESKTOP, locale: 'ko-KR' });
    await logIn(alice2, ALICE);
    await tab(alice2, 'chats');
    const row2 = alice2.locator(`.chat-row[data-chat-id="${directId}"]`);
    await row2.locator('.preview', { hasText: 'Let us plan something.' }).waitFor();

    // Alice's first device has the chat open: the new message is read there, and the
    // second device's badge follows.
    await send(bob, 'Are you both there?');
    await msg(alice, 'Are you both there?').waitFor();
    await row2.locator('.preview', { hasText: 'Are you both there?' }).waitFor();
    await row2.locator('.badge').waitFor({ state: 'detached' });

    // Now the other way round: the first device leaves the chat, the second reads.
    await alice.keyboard.press('Escape');
    await alice.locator('.room').waitFor({ state: 'detached' });
    await tab(alice, 'chats');
    await send(bob, 'Second device check');
    const row1 = alice.locator(`.chat-row[data-chat-id="${directId}"]`);
    await row1.locator('.badge', { hasText: '1' }).waitFor();
    await eventually(async () => (await alice.title()).startsWith('(1)'), 'unread count in the tab title');
    await row2.click();
    await msg(alice2, 'Second device check').waitFor();
    await row1.locator('.badge').waitFor({ state: 'detached' });
    await eventually(async () => !(await alice.title()).startsWith('('), 'tab title without unread count');
    await msg(bob, 'Second device check').locator('.unread').waitFor({ state: 'detached' });
    await shot(alice, 'desktop-chats');
  }));

  it('creates a group chat, replies, renames, and deletes for everyone', () =>
    withFailureShots('creates-a-group-chat-replies-renames-and', async () => {
    await alice.locator('.pane-head .icon-btn').click();
    await alice.locator('input[name=group-title]').fill('Weekend hike');
    await alice.locator(`.pick-row[data-handle="${BOB}"]`).click();
    await alice.locator('.dialog button[type=submit]').click();
    await alice.locator('.room').waitFor();
    groupId = Number(await alice.locator('.room').getAttribute('data-chat-id'));
    assert.notEqual(groupId, directId);
    await send(alice, "Who's coming?");
    const q = msg(alice, "Who's coming?");
    await q.waitFor();
    assert.equal(await q.locator('.unread').innerText(), '1');

    await bob.locator('.room-head .icon-btn').first().click(); // back to the list
    const row = bob.locator(`.chat-row[data-chat-id="${groupId}"]`);
    await row.locator('.title-text', { hasText: 'Weekend hike' }).waitFor();
    await row.click();
    await q.locator('.unread').waitFor({ state: 'detached' });

    // Bob replies to the question.
    await msg(bob, "Who's coming?").locator('.bubble').click();
    await bob.locator('.msg.open .msg-actions button').first().click();
    await bob.locator('.reply-bar').waitFor();
    await send(bob, 'Me! 🙋');
    const reply = msg(alice, 'Me! 🙋');
    await reply.locator('.quote', { hasText: "Who's coming?" }).waitFor();

    // Alice renames the group; Bob's header follows.
    await alice.locator('.room-head .icon-btn').last().click();
    await alice.locator('.info-actions .btn').nth(1).click();
    await alice.locator('input[name=chat-title]').fill('Saturday hike');
    await alice.locator('.rename button[type=submit]').click();
    await alice.locator('.info-title', { hasText: 'Saturday hike' }).waitFor();
    await alice.keyboard.press('Escape');
    await bob.locator('.room-title', { hasText: 'Saturday hike' }).waitFor();
    await bob.locator('.sys-msg').first().waitFor();

    // Delete for everyone.
    await send(alice, 'oops, wrong chat');
    const oops = msg(alice, 'oops, wrong chat');
    await oops.hover();
    await oops.locator('.msg-actions button').nth(1).click();
    await alice.locator('.dialog .btn.danger').click();
    await oops.waitFor({ state: 'detached' });
    await bob.locator('.bubble.deleted').waitFor();
    await shot(alice, 'desktop-group');
    await shot(bob, 'phone-group');
  }));

  it('keeps a draft per chat', () =>
    withFailureShots('keeps-a-draft-per-chat', async () => {
    await alice.locator('.composer textarea').fill('half-written thought');
    await tab(alice, 'chats');
    await alice.locator(`.chat-row[data-chat-id="${directId}"]`).click();
    assert.equal(await alice.locator('.composer textarea').inputValue(), '');
    await alice.locator(`.chat-row[data-chat-id="${groupId}"]`).click();
    assert.equal(await alice.locator('.composer textarea').inputValue(), 'half-written thought');
    await alice.locator('.composer textarea').fill('');
  }));

  it('queues messages while offline and sends each exactly once on reconnect', () =>
    withFailureShots('queues-messages-while-offline-and-sends-', async () => {
    await alice.locator(`.chat-row[data-chat-id="${directId}"]`).click();
    await alice.locator(`.room[data-chat-id="${directId}"]`).waitFor();
    await bob.locator('.room-head .icon-btn').first().click(); // phone: back to the list
    await bob.locator(`.chat-row[data-chat-id="${directId}"]`).click();
    await bob.locator(`.room[data-chat-id="${directId}"]`).waitFor();
    await alice.context().setOffline(true);
    await alice.locator('.net-banner').waitFor();
    await send(alice, 'sent offline 1');
    await send(alice, 'sent offline 2');
    await eventually(async () => (await alice.locator('.msg.pending').count()) === 2, 'two queued messages');
    await send(bob, 'while you were away');
    await msg(bob, 'while you were away').waitFor();
    await shot(alice, 'desktop-offline');

    await alice.context().setOffline(false);
    await alice.locator('.net-banner').waitFor({ state: 'detached', timeout: 30_000 });
    await msg(alice, 'while you were away').waitFor();
    await eventually(async () => (await alice.locator('.msg.pending').count()) === 0, 'outbox empty');
    for (const text of ['sent offline 1', 'sent offline 2']) {
      await msg(bob, text).waitFor();
      assert.equal(await msg(bob, text).count(), 1, `bob sees "${text}" once`);
      assert.equal(await msg(alice, text).count(), 1, `alice sees "${text}" once`);
    }
    assert.equal(await msg(alice, 'while you were away').count(), 1);
    await alice2.locator(`.chat-row[data-chat-id="${directId}"]`).click().catch(() => undefined);
    await msg(alice2, 'sent offline 2').waitFor();
    assert.equal(await msg(alice2, 'sent offline 1').count(), 1);
  }));

  it('survives a server restart: reconnects, catches up, and loses nothing', () =>
    withFailureShots('survives-a-server-restart-reconnects-cat', async () => {
    const port = env.server.port;
    await env.server.stop(true);
    await alice.locator('.net-banner').waitFor();
    await send(alice, 'written during the outage');
    await alice.locator('.msg.pending').waitFor();
    env.server = await startServer({ port, dataDir: env.server.data });
    await alice.locator('.net-banner').waitFor({ state: 'detached', timeout: 45_000 });
    await eventually(async () => (await alice.locator('.msg.pending').count()) === 0, 'outbox empty after restart', 30_000);
    await msg(bob, 'written during the outage').waitFor({ timeout: 45_000 });
    assert.equal(await msg(bob, 'written during the outage').count(), 1);
    await send(bob, 'back online');
    await msg(alice, 'back online').waitFor();
  }));

  it('scrolls up through a long history with a virtualized list', () =>
    withFailureShots('scrolls-up-through-a-long-history-with-a', async () => {
    // Fill the memo chat of alice's second device over a raw protocol connection.
    const N = 400;
    const memoId = await memoSend(alice2, 0, N);

    await alice2.evaluate((id) => (location.hash = `#/chats/${id}`), memoId);
    await msg(alice2, `bulk ${N - 1}`).waitFor();
    const list = alice2.locator('.vlist');
    let maxRows = 0;
    await eventually(
      async () => {
        await list.evaluate((el) => (el.scrollTop = 0));
        maxRows = Math.max(maxRows, await alice2.locator('.vrow').count());
        return (await msg(alice2, 'bulk 0').count()) === 1;
      },
      'scrolled to the first message',
      60_000,
    );
    assert.ok(maxRows < 150, `only visible rows are in the DOM (saw ${maxRows} of ${N})`);

    // Scrolled up, a new message shows the "new messages" pill instead of jumping.
    await memoSend(alice2, N, N + 1);
    await alice2.locator('.new-pill').click();
    await msg(alice2, `bulk ${N}`).waitFor();
    await alice2.locator('.new-pill').waitFor({ state: 'detached' });
  }));

  it('lists devices, revokes another device, and logs out', () =>
    withFailureShots('lists-devices-revokes-another-device-and', async () => {
    await tab(alice2, 'more');
    await eventually(async () => (await alice2.locator('.device').count()) >= 2, 'two devices listed');
    await shot(alice2, 'desktop-more');
    await alice2.locator('.device .btn').first().click();
    await alice2.locator('.dialog .btn.danger').click();
    await alice.locator('.auth').waitFor({ timeout: 20_000 });
    await eventually(async () => (await alice2.locator('.device').count()) === 1, 'one device left');

    await alice2.locator('.btn.danger.block').click();
    await alice2.locator('.dialog .btn.danger').click();
    await alice2.locator('.auth').waitFor();
  }));

  it('opens from the local cache while offline (installed app shell)', () =>
    withFailureShots('opens-offline', async () => {
      await bob.evaluate(() => navigator.serviceWorker.ready);
      await bob.context().setOffline(true);
      await bob.reload();
      // Bob had the 1:1 chat open: it comes back, with its messages, from IndexedDB.
      await msg(bob, 'back online').waitFor();
      await bob.locator('.net-banner').waitFor();
      await bob.context().setOffline(false);
      await bob.locator('.net-banner').waitFor({ state: 'detached', timeout: 30_000 });
    }));

  it('renders the phone layout in dark theme', () =>
    withFailureShots('renders-the-phone-layout-in-dark-theme', async () => {
    await bob.emulateMedia({ colorScheme: 'dark' });
    await bob.locator('.room-head .icon-btn').first().click();
    await shot(bob, 'phone-chats-dark');
    await bob.locator(`.chat-row[data-chat-id="${directId}"]`).click();
    await msg(bob, 'back online').waitFor();
    await shot(bob, 'phone-room-dark');
  }));
});
