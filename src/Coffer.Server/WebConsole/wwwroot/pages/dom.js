// Small DOM builders. Text always goes in as text (never as HTML), so nothing Coffer shows can run as script.

export function element(tag, text, children = [], attributes = {}) {
  const node = document.createElement(tag);
  if (text !== null && text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** A table with a caption (its accessible name); a cell is text or a node. */
export function table(caption, headings, rows) {
  return element('table', null, [
    element('caption', caption),
    element('thead', null, [element('tr', null, headings.map((h) => element('th', h, [], { scope: 'col' })))]),
    element('tbody', null, rows.map((cells) => element('tr', null, cells.map((c) => (c instanceof Node ? element('td', null, [c]) : element('td', c)))))),
  ]);
}

export function link(href, text, attributes = {}) {
  return element('a', text, [], { href, ...attributes });
}

export function button(text, type = 'button', attributes = {}) {
  return element('button', text, [], { type, ...attributes });
}

/** A labelled input; its error message, when the server names this field, appears right under it. */
export function field(label, id, attributes = {}) {
  const input = element('input', null, [], { id, name: id, ...attributes });
  return { input, nodes: [element('label', label, [], { for: id }), input] };
}

/** Where a refused call's problem is told, as an alert. */
export function problemNote() {
  const node = element('p', null, [], { class: 'error', role: 'alert' });
  return { node, show: (e) => { node.textContent = e.message; } };
}

/** A call a quorum policy holds: it runs once enough approvers agree. */
export function waitingForApproval(request) {
  return element('p', null, [
    `Waiting for approval: ${request.approvals} of ${request.requiredApprovals} from ${request.approverGroup}, until ${new Date(request.expiresAt).toLocaleString()}. `,
    link(`#/approvals/${request.id}`, `See request ${request.id}`),
  ], { class: 'pending', role: 'status' });
}

/** A section named by its h2 title. */
export function titled(title, content) {
  const id = 'part-' + title.toLowerCase().replace(/[^a-z]+/g, '-');
  return element('section', null, [element('h2', title, [], { id }), content], { 'aria-labelledby': id });
}

/** A new secret (a token, a signing secret) shown this once under a warning, with a copy button
 *  (`#<id>-copy`, for the page to focus). The page keeps it nowhere: a reload and it is gone. */
export function shownOnce(id, title, warning, what, secret) {
  const copy = button(`Copy ${what}`, 'button', { id: `${id}-copy` });
  copy.addEventListener('click', async () => {
    await navigator.clipboard.writeText(secret);
    copy.textContent = 'Copied';
  });
  return element('section', null, [
    element('h2', title, [], { id: `${id}-title` }),
    element('p', warning, [], { class: 'warning' }),
    element('p', secret, [], { id: `${id}-secret`, class: 'secret' }),
    copy,
  ], { 'aria-labelledby': `${id}-title` });
}

/** Saves a downloaded Blob as a file through an <a download>: the browser's own save, and nothing in an address. */
export function saveFile(blob, name) {
  const url = URL.createObjectURL(blob);
  element('a', null, [], { href: url, download: name }).click();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/** A form that opens in place (a new thing, or a change to one): its title, fields, a submit button and
 *  Cancel, and a problem note where a refused `submit()` is told. */
export function editorForm(title, submitLabel, fields, submit) {
  const note = problemNote();
  const form = element('form', null, [element('h3', title), ...fields,
    element('span', null, [button(submitLabel, 'submit'), button('Cancel', 'reset')], { class: 'actions' }), note.node],
  { 'aria-label': title, class: 'editor' });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await submit();
    } catch (e) {
      note.show(e);
    }
  });
  return form;
}

/** Shows an editorForm in `place`, focused on its first field; Cancel closes it and gives the focus back
 *  to the control that opened it. */
export function openIn(place, form) {
  const opener = document.activeElement;
  form.addEventListener('reset', () => {
    form.remove();
    opener?.focus();
  });
  place.replaceChildren(form);
  form.querySelector('input, select').focus();
}

/** A button for a change that cannot be taken back: it asks `question` first, then runs `act`; a
 *  refusal is told in `note`. */
export function dangerButton(text, question, act, note) {
  const danger = button(text, 'button', { class: 'danger' });
  danger.addEventListener('click', async () => {
    if (!confirm(question)) return;
    try {
      await act();
    } catch (e) {
      note.show(e);
    }
  });
  return danger;
}
