/** The models the page offers. Adding one: a NetSpec file here and a line below. */
import type { ModelId, NetSpec } from '../spec';
import { convNet3 } from './convNet3';
import { simpleCnn } from './simpleCnn';

export const MODELS: Record<ModelId, NetSpec> = { simplecnn: simpleCnn, convnet3: convNet3 };
export const MODEL_IDS = Object.keys(MODELS) as ModelId[];
export const DEFAULT_MODEL: ModelId = 'simplecnn';

export function specFor(id: ModelId): NetSpec {
  const s = MODELS[id];
  if (!s) throw new Error(`unknown model ${id}`);
  return s;
}

export { convNet3, simpleCnn };
