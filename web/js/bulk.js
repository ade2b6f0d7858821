// Actions on several members: Remove from team, Change role, Download CSV,
// Send a usage email. Used by the table's selection and by the CSV
// selection alike. Each asks first (with the count), shows progress, then a
// summary: done, skipped and why, failed.
import { h, replace, announce } from './dom.js';
import { confirm, chooseRole } from './dialogs.js';
import { ApiError } from './api.js';
import { SKIP_REASON, ROLE, label } from './labels.js';
import { plural, num } from './format.js';

const CHUNK = 100; // members per bulk call: small enough to show progress
export const REPORT_LIMIT = 1000; // the report endpoints take at most 1,000 ids

// split parts the selection into the members an action can reach and
// those it never reaches: the team owner and the admin themself. The
// confirmation counts only the first, and names the others before asking.
function split(ctx, members) {
  const me = (ctx.email || '').toLowerCase();
  const isKept = (m) => m.isOwner || m.email.toLowerCase() === me;
  return { kept: members.filter(isKept), acting: members.filter((m) => !isKept(m)) };
}

function emailsOf(ms) {
  return ms.map((m) => m.email).join(' and ');
}

// nothingToDo says, without asking, that the action reaches no one.
function nothingToDo(statusEl, text) {
  const box = dismissible(h('div', { class: 'result result-bad', 'data-result': 'bulk', tabindex: '-1' }, h('p', {}, text)));
  replace(statusEl, box);
  box.focus();
  announce(text);
  return null;
}

// members: [{id, email}]
export async function removeMembers(ctx, members, statusEl) {
  const { kept, acting } = split(ctx, members);
  const why = 'the team owner and you cannot be removed';
  if (!acting.length) return nothingToDo(statusEl, `Nothing to remove: ${emailsOf(kept)} stay${kept.length === 1 ? 's' : ''} (${why}).`);
  const n = acting.length;
  const ok = await confirm({
    title: `Remove ${plural('user', n)} from the team?`,
    body: [
      n === 1 ? `${acting[0].email} loses access to the team and the seat is freed.` : `They lose access to the team and ${plural('seat', n)} are freed.`,
      kept.length ? `${emailsOf(kept)} will stay: ${why}.` : '',
      'This cannot be undone; you can invite them again later.',
    ].filter(Boolean),
    ok: `Remove ${plural('user', n)}`,
    danger: true,
  });
  if (!ok) return null;
  return runBulk(ctx, { action: 'remove' }, acting, statusEl, { doing: 'Removing', done: 'Removed' }, { kept, why });
}

export async function changeRoles(ctx, members, statusEl) {
  const { kept, acting } = split(ctx, members);
  const why = 'the team owner is always an admin, and you cannot change your own role';
  if (!acting.length) return nothingToDo(statusEl, `No role to change: ${why}.`);
  const n = acting.length;
  const role = await chooseRole(`Give ${n === 1 ? acting[0].email : plural('selected user', n)} a new role.${kept.length ? ` ${emailsOf(kept)} keep${kept.length === 1 ? 's' : ''} theirs: ${why}.` : ''}`);
  if (!role) return null;
  if (n > 1) {
    const ok = await confirm({ title: `Change the role of ${plural('user', n)}?`, body: [`They all become ${ROLE[role]}.`, kept.length ? `${emailsOf(kept)} will keep their role.` : ''].filter(Boolean), ok: `Make ${plural('user', n)} ${ROLE[role]}` });
    if (!ok) return null;
  }
  return runBulk(ctx, { action: 'change_role', role }, acting, statusEl, { doing: `Changing to ${ROLE[role]}`, done: `Changed to ${ROLE[role]}` }, { kept, why });
}

