// Signing in.
//
// Deployed: OpenID Connect authorization code flow with PKCE against the
// issuer in config.json (the API's JwtIssuer, e.g. a Cognito user pool with
// its hosted UI); the page is a public client, so no secret. The ID token is
// the bearer: the API reads the caller's `email` claim, which Cognito puts in
// ID tokens only.
//
// Locally: any email gets a token from the local gateway's development route.
//
// The token lives in sessionStorage: it survives a reload of the tab but not
// the tab itself, is not shared with other tabs or kept after the browser
// closes, and is never sent automatically the way a cookie is (no CSRF).
// localStorage would keep it on disk for weeks; memory alone would sign the
// admin out on every reload.

const SESSION = 'usersapi.session';
const PENDING = 'usersapi.oidc';

export function decodeJwt(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0)));
    return JSON.parse(json);
  } catch {
    return null;
  }
}

// session is the signed-in admin, or null when there is none or it expired.
export function session() {
  let s;
  try {
    s = JSON.parse(sessionStorage.getItem(SESSION) || 'null');
  } catch {
    s = null;
  }
  if (!s || !s.token) return null;
  if (s.exp && s.exp * 1000 < Date.now() + 30_000) {
    sessionStorage.removeItem(SESSION);
    return null;
  }
  return s;
}

function keep(token) {
  const claims = decodeJwt(token) || {};
  const s = { token, email: claims.email || '', exp: claims.exp || 0 };
  sessionStorage.setItem(SESSION, JSON.stringify(s));
  return s;
}

export function forget() {
  sessionStorage.removeItem(SESSION);
}

// localSignIn asks the local gateway for a token.
export async function localSignIn(config, email) {
  const res = await fetch(config.auth.tokenUrl || '/_local/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': crypto.randomUUID() },
    body: JSON.stringify({ email }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.detail || 'Could not sign in.');
  return keep(body.token);
}

function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString() {
  return b64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function discovery(issuer) {
  const res = await fetch(issuer.replace(/\/$/, '') + '/.well-known/openid-configuration');
  if (!res.ok) throw new Error('The sign-in service did not answer; try again later.');
  return res.json();
}

function redirectUri(config) {
  return config.auth.redirectUri || location.origin + '/';
}

// startSignIn sends the browser to the identity provider.
export async function startSignIn(config) {
  const d = await discovery(config.auth.issuer);
  const verifier = randomString();
  const state = randomString();
  const nonce = randomString();
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, nonce, back: location.pathname + location.search }));
  const u = new URL(d.authorization_endpoint);
  u.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.auth.clientId,
    redirect_uri: redirectUri(config),
    scope: config.auth.scope || 'openid email',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  }).toString();
  location.assign(u.toString());
}

// finishSignIn completes a redirect back from the identity provider, if
// this page load is one. It returns the session, or null.
export async function finishSignIn(config) {
  const params = new URLSearchParams(location.search);
  if (config.auth?.kind !== 'oidc' || (!params.has('code') && !params.has('error'))) return null;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', pending?.back || '/');
  if (params.has('error')) throw new Error(params.get('error_description') || 'Sign-in was cancelled.');
  if (!pending || params.get('state') !== pending.state) throw new Error('That sign-in link is stale; sign in again.');
  const d = await discovery(config.auth.issuer);
  const res = await fetch(d.token_endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code'),
      redirect_uri: redirectUri(config),
      client_id: config.auth.clientId,
      code_verifier: pending.verifier,
    }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok || !body.id_token) throw new Error(body.error_description || 'Sign-in failed; try again.');
  const claims = decodeJwt(body.id_token);
  if (!claims || claims.nonce !== pending.nonce) throw new Error('Sign-in failed (the answer was not for this page); try again.');
  return keep(body.id_token);
}

// signOut forgets the token and, deployed, ends the provider's session too.
export async function signOut(config) {
  forget();
  if (config.auth?.kind !== 'oidc') return false;
  let end = config.auth.logoutUrl; // Cognito: https://<domain>/logout?client_id=…&logout_uri=…
  if (!end) {
    try {
      end = (await discovery(config.auth.issuer)).end_session_endpoint;
    } catch {
      end = '';
    }
  }
  if (!end) return false;
  const u = new URL(end);
  if (!u.searchParams.has('client_id')) u.searchParams.set('client_id', config.auth.clientId);
  if (!u.searchParams.has('logout_uri') && !u.searchParams.has('post_logout_redirect_uri')) {
    u.searchParams.set('post_logout_redirect_uri', location.origin + '/');
  }
  location.assign(u.toString());
  return true;
}
