// Member information: the invitation and sign-in stages with their dates,
// the expiry, the last email's delivery state, the role dropdown, Resend
// invite, Send instructions, Deactivate or Reactivate, Remove from team.
import { $, h, replace, announce, busy } from './dom.js';
import { STATUS, LAST_CALL, ROLE, EMAIL_KIND, EMAIL_STATE, EMAIL_PROBLEM, label } from './labels.js';
import { time, timeText } from './format.js';
import { confirm } from './dialogs.js';
import { ApiError } from './api.js';
import { showError } from './bulk.js';

let current = null; // the member shown, as last read

export function initMember() {
  $('member-close').addEventListener('click', () => $('member').close());
  // A click on the backdrop (outside the drawer) closes it too.
  $('member').addEventListener('click', (e) => {
    if (e.target === $('member')) $('member').close();
  });
}

export async function openMember(ctx, row) {
  const d = $('member');
  const body = $('member-body');
  current = null;
  replace(body, h('p', { class: 'member-email' }, row.email), h('div', { class: 'skeleton-block', 'aria-hidden': 'true' }));
  body.setAttribute('aria-busy', 'true');
  if (!d.open) d.showModal();
  try {
    const m = await ctx.api.get(`${ctx.teamPath}/members/${encodeURIComponent(row.id)}`);
    render(ctx, m);
  } catch (err) {
    replace(body, h('p', { class: 'member-email' }, row.email), h('div', { class: 'result result-bad', role: 'alert', 'data-result': 'error' },
      h('p', {}, err instanceof ApiError ? err.readable : err.message)));
    // A member removed meanwhile: the list should stop showing them.
    if (err.status === 404) ctx.refresh();
  } finally {
    body.removeAttribute('aria-busy');
  }
}

function isSelf(ctx, m) {
  return (ctx.email || '').toLowerCase() === m.email.toLowerCase();
}

