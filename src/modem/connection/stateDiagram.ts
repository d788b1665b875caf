/**
 * The connection machine as a Mermaid state diagram, read from the xstate definition itself, so the picture in
 * docs/architecture.md cannot drift from the code (a test compares them; `npm run docs` rewrites it).
 */
import type { AnyStateMachine } from 'xstate';
import { connectionMachine } from './connectionMachine.js';

interface Node {
  readonly key: string;
  readonly id: string;
  readonly type: string;
  readonly initial?: { readonly target: readonly Node[] };
  readonly states: Readonly<Record<string, Node>>;
  readonly transitions: ReadonlyMap<string, ReadonlyArray<{ readonly target?: readonly Node[]; readonly guard?: unknown }>>;
}

/** `xstate.done.actor…` → `done`, `xstate.after.backoff…` → `after backoff`; other events keep their names. */
function eventLabel(event: string): string {
  if (event.startsWith('xstate.done.actor')) return 'done';
  if (event.startsWith('xstate.error.actor')) return 'error';
  const after = /^xstate\.after\.([^.]+)\./.exec(event);
  return after ? `after ${after[1]}` : event;
}

function guardLabel(guard: unknown): string {
  if (typeof guard === 'string') return ` [${guard}]`;
  if (guard && typeof guard === 'object' && 'type' in guard && typeof guard.type === 'string') return ` [${guard.type}]`;
  if (typeof guard === 'function') return ' [in syncing]';
  return '';
}

/** Mermaid `stateDiagram-v2` text for `machine` (default: the connection machine). */
export function stateDiagram(machine: AnyStateMachine = connectionMachine): string {
  const root = machine.root as unknown as Node;
  const lines = ['stateDiagram-v2'];
  const edges: string[] = [];
  const visit = (node: Node, indent: string): void => {
    const children = Object.values(node.states);
    if (node.initial?.target[0]) lines.push(`${indent}[*] --> ${node.initial.target[0].key}`);
    for (const child of children) {
      if (Object.keys(child.states).length > 0) {
        lines.push(`${indent}state ${child.key} {`);
        visit(child, `${indent}  `);
        lines.push(`${indent}}`);
      } else {
        lines.push(`${indent}${child.key}`);
        if (child.type === 'final') edges.push(`${child.key} --> [*]`);
      }
    }
    for (const child of children) {
      for (const [event, transitions] of child.transitions) {
        for (const t of transitions) {
          const target = t.target?.[0];
          edges.push(target ? `${child.key} --> ${target.key}: ${eventLabel(event)}${guardLabel(t.guard)}` : `${child.key} --> ${child.key}: ${eventLabel(event)}${guardLabel(t.guard)} (stays)`);
        }
      }
    }
  };
  visit(root, '  ');
  return [...lines, ...edges.map((e) => `  ${e}`)].join('\n');
}
