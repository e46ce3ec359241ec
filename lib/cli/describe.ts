/** Which InterfaceDeclaration a command presents (`--function serial|bulk`), shared by info, loopback, bench and windows-config. */
import { serialInterfaceDeclaration, type SerialLayout } from '../protocols/cdc-acm.js';
import { vendorBulkDeclaration, type InterfaceDeclaration } from '../protocols/interface-declaration.js';
import { usageError } from './exit-codes.js';
import { stringOption, type OptionValues } from './command.js';

export const FUNCTION_OPTIONS = {
  function: { type: 'string' },
  layout: { type: 'string' },
  name: { type: 'string' },
} as const;

export const FUNCTION_HELP = `  --function F     serial (CDC-ACM) or bulk (vendor bulk IN + OUT); default bulk
  --layout L       serial descriptor layout: genericusbfn (default) or functionfs
  --name N         interface name (registry key); default usbfn_serial / usbfn_bulk`;

/** The description the options name; `fallback` is the function when --function is absent. */
export function describeFunction(values: OptionValues, command: string, fallback: 'serial' | 'bulk' = 'bulk'): InterfaceDeclaration {
  const fn = stringOption(values, 'function') ?? fallback;
  const layout = stringOption(values, 'layout');
  const name = stringOption(values, 'name');
  const interfaceGuid = stringOption(values, 'guid');
  if (fn === 'serial') {
    if (layout !== undefined && layout !== 'genericusbfn' && layout !== 'functionfs') throw usageError(`--layout must be genericusbfn or functionfs, got ${layout}`, command);
    return serialInterfaceDeclaration({ layout: layout as SerialLayout | undefined, name, interfaceGuid });
  }
  if (fn === 'bulk') {
    if (layout !== undefined) throw usageError('--layout applies to --function serial only', command);
    return vendorBulkDeclaration(name, interfaceGuid);
  }
  throw usageError(`--function must be serial or bulk, got ${fn}`, command);
}
