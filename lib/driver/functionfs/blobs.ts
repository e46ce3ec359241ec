/**
 * The two blobs a FunctionFS instance wants on ep0 before it can bind, generated from the
 * backend-neutral FunctionDescription: descriptors v2 (full, high and super speed sets, plus an
 * MS OS extended compat ID when `msOs` is given) and strings (the interface string as string 1,
 * US English). The interface is number 0 in the blob: the kernel renumbers it within the gadget.
 */
import { encodeFfsDescriptors, encodeFfsStrings } from '../../../native-defs/functionfs.js';
import { interfaceDescriptors, resolveFunction, type FunctionDescription, type ResolvedFunction } from '../function-description.js';

/** LANGID of the strings FunctionFS gets (English, US). */
export const FFS_LANGID = 0x0409;

export interface FfsBlobs {
  function: ResolvedFunction;
  descriptors: Uint8Array;
  strings: Uint8Array;
}

/** Resolves `description` (throws USBFN_ERR_INVALID_ARG) and encodes both blobs. */
export function buildFfsBlobs(description: FunctionDescription): FfsBlobs {
  const fn = resolveFunction(description);
  const placement = { interfaceNumber: 0, iInterface: fn.interfaceString === null ? 0 : 1 };
  const descriptors = encodeFfsDescriptors(
    {
      full: interfaceDescriptors(fn, 'full', placement),
      high: interfaceDescriptors(fn, 'high', placement),
      super: interfaceDescriptors(fn, 'super', placement),
    },
    fn.msOs ? [{ interfaceNumber: 0, ...fn.msOs }] : [],
  );
  const strings = encodeFfsStrings(fn.interfaceString === null ? [] : [{ langId: FFS_LANGID, strings: [fn.interfaceString] }]);
  return { function: fn, descriptors, strings };
}
