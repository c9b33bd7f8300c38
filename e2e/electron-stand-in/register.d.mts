import type { StandIn, StandInElectron } from './electron.mjs';
export function loadPreload(path: string, instance?: { electron: StandInElectron; standIn: StandIn }): Promise<Record<string, any>>;
