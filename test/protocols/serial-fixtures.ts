/** Descriptions the protocol suites open on the emulator. */
export { serialFunctionDescription } from '../../lib/protocols/cdc-acm.js';
import { vendorBulkDescription } from '../../lib/protocols/function-description.js';

/** A vendor bulk interface (no interrupt endpoint). */
export const vendorBulkDescriptionFor = () => vendorBulkDescription();