function render(ctx, m) {
  current = m;
  const self = isSelf(ctx, m);
  const lockedRole = m.isOwner || self;
  const roleSelect = h('select', { id: 'member-role', disabled: lockedRole, 'aria-describedby': lockedRole ? 'member-role-why' : null },
    ...Object.entries(ROLE).map(([v, text]) => h('option', { value: v, selected: m.role === v }, text)));
  roleSelect.addEventListener('change', () => changeRole(ctx, roleSelect));

  const pending = m.status === 'invitation_sent';
  const off = m.status === 'deactivated';
  const expired = m.invitationExpired;
  const stages = h('ol', { class: 'stages' },
    m.provisionedBy
      ? stage('Added by the identity provider', m.invitedAt, `through the SCIM token “${m.provisionedBy}”`)
      : stage('Invited', m.invitedAt, m.invitedBy ? `by ${m.invitedBy}` : ''),
    pending && m.invitationSentAt && m.invitationSentAt !== m.invitedAt ? stage('Invitation last sent', m.invitationSentAt) : null,
    pending ? h('li', { class: expired ? 'stage warn' : 'stage todo' },
      h('span', { class: 'stage-name' }, expired ? 'Invitation expired' : 'Invitation expires'),
      h('span', { class: 'stage-date' }, time(m.invitationExpiresAt, { fallback: 'no expiry recorded' })),
      expired ? h('span', { class: 'stage-note' }, 'Resend the invite to send a new link.') : null) : null,
    stage('Invitation accepted', m.acceptedAt),
    stage('First signed in to the app', m.firstSignInAt),
    m.lastSignInAt && m.lastSignInAt !== m.firstSignInAt ? stage('Last signed in to the app', m.lastSignInAt) : null,
    off ? h('li', { class: 'stage warn' },
      h('span', { class: 'stage-name' }, 'Deactivated'),
      h('span', { class: 'stage-date' }, time(m.deactivatedAt, { fallback: 'date not recorded' })),
      h('span', { class: 'stage-note' }, 'No seat, no sign-in to the app; history and usage are kept. Reactivate to give the seat back.')) : null);

  const e = m.lastEmail;
  const bad = e && (e.state === 'bounced' || e.state === 'complained' || e.state === 'failed');
  const email = e
    ? h('p', { class: bad ? 'email-state bad' : 'email-state', 'data-state': e.state },
      h('strong', {}, `${label(EMAIL_KIND, e.kind)} email: ${label(EMAIL_STATE, e.state)}`),
      e.at ? [' · ', time(e.at)] : '',
      e.reason ? h('span', { class: 'sub' }, e.reason) : '',
      e.state === 'bounced' ? h('span', { class: 'sub' }, 'The address may be mistyped: check it, then remove this user and invite the right address.') : '',
      e.state === 'complained' ? h('span', { class: 'sub' }, 'The recipient marked the email as spam. Ask them, another way, to look out for the next one before you send it.') : '')
    : h('p', { class: 'muted' }, 'No email sent yet.');

  const status = h('div', { id: 'member-status', class: 'panel-status', role: 'status', 'aria-live': 'polite' });
  const resend = pending ? h('button', { type: 'button', class: 'btn', id: 'member-resend', onclick: (ev) => act(ctx, ev.target, 'resend-invite', status) }, 'Resend invite') : null;
  const instructions = off ? null : h('button', { type: 'button', class: 'btn', id: 'member-instructions', onclick: (ev) => act(ctx, ev.target, 'send-instructions', status) }, 'Send instructions');
  const toggle = off
    ? h('button', { type: 'button', class: 'btn', id: 'member-reactivate', onclick: (ev) => act(ctx, ev.target, 'reactivate', status) }, 'Reactivate')
    : h('button', {
      type: 'button', class: 'btn', id: 'member-deactivate', disabled: m.isOwner || self,
      title: m.isOwner ? 'The team owner cannot be deactivated.' : self ? 'You cannot deactivate yourself.' : null,
      onclick: (ev) => deactivateOne(ctx, ev.target, status),
    }, 'Deactivate');
  const remove = h('button', {
    type: 'button', class: 'btn btn-danger-quiet', id: 'member-remove', disabled: m.isOwner || self,
    title: m.isOwner ? 'The team owner cannot be removed.' : self ? 'You cannot remove yourself.' : null,
    onclick: (ev) => removeOne(ctx, ev.target, status),
  }, 'Remove from team');

  replace($('member-body'),
    h('p', { class: 'member-email' }, m.email, m.isOwner ? h('span', { class: 'tag' }, 'Owner') : null, self ? h('span', { class: 'tag' }, 'You') : null),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Status'), h('dd', {}, h('span', { class: `status s-${m.status}` }, label(STATUS, m.status)),
        expired ? h('span', { class: 'tag tag-warn' }, 'Expired') : null,
        m.emailProblem ? h('span', { class: 'tag tag-bad', 'data-problem': m.emailProblem }, label(EMAIL_PROBLEM, m.emailProblem)) : null),
      h('dt', {}, 'Last call'), h('dd', {}, label(LAST_CALL, m.lastCall), m.lastActiveAt ? [' · ', time(m.lastActiveAt)] : ''),
      h('dt', {}, h('label', { for: 'member-role' }, 'Role')), h('dd', {}, roleSelect,
        lockedRole ? h('span', { id: 'member-role-why', class: 'muted small' }, m.isOwner ? ' The owner is always an admin.' : ' You cannot change your own role.') : null)),
    h('h3', {}, 'Invitation and sign-in'), stages,
    h('h3', {}, 'Last email'), email,
    h('div', { class: 'actions member-actions' }, resend, instructions, toggle, remove),
    status);
}

function stage(name, at, note = '') {
  return h('li', { class: at ? 'stage done' : 'stage todo' },
    h('span', { class: 'stage-name' }, name),
    h('span', { class: 'stage-date' }, at ? time(at) : 'Not yet'),
    note ? h('span', { class: 'stage-note' }, note) : null);
}

