// People page: roles. The built-in ones are fixed; with identities.write a custom role is created or
// replaced from permissions (PUT /roles/{name}) and deleted (DELETE), as `coffer role set|delete` do.
import { api } from '../api.js';
import { can } from '../access.js';
import { button, dangerButton, editorForm, element, field, openIn, problemNote, table } from './dom.js';

/** The roles with their permissions, and for a caller with identities.write the custom roles' controls. */
export function roleList(roles, refresh) {
  const mayWrite = can('identities.write');
  const editor = element('div');
  const note = problemNote();
  // Administrator holds every permission, so the built-in roles name them all: no second list to keep here.
  const permissions = [...new Set(roles.filter((r) => r.builtIn).flatMap((r) => r.permissions))].sort();
  const edit = (role) => openIn(editor, roleForm(role, permissions, roles.map((r) => r.name), refresh));
  const listing = table('Roles and their permissions', ['Role', 'Kind', 'Description', 'Permissions', ...(mayWrite ? ['Actions'] : [])],
    roles.map((r) => [r.name, r.builtIn ? 'built-in' : 'custom', r.description || '—', r.permissions.join(', '),
      ...(mayWrite ? [r.builtIn ? '' : actions(r, () => edit(r), note, refresh)] : [])]));
  if (!mayWrite) return listing;
  const add = button('New role');
  add.addEventListener('click', () => edit(null));
  return element('div', null, [listing, add, note.node, editor]);
}

function actions(role, edit, note, refresh) {
  const change = button(`Edit ${role.name}`);
  change.addEventListener('click', edit);
  const remove = dangerButton(`Delete ${role.name}`, `Delete the custom role ${role.name}? Coffer refuses while a user, app or token holds it.`, async () => {
    await api('DELETE', `/roles/${encodeURIComponent(role.name)}`);
    await refresh();
  }, note);
  return element('span', null, [change, remove], { class: 'actions' });
}

/** A new custom role (`existing` null) or an existing one's description and permissions; its name is its address. */
function roleForm(existing, permissions, taken, refresh) {
  const name = existing ? null : field('Role name (a-z, 0-9 and -)', 'role-form-name', { required: '', maxlength: '64' });
  const description = field('Description', 'role-form-description', { maxlength: '256', value: existing?.description ?? '' });
  const held = new Set(existing?.permissions ?? []);
  const boxes = permissions.map((p) => element('input', null, [], { type: 'checkbox', value: p, id: `role-form-permission-${p}`, ...(held.has(p) ? { checked: '' } : {}) }));
  return editorForm(existing ? `Edit role ${existing.name}` : 'New role', 'Save role', [
    ...(name?.nodes ?? []), ...description.nodes,
    element('fieldset', null, [element('legend', 'Permissions'), ...boxes.map((box) => element('label', null, [box, ` ${box.value}`]))], { class: 'permissions' }),
    ...(existing ? [element('p', 'Everyone holding the role gets the change on their next call.', [], { class: 'hint' })] : []),
  ], async () => {
    const roleName = existing ? existing.name : name.input.value;
    // PUT replaces a role of that name: a new one must not overwrite another by accident.
    if (!existing && taken.includes(roleName)) {
      throw new Error(`A role named ${roleName} exists already; choose another name, or edit ${roleName} in the list.`);
    }
    await api('PUT', `/roles/${encodeURIComponent(roleName)}`,
      { description: description.input.value, permissions: boxes.filter((b) => b.checked).map((b) => b.value) });
    await refresh();
  });
}
