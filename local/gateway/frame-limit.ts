/**
 * Watches the frame headers a client sends, because API Gateway limits each WebSocket frame
 * (32 KB) apart from the whole message (128 KB), and `ws` can only limit the message.
 * It reads headers only and skips payloads, so it costs next to nothing.
 */
import type { Duplex } from 'node:stream';

/** Longest frame header: 2 bytes, a 64-bit extended length, a 4-byte mask key. */
const MAX_HEADER_BYTES = 14;

/**
 * Calls `onOversize` once, with the announced payload length, when a data frame's header says
 * it carries more than `maxFrameBytes`. Attach it before `ws` reads the socket (prepended), so the
 * verdict comes before `ws` could deliver that frame. Returns a function that detaches it.
 */
export function watchFrameSizes(
  socket: Duplex,
  maxFrameBytes: number,
  onOversize: (payloadBytes: number) => void,
): () => void {
  const header = Buffer.alloc(MAX_HEADER_BYTES);
  let headerBytes = 0;
  let payloadLeft = 0;
  let tripped = false;

  const onData = (chunk: Buffer) => {
    let offset = 0;
    while (!tripped && offset < chunk.length) {
      if (payloadLeft > 0) {
        const skipped = Math.min(payloadLeft, chunk.length - offset);
        payloadLeft -= skipped;
        offset += skipped;
        continue;
      }
      header[headerBytes++] = chunk.readUInt8(offset++);
      if (headerBytes < 2) continue;
      const second = header.readUInt8(1);
      const length7 = second & 0x7f;
      const lengthBytes = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
      const maskBytes = second & 0x80 ? 4 : 0;
      if (headerBytes < 2 + lengthBytes + maskBytes) continue;

      const payloadLength =
        length7 === 126
          ? header.readUInt16BE(2)
          : length7 === 127
            ? header.readUInt32BE(2) * 2 ** 32 + header.readUInt32BE(6)
            : length7;
      const opcode = header.readUInt8(0) & 0x0f;
      headerBytes = 0;
      // Control frames (opcode 8 and up) are capped at 125 bytes by the protocol itself.
      if (opcode < 0x8 && payloadLength > maxFrameBytes) {
        tripped = true;
        onOversize(payloadLength);
        return;
      }
      payloadLeft = payloadLength;
    }
  };

  socket.prependListener('data', onData);
  return () => {
    socket.removeListener('data', onData);
  };
}
