// Key stores: the list, a new one, and one store's credentials: add (the secret shown once, with a copy
// button), revoke, and the file the AWS KMS console imports.
import { api } from '../api.js';
import { can } from '../access.js';
import { button, element, field, link, problemNote, table, waitingForApproval } from './dom.js';

export async function renderKeyStores(view, id) {
  if (id) return renderKeyStore(view, id);
  const stores = await api('GET', '/keystores');
  view.replaceChildren(
    element('h1', 'Key stores'),
    stores.length === 0 ? element('p', 'No key store yet.', [], { class: 'muted' })
      : table('Key stores', ['Name', 'URI prefix', 'Backend', 'Keys', 'Live credentials'],
        stores.map((s) => [link(`#/keystores/${s.id}`, s.name), s.uriPrefix, s.backend, String(s.keyCount), String(s.liveCredentialCount)])),
    ...(can('keystores.write') ? [createForm()] : []),
  );
}

function createForm() {
  const note = problemNote();
  const name = field('New key store name', 'store-name', { required: '', maxlength: '64' });
  const prefix = field('URI prefix', 'store-prefix', { required: '', placeholder: '/example' });
  const form = element('form', null, [element('h2', 'New key store'), ...name.nodes, ...prefix.nodes, button('Create key store', 'submit'), note.node],
    { 'aria-label': 'New key store' });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const created = await api('POST', '/keystores', { name: name.input.value, uriPrefix: prefix.input.value });
      location.hash = `#/keystores/${created.id}`;
    } catch (e) {
      note.show(e);
    }
  });
  return form;
}

async function renderKeyStore(view, id) {
  const store = await api('GET', `/keystores/${id}`);
  const mayRead = can('credentials.read', id);
  const credentials = mayRead ? await api('GET', `/keystores/${id}/credentials`) : [];
  const mayWrite = can('credentials.write', id);
  const note = problemNote();
  const secret = element('div', null, [], { id: 'new-credential' });

  const rows = credentials.map((c) => [
    c.accessKeyId, c.status, new Date(c.createdAt).toLocaleString(),
    c.status === 'live' && mayWrite ? actions(view, id, c, note) : '',
  ]);
  view.replaceChildren(
    element('h1', `Key store ${store.name}`),
    element('dl', null, [
      element('dt', 'Id'), element('dd', store.id),
      element('dt', 'URI prefix'), element('dd', store.uriPrefix),
      element('dt', 'XKS proxy URI path'), element('dd', store.xksProxyUriPath),
      element('dt', 'Backend'), element('dd', store.backend),
      element('dt', 'Keys'), element('dd', String(store.keyCount)),
    ]),
    element('h2', 'Credentials'),
    mayRead ? table('Credentials of this key store', ['Access key id', 'Status', 'Created', 'Actions'], rows)
      : element('p', 'Your role does not show credentials.', [], { class: 'muted' }),
    ...(mayWrite ? [addButton(view, id, secret, note)] : []),
    secret,
    note.node,
  );
}

function addButton(view, id, secret, note) {
  const add = button('Add credential');
  add.addEventListener('click', async () => {
    try {
      const answer = await api('POST', `/keystores/${id}/credentials`);
      if (answer.approvals !== undefined) {
        secret.replaceChildren(waitingForApproval(answer));
        return;
      }

      await renderKeyStore(view, id);
      view.querySelector('#new-credential').replaceChildren(shownOnce(answer));
      view.querySelector('#copy-secret').focus();
    } catch (e) {
      note.show(e);
    }
  });
  return add;
}

/** The new secret, shown this once: it is not stored in the browser and cannot be read again. */
function shownOnce(created) {
  const copy = button('Copy secret', 'button', { id: 'copy-secret' });
  copy.addEventListener('click', async () => {
    await navigator.clipboard.writeText(created.secretAccessKey);
    copy.textContent = 'Copied';
  });
  return element('section', null, [
    element('h2', 'New credential', [], { id: 'new-credential-title' }),
    element('p', 'The secret access key is shown only now. Copy it into the AWS KMS console (or download the file below) before you leave this page.', [], { class: 'warning' }),
    element('dl', null, [
      element('dt', 'Access key id'), element('dd', created.accessKeyId),
      element('dt', 'Secret access key'), element('dd', created.secretAccessKey, [], { id: 'new-secret', class: 'secret' }),
    ]),
    copy,
  ], { 'aria-labelledby': 'new-credential-title' });
}

function actions(view, id, credential, note) {
  const revoke = button(`Revoke ${credential.accessKeyId}`, 'button', { class: 'danger' });
  revoke.addEventListener('click', async () => {
    if (!confirm(`Revoke ${credential.accessKeyId}? AWS KMS can no longer call Coffer with it.`)) return;
    try {
      const answer = await api('DELETE', `/keystores/${id}/credentials/${credential.id}`);
      if (answer && answer.approvals !== undefined) {
        view.querySelector('#new-credential').replaceChildren(waitingForApproval(answer));
        return;
      }

      await renderKeyStore(view, id);
    } catch (e) {
      note.show(e);
    }
  });
  const download = link(`/api/v1/keystores/${id}/credentials/${credential.id}/aws-config`, `AWS console file for ${credential.accessKeyId}`,
    { download: `coffer-${credential.accessKeyId}.json` });
  return element('span', null, [download, ' ', revoke], { class: 'actions' });
}
