/** deltahub's version, kept equal to package.json's by a test (no JSON import: edge runtimes). */
export const VERSION = '0.1.0';
