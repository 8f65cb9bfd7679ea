import type { Frame } from './types';

/**
 * Splits one WebSocket text message into frames. The server may batch several JSON frames
 * into one message, separated by newlines; blank lines and unparsable lines are skipped.
 */
export function parseFrames(data: string): Frame[] {
  const frames: Frame[] = [];
  for (const line of data.split('\n')) {
    if (!line.trim()) continue;
    try {
      const value: unknown = JSON.parse(line);
      if (value && typeof value === 'object') frames.push(value as Frame);
    } catch {
      // A broken line cannot be attributed to any request; ignore it.
    }
  }
  return frames;
}

export function isEventFrame(f: Frame): f is Extract<Frame, { event: string }> {
  return 'event' in f;
}
