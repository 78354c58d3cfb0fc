/**
 * Reading the server's frames: JSON text in, a plain object out, and the shape checks the
 * client applies to what is inside. Anything else is ignored, never thrown.
 */
import type { ErrorBody } from '../functions/core/frames';

/** A frame as an object, or undefined for binary data, bad JSON or a non-object. */
export function parseFrame(data: unknown): Record<string, unknown> | undefined {
  if (typeof data !== 'string') return undefined;
  let frame: unknown;
  try {
    frame = JSON.parse(data);
  } catch {
    return undefined;
  }
  return isRecord(frame) ? frame : undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isErrorBody(value: unknown): value is ErrorBody {
  return isRecord(value) && typeof value.code === 'string' && typeof value.message === 'string';
}
