// Alerts: the webhooks (add one, its signing secret shown once; remove one) and their deliveries with
// state, attempts, last answer or error and next attempt, filtered by state (docs/alerts.md).
import { api } from '../api.js';
import { can } from '../access.js';
import { button, element, field, problemNote, shownOnce, table, titled } from './dom.js';

const deliveryStates = ['pending', 'delivered', 'failed'];

export async function renderAlerts(view) {
  const query = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const state = deliveryStates.includes(query.get('state')) ? query.get('state') : '';
  const [webhooks, deliveries] = await Promise.all([
    api('GET', '/alerts/webhooks'),
    api('GET', state ? `/alerts/deliveries?state=${state}&limit=100` : '/alerts/deliveries?limit=100'),
  ]);
  const mayWrite = can('alerts.write');
  const note = problemNote();
  view.replaceChildren(
    element('h1', 'Alerts'),
    titled('Webhooks', element('div', null, [
      webhooks.length === 0 ? element('p', 'No webhook yet.', [], { class: 'muted' })
        : table('Webhooks', ['Id', 'Address', 'Events', 'Added', 'Actions'],
          webhooks.map((w) => [w.id, w.url, w.events.length === 0 ? 'every event' : w.events.join(', '), when(w.createdAt),
            mayWrite ? removeButton(view, w, note) : ''])),
      ...(mayWrite ? [addForm(view, note)] : []),
      element('div', null, [], { id: 'new-webhook' }),
      note.node,
    ])),
    titled('Deliveries', element('div', null, [
      deliveryFilter(view, state),
      deliveries.deliveries.length === 0 ? element('p', 'No delivery yet.', [], { class: 'muted' })
        : table('Deliveries, newest first', ['Event', 'Type', 'Webhook', 'State', 'Attempts', 'Last attempt', 'Last answer', 'Next attempt', 'Delivered'],
          deliveries.deliveries.map((d) => [d.eventId, d.type, d.webhookId, d.state, String(d.attempts), d.lastAttemptAt ? when(d.lastAttemptAt) : '—',
            d.lastError ?? (d.lastStatus ? `HTTP ${d.lastStatus}` : '—'), d.nextAttemptAt && d.state === 'pending' ? when(d.nextAttemptAt) : '—',
            d.deliveredAt ? when(d.deliveredAt) : '—'])),
    ])),
  );
}

function addForm(view, note) {
  const url = field('Webhook address (https, or http to a loopback address)', 'webhook-url', { required: '', type: 'url' });
  const events = field('Events (comma separated; empty: every event)', 'webhook-events', { placeholder: 'key.disable, approval' });
  const form = element('form', null, [element('h2', 'New webhook'), ...url.nodes, ...events.nodes, button('Add webhook', 'submit')],
    { 'aria-label': 'New webhook' });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const list = events.input.value.split(',').map((e) => e.trim()).filter((e) => e);
    try {
      const created = await api('POST', '/alerts/webhooks', { url: url.input.value, events: list });
      await renderAlerts(view);
      view.querySelector('#new-webhook').replaceChildren(shownOnce('webhook', `New webhook ${created.id}`,
        'The signing secret is shown only now; Coffer keeps it sealed. Give it to the receiver, which checks each delivery\'s Coffer-Signature with it.',
        'signing secret', created.secret));
      view.querySelector('#webhook-copy').focus();
    } catch (e) {
      note.show(e);
    }
  });
  return form;
}

function removeButton(view, webhook, note) {
  const remove = button(`Remove ${webhook.id}`, 'button', { class: 'danger' });
  remove.addEventListener('click', async () => {
    if (!confirm(`Remove the webhook to ${webhook.url}? Its pending deliveries fail.`)) return;
    try {
      await api('DELETE', `/alerts/webhooks/${webhook.id}`);
      await renderAlerts(view);
    } catch (e) {
      note.show(e);
    }
  });
  return remove;
}

function deliveryFilter(view, state) {
  const select = element('select', null, [element('option', 'Any state', [], { value: '' }),
    ...deliveryStates.map((s) => element('option', s, [], { value: s }))], { id: 'delivery-state' });
  select.value = state;
  const form = element('form', null, [element('label', 'State', [], { for: 'delivery-state' }), select, button('Show deliveries', 'submit')],
    { class: 'filters', 'aria-label': 'Filter deliveries' });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    // The same address reloads too: a click always shows the deliveries of now.
    const target = select.value ? `#/alerts?state=${select.value}` : '#/alerts';
    if (location.hash === target) renderAlerts(view);
    else location.hash = target;
  });
  return form;
}

const when = (time) => new Date(time).toLocaleString();
