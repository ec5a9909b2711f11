// Access rules (docs/access-rules.md): a key store's or key's rules and their versions, an editor for
// the rule document whose draft is tried against recent XKS calls before it is saved, and region sets.
import { api, ApiError } from '../api.js';
import { can } from '../access.js';
import { button, element, field, link, problemNote, table, waitingForApproval } from './dom.js';

// How many recent XKS calls a draft is tried against (the API takes up to 1000).
const replay = 100;

const matchers = ['operation', 'kmsOperation', 'awsPrincipalArn', 'awsAccount', 'kmsKeyAccount', 'kmsKeyRegion', 'signingRegion',
  'kmsViaService', 'awsSourceVpc', 'awsSourceVpce', 'sourceIp', 'notBefore', 'notAfter'];

export async function renderRules(view, scope, id) {
  if (scope === 'keystore' || scope === 'key') return renderPolicy(view, scope, id);
  const [stores, regionSets] = await Promise.all([api('GET', '/keystores'), api('GET', '/region-sets')]);
  view.replaceChildren(
    element('h1', 'Access rules'),
    element('p', 'Rules say which XKS calls Coffer answers: by operation, AWS account, principal, region, VPC, source address and time. A key store\'s rules apply to all its keys; a key\'s rules narrow them.', [], { class: 'hint' }),
    stores.length === 0 ? element('p', 'No key store yet.', [], { class: 'muted' })
      : table('Rules of each key store', ['Key store', 'URI prefix'], stores.map((s) => [link(`#/rules/keystore/${s.id}`, `Rules of ${s.name}`), s.uriPrefix])),
    regionSetSection(view, regionSets),
  );
}

async function renderPolicy(view, scope, id) {
  const version = new URLSearchParams(location.hash.split('?')[1] ?? '').get('version');
  const target = scope === 'key' ? await api('GET', `/keys/${id}`) : await api('GET', `/keystores/${id}`);
  const storeId = scope === 'key' ? target.keyStoreId : id;
  const base = `/${scope === 'key' ? 'keys' : 'keystores'}/${id}/policy`;
  const [shown, versions, keys] = await Promise.all([
    api('GET', version ? `${base}?version=${encodeURIComponent(version)}` : base).catch((e) => { if (e instanceof ApiError && e.status === 404 && !version) return null; throw e; }),
    api('GET', `${base}/versions`),
    scope === 'keystore' ? api('GET', `/keys?keystore=${encodeURIComponent(id)}&limit=200`).then((p) => p.keys, () => []) : Promise.resolve([]),
  ]);
  const title = `${scope === 'key' ? 'key' : 'key store'} ${target.name}`;
  const rules = shown && !shown.cleared ? shown.document?.rules ?? [] : [];
  view.replaceChildren(
    element('h1', `Access rules of ${title}`),
    ...(scope === 'key' ? [element('p', null, ['These rules narrow those of its key store: ', link(`#/rules/keystore/${storeId}`, 'the key store\'s rules'), '.'])] : []),
    element('p', shown ? `${version ? 'Version' : 'Current version'} ${shown.version}, set ${new Date(shown.createdAt).toLocaleString()} by ${shown.createdBy ?? '—'}.`
      : 'No rules were ever set: every XKS call is allowed.', [], { id: 'rules-version' }),
    rules.length === 0 ? element('p', shown?.cleared ? 'This version cleared the rules: every XKS call is allowed, as far as other rules go.' : 'No rules.', [], { class: 'muted' })
      : rulesTable(version ? `Rules of version ${shown.version}` : 'Current rules', rules),
    ...(can('policies.write', storeId) ? [editor(view, scope, id, base, rules)] : []),
    element('h2', 'Versions'),
    versions.versions.length === 0 ? element('p', 'No versions yet.', [], { class: 'muted' })
      : table('Versions of these rules', ['Version', 'Set', 'By', 'Rules'], [...versions.versions].reverse().map((v) => [
        link(`#/rules/${scope}/${id}?version=${v.version}`, `Version ${v.version}`), new Date(v.createdAt).toLocaleString(), v.createdBy ?? '—',
        v.cleared ? 'cleared' : String(v.document?.rules?.length ?? 0)])),
    ...(keys.length > 0 ? [keyPicker(keys)] : []),
  );
}

function rulesTable(caption, rules) {
  return table(caption, ['#', 'Name', 'Effect', 'Applies to'], rules.map((r, i) => [String(i + 1), r.name ?? '', r.effect ?? '', applies(r)]));
}

