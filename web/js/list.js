// Sections 2 and 3: search, More filters, sorting, the table with its
// checkboxes, paging over nextCursor, and the bulk action bar.
import { $, h, replace, announce, debounce } from './dom.js';
import { STATUS, LAST_CALL, ROLE, FILTERS, EMAIL_PROBLEM, label } from './labels.js';
import { num, plural, day } from './format.js';
import { ApiError } from './api.js';
import { removeMembers, changeRoles, deactivateMembers, reactivateMembers, downloadReport, emailReport, showError } from './bulk.js';
import { openMember } from './member.js';

const PAGE = 25;
const SELECT_ALL_LIMIT = 1000; // what one bulk call or report takes
const SKELETON_ROWS = 10;

const empty = () => ({ q: '', status: [], lastCall: [], role: [], sort: 'email', order: 'asc' });

const state = {
  query: empty(),
  rows: [],
  nextCursor: null,
  total: undefined,
  loading: false,
  gen: 0,
  controller: null,
  selected: new Map(), // id → row
  allMatching: null, // after "Select all": {capped}
};

let ctx;

export function initList(c) {
  ctx = c;
  readUrl();
  buildFilters();
  $('search').value = state.query.q;
  $('search').addEventListener('input', debounce(() => {
    const q = $('search').value.trim();
    if (q === state.query.q) return;
    state.query.q = q;
    changed();
  }, 300));
  $('filters-toggle').addEventListener('click', () => {
    const open = $('filters').hidden;
    $('filters').hidden = !open;
    $('filters-toggle').setAttribute('aria-expanded', String(open));
    if (open) $('filters').querySelector('input').focus();
  });
  $('filters').addEventListener('change', () => {
    for (const key of Object.keys(FILTERS)) {
      state.query[key] = [...$('filters').querySelectorAll(`input[name=${key}]:checked`)].map((i) => i.value);
    }
    changed();
  });
  $('filters-clear').addEventListener('click', clearFilters);
  $('sort').addEventListener('change', () => {
    [state.query.sort, state.query.order] = $('sort').value.split(':');
    changed();
  });
  for (const b of document.querySelectorAll('.sort-btn')) {
    b.addEventListener('click', () => {
      const field = b.dataset.sort;
      if (state.query.sort === field) state.query.order = state.query.order === 'asc' ? 'desc' : 'asc';
      else [state.query.sort, state.query.order] = [field, field === 'email' ? 'asc' : 'desc'];
      changed();
    });
  }
  $('select-all').addEventListener('change', (e) => {
    state.allMatching = null;
    for (const r of state.rows) {
      if (e.target.checked) state.selected.set(r.id, r);
      else state.selected.delete(r.id);
    }
    renderRows();
    renderSelection();
  });
  $('selection-clear').addEventListener('click', () => {
    state.selected.clear();
    state.allMatching = null;
    renderRows();
    renderSelection();
  });
  $('load-more').addEventListener('click', () => loadPage());
  new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && state.nextCursor && !state.loading && !$('list-error').textContent) loadPage();
  }, { rootMargin: '300px' }).observe($('scroll-sentinel'));

  const status = $('bulk-status');
  const after = (res) => {
    if (res) ctx.refresh();
  };
  $('bulk-remove').addEventListener('click', async () => {
    const res = await removeMembers(ctx, selectedRows(), status);
    if (res) {
      state.selected.clear();
      state.allMatching = null;
    }
    after(res);
  });
  $('bulk-role').addEventListener('click', async () => after(await changeRoles(ctx, selectedRows(), status)));
  $('bulk-deactivate').addEventListener('click', async () => after(await deactivateMembers(ctx, selectedRows(), status)));
  $('bulk-reactivate').addEventListener('click', async () => after(await reactivateMembers(ctx, selectedRows(), status)));
  $('bulk-csv').addEventListener('click', () => downloadReport(ctx, selectedRows(), status));
  $('bulk-email').addEventListener('click', () => emailReport(ctx, selectedRows(), status));
  $('bulk-report').querySelector('summary').addEventListener('click', (e) => {
    if (!state.selected.size) e.preventDefault();
  });
  renderSort();
  renderFilterCount();
}

