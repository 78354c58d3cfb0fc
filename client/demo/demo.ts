/**
 * The local inbox page, a starting point for a product's own: sign in with a dev token,
 * the feed behind a bell (unseen badge, cleared when opened), tabs with counts, history
 * with infinite scroll, read/unread, archive, snooze, action buttons, mark all read,
 * preferences with locked critical types, the live state hash and a change-event example.
 * Everything goes through HeraldClient: the socket for live frames, `client.inbox` and
 * `client.preferences` for the HTTP API on the same origin.
 */
import { type ConnectionEvent, HeraldClient, type InboxNotification } from '../herald-client';
import { type DevConfig, fetchToken, loadConfig, type Me, publish } from './dev-api';
import { Feed } from './feed';
import { DOCUMENT_CHANGED, DocumentExample, readState, renderState } from './live-panel';
import { PreferencesPanel } from './preferences-panel';
import { TabSync } from './tab-sync';

function byTestId<T extends HTMLElement>(testId: string): T {
  const element = document.querySelector<T>(`[data-testid="${testId}"]`);
  if (element === null) throw new Error(`the page has no [data-testid="${testId}"]`);
  return element;
}

const ui = {
  signinForm: byTestId<HTMLInputElement>('signin-user').form as HTMLFormElement,
  subscribeForm: byTestId<HTMLInputElement>('topic-input').form as HTMLFormElement,
  publishForm: byTestId<HTMLButtonElement>('publish-button').form as HTMLFormElement,
  topicInput: byTestId<HTMLInputElement>('topic-input'),
  subscribeButton: byTestId<HTMLButtonElement>('subscribe-button'),
  publishButton: byTestId<HTMLButtonElement>('publish-button'),
  state: byTestId('connection-state'),
  detail: byTestId('connection-detail'),
  sesLink: byTestId<HTMLAnchorElement>('ses-link'),
  bell: byTestId<HTMLButtonElement>('bell-button'),
  feed: byTestId('feed'),
  viewport: byTestId('notification-viewport'),
  list: byTestId<HTMLUListElement>('notification-list'),
  markAllRead: byTestId<HTMLButtonElement>('mark-all-read'),
  archiveRead: byTestId<HTMLButtonElement>('archive-read'),
  stateList: byTestId('state-list'),
  documentButton: byTestId<HTMLButtonElement>('document-change-button'),
  preferencesSave: byTestId<HTMLButtonElement>('preferences-save'),
  preferencesBody: byTestId<HTMLTableElement>('preferences-table')
    .tBodies[0] as HTMLTableSectionElement,
  subscriptions: byTestId<HTMLUListElement>('subscription-list'),
  message: byTestId('demo-message'),
};

/** What one sign-in made; all of it goes when the user signs in again. */
interface Session {
  me: Me;
  client: HeraldClient;
  feed: Feed;
  sync: TabSync;
  preferences: PreferencesPanel;
  document: DocumentExample;
}

let session: Session | undefined;
const config = loadConfig().then((loaded: DevConfig) => {
  // The page ships with the default local port; the launcher knows the real one.
  if (loaded.sesViewerUrl !== undefined) ui.sesLink.href = loaded.sesViewerUrl;
  return loaded;
});

async function signIn(): Promise<void> {
  const form = new FormData(ui.signinForm);
  const me: Me = {
    user: String(form.get('user') ?? '').trim(),
    tenant: String(form.get('tenant') ?? '').trim() || 'default',
    topics: String(form.get('topics') ?? '').trim(),
  };
  if (me.user === '') return;
  endSession();
  showMessage('');
  const { websocketUrl } = await config;

  const client = new HeraldClient({
    url: websocketUrl,
    httpUrl: location.origin,
    token: () => fetchToken(me),
  });
  const sync = new TabSync(me.tenant, me.user, (message) => feed.apply(message));
  const feed = new Feed(
    client.inbox,
    {
      viewport: ui.viewport,
      spacer: ui.viewport.querySelector('.spacer') as HTMLElement,
      list: ui.list,
      tabs: byTestId('tabs'),
      status: byTestId('list-status'),
      unreadBadge: byTestId('unread-badge'),
      unseenBadge: byTestId('unseen-badge'),
    },
    sync,
    showError,
  );
  const preferences = new PreferencesPanel(
    client.preferences,
    ui.preferencesBody,
    ui.preferencesSave,
    showMessage,
  );
  const documentExample = new DocumentExample(
    byTestId('document-version'),
    byTestId('document-refetches'),
  );
  const current: Session = { me, client, feed, sync, preferences, document: documentExample };
  session = current;

  client.on('connection', (event) => {
    renderConnection(event, me);
    // Notify's state on connect; the server sends it too, asking makes sure.
    if (event.state === 'open') askState(current);
  });
  client.on('notification', (notification) => {
    feed.receive(notification as InboxNotification);
    preferences.noteType(notification.type);
  });
  client.on('state', (payload) => applyState(current, payload));
  // Live, or reported by a resume as changed while away: either way, refetch.
  client.on('change', (change) => {
    if (change.type === DOCUMENT_CHANGED) documentExample.changed();
  });
  client.on('resumed', ({ replayed }) => {
    feed.scheduleCounts();
    if (replayed > 0) showMessage(`caught up on ${replayed} missed while away`);
  });
  // Too much missed to replay: the list starts over from the HTTP API.
  client.on('gap', () => {
    showMessage('missed too much to replay: reloading from the HTTP API');
    void feed.reload().then(() => feed.scheduleCounts());
  });
  client.on('error', (error) => showMessage(`${error.code}: ${error.message}`));
  client.connect();

  for (const button of [ui.subscribeButton, ui.publishButton, ui.bell, ui.documentButton]) {
    button.disabled = false;
  }
  // History on sign-in, before the bell is opened, so the feed is ready when it is.
  await Promise.all([
    feed.start(),
    preferences.load().catch(showError),
    documentExample.load().catch(showError),
  ]);
  if (!ui.feed.hidden) await feed.seenAll();
}

