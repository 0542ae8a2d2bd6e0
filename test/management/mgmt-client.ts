/** A tiny HTTP client for the management API in tests (basic auth, JSON both ways). */
export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
}

export function managementClient(port: number, user = 'guest', password = 'guest') {
  const auth = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
  const call = async <T = any>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  return {
    get: <T = any>(path: string) => call<T>('GET', path),
    put: <T = any>(path: string, body: unknown = {}) => call<T>('PUT', path, body),
    post: <T = any>(path: string, body: unknown = {}) => call<T>('POST', path, body),
    del: <T = any>(path: string) => call<T>('DELETE', path),
  };
}

/** Polls `fn` until it returns a truthy value (state reached through the network, not a timer assertion). */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 15000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