// breakable lets a narrow screen wrap an address before its "@" rather
// than inside a word.
function breakable(email) {
  const at = email.lastIndexOf('@');
  return at > 0 ? [email.slice(0, at), h('wbr'), email.slice(at)] : [email];
}

function selectedRows() {
  return [...state.selected.values()];
}

// The query lives in the address, so a reload or a shared link shows the same list.
function readUrl() {
  const p = new URLSearchParams(location.search);
  const q = state.query;
  q.q = p.get('q') || '';
  for (const key of Object.keys(FILTERS)) {
    q[key] = (p.get(key) || '').split(',').filter((v) => FILTERS[key].values.includes(v));
  }
  if (['email', 'lastActive', 'invitedAt'].includes(p.get('sort'))) q.sort = p.get('sort');
  if (['asc', 'desc'].includes(p.get('order'))) q.order = p.get('order');
}

function writeUrl() {
  const p = new URLSearchParams();
  if (ctx.teamId) p.set('team', ctx.teamId);
  const q = state.query;
  if (q.q) p.set('q', q.q);
  for (const key of Object.keys(FILTERS)) if (q[key].length) p.set(key, q[key].join(','));
  if (q.sort !== 'email' || q.order !== 'asc') {
    p.set('sort', q.sort);
    p.set('order', q.order);
  }
  const s = p.toString();
  history.replaceState(null, '', s ? `${location.pathname}?${s}` : location.pathname);
}

function buildFilters() {
  for (const [key, f] of Object.entries(FILTERS)) {
    const fs = $(`f-${key}`);
    for (const v of f.values) {
      fs.append(h('label', { class: 'choice' },
        h('input', { type: 'checkbox', name: key, value: v, checked: state.query[key].includes(v) }),
        ` ${f.labels[v]}`, h('span', { class: 'muted small' }, f.help[v])));
    }
  }
}

function clearFilters() {
  for (const i of $('filters').querySelectorAll('input:checked')) i.checked = false;
  for (const key of Object.keys(FILTERS)) state.query[key] = [];
  changed();
}

function filterCount() {
  return Object.keys(FILTERS).reduce((n, k) => n + state.query[k].length, 0);
}

function renderFilterCount() {
  const n = filterCount();
  const badge = $('filters-count');
  badge.hidden = n === 0;
  badge.textContent = n ? String(n) : '';
  $('filters-toggle').setAttribute('aria-label', n ? `More filters, ${n} chosen` : 'More filters');
}

function renderSort() {
  const { sort, order } = state.query;
  $('sort').value = `${sort}:${order}`;
  for (const b of document.querySelectorAll('.sort-btn')) {
    const th = b.closest('th');
    th.setAttribute('aria-sort', b.dataset.sort === sort ? (order === 'asc' ? 'ascending' : 'descending') : 'none');
  }
}

// changed starts the list again from its first page: a new query selects anew.
function changed() {
  state.selected.clear();
  state.allMatching = null;
  renderSort();
  renderFilterCount();
  writeUrl();
  reload();
}

export function reload() {
  if (state.controller) state.controller.abort();
  state.gen++;
  state.rows = [];
  state.nextCursor = null;
  state.total = undefined;
  state.loading = false;
  return loadPage();
}

