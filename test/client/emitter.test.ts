import { describe, expect, it, vi } from 'vitest';
import { Emitter } from '#client/emitter';

interface Events {
  count: number;
  word: string;
}

describe('Emitter', () => {
  it('calls the listeners of an event with its payload, in the order added', () => {
    const emitter = new Emitter<Events>();
    const heard: string[] = [];
    emitter.on('count', (n) => heard.push(`a${n}`));
    emitter.on('count', (n) => heard.push(`b${n}`));
    emitter.on('word', (w) => heard.push(w));
    emitter.emit('count', 1);
    emitter.emit('word', 'hi');
    expect(heard).toEqual(['a1', 'b1', 'hi']);
  });

  it('removes a listener with off() or with the function on() returns', () => {
    const emitter = new Emitter<Events>();
    const heard: number[] = [];
    const first = (n: number) => heard.push(n);
    const second = (n: number) => heard.push(n * 10);
    emitter.on('count', first);
    const removeSecond = emitter.on('count', second);
    emitter.off('count', first);
    emitter.emit('count', 1);
    removeSecond();
    emitter.emit('count', 2);
    expect(heard).toEqual([10]);
  });

  it('keeps calling the others when a listener throws, and rethrows it outside', async () => {
    const emitter = new Emitter<Events>();
    const heard: number[] = [];
    const thrown: unknown[] = [];
    const original = globalThis.queueMicrotask;
    const queued = vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((task) => {
      original(() => {
        try {
          task();
        } catch (error) {
          thrown.push(error);
        }
      });
    });
    try {
      emitter.on('count', () => {
        throw new Error('listener failed');
      });
      emitter.on('count', (n) => heard.push(n));
      expect(() => emitter.emit('count', 7)).not.toThrow();
      expect(heard).toEqual([7]);
      await new Promise<void>((resolve) => original(resolve));
      expect(thrown).toEqual([new Error('listener failed')]);
    } finally {
      queued.mockRestore();
    }
  });
});
