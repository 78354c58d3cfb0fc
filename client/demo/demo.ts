/**
 * The local demo page: signs in with a dev token, shows notifications live with an unread
 * badge kept by the server's `state`, marks them read, subscribes to topics and publishes
 * a test notification. After a reconnect the client replays what was missed; a gap reloads
 * the list from the HTTP API. Talks to the launcher's `/dev/*` endpoints and HTTP API on
 * the same origin and to the WebSocket gateway through HeraldClient.
 */
import { type ConnectionEvent, HeraldClient, type Notification } from '../herald-client';

interface DevConfig {
  websocketUrl: string;
  sesViewerUrl?: string;
}

interface Me {
  user: string;
  tenant: string;
  topics: string;
}

function byTestId<T extends HTMLElement>(testId: string): T {
  const element = document.querySelector<T>(`[data-testid="${testId}"]`);
  if (element === null) throw new Error(`the page has no [data-testid="${testId}"]`);
  return element;
}

const ui = {
  signinForm: byTestId<HTMLInputElement>('signin-user').form as HTMLFormElement,
  subscribeForm: byTestId<HTMLInputElement>('topic-input').form as HTMLFormElement,
  topicInput: byTestId<HTMLInputElement>('topic-input'),
  subscribeButton: byTestId<HTMLButtonElement>('subscribe-button'),
  publishButton: byTestId<HTMLButtonElement>('publish-button'),
  state: byTestId('connection-state'),
  detail: byTestId('connection-detail'),
  sesLink: byTestId<HTMLAnchorElement>('ses-link'),
  badge: byTestId('unread-badge'),
  list: byTestId<HTMLUListElement>('notification-list'),
  subscriptions: byTestId<HTMLUListElement>('subscription-list'),
  message: byTestId('demo-message'),
};

let client: HeraldClient | undefined;
let me: Me | undefined;
let unread = 0;
const config = loadConfig();

async function loadConfig(): Promise<DevConfig> {
  const response = await fetch('/dev/config', { cache: 'no-store' });
  if (!response.ok) throw new Error(`GET /dev/config failed: HTTP ${response.status}`);
  const body = (await response.json()) as Partial<DevConfig>;
  if (typeof body.websocketUrl !== 'string') throw new Error('/dev/config has no websocketUrl');
  // The page ships with the default local port; the launcher knows the real one.
  if (typeof body.sesViewerUrl === 'string') ui.sesLink.href = body.sesViewerUrl;
  return { websocketUrl: body.websocketUrl, sesViewerUrl: body.sesViewerUrl };
}

/** Asked again before every reconnect, so an expired dev token never strands the page. */
async function fetchToken({ user, tenant, topics }: Me): Promise<string> {
  const query = new URLSearchParams({ user, tenant, topics });
  const response = await fetch(`/dev/token?${query}`, { cache: 'no-store' });
  if (!response.ok) throw new Error(`GET /dev/token failed: HTTP ${response.status}`);
  // Accept `{ "token": "..." }` or the bare token as text.
  if ((response.headers.get('content-type') ?? '').includes('json')) {
    const body = (await response.json()) as { token?: unknown };
    if (typeof body.token === 'string') return body.token;
    throw new Error('/dev/token answered without a token');
  }
  return (await response.text()).trim();
}

async function signIn(): Promise<void> {
  const form = new FormData(ui.signinForm);
  const next: Me = {
    user: String(form.get('user') ?? '').trim(),
    tenant: String(form.get('tenant') ?? '').trim() || 'default',
    topics: String(form.get('topics') ?? '').trim(),
  };
  if (next.user === '') return;
  client?.close();
  client = undefined;
  me = next;
  ui.list.replaceChildren();
  ui.subscriptions.replaceChildren();
  setUnread(0);
  showMessage('');

  const { websocketUrl } = await config;
  if (me !== next) return; // signed in again meanwhile
  const signedIn = new HeraldClient({ url: websocketUrl, token: () => fetchToken(next) });
  client = signedIn;
  signedIn.on('connection', (event) => {
    renderConnection(event);
    // Notify's state on connect: the badge starts from the server's count.
    if (event.state === 'open') refreshState(signedIn);
  });
  signedIn.on('notification', addNotification);
  signedIn.on('state', ({ unread: count }) => setUnread(count));
  // Replayed notifications were counted as they came; the server's count settles it.
  signedIn.on('resumed', ({ replayed }) => {
    refreshState(signedIn);
    if (replayed > 0) showMessage(`caught up on ${replayed} missed while away`);
  });
  signedIn.on('gap', () => void reloadAfterGap(signedIn, next));
  signedIn.on('error', (error) => showMessage(`${error.code}: ${error.message}`));
  signedIn.connect();
  ui.subscribeButton.disabled = false;
  ui.publishButton.disabled = false;
}

function renderConnection(event: ConnectionEvent): void {
  ui.state.textContent = event.state;
  ui.state.dataset.state = event.state;
  ui.detail.textContent =
    event.state === 'reconnecting'
      ? `attempt ${event.attempt}, next try in ${(event.delayMs / 1000).toFixed(1)} s (${event.cause})`
      : event.state === 'open' && me
        ? `as ${me.user} (${me.tenant})`
        : '';
}

