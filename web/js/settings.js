// Team settings: the team's email setting (notifyOnRevoke) and its
// identity provider connection (SCIM tokens: made and shown once, listed
// without their secret, revoked).
import { $, h, replace, announce, busy } from './dom.js';
import { confirm } from './dialogs.js';
import { currentSummary } from './summary.js';
import { time } from './format.js';

export function initSettings(ctx) {
  const d = $('settings');
  $('settings-open').addEventListener('click', () => open(ctx));
  $('settings-close').addEventListener('click', () => d.close());
  $('settings-revoke-notice').addEventListener('change', (e) => saveNotice(ctx, e.target));
  $('scim-new').addEventListener('submit', (e) => {
    e.preventDefault();
    createToken(ctx);
  });
  $('scim-copy-url').addEventListener('click', () => copy('scim-url', 'scim-copy-url'));
  $('scim-copy-token').addEventListener('click', () => copy('scim-token', 'scim-copy-token'));
}

async function open(ctx) {
  const d = $('settings');
  const s = currentSummary();
  $('settings-revoke-notice').checked = s?.settings?.notifyOnRevoke ?? true;
  $('settings-saved').textContent = '';
  $('scim-created').hidden = true;
  $('scim-token').value = '';
  $('scim-error').hidden = true;
  d.showModal();
  await loadTokens(ctx);
}

async function saveNotice(ctx, box) {
  const saved = $('settings-saved');
  box.disabled = true;
  saved.textContent = 'Saving…';
  try {
    const out = await ctx.api.patch(`${ctx.teamPath}/settings`, { notifyOnRevoke: box.checked });
    box.checked = out.notifyOnRevoke;
    const s = currentSummary();
    if (s) s.settings = out;
    saved.textContent = 'Saved.';
  } catch (err) {
    box.checked = !box.checked;
    saved.textContent = `Not saved: ${err.readable || err.message}`;
  } finally {
    box.disabled = false;
  }
}

// tokenNames are the team's tokens' names, as last listed: two tokens of
// one name would look alike in the list and in the revoke confirmation.
let tokenNames = [];

async function loadTokens(ctx) {
  const list = $('scim-tokens');
  list.setAttribute('aria-busy', 'true');
  try {
    const out = await ctx.api.get(`${ctx.teamPath}/scim-tokens`);
    $('scim-url').value = out.baseUrl;
    const tokens = out.tokens || [];
    tokenNames = tokens.map((t) => t.name.toLowerCase());
    replace(list, tokens.length
      ? tokens.map((t) => h('li', { dataset: { id: t.id } },
        h('span', { class: 'token-name' }, t.name),
        h('span', { class: 'muted small' }, 'Made ', time(t.createdAt), t.createdBy ? ` by ${t.createdBy}` : ''),
        h('button', { type: 'button', class: 'btn btn-small btn-danger-quiet', 'aria-label': `Revoke the token ${t.name}`,
          onclick: () => revokeToken(ctx, t) }, 'Revoke')))
      : h('li', { class: 'muted' }, 'No tokens: no identity provider is connected.'));
  } catch (err) {
    replace(list, h('li', { class: 'field-error' }, err.readable || err.message));
  } finally {
    list.removeAttribute('aria-busy');
  }
}

async function createToken(ctx) {
  const name = $('scim-name');
  const error = $('scim-error');
  error.hidden = true;
  if (!name.value.trim()) {
    error.textContent = 'Name the token after the identity provider that will use it, for example "Okta".';
    error.hidden = false;
    name.focus();
    return;
  }
  if (tokenNames.includes(name.value.trim().toLowerCase())) {
    error.textContent = `A token named "${name.value.trim()}" exists already: name this one differently (for example after where it is used), so the two can be told apart.`;
    error.hidden = false;
    name.focus();
    return;
  }
  const done = busy($('scim-create'), 'Making…');
  try {
    const t = await ctx.api.post(`${ctx.teamPath}/scim-tokens`, { name: name.value.trim() });
    $('scim-token').value = t.token;
    $('scim-created-name').textContent = t.name;
    $('scim-created').dataset.id = t.id;
    $('scim-created').hidden = false;
    name.value = '';
    $('scim-token').focus();
    $('scim-token').select();
    announce(`Token ${t.name} made. Copy it now: it is not shown again.`);
    await loadTokens(ctx);
  } catch (err) {
    error.textContent = err.readable || err.message;
    error.hidden = false;
  } finally {
    done();
  }
}

async function revokeToken(ctx, t) {
  const ok = await confirm({
    title: `Revoke the token ${t.name}?`,
    body: ['The identity provider that uses it is refused from its next request, so members stop being added, changed or deactivated from it.',
      'Members it added stay in the team.'],
    ok: 'Revoke token',
    danger: true,
  });
  if (!ok) return;
  try {
    await ctx.api.del(`${ctx.teamPath}/scim-tokens/${encodeURIComponent(t.id)}`);
    announce(`Token ${t.name} revoked.`);
    // Only this token's "copy it now" box goes, not another's of the same name.
    if ($('scim-created').dataset.id === t.id) $('scim-created').hidden = true;
  } catch (err) {
    $('scim-error').textContent = err.readable || err.message;
    $('scim-error').hidden = false;
  }
  await loadTokens(ctx);
}

async function copy(fieldId, buttonId) {
  const field = $(fieldId);
  const button = $(buttonId);
  try {
    await navigator.clipboard.writeText(field.value);
    button.textContent = 'Copied';
  } catch {
    // No clipboard permission: select it, so Ctrl+C copies it.
    field.focus();
    field.select();
    button.textContent = 'Press Ctrl+C';
  }
  setTimeout(() => { button.textContent = 'Copy'; }, 2000);
}
