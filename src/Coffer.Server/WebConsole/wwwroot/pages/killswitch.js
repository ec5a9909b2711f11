// Kill switch: cut AWS KMS off from keys at once (docs/access-rules.md, "Kill switch"), and restore it.
// Engaging first says in words exactly what will be cut off, and is sent only once that is confirmed.
import { api } from '../api.js';
import { can } from '../access.js';
import { button, element, link, problemNote, table, waitingForApproval } from './dom.js';

// The scopes POST /api/v1/kill-switches takes, what the value field is called for each, and a hint.
const scopes = {
  all: { label: 'Everything' },
  keystore: { label: 'A key store', value: 'Key store' },
  key: { label: 'A key', value: 'Key id', hint: 'The key\'s id, as the Keys page shows it.' },
  region: { label: 'A region or region set', value: 'Region or region set', hint: 'Matches the region of the KMS key\'s ARN: eu-west-1, or a set such as eea.' },
  account: { label: 'An AWS account', value: 'AWS account', hint: '12 digits; matches the account of the KMS key or of the caller.' },
  principal: { label: 'A principal', value: 'Principal ARN', hint: 'Exact, or with * wildcards: arn:aws:iam::111122223333:role/*' },
  vpc: { label: 'A VPC', value: 'VPC id', hint: 'vpc-…' },
  vpce: { label: 'A VPC endpoint', value: 'VPC endpoint id', hint: 'vpce-…' },
};

export async function renderKillSwitch(view) {
  const all = new URLSearchParams(location.hash.split('?')[1] ?? '').get('all') === 'true';
  const mayWrite = can('killswitch.write');
  const [switches, stores] = await Promise.all([api('GET', `/kill-switches${all ? '?all=true' : ''}`), api('GET', '/keystores').catch(() => [])]);
  const describe = describer(stores);
  const status = element('div', null, [], { id: 'killswitch-status' });
  const note = problemNote();
  view.replaceChildren(
    element('h1', 'Kill switch'),
    element('p', 'A kill switch makes Coffer refuse every XKS call it covers (encrypt, decrypt, key metadata) at once, so AWS KMS can no longer use those keys; health checks still answer. Nothing about the keys changes, and releasing the switch restores service at once.', [], { class: 'hint' }),
    ...(mayWrite ? [await engageForm(view, stores, describe)] : []),
    status,
    element('h2', all ? 'Every kill switch' : 'Engaged kill switches', [], { id: 'switches-title' }),
    switchList(view, switches, describe, mayWrite, status, note),
    note.node,
    link(all ? '#/killswitch' : '#/killswitch?all=true', all ? 'Show engaged switches only' : 'Show released switches too'),
  );
}

/** Says what a switch cuts off, in the words the confirmation and the list use. */
function describer(stores) {
  const byId = Object.fromEntries(stores.map((s) => [s.id, s]));
  return (scope, value) => {
    switch (scope) {
      case 'all': return 'every XKS call to every key store';
      case 'keystore': return byId[value] ? `every XKS call to key store ${byId[value].name} (${byId[value].uriPrefix})` : `every XKS call to key store ${value}`;
      case 'key': return `every XKS call for key ${value}`;
      case 'region': return `every XKS call for a KMS key in region ${value}`;
      case 'account': return `every XKS call from AWS account ${value} or for its KMS keys`;
      case 'principal': return `every XKS call made by ${value}`;
      case 'vpc': return `every XKS call from VPC ${value}`;
      case 'vpce': return `every XKS call through VPC endpoint ${value}`;
      default: return `${scope} ${value ?? ''}`;
    }
  };
}

