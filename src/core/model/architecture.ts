/**
 * Constants of the article's SimpleCNN still used by the page and the trainer. Everything else
 * about a network (shapes, initialisation, costs) comes from its NetSpec: src/core/model/spec.ts
 * and src/core/model/zoo/. No TensorFlow.js here, so the page's main thread can use it.
 */
import { parameterCount as specParameterCount } from './spec';
import { simpleCnn } from './zoo/simpleCnn';

/** CIFAR-10 classes: the outputs of every network in the zoo. */
export const NUM_CLASSES = 10;

/** conv1's filters in the full SimpleCNN. */
export const FULL_FILTERS = 64;

/** Parameters of a SimpleCNN with `filters` conv1 filters (657,162 for 64). */
export function parameterCount(filters: number): number {
  return specParameterCount(simpleCnn, [filters]);
}