/** A rule's matchers in words: "kmsKeyRegion: us-*, eea; operation: encrypt". */
function applies(rule) {
  const parts = matchers.filter((m) => rule[m] !== undefined && rule[m] !== null).map((m) => `${m}: ${[].concat(rule[m]).join(', ')}`);
  return parts.length === 0 ? 'every call' : parts.join('; ');
}

/** The rule document as JSON, the outline of its rules as read so far, and the draft tried against
 * recent calls beside it before it is saved. */
function editor(view, scope, id, base, rules) {
  const draft = element('textarea', null, [], { id: 'rules-draft', name: 'rules-draft', rows: '16', spellcheck: 'false',
    'aria-describedby': 'rules-draft-help rules-draft-error' });
  draft.value = JSON.stringify({ rules: rules.length > 0 ? rules : [{ name: 'everything', effect: 'allow' }] }, null, 2);
  const error = element('p', null, [], { id: 'rules-draft-error', class: 'error', role: 'alert' });
  const outline = element('ol', null, [], { id: 'rules-outline', 'aria-label': 'Rules of the draft' });
  const result = element('div', null, [element('p', 'Try the draft to see which recent calls it would decide differently.', [], { class: 'muted' })],
    { id: 'rules-simulation', 'aria-live': 'polite' });
  const status = element('div');
  const note = problemNote();

  const read = () => {
    error.textContent = '';
    draft.removeAttribute('aria-invalid');
    try {
      const candidate = JSON.parse(draft.value);
      outline.replaceChildren(...(Array.isArray(candidate?.rules) ? candidate.rules : []).map((r) => element('li', `${r?.name ?? '(no name)'}: ${r?.effect ?? '(no effect)'} ${applies(r ?? {})}`)));
      return candidate;
    } catch (e) {
      refused(`The draft is not JSON: ${e.message}`);
      return null;
    }
  };
  // The server names what it refuses (rules[1].kmsKeyRegion[0]: …): the message goes under the draft,
  // and the rule it names is marked in the outline.
  const refused = (message) => {
    draft.setAttribute('aria-invalid', 'true');
    const at = /rules\[(\d+)\]/.exec(message);
    const item = at ? outline.children[Number(at[1])] : null;
    error.textContent = item ? `Rule ${Number(at[1]) + 1}: ${message}` : message;
    for (const li of outline.children) li.classList.toggle('invalid', li === item);
  };
  draft.addEventListener('input', read);
  read();

  const simulate = button('Try against recent calls');
  simulate.addEventListener('click', async () => {
    const candidate = read();
    if (!candidate) return;
    try {
      const answer = await api('POST', '/policy/simulate', { [scope === 'key' ? 'keyId' : 'keyStoreId']: id, document: candidate, replay });
      result.replaceChildren(simulation(answer));
    } catch (e) {
      if (e.status === 400) refused(e.message);
      else note.show(e);
    }
  });
  const save = button('Save rules', 'submit');
  const form = element('form', null, [
    element('h2', 'Change the rules', [], { id: 'rules-editor-title' }),
    element('label', 'Rule document (JSON)', [], { for: 'rules-draft' }), draft, error,
    element('p', `A rule has a name, an effect (allow or deny) and matchers: ${matchers.join(', ')}. A deny that matches wins; some allow must match.`,
      [], { id: 'rules-draft-help', class: 'hint' }),
    element('h3', 'Rules of the draft'), outline,
    element('div', null, [simulate, save], { class: 'actions' }),
    status, note.node,
  ], { 'aria-labelledby': 'rules-editor-title' });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const candidate = read();
    if (!candidate) return;
    try {
      const answer = await api('PUT', base, candidate);
      if (answer.approvals !== undefined && answer.requiredApprovals !== undefined) {
        status.replaceChildren(waitingForApproval(answer));
        return;
      }
      // Back to the current version: a hash change renders the page, an unchanged hash does not.
      const current = `#/rules/${scope}/${id}`;
      if (location.hash !== current) location.hash = current;
      else await renderPolicy(view, scope, id);
    } catch (e) {
      if (e.status === 400) refused(e.message);
      else note.show(e);
    }
  });
  return element('div', null, [form, element('section', null, [element('h2', 'The draft against recent calls', [], { id: 'rules-simulation-title' }), result],
    { 'aria-labelledby': 'rules-simulation-title' })], { class: 'side-by-side' });
}

