// Invite more users: several addresses at once, a role, one result each.
import { $, h, replace, announce, busy } from './dom.js';
import { INVITE_RESULT, label } from './labels.js';
import { currentSummary } from './summary.js';
import { plural } from './format.js';
import { ApiError } from './api.js';

const MAX = 500; // addresses per call, as the API takes them

// parseEmails reads what an admin pastes: addresses separated by commas,
// semicolons, spaces or new lines, or a mail client's "Name <address>"
// (the name is dropped, quoted or not).
export function parseEmails(text) {
  const bare = text.replace(/(?:"[^"]*"\s*|[^,;\n<>"]*)<([^<>\s]+)>/g, ' $1 ');
  return bare.split(/[\s,;]+/).map((s) => s.trim().replace(/^<|>$/g, '')).filter(Boolean);
}

// distinct is the addresses once each (case aside), and how many repeats
// were left out: a repeat is invited once, not refused.
function distinct(emails) {
  const seen = new Set();
  const out = [];
  for (const e of emails) {
    const k = e.toLowerCase();
    if (!seen.has(k)) {
      seen.add(k);
      out.push(e);
    }
  }
  return { emails: out, repeats: emails.length - out.length };
}

// seatsText is what the dialog says of the free seats, from the counters.
function seatsText(s) {
  if (!s) return '';
  return s.seats.unassigned === 0
    ? `All ${s.seats.purchased} seats are assigned: remove users to free seats, or buy more, before inviting.`
    : `${plural('unassigned seat', s.seats.unassigned)} of ${s.seats.purchased}.`;
}

export function initInvite(ctx) {
  const d = $('invite');
  const area = $('invite-emails');
  const parsed = $('invite-parsed');
  const err = $('invite-error');

  // count says what will be sent before it is: how many addresses, the
  // repeats that go once, and, beyond the free seats, who will not be.
  const count = () => {
    const { emails, repeats } = distinct(parseEmails(area.value));
    const n = emails.length;
    const free = currentSummary()?.seats.unassigned;
    let text = n ? `${plural('address', n, 'addresses')} entered${repeats ? ` (${plural('repeat', repeats)} left out: each address is invited once)` : ''}.` : '';
    if (n && free !== undefined && n > free) text += ` Only ${plural('seat', free)} ${free === 1 ? 'is' : 'are'} free: the first ${free} addresses are invited, the other ${n - free} are not.`;
    parsed.textContent = text;
    parsed.dataset.overSeats = String(Boolean(n && free !== undefined && n > free));
  };
  area.addEventListener('input', count);

  $('invite-open').addEventListener('click', () => {
    const s = currentSummary();
    $('invite-seats').textContent = seatsText(s);
    $('invite-submit').disabled = Boolean(s && s.seats.unassigned === 0);
    replace($('invite-results'));
    err.hidden = true;
    count();
    d.showModal();
    area.focus();
  });
  $('invite-close').addEventListener('click', () => d.close());

  $('invite-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const { emails } = distinct(parseEmails(area.value));
    err.hidden = true;
    if (!emails.length) return fail('Enter at least one email address.');
    const done = busy($('invite-submit'), 'Sending…');
    const results = [];
    try {
      const role = $('invite-role').value;
      // More than one request takes: in order, MAX at a time, so the first
      // addresses still get the free seats.
      for (let i = 0; i < emails.length; i += MAX) {
        const res = await ctx.api.post(`${ctx.teamPath}/invitations`, { emails: emails.slice(i, i + MAX), role });
        results.push(...res.results);
      }
    } catch (error) {
      fail(error instanceof ApiError ? error.readable : error.message);
    } finally {
      done();
    }
    if (!results.length) return;
    showResults(results);
    // Keep only what still needs attention in the box.
    const retry = results.filter((r) => r.result === 'invalid_email' || r.result === 'seat_limit_reached').map((r) => r.email);
    area.value = retry.join('\n');
    const invited = results.filter((r) => r.result === 'invited').length;
    announce(`${plural('user', invited)} invited`);
    if (invited) {
      // The dialog's seats are the card's once the counters are fresh.
      await ctx.refresh();
      $('invite-seats').textContent = seatsText(currentSummary());
    }
    count();
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
