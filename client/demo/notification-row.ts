/**
 * One row of the inbox: title, type, time and tags, one line of body, its action buttons,
 * and the row's own controls (read/unread, archive/unarchive, snooze with presets).
 * Clicking the row marks it read.
 */
import type { InboxNotification } from '../herald-client';

export interface RowActions {
  open(item: InboxNotification): void;
  toggleRead(item: InboxNotification): void;
  toggleArchived(item: InboxNotification): void;
  snooze(item: InboxNotification, until: Date): void;
  press(item: InboxNotification, actionIndex: number): void;
}

/** Snooze presets, in local time: an hour from now, tomorrow at 9:00, next Monday at 9:00. */
export const SNOOZE_PRESETS: readonly { value: string; label: string; until(now: Date): Date }[] = [
  { value: '1h', label: '1 hour', until: (now) => new Date(now.getTime() + 3_600_000) },
  { value: 'tomorrow', label: 'Tomorrow 9:00', until: (now) => atNine(now, 1) },
  {
    value: 'next-week',
    label: 'Next week',
    until: (now) => atNine(now, ((8 - now.getDay()) % 7) + (now.getDay() === 1 ? 7 : 0)),
  },
];

function atNine(now: Date, daysAhead: number): Date {
  const date = new Date(now);
  date.setDate(date.getDate() + daysAhead);
  date.setHours(9, 0, 0, 0);
  return date;
}

export function renderRow(item: InboxNotification, actions: RowActions): HTMLElement {
  const row = document.createElement('li');
  row.dataset.testid = 'notification-item';
  row.dataset.id = item.id;
  row.tabIndex = 0;
  if (!item.read) row.classList.add('unread');
  if (item.archived === true) row.classList.add('archived');

  const title = document.createElement('strong');
  title.textContent = item.title ?? item.type;
  const meta = document.createElement('small');
  const time = new Date(item.createdAt);
  meta.textContent = `${item.type} · ${Number.isNaN(time.getTime()) ? item.createdAt : time.toLocaleString()}`;
  for (const tag of item.tags ?? []) {
    const chip = document.createElement('span');
    chip.className = 'tag';
    chip.textContent = tag;
    meta.append(' ', chip);
  }
  const head = document.createElement('div');
  head.className = 'head';
  head.append(title, meta);
  const body = document.createElement('p');
  body.textContent = item.body ?? '';
  row.append(head, body, controls(item, actions));

  row.addEventListener('click', (event) => {
    // The controls act on their own; a click anywhere else opens (marks read).
    if ((event.target as HTMLElement).closest('button, select, a, input') !== null) return;
    actions.open(item);
  });
  row.addEventListener('keydown', (event) => {
    if (event.target === row && (event.key === 'Enter' || event.key === ' ')) {
      event.preventDefault();
      actions.open(item);
    }
  });
  return row;
}

function controls(item: InboxNotification, actions: RowActions): HTMLElement {
  const bar = document.createElement('div');
  bar.className = 'controls';
  (item.actions ?? []).slice(0, 2).forEach((action, index) => {
    if (safeLink(action.url) === undefined) return;
    bar.append(
      button(action.label, `action-${index}`, () => actions.press(item, index), 'primary'),
    );
  });
  bar.append(
    button(item.read ? 'Mark unread' : 'Mark read', 'toggle-read', () => actions.toggleRead(item)),
    button(item.archived === true ? 'Unarchive' : 'Archive', 'toggle-archive', () =>
      actions.toggleArchived(item),
    ),
  );
  if (item.archived !== true) {
    const select = document.createElement('select');
    select.dataset.testid = 'snooze-select';
    select.setAttribute('aria-label', 'Snooze');
    select.append(new Option('Snooze…', ''));
    for (const preset of SNOOZE_PRESETS) select.append(new Option(preset.label, preset.value));
    select.addEventListener('change', () => {
      const preset = SNOOZE_PRESETS.find((candidate) => candidate.value === select.value);
      if (preset !== undefined) actions.snooze(item, preset.until(new Date()));
    });
    bar.append(select);
  }
  return bar;
}

function button(
  label: string,
  testId: string,
  onClick: () => void,
  className?: string,
): HTMLButtonElement {
  const element = document.createElement('button');
  element.type = 'button';
  element.textContent = label;
  element.dataset.testid = testId;
  if (className !== undefined) element.className = className;
  element.addEventListener('click', onClick);
  return element;
}

/** Only web links: a notification's URLs come from any publisher. */
export function safeLink(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const parsed = new URL(url, location.href);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}
