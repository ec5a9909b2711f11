// The audit page's verification panel: GET /api/v1/audit/verify streamed as JSON lines, its progress shown
// as it walks, and its result. A walk runs only when asked: on a large log a full one takes minutes, and
// paging must not start one. The last result stays (in this tab's memory) while the caller pages and filters.
import { streamLines } from '../api.js';
import { button, element } from './dom.js';

let last = null; // { result, at } of the last walk this tab ran

export function verifyPanel() {
  const status = element('div', null, [], { id: 'verify-status', role: 'status' });
  const alert = element('div', null, [], { role: 'alert' });
  show(status, alert);
  const full = element('input', null, [], { id: 'verify-full', type: 'checkbox' });
  const run = button('Verify now');
  run.addEventListener('click', async () => {
    run.disabled = true;
    alert.replaceChildren();
    const progress = element('progress', null, [], { max: '1', value: '0', 'aria-label': 'Records verified' });
    const counted = element('span', 'Starting…');
    status.replaceChildren(element('p', null, [progress, ' ', counted]));
    try {
      await streamLines(`/audit/verify${full.checked ? '?full=true' : ''}`, (line) => {
        if (line.progress) {
          const p = line.progress;
          progress.max = String(Math.max(p.headSequence, 1));
          progress.value = String(p.lastSequence);
          counted.textContent = `${p.records.toLocaleString()} records verified, through ${p.lastSequence.toLocaleString()} of ${p.headSequence.toLocaleString()}`;
        }
        if (line.result) last = { result: line.result, at: new Date() };
      });
    } catch (e) {
      last = null;
      status.replaceChildren();
      alert.replaceChildren(element('p', `Verify failed: ${e.message}`, [], { class: 'error' }));
      return;
    } finally {
      run.disabled = false;
    }
    show(status, alert);
  });
  return element('section', null, [
    element('h2', 'Verification', [], { id: 'verify-title' }),
    element('p', 'Verify walks the chain from where the last successful verify ended (any console or CLI), or with "whole chain" from the start; it shows its progress as it goes.', [], { class: 'hint' }),
    element('div', null, [full, element('label', 'Walk the whole chain', [], { for: 'verify-full' }), run], { class: 'actions' }),
    status,
    alert,
  ], { 'aria-labelledby': 'verify-title' });
}

function show(status, alert) {
  if (!last) {
    status.replaceChildren(element('p', 'Not verified from this page yet.', [], { class: 'muted' }));
    return;
  }
  const r = last.result;
  const when = `checked ${last.at.toLocaleTimeString()}`;
  if (r.ok) {
    status.replaceChildren(element('p', `Intact: ${r.records.toLocaleString()} records verified, ${r.firstSequence.toLocaleString()} to ${r.lastSequence.toLocaleString()}; last checkpoint ${r.lastCheckpoint.toLocaleString()} (${when}).`, [], { id: 'verify-result', class: 'ok' }),
      element('p', `Anchor to keep outside Coffer: ${r.lastSequence}:${r.lastHash}`, [], { class: 'hash' }));
  } else {
    status.replaceChildren();
    alert.replaceChildren(element('p', `Broken: ${r.problem} at record ${r.problemSequence}: ${r.message} (${when}).`, [], { id: 'verify-result', class: 'error' }));
  }
}
