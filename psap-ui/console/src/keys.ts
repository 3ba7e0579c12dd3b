// The console's keyboard shortcuts: one table, used by the key handler, the buttons'
// aria-keyshortcuts and the help dialog (docs/console.md lists the same). Single keys without a
// modifier, so that a call-taker with a headset on can work one-handed; they are off while
// typing in a field (Escape leaves the field).

export type Command =
  | 'answerNext' | 'answer' | 'hold' | 'release' | 'transfer' | 'rebid' | 'text'
  | 'ready' | 'next' | 'previous' | 'queue' | 'abandoned' | 'map' | 'supervisor' | 'help' | 'escape';

export interface Shortcut { keys: string[]; command: Command; what: string }

export const SHORTCUTS: Shortcut[] = [
  { keys: ['Space', 'N'], command: 'answerNext', what: 'Answer the oldest ringing call' },
  { keys: ['A'], command: 'answer', what: 'Answer the selected call' },
  { keys: ['H'], command: 'hold', what: 'Hold or resume the selected call' },
  { keys: ['X'], command: 'release', what: 'Release (hang up) the selected call' },
  { keys: ['T'], command: 'transfer', what: 'Transfer the selected call to another PSAP' },
  { keys: ['L'], command: 'rebid', what: 'Rebid the location (HELD)' },
  { keys: ['M'], command: 'text', what: 'Write a text reply' },
  { keys: ['R'], command: 'ready', what: 'Toggle ready / not ready' },
  { keys: ['J', 'ArrowDown'], command: 'next', what: 'Select the next call in the queue' },
  { keys: ['K', 'ArrowUp'], command: 'previous', what: 'Select the previous call in the queue' },
  { keys: ['Q'], command: 'queue', what: 'Go to the queue' },
  { keys: ['B'], command: 'abandoned', what: 'Go to the abandoned calls (call back)' },
  { keys: ['G'], command: 'map', what: 'Go to the map' },
  { keys: ['S'], command: 'supervisor', what: 'Go to the supervisor view' },
  { keys: ['?'], command: 'help', what: 'Show these shortcuts' },
  { keys: ['Escape'], command: 'escape', what: 'Close a dialog, leave a field, dismiss an error' },
];

// "N" for the KeyboardEvent.key "n", "Space" for " ".
export function commandFor(e: KeyboardEvent): Command | undefined {
  if (e.ctrlKey || e.metaKey || e.altKey) return undefined;
  const key = e.key === ' ' ? 'Space' : e.key.length === 1 ? e.key.toUpperCase() : e.key;
  return SHORTCUTS.find((s) => s.keys.includes(key))?.command;
}

export function keysOf(command: Command): string {
  return SHORTCUTS.find((s) => s.command === command)?.keys.join(' ') ?? '';
}
