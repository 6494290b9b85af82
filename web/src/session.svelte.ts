// Who is signed in, read from GET /api/v1/session; sign in and out. State is private behind getters.
import { api, ApiError, setCsrfToken } from './api.js';

export interface User {
  email: string;
  name: string;
  /** `display`: a wall screen (no person): it sees the board and nothing else. */
  role: 'advisor' | 'team-lead' | 'manager' | 'admin' | 'display';
  mustChangePassword?: boolean;
}

class Session {
  #user = $state<User | null>(null);
  #loaded = $state(false);

  get user(): User | null {
    return this.#user;
  }

  /** The first GET /api/v1/session has answered (signed in or not). */
  get loaded(): boolean {
    return this.#loaded;
  }

  async load(): Promise<User | null> {
    try {
      const me = await api<User & { csrfToken?: string }>('GET', '/api/v1/session');
      if (me.csrfToken !== undefined) setCsrfToken(me.csrfToken);
      this.#user = { email: me.email, name: me.name, role: me.role, ...(me.mustChangePassword !== undefined ? { mustChangePassword: me.mustChangePassword } : {}) };
    } catch (e) {
      if (!(e instanceof ApiError) || (e.status !== 401 && e.status !== 404)) throw e;
      this.#user = null;
    } finally {
      this.#loaded = true;
    }
    return this.#user;
  }

  async signIn(email: string, password: string): Promise<User | null> {
    setCsrfToken(null);
    await api('POST', '/api/v1/session', { email, password });
    return this.load();
  }

  async signOut(): Promise<void> {
    try {
      await api('DELETE', '/api/v1/session');
    } finally {
      setCsrfToken(null);
      this.#user = null;
    }
  }

  /** A 401 from any call: the session ended (expired, revoked, signed out elsewhere). */
  lost(): void {
    this.#user = null;
  }
}

export const session = new Session();

/** Where a person lands after signing in: advisors their queue, managers the weekly report, admins the settings (they have no board), everyone else the board. */
export function homeOf(user: User): string {
  if (user.role === 'display') return '/';
  if (user.role === 'advisor') return '/queue';
  if (user.role === 'manager') return '/reports';
  if (user.role === 'admin') return '/settings';
  return '/';
}
