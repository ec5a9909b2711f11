// What the logged-in caller may do, from GET /api/v1/sys/whoami: the console shows only what the roles
// allow (the server refuses the rest anyway).

let grants = [];
let me = { id: null, groups: [] };

export function remember(whoami) {
  grants = whoami.grants ?? [];
  me = { id: whoami.id, groups: whoami.groups ?? [] };
}

/** The caller's id and groups (approver groups of quorum policies). */
export function caller() {
  return me;
}

/** Whether a grant holds the permission on every key store, or on this one. */
export function can(permission, keyStoreId) {
  return grants.some((g) => (g.permissions ?? []).includes(permission) && (!g.keyStoreId || g.keyStoreId === keyStoreId));
}

/** Whether any grant holds the permission, on any key store. */
export function canSomewhere(permission) {
  return grants.some((g) => (g.permissions ?? []).includes(permission));
}