async function engageForm(view, stores, describe) {
  const regionSets = await api('GET', '/region-sets').catch(() => []);
  const scope = element('select', null, Object.entries(scopes).map(([value, s]) => element('option', s.label, [], { value })), { id: 'ks-scope' });
  const valueLabel = element('label', '', [], { for: 'ks-value' });
  const valueHint = element('p', '', [], { id: 'ks-value-hint', class: 'hint' });
  const valueError = element('p', null, [], { id: 'ks-value-error', class: 'error', role: 'alert' });
  const text = element('input', null, [], { id: 'ks-value', name: 'ks-value', autocomplete: 'off', spellcheck: 'false',
    'aria-describedby': 'ks-value-hint ks-value-error' });
  const store = element('select', null, stores.map((s) => element('option', `${s.name} (${s.uriPrefix})`, [], { value: s.id })),
    { id: 'ks-value', name: 'ks-value', 'aria-describedby': 'ks-value-error' });
  const valueSlot = element('div', null, [], { class: 'field' });
  const reason = element('textarea', null, [], { id: 'ks-reason', name: 'ks-reason', required: '', maxlength: '1024', rows: '2', 'aria-describedby': 'ks-reason-error' });
  const reasonError = element('p', null, [], { id: 'ks-reason-error', class: 'error', role: 'alert' });
  const note = problemNote();
  const confirmation = element('div', null, [], { id: 'ks-confirm' });

  const showValueField = () => {
    const chosen = scopes[scope.value];
    valueHint.textContent = chosen.hint ?? '';
    valueLabel.textContent = chosen.value ?? '';
    if (scope.value === 'region') text.setAttribute('list', 'ks-region-sets');
    else text.removeAttribute('list');
    valueSlot.replaceChildren(...(chosen.value ? [valueLabel, scope.value === 'keystore' ? store : text, valueHint, valueError] : []));
    confirmation.replaceChildren();
  };
  scope.addEventListener('change', showValueField);
  showValueField();

  const form = element('form', null, [
    element('h2', 'Engage kill switch', [], { id: 'engage-title' }),
    element('label', 'Cut off', [], { for: 'ks-scope' }), scope,
    valueSlot,
    element('label', 'Reason (for administrators and the audit log; never sent to AWS)', [], { for: 'ks-reason' }), reason, reasonError,
    button('Engage kill switch', 'submit', { class: 'danger' }),
    element('datalist', null, regionSets.map((s) => element('option', null, [], { value: s.name })), { id: 'ks-region-sets' }),
    confirmation,
    note.node,
  ], { class: 'killswitch', 'aria-labelledby': 'engage-title' });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    for (const node of [valueError, reasonError, note.node]) node.textContent = '';
    const request = { scope: scope.value, reason: reason.value.trim() };
    if (scope.value !== 'all') request.value = scope.value === 'keystore' ? store.value : text.value.trim();
    if (scope.value !== 'all' && !request.value) {
      valueError.textContent = `${scopes[scope.value].value} is required: it says what to cut off.`;
      return;
    }
    if (!request.reason) {
      reasonError.textContent = 'A reason is required: it tells the next administrator why AWS was cut off.';
      return;
    }
    confirmation.replaceChildren(confirmStep(request, describe, async () => {
      confirmation.replaceChildren();
      try {
        const answer = await api('POST', '/kill-switches', request);
        await renderKillSwitch(view);
        if (answer.approvals !== undefined && answer.requiredApprovals !== undefined) {
          view.querySelector('#killswitch-status').replaceChildren(waitingForApproval(answer));
        }
      } catch (e) {
        // The server names the field it refuses: "reason is required…", "value is a 12-digit…".
        if (/^reason\b/.test(e.message)) reasonError.textContent = e.message;
        else if (request.value !== undefined && e.status !== 403) valueError.textContent = e.message;
        else note.show(e);
      }
    }, () => confirmation.replaceChildren()));
    confirmation.querySelector('button').focus();
  });
  return form;
}

/** The last step before engaging: what exactly will be cut off, and two buttons. */
function confirmStep(request, describe, onEngage, onCancel) {
  const engage = button('Engage now', 'button', { class: 'danger' });
  const cancel = button('Cancel');
  engage.addEventListener('click', onEngage);
  cancel.addEventListener('click', onCancel);
  return element('div', null, [
    element('p', `This cuts off ${describe(request.scope, request.value)}. AWS KMS cannot encrypt or decrypt under those keys until the switch is released.`,
      [], { id: 'ks-confirm-text' }),
    element('div', null, [engage, cancel], { class: 'actions' }),
  ], { class: 'warning', role: 'group', 'aria-label': 'Confirm the kill switch', 'aria-describedby': 'ks-confirm-text' });
}

function switchList(view, switches, describe, mayWrite, status, note) {
  if (switches.length === 0) return element('p', 'No kill switch is engaged.', [], { class: 'muted' });
  return table('Kill switches', ['What it cuts off', 'Reason', 'Engaged by', 'Since', 'State'],
    switches.map((k) => [describe(k.scope, k.value), k.reason, k.engagedBy, new Date(k.engagedAt).toLocaleString(),
      k.engaged ? (mayWrite ? releaseButton(view, k, describe, status, note) : 'engaged') : `released by ${k.releasedBy}, ${new Date(k.releasedAt).toLocaleString()}`]));
}

function releaseButton(view, killSwitch, describe, status, note) {
  const release = button(`Release ${killSwitch.id}`);
  release.addEventListener('click', async () => {
    if (!window.confirm(`Release ${killSwitch.id}? Coffer serves ${describe(killSwitch.scope, killSwitch.value)} again at once, unless another switch covers it.`)) return;
    try {
      const answer = await api('POST', `/kill-switches/${killSwitch.id}/release`);
      if (answer && answer.approvals !== undefined && answer.requiredApprovals !== undefined) {
        status.replaceChildren(waitingForApproval(answer));
        return;
      }
      await renderKillSwitch(view);
    } catch (e) {
      note.show(e);
    }
  });
  return release;
}
