// The Users page: reads config.json, signs the admin in, finds the team,
// then shows Sections 1–3. /invitations/accept shows the accept screen.
import { $, replace } from './dom.js';
import { createApi, ApiError } from './api.js';
import { session, localSignIn, startSignIn, finishSignIn, signOut, forget } from './auth.js';
import { showAccept } from './accept.js';
import { initSummary, loadSummary, skeletonSummary } from './summary.js';
import { initInvite } from './invite.js';
import { initList, reload, updateRow } from './list.js';
import { initCsv } from './csv.js';
import { initMember } from './member.js';

const VIEWS = ['loading', 'signin', 'team-id', 'error', 'accept', 'users'];

function showView(name) {
  for (const v of VIEWS) $(`view-${v}`).hidden = v !== name;
}

async function loadConfig() {
  const res = await fetch('/config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error('The page could not load its settings (config.json).');
  return res.json();
}

const ERROR_TITLES = {
  0: 'Cannot reach the server',
  401: 'Please sign in again',
  403: 'You cannot open this team',
  404: 'No such team',
  429: 'Too many requests',
};

function errorView(config, err) {
  showView('error');
  $('error-title').textContent = ERROR_TITLES[err.status] || 'Something went wrong';
  $('error-detail').textContent = err instanceof ApiError ? err.readable : err.message;
  $('error-retry').onclick = () => location.reload();
  $('error-signout').hidden = !session();
  $('error-signout').onclick = async () => {
    if (!(await signOut(config))) signInView(config);
  };
}

function signInView(config, note = '') {
  forget();
  showView('signin');
  showWho(null);
  $('signin-note').hidden = !note;
  $('signin-note').textContent = note;
  if (config.auth?.kind === 'oidc') {
    $('signin-oidc').hidden = false;
    $('signin-oidc-button').onclick = () => startSignIn(config).catch((err) => errorView(config, err));
    $('signin-oidc-button').focus();
    return;
  }
  const form = $('signin-local');
  form.hidden = false;
  $('signin-email').focus();
  form.onsubmit = async (e) => {
    e.preventDefault();
    const err = $('signin-error');
    err.hidden = true;
    try {
      const s = await localSignIn(config, $('signin-email').value.trim());
      await openUsers(config, s);
    } catch (error) {
      err.textContent = error.message;
      err.hidden = false;
    }
  };
}

// chooseTeam opens the team from GET /v1/me: the one in the address if the
// caller administers it, else the first pro team they administer.
async function chooseTeam(api) {
  const wanted = new URLSearchParams(location.search).get('team');
  let me;
  try {
    me = await api.get('/v1/me');
  } catch (err) {
    // until #9: no GET /v1/me yet; the team comes from ?team= or is asked for.
    if (err.status === 404 && err.code === 'route_not_found') return { teamId: wanted, teams: [] };
    throw err;
  }
  const admin = (me.teams || []).filter((t) => t.role === 'admin' && t.status !== 'invitation_sent' && t.status !== 'deactivated');
  if (!admin.length) {
    throw new Error(me.teams?.length
      ? 'You are not an admin of any team. The Users page is for team admins; ask an admin of your team.'
      : 'Your account does not belong to a team yet. Accept an invitation first.');
  }
  const pick = admin.find((t) => t.teamId === wanted) || admin.find((t) => t.plan === 'pro') || admin[0];
  return { teamId: pick.teamId, name: pick.name, teams: admin };
}

function teamSwitcher(teams, current) {
  const sel = $('team-select');
  replace(sel, teams.map((t) => Object.assign(document.createElement('option'), { value: t.teamId, textContent: t.name || t.teamId, selected: t.teamId === current })));
  $('team-switch').hidden = teams.length < 2;
  sel.onchange = () => {
    const p = new URLSearchParams({ team: sel.value });
    location.assign(`/?${p}`);
  };
}

let started = false;

async function openUsers(config, s) {
  // Signed in again after the session ended: start afresh for this account.
  if (started) return location.reload();
  showWho(s);
  $('sign-out').onclick = async () => {
    if (!(await signOut(config))) signInView(config, 'You signed out.');
  };
  const api = createApi({
    baseUrl: (config.apiUrl || '').replace(/\/$/, ''),
    getToken: () => session()?.token,
    onUnauthorized: () => signInView(config, 'Your session has ended. Sign in again.'),
  });
  showView('loading');
  let team;
  try {
    team = await chooseTeam(api);
  } catch (err) {
    if (err.status !== 401) errorView(config, err);
    return;
  }
  if (!team.teamId) {
    // until #9: ask for the team id.
    showView('team-id');
    $('team-id-form').onsubmit = (e) => {
      e.preventDefault();
      location.assign(`/?${new URLSearchParams({ team: $('team-id-input').value.trim() })}`);
    };
    $('team-id-input').focus();
    return;
  }
  const ctx = {
    api,
    config,
    email: s.email,
    teamId: team.teamId,
    teamPath: `/v1/teams/${encodeURIComponent(team.teamId)}`,
    setTeamName(name) {
      $('team-name').textContent = name;
      document.title = `Users · ${name} · Admin Portal`;
    },
    refresh() {
      loadSummary(ctx).catch(() => {});
      reload();
    },
    updateRow,
  };
  ctx.setTeamName(team.name || team.teamId);
  teamSwitcher(team.teams, team.teamId);
  started = true;
  showView('users');
  skeletonSummary();
  initSummary(ctx);
  initInvite(ctx);
  initList(ctx);
  initCsv(ctx);
  initMember(ctx);
  const list = reload();
  try {
    await loadSummary(ctx);
  } catch (err) {
    // No access to the team (not an admin, not pro, no such team): the
    // whole page says why.
    if (err.status !== 401) errorView(config, err);
  }
  await list;
}

// showWho fills the header's right side as early as possible, so it does
// not move once the page has painted.
function showWho(s) {
  $('who').textContent = s?.email || '';
  $('sign-out').classList.toggle('invisible', !s);
}

async function boot() {
  showWho(session());
  let config;
  try {
    config = await loadConfig();
  } catch (err) {
    errorView({}, err);
    return;
  }
  if (location.pathname === '/invitations/accept') {
    showView('accept');
    showAccept(createApi({ baseUrl: (config.apiUrl || '').replace(/\/$/, '') }));
    return;
  }
  let s;
  try {
    s = (await finishSignIn(config)) || session();
  } catch (err) {
    signInView(config, err.message);
    return;
  }
  if (!s) {
    signInView(config);
    return;
  }
  await openUsers(config, s);
}

boot();
