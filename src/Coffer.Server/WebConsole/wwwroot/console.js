// The console's shell: login, logout, and the page of the address's #/fragment.
import { api, ApiError, currentSession, identityProvider, logIn, logOut } from './api.js';
import { canSomewhere, remember } from './access.js';

// Each page: its module (loaded when the page first opens, so a fresh load fetches and parses only the
// shell and the page it shows), the function that renders it, and the permission without which the
// menu leaves it out.
const pages = {
  overview: { module: './pages/overview.js', render: 'renderOverview' },
  keystores: { module: './pages/keystores.js', render: 'renderKeyStores', needs: 'keystores.read' },
  keys: { module: './pages/keys.js', render: 'renderKeys', needs: 'keys.read' },
  killswitch: { module: './pages/killswitch.js', render: 'renderKillSwitch', needs: 'killswitch.read' },
  rules: { module: './pages/rules.js', render: 'renderRules', needs: 'policies.read' },
  approvals: { module: './pages/approvals.js', render: 'renderApprovals', needs: 'approvals.read' },
  people: { module: './pages/people.js', render: 'renderPeople', needs: 'identities.read' },
  alerts: { module: './pages/alerts.js', render: 'renderAlerts', needs: 'alerts.read' },
  audit: { module: './pages/audit.js', render: 'renderAudit', needs: 'audit.read' },
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
  // The page's module loads while the session is looked up; import() keeps it for show().
  import(route().page.module).catch(() => {});
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

/** The page the address's #/fragment names (the Overview when it names none), and its arguments. */
function route() {
  const [name, ...rest] = location.hash.replace(/^#\//, '').split('?')[0].split('/');
  return { page: pages[name] ?? pages.overview, args: rest.map(decodeURIComponent) };
}

async function show() {
  const { page, args } = route();
  const view = $('view');
  try {
    const module = await import(page.module);
    await module[page.render](view, ...args);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) showLogin('Your session has ended; log in again.');
    else view.replaceChildren(Object.assign(document.createElement('p'), { className: 'error', role: 'alert', textContent: e.message }));
  }
}

start();
