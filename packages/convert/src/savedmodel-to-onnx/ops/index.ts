import type { Converter } from '../context.js';
import { basicOps } from './basic.js';
import { elementwiseOps } from './elementwise.js';
import { nnOps } from './nn.js';
import { randomOps } from './random.js';
import { reduceOps } from './reduce.js';
import { shapeOps } from './shape.js';

/** Every TF op the converter covers, by op name (a Map: op names come from the file). */
export const CONVERTERS: ReadonlyMap<string, Converter> = new Map(
  Object.entries({ ...basicOps, ...elementwiseOps, ...nnOps, ...randomOps, ...reduceOps, ...shapeOps }),
);

/** Why an uncovered op cannot convert, for the ops users meet most. */
export function uncoveredReason(op: string): string {
  if (
    /^(Assign|AssignAdd|AssignSub|AssignVariableOp|AssignAddVariableOp|AssignSubVariableOp|ScatterUpdate|ResourceScatter\w*)$/.test(
      op,
    )
  ) {
    return 'a stateful op that changes a variable; a frozen ONNX graph has none';
  }
  if (
    /^(ParseExample\w*|DecodeJSONExample|StringJoin|StringSplit\w*|Substr|AsString|StringToNumber|StaticRegex\w*|RegexReplace|LookupTable\w*|HashTable\w*)$/.test(
      op,
    )
  ) {
    return 'an op on strings or lookup tables (ONNX Runtime models take numbers)';
  }
  if (
    /^(While|StatelessWhile|If|StatelessIf|Case|StatelessCase|Enter|Exit|Merge|Switch|NextIteration|LoopCond|TensorList\w*|TensorArray\w*)$/.test(
      op,
    )
  ) {
    return 'control flow (loops, their TensorLists: RNNs) is not converted';
  }
  return 'not in the list of converted ops (ferry inspect --ops shows coverage)';
}
