// End-to-end: open chats and communities (오픈채팅 / 모임) against a real `modu serve`.
// An owner on a desktop, a guest on a phone and an applicant on an English desktop: create a
// room, find it by a Korean query, join with a nickname, chat; apply to a community with a
// form and get approved; then the staff screens (roles, reports, bans, audit log, notice).
// Run with `MODU_BINARY=/abs/path/modu npm run e2e`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DESKTOP, PHONE, eventually, msg, send, shotPath, signUp, tab, useServerAndBrowser, withScreenshotsOnFailure } from './harness.mjs';

const run = `${Date.now().toString(36)}`;
const OWNER = `owner_${run}`;
const GUEST = `guest_${run}`;
const APPLICANT = `appl_${run}`;
const BOOK_ROOM = `강남 독서모임 ${run}`;
const DEV_ROOM = `판교 개발자 모임 ${run}`;

let owner;
let guest;
let applicant;
let bookId;
let bookCode;
let devId;
let devCode;

async function shot(page, name) {
  // Let toasts fade so the screen shows only the screen.
  await page.locator('.toast').waitFor({ state: 'detached', timeout: 5000 }).catch(() => undefined);
  await page.waitForTimeout(300);
  await page.screenshot({ path: shotPath(name) });
}

/** On failure, saves what every page showed, to see what went wrong. */
function withFailureShots(name, steps) {
  return withScreenshotsOnFailure(`FAILED-open-${name}`, () => ({ owner, guest, applicant }), steps);
}

/** Opens the room info dialog of the open room and a section of it. */
async function openInfo(page, section = 'info') {
  if (!(await page.locator('.open-info').count())) await page.locator('.room-head .info-btn').click();
  await page.locator(`.info-tabs [data-section=${section}]`).click();
  await page.locator(`.open-info[data-section=${section}]`).waitFor();
}

async function closeDialogs(page) {
  while (await page.locator('.backdrop').count()) {
    await page.keyboard.press('Escape');
    await page.waitForTimeout(100);
  }
}

async function roomCode(page) {
  await openInfo(page, 'info');
  const code = await page.locator('.room-code').getAttribute('data-code');
  await closeDialogs(page);
  return code;
}

async function goTo(page, hash) {
  await page.evaluate((h) => (location.hash = h), hash);
}

