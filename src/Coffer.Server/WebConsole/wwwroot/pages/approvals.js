// Approvals: the inbox of pending requests the caller may vote on (the server's answer, ?mayVote=true),
// the caller's own waiting requests, the history of ended ones, and one request's page (#/approvals/<id>)
// with exactly what would run, its votes, approve and deny, and cancel for its requester. On that page
// the vote controls show by whoami (approvals.vote, the approver group, not the requester, not voted
// yet): a convenience only, the server decides at the vote.
import { api, ApiError } from '../api.js';
import { can, canSomewhere, caller } from '../access.js';
import { button, element, field, link, problemNote, shownOnce, table, titled } from './dom.js';

const endedStates = ['executed', 'approved', 'denied', 'cancelled', 'expired', 'void', 'interrupted'];
const historyLimit = 100;

export async function renderApprovals(view, id) {
  if (id) return renderRequest(view, id);
  const query = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const state = endedStates.includes(query.get('state')) ? query.get('state') : '';
  let forMe;
  let pending;
  let ended;
  try {
    [forMe, pending, ended] = await Promise.all([
      api('GET', '/approvals?mayVote=true&limit=1000'),
      api('GET', '/approvals?state=pending&limit=1000'),
      api('GET', state ? `/approvals?state=${state}&limit=${historyLimit}` : `/approvals?limit=${historyLimit}`),
    ]);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 403) throw e;
    // Listing every request needs an unscoped role (docs/users.md); a request itself opens by its address.
    view.replaceChildren(element('h1', 'Approvals'),
      element('p', 'Your role does not list approval requests: it holds them only on some key stores. Open a request from the link you were given.', [], { class: 'muted' }));
    return;
  }
  const me = caller();
  const mine = pending.filter((r) => r.requester.id === me.id);
  const others = pending.filter((r) => r.requester.id !== me.id && !forMe.some((f) => f.id === r.id));
  const past = ended.filter((r) => r.state !== 'pending');
  view.replaceChildren(
    element('h1', 'Approvals'),
    titled('Waiting for your vote', forMe.length === 0 ? muted('Nothing waits for your vote.') : pendingTable('Requests waiting for your vote', forMe)),
    titled('Your requests', mine.length === 0 ? muted('You have no request waiting.') : pendingTable('Your requests waiting for approval', mine)),
    titled('Other pending requests', others.length === 0 ? muted('No other request waits.') : pendingTable('Other pending requests', others)),
    titled('History', element('div', null, [
      historyFilter(state),
      past.length === 0 ? muted('No request ended yet.')
        : table('Ended approval requests', ['Request', 'Operation', 'State', 'Asked by', 'Asked', 'Ended', 'Why it ended'],
          past.map((r) => [link(`#/approvals/${r.id}`, r.id), r.operation, r.state, who(r.requester), when(r.createdAt), r.finishedAt ? when(r.finishedAt) : '—', r.endReason ?? '—'])),
      element('p', `The newest ${historyLimit} are shown.`, [], { class: 'hint' }),
    ])),
  );
}

/** Whether this caller could vote on the request: a convenience for showing the controls; the server decides. */
function mayVote(request) {
  const me = caller();
  return request.state === 'pending' && canSomewhere('approvals.vote') && request.requester.id !== me.id
    && me.groups.includes(request.approverGroup) && !request.votes.some((v) => v.voterId === me.id);
}

function pendingTable(caption, requests) {
  return table(caption, ['Request', 'What would run', 'Asked by', 'Why', 'Expires', 'Votes'],
    requests.map((r) => [link(`#/approvals/${r.id}`, r.id), heldCallLine(r), who(r.requester), r.reason ?? '—', when(r.expiresAt), tally(r)]));
}

/** The held call on one line: method, path and compact JSON body. */
function heldCallLine(request) {
  const body = request.body === undefined || request.body === null ? [] : [' ', element('code', JSON.stringify(request.body))];
  return element('span', null, [element('code', `${request.method} ${request.path}`), ...body]);
}

function historyFilter(state) {
  const select = element('select', null, [element('option', 'Every ended state', [], { value: '' }),
    ...endedStates.map((s) => element('option', s, [], { value: s }))], { id: 'history-state' });
  select.value = state;
  const form = element('form', null, [element('label', 'State', [], { for: 'history-state' }), select, button('Show', 'submit')],
    { class: 'filters', 'aria-label': 'Filter the history' });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = select.value ? `#/approvals?state=${select.value}` : '#/approvals';
  });
  return form;
}

async function renderRequest(view, id) {
  const request = await api('GET', `/approvals/${encodeURIComponent(id)}`);
  const me = caller();
  const note = problemNote();
  view.replaceChildren(
    element('h1', `Approval request ${request.id}`),
    element('dl', null, [
      element('dt', 'State'), element('dd', request.state, [], { id: 'approval-state' }),
      element('dt', 'Operation'), element('dd', request.operation),
      element('dt', 'Asked by'), element('dd', who(request.requester)),
      element('dt', 'Why'), element('dd', request.reason ?? '—'),
      element('dt', 'Asked'), element('dd', when(request.createdAt)),
      element('dt', 'Expires'), element('dd', when(request.expiresAt)),
      element('dt', 'Votes'), element('dd', `${tally(request)} from ${request.approverGroup} (policy ${request.policy})`, [], { id: 'approval-votes' }),
      ...(request.finishedAt ? [element('dt', 'Ended'), element('dd', `${when(request.finishedAt)}: ${request.endReason ?? request.state}`)] : []),
    ]),
    titled('What would run', heldCall(request)),
    ...(request.result ? [titled('What it answered', result(request, me, note))] : []),
    titled('Votes', request.votes.length === 0 ? muted('No vote yet.')
      : table('Votes on this request', ['Who', 'Vote', 'Comment', 'When'],
        request.votes.map((v) => [`${v.voterName} (${v.voterKind} ${v.voterId})`, v.vote, v.comment ?? '—', when(v.at)]))),
    yourPart(view, request, me, note),
    note.node,
  );
}

