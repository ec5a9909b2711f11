// Overview: each node's seal state and health, XKS calls per minute over the last hour, key versions
// near their expiry or encryption budget, refused calls and their reasons, engaged kill switches and
// pending approvals. Each part is its own /api/v1 call,
// made at once; a part the caller's role may not read says so instead of failing the page.
import { api, ApiError } from '../api.js';
import { element, link, table, titled } from './dom.js';
import { trafficChart } from './traffic-chart.js';

export async function renderOverview(view) {
  const status = api('GET', '/sys/status');
  // Each part paints when its own call answers: on a large audit log with few refusals, the refused
  // calls' search reads far back (docs/console.md, "Speed"), and the rest must not wait for it.
  const parts = [
    section('Nodes', status, (s) => nodes(s.nodes ?? [])),
    section('XKS calls in the last hour', api('GET', '/traffic?minutes=60'), (t) => trafficChart(t)),
    section('Keys needing attention', api('GET', '/keys/attention?expiringWithinDays=30&budgetPercent=80'), (a) => keysNeedingAttention(a.versions)),
    // The last hour, like the traffic chart: the batch time is indexed, so the search never reads
    // further back than that however few refusals the log holds.
    section('Refused calls', api('GET', `/audit/records?outcome=denied&from=${encodeURIComponent(hourAgo())}&limit=10`), (r) => refusedCalls(r.records)),
    section('Engaged kill switches', api('GET', '/kill-switches'), (k) => killSwitches(k)),
    section('Pending approvals', api('GET', '/approvals?state=pending&limit=20'), (a) => pendingApprovals(a)),
  ];
  view.replaceChildren(element('h1', 'Overview'), summary(await status), ...parts);
}

function hourAgo() {
  return new Date(Date.now() - 60 * 60 * 1000).toISOString();
}

function summary(status) {
  const seal = status.sealed ? 'Sealed' : 'Unsealed';
  return element('dl', null, [
    element('dt', 'Seal'), element('dd', `${seal} (${status.sealKind ?? 'not initialised'})`, [], { id: 'seal-state' }),
    element('dt', 'Version'), element('dd', status.version),
    element('dt', 'Key stores'), element('dd', String(status.keyStoreCount ?? '—')),
  ]);
}

/** A titled part of the page: "Loading…" until its call answers, then its content or why it cannot be shown. */
function section(title, call, render) {
  const loading = element('p', 'Loading…', [], { class: 'muted loading' });
  call.then((value) => loading.replaceWith(render(value)), (reason) => loading.replaceWith(
    reason instanceof ApiError && reason.status === 403 ? element('p', 'Your role does not show this.', [], { class: 'muted' })
      : element('p', reason.message, [], { class: 'error' })));
  return titled(title, loading);
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
  if (records.length === 0) return element('p', 'No call was refused in the last hour.', [], { class: 'muted' });
  return table('The latest refused calls of the last hour', ['Time', 'Call', 'Key', 'Caller', 'Reason'],
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
