/** The models the page offers. Adding one: a NetSpec file here and a line below. */
import type { ModelId, ModelSpec, ZooModelId } from '../spec';
import { convNet3 } from './convNet3';
import { resnet20 } from './resnet20';
import { simpleCnn } from './simpleCnn';

export const MODELS: Record<ModelId, ModelSpec> = { simplecnn: simpleCnn, convnet3: convNet3, resnet20 };
export const MODEL_IDS = Object.keys(MODELS) as ModelId[];
export const DEFAULT_MODEL: ModelId = 'simplecnn';

export function specFor(id: ZooModelId): ModelSpec {
  const s = ZOO[id];
  if (!s) throw new Error(`unknown model ${id}`);
  return s;
}

/** Every model of the zoo (the page offers them all). */
export const ZOO: Record<ZooModelId, ModelSpec> = MODELS;

export { convNet3, resnet20, simpleCnn };
