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
