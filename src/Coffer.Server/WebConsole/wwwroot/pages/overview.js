// Overview: the installation's seal state and every node of the cluster.
import { api } from '../api.js';
import { element, table } from './dom.js';

export async function renderOverview(view) {
  const status = await api('GET', '/sys/status');
  const seal = status.sealed ? 'Sealed' : 'Unsealed';
  view.replaceChildren(
    element('h1', 'Overview'),
    element('dl', null, [
      element('dt', 'Seal'), element('dd', `${seal} (${status.sealKind ?? 'not initialised'})`, [], { id: 'seal-state' }),
      element('dt', 'Version'), element('dd', status.version),
      element('dt', 'Key stores'), element('dd', String(status.keyStoreCount ?? '—')),
    ]),
    element('h2', 'Nodes'),
    table('Nodes of this installation', ['Node', 'State', 'Sealed', 'Health', 'HSM', 'Leader'],
      (status.nodes ?? []).map((n) => [n.id, n.state, n.sealed ? 'yes' : 'no', n.health, n.hsmHealth ?? '—', n.leader ? 'yes' : ''])),
  );
}
