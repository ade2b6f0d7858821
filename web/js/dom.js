// Small DOM helpers. Every text goes in through textContent, never HTML, so
// an email address or a file's cell can never become markup.

export const $ = (id) => document.getElementById(id);

// h('td', {class: 'x', onclick: fn}, 'text', child, …)
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

// announce tells screen readers what just happened (results of actions).
export function announce(text) {
  const a = $('announcer');
  a.textContent = '';
  // A fresh text node after a tick is announced even when it repeats.
  setTimeout(() => { a.textContent = text; }, 50);
}

export function show(el, yes = true) {
  el.hidden = !yes;
}

// busy marks a button as working and returns a function that restores it.
export function busy(button, label) {
  const before = button.textContent;
  const wasDisabled = button.disabled;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  if (label) button.textContent = label;
  return () => {
    button.textContent = before;
    button.disabled = wasDisabled;
    button.removeAttribute('aria-busy');
  };
}

export function debounce(fn, ms) {
  let t;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}
