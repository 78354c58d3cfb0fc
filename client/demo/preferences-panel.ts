/**
 * Preferences per notification type and channel: in app on/off, email always/offline/never.
 * Shows the effective setting (user over tenant defaults); a critical type of the tenant is
 * shown locked, its controls disabled. Save replaces the user's own settings.
 */
import type {
  ChannelPreferences,
  Preferences,
  PreferencesApi,
  PreferencesView,
} from '../herald-client';

const EMAIL_MODES: readonly ChannelPreferences['email'][] = ['always', 'offline', 'never'];

export class PreferencesPanel {
  private view: PreferencesView | undefined;
  private draft: Preferences = {};
  /** Types the page has seen in notifications, listed even before anyone set them. */
  private readonly seenTypes = new Set<string>(['demo.message']);

  constructor(
    private readonly api: PreferencesApi,
    private readonly body: HTMLTableSectionElement,
    private readonly saveButton: HTMLButtonElement,
    private readonly showMessage: (text: string) => void,
  ) {}

  async load(): Promise<void> {
    this.show(await this.api.get());
  }

  /** A notification of this type arrived: give it a row. */
  noteType(type: string): void {
    if (this.seenTypes.has(type)) return;
    this.seenTypes.add(type);
    if (this.view !== undefined) this.render();
  }

  async save(): Promise<void> {
    this.saveButton.disabled = true;
    try {
      this.show(await this.api.put(this.draft));
      this.showMessage('preferences saved');
    } finally {
      this.saveButton.disabled = false;
    }
  }

  private show(view: PreferencesView): void {
    this.view = view;
    this.draft = structuredClone(view.preferences);
    this.saveButton.disabled = false;
    this.render();
  }

  private render(): void {
    const view = this.view;
    if (view === undefined) return;
    const locked = new Set(view.locked);
    const types = new Set([
      ...this.seenTypes,
      ...Object.keys(view.effective.types),
      ...Object.keys(view.tenantDefaults.types ?? {}),
      ...locked,
    ]);
    const rows = [...types]
      .sort()
      .map((type) =>
        this.row(type, { ...view.effective.channels, ...view.effective.types[type] }, locked),
      );
    this.body.replaceChildren(...rows);
  }

  private row(type: string, effective: ChannelPreferences, locked: Set<string>): HTMLElement {
    const isLocked = locked.has(type);
    const own = this.draft.types?.[type] ?? {};
    const row = document.createElement('tr');
    row.dataset.testid = 'preference-row';
    row.dataset.type = type;

    const name = document.createElement('td');
    name.textContent = type;
    const inappCell = document.createElement('td');
    const inapp = document.createElement('input');
    inapp.type = 'checkbox';
    inapp.dataset.testid = 'preference-inapp';
    inapp.checked = own.inapp ?? effective.inapp;
    inapp.disabled = isLocked;
    inapp.addEventListener('change', () => this.set(type, { inapp: inapp.checked }));
    inappCell.append(inapp);

    const emailCell = document.createElement('td');
    const email = document.createElement('select');
    email.dataset.testid = 'preference-email';
    for (const mode of EMAIL_MODES) email.append(new Option(mode, mode));
    email.value = own.email ?? effective.email;
    email.disabled = isLocked;
    email.addEventListener('change', () =>
      this.set(type, { email: email.value as ChannelPreferences['email'] }),
    );
    emailCell.append(email);

    const note = document.createElement('td');
    if (isLocked) {
      note.textContent = 'critical: always delivered';
      note.className = 'locked';
      row.classList.add('locked');
    }
    row.append(name, inappCell, emailCell, note);
    return row;
  }

  private set(type: string, change: Partial<ChannelPreferences>): void {
    const types = { ...this.draft.types };
    types[type] = { ...types[type], ...change };
    this.draft = { ...this.draft, types };
  }
}
