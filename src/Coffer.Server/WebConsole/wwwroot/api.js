// Every call of the console is an ordinary /api/v1 call (docs/console.md): the session cookie
// authenticates it, and a call that changes something carries the session's CSRF token too.

let csrf = null;

/** A refused or failed call: the problem+json answer's title and detail. */
export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail || title || `HTTP ${status}`);
    this.status = status;
    this.title = title;
  }
}

/** `reason`, when given, goes as the Coffer-Reason header: the change's audit record keeps it. */
export async function api(method, path, body, reason) {
  const headers = { Accept: 'application/json' };
  if (reason) headers['Coffer-Reason'] = reason;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers[csrf.header] = csrf.token;
  const response = await fetch('/api/v1' + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  const text = await response.text();
  const data = text && (response.headers.get('Content-Type') || '').includes('json') ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data?.title, data?.detail);
  return data;
}

/** The current session, or null when the browser has none. */
export async function currentSession() {
  try {
    return remember(await api('GET', '/session'));
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 401)) return null;
    throw e;
  }
}

/** The identity provider the console may log in through ({ provider, start }), or null. */
export async function identityProvider() {
  try {
    return await api('GET', '/session/oidc');
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

export async function logIn(token) {
  return remember(await api('POST', '/session', { token }));
}

export async function logOut() {
  await api('DELETE', '/session');
  csrf = null;
}

function remember(session) {
  csrf = { header: session.csrfHeader, token: session.csrfToken };
  return session;
}
