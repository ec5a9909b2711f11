// The compliance report (GET /api/v1/audit/report) as a page, and as the Markdown or JSON file an auditor
// keeps. The period and allowed regions are in the address: #/audit/report?from=…&to=…&allowedRegions=eea
import { api, download } from '../api.js';
import { button, element, field, link, problemNote, saveFile, table } from './dom.js';

export async function renderAuditReport(view) {
  const query = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const params = new URLSearchParams();
  for (const name of ['from', 'to', 'allowedRegions']) if (query.get(name)) params.set(name, query.get(name));
  const note = problemNote();
  let report = null;
  try {
    report = await api('GET', `/audit/report?${params}`);
  } catch (e) {
    note.show(e);
  }
  view.replaceChildren(
    element('h1', 'Compliance report'),
    periodForm(query),
    note.node,
    ...(report ? [...summary(report), downloads(params, note)] : []),
    element('p', null, [link('#/audit', 'Back to the audit records')]),
  );
}

function periodForm(query) {
  const from = field('From (UTC date)', 'report-from', { type: 'date', value: (query.get('from') ?? '').slice(0, 10) });
  const to = field('To (UTC date, exclusive)', 'report-to', { type: 'date', value: (query.get('to') ?? '').slice(0, 10) });
  const regions = field('Allowed regions', 'report-regions', { value: query.get('allowedRegions') ?? '', placeholder: 'eea, eu-west-1', spellcheck: 'false' });
  const form = element('form', null, [...from.nodes, ...to.nodes, ...regions.nodes, button('Show report', 'submit')],
    { class: 'filters', 'aria-label': 'Report period' });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const q = new URLSearchParams();
    if (from.input.value) q.set('from', `${from.input.value}T00:00:00Z`);
    if (to.input.value) q.set('to', `${to.input.value}T00:00:00Z`);
    if (regions.input.value.trim()) q.set('allowedRegions', regions.input.value.trim());
    location.hash = `#/audit/report?${q}`;
  });
  return form;
}

const counts = (c) => `${c.served} served, ${c.refused} refused${c.failed ? `, ${c.failed} failed` : ''}`;
const byName = (map) => Object.entries(map ?? {}).map(([name, c]) => `${name} (${counts(c)})`).join('; ') || '—';

function summary(r) {
  return [
    element('p', `From ${new Date(r.from).toLocaleString()} to ${new Date(r.to).toLocaleString()}: ${r.records.toLocaleString()} records, ${counts(r.xksCalls)} XKS calls.`, [], { id: 'report-period' }),
    element('p', r.regionStatement, [], { id: 'report-regions-statement', class: 'pending' }),
    element('dl', null, [
      element('dt', 'Chain'), element('dd', r.chainStatus),
      element('dt', 'Archived records'), element('dd', r.archived.statement),
      element('dt', 'Failed logins'), element('dd', String(r.failedLogins)),
      element('dt', 'Unauthenticated XKS requests'), element('dd', String(r.unauthenticatedRequests)),
    ]),
    element('h2', 'Calls by region'),
    table('XKS calls by AWS region', ['Region', 'Served', 'Refused', 'Failed'],
      Object.entries(r.callsByRegion).map(([region, c]) => [region, String(c.served), String(c.refused), String(c.failed)])),
    element('h2', 'Keys'),
    table('Use of each key', ['Key', 'Key store', 'Calls', 'Regions', 'Accounts', 'Callers', 'Operations'],
      r.keys.map((k) => [`${k.keyName ?? '—'} (${k.keyId})`, k.keyStoreName ?? k.keyStoreId ?? '—', counts(k.calls),
        byName(k.byRegion), byName(k.byAccount), byName(k.byPrincipal), byName(k.byOperation)])),
    element('h2', 'Changes'),
    r.changes.length === 0 ? element('p', 'No management or seal change in this period.', [], { class: 'muted' })
      : table('Management and seal changes', ['Record', 'Time', 'Change', 'Outcome', 'By', 'Key store', 'Key'],
        r.changes.map((c) => [link(`#/audit/${c.sequence}`, String(c.sequence), { 'aria-label': `Record ${c.sequence}` }),
          new Date(c.time).toLocaleString(), c.action, c.outcome, c.actor ?? '—', c.keyStore ?? '—', c.keyId ?? '—'])),
  ];
}

function downloads(params, note) {
  const save = (format, extension) => {
    const control = button(`Download (${format === 'markdown' ? 'Markdown' : 'JSON'})`);
    control.addEventListener('click', async () => {
      const q = new URLSearchParams(params);
      q.set('format', format);
      try {
        saveFile(await download(`/audit/report?${q}`), `coffer-audit-report.${extension}`);
      } catch (e) {
        note.show(e);
      }
    });
    return control;
  };
  return element('div', null, [save('markdown', 'md'), save('json', 'json')], { class: 'actions', role: 'group', 'aria-label': 'Download the report' });
}
