// /invitations/accept?token=…: where the invitation email leads. The page
// asks for a click before accepting, because mail scanners open links too.
import { $, busy } from './dom.js';
import { ApiError } from './api.js';

const TITLES = { invitation_expired: 'Invitation expired', invalid_token: 'This link no longer works' };

export function showAccept(api) {
  const token = new URLSearchParams(location.search).get('token') || '';
  const result = $('accept-result');
  const button = $('accept-button');
  if (!token) {
    result.textContent = 'This link has no invitation in it. Open the link from your invitation email again, or copy the whole address.';
    result.className = 'error-text';
    button.hidden = true;
    return;
  }
  button.addEventListener('click', async () => {
    const restore = busy(button, 'Accepting…');
    try {
      const m = await api.post('/v1/invitations/accept', { token }, { auth: false });
      // The token is spent: keep it out of the history and of screenshots.
      history.replaceState(null, '', location.pathname);
      $('accept-intro').hidden = true;
      button.hidden = true;
      result.className = 'ok-text';
      result.textContent = `Welcome! ${m.email} has joined the team. Next, download the desktop app and sign in with ${m.email}.`;
    } catch (err) {
      restore();
      const code = err instanceof ApiError ? err.code : '';
      result.dataset.code = code;
      if (code === 'already_accepted') {
        // A second click, or the link opened again: nothing is wrong.
        history.replaceState(null, '', location.pathname);
        $('accept-title').textContent = 'Invitation already accepted';
        $('accept-intro').hidden = true;
        button.hidden = true;
        result.className = 'info-text';
        result.textContent = 'This invitation was already accepted, so you are in the team. Download the desktop app and sign in with the address the invitation was sent to.';
        return;
      }
      if (TITLES[code]) {
        // A dead link: asking again cannot help, so the button goes.
        $('accept-title').textContent = TITLES[code];
        $('accept-intro').hidden = true;
        button.hidden = true;
      }
      result.className = 'error-text';
      result.textContent = err instanceof ApiError ? err.readable : err.message;
    }
  });
}