// A role change asks first, as the bulk Change role does: choosing in the
// dropdown by keyboard must not save and email at once. Focus stays on
// the dropdown, whatever the answer.
async function changeRole(ctx, select) {
  const m = current;
  const role = select.value;
  const status = $('member-status');
  const ok = await confirm({
    title: `Make ${m.email} ${ROLE[role] === 'Admin' ? 'an' : 'a'} ${ROLE[role]}?`,
    body: [role === 'admin'
      ? 'Admins manage the team on this page: they invite, remove and change the roles of its members.'
      : 'They will no longer open this page or manage the team.',
    m.status === 'invitation_sent' ? 'The invitation keeps its link.' : 'They are emailed about the change.'],
    ok: `Make ${ROLE[role]}`,
  });
  if (!ok) {
    select.value = m.role;
    select.focus();
    return;
  }
  select.disabled = true;
  try {
    const updated = await ctx.api.patch(`${ctx.teamPath}/members/${encodeURIComponent(m.id)}`, { role });
    ctx.updateRow(updated);
    render(ctx, updated);
    replace($('member-status'), h('div', { class: 'result result-ok', 'data-result': 'role' }, h('p', {}, `Role changed to ${ROLE[role]}.`)));
    announce(`${updated.email} is now ${ROLE[role]}`);
    $('member-role')?.focus();
  } catch (err) {
    select.value = m.role;
    select.disabled = false;
    select.focus();
    showError(status, err);
  }
}

const DONE = {
  'resend-invite': (m) => `Invitation resent to ${m.email}. The new link expires ${timeText(m.invitationExpiresAt) || 'later'}; the old one no longer works.`,
  'send-instructions': (m) => `Instructions sent to ${m.email}.`,
  deactivate: (m) => `${m.email} is deactivated: the seat is free, and they can no longer sign in.`,
  reactivate: (m) => m.status === 'invitation_sent'
    ? `${m.email} is reactivated and holds a seat again. They never joined: resend the invite to send a new link.`
    : `${m.email} is reactivated (${label(STATUS, m.status)}) and holds a seat again.`,
};

async function deactivateOne(ctx, button, status) {
  const m = current;
  const ok = await confirm({
    title: `Deactivate ${m.email}?`,
    body: ['They can no longer sign in to the app or use the team, and the seat is freed. Their history and usage stay.',
      m.status === 'invitation_sent' ? 'Their invitation link stops working.' : '',
      'You can reactivate them later while a seat is free.'].filter(Boolean),
    ok: 'Deactivate',
    danger: true,
  });
  if (ok) await act(ctx, button, 'deactivate', status);
}

async function act(ctx, button, what, status) {
  const m = current;
  const restore = busy(button, what === 'deactivate' ? 'Deactivating…' : what === 'reactivate' ? 'Reactivating…' : 'Sending…');
  try {
    const updated = await ctx.api.post(`${ctx.teamPath}/members/${encodeURIComponent(m.id)}/${what}`);
    render(ctx, updated);
    ctx.updateRow(updated);
    if (what === 'deactivate' || what === 'reactivate') ctx.refresh(); // counters, and the row leaves or joins the list
    const text = DONE[what](updated);
    replace($('member-status'), h('div', { class: 'result result-ok', 'data-result': what }, h('p', {}, text)));
    announce(text);
  } catch (err) {
    restore();
    showError(status, err);
  }
}

async function removeOne(ctx, button, status) {
  const m = current;
  const ok = await confirm({
    title: `Remove ${m.email} from the team?`,
    body: ['They lose access to the team and the seat is freed.', 'This cannot be undone; you can invite them again later.'],
    ok: 'Remove from team',
    danger: true,
  });
  if (!ok) return;
  const restore = busy(button, 'Removing…');
  try {
    await ctx.api.del(`${ctx.teamPath}/members/${encodeURIComponent(m.id)}`);
    $('member').close();
    // The row that opened the drawer is gone: the focus goes to what
    // happened, not to the page's body.
    const done = h('div', { class: 'result result-ok', 'data-result': 'remove', tabindex: '-1' }, h('p', {}, `${m.email} was removed from the team.`));
    replace($('bulk-status'), done);
    done.focus();
    announce(`${m.email} removed from the team`);
    ctx.refresh();
  } catch (err) {
    restore();
    showError(status, err);
  }
}
