// Audit: the log filtered and paged by the API's cursor (every filter and the cursors visited kept in the
// address, so a view can be bookmarked), one record's fields, the export of what the filters select, the
// verification panel (audit-verify.js) and the compliance report (audit-report.js). docs/console.md, "Audit".
import { api, download } from '../api.js';
import { button, element, link, problemNote, saveFile, table } from './dom.js';
import { verifyPanel } from './audit-verify.js';
import { renderAuditReport } from './audit-report.js';

// The filters of GET /api/v1/audit/records, by their parameter names, with their labels.
const filters = [
  ['from', 'From'], ['to', 'To'], ['keyId', 'Key id'], ['keyStore', 'Key store'], ['actor', 'Actor'], ['action', 'Action'],
  ['outcome', 'Outcome'], ['region', 'AWS region'], ['account', 'AWS account'], ['kmsRequestId', 'KMS request id'],
];
const outcomes = ['ok', 'denied', 'error', 'requested'];
const pageSize = 50;

export async function renderAudit(view, sub) {
  if (sub === 'report') return renderAuditReport(view);
  if (sub) return renderRecord(view, sub);
  const query = fragmentQuery();
  // The cursors of the pages visited so far, oldest page last: Next adds one, Previous drops one.
  const trail = (query.get('pages') ?? '').split(',').filter(Boolean);
  const params = selected(query);
  params.set('limit', String(pageSize));
  if (trail.length > 0) params.set('before', trail[trail.length - 1]);
  // Both at once: a page waits for one round trip, not two. The store names only label the filter.
  const [stores, page] = await Promise.all([api('GET', '/keystores').catch(() => []), api('GET', `/audit/records?${params}`)]);
  const note = problemNote();
  view.replaceChildren(
    element('h1', 'Audit'),
    filterForm(query, stores),
    element('h2', 'Records', [], { id: 'audit-records-title' }),
    page.records.length === 0 ? element('p', 'No record matches.', [], { class: 'muted' }) : recordTable(page.records, query),
    ...(page.archived ? [element('p', page.archived, [], { class: 'warning' })] : []),
    pager(query, trail, page.next),
    exportForm(query, note),
    note.node,
    verifyPanel(),
    element('p', null, [link('#/audit/report', 'Compliance report')]),
  );
}

/** The address fragment's query: #/audit?region=eu-west-1&pages=120,70 */
function fragmentQuery() {
  return new URLSearchParams(location.hash.split('?')[1] ?? '');
}

/** The filters the fragment sets, as API parameters. */
function selected(query) {
  const params = new URLSearchParams();
  for (const [name] of filters) if (query.get(name)) params.set(name, query.get(name));
  return params;
}

function filterForm(query, stores) {
  const inputs = {};
  const parts = filters.map(([name, label]) => {
    const id = `audit-${name}`;
    let input;
    if (name === 'outcome') {
      input = element('select', null, ['', ...outcomes].map((o) => element('option', o || 'Any', [], { value: o })), { id });
    } else if (name === 'keyStore') {
      input = element('select', null, [element('option', 'Any', [], { value: '' }), ...stores.map((s) => element('option', s.name, [], { value: s.id }))], { id });
    } else if (name === 'from' || name === 'to') {
      input = element('input', null, [], { id, type: 'datetime-local', step: '1' });
    } else {
      input = element('input', null, [], { id, spellcheck: 'false' });
    }
    const value = query.get(name) ?? '';
    input.value = input.type === 'datetime-local' ? toLocalInput(value) : value;
    inputs[name] = input;
    return element('div', null, [element('label', label, [], { for: id }), input], { class: 'filter' });
  });
  const form = element('form', null, [...parts, button('Filter', 'submit'), link('#/audit', 'Clear')],
    { class: 'filters audit-filters', 'aria-label': 'Filter audit records' });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [name, input] of Object.entries(inputs)) {
      const value = input.type === 'datetime-local' ? (input.value ? new Date(input.value).toISOString() : '') : input.value.trim();
      if (value) next.set(name, value);
    }
    location.hash = `#/audit?${next}`;
  });
  return form;
}

