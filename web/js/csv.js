// Select users from CSV: upload or drop a file, see which rows matched
// members, which addresses are not in the team and which rows are invalid,
// then act on the matched: Remove from team, Change role, Download report.
import { $, h, replace, announce } from './dom.js';
import { num, plural } from './format.js';
import { ApiError } from './api.js';
import { removeMembers, changeRoles, deactivateMembers, reactivateMembers, downloadReport, emailReport, showError, dismissible } from './bulk.js';
import { CSV_PROBLEM } from './labels.js';

const MAX_BYTES = 5 * 1024 * 1024;
const SHOW = 100; // rows listed per group; the counts are always whole

let matched = []; // [{id, email}]

export function initCsv(ctx) {
  const d = $('csv');
  const input = $('csv-file');
  const drop = $('csv-drop');

  $('csv-open').addEventListener('click', () => {
    reset();
    d.showModal();
    drop.focus();
  });
  $('csv-close').addEventListener('click', () => d.close());
  // The drop zone is a button (a div: a <label> may not take the role):
  // a click, Enter or Space opens the picker.
  drop.addEventListener('click', () => input.click());
  drop.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      input.click();
    }
  });
  input.addEventListener('change', () => {
    if (input.files[0]) upload(ctx, input.files[0]);
  });
  for (const type of ['dragenter', 'dragover']) {
    drop.addEventListener(type, (e) => {
      e.preventDefault();
      drop.classList.add('over');
    });
  }
  for (const type of ['dragleave', 'drop']) drop.addEventListener(type, () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    const f = e.dataTransfer.files[0];
    if (f) upload(ctx, f);
  });

  const result = $('csv-result');
  const after = (res) => {
    if (res) ctx.refresh();
  };
  $('csv-remove').addEventListener('click', async () => after(await removeMembers(ctx, matched, result)));
  $('csv-role').addEventListener('click', async () => after(await changeRoles(ctx, matched, result)));
  $('csv-deactivate').addEventListener('click', async () => after(await deactivateMembers(ctx, matched, result)));
  $('csv-reactivate').addEventListener('click', async () => after(await reactivateMembers(ctx, matched, result)));
  $('csv-download').addEventListener('click', () => downloadReport(ctx, matched, result));
  $('csv-email').addEventListener('click', () => emailReport(ctx, matched, result));
}

function reset() {
  matched = [];
  $('csv-file').value = '';
  $('csv-file-name').textContent = '';
  replace($('csv-status'));
  replace($('csv-preview'));
  replace($('csv-result'));
  $('csv-preview').hidden = true;
  $('csv-actions').hidden = true;
}

async function upload(ctx, file) {
  reset();
  $('csv-file-name').textContent = `${file.name} (${num(Math.ceil(file.size / 1024))} KB)`;
  const status = $('csv-status');
  if (file.size > MAX_BYTES) {
    refused(status, new ApiError(413, { code: 'file_too_large', detail: 'The file is over 5 MB; split it and upload the parts.' }));
    return;
  }
  replace(status, h('p', { class: 'progress' }, `Reading ${file.name}…`));
  try {
    // The file as it is: the API reads the encoding (UTF-8, UTF-16 with a
    // BOM, Windows-1252), the delimiter, and refuses what is not text.
    const res = await ctx.api.send('POST', `${ctx.teamPath}/members/csv-selection`, { body: file, contentType: await bodyType(file) });
    preview(res);
  } catch (err) {
    refused(status, err);
  }
}

// bodyType is text/csv for a file in UTF-8, the most a 5 MB file can be
// sent as (API Gateway hands text to the function as it is); anything else
// (UTF-16, Windows-1252, a spreadsheet picked by mistake) goes as
// application/octet-stream, which API Gateway passes base64-encoded, byte
// for byte, rather than as text it might re-encode.
async function bodyType(file) {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(await file.arrayBuffer());
    return 'text/csv';
  } catch {
    return 'application/octet-stream';
  }
}

// refused explains a file the API refused whole (415 not_csv, 400
// no_email_column, 413): a heading, then the API's explanation of what to do.
function refused(status, err) {
  if (!(err instanceof ApiError) || !(err.code in CSV_PROBLEM)) {
    showError(status, err);
    return;
  }
  replace(status, dismissible(h('div', { class: 'result result-bad', role: 'alert', 'data-result': 'error', dataset: { code: err.code } },
    h('p', {}, h('strong', {}, CSV_PROBLEM[err.code])), h('p', {}, err.readable))));
  announce(`${CSV_PROBLEM[err.code]}. ${err.readable}`);
}

function preview(res) {
  matched = res.matched.map((m) => ({ id: m.memberId, email: m.email }));
  const nm = res.matched.length;
  const nf = res.notFound.length;
  const ni = res.invalid.length;
  if (nm + nf + ni === 0) {
    // An empty file, or a header alone: say so, not "0 matched" and three "None."
    const text = 'The file has no addresses: it is empty, or holds a header row alone. Add a column of email addresses and upload it again.';
    replace($('csv-status'), dismissible(h('div', { class: 'result result-bad', role: 'alert', 'data-result': 'empty' }, h('p', {}, text))));
    announce(text);
    $('csv-preview').hidden = true;
    $('csv-actions').hidden = true;
    return;
  }
  replace($('csv-status'), h('p', { class: 'result-line', 'data-result': 'csv' },
    h('strong', {}, `${num(nm)} matched`), ` · ${num(nf)} not in the team · ${plural('invalid row', ni)}`));
  announce(`${nm} matched, ${nf} not in the team, ${ni} invalid rows`);
  const group = (title, rows, cols, open) => h('details', { class: 'csv-group', open },
    h('summary', {}, `${title} (${num(rows.length)})`),
    rows.length
      ? h('table', { class: 'mini' },
        h('thead', {}, h('tr', {}, cols.map(([name]) => h('th', { scope: 'col' }, name)))),
        h('tbody', {}, rows.slice(0, SHOW).map((r) => h('tr', {}, cols.map(([, key]) => h('td', {}, String(r[key] ?? '')))))))
      : h('p', { class: 'muted small' }, 'None.'),
    rows.length > SHOW ? h('p', { class: 'muted small' }, `and ${num(rows.length - SHOW)} more`) : null);
  replace($('csv-preview'),
    group('Matched', res.matched, [['Row', 'row'], ['Email', 'email']], true),
    group('Not in the team', res.notFound, [['Row', 'row'], ['Email', 'email']], nm === 0),
    group('Invalid rows', res.invalid, [['Row', 'row'], ['Value', 'value'], ['Why', 'reason']], nm === 0));
  $('csv-preview').hidden = false;
  $('csv-actions').hidden = nm === 0;
  $('csv-actions-label').textContent = `With the ${plural('matched user', nm)}:`;
}
