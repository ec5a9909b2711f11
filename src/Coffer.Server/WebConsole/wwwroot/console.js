// The console's shell: login, logout, and the page of the address's #/fragment.
import { ApiError, currentSession, logIn, logOut } from './api.js';
import { renderOverview } from './pages/overview.js';

const pages = { overview: renderOverview };
const $ = (id) => document.getElementById(id);

async function start() {
  $('login-form').addEventListener('submit', onLogin);
  $('logout').addEventListener('click', onLogout);
  window.addEventListener('hashchange', () => show());
  const session = await currentSession();
  if (session) enter(session);
  else showLogin();
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
    enter(session);
  } catch (e) {
    field.value = '';
    showLogin(e instanceof ApiError ? e.message : 'Coffer could not be reached.');
  }
}

async function onLogout() {
  await logOut();
  showLogin('You are logged out.');
}

function enter(session) {
  $('login').hidden = true;
  for (const id of ['nav', 'who', 'logout', 'view']) $(id).hidden = false;
  $('who').textContent = `${session.callerName} (${session.callerKind})`;
  show();
}

async function show() {
  const name = location.hash.replace(/^#\//, '') || 'overview';
  const render = pages[name] ?? pages.overview;
  const view = $('view');
  try {
    await render(view);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) showLogin('Your session has ended; log in again.');
    else view.replaceChildren(Object.assign(document.createElement('p'), { className: 'error', role: 'alert', textContent: e.message }));
  }
}

start();
