/**
 * A windowed list: every row has the same height, a spacer gives the scrollbar the height
 * of all of them, and only the rows in view (plus a few either side) are in the DOM. So
 * 10,000 loaded notifications are still about thirty elements. Near the end it asks for
 * more (infinite scroll).
 */

export interface VirtualListOptions<T> {
  viewport: HTMLElement;
  spacer: HTMLElement;
  list: HTMLElement;
  rowHeight: number;
  renderRow(item: T): HTMLElement;
  /** Called when the rows in view come within `overscan` of the last loaded one. */
  nearEnd(): void;
  overscan?: number;
}

export class VirtualList<T> {
  private items: readonly T[] = [];
  private frame: number | undefined;
  private readonly overscan: number;

  constructor(private readonly options: VirtualListOptions<T>) {
    this.overscan = options.overscan ?? 8;
    options.viewport.addEventListener('scroll', () => this.schedule(), { passive: true });
    window.addEventListener('resize', () => this.schedule());
  }

  /** Replaces what the list shows (the array is read, never changed). */
  show(items: readonly T[]): void {
    this.items = items;
    this.render();
  }

  /** Back to the top, as when switching tabs. */
  scrollToTop(): void {
    this.options.viewport.scrollTop = 0;
  }

  /** Draws the rows in view now (after the viewport became visible, say). */
  render(): void {
    const { viewport, spacer, list, rowHeight } = this.options;
    spacer.style.height = `${this.items.length * rowHeight}px`;
    const height = viewport.clientHeight || rowHeight * 6;
    const first = Math.max(0, Math.floor(viewport.scrollTop / rowHeight) - this.overscan);
    const last = Math.min(
      this.items.length,
      Math.ceil((viewport.scrollTop + height) / rowHeight) + this.overscan,
    );
    list.style.transform = `translateY(${first * rowHeight}px)`;
    list.replaceChildren(...this.items.slice(first, last).map((item) => this.renderRow(item)));
    if (last >= this.items.length - this.overscan) this.options.nearEnd();
  }

  private renderRow(item: T): HTMLElement {
    const row = this.options.renderRow(item);
    row.style.height = `${this.options.rowHeight}px`;
    return row;
  }

  private schedule(): void {
    if (this.frame !== undefined) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = undefined;
      this.render();
    });
  }
}