// An ISO time of the fragment as a datetime-local value (the browser's time zone), or '' for none.
function toLocalInput(iso) {
  const at = new Date(iso);
  if (!iso || Number.isNaN(at.getTime())) return '';
  return new Date(at.getTime() - at.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
}

function recordTable(records, query) {
  const back = query.toString();
  const list = table('Audit records, newest first', ['Record', 'Time', 'Action', 'Outcome', 'Actor', 'Key', 'Region', 'Reason'],
    records.map((r) => [
      link(`#/audit/${r.sequence}${back ? '?' + back : ''}`, String(r.sequence), { 'aria-label': `Record ${r.sequence}` }),
      time(r.time), r.action, r.outcome, r.actorId ?? r.actorKind ?? '—', r.keyId ?? '—', r.awsRegion ?? '—', r.reason ?? r.errorName ?? '',
    ]));
  list.classList.add('audit-records');
  return list;
}

function pager(query, trail, next) {
  const at = (cursors) => {
    const q = new URLSearchParams(query);
    if (cursors.length > 0) q.set('pages', cursors.join(','));
    else q.delete('pages');
    return `#/audit?${q}`;
  };
  return element('nav', null, [
    ...(trail.length > 0 ? [link(at(trail.slice(0, -1)), 'Previous page', { rel: 'prev' })] : []),
    element('span', `Page ${trail.length + 1}`, [], { class: 'muted' }),
    ...(next ? [link(at([...trail, String(next)]), 'Next page', { rel: 'next' })] : []),
  ], { class: 'pager', 'aria-label': 'Pages of audit records' });
}

function exportForm(query, note) {
  const format = element('select', null, [['jsonl', 'JSON lines'], ['cef', 'CEF (ArcSight)']]
    .map(([value, text]) => element('option', text, [], { value })), { id: 'export-format' });
  const form = element('form', null, [
    element('label', 'Export format', [], { for: 'export-format' }), format, button('Export these records', 'submit'),
  ], { class: 'filters', 'aria-label': 'Export audit records' });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const params = selected(query);
    params.set('format', format.value);
    try {
      saveFile(await download(`/audit/export?${params}`), `coffer-audit.${format.value === 'cef' ? 'cef' : 'jsonl'}`);
    } catch (e) {
      note.show(e);
    }
  });
  return element('section', null, [element('h2', 'Export', [], { id: 'export-title' }),
    element('p', 'Downloads every record the filters select (all pages), oldest first.', [], { class: 'hint' }), form],
  { 'aria-labelledby': 'export-title' });
}

// Field names of a record, in the order a reader wants them; any other field follows under its own name.
const labels = {
  sequence: 'Record', time: 'Time', node: 'Node', action: 'Action', outcome: 'Outcome', errorName: 'Error', reason: 'Reason',
  actorKind: 'Actor kind', actorId: 'Actor', keyStore: 'Key store', keyId: 'Key', keyVersion: 'Key version', latencyMs: 'Latency (ms)',
  sourceIp: 'Source IP', kmsRequestId: 'KMS request id', awsPrincipalArn: 'AWS principal', kmsKeyArn: 'KMS key ARN',
  awsAccount: 'AWS account', awsRegion: 'AWS region', kmsOperation: 'KMS operation', kmsViaService: 'Via service',
  awsSourceVpc: 'Source VPC', awsSourceVpce: 'Source VPC endpoint', details: 'Details', prevHash: 'Previous hash', hash: 'Hash',
};

async function renderRecord(view, sequence) {
  const back = location.hash.split('?')[1] ?? '';
  const backLink = link(`#/audit${back ? '?' + back : ''}`, 'Back to the records');
  const wanted = Number(sequence);
  // The listing's cursor is exclusive: the newest record before wanted + 1 is the record itself, if stored.
  const page = Number.isSafeInteger(wanted) && wanted > 0 ? await api('GET', `/audit/records?before=${wanted + 1}&limit=1`) : { records: [] };
  const record = page.records.find((r) => r.sequence === wanted);
  if (!record) {
    view.replaceChildren(element('h1', `Audit record ${sequence}`),
      element('p', page.archived ?? 'There is no such record.', [], { class: 'error', role: 'alert' }), backLink);
    return;
  }
  const names = [...Object.keys(labels), ...Object.keys(record).filter((k) => !(k in labels))];
  view.replaceChildren(
    element('h1', `Audit record ${record.sequence}`),
    element('dl', null, names.filter((k) => record[k] !== undefined && record[k] !== null).flatMap((k) => [
      element('dt', labels[k] ?? k), element('dd', k === 'time' ? `${time(record.time)} (${record.time})` : String(record[k]), [], k === 'hash' || k === 'prevHash' ? { class: 'hash' } : {}),
    ]), { class: 'record' }),
    backLink,
  );
}

const time = (iso) => new Date(iso).toLocaleString();