// deactivateMembers turns members off: their seats are freed, their history
// kept. The owner and the admin themself stay, as for removal.
export async function deactivateMembers(ctx, members, statusEl) {
  const { kept, acting } = split(ctx, members);
  const why = 'the team owner and you cannot be deactivated';
  if (!acting.length) return nothingToDo(statusEl, `Nothing to deactivate: ${emailsOf(kept)} stay${kept.length === 1 ? 's' : ''} (${why}).`);
  const n = acting.length;
  const ok = await confirm({
    title: `Deactivate ${plural('user', n)}?`,
    body: [
      `${n === 1 ? acting[0].email : 'They'} can no longer sign in to the app or use the team, and ${n === 1 ? 'the seat is' : 'their seats are'} freed. Their history and usage stay.`,
      kept.length ? `${emailsOf(kept)} will stay: ${why}.` : '',
      'You can reactivate them later while a seat is free.',
    ].filter(Boolean),
    ok: `Deactivate ${plural('user', n)}`,
    danger: true,
  });
  if (!ok) return null;
  return runBulk(ctx, { action: 'deactivate' }, acting, statusEl, { doing: 'Deactivating', done: 'Deactivated' }, { kept, why });
}

// reactivateMembers turns deactivated members back on, each taking a seat.
export async function reactivateMembers(ctx, members, statusEl) {
  const n = members.length;
  const ok = await confirm({
    title: `Reactivate ${plural('user', n)}?`,
    body: [`Each takes a seat again; when the seats run out, the rest are skipped. Members who are not deactivated are skipped too.`],
    ok: `Reactivate ${plural('user', n)}`,
  });
  if (!ok) return null;
  return runBulk(ctx, { action: 'reactivate' }, members, statusEl, { doing: 'Reactivating', done: 'Reactivated' });
}

async function runBulk(ctx, body, members, statusEl, words, leftOut = { kept: [] }) {
  const total = members.length;
  const emailOf = new Map(members.map((m) => [m.id, m.email]));
  const results = [];
  const bar = h('progress', { max: total, value: 0 });
  const text = h('span', {}, `${words.doing}: 0 of ${num(total)}…`);
  replace(statusEl, h('div', { class: 'progress' }, text, bar));
  statusEl.setAttribute('aria-busy', 'true');
  let error = null;
  for (let i = 0; i < total; i += CHUNK) {
    const ids = members.slice(i, i + CHUNK).map((m) => m.id);
    try {
      const res = await ctx.api.post(`${ctx.teamPath}/members/bulk`, { ...body, memberIds: ids });
      results.push(...res.results);
    } catch (err) {
      error = err;
      break;
    }
    bar.value = results.length;
    text.textContent = `${words.doing}: ${num(results.length)} of ${num(total)}…`;
  }
  statusEl.removeAttribute('aria-busy');
  const summary = summarize(results, emailOf);
  const box = resultBox(words.done, summary, total, error, leftOut);
  replace(statusEl, box);
  // The rows acted on may be gone: keyboard focus goes to the result.
  box.focus();
  announce(sentence(words.done, summary, error));
  return { summary, error };
}

function summarize(results, emailOf) {
  const done = [];
  const failed = [];
  const skipped = new Map(); // code → emails
  for (const r of results) {
    const email = emailOf.get(r.memberId) || r.memberId;
    if (r.result === 'done') done.push(email);
    else if (r.result === 'skipped') skipped.set(r.code, [...(skipped.get(r.code) || []), email]);
    else failed.push(email);
  }
  return { done, failed, skipped };
}

function sentence(doneWord, s, error) {
  const skipped = [...s.skipped.values()].reduce((a, b) => a + b.length, 0);
  let t = `${doneWord}: ${num(s.done.length)}. Skipped: ${num(skipped)}. Failed: ${num(s.failed.length)}.`;
  if (error) t += ` Stopped: ${error.readable || error.message}`;
  return t;
}