/** The recent calls the draft would decide otherwise than the stored rules, and every call tried. */
function simulation(answer) {
  const refusedNow = answer.results.filter((r) => r.differs && r.decision === 'deny').length;
  const allowedNow = answer.results.filter((r) => r.differs && r.decision === 'allow').length;
  if (answer.results.length === 0) return element('p', 'No recent XKS call to try the draft against.', [], { class: 'muted' });
  return element('div', null, [
    element('p', `Of the last ${answer.results.length} call${answer.results.length === 1 ? '' : 's'}, the draft would refuse ${refusedNow} that the current rules allow, and allow ${allowedNow} that they refuse.`,
      [], { id: 'rules-differing' }),
    table('Recent calls under the current rules and the draft', ['Call', 'Caller', 'Key region', 'Source', 'Current rules', 'Draft', 'Change'],
      answer.results.map((r) => [r.operation, r.awsPrincipalArn ?? '—', r.kmsKeyArn?.split(':')[3] || '—', r.sourceIp ?? '—', r.storedDecision ?? '—',
        r.decision + (r.rule ? ` (${r.rule})` : ''), r.differs ? (r.decision === 'deny' ? 'refused by the draft' : 'allowed by the draft') : ''])),
  ]);
}

function keyPicker(keys) {
  const select = element('select', null, keys.map((k) => element('option', k.name, [], { value: k.id })), { id: 'rules-key' });
  const form = element('form', null, [element('h2', 'Rules of a key'), element('label', 'Key of this store', [], { for: 'rules-key' }), select,
    button('Show the key\'s rules', 'submit')], { 'aria-label': 'Rules of a key' });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = `#/rules/key/${select.value}`;
  });
  return form;
}

function regionSetSection(view, regionSets) {
  const note = problemNote();
  const status = element('div');
  const mayWrite = can('policies.write');
  const rows = regionSets.map((s) => [s.name, s.regions.join(', '), s.builtIn ? 'built in' : (mayWrite ? deleteButton(view, s, status, note) : 'yours')]);
  return element('section', null, [
    element('h2', 'Region sets', [], { id: 'region-sets-title' }),
    table('Region sets', ['Name', 'Regions', 'Kind'], rows),
    ...(mayWrite ? [regionSetForm(view, status)] : []),
    status, note.node,
  ], { 'aria-labelledby': 'region-sets-title' });
}

function regionSetForm(view, status) {
  // The server's message starts with the field it refuses ("name: …", "regions[1] is not …"): it is shown there.
  const nameError = element('p', null, [], { id: 'set-name-error', class: 'error', role: 'alert' });
  const regionsError = element('p', null, [], { id: 'set-regions-error', class: 'error', role: 'alert' });
  const name = field('Region set name', 'set-name', { required: '', maxlength: '64', 'aria-describedby': 'set-name-error' });
  const regions = field('Regions (separated by spaces or commas)', 'set-regions', { required: '', placeholder: 'eu-north-1 eu-west-1', 'aria-describedby': 'set-regions-error' });
  const form = element('form', null, [element('h3', 'Add or replace a region set'), ...name.nodes, nameError, ...regions.nodes, regionsError,
    button('Save region set', 'submit')], { 'aria-label': 'Add or replace a region set' });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    nameError.textContent = regionsError.textContent = '';
    try {
      const answer = await api('PUT', `/region-sets/${encodeURIComponent(name.input.value.trim())}`,
        { regions: regions.input.value.split(/[\s,]+/).filter(Boolean) });
      if (answer.approvals !== undefined && answer.requiredApprovals !== undefined) status.replaceChildren(waitingForApproval(answer));
      else await renderRules(view);
    } catch (e) {
      (/^regions\b/.test(e.message) ? regionsError : nameError).textContent = e.message;
    }
  });
  return form;
}

function deleteButton(view, set, status, note) {
  const remove = button(`Delete ${set.name}`, 'button', { class: 'danger' });
  remove.addEventListener('click', async () => {
    if (!window.confirm(`Delete region set ${set.name}? Rules and kill switches that use it must be changed first.`)) return;
    try {
      const answer = await api('DELETE', `/region-sets/${encodeURIComponent(set.name)}`);
      if (answer && answer.approvals !== undefined && answer.requiredApprovals !== undefined) status.replaceChildren(waitingForApproval(answer));
      else await renderRules(view);
    } catch (e) {
      note.show(e);
    }
  });
  return remove;
}