function endSession(): void {
  if (session === undefined) return;
  session.client.close();
  session.sync.close();
  session = undefined;
  ui.list.replaceChildren();
  ui.subscriptions.replaceChildren();
  ui.stateList.replaceChildren();
}

function askState(of: Session): void {
  of.client
    .request('state')
    .then((result) => applyState(of, result))
    .catch(showError);
}

function applyState(of: Session, payload: unknown): void {
  if (session !== of) return;
  const { badge, hash } = readState(payload);
  of.feed.setBadge(badge, { share: false });
  of.feed.scheduleCounts();
  renderState(ui.stateList, hash);
}

async function toggleFeed(): Promise<void> {
  const opening = ui.feed.hidden;
  ui.feed.hidden = !opening;
  ui.bell.setAttribute('aria-expanded', String(opening));
  if (!opening || session === undefined) return;
  session.feed.redraw();
  ui.viewport.focus();
  await session.feed.seenAll();
}

function renderConnection(event: ConnectionEvent, me: Me): void {
  ui.state.textContent = event.state;
  ui.state.dataset.state = event.state;
  ui.detail.textContent =
    event.state === 'reconnecting'
      ? `attempt ${event.attempt}, next try in ${(event.delayMs / 1000).toFixed(1)} s (${event.cause})`
      : event.state === 'open'
        ? `as ${me.user} (${me.tenant})`
        : '';
}

async function publishTest(): Promise<void> {
  if (session === undefined) return;
  const form = new FormData(ui.publishForm);
  const tag = String(form.get('tag') ?? '');
  const withActions = form.get('actions') !== null;
  await publish({
    to: { users: [session.me.user] },
    tenant: session.me.tenant,
    title: 'Test notification',
    body: `Sent from the inbox page at ${new Date().toLocaleTimeString()}`,
    ...(tag === '' ? {} : { tags: [tag] }),
    ...(withActions
      ? {
          actions: [
            { label: 'View', url: `${location.origin}/?viewed=1` },
            { label: 'Docs', url: 'https://example.com/' },
          ],
        }
      : {}),
  });
  showMessage('published; it should arrive in a moment');
}

async function subscribe(): Promise<void> {
  const topic = ui.topicInput.value.trim();
  if (session === undefined || topic === '') return;
  await session.client.subscribe([topic]);
  ui.subscriptions.replaceChildren(
    ...session.client.subscriptions.map((name) => {
      const item = document.createElement('li');
      item.textContent = name;
      return item;
    }),
  );
  ui.topicInput.value = '';
  showMessage(`subscribed to ${topic}`);
}

function showError(error: unknown): void {
  const code = (error as { code?: unknown }).code;
  const text = error instanceof Error ? error.message : String(error);
  showMessage(typeof code === 'string' ? `${code}: ${text}` : text);
}

function showMessage(text: string): void {
  ui.message.textContent = text;
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
ui.publishForm.addEventListener('submit', guarded(publishTest));
ui.bell.addEventListener('click', guarded(toggleFeed));
ui.markAllRead.addEventListener(
  'click',
  guarded(async () => session?.feed.markAllRead()),
);
ui.archiveRead.addEventListener(
  'click',
  guarded(async () => session?.feed.archiveRead()),
);
ui.preferencesSave.addEventListener(
  'click',
  guarded(async () => session?.preferences.save()),
);
ui.documentButton.addEventListener(
  'click',
  guarded(async () => {
    if (session !== undefined) await session.document.edit(session.me.user, session.me.tenant);
  }),
);
config.catch(showError);