async function loadPage() {
  const gen = state.gen;
  const first = state.rows.length === 0;
  state.loading = true;
  state.controller = new AbortController();
  $('list-error').hidden = true;
  replace($('list-error'));
  if (first) skeleton(SKELETON_ROWS);
  else skeleton(3, true);
  $('users-table').setAttribute('aria-busy', 'true');
  const q = state.query;
  try {
    const page = await ctx.api.get(`${ctx.teamPath}/members`, {
      query: { q: q.q, status: q.status, lastCall: q.lastCall, role: q.role, sort: q.sort, order: q.order, limit: PAGE, cursor: state.nextCursor },
      signal: state.controller.signal,
    });
    if (gen !== state.gen) return;
    state.rows.push(...page.members);
    state.nextCursor = page.nextCursor || null;
    state.total = page.total;
    // Rows re-read from the API replace what the selection remembered.
    for (const r of page.members) if (state.selected.has(r.id)) state.selected.set(r.id, r);
  } catch (err) {
    if (err.name === 'AbortError' || gen !== state.gen) return;
    showListError(err);
  } finally {
    if (gen === state.gen) {
      state.loading = false;
      $('users-table').removeAttribute('aria-busy');
      renderRows();
      renderSelection();
    }
  }
}

function showListError(err) {
  const box = $('list-error');
  replace(box, h('p', {}, err instanceof ApiError ? err.readable : err.message),
    h('button', { type: 'button', class: 'btn btn-small', onclick: () => (state.rows.length ? loadPage() : reload()) }, 'Try again'));
  box.hidden = false;
}

function skeleton(n, append = false) {
  const rows = Array.from({ length: n }, () => h('tr', { class: 'skeleton-row', 'aria-hidden': 'true' },
    h('td', { class: 'c-check' }), h('td', {}, h('span', { class: 'skeleton w60' })), h('td', {}, h('span', { class: 'skeleton w40' })),
    h('td', {}, h('span', { class: 'skeleton w40' })), h('td', {}, h('span', { class: 'skeleton w20' })), h('td', {})));
  if (append) $('rows').append(...rows);
  else replace($('rows'), rows);
  $('list-empty').hidden = true;
}

function renderRows() {
  const me = (ctx.email || '').toLowerCase();
  replace($('rows'), state.rows.map((r) => {
    const checked = state.selected.has(r.id);
    return h('tr', { class: checked ? 'selected' : '', dataset: { id: r.id } },
      h('td', { class: 'c-check' }, h('input', {
        type: 'checkbox', checked, 'aria-label': `Select ${r.email}`,
        onchange: (e) => {
          if (e.target.checked) state.selected.set(r.id, r);
          else state.selected.delete(r.id);
          state.allMatching = null;
          e.target.closest('tr').classList.toggle('selected', e.target.checked);
          renderSelection();
        },
      })),
      h('th', { scope: 'row', class: 'c-email' }, h('span', { class: 'email', title: r.email }, ...breakable(r.email)),
        r.isOwner ? h('span', { class: 'tag' }, 'Owner') : null,
        r.email.toLowerCase() === me ? h('span', { class: 'tag' }, 'You') : null),
      h('td', { class: 'c-status' }, h('span', { class: `status s-${r.status}` }, label(STATUS, r.status)),
        r.invitationExpired ? h('span', { class: 'tag tag-warn' }, 'Expired') : null,
        r.emailProblem ? h('span', { class: 'tag tag-bad', 'data-problem': r.emailProblem }, label(EMAIL_PROBLEM, r.emailProblem)) : null),
      h('td', { class: 'c-last' }, h('span', {}, label(LAST_CALL, r.lastCall)),
        r.lastActiveOn ? h('span', { class: 'sub' }, day(r.lastActiveOn)) : null),
      h('td', { class: 'c-role' }, label(ROLE, r.role)),
      h('td', { class: 'c-open' }, h('button', {
        type: 'button', class: 'open-btn', 'aria-label': `Member information: ${r.email}`, title: 'Member information',
        onclick: () => openMember(ctx, r),
      }, '›')));
  }));
  const filtered = state.query.q || filterCount();
  const emptyBox = $('list-empty');
  if (!state.rows.length && !state.loading && $('list-error').hidden) {
    replace(emptyBox, filtered
      ? [h('p', {}, 'No users match this search and these filters.'), h('button', { type: 'button', class: 'btn btn-small', onclick: clearAll }, 'Clear search and filters')]
      : [h('p', {}, 'No users yet.'), h('p', { class: 'muted' }, 'Use Invite more users to add people to the team.')]);
    emptyBox.hidden = false;
  } else {
    emptyBox.hidden = true;
  }
  const shown = state.rows.length;
  let count;
  if (state.total !== undefined) count = `Showing ${num(shown)} of ${plural('user', state.total)}`;
  // A search has no total (the API counts filters, not prefixes): say what is known.
  else count = state.nextCursor ? `Showing the first ${plural('user', shown)} that match; more below` : `${plural('user', shown)} ${shown === 1 ? 'matches' : 'match'}`;
  $('list-count').textContent = shown || state.total ? count : '';
  $('load-more').hidden = !state.nextCursor;
}