function resultBox(doneWord, s, total, error, leftOut = { kept: [] }) {
  const skippedCount = [...s.skipped.values()].reduce((a, b) => a + b.length, 0);
  // Success only when something was done: "Removed 0 of 1" is not one.
  const good = !error && !s.failed.length && s.done.length > 0;
  const box = h('div', { class: `result ${good ? 'result-ok' : 'result-bad'}`, 'data-result': 'bulk', tabindex: '-1' },
    h('p', { class: 'result-line' },
      h('strong', {}, `${doneWord} ${num(s.done.length)}`), ` of ${num(total)}`,
      skippedCount ? ` · skipped ${num(skippedCount)}` : '',
      s.failed.length ? ` · failed ${num(s.failed.length)}` : ''),
  );
  if (skippedCount) {
    box.append(h('ul', { class: 'reasons' }, [...s.skipped].map(([code, emails]) =>
      h('li', {}, `Skipped ${num(emails.length)}: ${label(SKIP_REASON, code)} (`, short(emails), ')'))));
  }
  if (leftOut.kept.length) box.append(h('p', {}, 'Left out: ', short(leftOut.kept.map((m) => m.email)), ` (${leftOut.why}).`));
  if (s.failed.length) box.append(h('p', {}, `Failed: `, short(s.failed), '. Try them again.'));
  if (error) box.append(h('p', { role: 'alert' }, `Stopped before the end: ${error.readable || error.message}`));
  return dismissible(box);
}

// dismissible adds a Dismiss button to a result box.
export function dismissible(box) {
  box.append(h('button', { type: 'button', class: 'btn btn-quiet btn-small', onclick: () => box.remove() }, 'Dismiss'));
  return box;
}

function short(emails) {
  const shown = emails.slice(0, 5).join(', ');
  return emails.length > 5 ? `${shown} and ${num(emails.length - 5)} more` : shown;
}

// downloadReport fetches the usage CSV of these members and saves it.
export async function downloadReport(ctx, members, statusEl) {
  if (!checkReportSize(members, statusEl)) return;
  replace(statusEl, h('p', { class: 'progress' }, `Preparing the usage report of ${plural('user', members.length)}…`));
  try {
    const res = await ctx.api.send('POST', `${ctx.teamPath}/usage-report`, { json: { memberIds: members.map((m) => m.id) }, raw: true });
    const blob = await res.blob();
    const name = fileName(res.headers.get('Content-Disposition')) || 'usage-report.csv';
    const a = h('a', { href: URL.createObjectURL(blob), download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
    replace(statusEl, dismissible(h('div', { class: 'result result-ok', 'data-result': 'report' },
      h('p', {}, `Downloaded ${name}: usage of ${plural('user', members.length)} over the last 30 days.`))));
    announce(`Downloaded ${name}`);
  } catch (err) {
    showError(statusEl, err);
  }
}

// emailReport asks the API to email the report to the signed-in admin.
export async function emailReport(ctx, members, statusEl) {
  if (!checkReportSize(members, statusEl)) return;
  const n = members.length;
  const ok = await confirm({ title: 'Send a usage email?', body: `The usage of ${plural('user', n)} over the last 30 days goes to ${ctx.email || 'you'}, as a table with a CSV attached.`, ok: 'Send the email' });
  if (!ok) return;
  replace(statusEl, h('p', { class: 'progress' }, 'Sending…'));
  try {
    const res = await ctx.api.post(`${ctx.teamPath}/usage-report/email`, { memberIds: members.map((m) => m.id) });
    const to = res?.recipient || ctx.email;
    replace(statusEl, dismissible(h('div', { class: 'result result-ok', 'data-result': 'report' },
      h('p', {}, `The usage email of ${plural('user', n)} is on its way to ${to}.`))));
    announce(`Usage email sent to ${to}`);
  } catch (err) {
    showError(statusEl, err);
  }
}

function checkReportSize(members, statusEl) {
  if (members.length <= REPORT_LIMIT) return true;
  showError(statusEl, new ApiError(400, { detail: `A report covers at most ${num(REPORT_LIMIT)} users; ${num(members.length)} are selected. Narrow the selection.` }));
  return false;
}

export function showError(el, err) {
  const text = err instanceof ApiError ? err.readable : (err?.message || String(err));
  replace(el, dismissible(h('div', { class: 'result result-bad', role: 'alert', 'data-result': 'error' }, h('p', {}, text))));
}

function fileName(disposition) {
  if (!disposition) return '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  if (star) return decodeURIComponent(star[1]);
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  return plain ? plain[1] : '';
}