describe('Open chats and communities against modu serve', () => {
  const env = useServerAndBrowser();

  it('signs up an owner, a guest and an applicant', () =>
    withFailureShots('signup', async () => {
      owner = await env.newPage({ viewport: DESKTOP, locale: 'ko-KR', clipboard: true });
      guest = await env.newPage({ viewport: PHONE, locale: 'ko-KR', clipboard: true });
      applicant = await env.newPage({ viewport: DESKTOP, locale: 'en-US', clipboard: true });
      await signUp(owner, OWNER, '김방장');
      await signUp(guest, GUEST, '박손님');
      await signUp(applicant, APPLICANT, 'Minji Lee');
    }));

  it('creates an open chat with a nickname', () =>
    withFailureShots('create', async () => {
      await tab(owner, 'open');
      await owner.locator('.open-create').click();
      await owner.locator('input[name=room-title]').fill(BOOK_ROOM);
      await owner.locator('textarea[name=room-description]').fill('한 달에 두 권, 금요일 저녁에 만나요');
      await owner.locator('input[name=room-tags]').fill('독서, 책, 강남');
      await owner.locator('input[name=room-report-threshold]').fill('1');
      await owner.locator('input[name=nickname]').fill('책벌레방장');
      await owner.locator('.room-form').evaluate((el) => el.scrollTo(0, 0));
      await shot(owner, 'open-create-room');
      await owner.locator('.room-submit').click();
      await owner.locator('.room').waitFor();
      bookId = Number(await owner.locator('.room').getAttribute('data-chat-id'));
      await send(owner, '어서 오세요! 이번 달 책은 「작별하지 않는다」입니다.');
      const first = msg(owner, '어서 오세요! 이번 달 책은 「작별하지 않는다」입니다.');
      await first.waitFor();
      // My own message, decided by self_id (my member id), not by my account id.
      assert.match(await first.getAttribute('class'), /\bmine\b/);
      bookCode = await roomCode(owner);
      assert.match(bookCode, /^[A-Za-z0-9]{10}$/);
    }));

  it('finds the room by a Korean query, joins with a nickname and chats', () =>
    withFailureShots('search-join', async () => {
      await tab(guest, 'open');
      await guest.locator('.room-cards').waitFor({ state: 'attached' });
      await guest.locator('input[name=open-search]').fill('독서모임');
      const card = guest.locator(`.room-card[data-chat-id="${bookId}"]`);
      await card.waitFor();
      assert.match(await card.innerText(), /#독서/);
      await shot(guest, 'open-search-phone');
      await card.click();
      await guest.locator('.join-dialog').waitFor();
      await guest.locator('input[name=nickname]').fill('책읽는곰');
      await shot(guest, 'open-join-phone');
      await guest.locator('.join-submit').click();
      await guest.locator(`.room[data-chat-id="${bookId}"]`).waitFor();

      // The owner's message is someone else's here, shown under the owner's room nickname.
      const welcome = msg(guest, '어서 오세요! 이번 달 책은 「작별하지 않는다」입니다.');
      if (await welcome.count()) assert.match(await welcome.getAttribute('class'), /\btheirs\b/);
      await send(guest, '안녕하세요, 처음 왔어요 📚');
      const mine = msg(guest, '안녕하세요, 처음 왔어요 📚');
      await mine.waitFor();
      assert.match(await mine.getAttribute('class'), /\bmine\b/);

      const there = msg(owner, '안녕하세요, 처음 왔어요 📚');
      await there.waitFor();
      assert.match(await there.getAttribute('class'), /\btheirs\b/);
      // The name shows once the owner's client has the newcomer's room profile (it refreshes
      // the member list on the join notice, which may land just after the message).
      await there.locator('.msg-sender', { hasText: '책읽는곰' }).waitFor();
      assert.equal(await there.locator('.msg-sender').innerText(), '책읽는곰');
      // The owner has the room open, so the guest's "1" goes away.
      await mine.locator('.unread').waitFor({ state: 'detached' });
      await send(owner, '반가워요 책읽는곰님!');
      await msg(guest, '반가워요 책읽는곰님!').locator('.msg-sender', { hasText: '책벌레방장' }).waitFor();
      await shot(guest, 'open-room-phone');

      // Browsing (no query) on a desktop in English: the popular list.
      await tab(applicant, 'open');
      await applicant.locator(`.room-card[data-chat-id="${bookId}"]`).waitFor();
      await shot(applicant, 'open-browse-desktop-en');
    }));

  it('applies to a community with a form, and the owner approves it in the queue', () =>
    withFailureShots('approval', async () => {
      // The owner creates a community (approval) with an application form.
      await tab(owner, 'open');
      await owner.locator('.open-create').click();
      await owner.locator('input[name=room-title]').fill(DEV_ROOM);
      await owner.locator('input[name=room-tags]').fill('개발, IT, 판교');
      await owner.locator('[data-name=policy] [data-value=approval]').click();
      await owner.locator('.add-field').click(); // real name, required
      await owner.locator('.add-field').click(); // free text
      await owner.locator('.add-field').click(); // free text → company
      await owner.locator('select[name=field-type-2]').selectOption('company');
      await owner.locator('input[name=field-label-1]').fill('자기소개');
      await owner.locator('input[name=field-required-2]').check();
      await owner.locator('input[name=nickname]').fill('판교방장');
      await owner.locator('.room-form').evaluate((el) => el.closest('.dialog-body')?.scrollTo(0, 400));
      await shot(owner, 'open-create-community-form');
      await owner.locator('.room-submit').click();
      await owner.locator('.room').waitFor();
      devId = Number(await owner.locator('.room').getAttribute('data-chat-id'));
      devCode = await roomCode(owner);

      // The applicant opens the shared link.
      await goTo(applicant, `#/open/${devCode}`);
      await applicant.locator('.join-dialog').waitFor();
      await applicant.locator('input[name=nickname]').fill('minji_dev');
      // Required answers are checked before anything is sent.
      await applicant.locator('.join-submit').click();
      await applicant.locator('.field.invalid .field-error').first().waitFor();
      assert.equal(await applicant.locator('.field.invalid').count(), 2);
      await shot(applicant, 'open-application-form-errors-en');
      await applicant.locator('input[name=answer-real_name]').fill('이민지');
      await applicant.locator('input[name=answer-company]').fill('Modu Inc.');
      await applicant.locator('textarea[name=answer-q_1]').fill('Backend developer, five years of C++.');
      await shot(applicant, 'open-application-form-en');
      await applicant.locator('.join-submit').click();
      await applicant.locator('.join-state.pending').waitFor();
      await shot(applicant, 'open-application-pending-en');
      await closeDialogs(applicant);
      await applicant.locator('.app-row[data-state=pending]').waitFor();

      // The owner sees the request (live badge on the info button), with the answers.
      await owner.locator('.info-btn .badge').waitFor();
      await openInfo(owner, 'requests');
      const card = owner.locator('.staff-card[data-name="minji_dev"]');
      await card.waitFor();
      assert.match(await card.innerText(), /이민지/);
      assert.match(await card.innerText(), /Modu Inc\./);
      await shot(owner, 'open-approval-queue');
      await card.locator('.approve').click();
      await card.waitFor({ state: 'detached' });
      await closeDialogs(owner);

      // The applicant is told, and is in.
      await applicant.locator('.app-row[data-state=approved]').waitFor();
      await tab(applicant, 'chats');
      await applicant.locator(`.chat-row[data-chat-id="${devId}"]`).click();
      await applicant.locator(`.room[data-chat-id="${devId}"]`).waitFor();
      await send(applicant, 'Thanks for approving me!');
      await msg(owner, 'Thanks for approving me!').locator('.msg-sender', { hasText: 'minji_dev' }).waitFor();
    }));

  it('joins with the saved nickname profile', () =>
    withFailureShots('saved-profile', async () => {
      await tab(applicant, 'more');
      await applicant.locator('.edit-nickname').click();
      await applicant.locator('input[name=saved-nickname]').fill('Bookworm');
      await applicant.locator('.dialog button[type=submit]').click();
      await applicant.locator('.saved-nickname', { hasText: 'Bookworm' }).waitFor();
      await goTo(applicant, `#/open/${bookCode}`);
      await applicant.locator('.join-dialog').waitFor();
      await applicant.locator('[data-choice=saved]').click();
      await applicant.locator('.join-submit').click();
      await applicant.locator(`.room[data-chat-id="${bookId}"]`).waitFor();
      await send(applicant, 'Cheap followers at spam.example!!!');
      await msg(guest, 'Cheap followers at spam.example!!!').locator('.msg-sender', { hasText: 'Bookworm' }).waitFor();
    }));

  it('hides a reported message, and staff delete it from the reports view', () =>
    withFailureShots('reports', async () => {
      await goTo(owner, `#/chats/${bookId}`);
      const spam = msg(guest, 'Cheap followers at spam.example!!!');
      await spam.waitFor();
      await spam.locator('.bubble').click();
      await spam.locator('.report-btn').click();
      await guest.locator('.dialog .chip').first().click();
      await guest.locator('.dialog button[type=submit]').click();
      // The room's threshold is one report: everyone sees it hidden.
      await guest.locator('.msg.hidden').waitFor();
      await owner.locator('.msg.hidden').waitFor();
      await applicant.locator('.msg.hidden').waitFor();

      await openInfo(owner, 'reports');
      const report = owner.locator('.reports .staff-card').first();
      await report.waitFor();
      assert.match(await report.locator('.reported-text').innerText(), /Cheap followers/);
      await report.locator('.total-chip').waitFor();
      // The message is hidden now: staff may show it again or delete it.
      assert.equal(await report.getAttribute('data-hidden'), 'true');
      await report.locator('.restore').waitFor();
      await shot(owner, 'open-reports');
      await report.locator('.delete').click();
      await closeDialogs(owner);
      await guest.locator('.bubble.deleted').waitFor();
    }));

  it('gives a member admin rights with chosen permissions', () =>
    withFailureShots('roles', async () => {
      await openInfo(owner, 'members');
      const row = owner.locator('.open-members li[data-name="책읽는곰"]');
      await row.locator('.member-row').click();
      await row.locator('[data-role=admin]').click();
      await row.locator('input[name=perm-ban]').uncheck();
      await row.locator('input[name=perm-edit]').uncheck();
      await row.locator('.save-role').click();
      await row.locator('.role-chip.admin').waitFor();
      await shot(owner, 'open-member-management');
      await closeDialogs(owner);
      await guest.locator('.sys-msg').last().waitFor();
    }));

  it('bans a member with a reason, lists the ban and lifts it', () =>
    withFailureShots('bans', async () => {
      await openInfo(owner, 'members');
      const row = owner.locator('.open-members li[data-name="Bookworm"]');
      await row.locator('.member-row').click();
      await row.locator('.ban').click();
      await owner.locator('input[name=reason]').fill('스팸 홍보');
      await owner.locator('.dialog button[type=submit].danger').click();
      await row.waitFor({ state: 'detached' });
      // The banned applicant loses the room.
      await eventually(async () => (await applicant.locator(`.chat-row[data-chat-id="${bookId}"]`).count()) === 0 && !(await applicant.locator(`.room[data-chat-id="${bookId}"] .msg`).count()), 'banned member loses the room');

      await openInfo(owner, 'bans');
      const ban = owner.locator('.ban-row').first();
      await ban.waitFor();
      assert.match(await ban.innerText(), /스팸 홍보/);
      await shot(owner, 'open-ban-list');
      await ban.locator('.unban').click();
      await owner.locator('.dialog .btn.primary').last().click();
      await ban.waitFor({ state: 'detached' });
    }));

  it('pins a notice and keeps an audit log', () =>
    withFailureShots('notice-audit', async () => {
      await openInfo(owner, 'info');
      await owner.locator('.notice-edit .btn').click();
      await owner.locator('textarea[name=notice]').fill('매주 금요일 저녁 8시, 강남역 11번 출구');
      await owner.locator('.notice-edit button[type=submit]').click();
      await owner.locator('.notice-text', { hasText: '강남역' }).waitFor();
      await guest.locator('.notice-banner', { hasText: '강남역' }).waitFor();
      await shot(guest, 'open-notice-phone');

      await openInfo(owner, 'audit');
      await eventually(async () => (await owner.locator('.audit-entry').count()) >= 4, 'audit entries');
      for (const action of ['ban', 'unban', 'set_role', 'notice']) {
        assert.ok(await owner.locator(`.audit-entry[data-action=${action}]`).count(), `audit has ${action}`);
      }
      await shot(owner, 'open-audit-log');
      await openInfo(owner, 'edit');
      await shot(owner, 'open-room-settings');
      await closeDialogs(owner);
    }));

  it('shows slow mode to members', () =>
    withFailureShots('slow-mode', async () => {
      await openInfo(owner, 'edit');
      await owner.locator('select[name=slow-mode]').selectOption('60');
      await owner.locator('.room-submit').click();
      await owner.locator('.open-info[data-section=info]').waitFor();
      await closeDialogs(owner);
      // The guest is an admin now (staff are not limited); the applicant rejoins as a member.
      await goTo(applicant, `#/open/${bookCode}`);
      await applicant.locator('.join-dialog').waitFor();
      await applicant.locator('[data-choice=saved]').click();
      await applicant.locator('.join-submit').click();
      await applicant.locator(`.room[data-chat-id="${bookId}"]`).waitFor();
      await applicant.locator('.slow-hint').waitFor();
      // Two quick sends: the server refuses at least the second (the clock may still run from
      // the member's earlier messages), and the client says why and counts down.
      await send(applicant, 'Sorry about earlier.');
      await send(applicant, 'Too fast?');
      await applicant.locator('.msg.pending.failed .pending-note').first().waitFor();
      await applicant.locator('.slow-hint.waiting').waitFor();
      await shot(applicant, 'open-slow-mode-en');
      // Staff are not limited: the owner sends twice at once.
      await send(owner, '슬로우 모드를 켰어요.');
      await send(owner, '천천히 이야기해요.');
      await msg(owner, '천천히 이야기해요.').waitFor();
      assert.equal(await owner.locator('.msg.pending.failed').count(), 0);
    }));

  it('keeps a link-only passcode room out of search, and lets in only with the passcode', () =>
    withFailureShots('passcode', async () => {
      await tab(owner, 'open');
      await owner.locator('.open-create').click();
      await owner.locator('input[name=room-title]').fill(`Weekend hikers ${run}`);
      await owner.locator('[data-name=listed] [data-value=link]').click();
      await owner.locator('[data-name=policy] [data-value=passcode]').click();
      await owner.locator('input[name=room-passcode]').fill('hike2026');
      await owner.locator('[data-choice=real]').click();
      await owner.locator('.room-submit').click();
      await owner.locator('.room').waitFor();
      const hikeId = Number(await owner.locator('.room').getAttribute('data-chat-id'));
      const code = await roomCode(owner);

      await goTo(guest, '#/open');
      await guest.locator('input[name=open-search]').fill(`hikers ${run}`);
      await guest.locator('.open-tab .empty').waitFor();
      assert.equal(await guest.locator(`.room-card[data-chat-id="${hikeId}"]`).count(), 0);

      await guest.locator('input[name=open-code]').fill(`${env.server.url}/#/open/${code}`);
      await guest.locator('.code-join button[type=submit]').click();
      await guest.locator('.join-dialog').waitFor();
      await guest.locator('input[name=nickname]').fill('산타는곰');
      await guest.locator('input[name=passcode]').fill('wrong-one');
      await guest.locator('.join-submit').click();
      await guest.locator('.join-form .form-error', { hasText: '비밀번호가 맞지 않습니다' }).waitFor();
      await guest.locator('input[name=passcode]').fill('hike2026');
      await guest.locator('.join-submit').click();
      await guest.locator(`.room[data-chat-id="${hikeId}"]`).waitFor();
      // The owner joined with the real profile: members see the real name.
      await send(owner, 'Trail starts at 7am.');
      await msg(guest, 'Trail starts at 7am.').locator('.msg-sender', { hasText: '김방장' }).waitFor();
    }));

  it('rejects an application with a reason', () =>
    withFailureShots('reject', async () => {
      await goTo(guest, `#/open/${devCode}`);
      await guest.locator('.join-dialog').waitFor();
      await guest.locator('input[name=nickname]').fill('곰개발자');
      await guest.locator('input[name=answer-real_name]').fill('박손님');
      await guest.locator('input[name=answer-company]').fill('곰 컴퍼니');
      await guest.locator('.join-submit').click();
      await guest.locator('.join-state.pending').waitFor();

      await goTo(owner, `#/chats/${devId}`);
      await openInfo(owner, 'requests');
      const card = owner.locator('.staff-card[data-name="곰개발자"]');
      await card.locator('.reject').click();
      await owner.locator('input[name=reason]').fill('현업 개발자만 받아요');
      await owner.locator('.dialog button[type=submit].danger').click();
      await card.waitFor({ state: 'detached' });
      await closeDialogs(owner);

      // The applicant's open dialog follows the decision, with the reason, and offers the form again.
      await guest.locator('.join-state.rejected', { hasText: '현업 개발자만 받아요' }).waitFor();
      await guest.locator('.join-form').waitFor();
      await shot(guest, 'open-application-rejected-phone');
      await closeDialogs(guest);
    }));

  it('transfers ownership, and the new owner may kick the old one', () =>
    withFailureShots('transfer', async () => {
      await goTo(owner, `#/chats/${bookId}`);
      await openInfo(owner, 'members');
      const row = owner.locator('.open-members li[data-name="책읽는곰"]');
      await row.locator('.member-row').click();
      await row.locator('.member-manage .btn', { hasText: '방장 넘기기' }).click();
      await owner.locator('.dialog .btn.danger').last().click();
      await row.locator('.role-chip.owner').waitFor();
      await owner.locator('.open-members li[data-name="책벌레방장"] .role-chip.admin').waitFor();
      await closeDialogs(owner);

      await goTo(guest, `#/chats/${bookId}`);
      await openInfo(guest, 'members');
      const old = guest.locator('.open-members li[data-name="책벌레방장"]');
      await old.locator('.member-row').click();
      await old.locator('.kick').click();
      await guest.locator('.dialog button[type=submit].danger').click();
      await old.waitFor({ state: 'detached' });
      await closeDialogs(guest);
      await eventually(async () => (await owner.locator(`.chat-row[data-chat-id="${bookId}"]`).count()) === 0, 'the old owner loses the room');
    }));

  it('renders the open chat screens in dark theme', () =>
    withFailureShots('dark', async () => {
      await guest.emulateMedia({ colorScheme: 'dark' });
      await goTo(guest, '#/open');
      await guest.locator('input[name=open-search]').fill('');
      await guest.locator('.room-card').first().waitFor();
      await shot(guest, 'open-tab-phone-dark');
      await goTo(guest, `#/open/${devCode}`);
      await guest.locator('.join-state.rejected').waitFor();
      await shot(guest, 'open-application-rejected-phone-dark');
      await closeDialogs(guest);
    }));
});

