// Keys: a filtered, paged list; a key's page with its versions and their states, its timeline; create,
// rotate, enable and disable; destruction and its cancelling, the rotation policy, a version's dates and
// compromise (docs/console.md, "Keys").
import { api, ApiError } from '../api.js';
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
  const [key, policy] = await Promise.all([api('GET', `/keys/${id}`), rotationPolicy(id)]);
  const note = problemNote();
  const status = element('div', null, [], { id: 'key-status' });
  // Runs a change; a held call shows as waiting for approval, anything else repaints the key.
  const run = async (method, path, body, reason) => {
    try {
      const answer = await api(method, path, body, reason);
      if (answer && answer.approvals !== undefined && answer.requiredApprovals !== undefined) {
        status.replaceChildren(waitingForApproval(answer));
        return;
      }
      await renderKey(view, key.id);
    } catch (e) {
      note.show(e);
    }
  };
  const mayWrite = can('keys.write', key.keyStoreId) && key.status !== 'destroyed';
  const versions = [...key.versions].reverse();
  view.replaceChildren(
    element('h1', `Key ${key.name}`),
    element('dl', null, [
      element('dt', 'Id'), element('dd', key.id),
      element('dt', 'Status'), element('dd', key.status, [], { id: 'key-state' }),
      element('dt', 'Current version'), element('dd', String(key.currentVersion), [], { id: 'key-version' }),
      element('dt', 'Usage'), element('dd', key.usage.join(', ')),
      element('dt', 'Created'), element('dd', time(key.createdAt)),
      element('dt', 'Compromised versions decrypt'), element('dd', key.compromisedMayDecrypt ? 'yes' : 'no', [], { id: 'key-compromised-decrypt' }),
      ...(key.destroysAt ? [element('dt', 'Destroyed on'), element('dd', time(key.destroysAt), [], { id: 'key-destroys-at' })] : []),
      ...(key.destroyedAt ? [element('dt', 'Destroyed'), element('dd', time(key.destroyedAt))] : []),
    ]),
    ...(mayWrite ? [actions(key, run)] : []),
    status,
    note.node,
    element('h2', 'Versions'),
    table('Versions of this key', ['Version', 'State', 'Encrypts', 'Decrypts', 'Since', 'Changed by', 'Activates', 'Expires', 'Encryptions', ...(mayWrite ? ['Actions'] : [])],
      versions.map((v) => [String(v.version), v.state, v.encrypts ? 'yes' : 'no', v.decrypts ? 'yes' : 'no',
        time(v.stateChangedAt ?? v.createdAt), v.stateChangedBy ?? '—', v.activatesAt ? time(v.activatesAt) : '—',
        v.deactivatesAt ? time(v.deactivatesAt) : '—', String(v.encryptionsReserved), ...(mayWrite ? [versionActions(key, v, run)] : [])])),
    ...(mayWrite ? [datesForm(key, versions, run)] : []),
    rotationSection(key, policy, mayWrite, run),
    destructionSection(key, run),
    element('h2', 'Timeline'),
    table('Timeline of this key', ['When', 'What', 'By'], timeline(key).map((e) => [time(e.at), e.what, e.by ?? '—'])),
  );
}