function clearAll() {
  $('search').value = '';
  state.query.q = '';
  clearFilters();
}

function renderSelection() {
  const n = state.selected.size;
  $('selection-count').textContent = n ? `${plural('user', n)} selected` : 'Select users to act on several at once.';
  for (const id of ['bulk-remove', 'bulk-role', 'bulk-deactivate', 'bulk-reactivate']) $(id).disabled = n === 0;
  const summary = $('bulk-report').querySelector('summary');
  summary.setAttribute('aria-disabled', String(n === 0));
  if (!n) $('bulk-report').open = false;
  $('selection-clear').hidden = n === 0;
  const all = $('select-all');
  const onPage = state.rows.filter((r) => state.selected.has(r.id)).length;
  all.checked = state.rows.length > 0 && onPage === state.rows.length;
  all.indeterminate = onPage > 0 && onPage < state.rows.length;
  const more = $('select-all-more');
  if (state.allMatching && n) {
    const capped = state.allMatching.capped ? ` (at most ${num(SELECT_ALL_LIMIT)} at a time)` : '';
    replace(more, `All ${plural('user', n)} matching are selected${capped}.`);
    more.hidden = false;
  } else if (state.selecting) {
    more.hidden = false;
  } else if (all.checked && state.nextCursor) {
    let label = 'Select all matching users'; // a search: no total
    if (state.total !== undefined) {
      label = state.total > SELECT_ALL_LIMIT
        ? `Select the first ${num(SELECT_ALL_LIMIT)} of ${plural('user', state.total)}`
        : `Select all ${plural('user', state.total)}`;
    }
    replace(more, `All ${plural('user', state.rows.length)} shown are selected. `,
      h('button', { type: 'button', class: 'link', onclick: selectAllMatching }, label));
    more.hidden = false;
  } else {
    more.hidden = true;
  }
}

// selectAllMatching reads the remaining pages (100 at a time) and selects
// every matching user, up to what one bulk action takes.
async function selectAllMatching() {
  const more = $('select-all-more');
  state.selecting = true;
  replace(more, 'Selecting…');
  const q = state.query;
  let cursor = state.nextCursor;
  const gen = state.gen;
  try {
    while (cursor && state.selected.size < SELECT_ALL_LIMIT) {
      const page = await ctx.api.get(`${ctx.teamPath}/members`, {
        query: { q: q.q, status: q.status, lastCall: q.lastCall, role: q.role, sort: q.sort, order: q.order, limit: 100, cursor },
      });
      if (gen !== state.gen) return;
      for (const r of page.members) if (state.selected.size < SELECT_ALL_LIMIT) state.selected.set(r.id, r);
      cursor = page.nextCursor;
      replace(more, `Selecting… ${plural('user', state.selected.size)}`);
    }
    state.allMatching = { capped: Boolean(cursor) };
    announce(`${state.selected.size} users selected`);
  } catch (err) {
    showError($('bulk-status'), err);
  } finally {
    state.selecting = false;
    renderRows();
    renderSelection();
  }
}

// updateRow shows a member changed in Member information without a reload.
export function updateRow(m) {
  const i = state.rows.findIndex((r) => r.id === m.id);
  if (i < 0) return;
  state.rows[i] = { ...state.rows[i], ...m };
  if (state.selected.has(m.id)) state.selected.set(m.id, state.rows[i]);
  renderRows();
}
