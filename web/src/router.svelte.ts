// A small client-side router for the people's pages: the path as state, links that navigate without
// a reload (the server answers index.html for each page's path), and the back button.

export type Page = { name: 'board' } | { name: 'queue' } | { name: 'team' } | { name: 'reports'; query: URLSearchParams } | { name: 'privacy' } | { name: 'settings' } | { name: 'sign-in'; next: string | null } | { name: 'contact'; id: string } | { name: 'not-found' };

export function pageOf(pathname: string, search = ''): Page {
  if (pathname === '/' || pathname === '') return { name: 'board' };
  if (pathname === '/queue') return { name: 'queue' };
  if (pathname === '/team') return { name: 'team' };
  if (pathname === '/privacy') return { name: 'privacy' };
  if (pathname === '/settings') return { name: 'settings' };
  if (pathname === '/reports') return { name: 'reports', query: new URLSearchParams(search) };
  if (pathname === '/sign-in') return { name: 'sign-in', next: new URLSearchParams(search).get('next') };
  const m = /^\/contacts\/([^/]{1,200})$/.exec(pathname);
  if (m !== null) return { name: 'contact', id: decodeURIComponent(m[1]!) };
  return { name: 'not-found' };
}

class Router {
  #path = $state(location.pathname);
  #search = $state(location.search);

  constructor() {
    addEventListener('popstate', () => this.#sync());
    // Same-origin links inside the app navigate in place; a modified click opens as the browser would.
    document.addEventListener('click', (e) => {
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      const a = (e.target as Element | null)?.closest?.('a');
      if (!a || a.target !== '' || a.hasAttribute('download') || a.origin !== location.origin) return;
      if (pageOf(a.pathname).name === 'not-found' || a.pathname.startsWith('/api/')) return;
      e.preventDefault();
      this.go(a.pathname + a.search);
    });
  }

  get page(): Page {
    return pageOf(this.#path, this.#search);
  }

  get path(): string {
    return this.#path;
  }

  /** A message for the next page to show once (e.g. "Transferred to …" after leaving a contact). */
  #flash: string | null = null;

  takeFlash(): string | null {
    const f = this.#flash;
    this.#flash = null;
    return f;
  }

  go(url: string, replace = false, flash: string | null = null): void {
    this.#flash = flash;
    if (replace) history.replaceState(null, '', url);
    else history.pushState(null, '', url);
    this.#sync();
    scrollTo(0, 0);
  }

  #sync(): void {
    this.#path = location.pathname;
    this.#search = location.search;
  }
}

export const router = new Router();
