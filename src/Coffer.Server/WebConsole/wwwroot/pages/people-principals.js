// People page: users and apps. The list, and for a caller with identities.write a form that creates one
// (POST /users, /apps) or replaces one's name, roles and groups (PUT /users/{id}), and Disable, which is
// final (POST …/disable). The same calls as `coffer user|app create|set|disable`.
import { api } from '../api.js';
import { can } from '../access.js';
import { button, dangerButton, editorForm, element, field, openIn, problemNote, table } from './dom.js';

/**
 * The users (kind 'user') or apps ('app') with their controls. `choices` holds what a grant may name:
 * the roles and the key stores the caller can see; `refresh` paints the page again after a change.
 */
export function principals(kind, list, choices, refresh) {
  const mayWrite = can('identities.write');
  const editor = element('div');
  const note = problemNote();
  const listing = list.length === 0 ? element('p', `No ${kind}s yet.`, [], { class: 'muted' })
    : table(kind === 'user' ? 'Users' : 'Apps', ['Name', 'Id', 'Roles', 'Groups', 'Created', 'State', ...(mayWrite ? ['Actions'] : [])],
      list.map((p) => [p.name, p.id, p.roles.map(grant).join(', ') || '—', p.groups.join(', ') || '—', when(p.createdAt),
        p.disabledAt ? `disabled ${when(p.disabledAt)}` : 'enabled',
        ...(mayWrite ? [p.disabledAt ? '' : actions(kind, p, () => openIn(editor, principalForm(kind, p, choices, refresh)), note, refresh)] : [])]));
  if (!mayWrite) return listing;
  const add = button(`New ${kind}`);
  add.addEventListener('click', () => openIn(editor, principalForm(kind, null, choices, refresh)));
  return element('div', null, [listing, add, note.node, editor]);
}

/** A grant as the lists show it: the role, and `@` the key store it is limited to. */
export const grant = (g) => (g.keyStoreId ? `${g.role}@${g.keyStoreId}` : g.role);

export const when = (time) => new Date(time).toLocaleString();

function actions(kind, principal, edit, note, refresh) {
  const change = button(`Edit ${principal.name}`);
  change.addEventListener('click', edit);
  const disable = dangerButton(`Disable ${principal.name}`, `Disable the ${kind} ${principal.name} (${principal.id})? ${principal.name} loses access `
    + 'for good: its tokens are revoked and every call and console session with them is refused. This cannot be undone.', async () => {
    await api('POST', `/${kind}s/${principal.id}/disable`);
    await refresh();
  }, note);
  return element('span', null, [change, disable], { class: 'actions' });
}

/** A new user or app (`existing` null), or the whole of an existing one to replace: PUT takes every field. */
function principalForm(kind, existing, choices, refresh) {
  const id = `${kind}-form`;
  const name = field('Name', `${id}-name`, { required: '', maxlength: '128', value: existing?.name ?? '' });
  // Sent again on a change, since PUT replaces the whole user: leaving it out would clear it.
  const subject = kind === 'user' ? field('Identity provider subject (its sub claim; optional)', `${id}-subject`, { maxlength: '255', value: existing?.oidcSubject ?? '' }) : null;
  const grants = grantRows(id, choices, existing ? existing.roles : [{ role: choices.roles[0]?.name }]);
  const groups = field('Groups (comma separated)', `${id}-groups`, { value: existing?.groups.join(', ') ?? '' });
  return editorForm(existing ? `Edit ${kind} ${existing.name}` : `New ${kind}`, existing ? `Save ${kind}` : `Create ${kind}`,
    [...name.nodes, ...(subject?.nodes ?? []), grants.node, ...groups.nodes], async () => {
      const body = { name: name.input.value, roles: grants.value(), groups: groups.input.value.split(',').map((g) => g.trim()).filter(Boolean) };
      if (subject?.input.value) body.oidcSubject = subject.input.value;
      await (existing ? api('PUT', `/${kind}s/${existing.id}`, body) : api('POST', `/${kind}s`, body));
      await refresh();
    });
}

/** The roles of a user or app, one row each: a role, and every key store or the one it is limited to
 *  (the API's { role, keyStoreId }). A key store the caller cannot list still shows, by its id. */
function grantRows(id, { roles, stores }, initial) {
  const known = new Set(stores.map((s) => s.id));
  const storeChoices = [...stores.map((s) => [s.id, s.name]), ...initial.filter((g) => g.keyStoreId && !known.has(g.keyStoreId)).map((g) => [g.keyStoreId, g.keyStoreId])];
  const rows = element('div');
  const add = button('Add a role');
  let made = 0;
  const row = (g) => {
    const n = ++made;
    const role = element('select', null, roles.map((r) => element('option', r.name, [], { value: r.name })), { id: `${id}-role-${n}` });
    const store = element('select', null, [element('option', 'Every key store', [], { value: '' }),
      ...storeChoices.map(([value, label]) => element('option', label, [], { value }))], { id: `${id}-store-${n}` });
    role.value = g.role ?? '';
    store.value = g.keyStoreId ?? '';
    const remove = button(`Remove role ${n}`);
    const line = element('div', null, [element('label', `Role ${n}`, [], { for: role.id }), role,
      element('label', `Key store for role ${n}`, [], { for: store.id }), store, remove], { class: 'grant' });
    remove.addEventListener('click', () => {
      line.remove();
      add.focus();
    });
    rows.append(line);
    return role;
  };
  add.addEventListener('click', () => row({ role: roles[0]?.name }).focus());
  initial.forEach(row);
  return {
    node: element('fieldset', null, [element('legend', 'Roles'), rows, add]),
    value: () => [...rows.children].map((line) => {
      const [role, store] = line.querySelectorAll('select');
      return store.value ? { role: role.value, keyStoreId: store.value } : { role: role.value };
    }),
  };
}