function addNotification(notification: Notification): void {
  const item = document.createElement('li');
  item.dataset.testid = 'notification-item';
  item.dataset.id = notification.id;
  item.tabIndex = 0;

  const title = document.createElement('strong');
  title.textContent = notification.title ?? notification.type;
  const meta = document.createElement('small');
  const time = new Date(notification.createdAt);
  meta.textContent = `${notification.type} · ${Number.isNaN(time.getTime()) ? notification.createdAt : time.toLocaleTimeString()}`;
  item.append(title, meta);
  if (notification.body !== undefined) {
    const body = document.createElement('p');
    body.textContent = notification.body;
    item.append(body);
  }
  const href = safeLink(notification.url);
  if (href !== undefined) {
    const link = document.createElement('a');
    link.href = href;
    link.target = '_blank';
    link.rel = 'noopener';
    link.textContent = 'Open';
    item.append(link);
  }

  if (!notification.read) {
    item.classList.add('unread');
    setUnread(unread + 1);
    const markRead = () => {
      if (!item.classList.contains('unread')) return;
      item.classList.remove('unread');
      setUnread(unread - 1);
      // Every other tab of this user gets the new count as a `state` frame.
      client?.markRead([notification.id]).catch(showError);
    };
    item.addEventListener('click', markRead);
    item.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') markRead();
    });
  }

  // Newest first: ids sort by time, and a replay may arrive after newer pushes.
  const newer = [...ui.list.children].filter(
    (child) => ((child as HTMLElement).dataset.id ?? '') > notification.id,
  );
  const after = newer[newer.length - 1];
  if (after === undefined) ui.list.prepend(item);
  else after.after(item);
}

/** Only web links: a notification's `url` comes from any publisher. */
function safeLink(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const parsed = new URL(url, location.href);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

function refreshState(of: HeraldClient): void {
  of.state().catch(showError);
}

/**
 * The server could not replay what was missed (too old, or unknown): reload the newest
 * page from the HTTP API, then resume from its newest id for anything since.
 */
async function reloadAfterGap(of: HeraldClient, who: Me): Promise<void> {
  showMessage('missed too much to replay: reloading from the HTTP API');
  try {
    const response = await fetch('/notifications?limit=50', {
      headers: { authorization: `Bearer ${await fetchToken(who)}` },
      cache: 'no-store',
    });
    if (!response.ok) throw new Error(`GET /notifications failed: HTTP ${response.status}`);
    const { items } = (await response.json()) as { items?: Notification[] };
    if (client !== of) return; // signed in again meanwhile
    ui.list.replaceChildren();
    setUnread(0);
    for (const notification of [...(items ?? [])].reverse()) addNotification(notification);
    const newest = items?.[0];
    if (newest !== undefined) await of.resume(newest.id);
    refreshState(of);
    showMessage('reloaded');
  } catch (error) {
    showError(error);
  }
}

function showError(error: unknown): void {
  const code = (error as { code?: unknown }).code;
  const text = error instanceof Error ? error.message : String(error);
  showMessage(typeof code === 'string' ? `${code}: ${text}` : text);
}

function setUnread(count: number): void {
  unread = Math.max(0, count);
  ui.badge.textContent = String(unread);
  ui.badge.dataset.count = String(unread);
}

function showMessage(text: string): void {
  ui.message.textContent = text;
}

function renderSubscriptions(topics: string[]): void {
  ui.subscriptions.replaceChildren(
    ...topics.map((topic) => {
      const item = document.createElement('li');
      item.textContent = topic;
      return item;
    }),
  );
}

async function subscribe(): Promise<void> {
  const topic = ui.topicInput.value.trim();
  if (client === undefined || topic === '') return;
  await client.subscribe([topic]);
  renderSubscriptions(client.subscriptions);
  ui.topicInput.value = '';
  showMessage(`subscribed to ${topic}`);
}

async function publish(): Promise<void> {
  if (me === undefined) return;
  const response = await fetch('/dev/publish', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      to: { users: [me.user] },
      tenant: me.tenant,
      title: 'Test notification',
      body: `Sent from the demo page at ${new Date().toLocaleTimeString()}`,
    }),
  });
  if (!response.ok) throw new Error(`POST /dev/publish failed: HTTP ${response.status}`);
  showMessage('published; it should arrive in a moment');
}

/** Runs an action from the page and shows what went wrong instead of failing silently. */
function guarded(action: () => Promise<void>): (event?: Event) => void {
  return (event) => {
    event?.preventDefault();
    action().catch(showError);
  };
}

ui.signinForm.addEventListener('submit', guarded(signIn));
ui.subscribeForm.addEventListener('submit', guarded(subscribe));
ui.publishButton.addEventListener('click', guarded(publish));
config.catch((error: unknown) =>
  showMessage(error instanceof Error ? error.message : String(error)),
);
