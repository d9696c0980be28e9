/**
 * Statechart exports: the JSON keeps every state, guard and action name (and
 * XState can build a machine from it), the Mermaid and DOT texts have every
 * state and transition, and the SVG (Graphviz as WebAssembly, offline) has
 * one id per state for the viewer.
 */

import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { clientMachine } from '../machines/client/machine.js';
import { serverMachine } from '../machines/server/machine.js';
import { chartDot, chartJson, chartMermaid, chartModel, chartSvg } from './charts.js';

const machines = { client: clientMachine, server: serverMachine };

describe('statechart exports', () => {
  for (const [role, machine] of Object.entries(machines)) {
    it(`${role}: the JSON export keeps every state, guard and action name, and XState accepts it`, () => {
      const json = chartJson(machine);
      const config = JSON.parse(json) as { id: string; states: Record<string, unknown> };
      expect(config.id).toBe(role);
      expect(Object.keys(config.states).sort()).toEqual(Object.keys(machine.root.states).sort());
      const model = chartModel(machine);
      for (const e of model.edges) {
        if (e.guard) expect(json).toContain(`"guard": "${e.guard}"`);
        for (const a of e.actions) expect(json).toContain(`"${a}"`);
      }
      const rebuilt = createMachine(config as never);
      expect(Object.keys(rebuilt.root.states).sort()).toEqual(Object.keys(machine.root.states).sort());
    });

    it(`${role}: Mermaid and DOT list every state and every transition with its event and guard`, () => {
      const model = chartModel(machine);
      const mermaid = chartMermaid(machine);
      expect(mermaid.startsWith(`stateDiagram-v2\n  [*] --> ${model.initial}\n`)).toBe(true);
      const dot = chartDot(machine, { idPrefix: 'p-' });
      for (const s of model.states) {
        expect(mermaid).toContain(s.name);
        expect(dot).toContain(`id="p-state-${s.name}"`);
      }
      for (const e of model.edges) {
        if (e.source && e.target) {
          const label = `${e.source} --> ${e.target} : ${e.event}${e.guard ? ` [${e.guard}]` : ''}`;
          expect(mermaid).toContain(label);
        }
      }
      expect(dot).toContain('decrypt_error');
    });

    it(`${role}: the SVG has a node with an id for every state`, async () => {
      const svg = await chartSvg(machine, { idPrefix: `${role}-` });
      expect(svg.startsWith('<svg')).toBe(true);
      for (const s of chartModel(machine).states) expect(svg).toContain(`id="${role}-state-${s.name}"`);
    });
  }

  it('names the refusals on the edges: the client refuses unoffered early data with unsupported_extension', () => {
    expect(chartMermaid(clientMachine)).toContain(
      'expectEncryptedExtensions --> failed : recv.EncryptedExtensions [acceptsUnofferedEarlyData] / unsupported_extension',
    );
    expect(chartMermaid(serverMachine)).toContain('expectClientFinished --> failed : recv.Finished / decrypt_error');
  });
});
