// Invite more users: several addresses at once, a role, one result each.
import { $, h, replace, announce, busy } from './dom.js';
import { INVITE_RESULT, label } from './labels.js';
import { currentSummary } from './summary.js';
import { plural } from './format.js';
import { ApiError } from './api.js';

const MAX = 500; // addresses per call, as the API takes them

export function parseEmails(text) {
  return text.split(/[\s,;]+/).map((s) => s.trim().replace(/^<|>$/g, '')).filter(Boolean);
}

export function initInvite(ctx) {
  const d = $('invite');
  const area = $('invite-emails');
  const parsed = $('invite-parsed');
  const err = $('invite-error');

  const count = () => {
    const n = parseEmails(area.value).length;
    parsed.textContent = n ? `${plural('address', n, 'addresses')} entered.` : '';
  };
  area.addEventListener('input', count);

  $('invite-open').addEventListener('click', () => {
    const s = currentSummary();
    const full = s && s.seats.unassigned === 0;
    $('invite-seats').textContent = !s ? '' : full
      ? `All ${s.seats.purchased} seats are assigned: remove users to free seats, or buy more, before inviting.`
      : `${plural('unassigned seat', s.seats.unassigned)} of ${s.seats.purchased}.`;
    $('invite-submit').disabled = Boolean(full);
    replace($('invite-results'));
    err.hidden = true;
    count();
    d.showModal();
    area.focus();
  });
  $('invite-close').addEventListener('click', () => d.close());

  $('invite-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const emails = parseEmails(area.value);
    err.hidden = true;
    if (!emails.length) return fail('Enter at least one email address.');
    if (emails.length > MAX) return fail(`Invite at most ${MAX} addresses at a time; you entered ${emails.length}.`);
    const done = busy($('invite-submit'), 'Sending…');
    try {
      const role = $('invite-role').value;
      const res = await ctx.api.post(`${ctx.teamPath}/invitations`, { emails, role });
      showResults(res.results);
      // Keep only what still needs attention in the box.
      const retry = res.results.filter((r) => r.result === 'invalid_email' || r.result === 'seat_limit_reached').map((r) => r.email);
      area.value = retry.join('\n');
      count();
      const invited = res.results.filter((r) => r.result === 'invited').length;
      announce(`${plural('user', invited)} invited`);
      if (invited) ctx.refresh();
    } catch (error) {
      fail(error instanceof ApiError ? error.readable : error.message);
    } finally {
      done();
    }
  });

  function fail(text) {
    err.textContent = text;
    err.hidden = false;
    area.focus();
  }
}

function showResults(results) {
  const ok = results.filter((r) => r.result === 'invited').length;
  replace($('invite-results'),
    h('p', { class: 'result-line' }, h('strong', {}, `${plural('invitation', ok)} sent`), results.length > ok ? `, ${results.length - ok} not sent` : ''),
    h('table', { class: 'mini', 'data-result': 'invite' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Email'), h('th', { scope: 'col' }, 'Result'))),
      h('tbody', {}, results.map((r) => h('tr', { class: r.result === 'invited' ? 'ok' : 'bad' },
        h('td', {}, r.email),
        h('td', {}, label(INVITE_RESULT, r.result), r.reason ? `: ${r.reason}` : ''))))));
}
