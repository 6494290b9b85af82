// The people's pages talk to the API with the session cookie: JSON in and out, the CSRF token on
// every state-changing request, and an ApiError carrying the status (401 sends the page to sign-in).

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;

/** The token the server gave with the session (GET /api/v1/session), for `x-csrf-token`. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

async function ensureCsrf(): Promise<void> {
  if (csrfToken !== null) return;
  const r = await fetch('/api/v1/session/csrf', { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (r.ok) {
    const body = (await r.json()) as { token?: string; csrfToken?: string };
    csrfToken = body.csrfToken ?? body.token ?? null;
  }
}

export async function api<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') {
    await ensureCsrf();
    if (csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  }
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(url, { method, credentials: 'same-origin', headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await r.text();
  const json = text === '' ? null : (JSON.parse(text) as unknown);
  if (!r.ok) {
    const e = (json ?? {}) as { message?: string; field?: string };
    throw new ApiError(r.status, e.message ?? `${r.status} ${r.statusText}`, e.field);
  }
  return json as T;
}

/**
 * A POST whose answer is a file (the subject access export): saved by the browser under the name the
 * server gives (Content-Disposition), through an object URL, never a URL holding the request.
 */
export async function download(url: string, body: unknown, fallbackName: string): Promise<void> {
  await ensureCsrf();
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  const r = await fetch(url, { method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify(body) });
  if (!r.ok) {
    const e = ((await r.json().catch(() => ({}))) ?? {}) as { message?: string; field?: string };
    throw new ApiError(r.status, e.message ?? `${r.status} ${r.statusText}`, e.field);
  }
  const name = /filename="([^"]+)"/.exec(r.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName;
  const href = URL.createObjectURL(await r.blob());
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}
