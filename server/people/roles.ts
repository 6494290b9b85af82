// The four kinds of person who sign in (docs/security.md): here, not in the HTTP layer, so the store
// and the web app's types can name them without pulling in Fastify's plugins.
export const ROLES = ['advisor', 'team-lead', 'manager', 'admin'] as const;
export type Role = (typeof ROLES)[number];
