import type fc from 'fast-check';
import type { Model } from '../model.js';
import type { ServerId, World } from '../world.js';
import { afterStep, openSession } from './common.js';

/** Honest: the client opens a connection (no ticket) to one of the servers under one of the names. */
export class ConnectCommand implements fc.AsyncCommand<Model, World> {
  constructor(
    readonly serverId: ServerId,
    readonly sni: string,
  ) {}
  check = (): boolean => true;
  async run(m: Model, w: World): Promise<void> {
    await openSession(m, w, { serverId: this.serverId, sni: this.sni });
    afterStep(m, w, this.toString());
  }
  toString = (): string => `Connect(${this.serverId}, ${this.sni})`;
}
