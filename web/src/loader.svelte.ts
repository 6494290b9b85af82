// One API read kept fresh for a page: loaded now, again every `everyMs` while the tab is visible (a
// polite poll, until the people's pages follow the live socket), and on demand after an action. A 401
// means the session ended: the page goes to sign-in.
import { api, ApiError } from './api.js';
import { session } from './session.svelte.js';

export class Loader<T> {
  #data = $state<T | null>(null);
  #error = $state<string | null>(null);
  #status = $state<number | null>(null);
  #timer: ReturnType<typeof setInterval> | null = null;
  #url: () => string;

  constructor(url: () => string) {
    this.#url = url;
  }

  get data(): T | null {
    return this.#data;
  }

  get error(): string | null {
    return this.#error;
  }

  /** The HTTP status of the last failure (404: not there, or not yours). */
  get status(): number | null {
    return this.#status;
  }

  async refresh(): Promise<void> {
    try {
      this.#data = await api<T>('GET', this.#url());
      this.#error = null;
      this.#status = null;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return session.lost();
      this.#error = e instanceof Error ? e.message : String(e);
      this.#status = e instanceof ApiError ? e.status : null;
    }
  }

  /** Starts the reads; returns the stop function (for $effect / onMount). */
  start(everyMs = 10_000): () => void {
    void this.refresh();
    const onVisible = () => {
      if (document.visibilityState === 'visible') void this.refresh();
    };
    this.#timer = setInterval(() => {
      if (document.visibilityState === 'visible') void this.refresh();
    }, everyMs);
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      if (this.#timer !== null) clearInterval(this.#timer);
      this.#timer = null;
      document.removeEventListener('visibilitychange', onVisible);
    };
  }
}

/** Runs an action, answering the error's words for the page's status line (401: to sign-in). */
export async function attempt(run: () => Promise<unknown>): Promise<string | null> {
  try {
    await run();
    return null;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      session.lost();
      return 'Your session ended: sign in again.';
    }
    return e instanceof Error ? e.message : String(e);
  }
}
