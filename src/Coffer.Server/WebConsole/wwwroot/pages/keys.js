// Keys: a filtered, paged list; a key's page with its versions and their states; create, rotate,
// enable and disable. Destruction, rotation policy and dates come next (docs/console.md).
import { api } from '../api.js';
import { can } from '../access.js';
import { button, element, field, link, problemNote, table, waitingForApproval } from './dom.js';

export async function renderKeys(view, id) {
  if (id) return renderKey(view, id);
  const stores = await api('GET', '/keystores');
  const query = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const filters = filterForm(stores, query);
  const params = new URLSearchParams({ limit: '50' });
  for (const name of ['keystore', 'q', 'enabled', 'after']) if (query.get(name)) params.set(name, query.get(name));
  const page = await api('GET', `/keys?${params}`);
  const storeName = Object.fromEntries(stores.map((s) => [s.id, s.name]));
  const next = new URLSearchParams(query);
  if (page.next) next.set('after', page.next);
  view.replaceChildren(
    element('h1', 'Keys'),
    filters,
    page.keys.length === 0 ? element('p', 'No key matches.', [], { class: 'muted' })
      : table('Keys', ['Name', 'Key store', 'Status', 'Version', 'Usage'],
        page.keys.map((k) => [link(`#/keys/${k.id}`, k.name), storeName[k.keyStoreId] ?? k.keyStoreId, k.status, String(k.currentVersion), k.usage.join(', ')])),
    ...(page.next ? [link(`#/keys?${next}`, 'Next page')] : []),
    ...(stores.some((s) => can('keys.write', s.id)) ? [createForm(stores.filter((s) => can('keys.write', s.id)))] : []),
  );
}

function filterForm(stores, query) {
  const store = element('select', null, [element('option', 'Every key store', [], { value: '' }),
    ...stores.map((s) => element('option', s.name, [], { value: s.id }))], { id: 'filter-store' });
  store.value = query.get('keystore') ?? '';
  const status = element('select', null, [['', 'Any status'], ['true', 'Enabled'], ['false', 'Disabled']]
    .map(([value, text]) => element('option', text, [], { value })), { id: 'filter-enabled' });
  status.value = query.get('enabled') ?? '';
  const name = field('Name contains', 'filter-name', { value: query.get('q') ?? '' });
  const form = element('form', null, [
    element('label', 'Key store', [], { for: 'filter-store' }), store,
    element('label', 'Status', [], { for: 'filter-enabled' }), status,
    ...name.nodes, button('Filter', 'submit'),
  ], { class: 'filters', 'aria-label': 'Filter keys' });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const q = new URLSearchParams();
    if (store.value) q.set('keystore', store.value);
    if (status.value) q.set('enabled', status.value);
    if (name.input.value) q.set('q', name.input.value);
    location.hash = `#/keys?${q}`;
  });
  return form;
}

function createForm(stores) {
  const note = problemNote();
  const store = element('select', null, stores.map((s) => element('option', s.name, [], { value: s.id })), { id: 'new-key-store' });
  const name = field('New key name', 'new-key-name', { required: '', maxlength: '128' });
  const form = element('form', null, [element('h2', 'New key'), element('label', 'In key store', [], { for: 'new-key-store' }), store,
    ...name.nodes, button('Create key', 'submit'), note.node], { 'aria-label': 'New key' });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const key = await api('POST', `/keystores/${store.value}/keys`, { name: name.input.value });
      location.hash = `#/keys/${key.id}`;
    } catch (e) {
      note.show(e);
    }
  });
  return form;
}

async function renderKey(view, id) {
  const key = await api('GET', `/keys/${id}`);
  const note = problemNote();
  const status = element('div', null, [], { id: 'key-status' });
  view.replaceChildren(
    element('h1', `Key ${key.name}`),
    element('dl', null, [
      element('dt', 'Id'), element('dd', key.id),
      element('dt', 'Status'), element('dd', key.status, [], { id: 'key-state' }),
      element('dt', 'Current version'), element('dd', String(key.currentVersion), [], { id: 'key-version' }),
      element('dt', 'Usage'), element('dd', key.usage.join(', ')),
      element('dt', 'Created'), element('dd', new Date(key.createdAt).toLocaleString()),
      ...(key.destroysAt ? [element('dt', 'Destroyed at'), element('dd', new Date(key.destroysAt).toLocaleString())] : []),
    ]),
    ...(can('keys.write', key.keyStoreId) && key.status !== 'destroyed' ? [actions(view, key, status, note)] : []),
    status,
    note.node,
    element('h2', 'Versions'),
    table('Versions of this key', ['Version', 'State', 'Encrypts', 'Decrypts', 'Since', 'Changed by', 'Encryptions'],
      [...key.versions].reverse().map((v) => [String(v.version), v.state, v.encrypts ? 'yes' : 'no', v.decrypts ? 'yes' : 'no',
        new Date(v.stateChangedAt ?? v.createdAt).toLocaleString(), v.stateChangedBy ?? '—', String(v.encryptionsReserved)])),
  );
}

function actions(view, key, status, note) {
  const act = (label, method, path, body, ask) => {
    const control = button(label, 'button', ask ? { class: 'danger' } : {});
    control.addEventListener('click', async () => {
      if (ask && !confirm(ask)) return;
      try {
        const answer = await api(method, path, body);
        if (answer && answer.approvals !== undefined && answer.requiredApprovals !== undefined) {
          status.replaceChildren(waitingForApproval(answer));
          return;
        }

        await renderKey(view, key.id);
      } catch (e) {
        note.show(e);
      }
    });
    return control;
  };
  return element('div', null, [
    act('Rotate', 'POST', `/keys/${key.id}/rotate`, { expectedCurrentVersion: key.currentVersion }),
    key.status === 'enabled'
      ? act('Disable', 'POST', `/keys/${key.id}/disable`, undefined, `Disable ${key.name}? AWS KMS can no longer encrypt or decrypt with it.`)
      : act('Enable', 'POST', `/keys/${key.id}/enable`),
  ], { class: 'actions', role: 'group', 'aria-label': 'Key actions' });
}
