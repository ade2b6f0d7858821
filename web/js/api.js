// The API client: bearer token, an Idempotency-Key on every POST, errors as
// readable messages (problem+json's detail), 429's Retry-After.
import { inWords } from './format.js';

const clock = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

export class ApiError extends Error {
  constructor(status, { code = '', detail = '', title = '' } = {}, retryAfter = 0) {
    super(detail || title || defaultMessage(status));
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter; // seconds; 429 and 503 only
  }

  // The whole sentence an admin reads, with when to retry.
  get readable() {
    if (this.status === 429 && this.retryAfter > 0) {
      // The API's detail may say the wait in seconds; say it in words and as a time.
      const said = this.message.replace(/[;,.]?\s*try again in \d+ seconds?\.?$/i, '.').replace(/\.\.$/, '.');
      const at = new Date(Date.now() + this.retryAfter * 1000);
      return `${said} You can try again ${inWords(this.retryAfter)} (at ${clock.format(at)}).`;
    }
    return this.message;
  }
}

function defaultMessage(status) {
  if (status === 0) return 'Cannot reach the server. Check your connection and try again.';
  if (status === 401) return 'Your session has ended. Sign in again.';
  if (status === 403) return 'You are not allowed to do this.';
  if (status === 404) return 'Not found.';
  if (status === 429) return 'Too many requests.';
  if (status >= 500) return 'Something went wrong on our side; try again.';
  return `The request was refused (${status}).`;
}

// retryAfterSeconds reads Retry-After as seconds or as an HTTP date.
function retryAfterSeconds(value) {
  if (!value) return 0;
  const n = Number(value);
  if (Number.isFinite(n)) return Math.max(0, n);
  const at = Date.parse(value);
  return Number.isNaN(at) ? 0 : Math.max(0, (at - Date.now()) / 1000);
}

export function createApi({ baseUrl = '', getToken, onUnauthorized }) {
  async function send(method, path, { query, json, body, contentType, signal, raw = false, auth = true } = {}) {
    const url = new URL(baseUrl + path, location.origin);
    if (query) {
      for (const [k, v] of Object.entries(query)) {
        for (const one of [v].flat()) if (one !== undefined && one !== null && one !== '') url.searchParams.append(k, one);
      }
    }
    const headers = { Accept: 'application/json, application/problem+json, text/csv' };
    const token = auth && getToken ? getToken() : null;
    if (token) headers.Authorization = `Bearer ${token}`;
    if (json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(json);
    } else if (contentType) {
      headers['Content-Type'] = contentType;
    }
    // One key per action: a retry after a lost answer replays the first
    // answer instead of doing the action twice.
    if (method === 'POST') headers['Idempotency-Key'] = crypto.randomUUID();

    let res;
    for (let attempt = 0; ; attempt++) {
      try {
        res = await fetch(url, { method, headers, body, signal, credentials: 'omit', cache: 'no-store' });
      } catch (err) {
        if (err.name === 'AbortError') throw err;
        if (attempt === 0) continue; // the network blinked: once more, same key
        throw new ApiError(0);
      }
      if ((res.status === 502 || res.status === 504) && attempt === 0) continue;
      break;
    }
    if (!res.ok) {
      let problem = {};
      const type = res.headers.get('Content-Type') || '';
      if (type.includes('json')) problem = await res.json().catch(() => ({}));
      const err = new ApiError(res.status, problem, retryAfterSeconds(res.headers.get('Retry-After')));
      if (res.status === 401 && onUnauthorized) onUnauthorized(err);
      throw err;
    }
    if (raw) return res;
    if (res.status === 204) return null;
    const type = res.headers.get('Content-Type') || '';
    return type.includes('json') ? res.json() : res.text();
  }

  return {
    get: (path, opts) => send('GET', path, opts),
    post: (path, json, opts) => send('POST', path, { ...opts, json }),
    patch: (path, json, opts) => send('PATCH', path, { ...opts, json }),
    del: (path, opts) => send('DELETE', path, opts),
    send,
  };
}
