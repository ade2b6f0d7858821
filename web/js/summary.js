// Section 1: Total assigned seats, Pending invitation (Resend invites),
// Never used the app (Send instructions). The two buttons start team jobs,
// which the page follows to their end.
import { $, h, replace, announce } from './dom.js';
import { confirm } from './dialogs.js';
import { showError, dismissible } from './bulk.js';
import { SKIP_REASON, label } from './labels.js';
import { num, plural } from './format.js';

let summary = null;

export function currentSummary() {
  return summary;
}

export function initSummary(ctx) {
  $('resend-all').addEventListener('click', () => teamJob(ctx, 'resend'));
  $('instructions-all').addEventListener('click', () => teamJob(ctx, 'instructions'));
}

function setNumber(id, n) {
  const el = $(id);
  el.textContent = num(n);
  el.classList.remove('skeleton');
}

export function skeletonSummary() {
  summary = null;
  for (const id of ['c-assigned', 'c-purchased', 'c-pending', 'c-never']) {
    $(id).textContent = '00';
    $(id).classList.add('skeleton');
  }
  replace($('c-unassigned-hint'), h('span', { class: 'skeleton' }, '00 unassigned seats'));
  for (const id of ['invite-open', 'resend-all', 'instructions-all']) $(id).disabled = true;
}

let loadedAt = null; // when the counters shown were read

export async function loadSummary(ctx) {
  let s;
  try {
    s = await ctx.api.get(`${ctx.teamPath}/summary`);
  } catch (err) {
    // Numbers already shown stay, marked as old, never passed off as fresh.
    if (summary) {
      $('counters').classList.add('stale');
      const note = $('counters-stale');
      replace(note, `Could not refresh these numbers (${err.readable || err.message}); they are as of ${loadedAt.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}. `,
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => loadSummary(ctx).catch(() => {}) }, 'Try again'));
      note.hidden = false;
    }
    throw err;
  }
  loadedAt = new Date();
  $('counters').classList.remove('stale');
  $('counters-stale').hidden = true;
  summary = s;
  setNumber('c-assigned', s.seats.assigned);
  setNumber('c-purchased', s.seats.purchased);
  setNumber('c-pending', s.pendingInvitations);
  setNumber('c-never', s.neverUsedApp);
  const free = s.seats.unassigned;
  replace($('c-unassigned-hint'), free > 0 ? `Includes the owner · ${plural('seat', free)} unassigned` : 'Includes the owner · all seats are assigned');
  $('invite-open').disabled = false;
  $('resend-all').disabled = s.pendingInvitations === 0;
  $('instructions-all').disabled = s.neverUsedApp === 0;
  if (s.team?.name) ctx.setTeamName(s.team.name);
  return s;
}

const JOBS = {
  resend: {
    path: '/invitations/resend',
    count: (s) => s.pendingInvitations,
    title: (n) => `Resend the invitation to ${plural('pending user', n)}?`,
    body: 'Each gets a new invitation email with a new link; their old links stop working.',
    ok: (n) => `Resend ${plural('invite', n)}`,
    doing: 'Resending invitations',
    done: 'Invitations resent',
    button: 'Resend invites',
  },
  instructions: {
    path: '/instructions',
    count: (s) => s.neverUsedApp,
    title: (n) => `Send the app instructions to ${plural('user', n)}?`,
    body: 'Everyone who never used the app gets the steps to sign in to the desktop app with their team account.',
    ok: (n) => `Send to ${plural('user', n)}`,
    doing: 'Sending instructions',
    done: 'Instructions sent',
    button: 'Send instructions',
  },
};

async function teamJob(ctx, kind) {
  const job = JOBS[kind];
  const n = summary ? job.count(summary) : 0;
  const ok = await confirm({ title: job.title(n), body: job.body, ok: job.ok(n) });
  if (!ok) return;
  const status = $('job-status');
  const button = kind === 'resend' ? $('resend-all') : $('instructions-all');
  button.disabled = true;
  try {
    const started = await ctx.api.post(ctx.teamPath + job.path);
    await follow(ctx, started, job, status);
  } catch (err) {
    showError(status, err);
  } finally {
    button.disabled = false;
    loadSummary(ctx).catch(() => {});
  }
}

// follow polls GET …/jobs/{jobId} until the job is done, showing progress.
async function follow(ctx, started, job, status) {
  const total = started.members ?? 0;
  const bar = h('progress', { max: Math.max(total, 1), value: 0 });
  const text = h('span', {}, `${job.doing}: 0 of ${num(total)}…`);
  replace(status, h('div', { class: 'progress' }, text, bar));
  status.setAttribute('aria-busy', 'true');
  let state = started;
  let wait = 500;
  try {
    while (state.state !== 'done') {
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 1.5, 3000);
      state = await ctx.api.get(`${ctx.teamPath}/jobs/${encodeURIComponent(started.jobId)}`);
      const handled = (state.done || 0) + (state.skipped || 0) + (state.failed || 0);
      bar.max = Math.max(state.members || total, 1);
      bar.value = handled;
      text.textContent = `${job.doing}: ${num(handled)} of ${num(state.members || total)}…`;
    }
  } finally {
    status.removeAttribute('aria-busy');
  }
  const done = state.done || 0;
  const skipped = state.skipped || 0;
  const failed = state.failed || 0;
  const box = h('div', { class: `result ${failed ? 'result-bad' : 'result-ok'}`, 'data-result': 'job' },
    h('p', { class: 'result-line' }, h('strong', {}, `${job.done}: ${num(done)}`), ` · skipped ${num(skipped)} · failed ${num(failed)}`));
  // Why members were skipped, in words, most frequent first.
  const reasons = Object.entries(state.reasons || {}).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  if (reasons.length) {
    box.append(h('ul', { class: 'reasons', 'data-reasons': '' },
      reasons.map(([code, n]) => h('li', { dataset: { code } }, `Skipped ${num(n)}: ${label(SKIP_REASON, code)}`))));
  }
  if (failed) {
    box.append(h('p', { 'data-failed': '' }, `Failed ${num(failed)}: the email could not be queued on our side. Press ${job.button} again to retry them.`));
  }
  replace(status, dismissible(box));
  announce(`${job.done}: ${done}, skipped ${skipped}, failed ${failed}`);
}