/** The held call exactly as it would run: method, path and JSON body (held calls carry no secret). */
function heldCall(request) {
  return element('div', null, [
    element('p', null, [element('code', `${request.method} ${request.path}`, [], { id: 'held-call' })]),
    request.body === undefined || request.body === null ? muted('No body.')
      : element('pre', JSON.stringify(request.body, null, 2), [], { id: 'held-body' }),
  ]);
}

function result(request, me, note) {
  const answer = request.result;
  let body;
  if (answer.sealedForRequester) {
    body = request.requester.id === me.id && can('approvals.write') ? takeAnswer(request, note)
      : element('p', 'The answer holds a secret: only the requester can see it, once.', [], { class: 'muted' });
  } else {
    body = answer.body === undefined || answer.body === null ? muted('No body.') : element('pre', JSON.stringify(answer.body, null, 2));
  }
  return element('div', null, [element('p', `HTTP ${answer.status}`), body]);
}

/** The requester's answer that holds a secret (a new credential's): the server gives it once, then erases it. */
function takeAnswer(request, note) {
  const place = element('div', null, [], { id: 'approval-answer' });
  const take = button('Show the answer once');
  take.addEventListener('click', async () => {
    try {
      const answer = await api('POST', `/approvals/${request.id}/result`);
      place.replaceChildren(shownOnce('answer', 'The answer of your request',
        'It holds a secret and is shown only now: Coffer has erased its copy. Copy it before you leave this page.', 'answer', JSON.stringify(answer)));
      place.querySelector('#answer-copy').focus();
    } catch (e) {
      note.show(e);
    }
  });
  place.append(take);
  return place;
}

/** What this caller may do here: vote, or see that they voted; cancel their own pending request. */
function yourPart(view, request, me, note) {
  const vote = request.votes.find((v) => v.voterId === me.id);
  if (vote) return element('p', `You voted ${vote.vote} on ${when(vote.at)}; nobody votes twice.`, [], { class: 'pending', role: 'status' });
  if (request.state !== 'pending') return element('div');
  if (request.requester.id === me.id) return ownRequest(view, request, note);
  if (mayVote(request)) return voteForm(view, request, note);
  return muted(`Only members of ${request.approverGroup} with the approver role vote on this request.`);
}

function ownRequest(view, request, note) {
  const left = request.requiredApprovals - request.approvals;
  const nodes = [element('p', `This is your request: it waits for ${left} more approval${left === 1 ? '' : 's'} from ${request.approverGroup}. You cannot vote on it.`,
    [], { class: 'pending', role: 'status' })];
  if (can('approvals.write')) {
    const cancel = button('Cancel request', 'button', { class: 'danger' });
    cancel.addEventListener('click', async () => {
      if (!confirm(`Cancel ${request.id}? Nothing will run.`)) return;
      try {
        await api('POST', `/approvals/${request.id}/cancel`);
        await renderRequest(view, request.id);
      } catch (e) {
        note.show(e);
      }
    });
    nodes.push(cancel);
  }
  return element('div', null, nodes);
}

function voteForm(view, request, note) {
  const comment = field('Comment (required to deny)', 'vote-comment', { maxlength: '512', 'aria-describedby': 'vote-comment-error' });
  const error = element('p', null, [], { id: 'vote-comment-error', class: 'error', role: 'alert' });
  const vote = async (verb) => {
    error.textContent = '';
    if (verb === 'deny' && !comment.input.value.trim()) {
      error.textContent = 'Say why you deny it: the requester and the audit log read this.';
      comment.input.focus();
      return;
    }
    try {
      await api('POST', `/approvals/${request.id}/${verb}`, comment.input.value ? { comment: comment.input.value } : {});
      await renderRequest(view, request.id);
    } catch (e) {
      note.show(e);
    }
  };
  const approve = button('Approve');
  approve.addEventListener('click', () => vote('approve'));
  const deny = button('Deny', 'button', { class: 'danger' });
  deny.addEventListener('click', () => vote('deny'));
  const form = element('form', null, [element('h2', 'Your vote'), ...comment.nodes, error, element('div', null, [approve, deny], { class: 'actions' })],
    { 'aria-label': 'Your vote' });
  form.addEventListener('submit', (event) => event.preventDefault());
  return form;
}

const muted = (text) => element('p', text, [], { class: 'muted' });
const who = (requester) => `${requester.name} (${requester.kind} ${requester.id})`;
const when = (time) => new Date(time).toLocaleString();
const tally = (r) => `${r.approvals} of ${r.requiredApprovals}`;
