// Small DOM builders. Text always goes in as text (never as HTML), so nothing Coffer shows can run as script.

export function element(tag, text, children = [], attributes = {}) {
  const node = document.createElement(tag);
  if (text !== null && text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

export function table(caption, headings, rows) {
  return element('table', null, [
    element('caption', caption),
    element('thead', null, [element('tr', null, headings.map((h) => element('th', h, [], { scope: 'col' })))]),
    element('tbody', null, rows.map((cells) => element('tr', null, cells.map((c) => element('td', c))))),
  ]);
}
