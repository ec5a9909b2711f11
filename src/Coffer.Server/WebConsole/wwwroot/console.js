// The console's shell: login, logout, and the page of the address's #/fragment.
import { api, ApiError, currentSession, identityProvider, logIn, logOut } from './api.js';
import { canSomewhere, remember } from './access.js';
import { renderAlerts } from './pages/alerts.js';
import { renderApprovals } from './pages/approvals.js';
import { renderAudit } from './pages/audit.js';
import { renderKeys } from './pages/keys.js';
import { renderKeyStores } from './pages/keystores.js';
import { renderKillSwitch } from './pages/killswitch.js';
import { renderOverview } from './pages/overview.js';
import { renderPeople } from './pages/people.js';
import { renderRules } from './pages/rules.js';

// Each page: its renderer, and the permission without which the menu leaves it out.
const pages = {
  overview: { render: renderOverview },
  keystores: { render: renderKeyStores, needs: 'keystores.read' },
  keys: { render: renderKeys, needs: 'keys.read' },
  killswitch: { render: renderKillSwitch, needs: 'killswitch.read' },
  rules: { render: renderRules, needs: 'policies.read' },
  approvals: { render: renderApprovals, needs: 'approvals.read' },
  people: { render: renderPeople, needs: 'identities.read' },
  alerts: { render: renderAlerts, needs: 'alerts.read' },
  audit: { render: renderAudit, needs: 'audit.read' },
};
const $ = (id) => document.getElementById(id);

// Why a login through the identity provider opened no session: the server sends the browser back to
// #/login?error=<code> (docs/console.md, "Login through the identity provider").
const oidcErrors = {
  state: 'The login through the identity provider could not be matched to this browser: it took too long, or was started elsewhere. Try again.',
  provider: 'The identity provider did not complete the login. Try again, or ask its administrator.',
  client: 'The identity provider refused Coffer\'s client credentials (its client id or secret), so no one can log in through it until an administrator corrects Coffer\'s Oidc settings. Log in with a management token meanwhile.',
  unreachable: 'The identity provider cannot be reached. Try again later, or log in with a management token.',
  token: 'The identity provider\'s answer did not pass Coffer\'s checks; no session was opened.',
  disabled: 'Your Coffer user is disabled.',
  role: 'Your identity-provider groups give you no role in Coffer. Ask an administrator to map one of them.',
  audit: 'The audit log could not record the login, so no session was opened. Try again later.',
};

async function start() {
  $('login-form').addEventListener('submit', onLogin);
  $('logout').addEventListener('click', onLogout);
  window.addEventListener('hashchange', () => show());
  const loginError = location.hash.startsWith('#/login') ? new URLSearchParams(location.hash.split('?')[1] ?? '').get('error') : null;
  if (loginError !== null) history.replaceState(null, '', location.pathname);
  const provider = await identityProvider();
  if (provider) {
    $('oidc-link').textContent = `Log in with ${provider.provider}`;
    $('oidc-login').hidden = false;
  }
  const session = await currentSession();
  if (session) await enter(session);
  else showLogin(loginError === null ? '' : oidcErrors[loginError] ?? 'The login through the identity provider failed.');
}

function showLogin(message = '') {
  for (const id of ['nav', 'who', 'logout', 'view']) $(id).hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('token').focus();
}

async function onLogin(event) {
  event.preventDefault();
  const field = $('token');
  try {
    const session = await logIn(field.value);
    field.value = '';
    await enter(session);
  } catch (e) {
    field.value = '';
    showLogin(e instanceof ApiError ? e.message : 'Coffer could not be reached.');
  }
}

async function onLogout() {
  await logOut();
  showLogin('You are logged out.');
}

async function enter(session) {
  remember(await api('GET', '/sys/whoami'));
  $('login').hidden = true;
  for (const link of $('nav').querySelectorAll('a')) {
    const page = pages[link.getAttribute('href').slice(2)];
    link.hidden = Boolean(page?.needs) && !canSomewhere(page.needs);
  }
  for (const id of ['nav', 'who', 'logout', 'view']) $(id).hidden = false;
  $('who').textContent = `${session.callerName} (${session.callerKind})`;
  show();
}

async function show() {
  const [name, ...rest] = location.hash.replace(/^#\//, '').split('?')[0].split('/');
  const page = pages[name] ?? pages.overview;
  const view = $('view');
  try {
    await page.render(view, ...rest.map(decodeURIComponent));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) showLogin('Your session has ended; log in again.');
    else view.replaceChildren(Object.assign(document.createElement('p'), { className: 'error', role: 'alert', textContent: e.message }));
  }
}

start();