/** The rotation policy in force, or null when none applies (404). */
async function rotationPolicy(id) {
  try {
    return await api('GET', `/keys/${id}/rotation-policy`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

function actions(key, run) {
  const act = (label, method, path, body, ask) => {
    const control = button(label, 'button', ask ? { class: 'danger' } : {});
    control.addEventListener('click', () => {
      if (!ask || confirm(ask)) run(method, path, body);
    });
    return control;
  };
  const allow = element('input', null, [], { id: 'compromised-may-decrypt', type: 'checkbox' });
  allow.checked = key.compromisedMayDecrypt;
  allow.addEventListener('change', () => run('PUT', `/keys/${key.id}/compromised-may-decrypt`, { allowed: allow.checked }));
  const serves = ['enabled', 'disabled'].includes(key.status); // not while waiting for destruction
  return element('div', null, [
    ...(serves ? [act('Rotate', 'POST', `/keys/${key.id}/rotate`, { expectedCurrentVersion: key.currentVersion })] : []),
    ...(!serves ? [] : key.status === 'enabled'
      ? [act('Disable', 'POST', `/keys/${key.id}/disable`, undefined, `Disable ${key.name}? AWS KMS can no longer encrypt or decrypt with it.`)]
      : [act('Enable', 'POST', `/keys/${key.id}/enable`)]),
    allow, element('label', 'Compromised versions may decrypt', [], { for: 'compromised-may-decrypt' }),
  ], { class: 'actions', role: 'group', 'aria-label': 'Key actions' });
}

/** Compromise, for a version that may still become compromised; asks first, with the reason the audit record keeps. */
function versionActions(key, version, run) {
  if (!['PreActive', 'Active', 'Deactivated'].includes(version.state) || version.destroysAt) return '—';
  const control = button(`Compromise version ${version.version}`, 'button', { class: 'danger' });
  control.addEventListener('click', () => {
    const reason = prompt(`Why is version ${version.version} of ${key.name} compromised? It will never encrypt again` +
      `${key.compromisedMayDecrypt ? '' : ' nor decrypt'}${version.version === key.currentVersion ? ', and the key rotates' : ''}.`);
    if (reason && reason.trim()) run('POST', `/keys/${key.id}/versions/${version.version}/compromise`, undefined, reason.trim());
  });
  return control;
}

/** A version's activation and expiry dates; an empty field clears its date. */
function datesForm(key, versions, run) {
  const choices = versions.filter((v) => ['PreActive', 'Active'].includes(v.state) && !v.destroysAt);
  if (choices.length === 0) return element('p', 'No version takes dates now (only PreActive and Active ones do).', [], { class: 'muted' });
  const version = element('select', null, choices.map((v) => element('option', `Version ${v.version} (${v.state})`, [], { value: String(v.version) })), { id: 'dates-version' });
  const activates = field('Activates at', 'dates-activates', { type: 'datetime-local' });
  const deactivates = field('Expires at', 'dates-deactivates', { type: 'datetime-local' });
  const form = element('form', null, [element('h2', 'Dates of a version'), element('label', 'Version', [], { for: 'dates-version' }), version,
    ...activates.nodes, ...deactivates.nodes, button('Set dates', 'submit')], { 'aria-label': 'Dates of a version' });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const iso = (input) => (input.value ? new Date(input.value).toISOString() : null);
    run('PUT', `/keys/${key.id}/versions/${version.value}/dates`, { activatesAt: iso(activates.input), deactivatesAt: iso(deactivates.input) });
  });
  return form;
}

function rotationSection(key, policy, mayWrite, run) {
  const shown = policy
    ? element('dl', null, [
      element('dt', 'Policy'), element('dd', `${policy.description}${policy.scope === 'keystore' ? ' (from its key store)' : ''}`, [], { id: 'rotation-policy' }),
      element('dt', 'Next rotation'), element('dd', policy.nextRotationAt ? time(policy.nextRotationAt) : '—', [], { id: 'next-rotation' }),
    ])
    : element('p', 'No rotation policy: the key rotates only when someone rotates it.', [], { class: 'muted', id: 'rotation-policy' });
  const parts = [element('h2', 'Rotation policy'), shown];
  if (mayWrite) {
    const days = field('Rotate every (days)', 'rotation-days', { type: 'number', min: '1', required: '', value: String(policy?.intervalDays ?? 90) });
    const form = element('form', null, [...days.nodes, button('Set rotation policy', 'submit')], { 'aria-label': 'Rotation policy' });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      run('PUT', `/keys/${key.id}/rotation-policy`, { intervalDays: Number(days.input.value) });
    });
    parts.push(form);
    if (policy?.scope === 'key') {
      const clear = button('Remove the key\'s own policy');
      clear.addEventListener('click', () => run('DELETE', `/keys/${key.id}/rotation-policy`));
      parts.push(clear);
    }
  }
  return element('section', null, parts, { 'aria-label': 'Rotation policy' });
}

/** Schedule the whole key's destruction (its name typed to confirm), or cancel it while it waits. */
function destructionSection(key, run) {
  if (key.status === 'pending-destruction' && can('keys.write', key.keyStoreId)) {
    const cancel = button('Cancel destruction');
    cancel.addEventListener('click', () => run('POST', `/keys/${key.id}/cancel-destruction`));
    return element('section', null, [element('h2', 'Destruction'),
      element('p', `${key.name} is destroyed on ${time(key.destroysAt)} unless cancelled; until then it serves AWS KMS nothing.`), cancel],
    { 'aria-label': 'Destruction' });
  }
  if (!['enabled', 'disabled'].includes(key.status) || !can('keys.destroy', key.keyStoreId)) return element('div');
  const days = field('Waiting period (days, 7 to 30)', 'destroy-days', { type: 'number', min: '7', max: '30', value: '30', required: '' });
  const confirmName = field(`Type ${key.name} to confirm`, 'destroy-confirm', { autocomplete: 'off', spellcheck: 'false' });
  const mismatch = element('p', null, [], { class: 'error', role: 'alert', id: 'destroy-confirm-error' });
  confirmName.input.setAttribute('aria-describedby', 'destroy-confirm-error');
  const form = element('form', null, [element('h2', 'Destruction'),
    element('p', 'Every version\'s material is destroyed when the waiting period ends, and ciphertext made under the key can never be decrypted again. Until then the key serves AWS KMS nothing, and the destruction can be cancelled.', [], { class: 'warning' }),
    ...days.nodes, ...confirmName.nodes, mismatch, button('Schedule destruction', 'submit', { class: 'danger' })], { 'aria-label': 'Destruction' });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (confirmName.input.value !== key.name) {
      mismatch.textContent = `Type the key's name, ${key.name}, exactly to confirm.`;
      confirmName.input.focus();
      return;
    }
    run('POST', `/keys/${key.id}/schedule-destruction`, { waitingPeriodDays: Number(days.input.value) });
  });
  return form;
}

/** The key's and its versions' changes, newest first, from the key's own data. */
function timeline(key) {
  const events = [{ at: key.createdAt, what: 'Key created' }];
  if (key.destroysAt) events.push({ at: key.destroysAt, what: 'Key to be destroyed' });
  if (key.destroyedAt) events.push({ at: key.destroyedAt, what: 'Key destroyed' });
  for (const v of key.versions) {
    events.push({ at: v.createdAt, what: `Version ${v.version} made (${v.backend})` });
    if (v.stateChangedAt) events.push({ at: v.stateChangedAt, what: `Version ${v.version} became ${v.state}`, by: v.stateChangedBy });
    if (v.activatesAt) events.push({ at: v.activatesAt, what: `Version ${v.version} activates` });
    if (v.deactivatesAt) events.push({ at: v.deactivatesAt, what: `Version ${v.version} expires` });
    if (v.destroysAt) events.push({ at: v.destroysAt, what: `Version ${v.version} to be destroyed` });
  }
  return events.sort((a, b) => new Date(b.at) - new Date(a.at));
}

const time = (iso) => new Date(iso).toLocaleString();
