// Overview: each node's seal state and health, XKS calls per minute over the last hour, key versions
// near their expiry or encryption budget, refused calls and their reasons, engaged kill switches and
// pending approvals. Each part is its own /api/v1 call,
// made at once; a part the caller's role may not read says so instead of failing the page.
import { api, ApiError } from '../api.js';
import { element, link, table } from './dom.js';
import { trafficChart } from './traffic-chart.js';

export async function renderOverview(view) {
  const [status, traffic, attention, refused, switches, approvals] = await Promise.allSettled([
    api('GET', '/sys/status'),
    api('GET', '/traffic?minutes=60'),
    api('GET', '/keys/attention?expiringWithinDays=30&budgetPercent=80'),
    api('GET', '/audit/records?outcome=denied&limit=10'),
    api('GET', '/kill-switches'),
    api('GET', '/approvals?state=pending&limit=20'),
  ]);
  if (status.status === 'rejected') throw status.reason;
  view.replaceChildren(
    element('h1', 'Overview'),
    summary(status.value),
    section('Nodes', status, (s) => nodes(s.nodes ?? [])),
    section('XKS calls in the last hour', traffic, (t) => trafficChart(t)),
    section('Keys needing attention', attention, (a) => keysNeedingAttention(a.versions)),
    section('Refused calls', refused, (r) => refusedCalls(r.records)),
    section('Engaged kill switches', switches, (k) => killSwitches(k)),
    section('Pending approvals', approvals, (a) => pendingApprovals(a)),
  );
}

function summary(status) {
  const seal = status.sealed ? 'Sealed' : 'Unsealed';
  return element('dl', null, [
    element('dt', 'Seal'), element('dd', `${seal} (${status.sealKind ?? 'not initialised'})`, [], { id: 'seal-state' }),
    element('dt', 'Version'), element('dd', status.version),
    element('dt', 'Key stores'), element('dd', String(status.keyStoreCount ?? '—')),
  ]);
}

/** A titled part of the page: its content, or why it cannot be shown. */
function section(title, settled, render) {
  const id = 'part-' + title.toLowerCase().replace(/[^a-z]+/g, '-');
  let content;
  if (settled.status === 'fulfilled') content = render(settled.value);
  else if (settled.reason instanceof ApiError && settled.reason.status === 403) content = element('p', 'Your role does not show this.', [], { class: 'muted' });
  else content = element('p', settled.reason.message, [], { class: 'error' });
  return element('section', null, [element('h2', title, [], { id }), content], { 'aria-labelledby': id });
}

function nodes(list) {
  return table('Nodes of this installation', ['Node', 'State', 'Sealed', 'Health', 'HSM', 'Leader'],
    list.map((n) => [n.id, n.state, n.sealed ? 'sealed' : 'unsealed', n.health, n.hsmHealth ?? '—', n.leader ? 'leader' : '']));
}

/** Versions that soon stop encrypting: expiring within 30 days, or past 80% of their encryption budget. */
function keysNeedingAttention(versions) {
  if (versions.length === 0) return element('p', 'No key expires within 30 days or has used 80% of its encryption budget.', [], { class: 'muted' });
  return table('Key versions near their expiry or encryption budget', ['Key', 'Version', 'Why', 'Expires', 'Budget used'],
    versions.map((v) => [link(`#/keys/${v.keyId}`, v.name), String(v.version), v.why === 'budget' ? 'encryption budget' : 'expiry',
      v.expiresAt ? time(v.expiresAt) : '—', `${Math.floor(v.budgetUsed * 1000) / 10}%`]));
}

function refusedCalls(records) {
  if (records.length === 0) return element('p', 'No refused calls.', [], { class: 'muted' });
  return table('The latest refused calls', ['Time', 'Call', 'Key', 'Caller', 'Reason'],
    records.map((r) => [time(r.time), r.action, r.keyId ?? '—', r.awsPrincipalArn ?? r.actorId ?? '—', r.reason ?? r.errorName ?? '—']));
}

function killSwitches(list) {
  if (list.length === 0) return element('p', 'No kill switch is engaged.', [], { class: 'muted' });
  return table('Kill switches engaged now', ['Scope', 'Value', 'Reason', 'Engaged by', 'Since'],
    list.map((k) => [k.scope, k.value ?? 'all', k.reason, k.engagedBy, time(k.engagedAt)]));
}

function pendingApprovals(list) {
  if (list.length === 0) return element('p', 'No request waits for approval.', [], { class: 'muted' });
  return table('Requests waiting for approval', ['Request', 'Asked by', 'Approvals', 'Until'],
    list.map((a) => [a.operation, a.requester.name, `${a.approvals} of ${a.requiredApprovals}`, time(a.expiresAt)]));
}

const time = (iso) => new Date(iso).toLocaleString();
