/** Descriptions the protocol suites open on the emulator. */
export { serialInterfaceDeclaration } from '../../lib/protocols/cdc-acm.js';
import { vendorBulkDeclaration } from '../../lib/protocols/interface-declaration.js';

/** A vendor bulk interface (no interrupt endpoint). */
export const vendorBulkDeclarationFor = () => vendorBulkDeclaration();
