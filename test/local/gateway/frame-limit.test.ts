import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { watchFrameSizes } from '#local/gateway/frame-limit';

/** A masked client frame as a browser sends it: header, mask key, payload. */
function frame(payloadBytes: number, opcode = 0x1, fin = true): Buffer {
  const first = (fin ? 0x80 : 0) | opcode;
  let header: Buffer;
  if (payloadBytes < 126) {
    header = Buffer.from([first, 0x80 | payloadBytes]);
  } else if (payloadBytes < 2 ** 16) {
    header = Buffer.alloc(4);
    header.writeUInt8(first, 0);
    header.writeUInt8(0x80 | 126, 1);
    header.writeUInt16BE(payloadBytes, 2);
  } else {
    header = Buffer.alloc(10);
    header.writeUInt8(first, 0);
    header.writeUInt8(0x80 | 127, 1);
    header.writeUInt32BE(Math.floor(payloadBytes / 2 ** 32), 2);
    header.writeUInt32BE(payloadBytes % 2 ** 32, 6);
  }
  return Buffer.concat([header, Buffer.from([1, 2, 3, 4]), Buffer.alloc(payloadBytes, 0x61)]);
}

function watched(limit: number) {
  const socket = new PassThrough();
  const onOversize = vi.fn();
  const detach = watchFrameSizes(socket, limit, onOversize);
  return { feed: (chunk: Buffer) => socket.emit('data', chunk), onOversize, detach };
}

describe('watchFrameSizes', () => {
  it('lets frames up to the limit through, in every length encoding', () => {
    const { feed, onOversize } = watched(70_000);
    feed(Buffer.concat([frame(10), frame(300), frame(70_000), frame(0, 0x9)]));
    expect(onOversize).not.toHaveBeenCalled();
  });

  it('reports the first data frame over the limit once, with its announced length', () => {
    const { feed, onOversize } = watched(32 * 1024);
    feed(Buffer.concat([frame(100), frame(40_000), frame(50_000)]));
    expect(onOversize).toHaveBeenCalledTimes(1);
    expect(onOversize).toHaveBeenCalledWith(40_000);
  });

  it('judges continuation frames one by one, not the message they make up', () => {
    const { feed, onOversize } = watched(1_000);
    feed(Buffer.concat([frame(900, 0x1, false), frame(900, 0x0, false), frame(900, 0x0, true)]));
    expect(onOversize).not.toHaveBeenCalled();
    feed(frame(1_001, 0x2));
    expect(onOversize).toHaveBeenCalledWith(1_001);
  });

  it('reads headers and payloads split across chunks at any byte', () => {
    const { feed, onOversize } = watched(200);
    const stream = Buffer.concat([frame(150), frame(180), frame(70_000)]);
    for (const byte of stream.subarray(0, 200)) feed(Buffer.from([byte]));
    feed(stream.subarray(200, 345));
    expect(onOversize).not.toHaveBeenCalled();
    feed(stream.subarray(345));
    expect(onOversize).toHaveBeenCalledWith(70_000);
  });

  it('stops watching once detached', () => {
    const { feed, onOversize, detach } = watched(10);
    detach();
    feed(frame(500));
    expect(onOversize).not.toHaveBeenCalled();
  });
});
