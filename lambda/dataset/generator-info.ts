import pkg from '../../package.json' with { type: 'json' };

/** Name and version recorded in every manifest. */
export const GENERATOR = { name: pkg.name, version: pkg.version };
