// People: users and apps with their roles and groups, the roles (built-in and custom) with their
// permissions, and tokens: the list, a new one (its token shown once, with a copy button) and revoke.
// Each part needs its own permission; a part the caller's role may not read says so. With
// identities.write, users, apps and custom roles are made and changed here too (people-principals.js,
// people-roles.js).
import { api } from '../api.js';
import { can } from '../access.js';
import { button, dangerButton, element, field, problemNote, shownOnce, table, titled } from './dom.js';
import { grant, principals, when } from './people-principals.js';
import { roleList } from './people-roles.js';

export async function renderPeople(view) {
  const mayIdentities = can('identities.read');
  const mayTokens = can('tokens.read');
  const [users, apps, roles, tokens, stores] = await Promise.all([
    mayIdentities ? api('GET', '/users') : null,
    mayIdentities ? api('GET', '/apps') : null,
    mayIdentities ? api('GET', '/roles') : null,
    mayTokens ? api('GET', '/tokens') : null,
    // The key stores a role may be limited to, named; without keystores.read a grant's store shows by its id.
    can('identities.write') && can('keystores.read') ? api('GET', '/keystores') : [],
  ]);
  const refresh = () => renderPeople(view);
  const choices = { roles: roles ?? [], stores };
  const note = problemNote();
  const shown = element('div', null, [], { id: 'new-token' });
  view.replaceChildren(
    element('h1', 'People'),
    part('Users', users && principals('user', users, choices, refresh)),
    part('Apps', apps && principals('app', apps, choices, refresh)),
    part('Roles', roles && roleList(roles, refresh)),
    part('Tokens', tokens && element('div', null, [
      tokenTable(view, tokens, [...(users ?? []), ...(apps ?? [])], note),
      ...(can('tokens.write') ? [tokenForm(view, roles ?? [], [...(users ?? []), ...(apps ?? [])], note)] : []),
      shown,
      note.node,
    ])),
  );
}

function tokenTable(view, tokens, owners, note) {
  const ownerName = Object.fromEntries(owners.map((o) => [o.id, `${o.name} (${o.kind})`]));
  const mayRevoke = can('tokens.write');
  return table('Tokens', ['Name', 'Id', 'Stands for', 'Created', 'Expires', 'State', 'Actions'],
    tokens.map((t) => [t.name, t.id, t.owner ? ownerName[t.owner] ?? t.owner : grant({ role: t.role, keyStoreId: t.keyStoreId }),
      when(t.createdAt), t.expiresAt ? when(t.expiresAt) : 'never', state(t),
      mayRevoke && state(t) === 'valid' ? revokeButton(view, t, note) : '']));
}

function revokeButton(view, token, note) {
  return dangerButton(`Revoke ${token.name}`, `Revoke the token ${token.name}? Every call and console session with it is refused from now on.`, async () => {
    await api('DELETE', `/tokens/${token.id}`);
    await renderPeople(view);
  }, note);
}

/** A token stands either for a user or app (their roles) or for itself, with one role. */
function tokenForm(view, roles, owners, note) {
  const name = field('New token name', 'token-name', { required: '', maxlength: '128' });
  const standsFor = element('select', null, [
    element('optgroup', null, owners.filter((o) => !o.disabledAt).map((o) => element('option', `${o.name} (${o.kind})`, [], { value: `owner:${o.id}` })), { label: 'A user or app' }),
    element('optgroup', null, roles.map((r) => element('option', r.name, [], { value: `role:${r.name}` })), { label: 'Itself, with the role' }),
  ], { id: 'token-for' });
  const days = field('Expires after days (empty: never)', 'token-days', { type: 'number', min: '1' });
  const form = element('form', null, [element('h2', 'New token'), ...name.nodes, element('label', 'Stands for', [], { for: 'token-for' }), standsFor,
    ...days.nodes, button('Create token', 'submit')], { 'aria-label': 'New token' });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const [kind, value] = [standsFor.value.slice(0, standsFor.value.indexOf(':')), standsFor.value.slice(standsFor.value.indexOf(':') + 1)];
    const body = { name: name.input.value, [kind]: value };
    if (days.input.value) body.expiresInDays = Number(days.input.value);
    try {
      const created = await api('POST', '/tokens', body);
      await renderPeople(view);
      view.querySelector('#new-token').replaceChildren(shownOnce('token', `New token ${created.name}`,
        'The token is shown only now; Coffer keeps only its hash. Copy it to where it is used before you leave this page.', 'token', created.token));
      view.querySelector('#token-copy').focus();
    } catch (e) {
      note.show(e);
    }
  });
  return form;
}

/** A part of the page, or why the caller's role does not show it. */
const part = (title, content) => titled(title, content ?? element('p', 'Your role does not show this.', [], { class: 'muted' }));

function state(token) {
  if (token.revokedAt) return 'revoked';
  return token.expiresAt && new Date(token.expiresAt) <= new Date() ? 'expired' : 'valid';
}
