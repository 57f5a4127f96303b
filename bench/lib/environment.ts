// What a bench's JSON says of the machine it ran on: Node, cores, memory and the load around the run.
import { cpus, loadavg, totalmem } from 'node:os';

/** The machine, with the load average from `loadavgStart` (taken as the run began) to now. */
export function runEnvironment(loadavgStart: number[]) {
  return {
    node: process.version,
    cpus: cpus().length,
    totalMemMB: totalmem() / 1e6,
    loadavgStart,
    loadavgEnd: loadavg(),
  };
}
