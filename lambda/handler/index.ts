import { createHandler } from './create-handler.js';
import { dependenciesFromEnvironment } from './default-dependencies.js';

/** The Lambda entry point; a bad environment fails the cold start with every problem listed. */
export const handler = createHandler(dependenciesFromEnvironment());
