// The Users page: reads config.json, signs the admin in, finds the team,
// then shows Sections 1–3. /invitations/accept shows the accept screen.
import { $, h, replace } from './dom.js';
import { createApi, ApiError } from './api.js';
import { session, localSignIn, startSignIn, finishSignIn, signOut, forget } from './auth.js';
import { showAccept } from './accept.js';
import { initSummary, loadSummary, skeletonSummary } from './summary.js';
import { initInvite } from './invite.js';
import { initList, reload, updateRow } from './list.js';
import { initCsv } from './csv.js';
import { initMember } from './member.js';
import { initSettings } from './settings.js';

const VIEWS = ['loading', 'signin', 'error', 'accept', 'users'];

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
  $('error-title').textContent = err.title || ERROR_TITLES[err.status] || 'Something went wrong';
  $('error-detail').textContent = err instanceof ApiError ? err.readable : err.message;
  // "Try again" only where trying again can help: not for a caller whose
  // access explains the page (a user, an invitee, a deactivated member).
  $('error-retry').hidden = err instanceof PageError;
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

// PageError is a whole-page message with its own title: why the page
// cannot show a team to this caller.
let visibleCtx = null; // the team shown, for a refresh when the tab is back

class PageError extends Error {
  constructor(title, message) {
    super(message);
    this.title = title;
  }
}

const names = (teams) => new Intl.ListFormat('en', { type: 'conjunction' }).format(teams.map((t) => t.name || t.teamId));

// joined: a member of the team, not only invited to it.
const joined = (t) => t.status !== 'invitation_sent';
// active: joined and not deactivated (a deactivated admin cannot use the page).
const active = (t) => joined(t) && t.status !== 'deactivated';

// notAdmin says, from GET /v1/me, why a caller who administers no team has
// no Users page, and what to do about it.
function notAdmin(me) {
  const teams = me.teams || [];
  const member = teams.filter(active);
  const invited = teams.filter((t) => !joined(t));
  const off = teams.filter((t) => t.status === 'deactivated');
  if (member.length) {
    return new PageError('The Users page is for team admins',
      `You are a user of ${names(member)}, not an admin, so you cannot manage ${member.length > 1 ? 'their' : 'its'} users. An admin of the team can make you an admin if you need to.`);
  }
  if (off.length) {
    return new PageError('Your access is turned off',
      `Your access to ${names(off)} has been turned off (deactivated). Ask an admin of the team to reactivate you.`);
  }
  if (invited.length) {
    return new PageError('Accept your invitation first',
      `You are invited to ${names(invited)}. Open the link in the invitation email to join the team, then sign in here again.`);
  }
  return new PageError('No team yet',
    `${me.email || 'Your account'} does not belong to any team. Ask an admin of your team to invite this address.`);
}

// chooseTeam opens a team from GET /v1/me: the one in the address if the
// caller administers it, else the first pro team they administer (teams
// come sorted by name), else the first they administer (its summary then
// says why it cannot be opened).
async function chooseTeam(api) {
  const wanted = new URLSearchParams(location.search).get('team');
  const me = await api.get('/v1/me');
  const admin = (me.teams || []).filter((t) => active(t) && t.role === 'admin');
  if (!admin.length) throw notAdmin(me);
  const pick = admin.find((t) => t.teamId === wanted) || admin.find((t) => t.plan === 'pro') || admin[0];
  return { teamId: pick.teamId, name: pick.name || pick.teamId, teams: admin, notYours: wanted && wanted !== pick.teamId };
}

// teamSwitcher replaces the team's name in the header with a menu of the
// teams the caller administers, when there are several.
function teamSwitcher(teams, current) {
  const sel = $('team-select');
  const several = teams.length > 1;
  replace(sel, teams.map((t) => h('option', { value: t.teamId, selected: t.teamId === current },
    t.plan === 'pro' ? t.name || t.teamId : `${t.name || t.teamId} (${t.plan} plan)`)));
  $('team-switch').hidden = !several;
  $('team-name').hidden = several;
  sel.onchange = () => location.assign(`/?${new URLSearchParams({ team: sel.value })}`);
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
    // refresh reloads the counters and the list; it resolves when the
    // counters are fresh.
    refresh() {
      const fresh = loadSummary(ctx).catch(() => {});
      reload();
      return fresh;
    },
    updateRow,
  };
  ctx.setTeamName(team.name);
  // Back to the tab: the counters are read again (and marked old if the
  // API cannot be reached), the list stays where the admin left it.
  if (!visibleCtx) {
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') loadSummary(visibleCtx).catch(() => {});
    });
  }
  visibleCtx = ctx;
  teamSwitcher(team.teams, team.teamId);
  // A link to a team this admin does not administer opens theirs instead.
  $('team-note').hidden = !team.notYours;
  $('team-note').textContent = team.notYours ? `You are not an admin of the team in the link, so your team ${team.name} is shown.` : '';
  started = true;
  showView('users');
  skeletonSummary();
  initSummary(ctx);
  initInvite(ctx);
  initList(ctx);
  initCsv(ctx);
  initMember(ctx);
  initSettings(ctx);
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
