// Confirmation and role dialogs: native <dialog>, so focus stays inside,
// Escape cancels and focus returns to the button that opened it.
import { $, replace } from './dom.js';

// confirm asks before a destructive or mass action; resolves true or false.
export function confirm({ title, body, ok, danger = false }) {
  const d = $('confirm');
  replace($('confirm-title'), title);
  replace($('confirm-body'), ...[body].flat().map((p) => (p instanceof Node ? p : Object.assign(document.createElement('p'), { textContent: p }))));
  const okButton = $('confirm-ok');
  okButton.textContent = ok;
  okButton.classList.toggle('btn-danger', danger);
  okButton.classList.toggle('btn-primary', !danger);
  d.returnValue = 'cancel';
  return new Promise((resolve) => {
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
    d.showModal();
    // The safe choice has the focus: Enter on a destructive dialog cancels.
    (danger ? $('confirm-cancel') : okButton).focus();
  });
}

// chooseRole asks which role to give; resolves 'user', 'admin' or null.
export function chooseRole(text) {
  const d = $('role');
  $('role-body').textContent = text;
  d.returnValue = 'cancel';
  return new Promise((resolve) => {
    d.addEventListener('close', () => {
      if (d.returnValue !== 'ok') return resolve(null);
      resolve(d.querySelector('input[name=role]:checked').value);
    }, { once: true });
    d.showModal();
  });
}

// Menus are <details>: Escape and a click elsewhere close them.
export function closeMenus(except) {
  for (const m of document.querySelectorAll('details.menu[open]')) if (m !== except) m.open = false;
}

document.addEventListener('click', (e) => {
  closeMenus(e.target.closest('details.menu'));
  if (e.target.closest('.menu-item')) closeMenus();
});
document.addEventListener('keydown', (e) => {
  if (e.key !== 'Escape') return;
  const open = document.querySelector('details.menu[open]');
  if (open) {
    open.open = false;
    open.querySelector('summary').focus();
  }
});
